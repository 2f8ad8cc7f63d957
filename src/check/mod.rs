//! `tagnet check`: the ML-in-a-VNet guidance applied to a network definition before it is
//! deployed.
//!
//! [`read`] reads `az` JSON, ARM templates and Terraform plans into one [`model::Network`];
//! [`rules`] holds one file per rule; [`check`] runs them all, reusing the NSG engine
//! (`nsg require`, `nsg analyze`) and the route audit, and returns findings sorted by rule
//! number, resource and message. Severities can be changed per code with [`Levels`].

pub mod model;
pub mod read;
pub mod rules;

use crate::findings::Finding;
use crate::snapshot::Snapshot;
use ipnet::IpNet;
use model::{ComputeKind, Kind, Network};
use std::collections::BTreeMap;

/// What the rules need beside the network.
pub struct Cx<'a> {
    /// The network.
    pub net: &'a Network,
    /// The service tags.
    pub snap: &'a Snapshot,
    /// On-premises ranges (AKS ranges must not overlap them), each with the phrase that
    /// names it in findings ("the on-premises tag `Corp.OnPrem`").
    pub on_prem: &'a [(String, IpNet)],
    /// The NSG requirement profile (`nsg require --profile`).
    pub nsg_profile: &'a str,
    /// The route profile (`udr --profile`).
    pub udr_profile: &'a str,
    /// Application security group → member addresses (see [`Network::asg_members`]).
    pub asgs: &'a std::collections::BTreeMap<String, Vec<std::net::IpAddr>>,
}

/// An Azure ML compute's subnet, with who needs it.
#[derive(Debug, Clone)]
pub struct ComputeSubnet {
    /// Index into [`Network::subnets`].
    pub subnet: usize,
    /// The computes and clusters placed there (ids).
    pub users: Vec<String>,
}

impl Cx<'_> {
    /// The subnets Azure ML computes (clusters and instances) run in, by subnet.
    pub fn compute_subnets(&self) -> Vec<ComputeSubnet> {
        let mut by: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for c in &self.net.computes {
            if !matches!(c.kind, ComputeKind::Cluster | ComputeKind::Instance) {
                continue;
            }
            // A managed network's compute runs in the managed VNet (see
            // `Code::ManagedNetworkCompute`).
            if self.managed_network_of(c).is_some() {
                continue;
            }
            if let Some(s) = c
                .subnet
                .as_deref()
                .and_then(|r| self.net.resolve(Kind::Subnet, r))
            {
                by.entry(s).or_default().push(c.meta.id.clone());
            }
        }
        by.into_iter()
            .map(|(subnet, users)| ComputeSubnet { subnet, users })
            .collect()
    }

    /// The workspace of a compute when a managed virtual network isolates it.
    pub fn managed_network_of(&self, c: &model::Compute) -> Option<&model::Workspace> {
        self.net
            .find(Kind::Workspace, c.workspace.as_deref())
            .map(|w| &self.net.workspaces[w])
            .filter(|w| w.managed_network)
    }

    /// The region of a subnet (its network's location), resolved against the snapshot.
    pub fn region_of_subnet(&self, subnet: usize) -> Option<String> {
        let v = self.net.vnet_of(subnet)?;
        let loc = self.net.vnets[v].meta.location.as_deref()?;
        self.snap.resolve_region(loc).ok().map(str::to_string)
    }

    /// The region of a compute subnet for a check that needs it (`what`): or, when the
    /// network's location is unknown or not a region of the snapshot, a finding saying the
    /// check was not made — never a silent pass.
    pub fn region_for(&self, subnet: usize, what: &str, out: &mut Vec<Finding>) -> Option<String> {
        if let Some(r) = self.region_of_subnet(subnet) {
            return Some(r);
        }
        let sub = &self.net.subnets[subnet];
        let (vnet, loc) = match self.net.vnet_of(subnet) {
            Some(v) => (
                self.net.vnets[v].meta.name.clone(),
                self.net.vnets[v].meta.location.clone(),
            ),
            None => (sub.vnet.clone(), None),
        };
        let why = match loc {
            Some(l) => format!(
                "its VNet `{vnet}` is in `{l}`, which is not a region of this snapshot ({} changeNumber {})",
                self.snap.cloud(),
                self.snap.change_number()
            ),
            None => format!(
                "the location of its VNet `{vnet}` is unknown (not given, or `[resourceGroup().location]`, which only the deployment knows)"
            ),
        };
        out.push(
            Finding::new(
                crate::findings::Code::CannotEvaluate,
                &sub.meta.id,
                format!("{what} of compute subnet `{}` were not checked: {why}", sub.meta.name),
            )
            .fix("give the resource group's region with --location REGION (or the VNet's `location`), then check again"),
        );
        None
    }
}

