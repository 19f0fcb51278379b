#!/usr/bin/env python3
"""Independent computation (pandas) of Accord's trends and correlations over the
corpus of trends_corpus.py, compared exactly with `accord --json trends/correlate`.

Usage: trends_oracle.py CORPUS_DIR ACCORD_JSON_DIR
ACCORD_JSON_DIR holds trends-<by>-<interval>.json and correlate.json."""
import datetime
import glob
import json
import os
import sys

import pandas as pd

from poisson import poisson_test

corpus, answers = sys.argv[1], sys.argv[2]
rows, values, sightings = [], [], []
DAY = 86400


def day_of(ts):
    t = datetime.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) // DAY


for path in sorted(glob.glob(f"{corpus}/*.json")):
    provider = os.path.basename(path)[:-5]
    for o in json.load(open(path))["objects"]:
        kind = o["type"]
        if kind == "indicator":
            p = o["pattern"]
            vkind = "ip" if p.startswith("[ipv4") else "domain" if p.startswith("[domain") else "file-hash"
            value = p.split("'")[-2] if vkind != "file-hash" else p.split("'")[-2].lower()
            rows.append(("indicators", day_of(o["created"]), "type", vkind, provider, 1))
            values.append((vkind, value, provider, o["id"], day_of(o["created"])))
            rows.append(("indicators", day_of(o["created"]), "provider", provider, provider, 1))
        elif kind == "infrastructure":
            types = sorted(set(o.get("infrastructure_types", []))) or ["unspecified"]
            for t in types:
                rows.append(("infrastructure", day_of(o["created"]), "type", t, provider, 1))
            rows.append(("infrastructure", day_of(o["created"]), "provider", provider, provider, 1))
        elif kind == "sighting":
            when = o.get("first_seen", o["created"])
            w = o.get("count", 1)
            rows.append(("sightings", day_of(when), "type", o["sighting_of_ref"].split("--")[0], provider, w))
            rows.append(("sightings", day_of(when), "provider", provider, provider, w))
            sightings.append((o["sighting_of_ref"], provider, w))

cells = pd.DataFrame(rows, columns=["metric", "day", "dimension", "key", "provider", "count"])


def date(d):
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(days=int(d))).strftime("%Y-%m-%d")


def expected(by, interval):
    c = cells[cells.dimension == by].copy()
    c["bucket"] = c.day if interval == "day" else ((c.day - 4) // 7) * 7 + 4
    step = 1 if interval == "day" else 7
    first, last = c.bucket.min(), c.bucket.max()
    g = c.groupby(["metric", "key", "bucket"])["count"].sum()
    series = []
    for (metric, key), sub in g.groupby(level=[0, 1]):
        counts = {b: int(n) for (_, _, b), n in sub.items()}
        values = [counts.get(b, 0) for b in range(first, last + 1, step)]
        z, emerging = poisson_test(values)
        series.append({"metric": metric, "key": key, "values": values, "start": date(first), "z": z, "emerging": emerging})
    return sorted(series, key=lambda s: (s["metric"], s["key"]))


failures = 0
for by in ["type", "provider"]:
    for interval in ["day", "week"]:
        got = json.load(open(f"{answers}/trends-{by}-{interval}.json"))
        mine = [{"metric": s["metric"], "key": s["key"], "values": [b["count"] for b in s["buckets"]],
                 "start": s["buckets"][0]["start"], "z": s["z"], "emerging": s["emerging"]} for s in got["series"]]
        want = expected(by, interval)
        if mine != want:
            failures += 1
            print(f"MISMATCH trends --by {by} --interval {interval}")
            for a, b in zip(mine, want):
                if a != b:
                    print("  accord:", a)
                    print("  pandas:", b)
                    break
        else:
            emerging = sum(s["emerging"] for s in want)
            print(f"trends --by {by} --interval {interval}: {len(want)} series, {emerging} emerging: identical")

# Correlations: values stated by >= 2 providers; sightings of the stating indicators.
v = pd.DataFrame(values, columns=["kind", "value", "provider", "id", "day"])
s = pd.DataFrame(sightings, columns=["target", "provider", "count"])
stating = v.merge(s, how="left", left_on="id", right_on="target", suffixes=("", "_s"))
providers = pd.concat([v[["kind", "value", "provider"]],
                       stating.dropna(subset=["target"])[["kind", "value", "provider_s"]].rename(columns={"provider_s": "provider"})])
pc = providers.drop_duplicates().groupby(["kind", "value"]).size()
shared = pc[pc >= 2]
tot = stating.groupby(["kind", "value"])["count"].sum()
objs = v.groupby(["kind", "value"]).size()
want = {(k, val): (int(n), int(tot.get((k, val), 0)), int(objs[(k, val)])) for (k, val), n in shared.items()}
got_list = json.load(open(f"{answers}/correlate.json"))
got = {(c["kind"], c["value"]): (c["provider_count"], c["sightings"], sum(p["objects"] for p in c["providers"])) for c in got_list}
if got != want:
    failures += 1
    missing = set(want) - set(got)
    extra = set(got) - set(want)
    diff = [k for k in set(want) & set(got) if want[k] != got[k]]
    print(f"MISMATCH correlate: {len(missing)} missing, {len(extra)} extra, {len(diff)} differ; e.g. {(list(missing) + list(extra) + diff)[:3]}")
    for k in diff[:3]:
        print("  accord:", k, got[k], " pandas:", want[k])
else:
    print(f"correlate --min-providers 2: {len(want)} correlations (providers, sightings, objects): identical")
sys.exit(1 if failures else 0)
