//! `lookup`: every tag holding an address (with the prefix that holds it), or every tag
//! prefix related to a queried prefix. The bulk path of the CLI (`lookup --input`) streams
//! the same answers through its own renderer; these are the answers of one query each.

use crate::error::{Error, Result};
use crate::index::Relation;
use crate::text::{self, HostBits};
use crate::{Snapshot, TagIndex};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// One tag holding an address.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MatchRecord {
    /// The tag.
    pub tag: String,
    /// Its region code.
    pub region: String,
    /// Its systemService.
    pub system_service: String,
    /// The tag's prefix that holds the address.
    pub prefix: String,
}

/// One tag prefix related to a queried prefix.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RelationRecord {
    /// The tag.
    pub tag: String,
    /// Its region code.
    pub region: String,
    /// Its systemService.
    pub system_service: String,
    /// The tag's prefix.
    pub prefix: String,
    /// `equals`, `contains` (the tag's prefix holds the query) or `inside`.
    pub relation: &'static str,
}

/// The answer to one query.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Answer {
    /// An address and every tag holding it, sorted by tag name then prefix.
    Address {
        /// The address, canonical.
        ip: String,
        /// The tags.
        matches: Vec<MatchRecord>,
    },
    /// A prefix (host bits cleared) and every related tag prefix.
    Prefix {
        /// The prefix.
        query: String,
        /// The related prefixes.
        matches: Vec<RelationRecord>,
    },
}

/// A parsed query: an address, or a prefix with host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// An address (an IPv4-mapped IPv6 address is its IPv4 one).
    Address(IpAddr),
    /// A prefix.
    Prefix(IpNet),
}

/// Reads a query: an address (`[IPv6]` brackets allowed) or a prefix. The error says why
/// (a reason, without the text).
pub fn parse_query(t: &str) -> std::result::Result<Query, String> {
    let t = t.trim();
    if t.contains('/') {
        return text::prefix(t, HostBits::Clear).map(Query::Prefix);
    }
    let bare = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    text::address(bare).map(|(ip, _)| Query::Address(ip))
}

/// Answers one query; `region` (a region code) keeps only that region's tags.
pub fn answer(snap: &Snapshot, index: &TagIndex, q: Query, region: Option<&str>) -> Answer {
    match q {
        Query::Address(ip) => Answer::Address {
            ip: ip.to_string(),
            matches: index
                .lookup(ip)
                .iter()
                .filter(|m| region.is_none_or(|r| snap.tag(m.tag).region() == r))
                .map(|m| {
                    let t = snap.tag(m.tag);
                    MatchRecord {
                        tag: t.name().to_string(),
                        region: t.region().to_string(),
                        system_service: t.system_service().to_string(),
                        prefix: index.prefix(m.prefix).to_string(),
                    }
                })
                .collect(),
        },
        Query::Prefix(net) => Answer::Prefix {
            query: net.to_string(),
            matches: crate::index::relations(snap, &net, region)
                .into_iter()
                .map(|(id, n, r): (_, IpNet, Relation)| {
                    let t = snap.tag(id);
                    RelationRecord {
                        tag: t.name().to_string(),
                        region: t.region().to_string(),
                        system_service: t.system_service().to_string(),
                        prefix: n.to_string(),
                        relation: r.as_str(),
                    }
                })
                .collect(),
        },
    }
}

/// A region as typed → its code (for the `region` field of a lookup request).
pub fn region_code<'a>(snap: &'a Snapshot, region: Option<&str>) -> Result<Option<&'a str>> {
    region
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| snap.resolve_region(r))
        .transpose()
}

/// The message for a query that is neither an address nor a prefix, as every front end
/// words it: `invalid IP address `x` (where): reason` (`prefix` for a text with a `/`); `at`
/// says where the front end found it (`argument 2`, `queries[1]`).
///
/// ```
/// let m = tagnet::ops::lookup::query_error("10.0.0.300", "bad", Some("argument 1"));
/// assert_eq!(m, "invalid IP address `10.0.0.300` (argument 1): bad");
/// ```
pub fn query_error(t: &str, reason: &str, at: Option<&str>) -> String {
    format!(
        "invalid {} `{}`{}: {reason}",
        if t.contains('/') {
            "prefix"
        } else {
            "IP address"
        },
        text::quoted(t.trim()),
        at.map(|a| format!(" ({a})")).unwrap_or_default()
    )
}

/// The error of a query that is neither an address nor a prefix.
pub fn bad_query(t: &str, reason: &str) -> Error {
    Error::Parse {
        what: "IP address or prefix",
        text: text::quoted(t.trim()),
        reason: reason.to_string(),
    }
}
