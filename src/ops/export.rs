//! `export`: a selection of tags (Azure's, other providers', custom) as the objects firewalls
//! take — plain CIDR lists, Palo Alto external dynamic lists, FortiGate address objects and
//! groups, nftables sets, ipset restore files, Azure Firewall IP Groups (ARM, Bicep,
//! Terraform) — each with a header naming its sources and dates; and, against an older
//! snapshot, the incremental change (nftables `add`/`delete element`, ipset `add`/`del`) that
//! turns last week's set into this week's without a reload.

use crate::error::{Error, Result};
use crate::ops::SnapshotInfo;
use crate::prefixset::PrefixSet;
use crate::snapshot::Snapshot;
use ipnet::IpNet;
use std::fmt::Write as _;

/// Azure Firewall: "Maximum 5000 individual IP addresses or IP prefixes per each IP Group"
/// (Learn, Azure Firewall limits:
/// <https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-firewall-limits>).
pub const IP_GROUP_ENTRIES: usize = 5000;
/// Azure Firewall: IP Groups one firewall policy takes. The limits table long said "200 IP
/// Groups per firewall"; Azure raised it to 600 per firewall policy (Azure Update 511722,
/// 2025-10-07), which Azure Advisor's recommendation cites ("the maximum limit of 600 IP
/// Groups", linking the same limits page).
pub const IP_GROUPS_PER_POLICY: usize = 600;

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One prefix a line, `#` header.
    Plain,
    /// Palo Alto external dynamic list (IP list): one prefix a line.
    PaloAlto,
    /// FortiGate CLI: `config firewall address`/`address6` objects and `addrgrp`/`addrgrp6`.
    FortiGate,
    /// nftables: a table with an interval set per family (`nft -f`).
    Nftables,
    /// ipset: `ipset restore` input, a `hash:net` set per family.
    Ipset,
    /// Azure Firewall IP Groups, an ARM template.
    Arm,
    /// Azure Firewall IP Groups, Bicep.
    Bicep,
    /// Azure Firewall IP Groups, Terraform (`azurerm_ip_group`).
    Terraform,
}

impl Target {
    /// Every target, as typed.
    pub const NAMES: &'static [&'static str] = &[
        "plain",
        "paloalto",
        "fortigate",
        "nftables",
        "ipset",
        "arm",
        "bicep",
        "terraform",
    ];

    /// A target as typed.
    pub fn parse(t: &str) -> Option<Target> {
        Some(match t.trim().to_ascii_lowercase().as_str() {
            "plain" | "cidr" | "txt" => Target::Plain,
            "paloalto" | "palo-alto" | "edl" | "pan" => Target::PaloAlto,
            "fortigate" | "fortinet" | "fortios" => Target::FortiGate,
            "nftables" | "nft" => Target::Nftables,
            "ipset" => Target::Ipset,
            "arm" => Target::Arm,
            "bicep" => Target::Bicep,
            "terraform" | "tf" => Target::Terraform,
            _ => return None,
        })
    }

    /// Whether it has an incremental form (`--since`).
    pub fn incremental(self) -> bool {
        matches!(self, Target::Nftables | Target::Ipset | Target::Plain)
    }
}

/// An `export` request as typed.
#[derive(Debug, Clone, Default)]
pub struct ExportParams {
    /// Tags, as `prefixes` takes them (Azure's, other providers', custom).
    pub tags: Vec<String>,
    /// An Azure region: each cloud-wide Azure tag means its variant there.
    pub region: Option<String>,
    /// At most this many prefixes (merged further, covering the fewest extra addresses).
    pub max: Option<usize>,
    /// The object's name (default: from the tags).
    pub name: Option<String>,
    /// What to write.
    pub target: String,
}

/// A selection: its name, the tags it holds and their prefixes (merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The object's name.
    pub name: String,
    /// The tags, by name.
    pub tags: Vec<String>,
    /// The prefixes, IPv4 first, ascending, merged.
    pub prefixes: Vec<IpNet>,
    /// IPv4 addresses covered beyond the tags' (with `max`).
    pub extra_addresses: u128,
}

