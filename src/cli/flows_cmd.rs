//! `flows attribute` and `flows synth`, and what `flows verify` shares with them: reading
//! blobs on the pool, reporting bad tuples, totals.

use super::Status;
use super::args::{FlowsAttributeArgs, FlowsSynthArgs};
use super::render::{self, Format};
use anyhow::{Result, bail};
use std::io::Write;
use tagnet::flowlog::attribute::{Attribution, Attributor};
use tagnet::flowlog::read::{self, Bad, Input, Record, Stats};
use tagnet::flowlog::{Kind, Tuple, protocol_name, verify};
use tagnet::{Snapshot, TagIndex};

/// Bad tuples reported one by one per file; the rest are counted.
const BAD_SHOWN: usize = 10;

/// Reports bad tuples on standard error: the first few of each file, then a count.
pub(super) struct BadLog {
    shown: usize,
    hidden: usize,
    first: Option<Bad>,
}

impl BadLog {
    fn new() -> Self {
        BadLog {
            shown: 0,
            hidden: 0,
            first: None,
        }
    }
    fn push(&mut self, b: Bad) {
        if self.first.is_none() {
            self.first = Some(b.clone());
        }
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
/// (a closed output) stops the read and is returned. Also gives the first unreadable tuple.
pub(super) fn stream<T: Send>(
    input: &Input,
    map: &(dyn Fn(Record) -> T + Sync),
    each: &mut dyn FnMut(T) -> Result<()>,
) -> Result<(Stats, Option<Bad>)> {
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
        None => Ok((stats, log.first)),
    }
}

/// What reading found, checked as every front end checks it: exit 2 when nothing could be
/// read, or when a tuple could not be read and `--skip-bad` was not given.
pub(super) fn check_read(
    stats: &Stats,
    inputs: &[Input],
    skip_bad: bool,
    first: Option<&Bad>,
) -> Result<()> {
    let mut tally = tagnet::ops::flows::Tally::default();
    tally.read(stats);
    let origins: Vec<String> = inputs.iter().map(Input::origin).collect();
    tagnet::ops::flows::nothing_read(&tally, &origins)?;
    tagnet::ops::flows::unreadable(&tally, skip_bad, first)?;
    Ok(())
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
    let mut stats = Stats::default();
    if a.summary {
        let params = tagnet::ops::flows::SummaryParams {
            region: a.region.clone(),
            profile: a.profile.clone(),
            top: a.top,
            skip_bad: a.skip_bad,
        };
        let sources = tagnet::ops::flows::sources_of_paths(&a.paths)?;
        let report = tagnet::ops::flows::summarize(snap, &index, &snap.info, sources, &params)?;
        for b in &report.bad {
            eprintln!("tagnet: {b}: skipped");
        }
        if report.unreadable > report.bad.len() {
            eprintln!(
                "tagnet: {} more unreadable tuples skipped",
                report.unreadable - report.bad.len()
            );
        }
        stats.records = report.records;
        stats.tuples = report.tuples;
        stats.bad = report.unreadable;
        write_summary(out, format, &report, &stats)?;
    } else {
        let carried = match (&a.region, &a.profile) {
            (Some(r), Some(p)) => Some(tagnet::ops::flows::carried(snap, r, p)?),
            _ => None,
        };
        let at = Attributor::new(snap, &index, carried);
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
        let mut first_bad = None;
        for input in &inputs {
            let st = stream(
                input,
                &|rec| {
                    let attrs = at.attribute_tuples(&rec.tuples);
                    let mut b = Vec::with_capacity(rec.tuples.len() * 200);
                    // JSON separators are fixed up when written: each block starts with ",\n".
                    let mut not_first = false;
                    let mut day = None;
                    for (t, x) in rec.tuples.iter().zip(&attrs) {
                        row(
                            &mut b,
                            format,
                            &at,
                            t,
                            x,
                            with_carried,
                            &mut not_first,
                            &mut day,
                        );
                    }
                    b
                },
                &mut |b| {
                    // Nothing is written before the first row: an input that turns out
                    // unreadable leaves no header behind its error.
                    if b.is_empty() {
                        return Ok(());
                    }
                    if !wrote_header {
                        out.write_all(&header)?;
                        wrote_header = true;
                    }
                    if format == Format::Json {
                        // Blocks are rendered apart; the first row of the output has no comma.
                        out.write_all(if first { b"\n" } else { b",\n" })?;
                        first = false;
                    }
                    out.write_all(&b)?;
                    Ok(())
                },
            )?;
            stats += st.0;
            if first_bad.is_none() {
                first_bad = st.1;
            }
        }
        if !wrote_header {
            // Blobs without a tuple (an hour without traffic): the empty table — once the
            // inputs are known to be read (an empty file is an error, with nothing written).
            check_read(&stats, &inputs, a.skip_bad, first_bad.as_ref())?;
            out.write_all(&header)?;
        }
        if format == Format::Json {
            out.write_all(if first { b"]}\n" } else { b"\n]}\n" })?;
        }
        check_read(&stats, &inputs, a.skip_bad, first_bad.as_ref())?;
    }
    if !quiet {
        eprintln!("tagnet: {}", totals_line(&stats, inputs.len()));
        for w in stats.warnings() {
            eprintln!("tagnet: warning: {w}");
        }
    }
    Ok(Status::Success)
}

pub(super) fn endpoint(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// Writes one tuple's row in `format`; numbers, addresses and times are written by hand
/// ([`tagnet::render::fast`]), the date part of the time once a day (`day`).
#[allow(clippy::too_many_arguments)]
fn row(
    b: &mut Vec<u8>,
    format: Format,
    at: &Attributor<'_>,
    t: &Tuple,
    x: &Attribution,
    with_carried: bool,
    not_first: &mut bool,
    day: &mut Option<(u64, [u8; 11])>,
) {
    use tagnet::render::fast::{push_ip, push_rfc3339, push_u64};
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
    let s = |b: &mut Vec<u8>, text: &str| b.extend_from_slice(text.as_bytes());
    match format {
        Format::Csv => {
            push_rfc3339(b, t.time_ms, day);
            for text in [
                ",",
                t.direction.name(),
                ",",
                t.access.name(),
                ",",
                t.state.letter(),
                ",",
                &protocol_name(t.protocol),
                ",",
            ] {
                s(b, text);
            }
            push_ip(b, lip);
            b.push(b',');
            push_u64(b, u64::from(lport));
            b.push(b',');
            push_ip(b, rip);
            b.push(b',');
            push_u64(b, u64::from(rport));
            for text in [
                ",",
                x.class.as_str(),
                ",",
                service,
                ",",
                region,
                ",",
                tag,
                ",",
            ] {
                s(b, text);
            }
            if let Some(p) = prefix {
                push_ip(b, p.addr());
                b.push(b'/');
                push_u64(b, u64::from(p.prefix_len()));
            }
            b.push(b',');
            if with_carried {
                s(b, carried);
                b.push(b',');
            }
            push_u64(b, t.packets());
            b.push(b',');
            push_u64(b, t.bytes());
            b.push(b'\n');
        }
        Format::Ndjson | Format::Json => {
            if format == Format::Json && *not_first {
                s(b, ",\n");
            }
            *not_first = true;
            s(b, "{\"time\":\"");
            push_rfc3339(b, t.time_ms, day);
            for text in [
                "\",\"direction\":\"",
                t.direction.name(),
                "\",\"access\":\"",
                t.access.name(),
                "\",\"state\":\"",
                t.state.letter(),
                "\",\"protocol\":\"",
                &protocol_name(t.protocol),
                "\",\"local_ip\":\"",
            ] {
                s(b, text);
            }
            push_ip(b, lip);
            s(b, "\",\"local_port\":");
            push_u64(b, u64::from(lport));
            s(b, ",\"remote_ip\":\"");
            push_ip(b, rip);
            s(b, "\",\"remote_port\":");
            push_u64(b, u64::from(rport));
            s(b, ",\"class\":\"");
            s(b, x.class.as_str());
            s(b, "\",\"service\":");
            s(b, &render::json_str(service));
            s(b, ",\"region\":");
            s(b, &render::json_str(region));
            s(b, ",\"tag\":");
            s(b, &render::json_str(tag));
            s(b, ",\"prefix\":");
            match prefix {
                Some(p) => {
                    b.push(b'"');
                    push_ip(b, p.addr());
                    b.push(b'/');
                    push_u64(b, u64::from(p.prefix_len()));
                    b.push(b'"');
                }
                None => s(b, "null"),
            }
            if with_carried {
                s(b, ",\"carried\":");
                s(
                    b,
                    if x.carried == Some(true) {
                        "true"
                    } else {
                        "false"
                    },
                );
            }
            s(b, ",\"packets\":");
            push_u64(b, t.packets());
            s(b, ",\"bytes\":");
            push_u64(b, t.bytes());
            b.push(b'}');
            if format == Format::Ndjson {
                b.push(b'\n');
            }
        }
        _ => {
            use std::io::Write as _;
            let _ = write!(
                b,
                "{:<24} {:<8} {:<6} {:<5} {:<5} {:<40} {:<40} {:<8} {:<28} {:<16} {:<40} {:<20}",
                tagnet::flowlog::rfc3339(t.time_ms),
                t.direction.name(),
                t.access.name(),
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

fn write_summary(
    out: &mut dyn Write,
    format: Format,
    r: &tagnet::ops::flows::SummaryReport,
    stats: &Stats,
) -> Result<()> {
    let carried = |c: Option<bool>| match c {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let with_carried = r.groups.iter().any(|g| g.carried.is_some());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, r)?;
            out.write_all(b"\n")?;
        }
        Format::Ndjson => {
            for g in &r.groups {
                serde_json::to_writer(&mut *out, g)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            out.write_all(b"direction,class,service,region,access,")?;
            if with_carried {
                out.write_all(b"carried,")?;
            }
            out.write_all(b"tuples,flows,packets,bytes\n")?;
            for g in &r.groups {
                let (k, t) = (&g.key, &g.totals);
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
                    write!(out, "{},", carried(g.carried))?;
                }
                writeln!(out, "{},{},{},{}", t.tuples, t.flows, t.packets, t.bytes)?;
            }
        }
        _ => {
            writeln!(out, "{}", totals_line(stats, r.files))?;
            writeln!(out)?;
            let all_bytes: u64 = r.classes.iter().map(|c| c.totals.bytes).sum();
            let all_flows: u64 = r.classes.iter().map(|c| c.totals.flows).sum();
            let rows: Vec<Vec<String>> = r
                .classes
                .iter()
                .map(|c| {
                    vec![
                        c.class.as_str().to_string(),
                        c.totals.flows.to_string(),
                        share(c.totals.flows, all_flows),
                        c.totals.bytes.to_string(),
                        share(c.totals.bytes, all_bytes),
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
            let dash = |s: &str| {
                if s.is_empty() {
                    "-".to_string()
                } else {
                    s.to_string()
                }
            };
            let rows: Vec<Vec<String>> = r
                .groups
                .iter()
                .map(|g| {
                    let (k, t) = (&g.key, &g.totals);
                    let mut v = vec![
                        k.direction.to_string(),
                        k.class.as_str().to_string(),
                        dash(&k.service),
                        dash(&k.region),
                        k.access.to_string(),
                    ];
                    if with_carried {
                        v.push(carried(g.carried).to_string());
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
                        dash(&t.tag),
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
    let mut plan =
        tagnet::flowlog::synth::Plan::with_total(kind, &a.region, a.tuples as usize, a.seed);
    // The NICs' addresses come from the VNet given (its first IPv4 prefix), not 10.0.0.0/16.
    if let Some(ipnet::IpNet::V4(n)) = a.vnet.iter().find_map(|v| {
        tagnet::text::prefix(v.trim(), tagnet::text::HostBits::Clear)
            .ok()
            .filter(|p| matches!(p, ipnet::IpNet::V4(_)))
    }) {
        plan.vnet = n.network();
    }
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
            let (cs, _) = super::nsg_cmd::compiled_pair(
                snap,
                (Some(n), None, a.parameters.as_deref()),
                &a.vnet,
                &[],
                quiet,
            )?;
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
    let tuples = plan.nics * plan.hours * plan.records * plan.tuples + plan.extra;
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
