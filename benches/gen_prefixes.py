#!/usr/bin/env python3
"""Writes N seeded, skewed IPv4 prefixes (`LABEL PREFIX` lines with --labels), as route tables
and allow-lists look: half /24, a fifth /32, the rest /16-/23 and /25-/31, clustered in a few
hundred /8-/12 regions chosen with a Zipf-like skew. Mirrors `synthetic_prefixes` in
benches/sets.rs, so whole-process and in-process figures use the same shape.

With --uniform: addresses uniform over the space, 1% /16, 9% /20, 60% /24, 30% /32 (the
overlaps benchmark's shape, `uniform_prefixes` in benches/sets.rs).

Usage: python3 benches/gen_prefixes.py N SEED [--labels] [--uniform] > prefixes.txt
"""
import random, sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
labels = "--labels" in sys.argv
rng = random.Random(seed)
bases = [rng.getrandbits(32) & 0xFFF00000 for _ in range(300)]
out = []
uniform = "--uniform" in sys.argv
for i in range(n):
    if uniform:
        r = rng.randrange(100)
        length = 16 if r == 0 else 20 if r < 10 else 24 if r < 70 else 32
        addr = rng.getrandbits(32) & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
        p = f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}/{length}"
        out.append(f"L{i % 1000} {p}" if labels else p)
        continue
    base = bases[min(int(rng.paretovariate(1.2)) - 1, len(bases) - 1)]
    r = rng.random()
    length = 24 if r < 0.5 else 32 if r < 0.7 else rng.randint(16, 23) if r < 0.8 else rng.randint(25, 31)
    addr = (base | rng.getrandbits(20)) & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    p = f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}/{length}"
    out.append(f"L{i % 1000} {p}" if labels else p)
sys.stdout.write("\n".join(out) + "\n")
