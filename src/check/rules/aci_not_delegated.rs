//! Container instances in a subnet not delegated to them.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each container group's subnets.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for g in &cx.net.container_groups {
        for r in &g.subnets {
            let Some(s) = cx.net.resolve(Kind::Subnet, r) else {
                continue;
            };
            let sub = &cx.net.subnets[s];
            if sub
                .delegations
                .iter()
                .any(|d| d.eq_ignore_ascii_case("Microsoft.ContainerInstance/containerGroups"))
            {
                continue;
            }
            let vnet = cx
                .net
                .vnet_of(s)
                .map_or("VNET".to_string(), |v| cx.net.vnets[v].meta.name.clone());
            out.push(
                Finding::new(Code::AciSubnetNotDelegated, &g.meta.id, format!("its subnet `{}` is not delegated to Microsoft.ContainerInstance/containerGroups", sub.meta.name))
                    .fix(format!("az network vnet subnet update --vnet-name {vnet} -n {} -g {} --delegations Microsoft.ContainerInstance/containerGroups", sub.meta.name, sub.meta.resource_group.as_deref().unwrap_or("RG"))),
            );
        }
    }
}
