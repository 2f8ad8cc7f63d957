//! `udr`, `routes audit`, `aggregate` and `overlaps`.

use super::Status;
use super::args::{AggregateArgs, AuditArgs, OverlapsArgs, UdrArgs};
use super::render::{self, Format};
use anyhow::{Context, Result, bail};
use ipnet::IpNet;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use tagnet::overlaps::{Labelled, Relation};
use tagnet::prefixset::{PrefixSet, Ranges};
use tagnet::routes::deploy::{self, Header, Layout};
use tagnet::routes::{NextHop, Route};

/// Parses `--default-route` ([`tagnet::ops::audit::default_route`]), its warnings printed.
pub(super) fn default_route(text: &str) -> Result<Option<NextHop>> {
    let (hop, warnings) = tagnet::ops::audit::default_route(text)?;
    for w in warnings {
        eprintln!("tagnet: warning: {w}");
    }
    Ok(hop)
}

fn parse_prefixes(texts: &[String], what: &str) -> Result<Vec<IpNet>> {
    texts
        .iter()
        .map(|t| {
            tagnet::text::listed_prefix(t)
                .map(|n| n.trunc())
                .map_err(|reason| anyhow::anyhow!("invalid {what} `{t}`: {reason}"))
        })
        .collect()
}

fn write_routes(
    out: &mut dyn Write,
    format: Format,
    snapshot: Option<&super::source::SnapshotInfo>,
    routes: &[Route],
    header: &Header,
    layout: Layout,
    max_routes: usize,
) -> Result<()> {
    match format {
        Format::Az => out.write_all(deploy::az(routes, header, max_routes).as_bytes())?,
        Format::Arm => out.write_all(deploy::arm(routes, header, layout).as_bytes())?,
        Format::Bicep => out.write_all(deploy::bicep(routes, header, layout).as_bytes())?,
        Format::Terraform => out.write_all(deploy::terraform(routes, header, layout).as_bytes())?,
        _ => {
            let recs: Vec<tagnet::ops::udr::RouteRecord> = routes
                .iter()
                .map(tagnet::ops::udr::RouteRecord::of)
                .collect();
            tagnet::render::rows(out, format, snapshot, &recs)?;
        }
    }
    Ok(())
}

pub fn udr(
    snap: &super::source::Loaded,
    a: &UdrArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    let layout = if a.whole_table {
        if !matches!(format, Format::Arm | Format::Bicep | Format::Terraform) {
            bail!(
                "--whole-table applies to --format arm, bicep and terraform (the az script and the other formats never own the table)"
            );
        }
        let text = a
            .default_route
            .as_deref()
            .context("--whole-table needs --default-route")?;
        Layout::WholeTable {
            default_route: default_route(text)?,
        }
    } else {
        Layout::Routes
    };
    let params = tagnet::ops::udr::UdrParams {
        regions: a.region.clone(),
        paired: a.paired,
        profile: a.tags.profile.clone(),
        tags: a.tags.tag.clone(),
        only_tags: a.tags.only_tag.clone(),
        ipv6: a.ipv6,
        next_hop: Some(a.next_hop.clone()),
        next_hop_ip: a.next_hop_ip.clone(),
        max_routes: Some(a.max_routes),
        reserve: Some(a.reserve),
        exact: a.exact,
        use_service_tags: a.use_service_tags,
        never_cover: a.never_cover.clone(),
        max_extra: a.max_extra,
        ipv6_shares_budget: a.ipv6_shares_budget,
        owns_default_route: matches!(
            layout,
            Layout::WholeTable {
                default_route: Some(_)
            }
        ),
    };
    let report = match tagnet::ops::udr::udr(snap, &snap.info, &params)? {
        Ok(p) => p,
        Err(over) => {
            eprintln!("tagnet: {}", over.spelled(&super::flag_name));
            return Ok(Status::Refused);
        }
    };
    for n in &report.notes {
        eprintln!("tagnet: note: {n}");
    }
    for w in &report.warnings {
        eprintln!("tagnet: warning: {w}");
    }
    let b = &report.budget;
    // On standard error (JSON carries it in the report), the rows' formats too.
    if format != Format::Json && !quiet {
        eprintln!(
            "tagnet: {} routes; budget {}/{} with {} reserved for the table's own routes",
            b.used, b.used, b.max_routes, b.reserved
        );
    }
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        write_routes(
            out,
            format,
            Some(&snap.info),
            &report.plan_routes,
            &report.header(),
            layout,
            b.max_routes,
        )?;
    }
    Ok(Status::Success)
}

