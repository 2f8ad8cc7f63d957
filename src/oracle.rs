//! Openly slow reference answers, kept in the tree to check the fast structures against.
//!
//! Nothing here is fast or clever on purpose: a linear scan over every prefix of every tag.
//! Property tests and the real-snapshot tests compare [`crate::TagIndex`] with these.

use crate::snapshot::{Snapshot, TagId};
use ipnet::IpNet;
use std::net::IpAddr;

/// Every (tag, prefix) containing `ip`, by linear scan, sorted by tag id then prefix.
pub fn lookup(snap: &Snapshot, ip: IpAddr) -> Vec<(TagId, IpNet)> {
    let mut out = Vec::new();
    for (i, tag) in snap.tags().iter().enumerate() {
        match ip {
            IpAddr::V4(a) => out.extend(
                tag.v4()
                    .iter()
                    .filter(|n| n.contains(&a))
                    .map(|n| (i as TagId, IpNet::V4(*n))),
            ),
            IpAddr::V6(a) => out.extend(
                tag.v6()
                    .iter()
                    .filter(|n| n.contains(&a))
                    .map(|n| (i as TagId, IpNet::V6(*n))),
            ),
        }
    }
    out.sort_unstable();
    out
}
