#!/usr/bin/env bash
# Path MTU benchmark: nettriage's path check against `tracepath -n` and a `ping -M do -s SIZE`
# bisection doing the same search, in the namespace lab (tests/lab.sh), on three paths to
# the server 198.18.1.2: healthy (MTU 1500 everywhere), reduced (the router's wan0 and the
# server at MTU 1400, fragmentation-needed delivered) and a blackhole (the same, with the
# router's fragmentation-needed dropped by nftables in its output chain). Writes the
# `mtu` section of docs/benchmarks.md. Then, with the paths healthy again, the same lab made
# dual-stack (static addresses from 2001:2::/48, radvd on the router, a name with A and AAAA
# records, the server listening on both families) against the IPv4-only lab: the medians of
# the whole run for a target named with an A record only and one with A and AAAA (issue 14:
# "the healthy dual-stack run stays within 100 ms of the IPv4-only run's median").
# Needs root, hyperfine, tracepath (iputils-tracepath), ping, nft, radvd, and a build
# (NETTRIAGE=path picks the binary, default target/release/nettriage).
#
#   sudo tests/bench_mtu.sh            # RUNS=10 per command (5 for the slow blackhole ones)
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB="${LAB:-ntbmtu}"
BIN="${NETTRIAGE:-$PWD/target/release/nettriage}"
OUT="docs/benchmarks.md"
RUNS="${RUNS:-10}"
SLOW_RUNS="${SLOW_RUNS:-5}"
C="$LAB-c"
R="$LAB-r"
S="$LAB-s"
DST="198.18.1.2"
tmp=$(mktemp -d)
cleanup() {
  for f in "$tmp"/*.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  tests/lab.sh down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$BIN" ] || { echo "bench: build first (cargo build --release, or NETTRIAGE=path)" >&2; exit 1; }
for t in hyperfine tracepath ping nft radvd; do
  command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done
tests/lab.sh up >/dev/null
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

# The same search with ping, as a technician would script it: the full size first, then a
# bisection between 576 and 1500 (packet sizes; ping -s takes the ICMP payload, 28 bytes
# less), one echo per size waiting up to 1 s (ping's -W 1). The client's cached path MTU is
# flushed first, as nettriage does not use it either.
cat > "$tmp/bisect.sh" <<'EOS'
#!/usr/bin/env bash
dst=$1
ip route flush cache 2>/dev/null || true
ok() { ping -n -q -M do -c 1 -W 1 -s $(($1 - 28)) "$dst" >/dev/null 2>&1; }
if ok 1500; then echo 1500; exit 0; fi
lo=576; hi=1500
while [ $((hi - lo)) -gt 1 ]; do
  mid=$(((lo + hi) / 2))
  if ok "$mid"; then lo=$mid; else hi=$mid; fi
done
echo "$lo"
EOS
chmod +x "$tmp/bisect.sh"

nettriage="ip netns exec $C bash -c 'ip route flush cache 2>/dev/null; exec $BIN run --interface eth0 --target $DST:8080 --dns-name www.site.test --format json'"
tracepath_cmd="ip netns exec $C bash -c 'ip route flush cache 2>/dev/null; tracepath -n -m 4 $DST'"
bisect_cmd="ip netns exec $C $tmp/bisect.sh $DST"

measure() { # name runs
  local name=$1 runs=$2
  # The path check's own time and verdict, from its reports.
  for i in $(seq "$runs"); do
    ip netns exec "$C" bash -c "ip route flush cache 2>/dev/null; exec $BIN run --interface eth0 \
      --target $DST:8080 --dns-name www.site.test --format json" > "$tmp/$name-report-$i.json" || true
  done
  ip netns exec "$C" bash -c "ip route flush cache 2>/dev/null; tracepath -n -m 4 $DST" > "$tmp/$name-tracepath.txt" 2>&1 || true
  ip netns exec "$C" "$tmp/bisect.sh" "$DST" > "$tmp/$name-bisect.txt" 2>&1 || true
  hyperfine --runs "$runs" --ignore-failure --export-json "$tmp/$name.json" \
    -n nettriage "$nettriage" -n tracepath "$tracepath_cmd" -n ping-bisection "$bisect_cmd" >/dev/null
}

measure healthy "$RUNS"
ip -n "$R" link set wan0 mtu 1400
ip -n "$S" link set eth0 mtu 1400
measure reduced "$RUNS"
printf 'table ip mtu_blackhole {\n chain output {\n  type filter hook output priority 0;\n  icmp type destination-unreachable icmp code frag-needed drop\n }\n}\n' \
  | ip netns exec "$R" nft -f -
measure blackhole "$SLOW_RUNS"

# Dual stack against IPv4 only, on healthy paths again. The router's dnsmasq gets a name
# with A and AAAA records (restarted with it; the IPv4-only runs use www.site.test, A only).
ip netns exec "$R" nft delete table ip mtu_blackhole
ip -n "$R" link set wan0 mtu 1500
ip -n "$S" link set eth0 mtu 1500
STATE="/tmp/$LAB.lab"
kill "$(cat "$STATE/dnsmasq.pid")"
for _ in $(seq 50); do kill -0 "$(cat "$STATE/dnsmasq.pid")" 2>/dev/null || break; sleep 0.1; done
echo "host-record=dual.site.test,$DST,2001:2:0:2::2" >> "$STATE/dnsmasq.conf"
ip netns exec "$R" dnsmasq --conf-file="$STATE/dnsmasq.conf"
v4run="ip netns exec $C $BIN run --interface eth0 --target www.site.test:8080 --dns-name www.site.test --format json"
# An IPv4-only host (IPv6 switched off on the interface: the ipv6 check is skipped), then
# the same host with IPv6 on and no router on the link (the ipv6 check waits out its RA
# window: an IPv4-only network as most clients meet it).
for mode in v4off v4on; do
  if [ "$mode" = v4off ]; then
    ip netns exec "$C" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
  else
    ip netns exec "$C" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
    # The new link-local address passes duplicate address detection first (1 s).
    for _ in $(seq 50); do ip -n "$C" -6 addr show dev eth0 scope link | grep -q tentative || break; sleep 0.1; done
  fi
  ip netns exec "$C" $BIN run --interface eth0 --target www.site.test:8080 --dns-name www.site.test --format json \
    > "$tmp/$mode-report.json" || true
  hyperfine --runs "$RUNS" --warmup 1 --ignore-failure --export-json "$tmp/$mode.json" -n "$mode" "$v4run" >/dev/null
done

# IPv6 as tests/lab/ipv6_paths.rs builds it: static addresses (no DAD wait), the router's
# link-local address as the client's default route, forwarding on the router; radvd
# advertises the prefix (answering solicitations at once) so the ipv6 check hears a router.
for n in "$C" "$R" "$S"; do
  ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
    net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
ip netns exec "$C" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=0
ip netns exec "$R" sysctl -qw net.ipv6.conf.br0.disable_ipv6=0 net.ipv6.conf.wan0.disable_ipv6=0 \
  net.ipv6.conf.all.forwarding=1
ip netns exec "$S" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=0
ip -n "$R" -6 addr add 2001:2:0:1::1/64 dev br0 nodad
ip -n "$R" -6 addr add fe80::1/64 dev br0 nodad
ip -n "$R" -6 addr add 2001:2:0:2::1/64 dev wan0 nodad
ip -n "$C" -6 addr add 2001:2:0:1::100/64 dev eth0 nodad
ip -n "$C" -6 route add default via fe80::1 dev eth0
ip -n "$S" -6 addr add 2001:2:0:2::2/64 dev eth0 nodad
ip -n "$S" -6 route add default via 2001:2:0:2::1 dev eth0
ip netns exec "$S" python3 -c 'import socket
s=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("2001:2:0:2::2", 8080)); s.listen(1024)
while True:
    c,_=s.accept(); c.close()' > /dev/null 2>&1 &
echo $! > "$tmp/listener6.pid"
cat > "$tmp/radvd.conf" <<'EOR'
interface br0 {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  AdvRASolicitedUnicast on;
  prefix 2001:2:0:1::/64 { AdvOnLink on; AdvAutonomous on; };
  RDNSS 2001:2:0:1::1 { };
};
EOR
ip netns exec "$R" radvd -n -m stderr -C "$tmp/radvd.conf" -p "$tmp/radvd-daemon.pid" 2>"$tmp/radvd.log" &
echo $! > "$tmp/radvd.pid"
for _ in $(seq 50); do
  ip netns exec "$C" ping -6 -n -q -c 1 -W 1 2001:2:0:2::2 >/dev/null 2>&1 \
    && ip netns exec "$S" ss -ltn | grep -q '2001:2:0:2::2\]:8080' && break
  sleep 0.1
done
dualrun="ip netns exec $C $BIN run --interface eth0 --target dual.site.test:8080 --dns-name dual.site.test --format json"
ip netns exec "$C" $BIN run --interface eth0 --target dual.site.test:8080 --dns-name dual.site.test --format json \
  > "$tmp/dual-report.json" || true
hyperfine --runs "$RUNS" --warmup 1 --ignore-failure --export-json "$tmp/dual.json" -n dual-stack "$dualrun" >/dev/null

version=$("$BIN" --version 2>/dev/null || echo nettriage)
load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tmp" "$OUT" "$RUNS" "$SLOW_RUNS" "$version" "$(git rev-parse --short HEAD)" "$(basename "$BIN")" "$BIN" \
  "$load_at_start" "$load_at_end" "$(nproc)" <<'PY'
import json, re, statistics, sys, os
tmp, out, runs, slow_runs, version, commit, _, binpath, load_start, load_end, cpus = sys.argv[1:12]
profile = "release" if "/release/" in binpath else "debug (unoptimised)"

def path_runs(name):
    durs, ms, verdicts = [], [], set()
    i = 1
    while os.path.exists(f"{tmp}/{name}-report-{i}.json"):
        try:
            r = json.load(open(f"{tmp}/{name}-report-{i}.json"))
        except ValueError:
            i += 1
            continue
        c = next(c for c in r["checks"] if c["id"] == "path")
        durs.append(c["duration_ms"])
        d = next(d for d in c["evidence"]["destinations"] if d["address"] == "198.18.1.2")
        ms.append(d["ms"])
        codes = [f["code"] for f in c["findings"]] + [n["code"] for n in c["evidence"].get("notices", [])]
        verdicts.add((d["status"], d["largest_ok"], d["smallest_lost"], ",".join(codes) or "none"))
        i += 1
    return durs, ms, verdicts

def hf(name):
    return {r["command"]: r for r in json.load(open(f"{tmp}/{name}.json"))["results"]}

def tracepath_result(name):
    text = open(f"{tmp}/{name}-tracepath.txt").read()
    m = re.search(r"pmtu (\d+)", text.split("Resume")[-1]) or None
    mtus = re.findall(r"pmtu (\d+)", text)
    return mtus[-1] if mtus else "none"

rows, targets = [], []
for name, label in [("healthy", "healthy (1500)"), ("reduced", "reduced (1400, frag-needed delivered)"),
                    ("blackhole", "blackhole (1400, frag-needed dropped)")]:
    durs, ms, verdicts = path_runs(name)
    h = hf(name)
    nt, tp, pb = h["nettriage"], h["tracepath"], h["ping-bisection"]
    search = statistics.median(ms) if ms else float("nan")
    bisect_found = open(f"{tmp}/{name}-bisect.txt").read().strip() or "none"
    verdict = "; ".join(f"{s} {ok}/{lost} ({codes})" for s, ok, lost, codes in sorted(verdicts, key=str))
    rows.append(f"| {label} | {search:.1f} ms (max {max(ms):.1f}) | {statistics.median(durs):.0f} ms | "
                f"{nt['median']*1000:.0f} ms | {tp['median']*1000:.0f} ms ({tracepath_result(name)}) | "
                f"{pb['median']*1000:.0f} ms ({bisect_found}) | **{pb['median']/max(search/1000, 1e-9):.0f}x** | {verdict} |")
    if name == "healthy":
        targets.append(("the MTU search adds at most 200 ms on a healthy path: the search's own time, worst run",
                        f"{max(ms):.1f} ms", max(ms) <= 200))
    if name == "blackhole":
        targets.append(("the blackhole is diagnosed within 2 s: the search's own time, worst run",
                        f"{max(ms):.0f} ms", max(ms) <= 2000))
ok = lambda b: "met" if b else "**missed**"

def one(name):
    return json.load(open(f"{tmp}/{name}.json"))["results"][0]

def report_facts(name):
    try:
        r = json.load(open(f"{tmp}/{name}-report.json"))
    except (OSError, ValueError):
        return "no report"
    ports = next((c for c in r["checks"] if c["id"] == "ports"), {})
    fams = [f"{f['family']} {f['outcome']}" for t in ports.get("evidence", {}).get("targets", [])
            for f in t.get("families", [])]
    ipv6 = next((c for c in r["checks"] if c["id"] == "ipv6"), {})
    return (f"{r['diagnosis']['status']}, ipv6 check {ipv6.get('status', 'absent')} "
            f"({len(ipv6.get('evidence', {}).get('routers', []))} router heard)"
            + (f", ports per family: {', '.join(fams)}" if fams else ""))

v4, v4on, dual = one("v4off"), one("v4on"), one("dual")
v4_med, dual_med = v4["median"] * 1000, dual["median"] * 1000
targets.append(("the healthy dual-stack run stays within 100 ms of the IPv4-only run's median (IPv6 off)",
                f"{dual_med - v4_med:+.0f} ms ({dual_med:.0f} against {v4_med:.0f} ms)", dual_med - v4_med <= 100))
row = lambda label, r, name: (f"| {label} | {r['median']*1000:.0f} ms | {r['min']*1000:.0f} to "
                              f"{r['max']*1000:.0f} ms | {report_facts(name)} |")
dual_rows = "\n".join([
    row("IPv4 only, IPv6 off on the client: `--target www.site.test:8080` (A)", v4, "v4off"),
    row("IPv4 only, IPv6 on and no router on the link: the same", v4on, "v4on"),
    row("dual stack, radvd: `--target dual.site.test:8080` (A and AAAA)", dual, "dual"),
])
section = f"""<!-- mtu:start -->
## Path MTU search against tracepath and a ping bisection

Measured by `sudo tests/bench_mtu.sh` ({version}, {commit}, {profile} build; {cpus} CPUs shared
with other builds, load average {load_start} at the start and {load_end} at the end) in the namespace
lab: client 198.18.0.10 (MTU 1500), router, server 198.18.1.2. *reduced*: the router's
`wan0` and the server at MTU 1400; *blackhole*: the same with the router's
fragmentation-needed dropped in its nftables `output` chain. Each tool does the same job,
finding the largest packet that reaches the server: nettriage's path check (full size and
576 at once, then the announced MTU or a bisection with 7 sizes per round of
max(4 x RTT, 100 ms)); `tracepath -n -m 4 198.18.1.2`; and a bash bisection with
`ping -M do -c 1 -W 1 -s SIZE` (full size first, then halving between 576 and 1500), the
client's path MTU cache flushed before each. Medians of {runs} runs ({slow_runs} on the
blackhole) by hyperfine; the search's own time is the path check's `ms` for the server
in its reports (the whole `nettriage run` includes the other layers, which run beside it:
here the ipv6 check's 1 s Router Advertisement window, since IPv6 is on and no router
answers on these IPv4 paths).

| path | nettriage search (median, max) | path check `duration_ms` | whole `nettriage run` | tracepath (pmtu found) | ping bisection (size found) | ping bisection / nettriage search | nettriage verdict: status largest_ok/smallest_lost (codes) |
| --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

The same lab, paths healthy again, IPv4 only and then dual-stack (static addresses from
2001:2::/48 as in `tests/lab/ipv6_paths.rs`, the router's link-local address as the IPv6
default route, radvd advertising the prefix and answering solicitations at once, the
server listening on both families); whole `nettriage run`, medians of {runs} runs by
hyperfine after one warm-up:

| lab | whole run (median) | range | report |
| --- | --- | --- | --- |
{dual_rows}

| target (issue 14) | result | status |
| --- | --- | --- |
{chr(10).join(f"| {t} | {r} | {ok(b)} |" for t, r, b in targets)}

tracepath finds a reduced MTU from the router's report, but on a blackhole nothing comes
back to learn from, so it reports the interface's 1500 and waits out its probes to every
hop; the ping bisection finds the size but waits its 1 s for every lost size. The
search's time is set by the network and the round limits, not by the CPU; the whole-run
columns are those a build profile changes.
<!-- mtu:end -->
"""
page = open(out).read()
if "<!-- mtu:start -->" in page:
    page = re.sub(r"<!-- mtu:start -->.*<!-- mtu:end -->\n", lambda _: section, page, flags=re.S)
else:
    page = page.rstrip() + "\n\n" + section
open(out, "w").write(page)
print(section)
PY
