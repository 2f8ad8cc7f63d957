//! Audit of an existing route table — or of a NIC's effective routes — against the routes a
//! region's compute needs, and a plan that Azure accepts on the table as it is.
//!
//! Azure picks a route by longest prefix match over the user routes, the routes learned by
//! BGP and the system routes: each VNet prefix → `VnetLocal`; `0.0.0.0/0` → `Internet`;
//! `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `100.64.0.0/10` → `None` (dropped where a
//! VNet prefix holds them). For one prefix a user route beats a BGP route, which beats a system
//! route, and an explicit prefix beats a service-tag route; among service-tag routes a regional
//! tag beats a cloud-wide one, which beats `AzureCloud.<region>`, which beats `AzureCloud`.
//! Effective routes (`az network nic show-effective-route-table`) already are that choice: their
//! active routes are used as they are.
//!
//! All candidate routes form a laminar family of prefixes, so one sweep
//! ([`crate::index::interval::laminar_sweep`]) yields, for every elementary segment of the
//! address space, the route Azure would pick. The audit intersects those segments with the
//! required tags' addresses. The plan fixes each misrouted piece against the route that takes
//! it: a piece equal to that route's own prefix updates the route (a second route with the same
//! prefix is refused by Azure with `RouteConflict`); any other piece gets a more specific route
//! to Internet. Pieces taken by different routes are never merged, because a merged route would
//! lose to the more specific one inside it. Codes are documented in [`crate::findings::Code`].

use super::{NextHop, Route, route_name};
use crate::error::Result;
use crate::findings::{Finding, Severity};
use crate::index::interval::{NONE, laminar_sweep};
use crate::prefixset::{PrefixSet, Ranges, nets_from_bits, prefix_range};
use crate::snapshot::{Snapshot, TagId};
use ipnet::{IpNet, Ipv4Net};
use serde::Serialize;
use std::collections::BTreeMap;

pub use super::table::{
    RouteSource, RouteTable, TableKind, TableRoute, parse_route_table, parse_route_table_named,
};

/// What to audit against.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions<'a> {
    /// The VNet's address space (system routes to `VnetLocal`).
    pub vnet: Vec<IpNet>,
    /// Audit IPv6 too.
    pub ipv6: bool,
    /// A `0.0.0.0/0` advertised by BGP, which a route table does not show.
    pub default_route: Option<NextHop>,
    /// Whether the user said what BGP advertises (`--default-route`, `none` included).
    pub default_route_declared: bool,
    /// Every address of the required tags' services in any region (their other regional
    /// variants and cloud-wide tags): a route to Internet holding some of it is not stale.
    pub related: Option<&'a PrefixSet>,
    /// The required addresses in an earlier snapshot: routes to Internet holding them are
    /// tagnet's (stale when they hold no required address now).
    pub previous: Option<&'a PrefixSet>,
    /// Delete stale routes in the plan (else they are listed for review).
    pub prune: bool,
    /// The table's route limit.
    pub max_routes: usize,
    /// Over-broad routes are accepted (`--allow over-broad-route`): neither reported nor
    /// replaced.
    pub accept_over_broad: bool,
}

/// The audit's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// What was read.
    pub table_kind: TableKind,
    /// Required regional tags, sorted by name.
    pub required_tags: Vec<String>,
    /// Whether IPv6 was audited.
    pub ipv6_audited: bool,
    /// User routes in the table now.
    pub routes_now: usize,
    /// User routes after the plan.
    pub routes_after: usize,
    /// The route limit.
    pub max_routes: usize,
    /// Findings: errors first, then warnings, then info; by code, resource and first prefix.
    pub findings: Vec<AuditFinding>,
    /// Routes the plan creates or updates (next hop Internet).
    #[serde(skip)]
    pub ensure: Vec<Route>,
    /// Routes the plan deletes (with --prune).
    #[serde(skip)]
    pub delete: Vec<super::deploy::Deletion>,
    /// Stale routes listed for review (without --prune).
    #[serde(skip)]
    pub review: Vec<super::deploy::Deletion>,
    /// Notes on assumptions, in order.
    pub notes: Vec<String>,
}

