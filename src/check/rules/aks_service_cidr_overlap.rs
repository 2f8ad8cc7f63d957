//! The AKS service CIDR colliding with the network.

use super::Cx;
use crate::check::{cluster_neighbours, overlaps_of};
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each cluster's service CIDR.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let Some(svc) = c.service_cidr else { continue };
        if let Some((hits, first)) = overlaps_of(&svc, &cluster_neighbours(cx, c)) {
            out.push(
                Finding::new(
                    Code::AksServiceCidrOverlap,
                    &c.meta.id,
                    format!(
                        "service CIDR {svc}{} overlaps {hits}{}",
                        if c.defaulted.iter().any(|d| d == "serviceCidr") {
                            " (AKS's default: the definition sets none)"
                        } else {
                            ""
                        },
                        if hits.contains("of subnet `") {
                            " (AKS: ServiceCidrOverlapExistingSubnetsCidr)"
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
