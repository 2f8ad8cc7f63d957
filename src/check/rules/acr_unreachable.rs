//! A registry that denies every network and has no private endpoint: nothing reaches it.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each workspace's registry.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    for ws in &net.workspaces {
        let Some(r) = net.find(Kind::Registry, ws.registry.as_deref()) else {
            continue;
        };
        let reg = &net.registries[r];
        if !reg.restricted
            || !reg.subnets.is_empty()
            || reg.ip_rules
            || !reg.endpoints.is_empty()
            || ws.managed_network
        {
            continue;
        }
        let targeted = net.private_endpoints.iter().any(|pe| {
            pe.targets.iter().any(|t| {
                reg.meta.keys.contains(&crate::check::model::key_of(t))
                    && crate::check::model::same_scope(&reg.meta, t)
            })
        });
        if targeted {
            continue;
        }
        // Where the endpoint goes: the subnet of one of the workspace's computes.
        let w = net.resolve(Kind::Workspace, &ws.meta.id);
        let place = net
            .computes
            .iter()
            .filter(|c| net.find(Kind::Workspace, c.workspace.as_deref()) == w)
            .find_map(|c| net.find(Kind::Subnet, c.subnet.as_deref()))
            .and_then(|s| {
                let v = net.vnet_of(s)?;
                Some((
                    super::nsg_requirements::resource_group(&net.vnets[v].meta.id),
                    net.vnets[v].meta.name.clone(),
                    net.subnets[s].meta.name.clone(),
                ))
            });
        let (rg, vnet, subnet) =
            place.unwrap_or_else(|| ("RG".into(), "VNET".into(), "SUBNET".into()));
        out.push(
            Finding::new(
                Code::AcrUnreachable,
                &reg.meta.id,
                format!(
                    "registry `{}` of workspace `{}` denies every network and has no private endpoint, VNet rule or IP rule: no compute can pull or push its images",
                    reg.meta.name, ws.meta.name
                ),
            )
            .fix(format!(
                "az network private-endpoint create --name pe-{0} --resource-group {rg} --vnet-name {vnet} --subnet {subnet} --private-connection-resource-id {1} --group-id registry --connection-name {0} (and its privatelink.azurecr.io DNS zone)",
                reg.meta.name, reg.meta.id
            )),
        );
    }
}
