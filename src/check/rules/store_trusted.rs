//! Stores behind a VNet without the trusted Microsoft services bypass.

use super::Cx;
use crate::check::model::{Kind, StoreKind};
use crate::findings::Finding;

rule! {
    RULE = "TN041", "storage-trusted-services-off", Error,
    summary: "The workspace's storage account is behind a VNet and does not let trusted Microsoft services bypass its rules.",
    why: "Azure ML's own service (not only the compute) reaches the workspace storage; behind a VNet that needs `bypass: AzureServices` (\"Allow Azure services on the trusted services list\").",
    example: "networkAcls {defaultAction: Deny, bypass: None}",
    fix: "az storage account update --name NAME --bypass AzureServices",
    reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#secure-azure-storage-accounts",
}

rule! {
    RULE_KV = "TN043", "keyvault-trusted-services-off", Error,
    summary: "The workspace's key vault is behind a VNet and does not let trusted Microsoft services bypass its rules.",
    why: "Azure ML's service reads the workspace's key vault; behind a VNet that needs `bypass: AzureServices`.",
    example: "networkAcls {defaultAction: Deny, bypass: None}",
    fix: "az keyvault update --name NAME --bypass AzureServices",
    reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#secure-azure-key-vault",
}

/// Checks each workspace's stores.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    for ws in &net.workspaces {
        for r in [&ws.storage, &ws.vault].into_iter().flatten() {
            let Some(st) = net.resolve(Kind::Store, r) else {
                continue;
            };
            let store = &net.stores[st];
            if !store.default_deny || store.trusted_bypass {
                continue;
            }
            let (rule, cmd) = match store.kind {
                StoreKind::Storage => (
                    &RULE,
                    format!(
                        "az storage account update --name {} --bypass AzureServices",
                        store.meta.name
                    ),
                ),
                StoreKind::KeyVault => (
                    &RULE_KV,
                    format!(
                        "az keyvault update --name {} --bypass AzureServices",
                        store.meta.name
                    ),
                ),
            };
            out.push(
                Finding::of(
                    rule,
                    &store.meta.id,
                    format!("denies by default and its bypass does not include AzureServices (workspace `{}`)", ws.meta.name),
                )
                .fix(cmd),
            );
        }
    }
}
