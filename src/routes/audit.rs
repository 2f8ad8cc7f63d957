//! Audit of an existing route table against the routes a region's compute needs.
//!
//! Azure picks a route by longest prefix match over the user routes and the system routes:
//! each VNet prefix → `VnetLocal`; `0.0.0.0/0` → `Internet`; `10.0.0.0/8`, `172.16.0.0/12`,
//! `192.168.0.0/16`, `100.64.0.0/10` → `None` (dropped from the table where a VNet prefix holds
//! them). For one prefix, a user route beats a system route, and an explicit prefix beats a
//! service-tag route; among service-tag routes a regional tag beats a cloud-wide one, which
//! beats `AzureCloud.<region>`, which beats `AzureCloud`.
//!
//! All candidate routes form a laminar family of prefixes, so one sweep
//! ([`crate::index::interval::laminar_sweep`]) yields, for every elementary segment of the
//! address space, the route Azure would pick. The audit intersects those segments with the
//! required tags' addresses and reports, as findings:
//! - `missing-route`: required addresses that do not leave through `Internet`, with the exact
//!   prefixes and the route that takes them instead;
//! - `shadowed-route`: a more specific user route that takes required addresses away from a
//!   broader user route to `Internet`;
//! - `stale-route`: a user route to `Internet` for a prefix that holds no required address.

use super::{NextHop, Route};
use crate::error::{Error, Result};
use crate::index::interval::{NONE, laminar_sweep};
use crate::prefixset::{PrefixSet, Ranges, nets_from_bits, prefix_range};
use crate::snapshot::{Snapshot, TagId};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;
use serde_json::Value;

/// A route as found in the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRoute {
    /// Route name.
    pub name: String,
    /// A prefix or a service-tag name.
    pub address_prefix: String,
    /// Where it sends traffic.
    #[serde(serialize_with = "ser_hop")]
    pub next_hop: NextHop,
}

fn ser_hop<S: serde::Serializer>(h: &NextHop, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&h.to_string())
}

/// Reads a route table: `az network route-table show` output (or the REST shape with
/// `properties`), `az network route-table route list` (an array), or an ARM template holding a
/// `Microsoft.Network/routeTables` resource.
pub fn parse_route_table(bytes: &[u8], origin: &str) -> Result<Vec<TableRoute>> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| Error::Json {
        origin: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message: {
            let m = e.to_string();
            m.rfind(" at line ")
                .map_or(m.clone(), |i| m[..i].to_string())
        },
    })?;
    let invalid = |message: String| {
        Error::Invalid {
        origin: origin.to_string(),
        message,
        hint: "give the output of `az network route-table show -g RG -n TABLE` or an ARM template with a Microsoft.Network/routeTables resource".into(),
    }
    };
    let routes: Vec<&Value> = if let Some(arr) = doc.as_array() {
        arr.iter().collect()
    } else if let Some(resources) = doc.get("resources").and_then(Value::as_array) {
        let mut out = Vec::new();
        for r in resources {
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
            if kind.eq_ignore_ascii_case("Microsoft.Network/routeTables") {
                if let Some(rs) = r.pointer("/properties/routes").and_then(Value::as_array) {
                    out.extend(rs.iter());
                }
            } else if kind.eq_ignore_ascii_case("Microsoft.Network/routeTables/routes") {
                out.push(r);
            }
        }
        if out.is_empty()
            && !resources.iter().any(|r| {
                r.get("type").and_then(Value::as_str).is_some_and(|k| {
                    k.to_ascii_lowercase()
                        .starts_with("microsoft.network/routetables")
                })
            })
        {
            return Err(invalid(
                "the template holds no Microsoft.Network/routeTables resource".into(),
            ));
        }
        out
    } else if let Some(rs) = doc
        .get("routes")
        .or_else(|| doc.pointer("/properties/routes"))
    {
        rs.as_array()
            .ok_or_else(|| invalid("`routes` is not an array".into()))?
            .iter()
            .collect()
    } else {
        return Err(invalid("no `routes` array found".into()));
    };
    routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = |k: &str| r.get(k).or_else(|| r.get("properties").and_then(|p| p.get(k))).and_then(Value::as_str);
            let name = field("name").ok_or_else(|| invalid(format!("route {} has no `name`", i + 1)))?.to_string();
            let prefix = field("addressPrefix")
                .ok_or_else(|| invalid(format!("route `{name}` has no `addressPrefix`")))?
                .to_string();
            let hop = field("nextHopType").ok_or_else(|| invalid(format!("route `{name}` has no `nextHopType`")))?;
            for v in [&name, &prefix] {
                if v.starts_with('[') {
                    return Err(invalid(format!(
                        "route `{name}` uses the ARM expression `{v}`, which tagnet cannot evaluate; deploy-time values must be literal"
                    )));
                }
            }
            let next_hop = NextHop::parse(hop, field("nextHopIpAddress").filter(|s| !s.is_empty()))
                .map_err(|e| invalid(format!("route `{name}`: {e}")))?;
            Ok(TableRoute { name, address_prefix: prefix, next_hop })
        })
        .collect()
}

