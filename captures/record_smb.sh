#!/usr/bin/env bash
# Records real SMB NEGOTIATE exchanges with Debian's Samba smbd, for the `smb` profile's
# parser tests (captures/README.md, "SMB negotiation").
# Run as root from the repository root: sudo captures/record_smb.sh [OUT_DIR]
# (default captures/smb). Writes, in OUT_DIR:
#   smb2_negotiate_request.bin   the SMB2 NEGOTIATE sent (built here in Python, independently
#                                of nettriage: dialects 2.0.2-3.1.1, 3.1.1 contexts, client
#                                GUID 16 x 0x11, salt 32 x 0x22), with its 4-byte TCP header
#   smb2_negotiate_response.bin  smbd's answer (server min protocol SMB2_02, signing mandatory)
#   smb1_negotiate_response.bin  the answer of smbd limited to NT1 to an SMB1 NEGOTIATE
#                                offering "NT LM 0.12", "SMB 2.002", "SMB 2.???"
# and prints what the NT1 smbd does with the SMB2 NEGOTIATE (it closes the connection).
#
#   NS-c (198.18.1.10) --veth-- NS-s (198.18.1.2, smbd on 445)
#
# Addresses from 198.18.0.0/15 only; NS is $NTSMB_PREFIX (default ntsmb). smbd's state is in
# a temp dir; every process is stopped by its PID and the namespaces deleted on exit.
set -euo pipefail
P="${NTSMB_PREFIX:-ntsmb}"
OUT="${1:-captures/smb}"
mkdir -p "$OUT"
STATE=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ns in c s; do ip netns del "$P-$ns" 2>/dev/null || true; done
    if [ -n "${NTSMB_KEEP_LOGS:-}" ]; then echo "logs in $STATE" >&2; else rm -rf "$STATE"; fi
}
trap cleanup EXIT

for ns in c s; do
    ip netns add "$P-$ns"
    ip -n "$P-$ns" link set lo up
done
ip -n "$P-s" link add eth0 type veth peer name eth0 netns "$P-c"
ip -n "$P-s" addr add 198.18.1.2/24 dev eth0
ip -n "$P-c" addr add 198.18.1.10/24 dev eth0
ip -n "$P-s" link set eth0 up
ip -n "$P-c" link set eth0 up

# start_smbd NAME PROTOCOL_LINES: smbd in the server namespace, its state under $STATE/NAME.
start_smbd() {
    local d="$STATE/$1"
    mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc,log,share}
    cat >"$d/smb.conf" <<CONF
[global]
   netbios name = LABFS
   workgroup = LAB
   server role = standalone server
   interfaces = 198.18.1.2/24
   bind interfaces only = yes
   smb ports = 445
   disable netbios = yes
   private dir = $d/private
   lock directory = $d/lock
   state directory = $d/state
   cache directory = $d/cache
   pid directory = $d/pid
   ncalrpc dir = $d/ncalrpc
   log file = $d/log/log.%m
   passdb backend = tdbsam:$d/private/passdb.tdb
   usershare path =
   map to guest = Bad User
   load printers = no
   printcap name = /dev/null
   disable spoolss = yes
$2
[data]
   path = $d/share
   read only = yes
   guest ok = yes
CONF
    ip netns exec "$P-s" smbd --foreground --debug-stdout -d 1 -s "$d/smb.conf" >"$d/smbd.log" 2>&1 &
    SMBD=$!
    PIDS+=("$SMBD")
    for _ in $(seq 100); do
        if [ -n "$(ip netns exec "$P-s" ss -Hltn 'sport = :445')" ]; then return; fi
        sleep 0.1
    done
    echo "smbd $1 did not listen" >&2
    cat "$d/smbd.log" >&2
    exit 1
}

stop_smbd() {
    kill -TERM "$SMBD"
    wait "$SMBD" 2>/dev/null || true
}

CLIENT=$(cat <<'PY'
import socket, struct, sys

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d bytes" % len(b))
        b += c
    return b

def exchange(req):
    s = socket.create_connection(("198.18.1.2", 445), timeout=3)
    s.sendall(req)
    hdr = recv_exact(s, 4)
    msg = recv_exact(s, int.from_bytes(hdr[1:], "big"))
    s.close()
    return hdr + msg

def framed(m):
    return struct.pack(">I", len(m)) + m

def pad8(b):
    return b + b"\0" * (-len(b) % 8)

def smb2_request():
    hdr = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"\0" * 16
    dialects = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311]
    fixed = struct.pack("<HHHHI", 36, len(dialects), 1, 0, 0x7F) + b"\x11" * 16
    head = hdr + fixed + b"\0" * 8 + struct.pack("<5H", *dialects)
    offset = len(pad8(head))
    body = fixed + struct.pack("<IHH", offset, 3, 0) + struct.pack("<5H", *dialects)
    m = pad8(hdr + body)
    ctx = [(1, struct.pack("<HHH", 1, 32, 1) + b"\x22" * 32),
           (2, struct.pack("<HHHHH", 4, 2, 1, 4, 3)),
           (8, struct.pack("<HHHH", 3, 2, 1, 0))]
    for i, (kind, data) in enumerate(ctx):
        if i:
            m = pad8(m)
        m += struct.pack("<HHI", kind, len(data), 0) + data
    return framed(m)

def smb1_request():
    hdr = b"\xffSMB" + bytes([0x72]) + struct.pack("<IBHH8sHHHHH", 0, 0x18, 0xC801, 0, b"\0" * 8, 0, 0xFFFF, 0xFEFF, 0, 0)
    names = b"".join(b"\x02" + n + b"\0" for n in [b"NT LM 0.12", b"SMB 2.002", b"SMB 2.???"])
    return framed(hdr + b"\0" + struct.pack("<H", len(names)) + names)

out, what = sys.argv[1], sys.argv[2]
if what == "smb2":
    req = smb2_request()
    open(out + "/smb2_negotiate_request.bin", "wb").write(req)
    open(out + "/smb2_negotiate_response.bin", "wb").write(exchange(req))
elif what == "smb1":
    open(out + "/smb1_negotiate_response.bin", "wb").write(exchange(smb1_request()))
elif what == "smb2-to-nt1":
    try:
        r = exchange(smb2_request())
        print("NT1 smbd answered the SMB2 NEGOTIATE with %d bytes: %s" % (len(r), r[:8].hex()))
    except (EOFError, OSError) as e:
        print("NT1 smbd, SMB2 NEGOTIATE:", type(e).__name__, e)
PY
)

start_smbd modern "   server min protocol = SMB2_02
   server signing = mandatory"
ip netns exec "$P-c" python3 -c "$CLIENT" "$OUT" smb2
stop_smbd

start_smbd nt1 "   server min protocol = NT1
   server max protocol = NT1"
ip netns exec "$P-c" python3 -c "$CLIENT" "$OUT" smb2-to-nt1
ip netns exec "$P-c" python3 -c "$CLIENT" "$OUT" smb1
stop_smbd
ls -l "$OUT"
