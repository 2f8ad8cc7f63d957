//! `diff`: what changed between two snapshots, and what it means for a route table.

use super::Status;
use super::args::DiffArgs;
use super::render::{self, Format};
use anyhow::{Result, bail};
use ipnet::IpNet;
use serde::Serialize;
use std::io::Write;
use tagnet::Snapshot;
use tagnet::diff::{Diff, Filter};
use tagnet::prefixset::PrefixSet;
use tagnet::routes::{NextHop, UdrRequest};

/// What a snapshot change means for one route table.
#[derive(Serialize)]
struct Impact {
    /// The regions and tags checked.
    required_tags: Vec<String>,
    /// The table's audit against the new snapshot (the old one's required prefixes tie stale
    /// routes).
    findings: Vec<tagnet::routes::audit::AuditFinding>,
    /// `udr` routes (default options) the new snapshot adds: name and prefix.
    udr_add: Vec<(String, String)>,
    /// `udr` routes the new snapshot drops.
    udr_delete: Vec<(String, String)>,
    /// The audit's plan for the table as it is.
    plan: String,
}

fn required_set(snap: &Snapshot, regions: &[String], tags: &[String]) -> PrefixSet {
    let mut nets = Vec::new();
    for t in tags {
        for r in regions {
            if let Ok(ids) = snap.resolve_tag(t, Some(r)) {
                for id in ids {
                    let tag = snap.tag(id);
                    nets.extend(tag.v4().iter().map(|&n| IpNet::V4(n)));
                    nets.extend(tag.v6().iter().map(|&n| IpNet::V6(n)));
                }
            }
        }
    }
    PrefixSet::from_prefixes(nets)
}

fn udr_routes(
    snap: &Snapshot,
    regions: &[String],
    tags: &[String],
) -> Result<Vec<(String, String)>> {
    let req = UdrRequest {
        regions: regions.to_vec(),
        profile_tags: tags.to_vec(),
        named_tags: Vec::new(),
        ipv6: false,
        next_hop: NextHop::Internet,
        max_routes: tagnet::routes::DEFAULT_MAX_ROUTES,
        reserve: 1,
        exact: false,
        use_service_tags: false,
        never_cover: Vec::new(),
    };
    Ok(match tagnet::routes::plan(snap, &req)? {
        Ok(p) => p
            .routes
            .into_iter()
            .map(|r| (r.name, r.address_prefix))
            .collect(),
        Err(over) => bail!("{}", over.message),
    })
}

pub fn diff(a: &DiffArgs, format: Format, quiet: bool, out: &mut dyn Write) -> Result<Status> {
    if format.is_deployment() && !(format == Format::Az && a.route_table.is_some()) {
        bail!(
            "--format {}: diff writes table, json, ndjson, csv or markdown (and az, the plan, with --route-table)",
            render::typed(format)
        );
    }
    let (old, old_info) = super::source::resolve(Some(&a.old))?;
    let (new, new_info) = super::source::resolve(Some(&a.new))?;
    if !old.cloud().eq_ignore_ascii_case(new.cloud()) && !quiet {
        eprintln!(
            "tagnet: warning: comparing different clouds ({} and {})",
            old.cloud(),
            new.cloud()
        );
    }
    if old.change_number() > new.change_number() && !quiet {
        eprintln!(
            "tagnet: warning: OLD has the higher changeNumber ({} > {}); did you swap them?",
            old.change_number(),
            new.change_number()
        );
    }
    let mut regions = Vec::new();
    for r in a.region.iter().filter(|r| !r.trim().is_empty()) {
        regions.push(match new.resolve_region(r) {
            Ok(code) => code.to_string(),
            Err(e) => old.resolve_region(r).map_err(|_| e)?.to_string(),
        });
    }
    let filter = Filter {
        tags: a.tag.clone(),
        regions: regions.clone(),
        services: a.service.clone(),
    };
    tagnet::diff::check_filter(&filter, &old, &new)?;
    let d = tagnet::diff::diff(&old, &new, &old_info.source, &new_info.source, &filter);
    let impact = match &a.route_table {
        None => None,
        Some(path) => Some(impact(&old, &new, a, &regions, path)?),
    };
    if format == Format::Az {
        let i = impact.as_ref().expect("--format az needs --route-table");
        out.write_all(i.plan.as_bytes())?;
    }
    let action = impact.as_ref().is_some_and(|i| {
        !i.udr_add.is_empty()
            || !i.udr_delete.is_empty()
            || i.findings.iter().any(|f| {
                matches!(
                    f.finding.severity,
                    tagnet::findings::Severity::Error | tagnet::findings::Severity::Warning
                )
            })
    });
    if format != Format::Az {
        render_diff(&d, impact.as_ref(), format, out)?;
    }
    Ok(if action {
        Status::NoMatch
    } else {
        Status::Success
    })
}

