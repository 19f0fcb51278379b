"""Galaxies through `accord export --format misp`, against misp-stix (stix2misp).

    misp_galaxies.py ACCORD_BIN [--verbose] [--min-identical N] [--min-kept N]
                     [--plain BUNDLE.json]... EVENT.json...

--plain: a STIX bundle without misp-stix labels (and the same without its report) is
ingested by a node of its own and exported as MISP; its clusters and its malware
instances' MISP objects must be misp-stix's ExternalSTIX2toMISPParser's (all).

For each EVENT file that has galaxies, a node of its own (two development events share
a uuid) imports it (`accord misp import`) and exports it (`accord export --format
misp`); then:

1. misp-stix converts it to STIX (MISPtoSTIX21Parser) and reads that STIX back
   (InternalSTIX2toMISPParser); the clusters of Accord's exported event are compared
   with misp-stix's, where they are (the event, an attribute, an object's attribute:
   by uuid), cluster by cluster (uuid, type, value, description, meta, the galaxy's
   type; but the value, synonyms and labels Accord keeps from the original, and the
   galaxy's description it splits off an x-misp-galaxy-cluster's). Fewer than
   --min-identical fails.
2. The clusters are compared with the original event's (type, value, description,
   uuid, meta synonyms/refs/external_id): each loss is printed; fewer kept than --min-kept fails.
3. misp-stix converts Accord's exported event to STIX; its galaxy objects are compared
   with what `accord misp import -o` wrote for the original event (by id, property by
   property).
"""
import json
import os
import subprocess
import sys
import tempfile

from misp_stix_converter import InternalSTIX2toMISPParser, MISPtoSTIX21Parser
from stix2.parsing import parse as stix_parse

GALAXY_TYPES = {"threat-actor", "malware", "tool", "attack-pattern", "course-of-action",
                "intrusion-set", "vulnerability", "identity", "location", "campaign",
                "x-misp-galaxy-cluster"}
CLUSTER_FIELDS = ("uuid", "type", "value", "description", "meta")
ORIGINAL_META = ("synonyms", "refs", "external_id")


def event_of(value):
    return value.get("Event", value)


def placed(event):
    """{(layer, cluster uuid): (galaxy type, cluster)} of an event in MISP JSON."""
    out = {}

    def add(layer, holder):
        for g in holder.get("Galaxy") or []:
            for c in g.get("GalaxyCluster") or []:
                out[(layer, c["uuid"])] = (g.get("type"), c)
    add("event", event)
    for a in event.get("Attribute") or []:
        add(f"attribute {a['uuid']}", a)
    # An object's attributes by relation: neither their uuids nor the spelling of their
    # values (times, CAPEC ids) are all carried.
    for o in event.get("Object") or []:
        for a in o.get("Attribute") or []:
            add(f"object {o['uuid']} attribute {a.get('object_relation')}", a)
    return out


def loose_view(view):
    """A cluster but what Accord takes from the original rather than from misp-stix's
    reading (value from the cluster's tag, synonyms without the STIX name misp-stix adds,
    meta labels without the cluster's tag)."""
    view = dict(view)
    view.pop("value")
    # "<galaxy's description> | <cluster's>" of an x-misp-galaxy-cluster: Accord splits
    # it; a country's value and description misp-stix swaps (its STIX name is the
    # description): Accord keeps the value from the tag, the description from the name.
    view["description"] = (view["description"] or "").split(" | ")[-1]
    if view["galaxy"] == "country":
        view.pop("description")
    view["meta"] = {k: v for k, v in view["meta"].items() if k not in ("synonyms", "labels")}
    return view


def cluster_view(galaxy_type, cluster):
    view = {k: cluster.get(k) for k in CLUSTER_FIELDS}
    view["meta"] = view["meta"] or {}
    view["galaxy"] = galaxy_type
    return view


def misp_stix_reading(path):
    """misp-stix's reading of its own STIX of the event (None if it fails)."""
    parser = MISPtoSTIX21Parser()
    with open(path, encoding="utf-8") as f:
        parser.parse_json_content(f.read())
    bundle = json.loads(parser.bundle.serialize())
    reader = InternalSTIX2toMISPParser()
    reader.load_stix_bundle(stix_parse(json.dumps(bundle), allow_custom=True))
    try:
        reader.parse_stix_bundle()
    except Exception as e:  # misp-stix's own failures (a sighting it cannot read)
        print(f"   {path}: misp-stix cannot read its own STIX back: {e!r}"[:300])
        return None
    return json.loads(reader.misp_event.to_json())


