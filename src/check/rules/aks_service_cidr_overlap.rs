//! The AKS service CIDR colliding with the network.

use super::Cx;
use crate::check::{cluster_neighbours, overlaps_of};
use crate::findings::Finding;

rule! {
    RULE = "TN010", "aks-service-cidr-overlap", Error,
    summary: "An AKS cluster's service CIDR overlaps its VNet, a subnet, a peered network or an on-premises range.",
    why: "Kubernetes services get addresses from the service CIDR; where it overlaps a real network, traffic to those addresses stays inside the cluster. AKS refuses an overlap with the cluster VNet's subnets (`ServiceCidrOverlapExistingSubnetsCidr`), and the docs require the range to be clear of peered VNets and on-premises networks too.",
    example: "the default service CIDR 10.0.0.0/16 in a VNet 10.0.0.0/16",
    fix: "Pick a service CIDR used nowhere in the VNet, its peerings or on premises (e.g. 10.240.0.0/16 when that is free), with the DNS service IP at its .10.",
    reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters; https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete/error-code-servicecidroverlapexistingsubnetscidr",
}

/// Checks each cluster's service CIDR.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let Some(svc) = c.service_cidr else { continue };
        if let Some((hits, first)) = overlaps_of(&svc, &cluster_neighbours(cx, c)) {
            out.push(
                Finding::of(
                    &RULE,
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
