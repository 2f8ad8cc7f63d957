//! Exact reasoning over sets of addresses: which remote addresses an NSG (or a subnet-and-NIC
//! pair) lets through for a protocol, a local port and a local address, and requirement
//! profiles checked for every address of a tag.
//!
//! For one (protocol, local port, remote port) point the rules are walked in order with the
//! set of remote addresses not yet decided: each matching rule takes its share (allowed or
//! denied) and removes it. Ports enter as segments: the rules' port boundaries cut a required
//! range into pieces on which every rule either matches or not, so one representative per
//! piece is exact. Inbound the remote side is the source; outbound it is the destination.

use super::eval::ResolvedNsg;
use super::model::{Access, Direction, Flow, Ports, Protocol};
use crate::prefixset::PrefixSet;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The remote addresses of `of` that `nsg` allows for a flow of `protocol` between `local`
/// (port `local_port`) and a remote port `remote_port`.
pub fn allowed(
    nsg: &ResolvedNsg,
    direction: Direction,
    protocol: Protocol,
    local: IpAddr,
    local_port: u16,
    remote_port: u16,
    of: &PrefixSet,
) -> PrefixSet {
    let mut remaining = of.clone();
    let mut allowed = PrefixSet::default();
    for r in &nsg.rules {
        // Given up (the server's request is gone): the answer is thrown away.
        if crate::cancel::cancelled() {
            break;
        }
        let rule = &r.rule;
        if rule.direction != direction
            || (rule.protocol != Protocol::Any && rule.protocol != protocol)
        {
            continue;
        }
        let (local_set, remote_set, local_ports, remote_ports) = match direction {
            Direction::Inbound => (
                &r.destination,
                &r.source,
                &rule.destination_ports,
                &rule.source_ports,
            ),
            Direction::Outbound => (
                &r.source,
                &r.destination,
                &rule.source_ports,
                &rule.destination_ports,
            ),
        };
        if protocol.has_ports()
            && (!local_ports.contains(local_port) || !remote_ports.contains(remote_port))
        {
            continue;
        }
        if !local_set.contains(local) {
            continue;
        }
        let m = remaining.intersection(remote_set);
        if m.is_empty() {
            continue;
        }
        if rule.access == Access::Allow {
            allowed = allowed.union(&m);
        }
        remaining = remaining.difference(&m);
        if remaining.is_empty() {
            break;
        }
    }
    // What no rule matches is not decided by this NSG: it passes (the default rules match
    // everything else; platform traffic to 168.63.129.16 and 169.254.169.254 only rules
    // naming the platform tags do, see `eval::Context::resolve`).
    allowed.union(&remaining)
}

/// Representative ports: one per piece of `range` on which every rule's port sets are
/// constant.
pub fn port_pieces(
    nsgs: &[&ResolvedNsg],
    direction: Direction,
    range: &Ports,
    local: bool,
) -> Vec<u16> {
    let mut cuts: Vec<u32> = Vec::new();
    for n in nsgs {
        for r in &n.rules {
            let p = match (direction, local) {
                (Direction::Inbound, true) | (Direction::Outbound, false) => {
                    &r.rule.destination_ports
                }
                _ => &r.rule.source_ports,
            };
            for &(s, e) in &p.0 {
                cuts.push(u32::from(s));
                cuts.push(u32::from(e) + 1);
            }
        }
    }
    let mut out = Vec::new();
    for &(s, e) in &range.0 {
        let mut points: Vec<u32> = cuts
            .iter()
            .copied()
            .filter(|&c| c > u32::from(s) && c <= u32::from(e))
            .collect();
        points.push(u32::from(s));
        points.sort_unstable();
        points.dedup();
        out.extend(points.into_iter().map(|p| p as u16));
    }
    out
}

/// What a subnet-and-NIC pair lets through.
#[allow(clippy::too_many_arguments)]
pub fn allowed_chain(
    subnet: Option<&ResolvedNsg>,
    nic: Option<&ResolvedNsg>,
    direction: Direction,
    protocol: Protocol,
    local: IpAddr,
    local_port: u16,
    remote_port: u16,
    of: &PrefixSet,
) -> PrefixSet {
    let mut set = of.clone();
    for n in [subnet, nic].into_iter().flatten() {
        set = allowed(n, direction, protocol, local, local_port, remote_port, &set);
    }
    set
}

