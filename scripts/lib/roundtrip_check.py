#!/usr/bin/env python3
"""Compare an exported bundle with the input files, object by object, and validate every
exported object with the OASIS stix2-validator.

Usage: roundtrip_check.py EXPORTED.json INPUT.json...
Each input is a bundle, a JSON array of objects or one object. Objects are matched by
(id, modified or created); every input object must come back equal as JSON (property
order aside) and the export must hold nothing else. Exit 0 on success, 1 on any
difference or validation error, with one line per problem.
"""
import json
import sys

from stix2validator import ValidationOptions, validate_parsed_json


def objects_of(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list):
        return data
    if data.get("type") == "bundle":
        return data.get("objects", [])
    return [data]


def key(obj):
    return (obj["id"], obj.get("modified") or obj.get("created") or "")


def main() -> int:
    exported_path, inputs = sys.argv[1], sys.argv[2:]
    expected = {}
    for path in inputs:
        for obj in objects_of(path):
            expected[key(obj)] = obj
    exported = objects_of(exported_path)
    problems = []
    seen = set()
    for obj in exported:
        k = key(obj)
        seen.add(k)
        if k not in expected:
            problems.append(f"exported {k} was not in the input")
        elif expected[k] != obj:
            problems.append(f"exported {k} differs from the input")
    for k in expected:
        if k not in seen:
            problems.append(f"input {k} was not exported")
    # stix2-validator, strict on the spec, with custom content allowed (x_ properties,
    # x- object types of ATT&CK are legitimate STIX 2.1 customisation).
    options = ValidationOptions(version="2.1", strict=False)
    invalid = 0
    for obj in exported:
        result = validate_parsed_json(obj, options)
        if not result.is_valid:
            invalid += 1
            errors = "; ".join(str(e) for e in result.errors)
            problems.append(f"stix2-validator rejects {obj.get('id')}: {errors}")
    for p in problems[:50]:
        print(p)
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more")
    print(f"{len(exported)} objects exported, {len(expected)} expected, "
          f"{invalid} rejected by stix2-validator, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
