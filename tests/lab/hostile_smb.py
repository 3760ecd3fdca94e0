#!/usr/bin/env python3
"""A hostile "file server" on TCP 445 for nettriage's network lab (Python 3 stdlib only).

Runs inside a lab namespace (never in the host namespace), listens on --address:--port
and answers each connection with the next case of `CASES`, in turn, after reading what
the client sent (at most 4 KiB, 1 s):

  * garbage: text that is not an SMB transport frame ("HTTP/1.1 400 ...");
  * huge: a transport header announcing a 16 MiB frame, then 64 bytes;
  * truncated: a frame whose SMB2 header ends after 20 bytes;
  * lying_offset: an SMB2 NEGOTIATE response for 3.1.1 whose negotiate context offset
    points 4 GiB past the end and whose context count is 65535;
  * bad_smb1: an SMB1 NEGOTIATE response with WordCount 17 and no words;
  * silence: nothing; the connection is held for 3 s then closed.

Logs "ready" once listening and "case NAME" per connection. Ends after --seconds
(bounded: at most 60 s); the lab also ends it by PID.
"""

import argparse
import socket
import struct
import time

MAX_SECONDS = 60.0


def frame(msg):
    return struct.pack(">I", len(msg)) + msg


def smb2_header(status=0):
    h = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, status, 0, 1, 1, 0, 0, 0, 0, 0) + b"\0" * 16
    assert len(h) == 64
    return h


def lying_offset():
    body = struct.pack("<HHHH", 65, 1, 0x0311, 0xFFFF) + b"\xab" * 16
    body += struct.pack("<IIIIQQHHI", 0x2F, 65536, 65536, 65536, 0, 0, 128, 0, 0xFFFFFFF0)
    return frame(smb2_header() + body + b"\0" * 8)


CASES = [
    ("garbage", lambda: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
    ("huge", lambda: struct.pack(">I", 0x00FFFFFF) + b"\xfeSMB" + b"\0" * 60),
    ("truncated", lambda: frame(b"\xfeSMB" + b"\0" * 16)),
    ("lying_offset", lying_offset),
    ("bad_smb1", lambda: frame(b"\xffSMBr" + b"\0" * 27 + b"\x11")),
    ("silence", lambda: None),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--port", type=int, default=445)
    p.add_argument("--seconds", type=float, default=MAX_SECONDS)
    a = p.parse_args()
    end = time.monotonic() + min(a.seconds, MAX_SECONDS)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.address, a.port))
    srv.listen(16)
    srv.settimeout(0.5)
    print("ready", flush=True)
    n = 0
    while time.monotonic() < end:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        name, make = CASES[n % len(CASES)]
        n += 1
        print("case", name, flush=True)
        with conn:
            conn.settimeout(1.0)
            try:
                conn.recv(4096)
                data = make()
                if data is None:
                    time.sleep(3)
                else:
                    conn.sendall(data)
                    time.sleep(0.2)
            except OSError as e:
                print("error", e, flush=True)


if __name__ == "__main__":
    main()
