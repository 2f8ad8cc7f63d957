//! AKS ranges inside the ranges AKS forbids.

use super::Cx;
use crate::check::overlap;
use crate::findings::Code;
use crate::findings::Finding;
use ipnet::IpNet;

/// The ranges AKS forbids.
pub const FORBIDDEN: [&str; 4] = [
    "169.254.0.0/16",
    "172.30.0.0/16",
    "172.31.0.0/16",
    "192.0.2.0/24",
];

/// Checks each cluster's service and pod CIDRs.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let mut ranges: Vec<(String, IpNet)> =
            [("service CIDR", c.service_cidr), ("pod CIDR", c.pod_cidr)]
                .into_iter()
                .filter_map(|(w, r)| r.map(|r| (w.to_string(), r)))
                .collect();
        // The cluster's VNet may not use them either.
        for (what, p) in crate::check::cluster_neighbours(cx, c) {
            if let Some(vnet) = what.strip_prefix("the address space of ") {
                ranges.push((format!("the address space of {vnet}"), p));
            }
        }
        for (what, r) in ranges {
            for f in FORBIDDEN {
                // A VNet in 169.254.0.0/16 is `vnet-reserved-range` already.
                if f == "169.254.0.0/16" && what.starts_with("the address space") {
                    continue;
                }
                let f: IpNet = f.parse().expect("a valid constant");
                if overlap(&r, &f) {
                    let inner = if r.prefix_len() >= f.prefix_len() {
                        r
                    } else {
                        f
                    };
                    out.push(
                        Finding::new(
                            Code::AksReservedRange,
                            &c.meta.id,
                            format!("{what} {r} overlaps {f}, which AKS does not allow"),
                        )
                        .counterexample(inner.network().to_string()),
                    );
                }
            }
        }
    }
}
