#!/usr/bin/env bash
# Service-profile benchmark (issue 15): what the ad, smb, printers and rdp profiles add to a
# run, against the classic way of checking the same services one after another (`dig SRV`,
# `kinit`, `ldapsearch`, `ipptool`, `smbclient -L`, `nc -z 3389`, `lldpcli`). Everything runs
# in the namespace lab (tests/lab.sh, 198.18.0.0/15) with real peers started here:
#
#   server ns: Samba AD DC (samba-tool domain provision, its own DNS) on 198.18.1.2,
#              a standalone smbd with a guest share on 198.18.1.3,
#              CUPS' ippeveprinter on 198.18.1.2:8631 (with a private D-Bus),
#              xrdp on 198.18.1.2:3389 (security_layer=negotiate, a self-signed certificate)
#   router ns: lldpd as the switch on lan0 (LLDP every 2 s)
#   client ns: resolv.conf -> the DC's DNS (which forwards to the router's dnsmasq),
#              lldpd receiving (for lldpcli)
#
# Writes the "Service profiles" section of docs/benchmarks.md. Needs root, hyperfine, samba
# (samba-ad-dc, samba-ad-provision), smbclient, krb5-user, ldap-utils, cups-ipp-utils, xrdp,
# dbus, lldpd, dnsutils, netcat-openbsd, openssl, python3 and a build (NETTRIAGE=path, default
# target/release/nettriage, else target/debug/nettriage; the page says which).
#
#   sudo tests/bench_profiles.sh            # RUNS=10
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB="${LAB:-ntbprof}"
if [ -z "${NETTRIAGE:-}" ]; then
  NETTRIAGE="$PWD/target/release/nettriage"
  [ -x "$NETTRIAGE" ] || NETTRIAGE="$PWD/target/debug/nettriage"
fi
BIN="$NETTRIAGE"
export NETTRIAGE
OUT="docs/benchmarks.md"
RUNS="${RUNS:-10}"
C="$LAB-c"
R="$LAB-r"
S="$LAB-s"
DC=198.18.1.2
FS=198.18.1.3
PASS='Bench-Pass-2026!'
tmp=$(mktemp -d)
chmod 0755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # What the peers started on their own (smbd's samba-dcerpcd for `smbclient -L`, samba's
  # helpers) runs in the bench's namespaces only: ended by PID too.
  for ns in "$C" "$R" "$S"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in "$C" "$R" "$S"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  done
  tests/lab.sh down >/dev/null 2>&1 || true
  rm -rf "$tmp" "/etc/netns/$S"
}
trap cleanup EXIT
[ -n "${BENCH_DEBUG:-}" ] && trap 'tail -n 30 "$tmp"/*.log >&2; cleanup' EXIT
[ -x "$BIN" ] || { echo "bench: build first (cargo build --release, or NETTRIAGE=path)" >&2; exit 1; }
for t in hyperfine samba samba-tool smbd smbclient kinit ldapsearch ipptool /usr/sbin/ippeveprinter xrdp \
  dbus-daemon lldpd lldpcli dig nc openssl python3; do
  command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done
tests/lab.sh up >/dev/null
ip -n "$S" addr add "$FS/24" dev eth0
# The DC's own tools (samba_dnsupdate) resolve through the DC: `ip netns exec` gives the
# server namespace this resolv.conf instead of the machine's.
mkdir -p "/etc/netns/$S" && echo "nameserver $DC" >"/etc/netns/$S/resolv.conf"
ip netns exec "$S" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0

wait_port() { # ns ip port what
  for _ in $(seq 150); do
    # A listener on the address, or on every address (ippeveprinter binds the wildcard).
    ip netns exec "$1" ss -ltn "sport = :$3" | grep -qE "($2|\*|0\.0\.0\.0|\[::\]):$3" && return 0
    sleep 0.1
  done
  echo "bench: $4 does not listen on $2:$3" >&2
  exit 1
}

