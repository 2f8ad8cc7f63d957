"""Shared fixtures: the index, the tagnet binary, and a folder of made-up flow logs."""

import os
import pathlib
import shutil
import subprocess
import warnings

import pytest

import tagnet

ROOT = pathlib.Path(__file__).resolve().parents[2]


def tagnet_binary() -> str:
    """The CLI built from this checkout (release, else debug), or TAGNET_BIN."""
    env = os.environ.get("TAGNET_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "tagnet"
        if p.exists():
            return str(p)
    found = shutil.which("tagnet")
    if found:
        return found
    pytest.skip("no tagnet binary: run `cargo build` first or set TAGNET_BIN")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tagnet_binary(), "--quiet", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="session")
def index() -> tagnet.Index:
    # The built-in snapshot is old by design; its warning is tested on its own.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tagnet.StaleSnapshotWarning)
        return tagnet.Index.builtin()


@pytest.fixture(scope="session")
def flow_dir(tmp_path_factory) -> pathlib.Path:
    """VNet and NSG v2 flow-log blobs in Azure's layout, with real addresses of the
    built-in snapshot's tags, written by `tagnet flows synth`."""
    d = tmp_path_factory.mktemp("flowlogs")
    for kind, n, seed in (("vnet", 24000, 5), ("nsg-v2", 12000, 6)):
        r = run("flows", "synth", "--dir", str(d / kind), "--kind", kind, "--tuples", str(n), "--seed", str(seed))
        assert r.returncode == 0, r.stderr
    return d
