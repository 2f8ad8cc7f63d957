//! `flows attribute` and `flows synth`, and what `flows verify` shares with them: reading
//! blobs on the pool, reporting bad tuples, totals.

use super::Status;
use super::args::{FlowsAttributeArgs, FlowsSynthArgs};
use super::render::{self, Format};
use anyhow::{Result, bail};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Write;
use tagnet::flowlog::attribute::{Attribution, Attributor, Report, Summary};
use tagnet::flowlog::read::{self, Bad, Input, Record, Stats};
use tagnet::flowlog::{Kind, Tuple, protocol_name, rfc3339, verify};
use tagnet::prefixset::PrefixSet;
use tagnet::{Snapshot, TagIndex};

/// Bad tuples reported one by one per file; the rest are counted.
const BAD_SHOWN: usize = 10;

/// Reports bad tuples on standard error: the first few of each file, then a count.
pub(super) struct BadLog {
    shown: usize,
    hidden: usize,
}

impl BadLog {
    fn new() -> Self {
        BadLog {
            shown: 0,
            hidden: 0,
        }
    }
    fn push(&mut self, b: Bad) {
        if self.shown < BAD_SHOWN {
            eprintln!("tagnet: {b}: skipped");
            self.shown += 1;
        } else {
            self.hidden += 1;
        }
    }
    fn finish(&self, origin: &str) {
        if self.hidden > 0 {
            eprintln!(
                "tagnet: {origin}: {} more unreadable tuples skipped",
                self.hidden
            );
        }
    }
}

/// Reads one input: records are parsed and `map`ped on the thread pool while the next batch is
/// read, and `each` gets the results on this thread in file order. The first error of `each`
/// (a closed output) stops the read and is returned.
pub(super) fn stream<T: Send>(
    input: &Input,
    map: &(dyn Fn(Record) -> T + Sync),
    each: &mut dyn FnMut(T) -> Result<()>,
) -> Result<Stats> {
    let origin = input.origin();
    let reader = read::open(input)?;
    let mut log = BadLog::new();
    let mut failed = None;
    let stats = read::read_map(
        reader,
        &origin,
        map,
        &mut |t| match each(t) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        },
        &mut |b| log.push(b),
    );
    log.finish(&origin);
    match failed {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}