/// One requirement of a profile, as kept in `data/nsg-profiles.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Requirement {
    /// Inbound or Outbound.
    pub direction: String,
    /// Tcp or Udp.
    pub protocol: String,
    /// Ports: `443`, `80,443`, `29876-29877`.
    pub ports: String,
    /// The tag, with `<region>` for the region's variant.
    pub tag: String,
    /// Why it is needed.
    pub why: String,
}

impl Requirement {
    /// The tag as this region has it: `<region>` resolved to the regional variant's name.
    pub fn tag_in(&self, snap: &crate::Snapshot, region: &str) -> crate::Result<String> {
        if !self.tag.contains("<region>") {
            return Ok(self.tag.clone());
        }
        let base = self.tag.split('.').next().unwrap_or(&self.tag);
        let ids = snap.resolve_tag(base, Some(region))?;
        Ok(snap.tag(ids[0]).name().to_string())
    }

    /// Every port of `ports` (`80,443` → 80, 443; `29876-29877` → 29876, 29877).
    pub fn all_ports(&self) -> Vec<u16> {
        // Every port of every item (`29876-29877` is two flows, each needed): the profiles'
        // ranges are a few ports wide.
        let mut out = Vec::new();
        for item in self.ports.split(',') {
            let mut ends = item.trim().splitn(2, '-').map(|p| p.trim().parse::<u16>());
            match (ends.next(), ends.next()) {
                (Some(Ok(a)), None) => out.push(a),
                (Some(Ok(a)), Some(Ok(b))) if a <= b => out.extend(a..=b),
                _ => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The first port of each item of [`Requirement::ports`] (`29876` of `29876-29877`).
    pub fn first_ports(&self) -> Vec<u16> {
        self.ports
            .split(',')
            .filter_map(|item| item.trim().split('-').next()?.trim().parse().ok())
            .collect()
    }
}

/// A requirement profile with its source.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Used when no profile is named.
    #[serde(default)]
    pub default: bool,
    /// What it is for.
    pub description: String,
    /// Where Microsoft says so.
    pub source: String,
    /// The requirements.
    pub requirements: Vec<Requirement>,
}

#[derive(Deserialize)]
struct Profiles {
    profiles: Vec<Profile>,
}

/// The profiles of `data/nsg-profiles.json`.
pub fn profiles() -> Vec<Profile> {
    let p: Profiles = serde_json::from_str(include_str!("../../data/nsg-profiles.json"))
        .expect("data/nsg-profiles.json is valid (checked by a unit test)");
    p.profiles
}

/// Whether a requirement holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Met {
    /// For every address of the tag and every port.
    Met,
    /// For some addresses or ports only.
    PartlyMet,
    /// For none.
    NotMet,
}

/// The verdict on one requirement.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The requirement, its tag resolved.
    pub requirement: Requirement,
    /// The regional tag used.
    pub tag: String,
    /// The verdict.
    pub verdict: Met,
    /// Addresses of the tag allowed on every required port (a decimal string in JSON: IPv6
    /// counts exceed 2^64).
    #[serde(serialize_with = "as_string")]
    pub addresses_allowed: u128,
    /// Addresses of the tag in all (a decimal string in JSON).
    #[serde(serialize_with = "as_string")]
    pub addresses: u128,
    /// One blocked flow, source first: `REMOTE:PORT -> LOCAL:PORT` inbound,
    /// `LOCAL:PORT -> REMOTE:PORT` outbound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<String>,
    /// The rule that blocks it (`NSG securityRules/NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
}

fn as_string<S: serde::Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

fn size(s: &PrefixSet) -> u128 {
    s.v4.ranges()
        .iter()
        .chain(s.v6.ranges())
        .map(|r| (r.1 - r.0).saturating_add(1))
        .fold(0u128, u128::saturating_add)
}

/// Parses `443`, `80,443`, `29876-29877`.
pub fn parse_ports(text: &str) -> Option<Ports> {
    let mut r = Vec::new();
    for part in text.split(',') {
        r.push(super::read::parse_port_range(part).ok()?);
    }
    Some(Ports::from_ranges(r))
}

