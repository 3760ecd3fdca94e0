#!/usr/bin/env python3
"""Cuts the decoders' fixtures out of ad_samba.pcap (recorded by tests/lab_ad.rs with
NETTRIAGE_AD_RECORD=DIR): the DC's first rootDSE reply (TCP 389 payload), its first
KRB-ERROR over UDP 88 and over TCP 88 (with the 4-octet length), byte for byte."""
import struct, sys

def packets(path):
    data = open(path, "rb").read()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4, "little-endian microsecond pcap expected"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl

def payloads(path):
    for frame in packets(path):
        if frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        proto, src = ip[9], ".".join(map(str, ip[12:16]))
        l4 = ip[ihl:struct.unpack(">H", ip[2:4])[0]]
        sport = struct.unpack(">H", l4[:2])[0]
        if proto == 17:
            yield "udp", src, sport, l4[8:]
        elif proto == 6:
            yield "tcp", src, sport, l4[(l4[12] >> 4) * 4:]

pcap, out = sys.argv[1], sys.argv[2]
wanted = {("tcp", 389): "samba_rootdse.ber", ("udp", 88): "samba_krb_error_udp.der", ("tcp", 88): "samba_krb_error_tcp.bin"}
for proto, src, sport, body in payloads(pcap):
    name = wanted.get((proto, sport))
    if name and src == "198.18.0.20" and body:
        open(f"{out}/{name}", "wb").write(body)
        del wanted[(proto, sport)]
assert not wanted, f"not found: {wanted}"
