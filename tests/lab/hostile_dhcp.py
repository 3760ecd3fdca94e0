#!/usr/bin/env python3
"""A hostile DHCP "server" for nettriage's network lab (Python 3 stdlib only).

Runs inside a lab namespace on the client's LAN segment (never in the host
namespace). It sniffs with an AF_PACKET socket bound to one interface until it
sees a DHCPDISCOVER from the client's MAC, reads its xid, waits until the real
server's OFFER for that xid has gone out (so the flood below cannot crowd the
real offer out of the client's bounded offer list; at most 1 s), and then
answers the client (unicast to its MAC) with:

  * malformed replies (the `cases` table): a truncated BOOTP message, a bad
    magic cookie, an option whose length runs past the end, an MTU-sized
    options area of junk, a 1400-byte options area (too big for the MTU, so
    sent as two IP fragments), option 53 with length 0, hlen 255, broken
    IP/UDP framings, replies for another xid or MAC. Each gets its own yiaddr
    (198.18.0.230+k) and a log line "case ADDR VERDICT NAME";
  * a flood of syntactically valid OFFERs from --src-ip (paced a little, so
    the client's socket buffer is not what limits them).

Every loop is bounded: the script exits after sending, or after 10 s if no
DISCOVER came. Output (one line per step) goes to stdout, which the lab
writes to a log file; the first line is "ready" once the socket listens.
"""

import argparse
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
BOOTREQUEST, BOOTREPLY = 1, 2
DISCOVER, OFFER = 1, 2
COOKIE = bytes([99, 130, 83, 99])
TOTAL_TIMEOUT_S = 10.0
REAL_OFFER_WAIT_S = 1.0


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError(f"bad MAC {text!r}")
    return bytes(int(p, 16) for p in parts)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ip_header(src, dst, payload_len, ident, frag_field=0):
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + payload_len,
        ident,
        frag_field,
        64,
        17,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]


def udp_packet(payload, udp_len=None):
    # Checksum 0: "no checksum" is valid for UDP over IPv4.
    length = 8 + len(payload) if udp_len is None else udp_len
    return struct.pack("!HHHH", 67, 68, length & 0xFFFF, 0) + payload


