"""Python bulk lookup: tagnet over an Arrow array beside a pure-Python ipaddress+bisect loop
and a pandas Series mapped through pytricia, on the same addresses, with the same answers.

    python3 python/benchmarks/bench_lookup.py [N]
"""

import ipaddress
import os
import random
import statistics
import sys
import time

import pandas as pd
import pyarrow as pa
import pytricia

sys.path.insert(0, os.path.dirname(__file__))
import tagnet  # noqa: E402
from pure import PureIndex  # noqa: E402


def addresses(idx, n, seed=1):
    rng = random.Random(seed)
    prefixes = [p for p in idx._native.prefix_table() if ":" not in p]
    nets = [ipaddress.ip_network(p) for p in prefixes]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.7:
            net = rng.choice(nets)
            out.append(str(net.network_address + rng.randrange(net.num_addresses)))
        elif r < 0.85:
            out.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
        else:
            out.append(f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}")
    return out


def best_of(f, runs=5):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    small = min(n, 50_000)
    idx = tagnet.Index.builtin()
    names, regions, services = idx._native.tag_table()
    addrs = addresses(idx, n)
    arr = pa.array(addrs, pa.string())
    idx.lookup_arrow(arr[:1000])  # the prefix dictionary, built once
    best, med = best_of(lambda: idx.lookup_arrow(arr))
    print(f"tagnet lookup_arrow, {n:,} addresses: best {best*1e3:.1f} ms ({n/best/1e6:.1f} M/s), median {med*1e3:.1f} ms ({n/med/1e6:.1f} M/s)")
    ints = pa.array([int(ipaddress.IPv4Address(a)) for a in addrs], pa.uint32())
    best, med = best_of(lambda: idx.lookup_arrow(ints))
    print(f"tagnet lookup_arrow, uint32: best {best*1e3:.1f} ms ({n/best/1e6:.1f} M/s), median {med*1e3:.1f} ms ({n/med/1e6:.1f} M/s)")
    best, med = best_of(lambda: idx.attribute_arrow(arr), 3)
    print(f"tagnet attribute_arrow: best {best*1e3:.1f} ms ({n/best/1e6:.1f} M/s), median {med*1e3:.1f} ms")

    pure = PureIndex(tagnet.Index.builtin_bytes(), names, regions, services)
    sample = addrs[:small]
    best, med = best_of(lambda: [pure.lookup(a) for a in sample], 3)
    print(f"pure Python ipaddress+bisect, {small:,} addresses: best {best*1e3:.1f} ms ({small/best/1e6:.3f} M/s)")

    trees = {4: pytricia.PyTricia(32), 6: pytricia.PyTricia(128)}
    import json
    for v in json.loads(tagnet.Index.builtin_bytes())["values"]:
        for p in v["properties"]["addressPrefixes"]:
            net = ipaddress.ip_network(p, strict=False)
            t = trees[net.version]
            key = str(net)
            if t.has_key(key):
                t[key].append((v["name"], key))
            else:
                t[key] = [(v["name"], key)]

    def tricia(a):
        t = trees[6 if ":" in a else 4]
        k = t.get_key(a)
        out = []
        while k is not None:
            out.extend(t[k])
            k = t.parent(k)
        return out

    series = pd.Series(sample)
    best, med = best_of(lambda: series.map(tricia), 3)
    print(f"pandas Series.map + pytricia, {small:,} addresses: best {best*1e3:.1f} ms ({small/best/1e6:.3f} M/s)")

    # Same answers, all three.
    ours = idx.lookup_arrow(pa.array(sample)).to_pylist()
    for a, o in zip(sample, ours):
        mine = sorted((m["tag"], m["prefix"]) for m in o)
        assert mine == sorted((names[t], p) for t, p in pure.lookup(a)), a
        assert mine == sorted(tricia(a)), a
    print(f"answers: identical on {small:,} addresses")


if __name__ == "__main__":
    main()
