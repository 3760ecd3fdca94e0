#!/usr/bin/env bash
# Records IPv6 neighbour discovery and path-MTU reports from real daemons and the kernel,
# for `nettriage analyze` (captures/README.md, "IPv6 and path MTU from a capture").
# Run as root from the repository root: sudo captures/record_ipv6.sh [OUT_DIR]
# (default captures/). Writes, in OUT_DIR:
#   ipv6_two_routers.pcap  radvd on the router and a second, rogue radvd on the same link
#   ipv6_dad_failed.pcap   the client adds an address another host already has (kernel DAD)
#   mtu_too_big.pcap       the router's WAN link has MTU 1400: fragmentation needed (IPv4)
#                          and packet too big (IPv6) for TCP uploads and echoes
#
#   NS-c (client) --eth0-- NS-r (router, bridge br0) --wan0-- NS-s (server)
#                             |-- NS-g (rogue router, radvd)
#                             `-- NS-d (a host that already has 2001:2:0:1::77)
#
# Addresses from 198.18.0.0/15 and 2001:2::/48 only; NS is $NTV6_PREFIX (default ntv6).
# Every process is stopped by its PID and the namespaces deleted on exit, also on failure.
set -euo pipefail
P="${NTV6_PREFIX:-ntv6}"
OUT="${1:-captures}"
mkdir -p "$OUT"
STATE=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ns in c r s g d; do ip netns del "$P-$ns" 2>/dev/null || true; done
    if [ -n "${NTV6_KEEP_LOGS:-}" ]; then echo "logs in $STATE" >&2; else rm -rf "$STATE"; fi
}
trap cleanup EXIT

for ns in c r s g d; do
    ip netns add "$P-$ns"
    ip -n "$P-$ns" link set lo up
done
ip netns exec "$P-r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec "$P-g" sysctl -qw net.ipv6.conf.all.forwarding=1

# The LAN: a bridge in the router with the client, the rogue and the duplicate host.
ip -n "$P-r" link add br0 type bridge
ip -n "$P-r" link set br0 up
for host in c g d; do
    ip -n "$P-r" link add "to-$host" type veth peer name eth0 netns "$P-$host"
    ip -n "$P-r" link set "to-$host" master br0 up
done
ip -n "$P-r" addr add 198.18.0.1/24 dev br0
ip -n "$P-r" -6 addr add 2001:2:0:1::1/64 dev br0 nodad
ip -n "$P-c" addr add 198.18.0.10/24 dev eth0
ip -n "$P-g" -6 addr add 2001:2:0:9::1/64 dev eth0 nodad
ip -n "$P-d" -6 addr add 2001:2:0:1::77/64 dev eth0 nodad
for host in c g d; do ip -n "$P-$host" link set eth0 up; done
ip -n "$P-c" route add default via 198.18.0.1

# The WAN: router wan0 to the server.
ip -n "$P-r" link add wan0 type veth peer name eth0 netns "$P-s"
ip -n "$P-r" addr add 198.18.1.1/24 dev wan0
ip -n "$P-r" -6 addr add 2001:2:0:2::1/64 dev wan0 nodad
ip -n "$P-s" addr add 198.18.1.2/24 dev eth0
ip -n "$P-s" addr add 198.18.1.3/24 dev eth0
ip -n "$P-s" -6 addr add 2001:2:0:2::2/64 dev eth0 nodad
ip -n "$P-s" -6 addr add 2001:2:0:2::3/64 dev eth0 nodad
ip -n "$P-r" link set wan0 up
ip -n "$P-s" link set eth0 up
ip -n "$P-s" route add default via 198.18.1.1
ip -n "$P-s" -6 route add default via 2001:2:0:2::1

# Link-local addresses pass DAD before anything is sent from them.
settle() {
    for _ in $(seq 1 100); do
        busy=0
        for ns in c r s g d; do
            [ -n "$(ip -n "$P-$ns" -6 addr show tentative)" ] && busy=1
        done
        [ $busy = 0 ] && return 0
        sleep 0.1
    done
    echo "addresses still tentative after 10 s" >&2
    return 1
}
settle

radvd_conf() { # IFNAME PREFIX [RDNSS]
    local rdnss=""
    if [ -n "${3:-}" ]; then rdnss="RDNSS $3 { };"; fi
    cat <<EOT
interface $1 {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  AdvDefaultLifetime 1800;
  AdvLinkMTU 1500;
  AdvRASolicitedUnicast on;
  prefix $2 { AdvOnLink on; AdvAutonomous on; };
  $rdnss
};
EOT
}

running() { # PID LABEL: fails when the daemon has exited
    kill -0 "$1" 2>/dev/null || { echo "$2 exited:" >&2; cat "$STATE/$2.log" >&2; exit 1; }
}

start() { # NS LABEL COMMAND...: a background process, stopped on exit
    local ns=$1 label=$2
    shift 2
    ip netns exec "$P-$ns" "$@" >"$STATE/$label.log" 2>&1 &
    PIDS+=("$!")
}