pub use crate::findings::severity::{Level, Levels, Resolved};

/// Runs every rule; findings sorted by rule number, resource and message.
pub fn check(cx: &Cx) -> Vec<Finding> {
    let mut out: Vec<Finding> = cx.net.problems.clone();
    for f in rules::ALL {
        f(cx, &mut out);
    }
    out.sort_by(|a, b| (a.id, &a.resource, &a.message).cmp(&(b.id, &b.resource, &b.message)));
    out.dedup();
    out
}

/// Whether two prefixes share an address.
pub fn overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// What an AKS range must stay clear of: (what, prefix) for the cluster's VNet spaces, its
/// subnets, peered spaces and on-premises ranges.
pub fn cluster_neighbours(cx: &Cx, c: &model::Cluster) -> Vec<(String, IpNet)> {
    let mut out = Vec::new();
    let mut vnets: Vec<usize> = c
        .pools
        .iter()
        .filter_map(|p| p.subnet.as_deref())
        .filter_map(|r| cx.net.resolve(Kind::Subnet, r))
        .filter_map(|s| cx.net.vnet_of(s))
        .collect();
    vnets.sort_unstable();
    vnets.dedup();
    for v in vnets {
        let vnet = &cx.net.vnets[v];
        for s in &vnet.spaces {
            out.push((
                format!("the address space of VNet `{}`", vnet.meta.name),
                *s,
            ));
        }
        for s in cx.net.subnets_of(v) {
            for p in &cx.net.subnets[s].prefixes {
                out.push((format!("subnet `{}`", cx.net.subnets[s].meta.name), *p));
            }
        }
        for (name, p) in cx.net.peered_spaces(v) {
            out.push((format!("the peered network `{name}`"), p));
        }
    }
    out.extend(on_prem_ranges(cx));
    out
}

/// The on-premises ranges: those given with `--on-prem` and every local network gateway's
/// address space, as (what, prefix).
pub fn on_prem_ranges(cx: &Cx) -> Vec<(String, IpNet)> {
    let mut out: Vec<(String, IpNet)> = cx.on_prem.to_vec();
    for g in &cx.net.local_gateways {
        for p in &g.prefixes {
            out.push((
                format!(
                    "the on-premises space of local network gateway `{}`",
                    g.meta.name
                ),
                *p,
            ));
        }
    }
    out
}

/// The neighbours a range overlaps, as one phrase (`10.0.0.0/16 of the address space of VNet
/// `a`; 10.0.1.0/24 of subnet `b``) and the first overlapping address; `None` when it
/// overlaps none.
pub fn overlaps_of(range: &IpNet, neighbours: &[(String, IpNet)]) -> Option<(String, String)> {
    let hits: Vec<&(String, IpNet)> = neighbours
        .iter()
        .filter(|(_, p)| overlap(range, p))
        .collect();
    let (_, first) = hits.first()?;
    let inner = if range.prefix_len() >= first.prefix_len() {
        range
    } else {
        first
    };
    let shown: Vec<String> = hits
        .iter()
        .map(|(what, p)| format!("{p} of {what}"))
        .collect();
    Some((shown.join("; "), inner.network().to_string()))
}
