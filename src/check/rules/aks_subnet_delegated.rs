//! AKS node pools in a delegated subnet.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each pool's subnet.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        for p in &c.pools {
            let Some(s) = cx.net.find(Kind::Subnet, p.subnet.as_deref()) else {
                continue;
            };
            let sub = &cx.net.subnets[s];
            if let Some(d) = sub.delegations.first() {
                out.push(Finding::new(
                    Code::AksSubnetDelegated,
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
