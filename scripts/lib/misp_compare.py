"""Compare `accord misp import -o` with misp-stix (MISPtoSTIX21Parser) object by object.

    misp_compare.py ACCORD_BIN [--verbose] [--min-identical N] EVENT.json...

Both convert each event file; the objects are matched by id (both derive ids from the
MISP uuids). Per file and in total: objects identical, objects that differ (and in which
properties), objects only one side wrote. Objects Accord marks where misp-stix leaves them unmarked (the TLP of the attribute or the
event, docs/misp.md) count as identical if nothing else differs, and are counted apart.
`object_refs` and the order of list items that
are sets in STIX (object_refs, labels, object_marking_refs) are compared as sets.
Exit 1 when fewer than --min-identical objects are identical (a regression).
"""
import json
import subprocess
import sys

from misp_stix_converter import MISPtoSTIX21Parser

SET_PROPERTIES = {"object_refs", "labels", "object_marking_refs", "resolves_to_refs"}


def normalise(obj):
    out = {}
    for key, value in obj.items():
        if key in SET_PROPERTIES and isinstance(value, list):
            value = sorted(json.dumps(v, sort_keys=True) for v in value)
        out[key] = value
    return out


def oracle(path):
    parser = MISPtoSTIX21Parser()
    with open(path, encoding="utf-8") as f:
        parser.parse_json_content(f.read())
    return json.loads(parser.bundle.serialize())["objects"]


def accord(binary, path):
    done = subprocess.run(
        [binary, "misp", "import", "-o", "-", path],
        capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"accord failed on {path}: {done.stderr}")
    return json.loads(done.stdout)["objects"], done.stderr


def main():
    args = sys.argv[1:]
    binary = args.pop(0)
    verbose = "--verbose" in args
    minimum = 0
    if "--min-identical" in args:
        i = args.index("--min-identical")
        minimum = int(args[i + 1])
        del args[i:i + 2]
    args = [a for a in args if a != "--verbose"]
    totals = {"oracle": 0, "identical": 0, "differ": 0, "only_oracle": 0, "only_accord": 0,
              "marked": 0}
    differing = {}
    for path in args:
        theirs = {o["id"]: o for o in oracle(path)}
        ours_list, stderr = accord(binary, path)
        ours = {o["id"]: o for o in ours_list}
        counts = dict.fromkeys(totals, 0)
        counts["oracle"] = len(theirs)
        for oid, obj in theirs.items():
            if oid not in ours:
                counts["only_oracle"] += 1
                if verbose:
                    print(f"  {path}: only misp-stix: {oid}")
                continue
            a, b = normalise(obj), normalise(ours[oid])
            if "object_marking_refs" not in a and "object_marking_refs" in b:
                # Accord marks what misp-stix leaves unmarked (docs/misp.md): counted apart.
                del b["object_marking_refs"]
                counts["marked"] += 1
            if a == b:
                counts["identical"] += 1
                continue
            counts["differ"] += 1
            props = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            for p in props:
                differing[f"{oid.split('--')[0]}.{p}"] = differing.get(f"{oid.split('--')[0]}.{p}", 0) + 1
            if verbose:
                print(f"  {path}: {oid} differs in {', '.join(props)}")
                for p in props:
                    print(f"      misp-stix {p}: {json.dumps(a.get(p))}")
                    print(f"      accord    {p}: {json.dumps(b.get(p))}")
        for oid in ours:
            if oid not in theirs:
                counts["only_accord"] += 1
                if verbose:
                    print(f"  {path}: only accord: {oid}")
        for k in totals:
            totals[k] += counts[k]
        print(f"{path}: {counts['identical']}/{counts['oracle']} identical, "
              f"{counts['differ']} differ, {counts['only_oracle']} only in misp-stix, "
              f"{counts['only_accord']} only in accord")
        if verbose and stderr.strip():
            print("  accord stderr: " + stderr.strip().replace("\n", "\n  "))
    share = 100.0 * totals["identical"] / max(totals["oracle"], 1)
    print(f"total: {totals['identical']}/{totals['oracle']} objects identical ({share:.1f}%), "
          f"{totals['differ']} differ, {totals['only_oracle']} only in misp-stix, "
          f"{totals['only_accord']} only in accord; {totals['marked']} objects misp-stix leaves "
          f"unmarked carry the TLP of their attribute or event in accord (deliberate)")
    if differing:
        print("properties that differ (type.property: objects): " + ", ".join(
            f"{k}: {v}" for k, v in sorted(differing.items())))
    if totals["identical"] < minimum:
        print(f"FAIL: {totals['identical']} identical objects, fewer than {minimum}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
