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
    // Per NSG and direction, its user rules (priority, name) as the fixes given so far leave
    // them: two fixes never share a priority, and each is right after the ones before it.
    let mut state: std::collections::BTreeMap<(usize, String), Vec<(u32, String)>> =
        Default::default();
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
            asgs: cx.asgs.clone(),
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
        // Compute without public IPs takes no inbound traffic from the control plane (Learn:
        // how-to-secure-training-vnet, "no public IP": no inbound rules needed).
        let no_public_ip = !cs.users.is_empty()
            && cs.users.iter().all(|u| {
                cx.net
                    .computes
                    .iter()
                    .find(|c| &c.meta.id == u)
                    .is_some_and(|c| c.public_ip == Some(false))
            });
        for c in rows.into_iter().filter(|c| c.verdict != Met::Met) {
            let r = &c.requirement;
            if no_public_ip && r.direction.eq_ignore_ascii_case("inbound") {
                continue;
            }
            let how = if c.verdict == Met::NotMet {
                "not met"
            } else {
                "partly met"
            };
            let blocked = c.blocked_by.clone().unwrap_or_default();
            let rule_name = blocked.split("securityRules/").nth(1).map(str::to_string);
            let dir = r.direction.to_ascii_lowercase();
            // The NSG's user rules of this direction as the fixes given so far leave them:
            // each fix is made for the NSG after the ones before it.
            let rules_here = state.entry((n, dir.clone())).or_insert_with(|| {
                nsg.nsg
                    .rules
                    .iter()
                    .filter(|x| {
                        !x.default && format!("{:?}", x.direction).eq_ignore_ascii_case(&dir)
                    })
                    .map(|x| (x.priority, x.name.clone()))
                    .collect()
            });
            let is_free = |p: u32, rules: &[(u32, String)]| !rules.iter().any(|(q, _)| *q == p);
            // The blocking user rule's priority (a default rule blocks below every user rule).
            let block_prio = rule_name
                .as_deref()
                .and_then(|name| rules_here.iter().find(|(_, x)| x == name).map(|(p, _)| *p))
                .unwrap_or(4097);
            // The allow must come before the blocking rule: the highest free priority below
            // it; when none is free, the blocking rule and the rules right after it move up
            // one each (keeping their order) to free its number.
            let mut renumber: Vec<String> = Vec::new();
            let prio = match (100..block_prio.min(4097))
                .rev()
                .find(|&p| is_free(p, rules_here))
            {
                Some(p) => p,
                None => {
                    let Some(gap) = (block_prio + 1..=4096).find(|&p| is_free(p, rules_here))
                    else {
                        continue; // every priority is taken: no fix to offer
                    };
                    for q in (block_prio..gap).rev() {
                        if let Some(rule) = rules_here.iter_mut().find(|(p, _)| *p == q) {
                            renumber.push(format!(
                                "az network nsg rule update -g {} --nsg-name {} -n {} --priority {}",
                                resource_group(&nsg.meta.id),
                                nsg.meta.name,
                                rule.1,
                                q + 1
                            ));
                            rule.0 = q + 1;
                        }
                    }
                    block_prio
                }
            };
            let tag = c.tag.clone();
            let new_name = format!(
                "Allow-{}-{}-{}",
                tag.replace('.', "-"),
                r.protocol,
                r.ports.replace(',', "-")
            );
            rules_here.push((prio, new_name.clone()));
            renumber.push(String::new());
            let fix = renumber.join(" && ")
                + &format!(
                    "az network nsg rule create -g {} --nsg-name {} -n {new_name} --priority {prio} --direction {} --access Allow --protocol {} --{}-address-prefixes {tag} --destination-port-ranges {}",
                    resource_group(&nsg.meta.id),
                    nsg.meta.name,
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
