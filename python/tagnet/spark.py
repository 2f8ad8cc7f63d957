"""tagnet in Spark: flow-log tuples attributed with ``mapInArrow``.

The snapshot travels once to each executor as a broadcast of its gzip-compressed bytes
(about 0.5 MB for the public cloud); each executor's Python worker builds the index once
(about 40 ms) and keeps it for every later batch. Each Arrow batch then goes through one
native call, with the GIL released::

    from pyspark.sql import SparkSession
    import tagnet.spark as ts

    spark = SparkSession.builder.getOrCreate()
    flows = ts.read_vnet_flow_logs(spark, "abfss://insights-logs-flowlogflowevent@acct.dfs.core.windows.net/")
    attributed = ts.attribute(flows, "remote_ip")
    attributed.groupBy("direction", "service", "region").sum("bytes").show()

The executors need the ``tagnet`` wheel installed (``pip install`` it on the cluster, or
ship it with ``--archives`` of a virtual environment); the snapshot needs no file on them.
"""

from __future__ import annotations

import gzip
from typing import Iterator, Optional

import pyarrow as pa

import tagnet

_INDEX_CACHE: dict = {}


def _index(blob: bytes) -> "tagnet.Index":
    """The index of a snapshot's bytes, built once per Python worker."""
    key = hash(blob)
    idx = _INDEX_CACHE.get(key)
    if idx is None:
        data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        idx = tagnet.Index.from_bytes(data, "broadcast snapshot")
        _INDEX_CACHE.clear()
        _INDEX_CACHE[key] = idx
    return idx


def broadcast_snapshot(spark, data: Optional[bytes] = None):
    """Broadcasts a snapshot's bytes (default: the built-in one), gzip-compressed."""
    raw = tagnet.Index.builtin_bytes() if data is None else data
    if raw[:2] != b"\x1f\x8b":
        raw = gzip.compress(raw, 6)
    return spark.sparkContext.broadcast(raw)


def attribute(df, ip_column: str = "remote_ip", snapshot=None):
    """``df`` with ``class``, ``service``, ``region``, ``tag`` and ``prefix`` of the address
    in ``ip_column`` appended, as ``tagnet flows attribute`` computes them.

    ``snapshot``: a broadcast from :func:`broadcast_snapshot` (made here when not given).
    """
    from pyspark.sql.types import StringType, StructField, StructType

    spark = df.sparkSession
    bc = snapshot if snapshot is not None else broadcast_snapshot(spark)
    names = ["class", "service", "region", "tag", "prefix"]
    clash = [n for n in names if n in df.columns]
    if clash:
        raise tagnet.TagnetError(f"the DataFrame already has columns {clash}; rename them first")
    schema = StructType(list(df.schema.fields) + [StructField(n, StringType(), True) for n in names])

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        idx = _index(bc.value)
        for b in batches:
            a = idx.attribute_arrow(b.column(ip_column), errors="null")
            cols = list(b.columns) + [a.field(n) for n in names]
            yield pa.RecordBatch.from_arrays(cols, names=list(b.schema.names) + names)

    return df.mapInArrow(run, schema)


def verify(df, nsg, vnet=(), snapshot=None):
    """``df`` (from :func:`read_vnet_flow_logs` or :func:`read_nsg_flow_logs`) re-evaluated
    with an NSG (its JSON as text, bytes or a path on the driver), as ``tagnet flows verify
    --all`` does: ``verdict``, ``verdict_rule`` and ``drift`` appended."""
    from pyspark.sql.types import StringType, StructField, StructType

    spark = df.sparkSession
    bc = snapshot if snapshot is not None else broadcast_snapshot(spark)
    nsg_json = tagnet._nsg_bytes(nsg)
    vnet = list(vnet)
    names = ["verdict", "verdict_rule", "drift"]
    schema = StructType(list(df.schema.fields) + [StructField(n, StringType(), True) for n in names])

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        idx = _index(bc.value)
        for b in batches:
            t = pa.Table.from_batches([b])
            flows = t.select(["direction", "local_ip", "local_port", "remote_ip", "remote_port"]).append_column(
                "protocol", t["protocol"].cast(pa.string())
            )
            logged = (
                bytes(1 if a == "Deny" else 0 for a in t["access"].to_pylist()),
                [r or "" for r in t["rule"].to_pylist()],
            )
            access, rule, drift = idx._verify(nsg_json, flows, vnet, logged)
            cols = list(b.columns) + [access.combine_chunks() if isinstance(access, pa.ChunkedArray) else access, rule, drift]
            yield pa.RecordBatch.from_arrays(cols, names=list(b.schema.names) + names)

    return df.mapInArrow(run, schema)


