#!/usr/bin/env python3
"""Evaluation of the DDoS detector (accord_detect::ddos) beside a FastNetMon-style
baseline, on real benign captures with seeded synthetic attacks injected.

There is no labelled DDoS capture in the project, so the ground truth is made here:

* Background: the real Zeek conn.log of fixtures/telemetry/stratosphere-008-mixed
  (28 h of one lab host at 147.32.81.167: benign traffic and 4,201 internet scan and
  attack flows against it; its label columns are never read, by either detector).
* Injected attacks (positives), one per run, at a seeded random time inside the
  capture, 60 s long, at three intensities (LEVELS: packets per second of the attack
  and its number of participants):
    inbound  syn-flood       spoofed random public sources -> 147.32.81.167:80/443,
                             SYN-only flows of 1-3 packets (Zeek S0, no reply);
    inbound  syn-flood-on-busy-server
                             the same against 147.32.81.80 while it serves 2,000
                             completed connections/s (10% half-open): the flood is
                             most of its flows only at the higher intensities;
    inbound  udp-reflection  reflectors (source port 53/123/11211/1900/389 by seed)
                             -> the victim's random ports, 20-packet flows of the
                             port's typical response size, the victim never asked;
                             half the records logged as Zeek flips them (victim as
                             originator with no packets);
    inbound  icmp-flood      public sources -> victim, 10-packet ICMP flows;
    inbound  udp-flood       public sources -> victim random ports, unanswered;
    outbound syn-flood / udp-flood
                             internal bots 147.32.81.10.. (synthetic) -> one public
                             target, SYN-only or unanswered UDP.
* Injected benign heavy traffic (negatives): a 2 GB CDN download to one host, 200
  hosts fetching an update, a busy internal web server (2,000 connections/s, 10%
  half-open), an internal resolver (3,000 answered queries/s) and an internal
  authoritative server answering 2,000 resolvers.
* Unmodified captures: the 008 capture, and the port scan capture
  (fixtures/telemetry/stratosphere-002-portscan: one host nmap-scanning three
  networks) with three choices of internal networks, so that the scan is internal,
  outbound and inbound in turn.

A finding is a true positive when its direction and vector are the injected attack's
and its time overlaps the attack (for outbound, its target is the attacked address);
every other finding is a false positive of its vector.

Baseline (FastNetMon-style, the common open tool's method): per internal host,
packets and bytes in and out per 10 s bucket (the same buckets, the same spreading of
long flows); a host over 1,000 pps or 10 Mbit/s in a bucket is reported, its attack
type from the bucket's dominant protocol (TCP -> syn-flood, UDP -> udp-reflection if
the heaviest UDP source port is a reflector port else udp-flood, ICMP -> icmp-flood).
Its thresholds are the detector's defaults, so only the method differs.
"""

import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "examples", "ddos")
# `accord --json detect ddos` instead of the example when ACCORD names the CLI binary
# (ACCORD=target/release/accord scripts/eval-ddos): the same detector through the node.
ACCORD = os.environ.get("ACCORD")
BG = os.path.join(ROOT, "fixtures/telemetry/stratosphere-008-mixed/conn.log.labeled")
SCAN = os.path.join(ROOT, "fixtures/telemetry/stratosphere-002-portscan/conn.log")
INTERNAL = "147.32.81.0/24"
VICTIM = "147.32.81.167"
BUCKET = 10
PPS, BPS = 1000.0, 10e6
DURATION = 60
SEEDS = [1, 2, 3]
# level -> (packets per second, participants)
LEVELS = {
    "low": (300, 0.2),
    "mid": (2000, 1.0),
    "high": (10000, 4.0),
}
BASE_PARTICIPANTS = {
    "syn-flood": 5000,
    "syn-flood-on-busy-server": 5000,
    "udp-reflection": 50,
    "icmp-flood": 500,
    "udp-flood": 500,
    "out-syn-flood": 50,
    "out-udp-flood": 50,
}
REFLECTOR = {53: 1400, 123: 468, 11211: 1400, 1900: 300, 389: 1400}
REFLECTOR_PORTS = {17, 19, 53, 69, 111, 123, 137, 161, 389, 1900, 3283, 3702, 5353,
                   5683, 10001, 11211, 27015, 37810, 520}

FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
          "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "orig_pkts",
          "resp_pkts"]
HEADER = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
          "#path\tconn\n#fields\t" + "\t".join(FIELDS) + "\n#types\ttime\tstring\taddr\t"
          "port\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tcount\n")


# A row: (ts, orig, orig_p, resp, resp_p, proto, duration, orig_bytes, resp_bytes,
#         state, orig_pkts, resp_pkts); resp counts None when unknown.

def public(rng):
    while True:
        a = rng.getrandbits(32)
        o = a >> 24
        if o in (0, 10, 127, 100, 172, 192, 147) or o >= 224:
            continue
        return "%d.%d.%d.%d" % (o, (a >> 16) & 255, (a >> 8) & 255, a & 255)


def read_zeek(path):
    """Rows of a Zeek conn.log, TSV or JSON (only the columns the detector reads)."""
    rows = []
    with open(path) as f:
        first = f.readline()
        f.seek(0)
        if first.startswith("{"):
            for line in f:
                d = json.loads(line)
                rows.append((d["ts"], d["id.orig_h"], d.get("id.orig_p"), d["id.resp_h"],
                             d.get("id.resp_p"), d.get("proto"), d.get("duration") or 0.0,
                             d.get("orig_bytes") or 0, d.get("resp_bytes") or 0,
                             d.get("conn_state", "-"), d.get("orig_pkts") or 0,
                             d.get("resp_pkts") or 0))
            return rows
        fields = None
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
                continue
            if line.startswith("#") or not line:
                continue
            v = dict(zip(fields, line.split("\t")))

            def num(k, cast=int):
                x = v.get(k, "-")
                return cast(x) if x not in ("-", "") else 0
            rows.append((float(v["ts"]), v["id.orig_h"], num("id.orig_p"), v["id.resp_h"],
                         num("id.resp_p"), v["proto"], num("duration", float),
                         num("orig_bytes"), num("resp_bytes"), v.get("conn_state", "-"),
                         num("orig_pkts"), num("resp_pkts")))
    return rows


def write_zeek(path, rows):
    with open(path, "w") as f:
        f.write(HEADER)
        for i, r in enumerate(rows):
            ts, o, op, re_, rp, pr, dur, ob, rb, st, opk, rpk = r
            f.write("%.6f\tC%d\t%s\t%d\t%s\t%d\t%s\t-\t%.6f\t%d\t%d\t%s\t%d\t%d\n"
                    % (ts, i, o, op, re_, rp, pr, dur, ob, rb, st, opk, rpk))


# --- generators ---------------------------------------------------------------

def spread(rng, start, n):
    return sorted(start + rng.random() * DURATION for _ in range(n))


