//! Domain types: a validated snapshot of service tags, and name resolution on it.
//!
//! A [`Snapshot`] owns its [`Tag`]s sorted by name; a tag's position in that order is its
//! [`TagId`], so sorting by id is sorting by name. Each tag's prefixes are canonical (no host
//! bits), split by family, sorted and free of repeats.
//!
//! Names are resolved the way people type them: tags case-insensitively, regions with case,
//! spaces, `-` and `_` ignored (`eastus2`, `EastUS2`, `East US 2`, `east-us-2`). Regional tags
//! are selected by `properties.region` and `properties.systemService`, never by cutting the
//! suffix off a name (Microsoft's suffixes are inconsistent: `AzureCloud.centralfrance`).

use crate::error::{Error, Result};
use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Index of a tag in [`Snapshot::tags`] (tags are sorted by name).
pub type TagId = u32;

/// Which JSON shape the snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// The weekly `ServiceTags_<Cloud>_<date>.json` download.
    Download,
    /// The Service Tag Discovery API / `az network list-service-tags`.
    DiscoveryApi,
}

/// A non-fatal finding made while loading.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// Stable kebab-case code, e.g. `host-bits-set`.
    pub code: &'static str,
    /// The tag it concerns.
    pub tag: String,
    /// What was found and what tagnet did about it.
    pub message: String,
}

/// One service tag.
#[derive(Debug, Clone)]
pub struct Tag {
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) region_id: Option<i64>,
    pub(crate) platform: Option<String>,
    pub(crate) system_service: String,
    pub(crate) change_number: Option<u64>,
    pub(crate) network_features: Option<Vec<String>>,
    pub(crate) v4: Vec<Ipv4Net>,
    pub(crate) v6: Vec<Ipv6Net>,
    /// Who published it when not Microsoft (another provider's range, or a custom tag).
    pub(crate) provider: Option<crate::sources::Provider>,
    /// A custom tag's description.
    pub(crate) description: String,
}

impl Tag {
    /// The tag name as published, e.g. `BatchNodeManagement.EastUS2`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Lower-case region code, empty for a cloud-wide tag.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// `regionId` (download file only).
    pub fn region_id(&self) -> Option<i64> {
        self.region_id
    }
    /// `platform` (download file only).
    pub fn platform(&self) -> Option<&str> {
        self.platform.as_deref()
    }
    /// Owning service, empty for `AzureCloud`.
    pub fn system_service(&self) -> &str {
        &self.system_service
    }
    /// Per-tag change number.
    pub fn change_number(&self) -> Option<u64> {
        self.change_number
    }
    /// `networkFeatures` sorted, or `None` where the file has `null` (or the API shape).
    pub fn network_features(&self) -> Option<&[String]> {
        self.network_features.as_deref()
    }
    /// True when `networkFeatures` lists `feature` (case-insensitive).
    pub fn has_feature(&self, feature: &str) -> bool {
        self.network_features()
            .is_some_and(|f| f.iter().any(|x| x.eq_ignore_ascii_case(feature)))
    }
    /// IPv4 prefixes, sorted, canonical, unique.
    pub fn v4(&self) -> &[Ipv4Net] {
        &self.v4
    }
    /// IPv6 prefixes, sorted, canonical, unique.
    pub fn v6(&self) -> &[Ipv6Net] {
        &self.v6
    }
    /// Every prefix, IPv4 then IPv6.
    pub fn prefixes(&self) -> impl Iterator<Item = ipnet::IpNet> + '_ {
        self.v4
            .iter()
            .map(|&n| ipnet::IpNet::V4(n))
            .chain(self.v6.iter().map(|&n| ipnet::IpNet::V6(n)))
    }
    /// True for a tag with a region.
    pub fn is_regional(&self) -> bool {
        !self.region.is_empty()
    }
    /// Who published it: `None` for Microsoft's tags, else the provider (or
    /// [`crate::sources::Provider::Custom`]).
    pub fn provider(&self) -> Option<crate::sources::Provider> {
        self.provider
    }
    /// `Azure`, or the provider's name.
    pub fn provider_name(&self) -> &'static str {
        self.provider.map_or("Azure", |p| p.name())
    }
    /// A custom tag's description (empty otherwise).
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The part of the name before the first `.` (`Storage` for `Storage.WestEurope`).
    pub fn name_base(&self) -> &str {
        self.name.split('.').next().unwrap_or(&self.name)
    }
}

