"""Checks Accord's Suricata rules with idstools' rule parser (the parser of
suricata-update) as the oracle.

Usage: suricata_check.py RULES BUNDLE
Every line must parse as one enabled `alert` rule with a msg, rev 1, a unique sid in
Accord's range, and `metadata:stix_id ID` naming an object of BUNDLE; each `content`
decoded (|XX| hex) must be a value that object's pattern or value names (a domain
exactly, an http URL's host and path+query).
"""
import json
import re
import sys

import idstools.rule

rules_text = open(sys.argv[1]).read()
objects = {o["id"]: o for o in json.load(open(sys.argv[2]))}
lines = [l for l in rules_text.splitlines() if l.strip()]
if not lines:
    sys.exit("FAIL: no rules")


def decode(content):
    content = content.strip('"')
    return re.sub(
        r"\|([0-9A-F]{2}(?: [0-9A-F]{2})*)\|",
        lambda m: "".join(chr(int(h, 16)) for h in m.group(1).split()),
        content,
    )


sids = set()
for line in lines:
    rule = idstools.rule.parse(line)
    if rule is None:
        sys.exit(f"FAIL: idstools does not parse: {line}")
    if not (rule.enabled and rule.action == "alert" and rule.msg and rule.rev == 1):
        sys.exit(f"FAIL: not an enabled alert with msg and rev 1: {line}")
    if not 1_000_000_000 <= rule.sid < 2_000_000_000 or rule.sid in sids:
        sys.exit(f"FAIL: sid {rule.sid} out of range or repeated")
    sids.add(rule.sid)
    ids = [m.split(" ", 1)[1] for m in rule.metadata if m.startswith("stix_id ")]
    if len(ids) != 1 or ids[0] not in objects:
        sys.exit(f"FAIL: metadata names no object of the bundle: {line}")
    source = json.dumps(objects[ids[0]]).lower().replace("\\\"", '"')
    for option in rule.options:
        if option["name"] == "content":
            value = decode(option["value"]).lower()
            if value.startswith("/?"):  # an http URL with a query and no path
                value = value[1:]
            if value not in source:
                sys.exit(f"FAIL: content {value!r} is not in {ids[0]}")
print(f"idstools parsed {len(lines)} rules: sids unique, contents from their objects")