class Sender:
    def __init__(self, sock, src_mac, dst_mac, src_ip):
        self.sock = sock
        self.eth = dst_mac + src_mac + struct.pack("!H", ETH_P_IP)
        self.src_ip = src_ip
        self.ident = random.randrange(0x10000)
        self.sent = 0
        self.errors = 0

    def raw(self, ip_packet):
        try:
            self.sock.send(self.eth + ip_packet)
            self.sent += 1
        except OSError as e:
            self.errors += 1
            print(f"send failed: {e}", flush=True)

    def udp(self, payload, udp_len=None, ip_len_extra=0):
        self.ident = (self.ident + 1) & 0xFFFF
        body = udp_packet(payload, udp_len)
        hdr = ip_header(self.src_ip, "255.255.255.255", len(body) + ip_len_extra, self.ident)
        self.raw(hdr + body)

    def fragmented(self, payload, first_len=1400):
        """Sends one UDP datagram as two IP fragments (first_len multiple of 8)."""
        self.ident = (self.ident + 1) & 0xFFFF
        body = udp_packet(payload)
        first, rest = body[:first_len], body[first_len:]
        more_fragments = 0x2000
        self.raw(ip_header(self.src_ip, "255.255.255.255", len(first), self.ident, more_fragments) + first)
        self.raw(ip_header(self.src_ip, "255.255.255.255", len(rest), self.ident, first_len // 8) + rest)


def bootp(xid, chaddr, yiaddr, siaddr, hlen=6, op=BOOTREPLY):
    return struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        op,
        1,
        hlen,
        0,
        xid,
        0,
        0x8000,
        b"\0" * 4,
        socket.inet_aton(yiaddr),
        socket.inet_aton(siaddr),
        b"\0" * 4,
        chaddr.ljust(16, b"\0"),
        b"",
        b"",
    )


def opt(code, data):
    return bytes([code, len(data)]) + data


def offer_options(server):
    ip = socket.inet_aton(server)
    return (
        opt(53, bytes([OFFER]))
        + opt(54, ip)
        + opt(51, struct.pack("!I", 3600))
        + opt(1, socket.inet_aton("255.255.255.0"))
        + opt(3, ip)
        + opt(6, ip)
        + b"\xff"
    )


def parse_dhcp(frame):
    """(src_ip, sport, dport, bootp payload) of an IPv4/UDP frame, else None."""
    if len(frame) < 14 + 20 + 8 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17 or ihl < 20 or len(ip) < ihl + 8:
        return None
    sport, dport = struct.unpack("!HH", ip[ihl : ihl + 4])
    return socket.inet_ntoa(ip[12:16]), sport, dport, ip[ihl + 8 :]


def message_type(payload):
    if len(payload) < 240 or payload[236:240] != COOKIE:
        return None
    i = 240
    while i + 1 < len(payload):
        code = payload[i]
        if code == 255:
            return None
        if code == 0:
            i += 1
            continue
        length = payload[i + 1]
        if code == 53 and length == 1 and i + 2 < len(payload):
            return payload[i + 2]
        i += 2 + length
    return None


def wait_for(sock, deadline, want):
    """Receives frames until want(parsed) returns a value, or the deadline passes."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(0.1, deadline - time.monotonic())))
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            continue
        parsed = parse_dhcp(frame)
        if parsed is None:
            continue
        got = want(parsed)
        if got is not None:
            return got
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--client-mac", required=True)
    ap.add_argument("--src-ip", required=True)
    ap.add_argument("--real-server", required=True)
    ap.add_argument("--flood", type=int, default=500)
    a = ap.parse_args()
    flood = max(0, min(a.flood, 5000))
    client = mac_bytes(a.client_mac)
    start = time.monotonic()
    deadline = start + TOTAL_TIMEOUT_S

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((a.iface, 0))
    my_mac = sock.getsockname()[4]
    print("ready", flush=True)

    def discover(parsed):
        _, sport, dport, p = parsed
        if sport == 68 and dport == 67 and len(p) >= 240 and p[0] == BOOTREQUEST and p[28:34] == client:
            if message_type(p) == DISCOVER:
                return struct.unpack("!I", p[4:8])[0]
        return None

    xid = wait_for(sock, deadline, discover)
    if xid is None:
        print("no DISCOVER from the client; exiting", flush=True)
        return 0
    print(f"discover xid={xid:#010x} after {time.monotonic() - start:.3f}s", flush=True)

    def real_offer(parsed):
        src, sport, dport, p = parsed
        if src == a.real_server and sport == 67 and dport == 68 and len(p) >= 240 and p[4:8] == struct.pack("!I", xid):
            return True
        return None

    seen = wait_for(sock, min(deadline, time.monotonic() + REAL_OFFER_WAIT_S), real_offer)
    print(f"real server offer seen: {bool(seen)}", flush=True)

    tx = Sender(sock, my_mac, client, a.src_ip)
    server = socket.inet_aton(a.src_ip)

    def good(addr, xid_=xid, chaddr=client, hlen=6, op=BOOTREPLY):
        return bootp(xid_, chaddr, addr, a.src_ip, hlen=hlen, op=op) + COOKIE + offer_options(a.src_ip)

    def head(addr):
        return bootp(xid, client, addr, a.src_ip) + COOKIE

    def offer_head(addr):
        """A reply up to and including options 53 (OFFER) and 54, no end."""
        return head(addr) + opt(53, bytes([OFFER])) + opt(54, server)

    # Options that look well formed but run on past the end of a 1400-byte
    # options area; only the first IP fragment reaches a packet socket whole.
    long_options = (bytes([43, 250]) + b"\x01" * 250) * 6

    # (name, verdict, send(addr)): every case gets its own yiaddr
    # 198.18.0.230+k, so the test can tell which ones were taken as offers.
    # "reject": must never show up as an offer; "any": the DHCP message
    # itself is intact, accepting it is fine. An options area that runs past
    # the end, or a known option of the wrong length, makes the whole reply
    # malformed: nettriage rejects it (docs/checks/dhcp.md).
    cases = [
        ("truncated_bootp_100_bytes", "reject", lambda ad: tx.udp(good(ad)[:100])),
        ("short_of_magic_cookie", "reject", lambda ad: tx.udp(good(ad)[:239])),
        ("bad_magic_cookie", "reject", lambda ad: tx.udp(good(ad)[:236] + b"\xde\xad\xbe\xef" + good(ad)[240:])),
        (
            "option_length_past_end",
            "reject",
            lambda ad: tx.udp(offer_head(ad) + bytes([6, 200, 1, 2, 3])),
        ),
        ("option_code_without_length", "reject", lambda ad: tx.udp(head(ad) + bytes([53]))),
        (
            "junk_options_mtu_sized",
            "reject",
            lambda ad: tx.udp(head(ad) + random.Random(1).randbytes(1472 - 240)),
        ),
        (
            "client_id_length_past_end",
            "reject",
            lambda ad: tx.udp(offer_head(ad) + bytes([61, 255]) + b"\x01" * 40),
        ),
        (
            "options_area_1400_bytes_fragmented",
            "reject",
            lambda ad: tx.fragmented(offer_head(ad) + long_options[: 1400 - 8]),
        ),
        ("option53_length_0", "reject", lambda ad: tx.udp(head(ad) + bytes([53, 0]) + opt(54, server) + b"\xff")),
        ("option53_cut_off", "reject", lambda ad: tx.udp(head(ad) + bytes([53, 1]))),
        ("unknown_message_type", "reject", lambda ad: tx.udp(head(ad) + opt(53, bytes([99])) + b"\xff")),
        (
            "hlen_255",
            "reject",
            lambda ad: tx.udp(good(ad, hlen=255)),
        ),
        (
            "bootrequest_not_reply",
            "reject",
            lambda ad: tx.udp(good(ad, op=BOOTREQUEST)),
        ),
        ("pad_options_no_end", "reject", lambda ad: tx.udp(head(ad) + b"\x00" * 1000)),
        (
            "bad_fixed_option_lengths",
            "reject",
            lambda ad: tx.udp(offer_head(ad) + opt(3, b"\x01\x02\x03") + opt(1, b"") + opt(51, b"\x01") + b"\xff"),
        ),
        (
            "non_utf8_text_options",
            "any",
            lambda ad: tx.udp(offer_head(ad) + opt(15, b"\xff\xfe\x00bad\x80") + opt(56, b"\xc3\x28") + b"\xff"),
        ),
        ("udp_length_below_header", "reject", lambda ad: tx.udp(good(ad), udp_len=4)),
        ("udp_length_past_packet", "any", lambda ad: tx.udp(good(ad), udp_len=len(good(ad)) + 500)),
        ("ip_length_past_frame", "any", lambda ad: tx.udp(good(ad), ip_len_extra=300)),
        ("empty_udp_payload", "reject", lambda ad: tx.udp(b"")),
        (
            "other_transaction",
            "reject",
            lambda ad: tx.udp(good(ad, xid_=xid ^ 0xFFFFFFFF)),
        ),
        (
            "other_client_mac",
            "reject",
            lambda ad: tx.udp(good(ad, chaddr=bytes([2, 0x11, 0x22, 0x33, 0x44, 0x55]))),
        ),
    ]
    for k, (name, verdict, send) in enumerate(cases):
        addr = f"198.18.0.{230 + k}"
        print(f"case {addr} {verdict} {name}", flush=True)
        send(addr)
    malformed = tx.sent
    print(f"malformed sent={malformed}", flush=True)

    # --- flood of valid offers ----------------------------------------------
    for i in range(flood):
        if time.monotonic() >= deadline:
            break
        yiaddr = f"198.18.0.{170 + i % 50}"
        tx.udp(bootp(xid, client, yiaddr, a.src_ip) + COOKIE + offer_options(a.src_ip))
        if i % 25 == 24:
            time.sleep(0.002)
    print(f"flood sent={tx.sent - malformed} errors={tx.errors}", flush=True)
    print(f"done after {time.monotonic() - start:.3f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
