#!/usr/bin/env python3
"""A hostile IPv6 router for nettriage's network lab (Python 3 stdlib only).

Runs inside a lab namespace on the client's LAN segment (never in the host
namespace), with IPv6 forwarding on so the kernel joins all-routers ff02::2.
It waits on a raw ICMPv6 socket for a Router Solicitation, then sends to
all-nodes ff02::1 on --iface, hop limit 255 (the kernel fills in checksums):

  * malformed Router Advertisements (the `cases` table): shorter than the
    header, an option with length 0, an option running past the end, a lone
    option type byte, ICMP code 1, a 255-unit RDNSS option (2040 bytes), a
    DNSSL with a compression pointer, a prefix option of the wrong length.
    Each is logged as "case NAME";
  * a flood of --flood valid RAs (router lifetime 0, no prefix, so the
    client's kernel keeps no route or address from them), spread over
    --sources link-local source addresses fe80::66:1.. (which the lab added
    to --iface), so the receiver's per-source cap is exercised.

Every loop is bounded: the script exits after sending, or after 10 s if no
solicitation came. Output (one line per step) goes to stdout, which the lab
writes to a log file; the first line is "ready" once the socket listens.
"""

import argparse
import select
import socket
import struct
import time

TOTAL_TIMEOUT_S = 10.0
RS, RA = 133, 134


def ra(code=0, lifetime=0, options=b""):
    """An RA: type, code, checksum 0 (the kernel fills it in), hop limit 64,
    no flags, router lifetime, reachable time, retrans timer, options."""
    return struct.pack("!BBHBBHII", RA, code, 0, 64, 0, lifetime, 0, 0) + options


def slla(index):
    return bytes([1, 1, 0x02, 0x66, 0, 0, (index >> 8) & 0xFF, index & 0xFF])


def cases():
    rdnss_255 = bytes([25, 255, 0, 0]) + struct.pack("!I", 60) + b"\x20\x01" * 1018
    dnssl_ptr = bytes([31, 2, 0, 0]) + struct.pack("!I", 60) + bytes([0xC0, 0x0C, 0, 0, 0, 0, 0, 0])
    short_prefix = bytes([3, 2, 64, 0xC0]) + bytes(12)
    return [
        ("header_only_8_bytes", ra()[:8]),
        ("zero_length_option", ra(options=bytes([1, 0, 0, 0, 0, 0, 0, 0]))),
        ("option_past_end", ra(options=bytes([3, 4, 64, 0xC0]) + bytes(12))),
        ("lone_type_byte", ra(options=slla(0) + b"\x05")),
        ("icmp_code_1", ra(code=1, options=slla(0))),
        ("rdnss_255_units", ra(options=slla(0) + rdnss_255)),
        ("dnssl_compression_pointer", ra(options=slla(0) + dnssl_ptr)),
        ("prefix_wrong_length", ra(options=slla(0) + short_prefix)),
    ]


def open_socket(iface, bind_addr=None):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    if bind_addr is not None:
        s.bind((bind_addr, 0, 0, socket.if_nametoindex(iface)))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--flood", type=int, default=500)
    ap.add_argument("--sources", type=int, default=40)
    args = ap.parse_args()
    index = socket.if_nametoindex(args.iface)
    dest = ("ff02::1", 0, 0, index)

    listener = open_socket(args.iface)
    print("ready", flush=True)
    deadline = time.monotonic() + TOTAL_TIMEOUT_S
    solicited = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([listener], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        data, addr = listener.recvfrom(2048)
        if data and data[0] == RS:
            print(f"solicitation from {addr[0]}", flush=True)
            solicited = True
            break
    if not solicited:
        print("no solicitation", flush=True)
        return

    senders = [open_socket(args.iface, f"fe80::66:{i + 1:x}") for i in range(max(1, args.sources))]
    for name, packet in cases():
        senders[0].sendto(packet, dest)
        print(f"case {name}", flush=True)
    sent = 0
    for i in range(args.flood):
        k = i % len(senders)
        try:
            senders[k].sendto(ra(options=slla(k + 1)), dest)
            sent += 1
        except OSError as e:
            print(f"flood send failed: {e}", flush=True)
        if i % 50 == 49:
            time.sleep(0.002)
    print(f"flood {sent}", flush=True)


if __name__ == "__main__":
    main()