/// Checks one requirement for every address of `tag_set` (the tag's prefixes) from `local`.
#[allow(clippy::too_many_arguments)]
pub fn check(
    requirement: &Requirement,
    tag: &str,
    tag_set: &PrefixSet,
    subnet: Option<&ResolvedNsg>,
    nic: Option<&ResolvedNsg>,
    local: IpAddr,
    decide: &dyn Fn(&Flow) -> String,
) -> Checked {
    let direction = Direction::parse(&requirement.direction).unwrap_or(Direction::Inbound);
    let protocol = Protocol::parse(&requirement.protocol).unwrap_or(Protocol::Tcp);
    let ports = parse_ports(&requirement.ports).unwrap_or_else(Ports::any);
    let nsgs: Vec<&ResolvedNsg> = [subnet, nic].into_iter().flatten().collect();
    // Inbound: the required ports are the local (destination) ports, the remote port varies;
    // outbound: the required ports are the remote (destination) ports, the local port varies.
    let (local_ports, remote_ports) = match direction {
        Direction::Inbound => (
            port_pieces(&nsgs, direction, &ports, true),
            port_pieces(&nsgs, direction, &Ports::any(), false),
        ),
        Direction::Outbound => (
            port_pieces(&nsgs, direction, &Ports::any(), true),
            port_pieces(&nsgs, direction, &ports, false),
        ),
    };
    let mut all_allowed = tag_set.clone();
    let mut counter: Option<(IpAddr, u16, u16)> = None;
    for &lp in &local_ports {
        for &rp in &remote_ports {
            let a = allowed_chain(subnet, nic, direction, protocol, local, lp, rp, tag_set);
            if counter.is_none() {
                let missing = tag_set.difference(&a);
                if let Some(first) = missing.to_prefixes().first() {
                    counter = Some((first.addr(), lp, rp));
                }
            }
            all_allowed = all_allowed.intersection(&a);
        }
    }
    let total = size(tag_set);
    let ok = size(&all_allowed);
    let verdict = if total > 0 && ok == total {
        Met::Met
    } else if ok == 0 && counter.is_some() {
        // Not one address gets through on every port; say partly when some get through on
        // some ports.
        let any = local_ports.iter().any(|&lp| {
            remote_ports.iter().any(|&rp| {
                !allowed_chain(subnet, nic, direction, protocol, local, lp, rp, tag_set).is_empty()
            })
        });
        if any { Met::PartlyMet } else { Met::NotMet }
    } else {
        Met::PartlyMet
    };
    let (counterexample, blocked_by) = match (verdict, counter) {
        (Met::Met, _) | (_, None) => (None, None),
        (_, Some((ip, lp, rp))) => {
            // The other end's port: an ephemeral one (49152) when it is blocked there too,
            // rather than the piece's first port (often 0, which no client uses).
            let one = PrefixSet::from_prefixes([IpNet::from(ip)]);
            let blocked = |lp: u16, rp: u16| {
                allowed_chain(subnet, nic, direction, protocol, local, lp, rp, &one).is_empty()
            };
            let (lp, rp) = match direction {
                Direction::Inbound if blocked(lp, 49152) => (lp, 49152),
                Direction::Outbound if blocked(49152, rp) => (49152, rp),
                _ => (lp, rp),
            };
            let flow = Flow {
                direction,
                protocol,
                local_ip: local,
                local_port: lp,
                remote_ip: ip,
                remote_port: rp,
            };
            // Both ends, source first: the other end's port matters where a rule names it.
            let end = |ip: IpAddr, port: u16| match ip {
                IpAddr::V6(_) => format!("[{ip}]:{port}"),
                IpAddr::V4(_) => format!("{ip}:{port}"),
            };
            let shown = match direction {
                Direction::Inbound => format!("{} -> {}", end(ip, rp), end(local, lp)),
                Direction::Outbound => format!("{} -> {}", end(local, lp), end(ip, rp)),
            };
            (Some(shown), Some(decide(&flow)))
        }
    };
    Checked {
        requirement: requirement.clone(),
        tag: tag.to_string(),
        verdict,
        addresses_allowed: ok,
        addresses: total,
        counterexample,
        blocked_by,
    }
}

