#!/usr/bin/env python3
"""Joins two namespaces by a point-to-point tun link (a LINKTYPE_RAW interface), for
captures/record_formats.sh: run once per namespace with the same Unix socket path, first
`listen`, then `connect`; each creates tun device NAME in its namespace and copies packets
between it and the socket (SOCK_SEQPACKET keeps one packet per message)."""
import fcntl, os, select, socket, struct, sys

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
name, path, role = sys.argv[1:4]
tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
if role == "listen":
    sock.bind(path)
    sock.listen(1)
    peer, _ = sock.accept()
else:
    sock.connect(path)
    peer = sock
while True:
    ready, _, _ = select.select([tun, peer], [], [])
    if tun in ready:
        peer.send(os.read(tun, 65535))
    if peer in ready:
        data = peer.recv(65535)
        if not data:
            break
        try:
            os.write(tun, data)
        except OSError:
            pass  # the device is not up yet (or going away): drop, as a link would
