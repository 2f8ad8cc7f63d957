//! `tags` and `prefixes`: what a snapshot holds, filtered, for every front end.

use super::{Row, SnapshotInfo};
use crate::error::{Error, Result};
use crate::prefixset::PrefixSet;
use crate::text::{self, HostBits};
use crate::{Snapshot, TagId};
use ipnet::IpNet;
use serde::Serialize;

/// A `tags` request: filters, all optional, all combined.
#[derive(Debug, Clone, Default)]
pub struct TagsParams {
    /// Only tags of this region (as typed).
    pub region: Option<String>,
    /// Only tags of this systemService (case-insensitive).
    pub service: Option<String>,
    /// Only tags listing this networkFeature (API, NSG, UDR, FW, VSE).
    pub feature: Option<String>,
    /// Only tags whose name matches this glob (`*`, `?`, case-insensitive).
    pub name: Option<String>,
}

/// One tag as `tags` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TagRecord {
    /// Name.
    pub name: String,
    /// Region code (empty for a cloud-wide tag).
    pub region: String,
    /// systemService.
    pub system_service: String,
    /// IPv4 prefixes.
    pub ipv4_prefixes: usize,
    /// IPv6 prefixes.
    pub ipv6_prefixes: usize,
    /// networkFeatures (absent in Discovery API output).
    pub network_features: Option<Vec<String>>,
    /// The tag's changeNumber.
    pub change_number: Option<u64>,
}

impl super::Row for TagRecord {
    /// The table and CSV columns.
    const HEADERS: &'static [&'static str] =
        &["NAME", "REGION", "SERVICE", "IPV4", "IPV6", "FEATURES"];

    /// The table and CSV cells.
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.region.clone(),
            self.system_service.clone(),
            self.ipv4_prefixes.to_string(),
            self.ipv6_prefixes.to_string(),
            self.network_features
                .as_ref()
                .map(|f| f.join(" "))
                .unwrap_or_default(),
        ]
    }
}