capture() { # FILE FILTER: tcpdump on the client's eth0; sets TPID
    ip netns exec "$P-c" tcpdump -i eth0 -U -w "$1" "$2" 2>"$STATE/tcpdump.err" &
    TPID=$!
    PIDS+=("$TPID")
    sleep 1
}

stop_capture() {
    sleep 1
    kill -TERM "$TPID"
    wait "$TPID" || true
}

# --- 1. two routers: the router's radvd and a rogue one ------------------------------
radvd_conf br0 2001:2:0:1::/64 2001:2:0:2::2 >"$STATE/radvd-r.conf"
radvd_conf eth0 2001:2:0:9::/64 >"$STATE/radvd-g.conf"
capture "$OUT/ipv6_two_routers.pcap" 'icmp6 and (ip6[40] >= 133 and ip6[40] <= 136 or ip6[40] == 128 or ip6[40] == 129)'
start r radvd-r radvd -n -m stderr -C "$STATE/radvd-r.conf" -p "$STATE/radvd-r.pid"
start g radvd-g radvd -n -m stderr -C "$STATE/radvd-g.conf" -p "$STATE/radvd-g.pid"
ROGUE=$!
sleep 2
running "${PIDS[-2]}" radvd-r
running "$ROGUE" radvd-g
ip netns exec "$P-c" rdisc6 -m -w 1500 eth0 >"$STATE/rdisc6.txt" || true
# The client pings the router at its link-local address, as a host checks its default
# router: with its neighbour table flushed, a Neighbor Solicitation comes first.
ip -n "$P-c" -6 neigh flush dev eth0
ROUTER_LL=$(ip -n "$P-r" -6 -o addr show dev br0 scope link | awk '{print $4}' | cut -d/ -f1)
ip netns exec "$P-c" ping -6 -c 3 -i 0.2 -W 1 "$ROUTER_LL%eth0" >"$STATE/ping-ll.txt" || true
stop_capture
# The rogue stops (its last RA withdraws its default route); the server's network goes
# through the router.
kill -TERM "$ROGUE"; wait "$ROGUE" || true
ip -n "$P-c" -6 route add 2001:2:0:2::/64 via 2001:2:0:1::1

# --- 2. duplicate address detection fails -------------------------------------------
# The duplicate host has had 2001:2:0:1::77 since the start; the client adds it with DAD.
capture "$OUT/ipv6_dad_failed.pcap" 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)'
ip -n "$P-c" -6 addr add 2001:2:0:1::77/64 dev eth0
sleep 2
ip -n "$P-c" -6 addr show dev eth0 >"$STATE/dad.txt"
grep -q dadfailed "$STATE/dad.txt" || { echo "DAD did not fail:" >&2; cat "$STATE/dad.txt" >&2; exit 1; }
stop_capture

# --- 3. a smaller MTU behind the router: fragmentation needed and packet too big -------
# The WAN link is narrowed to 1400 (a tunnel's MTU), but the server still announces the
# MSS of a 1500-byte link (its routes' advmss, as a server behind such a tunnel does), so
# the client's full-size TCP segments reach the router.
ip -n "$P-r" link set wan0 mtu 1400
ip -n "$P-s" link set eth0 mtu 1400
ip -n "$P-s" route change default via 198.18.1.1 advmss 1460
ip -n "$P-s" -6 route change default via 2001:2:0:2::1 advmss 1440
start s sink4 socat -u TCP-LISTEN:9000,reuseaddr,fork OPEN:/dev/null
start s sink6 socat -u TCP6-LISTEN:9001,reuseaddr,fork OPEN:/dev/null
sleep 0.5
capture "$OUT/mtu_too_big.pcap" 'icmp or icmp6 and not (ip6[40] >= 133 and ip6[40] <= 136) or tcp port 9000 or tcp port 9001'
# TCP uploads to the server's .3 addresses, whose full-size segments the router cannot
# forward, then 1500-byte echoes with DF to its .2 addresses (IPv4: 1472 + 28; IPv6:
# 1452 + 48). Different addresses: the path MTU the kernel learns from one report is
# cached per destination, and would keep the other exchange below the limit.
head -c 20000 /dev/zero | ip netns exec "$P-c" socat -u - TCP:198.18.1.3:9000 || true
head -c 20000 /dev/zero | ip netns exec "$P-c" socat -u - TCP6:[2001:2:0:2::3]:9001 || true
ip netns exec "$P-c" ping -c 2 -i 0.5 -W 1 -M do -s 1472 198.18.1.2 >"$STATE/ping4.txt" 2>&1 || true
ip netns exec "$P-c" ping -6 -c 2 -i 0.5 -W 1 -s 1452 2001:2:0:2::2 >"$STATE/ping6.txt" 2>&1 || true
stop_capture
