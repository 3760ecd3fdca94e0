#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the real captures in captures/ (stdlib only).

    python3 fuzz/seed_corpus.py
"""
import glob, hashlib, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CAP = os.path.join(ROOT, "captures")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def frames(path):
    data = open(path, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def save(target, blob):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, hashlib.sha1(blob).hexdigest()), "wb").write(blob)


for pcap in glob.glob(os.path.join(CAP, "*.pcap")) + glob.glob(os.path.join(CAP, "tunnels", "*.pcap")):
    save("pcap", open(pcap, "rb").read())
    # wire: each frame alone, and the capture as one sequence of length-prefixed frames
    # (the target's second reading; frames cut to 255 bytes).
    save("wire", b"".join(bytes([min(len(f), 255)]) + f[:255] for f in frames(pcap)))
    for f in frames(pcap):
        save("wire", f)
        ethertype = f[12:14]
        if ethertype == b"\x08\x06":
            save("arp_reply", f)
        elif ethertype == b"\x08\x00" and len(f) > 42 and f[23] == 17:
            sport, dport = struct.unpack(">HH", f[34:38])
            if 53 in (sport, dport):
                save("dns_response", f[42:])
            if {sport, dport} == {67, 68}:
                save("dhcp_reply", f)
for lease in glob.glob(os.path.join(CAP, "leases", "*")):
    save("lease_files", open(lease, "rb").read())
for nl in glob.glob(os.path.join(CAP, "netlink", "*.bin")):
    save("netlink", open(nl, "rb").read())
for nl in glob.glob(os.path.join(CAP, "wifi", "*.bin")):
    save("wifi", open(nl, "rb").read())
for t in sorted(os.listdir(OUT)):
    print(t, len(os.listdir(os.path.join(OUT, t))))