/// A finding with the route's next hop and the addresses concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The shared model: code, severity, resource, message, counterexample, fix.
    #[serde(flatten)]
    pub finding: Finding,
    /// The route's next hop.
    pub next_hop: String,
    /// The addresses concerned, as prefixes.
    pub prefixes: Vec<IpNet>,
}

impl Audit {
    /// True when some required address does not leave through `Internet`, or the plan cannot
    /// be carried out.
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.finding.severity == Severity::Error)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// An explicit-prefix route of the table or the effective routes (index into routes).
    Route(usize),
    /// A service-tag route of the table (index into routes).
    TagRoute(usize),
    /// A BGP default route declared with --default-route.
    Bgp(NextHop),
    /// A system route.
    System(NextHop),
}

/// One audit's inputs and what it has found so far.
struct Run<'a> {
    snap: &'a Snapshot,
    table: &'a RouteTable,
    required: &'a [TagId],
    opts: &'a AuditOptions<'a>,
    findings: Vec<AuditFinding>,
    notes: Vec<String>,
    /// Candidate routes: (prefix, rank, origin); lower rank wins at the same prefix.
    cands: Vec<(IpNet, u8, Origin)>,
    /// The addresses each route carries (for stale checks).
    carried: Vec<Option<PrefixSet>>,
}

