//! Subnet capacity for the computes and node pools placed in it.

use super::Cx;
use crate::check::model::{ComputeKind, Kind};
use crate::findings::Code;
use crate::findings::Finding;
use ipnet::IpNet;
use std::collections::BTreeMap;

/// Usable addresses of a subnet's prefixes (IPv4; Azure keeps 5 of each).
pub fn usable(prefixes: &[IpNet]) -> u64 {
    prefixes
        .iter()
        .filter_map(|p| match p {
            IpNet::V4(n) => Some((1u64 << (32 - n.prefix_len())).saturating_sub(5)),
            IpNet::V6(_) => None,
        })
        .sum()
}

/// The longest IPv4 prefix length with at least `need` usable addresses.
pub fn fitting_len(need: u64) -> Option<u8> {
    (2..=29u8).rev().find(|&l| (1u64 << (32 - l)) - 5 >= need)
}

/// Checks every subnet with computes or node pools.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    let mut need: BTreeMap<usize, (u64, Vec<String>)> = BTreeMap::new();
    let mut add = |s: usize, n: u64, why: String| {
        let e = need.entry(s).or_default();
        e.0 += n;
        e.1.push(why);
    };
    for c in &net.computes {
        let Some(s) = net.find(Kind::Subnet, c.subnet.as_deref()) else {
            continue;
        };
        // A managed network's compute runs in the managed VNet (`managed-network-compute`).
        if cx.managed_network_of(c).is_some() {
            continue;
        }
        match c.kind {
            ComputeKind::Cluster | ComputeKind::Instance => {
                let n = c.max_nodes.max(1);
                add(s, n, format!("{} needs {n} (one a node)", c.meta.name));
            }
            ComputeKind::BatchPool if c.max_nodes > 0 => {
                let n = c.max_nodes;
                add(
                    s,
                    n,
                    format!(
                        "Batch pool {} needs {n} (dedicated and low-priority nodes)",
                        c.meta.name
                    ),
                );
            }
            _ => {}
        }
    }
    for c in &net.clusters {
        for p in &c.pools {
            let Some(s) = net.find(Kind::Subnet, p.subnet.as_deref()) else {
                continue;
            };
            let pod_subnet = net.find(Kind::Subnet, p.pod_subnet.as_deref());
            let (n, how) = if c.plugin == "azure" && !c.overlay && p.pod_subnet.is_none() {
                (
                    (p.nodes + 1) * (p.max_pods + 1),
                    format!(
                        "(nodes {} + 1) × (maxPods {} + 1), Azure CNI",
                        p.nodes, p.max_pods
                    ),
                )
            } else {
                (p.nodes + 1, format!("nodes {} + 1 for upgrades", p.nodes))
            };
            if let Some(ps) = pod_subnet {
                // Azure CNI with a pod subnet: pods take its addresses, nodes the node subnet's.
                let pods = p.nodes * p.max_pods;
                add(
                    ps,
                    pods,
                    format!(
                        "{} pool {} needs {pods} for pods: nodes {} × maxPods {}",
                        c.meta.name, p.name, p.nodes, p.max_pods
                    ),
                );
            }
            add(
                s,
                n,
                format!("{} pool {} needs {n}: {how}", c.meta.name, p.name),
            );
        }
    }
    for (s, (n, why)) in need {
        let sub = &net.subnets[s];
        if sub.prefixes.iter().all(|p| matches!(p, IpNet::V6(_))) {
            continue;
        }
        let have = usable(&sub.prefixes);
        if have >= n {
            continue;
        }
        let shown: Vec<String> = sub.prefixes.iter().map(ToString::to_string).collect();
        let fix = match fitting_len(n) {
            Some(l) => format!(
                "give the subnet a /{l} or shorter prefix ({} usable), or lower the nodes or maxPods",
                (1u64 << (32 - l)) - 5
            ),
            None => "split the nodes over several subnets".to_string(),
        };
        out.push(
            Finding::new(
                Code::SubnetTooSmall,
                &sub.meta.id,
                format!(
                    "{} has {have} usable addresses (5 of each prefix are Azure's) but needs {n}: {}",
                    shown.join(", "),
                    why.join("; ")
                ),
            )
            .fix(fix),
        );
    }
}
