//! Route selection as Azure's data plane makes it for one subnet: the candidate routes (the
//! subnet's route table, BGP routes, and the system routes Azure adds), Microsoft's documented
//! exceptions, and a lookup table that gives the chosen route of any address.
//!
//! One builder serves `routes audit` (prefix by prefix, over the required tags) and `path`
//! (address by address): [`candidates`] yields each distinct prefix with the route that wins it,
//! and [`Selector`] sweeps them once into elementary segments, so a lookup is one binary search.
//!
//! The order, for routes of one prefix (lower rank wins), and the exceptions:
//! - longest prefix first; then a user route, then BGP, then a system route;
//! - an explicit prefix beats a service-tag route, and among tag routes a regional tag beats a
//!   cloud-wide one, which beats `AzureCloud.<region>`, which beats `AzureCloud`;
//! - system routes for the VNet's space, its peerings and its service endpoints win over BGP
//!   routes, even more specific ones (those BGP routes are left out);
//! - a service-endpoint route is not overridden by a route table (Learn's reading); a 2026 pull
//!   request reports the UDR winning: [`Readings::udr_over_service_endpoint`] models it;
//! - a private endpoint's `/32` (`/128`) yields only to a user route at least as specific as the
//!   endpoint VNet's address space, and only with network policies on in the endpoint's subnet
//!   (never to `0.0.0.0/0`);
//! - `disableBgpRoutePropagation` drops BGP routes;
//! - after a user `0.0.0.0/0`, Learn's routing example shows the `None` routes of 10.0.0.0/8,
//!   192.168.0.0/16 and 100.64.0.0/10 removed: [`Readings::none_routes_kept`] models the other
//!   reading;
//! - 168.63.129.16 and 169.254.169.254 are not subject to user-defined routes ([`Choice::Platform`]).
//!
//! The naive evaluator of the same rules, address by address, is [`crate::oracle::route`].

use super::NextHop;
use super::table::{RouteSource, RouteTable, TableKind};
use crate::index::interval::{NONE, laminar_sweep};
use crate::prefixset::prefix_range;
use crate::snapshot::Snapshot;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;
use std::net::IpAddr;

/// The addresses Azure's platform answers at, which user-defined routes do not move.
pub const PLATFORM: [IpAddr; 2] = [
    IpAddr::V4(std::net::Ipv4Addr::new(168, 63, 129, 16)),
    IpAddr::V4(std::net::Ipv4Addr::new(169, 254, 169, 254)),
];

/// The `None` routes a user `0.0.0.0/0` removes: Learn's routing example names 10.0.0.0/8,
/// 192.168.0.0/16 and 100.64.0.0/10 and is silent on 172.16.0.0/12; the four are treated
/// alike (the other reading keeps them all).
pub const REMOVED_BY_DEFAULT: [&str; 4] = super::PRIVATE_RANGES;

/// Where a candidate route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "index", rename_all = "kebab-case")]
pub enum Origin {
    /// An explicit-prefix route of the table or the effective routes (index into its routes).
    Route(usize),
    /// A service-tag route of the table (index into its routes).
    TagRoute(usize),
    /// A BGP route given beside the table (index into [`Inputs::bgp`]).
    Bgp(usize),
    /// The system route of the VNet's address space.
    Vnet,
    /// The system route of a peered space (index into [`Inputs::peerings`]).
    Peering(usize),
    /// A service endpoint's route (index into [`Inputs::service_endpoints`]).
    ServiceEndpoint(usize),
    /// A private endpoint's host route (index into [`Inputs::private_endpoints`]).
    PrivateEndpoint(usize),
    /// A reserved range's `None` route.
    Reserved,
    /// The system default route to the Internet.
    Default,
}

/// One candidate: the prefix, its rank among routes of that prefix (lower wins), where it
/// sends traffic and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The prefix.
    pub net: IpNet,
    /// Rank among routes of one prefix.
    pub rank: u8,
    /// The next hop.
    pub hop: NextHop,
    /// Where it comes from.
    pub origin: Origin,
}

/// Where the documentation allows two answers (see `azure-routing-readings.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Readings {
    /// A user route of a service endpoint's prefix wins over the endpoint's route (a 2026
    /// field report) instead of losing to it (Learn).
    pub udr_over_service_endpoint: bool,
    /// The reserved `None` routes stay after a user `0.0.0.0/0` (instead of being removed as
    /// in Learn's routing example).
    pub none_routes_kept: bool,
    /// A service-tag user route to a virtual appliance wins over a service endpoint's routes
    /// it covers (azure-docs#111706's effective routes), while the same route to Internet does
    /// not.
    pub tag_udr_to_appliance_over_service_endpoint: bool,
    /// A `0.0.0.0/0` learned by BGP removes the reserved `None` routes too (undocumented).
    pub bgp_default_removes_none: bool,
}

