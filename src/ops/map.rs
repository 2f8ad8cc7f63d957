//! `map`: the IPv4 space as a picture ([`crate::map`]) — by service, by a set of tags, by a
//! week's change, or by where flow logs' traffic went — with addresses marked.

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::map::Picture;
use std::net::{IpAddr, Ipv4Addr};

/// What a map shows.
#[derive(Debug, Clone, Default)]
pub struct MapParams {
    /// Tags whose coverage colours the map (empty: by service).
    pub tags: Vec<String>,
    /// With tags: the region's variants of cloud-wide tags.
    pub region: Option<String>,
    /// Addresses to mark (IPv4).
    pub marks: Vec<String>,
}

/// The marks as addresses: IPv4 only (the map is of the IPv4 space).
fn marks(texts: &[String]) -> Result<Vec<(Ipv4Addr, String)>> {
    texts
        .iter()
        .map(|t| match crate::text::address(t.trim()) {
            Ok((IpAddr::V4(a), _)) => Ok((a, a.to_string())),
            Ok((IpAddr::V6(_), _)) => Err(Error::field(
                "marks",
                format!("`{t}` is IPv6; the map is of the IPv4 space"),
            )),
            Err(e) => Err(Error::field(
                "marks",
                format!("`{t}` is not an address: {e}"),
            )),
        })
        .collect()
}

/// The map of a snapshot: by service, or by the coverage of `p.tags`.
pub fn map(snap: &Snapshot, p: &MapParams) -> Result<Picture> {
    let marks = marks(&p.marks)?;
    let region = p.region.as_deref().filter(|r| !r.trim().is_empty());
    let mut picture = if p.tags.iter().all(|t| t.trim().is_empty()) {
        if region.is_some() {
            return Err(Error::field(
                "region",
                "applies to named tags; give `tags` too (the map by service covers every region)",
            ));
        }
        crate::map::by_service(snap, 12)
    } else {
        let mut ids = Vec::new();
        for t in &p.tags {
            ids.extend(snap.resolve_tag(t, region)?.into_iter().map(|i| i as usize));
        }
        ids.sort_unstable();
        ids.dedup();
        crate::map::by_tags(snap, &ids)
    };
    picture.marks = marks;
    Ok(picture)
}

/// What a week's change did to the IPv4 space: addresses that joined some tag and addresses
/// that left every tag, from `old` to `new`.
pub fn change_map(
    old: (&Snapshot, &SnapshotInfo),
    new: (&Snapshot, &SnapshotInfo),
    mark_texts: &[String],
) -> Result<Picture> {
    use crate::prefixset::Ranges;
    let union = |s: &Snapshot| {
        Ranges::from_v4_ranges(s.tags().iter().flat_map(|t| {
            t.v4()
                .iter()
                .map(|n| (u32::from(n.network()), u32::from(n.broadcast())))
        }))
    };
    let (a, b) = (union(old.0), union(new.0));
    let v4 = |r: Ranges| -> Vec<ipnet::Ipv4Net> {
        r.to_prefixes_v4()
            .into_iter()
            .filter_map(|n| match n {
                ipnet::IpNet::V4(n) => Some(n),
                ipnet::IpNet::V6(_) => None,
            })
            .collect()
    };
    let mut p = crate::map::by_change(
        &format!(
            "IPv4 addresses that joined or left Azure's service tags, changeNumber {} to {}: one cell a /16",
            old.1.change_number, new.1.change_number
        ),
        &v4(b.difference(&a)),
        &v4(a.difference(&b)),
    );
    p.marks = marks(mark_texts)?;
    Ok(p)
}

/// Where the traffic of flow logs went: bytes by remote IPv4 address, read as `flows
/// attribute` reads them (an unreadable tuple is an error unless `skip_bad`).
pub fn traffic_map(
    paths: &[std::path::PathBuf],
    skip_bad: bool,
    mark_texts: &[String],
) -> Result<Picture> {
    use crate::flowlog::read;
    let mut bytes = std::collections::BTreeMap::new();
    let mut bad: Option<String> = None;
    let mut tuples = 0usize;
    for input in read::inputs(paths)? {
        let origin = input.origin();
        read::read(
            read::open(&input)?,
            &origin,
            &mut |rec| {
                for t in &rec.tuples {
                    tuples += 1;
                    if let IpAddr::V4(ip) = t.remote().0 {
                        let e = bytes.entry(ip).or_insert((0u64, 0u64));
                        e.0 += t.bytes();
                        e.1 += 1;
                    }
                }
            },
            &mut |b| {
                bad.get_or_insert_with(|| b.to_string());
            },
        );
    }
    if let Some(b) = bad.filter(|_| !skip_bad) {
        return Err(Error::Usage(format!(
            "{b}; «skip_bad» reads the rest and skips such tuples"
        )));
    }
    if tuples == 0 {
        return Err(Error::Usage(
            "no flow tuple in the flow logs given: nothing to map".into(),
        ));
    }
    let mut p = crate::map::by_traffic(
        &format!(
            "Where {tuples} flow tuples' traffic went (IPv4 remote addresses): one cell a /16, darker for more bytes"
        ),
        &bytes,
    );
    p.marks = marks(mark_texts)?;
    Ok(p)
}