/// A validated snapshot: cloud, change number, tags sorted by name, warnings.
#[derive(Debug, Clone)]
pub struct Snapshot {
    cloud: String,
    change_number: u64,
    format: SourceFormat,
    tags: Vec<Tag>,
    warnings: Vec<Warning>,
    by_lower_name: HashMap<String, TagId>,
    /// The sources beside Microsoft's file whose tags are here too.
    sources: Vec<crate::sources::SourceInfo>,
    /// Region code → Microsoft's tags in that region (sorted by id); other providers'
    /// regions are their tags' own business, not Azure regions.
    regions: BTreeMap<String, Vec<TagId>>,
    /// Normalised name suffixes of regional tags → region code (`francecentral` →
    /// `centralfrance`), learnt from the file, kept only where unambiguous.
    region_aliases: BTreeMap<String, String>,
}

impl Snapshot {
    pub(crate) fn new(
        cloud: String,
        change_number: u64,
        format: SourceFormat,
        tags: Vec<Tag>,
        warnings: Vec<Warning>,
    ) -> Self {
        let by_lower_name = tags
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.to_ascii_lowercase(), i as TagId))
            .collect();
        let mut regions: BTreeMap<String, Vec<TagId>> = BTreeMap::new();
        for (i, t) in tags.iter().enumerate() {
            // Your own tags' regions are Azure's (resolved when read); other providers' are
            // theirs, not Azure regions.
            if t.is_regional()
                && (t.provider.is_none() || t.provider == Some(crate::sources::Provider::Custom))
            {
                regions
                    .entry(t.region.clone())
                    .or_default()
                    .push(i as TagId);
            }
        }
        // Microsoft's region codes are not always the ARM location names people type
        // (`centralfrance` for `francecentral`, `germanywc` for `germanywestcentral`), but the
        // tag names carry the familiar spelling: learn aliases from them.
        // A spelling counts when at least three services use it for the region: one tag's
        // odd suffix (`AzurePortal.AzureAppServiceUx`, `Storage.EastUS2Stage`) is not a region.
        let mut seen: BTreeMap<String, Option<(String, BTreeSet<String>)>> = BTreeMap::new();
        for t in tags
            .iter()
            .filter(|t| t.is_regional() && t.provider.is_none())
        {
            if let Some((base, suffix)) = t.name.split_once('.') {
                let alias = normalize_region(suffix);
                if alias != t.region && !regions.contains_key(&alias) {
                    let e = seen
                        .entry(alias)
                        .or_insert_with(|| Some((t.region.clone(), BTreeSet::new())));
                    match e {
                        Some((code, bases)) if *code == t.region => {
                            bases.insert(base.to_ascii_lowercase());
                        }
                        _ => *e = None,
                    }
                }
            }
        }
        let region_aliases = seen
            .into_iter()
            .filter_map(|(a, c)| {
                let (code, bases) = c?;
                (bases.len() >= 3).then_some((a, code))
            })
            .collect();
        Snapshot {
            cloud,
            change_number,
            format,
            tags,
            warnings,
            by_lower_name,
            sources: Vec::new(),
            regions,
            region_aliases,
        }
    }

    /// This snapshot with the tags of other sources beside Microsoft's (other providers'
    /// ranges, custom tags): one index then answers for all of them. A name that a tag
    /// already has (any case) is refused, naming both: a custom tag may not shadow a Microsoft
    /// tag, and one source may not be given twice.
    pub fn with_sources(self, mut sources: Vec<crate::sources::Source>) -> Result<Snapshot> {
        if sources.is_empty() {
            return Ok(self);
        }
        // A custom tag's region is an Azure region, read as every region is typed.
        for s in &mut sources {
            if s.provider != crate::sources::Provider::Custom {
                continue;
            }
            for t in &mut s.tags {
                if !t.region.is_empty() {
                    t.region = self
                        .resolve_region(&t.region)
                        .map_err(|e| Error::Invalid {
                            origin: s.info.origin.clone(),
                            message: format!("tag `{}`: {e}", t.name),
                            hint: "give an Azure region (westeurope, West Europe), or none".into(),
                        })?
                        .to_string();
                }
            }
        }
        let Snapshot {
            cloud,
            change_number,
            format,
            mut tags,
            warnings,
            by_lower_name,
            sources: mut infos,
            ..
        } = self;
        let mut names = by_lower_name;
        let mut origin_of: HashMap<String, String> = HashMap::new();
        for s in sources {
            for t in s.tags {
                let lower = t.name.to_ascii_lowercase();
                // Cloudflare publishes its IPv4 and IPv6 lists apart: the second joins the
                // first's tag.
                if let Some(&id) = names.get(&lower)
                    && s.provider == crate::sources::Provider::Cloudflare
                    && tags[id as usize].provider == Some(crate::sources::Provider::Cloudflare)
                {
                    let tag = &mut tags[id as usize];
                    for n in t.prefixes {
                        match n {
                            ipnet::IpNet::V4(n) => tag.v4.push(n),
                            ipnet::IpNet::V6(n) => tag.v6.push(n),
                        }
                    }
                    tag.v4.sort();
                    tag.v4.dedup();
                    tag.v6.sort();
                    tag.v6.dedup();
                    continue;
                }
                // The tags Azure's rules know that the download file does not list.
                const PLATFORM: [&str; 7] = [
                    "virtualnetwork",
                    "internet",
                    "azureloadbalancer",
                    "azureplatformdns",
                    "azureplatformimds",
                    "azureplatformlkm",
                    "*",
                ];
                if PLATFORM.contains(&lower.as_str()) {
                    return Err(Error::Invalid {
                        origin: s.info.origin.clone(),
                        message: format!(
                            "tag `{}` is a name Azure's NSG rules give their own meaning (VirtualNetwork, Internet, AzureLoadBalancer, AzurePlatformDNS, AzurePlatformIMDS, AzurePlatformLKM)",
                            t.name
                        ),
                        hint: "rename your tag (a prefix of your own, such as `Corp.`, keeps it apart)"
                            .into(),
                    });
                }
                if let Some(&id) = names.get(&lower) {
                    let other = &tags[id as usize];
                    let whose = match other.provider {
                        None => format!("Microsoft's tag `{}`", other.name),
                        Some(_) => format!(
                            "the tag `{}` of {}",
                            other.name,
                            origin_of
                                .get(&lower)
                                .map_or("another source", String::as_str)
                        ),
                    };
                    return Err(Error::Invalid {
                        origin: s.info.origin.clone(),
                        message: format!("tag `{}` collides with {whose}", t.name),
                        hint: if s.provider == crate::sources::Provider::Custom {
                            "rename your tag (a prefix of your own, such as `Corp.`, keeps it apart)".into()
                        } else {
                            "give each provider's file once".into()
                        },
                    });
                }
                names.insert(lower.clone(), tags.len() as TagId);
                origin_of.insert(lower, s.info.origin.clone());
                let (mut v4, mut v6) = (Vec::new(), Vec::new());
                for n in t.prefixes {
                    match n {
                        ipnet::IpNet::V4(n) => v4.push(n),
                        ipnet::IpNet::V6(n) => v6.push(n),
                    }
                }
                tags.push(Tag {
                    name: t.name,
                    region: t.region,
                    region_id: None,
                    platform: None,
                    system_service: t.service,
                    change_number: None,
                    network_features: None,
                    v4,
                    v6,
                    provider: Some(s.provider),
                    description: t.description,
                });
            }
            infos.push(s.info);
        }
        tags.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let mut snap = Snapshot::new(cloud, change_number, format, tags, warnings);
        snap.sources = infos;
        Ok(snap)
    }

    /// A snapshot of one other source's tags alone (no Microsoft tags): one week of a
    /// provider's file, for `history`.
    pub fn of_source(source: crate::sources::Source) -> Result<Snapshot> {
        let cloud = source.info.provider.clone();
        Snapshot::new(cloud, 0, SourceFormat::Download, Vec::new(), Vec::new())
            .with_sources(vec![source])
    }

    /// The sources beside Microsoft's file whose tags this snapshot holds too.
    pub fn sources(&self) -> &[crate::sources::SourceInfo] {
        &self.sources
    }

    /// `Public`, `AzureGovernment`, …
    pub fn cloud(&self) -> &str {
        &self.cloud
    }
    /// The top-level change number.
    pub fn change_number(&self) -> u64 {
        self.change_number
    }
    /// Which JSON shape it was read from.
    pub fn format(&self) -> SourceFormat {
        self.format
    }
    /// All tags, sorted by name.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }
    /// The tag with this id.
    pub fn tag(&self, id: TagId) -> &Tag {
        &self.tags[id as usize]
    }
    /// Non-fatal findings from loading, sorted by tag.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
    /// Region codes in the snapshot, sorted.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.keys().map(String::as_str)
    }
    /// The tags of one region (by exact code), sorted by name.
    pub fn region_tags(&self, region: &str) -> &[TagId] {
        self.regions.get(region).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The spellings besides the code that [`Snapshot::resolve_region`] accepts for a region
    /// (learned from the file's tag names, e.g. `francecentral` for `centralfrance`), sorted.
    pub fn region_aliases(&self, code: &str) -> Vec<&str> {
        self.region_aliases
            .iter()
            .filter(|(alias, c)| c.as_str() == code && alias.as_str() != code)
            .map(|(alias, _)| alias.as_str())
            .collect()
    }

    /// A display name for a region, from the spelling of its tag names (`Storage.EastUS2` →
    /// `East US 2`): the suffix with the most capitals, split at case changes and digits.
    pub fn region_display_name(&self, code: &str) -> String {
        let best = self
            .region_tags(code)
            .iter()
            .filter_map(|&id| self.tag(id).name().split_once('.').map(|(_, s)| s))
            .filter(|s| {
                normalize_region(s) == code
                    || self
                        .region_aliases
                        .get(&normalize_region(s))
                        .is_some_and(|c| c == code)
            })
            .max_by_key(|s| {
                (
                    s.chars().filter(char::is_ascii_uppercase).count(),
                    std::cmp::Reverse(*s),
                )
            });
        let Some(word) = best else {
            return code.to_string();
        };
        let chars: Vec<char> = word.chars().collect();
        let mut out = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) => {
                    (c.is_ascii_uppercase() && p.is_ascii_lowercase())
                        || (c.is_ascii_uppercase()
                            && p.is_ascii_uppercase()
                            && next.is_some_and(|n| n.is_ascii_lowercase()))
                        || (c.is_ascii_digit() && !p.is_ascii_digit())
                        || (!c.is_ascii_digit() && p.is_ascii_digit())
                }
            };
            if boundary {
                out.push(' ');
            }
            out.push(c);
        }
        out.replace("Do D", "DoD")
    }

    /// Resolves a region as typed to its code. Besides the code itself, the spelling used in
    /// the file's regional tag names is accepted (`FranceCentral` → `centralfrance`).
    ///
    /// ```
    /// # let snap = tagnet::load::from_slice(br#"{"changeNumber":1,"cloud":"Public","values":[
    /// #  {"name":"AzureCloud.eastus2","properties":{"region":"eastus2","systemService":"","addressPrefixes":[]}}]}"#, "x")?;
    /// assert_eq!(snap.resolve_region("East US 2")?, "eastus2");
    /// assert_eq!(snap.resolve_region("east-us-2")?, "eastus2");
    /// assert!(snap.resolve_region("eastus3").unwrap_err().to_string().contains("did you mean `eastus2`"));
    /// # Ok::<(), tagnet::Error>(())
    /// ```
    pub fn resolve_region(&self, typed: &str) -> Result<&str> {
        let want = normalize_region(typed);
        if let Some((code, _)) = self.regions.get_key_value(want.as_str()) {
            return Ok(code);
        }
        // Codes are already normalised in every published file; be lenient if one is not.
        if let Some(code) = self.regions.keys().find(|c| normalize_region(c) == want) {
            return Ok(code);
        }
        if let Some(code) = self.region_aliases.get(&want)
            && let Some((code, _)) = self.regions.get_key_value(code)
        {
            return Ok(code);
        }
        let other_cloud = if want.starts_with("usgov") || want.starts_with("usdod") {
            Some("AzureGovernment")
        } else if want.starts_with("china") {
            Some("AzureChinaCloud")
        } else if want.starts_with("germanycentral") || want.starts_with("germanynortheast") {
            Some("AzureGermany")
        } else {
            None
        };
        if let Some(cloud) = other_cloud.filter(|c| !self.cloud.eq_ignore_ascii_case(c)) {
            return Err(Error::Usage(format!(
                "unknown region `{typed}`: it is a region of the {cloud} cloud, and this snapshot is {} (changeNumber {}); use that cloud's service-tag file",
                self.cloud, self.change_number
            )));
        }
        Err(Error::UnknownRegion {
            name: typed.to_string(),
            suggestions: suggest(&want, self.regions.keys().map(String::as_str), |s| {
                normalize_region(s)
            }),
        })
    }

    /// Finds a tag by name, case-insensitively. A cloud-wide tag may also be named by its
    /// `systemService` when that is unambiguous (`AzureStorage` → `Storage`).
    pub fn tag_by_name(&self, typed: &str) -> Result<TagId> {
        let lower = typed.trim().to_ascii_lowercase();
        if let Some(&id) = self.by_lower_name.get(&lower) {
            return Ok(id);
        }
        let by_service: Vec<TagId> = self
            .ids()
            .filter(|&i| {
                let t = self.tag(i);
                !t.is_regional()
                    && t.provider.is_none()
                    && t.system_service.eq_ignore_ascii_case(&lower)
            })
            .collect();
        if let [one] = by_service[..] {
            return Ok(one);
        }
        // `AzureCloud.francecentral`: the tag of that region under the file's own spelling
        // (`AzureCloud.centralfrance`) first.
        let mut suggestions: Vec<String> = Vec::new();
        if let Some((base, suffix)) = typed.trim().split_once('.')
            && let Ok(code) = self.resolve_region(suffix)
        {
            suggestions.extend(
                self.region_tags(code)
                    .iter()
                    .map(|&id| self.tag(id).name())
                    .filter(|n| {
                        n.split_once('.')
                            .is_some_and(|(b, _)| b.eq_ignore_ascii_case(base))
                    })
                    .map(str::to_string),
            );
        }
        for s in suggest(&lower, self.tags.iter().map(|t| t.name.as_str()), |s| {
            s.to_ascii_lowercase()
        }) {
            if suggestions.len() < 3 && !suggestions.contains(&s) {
                suggestions.push(s);
            }
        }
        Err(Error::UnknownTag {
            name: typed.to_string(),
            suggestions,
        })
    }

    /// A tag as an Azure resource names it (an NSG rule's prefix, a route's): Microsoft's
    /// only. Another provider's tag or your own is beside Microsoft's for lookups, but Azure
    /// refuses it in a rule or a route, so it is not one here.
    pub fn service_tag_by_name(&self, typed: &str) -> Result<TagId> {
        let id = self.tag_by_name(typed)?;
        match self.tag(id).provider {
            None => Ok(id),
            Some(p) => Err(Error::Usage(format!(
                "`{}` is {}, not a Microsoft service tag: Azure refuses it in NSG rules and routes (write its prefixes there: `tagnet prefixes {}`)",
                typed.trim(),
                if p == crate::sources::Provider::Custom {
                    "one of your own tags (--custom)".to_string()
                } else {
                    format!("{}'s range (--source)", p.name())
                },
                self.tag(id).name
            ))),
        }
    }

    /// Resolves a tag as typed, optionally in a region, to the tags it means.
    ///
    /// Without a region: the named tag. With a region: a regional tag named directly must be in
    /// that region; a cloud-wide tag means its regional variants there — the tags whose
    /// `region` is the region and whose `systemService` is the cloud-wide tag's (also matching
    /// the name before the `.` when several cloud-wide tags share that service, as `AzureCloud`
    /// and `AzureFrontDoor.Frontend` share the empty one). A region may hold more than one
    /// variant (`Storage.EastUS2` and `Storage.EastUS2Stage`); all are returned, sorted.
    pub fn resolve_tag(&self, typed: &str, region: Option<&str>) -> Result<Vec<TagId>> {
        let id = self.tag_by_name(typed)?;
        let Some(region_typed) = region else {
            return Ok(vec![id]);
        };
        let region = self.resolve_region(region_typed)?;
        let tag = self.tag(id);
        // Another provider's regions are not Azure's: an Azure region narrows nothing of its
        // tags, which are taken as named.
        if tag
            .provider
            .is_some_and(|p| p != crate::sources::Provider::Custom)
        {
            return Ok(vec![id]);
        }
        if tag.is_regional() {
            if tag.region == region {
                return Ok(vec![id]);
            }
            return Err(Error::TagNotInRegion {
                tag: tag.name.clone(),
                region: region.to_string(),
                regions: vec![tag.region.clone()],
            });
        }
        let variants = self.variants(id);
        let here: Vec<TagId> = variants
            .iter()
            .copied()
            .filter(|&v| self.tag(v).region == region)
            .collect();
        if here.is_empty() {
            let mut regions: Vec<String> = variants
                .iter()
                .map(|&v| self.tag(v).region.clone())
                .collect();
            regions.sort();
            regions.dedup();
            return Err(Error::TagNotInRegion {
                tag: tag.name.clone(),
                region: region.to_string(),
                regions,
            });
        }
        Ok(here)
    }

    /// The regional variants of a cloud-wide tag, in all regions, sorted by id.
    pub fn variants(&self, cloud_wide: TagId) -> Vec<TagId> {
        let tag = self.tag(cloud_wide);
        if tag.is_regional() {
            return Vec::new();
        }
        // Your own tags share no service: a variant is named for its tag
        // (`Corp.Saas.WestEurope` of `Corp.Saas`), never another of your tags.
        if tag.provider == Some(crate::sources::Provider::Custom) {
            let stem = format!("{}.", tag.name.to_ascii_lowercase());
            return self
                .ids()
                .filter(|&i| {
                    let t = self.tag(i);
                    t.is_regional()
                        && t.provider == tag.provider
                        && t.name.to_ascii_lowercase().starts_with(&stem)
                })
                .collect();
        }
        let shared_service = self
            .tags
            .iter()
            .filter(|t| {
                !t.is_regional()
                    && t.provider == tag.provider
                    && t.system_service == tag.system_service
            })
            .count()
            > 1;
        let by_service: Vec<TagId> = self
            .ids()
            .filter(|&i| {
                let t = self.tag(i);
                t.is_regional()
                    && t.provider == tag.provider
                    && t.system_service == tag.system_service
                    && (!shared_service || t.name_base().eq_ignore_ascii_case(tag.name_base()))
            })
            .collect();
        if !by_service.is_empty() {
            return by_service;
        }
        // A service whose regional tags carry another systemService (WindowsVirtualDesktop):
        // fall back to the name.
        self.ids()
            .filter(|&i| {
                let t = self.tag(i);
                t.is_regional() && t.name_base().eq_ignore_ascii_case(&tag.name)
            })
            .collect()
    }

    fn ids(&self) -> impl Iterator<Item = TagId> + '_ {
        (0..self.tags.len()).map(|i| i as TagId)
    }
}

