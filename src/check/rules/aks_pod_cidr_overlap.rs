//! The AKS pod CIDR colliding with the network or the service CIDR.

use super::Cx;
use crate::check::{cluster_neighbours, overlaps_of};
use crate::findings::Finding;

rule! {
    RULE = "TN015", "aks-pod-cidr-overlap", Error,
    summary: "An AKS cluster's pod CIDR (kubenet, CNI Overlay) overlaps its VNet, a subnet, a peered network, an on-premises range or the service CIDR.",
    why: "Pods take addresses from the pod CIDR; where it overlaps a real network or the service range, packets to those addresses go to pods instead. AKS refuses the overlap with subnets (`PodCidrOverlapExistingSubnetsCidr`) and with the service CIDR (`PodCidrOverlapServiceCidr`).",
    example: "podCidr 10.0.0.0/16 in a VNet 10.0.0.0/16",
    fix: "Pick a pod CIDR used nowhere else (the default 10.244.0.0/16 when free).",
    reference: "https://learn.microsoft.com/azure/aks/azure-cni-overlay#ip-address-planning; https://learn.microsoft.com/azure/aks/configure-kubenet",
}

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
                Finding::of(
                    &RULE,
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
