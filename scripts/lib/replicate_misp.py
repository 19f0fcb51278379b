"""Replicate MISP events with fresh uuids: N events for the MISP import benchmark.

    replicate_misp.py OUT N EVENT.json...

Each output event is a copy of one of the inputs (in turn) with every uuid (event,
attribute, object, object attribute, galaxy cluster) replaced by a fresh one derived
from the copy's number, so nothing collides. Written as one JSON list of {"Event": …}.
"""
import json
import sys
import uuid

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def fresh(value, n):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "uuid" and isinstance(v, str) and k != "Orgc":
                # version 4, as MISP makes them (Accord requires v4 ids where STIX does)
                out[k] = str(uuid.UUID(bytes=uuid.uuid5(NS, f"{n}:{v}").bytes, version=4))
            else:
                out[k] = fresh(v, n)
        return out
    if isinstance(value, list):
        return [fresh(v, n) for v in value]
    return value


def main():
    out, count, *paths = sys.argv[1:]
    events = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        events.append(data.get("Event", data))
    result = []
    for n in range(int(count)):
        e = fresh(events[n % len(events)], n)
        # the organisation stays one organisation
        e["Orgc"] = events[n % len(events)].get("Orgc", {})
        result.append({"Event": e})
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
