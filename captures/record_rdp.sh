#!/bin/sh
# Records the X.224 Connection Confirms of a real xrdp (Debian's xrdp 0.9.21) for the
# unit tests of src/check/rdp.rs: `sudo captures/record_rdp.sh [OUT_DIR]` from the
# repository root (default OUT_DIR: captures/rdp).
#
# Everything runs inside a new network namespace (`unshare -n`) that has only its own
# loopback: xrdp listens on 127.0.0.1:3389 there, and a Python client sends nettriage's
# Connection Request (requestedProtocols SSL|HYBRID|HYBRID_EX, no cookie: the bytes of
# `check::rdp::connection_request(REQUESTED)`) and writes the whole TPKT it gets back.
# xrdp is stopped by its PID; its state (config, key, certificate, log) is in a temp dir.
set -eu
OUT=$(realpath "${1:-captures/rdp}")
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/nettriage-rdp-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 30 -subj "/CN=rdp.site.test" 2>/dev/null

ini() { # LAYER CERT
    cat <<INI
[Globals]
ini_version=1
fork=false
port=tcp://127.0.0.1:3389
security_layer=$1
crypt_level=high
certificate=$2
key_file=$WORK/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
[Logging]
LogFile=$WORK/xrdp.log
LogLevel=INFO
EnableSyslog=false
INI
}
ini negotiate "$WORK/cert.pem" > "$WORK/tls.ini"
ini tls "$WORK/missing.pem" > "$WORK/nocert.ini"

cat > "$WORK/client.py" <<'PY'
import socket, sys, time
req = bytes.fromhex("030000130ee00000000000010008000b000000")
for _ in range(50):
    try:
        s = socket.create_connection(("127.0.0.1", 3389), timeout=3)
        break
    except OSError:
        time.sleep(0.1)
s.sendall(req)
head = s.recv(4)
body = b""
while len(head) == 4 and len(body) < int.from_bytes(head[2:4], "big") - 4:
    chunk = s.recv(4096)
    if not chunk:
        break
    body += chunk
open(sys.argv[1], "wb").write(head + body)
PY

cat > "$WORK/run.sh" <<SH
set -eu
ip link set lo up
for case in tls:xrdp_confirm_tls nocert:xrdp_confirm_cert_missing; do
    ini=\${case%%:*}; out=\${case#*:}
    xrdp --nodaemon --config "$WORK/\$ini.ini" > "$WORK/\$ini.out" 2>&1 &
    pid=\$!
    python3 "$WORK/client.py" "$OUT/\$out.bin"
    kill -TERM \$pid
    wait \$pid || true
done
SH
unshare -n sh "$WORK/run.sh"
for f in "$OUT"/xrdp_confirm_*.bin; do
    printf '%s: %s\n' "$(basename "$f")" "$(od -An -tx1 -v "$f" | tr -d ' \n')"
done
