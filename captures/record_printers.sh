#!/usr/bin/env bash
# Records real IPP Get-Printer-Attributes responses from CUPS' ippeveprinter (cups-ipp-utils),
# the request being the one `check::printers::ipp::encode_get_printer_attributes` sends
# (the same six requested attributes, IPP/2.0). Run as root from the repository root:
#   sudo captures/record_printers.sh [OUTDIR]        (default captures/printers)
# Everything runs in a private network namespace with only loopback and a private mount
# namespace (`unshare -n -m`): /etc/hosts is bind-mounted there only (ippeveprinter needs
# its host name to have an IPv4 and an IPv6 address), ippeveprinter's DNS-SD client talks to
# a private dbus-daemon in a temp dir and advertises nothing (`-r off`). Both daemons are
# stopped by PID. Writes:
#   ippeveprinter_healthy.ipp    the idle printer, printer-state-reasons none
#   ippeveprinter_attention.ipp  after the printer's own web forms emptied the black toner
#                                (`/supplies?supply1=0`) and the main tray (`/media?level1=0`):
#                                media-empty-report, toner-empty-report
set -euo pipefail
OUT="$(realpath "${1:-captures/printers}")"
mkdir -p "$OUT"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '127.0.0.1 labprinter\n::1 labprinter\n' > "$T/hosts"
cat > "$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/>
    <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
    <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
  </policy>
</busconfig>
CONF
cat > "$T/gpa.py" <<'PY'
import struct, sys, urllib.request
def attr(tag, name, value):
    return bytes([tag]) + struct.pack(">H", len(name)) + name.encode() + struct.pack(">H", len(value)) + value
uri, out = sys.argv[1], sys.argv[2]
body = bytes([2, 0]) + struct.pack(">HI", 0x0B, 1) + b"\x01"
body += attr(0x47, "attributes-charset", b"utf-8") + attr(0x48, "attributes-natural-language", b"en")
body += attr(0x45, "printer-uri", uri.encode())
names = ["printer-state", "printer-state-reasons", "printer-state-message", "printer-is-accepting-jobs",
         "printer-name", "printer-make-and-model"]
for i, n in enumerate(names):
    body += attr(0x44, "requested-attributes" if i == 0 else "", n.encode())
body += b"\x03"
req = urllib.request.Request(uri.replace("ipp://", "http://"), data=body, headers={"Content-Type": "application/ipp"})
open(out, "wb").write(urllib.request.urlopen(req, timeout=3).read())
PY
mkdir -p "$T/spool"
export T OUT
unshare -n -m bash -euo pipefail -c '
mount --bind "$T/hosts" /etc/hosts
sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0
ip link set lo up
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile >"$T/dbus.log" 2>&1 & D=$!
sleep 0.3
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus.sock" /usr/sbin/ippeveprinter -p 8631 -n labprinter -r off \
  -d "$T/spool" "Lab Printer" >"$T/ipp.log" 2>&1 & P=$!
for _ in $(seq 50); do /usr/bin/python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 8631), 0.2)" 2>/dev/null && break; sleep 0.1; done
U=ipp://127.0.0.1:8631/ipp/print
/usr/bin/python3 "$T/gpa.py" $U "$OUT/ippeveprinter_healthy.ipp"
/usr/bin/python3 -c "import urllib.request as u; u.urlopen(\"http://127.0.0.1:8631/supplies?supply0=25&supply1=0\", timeout=2).read(); u.urlopen(\"http://127.0.0.1:8631/media?size1=&type1=&level1=0\", timeout=2).read()"
/usr/bin/python3 "$T/gpa.py" $U "$OUT/ippeveprinter_attention.ipp"
kill -TERM $P $D; wait $P $D 2>/dev/null || true
'
ls -l "$OUT"
