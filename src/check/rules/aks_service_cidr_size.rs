//! An AKS service CIDR of /12 or larger.

use super::Cx;
use crate::findings::Finding;
use ipnet::IpNet;

rule! {
    RULE = "TN013", "aks-service-cidr-too-large", Error,
    summary: "An AKS cluster's service CIDR is a /12 or larger.",
    why: "AKS requires the service CIDR to be smaller than /12; a larger range is refused, and it would swallow address space other networks need.",
    example: "serviceCidr 10.0.0.0/8",
    fix: "Use a /16 (65,536 services is far more than a cluster runs) or another prefix longer than /12.",
    reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters",
}

/// Checks each cluster's service CIDR length.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        if let Some(IpNet::V4(s)) = c.service_cidr
            && s.prefix_len() <= 12
        {
            out.push(Finding::of(
                &RULE,
                &c.meta.id,
                format!(
                    "service CIDR {s} is a /{}; AKS needs one smaller than /12",
                    s.prefix_len()
                ),
            ));
        }
    }
}
