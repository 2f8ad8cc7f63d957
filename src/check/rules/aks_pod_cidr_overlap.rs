//! The AKS pod CIDR colliding with the network or the service CIDR.

use super::Cx;
use crate::check::{cluster_neighbours, overlaps_of};
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each cluster's pod CIDR.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let Some(pod) = c.pod_cidr else { continue };
        // Azure CNI without overlay gives pods subnet addresses; a pod CIDR there is unused.
        if c.plugin == "azure" && !c.overlay {
            continue;
        }
        let mut against = cluster_neighbours(cx, c);
        if let Some(s) = c.service_cidr {
            against.push((
                "the service CIDR (AKS: PodCidrOverlapServiceCidr)".into(),
                s,
            ));
        }
        if let Some((hits, first)) = overlaps_of(&pod, &against) {
            out.push(
                Finding::new(
                    Code::AksPodCidrOverlap,
                    &c.meta.id,
                    format!(
                        "pod CIDR {pod}{} overlaps {hits}{}",
                        if c.defaulted.iter().any(|d| d == "podCidr") {
                            " (AKS's default: the definition sets none)"
                        } else {
                            ""
                        },
                        if hits.contains("of subnet `") {
                            " (AKS: PodCidrOverlapExistingSubnetsCidr)"
                        } else {
                            ""
                        }
                    ),
                )
                .counterexample(first),
            );
        }
    }
}
