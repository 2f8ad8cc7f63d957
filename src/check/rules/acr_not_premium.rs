//! A workspace's registry behind a VNet that is not Premium.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;

rule! {
    RULE = "TN050", "acr-not-premium", Error,
    summary: "The workspace's container registry is restricted to a VNet but is not Premium.",
    why: "Network rules and private endpoints of Azure Container Registry exist only in the Premium SKU; a Basic or Standard registry cannot be put behind the VNet, so a secured workspace cannot build or pull its images.",
    example: "sku Standard with networkRuleSet.defaultAction Deny",
    fix: "az acr update --name NAME --sku Premium",
    reference: "https://learn.microsoft.com/azure/machine-learning/how-to-secure-workspace-vnet#enable-azure-container-registry-acr",
}

/// Checks each workspace's registry.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for ws in &cx.net.workspaces {
        let Some(r) = cx.net.find(Kind::Registry, ws.registry.as_deref()) else {
            continue;
        };
        let reg = &cx.net.registries[r];
        let premium = reg
            .sku
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Premium"));
        if reg.restricted && !premium {
            out.push(
                Finding::of(
                    &RULE,
                    &reg.meta.id,
                    format!(
                        "restricted to a VNet with SKU {} (workspace `{}`); only Premium has network rules and private endpoints",
                        reg.sku.as_deref().unwrap_or("unknown"),
                        ws.meta.name
                    ),
                )
                .fix(format!("az acr update --name {} --sku Premium", reg.meta.name)),
            );
        }
    }
}