/// The tags that pass every filter, sorted by name (the snapshot's order).
///
/// ```
/// let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/example/ServiceTags_Example.json")).unwrap();
/// let snap = tagnet::load::from_slice(&json, "example")?;
/// let p = tagnet::ops::catalog::TagsParams { region: Some("East US 2".into()), ..Default::default() };
/// assert!(tagnet::ops::catalog::tags(&snap, &p)?.iter().all(|t| t.region == "eastus2"));
/// # Ok::<(), tagnet::Error>(())
/// ```
pub fn tags(snap: &Snapshot, p: &TagsParams) -> Result<Vec<TagRecord>> {
    fn nonempty(o: &Option<String>) -> Option<&str> {
        o.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let region = nonempty(&p.region)
        .map(|r| snap.resolve_region(r))
        .transpose()?;
    let glob = nonempty(&p.name).map(str::to_ascii_lowercase);
    let feature = nonempty(&p.feature);
    let service = nonempty(&p.service);
    if let Some(f) = feature {
        let mut known: Vec<&str> = snap
            .tags()
            .iter()
            .filter_map(|t| t.network_features())
            .flatten()
            .map(String::as_str)
            .collect();
        known.sort_unstable();
        known.dedup();
        if !known.iter().any(|k| k.eq_ignore_ascii_case(f)) {
            return Err(Error::field(
                "feature",
                format!(
                    "`{}` is unknown; this snapshot's tags list: {}",
                    text::quoted(f),
                    if known.is_empty() {
                        "none (a Discovery API file has no networkFeatures)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    if let Some(want) = service {
        let mut known: Vec<&str> = snap
            .tags()
            .iter()
            .map(|t| t.system_service())
            .filter(|s| !s.is_empty())
            .collect();
        known.sort_unstable();
        known.dedup();
        if !known.iter().any(|k| k.eq_ignore_ascii_case(want)) {
            let close =
                crate::snapshot::suggest(&want.to_ascii_lowercase(), known.iter().copied(), |k| {
                    k.to_ascii_lowercase()
                });
            return Err(Error::field(
                "service",
                format!(
                    "`{}` is no systemService of this snapshot{}",
                    text::quoted(want),
                    match close.as_slice() {
                        [] => "; the tags list names every tag's service".to_string(),
                        [one] => format!("; did you mean `{one}`?"),
                        many => format!("; did you mean one of {}?", many.join(", ")),
                    }
                ),
            ));
        }
    }
    Ok(snap
        .tags()
        .iter()
        .filter(|t| region.is_none_or(|r| t.region() == r))
        .filter(|t| service.is_none_or(|s| t.system_service().eq_ignore_ascii_case(s)))
        .filter(|t| feature.is_none_or(|f| t.has_feature(f)))
        .filter(|t| {
            glob.as_deref()
                .is_none_or(|g| crate::snapshot::glob_match(g, &t.name().to_ascii_lowercase()))
        })
        .map(|t| TagRecord {
            name: t.name().to_string(),
            region: t.region().to_string(),
            system_service: t.system_service().to_string(),
            ipv4_prefixes: t.v4().len(),
            ipv6_prefixes: t.v6().len(),
            network_features: t.network_features().map(<[String]>::to_vec),
            change_number: t.change_number(),
        })
        .collect())
}

/// Which address families a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Both.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// `any`, `ipv4`/`4`, `ipv6`/`6` (any case); the field's name for the error.
    pub fn parse(text: &str, field: &'static str) -> Result<Family> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "any" => Ok(Family::Any),
            "ipv4" | "4" | "v4" => Ok(Family::V4),
            "ipv6" | "6" | "v6" => Ok(Family::V6),
            _ => Err(Error::field(
                field,
                format!("`{}`: ipv4, ipv6 or any", text::quoted(text)),
            )),
        }
    }

    /// Whether a prefix is of this family.
    pub fn holds(self, n: &IpNet) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => matches!(n, IpNet::V4(_)),
            Family::V6 => matches!(n, IpNet::V6(_)),
        }
    }
}

/// A `prefixes` request: the union of tags' prefixes, with set algebra.
#[derive(Debug, Clone, Default)]
pub struct PrefixesParams {
    /// Tag names (case-insensitive); with a region, a cloud-wide tag stands for its variants.
    pub tags: Vec<String>,
    /// The region of the tags.
    pub region: Option<String>,
    /// The families wanted.
    pub family: Family,
    /// Merge the union exactly (the same addresses in the fewest prefixes).
    pub aggregate: bool,
    /// Subtract these tags or prefixes.
    pub minus: Vec<String>,
    /// Intersect with these tags or prefixes.
    pub intersect: Vec<String>,
}

/// The prefixes of tags.
#[derive(Debug, Clone, Serialize)]
pub struct PrefixesReport {
    /// The snapshot.
    pub snapshot: super::SnapshotInfo,
    /// The tags used, by name (a cloud-wide tag's regional variants with a region).
    pub tags: Vec<String>,
    /// Whether the prefixes were merged.
    pub aggregated: bool,
    /// IPv4 first, then by address, then by length.
    pub prefixes: Vec<IpNet>,
}

/// The prefixes of a request: the tags' union, with set algebra or aggregation when asked,
/// else as listed (repeats removed); sorted IPv4 first, by address, then length.
pub fn prefixes(
    snap: &Snapshot,
    info: &super::SnapshotInfo,
    p: &PrefixesParams,
) -> Result<PrefixesReport> {
    if p.tags.iter().all(|t| t.trim().is_empty()) {
        return Err(Error::field("tags", "is empty: name a tag such as Storage"));
    }
    let region = p.region.as_deref().filter(|r| !r.trim().is_empty());
    let mut ids: Vec<TagId> = Vec::new();
    for t in &p.tags {
        ids.extend(snap.resolve_tag(t, region)?);
    }
    ids.sort_unstable();
    ids.dedup();
    let mut nets: Vec<IpNet> = ids
        .iter()
        .flat_map(|&id| snap.tag(id).prefixes())
        .filter(|n| p.family.holds(n))
        .collect();
    let nets = if !p.minus.is_empty() || !p.intersect.is_empty() {
        let mut set = PrefixSet::from_prefixes(nets);
        for x in &p.intersect {
            set = set.intersection(&operand(snap, x, region, "intersect")?);
        }
        for x in &p.minus {
            set = set.difference(&operand(snap, x, region, "minus")?);
        }
        set.to_prefixes()
    } else if p.aggregate {
        PrefixSet::from_prefixes(nets).to_prefixes()
    } else {
        nets.sort_unstable_by_key(sort_key);
        nets.dedup();
        nets
    };
    Ok(PrefixesReport {
        snapshot: info.clone(),
        tags: ids
            .iter()
            .map(|&i| snap.tag(i).name().to_string())
            .collect(),
        aggregated: p.aggregate,
        prefixes: nets,
    })
}

/// A `minus`/`intersect` operand: a prefix or address, or a tag (with the request's region).
fn operand(
    snap: &Snapshot,
    t: &str,
    region: Option<&str>,
    field: &'static str,
) -> Result<PrefixSet> {
    Ok(range_named(snap, t, region, field)?.1)
}

/// Whether text is meant as an address or a prefix rather than a tag's name (it holds a `/`
/// or reads as an address), so that its errors are a prefix's.
pub fn is_address_text(t: &str) -> bool {
    let t = t.trim();
    t.contains('/') || text::address(t).is_ok()
}

/// A range as typed wherever a tag may stand for addresses (`--minus`, `check --on-prem`,
/// `--never-cover`): an address or prefix, or a tag's name — Microsoft's, another provider's
/// or your own (`Corp.OnPrem`) — standing for its prefixes (with `region`, a cloud-wide tag's
/// variants there). Returns the tags it named (none for a prefix) and the addresses.
pub fn range_named(
    snap: &Snapshot,
    t: &str,
    region: Option<&str>,
    field: &'static str,
) -> Result<(Vec<TagId>, PrefixSet)> {
    if is_address_text(t) {
        let net = text::address_or_prefix(t.trim(), HostBits::Clear).map_err(|reason| {
            Error::field(
                field,
                format!(": invalid prefix `{}`: {reason}", text::quoted(t)),
            )
        })?;
        return Ok((Vec::new(), PrefixSet::from_prefixes([net])));
    }
    let ids = snap.resolve_tag(t, region).map_err(|e| match e {
        Error::UnknownTag { .. } => Error::field(
            field,
            format!(
                ": `{}` is neither a prefix nor a tag: {e} (your own ranges are named with --custom FILE or tagnet.toml's [tags])",
                text::quoted(t)
            ),
        ),
        e => e,
    })?;
    let set = PrefixSet::from_prefixes(ids.iter().flat_map(|&i| snap.tag(i).prefixes()));
    Ok((ids, set))
}

/// IPv4 before IPv6, then address, then length.
pub fn sort_key(n: &IpNet) -> (u8, u128, u8) {
    let (s, _) = crate::prefixset::prefix_range(n);
    (u8::from(matches!(n, IpNet::V6(_))), s, n.prefix_len())
}

/// `info`: what a snapshot holds.
#[derive(Debug, Clone, Serialize)]
pub struct InfoReport {
    /// Where it was read from.
    pub source: String,
    /// `Public`, `AzureGovernment`, …
    pub cloud: String,
    /// Its changeNumber.
    pub change_number: u64,
    /// The download file or the Discovery API's output.
    pub format: crate::snapshot::SourceFormat,
    /// Tags.
    pub tags: usize,
    /// Tags of one region.
    pub regional_tags: usize,
    /// Tags without a region.
    pub cloud_wide_tags: usize,
    /// Region codes.
    pub regions: usize,
    /// IPv4 prefixes over all tags.
    pub ipv4_prefixes: usize,
    /// IPv6 prefixes over all tags.
    pub ipv6_prefixes: usize,
    /// Distinct IPv4 prefixes.
    pub distinct_ipv4_prefixes: usize,
    /// Distinct IPv6 prefixes.
    pub distinct_ipv6_prefixes: usize,
    /// What reading found odd.
    pub warnings: Vec<crate::snapshot::Warning>,
    /// The snapshot, as every report names it.
    pub snapshot: SnapshotInfo,
}

impl Row for InfoReport {
    const HEADERS: &'static [&'static str] = &[
        "SOURCE",
        "CLOUD",
        "CHANGE",
        "FORMAT",
        "TAGS",
        "REGIONAL",
        "CLOUD_WIDE",
        "REGIONS",
        "IPV4",
        "IPV6",
        "DISTINCT_IPV4",
        "DISTINCT_IPV6",
        "WARNINGS",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.source.clone(),
            self.cloud.clone(),
            self.change_number.to_string(),
            serde_json::to_value(self.format)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            self.tags.to_string(),
            self.regional_tags.to_string(),
            self.cloud_wide_tags.to_string(),
            self.regions.to_string(),
            self.ipv4_prefixes.to_string(),
            self.ipv6_prefixes.to_string(),
            self.distinct_ipv4_prefixes.to_string(),
            self.distinct_ipv6_prefixes.to_string(),
            self.warnings.len().to_string(),
        ]
    }
}

