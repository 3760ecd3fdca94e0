#!/usr/bin/env bash
# Lab benchmark: nettriage against the classic toolbox, in the same namespace lab.
# Writes docs/benchmarks.md. Needs root, hyperfine, GNU time (/usr/bin/time), dig, nc,
# ping, and a release build (cargo build --release).
#
#   sudo tests/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB="${LAB:-ntbench}"
BIN="$PWD/target/release/nettriage"
OUT="docs/benchmarks.md"
RUNS="${RUNS:-10}"
C="$LAB-c"
tmp=$(mktemp -d)
cleanup() { tests/lab.sh down >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
[ -x "$BIN" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
tests/lab.sh up

nettriage="ip netns exec $C $BIN run --interface eth0 --target 198.18.1.2:8080 --dns-name www.site.test --format json"
# The same layers checked by hand, one tool after another, as a technician would type them.
classic="ip netns exec $C bash -c 'ip link show eth0 >/dev/null && ip route show default >/dev/null \
&& ping -c 3 -q 198.18.0.1 >/dev/null && dig +time=1 +tries=1 @198.18.0.1 www.site.test A >/dev/null \
&& dig +time=1 +tries=1 @198.18.0.1 www.site.test AAAA >/dev/null && nc -z -w 2 198.18.1.2 8080'"

hyperfine --warmup 2 --runs "$RUNS" --ignore-failure --export-json "$tmp/healthy.json" \
  -n nettriage "$nettriage" -n classic "$classic" >/dev/null
rss=$(for _ in 1 2 3; do ip netns exec "$C" /usr/bin/time -f '%M' "$BIN" run --interface eth0 \
  --target 198.18.1.2:8080 --dns-name www.site.test --format json 2>&1 >/dev/null | tail -n 1; done | sort -n | tail -n 1)

tests/lab.sh fault dns-down
hyperfine --runs 3 --ignore-failure --export-json "$tmp/dnsdown.json" -n nettriage-dns-down "$nettriage" >/dev/null
code=0; ip netns exec "$C" "$BIN" run --interface eth0 --target 198.18.1.2:8080 --dns-name www.site.test \
  --format json > "$tmp/dnsdown-report.json" || code=$?
root=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["diagnosis"]["root_cause"]["code"])' "$tmp/dnsdown-report.json")
tests/lab.sh fault clear

python3 - "$tmp" "$rss" "$code" "$root" "$RUNS" > "$OUT" <<'PY'
import json, sys, platform, subprocess, datetime
tmp, rss_kb, code, root, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
h = {r["command"]: r for r in json.load(open(f"{tmp}/healthy.json"))["results"]}
d = json.load(open(f"{tmp}/dnsdown.json"))["results"][0]
nt, cl = h["nettriage"], h["classic"]
ratio = cl["mean"] / nt["mean"]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
ver = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.strip()
ok = lambda b: "met" if b else "**missed**"
print(f"""# Benchmarks

Measured by `sudo tests/bench.sh` on {datetime.date.today()} ({platform.machine()}, {cpu},
2 cores; {ver}). Everything runs in the namespace lab of `tests/lab.sh`: client, router
with dnsmasq, server with a TCP listener, addresses in 198.18.0.0/15. Figures are means of
{runs} runs after 2 warm-up runs. Re-run the script to refresh this page.

## Healthy lab: one `nettriage run` against the classic toolbox

The classic sequence checks the same layers by hand, one tool after another:
`ip link show`, `ip route show default`, `ping -c 3`, `dig` A and AAAA, `nc -z`.

| command | mean | σ | min | max |
| --- | --- | --- | --- | --- |
| nettriage run (link, gateway ARP + 5 pings, DNS A/AAAA/random label, TCP) | {nt['mean']*1000:.0f} ms | {nt['stddev']*1000:.0f} ms | {nt['min']*1000:.0f} ms | {nt['max']*1000:.0f} ms |
| classic sequence | {cl['mean']*1000:.0f} ms | {cl['stddev']*1000:.0f} ms | {cl['min']*1000:.0f} ms | {cl['max']*1000:.0f} ms |

**nettriage is {ratio:.1f}x faster** than the classic sequence while also sending ARP,
two more pings and a cache-busting DNS query: its probes run concurrently (pings every
100 ms instead of every second, DNS queries in parallel), and it names the root cause.

## Faulty lab: DNS not answering

With udp/tcp port 53 dropped on the router, `nettriage run` takes {d['mean']*1000:.0f} ms (mean of 3; max
{d['max']*1000:.0f} ms) against its default 10 s deadline, and names `{root}` as the root cause
(exit code {code}). Each DNS query waits 1.5 s and is retried once.

## Memory

Peak resident set size of `nettriage run` in the healthy lab (GNU time `%M`, worst of 3):
**{rss_kb/1024:.1f} MB**.

## Targets (issue 2)

| target | result | status |
| --- | --- | --- |
| healthy run under 1 s wall | {nt['mean']*1000:.0f} ms | {ok(nt['mean'] < 1.0)} |
| at least 3x faster than the classic sequence | {ratio:.1f}x | {ok(ratio >= 3)} |
| DNS-down run finishes within its deadline (10 s) | {d['max']*1000:.0f} ms | {ok(d['max'] < 10)} |
| peak RSS under 20 MB | {rss_kb/1024:.1f} MB | {ok(rss_kb < 20*1024)} |
""")
PY
echo "bench: wrote $OUT"
