#!/usr/bin/env python3
"""Country/ASN trends (`accord trends --by country|asn`) against an independent
computation: pandas and the MaxMind reader (PyPI maxminddb) over the corpus files,
never over Accord's own enrichment.

    trends_geo.py make DIR            # DIR/{country,asn}.mmdb, DIR/part{1,2}/<provider>.json
    trends_geo.py check DIR ANSWERS STAGE

The test databases are written with mmdb-writer through make_hub_mmdb.write (the
hub's fixture writer); networks in 198.18.0.0/15 (RFC 2544) and 2001:db8::/32, some
addresses outside every network. The corpus: indicators on one or several addresses
(OR, AND of observations, IN, CIDR, IPv6, a URL host, network-traffic refs, a domain
only), later versions with other addresses, older versions sent late (part 2, so the
first version moves), infrastructure, sightings of indicators of either provider, of
targets that arrive later (part 2) and of absent ones. Each id is sent by one provider
only: never the same id+version from two providers (the case another branch fixes).

STAGE: 1 (part 1 ingested, then `accord enrich`), 2 (part 2 ingested since: the
query adds it to the kept cells; its addresses not in part 1 are not located yet,
since only `accord enrich` locates addresses), 3 (`accord enrich` again).
The rule (crates/node/src/located.rs): an id counts by its first version (earliest
`modified`), an indicator in every country (AS) of its addresses, a sighting where
the first version of what it sights is, infrastructure (no addresses of its own) and
anything nowhere under `unknown`."""
import datetime
import ipaddress
import json
import os
import random
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NETWORKS = [
    ("198.18.0.0/26", "MY", 4788, "TM Net"),
    ("198.18.0.64/26", "MY", 38466, "U Mobile"),
    ("198.18.0.128/25", "SG", 4773, "MobileOne"),
    ("198.18.1.0/24", "NL", 1136, "KPN"),
    ("198.18.2.0/25", "US", 64500, "Example Transit"),
    ("198.18.2.128/25", "DE", None, None),
    ("198.18.3.0/24", None, 64501, "Example Carrier NAT"),
    ("2001:db8:1::/48", "MY", 4788, "TM Net"),
    ("2001:db8:2::/48", "DE", 3320, "Deutsche Telekom"),
]
DAYS = 56
PROVIDERS = ["geo0", "geo1"]