/// The tags a request names, and their union, merged (and budgeted with `max`).
pub fn select(snap: &Snapshot, p: &ExportParams) -> Result<Selection> {
    select_in(snap, p, false)
}

/// [`select`] on an earlier week (`--since`): a tag that week did not have yet holds nothing
/// then (its prefixes are all additions), rather than being an error.
pub fn select_earlier(snap: &Snapshot, p: &ExportParams) -> Result<Selection> {
    select_in(snap, p, true)
}

fn select_in(snap: &Snapshot, p: &ExportParams, earlier: bool) -> Result<Selection> {
    if p.tags.is_empty() {
        return Err(Error::Field {
            field: "tags",
            message: "name at least one tag (Storage.WestEurope, AWS.S3, Corp.OnPrem …)".into(),
        });
    }
    let mut ids = Vec::new();
    for t in &p.tags {
        let id = match snap.tag_by_name(t) {
            Ok(id) => id,
            Err(Error::UnknownTag { .. }) if earlier => continue,
            Err(e) => return Err(e),
        };
        // A region narrows Azure's cloud-wide tags; another provider's tag is taken as named.
        if p.region.is_some() && snap.tag(id).provider().is_none() {
            match snap.resolve_tag(t, p.region.as_deref()) {
                Ok(v) => ids.extend(v),
                Err(Error::TagNotInRegion { .. }) if earlier => {}
                Err(e) => return Err(e),
            }
        } else {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    // IP Groups take IPv4 only: their budget is the IPv4 prefixes' (the IPv6 left out is said).
    let ip_groups = matches!(
        Target::parse(&p.target),
        Some(Target::Arm | Target::Bicep | Target::Terraform)
    );
    let all = PrefixSet::from_prefixes(ids.iter().flat_map(|&i| snap.tag(i).prefixes()));
    let (set, left_out): (PrefixSet, Vec<IpNet>) = if ip_groups {
        let (v4, v6): (Vec<IpNet>, Vec<IpNet>) = all
            .to_prefixes()
            .into_iter()
            .partition(|n| matches!(n, IpNet::V4(_)));
        (PrefixSet::from_prefixes(v4), v6)
    } else {
        (all, Vec::new())
    };
    let (prefixes, extra_addresses) = match p.max {
        None => (set.to_prefixes(), 0),
        Some(max) => {
            use crate::prefixset::budget::BudgetError;
            // Merging never reaches into space no firewall object should open by accident:
            // private, shared, loopback, link-local, multicast and reserved ranges (unless the
            // tags themselves hold it: your own on-premises range stays).
            let special = PrefixSet::from_prefixes(
                [
                    "0.0.0.0/8",
                    "10.0.0.0/8",
                    "100.64.0.0/10",
                    "127.0.0.0/8",
                    "169.254.0.0/16",
                    "172.16.0.0/12",
                    "192.0.0.0/24",
                    "192.168.0.0/16",
                    "198.18.0.0/15",
                    "224.0.0.0/3",
                ]
                .iter()
                .map(|p| p.parse::<IpNet>().expect("valid")),
            );
            let forbidden = special.difference(&set);
            let b = crate::prefixset::budget::budget_set(&set, max, &forbidden)
                .map_err(|e| Error::Field {
                    field: "max",
                    message: match e {
                        BudgetError::TooFew { needed, ipv6 } => format!(
                            "{max} prefixes cannot hold the selection: it needs at least {needed} ({ipv6} of them IPv6, which are never merged)"
                        ),
                        BudgetError::InputForbidden { .. } => {
                            "the selection lies in forbidden space".to_string()
                        }
                    },
                })?;
            (b.prefixes, b.extra_addresses)
        }
    };
    let mut prefixes = prefixes;
    prefixes.extend(left_out);
    let tags: Vec<String> = ids
        .iter()
        .map(|&i| snap.tag(i).name().to_string())
        .collect();
    let name = match &p.name {
        Some(n) => {
            let ok = !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err(Error::Field {
                    field: "name",
                    message: format!(
                        "`{}`: use letters, digits, `-`, `_` and `.` (firewalls refuse others)",
                        crate::text::quoted(n)
                    ),
                });
            }
            n.clone()
        }
        None if tags.is_empty() => p.tags.join("+"),
        None => {
            let mut n = tags.join("+");
            if n.len() > 48 {
                n = format!("{}+{}more", tags[0], tags.len() - 1);
            }
            n
        }
    };
    Ok(Selection {
        name,
        tags,
        prefixes,
        extra_addresses,
    })
}

/// A name as each target accepts it: letters, digits, `_` (and `-` where allowed), within
/// its length limit.
fn ident(name: &str, dash: bool, max: usize) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (dash && c == '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 't');
    }
    if s.len() > max {
        // Cut, with a digest of the whole so two long names stay apart.
        let d = format!("{:08x}", crate::text::digest([name.as_bytes()]) as u32);
        s.truncate(max - 9);
        s.push('_');
        s.push_str(&d);
    }
    s
}

