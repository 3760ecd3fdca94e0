#!/usr/bin/python3
"""A minimal IPP peer for the printers scenarios ippeveprinter cannot produce.

Usage: ipp_peer.py IP PORT MODE
  MODE `stopped`: every request gets a valid Get-Printer-Attributes answer (RFC 8010
       encoding) of a printer that is stopped (printer-state 5), paused, with a paper jam
       (media-jam-error), and not accepting jobs. ippeveprinter (CUPS 2.4) implements no
       Pause-Printer or Disable-Printer, so it cannot be put in that state.
  MODE `garbage`: a hostile peer: HTTP 200 `application/ipp` whose body is not valid IPP
       (a version byte of 9, then an attribute claiming 65535-byte names, then random
       bytes), a different malformation on each request.
Prints `ready` once listening. Started and stopped by PID by tests/lab/printers.rs, in a
lab namespace only.
"""
import os
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def attr(tag: int, name: str, value: bytes) -> bytes:
    return bytes([tag]) + struct.pack(">H", len(name)) + name.encode() + struct.pack(">H", len(value)) + value


def stopped(request_id: int) -> bytes:
    body = bytes([2, 0]) + struct.pack(">HI", 0, request_id) + b"\x01"
    body += attr(0x47, "attributes-charset", b"utf-8") + attr(0x48, "attributes-natural-language", b"en")
    body += b"\x04"
    body += attr(0x42, "printer-name", b"Stopped Printer")
    body += attr(0x41, "printer-make-and-model", b"Lab Peer")
    body += attr(0x23, "printer-state", struct.pack(">i", 5))
    body += attr(0x44, "printer-state-reasons", b"paused") + attr(0x44, "", b"media-jam-error")
    body += attr(0x41, "printer-state-message", b"Paused by the lab.")
    body += attr(0x22, "printer-is-accepting-jobs", b"\x00")
    return body + b"\x03"


GARBAGE = [
    lambda: b"\x09\x00" + os.urandom(64),
    lambda: bytes([2, 0, 0, 0, 0, 0, 0, 1, 4, 0x44, 0xFF, 0xFF]) + os.urandom(32),
    lambda: bytes([2, 0, 0, 0, 0, 0, 0, 1]) + b"\x04" + b"\x34\x00\x01c\x00\x00" * 40,
    lambda: b"<html><body>printer</body></html>",
]


class Handler(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        request = self.rfile.read(min(length, 65536))
        request_id = struct.unpack(">I", request[4:8])[0] if len(request) >= 8 else 1
        if MODE == "stopped":
            body = stopped(request_id)
        else:
            body = GARBAGE[Handler.count % len(GARBAGE)]()
            Handler.count += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/ipp")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write("ipp_peer: " + (fmt % args) + "\n")


if __name__ == "__main__":
    ip, port, MODE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = ThreadingHTTPServer((ip, port), Handler)
    print("ready", flush=True)
    server.serve_forever()
