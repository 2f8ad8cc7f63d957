//! Databricks injected in a VNet without its subnets.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

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
                None => out.push(Finding::new(Code::DatabricksSubnetsMissing, &d.meta.id, format!("its {what} subnet `{name}` is not a subnet of `{}`", vnet.meta.name))),
                Some(s) if !cx.net.subnets[s].delegations.iter().any(|x| x.eq_ignore_ascii_case("Microsoft.Databricks/workspaces")) => {
                    out.push(Finding::new(Code::DatabricksSubnetsMissing, &d.meta.id, format!("its {what} subnet `{name}` is not delegated to Microsoft.Databricks/workspaces")))
                }
                Some(_) => {}
            }
        }
        let ml_here = cx
            .compute_subnets()
            .iter()
            .any(|c| cx.net.vnet_of(c.subnet) == Some(v));
        if ml_here && find("default").is_none() {
            out.push(Finding::new(
                Code::DatabricksSubnetsMissing,
                &d.meta.id,
                format!(
                    "Azure ML computes share VNet `{}`, which has no `default` subnet",
                    vnet.meta.name
                ),
            ));
        }
    }
}
