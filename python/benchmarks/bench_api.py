"""The per-call Python API beside the figures issue 29 measured (2026-12-06, before):
`Index.lookup` on a fresh index (8 ms a call then), and `read_flow_logs` beside the CLI's
reader on the same blobs (233k tuples/s then, where the CLI reads 1.7 M/s).

    python3 python/benchmarks/bench_api.py [TUPLES]

Needs the CLI (target/release/tagnet, or TAGNET_BIN) to write the blobs and to time its reader.
"""

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import tagnet

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("TAGNET_BIN") or str(ROOT / "target" / "release" / "tagnet")


def runs(f, n=5):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return min(out), statistics.median(out), max(out)


def main():
    tuples = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    warnings.simplefilter("ignore", tagnet.StaleSnapshotWarning)

    # One address a call, on an index nothing else has touched.
    idx = tagnet.Index.builtin()
    t = time.perf_counter()
    first = idx.lookup("20.38.98.100")
    first_s = time.perf_counter() - t
    assert first and first[0]["tag"] == "AzureCloud"
    addrs = [f"20.38.{i % 256}.{(i * 7) % 256}" for i in range(20000)]
    lo, med, hi = runs(lambda: [idx.lookup(a) for a in addrs])
    print(f"Index.lookup, first call on a fresh index: {first_s * 1e6:.1f} µs")
    print(f"Index.lookup, 20,000 calls: {med / len(addrs) * 1e6:.2f} µs a call (min {lo / len(addrs) * 1e6:.2f}, max {hi / len(addrs) * 1e6:.2f})")

    with tempfile.TemporaryDirectory() as d:
        subprocess.run([BIN, "-q", "flows", "synth", "--dir", d, "--tuples", str(tuples)], check=True, stdout=subprocess.DEVNULL)
        n = tagnet.read_flow_logs(d).num_rows
        lo, med, hi = runs(lambda: tagnet.read_flow_logs(d))
        print(f"read_flow_logs, {n:,} tuples: {med:.3f} s, {n / med / 1e6:.2f} M tuples/s (min {lo:.3f}, max {hi:.3f})")
        cli = [BIN, "-q", "flows", "attribute", d, "--summary", "--format", "json"]
        lo2, med2, hi2 = runs(lambda: subprocess.run(cli, check=True, stdout=subprocess.DEVNULL))
        print(f"CLI `flows attribute --summary` (reads and attributes, whole process): {med2:.3f} s, {n / med2 / 1e6:.2f} M tuples/s (min {lo2:.3f}, max {hi2:.3f})")
        print(f"read_flow_logs / CLI: {med / med2:.2f}x")


if __name__ == "__main__":
    main()
