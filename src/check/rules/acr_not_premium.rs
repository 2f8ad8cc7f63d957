//! A workspace's registry behind a VNet that is not Premium.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

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
                Finding::new(
                    Code::AcrNotPremium,
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
