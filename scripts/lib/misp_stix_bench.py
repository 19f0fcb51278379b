"""misp-stix's side of scripts/bench-misp: convert a list of MISP events to STIX 2.1
with MISPtoSTIX21Parser (one parser per event, as `misp_to_stix2` does per file) and
print `objects seconds`."""
import json
import sys
import time

from misp_stix_converter import MISPtoSTIX21Parser

with open(sys.argv[1], encoding="utf-8") as f:
    events = json.load(f)
start = time.perf_counter()
objects = 0
for event in events:
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(event["Event"])
    objects += len(parser.bundle.objects)
print(objects, time.perf_counter() - start)