pub fn audit(
    snap: &super::source::Loaded,
    a: &AuditArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if matches!(format, Format::Arm | Format::Bicep | Format::Terraform) {
        bail!(
            "--format {}: routes audit writes table, json, ndjson, csv or az (the plan as a script)",
            format.name()
        );
    }
    let table = read_route_table(&a.route_table)?;
    let previous = a
        .previous
        .as_ref()
        .map(|spec| super::source::resolve(Some(spec), "--previous").map(|(snap, _)| snap))
        .transpose()?;
    let params = tagnet::ops::audit::AuditParams {
        tags: tagnet::ops::udr::UdrParams {
            regions: a.region.clone(),
            paired: a.paired,
            profile: a.tags.profile.clone(),
            tags: a.tags.tag.clone(),
            only_tags: a.tags.only_tag.clone(),
            ..Default::default()
        },
        vnet: a.vnet.clone(),
        ipv6: a.ipv6,
        default_route: a.default_route.as_deref().map(default_route).transpose()?,
        prune: a.prune,
        max_routes: a.max_routes,
    };
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Audit)?;
    let doc = tagnet::ops::audit::audit(
        snap,
        &snap.info,
        &table,
        &params,
        previous.as_ref(),
        &levels,
    )?;
    if !quiet {
        for n in &doc.notes {
            eprintln!("tagnet: note: {n}");
        }
    }
    let (report, script) = (&doc.audit, &doc.plan);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        Format::Az => out.write_all(script.as_bytes())?,
        _ => {
            render::records(
                out,
                format,
                Some(&snap.info),
                &[
                    "CODE",
                    "SEVERITY",
                    "RESOURCE",
                    "NEXT HOP",
                    "PREFIXES",
                    "MESSAGE",
                    "COUNTEREXAMPLE",
                    "FIX",
                ],
                &report.findings,
                |f| {
                    vec![
                        f.finding.code.to_string(),
                        f.finding.severity.to_string(),
                        f.finding.resource.clone(),
                        f.next_hop.clone(),
                        tagnet::routes::list_some(
                            &f.prefixes,
                            if format == Format::Table {
                                4
                            } else {
                                usize::MAX
                            },
                        ),
                        f.finding.message.clone(),
                        f.finding.counterexample.clone().unwrap_or_default(),
                        f.finding.fix.clone(),
                    ]
                },
            )?;
            if format == Format::Table {
                writeln!(
                    out,
                    "\naudited: {}, {}; tags {}; {} routes now, {} after the plan (limit {})",
                    match report.table_kind {
                        tagnet::routes::audit::TableKind::RouteTable => "route table",
                        tagnet::routes::audit::TableKind::EffectiveRoutes => "effective routes",
                    },
                    if report.ipv6_audited {
                        "IPv4 and IPv6"
                    } else {
                        "IPv4 only (--ipv6 adds IPv6)"
                    },
                    report.required_tags.join(", "),
                    report.routes_now,
                    report.routes_after,
                    report.max_routes
                )?;
                if doc.all_via_internet {
                    writeln!(
                        out,
                        "every required address of {} leaves through Internet",
                        report.required_tags.join(", ")
                    )?;
                }
                if !report.ensure.is_empty()
                    || !report.delete.is_empty()
                    || !report.review.is_empty()
                {
                    writeln!(out, "\nplan (`--format az` prints it alone):")?;
                    out.write_all(script.as_bytes())?;
                }
            }
        }
    }
    Ok(if report.has_errors() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

/// Parses one `PREFIX` or `LABEL PREFIX` line: `None` for a blank or comment line. A bare
/// address is a host prefix; host bits set is an error (usually a typo).
fn parse_line<'a>(raw: &'a str, no: usize, origin: &str) -> Result<Option<(&'a str, IpNet)>> {
    let l = match raw.bytes().position(|b| b == b'#') {
        Some(i) => &raw[..i],
        None => raw,
    }
    .trim();
    if l.is_empty() {
        return Ok(None);
    }
    // The prefix is the last field; the label, which may hold spaces, is the rest.
    let (label, p) = match l.rfind(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (l[..i].trim_end(), &l[i + 1..]),
        None => ("", l),
    };
    let net = if p.bytes().any(|b| b == b'/') {
        tagnet::text::listed_prefix(p).map_err(|reason| {
            anyhow::anyhow!(
                "{origin}:{no}: invalid prefix `{}`: {reason}",
                tagnet::text::quoted(p)
            )
        })?
    } else {
        IpNet::from(p.parse::<std::net::IpAddr>().map_err(|_| {
            anyhow::anyhow!(
                "{origin}:{no}: invalid prefix `{}`: expected ADDRESS/LENGTH or an address (a line is `PREFIX` or `LABEL PREFIX`)",
                tagnet::text::quoted(p)
            )
        })?)
    };
    if net.trunc() != net {
        bail!(
            "{origin}:{no}: prefix `{p}` has host bits set; did you mean `{}`?",
            net.trunc()
        );
    }
    Ok(Some((label, net)))
}

