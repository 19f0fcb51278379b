#!/usr/bin/env python3
"""Precision/recall of `accord detect c2` on the labelled captures in fixtures/telemetry,
beside a faithful re-implementation of RITA's beacon scoring on the same inputs.

Run through scripts/eval-detect. The detector never sees the ground truth: the label
columns (`label`, `detailedlabel`) are stripped into temporary copies before the
detector reads them; this script reads them itself only to compute the truth.

Truth (per capture, per external destination address reached by an internal host):
a destination is C2-positive when at least one of its flows from an internal host
carries a malicious label of the C2/botnet class:
  - 001 NjRAT:   label `Malicious`, detailedlabel `CC`
  - 009 Kovter:  label `Malicious` on http.log/ssl.log flows (NetflowLabeler marks every
                 flow of the infected host 192.168.1.113 Malicious, except Windows and DNS)
  - 008 mixed:   `External-Attack-to-Device` are inbound attacks, not C2: no positive
  - 002 portscan: unlabelled Nmap scans: no positive
Everything else reached from an internal host is a negative. Scores are per address
(a finding on any port of an address flags the address).
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import ipaddress

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures", "telemetry")
# The detector: the `detect_c2` example, or `accord --json detect c2` when ACCORD names
# the CLI binary (ACCORD=target/release/accord scripts/eval-detect).
DETECT = os.environ.get("DETECT_C2", os.path.join(ROOT, "target", "release", "examples", "detect_c2"))
ACCORD = os.environ.get("ACCORD")

# name, files, internal networks (what an operator knows of its own network), truth rule
CAPTURES = [
    ("001-njrat", ["stratosphere-001-njrat/conn.log.labeled"], None,
     lambda lab, det, f: lab == "Malicious" and det == "CC"),
    ("002-portscan", ["stratosphere-002-portscan/conn.log"], None, lambda lab, det, f: False),
    # The monitored device of CTU-Normal-40 has a public address: it is the internal net.
    ("008-mixed", ["stratosphere-008-mixed/conn.log.labeled"], ["147.32.81.167/32"],
     lambda lab, det, f: lab == "Malicious" and det != "External-Attack-to-Device"),
    ("009-kovter", ["stratosphere-009-kovter/dns.log.labeled",
                    "stratosphere-009-kovter/http.log.labeled",
                    "stratosphere-009-kovter/ssl.log.labeled"], None,
     lambda lab, det, f: lab == "Malicious" and ("http" in f or "ssl" in f)),
]

DEFAULT_INTERNAL = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]
LABEL_COLUMNS = ("label", "detailedlabel")


def nets(cidrs):
    return [ipaddress.ip_network(c, strict=False) for c in (cidrs or DEFAULT_INTERNAL)]


def inside(addr, ns):
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(a in n for n in ns if n.version == a.version)


def routable(addr):
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    if a.is_multicast or a.is_loopback or a.is_unspecified or a.is_link_local:
        return False
    return not (a.version == 4 and str(a).endswith(".255"))


def records(path):
    """Yields dicts of a Zeek TSV or JSON log (labels included: for truth only)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        fields = None
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("{"):
                yield json.loads(line)
            elif line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif line.startswith("#"):
                continue
            elif fields:
                yield dict(zip(fields, line.split("\t")))


def strip_labels(path, out_dir):
    """A copy of a Zeek TSV log without the label columns."""
    out = os.path.join(out_dir, os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path))
    keep = None
    with open(path, encoding="utf-8", errors="replace") as fh, open(out, "w") as w:
        for line in fh:
            if line.startswith("#fields") or line.startswith("#types"):
                tag, *cols = line.rstrip("\n").split("\t")
                if line.startswith("#fields"):
                    keep = [i for i, c in enumerate(cols) if c not in LABEL_COLUMNS]
                w.write("\t".join([tag] + [cols[i] for i in keep if i < len(cols)]) + "\n")
            elif line.startswith("#") or line.startswith("{") or keep is None:
                if line.startswith("{"):
                    d = json.loads(line)
                    for c in LABEL_COLUMNS:
                        d.pop(c, None)
                    line = json.dumps(d) + "\n"
                w.write(line)
            else:
                cols = line.rstrip("\n").split("\t")
                w.write("\t".join(cols[i] for i in keep if i < len(cols)) + "\n")
    return out


def num(v, default=0.0):
    try:
        x = float(v)
        return x if math.isfinite(x) else default
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- RITA baseline
# RITA (activecm/rita v4, pkg/beacon/analyzer.go) scores every (source, destination)
# pair with at least RITA_MIN_CONNS connections:
#   intervals: Bowley skew (1-|skew|), median absolute deviation about the median
#              (1 - MADM/30 s), connection count (conns / (span / median interval), <= 1)
#   sizes:     Bowley skew of bytes sent, MADM (1 - MADM/32 B), smallness (1 - mode/65535)
#   score = mean of the six. A pair is reported from RITA_THRESHOLD.
RITA_MIN_CONNS = 20
RITA_THRESHOLD = 0.7


def _q(sorted_vals, p):
    return sorted_vals[int(round(p * (len(sorted_vals) - 1)))]