fn impact(
    old: &Snapshot,
    new: &Snapshot,
    a: &DiffArgs,
    regions: &[String],
    path: &std::path::Path,
) -> Result<Impact> {
    let profile = match &a.profile {
        Some(p) => tagnet::routes::profile(p)?,
        None => tagnet::routes::profiles()
            .into_iter()
            .find(|p| p.default)
            .expect("a default profile"),
    };
    let (bytes, origin) = tagnet::load::read_input(path)?;
    let table = tagnet::routes::audit::parse_route_table(&bytes, &origin)?;
    let required = tagnet::routes::required_tags(new, regions, &profile.tags, &[])?;
    let previous = required_set(old, regions, &profile.tags);
    let related = tagnet::routes::audit::related(new, &required.ids);
    let vnet: Vec<IpNet> = a
        .vnet
        .iter()
        .map(|t| {
            tagnet::text::listed_prefix(t)
                .map(|n| n.trunc())
                .map_err(|r| anyhow::anyhow!("invalid --vnet prefix `{t}`: {r}"))
        })
        .collect::<Result<_>>()?;
    let opts = tagnet::routes::audit::AuditOptions {
        vnet,
        previous: Some(&previous),
        related: Some(&related),
        max_routes: tagnet::routes::DEFAULT_MAX_ROUTES,
        default_route: a
            .default_route
            .as_deref()
            .map(super::routes_cmd::default_route)
            .transpose()?
            .flatten(),
        default_route_declared: a.default_route.is_some(),
        prune: a.prune,
        ..Default::default()
    };
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Audit)?;
    let mut report = tagnet::routes::audit::audit(new, &table, &required.ids, &opts)?;
    report
        .findings
        .retain_mut(|f| levels.adjust(&mut f.finding));
    let plan = tagnet::routes::deploy::az_plan(
        &report.ensure,
        &report.delete,
        &report.review,
        &tagnet::routes::deploy::Header {
            lines: vec![format!(
                "Plan from `tagnet diff` ({} cn{} -> cn{}) for {}.",
                new.cloud(),
                old.change_number(),
                new.change_number(),
                report.required_tags.join(", ")
            )],
        },
        tagnet::routes::DEFAULT_MAX_ROUTES,
    );
    let (uo, un) = (
        udr_routes(old, regions, &profile.tags)?,
        udr_routes(new, regions, &profile.tags)?,
    );
    let udr_add = un
        .iter()
        .filter(|r| !uo.iter().any(|o| o.1 == r.1))
        .cloned()
        .collect();
    let udr_delete = uo
        .iter()
        .filter(|r| !un.iter().any(|n| n.1 == r.1))
        .cloned()
        .collect();
    Ok(Impact {
        required_tags: report.required_tags.clone(),
        findings: report.findings,
        udr_add,
        udr_delete,
        plan,
    })
}

