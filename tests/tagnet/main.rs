//! The one integration-test binary: property tests of the indexes against the oracle, tests on
//! the real snapshots in `../shared` (ignored, with the reason, when absent: `build.rs` sets
//! `cfg(tagnet_shared)` when they sit beside the checkout), and CLI tests.

mod check;
mod cli;
mod common;
mod deploy;
mod export;
mod fetch;
mod flows;
mod fuzz_replay;
mod nsg;
mod openapi;
mod parity;
mod path;
mod props;
mod readme;
mod real;
mod routes;
mod serve;
mod serve_abuse;
mod sources;
