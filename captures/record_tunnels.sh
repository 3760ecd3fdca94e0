#!/usr/bin/env bash
# Records DHCP and DNS mirrored to a collector inside GRE (Ethernet, key and sequence
# number), GRE (IPv4/IPv6 only, no key) and VXLAN, and DHCP mirrored onto an 802.1Q trunk
# (one server per VLAN; then a VLAN with two servers), in network namespaces.
# Run as root from the repository root:  sudo captures/record_tunnels.sh [OUTDIR]
# (default captures). Everything lives in namespaces named nttun-* (NTTUN_PREFIX-*), with addresses from
# 198.18.0.0/15 and 2001:2::/48 only; every process started is stopped by its PID and every
# namespace deleted at the end. Needs iproute2, tcpdump, dnsmasq, dig, busybox (udhcpc),
# python3; not the ip_gre, vxlan or 8021q modules: captures/lab_mirror.py wraps the frames.
#
#   c (client) eth0 ---- s eth0 198.19.1.1/24, 2001:2:0:1::1 (dnsmasq: DHCP and DNS)
#   c eth10 ---- s eth10 198.19.10.1/24 (VLAN 10's segment; the same dnsmasq)
#   c eth20 ---- s eth20 198.19.20.1/24 (VLAN 20's segment; the same dnsmasq)
#   c eth30 ---- bridge in b30 ---- s eth30 198.19.30.1/24 (the same dnsmasq)
#                               `-- rogue eth30 198.19.30.2/24 (a second dnsmasq)
#   c mon0 198.18.0.1/24 ---- col eth0 198.18.0.2/24 (collector: tcpdump on eth0)
set -euo pipefail
OUT="${1:-captures}"
P="${NTTUN_PREFIX:-nttun}"
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  PIDS=()
  for n in c s rogue b30 col; do ip netns del $P-$n 2>/dev/null || true; done
  # The daemons' logs are kept only when asked for (NTTUN_KEEP_LOGS=1).
  [ -n "${NTTUN_KEEP_LOGS:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT

for n in c s rogue b30 col; do ip netns add $P-$n; ip -n $P-$n link set lo up; done
# link NS1 IF1 NS2 IF2: a veth pair, both ends up.
link() { ip -n $P-$1 link add "$2" type veth peer name "$4" netns $P-$3; ip -n $P-$1 link set "$2" up; ip -n $P-$3 link set "$4" up; }
link c eth0 s eth0; link c eth10 s eth10; link c eth20 s eth20; link c mon0 col eth0
ip -n $P-b30 link add br0 type bridge; ip -n $P-b30 link set br0 up
for n in c s rogue; do link b30 p$n "$n" eth30; ip -n $P-b30 link set p$n master br0; done
ip -n $P-s addr add 198.19.1.1/24 dev eth0; ip -n $P-s addr add 2001:2:0:1::1/64 dev eth0 nodad
ip -n $P-c addr add 198.19.1.2/24 dev eth0; ip -n $P-c addr add 2001:2:0:1::2/64 dev eth0 nodad
for v in 10 20 30; do ip -n $P-s addr add 198.19.$v.1/24 dev eth$v; done
ip -n $P-rogue addr add 198.19.30.2/24 dev eth30
ip -n $P-c addr add 198.18.0.1/24 dev mon0; ip -n $P-col addr add 198.18.0.2/24 dev eth0

# dnsmasq NAME NETNS CONF-LINES...: a server in a namespace, in the foreground.
dnsmasq_in() {
  local name=$1 ns=$2; shift 2
  printf '%s\n' bind-interfaces no-resolv no-hosts no-ping user=root "dhcp-leasefile=$STATE/$name.leases" "$@" \
    > "$STATE/$name.conf"
  ip netns exec "$ns" dnsmasq --conf-file="$STATE/$name.conf" --pid-file="$STATE/$name.pid" \
    --no-daemon --log-facility="$STATE/$name.log" &
  PIDS+=($!)
}
dnsmasq_in s $P-s interface=eth0 interface=eth10 interface=eth20 interface=eth30 port=53 \
  edns-packet-max=4096 local=/site.test/ host-record=www.site.test,198.18.1.2,2001:2:0:1::80 \
  "dhcp-range=198.19.1.100,198.19.1.150,255.255.255.0,5m" \
  "dhcp-range=198.19.10.100,198.19.10.150,255.255.255.0,5m" \
  "dhcp-range=198.19.20.100,198.19.20.150,255.255.255.0,5m" \
  "dhcp-range=198.19.30.100,198.19.30.150,255.255.255.0,5m" \
  $(for i in $(seq 1 120); do echo "host-record=big.site.test,198.19.0.$i,2001:2:0:2::$i"; done)
dnsmasq_in rogue $P-rogue interface=eth30 port=0 "dhcp-range=198.19.30.200,198.19.30.250,255.255.255.0,5m"
ip netns exec $P-col python3 "$HERE/lab_mirror.py" sink &
PIDS+=($!)
sleep 1

# One DISCOVER/OFFER(s)/REQUEST/ACK on an interface; no configuration applied.
dhcp() { ip netns exec $P-c busybox udhcpc -i "$1" -f -q -n -t 3 -T 1 -s /bin/true >>"$STATE/udhcpc.log" 2>&1 || true; }
ask() { ip netns exec $P-c dig +tries=1 +time=2 "$@" >>"$STATE/dig.log" 2>&1 || true; }
# record FILE MIRROR-ARGS... -- ACTIONS...: tcpdump at the collector and the mirror in the
# client around the actions (each a shell word list, run with eval).
record() {
  local file=$1; shift
  local mirror=()
  while [ "$1" != -- ]; do mirror+=("$1"); shift; done; shift
  local terr="$STATE/tcpdump.$(basename "$file").err" mout="$STATE/mirror.$(basename "$file").out"
  ip netns exec $P-col tcpdump -i eth0 -U -w "$file" 'not arp and not (ip6 and icmp6)' 2>"$terr" &
  local tpid=$!
  ip netns exec $P-c python3 "$HERE/lab_mirror.py" "${mirror[@]}" >"$mout" &
  local mpid=$!
  PIDS+=($tpid $mpid)
  # Both must be listening before any traffic (bounded: 15 s), or the capture is empty on a
  # loaded machine.
  local waited=0
  until grep -q "listening on" "$terr" 2>/dev/null && grep -q ready "$mout" 2>/dev/null; do
    [ $waited -lt 150 ] || { echo "record: tcpdump or the mirror did not start for $file" >&2; exit 1; }
    sleep 0.1; waited=$((waited + 1))
  done
  # Forget earlier neighbours, so every recording holds the ARP exchange its first packet
  # to the router needs (a cache entry left by the previous recording would hide it).
  ip -n $P-c neigh flush all 2>/dev/null || true
  for action in "$@"; do eval "$action"; done
  sleep 1
  kill -TERM $mpid; wait $mpid || true
  kill -TERM $tpid; wait $tpid || true
}
record "$OUT/tunnel_gretap.pcap" gre 198.18.0.2 42 eth0 -- "dhcp eth0" \
  "ask @198.19.1.1 www.site.test A" "ask @198.19.1.1 +bufsize=4096 +notcp big.site.test A"
record "$OUT/tunnel_gre_ip.pcap" gre-ip 198.18.0.2 eth0 -- \
  "ask @198.19.1.1 www.site.test A" "ask @2001:2:0:1::1 www.site.test AAAA"
record "$OUT/tunnel_vxlan.pcap" vxlan 198.18.0.2 100 eth0 -- "dhcp eth0" "ask @198.19.1.1 www.site.test A"
record "$OUT/trunk_vlans.pcap" tag mon0 eth10:10 eth20:20 eth30:30 -- "dhcp eth10" "dhcp eth20"
record "$OUT/trunk_vlan_two_servers.pcap" tag mon0 eth10:10 eth20:20 eth30:30 -- "dhcp eth10" "dhcp eth30"
echo "recorded into $OUT${NTTUN_KEEP_LOGS:+; logs in $STATE}"
