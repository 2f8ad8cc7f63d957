//! Forced-tunneling routes: the user-defined routes a region's compute needs, within the
//! route-table budget, and an audit of an existing table ([`audit`]).
//!
//! Under forced tunneling (0.0.0.0/0 to a firewall or on-premises), Azure ML and Batch compute
//! need a route with next hop `Internet` for every prefix of `BatchNodeManagement.<region>` and
//! `AzureMachineLearning.<region>`. [`plan`] builds that set: exact minimal aggregation first;
//! if it still exceeds the budget, the optimal budgeted cover ([`crate::budget`]) with the extra
//! address space reported, never covering the private ranges or the given VNet space.

pub mod audit;
pub mod deploy;
pub mod select;
pub mod table;

use crate::budget::{BudgetError, budget_set};
use crate::error::{Error, Result};
use crate::prefixset::{PrefixSet, Ranges, prefix_range};
use crate::snapshot::{Snapshot, TagId};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

/// Route tables hold at most this many routes by default: the figure verified at its source.
///
/// | limit | figure | source | status |
/// |---|---:|---|---|
/// | user-defined routes per route table | 400 | MicrosoftDocs/azure-docs `includes/azure-virtual-network-limits.md`, ms.date 2022-12-05 ("User-defined routes per route table \|400") | verified, the default |
/// | same | 1,000 | azure-docs pull requests #128572 (2026-06-17, quoting Azure update 562695: "1,000 routes per route table, and 600 route tables per subscription") and #128759 (2026-09-04, quoting the live page) | reported, not seen at the source: `--max-routes 1000` |
/// | same | 600 | azure-docs pull request #128356 (2026-04-01) | unverified; 600 is the update's route tables per subscription |
/// | routes whose prefix is a service tag, per table | 25 | `articles/virtual-network/virtual-networks-udr-overview.md`, ms.date 2023-05-27 ("25 or less routes with service tags in each route table") | verified |
pub const DEFAULT_MAX_ROUTES: usize = 400;
/// At most this many routes per table may use a service tag as their address prefix (see
/// [`DEFAULT_MAX_ROUTES`] for the source).
pub const MAX_SERVICE_TAG_ROUTES: usize = 25;

/// The private ranges Azure gives system routes with next hop None; a forced-tunneling route
/// set must never send them to the Internet.
pub const PRIVATE_RANGES: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

/// A documented set of tags to route, kept as data with its source.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Profile {
    /// Profile name, e.g. `aml-vnet-2020`.
    pub name: String,
    /// Whether `udr` uses it when no profile is named.
    #[serde(default)]
    pub default: bool,
    /// Cloud-wide tag names whose regional variants are routed.
    pub tags: Vec<String>,
    /// What it is for.
    pub description: String,
    /// Where Microsoft says so.
    pub source: String,
}

#[derive(Deserialize)]
struct Profiles {
    profiles: Vec<Profile>,
}

/// The profiles shipped in `data/udr-profiles.json`.
pub fn profiles() -> Vec<Profile> {
    let p: Profiles = serde_json::from_str(include_str!("../../data/udr-profiles.json"))
        .expect("data/udr-profiles.json is valid (checked by a unit test)");
    p.profiles
}

