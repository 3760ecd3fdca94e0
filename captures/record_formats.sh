#!/usr/bin/env bash
# Records one lab exchange (pings, DNS answered, DNS to an address with no server, a
# refused TCP connection) at once in every capture format and link type `analyze` reads.
# Run as root from the repository root: sudo captures/record_formats.sh [OUTDIR].
# Everything lives in the namespaces ntfmt-c and ntfmt-r, with addresses from
# 198.18.0.0/15 only; processes are stopped by PID and both namespaces deleted at the end.
set -euo pipefail
P=ntfmt
OUT="${1:-captures/formats}"
STATE=$(mktemp -d)
mkdir -p "$OUT"
cleanup() {
  for pid in ${PIDS:-}; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in ${PIDS:-}; do wait "$pid" 2>/dev/null || true; done
  ip netns del $P-c 2>/dev/null || true; ip netns del $P-r 2>/dev/null || true
}
trap cleanup EXIT
ip netns add $P-c; ip netns add $P-r
ip -n $P-c link set lo up; ip -n $P-r link set lo up
ip -n $P-r link add eth0 type veth peer name eth0 netns $P-c
ip -n $P-r addr add 198.18.0.1/24 dev eth0; ip -n $P-r addr add 198.18.0.2/24 dev eth0
ip -n $P-c addr add 198.18.0.10/24 dev eth0
ip -n $P-r link set eth0 up; ip -n $P-c link set eth0 up
ip -n $P-c route add default via 198.18.0.1
# A second, point-to-point link over tun devices (a LINKTYPE_RAW interface), joined by
# captures/tun_shuttle.py, for the RAW capture.
ip netns exec $P-r python3 captures/tun_shuttle.py tun0 "$STATE"/tun.sock listen & PIDS="$!"
sleep 1
ip netns exec $P-c python3 captures/tun_shuttle.py tun0 "$STATE"/tun.sock connect & PIDS="$PIDS $!"
sleep 1
ip -n $P-r addr add 198.18.2.1/24 dev tun0; ip -n $P-c addr add 198.18.2.10/24 dev tun0
ip -n $P-r link set tun0 up; ip -n $P-c link set tun0 up
cat > "$STATE"/dnsmasq.conf <<EOT
listen-address=198.18.0.1,198.18.2.1
bind-interfaces
no-resolv
no-hosts
port=53
host-record=ok.site.test,198.18.1.2
EOT
ip netns exec $P-r dnsmasq --conf-file="$STATE"/dnsmasq.conf --pid-file="$STATE"/dnsmasq.pid --no-daemon --log-facility="$STATE"/dnsmasq.log &
PIDS="$PIDS $!"
sleep 1
# The silent DNS server: 198.18.0.2 is the router's, but its port 53 drops queries.
ip netns exec $P-r nft -f - <<'EOT'
table inet ntfmt {
  chain input {
    type filter hook input priority 0;
    ip daddr 198.18.0.2 udp dport 53 drop
  }
}
EOT
CAPS=""
cap() { ip netns exec $P-c "$@" 2>>"$STATE"/capture.err & CAPS="$CAPS $!"; }
stop_caps() {
  sleep 2
  for pid in $CAPS; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $CAPS; do wait "$pid" 2>/dev/null || true; done
  CAPS=""
}
exchange() { # gateway, silent DNS address
  ip netns exec $P-c ping -c 3 -i 0.2 "$1" >/dev/null || true
  ip netns exec $P-c dig +tries=1 +time=1 @"$1" ok.site.test A >/dev/null || true
  ip netns exec $P-c dig +tries=1 +time=1 @"$2" ok.site.test A >/dev/null || true
  ip netns exec $P-c bash -c "exec 3<>/dev/tcp/$1/9" 2>/dev/null || true
}
# Phase 1, on the Ethernet link: the same exchange in five captures at once.
cap tcpdump -i eth0 -U -w "$OUT"/ethernet.pcap
cap tcpdump -i any -U -w "$OUT"/any_sll2.pcap
cap tcpdump -i any -y LINUX_SLL -U -w "$OUT"/any_sll.pcap
cap tcpdump -i eth0 --time-stamp-precision=nano -U -w "$OUT"/ethernet_nano.pcap
cap dumpcap -q -i eth0 -w "$OUT"/ethernet.pcapng
sleep 3
exchange 198.18.0.1 198.18.0.2
stop_caps
# Phase 2, over the tun link (LINKTYPE_RAW): 198.18.2.3 is routed into it but nobody
# holds it (the router does not forward), so its queries go unanswered too.
ip -n $P-c route add 198.18.2.3/32 dev tun0
cap tcpdump -i tun0 -U -w "$OUT"/tunnel_raw.pcap
sleep 3
exchange 198.18.2.1 198.18.2.3
stop_caps
chmod a+r "$OUT"/*
# Damaged copies: cut inside the last record (a file copied while still being written),
# and every packet cut to 96 bytes by the snap length.
head -c $(( $(stat -c %s "$OUT"/ethernet.pcap) - 20 )) "$OUT"/ethernet.pcap > "$OUT"/ethernet_cut.pcap
head -c $(( $(stat -c %s "$OUT"/ethernet.pcapng) - 20 )) "$OUT"/ethernet.pcapng > "$OUT"/ethernet_cut.pcapng
editcap -F pcap -s 96 "$OUT"/ethernet.pcap "$OUT"/ethernet_snap96.pcap
