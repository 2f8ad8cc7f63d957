//! A registry behind a VNet without a compute for image builds.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each workspace whose registry is restricted.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for ws in &cx.net.workspaces {
        let Some(r) = cx.net.find(Kind::Registry, ws.registry.as_deref()) else {
            continue;
        };
        let reg = &cx.net.registries[r];
        // A managed network builds images on serverless compute inside it.
        if !reg.restricted || ws.managed_network {
            continue;
        }
        let named = ws.image_build_compute.as_deref();
        let exists = named.is_some_and(|n| {
            cx.net.computes.iter().any(|c| {
                c.meta.name.eq_ignore_ascii_case(n)
                    && cx.net.find(Kind::Workspace, c.workspace.as_deref())
                        == cx.net.resolve(Kind::Workspace, &ws.meta.id)
            })
        });
        if exists || (named.is_some() && cx.net.computes.is_empty()) {
            continue;
        }
        let cluster = cx
            .net
            .computes
            .iter()
            .find(|c| c.kind == crate::check::model::ComputeKind::Cluster)
            .map_or("CLUSTER".to_string(), |c| c.meta.name.clone());
        let msg = match named {
            Some(n) => format!(
                "registry `{}` is behind a VNet and imageBuildCompute `{n}` is not a compute of the workspace",
                reg.meta.name
            ),
            None => format!(
                "registry `{}` is behind a VNet and the workspace has no imageBuildCompute",
                reg.meta.name
            ),
        };
        out.push(Finding::new(Code::AcrNoImageBuildCompute, &ws.meta.id, msg).fix(format!(
            "az ml workspace update --name {} --resource-group RG --image-build-compute {cluster}",
            ws.meta.name
        )));
    }
}
