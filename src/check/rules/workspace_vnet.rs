//! A workspace whose compute VNet is in another region or subscription.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each compute's VNet against its workspace.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    for c in &net.computes {
        let Some(s) = net.find(Kind::Subnet, c.subnet.as_deref()) else {
            continue;
        };
        let Some(v) = net.vnet_of(s) else { continue };
        let Some(w) = net.find(Kind::Workspace, c.workspace.as_deref()) else {
            continue;
        };
        let (vnet, ws) = (&net.vnets[v], &net.workspaces[w]);
        if ws.managed_network {
            out.push(Finding::new(
                Code::ManagedNetworkCompute,
                &c.meta.id,
                format!(
                    "its workspace `{}` has a managed virtual network, where Azure ML runs its compute; subnet `{}` of VNet `{}` is not checked for it",
                    ws.meta.name, net.subnets[s].meta.name, vnet.meta.name
                ),
            ));
            continue;
        }
        if let (Some(a), Some(b)) = (&vnet.meta.location, &ws.meta.location)
            && a != b
        {
            out.push(Finding::new(
                Code::WorkspaceVnetMismatch,
                &c.meta.id,
                format!(
                    "its VNet `{}` is in {a} and its workspace `{}` in {b}",
                    vnet.meta.name, ws.meta.name
                ),
            ));
        }
        if let (Some(a), Some(b)) = (&vnet.meta.subscription, &ws.meta.subscription)
            && a != b
        {
            out.push(Finding::new(
                Code::WorkspaceVnetMismatch,
                &c.meta.id,
                format!(
                    "its VNet `{}` is in subscription {a} and its workspace `{}` in {b}",
                    vnet.meta.name, ws.meta.name
                ),
            ));
        }
    }
}