def events_of(path, work):
    """Event files: the file itself, or each pair with galaxies of a pairs file
    (fixtures/misp/documented), wrapped in an event as scripts/lib/misp_pairs.py does."""
    data = json.load(open(path, encoding="utf-8"))
    if "attributes" not in data and "objects" not in data:
        return [(path, path)]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from misp_pairs import event
    out = []
    for kind in ("attributes", "objects"):
        for name, pair in data.get(kind, {}).items():
            if "GalaxyCluster" not in json.dumps(pair["MISP"]):
                continue
            one = os.path.join(work, f"{len(out)}.json")
            with open(one, "w", encoding="utf-8") as f:
                json.dump(event(kind, pair["MISP"]), f)
            out.append((f"{os.path.basename(path)} {name}", one))
    return out


def stix_of_event(event):
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(event)
    return json.loads(parser.bundle.serialize())["objects"]


def accord_export(binary, path, command=("misp", "import")):
    """The events a fresh node exports after importing the MISP event file (or, with
    `command` `("ingest",)`, after ingesting the STIX bundle)."""
    with tempfile.TemporaryDirectory() as work:
        env = {k: v for k, v in os.environ.items() if k not in ("ACCORD_CONFIG", "ACCORD_DB")}
        env["ACCORD_ADMIN_PASSWORD"] = "interop admin passphrase"
        subprocess.run([binary, "init", "node", "--organisation", "telco"], cwd=work, env=env,
                       check=True, capture_output=True)
        env["ACCORD_CONFIG"] = os.path.join(work, "node", "accord.toml")
        subprocess.run([binary, *command, path], cwd=work, env=env, capture_output=True)
        out = os.path.join(work, "events.json")
        subprocess.run([binary, "export", "--format", "misp", "-o", out], cwd=work, env=env,
                       check=True, capture_output=True)
        return {event_of(e)["uuid"]: event_of(e) for e in json.load(open(out))}


def plain(binary, path, verbose):
    """Plain STIX (no misp-stix labels): the clusters of Accord's export against
    misp-stix's ExternalSTIX2toMISPParser's, where they are, every field but the ones
    PyMISP adds (`default`, `distribution`, `GalaxyElement`) and the galaxy's
    distribution. (identical, total)"""
    from misp_stix_converter import ExternalSTIX2toMISPParser
    reader = ExternalSTIX2toMISPParser()
    reader.load_stix_bundle(stix_parse(open(path, encoding="utf-8").read(), allow_custom=True))
    reader.parse_stix_bundle()
    theirs_event = json.loads(reader.misp_event.to_json())
    ours_events = list(accord_export(binary, path, ("ingest",)).values())

    def clusters(event):
        out = {}
        for layer, holder in [("event", event)] + [
                (f"attribute {a.get('value')}", a) for a in event.get("Attribute") or []]:
            for g in holder.get("Galaxy") or []:
                head = {k: v for k, v in g.items() if k not in ("GalaxyCluster", "distribution")}
                for c in g.get("GalaxyCluster") or []:
                    body = {k: v for k, v in c.items()
                            if k not in ("default", "distribution", "GalaxyElement")}
                    out[(layer, c["uuid"])] = (head, body)
        return out
    def objects(event):
        """Its MISP objects (malware instances), but what PyMISP adds."""
        keep = ("uuid", "object_relation", "value", "type", "to_ids", "category",
                "disable_correlation")
        return {("object", o["uuid"]): (
            {k: o.get(k) for k in ("name", "meta-category", "timestamp", "comment")},
            sorted(json.dumps({k: a.get(k) for k in keep}, sort_keys=True)
                   for a in o.get("Attribute") or []))
            for o in event.get("Object") or []}
    theirs = {**clusters(theirs_event), **objects(theirs_event)}
    ours = {**clusters(ours_events[0]), **objects(ours_events[0])} if ours_events else {}
    same = sum(1 for k, v in theirs.items() if ours.get(k) == v)
    if verbose:
        for k, v in theirs.items():
            if ours.get(k) != v:
                print(f"   {path} {k}:\n     misp-stix {json.dumps(v, sort_keys=True)}\n"
                      f"     accord    {json.dumps(ours.get(k), sort_keys=True)}")
    print(f"{path}: {same}/{len(theirs)} clusters and objects of plain STIX as misp-stix's"
          f" external parser reads them ({len(ours)} exported)")
    return same, len(theirs)


