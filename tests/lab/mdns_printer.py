#!/usr/bin/python3
"""Advertises a lab printer over mDNS (DNS-SD) with python3-zeroconf, on one address only.

Usage: mdns_printer.py NAME IP IPP_PORT [RAW_PORT]
Registers NAME._ipp._tcp.local. (rp=ipp/print) at IP:IPP_PORT and, with RAW_PORT,
NAME._pdl-datastream._tcp.local. at IP:RAW_PORT, host labprinter.local. Prints `ready` once
registered, then answers queries (multicast and legacy unicast, RFC 6762 section 6.7) until
SIGTERM, when it unregisters. Started and stopped by PID by tests/lab/printers.rs, in a lab
namespace only.
"""
import signal
import socket
import sys
import threading

from zeroconf import IPVersion, ServiceInfo, Zeroconf


def main() -> None:
    name, ip, ipp_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    raw_port = int(sys.argv[4]) if len(sys.argv) > 4 else None
    zc = Zeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    infos = [
        ServiceInfo(
            "_ipp._tcp.local.",
            f"{name}._ipp._tcp.local.",
            addresses=[socket.inet_aton(ip)],
            port=ipp_port,
            properties={"txtvers": "1", "rp": "ipp/print", "ty": name},
            server="labprinter.local.",
        )
    ]
    if raw_port:
        infos.append(
            ServiceInfo(
                "_pdl-datastream._tcp.local.",
                f"{name}._pdl-datastream._tcp.local.",
                addresses=[socket.inet_aton(ip)],
                port=raw_port,
                properties={"txtvers": "1"},
                server="labprinter.local.",
            )
        )
    for info in infos:
        zc.register_service(info, allow_name_change=False)
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for info in infos:
        zc.unregister_service(info)
    zc.close()


if __name__ == "__main__":
    main()
