//! Storage accounts and key vaults behind a VNet that the compute subnet cannot reach: their
//! rules leave it out and no private endpoint in its VNet (or a peered one) reaches them.

use super::Cx;
use crate::check::model::{Kind, StoreKind};
use crate::findings::Code;
use crate::findings::Finding;

/// Checks the stores of each workspace with computes in subnets.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    for c in &net.computes {
        let Some(s) = net.find(Kind::Subnet, c.subnet.as_deref()) else {
            continue;
        };
        let Some(w) = net.find(Kind::Workspace, c.workspace.as_deref()) else {
            continue;
        };
        let ws = &net.workspaces[w];
        for r in [&ws.storage, &ws.vault].into_iter().flatten() {
            let Some(st) = net.resolve(Kind::Store, r) else {
                continue;
            };
            let store = &net.stores[st];
            if !store.default_deny {
                continue;
            }
            // With public network access disabled, virtual network rules have no effect: only
            // private endpoints reach the store.
            let allowed = !store.public_disabled
                && store
                    .subnets
                    .iter()
                    .any(|x| net.resolve(Kind::Subnet, x) == Some(s));
            if ws.managed_network {
                continue; // the managed network's private endpoints reach it
            }
            if allowed {
                continue;
            }
            // A storage account is reached for its blobs (the workspace's datastore); a key
            // vault by any endpoint of it.
            let group = (store.kind == StoreKind::Storage).then_some("blob");
            let via = match net.private_reach(&store.meta, &store.endpoints, s, group) {
                crate::check::model::PrivateReach::Yes(_) => continue,
                crate::check::model::PrivateReach::OtherGroups(g) => format!(
                    "; its private endpoints serve {} only, and the workspace's compute needs `blob`",
                    g.iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                crate::check::model::PrivateReach::Elsewhere(v) => format!(
                    "; its private endpoints are in VNet {}, which VNet `{}` is not peered with",
                    v.iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    net.vnet_of(s)
                        .map_or("?", |x| net.vnets[x].meta.name.as_str())
                ),
                crate::check::model::PrivateReach::No => String::new(),
            };
            let (rule, cmd): (Code, String) = match store.kind {
                StoreKind::Storage => (
                    Code::StorageSubnetNotAllowed,
                    format!(
                        "az storage account network-rule add --account-name {} --subnet {}",
                        store.meta.name, net.subnets[s].meta.id
                    ),
                ),
                StoreKind::KeyVault => (
                    Code::KeyvaultSubnetNotAllowed,
                    format!(
                        "az keyvault network-rule add --name {} --subnet {}",
                        store.meta.name, net.subnets[s].meta.id
                    ),
                ),
            };
            let compute_vnet = net.vnet_of(s);
            let others: Vec<String> = store
                .subnets
                .iter()
                .filter_map(|x| net.resolve(Kind::Subnet, x))
                .filter_map(|x| net.vnet_of(x))
                .filter(|v| Some(*v) != compute_vnet)
                .map(|v| format!("`{}`", net.vnets[v].meta.name))
                .collect();
            let elsewhere = if others.is_empty() {
                String::new()
            } else {
                format!(
                    "; it allows subnets of another VNet ({}) only",
                    others.join(", ")
                )
            };
            out.push(
                Finding::new(
                    rule,
                    &store.meta.id,
                    format!(
                        "denies by default and does not allow subnet `{}` of compute `{}`{elsewhere}{via}",
                        net.subnets[s].meta.name, c.meta.name
                    ),
                )
                .fix(if store.public_disabled {
                    format!(
                        "its public network access is disabled, so network rules have no effect: give it a private endpoint in VNet `{}` (az network private-endpoint create --group-id {} --private-connection-resource-id {} …)",
                        net.vnet_of(s).map_or("?", |v| net.vnets[v].meta.name.as_str()),
                        if store.kind == StoreKind::KeyVault { "vault" } else { "blob (and file)" },
                        store.meta.id
                    )
                } else {
                    format!("{cmd} (the subnet needs the matching service endpoint), or give the store a private endpoint in the VNet")
                }),
            );
        }
    }
}
