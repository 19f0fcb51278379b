"""misp-stix's documented mapping pairs (fixtures/misp/documented/pairs.json):
write their STIX side with the pinned misp-stix, or compare Accord with it.

    misp_pairs.py write PAIRS.json             # fill "STIX" with misp-stix's output
    misp_pairs.py compare ACCORD_BIN PAIRS.json [--verbose] [--min-identical N]

Each MISP attribute or object (a list: an object with the objects it refers to) is
wrapped in one event (`event()`, the same in crates/misp/tests/documented.rs); the
STIX side is every object misp-stix writes for it but the creator's identity and the
grouping.
The comparison matches objects by id; lists that are sets in STIX compare as sets.
"""
import json
import subprocess
import sys
import tempfile

EVENT_UUID = "a6ef17d6-91cb-4a05-b10b-2f045daf874c"
ORG_UUID = "a0c22599-9e58-4da4-96ac-7051603fa951"
SET_PROPERTIES = {"object_refs", "labels", "object_marking_refs", "resolves_to_refs"}


def event(kind, misp):
    body = {"uuid": EVENT_UUID, "info": "MISP-STIX-Converter test event", "date": "2020-10-25",
            "timestamp": "1603642920", "published": False,
            "Orgc": {"name": "MISP-Project", "uuid": ORG_UUID}, "Attribute": [], "Object": []}
    if kind == "attributes":
        body["Attribute"] = [misp]
    else:
        body["Object"] = misp if isinstance(misp, list) else [misp]
    return {"Event": body}


def strip(objects):
    """All but the event's grouping and its creator's identity."""
    return [o for o in objects if o["type"] not in ("grouping", "report")
            and o["id"] != f"identity--{ORG_UUID}"]


def normalise(obj):
    return {k: sorted(json.dumps(x, sort_keys=True) for x in v)
            if k in SET_PROPERTIES and isinstance(v, list) else v for k, v in obj.items()}


def write(path):
    from misp_stix_converter import MISPtoSTIX21Parser
    pairs = json.load(open(path, encoding="utf-8"))
    for kind in ("attributes", "objects"):
        for name, pair in pairs[kind].items():
            parser = MISPtoSTIX21Parser()
            parser.parse_json_content(json.dumps(event(kind, pair["MISP"])))
            pair["STIX"] = strip(json.loads(parser.bundle.serialize())["objects"])
    with open(path, "w", encoding="utf-8") as f:
        json.dump(pairs, f, indent=1, ensure_ascii=False)
        f.write("\n")


def compare(binary, path, verbose, minimum=0):
    pairs = json.load(open(path, encoding="utf-8"))
    total = same = 0
    for kind in ("attributes", "objects"):
        k_total = k_same = 0
        for name, pair in pairs[kind].items():
            with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
                json.dump(event(kind, pair["MISP"]), f)
                f.flush()
                done = subprocess.run([binary, "misp", "import", "-o", "-", f.name],
                                      capture_output=True, text=True, check=False)
            ours = {o["id"]: normalise(o) for o in strip(json.loads(done.stdout)["objects"])} \
                if done.stdout.strip() else {}
            theirs = {o["id"]: normalise(o) for o in pair["STIX"]}
            for i, o in theirs.items():
                # Accord marks what misp-stix leaves unmarked (docs/misp.md): not a difference.
                if "object_marking_refs" not in o and i in ours and "object_marking_refs" in ours[i]:
                    del ours[i]["object_marking_refs"]
            n = sum(1 for i, o in theirs.items() if ours.get(i) == o)
            k_total += len(theirs)
            k_same += n
            status = "identical" if n == len(theirs) and len(ours) == len(theirs) else "differs"
            print(f"{kind[:-1]} {name}: {n}/{len(theirs)} identical ({status})")
            if verbose and status == "differs":
                for i, o in theirs.items():
                    if ours.get(i) != o:
                        print(f"   misp-stix {json.dumps(o)}\n   accord    {json.dumps(ours.get(i))}")
                for i in set(ours) - set(theirs):
                    print(f"   only accord {json.dumps(ours[i])}")
                if done.stderr.strip():
                    print("   stderr: " + done.stderr.strip())
        print(f"{kind}: {k_same}/{k_total} objects identical")
        total += k_total
        same += k_same
    print(f"total: {same}/{total} objects identical ({100.0 * same / max(total, 1):.1f}%)")
    if same < minimum:
        sys.exit(f"FAIL: {same} identical objects, fewer than {minimum}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        args = sys.argv[1:]
        minimum = int(args[args.index("--min-identical") + 1]) if "--min-identical" in args else 0
        compare(args[1], args[2], "--verbose" in args, minimum)