/// A profile by name, or an error listing the known ones.
pub fn profile(name: &str) -> Result<Profile> {
    let all = profiles();
    all.iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| {
            Error::Usage(format!(
                "unknown profile `{name}`; known profiles: {}",
                all.iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Where a route sends traffic (Azure's `RouteNextHopType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NextHop {
    /// To the Internet (for Azure public IPs, over the Microsoft backbone).
    Internet,
    /// To a network virtual appliance at this private IP.
    VirtualAppliance(IpAddr),
    /// To the VPN gateway.
    VirtualNetworkGateway,
    /// Within the virtual network.
    VnetLocal,
    /// Dropped.
    None,
    /// A next hop only Azure creates, seen in effective routes (`VNetPeering`,
    /// `VNetGlobalPeering`, `VirtualNetworkServiceEndpoint`, `ConnectedGroup`, …).
    Platform(PlatformHop),
}

/// Next hops that only Azure creates; they appear in effective routes, never in a route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlatformHop {
    /// `VNetPeering`.
    VnetPeering,
    /// `VNetGlobalPeering`.
    VnetGlobalPeering,
    /// `VirtualNetworkServiceEndpoint`.
    ServiceEndpoint,
    /// `ConnectedGroup` (Virtual Network Manager).
    ConnectedGroup,
    /// `InterfaceEndpoint`: a private endpoint's host route.
    InterfaceEndpoint,
    /// Any other type Azure reports.
    Other,
}

impl NextHop {
    /// Azure's spelling of the type.
    pub fn kind(&self) -> &'static str {
        match self {
            NextHop::Internet => "Internet",
            NextHop::VirtualAppliance(_) => "VirtualAppliance",
            NextHop::VirtualNetworkGateway => "VirtualNetworkGateway",
            NextHop::VnetLocal => "VnetLocal",
            NextHop::None => "None",
            NextHop::Platform(p) => match p {
                PlatformHop::VnetPeering => "VNetPeering",
                PlatformHop::VnetGlobalPeering => "VNetGlobalPeering",
                PlatformHop::ServiceEndpoint => "VirtualNetworkServiceEndpoint",
                PlatformHop::ConnectedGroup => "ConnectedGroup",
                PlatformHop::InterfaceEndpoint => "InterfaceEndpoint",
                PlatformHop::Other => "Other",
            },
        }
    }

    /// Parses a next hop as effective routes report it: the types of [`NextHop::parse`] plus
    /// those only Azure creates. An appliance without an IP is an error.
    pub fn parse_effective(kind: &str, ip: Option<&str>) -> Result<NextHop> {
        let norm: String = kind
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let platform = match norm.as_str() {
            "vnetpeering" | "virtualnetworkpeering" => PlatformHop::VnetPeering,
            "vnetglobalpeering" => PlatformHop::VnetGlobalPeering,
            "virtualnetworkserviceendpoint" => PlatformHop::ServiceEndpoint,
            "connectedgroup" => PlatformHop::ConnectedGroup,
            "interfaceendpoint" => PlatformHop::InterfaceEndpoint,
            "internet"
            | "virtualappliance"
            | "virtualnetworkgateway"
            | "vnetlocal"
            | "virtualnetwork"
            | "none" => {
                let ip = if norm == "virtualappliance" { ip } else { None };
                return NextHop::parse(kind, ip);
            }
            _ => PlatformHop::Other,
        };
        Ok(NextHop::Platform(platform))
    }
    /// The appliance IP, for `VirtualAppliance`.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            NextHop::VirtualAppliance(ip) => Some(*ip),
            _ => None,
        }
    }

    /// Parses a next-hop type (case-insensitive; portal names accepted) and its IP.
    ///
    /// ```
    /// use tagnet::routes::NextHop;
    /// assert_eq!(NextHop::parse("internet", None).unwrap(), NextHop::Internet);
    /// assert!(NextHop::parse("VirtualAppliance", None).is_err()); // needs an IP
    /// assert!(NextHop::parse("Internet", Some("10.0.0.4")).is_err()); // IP only for appliances
    /// ```
    pub fn parse(kind: &str, ip: Option<&str>) -> Result<NextHop> {
        let norm: String = kind
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let hop = match norm.as_str() {
            "internet" => NextHop::Internet,
            "virtualappliance" => {
                let Some(text) = ip else {
                    return Err(Error::Usage(
                        "next hop VirtualAppliance needs the appliance's IP, e.g. 10.0.100.4"
                            .into(),
                    ));
                };
                let ip = crate::text::address(text)
                    .map_err(|_| Error::Parse {
                        what: "next-hop IP address",
                        text: crate::text::quoted(text),
                        reason: "expected the appliance's private IP, e.g. 10.0.100.4".into(),
                    })?
                    .0;
                return Ok(NextHop::VirtualAppliance(ip));
            }
            "virtualnetworkgateway" => NextHop::VirtualNetworkGateway,
            "vnetlocal" | "virtualnetwork" => NextHop::VnetLocal,
            "none" => NextHop::None,
            "virtualnetworkserviceendpoint" | "vnetpeering" | "virtualnetworkpeering" => {
                return Err(Error::Usage(format!(
                    "next hop `{kind}` is created by Azure only and cannot be used in a user-defined route; use Internet, VirtualAppliance, VirtualNetworkGateway, VnetLocal or None"
                )));
            }
            _ => {
                return Err(Error::Usage(format!(
                    "invalid next hop `{kind}`; use Internet, VirtualAppliance, VirtualNetworkGateway, VnetLocal or None"
                )));
            }
        };
        if let Some(ip) = ip {
            return Err(Error::Usage(format!(
                "a next-hop IP ({}) is only allowed with next hop VirtualAppliance (Azure refuses it for {})",
                crate::text::quoted(ip),
                hop.kind()
            )));
        }
        Ok(hop)
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::VirtualAppliance(ip) => write!(f, "VirtualAppliance {ip}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// One user-defined route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Valid for Azure, unique in the table, and the same every week for the same prefix.
    pub name: String,
    /// A prefix, or a service-tag name for a service-tag route.
    pub address_prefix: String,
    /// Where it sends traffic.
    pub next_hop: NextHop,
    /// The tags whose addresses it carries, sorted.
    pub tags: Vec<String>,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct UdrRequest {
    /// Regions as typed (resolved against the snapshot).
    pub regions: Vec<String>,
    /// Cloud-wide tag names from a profile, whose regional variants to route.
    pub profile_tags: Vec<String>,
    /// Tags named by the user (regional, or cloud-wide: see [`required_tags`]).
    pub named_tags: Vec<String>,
    /// Include IPv6 prefixes.
    pub ipv6: bool,
    /// Next hop for every route.
    pub next_hop: NextHop,
    /// Route limit of the table.
    pub max_routes: usize,
    /// Slots of the limit kept for the table's own routes (its `0.0.0.0/0` at least).
    pub reserve: usize,
    /// Refuse rather than cover extra addresses.
    pub exact: bool,
    /// Use the tag name as the route's prefix where the tag supports it.
    pub use_service_tags: bool,
    /// Address space that must never be covered (beyond the private ranges, always added).
    pub never_cover: Vec<IpNet>,
    /// The most addresses outside the required tags a merge may route (`None`: no cap).
    /// IPv6 is never merged, so the cap is IPv4's.
    pub max_extra: Option<u128>,
    /// Let IPv6 routes take slots the IPv4 routes need, merging IPv4 further (else refused).
    pub ipv6_shares_budget: bool,
}

/// The route set, with what it costs.
#[derive(Debug, Clone)]
pub struct UdrPlan {
    /// The routes: service-tag routes first (by name), then prefix routes (IPv4 first, by
    /// address).
    pub routes: Vec<Route>,
    /// The regional tags routed, sorted by name.
    pub tags: Vec<String>,
    /// Region codes routed.
    pub regions: Vec<String>,
    /// Prefix routes the exact aggregate needs.
    pub exact_routes: usize,
    /// Addresses routed that are in no required tag (0 unless the budget forced merges).
    pub extra_addresses: u128,
    /// Those addresses, as prefixes.
    pub extra_prefixes: Vec<IpNet>,
    /// Things the user should know (fallbacks, budget decisions), in order.
    pub notes: Vec<String>,
    /// The table's route limit.
    pub max_routes: usize,
    /// Slots of the limit kept for the table's own routes.
    pub reserved: usize,
}

/// Why no plan could be made within the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    /// Routes the exact set needs.
    pub needed: usize,
    /// The budget.
    pub max: usize,
    /// Explanation; request fields named `«name»` (see [`OverBudget::spelled`]).
    pub message: String,
}

impl OverBudget {
    /// The message with request fields spelled by `name`, as [`Error::spelled`] does.
    pub fn spelled(&self, name: &dyn Fn(&str) -> String) -> String {
        crate::error::spell_refs(&self.message, name)
    }
}

/// Turns a prefix into a route name: `<label>-<address>_<length>` with `:` written `-`.
pub fn route_name(label: &str, prefix: &IpNet) -> String {
    let label = sanitize(label);
    let addr = prefix.addr().to_string().replace(':', "-");
    let mut name = format!("{label}-{addr}_{}", prefix.prefix_len());
    if name.len() > 80 {
        // Keep the address part whole: it is what makes the name unique.
        let tail = format!("-{addr}_{}", prefix.prefix_len());
        name = format!("{}{tail}", &label[..80 - tail.len()]);
    }
    name
}

/// Keeps the characters Azure allows in a name; trims what may not start or end one.
pub(crate) fn sanitize(label: &str) -> String {
    let clean: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect();
    let clean = clean
        .trim_start_matches(['_', '.', '-'])
        .trim_end_matches(['.', '-']);
    if clean.is_empty() {
        "route".to_string()
    } else {
        clean.chars().take(80).collect()
    }
}

/// True when `name` is a valid Azure route name.
pub fn valid_route_name(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let first = name.chars().next();
    let last = name.chars().last();
    (1..=80).contains(&name.len())
        && name.chars().all(ok_char)
        && first.is_some_and(|c| c.is_ascii_alphanumeric())
        && last.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The tags a request means, sorted by id, and what the user should know about them.
///
/// `profile` tags are cloud-wide names whose regional variants the guidance asks for: each
/// must have a variant in every region, and when the file has none at all (a Discovery API
/// file, another cloud) that is an error naming what would work — never a silent switch to the
/// cloud-wide tag. `named` tags (`--tag`, `--only-tag`) are used as named: a regional tag as
/// it is, a cloud-wide one through its variants in the regions, or whole (with a note) when it
/// has no regional variants, as `AzureActiveDirectory`.
pub fn required_tags(
    snap: &Snapshot,
    regions: &[String],
    profile: &[String],
    named: &[String],
) -> Result<Required> {
    let mut ids = BTreeSet::new();
    let mut notes = Vec::new();
    for (t, from_profile) in profile
        .iter()
        .map(|t| (t, true))
        .chain(named.iter().map(|t| (t, false)))
    {
        let id = snap.tag_by_name(t)?;
        let tag = snap.tag(id);
        if tag.is_regional() {
            if !regions.iter().any(|r| {
                snap.resolve_region(r)
                    .is_ok_and(|code| code == tag.region())
            }) {
                notes.push(format!(
                    "`{}` is a tag of region {}, not of the requested region(s) {}; it is routed as named",
                    tag.name(),
                    tag.region(),
                    regions.join(",")
                ));
            }
            ids.insert(id);
            continue;
        }
        if snap.variants(id).is_empty() {
            if from_profile {
                return Err(Error::Usage(format!(
                    "`{}` has no regional variants in this file ({} {}, changeNumber {}), so `{}.<region>` cannot be routed; {}to route the cloud-wide tag instead ({} prefixes in every region), name it: «only_tags» {}",
                    tag.name(),
                    snap.cloud(),
                    match snap.format() {
                        crate::snapshot::SourceFormat::DiscoveryApi =>
                            "Discovery API output, which lists only some tags",
                        crate::snapshot::SourceFormat::Download => "download file",
                    },
                    snap.change_number(),
                    tag.name(),
                    match working_profiles(snap, regions) {
                        w if w.is_empty() => String::new(),
                        w => format!("profiles that work with this file: {}; ", w.join(", ")),
                    },
                    tag.v4().len() + tag.v6().len(),
                    tag.name()
                )));
            }
            notes.push(format!(
                "`{}` has no regional variants; the cloud-wide tag is routed whole ({} IPv4 prefixes, and {} IPv6 when IPv6 is included)",
                tag.name(),
                tag.v4().len(),
                tag.v6().len()
            ));
            ids.insert(id);
            continue;
        }
        for r in regions {
            ids.extend(snap.resolve_tag(t, Some(r))?);
        }
    }
    Ok(Required {
        ids: ids.into_iter().collect(),
        notes,
    })
}

/// The required tags of a request.
#[derive(Debug, Clone)]
pub struct Required {
    /// Tag ids, sorted.
    pub ids: Vec<TagId>,
    /// What was used in place of what (cloud-wide tags routed whole), in order.
    pub notes: Vec<String>,
}

/// The profiles whose every tag has a variant in each of `regions`.
pub fn working_profiles(snap: &Snapshot, regions: &[String]) -> Vec<String> {
    profiles()
        .into_iter()
        .filter(|p| {
            p.tags.iter().all(|t| {
                regions
                    .iter()
                    .all(|r| snap.resolve_tag(t, Some(r)).is_ok_and(|v| !v.is_empty()))
            })
        })
        .map(|p| p.name)
        .collect()
}

/// A region's pair, from Microsoft's table of Azure region pairs kept in
/// `data/region-pairs.json` (with its source), by ARM location name.
pub fn region_pair(location: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Pair {
        region: String,
        pair: String,
    }
    #[derive(Deserialize)]
    struct Pairs {
        pairs: Vec<Pair>,
    }
    let p: Pairs = serde_json::from_str(include_str!("../../data/region-pairs.json"))
        .expect("data/region-pairs.json is valid (checked by a unit test)");
    let want = crate::snapshot::normalize_region(location);
    p.pairs
        .into_iter()
        .find(|x| x.region == want)
        .map(|x| x.pair)
}

/// The required set merged into at most `budget` routes, adding the fewest addresses and
/// never covering the private ranges or «never_cover»; or why it cannot be.
fn merge(
    required: &PrefixSet,
    budget: usize,
    req: &UdrRequest,
    limit: usize,
    tag_routes: usize,
    room: &str,
) -> Result<std::result::Result<crate::prefixset::budget::BudgetedSet, OverBudget>> {
    let budget_left = budget;
    // Private space is never merged into a route, save what the tags themselves hold (your
    // own on-premises tag routed to a gateway).
    let private = PrefixSet::from_prefixes(
        PRIVATE_RANGES
            .iter()
            .map(|p| p.parse::<IpNet>().expect("valid")),
    );
    let forbidden = private
        .difference(required)
        .union(&PrefixSet::from_prefixes(req.never_cover.iter().copied()));
    match budget_set(required, budget_left, &forbidden) {
        Ok(b) => Ok(Ok(b)),
        Err(BudgetError::TooFew { needed, ipv6 }) => {
            let why = if ipv6 > 0 && budget_left <= ipv6 {
                format!(
                    "the {ipv6} IPv6 routes alone take the whole budget (IPv6 prefixes are never merged: a merged IPv6 route would send astronomically many other addresses along); drop «ipv6» or raise «max_routes»"
                )
            } else if ipv6 > 0 {
                format!(
                    "IPv6 prefixes are never merged ({ipv6} of the routes), and merging IPv4 cannot cover private or «never_cover» space"
                )
            } else {
                "merging cannot cover private or «never_cover» space".to_string()
            };
            Ok(Err(OverBudget {
                needed: needed + tag_routes,
                max: limit,
                message: format!(
                    "even merged, the routes need {} entries, more than {room}: {why}",
                    needed + tag_routes,
                ),
            }))
        }
        Err(BudgetError::InputForbidden { ranges }) => {
            let first = Ranges::from_ranges(ranges.clone()).to_prefixes_v4();
            Err(Error::field(
                "never_cover",
                format!(
                    "covers addresses the required tags hold ({} range(s), first {}); remove that prefix",
                    ranges.len(),
                    first[0]
                ),
            ))
        }
    }
}

/// Builds the route set for a request.
///
/// Returns `Ok(Err(OverBudget))` when the request cannot be met within the budget (with
/// `exact`, whenever the exact set is too large): a negative result, not an error.
pub fn plan(snap: &Snapshot, req: &UdrRequest) -> Result<std::result::Result<UdrPlan, OverBudget>> {
    if req.regions.is_empty() {
        return Err(Error::field(
            "regions",
            "is empty: give a region such as eastus2",
        ));
    }
    let mut regions = Vec::new();
    for r in &req.regions {
        regions.push(snap.resolve_region(r)?.to_string());
    }
    regions.sort();
    regions.dedup();
    let Required { ids, mut notes } =
        required_tags(snap, &req.regions, &req.profile_tags, &req.named_tags)?;
    let mut routes = Vec::new();
    let mut prefix_tags: Vec<TagId> = Vec::new();
    for &id in &ids {
        let t = snap.tag(id);
        if req.use_service_tags {
            if !t.has_feature("UDR") {
                notes.push(format!(
                    "{} does not list UDR in networkFeatures, so Azure may refuse it as a route prefix; its {} prefixes are routed instead",
                    t.name(),
                    t.v4().len() + if req.ipv6 { t.v6().len() } else { 0 }
                ));
            } else if routes.len() >= MAX_SERVICE_TAG_ROUTES {
                notes.push(format!(
                    "{}: a route table takes at most {MAX_SERVICE_TAG_ROUTES} service-tag routes; its prefixes are routed instead",
                    t.name()
                ));
            } else {
                routes.push(Route {
                    name: sanitize(t.name()),
                    address_prefix: t.name().to_string(),
                    next_hop: req.next_hop,
                    tags: vec![t.name().to_string()],
                });
                continue;
            }
        }
        prefix_tags.push(id);
    }
    let tag_routes = routes.len();
    // The required addresses and, per prefix, which tags hold them.
    let mut nets: Vec<IpNet> = Vec::new();
    for &id in &prefix_tags {
        let t = snap.tag(id);
        nets.extend(t.v4().iter().map(|&n| IpNet::V4(n)));
        if req.ipv6 {
            nets.extend(t.v6().iter().map(|&n| IpNet::V6(n)));
        }
    }
    let required = PrefixSet::from_prefixes(nets);
    let exact = required.to_prefixes();
    if req.max_routes == 0 {
        return Err(Error::field(
            "max_routes",
            "must be at least 1 (Azure's limit is 400 routes per table)",
        ));
    }
    if req.reserve >= req.max_routes {
        return Err(Error::field(
            "reserve",
            format!(
                "{} leaves no room under «max_routes» {}; reserve fewer slots",
                req.reserve, req.max_routes
            ),
        ));
    }
    let limit = req.max_routes - req.reserve;
    let room = if req.reserve > 0 {
        format!(
            "the {limit} routes left by «max_routes» {} with «reserve» {}",
            req.max_routes, req.reserve
        )
    } else {
        format!("«max_routes» {}", req.max_routes)
    };
    // The same budget in plain words, for the notes every front end shows as they are.
    let room_note = if req.reserve > 0 {
        format!(
            "the {limit} routes left by a limit of {} with {} reserved",
            req.max_routes, req.reserve
        )
    } else {
        format!("a limit of {} routes", req.max_routes)
    };
    if tag_routes > limit {
        // Service-tag routes are routes too: they take slots of the table.
        return Ok(Err(OverBudget {
            needed: tag_routes,
            max: limit,
            message: format!(
                "the {tag_routes} service-tag routes alone need more than {room}; route fewer tags or raise «max_routes»"
            ),
        }));
    }
    let budget_left = limit - tag_routes;
    let mut chosen = exact.clone();
    let mut extra_addresses = 0u128;
    let mut extra_prefixes = Vec::new();
    if exact.len() > budget_left {
        if req.exact {
            return Ok(Err(OverBudget {
                needed: exact.len() + tag_routes,
                max: limit,
                message: format!(
                    "the exact route set needs {} routes ({} prefix routes{}), more than {room}; drop «exact» to merge routes (covering extra addresses), or raise «max_routes»",
                    exact.len() + tag_routes,
                    exact.len(),
                    if tag_routes > 0 {
                        format!(" + {tag_routes} service-tag routes")
                    } else {
                        String::new()
                    },
                ),
            }));
        }
        let merged = match merge(&required, budget_left, req, limit, tag_routes, &room)? {
            Ok(m) => m,
            Err(over) => return Ok(Err(over)),
        };
        // IPv6 routes (never merged) take slots of the table: IPv4 is then merged further,
        // sending more of other owners' addresses along. That is refused unless asked for.
        let v6_routes = required.v6.to_prefix_bits(128).len();
        if v6_routes > 0 && !req.ipv6_shares_budget {
            let v4_only = PrefixSet {
                v4: required.v4.clone(),
                ..Default::default()
            };
            let alone = match merge(&v4_only, budget_left, req, limit, tag_routes, &room)? {
                Ok(m) => Some(m.extra_addresses),
                Err(_) => None,
            };
            if alone != Some(merged.extra_addresses) {
                return Ok(Err(OverBudget {
                    needed: exact.len() + tag_routes,
                    max: limit,
                    message: format!(
                        "the {v6_routes} IPv6 routes take slots the IPv4 routes need: with them, IPv4 is merged to send {} addresses outside the required tags{}; route IPv6 in a table of its own (drop «ipv6» here), raise «max_routes», or give «ipv6_shares_budget» to accept the merge",
                        merged.extra_addresses,
                        match alone {
                            Some(0) => " (without them, none)".to_string(),
                            Some(n) => format!(" (without them, {n})"),
                            None => String::new(),
                        }
                    ),
                }));
            }
        }
        if let Some(cap) = req.max_extra
            && merged.extra_addresses > cap
        {
            return Ok(Err(OverBudget {
                needed: exact.len() + tag_routes,
                max: limit,
                message: format!(
                    "merged into {} routes to fit {room}, the set sends {} addresses outside the required tags, more than «max_extra» {cap}: raise «max_extra» or «max_routes», or route fewer tags",
                    merged.prefixes.len() + tag_routes,
                    merged.extra_addresses
                ),
            }));
        }
        (chosen, extra_addresses, extra_prefixes) = (
            merged.prefixes,
            merged.extra_addresses,
            merged.extra_prefixes,
        );
        notes.push(format!(
            "the exact set needs {} prefix routes; merged into {} to fit {room_note}, which also sends {} addresses outside the required tags to {}: {}",
            exact.len(),
            chosen.len(),
            extra_addresses,
            req.next_hop,
            list_some(&extra_prefixes, 20)
        ));
    }
    routes.extend(name_routes(snap, &prefix_tags, &chosen, req.next_hop));
    Ok(Ok(UdrPlan {
        routes,
        tags: ids
            .iter()
            .map(|&i| snap.tag(i).name().to_string())
            .collect(),
        regions,
        exact_routes: exact.len(),
        extra_addresses,
        extra_prefixes,
        notes,
        max_routes: req.max_routes,
        reserved: req.reserve,
    }))
}

/// Prefix routes for `nets`, each named by the services whose addresses it carries
/// (`AzureServices` when several share it).
pub fn name_routes(
    snap: &Snapshot,
    tags: &[TagId],
    nets: &[IpNet],
    next_hop: NextHop,
) -> Vec<Route> {
    nets.iter()
        .map(|net| {
            let (s, e) = prefix_range(net);
            let mut carried: BTreeSet<&str> = BTreeSet::new();
            let mut theirs = 0;
            let mut services: BTreeSet<&str> = BTreeSet::new();
            for &id in tags {
                let t = snap.tag(id);
                let hit = match net {
                    IpNet::V4(_) => t
                        .v4()
                        .iter()
                        .any(|n| overlaps(prefix_range(&IpNet::V4(*n)), (s, e))),
                    IpNet::V6(_) => t
                        .v6()
                        .iter()
                        .any(|n| overlaps(prefix_range(&IpNet::V6(*n)), (s, e))),
                };
                if hit {
                    carried.insert(t.name());
                    services.insert(t.system_service());
                    if t.provider().is_some() {
                        theirs += 1;
                    }
                }
            }
            let label = match services.iter().next() {
                Some(svc) if services.len() == 1 && !svc.is_empty() => *svc,
                // One tag of your own (or another provider's): named for it.
                _ if carried.len() == 1 && theirs == 1 => carried.iter().next().expect("one"),
                _ => "AzureServices",
            };
            Route {
                name: route_name(label, net),
                address_prefix: net.to_string(),
                next_hop,
                tags: carried.into_iter().map(String::from).collect(),
            }
        })
        .collect()
}

/// Up to `n` prefixes, space-separated, then how many more.
pub fn list_some(prefixes: &[IpNet], n: usize) -> String {
    let mut s: Vec<String> = prefixes.iter().take(n).map(ToString::to_string).collect();
    if prefixes.len() > n {
        s.push(format!("and {} more", prefixes.len() - n));
    }
    s.join(" ")
}

fn overlaps(a: (u128, u128), b: (u128, u128)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_one_is_default() {
        let p = profiles();
        assert_eq!(p.iter().filter(|p| p.default).count(), 1);
        assert_eq!(
            profile("AML-VNET-2023").unwrap().tags,
            ["AzureMachineLearning"]
        );
        assert!(
            profile("nope")
                .unwrap_err()
                .to_string()
                .contains("aml-vnet-2020")
        );
    }

    #[test]
    fn route_names_are_valid_and_stable() {
        for (label, p) in [
            ("BatchNodeManagement", "20.41.5.224/27"),
            ("AzureMachineLearning", "2603:1030:40b::/48"),
            (
                "x".repeat(100).as_str(),
                "2603:1030:40b:ffff:ffff:ffff:ffff:fff0/124",
            ),
            ("!!", "0.0.0.0/0"),
        ] {
            let n = route_name(label, &p.parse().unwrap());
            assert!(valid_route_name(&n), "{n}");
            assert_eq!(n, route_name(label, &p.parse().unwrap()));
        }
        assert_eq!(
            route_name("BatchNodeManagement", &"20.41.5.224/27".parse().unwrap()),
            "BatchNodeManagement-20.41.5.224_27"
        );
        assert!(!valid_route_name("-a"));
        assert!(!valid_route_name("a."));
        assert!(!valid_route_name(""));
    }
}
