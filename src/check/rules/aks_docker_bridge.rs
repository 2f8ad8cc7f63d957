//! The deprecated docker bridge CIDR overlapping the network.

use super::Cx;
use crate::check::{cluster_neighbours, overlaps_of};
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each cluster's docker bridge.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let Some(b) = c.docker_bridge else { continue };
        let mut against = cluster_neighbours(cx, c);
        if let Some(s) = c.service_cidr {
            against.push(("the service CIDR".into(), s));
        }
        if let Some((hits, first)) = overlaps_of(&b, &against) {
            out.push(
                Finding::new(
                    Code::AksDockerBridgeOverlap,
                    &c.meta.id,
                    format!("docker bridge {b} overlaps {hits} (the field is deprecated)"),
                )
                .counterexample(first),
            );
        }
    }
}