/// A service endpoint of the subnet: its service and the prefixes Azure routes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoint {
    /// The service (`Microsoft.Storage`).
    pub service: String,
    /// Its prefixes (the service's tag in the endpoint's regions).
    pub prefixes: Vec<IpNet>,
}

/// A private endpoint the subnet reaches: its address, whether network policies for route
/// tables are on in its subnet, and the prefix length of the endpoint VNet's space holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateEndpointRoute {
    /// A name for answers.
    pub name: String,
    /// Its address.
    pub address: IpAddr,
    /// Network policies (route tables) on in its subnet.
    pub policies: bool,
    /// The prefix length of its VNet's address space that holds it.
    pub space_len: u8,
}

/// What decides routing in a subnet.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    /// The subnet's route table, or a NIC's effective routes (which already hold every system
    /// and BGP route).
    pub table: Option<&'a RouteTable>,
    /// The VNet's address space.
    pub vnet: Vec<IpNet>,
    /// Peered spaces, with the peering's name.
    pub peerings: Vec<(String, IpNet)>,
    /// The subnet's service endpoints.
    pub service_endpoints: Vec<ServiceEndpoint>,
    /// Private endpoints in the VNet and directly peered ones.
    pub private_endpoints: Vec<PrivateEndpointRoute>,
    /// Routes learned by BGP (declared: a gateway's `0.0.0.0/0`, on-premises prefixes).
    pub bgp: Vec<(IpNet, NextHop)>,
    /// The readings to evaluate.
    pub readings: Readings,
}

impl Inputs<'_> {
    fn effective(&self) -> bool {
        self.table
            .is_some_and(|t| t.kind == TableKind::EffectiveRoutes)
    }

    fn bgp_disabled(&self) -> bool {
        self.table
            .is_some_and(|t| t.bgp_propagation_disabled == Some(true))
    }

    /// Whether the table holds a user route of `0.0.0.0/0`.
    pub fn user_default(&self) -> bool {
        self.table.is_some_and(|t| {
            t.routes.iter().any(|r| {
                r.source == RouteSource::User
                    && r.address_prefix
                        .parse::<IpNet>()
                        .is_ok_and(|n| n.prefix_len() == 0 && matches!(n, IpNet::V4(_)))
            })
        })
    }
}

/// What building the candidates noticed: table routes whose service tag the snapshot lacks
/// (audited as carrying nothing), and notes on what was left out.
#[derive(Debug, Clone, Default)]
pub struct Built {
    /// The winning candidate of every distinct prefix, sorted by (family, start, length).
    pub candidates: Vec<Candidate>,
    /// Table routes (indices) naming a tag the snapshot does not hold.
    pub unknown_tags: Vec<usize>,
    /// What was left out and why.
    pub notes: Vec<String>,
}

/// The rank of a service-tag route: regional 2, cloud-wide 3, `AzureCloud.<region>` 4,
/// `AzureCloud` 5.
fn tag_rank(azure_cloud: bool, regional: bool) -> u8 {
    match (azure_cloud, regional) {
        (false, true) => 2,
        (false, false) => 3,
        (true, true) => 4,
        (true, false) => 5,
    }
}

/// Ranks: a service endpoint under Learn's reading 0; user routes 1 (tag routes 2–5); a
/// service endpoint under the other reading 6; BGP 7 (effective routes' `VirtualNetworkGateway`
/// source too); VNet, peering and private-endpoint system routes 10; `None` and effective
/// routes' `Default` 11; the system default route 12.
pub mod rank {
    /// A service endpoint, Learn's reading.
    pub const SERVICE_ENDPOINT: u8 = 0;
    /// An explicit user route.
    pub const USER: u8 = 1;
    /// A service endpoint, when a UDR of its prefix wins.
    pub const SERVICE_ENDPOINT_UNDER_UDR: u8 = 6;
    /// A BGP route.
    pub const BGP: u8 = 7;
    /// VNet, peering and private-endpoint routes.
    pub const SYSTEM: u8 = 10;
    /// Reserved `None` routes, effective routes' system routes.
    pub const RESERVED: u8 = 11;
    /// The default route to the Internet.
    pub const DEFAULT: u8 = 12;
}