# The domain controller: provisioned into the temp dir, every directory of its own there.
timeout 300 samba-tool domain provision --realm=LAB.TEST --domain=LAB --server-role=dc \
  --dns-backend=SAMBA_INTERNAL --adminpass="$PASS" --targetdir="$tmp/dc" --host-ip="$DC" \
  --host-name=dc1 --option="interfaces=$DC" --option="bind interfaces only=yes" \
  --option="dns forwarder=198.18.0.1" >"$tmp/provision.log" 2>&1
mkdir -p "$tmp/dc/run" "$tmp/dc/log"
python3 - "$tmp/dc" <<'EOS'
import sys
d = sys.argv[1]
p = f"{d}/etc/smb.conf"
s = open(p).read()
extra = (f"\tlog file = {d}/log/log.%m\n\tpid directory = {d}/run\n\tncalrpc dir = {d}/run/ncalrpc\n"
         f"\twinbindd socket directory = {d}/run/winbindd\n\tload printers = no\n\tprintcap name = /dev/null\n")
lines = [l for l in s.splitlines(keepends=True) if not l.strip().startswith("log file")]
s = "".join(lines).replace("[global]\n", "[global]\n" + extra, 1)
open(p, "w").write(s)
EOS
ip netns exec "$S" samba -i -M single -s "$tmp/dc/etc/smb.conf" --debug-stdout </dev/null >"$tmp/samba.log" 2>&1 &
pids+=($!)
wait_port "$S" "$DC" 389 "samba (LDAP)"
wait_port "$S" "$DC" 88 "samba (Kerberos)"
for _ in $(seq 100); do
  ip netns exec "$C" dig +short +time=1 +tries=1 SRV _ldap._tcp.dc._msdcs.lab.test "@$DC" | grep -q dc1 && break
  sleep 0.2
done

# A file server with a guest share.
mkdir -p "$tmp/fs/"{private,lock,state,cache,pid,ncalrpc,log,share}
cat >"$tmp/fs/smb.conf" <<EOF
[global]
   netbios name = BENCHFS
   workgroup = LAB
   server role = standalone server
   interfaces = $FS/24
   bind interfaces only = yes
   smb ports = 445
   disable netbios = yes
   private dir = $tmp/fs/private
   lock directory = $tmp/fs/lock
   state directory = $tmp/fs/state
   cache directory = $tmp/fs/cache
   pid directory = $tmp/fs/pid
   ncalrpc dir = $tmp/fs/ncalrpc
   log file = $tmp/fs/log/log.%m
   passdb backend = tdbsam:$tmp/fs/private/passdb.tdb
   usershare path =
   map to guest = Bad User
   load printers = no
   printcap name = /dev/null
   disable spoolss = yes
   server min protocol = SMB2_02
[data]
   path = $tmp/fs/share
   read only = yes
   guest ok = yes
EOF
ip netns exec "$S" smbd --foreground --debug-stdout -d 0 -s "$tmp/fs/smb.conf" </dev/null >"$tmp/smbd.log" 2>&1 &
pids+=($!)
wait_port "$S" "$FS" 445 smbd

# The printer: ippeveprinter with a private system bus and a host name for its listeners.
mkdir -p "$tmp/prn/spool"
cat >"$tmp/prn/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/prn/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/>
    <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
    <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
  </policy>
</busconfig>
EOF
# Its host name needs an IPv4 and an IPv6 address of its own (glibc answers an IPv4 lookup of
# a name on ::1 with 127.0.0.1): 2001:2::2 (RFC 5180's benchmarking range) on the server.
ip -n "$S" -6 addr add 2001:2::2/64 dev eth0 nodad
printf '%s labprinter\n2001:2::2 labprinter\n' "$DC" >"$tmp/prn/hosts"
ip netns exec "$S" dbus-daemon --config-file="$tmp/prn/bus.conf" --nofork --nopidfile </dev/null >"$tmp/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/prn/bus.sock" ] && break; sleep 0.1; done
# `ip netns exec` runs the command in a mount namespace of its own: the bind mount of the
# hosts file stays there.
ip netns exec "$S" sh -c "mount --bind '$tmp/prn/hosts' /etc/hosts && exec env \
  DBUS_SYSTEM_BUS_ADDRESS='unix:path=$tmp/prn/bus.sock' /usr/sbin/ippeveprinter -p 8631 -n labprinter \
  -r off -d '$tmp/prn/spool' 'Bench Printer'" </dev/null >"$tmp/ippeveprinter.log" 2>&1 &