/// One finding of the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `missing-route`, `shadowed-route` or `stale-route`.
    pub code: &'static str,
    /// `error` (required traffic misrouted) or `warning`.
    pub severity: &'static str,
    /// The route concerned: the one taking the traffic, or the stale one.
    pub route: String,
    /// Its next hop.
    pub next_hop: String,
    /// The addresses concerned, as prefixes.
    pub prefixes: Vec<IpNet>,
    /// What is wrong and what to do.
    pub message: String,
}

/// The audit's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Required regional tags, sorted by name.
    pub required_tags: Vec<String>,
    /// Findings, errors first, then by code, route and first prefix.
    pub findings: Vec<Finding>,
    /// Routes to add (next hop Internet).
    #[serde(skip)]
    pub add: Vec<Route>,
    /// Names of routes to delete (stale).
    pub delete: Vec<String>,
}

impl Audit {
    /// True when some required address does not leave through `Internet`.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == "error")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    User(usize),
    /// User route through a service tag: (route index, tag rank).
    UserTag(usize),
    System(NextHop),
}

/// Audits `table` against the required tags' addresses in IPv4 and IPv6, for a subnet in a
/// VNet with address space `vnet`.
pub fn audit(
    snap: &Snapshot,
    table: &[TableRoute],
    required: &[TagId],
    vnet: &[IpNet],
    ipv6: bool,
) -> Result<Audit> {
    // Candidate routes: (prefix, rank, origin); lower rank wins at the same prefix.
    let mut cands: Vec<(IpNet, u8, Origin)> = Vec::new();
    for (i, r) in table.iter().enumerate() {
        if let Ok(net) = r.address_prefix.parse::<IpNet>() {
            cands.push((net.trunc(), 0, Origin::User(i)));
        } else {
            let id = snap.tag_by_name(&r.address_prefix).map_err(|e| {
                Error::Usage(format!("route `{}`: address prefix `{}` is neither a prefix nor a known service tag ({e})", r.name, r.address_prefix))
            })?;
            let t = snap.tag(id);
            let rank = match (
                t.name_base().eq_ignore_ascii_case("AzureCloud"),
                t.is_regional(),
            ) {
                (false, true) => 1,
                (false, false) => 2,
                (true, true) => 3,
                (true, false) => 4,
            };
            cands.extend(
                t.v4()
                    .iter()
                    .map(|&n| (IpNet::V4(n), rank, Origin::UserTag(i))),
            );
            cands.extend(
                t.v6()
                    .iter()
                    .map(|&n| (IpNet::V6(n), rank, Origin::UserTag(i))),
            );
        }
    }
    for v in vnet {
        cands.push((v.trunc(), 10, Origin::System(NextHop::VnetLocal)));
    }
    cands.push((
        IpNet::V4(Ipv4Net::default()),
        12,
        Origin::System(NextHop::Internet),
    ));
    cands.push((
        IpNet::V6(Ipv6Net::default()),
        12,
        Origin::System(NextHop::Internet),
    ));
    for p in super::PRIVATE_RANGES {
        let net: IpNet = p.parse().expect("valid");
        if !vnet.iter().any(|v| v.contains(&net)) {
            cands.push((net, 11, Origin::System(NextHop::None)));
        }
    }
    // The winner per distinct prefix.
    cands.sort_by(|a, b| sort_key(&a.0).cmp(&sort_key(&b.0)).then(a.1.cmp(&b.1)));
    cands.dedup_by(|later, first| later.0 == first.0);

    let hop_of = |o: Origin| match o {
        Origin::User(i) | Origin::UserTag(i) => table[i].next_hop,
        Origin::System(h) => h,
    };
    let name_of = |o: Origin| match o {
        Origin::User(i) | Origin::UserTag(i) => table[i].name.clone(),
        Origin::System(h) => format!("(system route to {h})"),
    };

    let mut nets: Vec<IpNet> = Vec::new();
    for &id in required {
        let t = snap.tag(id);
        nets.extend(t.v4().iter().map(|&n| IpNet::V4(n)));
        if ipv6 {
            nets.extend(t.v6().iter().map(|&n| IpNet::V6(n)));
        }
    }
    let req = PrefixSet::from_prefixes(nets);

    let mut findings = Vec::new();
    // Offending ranges per (code, winning candidate index).
    let mut offending: std::collections::BTreeMap<(&'static str, usize), Vec<(u128, u128)>> =
        Default::default();
    for (v6, required_ranges, bits) in [(false, &req.v4, 32u32), (true, &req.v6, 128u32)] {
        let fam: Vec<usize> = (0..cands.len())
            .filter(|&i| matches!(cands[i].0, IpNet::V6(_)) == v6)
            .collect();
        let ranges: Vec<(u128, u128)> = fam.iter().map(|&i| prefix_range(&cands[i].0)).collect();
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
            if start > top || node == NONE {
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
            let winner = fam[node as usize];
            if hop_of(cands[winner].2) == NextHop::Internet {
                continue;
            }
            // Shadowed when a broader user route would have sent it to the Internet.
            let mut p = sweep.parents[node as usize];
            let mut shadowed = false;
            while let Some(q) = p {
                let c = cands[fam[q as usize]].2;
                if matches!(c, Origin::User(_) | Origin::UserTag(_))
                    && hop_of(c) == NextHop::Internet
                {
                    shadowed = true;
                    break;
                }
                p = sweep.parents[q as usize];
            }
            let code =
                if shadowed && matches!(cands[winner].2, Origin::User(_) | Origin::UserTag(_)) {
                    "shadowed-route"
                } else {
                    "missing-route"
                };
            offending.entry((code, winner)).or_default().extend(seg);
        }
    }
    let mut missing_all: Vec<IpNet> = Vec::new();
    for ((code, winner), ranges) in offending {
        let net = cands[winner].0;
        let bits = if matches!(net, IpNet::V4(_)) { 32 } else { 128 };
        let prefixes = nets_from_bits(&Ranges::from_ranges(ranges).to_prefix_bits(bits), bits);
        let o = cands[winner].2;
        let count: u128 = prefixes
            .iter()
            .map(|p| prefix_range(p).1 - prefix_range(p).0 + 1)
            .sum();
        let message = if code == "missing-route" {
            missing_all.extend(prefixes.iter().copied());
            format!(
                "{count} required addresses in {} prefix(es) leave through {} instead of Internet: add routes with next hop Internet",
                prefixes.len(),
                name_of(o)
            )
        } else {
            format!(
                "route `{}` ({}) is more specific than a route to Internet and takes {count} required addresses in {} prefix(es) away from it",
                name_of(o),
                hop_of(o),
                prefixes.len()
            )
        };
        findings.push(Finding {
            code,
            severity: "error",
            route: name_of(o),
            next_hop: hop_of(o).to_string(),
            prefixes,
            message,
        });
    }
    let mut delete = Vec::new();
    for r in table {
        if r.next_hop != NextHop::Internet {
            continue;
        }
        let Ok(net) = r.address_prefix.parse::<IpNet>() else {
            continue;
        };
        let one = PrefixSet::from_prefixes([net.trunc()]);
        if one.intersection(&req).v4.is_empty() && one.intersection(&req).v6.is_empty() {
            if matches!(net, IpNet::V6(_)) && !ipv6 {
                continue; // IPv6 was not audited
            }
            delete.push(r.name.clone());
            findings.push(Finding {
                code: "stale-route",
                severity: "warning",
                route: r.name.clone(),
                next_hop: r.next_hop.to_string(),
                prefixes: vec![net.trunc()],
                message: format!("route `{}` sends {} to Internet but no required tag holds any of it now: delete it", r.name, net.trunc()),
            });
        }
    }
    findings.sort_by(|a, b| {
        (
            a.severity != "error",
            a.code,
            &a.route,
            a.prefixes.first().map(sort_key),
        )
            .cmp(&(
                b.severity != "error",
                b.code,
                &b.route,
                b.prefixes.first().map(sort_key),
            ))
    });
    let missing = PrefixSet::from_prefixes(missing_all).to_prefixes();
    let required_names: Vec<String> = required
        .iter()
        .map(|&i| snap.tag(i).name().to_string())
        .collect();
    let add = super::name_routes(snap, required, &missing, NextHop::Internet);
    Ok(Audit {
        required_tags: required_names,
        findings,
        add,
        delete,
    })
}

fn sort_key(n: &IpNet) -> (bool, u128, u8) {
    (matches!(n, IpNet::V6(_)), prefix_range(n).0, n.prefix_len())
}
