//! Address ranges a network may not use.

use super::Cx;
use crate::check::overlap;
use crate::findings::Finding;
use ipnet::IpNet;

rule! {
    RULE = "TN005", "vnet-reserved-range", Error,
    summary: "A virtual network's address space includes a range Azure does not allow.",
    why: "A VNet cannot use 224.0.0.0/4 (multicast), 255.255.255.255/32 (broadcast), 127.0.0.0/8 (loopback), 169.254.0.0/16 (link-local) or 168.63.129.16/32 (Azure's internal DNS and health probes).",
    example: "address space 169.254.0.0/16",
    fix: "Use private ranges (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) that stay clear of these.",
    reference: "https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#what-address-ranges-can-i-use-in-my-vnets",
}

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
                        Finding::of(
                            &RULE,
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
