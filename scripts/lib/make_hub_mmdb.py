"""Writes the hub's test MaxMind DB files (fixtures/hub/*.mmdb) with mmdb-writer.

    .venv/bin/python scripts/lib/make_hub_mmdb.py fixtures/hub

Documentation and test address ranges only (RFC 5737, RFC 3849, RFC 6598), so no
real network is located anywhere. The build epoch is fixed (BUILD_EPOCH) so the files
are the same on every run. NETWORKS is also what scripts/interop-hub reads as the
truth the test databases encode.
"""
import sys
import time

import mmdb_writer
from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPSet

BUILD_EPOCH = 1767225600  # 2026-01-01T00:00:00Z

# (network, country, asn, as organisation); None: the database has no such field.
NETWORKS = [
    ("203.0.113.0/26", "MY", 4788, "TM Net"),
    ("203.0.113.64/26", "MY", 38466, "U Mobile"),
    ("203.0.113.128/25", "SG", 4773, "MobileOne"),
    ("198.51.100.0/24", "NL", 1136, "KPN"),
    ("192.0.2.0/25", "US", 64500, "Example Transit"),
    ("192.0.2.128/25", "DE", None, None),
    ("100.64.0.0/16", None, 64501, "Example Carrier NAT"),
    ("2001:db8:1::/48", "MY", 4788, "TM Net"),
    ("2001:db8:2::/48", "DE", 3320, "Deutsche Telekom"),
]


def write(path, records, **kw):
    writer = MMDBWriter(**kw)
    for network, record in records:
        writer.insert_network(IPSet([network]), record)
    # mmdb-writer stamps time.time(); a fixed epoch keeps the file reproducible.
    real = mmdb_writer.time.time
    mmdb_writer.time.time = lambda: BUILD_EPOCH
    try:
        writer.to_db_file(path)
    finally:
        mmdb_writer.time.time = real


def main(out):
    # GeoLite2-Country layout (country.iso_code), IPv6 tree holding IPv4 too.
    write(
        f"{out}/country.mmdb",
        [(n, {"country": {"iso_code": c, "names": {"en": c}}}) for n, c, _, _ in NETWORKS if c],
        ip_version=6,
        ipv4_compatible=True,
        database_type="Accord-Test-Country",
        languages=["en"],
        description={"en": "Accord test country database (documentation ranges)"},
    )
    # GeoLite2-ASN layout.
    write(
        f"{out}/asn.mmdb",
        [
            (n, {"autonomous_system_number": MmdbU32(a), "autonomous_system_organization": o})
            for n, _, a, o in NETWORKS
            if a
        ],
        ip_version=6,
        ipv4_compatible=True,
        database_type="Accord-Test-ASN",
        languages=["en"],
        description={"en": "Accord test ASN database (documentation ranges)"},
    )
    # The @ip-location-db country layout (country_code), IPv4-only tree.
    write(
        f"{out}/country-code-v4.mmdb",
        [(n, {"country_code": c}) for n, c, _, _ in NETWORKS if c and ":" not in n],
        ip_version=4,
        database_type="Accord-Test-Country-Code",
        languages=["en"],
        description={"en": "Accord test country database, ip-location-db layout"},
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fixtures/hub")