def stamp(day, sec):
    base = 1767571200 + day * 86400 + sec  # 2026-01-05, a Monday
    return datetime.datetime.fromtimestamp(base, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make(out):
    from make_hub_mmdb import write

    write(f"{out}/country.mmdb",
          [(n, {"country": {"iso_code": c, "names": {"en": c}}}) for n, c, _, _ in NETWORKS if c],
          ip_version=6, ipv4_compatible=True, database_type="Accord-Test-Country", languages=["en"],
          description={"en": "interop-trends country"})
    from mmdb_writer import MmdbU32
    write(f"{out}/asn.mmdb",
          [(n, {"autonomous_system_number": MmdbU32(a), "autonomous_system_organization": o})
           for n, _, a, o in NETWORKS if a],
          ip_version=6, ipv4_compatible=True, database_type="Accord-Test-ASN", languages=["en"],
          description={"en": "interop-trends ASN"})
    rng = random.Random(11)
    uid = lambda kind: f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    v4 = lambda: f"198.18.{rng.randrange(5)}.{rng.randrange(256)}"  # 198.18.4.x: nowhere
    v6 = lambda: f"2001:db8:{rng.choice([1, 2, 9])}::{rng.randrange(1, 4096):x}"

    def pattern():
        k = rng.randrange(9)
        a, b, c = v4(), v4(), v4()
        return [f"[ipv4-addr:value = '{a}']",
                f"[ipv4-addr:value = '{a}' OR ipv4-addr:value = '{b}']",
                f"[ipv4-addr:value = '{a}'] AND [network-traffic:dst_ref.value = '{b}']",
                f"[ipv4-addr:value IN ('{a}', '{b}', '{c}')]",
                f"[ipv4-addr:value = '{a}/28']",
                f"[ipv6-addr:value = '{v6()}']",
                f"[url:value = 'http://{a}/gate.php']",
                f"[domain-name:value = 'c2-{rng.randrange(99)}.example-bad.net']",
                f"[ipv4-addr:value = '{a}' AND ipv6-addr:value = '{v6()}']"][k]

    parts = {1: {p: [] for p in PROVIDERS}, 2: {p: [] for p in PROVIDERS}}
    indicators = {1: [], 2: []}
    for p in PROVIDERS:
        for i in range(300):
            part = 1 if rng.random() < 0.6 else 2
            day = rng.randrange(DAYS)
            t = stamp(day, rng.randrange(80000))
            iid = uid("indicator")
            base = {"type": "indicator", "spec_version": "2.1", "id": iid, "created": t,
                    "pattern_type": "stix", "valid_from": t}
            r = rng.random()
            if r < 0.15:  # a later version with other addresses (same part or part 2)
                parts[part][p].append(dict(base, modified=t, pattern=pattern()))
                later = stamp(day, 80000 + rng.randrange(6000))
                parts[rng.choice([part, 2])][p].append(dict(base, modified=later, pattern=pattern()))
            elif r < 0.25 and part == 1:  # an older version sent late, in part 2
                later = stamp(day, 80000 + rng.randrange(6000))
                parts[1][p].append(dict(base, modified=later, pattern=pattern()))
                parts[2][p].append(dict(base, modified=t, pattern=pattern()))
            else:
                parts[part][p].append(dict(base, modified=t, pattern=pattern()))
            indicators[part].append(iid)
        for i in range(30):
            t = stamp(rng.randrange(DAYS), rng.randrange(86400))
            o = {"type": "infrastructure", "spec_version": "2.1", "id": uid("infrastructure"),
                 "created": t, "modified": t, "name": f"infra {i}"}
            if rng.random() < 0.7:
                o["infrastructure_types"] = rng.sample(["command-and-control", "botnet", "hosting-malware"],
                                                       rng.randrange(1, 3))
            parts[rng.choice([1, 2])][p].append(o)
    for p in PROVIDERS:
        for i in range(400):
            part = rng.choice([1, 2])
            r = rng.random()
            target = (rng.choice(indicators[2]) if r < 0.2 else uid("indicator") if r < 0.25
                      else rng.choice(indicators[1] + indicators[2]))
            day = rng.randrange(DAYS)
            t = stamp(day, rng.randrange(86400))
            o = {"type": "sighting", "spec_version": "2.1", "id": uid("sighting"), "created": t,
                 "modified": t, "sighting_of_ref": target}
            if rng.random() < 0.7:
                o["first_seen"] = stamp(max(0, day - rng.randrange(3)), rng.randrange(86400))
            if rng.random() < 0.5:
                o["count"] = rng.randrange(1, 20)
            parts[part][p].append(o)
    for part, by in parts.items():
        os.makedirs(f"{out}/part{part}", exist_ok=True)
        for p, objects in by.items():
            with open(f"{out}/part{part}/{p}.json", "w") as f:
                json.dump({"type": "bundle", "id": uid("bundle"), "objects": objects}, f)


def addresses(pattern):
    """The addresses the pattern is about (the generator's own shapes only)."""
    out = []
    for piece in pattern.split("'")[1::2]:
        if piece.startswith("http://"):
            piece = piece[7:].split("/")[0]
        if "/" in piece:
            piece = str(ipaddress.ip_network(piece, strict=False).network_address)
        try:
            out.append(str(ipaddress.ip_address(piece)))
        except ValueError:
            pass
    return out


def check(d, answers, stage):
    import maxminddb
    import pandas as pd

    from poisson import poisson_test

    cdb, adb = maxminddb.open_database(f"{d}/country.mmdb"), maxminddb.open_database(f"{d}/asn.mmdb")
    parts = [1] if stage == 1 else [1, 2]
    objs = []  # (part, provider, object)
    for part in parts:
        for p in PROVIDERS:
            for o in json.load(open(f"{d}/part{part}/{p}.json"))["objects"]:
                objs.append((part, p, o))
    enriched = {a for part, _, o in objs if o["type"] == "indicator" and (part == 1 or stage == 3)
                for a in addresses(o["pattern"])}

    def place(a):
        if a not in enriched:
            return None, None
        c, n = cdb.get(a), adb.get(a)
        return (c or {}).get("country", {}).get("iso_code"), (n or {}).get("autonomous_system_number")

    first = {}
    for _, p, o in objs:
        if o["id"] not in first or o["modified"] < first[o["id"]][1]["modified"]:
            first[o["id"]] = (p, o)

    def where(o):
        if o["type"] == "indicator":
            places = [place(a) for a in addresses(o["pattern"])]
            return sorted({c for c, _ in places if c}), sorted({n for _, n in places if n is not None})
        if o["type"] == "sighting":
            t = first.get(o["sighting_of_ref"])
            if t and t[1]["type"] != "sighting":
                return where(t[1])
        return [], []

    day_of = lambda ts: int(datetime.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
                            .replace(tzinfo=datetime.timezone.utc).timestamp()) // 86400
    rows = []
    for p, o in first.values():
        metric = {"indicator": "indicators", "infrastructure": "infrastructure", "sighting": "sightings"}[o["type"]]
        day = day_of(o.get("first_seen", o["created"]) if o["type"] == "sighting" else o["created"])
        w = o.get("count", 1) if o["type"] == "sighting" else 1
        countries, asns = where(o)
        for c in countries or ["unknown"]:
            rows.append((metric, day, "country", c, p, w))
        for a in [f"AS{n}" for n in asns] or ["unknown"]:
            rows.append((metric, day, "asn", a, p, w))
    cells = pd.DataFrame(rows, columns=["metric", "day", "dimension", "key", "provider", "count"])
    date = lambda n: (datetime.datetime(1970, 1, 1) + datetime.timedelta(days=int(n))).strftime("%Y-%m-%d")
    failures = 0
    for by in ["country", "asn"]:
        for interval in ["day", "week"]:
            c = cells[cells.dimension == by].copy()
            c["bucket"] = c.day if interval == "day" else ((c.day - 4) // 7) * 7 + 4
            step = 1 if interval == "day" else 7
            lo, hi = c.bucket.min(), c.bucket.max()
            want = []
            for (metric, key), sub in c.groupby(["metric", "key", "bucket"])["count"].sum().groupby(level=[0, 1]):
                counts = {b: int(n) for (_, _, b), n in sub.items()}
                values = [counts.get(b, 0) for b in range(lo, hi + 1, step)]
                z, emerging = poisson_test(values)
                want.append({"metric": metric, "key": key, "values": values, "start": date(lo), "z": z,
                             "emerging": emerging})
            want.sort(key=lambda s: (s["metric"], s["key"]))
            got = json.load(open(f"{answers}/trends-{by}-{interval}.json"))
            mine = [{"metric": s["metric"], "key": s["key"], "values": [b["count"] for b in s["buckets"]],
                     "start": s["buckets"][0]["start"], "z": s["z"], "emerging": s["emerging"]}
                    for s in got["series"]]
            if mine != want:
                failures += 1
                print(f"MISMATCH stage {stage} trends --by {by} --interval {interval}")
                for a, b in zip(mine, want):
                    if a != b:
                        print("  accord:", a)
                        print("  pandas:", b)
                        break
                if len(mine) != len(want):
                    print("  series: accord", [(s["metric"], s["key"]) for s in mine],
                          "pandas", [(s["metric"], s["key"]) for s in want])
            else:
                print(f"stage {stage}: trends --by {by} --interval {interval}: {len(want)} series, "
                      f"{sum(s['values'][i] for s in want for i in range(len(s['values'])))} counted: identical")
    return failures


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(1 if check(sys.argv[2], sys.argv[3], int(sys.argv[4])) else 0)
