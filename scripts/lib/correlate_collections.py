#!/usr/bin/env python3
"""Correlations across collections, computed independently (pandas) and compared
exactly with `accord --json correlate` (no minimum given: a value is a correlation when
two providers, or one provider in two collections, report it).

Usage:
  correlate_collections.py split CORPUS_DIR OUT_DIR
      writes OUT_DIR/<provider>.<a|b>.json: each provider's bundle of trends_corpus.py
      split in two, objects alternately, to be ingested into collections a and b
  correlate_collections.py check OUT_DIR ANSWER_JSON COLLECTION_A_ID COLLECTION_B_ID
      compares Accord's answer with pandas: for every value a stating indicator states,
      the providers and collections of the indicators stating it and of the sightings
      of them (a sighting reports in the collection it was ingested into), the objects
      and the sighting total; the values kept are those of two providers or two
      collections."""
import glob
import json
import os
import sys

import pandas as pd


def split(corpus, out):
    for path in sorted(glob.glob(f"{corpus}/*.json")):
        provider = os.path.basename(path)[:-5]
        bundle = json.load(open(path))
        for half, objects in (("a", bundle["objects"][0::2]), ("b", bundle["objects"][1::2])):
            with open(f"{out}/{provider}.{half}.json", "w") as f:
                json.dump({"type": "bundle", "id": bundle["id"], "objects": objects}, f)


def value_of(pattern):
    if pattern.startswith("[ipv4"):
        return "ip", pattern.split("'")[-2]
    if pattern.startswith("[domain"):
        return "domain", pattern.split("'")[-2]
    return "file-hash", pattern.split("'")[-2].lower()


def check(out, answer, collection_ids):
    values, sightings = [], []
    for path in sorted(glob.glob(f"{out}/*.json")):
        provider, half = os.path.basename(path)[:-5].split(".")
        collection = collection_ids[half]
        for o in json.load(open(path))["objects"]:
            if o["type"] == "indicator":
                kind, value = value_of(o["pattern"])
                values.append((kind, value, provider, collection, o["id"]))
            elif o["type"] == "sighting":
                sightings.append((o["sighting_of_ref"], provider, collection, o.get("count", 1)))
    v = pd.DataFrame(values, columns=["kind", "value", "provider", "collection", "id"])
    s = pd.DataFrame(sightings, columns=["target", "provider_s", "collection_s", "count"])
    joined = v.merge(s, how="inner", left_on="id", right_on="target")
    reporters = pd.concat([
        v[["kind", "value", "provider", "collection"]],
        joined[["kind", "value", "provider_s", "collection_s"]].rename(
            columns={"provider_s": "provider", "collection_s": "collection"}),
    ])
    providers = reporters.drop_duplicates(["kind", "value", "provider"]).groupby(["kind", "value"]).size()
    collections = reporters.groupby(["kind", "value"])["collection"].apply(lambda c: sorted(set(c)))
    total = joined.groupby(["kind", "value"])["count"].sum()
    objects = v.groupby(["kind", "value"]).size()
    want = {}
    for key, n in providers.items():
        cols = collections[key]
        if n >= 2 or len(cols) >= 2:
            want[key] = (int(n), cols, int(total.get(key, 0)), int(objects[key]))
    got = {
        (c["kind"], c["value"]): (c["provider_count"], c["collections"], c["sightings"],
                                  sum(p["objects"] for p in c["providers"]))
        for c in json.load(open(answer))
    }
    counts = [c["collection_count"] == len(c["collections"]) for c in json.load(open(answer))]
    if got != want or not all(counts):
        missing = set(want) - set(got)
        extra = set(got) - set(want)
        differ = [k for k in set(want) & set(got) if want[k] != got[k]]
        print(f"MISMATCH correlate across collections: {len(missing)} missing, {len(extra)} extra, "
              f"{len(differ)} differ; e.g. {(list(missing) + list(extra) + differ)[:3]}")
        for k in differ[:3]:
            print("  accord:", k, got[k], " pandas:", want[k])
        return 1
    one_provider = sum(1 for (n, cols, _, _) in want.values() if n == 1)
    print(f"correlate (two providers or two collections): {len(want)} correlations, {one_provider} "
          "of one provider in two collections (providers, collections, sightings, objects): identical")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "split":
        split(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], {"a": sys.argv[4], "b": sys.argv[5]}))
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}: split or check")
