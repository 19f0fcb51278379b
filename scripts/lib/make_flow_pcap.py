#!/usr/bin/env python3
"""Write a small, reproducible pcap of IPv4 and IPv6 traffic for the flow interop test.

Usage: make_flow_pcap.py OUT.pcap

Standard library only (no scapy): Ethernet frames with IPv4/IPv6 headers (IPv4 header
checksums computed) carrying TCP connections (handshake, data both ways, FIN), UDP
request/response pairs (DNS-, NTP-like) and ICMP / ICMPv6 echo exchanges. A fixed
random seed and fixed timestamps (from 2024-03-01T12:00:00Z) make the output identical
on every run, byte for byte.
"""
import random
import struct
import sys

START = 1709294400  # 2024-03-01T12:00:00Z


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                      bytes(src), bytes(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return b"\x08\x00", hdr + payload


def ipv6(src, dst, nh, payload):
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, bytes(src), bytes(dst))
    return b"\x86\xdd", hdr + payload


def tcp(sp, dp, seq, ack, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data


def icmp(ty, code, ident, seq, data):
    return struct.pack("!BBHHH", ty, code, 0, ident, seq) + data


class Pcap:
    def __init__(self):
        self.packets = []

    def add(self, t, l3):
        ethertype, pkt = l3
        frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + ethertype + pkt
        self.packets.append((t, frame))

    def write(self, path):
        self.packets.sort(key=lambda p: p[0])
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, frame in self.packets:
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                if usec == 1000000:
                    sec, usec = sec + 1, 0
                f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
                f.write(frame)


def v4(a, b, c, d):
    return [a, b, c, d]


def v6(last):
    return [0x20, 0x01, 0x0D, 0xB8] + [0] * 10 + [0, last]


def main():
    out = sys.argv[1]
    rng = random.Random(20240301)
    p = Pcap()
    ident = [1]

    def ip(src, dst, proto, payload):
        if len(src) == 4:
            ident[0] += 1
            return ipv4(src, dst, proto, payload, ident[0])
        return ipv6(src, dst, {1: 58}.get(proto, proto), payload)

    def tcp_session(t, cli, srv, sport, dport, exchanges):
        a, b = rng.randrange(1 << 32), rng.randrange(1 << 32)
        p.add(t, ip(cli, srv, 6, tcp(sport, dport, a, 0, 0x02)))
        t += 0.02
        p.add(t, ip(srv, cli, 6, tcp(dport, sport, b, a + 1, 0x12)))
        t += 0.02
        p.add(t, ip(cli, srv, 6, tcp(sport, dport, a + 1, b + 1, 0x10)))
        for up, down in exchanges:
            t += 0.05 + rng.random() * 0.2
            p.add(t, ip(cli, srv, 6, tcp(sport, dport, a + 1, b + 1, 0x18, bytes(up))))
            a += up
            t += 0.03 + rng.random() * 0.1
            p.add(t, ip(srv, cli, 6, tcp(dport, sport, b + 1, a + 1, 0x18, bytes(down))))
            b += down
        t += 0.1
        p.add(t, ip(cli, srv, 6, tcp(sport, dport, a + 1, b + 1, 0x11)))
        t += 0.02
        p.add(t, ip(srv, cli, 6, tcp(dport, sport, b + 1, a + 2, 0x11)))
        t += 0.02
        p.add(t, ip(cli, srv, 6, tcp(sport, dport, a + 2, b + 2, 0x10)))

    clients4 = [v4(10, 0, 0, n) for n in range(2, 8)]
    servers4 = [v4(192, 0, 2, 10), v4(198, 51, 100, 20), v4(203, 0, 113, 30)]
    clients6 = [v6(n) for n in range(2, 5)]
    servers6 = [[0x20, 0x01, 0x0D, 0xB8, 0xFF] + [0] * 10 + [0x80]]
    t = float(START)
    for i in range(24):
        cli = rng.choice(clients4)
        srv = rng.choice(servers4)
        ex = [(rng.randrange(40, 900), rng.randrange(100, 1400)) for _ in range(rng.randrange(1, 6))]
        tcp_session(t + i * 1.5, cli, srv, 40000 + i, rng.choice([80, 443, 8443]), ex)
    for i in range(6):
        tcp_session(t + 3 + i * 2.0, rng.choice(clients6), servers6[0], 50000 + i, 443,
                    [(rng.randrange(40, 900), rng.randrange(100, 1200))])
    for i in range(20):
        cli = rng.choice(clients4 + clients6)
        srv = v4(192, 0, 2, 53) if len(cli) == 4 else v6(0x53)
        ts = t + 0.7 + i * 1.9
        sport = 30000 + i
        dport = 53 if i % 4 else 123
        p.add(ts, ip(cli, srv, 17, udp(sport, dport, bytes(rng.randrange(30, 80)))))
        p.add(ts + 0.01 + rng.random() * 0.05,
              ip(srv, cli, 17, udp(dport, sport, bytes(rng.randrange(60, 300)))))
    for i in range(4):
        cli = clients4[i]
        srv = servers4[i % 3]
        for k in range(3):
            ts = t + 1.1 + i * 5 + k
            p.add(ts, ip(cli, srv, 1, icmp(8, 0, 77 + i, k, bytes(56))))
            p.add(ts + 0.015, ip(srv, cli, 1, icmp(0, 0, 77 + i, k, bytes(56))))
    for k in range(3):
        ts = t + 2.2 + k
        p.add(ts, ip(clients6[0], servers6[0], 1, icmp(128, 0, 9, k, bytes(32))))
        p.add(ts + 0.02, ip(servers6[0], clients6[0], 1, icmp(129, 0, 9, k, bytes(32))))
    p.write(out)


if __name__ == "__main__":
    main()
