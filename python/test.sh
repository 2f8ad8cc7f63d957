#!/usr/bin/env bash
# The Python package's tests, in a virtual environment of their own (target/python-venv, or
# TAGNET_VENV): installs the test requirements from PyPI there (maturin, pyarrow, pandas,
# pyspark — about 660 MB, once), builds and installs the package from this checkout (maturin,
# through cargo) into it, and runs pytest, the PySpark local[2] tests included (they need Java
# 17+; they skip without it). Nothing is installed into the Python you run it with.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${TAGNET_VENV:-$PWD/../target/python-venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
# The venv's tools first (its maturin builds the package, not one elsewhere on the PATH).
export PATH="$VENV/bin:$PATH"
echo "python/test.sh: test requirements into $VENV (about 660 MB the first time)" >&2
"$PY" -m pip install -q --disable-pip-version-check -r requirements-test.txt
echo "python/test.sh: building the package with maturin (a release build of the Rust crate)" >&2
# --force-reinstall: the version does not change between builds of this checkout.
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
# The CLI the tests compare against, built from the same checkout (`cargo test` has built it).
if [ ! -x ../target/debug/tagnet ]; then
  (cd .. && cargo build --locked -q -p tagnet --bin tagnet)
fi
export TAGNET_BIN="$PWD/../target/debug/tagnet"
# From inside tests/, so that `import tagnet` is the installed package, not this folder.
cd tests
echo "python/test.sh: pytest" >&2
"$PY" -m pytest -q -p no:cacheprovider .
