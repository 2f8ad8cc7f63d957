//! Databricks injected in a VNet without its subnets.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;

rule! {
    RULE = "TN080", "databricks-subnets-missing", Error,
    summary: "A Databricks workspace injected in a VNet names subnets the VNet does not have, or they are not delegated to Databricks; with Azure ML in the VNet, its `default` subnet is missing.",
    why: "VNet injection needs the public (host) and private (container) subnets in the VNet, delegated to Microsoft.Databricks/workspaces. Azure ML's guidance for Databricks in the workspace's VNet also needs the VNet's `default` subnet beside `databricks-private` and `databricks-public`.",
    example: "customPublicSubnetName `databricks-public` in a VNet holding only `default`",
    fix: "Create the named subnets in the VNet, delegated to Microsoft.Databricks/workspaces (and keep a `default` subnet).",
    reference: "https://learn.microsoft.com/azure/databricks/security/network/classic/vnet-inject; MicrosoftDocs azure-docs how-to-enable-virtual-network.md (2020, Azure Databricks)",
}

/// Checks each injected Databricks workspace.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for d in &cx.net.databricks {
        let Some(v) = cx.net.find(Kind::Vnet, d.vnet.as_deref()) else {
            continue;
        };
        let vnet = &cx.net.vnets[v];
        let subs = cx.net.subnets_of(v);
        let find = |name: &str| {
            subs.iter()
                .copied()
                .find(|&s| cx.net.subnets[s].meta.name.eq_ignore_ascii_case(name))
        };
        for (what, name) in [("public", &d.public_subnet), ("private", &d.private_subnet)] {
            let Some(name) = name else { continue };
            match find(name) {
                None => out.push(Finding::of(&RULE, &d.meta.id, format!("its {what} subnet `{name}` is not a subnet of `{}`", vnet.meta.name))),
                Some(s) if !cx.net.subnets[s].delegations.iter().any(|x| x.eq_ignore_ascii_case("Microsoft.Databricks/workspaces")) => {
                    out.push(Finding::of(&RULE, &d.meta.id, format!("its {what} subnet `{name}` is not delegated to Microsoft.Databricks/workspaces")))
                }
                Some(_) => {}
            }
        }
        let ml_here = cx
            .compute_subnets()
            .iter()
            .any(|c| cx.net.vnet_of(c.subnet) == Some(v));
        if ml_here && find("default").is_none() {
            out.push(Finding::of(
                &RULE,
                &d.meta.id,
                format!(
                    "Azure ML computes share VNet `{}`, which has no `default` subnet",
                    vnet.meta.name
                ),
            ));
        }
    }
}