fn list(p: &[IpNet]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn render_diff(
    d: &Diff,
    impact: Option<&Impact>,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                #[serde(flatten)]
                diff: &'a Diff,
                #[serde(skip_serializing_if = "Option::is_none")]
                impact: Option<&'a Impact>,
            }
            serde_json::to_writer_pretty(&mut *out, &Doc { diff: d, impact })?;
            writeln!(out)?;
        }
        Format::Csv | Format::Ndjson => {
            #[derive(Serialize)]
            struct Row<'a> {
                tag: &'a str,
                region: &'a str,
                change: &'static str,
                prefix: String,
            }
            let mut rows = Vec::new();
            for t in &d.tags_added {
                rows.push(Row {
                    tag: t,
                    region: "",
                    change: "tag_added",
                    prefix: String::new(),
                });
            }
            for t in &d.tags_removed {
                rows.push(Row {
                    tag: t,
                    region: "",
                    change: "tag_removed",
                    prefix: String::new(),
                });
            }
            for t in &d.tags {
                if t.change_number_only {
                    rows.push(Row {
                        tag: &t.name,
                        region: &t.region,
                        change: "change_number_only",
                        prefix: String::new(),
                    });
                }
                for (change, ps) in [
                    ("added", &t.added),
                    ("removed", &t.removed),
                    ("addresses_added", &t.addresses_added),
                    ("addresses_removed", &t.addresses_removed),
                ] {
                    for p in ps {
                        rows.push(Row {
                            tag: &t.name,
                            region: &t.region,
                            change,
                            prefix: p.to_string(),
                        });
                    }
                }
            }
            render::records(
                out,
                format,
                None,
                &["TAG", "REGION", "CHANGE", "PREFIX"],
                &rows,
                |r| {
                    vec![
                        r.tag.to_string(),
                        r.region.to_string(),
                        r.change.to_string(),
                        r.prefix.clone(),
                    ]
                },
            )?;
        }
        Format::Markdown => {
            writeln!(
                out,
                "# Service tag changes: {} changeNumber {} → {}\n",
                d.new.cloud, d.old.change_number, d.new.change_number
            )?;
            writeln!(
                out,
                "{} tag(s) changed, {} added, {} removed.\n",
                d.tags.len(),
                d.tags_added.len(),
                d.tags_removed.len()
            )?;
            let rows: Vec<Vec<String>> = d
                .tags
                .iter()
                .map(|t| {
                    vec![
                        format!("`{}`", t.name),
                        format!(
                            "{} → {}",
                            t.old_change_number.map_or("-".into(), |c| c.to_string()),
                            t.new_change_number.map_or("-".into(), |c| c.to_string())
                        ),
                        list(&t.added),
                        list(&t.removed),
                        format!(
                            "+{} −{}",
                            t.address_counts.ipv4_added, t.address_counts.ipv4_removed
                        ),
                        format!(
                            "+{} −{}",
                            t.address_counts.ipv6_added, t.address_counts.ipv6_removed
                        ),
                    ]
                })
                .collect();
            render::markdown(
                out,
                &[
                    "Tag",
                    "changeNumber",
                    "Prefixes added",
                    "Prefixes removed",
                    "Addresses",
                ],
                &rows,
            )?;
            for (title, names) in [
                ("Tags added", &d.tags_added),
                ("Tags removed", &d.tags_removed),
            ] {
                if !names.is_empty() {
                    writeln!(out, "\n## {title}\n")?;
                    for n in names {
                        writeln!(out, "- `{n}`")?;
                    }
                }
            }
            if let Some(i) = impact {
                writeln!(out, "\n## Route table\n")?;
                for f in &i.findings {
                    writeln!(
                        out,
                        "- **{}** ({}) `{}`: {}",
                        f.finding.code, f.finding.severity, f.finding.resource, f.finding.message
                    )?;
                }
                for (n, p) in &i.udr_add {
                    writeln!(out, "- add `{n}` {p}")?;
                }
                for (n, p) in &i.udr_delete {
                    writeln!(out, "- delete `{n}` {p}")?;
                }
                writeln!(out, "\n```sh\n{}```", i.plan)?;
            }
        }
        _ => {
            writeln!(
                out,
                "{} changeNumber {} ({}) → {} changeNumber {} ({}): {} tag(s) changed, {} added, {} removed",
                d.old.cloud,
                d.old.change_number,
                d.old.source,
                d.new.cloud,
                d.new.change_number,
                d.new.source,
                d.tags.len(),
                d.tags_added.len(),
                d.tags_removed.len()
            )?;
            let rows: Vec<Vec<String>> = d
                .tags
                .iter()
                .map(|t| {
                    vec![
                        t.name.clone(),
                        t.region.clone(),
                        format!(
                            "{}→{}",
                            t.old_change_number.map_or("-".into(), |c| c.to_string()),
                            t.new_change_number.map_or("-".into(), |c| c.to_string())
                        ),
                        format!("+{} −{}", t.added.len(), t.removed.len()),
                        format!(
                            "+{} −{}",
                            t.address_counts.ipv4_added, t.address_counts.ipv4_removed
                        ),
                        format!(
                            "+{} −{}",
                            t.address_counts.ipv6_added, t.address_counts.ipv6_removed
                        ),
                        if t.change_number_only {
                            "changeNumber only".into()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect();
            if !rows.is_empty() {
                writeln!(out)?;
                render::table(
                    out,
                    &[
                        "TAG",
                        "REGION",
                        "CHANGE",
                        "LISTED",
                        "IPV4 ADDRESSES",
                        "IPV6 ADDRESSES",
                        "NOTE",
                    ],
                    &rows,
                )?;
            }
            for (title, names) in [
                ("tags added", &d.tags_added),
                ("tags removed", &d.tags_removed),
                ("tags the API lacks", &d.api_lacks),
                ("tags the API lags", &d.api_lags),
            ] {
                if !names.is_empty() {
                    writeln!(out, "\n{title}: {}", names.join(", "))?;
                }
            }
            if let Some(i) = impact {
                writeln!(out, "\nroute table ({}):", i.required_tags.join(", "))?;
                if i.findings.is_empty() && i.udr_add.is_empty() && i.udr_delete.is_empty() {
                    writeln!(out, "  nothing to do")?;
                }
                for f in &i.findings {
                    writeln!(
                        out,
                        "  {} {} {}: {}",
                        f.finding.severity, f.finding.code, f.finding.resource, f.finding.message
                    )?;
                }
                for (n, p) in &i.udr_add {
                    writeln!(out, "  udr adds {n} ({p})")?;
                }
                for (n, p) in &i.udr_delete {
                    writeln!(out, "  udr drops {n} ({p})")?;
                }
                if !i.findings.is_empty() {
                    writeln!(out, "\nplan (`--format az` prints it alone):")?;
                    out.write_all(i.plan.as_bytes())?;
                }
            }
        }
    }
    Ok(())
}
