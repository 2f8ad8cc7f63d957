//! Forced tunneling without the routes Azure ML and Batch need (`routes audit`).

use super::Cx;
use crate::check::model::Kind;
use crate::findings::{Finding, Severity};
use crate::routes::NextHop;
use crate::routes::audit::{AuditOptions, audit, related};

/// Audits the route table of each compute subnet whose table sends `0.0.0.0/0` to an
/// appliance or gateway; reports the audit's findings (`missing-route` …) with their codes.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let Ok(profile) = crate::routes::profile(cx.udr_profile) else {
        return;
    };
    for cs in cx.compute_subnets() {
        let sub = &cx.net.subnets[cs.subnet];
        let Some(t) = cx.net.find(Kind::Table, sub.route_table.as_deref()) else {
            continue;
        };
        let table = &cx.net.tables[t];
        let tunnels = table.table.routes.iter().any(|r| {
            r.address_prefix == "0.0.0.0/0"
                && matches!(
                    r.next_hop,
                    NextHop::VirtualAppliance(_) | NextHop::VirtualNetworkGateway
                )
        });
        if !tunnels {
            continue;
        }
        let Some(region) = cx.region_for(cs.subnet, "the forced-tunneling routes", out) else {
            continue;
        };
        let Ok(required) = crate::routes::required_tags(
            cx.snap,
            std::slice::from_ref(&region),
            &profile.tags,
            &[],
        ) else {
            continue;
        };
        let rel = related(cx.snap, &required.ids);
        let vnet = cx
            .net
            .vnet_of(cs.subnet)
            .map(|v| cx.net.vnets[v].spaces.clone())
            .unwrap_or_default();
        let opts = AuditOptions {
            vnet,
            ipv6: false,
            default_route: None,
            default_route_declared: true,
            related: Some(&rel),
            previous: None,
            prune: false,
            max_routes: crate::routes::DEFAULT_MAX_ROUTES,
            accept_over_broad: false,
        };
        let Ok(a) = audit(cx.snap, &table.table, &required.ids, &opts) else {
            continue;
        };
        for f in a.findings {
            let mut finding = f.finding;
            if finding.severity == Severity::Info {
                continue;
            }
            finding.message = format!(
                "for compute subnet `{}` ({}): {}",
                sub.meta.name, finding.resource, finding.message
            );
            finding.resource = table.meta.id.clone();
            finding.fix = format!(
                "{} (`tagnet routes audit --route-table {}.json --region {region} --profile {} --format az` writes the `az` commands that add them, from `az network route-table show` of `{}` saved as {}.json)",
                finding.fix.trim_end_matches('.'),
                table.meta.name,
                profile.name,
                table.meta.name,
                table.meta.name
            );
            out.push(finding);
        }
    }
}
