#!/usr/bin/env python3
"""k-anonymous trends for a partner, computed independently (pandas) and compared
exactly with `accord --json trends --by type --recipient centre`.

Usage:
  kanon_oracle.py make OUT_DIR
      writes OUT_DIR/<provider>.json for five providers: indicators on addresses
      (TLP:GREEN, which the partner may read, or TLP:RED, which it may not) and
      sightings of the green ones, each seen at one or two victims of a small pool
      (where_sighted_refs), at none, or at a location only; days over three weeks
  kanon_oracle.py check OUT_DIR ANSWER_JSON K
      the partner's answer: what it may read (TLP:GREEN), each object once, counted
      on its day (an indicator's `created`, a sighting's `first_seen`) under
      `indicators`/`ip` and `sightings`/`indicator` (a sighting's weight its `count`);
      a day's cell is suppressed (null) when fewer than K providers made it or, for
      sightings, when they were seen at fewer than K victims (the identities of their
      where_sighted_refs; a sighting naming none stands for its provider's own); a
      series whose cells are all suppressed or zero is left out; the Poisson test runs
      on the published counts (suppressed as 0)."""
import datetime
import glob
import json
import os
import random
import sys
import uuid

import pandas as pd

from poisson import poisson_test

GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
PROVIDERS = [f"kprov{i}" for i in range(5)]
DAYS = 21


def stamp(day, sec):
    # 2026-02-02 is a Monday.
    base = 1770000000 - 1770000000 % 86400 + day * 86400 + sec
    return datetime.datetime.fromtimestamp(base, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def make(out):
    rng = random.Random(11)
    uid = lambda kind: f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    victims = [uid("identity") for _ in range(4)]
    place = uid("location")
    for p, name in enumerate(PROVIDERS):
        objects, green = [], []
        # Fewer objects from the later providers: some days have few providers.
        for _ in range(60 - p * 10):
            day = rng.randrange(DAYS)
            t = stamp(day, rng.randrange(86400))
            marking = GREEN if rng.random() < 0.8 else RED
            iid = uid("indicator")
            if marking == GREEN:
                green.append((iid, day))
            objects.append({
                "type": "indicator", "spec_version": "2.1", "id": iid, "created": t, "modified": t,
                "pattern": f"[ipv4-addr:value = '198.51.100.{rng.randrange(1, 250)}']",
                "pattern_type": "stix", "valid_from": t, "object_marking_refs": [marking]})
        for _ in range(40 - p * 6):
            target, day = rng.choice(green)
            seen = max(0, day + rng.randrange(3))
            t = stamp(seen, rng.randrange(86400))
            o = {"type": "sighting", "spec_version": "2.1", "id": uid("sighting"), "created": t,
                 "modified": t, "first_seen": t, "sighting_of_ref": target,
                 "count": rng.randrange(1, 5), "object_marking_refs": [GREEN]}
            # Mostly the first victim, so that many cells have one victim only.
            r = rng.random()
            if r < 0.75:
                o["where_sighted_refs"] = [victims[0]]
            elif r < 0.85:
                o["where_sighted_refs"] = rng.sample(victims, 2)
            elif r < 0.9:
                o["where_sighted_refs"] = [place]
            objects.append(o)
        with open(f"{out}/{name}.json", "w") as f:
            json.dump({"type": "bundle", "id": uid("bundle"), "objects": objects}, f)


def day_of(ts):
    t = datetime.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) // 86400


def date(d):
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(days=int(d))).strftime("%Y-%m-%d")


def check(out, answer, k):
    rows, seen_at = [], []
    for path in sorted(glob.glob(f"{out}/*.json")):
        provider = os.path.basename(path)[:-5]
        for o in json.load(open(path))["objects"]:
            if GREEN not in o.get("object_marking_refs", []):
                continue
            if o["type"] == "indicator":
                rows.append(("indicators", "ip", day_of(o["created"]), provider, 1))
            else:
                day = day_of(o["first_seen"])
                rows.append(("sightings", "indicator", day, provider, o["count"]))
                named = {r for r in o.get("where_sighted_refs", []) if r.startswith("identity--")}
                for victim in named or {f"provider:{provider}"}:
                    seen_at.append((day, victim))
    cells = pd.DataFrame(rows, columns=["metric", "key", "day", "provider", "count"])
    victims = pd.DataFrame(seen_at, columns=["day", "victim"])
    first, last = cells.day.min(), cells.day.max()

    def few(metric, day, c):
        if c.provider.nunique() < k:
            return True
        return metric == "sightings" and victims[victims.day == day].victim.nunique() < k

    want = []
    by_victims = 0
    for (metric, key), series in cells.groupby(["metric", "key"]):
        counts = []
        for d in range(first, last + 1):
            c = series[series.day == d]
            if c.empty:
                counts.append(0)
            elif few(metric, d, c):
                counts.append(None)
                by_victims += c.provider.nunique() >= k
            else:
                counts.append(int(c["count"].sum()))
        if all(n is None or n == 0 for n in counts):
            continue
        values = [n or 0 for n in counts]
        z, emerging = poisson_test(values)
        want.append({"metric": metric, "key": key, "start": date(first), "counts": counts,
                     "z": z, "emerging": emerging})
    got = json.load(open(answer))
    mine = [{"metric": s["metric"], "key": s["key"], "start": s["buckets"][0]["start"],
             "counts": [b["count"] for b in s["buckets"]], "z": s["z"], "emerging": s["emerging"]}
            for s in got["series"]]
    if got["k"] != k or mine != want:
        print(f"MISMATCH trends --recipient (k = {k}, accord says {got['k']})")
        for a, b in zip(mine, want):
            if a != b:
                print("  accord:", a)
                print("  pandas:", b)
        if len(mine) != len(want):
            print(f"  {len(mine)} series against {len(want)}")
        return 1
    suppressed = sum(n is None for s in want for n in s["counts"])
    print(f"trends --by type --recipient (k = {k}): {len(want)} series, {suppressed} cells suppressed, "
          f"{by_victims} of them for too few victims alone: identical")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}: make or check")
