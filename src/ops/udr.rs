//! `udr`: the user-defined routes forced tunneling needs, as one validated request and one
//! report for every front end.

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::routes::deploy::Header;
use crate::routes::{NextHop, OverBudget, Route, UdrRequest};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// A `udr` request as a front end receives it: plain values, validated by [`UdrParams::validate`].
#[derive(Debug, Clone, Default)]
pub struct UdrParams {
    /// Regions as typed; each item may hold several, comma-separated.
    pub regions: Vec<String>,
    /// Add each region's pair (Microsoft's table of region pairs).
    pub paired: bool,
    /// A documented tag set (`aml-vnet-2020`, …); `None` is the default profile.
    pub profile: Option<String>,
    /// Tags added to the profile's.
    pub tags: Vec<String>,
    /// Tags that replace the profile's.
    pub only_tags: Vec<String>,
    /// Include IPv6 prefixes.
    pub ipv6: bool,
    /// Next-hop type (`Internet` when `None`).
    pub next_hop: Option<String>,
    /// The appliance's IP, with next hop `VirtualAppliance`.
    pub next_hop_ip: Option<String>,
    /// The table's route limit (`None`: [`crate::routes::DEFAULT_MAX_ROUTES`]).
    pub max_routes: Option<usize>,
    /// Slots kept free for the table's own routes (`None`: 1).
    pub reserve: Option<usize>,
    /// Refuse rather than merge routes.
    pub exact: bool,
    /// Route by service-tag name where the tag lists UDR.
    pub use_service_tags: bool,
    /// Space merged routes must never cover: prefixes (host bits cleared), or tags' names
    /// (your own on-premises ranges) standing for their prefixes.
    pub never_cover: Vec<String>,
    /// The most addresses outside the required tags merged routes may carry (IPv4; IPv6 is
    /// never merged). `None`: no cap.
    pub max_extra: Option<u128>,
    /// Let IPv6 routes take slots the IPv4 routes need (IPv4 then merged further).
    pub ipv6_shares_budget: bool,
    /// The output is a whole route table holding a `0.0.0.0/0` route: that route takes a slot
    /// (at least one is reserved for it).
    pub owns_default_route: bool,
}

/// A validated `udr` request: regions resolved (pairs added), tags chosen, next hop parsed.
#[derive(Debug, Clone)]
pub struct Udr {
    /// What the route arithmetic takes.
    pub request: UdrRequest,
}

impl UdrParams {
    /// Validates the request against a snapshot. Errors name the field ([`Error::Field`]).
    pub fn validate(&self, snap: &Snapshot) -> Result<Udr> {
        let typed: Vec<String> = self
            .regions
            .iter()
            .flat_map(|r| r.split(','))
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
        if typed.is_empty() {
            return Err(Error::field(
                "regions",
                "is empty: give a region such as eastus2 (comma-separated for several)",
            ));
        }
        let mut regions = Vec::new();
        for r in &typed {
            let code = snap.resolve_region(r)?.to_string();
            if self.paired {
                let pair = crate::routes::region_pair(&code)
                    .or_else(|| crate::routes::region_pair(r))
                    .ok_or_else(|| {
                        Error::field(
                            "paired",
                            format!(
                                ": region `{r}` has no pair in tagnet's table of Azure region pairs (data/region-pairs.json); name the second region in «regions» instead"
                            ),
                        )
                    })?;
                let resolved = snap.resolve_region(&pair).map_err(|_| {
                    Error::field(
                        "paired",
                        format!(
                            ": the pair of `{r}` is `{pair}`, which this snapshot does not hold"
                        ),
                    )
                })?;
                regions.push(resolved.to_string());
            }
            regions.push(code);
        }
        let (profile_tags, named_tags) = self.tag_choice()?;
        let kind = self.next_hop.as_deref().unwrap_or("Internet");
        let next_hop = NextHop::parse(kind, self.next_hop_ip.as_deref()).map_err(|e| {
            // The type is wrong whatever the IP, or the IP is wrong (or missing) for the type.
            let kind_wrong = NextHop::parse(kind, None).is_err()
                && NextHop::parse(kind, Some("10.0.0.4")).is_err();
            Error::field(
                if kind_wrong {
                    "next_hop"
                } else {
                    "next_hop_ip"
                },
                format!(": {e}"),
            )
        })?;
        let mut never_cover = Vec::new();
        for t in &self.never_cover {
            let (_, set) = super::catalog::range_named(snap, t, None, "never_cover")?;
            never_cover.extend(set.to_prefixes());
        }
        let max_routes = self.max_routes.unwrap_or(crate::routes::DEFAULT_MAX_ROUTES);
        if max_routes == 0 {
            return Err(Error::field(
                "max_routes",
                "must be at least 1 (Azure's limit is 400 routes per table)",
            ));
        }
        Ok(Udr {
            request: UdrRequest {
                regions,
                profile_tags,
                named_tags,
                ipv6: self.ipv6,
                next_hop,
                max_routes,
                reserve: if self.owns_default_route {
                    self.reserve.unwrap_or(1).max(1)
                } else {
                    self.reserve.unwrap_or(1)
                },
                exact: self.exact,
                use_service_tags: self.use_service_tags,
                never_cover,
                max_extra: self.max_extra,
                ipv6_shares_budget: self.ipv6_shares_budget,
            },
        })
    }