pids+=($!)
wait_port "$S" "$DC" 8631 ippeveprinter

# Remote desktop: xrdp with TLS or standard RDP, as the client asks.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/rdp.key" -out "$tmp/rdp.pem" -days 30 \
  -subj "/CN=rdp.lab.test" 2>/dev/null
cat >"$tmp/xrdp.ini" <<EOF
[Globals]
ini_version=1
fork=false
port=tcp://$DC:3389
use_vsock=false
tcp_nodelay=true
security_layer=negotiate
crypt_level=high
certificate=$tmp/rdp.pem
key_file=$tmp/rdp.key
ssl_protocols=TLSv1.2, TLSv1.3
autorun=
allow_channels=true

[Logging]
LogFile=$tmp/xrdp-own.log
LogLevel=INFO
EnableSyslog=false
EnableConsole=false
EOF
ip netns exec "$S" xrdp --nodaemon --config "$tmp/xrdp.ini" </dev/null >"$tmp/xrdp.log" 2>&1 &
pids+=($!)
wait_port "$S" "$DC" 3389 xrdp

# The switch and the client's lldpd (for lldpcli), as in tests/bench_neighbours.sh.
printf 'configure system hostname sw-lab-1\nconfigure lldp tx-interval 2\n' >"$tmp/switch.conf"
ip netns exec "$R" lldpd -d -k -I lan0 -u "$tmp/switch.sock" -O "$tmp/switch.conf" </dev/null >"$tmp/switch.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "should resume" "$tmp/switch.log" && break; sleep 0.1; done
echo "configure lldp tx-interval 30" >"$tmp/client.conf"
ip netns exec "$C" lldpd -d -r -I eth0 -u "$tmp/client.sock" -O "$tmp/client.conf" </dev/null >"$tmp/client-lldpd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  ip netns exec "$C" lldpcli -u "$tmp/client.sock" show neighbors 2>/dev/null | grep -q sw-lab-1 && break
  sleep 0.1
done

# The client resolves through the DC's DNS, which forwards the rest to the router.
echo "nameserver $DC" >"/etc/netns/$C/resolv.conf"
printf '[libdefaults]\n default_realm = LAB.TEST\n dns_lookup_kdc = false\n[realms]\n LAB.TEST = {\n  kdc = %s\n }\n' "$DC" \
  >"$tmp/krb5.conf"
cat >"$tmp/config.toml" <<EOF
[profiles.ad]
domain = "lab.test"

[profiles.smb]
shares = ['\\\\$FS\\data']

[profiles.printers]
printers = ["ipp://$DC:8631/ipp/print"]
discover = false

[profiles.rdp]
hosts = ["$DC"]
EOF

cat >"$tmp/classic.sh" <<EOF
#!/bin/sh
# The classic way, one tool after another, as a technician would type them.
dig +short +time=2 +tries=1 SRV _ldap._tcp.dc._msdcs.lab.test >/dev/null
dig +short +time=2 +tries=1 SRV _kerberos._tcp.lab.test >/dev/null
KRB5_CONFIG=$tmp/krb5.conf timeout 5 kinit nosuchuser@LAB.TEST </dev/null >/dev/null 2>&1 || true
timeout 5 ldapsearch -x -H ldap://$DC -s base -b '' currentTime dnsHostName >/dev/null
timeout 5 ipptool -T 3 ipp://$DC:8631/ipp/print get-printer-attributes.test >/dev/null
timeout 5 smbclient -L //$FS -N >/dev/null 2>&1
nc -z -w 2 $DC 3389
lldpcli -u $tmp/client.sock show neighbors >/dev/null
EOF
chmod +x "$tmp/classic.sh"
ip netns exec "$C" "$tmp/classic.sh" || { echo "bench: the classic tools failed in the lab" >&2; exit 1; }