/// Parses every line of a file (or `-`) in parallel blocks with `each`, keeping input order;
/// the first bad line is an error naming it.
fn read_lines<T: Send>(
    path: &std::path::Path,
    each: impl Fn(&str, IpNet, usize) -> T + Sync,
) -> Result<Vec<T>> {
    let (bytes, origin) = tagnet::load::read_input(path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{origin}: input is not UTF-8 text"))?;
    let blocks = super::lookup_cmd::split_blocks(text, 1 << 16);
    let parsed: Vec<Result<Vec<T>>> = blocks
        .par_iter()
        .map(|&(first, block)| {
            let mut out = Vec::new();
            for (k, raw) in block.lines().enumerate() {
                if let Some((label, net)) = parse_line(raw, first + k, &origin)? {
                    out.push(each(label, net, first + k));
                }
            }
            Ok(out)
        })
        .collect();
    let mut out = Vec::new();
    for p in parsed {
        out.extend(p?);
    }
    Ok(out)
}

/// `aggregate`; `snap` loads the snapshot, needed only when a `--never-cover` names a tag.
pub fn aggregate(
    a: &AggregateArgs,
    format: Format,
    out: &mut dyn Write,
    snap: impl Fn() -> Result<super::source::Loaded>,
) -> Result<Status> {
    if format.is_deployment() {
        bail!(
            "--format {}: aggregate writes table, json, ndjson or csv",
            format.name()
        );
    }
    let nets = read_lines(&a.input, |_, net, _| net)?;
    some_prefix(nets.len(), &a.input)?;
    let input_count = nets.len();
    let input = PrefixSet::from_prefixes(nets);
    let exact = input.to_prefixes();
    let (prefixes, extra, extra_prefixes): (Vec<IpNet>, u128, Vec<IpNet>) = match a.max {
        Some(max) if exact.len() > max => {
            let forbidden = never_cover(&a.never_cover, snap)?;
            match tagnet::budget::budget_set(&input, max, &forbidden) {
                Ok(b) => {
                    eprintln!(
                        "tagnet: note: {} exact prefixes merged into {}, covering {} extra addresses: {}",
                        b.exact,
                        b.prefixes.len(),
                        b.extra_addresses,
                        tagnet::routes::list_some(&b.extra_prefixes, 20)
                    );
                    (b.prefixes, b.extra_addresses, b.extra_prefixes)
                }
                Err(tagnet::budget::BudgetError::TooFew { needed, ipv6 }) => {
                    if ipv6 > 0 {
                        eprintln!(
                            "tagnet: cannot fit in {max} prefixes: {needed} needed, {ipv6} of them IPv6 (IPv6 prefixes are never merged: a merged IPv6 prefix would cover astronomically many other addresses)"
                        );
                    } else {
                        eprintln!(
                            "tagnet: cannot fit in {max} prefixes without covering --never-cover space: {needed} needed"
                        );
                    }
                    return Ok(Status::Refused);
                }
                Err(tagnet::budget::BudgetError::InputForbidden { ranges }) => {
                    bail!(
                        "the input holds {} range(s) inside --never-cover (first {}); no cover can avoid them",
                        ranges.len(),
                        Ranges::from_ranges(ranges).to_prefixes_v4()[0]
                    );
                }
            }
        }
        _ => (exact, 0, Vec::new()),
    };
    if format == Format::Json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({"input_prefixes": input_count, "prefixes": prefixes, "extra_addresses": u64::try_from(extra).unwrap_or(u64::MAX), "extra_prefixes": extra_prefixes}),
        )?;
        writeln!(out)?;
    } else if format == Format::Table {
        let mut s = String::with_capacity(prefixes.len() * 18);
        for p in &prefixes {
            s.push_str(&p.to_string());
            s.push('\n');
        }
        out.write_all(s.as_bytes())?;
    } else {
        #[derive(Serialize)]
        struct Row {
            prefix: IpNet,
        }
        let rows: Vec<Row> = prefixes.iter().map(|&prefix| Row { prefix }).collect();
        render::records(out, format, None, &["prefix"], &rows, |r| {
            vec![r.prefix.to_string()]
        })?;
    }
    Ok(Status::Success)
}

