#!/usr/bin/env python3
"""Writes an NSG of N user rules as `az network nsg show` prints it, seeded: half inbound, half
outbound; sources and destinations mix random IPv4 prefixes (/8-/28), lists of them, `*`,
`VirtualNetwork`, `Internet` and regional service tags; TCP, UDP or `*`; single ports, ranges
and lists. The shape of `random_rules` in benches/nsg.rs with the tags of real NSGs added, for
`nsg analyze` at scale (benches/nsg.rs `nsg_analyze` builds the same shape in process).

Usage: python3 benches/gen_nsg.py N SEED > nsg.json
"""
import json, random, sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
TAGS = ["Storage.EastUS2", "AzureMachineLearning", "BatchNodeManagement.EastUS2",
        "AzureContainerRegistry.EastUS2", "AzureActiveDirectory", "AzureResourceManager",
        "AzureMonitor", "Sql.EastUS2", "AzureFrontDoor.Backend", "AzureLoadBalancer"]


def prefix():
    length = rng.randint(8, 28)
    addr = rng.getrandbits(32) & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}/{length}"


def address(props, side):
    r = rng.random()
    if r < 0.55:
        props[f"{side}AddressPrefix"] = prefix()
    elif r < 0.7:
        props[f"{side}AddressPrefixes"] = [prefix() for _ in range(rng.randint(2, 5))]
    elif r < 0.8:
        props[f"{side}AddressPrefix"] = rng.choice(["*", "VirtualNetwork", "Internet"])
    else:
        props[f"{side}AddressPrefix"] = rng.choice(TAGS)


def ports(props, side):
    r = rng.random()
    if r < 0.4:
        props[f"{side}PortRange"] = str(rng.randrange(1, 65535))
    elif r < 0.7:
        a = rng.randrange(1, 65000)
        props[f"{side}PortRange"] = f"{a}-{a + rng.randrange(1, 500)}"
    elif r < 0.85:
        props[f"{side}PortRanges"] = sorted({str(rng.randrange(1, 65535)) for _ in range(3)})
    else:
        props[f"{side}PortRange"] = "*"


rules = []
for i in range(n):
    props = {
        "priority": 100 + i // 2,
        "direction": "Inbound" if i % 2 == 0 else "Outbound",
        "access": rng.choice(["Allow", "Deny"]),
        "protocol": rng.choice(["Tcp", "Udp", "*"]),
        "sourcePortRange": "*",
    }
    address(props, "source")
    address(props, "destination")
    ports(props, "destination")
    rules.append({"name": f"rule{i:05}", "properties": props})
json.dump({"name": f"nsg-{n}", "location": "eastus2", "securityRules": rules}, sys.stdout, indent=1)
