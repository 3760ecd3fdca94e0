#!/usr/bin/env bash
# Analyze benchmark (issue 10, "Speed and memory"): `nettriage analyze FILE --format json`
# against `tshark -q -z dns,tree -r FILE`, side by side in one run, on two captures made
# here (examples/bench_captures, see its generate.rs):
#   - 1,000,000 generated DNS exchanges (about 2 M packets, 250 MB), 3 runs each (median);
#   - captures/lab_healthy.pcap (recorded in the lab) repeated to about 1 GB, each copy
#     shifted in time and with its DNS ids, echo identifiers and client ports varied; 1 run.
# Wall time and peak RSS by GNU time (`/usr/bin/time -f '%e %M %U %S'`; the CPU time,
# user + system, is also given: on a shared machine it moves less than the wall time). Writes the "Analyze
# against tshark" section of docs/benchmarks.md (between its markers; the rest of the page
# is kept). Needs cargo, tshark, GNU time, python3 and about 1.3 GB free in /tmp; no root,
# no network. On Debian/Ubuntu: sudo apt-get install tshark time python3
#
#   tests/bench_analyze.sh
#
# NETTRIAGE=path picks the binary (default: cargo build --release, target/release/nettriage),
# EXCHANGES the generated exchanges (default 1000000), REPLICA_BYTES the replica's size
# (default 1000000000), RUNS the runs on the generated capture (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="docs/benchmarks.md"
EXCHANGES="${EXCHANGES:-1000000}"
REPLICA_BYTES="${REPLICA_BYTES:-1000000000}"
RUNS="${RUNS:-3}"
REAL="captures/lab_healthy.pcap"
tmp=$(mktemp -d /tmp/nettriage-bench-analyze.XXXXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

for t in cargo tshark /usr/bin/time python3; do
  command -v "$t" >/dev/null || { echo "bench: $t missing (apt-get install tshark time python3)" >&2; exit 1; }
done
free_kb=$(df -Pk "$tmp" | awk 'NR == 2 {print $4}')
need_kb=$(( (REPLICA_BYTES + 300 * EXCHANGES) / 1024 + 200000 ))
[ "$free_kb" -gt "$need_kb" ] || { echo "bench: $((need_kb / 1024)) MB needed in /tmp, $((free_kb / 1024)) MB free" >&2; exit 1; }

if [ -z "${NETTRIAGE:-}" ]; then
  cargo build --release --quiet --bin nettriage
  BIN="$PWD/target/release/nettriage"
else
  BIN="$NETTRIAGE"
fi
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable" >&2; exit 1; }
cargo build --release --quiet --example bench_captures
GEN="$PWD/target/release/examples/bench_captures"

echo "bench: generating $EXCHANGES DNS exchanges" >&2
"$GEN" dns "$EXCHANGES" "$tmp/dns.pcap" > "$tmp/dns.gen"
echo "bench: replicating $REAL to $REPLICA_BYTES bytes" >&2
"$GEN" replicate "$REAL" "$REPLICA_BYTES" "$tmp/replica.pcap" > "$tmp/replica.gen"
df -h /tmp >&2

# One measured run: "<wall s> <peak RSS KB> <user s> <system s>" appended to $tmp/<label>.times; analyze's
# report kept (its exit code is the verdict's: 0 to 2 are all a finished analysis).
measure() {
  local label=$1; shift
  local code=0
  /usr/bin/time -o "$tmp/time.out" -f '%e %M %U %S' "$@" > "$tmp/$label.stdout" 2> "$tmp/$label.stderr" || code=$?
  if [ "$code" -gt 2 ]; then
    echo "bench: $label exited $code" >&2; cat "$tmp/$label.stderr" >&2; exit 1
  fi
  tail -n 1 "$tmp/time.out" >> "$tmp/$label.times"
  echo "bench: $label $(tail -n 1 "$tmp/time.out") (wall s, KB, user s, sys s)" >&2
}

# The tools alternate, so a busy moment of the shared machine falls on both.
for _ in $(seq "$RUNS"); do
  measure dns-nettriage "$BIN" analyze "$tmp/dns.pcap" --format json
  measure dns-tshark tshark -q -z dns,tree -r "$tmp/dns.pcap"
done
measure replica-nettriage "$BIN" analyze "$tmp/replica.pcap" --format json
measure replica-tshark tshark -q -z dns,tree -r "$tmp/replica.pcap"

python3 - "$tmp" "$OUT" "$BIN" "$RUNS" "$REAL" > "$tmp/section.md" <<'PY'
import json, os, platform, re, statistics, subprocess, sys, datetime
tmp, out, binary, runs, real = sys.argv[1:6]
def kv(name):
    return {k: int(v) for k, v in (p.split("=") for p in open(f"{tmp}/{name}.gen").read().split())}
def times(label):
    rows = [tuple(float(x) for x in line.split()) for line in open(f"{tmp}/{label}.times") if line.strip()]
    cpu = statistics.median(r[2] + r[3] for r in rows)
    return statistics.median(r[0] for r in rows), max(r[1] for r in rows) / 1024, [r[0] for r in rows], cpu
def report(label):
    return json.load(open(f"{tmp}/{label}.stdout"))
def tshark_dns_packets(label):
    m = re.search(r"^Total Packets\s+(\d+)", open(f"{tmp}/{label}.stdout").read(), re.M)
    return int(m.group(1)) if m else None
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
dns_gen, rep_gen = kv("dns"), kv("replica")
rows, checks = [], []
for name, label, gen in [("dns", f"{int(runs)} runs, median", dns_gen), ("replica", "1 run", rep_gen)]:
    nt_s, nt_mb, nt_all, nt_cpu = times(f"{name}-nettriage")
    ts_s, ts_mb, ts_all, ts_cpu = times(f"{name}-tshark")
    r = report(f"{name}-nettriage")
    cap = r["capture"]
    dns = next(c for c in r["checks"] if c["id"] == "dns")
    answered = sum(s["answered"] for s in dns["evidence"]["servers"]) if dns["status"] != "skipped" else 0
    queries = sum(s["queries_total"] for s in dns["evidence"]["servers"]) if dns["status"] != "skipped" else 0
    # Both tools must have read the whole file.
    if cap["packets"] != gen["packets"]:
        sys.exit(f"bench: analyze read {cap['packets']} of {gen['packets']} packets of {name}")
    rows.append(dict(name=name, label=label, size=os.path.getsize(f"{tmp}/{name}.pcap"), packets=cap["packets"],
                     nt_s=nt_s, nt_mb=nt_mb, ts_s=ts_s, ts_mb=ts_mb, ratio=ts_s / nt_s, nt_all=nt_all, ts_all=ts_all,
                     nt_cpu=nt_cpu, ts_cpu=ts_cpu, cpu_ratio=ts_cpu / nt_cpu,
                     queries=queries, answered=answered, status=r["diagnosis"]["status"],
                     findings=sorted({f["code"] for c in r["checks"] for f in c["findings"]}),
                     tshark_dns=tshark_dns_packets(f"{name}-tshark")))
if rows[0]["queries"] != dns_gen["exchanges"] or rows[0]["answered"] != dns_gen["answered"]:
    sys.exit(f"bench: analyze counted {rows[0]['queries']} queries, {rows[0]['answered']} answered; "
             f"the generator wrote {dns_gen['exchanges']}, {dns_gen['answered']} answered")
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
mem = sh("awk '/MemTotal/ {printf \"%.0f GB\", $2/1048576}' /proc/meminfo")
tshark_v = sh("tshark --version | head -n 1")
nt_v = sh(f"{binary} --version") + " (" + (os.environ.get("BENCH_COMMIT") or sh("git rev-parse --short HEAD")) + ")"
ok = lambda b: "met" if b else "**missed**"
mb = lambda x: f"{x:.1f} MB" if x < 1000 else f"{x / 1024:.2f} GB"
size = lambda b: f"{b / 1e6:.0f} MB" if b < 1e9 else f"{b / 1e9:.2f} GB"
secs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
d, g = rows
table = "\n".join(
    f"| {r['name'] == 'dns' and 'generated DNS' or 'replicated lab capture'} ({r['label']}) | {size(r['size'])} | "
    f"{r['packets']:,} | {r['nt_s']:.2f} s | {r['ts_s']:.2f} s | **{r['ratio']:.1f}x** | "
    f"{r['nt_cpu']:.2f} s | {r['ts_cpu']:.2f} s | {r['cpu_ratio']:.1f}x | {mb(r['nt_mb'])} | {mb(r['ts_mb'])} |"
    for r in rows)
worst_ratio = min(r["ratio"] for r in rows)
worst_cpu_ratio = min(r["cpu_ratio"] for r in rows)
worst_rss = max(r["nt_mb"] for r in rows)
print(f"""<!-- analyze-bench:start -->
## Analyze against tshark

Measured by `tests/bench_analyze.sh` on {datetime.date.today()} ({platform.machine()}, {cpu}, {os.cpu_count()} cores,
{mem} RAM; {nt_v}, {tshark_v.rstrip('.')}). The machine was shared with other builds during the run
(both tools alike: they ran alternately), so the CPU time (user + system) is given beside
the wall time. Wall time, CPU time and peak resident set size by GNU time
(`/usr/bin/time -f '%e %M %U %S'`) of `nettriage analyze FILE --format json` and of
`tshark -q -z dns,tree -r FILE` on the same file, one after the other; the files are made by
`examples/bench_captures` in a temporary directory and deleted afterwards.

- **Generated DNS**: {dns_gen['exchanges']:,} DNS exchanges (queries with EDNS from 250
  clients to 3 resolvers, all in 198.18.0.0/15; A answers, some behind a CNAME, AAAA with
  no data, {dns_gen['nxdomain']:,} NXDOMAIN, {dns_gen['exchanges'] - dns_gen['answered']:,} never answered; answers after 0.06 to 80 ms,
  so exchanges interleave). analyze counted {d['queries']:,} queries and {d['answered']:,}
  answered, as the generator wrote them; verdict `{d['status']}` ({', '.join(d['findings']) or 'no findings'}).
  Wall times of the runs: nettriage {secs(d['nt_all'])} s, tshark {secs(d['ts_all'])} s.
- **Replicated lab capture**: `{real}` (38 packets recorded in the lab: ARP, pings, DNS,
  a TCP connection, router solicitations) repeated {rep_gen['copies']:,} times, each copy
  starting a second after the previous one ended, with its DNS ids, echo identifiers and
  client ports varied. analyze counted {g['queries']:,} DNS queries, {g['answered']:,} answered;
  verdict `{g['status']}` ({', '.join(g['findings']) or 'no findings'}).

| capture | size | packets | nettriage wall | tshark wall | ratio | nettriage CPU | tshark CPU | CPU ratio | nettriage peak RSS | tshark peak RSS |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
{table}

| target (issue 10) | result | status |
| --- | --- | --- |
| analyze at least 10x faster than `tshark -q -z dns,tree` (wall time) | {worst_ratio:.1f}x at worst (CPU time: {worst_cpu_ratio:.1f}x) | {ok(worst_ratio >= 10)} |
| nettriage peak RSS under 100 MB whatever the file size | {mb(worst_rss)} at worst | {ok(worst_rss < 100)} |
<!-- analyze-bench:end -->
""")
PY
python3 - "$tmp/section.md" "$OUT" <<'PY'
import re, sys
section, out = open(sys.argv[1]).read(), sys.argv[2]
page = open(out).read()
if "<!-- analyze-bench:start -->" in page:
    page = re.sub(r"<!-- analyze-bench:start -->.*<!-- analyze-bench:end -->\n", lambda _: section, page, flags=re.S)
else:
    page = page.rstrip() + "\n\n" + section
open(out, "w").write(page)
PY
echo "bench: wrote the analyze section of $OUT" >&2
