#!/usr/bin/env bash
# A small network lab in namespaces, for trying nettriage safely and for the benchmarks.
# Nothing touches the host namespace: every interface is created inside a namespace, and
# all addresses are in 198.18.0.0/15 (RFC 2544 benchmarking range).
#
#   sudo tests/lab.sh up            # build: client, router (dnsmasq DHCP+DNS), server (TCP 8080)
#   sudo tests/lab.sh run [ARGS]    # run nettriage in the client namespace
#   sudo tests/lab.sh fault NAME    # inject: dns-down | icmp-drop | arp-drop | no-carrier | clear
#   sudo tests/lab.sh exec CMD...   # run any command in the client namespace
#   sudo tests/lab.sh down          # tear everything down
#   sudo tests/lab.sh demo          # up, a healthy run, a DNS fault, a broken run, down
#
# LAB=name picks the namespace prefix (default ntlab); NETTRIAGE=path the binary.
set -euo pipefail
P="${LAB:-ntlab}"
STATE="/tmp/$P.lab"
BIN="${NETTRIAGE:-$(cd "$(dirname "$0")/.." && pwd)/target/release/nettriage}"

up() {
  [ "$(id -u)" = 0 ] || { echo "lab: needs root" >&2; exit 1; }
  ip netns list | grep -q "^$P-c" && { echo "lab: $P already up (tests/lab.sh down first)" >&2; exit 1; }
  mkdir -p "$STATE"
  for n in c r s; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
  ip -n "$P-r" link add br0 type bridge && ip -n "$P-r" link set br0 up
  ip -n "$P-r" link add lan0 type veth peer name eth0 netns "$P-c"
  ip -n "$P-r" link set lan0 master br0 && ip -n "$P-r" link set lan0 up
  ip -n "$P-r" addr add 198.18.0.1/24 dev br0
  ip -n "$P-c" addr add 198.18.0.10/24 dev eth0 && ip -n "$P-c" link set eth0 up
  ip -n "$P-c" route add default via 198.18.0.1
  ip -n "$P-r" link add wan0 type veth peer name eth0 netns "$P-s"
  ip -n "$P-r" addr add 198.18.1.1/24 dev wan0 && ip -n "$P-r" link set wan0 up
  ip -n "$P-s" addr add 198.18.1.2/24 dev eth0 && ip -n "$P-s" link set eth0 up
  ip -n "$P-s" route add default via 198.18.1.1
  ip netns exec "$P-r" sysctl -qw net.ipv4.ip_forward=1
  mkdir -p "/etc/netns/$P-c" && echo "nameserver 198.18.0.1" > "/etc/netns/$P-c/resolv.conf"
  cat > "$STATE/dnsmasq.conf" <<EOT
interface=br0
bind-interfaces
no-resolv
no-hosts
local=/site.test/
host-record=www.site.test,198.18.1.2
dhcp-range=198.18.0.100,198.18.0.200,255.255.255.0,5m
dhcp-leasefile=$STATE/leases
# Offer at once, as ISC dhcpd and Windows do by default (dnsmasq would first ping the
# address for up to 3 s).
no-ping
pid-file=$STATE/dnsmasq.pid
user=root
EOT
  ip netns exec "$P-r" dnsmasq --conf-file="$STATE/dnsmasq.conf"
  # A real TCP listener on 198.18.1.2:8080 (the kernel completes handshakes from the backlog).
  ip netns exec "$P-s" python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.2", 8080)); s.listen(1024)
while True:
    c,_=s.accept(); c.close()' > /dev/null 2>&1 &
  echo $! > "$STATE/listener.pid"
  for _ in $(seq 50); do ip netns exec "$P-s" ss -ltn | grep -q ':8080' && break; sleep 0.1; done
  echo "lab $P up: client $P-c (198.18.0.10), router $P-r (198.18.0.1, dnsmasq), server $P-s (198.18.1.2:8080)"
}

down() {
  for f in dnsmasq.pid listener.pid; do
    [ -f "$STATE/$f" ] && kill "$(cat "$STATE/$f")" 2>/dev/null || true
  done
  for n in c r s; do ip netns del "$P-$n" 2>/dev/null || true; done
  rm -rf "/etc/netns/$P-c" "$STATE"
}

fault() {
  case "${1:-}" in
    dns-down) printf 'table inet fault {\n chain i {\n  type filter hook input priority 0;\n  udp dport 53 drop\n  tcp dport 53 drop\n }\n}\n' | ip netns exec "$P-r" nft -f - ;;
    icmp-drop) printf 'table inet fault {\n chain i {\n  type filter hook input priority 0;\n  icmp type echo-request drop\n }\n}\n' | ip netns exec "$P-r" nft -f - ;;
    arp-drop) printf 'table arp fault {\n chain i {\n  type filter hook input priority 0; policy drop;\n }\n}\n' | ip netns exec "$P-r" nft -f - ; ip -n "$P-c" neigh flush all ;;
    no-carrier) ip -n "$P-r" link set lan0 down ;;
    clear) ip netns exec "$P-r" nft delete table inet fault 2>/dev/null || true
           ip netns exec "$P-r" nft delete table arp fault 2>/dev/null || true
           ip -n "$P-r" link set lan0 up ;;
    *) echo "lab: fault dns-down|icmp-drop|arp-drop|no-carrier|clear" >&2; exit 2 ;;
  esac
}

# The whole tour in one command: the lab comes up, nettriage diagnoses the healthy network,
# the router's DNS is made to drop queries, nettriage names dns.timeout as the root cause,
# and the lab goes down again (also when interrupted). Exit status 0 when both verdicts
# were the expected ones.
demo() {
  [ -x "$BIN" ] || { echo "lab: no binary at $BIN (cargo build --release first)" >&2; exit 1; }
  up
  trap down EXIT
  echo; echo "=== 1. a healthy network ==="
  local healthy=0 broken=0
  ip netns exec "$P-c" "$BIN" run --target 198.18.1.2:8080 --dns-name www.site.test || healthy=$?
  echo; echo "=== 2. the router's DNS drops every query (fault dns-down) ==="
  fault dns-down
  ip netns exec "$P-c" "$BIN" run --target 198.18.1.2:8080 --dns-name www.site.test || broken=$?
  echo
  echo "demo: healthy run exited $healthy (0 = healthy), faulty run exited $broken (2 = broken)"
  [ "$healthy" = 0 ] && [ "$broken" = 2 ]
}

cmd="${1:-}"; shift || true
case "$cmd" in
  up) up ;;
  down) down ;;
  run) exec ip netns exec "$P-c" "$BIN" run --target 198.18.1.2:8080 --dns-name www.site.test "$@" ;;
  exec) exec ip netns exec "$P-c" "$@" ;;
  fault) fault "$@" ;;
  demo) demo ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