def gen_attack(kind, level, rng, start):
    pps, pmul = LEVELS[level]
    parts = max(2, int(BASE_PARTICIPANTS[kind] * pmul))
    total = pps * DURATION
    rows, truth = [], {}
    if kind in ("syn-flood", "syn-flood-on-busy-server"):
        victim = VICTIM
        if kind == "syn-flood-on-busy-server":
            victim = "147.32.81.80"
            rows += gen_benign("busy-web-server", rng, start)
        srcs = [public(rng) for _ in range(parts)]
        n = total // 2
        for i, ts in enumerate(spread(rng, start, n)):
            k = rng.choice((1, 2, 3))
            rows.append((ts, srcs[i % parts], rng.randrange(1024, 65535), victim,
                         rng.choice((80, 443)), "tcp", 3.0 if k > 1 else 0.0, 0, 0, "S0", k, 0))
        truth = dict(direction="inbound", vector="syn-flood", target=None)
    elif kind == "udp-reflection":
        port = list(REFLECTOR)[rng.randrange(len(REFLECTOR))]
        size = REFLECTOR[port]
        refl = [public(rng) for _ in range(parts)]
        n = total // 20
        for i, ts in enumerate(spread(rng, start, n)):
            r, vp = refl[i % parts], rng.randrange(1024, 65535)
            if i % 2:
                rows.append((ts, r, port, VICTIM, vp, "udp", 1.0, 20 * size, 0, "S0", 20, 0))
            else:  # Zeek flipped it: the victim as originator that sent nothing
                rows.append((ts, VICTIM, vp, r, port, "udp", 1.0, 0, 20 * size, "SHR", 0, 20))
        truth = dict(direction="inbound", vector="udp-reflection", target=None, port=port)
    elif kind == "icmp-flood":
        srcs = [public(rng) for _ in range(parts)]
        for i, ts in enumerate(spread(rng, start, total // 10)):
            rows.append((ts, srcs[i % parts], 8, VICTIM, 0, "icmp", 1.0, 10 * 1000, 0, "OTH", 10, 0))
        truth = dict(direction="inbound", vector="icmp-flood", target=None)
    elif kind == "udp-flood":
        srcs = [public(rng) for _ in range(parts)]
        for i, ts in enumerate(spread(rng, start, total // 20)):
            rows.append((ts, srcs[i % parts], rng.randrange(1024, 65535), VICTIM,
                         rng.randrange(1, 65535), "udp", 1.0, 20 * 512, 0, "S0", 20, 0))
        truth = dict(direction="inbound", vector="udp-flood", target=None)
    elif kind in ("out-syn-flood", "out-udp-flood"):
        bots = ["147.32.81.%d" % (10 + i % 240) if i < 240 else "147.32.80.%d" % (i - 230)
                for i in range(parts)]
        target = public(rng)
        syn = kind == "out-syn-flood"
        per = 2 if syn else 20
        for i, ts in enumerate(spread(rng, start, total // per)):
            if syn:
                rows.append((ts, bots[i % parts], rng.randrange(1024, 65535), target, 80,
                             "tcp", 3.0, 0, 0, "S0", 2, 0))
            else:
                rows.append((ts, bots[i % parts], rng.randrange(1024, 65535), target,
                             rng.choice((53, 80, 443)), "udp", 1.0, 20 * 512, 0, "S0", 20, 0))
        truth = dict(direction="outbound", vector="syn-flood" if syn else "udp-flood",
                     target=target, bots=set(bots))
    truth.update(start=start, end=start + DURATION, kind=kind, level=level)
    return rows, truth


def gen_benign(kind, rng, start):
    rows = []
    if kind == "cdn-download":
        cdn = public(rng)
        # 2 GB to one host in 50 parallel connections over 60 s (~270 Mbit/s).
        for i in range(50):
            rows.append((start + i * 0.1, VICTIM, 50000 + i, cdn, 443, "tcp", 59.0,
                         200_000, 40_000_000, "SF", 15_000, 28_000))
        # 200 hosts fetching a 50 MB update from one CDN address.
        for h in range(200):
            rows.append((start + rng.random() * 30, "147.32.81.%d" % (10 + h), 40000 + h, cdn,
                         443, "tcp", 20.0, 50_000, 50_000_000, "SF", 4_000, 35_000))
    elif kind == "busy-web-server":
        web = "147.32.81.80"
        clients = [public(rng) for _ in range(5000)]
        for i, ts in enumerate(spread(rng, start, 2000 * DURATION)):
            c = clients[i % 5000]
            if i % 10 == 0:
                rows.append((ts, c, rng.randrange(1024, 65535), web, 443, "tcp", 3.0, 0, 0, "S0", 2, 0))
            else:
                rows.append((ts, c, rng.randrange(1024, 65535), web, 443, "tcp", 0.4, 700,
                             18_000, "SF", 9, 15))
    elif kind == "resolver":
        res = "147.32.81.53"
        servers = [public(rng) for _ in range(500)]
        for i, ts in enumerate(spread(rng, start, 3000 * DURATION)):
            rows.append((ts, res, rng.randrange(1024, 65535), servers[i % 500], 53, "udp", 0.03,
                         40, 1200, "SF", 1, 1))
    elif kind == "authoritative-dns":
        ns = "147.32.81.2"
        resolvers = [public(rng) for _ in range(2000)]
        for i, ts in enumerate(spread(rng, start, 3000 * DURATION)):
            rows.append((ts, resolvers[i % 2000], rng.randrange(1024, 65535), ns, 53, "udp",
                         0.001, 45, 400, "SF", 1, 1))
    elif kind == "outbound-crowd":
        svc = public(rng)
        for i, ts in enumerate(spread(rng, start, 3000 * DURATION)):
            rows.append((ts, "147.32.81.%d" % (10 + i % 200), rng.randrange(1024, 65535), svc,
                         443, "tcp", 0.5, 900, 9_000, "SF", 10, 12))
    return rows


# --- the two detectors ---------------------------------------------------------

def run_accord(paths, internal):
    args = [ACCORD, "--json", "detect", "ddos"] if ACCORD else [BIN]
    for c in internal:
        args += ["--internal", c]
    out = subprocess.run(args + paths, check=True, capture_output=True, text=True).stdout
    found = []
    for f in json.loads(out):
        found.append(dict(direction=f["direction"], vector=f["vector"], target=f["target"],
                          start=parse_ts(f["start"]), end=parse_ts(f["end"])))
    return found


def parse_ts(s):
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def in_net(addr, nets):
    import ipaddress
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(a in n for n in nets)


def run_baseline(rows, internal):
    """FastNetMon-style per-host thresholds, per 10 s bucket, in and out."""
    import ipaddress
    nets = [ipaddress.ip_network(c, strict=False) for c in internal]
    memo = {}

    def inside(a):
        v = memo.get(a)
        if v is None:
            v = memo[a] = in_net(a, nets)
        return v
    # (host, dir, bucket) -> [pkts, bytes, {proto: pkts}, {udp src port: pkts}]
    acc = collections.defaultdict(lambda: [0, 0, collections.Counter(), collections.Counter()])

    def add(host, d, ts, dur, pkts, byts, proto, sport):
        if pkts <= 0 and byts <= 0:
            return
        b0 = int(ts // BUCKET)
        b1 = int((ts + max(dur, 0.0)) // BUCKET)
        n = max(1, min(b1 - b0 + 1, 60))
        for k in range(n):
            a = acc[(host, d, b0 + k)]
            a[0] += pkts / n
            a[1] += byts / n
            a[2][proto] += pkts / n
            if proto == "udp":
                a[3][sport] += pkts / n
    for ts, o, op, r, rp, pr, dur, ob, rb, st, opk, rpk in rows:
        io, ir = inside(o), inside(r)
        if ir and not io:
            add(r, "inbound", ts, dur, opk, ob, pr, op)
        if io and not ir:
            add(o, "outbound", ts, dur, opk, ob, pr, op)
        if io and not ir:
            add(o, "inbound", ts, dur, rpk, rb, pr, rp)
        if ir and not io:
            add(r, "outbound", ts, dur, rpk, rb, pr, rp)
    flagged = collections.defaultdict(list)
    for (host, d, b), (p, by, protos, ports) in acc.items():
        if p / BUCKET >= PPS or by * 8 / BUCKET >= BPS:
            proto = protos.most_common(1)[0][0] if protos else "other"
            if proto == "tcp":
                v = "syn-flood"
            elif proto == "udp":
                top = ports.most_common(1)[0][0] if ports else None
                v = "udp-reflection" if top in REFLECTOR_PORTS else "udp-flood"
            elif proto == "icmp":
                v = "icmp-flood"
            else:
                v = "volumetric"
            flagged[(host, d, v)].append(b)
    found = []
    for (host, d, v), bs in flagged.items():
        bs.sort()
        s = bs[0]
        for prev, cur in zip(bs, bs[1:] + [None]):
            if cur is None or cur > prev + 1:
                found.append(dict(direction=d, vector=v, host=host, start=s * BUCKET,
                                  end=(prev + 1) * BUCKET))
                s = cur
    return found


def matches(f, t, baseline):
    if f["direction"] != t["direction"] or f["vector"] != t["vector"]:
        return False
    if f["end"] < t["start"] - BUCKET or f["start"] > t["end"] + BUCKET:
        return False
    if t["direction"] == "outbound":
        if baseline:
            return f["host"] in t["bots"]
        return f["target"] == t["target"]
    return True


# --- the evaluation ----------------------------------------------------------------

def main():
    t_start = time.time()
    bg = read_zeek(BG)
    lo, hi = min(r[0] for r in bg), max(r[0] for r in bg)
    names = ["accord", "baseline"]
    tp = {n: collections.Counter() for n in names}
    fn = {n: collections.Counter() for n in names}
    fp = {n: collections.Counter() for n in names}
    by_level = {n: collections.defaultdict(lambda: [0, 0]) for n in names}
    fp_where = {n: collections.Counter() for n in names}
    fp_runs = {n: collections.Counter() for n in names}
    runs_of = collections.Counter()
    kinds = list(BASE_PARTICIPANTS)
    benign = ["cdn-download", "busy-web-server", "resolver", "authoritative-dns", "outbound-crowd"]
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "inject.log")

        def evaluate(rows, truth, label, paths, internal, all_rows):
            nonlocal runs
            runs += 1
            if rows is not None:
                write_zeek(path, rows)
            res = {"accord": run_accord(paths, internal),
                   "baseline": run_baseline(all_rows, internal)}
            runs_of[label] += 1
            for n, found in res.items():
                any_fp = False
                hit = [f for f in found if truth is not None and matches(f, truth, n == "baseline")]
                key = None
                if truth is not None:
                    key = ("outbound " if truth["direction"] == "outbound" else "inbound ") + truth["vector"]
                    if hit:
                        tp[n][key] += 1
                    else:
                        fn[n][key] += 1
                    by_level[n][(truth["kind"], truth["level"])][0 if hit else 1] += 1
                for f in found:
                    if f in hit:
                        continue
                    fkey = ("outbound " if f["direction"] == "outbound" else "inbound ") + f["vector"]
                    fp[n][fkey] += 1
                    fp_where[n][label] += 1
                    any_fp = True
                if any_fp:
                    fp_runs[n][label] += 1

        # Unmodified captures.
        evaluate(None, None, "008-mixed (unmodified)", [BG], [INTERNAL], bg)
        scan = read_zeek(SCAN)
        for internal in (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ["172.16.1.0/24"],
                         ["10.0.2.0/24", "192.168.1.0/24"]):
            evaluate(None, None, "002-portscan (unmodified)", [SCAN], internal, scan)
        for seed in SEEDS:
            for kind in kinds:
                for level in LEVELS:
                    rng = random.Random(f"{seed}-{kind}-{level}")
                    start = lo + rng.random() * (hi - lo - 2 * DURATION)
                    rows, truth = gen_attack(kind, level, rng, start)
                    evaluate(rows, truth, kind, [BG, path], [INTERNAL], bg + rows)
            for kind in benign:
                rng = random.Random(f"{seed}-{kind}")
                start = lo + rng.random() * (hi - lo - 2 * DURATION)
                rows = gen_benign(kind, rng, start)
                evaluate(rows, None, kind, [BG, path], [INTERNAL], bg + rows)

    def prf(t, f_p, f_n):
        p = t / (t + f_p) if t + f_p else float("nan")
        r = t / (t + f_n) if t + f_n else float("nan")
        f1 = 2 * p * r / (p + r) if p + r and p == p and r == r else float("nan")
        return p, r, f1

    def fmt(x):
        return "—" if x != x else "%.2f" % x

    keys = sorted(set(tp["accord"]) | set(fn["accord"]) | set(fp["accord"]) | set(fp["baseline"])
                  | set(tp["baseline"]) | set(fn["baseline"]))
    print("%d runs (%d seeds x %d attack kinds x %d intensities, %d benign kinds x %d seeds, "
          "4 unmodified), %.0f s\n" % (runs, len(SEEDS), len(kinds), len(LEVELS), len(benign),
                                      len(SEEDS), time.time() - t_start))
    print("| vector | accord TP/FN/FP | accord P / R / F1 | baseline TP/FN/FP | baseline P / R / F1 |")
    print("|---|---|---|---|---|")
    tot = {n: [0, 0, 0] for n in names}
    for k in keys:
        cells = []
        for n in names:
            t, f_n, f_p = tp[n][k], fn[n][k], fp[n][k]
            tot[n][0] += t
            tot[n][1] += f_n
            tot[n][2] += f_p
            p, r, f1 = prf(t, f_p, f_n)
            cells.append("%d/%d/%d" % (t, f_n, f_p))
            cells.append("%s / %s / %s" % (fmt(p), fmt(r), fmt(f1)))
        print("| %s | %s |" % (k, " | ".join(cells)))
    cells = []
    for n in names:
        t, f_n, f_p = tot[n]
        p, r, f1 = prf(t, f_p, f_n)
        cells += ["%d/%d/%d" % (t, f_n, f_p), "**%s / %s / %s**" % (fmt(p), fmt(r), fmt(f1))]
    print("| **all** | %s |" % " | ".join(cells))
    # Recall over the intensities at or above the thresholds (mid, high): the low
    # intensity is under both detectors' 1,000 pps / 10 Mbit/s by construction.
    cells = []
    for n in names:
        d = sum(v[0] for (k, lv), v in by_level[n].items() if lv != "low")
        m = sum(v[1] for (k, lv), v in by_level[n].items() if lv != "low")
        cells.append("%d/%d detected" % (d, d + m))
        cells.append("R = %s" % fmt(d / (d + m) if d + m else float("nan")))
    print("| all, mid and high intensities | %s |" % " | ".join(cells))
    print("\nRecall by intensity (detected / injected; low = %d pps, mid = %d pps, high = %d pps, "
          "participants x0.2 / x1 / x4 of %s):\n" % (LEVELS["low"][0], LEVELS["mid"][0],
                                                     LEVELS["high"][0],
                                                     ", ".join("%s %d" % kv for kv in BASE_PARTICIPANTS.items())))
    print("| attack | accord low | accord mid | accord high | baseline low | baseline mid | baseline high |")
    print("|---|---|---|---|---|---|---|")
    for k in sorted({k for (k, _) in by_level["accord"]}):
        cells = []
        for n in names:
            for lv in LEVELS:
                d, m = by_level[n][(k, lv)]
                cells.append("%d/%d" % (d, d + m))
        print("| %s | %s |" % (k, " | ".join(cells)))
    print("\nFalse positives by scenario (findings; runs with any false positive / runs):\n")
    print("| scenario | accord | baseline |")
    print("|---|---|---|")
    labels = ["008-mixed (unmodified)", "002-portscan (unmodified)"] + benign + kinds
    for lb in labels:
        print("| %s | %d (%d/%d runs) | %d (%d/%d runs) |" % (
            lb, fp_where["accord"][lb], fp_runs["accord"][lb], runs_of[lb],
            fp_where["baseline"][lb], fp_runs["baseline"][lb], runs_of[lb]))


if __name__ == "__main__":
    sys.exit(main())
