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
    /// Its systemService (another provider's service).
    pub system_service: String,
    /// Who publishes the tag when not Microsoft: `AWS`, `Google`, `Oracle`, `GitHub`,
    /// `Cloudflare`, `Custom`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
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
    /// Its systemService (another provider's service).
    pub system_service: String,
    /// Who publishes the tag when not Microsoft (see [`MatchRecord::provider`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
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
                        provider: t.provider().map(|p| p.name()),
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
                        provider: t.provider().map(|p| p.name()),
                        prefix: n.to_string(),
                        relation: r.as_str(),
                    }
                })
                .collect(),
        },
    }
}

/// The JSON text of every tag and index prefix, made once per snapshot, so that a batch of
/// address answers is written rather than built: [`AnswerWriter::write`] writes exactly what
/// `serde_json` writes for the [`Answer`] of [`answer`] (a test holds them equal).
pub struct AnswerWriter {
    /// Per tag: `{"tag":…,"region":…,"system_service":…,["provider":…,]"prefix":"`.
    tag: Vec<String>,
    /// Per index prefix: its text.
    prefix: Vec<String>,
}

impl AnswerWriter {
    /// The texts of a snapshot and its index.
    pub fn new(snap: &Snapshot, index: &TagIndex) -> AnswerWriter {
        use rayon::prelude::*;
        let s = |t: &str| serde_json::to_string(t).expect("a string serializes");
        AnswerWriter {
            tag: snap
                .tags()
                .iter()
                .map(|t| {
                    format!(
                        "{{\"tag\":{},\"region\":{},\"system_service\":{},{}\"prefix\":\"",
                        s(t.name()),
                        s(t.region()),
                        s(t.system_service()),
                        t.provider()
                            .map_or(String::new(), |p| format!("\"provider\":{},", s(p.name())))
                    )
                })
                .collect(),
            prefix: index
                .prefixes()
                .par_iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    /// Appends the JSON of one query's answer to `buf`.
    pub fn write(
        &self,
        buf: &mut String,
        snap: &Snapshot,
        index: &TagIndex,
        q: Query,
        region: Option<&str>,
    ) {
        self.write_range(buf, snap, index, q, region, 0, usize::MAX);
    }

    /// Appends the JSON of one query's answer with only its matches `skip..skip + take` (in
    /// the answer's order) to `buf`; returns how many matches the whole answer has. Pages of
    /// a large answer are written this way.
    #[allow(clippy::too_many_arguments)]
    pub fn write_range(
        &self,
        buf: &mut String,
        snap: &Snapshot,
        index: &TagIndex,
        q: Query,
        region: Option<&str>,
        skip: usize,
        take: usize,
    ) -> usize {
        use std::fmt::Write as _;
        let Query::Address(ip) = q else {
            // Prefixes are few and their answers small: written by serde.
            let mut a = answer(snap, index, q, region);
            let total = match &mut a {
                Answer::Prefix { matches, .. } => {
                    let total = matches.len();
                    let end = skip.saturating_add(take).min(total);
                    matches.truncate(end);
                    matches.drain(..skip.min(end));
                    total
                }
                Answer::Address { matches, .. } => matches.len(),
            };
            buf.push_str(&serde_json::to_string(&a).expect("an answer serializes"));
            return total;
        };
        let _ = write!(buf, "{{\"ip\":\"{ip}\",\"matches\":[");
        let mut first = true;
        let mut total = 0;
        for m in index.lookup(ip) {
            if region.is_some_and(|r| snap.tag(m.tag).region() != r) {
                continue;
            }
            total += 1;
            if total <= skip || total - skip > take {
                continue;
            }
            if !first {
                buf.push(',');
            }
            first = false;
            buf.push_str(&self.tag[m.tag as usize]);
            buf.push_str(&self.prefix[m.prefix as usize]);
            buf.push_str("\"}");
        }
        buf.push_str("]}");
        total
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's text is `serde_json`'s for the same answer, on the example snapshot,
    /// with and without a region, for addresses in and outside its prefixes and a prefix.
    #[test]
    fn the_writer_writes_what_serde_writes() {
        let json = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/example/ServiceTags_Example.json"
        ))
        .unwrap();
        // With your own tags beside Microsoft's (their matches name the provider).
        let custom = crate::sources::read_custom(
            br#"{"Corp.Lab": ["192.0.2.16/28"], "Corp.Eu": {"prefixes": ["198.51.100.0/30"], "region": "westeurope"}}"#,
            "corp.json",
        )
        .unwrap();
        let snap = crate::load::from_slice(&json, "example")
            .unwrap()
            .with_sources(vec![custom])
            .unwrap();
        let index = TagIndex::build(&snap);
        let w = AnswerWriter::new(&snap, &index);
        for text in [
            "192.0.2.20",
            "192.0.2.200",
            "2001:db8::1",
            "198.51.100.1",
            "192.0.2.0/26",
        ] {
            for region in [None, Some("eastus2"), Some("westeurope")] {
                let q = parse_query(text).unwrap();
                let mut buf = String::new();
                w.write(&mut buf, &snap, &index, q, region);
                let want = serde_json::to_string(&answer(&snap, &index, q, region)).unwrap();
                assert_eq!(buf, want, "{text} {region:?}");
                // Pages of every size, put back together, are the whole answer.
                let whole: serde_json::Value = serde_json::from_str(&want).unwrap();
                let all = whole["matches"].as_array().unwrap().clone();
                for size in 1..=all.len().max(1) {
                    let mut got = Vec::new();
                    let mut skip = 0;
                    loop {
                        let mut page = String::new();
                        let total = w.write_range(&mut page, &snap, &index, q, region, skip, size);
                        assert_eq!(total, all.len());
                        let v: serde_json::Value = serde_json::from_str(&page).unwrap();
                        let m = v["matches"].as_array().unwrap();
                        assert!(m.len() <= size);
                        got.extend(m.iter().cloned());
                        skip += size;
                        if skip >= total {
                            break;
                        }
                    }
                    assert_eq!(got, all, "{text} {region:?} pages of {size}");
                }
            }
        }
    }
}
