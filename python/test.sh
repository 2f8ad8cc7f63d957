#!/usr/bin/env bash
# The Python package's tests: installs the test requirements from PyPI, builds and installs
# the package from this checkout (maturin, through cargo), and runs pytest, the PySpark
# local[2] tests included (they need Java 17+; they skip without it).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install -q --disable-pip-version-check -r requirements-test.txt
python3 -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
# The CLI the tests compare against, built from the same checkout (`cargo test` has built it).
if [ ! -x ../target/debug/tagnet ]; then
  (cd .. && cargo build --locked -q -p tagnet --bin tagnet)
fi
export TAGNET_BIN="$PWD/../target/debug/tagnet"
# From inside tests/, so that `import tagnet` is the installed package, not this folder.
cd tests
python3 -m pytest -q -p no:cacheprovider .
