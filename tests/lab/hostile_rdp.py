#!/usr/bin/env python3
"""A hostile RDP peer for nettriage's network lab (Python 3 stdlib only).

Runs inside a lab namespace (never in the host namespace), listens on --bind,
one TCP port per case starting at --port, and answers every connection's
Connection Request (whatever it is) as its case says:

  garbage    an HTTP error line and binary noise, then close
  truncated  the first 9 bytes of a real xrdp Connection Confirm, then close
  huge       a TPKT header announcing 65535 bytes, 600 bytes, then silence
  silent     nothing (the connection stays open)
  bad_neg    a Connection Confirm whose negotiation structure has type 7
  disconnect an X.224 Disconnect Request instead of a Confirm
  flood      1 MiB of 0x03 bytes (bounded memory on the reader's side)
  reset      close at once without reading (an RST when the request arrives)

Bounded: exits after --seconds (at most 60). The first line is "ready PORT..."
once every socket listens; each connection is logged as "case NAME".
"""

import argparse
import socket
import threading
import time

MAX_SECONDS = 60.0
XRDP_TLS = bytes.fromhex("030000130ed000001234000201080001000000")
CASES = ["garbage", "truncated", "huge", "silent", "bad_neg", "disconnect", "flood", "reset"]


def answer(case):
    if case == "garbage":
        return b"HTTP/1.1 400 Bad Request\r\n\r\n" + bytes(range(256))
    if case == "truncated":
        return XRDP_TLS[:9]
    if case == "huge":
        return b"\x03\x00\xff\xff" + b"A" * 600
    if case == "bad_neg":
        return bytes.fromhex("030000130ed000001234000701080001000000")
    if case == "disconnect":
        return bytes.fromhex("0300000b06800000123400")
    if case == "flood":
        return b"\x03" * (1 << 20)
    return b""


def serve(conn, case, stop_at):
    try:
        conn.settimeout(2.0)
        if case == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return
        try:
            conn.recv(4096)
        except OSError:
            pass
        data = answer(case)
        if data:
            try:
                conn.sendall(data)
            except OSError:
                return
        if case in ("huge", "silent"):
            while time.monotonic() < stop_at:
                time.sleep(0.2)
    finally:
        conn.close()


def listen(sock, case, stop_at):
    sock.settimeout(0.5)
    while time.monotonic() < stop_at:
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        print(f"case {case}", flush=True)
        threading.Thread(target=serve, args=(conn, case, stop_at), daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args()
    stop_at = time.monotonic() + min(args.seconds, MAX_SECONDS)
    threads = []
    for i, case in enumerate(CASES):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.bind, args.port + i))
        s.listen(8)
        t = threading.Thread(target=listen, args=(s, case, stop_at), daemon=True)
        threads.append(t)
    for t in threads:
        t.start()
    print("ready " + " ".join(f"{c}={args.port + i}" for i, c in enumerate(CASES)), flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
