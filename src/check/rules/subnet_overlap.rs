//! Overlapping subnets of one network.
//!
//! A sweep, not every pair: each network's subnet prefixes sorted by first address, each
//! compared only with the earlier ones still open (whose last address is at or past its
//! first) — every such pair overlaps, so the work is `n log n` plus the overlaps found.

use super::Cx;
use crate::findings::Code;
use crate::findings::Finding;
use crate::prefixset::prefix_range;

/// Checks each network's subnets; a finding per overlapping pair of prefixes, on the later
/// subnet (in input order), naming the earlier.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for v in 0..cx.net.vnets.len() {
        let subs = cx.net.subnets_of(v);
        // (family, first, last, place of the subnet in `subs`, prefix).
        let mut spans: Vec<(bool, u128, u128, usize, usize)> = Vec::new();
        for (k, &s) in subs.iter().enumerate() {
            for (p, net) in cx.net.subnets[s].prefixes.iter().enumerate() {
                let (first, last) = prefix_range(net);
                spans.push((net.addr().is_ipv6(), first, last, k, p));
            }
        }
        spans.sort_unstable();
        let mut open: Vec<(bool, u128, usize, usize)> = Vec::new();
        for &(six, first, last, k, p) in &spans {
            open.retain(|&(f, end, _, _)| f == six && end >= first);
            for &(_, _, k2, p2) in &open {
                if k2 == k {
                    continue;
                }
                let ((ka, pa), (kb, pb)) = if k2 < k {
                    ((k2, p2), (k, p))
                } else {
                    ((k, p), (k2, p2))
                };
                let (sa, sb) = (&cx.net.subnets[subs[ka]], &cx.net.subnets[subs[kb]]);
                let (pa, pb) = (&sa.prefixes[pa], &sb.prefixes[pb]);
                out.push(finding(sa, pa, sb, pb));
            }
            open.push((six, last, k, p));
        }
    }
}

/// The finding of prefix `pb` of subnet `sb` overlapping `pa` of the earlier subnet `sa`.
fn finding(
    sa: &crate::check::model::Subnet,
    pa: &ipnet::IpNet,
    sb: &crate::check::model::Subnet,
    pb: &ipnet::IpNet,
) -> Finding {
    let inner = if pa.prefix_len() >= pb.prefix_len() {
        pa
    } else {
        pb
    };
    Finding::new(
        Code::SubnetOverlap,
        &sb.meta.id,
        format!("{pb} overlaps {pa} of subnet `{}`", sa.meta.name),
    )
    .counterexample(inner.network().to_string())
}

/// The pairs of every network's subnets, one by one: the reference the sweep is tested and
/// benchmarked against (`benches/check.rs`).
pub fn check_all_pairs(cx: &Cx, out: &mut Vec<Finding>) {
    use crate::check::overlap;
    for v in 0..cx.net.vnets.len() {
        let subs = cx.net.subnets_of(v);
        for (k, &a) in subs.iter().enumerate() {
            for &b in &subs[k + 1..] {
                let (sa, sb) = (&cx.net.subnets[a], &cx.net.subnets[b]);
                for pa in &sa.prefixes {
                    for pb in sb.prefixes.iter().filter(|pb| overlap(pa, pb)) {
                        out.push(finding(sa, pa, sb, pb));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{Kind, Meta, Network, Subnet, Vnet};
    use ipnet::IpNet;
    use proptest::prelude::*;

    fn subnet(i: usize, vnet: &str, prefixes: Vec<IpNet>) -> Subnet {
        Subnet {
            meta: Meta {
                id: format!("{vnet}/subnets/s{i}"),
                name: format!("s{i}"),
                keys: vec![format!(
                    "microsoft.network/virtualnetworks/{vnet}/subnets/s{i}"
                )],
                ..Default::default()
            },
            vnet: vnet.to_string(),
            prefixes,
            ..Default::default()
        }
    }

    /// Prefixes of a small corner of the space (so they often overlap), both families.
    fn prefixes() -> impl Strategy<Value = Vec<IpNet>> {
        proptest::collection::vec((0u32..64, 22u8..31, any::<bool>()), 1..3).prop_map(|v| {
            v.into_iter()
                .map(|(a, len, six)| {
                    if six {
                        IpNet::V6(
                            ipnet::Ipv6Net::new(
                                std::net::Ipv6Addr::from(0xfd00u128 << 112 | u128::from(a) << 100),
                                len + 2,
                            )
                            .unwrap(),
                        )
                        .trunc()
                    } else {
                        IpNet::V4(
                            ipnet::Ipv4Net::new(
                                std::net::Ipv4Addr::from(0x0A00_0000 | a << 6),
                                len,
                            )
                            .unwrap(),
                        )
                        .trunc()
                    }
                })
                .collect()
        })
    }

    proptest! {
        /// The sweep finds exactly the pairs every-pair comparison finds, over two networks;
        /// the networks' lookups answer as the scan does.
        #[test]
        fn sweep_equals_all_pairs(subs in proptest::collection::vec((any::<bool>(), prefixes()), 0..40)) {
            let mut net = Network::default();
            for name in ["a", "b"] {
                net.vnets.push(Vnet {
                    meta: Meta {
                        id: name.into(),
                        name: name.into(),
                        keys: vec![name.into()],
                        ..Default::default()
                    },
                    ..Default::default()
                });
            }
            for (i, (in_a, p)) in subs.into_iter().enumerate() {
                net.subnets.push(subnet(i, if in_a { "a" } else { "b" }, p));
            }
            let snap = crate::load::builtin::load().unwrap();
            let asgs = Default::default();
            let cx = Cx { net: &net, snap: &snap, on_prem: &[], nsg_profile: "default", udr_profile: "default", asgs: &asgs };
            let (mut swept, mut all) = (Vec::new(), Vec::new());
            check(&cx, &mut swept);
            check_all_pairs(&cx, &mut all);
            let key = |f: &Finding| (f.resource.clone(), f.message.clone());
            swept.sort_by_key(key);
            all.sort_by_key(key);
            prop_assert_eq!(swept, all);
            for s in 0..net.subnets.len() {
                let by_scan = (0..net.vnets.len()).find(|&v| net.vnets[v].meta.keys.contains(&net.subnets[s].vnet));
                prop_assert_eq!(net.vnet_of(s), by_scan);
                prop_assert_eq!(net.resolve(Kind::Subnet, &net.subnets[s].meta.keys[0].clone()), Some(s));
            }
        }
    }
}
