//! tagnet: Azure service-tag and IP-range analysis.
//!
//! Load Microsoft's weekly service-tag file (or the Discovery API output), index every prefix,
//! and answer which tags hold an address — every one of them, with the matching prefix.
//!
//! ```
//! let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/example/ServiceTags_Example.json")).unwrap();
//! let snap = tagnet::load::from_slice(&json, "example")?;
//! let index = tagnet::TagIndex::build(&snap);
//! for m in index.lookup("192.0.2.10".parse().unwrap()) {
//!     println!("{} via {}", snap.tag(m.tag).name(), index.prefix(m.prefix));
//! }
//! # Ok::<(), tagnet::Error>(())
//! ```
//!
//! # Layers
//! - [`text`]: the one parser of each kind of text (address, prefix, endpoint).
//! - [`load::wire`]: Microsoft's JSON exactly; [`load`]: validation into [`Snapshot`].
//! - [`index`]: [`TagIndex`] (every containing tag, O(log b) per lookup after an O(n log n)
//!   build) and per-region compressed tries.
//! - [`prefixset`]: the prefix-set layer: exact set algebra and minimal aggregation
//!   (O(n log n)); [`prefixset::budget`], the optimal cover within N prefixes that adds the
//!   fewest addresses and avoids a forbidden set (tree knapsack, O(n · N));
//!   [`prefixset::overlaps`], every containing or equal pair among labelled prefixes (sort and
//!   sweep, O(n log n + pairs)).
//! - [`routes`]: forced-tunneling route plans ([`routes::plan`]), route-table audits
//!   ([`routes::audit`]) and deployment renderers ([`routes::deploy`]).
//! - [`ops`]: the use cases every front end calls — a request of plain values, validated once,
//!   and a `Serialize` report; [`render`]: records as table, CSV, JSON, NDJSON or Markdown.
//! - `serve` (feature `serve`): the HTTP front end; the CLI is the binary (feature `cli`).
//! - [`oracle`]: slow, obviously-correct answers the tests compare against (the naive
//!   functions beside each fast structure serve the same purpose).
//!
//! # Canonical prefixes
//! Prefixes are stored canonical: host bits cleared (`192.0.2.77/24` is read as `192.0.2.0/24`,
//! with a warning), each tag's list sorted by address then length, repeats removed.

#![deny(unsafe_code)]

pub mod arm;
pub mod cancel;
pub mod check;
pub mod diff;
pub mod error;
pub mod fetch;
pub mod findings;
pub mod flowlog;
pub mod index;
pub mod load;
pub mod map;
pub mod nsg;
pub mod ops;
pub mod oracle;
pub mod path;
pub mod prefixset;
pub mod render;
pub mod routes;
#[cfg(feature = "serve")]
pub mod serve;
pub mod snapshot;
pub mod sources;
pub mod text;

pub use error::{Error, Result};

/// Every finding code tagnet reports, sorted by number: the one registry `tagnet explain`
/// reads (see [`findings::codes`]).
pub fn registry() -> Vec<&'static findings::Rule> {
    findings::registry()
}

/// The rule of a code or number (`missing-route`, `TN101`, any case, `_` for `-`); else the
/// codes that look like it, nearest first (all codes when none does).
pub fn explain(code: &str) -> std::result::Result<&'static findings::Rule, Vec<&'static str>> {
    findings::lookup(code).map(findings::Code::rule)
}

pub use index::{Match, TagIndex};
pub use prefixset::{budget, overlaps};
pub use snapshot::{Snapshot, Tag, TagId};