/// The header lines (without a comment sign): what was selected, from which sources.
fn header(sel: &Selection, info: &SnapshotInfo, since: Option<&SnapshotInfo>) -> Vec<String> {
    let mut h = vec![
        format!(
            "tagnet export `{}`: {} prefix(es) of {}",
            sel.name,
            sel.prefixes.len(),
            sel.tags.join(", ")
        ),
        // A source that names its week already (the built-in one) is said once.
        if info
            .source
            .contains(&format!("changeNumber {}", info.change_number))
        {
            format!("source: {}", info.source)
        } else {
            format!(
                "source: {} changeNumber {}{} ({})",
                info.cloud,
                info.change_number,
                info.date
                    .as_deref()
                    .map_or(String::new(), |d| format!(", {d}")),
                info.source
            )
        },
    ];
    for s in &info.sources {
        h.push(format!(
            "source: {} version {}{} ({})",
            s.provider,
            s.version,
            s.published
                .as_deref()
                .map_or(String::new(), |d| format!(", published {d}")),
            s.origin
        ));
    }
    if let Some(old) = since {
        let mut line = format!(
            "changes since: {} changeNumber {}{}",
            old.cloud,
            old.change_number,
            old.date
                .as_deref()
                .map_or(String::new(), |d| format!(", {d}"))
        );
        for s in &old.sources {
            line.push_str(&format!("; {} version {}", s.provider, s.version));
        }
        h.push(line);
    }
    if sel.extra_addresses > 0 {
        h.push(format!(
            "merged to fit: covers {} IPv4 address(es) beyond the tags'",
            sel.extra_addresses
        ));
    }
    h
}

fn family(prefixes: &[IpNet]) -> (Vec<IpNet>, Vec<IpNet>) {
    prefixes.iter().partition(|p| matches!(p, IpNet::V4(_)))
}

/// The prefixes added and removed from `old` to `new` (as elements: a set holds the very
/// prefixes written, so the change is between the two lists, not the address space).
fn change(old: &[IpNet], new: &[IpNet]) -> (Vec<IpNet>, Vec<IpNet>) {
    let o: std::collections::BTreeSet<&IpNet> = old.iter().collect();
    let n: std::collections::BTreeSet<&IpNet> = new.iter().collect();
    (
        new.iter().filter(|p| !o.contains(p)).copied().collect(),
        old.iter().filter(|p| !n.contains(p)).copied().collect(),
    )
}

