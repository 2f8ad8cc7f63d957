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

/// The route Azure picks for `ip` in a subnet, by scanning every route the inputs imply and
/// applying each documented rule to this one address ([`crate::routes::select`] states them):
/// (prefix, next hop, origin), or `None` for a platform address or an address no route holds.
/// The fast [`crate::routes::select::Selector`] must agree on every address.
pub fn route(
    snap: &Snapshot,
    inputs: &crate::routes::select::Inputs,
    ip: IpAddr,
) -> Option<(IpNet, crate::routes::NextHop, crate::routes::select::Origin)> {
    use crate::routes::select::{Origin, PLATFORM, REMOVED_BY_DEFAULT};
    use crate::routes::table::{RouteSource, TableKind};
    use crate::routes::{NextHop, PRIVATE_RANGES, PlatformHop};
    if PLATFORM.contains(&ip) {
        return None;
    }
    let host = IpNet::from(ip);
    let holds = |n: &IpNet| n.contains(&host);
    let effective = inputs
        .table
        .is_some_and(|t| t.kind == TableKind::EffectiveRoutes);
    let bgp_off = inputs
        .table
        .is_some_and(|t| t.bgp_propagation_disabled == Some(true));
    let routes = inputs.table.map_or(&[][..], |t| &t.routes[..]);
    // (prefix, precedence: lower wins at equal length, hop, origin)
    let mut found: Vec<(IpNet, u8, NextHop, Origin)> = Vec::new();
    let mut user_nets: Vec<IpNet> = Vec::new(); // every user route's prefixes, tags expanded
    for (i, r) in routes.iter().enumerate() {
        if r.source == RouteSource::Bgp && bgp_off {
            continue;
        }
        let base = match r.source {
            RouteSource::User => 1,
            RouteSource::Bgp => 7,
            RouteSource::Default => 11,
        };
        let (nets, rank, origin): (Vec<IpNet>, u8, Origin) = match r.address_prefix.parse::<IpNet>()
        {
            Ok(n) => (vec![n.trunc()], base, Origin::Route(i)),
            Err(_) => {
                let Ok(id) = snap.service_tag_by_name(&r.address_prefix) else {
                    continue;
                };
                let t = snap.tag(id);
                let cloud = t.name_base().eq_ignore_ascii_case("AzureCloud");
                let rank = 2 + 2 * u8::from(cloud) + u8::from(!t.is_regional());
                let nets = t
                    .v4()
                    .iter()
                    .map(|&n| IpNet::V4(n))
                    .chain(t.v6().iter().map(|&n| IpNet::V6(n)))
                    .collect();
                (nets, rank, Origin::TagRoute(i))
            }
        };
        if r.source == RouteSource::User {
            user_nets.extend(nets.iter().copied());
        }
        for n in nets.into_iter().filter(holds) {
            found.push((n, rank, r.next_hop, origin));
        }
    }
    if !effective {
        let mut shields: Vec<IpNet> = Vec::new();
        for v in &inputs.vnet {
            shields.push(v.trunc());
            if holds(v) {
                found.push((v.trunc(), 10, NextHop::VnetLocal, Origin::Vnet));
            }
        }
        for (i, (_, p)) in inputs.peerings.iter().enumerate() {
            shields.push(p.trunc());
            if holds(p) {
                found.push((
                    p.trunc(),
                    10,
                    NextHop::Platform(PlatformHop::VnetPeering),
                    Origin::Peering(i),
                ));
            }
        }
        let se_rank = if inputs.readings.udr_over_service_endpoint {
            6
        } else {
            0
        };
        // Tag routes to an appliance, as written (for the reading where they beat endpoints).
        let mut tag_appliance: Vec<IpNet> = Vec::new();
        for r in routes.iter().filter(|r| {
            r.source == RouteSource::User
                && matches!(r.next_hop, NextHop::VirtualAppliance(_))
                && r.address_prefix.parse::<IpNet>().is_err()
        }) {
            if let Ok(id) = snap.service_tag_by_name(&r.address_prefix) {
                let t = snap.tag(id);
                tag_appliance.extend(t.v4().iter().map(|&n| IpNet::V4(n)));
                tag_appliance.extend(t.v6().iter().map(|&n| IpNet::V6(n)));
            }
        }
        for (i, se) in inputs.service_endpoints.iter().enumerate() {
            for p in &se.prefixes {
                if inputs.readings.tag_udr_to_appliance_over_service_endpoint
                    && tag_appliance.iter().any(|t| t.contains(p))
                {
                    continue;
                }
                shields.push(p.trunc());
                if holds(p) {
                    found.push((
                        p.trunc(),
                        se_rank,
                        NextHop::Platform(PlatformHop::ServiceEndpoint),
                        Origin::ServiceEndpoint(i),
                    ));
                }
            }
        }
        let user_default = (user_nets
            .iter()
            .any(|n| n.prefix_len() == 0 && matches!(n, IpNet::V4(_)))
            && routes.iter().any(|r| {
                r.source == RouteSource::User
                    && r.address_prefix
                        .parse::<IpNet>()
                        .is_ok_and(|n| n.prefix_len() == 0)
            }))
            || (inputs.readings.bgp_default_removes_none
                && !bgp_off
                && inputs
                    .bgp
                    .iter()
                    .any(|(n, _)| n.prefix_len() == 0 && n.addr().is_ipv4()));
        for p in PRIVATE_RANGES {
            let n: IpNet = p.parse().expect("valid");
            let in_vnet = inputs.vnet.iter().any(|v| v.contains(&n));
            let removed = user_default
                && !inputs.readings.none_routes_kept
                && REMOVED_BY_DEFAULT.contains(&p);
            if !in_vnet && !removed && holds(&n) {
                found.push((n, 11, NextHop::None, Origin::Reserved));
            }
        }
        let default: IpNet = if ip.is_ipv4() {
            "0.0.0.0/0".parse().expect("valid")
        } else {
            "::/0".parse().expect("valid")
        };
        found.push((default, 12, NextHop::Internet, Origin::Default));
        if !bgp_off {
            for (i, &(n, hop)) in inputs.bgp.iter().enumerate() {
                let n = n.trunc();
                if holds(&n) && !shields.iter().any(|s| s.contains(&n)) {
                    found.push((n, 7, hop, Origin::Bgp(i)));
                }
            }
        }
    }
    for (i, pe) in inputs.private_endpoints.iter().enumerate() {
        if pe.address != ip {
            continue;
        }
        let yields = pe.policies
            && user_nets
                .iter()
                .any(|n| n.prefix_len() > 0 && n.prefix_len() >= pe.space_len && n.contains(&host));
        if !yields {
            found.push((
                host,
                10,
                NextHop::Platform(PlatformHop::InterfaceEndpoint),
                Origin::PrivateEndpoint(i),
            ));
        }
    }
    found
        .into_iter()
        .min_by(|a, b| b.0.prefix_len().cmp(&a.0.prefix_len()).then(a.1.cmp(&b.1)))
        .map(|(n, _, hop, o)| (n, hop, o))
}