/// Misrouted ranges, keyed by (code, winning route, IPv6): the family is part of the key, as
/// routeless ranges of both families share one winner (none).
type Misrouted = BTreeMap<(&'static str, usize, bool), Vec<(u128, u128)>>;

impl Run<'_> {
    fn hop_of(&self, o: Origin) -> NextHop {
        match o {
            Origin::Route(i) | Origin::TagRoute(i) => self.table.routes[i].next_hop,
            Origin::Bgp(h) | Origin::System(h) => h,
        }
    }

    fn name_of(&self, o: Origin) -> String {
        match o {
            Origin::Route(i) | Origin::TagRoute(i) => self.table.routes[i].name.clone(),
            Origin::Bgp(h) => format!("(BGP route to {h})"),
            Origin::System(h) => format!("(system route to {h})"),
        }
    }

    fn is_user(routes: &[TableRoute], o: Origin) -> bool {
        match o {
            Origin::Route(i) | Origin::TagRoute(i) => routes[i].source == RouteSource::User,
            _ => false,
        }
    }

    /// The candidates, from the one route selector `path` uses too ([`super::select`]), with
    /// the addresses each table route carries; a tag the snapshot lacks is reported.
    fn build_candidates(&mut self) {
        let (snap, table, opts) = (self.snap, self.table, self.opts);
        let routes = &table.routes;
        let effective = table.kind == TableKind::EffectiveRoutes;
        let mut bgp = Vec::new();
        if !effective {
            let user_default = routes.iter().any(|r| {
                r.address_prefix
                    .parse::<IpNet>()
                    .is_ok_and(|n| n.prefix_len() == 0 && matches!(n, IpNet::V4(_)))
            });
            match opts.default_route {
                Some(hop) if table.bgp_propagation_disabled == Some(true) => self.notes.push(format!(
                    "--default-route {hop} is ignored: the table disables BGP route propagation, so the subnet does not learn the advertised route"
                )),
                Some(hop) => bgp.push((IpNet::V4(Ipv4Net::default()), hop)),
                None if !user_default && !opts.default_route_declared => self.findings.push(AuditFinding {
                    finding: Finding::new(crate::findings::Code::NoDefaultRoute,
                        "0.0.0.0/0",
                        "the table has no 0.0.0.0/0 route: audited as if no gateway advertises one by BGP",
                    ),
                    next_hop: "Internet".into(),
                    prefixes: vec![IpNet::V4(Ipv4Net::default())],
                }),
                None => {}
            }
        } else if opts.default_route.is_some() {
            self.notes.push(
                "--default-route is ignored with effective routes: they already show what BGP advertises".into(),
            );
        }
        let inputs = super::select::Inputs {
            table: Some(table),
            vnet: opts.vnet.clone(),
            bgp,
            ..Default::default()
        };
        let built = super::select::candidates(snap, &inputs);
        for &i in &built.unknown_tags {
            let r = &routes[i];
            self.findings.push(AuditFinding {
                finding: Finding::new(crate::findings::Code::UnknownTagRoute,
                    &r.name,
                    format!(
                        "route `{}` uses the service tag `{}`, which this snapshot ({} changeNumber {}) does not hold; it is audited as carrying no address",
                        r.name,
                        r.address_prefix,
                        snap.cloud(),
                        snap.change_number()
                    ),
                ),
                next_hop: r.next_hop.to_string(),
                prefixes: Vec::new(),
            });
        }
        for (i, r) in routes.iter().enumerate() {
            if let Ok(net) = r.address_prefix.parse::<IpNet>() {
                self.carried[i] = Some(PrefixSet::from_prefixes([net.trunc()]));
            } else if let Ok(id) = snap.service_tag_by_name(&r.address_prefix) {
                let t = snap.tag(id);
                self.carried[i] = Some(PrefixSet::from_prefixes(
                    t.v4()
                        .iter()
                        .map(|&n| IpNet::V4(n))
                        .chain(t.v6().iter().map(|&n| IpNet::V6(n))),
                ));
            }
        }
        use super::select::Origin as O;
        self.cands = built
            .candidates
            .into_iter()
            .map(|c| {
                let o = match c.origin {
                    O::Route(i) => Origin::Route(i),
                    O::TagRoute(i) => Origin::TagRoute(i),
                    O::Bgp(_) => Origin::Bgp(c.hop),
                    _ => Origin::System(c.hop),
                };
                (c.net, c.rank, o)
            })
            .collect();
    }

    /// The required ranges that do not leave through Internet, by the route that takes them.
    fn misrouted(&self, req: &PrefixSet) -> Misrouted {
        let (cands, routes) = (&self.cands, &self.table.routes);
        let effective = self.table.kind == TableKind::EffectiveRoutes;
        // Misrouted ranges, keyed by (code, winning route, IPv6): the family is part of the key, as routeless ranges
        // of both families share one winner (none).
        let mut offending: Misrouted = BTreeMap::new();
        for (v6, required_ranges, bits) in [(false, &req.v4, 32u32), (true, &req.v6, 128u32)] {
            let fam: Vec<usize> = (0..cands.len())
                .filter(|&i| matches!(cands[i].0, IpNet::V6(_)) == v6)
                .collect();
            if effective && fam.is_empty() {
                continue; // the NIC has no address of this family: nothing of it is routed
            }
            let ranges: Vec<(u128, u128)> =
                fam.iter().map(|&i| prefix_range(&cands[i].0)).collect();
            let sweep = laminar_sweep(&ranges);
            let top = if bits == 32 {
                u32::MAX as u128
            } else {
                u128::MAX
            };
            // Segments and required ranges are both ascending: walk them together.
            let req_ranges = required_ranges.ranges();
            let mut j = 0;
            for (k, &(start, node)) in sweep.segments.iter().enumerate() {
                let end = sweep.segments.get(k + 1).map_or(top, |n| n.0 - 1).min(top);
                if start > top {
                    continue;
                }
                while j < req_ranges.len() && req_ranges[j].1 < start {
                    j += 1;
                }
                let seg: Vec<(u128, u128)> = req_ranges[j..]
                    .iter()
                    .take_while(|r| r.0 <= end)
                    .map(|r| (r.0.max(start), r.1.min(end)))
                    .collect();
                if seg.is_empty() {
                    continue;
                }
                if node == NONE {
                    // No route at all (effective routes without a default): dropped.
                    offending
                        .entry(("missing-route", usize::MAX, v6))
                        .or_default()
                        .extend(seg);
                    continue;
                }
                let winner = fam[node as usize];
                if self.hop_of(cands[winner].2) == NextHop::Internet {
                    continue;
                }
                // Shadowed when a broader user route would have sent it to the Internet.
                let mut p = sweep.parents[node as usize];
                let mut shadowed = false;
                while let Some(q) = p {
                    let c = cands[fam[q as usize]].2;
                    if Self::is_user(routes, c) && self.hop_of(c) == NextHop::Internet {
                        shadowed = true;
                        break;
                    }
                    p = sweep.parents[q as usize];
                }
                let code = if shadowed && Self::is_user(routes, cands[winner].2) {
                    "shadowed-route"
                } else {
                    "missing-route"
                };
                offending.entry((code, winner, v6)).or_default().extend(seg);
            }
        }

        offending
    }

    /// A finding per misrouting route, and the routes that fix it (updates and additions).
    fn report_misrouted(&mut self, offending: Misrouted) -> Vec<Route> {
        let (snap, required, opts, table) = (self.snap, self.required, self.opts, self.table);
        let routes = &table.routes;
        // Findings and the plan, per winning route.
        let mut ensure: Vec<Route> = Vec::new();
        let mut v6_unaudited: Vec<(String, String, Vec<IpNet>)> = Vec::new();
        for ((code, winner, v6), ranges) in offending {
            let (net, origin) = if winner == usize::MAX {
                (None, None)
            } else {
                (Some(self.cands[winner].0), Some(self.cands[winner].2))
            };
            let bits = if v6 { 128 } else { 32 };
            let prefixes = nets_from_bits(&Ranges::from_ranges(ranges).to_prefix_bits(bits), bits);
            let route = origin.map_or_else(|| "(no route)".to_string(), |o| self.name_of(o));
            let hop =
                origin.map_or_else(|| "(dropped)".to_string(), |o| self.hop_of(o).to_string());
            if v6 && !opts.ipv6 {
                v6_unaudited.push((route, hop, prefixes));
                continue;
            }
            let count: u128 = prefixes
                .iter()
                .map(|p| prefix_range(p).1 - prefix_range(p).0 + 1)
                .sum();
            // The fix: update the route itself where a piece is its whole prefix, else add more
            // specific routes to Internet.
            let mut updates = 0;
            for p in &prefixes {
                let same_route = match origin {
                    Some(Origin::Route(i))
                        if Some(*p) == net && routes[i].source == RouteSource::User =>
                    {
                        Some(i)
                    }
                    _ => None,
                };
                match same_route {
                    Some(i) => {
                        updates += 1;
                        ensure.push(Route {
                            name: routes[i].name.clone(),
                            address_prefix: routes[i].address_prefix.clone(),
                            next_hop: NextHop::Internet,
                            tags: tags_holding(snap, required, p),
                        });
                    }
                    None => ensure.extend(super::name_routes(
                        snap,
                        required,
                        std::slice::from_ref(p),
                        NextHop::Internet,
                    )),
                }
            }
            let message = if code == "missing-route" {
                format!(
                    "{count} required addresses in {} prefix(es) leave through {route} ({hop}) instead of Internet",
                    prefixes.len()
                )
            } else {
                format!(
                    "route `{route}` ({hop}) is more specific than a route to Internet and takes {count} required addresses in {} prefix(es) away from it",
                    prefixes.len()
                )
            };
            let fix = if updates > 0 {
                format!(
                    "update route `{route}` to next hop Internet (its prefix is wholly required){}",
                    if updates < prefixes.len() {
                        "; add routes to Internet for the other prefixes"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "add {} route(s) to Internet for the prefixes listed (the plan does)",
                    prefixes.len()
                )
            };
            self.findings.push(AuditFinding {
                finding: Finding::new(
                    if code == "shadowed-route" {
                        crate::findings::Code::ShadowedRoute
                    } else {
                        crate::findings::Code::MissingRoute
                    },
                    &route,
                    message,
                )
                .counterexample(prefixes[0].addr().to_string())
                .fix(fix),
                next_hop: hop,
                prefixes,
            });
        }
        for (route, hop, prefixes) in v6_unaudited {
            self.findings.push(AuditFinding {
                finding: Finding::new(crate::findings::Code::Ipv6NotAudited,
                    &route,
                    format!(
                        "IPv6 was not audited, but route `{route}` ({hop}) takes {} IPv6 prefix(es) of the required tags away from Internet",
                        prefixes.len()
                    ),
                )
                .counterexample(prefixes[0].addr().to_string()),
                next_hop: hop,
                prefixes,
            });
        }
        ensure
    }

    /// Renames planned routes whose name the table already uses for another prefix.
    fn unique_names(&self, ensure: &mut [Route]) {
        let table = self.table;
        // Names the plan creates must not take a name the table already uses for another prefix.
        let used: BTreeMap<&str, &str> = table
            .user_routes()
            .map(|r| (r.name.as_str(), r.address_prefix.as_str()))
            .collect();
        for r in ensure.iter_mut() {
            if used
                .get(r.name.as_str())
                .is_some_and(|p| *p != r.address_prefix)
            {
                let base = r.name.clone();
                let mut k = 2;
                while used.contains_key(r.name.as_str()) {
                    let suffix = format!("-{k}");
                    r.name = format!("{}{suffix}", &base[..base.len().min(80 - suffix.len())]);
                    k += 1;
                }
            }
        }
    }

    /// The addresses route `i` (an explicit-prefix route) takes: its prefix less every more
    /// specific candidate inside it; nothing when another route wins its own prefix.
    fn won(&self, i: usize, net: IpNet) -> PrefixSet {
        let net = net.trunc();
        let mut inside = Vec::new();
        for &(p, _, o) in &self.cands {
            if p == net {
                if o != Origin::Route(i) {
                    return PrefixSet::default();
                }
            } else if net.contains(&p) {
                inside.push(p);
            }
        }
        PrefixSet::from_prefixes([net]).difference(&PrefixSet::from_prefixes(inside))
    }

    /// Stale routes (tied to the required tags, holding none of their addresses now) to
    /// delete or review, over-broad ones to replace, and unrelated ones to leave alone:
    /// (delete, review, replacement routes).
    fn stale(
        &mut self,
        req: &PrefixSet,
    ) -> (
        Vec<super::deploy::Deletion>,
        Vec<super::deploy::Deletion>,
        Vec<Route>,
    ) {
        let (snap, required, opts, table) = (self.snap, self.required, self.opts, self.table);
        let routes = &table.routes;
        // Stale and unrelated routes to Internet.
        // The names `udr` gives routes of one service; merged routes named `AzureServices-…`
        // are tied only through --previous.
        let labels: Vec<&str> = required
            .iter()
            .map(|&id| snap.tag(id).system_service())
            .filter(|s| !s.is_empty())
            .collect();
        let bases: Vec<&str> = required
            .iter()
            .map(|&id| snap.tag(id).name_base())
            .collect();
        let mut delete = Vec::new();
        let mut review = Vec::new();
        let mut replace = Vec::new();
        for (i, r) in routes.iter().enumerate() {
            if r.source != RouteSource::User || r.next_hop != NextHop::Internet {
                continue;
            }
            let Some(set) = self.carried[i].clone() else {
                continue;
            };
            let v6_only = set.v4.is_empty() && !set.v6.is_empty();
            if v6_only && !opts.ipv6 {
                continue; // IPv6 was not audited
            }
            let holds = |s: &PrefixSet| {
                !set.intersection(s).v4.is_empty()
                    || (opts.ipv6 && !set.intersection(s).v6.is_empty())
            };
            // A merged route (`AzureServices-…`, the name `udr` gives a route several
            // services share) is tagnet's when it carried required addresses in --previous:
            // its name alone does not say which services it was written for.
            let merged_then = opts.previous.is_some_and(&holds)
                && r.address_prefix
                    .parse::<IpNet>()
                    .is_ok_and(|net| route_name("AzureServices", &net.trunc()) == r.name);
            let by_name = merged_then
                || match r.address_prefix.parse::<IpNet>() {
                    Ok(net) => labels.iter().any(|l| route_name(l, &net.trunc()) == r.name),
                    Err(_) => {
                        super::sanitize(&r.address_prefix) == r.name
                            && bases.iter().any(|b| {
                                r.address_prefix
                                    .split('.')
                                    .next()
                                    .is_some_and(|x| x.eq_ignore_ascii_case(b))
                            })
                    }
                };
            let audited = |s: PrefixSet| {
                if opts.ipv6 {
                    s
                } else {
                    PrefixSet {
                        v4: s.v4,
                        ..Default::default()
                    }
                }
            };
            if holds(req) {
                // Over-broad: tied to the required tags (by name, or wholly required in
                // --previous) and sending addresses no required or related tag holds now,
                // because the tags shrank: with --previous, some of those addresses were
                // required then; without it, the route carries one required block (a route
                // `udr` merged to fit the budget carries several, and its extra space was
                // chosen, not lost).
                let was_required = opts
                    .previous
                    .is_some_and(|p| audited(set.difference(p)).is_empty());
                let Ok(net) = r.address_prefix.parse::<IpNet>() else {
                    continue;
                };
                if !(by_name || was_required) {
                    continue;
                }
                let won = audited(self.won(i, net));
                let mut outside = won.difference(req);
                if let Some(rel) = opts.related {
                    outside = outside.difference(rel);
                }
                if outside.is_empty() {
                    continue;
                }
                let kept = won.intersection(req);
                let keep = kept.to_prefixes();
                let shrank = match opts.previous {
                    Some(p) => !outside.intersection(p).is_empty(),
                    None => kept.v4.ranges().len() + kept.v6.ranges().len() == 1,
                };
                if !shrank || opts.accept_over_broad {
                    continue;
                }
                let routes_now = super::name_routes(snap, required, &keep, NextHop::Internet);
                let outside_prefixes = outside.to_prefixes();
                let count = outside.v4.address_count() + outside.v6.address_count();
                let kept: Vec<String> = keep.iter().map(|p| p.to_string()).collect();
                self.findings.push(AuditFinding {
                    finding: Finding::new(
                        crate::findings::Code::OverBroadRoute,
                        &r.name,
                        format!(
                            "route `{}` sends {} to Internet, but the required tags hold only {} of it now: {count} address(es) outside them ({}) leave past the firewall",
                            r.name,
                            r.address_prefix,
                            super::list_some(&keep, 8),
                            super::list_some(&outside_prefixes, 8),
                        ),
                    )
                    .counterexample(outside_prefixes[0].addr().to_string())
                    .fix(format!(
                        "replace it: the plan creates {} and deletes `{}`",
                        if kept.len() == 1 {
                            format!("the route for {}", kept[0])
                        } else {
                            format!("{} routes ({})", kept.len(), super::list_some(&keep, 8))
                        },
                        r.name
                    )),
                    next_hop: r.next_hop.to_string(),
                    prefixes: outside_prefixes,
                });
                replace.extend(routes_now);
                delete.push(super::deploy::Deletion {
                    name: r.name.clone(),
                    address_prefix: r.address_prefix.clone(),
                    reason: format!(
                        "over-broad: sends {count} address(es) outside the required tags to Internet; replaced by {}",
                        kept.join(", ")
                    ),
                });
                continue;
            }
            let shown_prefixes = || -> Vec<IpNet> {
                r.address_prefix
                    .parse::<IpNet>()
                    .map(|n| vec![n.trunc()])
                    .unwrap_or_default()
            };
            if let Some(rel) = opts.related
                && holds(rel)
            {
                let holders: Vec<&str> = snap
                    .tags()
                    .iter()
                    .filter(|t| {
                        t.is_regional()
                            && required.iter().any(|&id| {
                                snap.tag(id).system_service() == t.system_service()
                                    && !t.system_service().is_empty()
                            })
                            && {
                                let s = PrefixSet::from_prefixes(t.prefixes());
                                holds(&s)
                            }
                    })
                    .map(|t| t.name())
                    .take(3)
                    .collect();
                self.findings.push(AuditFinding {
                    finding: Finding::new(crate::findings::Code::UnrelatedInternetRoute,
                        &r.name,
                        format!(
                            "route `{}` sends {} to Internet for {}, not audited here (add that region to --region, or --paired); left alone",
                            r.name,
                            r.address_prefix,
                            if holders.is_empty() {
                                "another region or the cloud-wide tag of the required services".to_string()
                            } else {
                                holders.join(", ")
                            }
                        ),
                    ),
                    next_hop: r.next_hop.to_string(),
                    prefixes: shown_prefixes(),
                });
                continue;
            }
            // Tied through --previous only when every address it carries was required then.
            let by_previous = opts.previous.is_some_and(|p| {
                set.difference(p).v4.is_empty()
                    && (!opts.ipv6 || set.difference(p).v6.is_empty())
                    && holds(p)
            });
            let shown: Vec<IpNet> = r
                .address_prefix
                .parse::<IpNet>()
                .map(|n| vec![n.trunc()])
                .unwrap_or_default();
            if by_name || by_previous {
                let d = super::deploy::Deletion {
                    name: r.name.clone(),
                    address_prefix: r.address_prefix.clone(),
                    reason: format!(
                        "sends {} to Internet; no required tag holds any of it now",
                        r.address_prefix
                    ),
                };
                self.findings.push(AuditFinding {
                    finding: Finding::new(crate::findings::Code::StaleRoute,
                        &r.name,
                        format!(
                            "route `{}` was written for the required tags ({}) but sends {} to Internet while no required tag holds any of it now",
                            r.name,
                            if by_name { "its name is one `tagnet udr` gives" } else { "--previous held it" },
                            r.address_prefix
                        ),
                    )
                    .fix(if opts.prune {
                        "the plan deletes it (--prune)".to_string()
                    } else {
                        "delete it: the plan lists it for review; rerun with --prune to delete".to_string()
                    }),
                    next_hop: r.next_hop.to_string(),
                    prefixes: shown,
                });
                if opts.prune {
                    delete.push(d);
                } else {
                    review.push(d);
                }
            } else {
                self.findings.push(AuditFinding {
                    finding: Finding::new(crate::findings::Code::UnrelatedInternetRoute,
                        &r.name,
                        format!(
                            "route `{}` sends {} to Internet; it holds no required address and is not tied to the required tags, so it is left alone",
                            r.name, r.address_prefix
                        ),
                    ),
                    next_hop: r.next_hop.to_string(),
                    prefixes: shown,
                });
            }
        }

        (delete, review, replace)
    }

    /// The route limit after the plan: (routes now, routes after).
    fn budget(
        &mut self,
        ensure: &[Route],
        delete: &[super::deploy::Deletion],
        review: &[super::deploy::Deletion],
    ) -> (usize, usize) {
        let (table, opts) = (self.table, self.opts);
        // The table after the plan: deletions first, then new routes (updates keep their slot).
        let user: Vec<&TableRoute> = table.user_routes().collect();
        let mut names: std::collections::BTreeSet<&str> =
            user.iter().map(|r| r.name.as_str()).collect();
        // Prefixes compared as networks: `2001:DB8::/32` in the table is the route of
        // `2001:db8::/32` in the plan.
        let canonical = |p: &str| -> String {
            p.parse::<IpNet>()
                .map_or_else(|_| p.to_ascii_lowercase(), |n| n.trunc().to_string())
        };
        let prefixes_now: std::collections::BTreeSet<String> =
            user.iter().map(|r| canonical(&r.address_prefix)).collect();
        let routes_now = names.len();
        for d in delete {
            names.remove(d.name.as_str());
        }
        let creates = ensure
            .iter()
            .filter(|r| !prefixes_now.contains(&canonical(&r.address_prefix)))
            .count();
        let routes_after = names.len() + creates;
        if routes_after > opts.max_routes {
            self.findings.push(AuditFinding {
                finding: Finding::new(crate::findings::Code::RouteLimit,
                    "(route table)",
                    format!(
                        "the plan needs {creates} new route(s): the table would hold {routes_after} routes, more than its limit of {}; the plan stops before changing anything",
                        opts.max_routes
                    ),
                )
                .fix(if review.is_empty() {
                    "merge routes (`tagnet udr --max-routes`) or free slots in the table, then audit again".to_string()
                } else {
                    format!(
                        "{} stale route(s) can go: rerun with --prune; or merge routes with `tagnet udr --max-routes`",
                        review.len()
                    )
                }),
                next_hop: String::new(),
                prefixes: Vec::new(),
            });
        }

        (routes_now, routes_after)
    }
}

/// Audits `table` against the required tags' addresses.
pub fn audit(
    snap: &Snapshot,
    table: &RouteTable,
    required: &[TagId],
    opts: &AuditOptions,
) -> Result<Audit> {
    let mut run = Run {
        snap,
        table,
        required,
        opts,
        findings: Vec::new(),
        notes: Vec::new(),
        cands: Vec::new(),
        carried: vec![None; table.routes.len()],
    };
    run.build_candidates();
    let mut nets: Vec<IpNet> = Vec::new();
    for &id in required {
        let t = snap.tag(id);
        nets.extend(t.v4().iter().map(|&n| IpNet::V4(n)));
        nets.extend(t.v6().iter().map(|&n| IpNet::V6(n)));
    }
    let req = PrefixSet::from_prefixes(nets);
    let offending = run.misrouted(&req);
    let mut ensure = run.report_misrouted(offending);
    let (delete, review, replace) = run.stale(&req);
    ensure.extend(replace);
    run.unique_names(&mut ensure);
    let (routes_now, routes_after) = run.budget(&ensure, &delete, &review);
    let Run {
        mut findings,
        notes,
        ..
    } = run;
    findings.sort_by(|a, b| {
        (
            a.finding.severity,
            a.finding.code,
            &a.finding.resource,
            a.prefixes.first().map(sort_key),
        )
            .cmp(&(
                b.finding.severity,
                b.finding.code,
                &b.finding.resource,
                b.prefixes.first().map(sort_key),
            ))
    });
    ensure.sort_by(|a, b| {
        let ka = a.address_prefix.parse::<IpNet>().ok().map(|n| sort_key(&n));
        let kb = b.address_prefix.parse::<IpNet>().ok().map(|n| sort_key(&n));
        ka.cmp(&kb).then(a.name.cmp(&b.name))
    });
    let required_names: Vec<String> = required
        .iter()
        .map(|&i| snap.tag(i).name().to_string())
        .collect();
    Ok(Audit {
        table_kind: table.kind,
        required_tags: required_names,
        ipv6_audited: opts.ipv6,
        routes_now,
        routes_after,
        max_routes: opts.max_routes,
        findings,
        ensure,
        delete,
        review,
        notes,
    })
}

/// Every address of the required tags' services in any region (their other regional variants
/// and cloud-wide tags): a route to Internet holding some of it belongs to another region's
/// setup and is never stale ([`AuditOptions::related`]).
pub fn related(snap: &Snapshot, required: &[TagId]) -> PrefixSet {
    let services: std::collections::BTreeSet<&str> = required
        .iter()
        .map(|&id| snap.tag(id).system_service())
        .filter(|s| !s.is_empty())
        .collect();
    PrefixSet::from_prefixes(
        snap.tags()
            .iter()
            .filter(|t| services.contains(t.system_service()))
            .flat_map(|t| t.prefixes()),
    )
}

/// The required tags holding any of `net`, by name.
fn tags_holding(snap: &Snapshot, required: &[TagId], net: &IpNet) -> Vec<String> {
    let one = PrefixSet::from_prefixes([*net]);
    let mut out: Vec<String> = required
        .iter()
        .filter(|&&id| {
            let t = snap.tag(id);
            let s = PrefixSet::from_prefixes(t.prefixes());
            !s.intersection(&one).is_empty()
        })
        .map(|&id| snap.tag(id).name().to_string())
        .collect();
    out.sort();
    out
}

use super::select::sort_key;
