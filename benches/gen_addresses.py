#!/usr/bin/env python3
"""Writes N seeded IPv4 addresses, half inside a snapshot's published prefixes, half uniform.

Usage: python3 benches/gen_addresses.py SNAPSHOT.json N SEED > addresses.txt
Used for the whole-process `tagnet lookup --input` measurement in BENCHMARKS.md.
"""
import ipaddress, json, random, sys

snap, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
nets = [ipaddress.ip_network(p) for v in json.load(open(snap))["values"]
        for p in v["properties"]["addressPrefixes"] if ":" not in p]
out = []
for i in range(n):
    if i % 2 == 0:
        net = rng.choice(nets)
        out.append(str(net.network_address + rng.randrange(net.num_addresses)))
    else:
        out.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
sys.stdout.write("\n".join(out) + "\n")
