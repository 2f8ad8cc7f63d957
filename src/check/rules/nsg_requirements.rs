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

/// The usable addresses of a subnet prefix (Azure keeps the first four and the last).
fn usable_range(p: &IpNet) -> Option<(u128, u128)> {
    let (start, end) = crate::prefixset::prefix_range(&p.trunc());
    let first = start.checked_add(4)?;
    let last = end.checked_sub(1)?;
    (first <= last).then_some((first, last))
}

/// One address of each class of `usable` the NSG's rules tell apart (the starts of the pieces
/// their address sets cut it into), IPv4.
fn representatives(
    nsg: &crate::nsg::eval::ResolvedNsg,
    usable: (u128, u128),
) -> Vec<std::net::IpAddr> {
    let mut cuts = vec![usable.0];
    for r in &nsg.rules {
        for set in [&r.source, &r.destination] {
            for &(a, b) in set.v4.ranges() {
                for x in [a, b.saturating_add(1)] {
                    if x > usable.0 && x <= usable.1 {
                        cuts.push(x);
                    }
                }
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.into_iter()
        .map(|x| std::net::IpAddr::V4(std::net::Ipv4Addr::from(x as u32)))
        .collect()
}

/// Whether verdict `a` is worse than `b`.
fn worse(a: &Met, b: &Met) -> bool {
    let rank = |m: &Met| match m {
        Met::Met => 0,
        Met::PartlyMet => 1,
        Met::NotMet => 2,
    };
    rank(a) > rank(b)
}

/// The application security groups an NSG's rules name.
fn asg_names(nsg: &crate::nsg::model::Nsg) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &nsg.rules {
        for a in [&r.source, &r.destination] {
            if let crate::nsg::model::Address::Asgs(names) = a {
                for n in names {
                    if !out.iter().any(|o| o.eq_ignore_ascii_case(n)) {
                        out.push(n.clone());
                    }
                }
            }
        }
    }
    out
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
        let Some(usable) = sub
            .prefixes
            .iter()
            .filter(|p| matches!(p, IpNet::V4(_)))
            .find_map(usable_range)
        else {
            continue;
        };
        let v = cx.net.vnet_of(cs.subnet);
        let mut space: Vec<IpNet> = v
            .map(|v| cx.net.vnets[v].spaces.clone())
            .unwrap_or_default();
        if let Some(v) = v {
            space.extend(cx.net.vnet_tag_peered_spaces(v));
        }
        let nsg = &cx.net.nsgs[n];
        // Application security groups no one gave members: a compute node's address may be a
        // member or not, so both are evaluated (a service tag's address never is one).
        let unknown: Vec<String> = asg_names(&nsg.nsg)
            .into_iter()
            .filter(|g| !cx.asgs.keys().any(|k| k.eq_ignore_ascii_case(g)))
            .collect();
        let with = |members: &[std::net::IpAddr]| {
            let mut asgs = cx.asgs.clone();
            for g in &unknown {
                asgs.insert(g.clone(), members.to_vec());
            }
            Context {
                snapshot: cx.snap,
                vnet: space.clone(),
                asgs,
            }
            .resolve(&nsg.nsg)
        };
        let none = match with(&[]) {
            Ok(r) => r,
            Err(e) => {
                out.push(
                    Finding::new(
                        Code::CannotEvaluate,
                        &nsg.meta.id,
                        format!(
                            "the NSG requirements of compute subnet `{}` were not checked: {e}",
                            sub.meta.name
                        ),
                    )
                    .fix("correct the rule the message names, then check again"),
                );
                continue;
            }
        };
        // Every address a node may get: one of each class the rules tell apart.
        let locals = representatives(&none, usable);
        let all = if unknown.is_empty() {
            None
        } else {
            with(&locals).ok()
        };
        let mut rows: Vec<crate::nsg::reach::Checked> = Vec::new();
        let mut depends: Vec<String> = Vec::new();
        for &local in &locals {
            let (here, _) =
                crate::nsg::reach::require(cx.snap, &profile, &region, Some(&none), None, local);
            let other = all.as_ref().map(|a| {
                crate::nsg::reach::require(cx.snap, &profile, &region, Some(a), None, local).0
            });
            for (i, c) in here.into_iter().enumerate() {
                if let Some(o) = other.as_ref().map(|o| &o[i])
                    && o.verdict != c.verdict
                {
                    let what = format!(
                        "{} {} {}",
                        c.requirement.direction, c.requirement.protocol, c.requirement.ports
                    );
                    if !depends.contains(&what) {
                        depends.push(what);
                    }
                    continue;
                }
                match rows.get_mut(i) {
                    None => rows.push(c),
                    Some(prev) if worse(&c.verdict, &prev.verdict) => *prev = c,
                    Some(_) => {}
                }
            }
        }
        if !depends.is_empty() {
            out.push(
                Finding::new(
                    Code::NsgUnknownAsg,
                    &nsg.meta.id,
                    format!(
                        "whether compute subnet `{}` meets {} depends on the members of the application security group(s) {}, which the inputs do not give",
                        sub.meta.name,
                        depends.join("; "),
                        unknown.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .fix(format!(
                    "give the members with --asg {}=IP[,IP…] (or add the NICs that join it), then check again",
                    unknown[0]
                )),
            );
        }
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
                    "{} {} {} {} {tag} is {how} for compute subnet `{}` ({} of {} addresses allowed on every port of it{}): {}",
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
