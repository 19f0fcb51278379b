#!/usr/bin/env python3
"""Compare the flows `accord collect --flows` decoded with nfdump's decoding (-o json)
of the same NetFlow/IPFIX stream.

Usage: netflow_compare.py OURS.csv NFDUMP.json [--known-nfdump-bug NAME]...

Each flow is reduced to (start ms, end ms, source, destination, ports, protocol,
packets, bytes); the two multisets must be equal. Prints the differences (at most 20
each way) and exits 1 if there are any.

Known bugs of Debian bookworm's nfdump 1.7.1, corrected on its side only when named
(and said so in the output):
  swapped-uptime-times  IPFIX flowStartSysUpTime/flowEndSysUpTime (22/21) with
                        systemInitTimeMilliseconds come out as last/first, interchanged
                        (phaag/nfdump#408, fixed upstream in 2023 after 1.7.1).
  v9-icmp6-type         NetFlow v9 element 139 (icmpTypeCodeIPv6) is not decoded: the
                        ICMPv6 type/code is shown as port 0 (IPFIX decodes it).
"""
import collections
import csv
import datetime
import ipaddress
import json
import sys


def ms_of_nfdump(text):
    # "2024-03-01T12:00:00.614", UTC (nfdump run with TZ=UTC)
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(round(t.timestamp() * 1000))


def ms_of_ours(text):
    sec, _, frac = text.partition(".")
    return int(sec) * 1000 + int((frac + "000000")[:6]) // 1000


def ours(path):
    out = collections.Counter()
    with open(path) as f:
        for r in csv.DictReader(f):
            out[(ms_of_ours(r["ts"]), ms_of_ours(r["te"]), str(ipaddress.ip_address(r["src_ip"])),
                 str(ipaddress.ip_address(r["dst_ip"])), int(r["src_port"]), int(r["dst_port"]),
                 int(r["proto"]), int(r["src_pkts"]), int(r["src_bytes"]))] += 1
    return out


def theirs(path, known):
    out = collections.Counter()
    with open(path) as f:
        text = f.read().strip()
    records = json.loads(text) if text else []
    for r in records:
        if r.get("type") != "FLOW":
            continue
        src = r.get("src4_addr") or r.get("src6_addr")
        dst = r.get("dst4_addr") or r.get("dst6_addr")
        dport = r.get("dst_port", 0)
        if r.get("proto") in (1, 58) and "icmp_type" in r:
            dport = int(r["icmp_type"]) * 256 + int(r.get("icmp_code", 0))
        first, last = ms_of_nfdump(r["first"]), ms_of_nfdump(r["last"])
        if "swapped-uptime-times" in known:
            first, last = last, first
        out[(first, last, str(ipaddress.ip_address(src)),
             str(ipaddress.ip_address(dst)), int(r.get("src_port", 0)), int(dport),
             int(r["proto"]), int(r["in_packets"]), int(r["in_bytes"]))] += 1
    return out


def main():
    args = sys.argv[1:]
    known = [args[i + 1] for i, a in enumerate(args) if a == "--known-nfdump-bug"]
    a, b = ours(args[0]), theirs(args[1], known)
    if "v9-icmp6-type" in known:
        # Compare ICMPv6 flows without the type/code nfdump 1.7.1 does not decode in v9.
        a = collections.Counter({(k[:5] + (0,) + k[6:] if k[6] == 58 else k): n for k, n in a.items()})
    for k in known:
        print(f"known nfdump bug corrected on its side: {k}")
    only_a, only_b = a - b, b - a
    print(f"accord: {sum(a.values())} flows, nfdump: {sum(b.values())} flows, "
          f"equal: {sum((a & b).values())}, only accord: {sum(only_a.values())}, "
          f"only nfdump: {sum(only_b.values())}")
    for k in list(only_a.elements())[:20]:
        print("  only accord:", k)
    for k in list(only_b.elements())[:20]:
        print("  only nfdump:", k)
    if not a or only_a or only_b:
        sys.exit(1)


if __name__ == "__main__":
    main()
