#!/usr/bin/env python3
"""A minimal RDP negotiation peer with Network Level Authentication, for nettriage's
network lab (Python 3 stdlib only). xrdp has no CredSSP, so this stands in for a
Windows host whose security layer is "Negotiate" with NLA.

Runs inside a lab namespace (never in the host namespace) and listens on --bind:--port.
For each connection it reads the X.224 Connection Request (MS-RDPBCGR 2.2.1.1) and
answers with a Connection Confirm (2.2.1.2):

  * requestedProtocols with PROTOCOL_HYBRID_EX (8) or PROTOCOL_HYBRID (2): an RDP
    Negotiation Response selecting HYBRID_EX (or HYBRID), then the server side of a TLS
    handshake with --cert/--key (where CredSSP would start; the peer closes there);
  * otherwise, with --enforce: an RDP Negotiation Failure HYBRID_REQUIRED_BY_SERVER (5),
    as a host that requires NLA answers; without it: TLS selected and the handshake.

Bounded: exits after --seconds (at most 60). The first line is "ready" once it listens;
each connection is logged as "requested N".
"""

import argparse
import socket
import ssl
import threading
import time

MAX_SECONDS = 60.0


def confirm(kind, value):
    neg = bytes([kind, 0x00, 0x08, 0x00]) + value.to_bytes(4, "little")
    tpdu = bytes([6 + len(neg), 0xD0, 0, 0, 0x12, 0x34, 0]) + neg
    return bytes([3, 0]) + (4 + len(tpdu)).to_bytes(2, "big") + tpdu


def serve(conn, context, enforce):
    try:
        conn.settimeout(3.0)
        data = conn.recv(4096)
        requested = int.from_bytes(data[15:19], "little") if len(data) >= 19 else 0
        print(f"requested {requested}", flush=True)
        if requested & 8:
            selected = 8
        elif requested & 2:
            selected = 2
        elif enforce:
            conn.sendall(confirm(0x03, 5))
            return
        else:
            selected = 1
        conn.sendall(confirm(0x02, selected))
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.settimeout(3.0)
            try:
                tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--enforce", action="store_true")
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    stop_at = time.monotonic() + min(args.seconds, MAX_SECONDS)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(8)
    s.settimeout(0.5)
    print("ready", flush=True)
    while time.monotonic() < stop_at:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, context, args.enforce), daemon=True).start()


if __name__ == "__main__":
    main()