base=(run --interface eth0 --target "$DC:8080" --dns-name www.site.test --config "$tmp/config.toml" --format json)
profiles=(--profile ad --profile smb --profile printers --profile rdp)
# One checked run first: every profile passes, or the timing would measure a failure.
ip netns exec "$C" "$BIN" "${base[@]}" "${profiles[@]}" >"$tmp/report.json" || true
python3 - "$tmp/report.json" <<'EOS'
import json, sys
r = json.load(open(sys.argv[1]))
st = {c["id"]: c["status"] for c in r["checks"]}
bad = {k: st.get(k) for k in ("ad", "smb", "printers", "rdp") if st.get(k) != "pass"}
if bad:
    sys.exit(f"bench: a profile did not pass in the lab: {bad}; diagnosis {r['diagnosis']}")
EOS

hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$tmp/runs.json" \
  -n without "ip netns exec $C $BIN ${base[*]}" \
  -n with "ip netns exec $C $BIN ${base[*]} ${profiles[*]}" \
  -n classic "ip netns exec $C $tmp/classic.sh" -i >"$tmp/hyperfine.log" 2>&1

version=$("$BIN" --version | awk '{print $2}')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$OUT" "$tmp/runs.json" "$version" "$commit" "$BIN" "$RUNS" <<'EOS'
import json, re, statistics, sys
out, runs_path, version, commit, binpath, runs = sys.argv[1:7]
results = {r["command"]: r for r in json.load(open(runs_path))["results"]}
med = lambda name: statistics.median(results[name]["times"]) * 1000
mx = lambda name: max(results[name]["times"]) * 1000
without, with_, classic = med("without"), med("with"), med("classic")
added = with_ - without
profile = "release" if "/release/" in binpath else "debug (unoptimised)"
section = f"""<!-- profiles:start -->
## Service profiles against the classic tools

Measured by `sudo tests/bench_profiles.sh` (nettriage {version}, {commit}, {profile} build,
{runs} runs each, hyperfine) in the namespace lab with real peers: a Samba 4.17 AD domain
controller (its own DNS, Kerberos, LDAP), a standalone smbd with a guest share, CUPS'
ippeveprinter and xrdp 0.9.21. nettriage: `nettriage run` against the lab with and without
`--profile ad --profile smb --profile printers --profile rdp` (printers configured by URI,
mDNS discovery off: its window, `discovery_ms`, adds its own length). The classic way, one
after another: `dig SRV` (twice), `kinit` of an unknown principal, `ldapsearch` of the
rootDSE, `ipptool get-printer-attributes`, `smbclient -L -N`, `nc -z 3389`, `lldpcli show
neighbors`.

| | median | max |
| --- | --- | --- |
| nettriage run, layers only | {without:.0f} ms | {mx("without"):.0f} ms |
| nettriage run, layers + ad, smb, printers, rdp | {with_:.0f} ms | {mx("with"):.0f} ms |
| added by the four profiles | **{added:.0f} ms** | |
| the classic tools, one after another (services only) | {classic:.0f} ms | {mx("classic"):.0f} ms |
| ratio: profiles added / classic tools | **{added / classic:.2f}x** | |

| target (issue 15) | result | status |
| --- | --- | --- |
| the ad, smb, printers and rdp profiles add at most 300 ms median | {added:.0f} ms | {"met" if added <= 300 else "**missed**"} |

The profiles run concurrently with each other and with the layers that do not block them,
and each DC, share, printer and host is probed concurrently, so the whole set costs about its
slowest probe; the classic tools pay each tool's start and each round trip in turn.
<!-- profiles:end -->
"""
page = open(out).read()
if "<!-- profiles:start -->" in page:
    page = re.sub(r"<!-- profiles:start -->.*<!-- profiles:end -->\n", lambda _: section, page, flags=re.S)
else:
    page = page.rstrip("\n") + "\n\n" + section
open(out, "w").write(page)
print(section)
EOS
