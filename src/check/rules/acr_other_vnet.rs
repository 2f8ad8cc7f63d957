//! A registry whose network rules allow another VNet than the compute's.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each workspace's registry rules against its computes' VNets.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    for (w, ws) in net.workspaces.iter().enumerate() {
        let Some(r) = net.find(Kind::Registry, ws.registry.as_deref()) else {
            continue;
        };
        let reg = &net.registries[r];
        if !reg.restricted || reg.subnets.is_empty() || ws.managed_network {
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
            if allowed.contains(&v)
                || matches!(
                    net.private_reach(&reg.meta, &reg.endpoints, s, None),
                    crate::check::model::PrivateReach::Yes(_)
                )
            {
                continue;
            }
            out.push(
                Finding::new(
                    Code::AcrOtherVnet,
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
