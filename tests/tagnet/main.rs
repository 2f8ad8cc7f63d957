//! The one integration-test binary: property tests of the indexes against the oracle, tests on
//! the real snapshots in `../shared` (skipped with a note when absent), and CLI tests.

mod check;
mod cli;
mod common;
mod deploy;
mod fetch;
mod flows;
mod fuzz_replay;
mod nsg;
mod parity;
mod path;
mod props;
mod real;
mod routes;
mod serve;
