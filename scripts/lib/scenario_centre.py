#!/usr/bin/env python3
"""The cybercrime centre's side of the reference scenario, with the OASIS tools.

Usage: scenario_centre.py DISCOVERY_URL COLLECTION_ID TELCO_BUNDLE
Pulls everything the centre may read from the telco's collection with taxii2-client
(paging), checks the manifest names the same versions, validates every object with
stix2-validator, and checks the agreement held: nothing out of scope, no customer
address or internal property, the in-scope objects present. Prints a JSON summary;
exits 1 on any failure.
"""
import json
import sys

from stix2validator import ValidationOptions, validate_parsed_json
from taxii2client.v21 import Server, as_pages

USER, PASSWORD = "analyst", "centre analyst passphrase"
CUSTOMER_ADDRESSES = ["198.51.100.23", "198.51.100.24"]
INTERNAL_PROPERTIES = ["x_telco_subscriber_id", "x_telco_ticket", "INC-4711", "SUB-0042-7781"]
RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
IND = "indicator--1f0e4a8a-2f1b-4c4e-8f43-7b0a3b1d9c0"
EXPECTED = [IND + "1", IND + "2", "malware--6b2a1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "relationship--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]
WITHHELD = {
    IND + "3": "TLP:RED",
    IND + "4": "labelled internal-only",
    IND + "5": "confidence 20 < 60",
    "relationship--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e50": "points at a TLP:RED indicator",
}


def main() -> int:
    url, collection_id, bundle_path = sys.argv[1:4]
    failures = []
    server = Server(url, user=USER, password=PASSWORD)
    roots = server.api_roots
    collections = [c for r in roots for c in r.collections]
    visible = [c.id for c in collections]
    if visible != [collection_id]:
        failures.append(f"the centre sees collections {visible}, expected only {collection_id}")
    collection = next(c for c in collections if c.id == collection_id)
    objects = []
    for envelope in as_pages(collection.get_objects, per_request=3):
        objects.extend(envelope.get("objects", []))
    manifest = []
    for envelope in as_pages(collection.get_manifest, per_request=3):
        manifest.extend(envelope.get("objects", []))
    got = {(o["id"], o.get("modified", o.get("created", ""))) for o in objects}
    listed = {m["id"] for m in manifest}
    if {o["id"] for o in objects} != listed:
        failures.append(f"manifest {sorted(listed)} differs from objects {sorted(i for i, _ in got)}")

    options = ValidationOptions(version="2.1", strict=False)
    for obj in objects:
        result = validate_parsed_json(obj, options)
        if not result.is_valid:
            failures.append(f"stix2-validator rejects {obj['id']}: " + "; ".join(str(e) for e in result.errors))
    text = json.dumps(objects)
    for address in CUSTOMER_ADDRESSES:
        if address in text:
            failures.append(f"customer address {address} leaked")
    for prop in INTERNAL_PROPERTIES:
        if prop in text:
            failures.append(f"internal property {prop} leaked")
    ids = [o["id"] for o in objects]
    for obj in objects:
        if RED in obj.get("object_marking_refs", []):
            failures.append(f"TLP:RED object {obj['id']} released")
    for withheld, why in WITHHELD.items():
        if withheld in ids:
            failures.append(f"{withheld} released although {why}")
    for expected in EXPECTED:
        if expected not in ids:
            failures.append(f"{expected} is in scope but was not received")
    tlp = {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
           "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", RED}
    statements = {o["id"] for o in objects if o["type"] == "marking-definition"}
    for obj in objects:
        for ref in obj.get("object_marking_refs", []):
            if ref not in tlp and ref not in statements and not ref.startswith("marking-definition--94868c89") \
                    and ref not in ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                                    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                                    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                                    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"):
                failures.append(f"{obj['id']} references marking {ref}, which the centre did not receive")
    if not statements:
        failures.append("the agreement's obligations marking was not received")
    sightings = [o for o in objects if o["type"] == "sighting"]
    if not sightings:
        failures.append("no sighting received (accord match found the NjRAT C2 traffic)")
    with open(bundle_path, encoding="utf-8") as f:
        customer_scos = [o["id"] for o in json.load(f)["objects"]
                         if o["type"] == "ipv4-addr" and o["value"] in CUSTOMER_ADDRESSES]
    for sco in customer_scos:
        if sco in ids:
            failures.append(f"the customer address object {sco} kept its id (derived from the address)")

    summary = {
        "objects_received": len(objects),
        "manifest_entries": len(manifest),
        "by_type": {t: sum(1 for o in objects if o["type"] == t) for t in sorted({o["type"] for o in objects})},
        "released_ids": [i for i in EXPECTED if i in ids],
        "failures": failures,
    }
    print(json.dumps(summary, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