def _bowley(vals):
    low, mid, high = _q(vals, 0.25), _q(vals, 0.5), _q(vals, 0.75)
    den = high - low
    if den != 0 and mid != low and mid != high:
        return (low + high - 2 * mid) / den
    return 0.0


def _madm(vals):
    mid = _q(vals, 0.5)
    devs = sorted(abs(v - mid) for v in vals)
    return _q(devs, 0.5)


def rita_score(ts, sizes):
    ts = sorted(ts)
    if len(ts) < RITA_MIN_CONNS:
        return None
    diffs = sorted(int(b) - int(a) for a, b in zip(ts, ts[1:]))
    sizes = sorted(int(s) for s in sizes)
    ts_skew = 1 - abs(_bowley(diffs))
    ts_madm = max(0.0, 1 - _madm(diffs) / 30.0)
    mid = _q(diffs, 0.5)
    span = ts[-1] - ts[0]
    ts_count = min(1.0, len(ts) / (span / mid)) if mid > 0 and span > 0 else 0.0
    ds_skew = 1 - abs(_bowley(sizes))
    ds_madm = max(0.0, 1 - _madm(sizes) / 32.0)
    counts = {}
    for s in sizes:
        counts[s] = counts.get(s, 0) + 1
    mode = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    ds_small = max(0.0, 1 - mode / 65535.0)
    return (ts_skew + ts_madm + ts_count + ds_skew + ds_madm + ds_small) / 6.0


def rita(paths, internal):
    """Flagged destination addresses of the RITA-style baseline. Connection events
    come from conn.log, or from http.log/ssl.log when a capture has no conn.log
    (bytes sent: request_body_len, 0 for TLS)."""
    pairs = {}
    has_conn = any("conn" in os.path.basename(p) for p in paths)
    for p in paths:
        base = os.path.basename(p)
        if "dns" in base or (has_conn and "conn" not in base):
            continue
        for r in records(p):
            o, d = r.get("id.orig_h"), r.get("id.resp_h")
            if not (inside(o, internal) and not inside(d, internal) and routable(d)):
                continue
            size = num(r.get("orig_bytes", r.get("request_body_len", 0)))
            e = pairs.setdefault((o, d), ([], []))
            e[0].append(num(r.get("ts")))
            e[1].append(size)
    return {d for (o, d), (ts, sz) in pairs.items()
            if (s := rita_score(ts, sz)) is not None and s >= RITA_THRESHOLD}


# ---------------------------------------------------------------- evaluation
def truth(paths, internal, rule):
    pos, universe = set(), set()
    for p in paths:
        for r in records(p):
            o, d = r.get("id.orig_h"), r.get("id.resp_h")
            if not (inside(o, internal) and not inside(d, internal) and routable(d)):
                continue
            universe.add(d)
            if rule(r.get("label", ""), r.get("detailedlabel", ""), os.path.basename(p)):
                pos.add(d)
    return pos, universe


def ours(paths, internal_cidrs, tmp):
    stripped = [strip_labels(p, tmp) for p in paths]
    args = [ACCORD, "--json", "detect", "c2"] if ACCORD else [DETECT]
    for c in internal_cidrs or []:
        args += ["--internal", c]
    out = subprocess.run(args + stripped, check=True, capture_output=True, text=True).stdout
    return {f["destination"] for f in json.loads(out)}


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main():
    rows, tot = [], {"ours": [0, 0, 0], "rita": [0, 0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        for name, files, cidrs, rule in CAPTURES:
            paths = [os.path.join(FIX, f) for f in files]
            internal = nets(cidrs)
            pos, universe = truth(paths, internal, rule)
            for who, flagged in (("ours", ours(paths, cidrs, tmp)), ("rita", rita(paths, internal))):
                tp, fp, fn = len(flagged & pos), len(flagged - pos), len(pos - flagged)
                for i, v in enumerate((tp, fp, fn)):
                    tot[who][i] += v
                rows.append((name, who, len(universe), len(pos), len(flagged), tp, fp, fn, *prf(tp, fp, fn)))
    for who in ("ours", "rita"):
        tp, fp, fn = tot[who]
        rows.append(("overall", who, "", tp + fn, tp + fp, tp, fp, fn, *prf(tp, fp, fn)))
    hdr = ("capture", "detector", "dests", "C2", "flagged", "TP", "FP", "FN", "precision", "recall", "F1")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in rows:
        print("| " + " | ".join(f"{x:.2f}" if isinstance(x, float) else str(x) for x in r) + " |")


def bench(path):
    """`--rita FILE`: the baseline alone over one conn.log, timed (scripts/bench-detect)."""
    import time
    t = time.perf_counter()
    n = sum(1 for line in open(path, encoding="utf-8", errors="replace") if not line.startswith("#"))
    flagged = rita([path], nets(None))
    secs = time.perf_counter() - t
    print(f"records {n} flagged {len(flagged)} seconds {secs:.3f} records/s {n / secs:.0f}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--rita":
        sys.exit(bench(sys.argv[2]))
    sys.exit(main())
