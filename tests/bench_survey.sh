#!/usr/bin/env bash
# Site-survey benchmarks: a survey run's overhead over the same checks, 100,000 stored runs
# (insert and trend), and the memory of `serve` under scrapes. Writes the "Site surveys"
# section of docs/benchmarks.md (tests/bench.sh calls this at its end). Needs root,
# hyperfine, curl and a release build.
#
#   sudo tests/bench_survey.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB="${LAB:-ntbsurv}"
BIN="$PWD/target/release/nettriage"
OUT="docs/benchmarks.md"
C="$LAB-c"
tmp=$(mktemp -d)
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null || true
  tests/lab.sh down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$BIN" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
tests/lab.sh up >/dev/null

# A survey's every run waits for the switch's LLDP/CDP (there is none in the lab) up to
# [neighbours] window_secs: both sides wait the same 1 s, so the difference is the survey's own.
printf '[neighbours]\nwindow_secs = 1\n' > "$tmp/bench.toml"
args="--interface eth0 --target 198.18.1.2:8080 --dns-name www.site.test --config $tmp/bench.toml"
hyperfine --warmup 2 --runs 10 --export-json "$tmp/survey.json" \
  -n run "ip netns exec $C $BIN run $args --neighbours --format json" \
  -n survey "ip netns exec $C $BIN survey $args --dhcp-window 200 --once --site HQ --location bench --db $tmp/h.db" >/dev/null

# 100,000 runs: the store's own scale test, in release.
scale=$(cargo test --release --lib scale_100000_runs -- --ignored --nocapture 2>&1 | grep "note: 100000" || true)

# serve: the peak resident set after 200 scrapes of the survey's history.
ip netns exec "$C" "$BIN" serve --listen 127.0.0.1:9464 --db "$tmp/h.db" &
SERVE_PID=$!
for _ in $(seq 50); do ip netns exec "$C" curl -s -o /dev/null http://127.0.0.1:9464/ && break; sleep 0.1; done
for _ in $(seq 200); do ip netns exec "$C" curl -s -o /dev/null http://127.0.0.1:9464/metrics; done
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=""

python3 - "$tmp/survey.json" "$hwm_kb" "$scale" "$OUT" <<'PY'
import json, re, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
hwm_kb, scale, out = int(sys.argv[2]), sys.argv[3], sys.argv[4]
run, survey = results["run"], results["survey"]
overhead = (survey["mean"] - run["mean"]) * 1000
m = re.search(r"inserted in ([\d.]+)(m?s); trend over all in ([\d.]+)(m?s)", scale)
def secs(v, unit): return float(v) / (1000 if unit == "ms" else 1)
ins, trend = (secs(m.group(1), m.group(2)), secs(m.group(3), m.group(4))) if m else (None, None)
ok = lambda b: "met" if b else "**missed**"
section = f"""<!-- survey-bench:start -->
## Site surveys

Measured by `sudo tests/bench_survey.sh` in the same lab (means of 10 runs after 2 warm-ups).

| what | result |
| --- | --- |
| `nettriage run --neighbours` (the checks alone, waiting a 1 s `[neighbours] window_secs` like a survey run) | {run['mean']*1000:.0f} ms |
| `nettriage survey --once --dhcp-window 200` (the same checks with a run's DHCP window, where a survey's default is 2 s, and the same 1 s neighbours window; stored in the history) | {survey['mean']*1000:.0f} ms |
| survey overhead on top of the checks | {overhead:+.0f} ms |
| 100,000 runs inserted (one transaction, release) | {f'{ins:.2f} s' if ins is not None else 'n/a'} |
| trend over all 100,000 runs (release) | {f'{trend:.2f} s' if trend is not None else 'n/a'} |
| peak RSS of `serve` after 200 scrapes | {hwm_kb/1024:.1f} MB |

| target (issue 6) | status |
| --- | --- |
| trend query over 100,000 stored runs under 1 s | {ok(trend is not None and trend < 1)} |
| memory of `serve` under 30 MB | {ok(hwm_kb < 30 * 1024)} |
<!-- survey-bench:end -->
"""
page = open(out).read()
if "<!-- survey-bench:start -->" in page:
    page = re.sub(r"<!-- survey-bench:start -->.*<!-- survey-bench:end -->\n", section, page, flags=re.S)
else:
    page = page.rstrip() + "\n\n" + section
open(out, "w").write(page)
print(section)
PY