/// Checks every requirement of a profile for `region` from `local`, through a subnet NSG
/// and a NIC NSG: one result per requirement (tags of `<region>` resolved in the snapshot,
/// only the local address's family), and notes on requirements skipped (a tag the snapshot
/// lacks, a tag without prefixes of that family), each starting `warning:` or `note:`.
pub fn require(
    snap: &crate::Snapshot,
    profile: &Profile,
    region: &str,
    subnet: Option<&ResolvedNsg>,
    nic: Option<&ResolvedNsg>,
    local: IpAddr,
) -> (Vec<Checked>, Vec<String>) {
    let (cs, cn) = (subnet.map(super::compile), nic.map(super::compile));
    let decide = |f: &Flow| {
        let v = super::verdict(cs.as_ref(), cn.as_ref(), f);
        format!("{} {}", v.nsg, v.rule)
    };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for r in &profile.requirements {
        let tag_name = match r.tag_in(snap, region) {
            Ok(t) => t,
            Err(e) => {
                notes.push(format!("warning: {}: {e}; requirement skipped", r.tag));
                continue;
            }
        };
        let id = match snap.tag_by_name(&tag_name) {
            Ok(id) => id,
            Err(e) => {
                notes.push(format!(
                    "warning: {e}; requirement skipped (this snapshot has no such tag)"
                ));
                continue;
            }
        };
        let t = snap.tag(id);
        // Only the local address's family: a flow is IPv4 or IPv6.
        let set = PrefixSet::from_prefixes(
            t.v4()
                .iter()
                .map(|&n| IpNet::V4(n))
                .filter(|_| local.is_ipv4())
                .chain(
                    t.v6()
                        .iter()
                        .map(|&n| IpNet::V6(n))
                        .filter(|_| local.is_ipv6()),
                ),
        );
        if set.is_empty() {
            notes.push(format!(
                "note: {} has no {} prefixes; requirement skipped for local {}",
                t.name(),
                if local.is_ipv4() { "IPv4" } else { "IPv6" },
                local
            ));
            continue;
        }
        rows.push(check(r, t.name(), &set, subnet, nic, local, &decide));
    }
    (rows, notes)
}

/// A set's prefixes with their address counts, for `reach`.
pub fn with_counts(s: &PrefixSet) -> Vec<(IpNet, u128)> {
    s.to_prefixes()
        .into_iter()
        .map(|p| {
            let (a, b) = crate::prefixset::prefix_range(&p);
            (p, (b - a).saturating_add(1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn profiles_parse_with_sources() {
        let p = super::profiles();
        assert_eq!(p.iter().filter(|p| p.default).count(), 1);
        for prof in &p {
            assert!(!prof.source.is_empty());
            for r in &prof.requirements {
                assert!(super::parse_ports(&r.ports).is_some(), "{}", r.ports);
            }
        }
    }
}

/// What `nsg reach` answers: the remote addresses allowed for every remote port, as
/// aggregated prefixes with their address counts, and the tags it touches.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Allowed prefixes and their address counts.
    pub prefixes: Vec<(IpNet, u128)>,
    /// Tags with allowed addresses: (name, `fully` or `partly`).
    pub tags: Vec<(String, &'static str)>,
}

/// The remote addresses a local address reaches (outbound) or is reached from (inbound) on
/// `port`, whatever the other end's port, through a subnet NSG and a NIC NSG; only the local
/// address's family.
pub fn reach(
    snap: &crate::Snapshot,
    subnet: Option<&ResolvedNsg>,
    nic: Option<&ResolvedNsg>,
    direction: Direction,
    protocol: Protocol,
    port: u16,
    local: IpAddr,
) -> Reach {
    let everything = PrefixSet::from_prefixes([if local.is_ipv4() {
        "0.0.0.0/0".parse::<IpNet>().expect("valid")
    } else {
        "::/0".parse::<IpNet>().expect("valid")
    }]);
    let nsgs: Vec<&ResolvedNsg> = [subnet, nic].into_iter().flatten().collect();
    // The other end's port varies: the set allowed for every such port.
    let other = port_pieces(
        &nsgs,
        direction,
        &Ports::any(),
        direction == Direction::Outbound,
    );
    let mut set = everything.clone();
    for p in other {
        let (lp, rp) = match direction {
            Direction::Inbound => (port, p),
            Direction::Outbound => (p, port),
        };
        set = set.intersection(&allowed_chain(
            subnet,
            nic,
            direction,
            protocol,
            local,
            lp,
            rp,
            &everything,
        ));
    }
    let prefixes = with_counts(&set);
    let mut tags = Vec::new();
    for t in snap.tags() {
        let ts = PrefixSet::from_prefixes(
            t.prefixes()
                .filter(|n| n.addr().is_ipv4() == local.is_ipv4()),
        );
        if ts.is_empty() {
            continue;
        }
        let inter = ts.intersection(&set);
        if inter.is_empty() {
            continue;
        }
        tags.push((
            t.name().to_string(),
            if inter == ts { "fully" } else { "partly" },
        ));
    }
    Reach { prefixes, tags }
}
