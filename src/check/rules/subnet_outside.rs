//! A subnet outside its network's address space.

use super::Cx;
use crate::findings::Finding;

rule! {
    RULE = "TN002", "subnet-outside-vnet", Error,
    summary: "A subnet's prefix is not inside its virtual network's address space.",
    why: "Azure refuses a subnet whose range is not within one of the VNet's address prefixes (NetcfgInvalidSubnet); the deployment fails.",
    example: "VNet 10.0.0.0/16 with subnet 10.1.0.0/24",
    fix: "Move the subnet inside the address space, or add a prefix that holds it to the VNet's addressSpace.",
    reference: "https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-subnet",
}

/// Checks each subnet against its network's spaces.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for (i, s) in cx.net.subnets.iter().enumerate() {
        let Some(v) = cx.net.vnet_of(i) else { continue };
        let spaces = &cx.net.vnets[v].spaces;
        if spaces.is_empty() {
            continue;
        }
        for p in &s.prefixes {
            if !spaces.iter().any(|sp| sp.contains(p)) {
                let shown: Vec<String> = spaces.iter().map(ToString::to_string).collect();
                out.push(
                    Finding::of(
                        &RULE,
                        &s.meta.id,
                        format!(
                            "{p} is not inside the address space of `{}` ({})",
                            cx.net.vnets[v].meta.name,
                            shown.join(", ")
                        ),
                    )
                    .counterexample(p.network().to_string()),
                );
            }
        }
    }
}
