//! Address ranges a network may not use.

use super::Cx;
use crate::check::overlap;
use crate::findings::Code;
use crate::findings::Finding;
use ipnet::IpNet;

/// The ranges a VNet may not use.
pub const RESERVED: [&str; 5] = [
    "224.0.0.0/4",
    "255.255.255.255/32",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "168.63.129.16/32",
];

/// Checks each network's spaces.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for vnet in &cx.net.vnets {
        for s in &vnet.spaces {
            for r in RESERVED {
                let r: IpNet = r.parse().expect("a valid constant");
                if overlap(s, &r) {
                    let inner = if s.prefix_len() >= r.prefix_len() {
                        s
                    } else {
                        &r
                    };
                    out.push(
                        Finding::new(
                            Code::VnetReservedRange,
                            &vnet.meta.id,
                            format!("address space {s} overlaps {r}, which a VNet may not use"),
                        )
                        .counterexample(inner.network().to_string()),
                    );
                }
            }
        }
    }
}
