"""A larger synthetic country + ASN database for scripts/bench-hub (not a fixture).

    make_bench_mmdb.py OUT_DIR [NETWORKS]

NETWORKS (default 200,000) random IPv4 /16../24 networks with random country codes and
ASNs, written by mmdb-writer into OUT_DIR/bench-country.mmdb and OUT_DIR/bench-asn.mmdb.
A real GeoLite2/DB-IP country database has ~400,000-800,000 networks.
"""
import random
import sys

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPNetwork, IPSet

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
rng = random.Random(7)
codes = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJ"]
country = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="Bench-Country")
asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="Bench-ASN")
seen = set()
for _ in range(count):
    prefix = rng.randrange(16, 25)
    base = rng.randrange(1 << 24, 224 << 24) >> (32 - prefix) << (32 - prefix)
    if (base, prefix) in seen:
        continue
    seen.add((base, prefix))
    net = IPSet([IPNetwork((base, prefix))])
    country.insert_network(net, {"country": {"iso_code": rng.choice(codes)}})
    number = rng.randrange(1, 400_000)
    asn.insert_network(net, {"autonomous_system_number": MmdbU32(number),
                             "autonomous_system_organization": f"AS {number} Networks"})
country.to_db_file(f"{out}/bench-country.mmdb")
asn.to_db_file(f"{out}/bench-asn.mmdb")