def main():
    args = sys.argv[1:]
    verbose = "--verbose" in args
    def option(name):
        return int(args[args.index(name) + 1]) if name in args else 0
    minimum, kept = option("--min-identical"), option("--min-kept")
    options = ("--min-identical", "--min-kept", "--plain")
    plains = [os.path.abspath(args[i + 1]) for i, a in enumerate(args) if a == "--plain"]
    args = [a for i, a in enumerate(args)
            if a not in ("--verbose", *options)
            and not (i > 0 and args[i - 1] in options)]
    binary, files = os.path.abspath(args[0]), [os.path.abspath(f) for f in args[1:]]
    work_plain = tempfile.mkdtemp()
    for bundle in plains:
        # The bundle, and the same without its report (the loose objects of an export).
        data = json.load(open(bundle, encoding="utf-8"))
        data["objects"] = [o for o in data["objects"] if o["type"] not in ("report", "grouping")]
        loose = os.path.join(work_plain, "without-report-" + os.path.basename(bundle))
        with open(loose, "w", encoding="utf-8") as f:
            json.dump(data, f)
        for path in (bundle, loose):
            same, count = plain(binary, path, verbose)
            if same != count or not count:
                sys.exit(f"FAIL: {same} of {count} clusters of {path} as misp-stix reads them")
    total = same = loose = 0
    o_total = o_same = 0
    s_total = s_same = 0
    work = tempfile.mkdtemp()
    events = [e for f in files for e in events_of(f, work)]
    for label, path in events:
        original = event_of(json.load(open(path, encoding="utf-8")))
        if not placed(original):
            continue
        theirs_event = misp_stix_reading(path)
        theirs = placed(theirs_event) if theirs_event else {}
        exported = accord_export(binary, path)
        ours = placed(exported.get(original["uuid"], {}))
        n = 0
        for key, (g_type, cluster) in theirs.items():
            mine = ours.get(key)
            if mine is not None and cluster_view(*mine) == cluster_view(g_type, cluster):
                n += 1
                loose += 1
            elif mine is not None and loose_view(cluster_view(*mine)) == \
                    loose_view(cluster_view(g_type, cluster)):
                loose += 1
            elif verbose:
                print(f"   {label} {key[0]} cluster {key[1]}:\n"
                      f"     misp-stix {json.dumps(cluster_view(g_type, cluster), sort_keys=True)}\n"
                      f"     accord    {json.dumps(cluster_view(*mine) if mine else None, sort_keys=True)}")
        for key in set(ours) - set(theirs):
            if verbose:
                print(f"   {label}: only accord {key}")
        total += len(theirs)
        same += n
        print(f"{label}: {n}/{len(theirs)} clusters as misp-stix reads them back"
              f" ({len(ours)} exported)")
        # 2. against the original event's clusters
        path_label, path = path, label
        originals = placed(original)
        by_uuid = {u: c for (_, u), (_, c) in ours.items()}
        for (layer, u), (g_type, cluster) in originals.items():
            o_total += 1
            mine = by_uuid.get(u)
            lost = []
            if mine is None:
                lost.append("missing")
            else:
                for k in ("type", "value", "description"):
                    if mine.get(k) != cluster.get(k):
                        lost.append(f"{k} {cluster.get(k)!r} -> {mine.get(k)!r}")
                for k in ORIGINAL_META:
                    want = (cluster.get("meta") or {}).get(k)
                    got = (mine.get("meta") or {}).get(k)
                    # misp-stix writes one external id alone, not as a list.
                    if isinstance(want, list) and len(want) == 1 and not isinstance(got, list):
                        got = [got]
                    if isinstance(want, list) and isinstance(got, list):
                        want, got = sorted(want), sorted(got)
                    if want != got:
                        lost.append(f"meta {k} {want!r} -> {got!r}")
            if not lost:
                o_same += 1
            else:
                print(f"   {path}: {layer} cluster {u} against the original: {'; '.join(lost)}")
        # 3. misp-stix's STIX of the exported event against Accord's import
        done = subprocess.run([binary, "misp", "import", "-o", "-", path_label],
                              capture_output=True, text=True, check=False)
        imported = {o["id"]: o for o in json.loads(done.stdout)["objects"]
                    if o["type"] in GALAXY_TYPES and any(
                        str(l).startswith("misp:galaxy-") for l in o.get("labels", []))
                    or o["type"] == "x-misp-galaxy-cluster"}
        again = {o["id"]: o for o in stix_of_event(exported[original["uuid"]])}
        for i, o in imported.items():
            s_total += 1
            back = again.get(i)
            # Accord marks galaxy objects with the event's TLP; misp-stix does not.
            strip = ("created", "modified", "object_marking_refs")
            if back is not None and {k: v for k, v in back.items() if k not in strip} == \
                    {k: v for k, v in o.items() if k not in strip}:
                s_same += 1
            elif verbose:
                print(f"   {path}: {i} through the export and misp-stix:\n"
                      f"     import {json.dumps(o, sort_keys=True)}\n"
                      f"     again  {json.dumps(back, sort_keys=True)}")
    print(f"galaxies: {same}/{total} clusters placed and read as misp-stix reads its own STIX"
          f" ({loose}/{total} but the value, synonyms and labels Accord keeps from the original);"
          f" {o_same}/{o_total} of the original clusters kept (type, value, description, uuid,"
          f" synonyms/refs/external_id); {s_same}/{s_total} galaxy objects identical"
          f" (but created/modified) after export and misp-stix")
    if loose < minimum or o_same < kept:
        sys.exit(f"FAIL: {loose} clusters placed as misp-stix places them (at least {minimum}),"
                 f" {o_same} original clusters kept (at least {kept})")


if __name__ == "__main__":
    main()