    /// The profile's tags and the tags named by the user.
    fn tag_choice(&self) -> Result<(Vec<String>, Vec<String>)> {
        let clean = |v: &[String], field: &'static str| -> Result<Vec<String>> {
            v.iter()
                .map(|t| match t.trim() {
                    "" => Err(Error::field(
                        field,
                        "holds an empty tag name: name a tag such as Storage",
                    )),
                    t => Ok(t.to_string()),
                })
                .collect()
        };
        let (only, added) = (
            clean(&self.only_tags, "only_tags")?,
            clean(&self.tags, "tags")?,
        );
        if !only.is_empty() {
            if self.profile.is_some() {
                return Err(Error::field(
                    "only_tags",
                    "replaces the profile's tags; give «profile» or «only_tags», not both",
                ));
            }
            let mut named = only;
            named.extend(added);
            return Ok((Vec::new(), named));
        }
        let profile = match self.profile.as_deref() {
            Some(p) => crate::routes::profile(p)?,
            None => crate::routes::profiles()
                .into_iter()
                .find(|p| p.default)
                .ok_or_else(|| Error::Usage("no default profile".into()))?,
        };
        Ok((profile.tags, added))
    }
}

/// One route as reports show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RouteRecord {
    /// Route name.
    pub name: String,
    /// A prefix, or a service-tag name.
    pub address_prefix: String,
    /// Azure's next-hop type.
    pub next_hop_type: &'static str,
    /// The appliance's IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop_ip_address: Option<String>,
    /// The tags whose addresses it carries.
    pub tags: Vec<String>,
}

impl RouteRecord {
    /// The record of a route.
    pub fn of(r: &Route) -> RouteRecord {
        RouteRecord {
            name: r.name.clone(),
            address_prefix: r.address_prefix.clone(),
            next_hop_type: r.next_hop.kind(),
            next_hop_ip_address: r.next_hop.ip().map(|i| i.to_string()),
            tags: r.tags.clone(),
        }
    }
}

impl super::Row for RouteRecord {
    /// The table and CSV columns.
    const HEADERS: &'static [&'static str] = &[
        "NAME",
        "ADDRESS PREFIX",
        "NEXT HOP TYPE",
        "NEXT HOP IP ADDRESS",
        "TAGS",
    ];

    /// The table and CSV cells.
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.address_prefix.clone(),
            self.next_hop_type.to_string(),
            self.next_hop_ip_address.clone().unwrap_or_default(),
            self.tags.join(" "),
        ]
    }
}

/// How much of the table the routes take.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Budget {
    /// The table's route limit.
    pub max_routes: usize,
    /// Slots kept for the table's own routes.
    pub reserved: usize,
    /// Slots the routes take.
    pub used: usize,
    /// Slots left.
    pub free: usize,
}

/// The routes, what they cost, and what the user should know: `udr --format json` and
/// `GET /v1/udr?format=json` alike.
#[derive(Debug, Clone, Serialize)]
pub struct UdrReport {
    /// The routes: service-tag routes first, then prefix routes (IPv4 first, by address).
    pub routes: Vec<RouteRecord>,
    /// The budget.
    pub budget: Budget,
    /// Addresses routed that no required tag holds (merges forced by the budget).
    #[serde(serialize_with = "super::big_count")]
    pub extra_addresses: u128,
    /// Those addresses as prefixes.
    pub extra_prefixes: Vec<IpNet>,
    /// Prefix routes the exact set needs.
    pub exact_routes: usize,
    /// The tags routed.
    pub tags: Vec<String>,
    /// The regions routed.
    pub regions: Vec<String>,
    /// The snapshot's cloud.
    pub cloud: String,
    /// The snapshot's changeNumber.
    pub change_number: u64,
    /// Fallbacks and budget decisions, in order.
    pub notes: Vec<String>,
    /// The snapshot.
    pub snapshot: SnapshotInfo,
    /// Things that deploy but look wrong (a public appliance address).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The routes as the deployment renderers take them.
    #[serde(skip)]
    pub plan_routes: Vec<Route>,
}

