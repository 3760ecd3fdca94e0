#!/usr/bin/env bash
# Records the lease files the real DHCP clients write, in network namespaces.
# Run as root from the repository root:  sudo captures/record_leases.sh [OUTDIR]
# (default captures/leases). Everything lives in namespaces named ntlease-* (NTLEASE_PREFIX-*),
# with addresses from 198.18.0.0/15 only; no client ever runs in the host namespace, no
# client script runs (dhclient -sf /bin/true, dhcpcd -c /bin/true), dhcpcd's database
# directory and /run are a tmpfs in a private mount namespace, every process started is stopped by
# its PID and every namespace deleted at the end. Needs iproute2, dnsmasq, isc-dhcp-client,
# dhcpcd-base (dhcpcd 9), busybox (udhcpc), util-linux (unshare).
#
#   c (client) eth0 ---- s eth0 198.18.0.1/24 (dnsmasq: DHCP, one address 198.18.0.150,
#                        router 198.18.0.1, DNS 198.18.0.1 and .2, domain lab.test,
#                        search lab.test corp.lab.test, lease 1 h)
#
# Writes dhclient--eth0.lease (ISC dhclient, RHEL's singular name) and dhcpcd-real-eth0.lease
# (dhcpcd 9's eth0.lease). With NTLEASE_WPAD=URL the server also sends option 252 (WPAD) with
# that URL, dhclient.conf defines and requests it (`option wpad code 252 = text;`), dhcpcd
# asks for `wpad_url`, and the files are named dhclient-wpad--eth0.lease and
# dhcpcd-wpad-eth0.lease. busybox udhcpc keeps no lease file of its own: what it hands its
# script is recorded in the state directory only (udhcpc-env.txt, kept with NTLEASE_KEEP_LOGS=1).
set -euo pipefail
OUT="${1:-captures/leases}"
P="${NTLEASE_PREFIX:-ntlease}"
WPAD="${NTLEASE_WPAD:-}"
DHCLIENT_OUT=dhclient--eth0.lease DHCPCD_OUT=dhcpcd-real-eth0.lease
[ -z "$WPAD" ] || { DHCLIENT_OUT=dhclient-wpad--eth0.lease; DHCPCD_OUT=dhcpcd-wpad-eth0.lease; }
STATE=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  PIDS=()
  for n in c s; do ip netns del $P-$n 2>/dev/null || true; done
  [ -n "${NTLEASE_KEEP_LOGS:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT

for n in c s; do ip netns add $P-$n; ip -n $P-$n link set lo up; done
ip -n $P-c link add eth0 address 02:00:00:00:00:0a type veth peer name eth0 netns $P-s
ip -n $P-c link set eth0 up; ip -n $P-s link set eth0 up
ip -n $P-s addr add 198.18.0.1/24 dev eth0

printf '%s\n' bind-interfaces no-resolv no-hosts no-ping user=root port=0 interface=eth0 \
  "dhcp-leasefile=$STATE/dnsmasq.leases" "dhcp-range=198.18.0.150,198.18.0.150,255.255.255.0,1h" \
  "dhcp-option=option:router,198.18.0.1" "dhcp-option=option:dns-server,198.18.0.1,198.18.0.2" \
  "dhcp-option=option:domain-name,lab.test" "dhcp-option=option:domain-search,lab.test,corp.lab.test" \
  ${WPAD:+"dhcp-option=252,\"$WPAD\""} > "$STATE/dnsmasq.conf"
ip netns exec $P-s dnsmasq --conf-file="$STATE/dnsmasq.conf" --pid-file="$STATE/dnsmasq.pid" \
  --no-daemon --log-facility="$STATE/dnsmasq.log" &
PIDS+=($!)
sleep 1

# wait_for FILE PATTERN: until FILE holds PATTERN, at most 15 s.
wait_for() {
  for _ in $(seq 1 150); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for $2 in $1" >&2; return 1
}
# release: the server forgets the client, so the next client gets the same address afresh.
forget() { : > "$STATE/dnsmasq.leases"; kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
  ip netns exec $P-s dnsmasq --conf-file="$STATE/dnsmasq.conf" --pid-file="$STATE/dnsmasq.pid" \
    --no-daemon --log-facility="$STATE/dnsmasq.log" &
  PIDS[0]=$!; sleep 1; }

# ISC dhclient: in the foreground (-d), no script, its own config and lease file; stopped
# by its PID once the lease is written.
printf '%s\n' ${WPAD:+'option wpad code 252 = text;'} \
  'request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,' \
  "        domain-search, host-name, interface-mtu${WPAD:+, wpad};" > "$STATE/dhclient.conf"
rm -f "$STATE/dhclient.lease"
ip netns exec $P-c dhclient -4 -d -v -cf "$STATE/dhclient.conf" -lf "$STATE/dhclient.lease" \
  -pf "$STATE/dhclient.pid" -sf /bin/true eth0 >"$STATE/dhclient.log" 2>&1 &
DPID=$!
PIDS+=($DPID)
wait_for "$STATE/dhclient.lease" '^}'
kill -TERM $DPID; wait $DPID 2>/dev/null || true
cp "$STATE/dhclient.lease" "$OUT/$DHCLIENT_OUT"
forget

# dhcpcd 9: its database directory (/var/lib/dhcpcd) and /run are fresh tmpfs mounts in a
# private mount namespace (nothing is created on the host's file systems); IPv4 only, no
# hooks, one shot, no background.
printf '%s\n' 'option domain_name_servers, domain_name, domain_search, host_name' \
  'option interface_mtu' ${WPAD:+'option wpad_url'} 'noipv4ll' 'noarp' > "$STATE/dhcpcd.conf"
ip netns exec $P-c unshare -m --propagation private sh -c "
  mount -t tmpfs tmpfs /var/lib/dhcpcd && mount -t tmpfs tmpfs /run || exit 1
  dhcpcd -f '$STATE/dhcpcd.conf' -c /bin/true -4 -1 -B -t 15 eth0
  cp /var/lib/dhcpcd/eth0.lease '$STATE/dhcpcd.lease'
  dhcpcd -f '$STATE/dhcpcd.conf' -x eth0 2>/dev/null || true
" >"$STATE/dhcpcd.log" 2>&1
cp "$STATE/dhcpcd.lease" "$OUT/$DHCPCD_OUT"
ip -n $P-c addr flush dev eth0
forget

# busybox udhcpc: no lease file; the environment its script gets is all there is.
printf '#!/bin/sh\n[ "$1" = bound ] && env | grep -E "^(interface|ip|subnet|router|dns|domain|search|lease|serverid|opt53)=" | sort > "%s"\nexit 0\n' \
  "$STATE/udhcpc-env.txt" > "$STATE/udhcpc.sh"
chmod +x "$STATE/udhcpc.sh"
ip netns exec $P-c busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -O search -s "$STATE/udhcpc.sh" \
  >"$STATE/udhcpc.log" 2>&1

echo "recorded into $OUT${NTLEASE_KEEP_LOGS:+; logs in $STATE}"
