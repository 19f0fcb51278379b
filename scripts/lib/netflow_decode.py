#!/usr/bin/env python3
"""Python baseline for scripts/bench-collect: a straightforward NetFlow v5 / v9 / IPFIX
decoder with the struct module (template cache per exporter and domain, the same
fields as accord's decoder: addresses, ports, protocol, TCP flags, packets, bytes,
start/end times), decoding the datagrams bench_netflow wrote.

Usage: netflow_decode.py FILE SECONDS
Decodes the file's datagrams in a loop for about SECONDS and prints
`records seconds records/s`.
"""
import ipaddress
import struct
import sys
import time

V5_HEADER = struct.Struct("!HHIIIIBBH")
V5_RECORD = struct.Struct("!4s4s4sHHIIIIHHBBBBHHBBH")


class Decoder:
    def __init__(self):
        self.templates = {}

    def decode(self, data, exporter="192.0.2.1"):
        version = struct.unpack_from("!H", data)[0]
        if version == 5:
            return self.v5(data)
        if version == 9:
            return self.sets(data, 20, 9, exporter)
        if version == 10:
            return self.sets(data, 16, 10, exporter)
        return []

    def v5(self, data):
        _, count, uptime, secs, nsecs, seq, _, _, sampling = V5_HEADER.unpack_from(data)
        boot = secs * 1000 + nsecs // 1000000 - uptime
        out = []
        for i in range(count):
            r = V5_RECORD.unpack_from(data, 24 + 48 * i)
            out.append({
                "src": ipaddress.IPv4Address(r[0]), "dst": ipaddress.IPv4Address(r[1]),
                "packets": r[5], "bytes": r[6], "start": boot + r[7], "end": boot + r[8],
                "src_port": r[9], "dst_port": r[10], "tcp_flags": r[12], "proto": r[13],
            })
        return out

    def sets(self, data, at, version, exporter):
        if version == 9:
            uptime, secs, seq, domain = struct.unpack_from("!IIII", data, 4)
            boot = secs * 1000 - uptime
        else:
            length, secs, seq, domain = struct.unpack_from("!HIII", data, 2)
            boot = None
        key = (exporter, version, domain)
        templates = self.templates.setdefault(key, {})
        out = []
        while at + 4 <= len(data):
            sid, slen = struct.unpack_from("!HH", data, at)
            body = data[at + 4:at + slen]
            at += slen
            if sid in (0, 2):
                i = 0
                while i + 4 <= len(body):
                    tid, count = struct.unpack_from("!HH", body, i)
                    i += 4
                    fields = []
                    for _ in range(count):
                        ftype, flen = struct.unpack_from("!HH", body, i)
                        i += 4
                        fields.append((ftype, flen))
                    templates[tid] = fields
            elif sid >= 256 and sid in templates:
                fields = templates[sid]
                size = sum(f[1] for f in fields)
                i = 0
                while i + size <= len(body):
                    rec = {}
                    for ftype, flen in fields:
                        v = body[i:i + flen]
                        i += flen
                        if ftype in (8, 12, 27, 28):
                            rec[ftype] = ipaddress.ip_address(v)
                        else:
                            rec[ftype] = int.from_bytes(v, "big")
                    if 152 in rec:
                        start, end = rec[152], rec[153]
                    else:
                        start, end = boot + rec.get(22, 0), boot + rec.get(21, 0)
                    out.append({
                        "src": rec.get(8) or rec.get(27), "dst": rec.get(12) or rec.get(28),
                        "src_port": rec.get(7, 0), "dst_port": rec.get(11, 0),
                        "proto": rec.get(4, 0), "tcp_flags": rec.get(6, 0),
                        "packets": rec.get(2, 0), "bytes": rec.get(1, 0),
                        "start": start, "end": end,
                    })
        return out


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    datagrams = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        (n,) = struct.unpack_from("!H", data, i)
        datagrams.append(data[i + 2:i + 2 + n])
        i += 2 + n
    d = Decoder()
    records = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for dg in datagrams:
            records += len(d.decode(dg))
    secs = time.perf_counter() - started
    print(f"{records} {secs:.3f} {records / secs:.0f}")


if __name__ == "__main__":
    main()
