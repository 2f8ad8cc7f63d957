"""tagnet inside Spark (local[2]): flow-log JSON read by Spark itself, attributed with
mapInArrow, with the CLI's answers."""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest

pyspark = pytest.importorskip("pyspark")


def _java_major():
    """The major version of the Java Spark would start (JAVA_HOME's, else the PATH's), or None."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major  # "1.8.0_392" is Java 8


# PySpark 4 runs on Java 17 and later; 3.5 on 8, 11 and 17.
_NEEDED = 17 if int(pyspark.__version__.split(".")[0]) >= 4 else 8
_JAVA = _java_major()
if _JAVA is None:
    pytest.skip("no Java for Spark (install Java 17+, or set JAVA_HOME)", allow_module_level=True)
if _JAVA < _NEEDED:
    pytest.skip(
        f"Java {_JAVA} found; PySpark {pyspark.__version__} needs Java {_NEEDED}+ (set JAVA_HOME to one)",
        allow_module_level=True,
    )

import tagnet.spark as ts  # noqa: E402
from test_tagnet import attribution_of_cli, drift_key, nsg_file, verify_rows_of_cli  # noqa: E402,F401


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("tagnet-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def key(direction, access, local_ip, local_port, remote_ip, remote_port, cls, service, region, tag, prefix, nbytes):
    return (direction, access, local_ip, int(local_port), remote_ip, int(remote_port),
            cls, service or "", region or "", tag or "", prefix or "", int(nbytes))


@pytest.mark.parametrize("kind", ["vnet", "nsg-v2"])
def test_spark_attribution_equals_the_cli(spark, flow_dir, kind):
    reader = ts.read_vnet_flow_logs if kind == "vnet" else ts.read_nsg_flow_logs
    df = reader(spark, str(flow_dir / kind)).repartition(4)
    rows = ts.attribute(df).collect()
    got = Counter(
        key(r.direction, r.access, r.local_ip, r.local_port, r.remote_ip, r.remote_port,
            r["class"], r.service, r.region, r.tag, r.prefix, r.bytes)
        for r in rows
    )
    cli = attribution_of_cli([flow_dir / kind])
    want = Counter(
        key(c["direction"], c["access"], c["local_ip"], c["local_port"], c["remote_ip"], c["remote_port"],
            c["class"], c["service"], c["region"], c["tag"], c["prefix"], c["bytes"])
        for c in cli
    )
    assert len(rows) == len(cli) > 10000
    assert got == want


def test_attribute_refuses_clashing_columns(spark):
    df = spark.createDataFrame([("20.38.98.100", "x")], ["remote_ip", "tag"])
    with pytest.raises(ValueError, match="already has columns"):
        ts.attribute(df)


@pytest.mark.parametrize("kind", ["vnet", "nsg-v2"])
def test_spark_verify_equals_the_cli(spark, flow_dir, nsg_file, kind):
    reader = ts.read_vnet_flow_logs if kind == "vnet" else ts.read_nsg_flow_logs
    df = reader(spark, str(flow_dir / kind)).repartition(3)
    rows = ts.verify(df, nsg_file, vnet=["10.0.0.0/16"]).where("drift != ''").collect()
    got = Counter(
        drift_key(r.drift, r.direction, r.local_ip, r.local_port, r.remote_ip, r.remote_port, r.rule, r.verdict_rule)
        for r in rows
    )
    cli = verify_rows_of_cli([flow_dir / kind], nsg_file)
    want = Counter(
        drift_key(c["drift"], c["direction"], c["local_ip"], c["local_port"], c["remote_ip"],
                  c["remote_port"], c["logged_rule"], c["rule"])
        for c in cli
    )
    assert sum(want.values()) > 100
    assert got == want
