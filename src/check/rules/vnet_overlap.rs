//! A network's space overlapping a peered network's.

use super::Cx;
use crate::check::overlap;
use crate::findings::Code;
use crate::findings::Finding;

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
                    Finding::new(
                        Code::VnetPeeringOverlap,
                        &vnet.meta.id,
                        format!("{s} overlaps {remote} of the peered network `{name}`"),
                    )
                    .counterexample(inner.network().to_string()),
                );
            }
        }
    }
}
