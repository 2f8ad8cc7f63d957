//! An AKS cluster in another region than its VNet.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

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
                out.push(Finding::new(
                    Code::AksRegionMismatch,
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
