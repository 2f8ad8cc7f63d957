//! AKS node pools in a delegated subnet.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;

rule! {
    RULE = "TN017", "aks-subnet-delegated", Error,
    summary: "An AKS node pool uses a subnet that is delegated to a service.",
    why: "A delegated subnet belongs to the service it is delegated to (container instances, Databricks …); AKS cannot place nodes there and refuses the pool (`SubnetIsDelegated`).",
    example: "a pool whose vnetSubnetID names a subnet delegated to Microsoft.ContainerInstance/containerGroups",
    fix: "Give the pool a subnet of its own without delegations.",
    reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites; https://learn.microsoft.com/azure/virtual-network/subnet-delegation-overview",
}

/// Checks each pool's subnet.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        for p in &c.pools {
            let Some(s) = cx.net.find(Kind::Subnet, p.subnet.as_deref()) else {
                continue;
            };
            let sub = &cx.net.subnets[s];
            if let Some(d) = sub.delegations.first() {
                out.push(Finding::of(
                    &RULE,
                    &c.meta.id,
                    format!(
                        "pool `{}` uses subnet `{}`, which is delegated to {d} (AKS: SubnetIsDelegated)",
                        p.name, sub.meta.name
                    ),
                ));
            }
        }
    }
}
