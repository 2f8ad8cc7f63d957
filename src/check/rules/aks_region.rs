//! An AKS cluster in another region than its VNet.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;

rule! {
    RULE = "TN016", "aks-region-mismatch", Error,
    summary: "An AKS cluster's region differs from the region of the VNet its node pools use.",
    why: "A cluster's nodes must be in a subnet of a VNet in the cluster's region; AKS refuses a subnet in another region (`InvalidResourceReference`).",
    example: "a cluster in westeurope whose pool subnet is in a VNet in eastus2",
    fix: "Create the cluster in the VNet's region, or use a VNet in the cluster's region.",
    reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites",
}

/// Checks each cluster's pools.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let Some(loc) = c.meta.location.as_deref() else {
            continue;
        };
        for p in &c.pools {
            let Some(s) = cx.net.find(Kind::Subnet, p.subnet.as_deref()) else {
                continue;
            };
            let Some(v) = cx.net.vnet_of(s) else { continue };
            let vnet = &cx.net.vnets[v];
            if let Some(vl) = vnet.meta.location.as_deref()
                && !vl.eq_ignore_ascii_case(loc)
            {
                out.push(Finding::of(
                    &RULE,
                    &c.meta.id,
                    format!(
                        "the cluster is in {loc} but pool `{}` uses subnet `{}` of VNet `{}` in {vl} (AKS: InvalidResourceReference)",
                        p.name, cx.net.subnets[s].meta.name, vnet.meta.name
                    ),
                ));
            }
        }
    }
}
