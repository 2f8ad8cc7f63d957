//! What changed between two snapshots: tags added and removed, and per tag the prefixes added
//! and removed as the files list them, beside the net change of addresses.
//!
//! The two answers differ on purpose. A configuration that copies the list (an allow-list, a
//! firewall object) must follow every listed change; the addresses themselves may not move at
//! all (a /23 split into two /24s changes the list, not the addresses). The net change is the
//! exact minimal prefixes of the set differences, per family, with address counts. Tags are
//! matched by name, case-insensitively; a tag whose changeNumber moved with no change of
//! prefixes is reported as such. Comparing a download file with Discovery API output, the
//! report also says which tags the API lacks and which it lags (older changeNumber).

use crate::prefixset::{PrefixSet, prefix_range};
use crate::snapshot::{Snapshot, SourceFormat, Tag};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which tags to compare.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Tag names or globs (`*`, `?`), case-insensitive; a cloud-wide name also selects its
    /// regional variants (`Storage` → `Storage.*`).
    pub tags: Vec<String>,
    /// Region codes (already resolved).
    pub regions: Vec<String>,
    /// systemService values, case-insensitive.
    pub services: Vec<String>,
}

impl Filter {
    fn keeps(&self, t: &Tag) -> bool {
        let name = t.name().to_ascii_lowercase();
        (self.tags.is_empty()
            || self.tags.iter().any(|g| {
                let g = g.to_ascii_lowercase();
                name_matches(&g, &name)
            }))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == t.region()))
            && (self.services.is_empty()
                || self
                    .services
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(t.system_service())))
    }
}

/// A lower-case `--tag` glob against a lower-case tag name; a cloud-wide name also matches its
/// regional variants (`storage` → `storage.westeurope`).
fn name_matches(glob: &str, name: &str) -> bool {
    crate::snapshot::glob_match(glob, name) || name.split('.').next() == Some(glob)
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Cloud.
    pub cloud: String,
    /// Top-level changeNumber.
    pub change_number: u64,
    /// `download` or `discovery-api`.
    pub format: SourceFormat,
    /// Where it came from.
    pub source: String,
}

/// The change of one tag present in both snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct TagChange {
    /// Tag name (as the new snapshot spells it).
    pub name: String,
    /// Its region (empty for cloud-wide tags).
    pub region: String,
    /// Its changeNumber in the old snapshot.
    pub old_change_number: Option<u64>,
    /// Its changeNumber in the new snapshot.
    pub new_change_number: Option<u64>,
    /// Prefixes listed now and not before.
    pub added: Vec<IpNet>,
    /// Prefixes listed before and not now.
    pub removed: Vec<IpNet>,
    /// Addresses held now and not before, as exact minimal prefixes.
    pub addresses_added: Vec<IpNet>,
    /// Addresses held before and not now, as exact minimal prefixes.
    pub addresses_removed: Vec<IpNet>,
    /// Counts of those addresses: IPv4 added, IPv4 removed, IPv6 added, IPv6 removed.
    pub address_counts: AddressCounts,
    /// The tag's changeNumber moved, but its prefixes did not.
    pub change_number_only: bool,
}

/// Address counts of a tag's net change.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AddressCounts {
    /// IPv4 addresses added.
    pub ipv4_added: u128,
    /// IPv4 addresses removed.
    pub ipv4_removed: u128,
    /// IPv6 addresses added (a decimal string in JSON: it may exceed 2^64).
    #[serde(serialize_with = "as_string")]
    pub ipv6_added: u128,
    /// IPv6 addresses removed (a decimal string in JSON).
    #[serde(serialize_with = "as_string")]
    pub ipv6_removed: u128,
}