/// What `snap` holds; `index` is its tag index (counted for distinct prefixes).
pub fn info(snap: &Snapshot, index: &crate::TagIndex, info: &SnapshotInfo) -> InfoReport {
    let (d4, d6) = index.distinct_prefixes();
    let regional = snap.tags().iter().filter(|t| t.is_regional()).count();
    InfoReport {
        source: info.source.clone(),
        cloud: snap.cloud().to_string(),
        change_number: snap.change_number(),
        format: snap.format(),
        tags: snap.tags().len(),
        regional_tags: regional,
        cloud_wide_tags: snap.tags().len() - regional,
        regions: snap.regions().count(),
        ipv4_prefixes: snap.tags().iter().map(|t| t.v4().len()).sum(),
        ipv6_prefixes: snap.tags().iter().map(|t| t.v6().len()).sum(),
        distinct_ipv4_prefixes: d4,
        distinct_ipv6_prefixes: d6,
        warnings: snap.warnings().to_vec(),
        snapshot: info.clone(),
    }
}

/// One region of `regions`.
#[derive(Debug, Clone, Serialize)]
pub struct RegionRow {
    /// Its code (`eastus2`).
    pub region: String,
    /// Its display name (`East US 2`).
    pub display_name: String,
    /// Every spelling tagnet accepts for it.
    pub spellings: Vec<String>,
    /// Its tags.
    pub tags: usize,
    /// IPv4 prefixes over its tags.
    pub ipv4_prefixes: usize,
    /// IPv6 prefixes over its tags.
    pub ipv6_prefixes: usize,
}

impl Row for RegionRow {
    const HEADERS: &'static [&'static str] = &[
        "REGION",
        "DISPLAY NAME",
        "SPELLINGS",
        "TAGS",
        "IPV4 PREFIXES",
        "IPV6 PREFIXES",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.region.clone(),
            self.display_name.clone(),
            self.spellings.join(" "),
            self.tags.to_string(),
            self.ipv4_prefixes.to_string(),
            self.ipv6_prefixes.to_string(),
        ]
    }
}

/// `regions`: one row per region code, sorted by code.
pub fn regions(snap: &Snapshot) -> Vec<RegionRow> {
    snap.regions()
        .map(|code| {
            let ids = snap.region_tags(code);
            RegionRow {
                region: code.to_string(),
                display_name: snap.region_display_name(code),
                spellings: snap
                    .region_aliases(code)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                tags: ids.len(),
                ipv4_prefixes: ids.iter().map(|&i| snap.tag(i).v4().len()).sum(),
                ipv6_prefixes: ids.iter().map(|&i| snap.tag(i).v6().len()).sum(),
            }
        })
        .collect()
}
