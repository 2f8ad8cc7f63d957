//! Stores behind a VNet without the trusted Microsoft services bypass.

use super::Cx;
use crate::check::model::{Kind, StoreKind};
use crate::findings::Code;
use crate::findings::Finding;

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
                    Code::StorageTrustedServicesOff,
                    format!(
                        "az storage account update --name {} --bypass AzureServices",
                        store.meta.name
                    ),
                ),
                StoreKind::KeyVault => (
                    Code::KeyvaultTrustedServicesOff,
                    format!(
                        "az keyvault update --name {} --bypass AzureServices",
                        store.meta.name
                    ),
                ),
            };
            out.push(
                Finding::new(
                    rule,
                    &store.meta.id,
                    format!("denies by default and its bypass does not include AzureServices (workspace `{}`)", ws.meta.name),
                )
                .fix(cmd),
            );
        }
    }
}
