//! The deprecated docker bridge CIDR overlapping the network.

use super::Cx;
use crate::check::{cluster_neighbours, overlaps_of};
use crate::findings::Finding;

rule! {
    RULE = "TN014", "aks-docker-bridge-overlap", Info,
    summary: "An AKS cluster's docker bridge CIDR overlaps its network or service CIDR (a deprecated field).",
    why: "Clusters before containerd (Kubernetes 1.19) used the docker bridge on every node; an overlap cut nodes off from that range. AKS ignores the field since, removed it from API version 2023-04-01, and azurerm 4.0 dropped it: this matters only for old configurations.",
    example: "dockerBridgeCidr 10.0.0.1/16 in a VNet 10.0.0.0/16",
    fix: "Remove dockerBridgeCidr from the definition (current AKS ignores it); for an old cluster, use 172.17.0.1/16 when free.",
    reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni (docker bridge, 2019–2021); AKS API 2023-04-01 release notes",
}

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
                Finding::of(
                    &RULE,
                    &c.meta.id,
                    format!("docker bridge {b} overlaps {hits} (the field is deprecated)"),
                )
                .counterexample(first),
            );
        }
    }
}
