//! `path`: will a flow get there — routes and NSGs of a network definition evaluated together
//! ([`crate::path`]), for one destination, every address of a tag, or every flow a requirement
//! profile needs.

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::nsg::model::{Direction, Protocol};
use crate::path::{End, Path, SubnetPaths, TagPath};
use crate::routes::NextHop;
use ipnet::IpNet;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What to trace.
#[derive(Debug, Clone, Default)]
pub struct PathParams {
    /// The source: a subnet (id, `VNET/SUBNET` or unique name) or an address.
    pub from: String,
    /// The destination: `IP`, `IP:PORT` or a service tag; empty with a profile.
    pub to: String,
    /// The protocol (`tcp`, `udp`, `icmp`, …).
    pub protocol: String,
    /// The destination port (with tcp and udp, unless `to` gives it).
    pub port: Option<u16>,
    /// Routes a gateway advertises by BGP: `PREFIX=HOP` (`0.0.0.0/0=VirtualNetworkGateway`).
    pub bgp: Vec<String>,
    /// Application security group members.
    pub asgs: BTreeMap<String, Vec<IpAddr>>,
    /// An NSG requirement profile: every flow it requires, end to end.
    pub profile: Option<String>,
    /// The region for the profile's regional tags (default: the source VNet's).
    pub region: Option<String>,
    /// The resource group's region, for templates' `resourceGroup().location`.
    pub location: Option<String>,
    /// A NIC's effective routes, used for the source in place of its subnet's route table.
    pub effective_routes: Option<crate::routes::audit::RouteTable>,
}

/// One requirement of a profile, end to end.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementPath {
    /// `Inbound TCP 44224 from AzureMachineLearning`.
    pub requirement: String,
    /// Why it is needed.
    pub why: String,
    /// `met`, `via-appliance` (allowed, but routed to an appliance or gateway whose rules
    /// tagnet does not see) or `not-met`.
    pub status: String,
    /// Why it is not met (or is met only through an appliance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What happens to the tag's addresses.
    pub path: TagPath,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct PathReport {
    /// The snapshot the tags were resolved in.
    pub snapshot: SnapshotInfo,
    /// A path to one address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Path>,
    /// A path to every address of a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<TagPath>,
    /// A profile's requirements.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementPath>,
    /// What the answer assumed or left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl PathReport {
    /// A profile's unmet requirements as findings (for SARIF): NSG denials as
    /// `nsg-requirement-unmet`, replies not routed to the Internet as `missing-route`, outbound
    /// flows routed to an appliance as `requirement-via-appliance` and dropped by a route as
    /// `requirement-dropped-by-route`; `resource` is the source subnet.
    pub fn findings(&self, subnet: &str) -> Vec<crate::findings::Finding> {
        use crate::findings::{Code, Finding};
        let mut out = Vec::new();
        for r in &self.requirements {
            let t = &r.path;
            let denied = t
                .shares
                .iter()
                .any(|s| s.allowed_every_reading != s.addresses);
            let code = match r.status.as_str() {
                "met" => continue,
                "via-appliance" => Code::RequirementViaAppliance,
                _ if denied => Code::NsgRequirementUnmet,
                _ if t.direction == "Inbound" => Code::MissingRoute,
                _ => Code::RequirementDroppedByRoute,
            };
            let mut f = Finding::new(
                code,
                subnet,
                format!(
                    "{}: {} ({} of {} addresses get through)",
                    r.requirement,
                    r.reason.clone().unwrap_or_default(),
                    t.through_every_reading,
                    t.addresses
                ),
            );
            if let Some(c) = &t.counterexample {
                f = f.counterexample(c.clone());
            }
            out.push(f);
        }
        out
    }

    /// Whether the flow does not get through (or a requirement is not met).
    pub fn failing(&self) -> bool {
        self.path
            .as_ref()
            .is_some_and(|p| p.outcome.starts_with("dropped"))
            || self.tag.as_ref().is_some_and(|t| t.through != t.addresses)
            || self.requirements.iter().any(|r| r.status == "not-met")
    }
}