/// Matches `t` against a glob: `*` any run, `?` one character (the caller chooses the case).
///
/// ```
/// use tagnet::snapshot::glob_match;
/// assert!(glob_match("storage.*", "storage.westeurope"));
/// assert!(!glob_match("storage.*", "storage"));
/// assert!(glob_match("sql.eastus?", "sql.eastus2"));
/// ```
pub fn glob_match(g: &str, t: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (g.chars().collect(), t.chars().collect());
    let (mut gi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some(gi);
            mark = ti;
            gi += 1;
        } else if let Some(s) = star {
            gi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

/// Normalises a region as people type it: lower case, without spaces, `-` or `_`.
///
/// ```
/// assert_eq!(tagnet::snapshot::normalize_region("East US 2"), "eastus2");
/// ```
pub fn normalize_region(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Up to three known names closest to `want` (already normalised by `norm`): names that
/// contain it or that it contains, then those within a small edit distance.
pub(crate) fn suggest<'a>(
    want: &str,
    known: impl Iterator<Item = &'a str>,
    norm: impl Fn(&str) -> String,
) -> Vec<String> {
    let limit = (want.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = known
        .filter_map(|k| {
            let n = norm(k);
            let d = crate::text::edit_distance(want, &n);
            // A name holding what was typed (`Storage` → `AzureStorage`), or the other way.
            let contains =
                !want.is_empty() && (n.contains(want) || (n.len() > 3 && want.starts_with(&n)));
            (d <= limit || contains).then_some((if contains { 0 } else { d }, k))
        })
        .collect();
    scored.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.len().cmp(&b.1.len()))
            .then(a.1.cmp(b.1))
    });
    scored
        .into_iter()
        .take(3)
        .map(|(_, k)| k.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(crate::text::edit_distance("kitten", "sitting"), 3);
        assert_eq!(crate::text::edit_distance("", "abc"), 3);
        assert_eq!(crate::text::edit_distance("eastus2", "eastus2"), 0);
    }

    #[test]
    fn suggestions_prefer_close_names() {
        let known = ["Storage.WestEurope", "Storage.WestUS", "Sql.WestEurope"];
        let s = suggest("storag.westeurope", known.into_iter(), |s| {
            s.to_ascii_lowercase()
        });
        assert_eq!(s[0], "Storage.WestEurope");
        let services = ["StorageMover", "AzureStorage", "StorageSyncService", "Sql"];
        let s = suggest("storage", services.into_iter(), |s| s.to_ascii_lowercase());
        assert!(s.contains(&"AzureStorage".to_string()), "{s:?}");
    }
}
