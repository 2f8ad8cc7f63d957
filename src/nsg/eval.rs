//! Rule semantics with real service tags, and the naive first-match evaluator kept as the
//! oracle of the compiled one.
//!
//! `VirtualNetwork` is the address spaces given (the VNet, peered VNets, on-premises);
//! `AzureLoadBalancer` is 168.63.129.16/32; `Internet` is every address outside
//! `VirtualNetwork`; the platform tags, not in the file, are `AzurePlatformDNS` 168.63.129.16/32,
//! `AzurePlatformIMDS` 169.254.169.254/32 and `AzurePlatformLKM` no address (Learn publishes
//! none, so a rule naming it matches no flow tagnet evaluates); any other tag is its prefixes in the snapshot (a regional name as
//! written). Application security groups are their members' addresses, given by the user.
//! Within an NSG rules apply in ascending priority and the first match decides; inbound a flow
//! meets the subnet NSG, then the NIC NSG; outbound the NIC NSG, then the subnet NSG; both must
//! allow, and a missing NSG allows.

use super::model::{Access, Address, Direction, Flow, Nsg, Ports, Protocol, Rule, Verdict};
use crate::error::{Error, Result};
use crate::prefixset::PrefixSet;
use crate::snapshot::Snapshot;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the addresses of a rule mean: the snapshot, the VNet's spaces, the ASGs' members.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The service tags.
    pub snapshot: &'a Snapshot,
    /// `VirtualNetwork`.
    pub vnet: Vec<IpNet>,
    /// Application security group → member addresses.
    pub asgs: BTreeMap<String, Vec<IpAddr>>,
}

/// A rule with its addresses resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The rule as written.
    pub rule: Rule,
    /// Its source addresses.
    pub source: PrefixSet,
    /// Its destination addresses.
    pub destination: PrefixSet,
}

/// An NSG with every rule resolved, in evaluation order.
#[derive(Debug, Clone)]
pub struct ResolvedNsg {
    /// Name.
    pub name: String,
    /// Rules by direction then priority.
    pub rules: Vec<Resolved>,
}

fn everything() -> PrefixSet {
    PrefixSet::from_prefixes([
        "0.0.0.0/0".parse::<IpNet>().expect("valid"),
        "::/0".parse::<IpNet>().expect("valid"),
    ])
}

impl Context<'_> {
    /// The addresses of a rule's source or destination.
    pub fn addresses(&self, a: &Address, rule: &str, nsg: &str) -> Result<PrefixSet> {
        Ok(match a {
            Address::Any => everything(),
            Address::Prefixes(p) => PrefixSet::from_prefixes(p.iter().map(|n| n.trunc())),
            Address::Asgs(names) => {
                let mut nets = Vec::new();
                for n in names {
                    let members = self.asgs.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v).ok_or_else(|| {
                        Error::Usage(format!(
                            "NSG `{nsg}` rule `{rule}` uses the application security group `{n}`: give its members: «asgs» {n}=IP[,IP…]"
                        ))
                    })?;
                    nets.extend(members.iter().map(|&ip| IpNet::from(ip)));
                }
                PrefixSet::from_prefixes(nets)
            }
            Address::Tag(t) => self.tag(t).map_err(|e| match e {
                Error::UnknownTag { name, suggestions } => Error::Usage(format!(
                    "NSG `{nsg}` rule `{rule}`: unknown service tag `{name}`{}",
                    if suggestions.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; did you mean {}?",
                            suggestions
                                .iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                )),
                Error::Usage(m) => Error::Usage(format!("NSG `{nsg}` rule `{rule}`: {m}")),
                other => other,
            })?,
        })
    }

    /// A service tag's addresses, with the tags that are not in the file.
    pub fn tag(&self, t: &str) -> Result<PrefixSet> {
        let norm: String = t
            .chars()
            .filter(|c| *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        let vnet = || PrefixSet::from_prefixes(self.vnet.iter().map(|n| n.trunc()));
        Ok(match norm.as_str() {
            "virtualnetwork" => vnet(),
            "azureloadbalancer" => {
                PrefixSet::from_prefixes(["168.63.129.16/32".parse::<IpNet>().expect("valid")])
            }
            "internet" => everything().difference(&vnet()),
            // Outbound-only platform tags, not in the download file (Learn, "Virtual network
            // service tags"): Azure's DNS and IMDS addresses. AzurePlatformLKM (Windows
            // licensing) has no address Learn publishes: it matches none here.
            "azureplatformdns" => {
                PrefixSet::from_prefixes(["168.63.129.16/32".parse::<IpNet>().expect("valid")])
            }
            "azureplatformimds" => {
                PrefixSet::from_prefixes(["169.254.169.254/32".parse::<IpNet>().expect("valid")])
            }
            "azureplatformlkm" => PrefixSet::from_prefixes(std::iter::empty::<IpNet>()),
            _ => {
                let id = self.snapshot.service_tag_by_name(t)?;
                PrefixSet::from_prefixes(self.snapshot.tag(id).prefixes())
            }
        })
    }

    /// Resolves every rule of an NSG.
    ///
    /// Azure's platform services at 168.63.129.16 (DNS, the VM agent, health) and
    /// 169.254.169.254 (IMDS) "aren't subject to the configured network security groups unless
    /// targeted by service tags" (Learn, "Network security groups"): an outbound rule reaches
    /// them only when its destination is `AzurePlatformDNS`, `AzurePlatformIMDS` or
    /// `AzurePlatformLKM`; every other rule, the default ones included, leaves them out, so a
    /// flow to them that no such rule decides is allowed with no rule.
    pub fn resolve(&self, nsg: &Nsg) -> Result<ResolvedNsg> {
        let mut rules = Vec::with_capacity(nsg.rules.len());
        for r in &nsg.rules {
            let destination =
                platform_exempt(r, self.addresses(&r.destination, &r.name, &nsg.name)?);
            rules.push(Resolved {
                source: self.addresses(&r.source, &r.name, &nsg.name)?,
                destination,
                rule: r.clone(),
            });
        }
        Ok(ResolvedNsg {
            name: nsg.name.clone(),
            rules,
        })
    }
}