def _tuple_columns(df, kind: str):
    """Splits the tuple strings of a DataFrame with columns ``rule`` and ``t``."""
    from pyspark.sql import functions as F

    f = F.split(F.col("t"), ",")
    direction = F.when(f.getItem(6) == "I", F.lit("Inbound")).otherwise(F.lit("Outbound"))
    inbound = f.getItem(6) == "I"
    src, dst = f.getItem(1), f.getItem(2)
    sport, dport = f.getItem(3).cast("int"), f.getItem(4).cast("int")

    def num(i):
        return F.coalesce(F.when(f.getItem(i) == "", None).otherwise(f.getItem(i)).cast("long"), F.lit(0))

    if kind == "vnet":
        time_ms = f.getItem(0).cast("long")
        access = F.when(f.getItem(7) == "D", "Deny").otherwise("Allow")
        state = f.getItem(7)
        protocol = f.getItem(5).cast("int")
        counts = (num(9), num(10), num(11), num(12))
    else:
        time_ms = f.getItem(0).cast("long") * 1000
        access = F.when(f.getItem(7) == "D", "Deny").otherwise("Allow")
        state = F.coalesce(f.getItem(8), F.lit(""))
        protocol = F.when(f.getItem(5) == "T", 6).when(f.getItem(5) == "U", 17).otherwise(f.getItem(5).cast("int"))
        counts = (num(9), num(10), num(11), num(12))
    return df.select(
        time_ms.alias("time_ms"),
        direction.alias("direction"),
        access.alias("access"),
        state.alias("state"),
        protocol.alias("protocol"),
        F.when(inbound, dst).otherwise(src).alias("local_ip"),
        F.when(inbound, dport).otherwise(sport).alias("local_port"),
        F.when(inbound, src).otherwise(dst).alias("remote_ip"),
        F.when(inbound, sport).otherwise(dport).alias("remote_port"),
        (counts[0] + counts[2]).alias("packets"),
        (counts[1] + counts[3]).alias("bytes"),
        F.col("rule"),
    )


def read_vnet_flow_logs(spark, path: str):
    """VNet flow-log blobs (``flowLogVersion`` 4) under ``path`` (the storage account's
    ``…/y=/m=/d=/h=/m=/macAddress=/PT1H.json`` layout, searched recursively), one row per
    tuple. Each blob is one JSON document, read with ``multiLine``."""
    from pyspark.sql import functions as F

    raw = spark.read.option("multiLine", True).option("recursiveFileLookup", True).json(path)
    groups = (
        raw.select(F.explode("records").alias("r"))
        .select(F.explode("r.flowRecords.flows").alias("f"))
        .select(F.explode("f.flowGroups").alias("g"))
        .select(F.col("g.rule").alias("rule"), F.explode("g.flowTuples").alias("t"))
    )
    return _tuple_columns(groups, "vnet")


def read_nsg_flow_logs(spark, path: str):
    """NSG flow-log blobs (versions 1 and 2) under ``path``, one row per tuple."""
    from pyspark.sql import functions as F

    raw = spark.read.option("multiLine", True).option("recursiveFileLookup", True).json(path)
    groups = (
        raw.select(F.explode("records").alias("r"))
        .select(F.explode("r.properties.flows").alias("rf"))
        .select(F.col("rf.rule").alias("rule"), F.explode("rf.flows").alias("m"))
        .select("rule", F.explode("m.flowTuples").alias("t"))
    )
    return _tuple_columns(groups, "nsg")
