"""Checks a ledger receipt against the TAXII page it came with: every entry's released
SHA-256 is the SHA-256 of one object the page held, byte for byte as received.

Usage: receipt_matches.py PAGE.json RECEIPT.json
"""
import hashlib
import json
import sys

page = open(sys.argv[1], "rb").read().decode()
decoder = json.JSONDecoder()
received = set()
at = page.index("[", page.index('"objects"')) + 1
while True:
    while page[at] in " ,\n\r\t":
        at += 1
    if page[at] == "]":
        break
    _, end = decoder.raw_decode(page, at)
    received.add(hashlib.sha256(page[at:end].encode()).hexdigest())
    at = end
entries = json.load(open(sys.argv[2]))["entries"]
if not entries or any(e["entry"]["released_sha256"] not in received for e in entries):
    sys.exit("FAIL: the receipt's entries are not the objects received")
print(f"receipt: its {len(entries)} entries are the {len(received)} objects received")
