#!/usr/bin/env python3
"""Generate a deterministic corpus for the trends/correlation checks and benchmarks.

Usage: trends_corpus.py OUT_DIR PROVIDERS N_INDICATORS N_SIGHTINGS [SEED]

Writes OUT_DIR/<provider>.json (one STIX bundle per provider): indicators on IPv4
addresses, domains and file hashes drawn from shared pools (so providers overlap, and
correlations exist), infrastructure, and sightings of the provider's own indicators,
all created on days spread over 8 weeks of 2026 (a jump on the last days so a series
emerges)."""
import json
import random
import sys
import uuid

out, providers, n_ind, n_sig = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 7
rng = random.Random(seed)
pool_ip = [f"198.{18 + i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(max(50, n_ind // 3))]
pool_dom = [f"c2-{i}.example-bad.net" for i in range(max(50, n_ind // 3))]
pool_hash = [f"{i:064x}" for i in range(max(50, n_ind // 3))]
DAYS = 56


def stamp(day, sec):
    # 2026-01-05 is a Monday.
    base = 1767571200 + day * 86400 + sec
    import datetime
    return datetime.datetime.fromtimestamp(base, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def uid(kind):
    return f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"


for p in range(providers):
    name = f"prov{p}"
    objects = []
    indicators = []
    for i in range(n_ind):
        day = rng.randrange(DAYS) if rng.random() > 0.1 else DAYS - 1
        kind = rng.choice(["ip", "domain", "hash"])
        if kind == "ip":
            pattern = f"[ipv4-addr:value = '{rng.choice(pool_ip)}']"
        elif kind == "domain":
            pattern = f"[domain-name:value = '{rng.choice(pool_dom)}']"
        else:
            pattern = f"[file:hashes.'SHA-256' = '{rng.choice(pool_hash)}']"
        t = stamp(day, rng.randrange(86400))
        iid = uid("indicator")
        indicators.append(iid)
        objects.append({"type": "indicator", "spec_version": "2.1", "id": iid, "created": t, "modified": t,
                        "pattern": pattern, "pattern_type": "stix", "valid_from": t})
    for i in range(max(1, n_ind // 10)):
        t = stamp(rng.randrange(DAYS), rng.randrange(86400))
        o = {"type": "infrastructure", "spec_version": "2.1", "id": uid("infrastructure"), "created": t,
             "modified": t, "name": f"infra {i}"}
        if rng.random() < 0.7:
            o["infrastructure_types"] = [rng.choice(["command-and-control", "botnet", "hosting-malware"])]
        objects.append(o)
    for i in range(n_sig):
        day = rng.randrange(DAYS)
        t = stamp(day, rng.randrange(86400))
        o = {"type": "sighting", "spec_version": "2.1", "id": uid("sighting"), "created": t, "modified": t,
             "sighting_of_ref": rng.choice(indicators)}
        if rng.random() < 0.8:
            o["first_seen"] = stamp(max(0, day - rng.randrange(3)), rng.randrange(86400))
        if rng.random() < 0.5:
            o["count"] = rng.randrange(1, 20)
        objects.append(o)
    with open(f"{out}/{name}.json", "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                   "objects": objects}, f)