/// The candidates of one subnet, each distinct prefix with its winning route.
pub fn candidates(snap: &Snapshot, inputs: &Inputs) -> Built {
    let mut out = Built::default();
    let mut all: Vec<Candidate> = Vec::new();
    let routes = inputs.table.map_or(&[][..], |t| &t.routes[..]);
    for (i, r) in routes.iter().enumerate() {
        let source_rank = match r.source {
            RouteSource::User => rank::USER,
            RouteSource::Bgp => rank::BGP,
            RouteSource::Default => rank::RESERVED,
        };
        if r.source == RouteSource::Bgp && inputs.bgp_disabled() {
            continue;
        }
        if let Ok(net) = r.address_prefix.parse::<IpNet>() {
            all.push(Candidate {
                net: net.trunc(),
                rank: source_rank,
                hop: r.next_hop,
                origin: Origin::Route(i),
            });
            continue;
        }
        let Ok(id) = snap.service_tag_by_name(&r.address_prefix) else {
            out.unknown_tags.push(i);
            continue;
        };
        let t = snap.tag(id);
        let rank = tag_rank(
            t.name_base().eq_ignore_ascii_case("AzureCloud"),
            t.is_regional(),
        );
        let nets = t
            .v4()
            .iter()
            .map(|&n| IpNet::V4(n))
            .chain(t.v6().iter().map(|&n| IpNet::V6(n)));
        all.extend(nets.map(|net| Candidate {
            net,
            rank,
            hop: r.next_hop,
            origin: Origin::TagRoute(i),
        }));
    }
    // System routes that BGP does not override.
    let mut shields: Vec<IpNet> = Vec::new();
    if !inputs.effective() {
        for v in &inputs.vnet {
            shields.push(v.trunc());
            all.push(Candidate {
                net: v.trunc(),
                rank: rank::SYSTEM,
                hop: NextHop::VnetLocal,
                origin: Origin::Vnet,
            });
        }
        for (i, (_, p)) in inputs.peerings.iter().enumerate() {
            shields.push(p.trunc());
            all.push(Candidate {
                net: p.trunc(),
                rank: rank::SYSTEM,
                hop: NextHop::Platform(super::PlatformHop::VnetPeering),
                origin: Origin::Peering(i),
            });
        }
        let se_rank = if inputs.readings.udr_over_service_endpoint {
            rank::SERVICE_ENDPOINT_UNDER_UDR
        } else {
            rank::SERVICE_ENDPOINT
        };
        let tag_to_appliance: Vec<IpNet> =
            if inputs.readings.tag_udr_to_appliance_over_service_endpoint {
                all.iter()
                .filter(|c| {
                    matches!(c.origin, Origin::TagRoute(j) if routes[j].source == RouteSource::User)
                        && matches!(c.hop, NextHop::VirtualAppliance(_))
                })
                .map(|c| c.net)
                .collect()
            } else {
                Vec::new()
            };
        for (i, se) in inputs.service_endpoints.iter().enumerate() {
            for p in &se.prefixes {
                if tag_to_appliance.iter().any(|t| t.contains(p)) {
                    continue;
                }
                shields.push(p.trunc());
                all.push(Candidate {
                    net: p.trunc(),
                    rank: se_rank,
                    hop: NextHop::Platform(super::PlatformHop::ServiceEndpoint),
                    origin: Origin::ServiceEndpoint(i),
                });
            }
        }
        let user_default = inputs.user_default()
            || (inputs.readings.bgp_default_removes_none
                && !inputs.bgp_disabled()
                && inputs
                    .bgp
                    .iter()
                    .any(|(n, _)| n.prefix_len() == 0 && matches!(n, IpNet::V4(_))));
        for p in super::PRIVATE_RANGES {
            let net: IpNet = p.parse().expect("valid");
            if inputs.vnet.iter().any(|v| v.contains(&net)) {
                continue;
            }
            if user_default && !inputs.readings.none_routes_kept && REMOVED_BY_DEFAULT.contains(&p)
            {
                continue;
            }
            all.push(Candidate {
                net,
                rank: rank::RESERVED,
                hop: NextHop::None,
                origin: Origin::Reserved,
            });
        }
        for net in [IpNet::V4(Ipv4Net::default()), IpNet::V6(Ipv6Net::default())] {
            all.push(Candidate {
                net,
                rank: rank::DEFAULT,
                hop: NextHop::Internet,
                origin: Origin::Default,
            });
        }
        if inputs.bgp_disabled() && !inputs.bgp.is_empty() {
            out.notes.push(
                "the BGP routes given are left out: the table disables BGP route propagation"
                    .into(),
            );
        } else {
            for (i, &(net, hop)) in inputs.bgp.iter().enumerate() {
                let net = net.trunc();
                if shields.iter().any(|s| s.contains(&net)) {
                    out.notes.push(format!(
                        "the BGP route {net} is left out: the system route of the VNet, a peering or a service endpoint holding it wins"
                    ));
                    continue;
                }
                all.push(Candidate {
                    net,
                    rank: rank::BGP,
                    hop,
                    origin: Origin::Bgp(i),
                });
            }
        }
    }
    // Private endpoints: a host route unless a user route at least as specific as the
    // endpoint VNet's space covers it and network policies are on.
    for (i, pe) in inputs.private_endpoints.iter().enumerate() {
        let host = IpNet::from(pe.address);
        let invalidated = pe.policies
            && all.iter().any(|c| {
                matches!(c.origin, Origin::Route(j) | Origin::TagRoute(j) if routes[j].source == RouteSource::User)
                    && c.net.prefix_len() > 0
                    && c.net.prefix_len() >= pe.space_len
                    && c.net.contains(&host)
            });
        if invalidated {
            out.notes.push(format!(
                "the host route of private endpoint `{}` ({}) yields to a user route: network policies are on in its subnet",
                pe.name, pe.address
            ));
            continue;
        }
        all.push(Candidate {
            net: host,
            rank: rank::SYSTEM,
            hop: NextHop::Platform(super::PlatformHop::InterfaceEndpoint),
            origin: Origin::PrivateEndpoint(i),
        });
    }
    all.sort_by(|a, b| {
        sort_key(&a.net)
            .cmp(&sort_key(&b.net))
            .then(a.rank.cmp(&b.rank))
    });
    all.dedup_by(|later, first| later.net == first.net);
    out.candidates = all;
    out
}