/// `PREFIX=HOP` routes a gateway advertises; the prefix may be a tag's name (your own
/// `Corp.OnPrem`), one route per prefix of the tag.
fn bgp_routes(snap: &Snapshot, texts: &[String]) -> Result<Vec<(IpNet, NextHop)>> {
    let mut out = Vec::new();
    for t in texts {
        let (nets, hop) = bgp_route(snap, t)?;
        out.extend(nets.into_iter().map(|n| (n, hop)));
    }
    Ok(out)
}

fn bgp_route(snap: &Snapshot, t: &str) -> Result<(Vec<IpNet>, NextHop)> {
    let (p, h) = t.split_once('=').ok_or_else(|| {
        Error::field(
            "bgp",
            format!(
                "`{}`: expected PREFIX=HOP (e.g. 0.0.0.0/0=VirtualNetworkGateway)",
                crate::text::quoted(t)
            ),
        )
    })?;
    let nets: Vec<IpNet> = if super::catalog::is_address_text(p) {
        vec![
            crate::text::prefix(p.trim(), crate::text::HostBits::Refuse)
                .map_err(|e| Error::field("bgp", format!("`{}`: {e}", crate::text::quoted(p))))?,
        ]
    } else {
        super::catalog::range_named(snap, p, None, "bgp")?
            .1
            .to_prefixes()
    };
    let (kind, ip) = match h.trim().split_once(':') {
        Some((k, ip)) => (k, Some(ip)),
        None => (h.trim(), None),
    };
    let hop = NextHop::parse(kind, ip)?;
    // A gateway (or Route Server) advertises routes with itself as next hop.
    if hop != NextHop::VirtualNetworkGateway {
        return Err(Error::field(
            "bgp",
            format!(
                "`{}`: routes learned by BGP have next hop VirtualNetworkGateway, not {}",
                crate::text::quoted(t),
                hop
            ),
        ));
    }
    Ok((nets, hop))
}

/// The addresses of an inbound requirement's tag whose replies must leave through the
/// Internet: what the guidance's own routes carry. When the `udr` profile of the same name
/// routes the requirement's service, that is its variant in `region` (the 2020 text: "a UDR for
/// `AzureMachineLearning.<region>`", while its NSG rule admits the cloud-wide tag) — the same
/// routes `check` audits; otherwise the whole tag.
fn reply_tag(snap: &Snapshot, profile: &str, tag: &str, region: &str) -> String {
    let Ok(udr) = crate::routes::profile(profile) else {
        return tag.to_string();
    };
    let Ok(id) = snap.tag_by_name(tag) else {
        return tag.to_string();
    };
    if snap.tag(id).is_regional() || !udr.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
        return tag.to_string();
    }
    snap.resolve_tag(tag, Some(region))
        .ok()
        .and_then(|ids| ids.first().map(|&i| snap.tag(i).name().to_string()))
        .unwrap_or_else(|| tag.to_string())
}

/// A destination as written, `IP`, `IP:PORT`, `[IPv6]:PORT`, a bare IPv6 address or a tag:
/// (the address or tag, the port when given).
fn split_to(to: &str) -> Result<(String, Option<u16>)> {
    match to.rsplit_once(':') {
        Some((a, port)) if !a.contains(':') || a.starts_with('[') => {
            let port = port.parse::<u16>().map_err(|_| {
                Error::field(
                    "to",
                    format!("`{}`: the port is not 0–65535", crate::text::quoted(to)),
                )
            })?;
            Ok((a.trim_matches(['[', ']']).to_string(), Some(port)))
        }
        _ => Ok((to.to_string(), None)),
    }
}

