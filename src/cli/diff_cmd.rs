//! `diff`: what changed between two snapshots, and what it means for a route table.

use super::Status;
use super::args::DiffArgs;
use super::render::{self, Format};
use anyhow::{Result, bail};
use ipnet::IpNet;
use serde::Serialize;
use std::io::Write;
use tagnet::diff::Diff;

use tagnet::ops::diff::Impact;

pub fn diff(a: &DiffArgs, format: Format, quiet: bool, out: &mut dyn Write) -> Result<Status> {
    if format.is_deployment() && !(format == Format::Az && a.route_table.is_some()) {
        bail!(
            "--format {}: diff writes table, json, ndjson, csv or markdown (and az, the plan, with --route-table)",
            format.name()
        );
    }
    let (old, old_info) = super::source::resolve(Some(&a.old), "OLD")?;
    let (new, new_info) = super::source::resolve(Some(&a.new), "NEW")?;
    let params = tagnet::ops::diff::DiffParams {
        tags: a.tag.clone(),
        regions: a.region.clone(),
        services: a.service.clone(),
    };
    let table = match &a.route_table {
        None => None,
        Some(path) => Some(super::routes_cmd::read_route_table(path)?),
    };
    let impact_params = tagnet::ops::diff::ImpactParams {
        regions: Vec::new(),
        profile: a.profile.clone(),
        vnet: a.vnet.clone(),
        default_route: a
            .default_route
            .as_deref()
            .map(super::routes_cmd::default_route)
            .transpose()?,
        prune: a.prune,
        ipv6: a.ipv6,
        max_routes: a.max_routes,
    };
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Audit)?;
    let mut report = tagnet::ops::diff::changes(
        (&old, &old_info),
        (&new, &new_info),
        &params,
        table.as_ref().map(|t| (t, &impact_params, &levels)),
    )?;
    if a.nsg.is_some() || a.nic_nsg.is_some() {
        let scope = super::nsg_cmd::scope_parts(
            (
                a.nsg.as_deref(),
                a.nic_nsg.as_deref(),
                a.parameters.as_deref(),
            ),
            &a.vnet,
            &a.asg,
            quiet,
        )?;
        report.nsg = Some(tagnet::ops::diff::nsg_impact(
            (&old, &old_info),
            (&new, &new_info),
            &scope,
            &params.region_codes(&old, &new)?,
            a.profile.as_deref(),
            a.local.as_deref(),
        )?);
    }
    if !quiet {
        for w in &report.warnings {
            eprintln!("tagnet: warning: {w}");
        }
    }
    if format == Format::Az {
        let i = report
            .impact
            .as_ref()
            .expect("--format az needs --route-table");
        out.write_all(i.plan.as_bytes())?;
    } else {
        render_diff(&report, format, out)?;
    }
    Ok(if report.action_needed() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

fn list(p: &[IpNet]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn render_diff(
    report: &tagnet::ops::diff::DiffReport,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let (d, impact) = (&report.diff, report.impact.as_ref());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)?;
            Ok(())
        }
        Format::Csv | Format::Ndjson => diff_rows(d, format, out),
        Format::Markdown => {
            diff_markdown(d, impact, out)?;
            nsg_lines(report.nsg.as_ref(), "## ", out)
        }
        _ => {
            diff_table(d, impact, out)?;
            nsg_lines(report.nsg.as_ref(), "", out)
        }
    }
}

/// A verdict as JSON spells it (`partly-met`).
fn verdict(m: tagnet::nsg::reach::Met) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The NSG's required flows the change touches, one line each.
fn nsg_lines(
    nsg: Option<&tagnet::ops::diff::NsgImpact>,
    heading: &str,
    out: &mut dyn Write,
) -> Result<()> {
    let Some(n) = nsg else {
        return Ok(());
    };
    writeln!(
        out,
        "\n{heading}NSG requirements ({}, local {}): {} checked, {} changed, {} not met now",
        n.profile,
        n.local,
        n.checked,
        n.changes.len(),
        n.not_met_now
    )?;
    if heading.is_empty() {
        writeln!(out)?;
    }
    if n.changes.is_empty() {
        writeln!(out, "  nothing the change breaks or newly lets through")?;
    }
    for c in &n.changes {
        let r = &c.requirement;
        writeln!(
            out,
            "  {} {} {} {} {} {} ({}): {} -> {}, blocked addresses {} -> {}{}",
            c.change,
            c.region,
            r.direction,
            r.protocol,
            r.ports,
            c.tag,
            r.why,
            verdict(c.before),
            verdict(c.after),
            c.blocked_before,
            c.blocked_after,
            match (&c.counterexample, &c.blocked_by) {
                (Some(x), Some(b)) => format!("; e.g. {x} blocked by {b}"),
                (Some(x), None) => format!("; e.g. {x}"),
                _ => String::new(),
            }
        )?;
    }
    Ok(())
}

/// One row per tag, change and prefix (CSV, NDJSON).
fn diff_rows(d: &Diff, format: Format, out: &mut dyn Write) -> Result<()> {
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
    Ok(())
}

/// A weekly change ticket.
fn diff_markdown(d: &Diff, impact: Option<&Impact>, out: &mut dyn Write) -> Result<()> {
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
            "IPv4 addresses",
            "IPv6 addresses",
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
    Ok(())
}

/// The table for people.
fn diff_table(d: &Diff, impact: Option<&Impact>, out: &mut dyn Write) -> Result<()> {
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
        writeln!(
            out,
            "\nroute table ({}; {}):",
            if i.required_tags.is_empty() {
                format!("no required tag: retired {}", i.retired_regions.join(", "))
            } else {
                i.required_tags.join(", ")
            },
            if i.ipv6_audited {
                "IPv4 and IPv6"
            } else {
                "IPv4 only, --ipv6 adds IPv6"
            }
        )?;
        if i.findings.is_empty()
            && i.udr_add.is_empty()
            && i.udr_delete.is_empty()
            && i.plan_changes == 0
        {
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
            writeln!(out, "  a fresh `udr` adds {n} ({p})")?;
        }
        for (n, p) in &i.udr_delete {
            writeln!(out, "  a fresh `udr` drops {n} ({p})")?;
        }
        if !i.findings.is_empty() || i.plan_changes > 0 {
            writeln!(out, "\nplan (`--format az` prints it alone):")?;
            out.write_all(i.plan.as_bytes())?;
        }
    }
    Ok(())
}
