#!/usr/bin/env python3
"""A hostile LLDP/CDP peer for nettriage's network lab (Python 3 stdlib only).

Runs inside a lab namespace on the switch side of the client's link (never in
the host namespace) and sends, on an AF_PACKET socket bound to --iface, in
rounds every 0.3 s until --seconds have passed (bounded: at most 30 s):

  * malformed LLDPDUs (the `lldp_cases` table): a TLV running past the end,
    the mandatory TLVs missing or out of order, an empty chassis id, a short
    TTL, a management address whose length byte lies, organisationally
    specific TLVs cut short, 600 empty TLVs (more than the decoder's bound);
  * malformed CDP packets (`cdp_cases`): version 9, a TLV of length 0 and 3,
    a TLV running past the end, an address count of 2^32-1, no device id;
  * a flood of --flood valid CDP packets, each from another "switch", so the
    receiver's bound on neighbours is exercised (valid CDP does not end the
    receiver's wait, valid LLDP would).

Each case is logged as "case NAME" in the first round; the first line is
"ready" once the socket is open.
"""

import argparse
import socket
import struct
import time

LLDP_DST = bytes.fromhex("0180c200000e")
CDP_DST = bytes.fromhex("01000ccccccc")
SRC = bytes.fromhex("026600000001")
MAX_SECONDS = 30.0


def tlv(t, value):
    return struct.pack("!H", (t << 9) | len(value)) + value


def lldp_frame(pdu):
    return LLDP_DST + SRC + struct.pack("!H", 0x88CC) + pdu


def mandatory(chassis=b"\x07evil", port=b"\x07p1", ttl=b"\x00\x78"):
    return tlv(1, chassis) + tlv(2, port) + tlv(3, ttl)


def lldp_cases():
    return [
        ("tlv_past_end", mandatory() + struct.pack("!H", (5 << 9) | 200) + b"short"),
        ("port_before_chassis", tlv(2, b"\x07p1") + tlv(1, b"\x07evil") + tlv(3, b"\x00\x78")),
        ("no_ttl", tlv(1, b"\x07evil") + tlv(2, b"\x07p1") + tlv(0, b"")),
        ("empty_chassis", tlv(1, b"\x07") + tlv(2, b"\x07p1") + tlv(3, b"\x00\x78")),
        ("one_byte_ttl", tlv(1, b"\x07evil") + tlv(2, b"\x07p1") + tlv(3, b"\x00")),
        ("header_only", struct.pack("!H", (1 << 9) | 7)),
        ("too_many_tlvs", mandatory() + tlv(9, b"") * 600),
    ]


def cdp_frame(packet):
    llc = bytes.fromhex("aaaa0300000c2000") + packet
    return CDP_DST + SRC + struct.pack("!H", len(llc)) + llc


def cdp_tlv(t, value):
    return struct.pack("!HH", t, len(value) + 4) + value


def cdp_cases():
    head = bytes([2, 180, 0, 0])
    return [
        ("cdp_version_9", bytes([9, 180, 0, 0]) + cdp_tlv(1, b"evil")),
        ("cdp_tlv_length_0", head + struct.pack("!HH", 1, 0)),
        ("cdp_tlv_length_3", head + struct.pack("!HH", 1, 3) + b"abc"),
        ("cdp_tlv_past_end", head + struct.pack("!HH", 1, 400) + b"evil"),
        ("cdp_huge_address_count", head + cdp_tlv(1, b"evil-addr") + cdp_tlv(2, b"\xff\xff\xff\xff\x01\x01\xcc\x00\x04")),
        ("cdp_no_device_id", head + cdp_tlv(3, b"Gi0/1")),
        ("cdp_header_only", bytes([2])),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--flood", type=int, default=100)
    args = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    print("ready", flush=True)
    end = time.monotonic() + min(args.seconds, MAX_SECONDS)
    first = True
    while time.monotonic() < end:
        for name, pdu in lldp_cases():
            s.send(lldp_frame(pdu))
            if first:
                print("case", name, flush=True)
        for name, packet in cdp_cases():
            s.send(cdp_frame(packet))
            if first:
                print("case", name, flush=True)
        for i in range(args.flood):
            name = ("flood-sw-%d" % i).encode()
            s.send(cdp_frame(bytes([2, 180, 0, 0]) + cdp_tlv(1, name) + cdp_tlv(3, b"Gi0/%d" % (i % 48))))
        if first:
            print("flood", args.flood, flush=True)
        first = False
        time.sleep(0.3)
    print("done", flush=True)


if __name__ == "__main__":
    main()