/// (IPv6, start, length): candidates in the order [`laminar_sweep`] takes.
pub fn sort_key(n: &IpNet) -> (bool, u128, u8) {
    (matches!(n, IpNet::V6(_)), prefix_range(n).0, n.prefix_len())
}

/// What a lookup chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<'a> {
    /// This route.
    Route(&'a Candidate),
    /// A platform address (168.63.129.16, 169.254.169.254): not subject to user routes.
    Platform,
    /// No route holds the address (effective routes without a default): dropped.
    NoRoute,
}

/// The chosen route of every address of one subnet, as elementary segments.
#[derive(Debug, Clone)]
pub struct Selector {
    /// The candidates (winners per prefix).
    pub candidates: Vec<Candidate>,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u32)>,
    /// What building noticed.
    pub notes: Vec<String>,
    /// Table routes naming a tag the snapshot lacks.
    pub unknown_tags: Vec<usize>,
}

impl Selector {
    /// Builds the lookup table of a subnet.
    pub fn new(snap: &Snapshot, inputs: &Inputs) -> Selector {
        let built = candidates(snap, inputs);
        let cands = built.candidates;
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for v6_family in [false, true] {
            let fam: Vec<usize> = (0..cands.len())
                .filter(|&i| matches!(cands[i].net, IpNet::V6(_)) == v6_family)
                .collect();
            let ranges: Vec<(u128, u128)> =
                fam.iter().map(|&i| prefix_range(&cands[i].net)).collect();
            let sweep = laminar_sweep(&ranges);
            for (start, node) in sweep.segments {
                let c = if node == NONE {
                    NONE
                } else {
                    fam[node as usize] as u32
                };
                if v6_family {
                    v6.push((start, c));
                } else if start <= u32::MAX as u128 {
                    v4.push((start as u32, c));
                }
            }
        }
        Selector {
            candidates: cands,
            v4,
            v6,
            notes: built.notes,
            unknown_tags: built.unknown_tags,
        }
    }

    /// The route Azure chooses for `ip`.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Choice<'_> {
        let c = match ip {
            IpAddr::V4(a) => {
                if PLATFORM[..].contains(&ip) {
                    return Choice::Platform;
                }
                let k = u32::from(a);
                let i = self.v4.partition_point(|s| s.0 <= k);
                self.v4[i - 1].1
            }
            IpAddr::V6(a) => {
                let k = u128::from(a);
                let i = self.v6.partition_point(|s| s.0 <= k);
                self.v6[i - 1].1
            }
        };
        if c == NONE {
            Choice::NoRoute
        } else {
            Choice::Route(&self.candidates[c as usize])
        }
    }

    /// The segments of one family as (first, last, candidate index or [`NONE`]).
    pub fn segments(&self, v6: bool) -> Vec<(u128, u128, u32)> {
        let top = if v6 { u128::MAX } else { u32::MAX as u128 };
        let list: Vec<(u128, u32)> = if v6 {
            self.v6.clone()
        } else {
            self.v4.iter().map(|&(s, c)| (s as u128, c)).collect()
        };
        (0..list.len())
            .map(|k| {
                let end = list.get(k + 1).map_or(top, |n| n.0 - 1);
                (list[k].0, end, list[k].1)
            })
            .collect()
    }
}
