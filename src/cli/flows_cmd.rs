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

/// Reads the inputs in turn as one stream: records are parsed and `map`ped on the thread pool
/// while the next batch is read (the next input's first one too), and `each` gets the results
/// on this thread in input and file order, with the input's position. The first error of
/// `each` (a closed output) stops the read and is returned. Also gives the first unreadable
/// tuple; bad tuples are reported per input.
pub(super) fn stream<T: Send>(
    inputs: &[Input],
    map: &(dyn Fn(usize, Record) -> T + Sync),
    each: &mut dyn FnMut(usize, T) -> Result<()>,
) -> Result<(Stats, Option<Bad>)> {
    let log = std::cell::RefCell::new(BadLog::new());
    let mut first = None;
    let mut failed = None;
    let mut stats = Stats::default();
    read::read_map_inputs(
        inputs,
        map,
        &mut |i, t| match each(i, t) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        },
        &mut |_, b| log.borrow_mut().push(b),
        &mut |i, st| {
            stats += st;
            let mut log = log.replace(BadLog::new());
            log.finish(&inputs[i].origin());
            if first.is_none() {
                first = log.first.take();
            }
        },
    )?;
    match failed {
        Some(e) => Err(e),
        None => Ok((stats, first)),
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
        let shelf = std::sync::Mutex::new(Vec::<Rows>::new());
        // Blocks gathered to be written together, past the output's buffer: a write that
        // large goes straight to the file, where one block a record would be copied into it.
        let mut pending: Vec<(&[u8], Vec<u8>)> = Vec::new();
        let mut pending_bytes = 0;
        let (st, first_bad) = stream(
            &inputs,
            &|_, rec| {
                let attrs = at.attribute_tuples(&rec.tuples);
                let mut b = Vec::with_capacity(rec.tuples.len() * 200);
                // Writers (and their caches) are kept between records, one a thread at most.
                let mut rows = shelf
                    .lock()
                    .expect("no panic holds the shelf")
                    .pop()
                    .unwrap_or_else(|| Rows::new(&at, format, with_carried));
                // JSON separators are fixed up when written: each block starts with ",\n".
                for (t, x) in rec.tuples.iter().zip(&attrs) {
                    rows.push(&mut b, t, x);
                }
                shelf.lock().expect("no panic holds the shelf").push(rows);
                b
            },
            &mut |_, b| {
                // Nothing is written before the first row: an input that turns out
                // unreadable leaves no header behind its error.
                if b.is_empty() {
                    return Ok(());
                }
                if !wrote_header {
                    out.write_all(&header)?;
                    wrote_header = true;
                }
                // Blocks are rendered apart; the first row of JSON output has no comma.
                let sep: &[u8] = match format {
                    Format::Json if first => b"\n",
                    Format::Json => b",\n",
                    _ => b"",
                };
                first = false;
                pending_bytes += b.len();
                pending.push((sep, b));
                if pending_bytes >= PENDING_BYTES {
                    write_pending(&mut *out, &mut pending)?;
                    pending_bytes = 0;
                }
                Ok(())
            },
        )?;
        write_pending(&mut *out, &mut pending)?;
        stats += st;
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

/// Bytes of rows written at once: the size of the output's buffer (`main`).
const PENDING_BYTES: usize = 1 << 20;

fn write_pending(out: &mut dyn Write, pending: &mut Vec<(&[u8], Vec<u8>)>) -> Result<()> {
    render::write_all_slices(out, pending.iter().flat_map(|(sep, b)| [*sep, &b[..]]))?;
    pending.clear();
    Ok(())
}

pub(super) fn endpoint(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// Writes tuples' rows in one format. Numbers, addresses and times are written by hand
/// ([`tagnet::render::fast`]), the date part of the time once a day; the fields a row shares
/// with many others are rendered once and copied: in CSV those between the time and the local
/// address (`,Outbound,Allow,E,Tcp,`), and in CSV and JSON those of the attribution (class,
/// service, region, tag, prefix, carried), of which a run meets a few thousand at most.
pub(super) struct Rows<'a> {
    at: &'a Attributor<'a>,
    format: Format,
    with_carried: bool,
    day: Option<(u64, [u8; 11])>,
    head_key: [u32; 64],
    head_text: [[u8; 40]; 64],
    head_len: [u8; 64],
    /// A hash table: the attribution, and where its text lies in `tail_text`.
    tails: Vec<Option<(Attribution, u32, u32)>>,
    tails_filled: usize,
    tail_text: Vec<u8>,
}

/// Slots of the attribution cache (a power of two); half of them are used at most.
const TAIL_SLOTS: usize = 4096;

impl<'a> Rows<'a> {
    pub(super) fn new(at: &'a Attributor<'a>, format: Format, with_carried: bool) -> Self {
        Rows {
            at,
            format,
            with_carried,
            day: None,
            head_key: [0; 64],
            head_text: [[0; 40]; 64],
            head_len: [0; 64],
            tails: vec![None; TAIL_SLOTS],
            tails_filled: 0,
            tail_text: Vec::new(),
        }
    }

    /// Appends one tuple's row; JSON rows after the first of `b` begin with `,\n`.
    pub(super) fn push(&mut self, b: &mut Vec<u8>, t: &Tuple, x: &Attribution) {
        use tagnet::render::fast::{push_ip, push_rfc3339, push_u64};
        let (lip, lport) = t.local();
        let (rip, rport) = t.remote();
        match self.format {
            Format::Csv => {
                push_rfc3339(b, t.time_ms, &mut self.day);
                self.head(b, t);
                push_ip(b, lip);
                b.push(b',');
                push_u64(b, u64::from(lport));
                b.push(b',');
                push_ip(b, rip);
                b.push(b',');
                push_u64(b, u64::from(rport));
                self.tail(b, x);
                push_u64(b, t.packets());
                b.push(b',');
                push_u64(b, t.bytes());
                b.push(b'\n');
            }
            Format::Ndjson | Format::Json => {
                if self.format == Format::Json && !b.is_empty() {
                    b.extend_from_slice(b",\n");
                }
                b.extend_from_slice(b"{\"time\":\"");
                push_rfc3339(b, t.time_ms, &mut self.day);
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
                    b.extend_from_slice(text.as_bytes());
                }
                push_ip(b, lip);
                b.extend_from_slice(b"\",\"local_port\":");
                push_u64(b, u64::from(lport));
                b.extend_from_slice(b",\"remote_ip\":\"");
                push_ip(b, rip);
                b.extend_from_slice(b"\",\"remote_port\":");
                push_u64(b, u64::from(rport));
                self.tail(b, x);
                b.extend_from_slice(b",\"packets\":");
                push_u64(b, t.packets());
                b.extend_from_slice(b",\"bytes\":");
                push_u64(b, t.bytes());
                b.push(b'}');
                if self.format == Format::Ndjson {
                    b.push(b'\n');
                }
            }
            _ => {
                use std::io::Write as _;
                let at = self.at;
                let (service, region, tag) = (at.service(x), at.region(x), at.tag_name(x));
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
                    x.prefix
                        .map_or("-".to_string(), |p| at.index().prefix(p).to_string()),
                );
                if self.with_carried {
                    let _ = write!(b, " {:<7}", carried(x));
                }
                let _ = writeln!(b, " {:>7} {:>5}", t.packets(), t.bytes());
            }
        }
    }

    /// `,Outbound,Allow,E,Tcp,` from its slot: one copy of a fixed size.
    fn head(&mut self, b: &mut Vec<u8>, t: &Tuple) {
        let key = 1
            | (t.direction as u32) << 1
            | (t.access as u32) << 2
            | (t.state as u32) << 3
            | u32::from(t.protocol) << 8;
        let slot = ((key >> 1) ^ (key >> 8)) as usize & 63;
        if self.head_key[slot] != key {
            let text = format!(
                ",{},{},{},{},",
                t.direction.name(),
                t.access.name(),
                t.state.letter(),
                protocol_name(t.protocol)
            );
            // The longest is `,Outbound,Allow,D,Icmpv6,` (25 bytes).
            if text.len() > 40 {
                b.extend_from_slice(text.as_bytes());
                return;
            }
            self.head_text[slot][..text.len()].copy_from_slice(text.as_bytes());
            self.head_len[slot] = text.len() as u8;
            self.head_key[slot] = key;
        }
        b.extend_from_slice(&self.head_text[slot]);
        b.truncate(b.len() - (40 - usize::from(self.head_len[slot])));
    }

    /// The attribution's fields (CSV: `,class,service,region,tag,prefix,[carried,]`), from the
    /// cache or rendered into it.
    fn tail(&mut self, b: &mut Vec<u8>, x: &Attribution) {
        let h = u64::from(x.prefix.map_or(0, |p| p + 1)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ u64::from(x.region.map_or(0, |r| r + 1)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            ^ u64::from(x.tag.map_or(0, |t| t + 1)).wrapping_mul(0x1656_67b1_9e37_79f9)
            ^ (x.class as u64) << 40
            ^ u64::from(x.carried.map_or(0, |c| 1 + u8::from(c))) << 48;
        let mut slot = (h >> 40) as usize & (TAIL_SLOTS - 1);
        // Open addressing, linear probing; the table is emptied when half full.
        while let Some((k, from, to)) = self.tails[slot] {
            if k == *x {
                b.extend_from_slice(&self.tail_text[from as usize..to as usize]);
                return;
            }
            slot = (slot + 1) & (TAIL_SLOTS - 1);
        }
        if self.tails_filled == TAIL_SLOTS / 2 {
            self.tail_text.clear();
            self.tails.fill(None);
            self.tails_filled = 0;
            slot = (h >> 40) as usize & (TAIL_SLOTS - 1);
        }
        let from = self.tail_text.len();
        render_tail(
            &mut self.tail_text,
            self.format,
            self.at,
            x,
            self.with_carried,
        );
        let to = self.tail_text.len();
        self.tails[slot] = Some((*x, from as u32, to as u32));
        self.tails_filled += 1;
        b.extend_from_slice(&self.tail_text[from..to]);
    }
}

fn carried(x: &Attribution) -> &'static str {
    match x.carried {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// The attribution's fields of a CSV or JSON row.
fn render_tail(
    b: &mut Vec<u8>,
    format: Format,
    at: &Attributor<'_>,
    x: &Attribution,
    with_carried: bool,
) {
    use tagnet::render::fast::{push_ip, push_u64};
    let prefix = x.prefix.map(|p| at.index().prefix(p));
    let (service, region, tag) = (at.service(x), at.region(x), at.tag_name(x));
    let s = |b: &mut Vec<u8>, text: &str| b.extend_from_slice(text.as_bytes());
    if format == Format::Csv {
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
            s(b, carried(x));
            b.push(b',');
        }
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The row writer's caches (heads of rows; attribution texts with their probing and their
    /// emptying when half full) against writing each row with a writer of its own, which has
    /// nothing cached to reuse: the same bytes, in every format.
    #[test]
    fn cached_rows_are_rows_written_afresh() {
        let snap = tagnet::load::builtin::load().unwrap();
        let index = TagIndex::build(&snap);
        let plan = tagnet::ops::flows::carried(&snap, "westeurope", "aml-vnet-2023").unwrap();
        let at = Attributor::new(&snap, &index, Some(plan));
        // Remote addresses at both ends of many prefixes (more attributions than the cache
        // keeps), private and Internet ones, in an order that comes back to earlier ones.
        let mut remotes: Vec<std::net::IpAddr> = Vec::new();
        for (k, p) in index.prefixes().iter().enumerate().step_by(3).take(20_000) {
            remotes.push(p.network());
            remotes.push(p.broadcast());
            if k % 3 == 0 {
                remotes.push("10.1.2.3".parse().unwrap());
                remotes.push("8.8.8.8".parse().unwrap());
            }
        }
        let n = remotes.len();
        remotes.extend_from_within(n / 2..);
        let tuples: Vec<Tuple> = remotes
            .iter()
            .enumerate()
            .map(|(k, &dst)| {
                let src: std::net::IpAddr = if dst.is_ipv4() {
                    "10.0.0.4".parse().unwrap()
                } else {
                    "fd00::4".parse().unwrap()
                };
                let state = ["B", "C", "E", "D"][k % 4];
                let dir = ["O", "I"][k / 4 % 2];
                let proto = [6, 17, 1, 58, 47][k % 5];
                let text = format!(
                    "{},{src},{dst},{},{},{proto},{dir},{state},NX,{},{},{},{}",
                    1_764_295_200_000u64 + k as u64 * 86_399_999,
                    k % 65_536,
                    443,
                    k,
                    k * 1_000_003,
                    k / 7,
                    k * 13
                );
                tagnet::flowlog::parse_vnet(&text, 0).unwrap()
            })
            .collect();
        let attrs = at.attribute_tuples(&tuples);
        let distinct: std::collections::HashSet<_> = attrs
            .iter()
            .map(|x| (x.class, x.tag, x.prefix, x.region, x.carried))
            .collect();
        assert!(
            distinct.len() > TAIL_SLOTS / 2 && distinct.len() < attrs.len() / 2,
            "{} attributions: the cache is emptied on the way, and hit",
            distinct.len()
        );
        for format in [Format::Csv, Format::Json, Format::Ndjson] {
            let mut cached = Vec::new();
            let mut rows = Rows::new(&at, format, true);
            for (t, x) in tuples.iter().zip(&attrs) {
                rows.push(&mut cached, t, x);
            }
            let mut fresh = Vec::new();
            for (t, x) in tuples.iter().zip(&attrs) {
                Rows::new(&at, format, true).push(&mut fresh, t, x);
            }
            assert_eq!(
                String::from_utf8(cached).unwrap(),
                String::from_utf8(fresh).unwrap(),
                "{}",
                format.name()
            );
        }
    }
}
