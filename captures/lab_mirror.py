#!/usr/bin/env python3
"""Mirrors every frame of some interfaces to a collector, the way a switch's remote
mirroring does: tagged onto a trunk, or inside GRE or VXLAN. Used by
captures/record_tunnels.sh in lab namespaces only (198.18.0.0/15).

  lab_mirror.py tag MON IF:VLAN...       802.1Q-tagged copies sent out of interface MON
  lab_mirror.py gre DST KEY IF...        GRE (key, sequence number) carrying the Ethernet frame
  lab_mirror.py gre-ip DST IF...         GRE without key carrying the IPv4/IPv6 packet only
  lab_mirror.py vxlan DST VNI IF...      VXLAN (UDP 4789) carrying the Ethernet frame
  lab_mirror.py sink                     absorbs GRE and UDP 4789 at the collector

Outer IP and UDP headers, and their fragmentation, are the kernel's (sockets with path-MTU
discovery off); this script writes only the 802.1Q tag and the GRE and VXLAN headers.
"""
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0


def listen(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    return s


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "sink":
        gre = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("0.0.0.0", 4789))
        while True:
            for s in select.select([gre, udp], [], [])[0]:
                s.recv(65535)
    if mode == "tag":
        out = listen(args[0])
        ports = {listen(name): int(vlan) for name, vlan in (a.split(":") for a in args[1:])}
    else:
        dst, rest = args[0], args[1:]
        ident = int(rest.pop(0)) if mode in ("gre", "vxlan") else 0
        if mode == "vxlan":
            out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        else:
            out = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
        out.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        ports = {listen(name): 0 for name in rest}
    # The recorder waits for this line before it makes traffic: a mirror started late on a
    # loaded machine would otherwise miss the first exchanges.
    print("ready", flush=True)
    seq = 0
    while True:
        for s in select.select(list(ports), [], [])[0]:
            frame, addr = s.recvfrom(65535)
            if mode == "tag":
                tci = struct.pack("!HH", 0x8100, ports[s])
                out.send(frame[:12] + tci + frame[12:])
            elif mode == "gre":
                seq += 1
                out.sendto(struct.pack("!BBHII", 0x30, 0, 0x6558, ident, seq) + frame, (dst, 0))
            elif mode == "gre-ip":
                ethertype = struct.unpack("!H", frame[12:14])[0]
                if ethertype in (0x0800, 0x86DD):
                    out.sendto(struct.pack("!BBH", 0, 0, ethertype) + frame[14:], (dst, 0))
            elif mode == "vxlan":
                out.sendto(struct.pack("!II", 0x08000000, ident << 8) + frame, (dst, 4789))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