fn as_string<S: serde::Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Checks that every name and service of `filter` exists in one of the snapshots: a typo must
/// not read as "nothing changed". The error names the closest tags.
pub fn check_filter(filter: &Filter, old: &Snapshot, new: &Snapshot) -> crate::Result<()> {
    for t in &filter.tags {
        let g = t.to_ascii_lowercase();
        let hit = |s: &Snapshot| {
            s.tags().iter().any(|x| {
                let name = x.name().to_ascii_lowercase();
                name_matches(&g, &name)
            })
        };
        if !hit(old) && !hit(new) {
            if t.contains(['*', '?']) {
                return Err(crate::Error::Usage(format!(
                    "--tag `{t}` matches no tag of either snapshot"
                )));
            }
            // Unknown: the snapshot's own error, with suggestions.
            new.tag_by_name(t)?;
        }
    }
    for svc in &filter.services {
        let known = |s: &Snapshot| {
            s.tags()
                .iter()
                .any(|x| x.system_service().eq_ignore_ascii_case(svc))
        };
        if !known(old) && !known(new) {
            let lower = svc.to_ascii_lowercase();
            let mut close: Vec<&str> = new
                .tags()
                .iter()
                .map(|x| x.system_service())
                .filter(|x| !x.is_empty() && x.to_ascii_lowercase().contains(&lower))
                .collect();
            close.sort_unstable();
            close.dedup();
            return Err(crate::Error::Usage(format!(
                "--service `{svc}` is no tag's systemService{}",
                if close.is_empty() {
                    "; `tagnet tags` lists them in the SERVICE column".to_string()
                } else {
                    format!(
                        "; did you mean {}?",
                        close
                            .iter()
                            .take(5)
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )));
        }
    }
    Ok(())
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The old snapshot.
    pub old: Side,
    /// The new snapshot.
    pub new: Side,
    /// Changed tags, by name.
    pub tags: Vec<TagChange>,
    /// Tags only the new snapshot has, by name.
    pub tags_added: Vec<String>,
    /// Tags only the old snapshot has, by name.
    pub tags_removed: Vec<String>,
    /// With a download file on one side and Discovery API output on the other: tags the API
    /// lacks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_lacks: Vec<String>,
    /// Tags whose changeNumber the API has older than the file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_lags: Vec<String>,
}

impl Diff {
    /// True when nothing changed among the selected tags.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.tags_added.is_empty() && self.tags_removed.is_empty()
    }
}

fn nets(t: &Tag) -> Vec<IpNet> {
    t.prefixes().collect()
}

fn count(p: &[IpNet]) -> (u128, u128) {
    let mut v4 = 0u128;
    let mut v6 = 0u128;
    for n in p {
        let (s, e) = prefix_range(n);
        let size = (e - s).saturating_add(1);
        match n {
            IpNet::V4(_) => v4 += size,
            IpNet::V6(_) => v6 = v6.saturating_add(size),
        }
    }
    (v4, v6)
}

/// Compares two snapshots over the tags `filter` keeps.
pub fn diff(
    old: &Snapshot,
    new: &Snapshot,
    old_source: &str,
    new_source: &str,
    filter: &Filter,
) -> Diff {
    let by_name = |s: &'_ Snapshot| -> BTreeMap<String, usize> {
        s.tags()
            .iter()
            .enumerate()
            .filter(|(_, t)| filter.keeps(t))
            .map(|(i, t)| (t.name().to_ascii_lowercase(), i))
            .collect()
    };
    let (a, b) = (by_name(old), by_name(new));
    let mut tags = Vec::new();
    let mut tags_added = Vec::new();
    let mut tags_removed = Vec::new();
    for (k, &j) in &b {
        let tn = &new.tags()[j];
        let Some(&i) = a.get(k) else {
            tags_added.push(tn.name().to_string());
            continue;
        };
        let to = &old.tags()[i];
        let (ln_old, ln_new) = (nets(to), nets(tn));
        let added: Vec<IpNet> = ln_new
            .iter()
            .filter(|n| ln_old.binary_search_by_key(&key(n), key).is_err())
            .copied()
            .collect();
        let removed: Vec<IpNet> = ln_old
            .iter()
            .filter(|n| ln_new.binary_search_by_key(&key(n), key).is_err())
            .copied()
            .collect();
        let moved = to.change_number() != tn.change_number();
        if added.is_empty() && removed.is_empty() && !moved {
            continue;
        }
        let (so, sn) = (
            PrefixSet::from_prefixes(ln_old),
            PrefixSet::from_prefixes(ln_new),
        );
        let addresses_added = sn.difference(&so).to_prefixes();
        let addresses_removed = so.difference(&sn).to_prefixes();
        let (a4, a6) = count(&addresses_added);
        let (r4, r6) = count(&addresses_removed);
        tags.push(TagChange {
            name: tn.name().to_string(),
            region: tn.region().to_string(),
            old_change_number: to.change_number(),
            new_change_number: tn.change_number(),
            change_number_only: added.is_empty() && removed.is_empty(),
            added,
            removed,
            addresses_added,
            addresses_removed,
            address_counts: AddressCounts {
                ipv4_added: a4,
                ipv4_removed: r4,
                ipv6_added: a6,
                ipv6_removed: r6,
            },
        });
    }
    for (k, &i) in &a {
        if !b.contains_key(k) {
            tags_removed.push(old.tags()[i].name().to_string());
        }
    }
    // A file beside Discovery API output: what the API lacks or lags.
    let mut api_lacks = Vec::new();
    let mut api_lags = Vec::new();
    let pair = match (old.format(), new.format()) {
        (SourceFormat::Download, SourceFormat::DiscoveryApi) => Some((old, &a, new, &b)),
        (SourceFormat::DiscoveryApi, SourceFormat::Download) => Some((new, &b, old, &a)),
        _ => None,
    };
    if let Some((file, fi, api, ai)) = pair {
        for (k, &i) in fi {
            match ai.get(k) {
                None => api_lacks.push(file.tags()[i].name().to_string()),
                Some(&j) => {
                    if api.tags()[j].change_number() < file.tags()[i].change_number() {
                        api_lags.push(file.tags()[i].name().to_string());
                    }
                }
            }
        }
    }
    let side = |s: &Snapshot, source: &str| Side {
        cloud: s.cloud().to_string(),
        change_number: s.change_number(),
        format: s.format(),
        source: source.to_string(),
    };
    Diff {
        old: side(old, old_source),
        new: side(new, new_source),
        tags,
        tags_added,
        tags_removed,
        api_lacks,
        api_lags,
    }
}

fn key(n: &IpNet) -> (bool, u128, u8) {
    (matches!(n, IpNet::V6(_)), prefix_range(n).0, n.prefix_len())
}
