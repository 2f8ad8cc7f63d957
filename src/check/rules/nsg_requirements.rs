//! The NSG of each Azure ML compute subnet against the requirement profile (`nsg require`).

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;
use crate::nsg::eval::Context;
use crate::nsg::reach::{Met, profiles};
use ipnet::IpNet;

pub(super) fn resource_group(id: &str) -> String {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next().unwrap_or("<resource-group>").to_string();
        }
    }
    "<resource-group>".into()
}

/// Checks the NSG of each compute subnet.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let Some(profile) = profiles()
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(cx.nsg_profile))
    else {
        return;
    };
    for cs in cx.compute_subnets() {
        let sub = &cx.net.subnets[cs.subnet];
        let Some(n) = cx.net.find(Kind::Nsg, sub.nsg.as_deref()) else {
            continue; // no NSG: everything the default path allows passes
        };
        let Some(region) = cx.region_for(cs.subnet, "the NSG requirements", out) else {
            continue;
        };
        let Some(local) = sub
            .prefixes
            .iter()
            .filter(|p| matches!(p, IpNet::V4(_)))
            .find_map(crate::prefixset::first_usable)
        else {
            continue;
        };
        let v = cx.net.vnet_of(cs.subnet);
        let mut space: Vec<IpNet> = v
            .map(|v| cx.net.vnets[v].spaces.clone())
            .unwrap_or_default();
        if let Some(v) = v {
            space.extend(cx.net.peered_spaces(v).into_iter().map(|(_, p)| p));
        }
        let ctx = Context {
            snapshot: cx.snap,
            vnet: space,
            asgs: Default::default(),
        };
        let nsg = &cx.net.nsgs[n];
        let resolved = match ctx.resolve(&nsg.nsg) {
            Ok(r) => r,
            Err(e) => {
                out.push(Finding::new(
                    Code::BadValue,
                    &nsg.meta.id,
                    format!("the NSG cannot be evaluated: {e}"),
                ));
                continue;
            }
        };
        let (rows, _) =
            crate::nsg::reach::require(cx.snap, &profile, &region, Some(&resolved), None, local);
        for c in rows.into_iter().filter(|c| c.verdict != Met::Met) {
            let r = &c.requirement;
            let how = if c.verdict == Met::NotMet {
                "not met"
            } else {
                "partly met"
            };
            let blocked = c.blocked_by.clone().unwrap_or_default();
            let rule_name = blocked.split("securityRules/").nth(1).map(str::to_string);
            let dir = r.direction.to_ascii_lowercase();
            let used: Vec<u32> = nsg
                .nsg
                .rules
                .iter()
                .filter(|x| !x.default && format!("{:?}", x.direction).eq_ignore_ascii_case(&dir))
                .map(|x| x.priority)
                .collect();
            let block_prio = rule_name
                .as_deref()
                .and_then(|n| {
                    nsg.nsg
                        .rules
                        .iter()
                        .find(|x| x.name == n)
                        .map(|x| x.priority)
                })
                .unwrap_or(4096);
            let prio = (100..block_prio)
                .rev()
                .find(|p| !used.contains(p))
                .or_else(|| (100..=4096).find(|p| !used.contains(p)))
                .unwrap_or(100);
            let tag = c.tag.clone();
            let fix = format!(
                "az network nsg rule create -g {} --nsg-name {} -n Allow-{}-{} --priority {prio} --direction {} --access Allow --protocol {} --{}-address-prefixes {tag} --destination-port-ranges {}",
                resource_group(&nsg.meta.id),
                nsg.meta.name,
                tag.replace('.', "-"),
                r.ports.replace(',', "-"),
                r.direction,
                r.protocol,
                if dir == "inbound" {
                    "source"
                } else {
                    "destination"
                },
                r.ports.replace(',', " "),
            );
            let mut f = Finding::new(
                Code::NsgRequirementUnmet,
                &nsg.meta.id,
                format!(
                    "{} {} {} {} {tag} is {how} for compute subnet `{}` ({} of {} addresses allowed{}): {}",
                    r.direction,
                    r.protocol.to_ascii_uppercase(),
                    r.ports,
                    if dir == "inbound" { "from" } else { "to" },
                    sub.meta.name,
                    c.addresses_allowed,
                    c.addresses,
                    if blocked.is_empty() { String::new() } else { format!("; blocked by {blocked}") },
                    r.why
                ),
            )
            .fix(fix);
            if let Some(ce) = c.counterexample {
                f = f.counterexample(ce);
            }
            out.push(f);
        }
    }
}
