#!/usr/bin/env bash
# Web-layer benchmarks (issue 13): what two URL targets add to a run, how fast a redirect
# portal is diagnosed, and nettriage's HTTP phases against `curl -w` timings of the same
# URLs. Writes the "Web layer" section of docs/benchmarks.md (tests/bench.sh calls this at
# its end). Everything runs in the namespace lab (tests/lab.sh, 198.18.0.0/15): nginx in
# the server namespace with a certificate of a CA made here by openssl, passed with
# --ca-file. Needs root, hyperfine, curl, nginx (nginx-light), openssl, python3 and a
# release build.
#
#   sudo tests/bench_web.sh
#
# NETTRIAGE=path picks the binary (default target/release/nettriage), RUNS the runs per
# measurement (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB="${LAB:-ntbweb}"
BIN="${NETTRIAGE:-$PWD/target/release/nettriage}"
export NETTRIAGE="$BIN"
OUT="docs/benchmarks.md"
RUNS="${RUNS:-10}"
C="$LAB-c"
S="$LAB-s"
tmp=$(mktemp -d)
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  tests/lab.sh down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$BIN" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
for t in hyperfine curl nginx openssl python3; do
  command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done
tests/lab.sh up >/dev/null

# A lab CA and a certificate for www.site.test (the name the lab's dnsmasq resolves).
(
  cd "$tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 30 -subj "/CN=nettriage bench CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout www.key -out www.csr \
    -subj "/CN=www.site.test" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.site.test\n' > www.ext
  openssl x509 -req -in www.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out www.pem -days 30 \
    -extfile www.ext 2>/dev/null
)
# nginx: HTTP and HTTPS pages of a few kB, a connectivity endpoint, and a redirect portal
# (the connectivity URL on port 8088 answers 302 to a login page on port 8089).
mkdir -p "$tmp/nginx" "$tmp/www"
head -c 4096 /dev/zero | tr '\0' 'x' > "$tmp/www/index.html"
cat > "$tmp/nginx/nginx.conf" <<EOT
daemon off;
master_process off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path $tmp/nginx/body;
  server { listen 198.18.1.2:80; root $tmp/www; }
  server { listen 198.18.1.2:443 ssl; ssl_certificate $tmp/www.pem; ssl_certificate_key $tmp/www.key;
           root $tmp/www; }
  server { listen 198.18.1.2:8087; location = /check { return 200 "NetworkManager is online\n"; } }
  server { listen 198.18.1.2:8088; location / { return 302 http://198.18.1.2:8089/login?mac=02:00:00:00:00:10; } }
  server { listen 198.18.1.2:8089; location / { return 200 "<html>sign in</html>\n"; } }
}
EOT
ip netns exec "$S" nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do [ -f "$tmp/nginx/nginx.pid" ] && break; sleep 0.1; done
[ -f "$tmp/nginx/nginx.pid" ] || { echo "bench: nginx did not start" >&2; cat "$tmp/nginx/error.log" >&2; exit 1; }

HTTP_URL="http://www.site.test/"
HTTPS_URL="https://www.site.test/"
base="ip netns exec $C $BIN run --interface eth0 --dns-name www.site.test --format json"
with_urls="$base --url $HTTP_URL --url $HTTPS_URL --ca-file $tmp/ca.pem"
portal="$base --connectivity-url http://www.site.test:8088/check"
hyperfine --warmup 2 --runs "$RUNS" --ignore-failure --export-json "$tmp/web.json" \
  -n without "$base" -n with-urls "$with_urls" -n portal "$portal" >/dev/null

# The reports themselves: the portal verdict and its timing, and the phases of each URL.
$portal > "$tmp/portal.json" || true
for i in $(seq "$RUNS"); do
  $with_urls > "$tmp/urls-$i.json" || true
  for url in "$HTTP_URL" "$HTTPS_URL"; do
    ip netns exec "$C" curl -s -o /dev/null --cacert "$tmp/ca.pem" \
      -w '%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' "$url" \
      >> "$tmp/curl-$(echo "$url" | cut -d: -f1).txt"
  done
done

python3 - "$tmp" "$RUNS" "$OUT" <<'PY'
import glob, json, re, statistics, sys
tmp, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
results = {r["command"]: r for r in json.load(open(f"{tmp}/web.json"))["results"]}
ms = lambda s: f"{s * 1000:.0f} ms"
without, with_urls, portal = results["without"], results["with-urls"], results["portal"]
added = (with_urls["median"] - without["median"]) * 1000
rep = json.load(open(f"{tmp}/portal.json"))
root = (rep["diagnosis"].get("root_cause") or {}).get("code", "none")
web = next(c for c in rep["checks"] if c["id"] == "web")
ok = lambda b: "met" if b else "**missed**"
import os
load = os.getloadavg()[0]

def web_ms(reports):
    times = [next(c for c in r["checks"] if c["id"] == "web")["duration_ms"] for r in reports]
    return f"{statistics.median(times):.0f} ms" if times else "-"
with_reports = [json.load(open(p)) for p in sorted(glob.glob(f"{tmp}/urls-*.json"))]

# nettriage's phases, cumulative from the start of the request as curl counts them.
phases = {"http": [], "https": []}
for path in sorted(glob.glob(f"{tmp}/urls-*.json")):
    r = json.load(open(path))
    ev = next(c for c in r["checks"] if c["id"] == "web")["evidence"]
    for t in ev["targets"]:
        hop = t["hops"][-1]
        dns = hop.get("dns_ms") or 0.0
        conn = dns + (hop.get("connect_ms") or 0.0)
        tls = conn + (hop.get("tls_ms") or 0.0)
        first = tls + (hop.get("first_byte_ms") or 0.0)
        total = hop.get("total_ms") or first
        phases[t["url"].split(":")[0]].append((dns, conn, tls, first, total))
curl = {}
for scheme in ("http", "https"):
    rows = [tuple(float(x) * 1000 for x in line.split()) for line in open(f"{tmp}/curl-{scheme}.txt") if line.strip()]
    curl[scheme] = rows
med = lambda rows, i: statistics.median(r[i] for r in rows) if rows else float("nan")
cols = ["name lookup", "connect", "TLS done (appconnect)", "first byte (starttransfer)", "total"]
table = []
for scheme, url in (("http", "http://www.site.test/"), ("https", "https://www.site.test/")):
    for i, col in enumerate(cols):
        if scheme == "http" and i == 2:
            continue
        n, c = med(phases[scheme], i), med(curl[scheme], i)
        ratio = f"{n / c:.2f}" if c > 0 else "-"
        table.append(f"| `{url}` | {col} | {n:.2f} ms | {c:.2f} ms | {ratio} |")
table = "\n".join(table)

section = f"""<!-- web-bench:start -->
## Web layer

Measured by `sudo tests/bench_web.sh` in the same lab: nginx in the server namespace
serving a 4 kB page over HTTP and HTTPS (`www.site.test`, a certificate of a CA made by
openssl, passed with `--ca-file`), and a redirect portal (the connectivity URL answers 302
to a login page on another port). Medians of {runs} runs after 2 warm-ups (hyperfine); the
machine's load average was {load:.1f} when the section was written (other jobs share it, so
the absolute times move; the differences are what the targets judge). Every run includes
all layers (the DHCP listener's window, gateway pings, DNS queries), so the portal's line is
the time to the full report naming it. A run lasts at least the DHCP listener's window
(200 ms by default) and the web probes run inside it beside the other checks: the web
check itself took {web_ms(with_reports)} (median) with the two URLs, so the difference between
the first two lines is within the runs' spread rather than the web layer's cost.

| what | median | mean | min | max |
| --- | --- | --- | --- | --- |
| `nettriage run` without URL targets | {ms(without['median'])} | {ms(without['mean'])} | {ms(without['min'])} | {ms(without['max'])} |
| the same with `--url http://www.site.test/ --url https://www.site.test/` | {ms(with_urls['median'])} | {ms(with_urls['mean'])} | {ms(with_urls['min'])} | {ms(with_urls['max'])} |
| the same run behind the redirect portal (`--connectivity-url`) | {ms(portal['median'])} | {ms(portal['mean'])} | {ms(portal['min'])} | {ms(portal['max'])} |

The portal run's root cause: `{root}` (the web check took {web['duration_ms']} ms of it).

Each phase, cumulative from the start of the request as `curl -w` counts it
(`time_namelookup`, `time_connect`, `time_appconnect`, `time_starttransfer`,
`time_total`), nettriage's from its JSON report (`dns_ms`, then adding `connect_ms`,
`tls_ms`, `first_byte_ms`; `total_ms`), medians of {runs} fetches each; ratio =
nettriage / curl:

| URL | phase | nettriage | curl | ratio |
| --- | --- | --- | --- | --- |
{table}

| target (issue 13) | result | status |
| --- | --- | --- |
| two URL targets add at most 100 ms to the run (median) | {added:+.0f} ms | {ok(added <= 100)} |
| a redirect portal diagnosed within 1 s (the whole run, median) | {ms(portal['median'])}, root cause `{root}` | {ok(portal['median'] <= 1.0 and root == 'web.captive_portal')} |
<!-- web-bench:end -->
"""
page = open(out).read()
if "<!-- web-bench:start -->" in page:
    page = re.sub(r"<!-- web-bench:start -->.*?<!-- web-bench:end -->\n?", lambda _: section, page, flags=re.S)
else:
    page = page.rstrip("\n") + "\n\n" + section
open(out, "w").write(page)
PY
echo "bench: wrote the web section of $OUT"