impl UdrReport {
    /// The header of the deployment formats (az, ARM, Bicep, Terraform).
    pub fn header(&self) -> Header {
        Header {
            lines: vec![
                format!(
                    "Generated by tagnet from {} service tags, changeNumber {}.",
                    self.cloud, self.change_number
                ),
                format!(
                    "Regions: {}. Tags: {}.",
                    self.regions.join(", "),
                    self.tags.join(", ")
                ),
                format!(
                    "{} routes of a limit of {} ({} kept free for the table's own routes); {} addresses outside the required tags are also routed.",
                    self.budget.used,
                    self.budget.max_routes,
                    self.budget.reserved,
                    self.extra_addresses
                ),
            ],
        }
    }

    /// The file name a download of this report is offered under (without extension).
    pub fn file_stem(&self) -> String {
        format!("tagnet-udr-{}", self.regions.join("-"))
    }
}

/// Plans the routes of a request. `Ok(Err(_))` when they do not fit the budget (a negative
/// answer, not an error).
///
/// ```
/// let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/example/ServiceTags_Example.json")).unwrap();
/// let snap = tagnet::load::from_slice(&json, "example")?;
/// let info = tagnet::ops::SnapshotInfo::of(&snap, "example");
/// let params = tagnet::ops::udr::UdrParams { regions: vec!["eastus2".into()], ..Default::default() };
/// let report = tagnet::ops::udr::udr(&snap, &info, &params)?.unwrap();
/// assert_eq!(report.routes[0].next_hop_type, "Internet");
/// # Ok::<(), tagnet::Error>(())
/// ```
pub fn udr(
    snap: &Snapshot,
    info: &SnapshotInfo,
    params: &UdrParams,
) -> Result<std::result::Result<UdrReport, OverBudget>> {
    let req = params.validate(snap)?.request;
    let mut plan = match crate::routes::plan(snap, &req)? {
        Ok(p) => p,
        Err(over) => return Ok(Err(over)),
    };
    if params.owns_default_route && params.reserve == Some(0) {
        plan.notes.push(
            "the whole table holds its 0.0.0.0/0 route, which takes a slot: 1 is reserved for it (--reserve 0 raised to 1)".into(),
        );
    }
    let mut warnings = Vec::new();
    if let Some(ip) = req.next_hop.ip() {
        // Azure needs a next-hop IP of the route's family.
        if let Some(other) = plan
            .routes
            .iter()
            .filter_map(|r| r.address_prefix.parse::<IpNet>().ok())
            .find(|n| ip.is_ipv4() != matches!(n, IpNet::V4(_)))
        {
            let fam = |v4: bool| if v4 { "IPv4" } else { "IPv6" };
            return Err(Error::field(
                "next_hop_ip",
                format!(
                    "{ip} is {} but route {other} is {}: Azure needs a next-hop IP of the route's family; make one table per family{}",
                    fam(ip.is_ipv4()),
                    fam(matches!(other, IpNet::V4(_))),
                    if req.ipv6 { " or drop «ipv6»" } else { "" }
                ),
            ));
        }
        let unusable = match ip {
            IpAddr::V4(v4) => {
                v4.is_loopback() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()
            }
            IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified() || v6.is_multicast(),
        };
        if unusable {
            return Err(Error::field(
                "next_hop_ip",
                format!(
                    "{ip} is a loopback, unspecified, multicast or broadcast address, which Azure refuses as a next hop; give the appliance's private IP in the VNet"
                ),
            ));
        }
        if !is_private(ip) {
            warnings.push(format!(
                "the next-hop IP {ip} is a public address; an appliance's next hop is normally its private IP in the VNet"
            ));
        }
    }
    let used = plan.routes.len();
    let usable = plan.max_routes - plan.reserved;
    Ok(Ok(UdrReport {
        snapshot: info.clone(),
        routes: plan.routes.iter().map(RouteRecord::of).collect(),
        budget: Budget {
            max_routes: plan.max_routes,
            reserved: plan.reserved,
            used,
            free: usable - used.min(usable),
        },
        extra_addresses: plan.extra_addresses,
        extra_prefixes: plan.extra_prefixes,
        exact_routes: plan.exact_routes,
        tags: plan.tags,
        regions: plan.regions,
        cloud: snap.cloud().to_string(),
        change_number: snap.change_number(),
        notes: plan.notes,
        warnings,
        plan_routes: plan.routes,
    }))
}

/// Private, shared, link-local or unique-local: where an appliance's address normally is.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_link_local()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}