/// Exit 2 when not one tuple could be read from any input.
pub(super) fn nothing_read(stats: &Stats, inputs: &[Input]) -> Result<()> {
    if stats.tuples == 0 {
        bail!(
            "no readable flow tuple in {}",
            inputs
                .iter()
                .map(Input::origin)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

fn carried_set(snap: &Snapshot, region: &str, profile: &str) -> Result<PrefixSet> {
    let p = tagnet::routes::profile(profile)?;
    let req = tagnet::routes::UdrRequest {
        regions: vec![region.to_string()],
        profile_tags: p.tags.clone(),
        named_tags: Vec::new(),
        ipv6: true,
        next_hop: tagnet::routes::NextHop::Internet,
        max_routes: 400,
        reserve: 1,
        exact: false,
        use_service_tags: false,
        never_cover: Vec::new(),
    };
    let plan = match tagnet::routes::plan(snap, &req)? {
        Ok(p) => p,
        Err(over) => bail!("--profile {profile} --region {region}: {}", over.message),
    };
    let nets = plan
        .routes
        .iter()
        .filter_map(|r| r.address_prefix.parse::<ipnet::IpNet>().ok());
    Ok(PrefixSet::from_prefixes(nets))
}

pub(super) fn totals_line(stats: &Stats, files: usize) -> String {
    format!(
        "{} tuple{} in {} record{} from {} file{}; {} unreadable (skipped)",
        stats.tuples,
        if stats.tuples == 1 { "" } else { "s" },
        stats.records,
        if stats.records == 1 { "" } else { "s" },
        files,
        if files == 1 { "" } else { "s" },
        stats.bad
    )
}

pub fn attribute(
    snap: &super::source::Loaded,
    a: &FlowsAttributeArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if !matches!(
        format,
        Format::Table | Format::Json | Format::Ndjson | Format::Csv
    ) {
        bail!(
            "--format {}: flows attribute writes table, json, ndjson or csv",
            format.name()
        );
    }
    let inputs = read::inputs(&a.paths)?;
    let index = super::timed("index", || TagIndex::build(snap));
    let carried = match (&a.region, &a.profile) {
        (Some(r), Some(p)) => Some(carried_set(snap, r, p)?),
        _ => None,
    };
    let at = Attributor::new(snap, &index, carried);
    let mut stats = Stats::default();
    if a.summary {
        // Records are summed on the pool into partial sums (see `summarize`); files in
        // parallel too: a folder holds many hour-sized blobs.
        let shelf: std::sync::Mutex<Vec<Summary>> = std::sync::Mutex::new(Vec::new());
        let per_file: Vec<Result<Stats>> = inputs
            .par_iter()
            .map(|input| {
                let origin = input.origin();
                let reader = read::open(input)?;
                let mut log = BadLog::new();
                let st = tagnet::flowlog::attribute::summarize_into(
                    reader,
                    &origin,
                    &at,
                    &shelf,
                    &mut |b| log.push(b),
                );
                log.finish(&origin);
                Ok(st)
            })
            .collect();
        for st in per_file {
            stats += st?;
        }
        let mut sum = Summary::default();
        for part in shelf.into_inner().expect("no panic holds the shelf") {
            sum.merge(part);
        }
        nothing_read(&stats, &inputs)?;
        let report = sum.report(&at, a.top);
        write_summary(
            out,
            format,
            &snap.info,
            &report,
            &stats,
            inputs.len(),
            a.profile.is_some(),
        )?;
    } else {
        let with_carried = a.profile.is_some();
        let mut header = Vec::new();
        match format {
            Format::Csv => {
                header.extend_from_slice(b"time,direction,access,state,protocol,local_ip,local_port,remote_ip,remote_port,class,service,region,tag,prefix,");
                if with_carried {
                    header.extend_from_slice(b"carried,");
                }
                header.extend_from_slice(b"packets,bytes\n");
            }
            Format::Table => {
                let mut h = format!(
                    "{:<24} {:<8} {:<6} {:<5} {:<5} {:<40} {:<40} {:<8} {:<28} {:<16} {:<40} {:<20}",
                    "TIME",
                    "DIR",
                    "ACCESS",
                    "STATE",
                    "PROTO",
                    "LOCAL",
                    "REMOTE",
                    "CLASS",
                    "SERVICE",
                    "REGION",
                    "TAG",
                    "PREFIX"
                );
                if with_carried {
                    h.push_str(" CARRIED");
                }
                h.push_str(" PACKETS BYTES\n");
                header.extend_from_slice(h.as_bytes());
            }
            Format::Json => header.extend_from_slice(
                format!(
                    "{{\"snapshot\":{},\"records\":[",
                    serde_json::to_string(&snap.info)?
                )
                .as_bytes(),
            ),
            _ => {}
        }
        let mut first = true;
        let mut wrote_header = false;
        for input in &inputs {
            let st = stream(
                input,
                &|rec| {
                    let attrs = at.attribute_tuples(&rec.tuples);
                    let mut b = String::with_capacity(rec.tuples.len() * 200);
                    // JSON separators are fixed up when written: each block starts with ",\n".
                    let mut not_first = false;
                    for (t, x) in rec.tuples.iter().zip(&attrs) {
                        row(&mut b, format, &at, t, x, with_carried, &mut not_first);
                    }
                    b
                },
                &mut |b| {
                    if !wrote_header {
                        out.write_all(&header)?;
                        wrote_header = true;
                    }
                    if b.is_empty() {
                        return Ok(());
                    }
                    if format == Format::Json {
                        // Blocks are rendered apart; the first row of the output has no comma.
                        out.write_all(if first { b"\n" } else { b",\n" })?;
                        first = false;
                    }
                    out.write_all(b.as_bytes())?;
                    Ok(())
                },
            )?;
            stats += st;
        }
        nothing_read(&stats, &inputs)?;
        if format == Format::Json {
            out.write_all(if first { b"]}\n" } else { b"\n]}\n" })?;
        }
    }
    if !quiet {
        eprintln!("tagnet: {}", totals_line(&stats, inputs.len()));
    }
    Ok(Status::Success)
}

pub(super) fn endpoint(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn row(
    b: &mut String,
    format: Format,
    at: &Attributor<'_>,
    t: &Tuple,
    x: &Attribution,
    with_carried: bool,
    not_first: &mut bool,
) {
    let (lip, lport) = t.local();
    let (rip, rport) = t.remote();
    let prefix = x.prefix.map(|p| at.index().prefix(p));
    let service = at.service(x);
    let region = at.region(x);
    let tag = at.tag_name(x);
    let carried = match x.carried {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let time = rfc3339(t.time_ms);
    match format {
        Format::Csv => {
            let _ = write!(
                b,
                "{time},{},{},{},{},{lip},{lport},{rip},{rport},{},{service},{region},{tag},",
                t.direction,
                t.access,
                t.state.letter(),
                protocol_name(t.protocol),
                x.class.as_str()
            );
            if let Some(p) = prefix {
                let _ = write!(b, "{p}");
            }
            b.push(',');
            if with_carried {
                let _ = write!(b, "{carried},");
            }
            let _ = writeln!(b, "{},{}", t.packets(), t.bytes());
        }
        Format::Ndjson | Format::Json => {
            if format == Format::Json && *not_first {
                b.push_str(",\n");
            }
            *not_first = true;
            let _ = write!(
                b,
                "{{\"time\":\"{time}\",\"direction\":\"{}\",\"access\":\"{}\",\"state\":\"{}\",\"protocol\":\"{}\",\"local_ip\":\"{lip}\",\"local_port\":{lport},\"remote_ip\":\"{rip}\",\"remote_port\":{rport},\"class\":\"{}\",\"service\":{},\"region\":{},\"tag\":{},\"prefix\":",
                t.direction,
                t.access,
                t.state.letter(),
                protocol_name(t.protocol),
                x.class.as_str(),
                render::json_str(service),
                render::json_str(region),
                render::json_str(tag),
            );
            match prefix {
                Some(p) => {
                    let _ = write!(b, "\"{p}\"");
                }
                None => b.push_str("null"),
            }
            if with_carried {
                let _ = write!(b, ",\"carried\":{}", x.carried == Some(true));
            }
            let _ = write!(b, ",\"packets\":{},\"bytes\":{}}}", t.packets(), t.bytes());
            if format == Format::Ndjson {
                b.push('\n');
            }
        }
        _ => {
            let _ = write!(
                b,
                "{time:<24} {:<8} {:<6} {:<5} {:<5} {:<40} {:<40} {:<8} {:<28} {:<16} {:<40} {:<20}",
                t.direction.to_string(),
                t.access.to_string(),
                t.state.letter(),
                protocol_name(t.protocol),
                endpoint(lip, lport),
                endpoint(rip, rport),
                x.class.as_str(),
                if service.is_empty() { "-" } else { service },
                if region.is_empty() { "-" } else { region },
                if tag.is_empty() { "-" } else { tag },
                prefix.map_or("-".to_string(), |p| p.to_string()),
            );
            if with_carried {
                let _ = write!(b, " {carried:<7}");
            }
            let _ = writeln!(b, " {:>7} {:>5}", t.packets(), t.bytes());
        }
    }
}

fn share(part: u64, all: u64) -> String {
    if all == 0 {
        "0.0%".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / all as f64)
    }
}

/// The summary as one JSON document.
fn summary_json(
    out: &mut dyn Write,
    snapshot: &super::source::SnapshotInfo,
    r: &Report,
    stats: &Stats,
    files: usize,
    with_carried: bool,
) -> Result<()> {
    let all_bytes: u64 = r.classes.iter().map(|c| c.1.bytes).sum();
    let v = serde_json::json!({
        "files": files,
        "records": stats.records,
        "tuples": stats.tuples,
        "unreadable": stats.bad,
        "groups": r.groups.iter().map(|(k, t)| {
            let mut g = serde_json::json!({
                "direction": k.direction, "class": k.class, "service": k.service,
                "region": k.region, "access": k.access,
                "tuples": t.tuples, "flows": t.flows, "packets": t.packets, "bytes": t.bytes,
            });
            if with_carried {
                g["carried"] = serde_json::json!(k.carried == Some(true));
            }
            g
        }).collect::<Vec<_>>(),
        "top_talkers": r.top_talkers,
        "classes": r.classes.iter().map(|(c, t)| serde_json::json!({
            "class": c, "tuples": t.tuples, "flows": t.flows, "packets": t.packets,
            "bytes": t.bytes,
            "share_of_bytes": if all_bytes == 0 { 0.0 } else { t.bytes as f64 / all_bytes as f64 },
        })).collect::<Vec<_>>(),
        "snapshot": snapshot,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn write_summary(
    out: &mut dyn Write,
    format: Format,
    snapshot: &super::source::SnapshotInfo,
    r: &Report,
    stats: &Stats,
    files: usize,
    with_carried: bool,
) -> Result<()> {
    let carried = |c: Option<bool>| match c {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    match format {
        Format::Json => summary_json(out, snapshot, r, stats, files, with_carried)?,
        Format::Csv | Format::Ndjson => {
            if format == Format::Csv {
                out.write_all(b"direction,class,service,region,access,")?;
                if with_carried {
                    out.write_all(b"carried,")?;
                }
                out.write_all(b"tuples,flows,packets,bytes\n")?;
            }
            for (k, t) in &r.groups {
                if format == Format::Csv {
                    write!(
                        out,
                        "{},{},{},{},{},",
                        k.direction,
                        k.class.as_str(),
                        render::csv_field(&k.service),
                        k.region,
                        k.access
                    )?;
                    if with_carried {
                        write!(out, "{},", carried(k.carried))?;
                    }
                    writeln!(out, "{},{},{},{}", t.tuples, t.flows, t.packets, t.bytes)?;
                } else {
                    let mut g = serde_json::json!({
                        "direction": k.direction, "class": k.class, "service": k.service,
                        "region": k.region, "access": k.access,
                        "tuples": t.tuples, "flows": t.flows, "packets": t.packets, "bytes": t.bytes,
                    });
                    if with_carried {
                        g["carried"] = serde_json::json!(k.carried == Some(true));
                    }
                    writeln!(out, "{g}")?;
                }
            }
        }
        _ => {
            writeln!(out, "{}", totals_line(stats, files))?;
            writeln!(out)?;
            let all_bytes: u64 = r.classes.iter().map(|c| c.1.bytes).sum();
            let all_flows: u64 = r.classes.iter().map(|c| c.1.flows).sum();
            let rows: Vec<Vec<String>> = r
                .classes
                .iter()
                .map(|(c, t)| {
                    vec![
                        c.as_str().to_string(),
                        t.flows.to_string(),
                        share(t.flows, all_flows),
                        t.bytes.to_string(),
                        share(t.bytes, all_bytes),
                    ]
                })
                .collect();
            render::table(
                out,
                &["TRAFFIC TO", "FLOWS", "SHARE", "BYTES", "SHARE"],
                &rows,
            )?;
            writeln!(out)?;
            let mut heads = vec!["DIRECTION", "CLASS", "SERVICE", "REGION", "ACCESS"];
            if with_carried {
                heads.push("CARRIED");
            }
            heads.extend(["FLOWS", "TUPLES", "PACKETS", "BYTES"]);
            let rows: Vec<Vec<String>> = r
                .groups
                .iter()
                .map(|(k, t)| {
                    let mut v = vec![
                        k.direction.to_string(),
                        k.class.as_str().to_string(),
                        if k.service.is_empty() {
                            "-".into()
                        } else {
                            k.service.clone()
                        },
                        if k.region.is_empty() {
                            "-".into()
                        } else {
                            k.region.clone()
                        },
                        k.access.to_string(),
                    ];
                    if with_carried {
                        v.push(carried(k.carried).to_string());
                    }
                    v.extend([
                        t.flows.to_string(),
                        t.tuples.to_string(),
                        t.packets.to_string(),
                        t.bytes.to_string(),
                    ]);
                    v
                })
                .collect();
            render::table(out, &heads, &rows)?;
            writeln!(out)?;
            writeln!(out, "Top talkers (by bytes):")?;
            let rows: Vec<Vec<String>> = r
                .top_talkers
                .iter()
                .map(|t| {
                    vec![
                        t.remote.to_string(),
                        t.class.as_str().to_string(),
                        if t.tag.is_empty() {
                            "-".into()
                        } else {
                            t.tag.clone()
                        },
                        t.totals.flows.to_string(),
                        t.totals.bytes.to_string(),
                    ]
                })
                .collect();
            render::table(out, &["REMOTE", "CLASS", "TAG", "FLOWS", "BYTES"], &rows)?;
        }
    }
    Ok(())
}

pub fn synth(
    snap: &Snapshot,
    a: &FlowsSynthArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    let kind = match a.kind.to_ascii_lowercase().as_str() {
        "vnet" | "v4" => Kind::Vnet,
        "nsg-v2" | "nsg" | "nsg2" => Kind::Nsg2,
        "nsg-v1" | "nsg1" => Kind::Nsg1,
        k => bail!("--kind `{k}`: vnet, nsg-v2 or nsg-v1"),
    };
    if a.tuples == 0 {
        bail!("--tuples 0: give at least one");
    }
    let index = TagIndex::build(snap);
    let plan = tagnet::flowlog::synth::Plan::with_total(kind, &a.region, a.tuples as usize, a.seed);
    // Written blob by blob: one blob in memory at a time.
    let mut files = Vec::new();
    let mut write = |b: tagnet::flowlog::synth::Blob| -> tagnet::Result<()> {
        files.extend(tagnet::flowlog::synth::write(&a.dir, &[b])?);
        Ok(())
    };
    match &a.nsg {
        None => tagnet::flowlog::synth::generate_each(
            snap,
            &index,
            &plan,
            &tagnet::flowlog::synth::default_decision,
            &mut write,
        )?,
        Some(n) => {
            let (cs, _) = super::nsg_cmd::compiled_pair(snap, Some(n), None, &a.vnet, &[], quiet)?;
            let cs = cs.expect("--nsg given");
            let decide = |t: &Tuple| -> (tagnet::nsg::model::Access, String) {
                match verify::verdict(Some(&cs), None, t) {
                    Some(v) => (v.access, tagnet::flowlog::synth::logged_rule(&v.rule)),
                    None => tagnet::flowlog::synth::default_decision(t),
                }
            };
            tagnet::flowlog::synth::generate_each(snap, &index, &plan, &decide, &mut write)?
        }
    };
    files.sort();
    let tuples = plan.nics * plan.hours * plan.records * plan.tuples;
    for f in &files {
        writeln!(out, "{}", f.display())?;
    }
    if !quiet {
        eprintln!(
            "tagnet: wrote {} {kind} blobs ({tuples} tuples) under {}",
            files.len(),
            a.dir.display()
        );
    }
    Ok(Status::Success)
}
