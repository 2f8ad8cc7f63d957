#!/usr/bin/env python3
"""Writes a virtual network with N subnets as `az network vnet show` prints it, seeded: space
10.0.0.0/8, subnets /22-/29 placed at random aligned offsets (so some overlap, as a hand-kept
address plan drifts), a tenth of them also holding an IPv6 /64. For `check` at scale
(benches/check.rs `check_subnets` builds the same shape in process).

Usage: python3 benches/gen_vnet.py N SEED > vnet.json
"""
import json, random, sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
base = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-big/providers/Microsoft.Network/virtualNetworks/vnet-big"
subnets = []
for i in range(n):
    length = rng.choice([22, 24, 26, 27, 28, 28, 29, 29, 29])
    addr = (10 << 24) | (rng.getrandbits(24) & (0xFFFFFFFF << (32 - length)) & 0xFFFFFF)
    p = f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}/{length}"
    s = {"id": f"{base}/subnets/s{i:05}", "name": f"s{i:05}", "delegations": []}
    if i % 10 == 0:
        s["addressPrefixes"] = [p, f"fd00:{i >> 16:x}:{i & 0xFFFF:x}::/64"]
    else:
        s["addressPrefix"] = p
    subnets.append(s)
vnet = {
    "id": base, "name": "vnet-big", "type": "Microsoft.Network/virtualNetworks",
    "location": "eastus2",
    "addressSpace": {"addressPrefixes": ["10.0.0.0/8", "fd00::/16"]},
    "subnets": subnets,
}
json.dump([vnet], sys.stdout, indent=1)