/// The export of `sel` as `target`; with `since` (the same request on an older snapshot), the
/// incremental change from it (targets with [`Target::incremental`]).
pub fn render(
    target: Target,
    sel: &Selection,
    info: &SnapshotInfo,
    since: Option<(&Selection, &SnapshotInfo)>,
) -> Result<String> {
    if since.is_some() && !target.incremental() {
        return Err(Error::Field {
            field: "since",
            message: "an incremental change is written for nftables, ipset and plain; the other targets are replaced whole (deploy the new objects)".into(),
        });
    }
    let mut head = header(sel, info, since.map(|s| s.1));
    let ipv6_kept = sel
        .prefixes
        .iter()
        .filter(|p| matches!(p, IpNet::V6(_)))
        .count();
    if matches!(target, Target::Arm | Target::Bicep | Target::Terraform) && ipv6_kept > 0 {
        head.push(format!(
            "{ipv6_kept} IPv6 prefix(es) left out: Azure Firewall IP Groups take IPv4 addresses, CIDRs and ranges (Learn, Azure Firewall IP Groups)"
        ));
    }
    let head = head;
    let mut out = String::new();
    let comment = |out: &mut String, sign: &str| {
        for l in &head {
            let _ = writeln!(out, "{sign} {l}");
        }
    };
    let (v4, v6) = family(&sel.prefixes);
    match target {
        Target::Plain | Target::PaloAlto => {
            // PAN-OS reads `#` lines of an external dynamic list as comments? It does not
            // document them: the list itself stays bare, the header goes to a plain export.
            if target == Target::Plain {
                comment(&mut out, "#");
            }
            match since {
                None => {
                    for p in &sel.prefixes {
                        let _ = writeln!(out, "{p}");
                    }
                }
                Some((old, _)) => {
                    let (add, del) = change(&old.prefixes, &sel.prefixes);
                    for p in del {
                        let _ = writeln!(out, "-{p}");
                    }
                    for p in add {
                        let _ = writeln!(out, "+{p}");
                    }
                }
            }
        }
        Target::Nftables => {
            comment(&mut out, "#");
            let name = ident(&sel.name, false, 60);
            let set_of = |fam: &str| format!("{name}_{fam}");
            match since {
                None => {
                    // Loads whether or not the table and sets exist (an older week's load
                    // included): `add` creates what is missing, `flush` empties the set, and
                    // the elements fill it, in one transaction.
                    let _ = writeln!(out, "add table inet tagnet");
                    for (fam, list, ty) in [("v4", &v4, "ipv4_addr"), ("v6", &v6, "ipv6_addr")] {
                        let set = set_of(fam);
                        let _ = writeln!(
                            out,
                            "add set inet tagnet {set} {{ type {ty}; flags interval; }}"
                        );
                        let _ = writeln!(out, "flush set inet tagnet {set}");
                        for chunk in list.chunks(256) {
                            let items: Vec<String> =
                                chunk.iter().map(ToString::to_string).collect();
                            let _ = writeln!(
                                out,
                                "add element inet tagnet {set} {{ {} }}",
                                items.join(", ")
                            );
                        }
                    }
                }
                Some((old, _)) => {
                    let (ov4, ov6) = family(&old.prefixes);
                    // Deletions first: an added prefix may overlap one it replaces, and an
                    // interval set refuses overlapping elements.
                    for (fam, o, n) in [("v4", &ov4, &v4), ("v6", &ov6, &v6)] {
                        let (add, del) = change(o, n);
                        let set = set_of(fam);
                        for (verb, list) in [("delete", del), ("add", add)] {
                            if !list.is_empty() {
                                let items: Vec<String> =
                                    list.iter().map(ToString::to_string).collect();
                                let _ = writeln!(
                                    out,
                                    "{verb} element inet tagnet {set} {{ {} }}",
                                    items.join(", ")
                                );
                            }
                        }
                    }
                }
            }
        }
        Target::Ipset => {
            comment(&mut out, "#");
            // hash:net takes /1 to /32 (/128): a /0 is written as its two halves.
            let halves = |l: &[IpNet]| -> Vec<IpNet> {
                l.iter()
                    .flat_map(|p| {
                        if p.prefix_len() == 0 {
                            p.subnets(1).expect("a /0 has halves").collect()
                        } else {
                            vec![*p]
                        }
                    })
                    .collect()
            };
            let (v4, v6) = (halves(&v4), halves(&v6));
            // ipset names are at most 31 characters.
            let base = ident(&sel.name, true, 27);
            let set_of = |fam: &str| format!("{base}-{fam}");
            match since {
                None => {
                    for (fam, list, f) in [("v4", &v4, "inet"), ("v6", &v6, "inet6")] {
                        let max = (list.len() * 2).max(65536);
                        // Restores over an older week's load too: created if missing, emptied,
                        // filled.
                        let _ = writeln!(
                            out,
                            "create {} hash:net family {f} maxelem {max} -exist",
                            set_of(fam)
                        );
                        let _ = writeln!(out, "flush {}", set_of(fam));
                        for p in list.iter() {
                            let _ = writeln!(out, "add {} {p} -exist", set_of(fam));
                        }
                    }
                }
                Some((old, _)) => {
                    let (ov4, ov6) = family(&old.prefixes);
                    let (ov4, ov6) = (halves(&ov4), halves(&ov6));
                    for (fam, o, n) in [("v4", &ov4, &v4), ("v6", &ov6, &v6)] {
                        let (add, del) = change(o, n);
                        for p in del {
                            let _ = writeln!(out, "del {} {p} -exist", set_of(fam));
                        }
                        for p in add {
                            let _ = writeln!(out, "add {} {p} -exist", set_of(fam));
                        }
                    }
                }
            }
        }
        Target::FortiGate => {
            comment(&mut out, "#");
            // FortiOS names are at most 79 characters. An address group's member count is
            // capped by model: groups are split at 600 members (within the smaller models'
            // caps we know of) and gathered in one group of groups.
            const GROUP: usize = 600;
            let base = ident(&sel.name, true, 60);
            for (fam, list, cmd, grp) in [
                ("v4", &v4, "address", "addrgrp"),
                ("v6", &v6, "address6", "addrgrp6"),
            ] {
                if list.is_empty() {
                    continue;
                }
                let names: Vec<String> = list
                    .iter()
                    .map(|p| {
                        let n = format!("{base}-{}", p.to_string().replace(['/', ':'], "_"));
                        ident(&n, true, 79)
                    })
                    .collect();
                let _ = writeln!(out, "config firewall {cmd}");
                for (p, n) in list.iter().zip(&names) {
                    let _ = writeln!(out, "    edit \"{n}\"");
                    match p {
                        IpNet::V4(p) => {
                            let _ =
                                writeln!(out, "        set subnet {} {}", p.network(), p.netmask());
                        }
                        IpNet::V6(p) => {
                            let _ = writeln!(out, "        set ip6 {p}");
                        }
                    }
                    let _ = writeln!(out, "        set comment \"tagnet {}\"", sel.name);
                    let _ = writeln!(out, "    next");
                }
                let _ = writeln!(out, "end");
                let _ = writeln!(out, "config firewall {grp}");
                let chunks: Vec<&[String]> = names.chunks(GROUP).collect();
                let whole = format!("{base}-{fam}");
                let mut parts = Vec::new();
                for (k, c) in chunks.iter().enumerate() {
                    let gname = if chunks.len() == 1 {
                        whole.clone()
                    } else {
                        format!("{whole}-{:02}", k + 1)
                    };
                    let quoted: Vec<String> = c.iter().map(|n| format!("\"{n}\"")).collect();
                    let _ = writeln!(out, "    edit \"{gname}\"");
                    let _ = writeln!(out, "        set member {}", quoted.join(" "));
                    let _ = writeln!(out, "    next");
                    parts.push(gname);
                }
                if parts.len() > 1 {
                    let quoted: Vec<String> = parts.iter().map(|n| format!("\"{n}\"")).collect();
                    let _ = writeln!(out, "    edit \"{whole}\"");
                    let _ = writeln!(out, "        set member {}", quoted.join(" "));
                    let _ = writeln!(out, "    next");
                }
                let _ = writeln!(out, "end");
            }
        }
        Target::Arm | Target::Bicep | Target::Terraform => {
            let groups = ip_groups(sel)?;
            match target {
                Target::Arm => {
                    let resources: Vec<serde_json::Value> = groups
                        .iter()
                        .map(|(n, list)| {
                            serde_json::json!({
                                "type": "Microsoft.Network/ipGroups",
                                "apiVersion": "2024-05-01",
                                "name": n,
                                "location": "[parameters('location')]",
                                "properties": {"ipAddresses": list.iter().map(ToString::to_string).collect::<Vec<_>>()},
                            })
                        })
                        .collect();
                    let doc = serde_json::json!({
                        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                        "contentVersion": "1.0.0.0",
                        "metadata": {"description": head.join("; ")},
                        "parameters": {"location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
                        "resources": resources,
                        "outputs": {"ipGroupIds": {"type": "array", "value": groups.iter().map(|(n, _)| format!("[resourceId('Microsoft.Network/ipGroups', '{n}')]")).collect::<Vec<_>>()}},
                    });
                    out = serde_json::to_string_pretty(&doc).expect("a template serializes");
                    out.push('\n');
                }
                Target::Bicep => {
                    comment(&mut out, "//");
                    let _ = writeln!(out, "param location string = resourceGroup().location\n");
                    for (k, (n, list)) in groups.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "resource ipGroup{} 'Microsoft.Network/ipGroups@2024-05-01' = {{",
                            k + 1
                        );
                        let _ = writeln!(out, "  name: '{n}'");
                        let _ = writeln!(out, "  location: location");
                        let _ = writeln!(out, "  properties: {{");
                        let _ = writeln!(out, "    ipAddresses: [");
                        for p in list {
                            let _ = writeln!(out, "      '{p}'");
                        }
                        let _ = writeln!(out, "    ]\n  }}\n}}\n");
                    }
                    let ids: Vec<String> = (1..=groups.len())
                        .map(|k| format!("ipGroup{k}.id"))
                        .collect();
                    let _ = writeln!(out, "output ipGroupIds array = [{}]", ids.join(", "));
                }
                _ => {
                    comment(&mut out, "#");
                    let _ = writeln!(out, "variable \"location\" {{\n  type = string\n}}\n");
                    let _ = writeln!(
                        out,
                        "variable \"resource_group_name\" {{\n  type = string\n}}\n"
                    );
                    for (n, list) in &groups {
                        let _ = writeln!(
                            out,
                            "resource \"azurerm_ip_group\" \"{}\" {{",
                            ident(n, false, 64)
                        );
                        let _ = writeln!(out, "  name                = \"{n}\"");
                        let _ = writeln!(out, "  location            = var.location");
                        let _ = writeln!(out, "  resource_group_name = var.resource_group_name");
                        let items: Vec<String> =
                            list.iter().map(|p| format!("    \"{p}\",")).collect();
                        let _ = writeln!(out, "  cidrs = [\n{}\n  ]\n}}\n", items.join("\n"));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The selection split into IP Groups of at most [`IP_GROUP_ENTRIES`] prefixes, named
/// `NAME-01`, `NAME-02`, … in address order (`NAME` alone when one group holds it); more
/// groups than a firewall policy takes is refused, naming `--max`.
pub fn ip_groups(sel: &Selection) -> Result<Vec<(String, Vec<IpNet>)>> {
    let base = ident(&sel.name, true, 70);
    // IPv4 only: IP Groups take IPv4 addresses, CIDRs and ranges.
    let v4: Vec<IpNet> = sel
        .prefixes
        .iter()
        .copied()
        .filter(|p| matches!(p, IpNet::V4(_)))
        .collect();
    if v4.is_empty() {
        return Err(Error::Field {
            field: "tags",
            message: format!(
                "the selection holds no IPv4 prefix ({} IPv6): Azure Firewall IP Groups take IPv4 addresses, CIDRs and ranges",
                sel.prefixes.len()
            ),
        });
    }
    let chunks: Vec<&[IpNet]> = v4.chunks(IP_GROUP_ENTRIES).collect();
    if chunks.len() > IP_GROUPS_PER_POLICY {
        return Err(Error::Field {
            field: "max",
            message: format!(
                "{} prefixes need {} IP Groups of {IP_GROUP_ENTRIES}, more than the {IP_GROUPS_PER_POLICY} a firewall policy takes; merge them with --max",
                v4.len(),
                chunks.len()
            ),
        });
    }
    Ok(chunks
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let n = if chunks.len() == 1 {
                base.clone()
            } else {
                format!("{base}-{:02}", k + 1)
            };
            (n, c.to_vec())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(prefixes: &[&str]) -> Selection {
        Selection {
            name: "Storage.WestEurope".into(),
            tags: vec!["Storage.WestEurope".into()],
            prefixes: prefixes.iter().map(|p| p.parse().unwrap()).collect(),
            extra_addresses: 0,
        }
    }

    fn info() -> SnapshotInfo {
        SnapshotInfo {
            cloud: "Public".into(),
            change_number: 2,
            date: Some("2026-12-01".into()),
            source: "x".into(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn incremental_changes_delete_before_they_add() {
        let old = sel(&["10.0.0.0/24", "10.0.2.0/24", "2001:db8::/32"]);
        let new = sel(&["10.0.0.0/23", "10.0.2.0/24"]);
        let t = render(Target::Nftables, &new, &info(), Some((&old, &info()))).unwrap();
        let d = t
            .find("delete element inet tagnet Storage_WestEurope_v4 { 10.0.0.0/24 }")
            .unwrap();
        let a = t
            .find("add element inet tagnet Storage_WestEurope_v4 { 10.0.0.0/23 }")
            .unwrap();
        assert!(d < a, "{t}");
        assert!(t.contains("delete element inet tagnet Storage_WestEurope_v6 { 2001:db8::/32 }"));
        let i = render(Target::Ipset, &new, &info(), Some((&old, &info()))).unwrap();
        assert!(
            i.contains("del Storage_WestEurope-v4 10.0.0.0/24 -exist"),
            "{i}"
        );
        assert!(render(Target::Arm, &new, &info(), Some((&old, &info()))).is_err());
    }

    #[test]
    fn ip_groups_split_at_the_limit_and_refuse_past_the_policys() {
        let many = |n: u32| Selection {
            name: "big".into(),
            tags: vec!["x".into()],
            prefixes: (0..n)
                .map(|i| {
                    IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(i * 2), 32).unwrap())
                })
                .collect(),
            extra_addresses: 0,
        };
        let g = ip_groups(&many(12_001)).unwrap();
        let names: Vec<&str> = g.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["big-01", "big-02", "big-03"]);
        assert_eq!(
            g.iter().map(|(_, l)| l.len()).collect::<Vec<_>>(),
            [5000, 5000, 2001]
        );
        assert_eq!(ip_groups(&many(10)).unwrap()[0].0, "big");
        let n = (IP_GROUP_ENTRIES * IP_GROUPS_PER_POLICY + 1) as u32;
        let e = ip_groups(&many(n)).unwrap_err().to_string();
        assert!(e.contains("--max") || e.contains("max"), "{e}");
    }

    #[test]
    fn names_fit_each_target() {
        assert_eq!(ident("Storage.WestEurope", true, 27), "Storage_WestEurope");
        let long = ident(&"x".repeat(80), true, 27);
        assert_eq!(long.len(), 27);
        assert_ne!(long, ident(&"x".repeat(81), true, 27));
        assert_eq!(ident("1abc", false, 10), "t1abc");
    }
}