/// A prefix list with no prefix is an error, naming the input (not a silent empty answer).
fn some_prefix(count: usize, input: &std::path::Path) -> Result<()> {
    if count == 0 {
        bail!(
            "{}: no prefix in the input (one PREFIX or LABEL PREFIX a line)",
            if input.as_os_str() == "-" {
                "standard input".to_string()
            } else {
                input.display().to_string()
            }
        );
    }
    Ok(())
}

/// `--never-cover` space: prefixes, or tags' names (the snapshot is loaded only for those).
fn never_cover(
    texts: &[String],
    snap: impl Fn() -> Result<super::source::Loaded>,
) -> Result<PrefixSet> {
    if texts
        .iter()
        .all(|t| tagnet::ops::catalog::is_address_text(t))
    {
        return Ok(PrefixSet::from_prefixes(parse_prefixes(
            texts,
            "--never-cover prefix",
        )?));
    }
    let snap = snap()?;
    let mut set = PrefixSet::default();
    for t in texts {
        let (_, s) = tagnet::ops::catalog::range_named(&snap, t, None, "never_cover")?;
        set = set.union(&s);
    }
    Ok(set)
}

pub fn overlaps(a: &OverlapsArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    if format.is_deployment() {
        bail!(
            "--format {}: overlaps writes table, json, ndjson or csv",
            format.name()
        );
    }
    let (items, lines): (Vec<Labelled>, Vec<usize>) = read_lines(&a.input, |label, prefix, no| {
        (
            Labelled {
                label: label.to_string(),
                prefix,
            },
            no,
        )
    })?
    .into_iter()
    .unzip();
    some_prefix(items.len(), &a.input)?;
    let found = tagnet::overlaps::overlaps(&items);
    let mut uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for it in &items {
        *uses.entry(it.label.as_str()).or_default() += 1;
    }
    let shown: Vec<std::borrow::Cow<str>> = items
        .iter()
        .zip(&lines)
        .map(|(it, no)| {
            if it.label.is_empty() {
                format!("line {no}").into()
            } else if uses[it.label.as_str()] > 1 {
                format!("{} (line {no})", it.label).into()
            } else {
                it.label.as_str().into()
            }
        })
        .collect();
    #[derive(Serialize)]
    struct Row<'a> {
        outer_label: &'a str,
        outer_prefix: IpNet,
        relation: Relation,
        inner_label: &'a str,
        inner_prefix: IpNet,
    }
    let rows: Vec<Row> = found
        .iter()
        .map(|o| Row {
            outer_label: &shown[o.outer],
            outer_prefix: items[o.outer].prefix,
            relation: o.relation,
            inner_label: &shown[o.inner],
            inner_prefix: items[o.inner].prefix,
        })
        .collect();
    render::records(
        out,
        format,
        None,
        &["OUTER", "OUTER PREFIX", "RELATION", "INNER", "INNER PREFIX"],
        &rows,
        |r| {
            vec![
                r.outer_label.to_string(),
                r.outer_prefix.to_string(),
                match r.relation {
                    Relation::Equal => "equals".into(),
                    Relation::Contains => "contains".into(),
                },
                r.inner_label.to_string(),
                r.inner_prefix.to_string(),
            ]
        },
    )?;
    Ok(if rows.is_empty() {
        Status::Success
    } else {
        Status::NoMatch
    })
}

/// A route-table file as every `--route-table` takes it: `FILE`, or `FILE#NAME` for one table
/// of a list or a template (as `--nsg FILE#NAME`).
pub(super) fn read_route_table(
    path: &std::path::Path,
) -> Result<tagnet::routes::audit::RouteTable> {
    let text = path.to_string_lossy();
    let (file, name) = match text.rsplit_once('#') {
        Some((f, n)) if !path.exists() && !n.is_empty() => (std::path::PathBuf::from(f), Some(n)),
        _ => (path.to_path_buf(), None),
    };
    let (bytes, origin) = tagnet::load::read_input(&file)?;
    Ok(tagnet::routes::audit::parse_route_table_named(
        &bytes, &origin, name,
    )?)
}
