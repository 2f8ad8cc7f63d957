//! A network's space overlapping a peered network's.

use super::Cx;
use crate::check::overlap;
use crate::findings::Finding;

rule! {
    RULE = "TN004", "vnet-peering-overlap", Error,
    summary: "A virtual network's address space overlaps the space of a network it is peered with.",
    why: "Peered VNets cannot have overlapping address spaces; the peering is refused or, after a space is added, traffic to the shared range stays local.",
    example: "vnet-ml 10.0.0.0/16 peered with vnet-hub 10.0.0.0/22",
    fix: "Renumber one of the networks so their spaces are disjoint.",
    reference: "https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#requirements-and-constraints",
}

/// Checks each network against its peerings.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for (v, vnet) in cx.net.vnets.iter().enumerate() {
        for (name, remote) in cx.net.peered_spaces(v) {
            for s in vnet.spaces.iter().filter(|s| overlap(s, &remote)) {
                let inner = if s.prefix_len() >= remote.prefix_len() {
                    s
                } else {
                    &remote
                };
                out.push(
                    Finding::of(
                        &RULE,
                        &vnet.meta.id,
                        format!("{s} overlaps {remote} of the peered network `{name}`"),
                    )
                    .counterexample(inner.network().to_string()),
                );
            }
        }
    }
}
