#!/usr/bin/env python3
"""Peer for the whole-process lookup measurement: every tag holding each address, with pytricia.

Usage: python3 benches/peer_pytricia.py SNAPSHOT.json ADDRESSES.txt > out.csv
Writes the same CSV rows as `tagnet lookup --input ADDRESSES.txt --format csv` (row order within
an address may differ). Needs `pip install pytricia`.
"""
import json, sys
import pytricia

snap = json.load(open(sys.argv[1]))
t4, t6 = pytricia.PyTricia(32), pytricia.PyTricia(128)
for v in snap["values"]:
    p = v["properties"]
    for prefix in p["addressPrefixes"]:
        t = t6 if ":" in prefix else t4
        if prefix in t and t.get_key(prefix) == prefix:
            t[prefix].append((v["name"], p["region"], p["systemService"]))
        else:
            t[prefix] = [(v["name"], p["region"], p["systemService"])]
out = sys.stdout
out.write("ip,tag,region,system_service,prefix\n")
for line in open(sys.argv[2]):
    ip = line.strip()
    if not ip or ip.startswith("#"):
        continue
    t = t6 if ":" in ip else t4
    key = t.get_key(ip)
    if key is None:
        out.write(f"{ip},,,,\n")
        continue
    while key is not None:
        for name, region, svc in t[key]:
            out.write(f"{ip},{name},{region},{svc},{key}\n")
        key = t.parent(key)
