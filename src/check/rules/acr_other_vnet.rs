//! A registry whose network rules allow another VNet than the compute's.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;

rule! {
    RULE = "TN052", "acr-other-vnet", Error,
    summary: "The workspace's container registry allows subnets of other VNets only, not the VNet of the workspace's compute.",
    why: "Behind a VNet, the registry must be reachable from the VNet that holds the workspace's compute (and storage): the compute pulls images from it, and the image-build cluster pushes them. Network rules naming only other VNets' subnets shut the compute out.",
    example: "networkRuleSet.virtualNetworkRules naming `vnet-other/subnets/build` while the compute runs in `vnet-ml`",
    fix: "Add a rule for the compute's subnet (`az acr network-rule add --name ACR --subnet SUBNET_ID`), or give the registry a private endpoint in the compute's VNet.",
    reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#enable-azure-container-registry-acr",
}

/// Checks each workspace's registry rules against its computes' VNets.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    for (w, ws) in net.workspaces.iter().enumerate() {
        let Some(r) = net.find(Kind::Registry, ws.registry.as_deref()) else {
            continue;
        };
        let reg = &net.registries[r];
        if !reg.restricted || reg.subnets.is_empty() {
            continue; // open, or reached by private endpoint: nothing to compare
        }
        let allowed: Vec<usize> = reg
            .subnets
            .iter()
            .filter_map(|x| net.resolve(Kind::Subnet, x))
            .filter_map(|x| net.vnet_of(x))
            .collect();
        for c in &net.computes {
            if net.find(Kind::Workspace, c.workspace.as_deref()) != Some(w) {
                continue;
            }
            let Some(s) = net.find(Kind::Subnet, c.subnet.as_deref()) else {
                continue;
            };
            let Some(v) = net.vnet_of(s) else { continue };
            if allowed.contains(&v) {
                continue;
            }
            out.push(
                Finding::of(
                    &RULE,
                    &reg.meta.id,
                    format!(
                        "its network rules allow no subnet of VNet `{}`, where compute `{}` runs",
                        net.vnets[v].meta.name, c.meta.name
                    ),
                )
                .fix(format!(
                    "az acr network-rule add --name {} --subnet {}",
                    reg.meta.name, net.subnets[s].meta.id
                )),
            );
        }
    }
}
