#!/usr/bin/env bash
# Records large DNS A and AAAA answers that IPv4 and IPv6 fragment, in two namespaces.
# Run as root from the repository root: sudo captures/record_dns_fragments.sh [OUT.pcap].
# Everything lives in the namespaces ntdnsfrag-c and ntdnsfrag-r, with addresses from
# 198.18.0.0/15 and 2001:2::/48 only; both are deleted at the end.
set -euo pipefail
P=ntdnsfrag
STATE=$(mktemp -d)
OUT="${1:-captures/dns_fragments.pcap}"
ip netns add $P-c; ip netns add $P-r
ip -n $P-c link set lo up; ip -n $P-r link set lo up
ip -n $P-r link add eth0 type veth peer name eth0 netns $P-c
ip -n $P-r addr add 198.18.0.1/24 dev eth0; ip -n $P-r addr add 2001:2::1/64 dev eth0 nodad
ip -n $P-c addr add 198.18.0.10/24 dev eth0; ip -n $P-c addr add 2001:2::10/64 dev eth0 nodad
ip -n $P-r link set eth0 up; ip -n $P-c link set eth0 up
cat > "$STATE"/dnsmasq.conf <<EOT
interface=eth0
bind-interfaces
no-resolv
no-hosts
port=53
edns-packet-max=4096
$(for i in $(seq 1 120); do echo "host-record=big.site.test,198.19.0.$i,2001:2:0:1::$i"; done)
EOT
ip netns exec $P-r dnsmasq --conf-file="$STATE"/dnsmasq.conf --pid-file="$STATE"/dnsmasq.pid --no-daemon --log-facility="$STATE"/dnsmasq.log &
DPID=$!
sleep 1
ip netns exec $P-c tcpdump -i eth0 -U -w "$OUT" 'udp port 53 or ip[6:2] & 0x1fff != 0 or (ip6 and ip6[6] == 44)' 2>"$STATE"/tcpdump.err &
TPID=$!
sleep 1
ip netns exec $P-c dig +bufsize=4096 +notcp +tries=1 +time=2 @198.18.0.1 big.site.test A > "$STATE"/dig4.txt || true
ip netns exec $P-c dig +bufsize=4096 +notcp +tries=1 +time=2 @2001:2::1 big.site.test AAAA > "$STATE"/dig6.txt || true
sleep 1
kill -TERM $TPID || true; wait $TPID || true
kill -TERM $DPID || true; wait $DPID || true
ip netns del $P-c; ip netns del $P-r