/// A rule's resolved destination less Azure's platform addresses (168.63.129.16,
/// 169.254.169.254) unless it is outbound to a platform tag: what the rule can match (see
/// [`Context::resolve`]). Every reading of rules (evaluators, `analyze`) goes through it.
pub fn platform_exempt(r: &Rule, destination: PrefixSet) -> PrefixSet {
    if r.direction != super::model::Direction::Outbound
        || matches!(&r.destination, Address::Tag(t) if is_platform_tag(t))
    {
        return destination;
    }
    let platform = PrefixSet::from_prefixes(
        ["168.63.129.16/32", "169.254.169.254/32"].map(|p| p.parse::<IpNet>().expect("valid")),
    );
    destination.difference(&platform)
}

/// `AzurePlatformDNS`, `AzurePlatformIMDS`, `AzurePlatformLKM` (any case, `_` ignored).
pub fn is_platform_tag(t: &str) -> bool {
    let n: String = t
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        n.as_str(),
        "azureplatformdns" | "azureplatformimds" | "azureplatformlkm"
    )
}

/// Whether a rule matches a flow.
pub fn matches(r: &Resolved, f: &Flow) -> bool {
    if r.rule.direction != f.direction {
        return false;
    }
    if r.rule.protocol != Protocol::Any && r.rule.protocol != f.protocol {
        return false;
    }
    let (src, sport, dst, dport) = f.endpoints();
    let ports_ok = |p: &Ports, port: u16| !f.protocol.has_ports() || p.contains(port);
    ports_ok(&r.rule.source_ports, sport)
        && ports_ok(&r.rule.destination_ports, dport)
        && r.source.contains(src)
        && r.destination.contains(dst)
}

/// The first matching rule of one NSG, by linear scan: the oracle.
pub fn first_match_naive<'a>(nsg: &'a ResolvedNsg, f: &Flow) -> Option<&'a Resolved> {
    nsg.rules.iter().find(|r| matches(r, f))
}

/// The first matching rule by the plainest loop: every rule, every prefix of its addresses
/// scanned in turn (what a script would do); a baseline for the benches.
pub fn first_match_linear<'a>(nsg: &'a ResolvedNsg, f: &Flow) -> Option<&'a Resolved> {
    let (src, sport, dst, dport) = f.endpoints();
    let scan = |set: &PrefixSet, ip: IpAddr| {
        let (ranges, k) = match ip {
            IpAddr::V4(v4) => (set.v4.ranges(), u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (set.v6.ranges(), u128::from(v6)),
        };
        ranges.iter().any(|r| r.0 <= k && k <= r.1)
    };
    nsg.rules.iter().find(|r| {
        r.rule.direction == f.direction
            && (r.rule.protocol == Protocol::Any || r.rule.protocol == f.protocol)
            && (!f.protocol.has_ports()
                || (r.rule.source_ports.contains(sport)
                    && r.rule.destination_ports.contains(dport)))
            && scan(&r.source, src)
            && scan(&r.destination, dst)
    })
}

/// The verdict of a subnet NSG and a NIC NSG for a flow, by any evaluator `first` of one NSG.
pub fn chain<'a, N>(
    subnet: Option<&'a N>,
    nic: Option<&'a N>,
    f: &Flow,
    first: impl Fn(&'a N, &Flow) -> Option<(Access, &'a str, String)>,
) -> Verdict {
    let order = match f.direction {
        Direction::Inbound => [subnet, nic],
        Direction::Outbound => [nic, subnet],
    };
    let mut last = Verdict {
        access: Access::Allow,
        nsg: String::new(),
        rule: String::new(),
    };
    for n in order.into_iter().flatten() {
        if let Some((access, nsg, rule)) = first(n, f) {
            last = Verdict {
                access,
                nsg: nsg.to_string(),
                rule,
            };
            if access == Access::Deny {
                return last;
            }
        }
    }
    last
}

/// The naive verdict of a subnet and a NIC NSG.
pub fn verdict_naive(subnet: Option<&ResolvedNsg>, nic: Option<&ResolvedNsg>, f: &Flow) -> Verdict {
    chain(subnet, nic, f, |n, f| {
        first_match_naive(n, f).map(|r| (r.rule.access, n.name.as_str(), r.rule.path()))
    })
}