/// Traces a path, a tag or a profile through the network the documents define.
pub fn path(
    snap: &Snapshot,
    info: &SnapshotInfo,
    documents: &[(String, Vec<u8>)],
    parameters: &Map<String, Value>,
    p: &PathParams,
) -> Result<PathReport> {
    let net = super::check::network(snap, documents, parameters, p.location.as_deref())?;
    let bgp = bgp_routes(snap, &p.bgp)?;
    let asgs = net.asg_members(&p.asgs);
    let from: End = crate::path::locate(&net, &p.from)?;
    let from_name = format!("{} ({})", from.address, net.subnets[from.subnet].meta.name);
    if let Some(e) = &p.effective_routes
        && e.kind != crate::routes::audit::TableKind::EffectiveRoutes
    {
        return Err(Error::field(
            "effective_routes",
            "is a route table, not a NIC's effective routes: give `az network nic show-effective-route-table` output (a route table belongs among the inputs)",
        ));
    }
    if let Some(e) = &p.effective_routes {
        let local: Vec<IpNet> = e
            .routes
            .iter()
            .filter(|r| r.next_hop == NextHop::VnetLocal)
            .filter_map(|r| r.address_prefix.parse::<IpNet>().ok())
            .collect();
        if !local.iter().any(|n| n.contains(&from.address)) {
            return Err(Error::field(
                "effective_routes",
                format!(
                    "are not the routes of {}'s NIC: their VNet routes ({}) do not hold it",
                    from.address,
                    local
                        .iter()
                        .map(IpNet::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let src = SubnetPaths::with_routes(&net, snap, from.subnet, &bgp, p.effective_routes.clone());
    let guards = src.nsgs(snap, from.nic, &asgs)?;
    let mut notes: Vec<String> = net
        .problems
        .iter()
        .map(|f| format!("{}: {}", f.code, f.message))
        .collect();
    notes.extend(src.notes.iter().cloned());
    let mut report = PathReport {
        snapshot: info.clone(),
        path: None,
        tag: None,
        requirements: Vec::new(),
        notes,
    };
    if let Some(name) = &p.profile {
        let profile = crate::nsg::reach::profiles()
            .into_iter()
            .find(|x| x.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Error::field(
                    "profile",
                    format!(
                        "`{}` is not an NSG profile; known: {}",
                        crate::text::quoted(name),
                        crate::nsg::reach::profiles()
                            .iter()
                            .map(|x| x.name.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let region = match &p.region {
            Some(r) => snap
                .resolve_region(r)
                .map_err(|e| Error::field("region", format!(": {e}")))?
                .to_string(),
            None => net
                .vnet_of(from.subnet)
                .and_then(|v| net.vnets[v].meta.location.clone())
                .and_then(|l| snap.resolve_region(&l).ok().map(str::to_string))
                .ok_or_else(|| {
                    Error::field(
                        "region",
                        "is needed: the source VNet's location is not known (give --region)",
                    )
                })?,
        };
        // Compute without public IPs takes no inbound traffic from the control plane (Learn:
        // how-to-secure-training-vnet, "no public IP"; the 2023 profile's inbound 44224 is for
        // compute with a public IP).
        let users: Vec<&crate::check::model::Compute> = net
            .computes
            .iter()
            .filter(|c| {
                net.find(crate::check::model::Kind::Subnet, c.subnet.as_deref())
                    == Some(from.subnet)
            })
            .collect();
        let no_public_ip = !users.is_empty() && users.iter().all(|c| c.public_ip == Some(false));
        for r in &profile.requirements {
            if no_public_ip && r.direction.eq_ignore_ascii_case("inbound") {
                report.notes.push(format!(
                    "{} {} {} from {}: not required — the subnet's compute has no public IP",
                    r.direction, r.protocol, r.ports, r.tag
                ));
                continue;
            }
            let tag = match r.tag_in(snap, &region) {
                Ok(t) => t,
                Err(e) => {
                    report
                        .notes
                        .push(format!("{}: {e}; requirement skipped", r.tag));
                    continue;
                }
            };
            let direction = Direction::parse(&r.direction).unwrap_or(Direction::Outbound);
            let protocol = Protocol::parse(&r.protocol).unwrap_or(Protocol::Tcp);
            // Inbound: the addresses whose replies must leave through the Internet.
            let replies = match direction {
                Direction::Inbound => reply_tag(snap, &profile.name, &tag, &region),
                Direction::Outbound => tag.clone(),
            };
            for port in r.all_ports() {
                let mut tp = crate::path::to_tag(
                    snap, &src, &guards, from, &from_name, &tag, direction, protocol, port,
                )?;
                // A requirement is met only under every reading: a false "met" is the risk.
                let denied = tp
                    .shares
                    .iter()
                    .any(|s| s.allowed_every_reading != s.addresses);
                let asymmetric =
                    |t: &crate::path::TagPath| t.shares.iter().any(|s| s.goes != "internet");
                let mut wider = None;
                if replies != tag && !denied {
                    // The guidance routes the region's variant: that is what must be answered
                    // through the Internet; the rest of the cloud-wide tag is a reading of its own.
                    let whole = std::mem::replace(
                        &mut tp,
                        crate::path::to_tag(
                            snap, &src, &guards, from, &from_name, &replies, direction, protocol,
                            port,
                        )?,
                    );
                    if asymmetric(&whole) && !asymmetric(&tp) {
                        let answered = whole.through.parse::<u128>().unwrap_or(0);
                        let all = whole.addresses.parse::<u128>().unwrap_or(0);
                        wider = Some(format!(
                            "if {tag} reaches the compute from outside {region} too (Learn's 2021 tag option and 2023 text route the cloud-wide tag): the replies to {} of its {all} addresses return through {}, asymmetrically — route them with `tagnet udr --region REGIONS --only-tag {tag}` for the regions it comes from",
                            all - answered,
                            whole
                                .shares
                                .iter()
                                .find(|s| s.goes != "internet")
                                .map_or("the appliance", |s| s.next_hop.as_str())
                        ));
                    }
                }
                if let Some(w) = wider {
                    tp.differs.push(w);
                }
                let status = match direction {
                    // The replies must leave through the Internet: anything else is asymmetric.
                    Direction::Inbound => {
                        if denied || asymmetric(&tp) {
                            "not-met"
                        } else {
                            "met"
                        }
                    }
                    Direction::Outbound => {
                        if denied || tp.shares.iter().any(|s| s.goes == "dropped") {
                            "not-met"
                        } else if tp
                            .shares
                            .iter()
                            .any(|s| matches!(s.goes.as_str(), "appliance" | "gateway"))
                        {
                            "via-appliance"
                        } else {
                            "met"
                        }
                    }
                };
                let reason = match status {
                    "met" => None,
                    "via-appliance" => Some(
                        "allowed by the NSGs, but routed to an appliance or gateway, whose rules must allow it too".to_string(),
                    ),
                    _ if denied && tp.through != tp.through_every_reading => Some(format!(
                        "the NSGs allow it under some readings of VirtualNetwork only ({} of {} under every reading)",
                        tp.through_every_reading, tp.addresses
                    )),
                    _ if denied => Some("the NSGs do not allow all of it".to_string()),
                    _ if direction == Direction::Inbound => Some(format!(
                        "the replies to {replies} are not routed to the Internet: under forced tunneling they return through the appliance, asymmetrically, and are dropped (add its routes to Internet: `tagnet udr --region {region} --profile {}` writes them)",
                        if crate::routes::profile(&profile.name).is_ok() {
                            profile.name.as_str()
                        } else {
                            "aml-vnet-2020"
                        }
                    )),
                    _ => Some("a route drops some of it".to_string()),
                };
                report.requirements.push(RequirementPath {
                    requirement: format!(
                        "{} {} {port} {} {tag}",
                        r.direction,
                        r.protocol.to_ascii_uppercase(),
                        if direction == Direction::Inbound {
                            "from"
                        } else {
                            "to"
                        }
                    ),
                    why: r.why.clone(),
                    status: status.into(),
                    reason,
                    path: tp,
                });
            }
        }
        return Ok(report);
    }
    let protocol = Protocol::parse(&p.protocol)
        .filter(|x| *x != Protocol::Any)
        .ok_or_else(|| {
            Error::field(
                "protocol",
                format!(
                    "`{}`: tcp, udp, icmp, esp or ah",
                    crate::text::quoted(&p.protocol)
                ),
            )
        })?;
    let (dest, port_in_dest) = split_to(&p.to)?;
    if let (Some(a), Some(b)) = (p.port, port_in_dest)
        && a != b
    {
        return Err(Error::field(
            "port",
            format!("{a} and the port of --to ({b}) differ: give one"),
        ));
    }
    // What the destination names is said before what the flow lacks.
    let dest_tag = match crate::text::address(&dest) {
        Ok(_) => None,
        Err(_) => Some(snap.tag_by_name(&dest).map_err(|e| {
            Error::field(
                "to",
                format!(
                    "`{}` is neither an address nor a tag: {e}",
                    crate::text::quoted(&dest)
                ),
            )
        })?),
    };
    let port = match (p.port.or(port_in_dest), protocol.has_ports()) {
        (Some(n), _) => n,
        (None, false) => 0,
        (None, true) => {
            return Err(Error::field(
                "port",
                format!(
                    "is needed with {}: give «port», or «to» as IP:PORT",
                    protocol.name()
                ),
            ));
        }
    };
    if let Ok((ip, _)) = crate::text::address(&dest) {
        report.path = Some(crate::path::one(
            &net,
            snap,
            &src,
            &guards,
            from,
            ip,
            protocol,
            port,
            &asgs,
            &bgp,
            &mut BTreeMap::new(),
        )?);
    } else if let Some(tag) = dest_tag {
        report.tag = Some(crate::path::to_tag(
            snap,
            &src,
            &guards,
            from,
            &from_name,
            snap.tag(tag).name(),
            Direction::Outbound,
            protocol,
            port,
        )?);
    }
    Ok(report)
}

/// One flow of `path --flows`, as a row.
#[derive(Debug, Clone, Serialize)]
pub struct PathRow {
    /// The input line (1-based).
    pub line: usize,
    /// The source.
    pub from: String,
    /// The destination, `IP:PORT`.
    pub to: String,
    /// The protocol.
    pub protocol: String,
    /// See [`Path::outcome`].
    pub outcome: String,
    /// The outbound NSG verdict.
    pub out_access: String,
    /// Its deciding NSG and rule (or why none).
    pub out_rule: String,
    /// The route's prefix.
    pub route: String,
    /// Its next hop.
    pub next_hop: String,
    /// The inbound NSG verdict at the destination (empty when it is not in the VNet).
    pub in_access: String,
    /// Its deciding NSG and rule.
    pub in_rule: String,
    /// Whether a reading (of `VirtualNetwork` or of routes) answers otherwise.
    pub readings_differ: bool,
}

impl super::Row for PathRow {
    const HEADERS: &'static [&'static str] = &[
        "LINE",
        "FROM",
        "TO",
        "PROTOCOL",
        "OUTCOME",
        "OUT ACCESS",
        "OUT RULE",
        "ROUTE",
        "NEXT HOP",
        "IN ACCESS",
        "IN RULE",
        "READINGS DIFFER",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.line.to_string(),
            self.from.clone(),
            self.to.clone(),
            self.protocol.clone(),
            self.outcome.clone(),
            self.out_access.clone(),
            self.out_rule.clone(),
            self.route.clone(),
            self.next_hop.clone(),
            self.in_access.clone(),
            self.in_rule.clone(),
            self.readings_differ.to_string(),
        ]
    }
}

fn rule_of(s: &crate::path::NsgStep) -> String {
    match &s.note {
        Some(n) => n.clone(),
        None => format!("{} {}", s.nsg, s.rule),
    }
}

/// `path --flows`: every line `FROM,TO[:PORT][,PROTOCOL[,PORT]]` (a header line `from,…`, blank
/// lines and `#` comments skipped) traced through the network the documents define, each row
/// handed to `sink` as it is answered (memory stays flat in the number of lines). A line that
/// cannot be read is an error naming it. Returns how many flows do not get through.
pub fn bulk(
    snap: &Snapshot,
    documents: &[(String, Vec<u8>)],
    parameters: &Map<String, Value>,
    base: &PathParams,
    lines: &mut dyn std::io::BufRead,
    sink: &mut dyn FnMut(PathRow) -> Result<()>,
) -> Result<usize> {
    let net = super::check::network(snap, documents, parameters, base.location.as_deref())?;
    let bgp = bgp_routes(snap, &base.bgp)?;
    let asgs = net.asg_members(&base.asgs);
    let mut subnets: BTreeMap<usize, SubnetPaths> = BTreeMap::new();
    let mut guards: BTreeMap<(usize, Option<usize>), Vec<crate::path::Guards>> = BTreeMap::new();
    let mut inbound: BTreeMap<(usize, Option<usize>), Vec<crate::path::Guards>> = BTreeMap::new();
    let mut failing = 0;
    let mut answered = 0usize;
    let mut text = String::new();
    let mut n = 0;
    loop {
        text.clear();
        if lines
            .read_line(&mut text)
            .map_err(|e| Error::Usage(format!("reading the flows: {e}")))?
            == 0
        {
            break;
        }
        n += 1;
        let l = text.trim().trim_start_matches('\u{feff}');
        if l.is_empty()
            || l.starts_with('#')
            || (n == 1 && l.to_ascii_lowercase().starts_with("from"))
        {
            continue;
        }
        let bad = |why: String| {
            Error::Usage(format!(
                "flows line {n} `{}`: {why}",
                crate::text::quoted(l)
            ))
        };
        let cols: Vec<&str> = l.split(',').map(str::trim).collect();
        if cols.len() < 2 || cols.len() > 4 {
            return Err(bad("expected FROM,TO[:PORT][,PROTOCOL[,PORT]]".into()));
        }
        let p = PathParams {
            from: cols[0].to_string(),
            to: cols[1].to_string(),
            protocol: cols.get(2).map_or("tcp", |s| s).to_string(),
            port: match cols.get(3) {
                Some(x) => Some(x.parse().map_err(|_| bad(format!("`{x}` is not a port")))?),
                None => None,
            },
            ..Default::default()
        };
        let from = crate::path::locate(&net, &p.from).map_err(|e| bad(e.to_string()))?;
        let protocol = Protocol::parse(&p.protocol)
            .filter(|x| *x != Protocol::Any)
            .ok_or_else(|| bad(format!("`{}` is not tcp, udp, icmp, esp or ah", p.protocol)))?;
        let (dest, port_in) = split_to(&p.to).map_err(|e| bad(e.to_string()))?;
        if let (Some(a), Some(b)) = (p.port, port_in)
            && a != b
        {
            return Err(bad(format!("port {a} and the port in TO ({b}) differ")));
        }
        let port = match (p.port.or(port_in), protocol.has_ports()) {
            (Some(x), _) => x,
            (None, false) => 0,
            (None, true) => return Err(bad(format!("{} needs a port", protocol.name()))),
        };
        let (ip, _) = crate::text::address(&dest).map_err(|e| bad(e.to_string()))?;
        let src = subnets
            .entry(from.subnet)
            .or_insert_with(|| SubnetPaths::new(&net, snap, from.subnet, &bgp));
        let g = match guards.entry((from.subnet, from.nic)) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(src.nsgs(snap, from.nic, &asgs)?)
            }
        };
        let path = crate::path::one(
            &net,
            snap,
            src,
            g,
            from,
            ip,
            protocol,
            port,
            &asgs,
            &bgp,
            &mut inbound,
        )
        .map_err(|e| bad(e.to_string()))?;
        answered += 1;
        if path.outcome.starts_with("dropped") {
            failing += 1;
        }
        let differ = !path.out.differs.is_empty()
            || !path.route.differs.is_empty()
            || path.inbound.as_ref().is_some_and(|i| !i.differs.is_empty());
        sink(PathRow {
            line: n,
            from: path.from.clone(),
            to: path.to.clone(),
            protocol: protocol.name().to_string(),
            outcome: path.outcome.clone(),
            out_access: path.out.access.clone(),
            out_rule: rule_of(&path.out),
            route: path.route.prefix.clone(),
            next_hop: path.route.next_hop.clone(),
            in_access: path
                .inbound
                .as_ref()
                .map_or(String::new(), |i| i.access.clone()),
            in_rule: path.inbound.as_ref().map_or(String::new(), rule_of),
            readings_differ: differ,
        })?;
    }
    if answered == 0 {
        return Err(Error::Usage(
            "no flow in the input: give lines FROM,TO[:PORT][,PROTOCOL[,PORT]]".into(),
        ));
    }
    Ok(failing)
}
