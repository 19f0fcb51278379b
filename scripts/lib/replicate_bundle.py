#!/usr/bin/env python3
"""Replicate a STIX bundle to N objects with fresh ids, streaming the output.

Each replica r rewrites every identifier `type--uuid` in every object to
`type--uuid5(NS, f"{r}:{uuid}")`, so references stay consistent inside a replica and
no two replicas share an id. Usage: replicate_bundle.py IN.json COUNT OUT.json
"""
import json
import re
import sys
import uuid

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
ID = re.compile(r'([a-z0-9][a-z0-9-]*)--([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})')


def main() -> None:
    src, count, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(src, encoding="utf-8") as f:
        objects = [json.dumps(o, separators=(",", ":"), ensure_ascii=False) for o in json.load(f)["objects"]]
    written = 0
    with open(dst, "w", encoding="utf-8") as out:
        out.write('{"type":"bundle","id":"bundle--%s","objects":[\n' % uuid.uuid4())
        replica = 0
        while written < count:
            cache = {}

            def fresh(m: "re.Match[str]") -> str:
                u = m.group(2)
                new = cache.get(u)
                if new is None:
                    new = cache[u] = str(uuid.uuid5(NS, f"{replica}:{u}"))
                return f"{m.group(1)}--{new}"

            for text in objects:
                if written == count:
                    break
                if written:
                    out.write(",\n")
                out.write(ID.sub(fresh, text))
                written += 1
            replica += 1
        out.write("\n]}\n")
    print(f"wrote {written} objects ({replica} replicas) to {dst}", file=sys.stderr)


if __name__ == "__main__":
    main()
