"""The hub's independent computation (scripts/interop-hub).

    hub_oracle.py corpus DIR        writes DIR/corpus.json (bundle), DIR/plan.json
    hub_oracle.py check DIR ROUTE   compares Accord's `--json route --dry-run` output
                                    (file ROUTE) with this oracle, exactly

The oracle locates every address with the MaxMind reader (PyPI `maxminddb`) over the
test databases of fixtures/hub, tabulates subjects and places with pandas, selects each
recipient's objects by the routing rules of docs/hub.md, and decides release with the
agreements' rules the corpus exercises (provider agreement, location scope, TLP,
required references), in the gate's order. Seeded: the same corpus every run.
"""
import json
import random
import re
import sys
import uuid
from pathlib import Path

import maxminddb
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "fixtures" / "hub"
TLP = {
    "GREEN": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "AMBER": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "RED": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
LEVEL = {"CLEAR": 0, "GREEN": 1, "AMBER": 2, "RED": 4}
BY_ID = {v: k for k, v in TLP.items()}

# Recipients: countries, ASNs, and per provider the agreement (max TLP, countries scope).
RECIPIENTS = {
    "cert-my": {"countries": ["MY"], "asns": [4773],
                "agreements": {"telco": ("GREEN", None)}},
    "cert-nl": {"countries": ["NL", "DE"], "asns": [],
                "agreements": {"telco": ("GREEN", ["NL"])}},
    "cert-transit": {"countries": [], "asns": [64500, 64501],
                     "agreements": {"telco": ("AMBER", None), "isp2": ("AMBER", None)}},
    "cert-sg": {"countries": ["SG"], "asns": [], "agreements": {}},
}

POOLS = [
    "203.0.113.{}", "198.51.100.{}", "192.0.2.{}", "100.64.1.{}", "10.9.8.{}", "8.8.4.{}",
    "2001:db8:1::{:x}", "2001:db8:2::{:x}", "2001:db8:3::{:x}",
]
STAMP = "2026-02-01T00:00:00.000Z"


def ident(kind, rng):
    return f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def corpus(out):
    rng = random.Random(15)
    objects = []

    def marking():
        level = rng.choices([None, "GREEN", "AMBER", "RED"], [3, 4, 2, 1])[0]
        return {"object_marking_refs": [TLP[level]]} if level else {}

    def sdo(kind, **extra):
        o = {"type": kind, "spec_version": "2.1", "id": ident(kind, rng),
             "created": STAMP, "modified": STAMP}
        o.update(extra)
        o.update(marking())
        return o

    plan = {}
    for provider, scale in (("telco", 1.0), ("isp2", 0.5)):
        own = []
        scos = []
        for _ in range(int(120 * scale)):
            value = rng.choice(POOLS).format(rng.randrange(1, 250))
            kind = "ipv6-addr" if ":" in value else "ipv4-addr"
            o = {"type": kind, "spec_version": "2.1", "id": ident(kind, rng), "value": value}
            scos.append(o)
        indicators = []
        for i in range(int(60 * scale)):
            parts = []
            for _ in range(rng.randrange(1, 4)):
                v = rng.choice(POOLS).format(rng.randrange(1, 250))
                kind = "ipv6-addr" if ":" in v else "ipv4-addr"
                parts.append(f"[{kind}:value = '{v}']")
            if rng.random() < 0.3:
                parts.append(f"[domain-name:value = 'c{i}.evil{rng.randrange(9)}.example.com']")
            labels = rng.choice([["c2"], ["phishing"], ["ddos"], []])
            extra = {"labels": labels} if labels else {}
            indicators.append(sdo("indicator", pattern=" OR ".join(parts), pattern_type="stix",
                                  valid_from="2026-02-01T00:00:00Z", **extra))
        infra = [sdo("infrastructure", name=f"C2 {n}", infrastructure_types=["command-and-control"])
                 for n in range(int(20 * scale))]
        malware = [sdo("malware", name=f"family {n}", is_family=True) for n in range(int(10 * scale))]
        rels = []

        def rel(kind, s, t):
            r = sdo("relationship", relationship_type=kind, source_ref=s["id"], target_ref=t["id"])
            rels.append(r)

        for x in infra:
            for _ in range(rng.randrange(1, 3)):
                rel("consists-of", x, rng.choice(scos))
        for _ in range(int(30 * scale)):
            rel("indicates", rng.choice(indicators), rng.choice(malware))
        for _ in range(int(8 * scale)):
            rel("related-to", rng.choice(indicators), rng.choice(indicators))
        sightings = [sdo("sighting", sighting_of_ref=rng.choice(indicators)["id"], count=rng.randrange(1, 9))
                     for _ in range(int(30 * scale))]
        own = scos + indicators + infra + malware + rels + sightings
        plan[provider] = [o["id"] for o in own]
        objects.extend((provider, o) for o in own)
    out = Path(out)
    for provider in ("telco", "isp2"):
        bundle = {"type": "bundle", "id": f"bundle--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                  "objects": [o for p, o in objects if p == provider]}
        (out / f"{provider}.json").write_text(json.dumps(bundle))
    (out / "recipients.json").write_text(json.dumps(RECIPIENTS))


def subjects(o):
    if o["type"] in ("ipv4-addr", "ipv6-addr"):
        return [o["value"]]
    if o["type"] == "indicator":
        return re.findall(r"\[ipv[46]-addr:value = '([^']+)'\]", o["pattern"])
    return []


def oracle(work):
    work = Path(work)
    objects = {}
    provider_of = {}
    for provider in ("telco", "isp2"):
        for o in json.loads((work / f"{provider}.json").read_text())["objects"]:
            objects[o["id"]] = o
            provider_of[o["id"]] = provider
    rows = [(oid, a) for oid, o in objects.items() for a in subjects(o)]
    subj = pd.DataFrame(rows, columns=["id", "address"])
    country = maxminddb.open_database(str(FIX / "country.mmdb"))
    asn = maxminddb.open_database(str(FIX / "asn.mmdb"))
    places = pd.DataFrame({"address": subj["address"].unique()})
    places["cc"] = places["address"].map(lambda a: ((country.get(a) or {}).get("country") or {}).get("iso_code"))
    places["asn"] = places["address"].map(lambda a: (asn.get(a) or {}).get("autonomous_system_number"))
    located = subj.merge(places, on="address")
    cc_of = located.dropna(subset=["cc"]).groupby("id")["cc"].apply(set).to_dict()
    asn_of = located.dropna(subset=["asn"]).groupby("id")["asn"].apply(lambda s: {int(x) for x in s}).to_dict()

    def loc(oid):
        return cc_of.get(oid, set()), asn_of.get(oid, set())

    def has_loc(oid):
        c, a = loc(oid)
        return bool(c or a)

    def covers(r, oid):
        c, a = loc(oid)
        return bool(c & set(r["countries"]) or a & set(r["asns"]))

    rels = [o for o in objects.values() if o["type"] == "relationship"]
    result = {}
    for name, r in RECIPIENTS.items():
        chosen = {oid: "located" for oid in objects if covers(r, oid)}
        for x in rels:
            for a, b in ((x["source_ref"], x["target_ref"]), (x["target_ref"], x["source_ref"])):
                if objects[a]["type"] == "infrastructure" and covers(r, b):
                    chosen[a] = "located"
        located_ids = set(chosen)
        for x in rels:
            for a, b in ((x["source_ref"], x["target_ref"]), (x["target_ref"], x["source_ref"])):
                if a not in located_ids:
                    continue
                if b in located_ids:
                    chosen[x["id"]] = "explains"
                elif not has_loc(b) and objects[b]["type"] != "relationship":
                    chosen[x["id"]] = "explains"
                    chosen.setdefault(b, "context")
        for o in objects.values():
            if o["type"] == "sighting" and o["sighting_of_ref"] in chosen:
                chosen[o["id"]] = "sighting"

        def decide(oid):
            o = objects[oid]
            agreement = r["agreements"].get(provider_of[oid])
            if agreement is None:
                return "no-agreement"
            max_tlp, countries = agreement
            if countries is not None and o["type"] not in ("relationship", "sighting"):
                c, _ = loc(oid)
                if not has_loc(oid):
                    return "location-unknown"
                if not c & set(countries):
                    return "location-out-of-scope"
            level = max([LEVEL[BY_ID[m]] for m in o.get("object_marking_refs", [])] or [LEVEL["GREEN"]])
            if level > LEVEL[max_tlp]:
                return "tlp-above-maximum"
            for ref in ("source_ref", "target_ref", "sighting_of_ref"):
                if ref in o and decide(o[ref]) is not None:
                    return "references-withheld"
            return None

        rows = set()
        for oid, why in chosen.items():
            reason = decide(oid)
            rows.add((oid, objects[oid]["type"], why, reason or "released"))
        result[name] = rows
    return result


def check(work, route_file):
    got_doc = json.loads(Path(route_file).read_text())
    assert got_doc["dry_run"] is True
    got = {}
    for p in got_doc["recipients"]:
        rows = {(o["id"], o["type"], o["why"], "released") for o in p["released"]}
        rows |= {(o["id"], o["type"], o["why"], o["reason"]) for o in p["withheld"]}
        got[p["recipient"]] = rows
    want = oracle(work)
    ok = True
    for name in sorted(set(want) | set(got)):
        w, g = want.get(name, set()), got.get(name, set())
        if w != g:
            ok = False
            print(f"MISMATCH {name}: only oracle {sorted(w - g)[:5]} only accord {sorted(g - w)[:5]}")
        rel = sum(1 for x in w if x[3] == "released")
        print(f"{name}: {len(w)} selected, {rel} released, {len(w) - rel} withheld — "
              f"{'identical' if w == g else 'DIFFERENT'}")
    if not ok:
        sys.exit(1)
    total = sum(len(v) for v in want.values())
    if total < 50:
        print("corpus too small to mean anything")
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "corpus":
        corpus(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
