"""Spark local mode: tagnet's mapInArrow beside a Python UDF doing the same attribution with
ipaddress and bisect, on the same cached DataFrame of VNet flow tuples (read from flow-log
JSON by Spark), with the same answers.

    python3 python/benchmarks/bench_spark.py FLOW_LOG_FOLDER
    (make one with: tagnet flows synth --dir /tmp/flows --tuples 1000000)
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.types import StringType, StructField, StructType  # noqa: E402

import tagnet  # noqa: E402
import tagnet.spark as ts  # noqa: E402

_PURE = {}


def pure_attribute(ip):
    idx = _PURE.get("i")
    if idx is None:
        from pure import PureIndex

        native = tagnet.Index.builtin()
        names, regions, services = native._native.tag_table()
        idx = PureIndex(tagnet.Index.builtin_bytes(), names, regions, services)
        _PURE["i"] = idx
    return idx.attribute(ip)


def timed(label, df, n):
    best = None
    for _ in range(3):
        t = time.perf_counter()
        df.write.format("noop").mode("overwrite").save()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    print(f"{label}: best of 3 {best:.2f} s for {n:,} tuples ({n / best / 1e6:.2f} M tuples/s)")


def main():
    folder = sys.argv[1]
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pure.py"))
    flows = ts.read_vnet_flow_logs(spark, folder).repartition(4).cache()
    n = flows.count()
    names = ["class", "service", "region", "tag", "prefix"]
    ours = ts.attribute(flows)
    schema = StructType([StructField(x, StringType()) for x in names])
    udf = F.udf(pure_attribute, schema)
    theirs = flows.withColumn("a", udf("remote_ip")).select("*", *[F.col("a." + x).alias(x) for x in names]).drop("a")
    timed("tagnet mapInArrow", ours, n)
    timed("Python UDF (ipaddress + bisect)", theirs, n)
    diff = ours.exceptAll(theirs).count() + theirs.exceptAll(ours).count()
    print(f"answers: {'identical' if diff == 0 else f'{diff} rows differ'} on {n:,} tuples")
    spark.stop()
    sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
