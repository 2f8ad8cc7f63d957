//! One function per subcommand: validated options → library call → rendered records.

use super::Status;
use super::args::{CompletionsArgs, ExplainArgs, LookupArgs, PrefixesArgs, TagsArgs};
use super::render::{self, Format, csv_field, json_str};
use anyhow::{Context, Result};
use ipnet::IpNet;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tagnet::index::RegionIndex;
use tagnet::prefixset::PrefixSet;
use tagnet::{Match, Snapshot, TagId, TagIndex};

#[derive(Serialize)]
struct InfoRecord<'a> {
    source: String,
    cloud: &'a str,
    change_number: u64,
    format: tagnet::snapshot::SourceFormat,
    tags: usize,
    regional_tags: usize,
    cloud_wide_tags: usize,
    regions: usize,
    ipv4_prefixes: usize,
    ipv6_prefixes: usize,
    distinct_ipv4_prefixes: usize,
    distinct_ipv6_prefixes: usize,
    warnings: &'a [tagnet::snapshot::Warning],
    snapshot: Option<&'static super::source::SnapshotInfo>,
}

pub fn info(
    snap: &Snapshot,
    path: Option<&Path>,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let index = TagIndex::build(snap);
    let (d4, d6) = index.distinct_prefixes();
    let regional = snap.tags().iter().filter(|t| t.is_regional()).count();
    let rec = InfoRecord {
        source: super::source::used().map_or_else(
            || path.map(|p| p.display().to_string()).unwrap_or_default(),
            |u| u.source.clone(),
        ),
        cloud: snap.cloud(),
        change_number: snap.change_number(),
        format: snap.format(),
        tags: snap.tags().len(),
        regional_tags: regional,
        cloud_wide_tags: snap.tags().len() - regional,
        regions: snap.regions().count(),
        ipv4_prefixes: snap.tags().iter().map(|t| t.v4().len()).sum(),
        ipv6_prefixes: snap.tags().iter().map(|t| t.v6().len()).sum(),
        distinct_ipv4_prefixes: d4,
        distinct_ipv6_prefixes: d6,
        warnings: snap.warnings(),
        snapshot: super::source::used(),
    };
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &rec)?;
        writeln!(out)?;
        return Ok(Status::Success);
    }
    let headers = [
        "SOURCE",
        "CLOUD",
        "CHANGE",
        "FORMAT",
        "TAGS",
        "REGIONAL",
        "CLOUD_WIDE",
        "REGIONS",
        "IPV4",
        "IPV6",
        "DISTINCT_IPV4",
        "DISTINCT_IPV6",
        "WARNINGS",
    ];
    let cells = |r: &InfoRecord| {
        vec![
            r.source.clone(),
            r.cloud.to_string(),
            r.change_number.to_string(),
            serde_json::to_value(r.format)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            r.tags.to_string(),
            r.regional_tags.to_string(),
            r.cloud_wide_tags.to_string(),
            r.regions.to_string(),
            r.ipv4_prefixes.to_string(),
            r.ipv6_prefixes.to_string(),
            r.distinct_ipv4_prefixes.to_string(),
            r.distinct_ipv6_prefixes.to_string(),
            r.warnings.len().to_string(),
        ]
    };
    if format == Format::Table {
        // Key/value lines read better than one very wide row.
        let rows: Vec<Vec<String>> = headers
            .iter()
            .zip(cells(&rec))
            .map(|(h, v)| vec![h.to_ascii_lowercase().replace('_', " "), v])
            .collect();
        render::table(out, &["FIELD", "VALUE"], &rows)?;
    } else if format == Format::Ndjson {
        serde_json::to_writer(&mut *out, &rec)?;
        writeln!(out)?;
    } else {
        render::records(out, format, &headers, std::slice::from_ref(&rec), cells)?;
    }
    Ok(Status::Success)
}

/// `tagnet completions SHELL`: the completion script on standard output.
pub fn completions(a: &CompletionsArgs, out: &mut dyn Write) -> Result<Status> {
    use clap::CommandFactory;
    let mut cmd = super::args::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "tagnet", out);
    Ok(Status::Success)
}

/// `tagnet man`: the manual page in roff on standard output.
pub fn man(out: &mut dyn Write) -> Result<Status> {
    use clap::CommandFactory;
    clap_mangen::Man::new(super::args::Cli::command()).render(out)?;
    Ok(Status::Success)
}

/// `tagnet regions`: one row per region code, sorted by code.
pub fn regions(snap: &Snapshot, format: Format, out: &mut dyn Write) -> Result<Status> {
    #[derive(Serialize)]
    struct Row<'a> {
        region: &'a str,
        display_name: String,
        spellings: Vec<&'a str>,
        tags: usize,
        ipv4_prefixes: usize,
        ipv6_prefixes: usize,
    }
    let rows: Vec<Row> = snap
        .regions()
        .map(|code| {
            let ids = snap.region_tags(code);
            Row {
                region: code,
                display_name: snap.region_display_name(code),
                spellings: snap.region_aliases(code),
                tags: ids.len(),
                ipv4_prefixes: ids.iter().map(|&i| snap.tag(i).v4().len()).sum(),
                ipv6_prefixes: ids.iter().map(|&i| snap.tag(i).v6().len()).sum(),
            }
        })
        .collect();
    render::records(
        out,
        format,
        &[
            "REGION",
            "DISPLAY NAME",
            "SPELLINGS",
            "TAGS",
            "IPV4 PREFIXES",
            "IPV6 PREFIXES",
        ],
        &rows,
        |r| {
            vec![
                r.region.to_string(),
                r.display_name.clone(),
                r.spellings.join(" "),
                r.tags.to_string(),
                r.ipv4_prefixes.to_string(),
                r.ipv6_prefixes.to_string(),
            ]
        },
    )?;
    Ok(if rows.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

/// `tagnet explain [CODE]`: a code's documentation, or every code.
pub fn explain(a: &ExplainArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    let rules: Vec<&tagnet::findings::Rule> = match &a.code {
        None => tagnet::registry(),
        Some(code) => match tagnet::explain(code) {
            Ok(r) => vec![r],
            Err(close) => anyhow::bail!(
                "unknown finding code `{code}`; known codes: {}",
                close.join(", ")
            ),
        },
    };
    if format == Format::Table && a.code.is_some() {
        let r = rules[0];
        writeln!(
            out,
            "{} {} ({}, from `tagnet {}`)\n\n{}\n\nWhy it matters\n  {}\n\nExample\n  {}\n\nFix\n  {}",
            r.id, r.code, r.severity, r.source, r.summary, r.why, r.example, r.fix
        )?;
        if !r.reference.is_empty() {
            writeln!(out, "\nSource\n  {}", r.reference)?;
        }
        return Ok(Status::Success);
    }
    render::records(
        out,
        format,
        &["ID", "CODE", "SEVERITY", "SOURCE", "SUMMARY"],
        &rules,
        |r| {
            vec![
                r.id.to_string(),
                r.code.to_string(),
                r.severity.to_string(),
                r.source.to_string(),
                r.summary.to_string(),
            ]
        },
    )?;
    Ok(Status::Success)
}

#[derive(Serialize)]
struct TagRecord<'a> {
    name: &'a str,
    region: &'a str,
    system_service: &'a str,
    ipv4_prefixes: usize,
    ipv6_prefixes: usize,
    network_features: Option<&'a [String]>,
    change_number: Option<u64>,
}

pub fn tags(snap: &Snapshot, a: &TagsArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    let region = a
        .region
        .as_deref()
        .map(|r| snap.resolve_region(r))
        .transpose()?;
    let glob = a.name.as_deref().map(|g| g.to_ascii_lowercase());
    if let Some(f) = a.feature.as_deref() {
        let mut known: Vec<&str> = snap
            .tags()
            .iter()
            .filter_map(|t| t.network_features())
            .flatten()
            .map(String::as_str)
            .collect();
        known.sort_unstable();
        known.dedup();
        if !known.iter().any(|k| k.eq_ignore_ascii_case(f)) {
            anyhow::bail!(
                "unknown network feature `{f}`; this file's tags list: {}",
                if known.is_empty() {
                    "none (a Discovery API file has no networkFeatures)".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    let recs: Vec<TagRecord> = snap
        .tags()
        .iter()
        .filter(|t| region.is_none_or(|r| t.region() == r))
        .filter(|t| {
            a.service
                .as_deref()
                .is_none_or(|s| t.system_service().eq_ignore_ascii_case(s))
        })
        .filter(|t| a.feature.as_deref().is_none_or(|f| t.has_feature(f)))
        .filter(|t| {
            glob.as_deref()
                .is_none_or(|g| tagnet::snapshot::glob_match(g, &t.name().to_ascii_lowercase()))
        })
        .map(|t| TagRecord {
            name: t.name(),
            region: t.region(),
            system_service: t.system_service(),
            ipv4_prefixes: t.v4().len(),
            ipv6_prefixes: t.v6().len(),
            network_features: t.network_features(),
            change_number: t.change_number(),
        })
        .collect();
    render::records(
        out,
        format,
        &["NAME", "REGION", "SERVICE", "IPV4", "IPV6", "FEATURES"],
        &recs,
        |r| {
            vec![
                r.name.to_string(),
                r.region.to_string(),
                r.system_service.to_string(),
                r.ipv4_prefixes.to_string(),
                r.ipv6_prefixes.to_string(),
                r.network_features.map(|f| f.join(" ")).unwrap_or_default(),
            ]
        },
    )?;
    Ok(if recs.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

#[derive(Serialize)]
struct PrefixesRecord {
    snapshot: Option<&'static super::source::SnapshotInfo>,
    tags: Vec<String>,
    aggregated: bool,
    prefixes: Vec<String>,
}

pub fn prefixes(
    snap: &Snapshot,
    a: &PrefixesArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let mut ids: Vec<TagId> = Vec::new();
    for t in &a.tag_names {
        ids.extend(snap.resolve_tag(t, a.region.as_deref())?);
    }
    ids.sort_unstable();
    ids.dedup();
    let mut nets: Vec<IpNet> = Vec::new();
    for &id in &ids {
        let t = snap.tag(id);
        if !a.ipv6 {
            nets.extend(t.v4().iter().map(|&n| IpNet::V4(n)));
        }
        if !a.ipv4 {
            nets.extend(t.v6().iter().map(|&n| IpNet::V6(n)));
        }
    }
    let nets = if !a.minus.is_empty() || !a.intersect.is_empty() {
        // Set algebra: the result is printed as its exact minimal prefixes.
        let mut set = PrefixSet::from_prefixes(nets);
        for x in &a.intersect {
            set = set.intersection(&operand(snap, x, a.region.as_deref())?);
        }
        for x in &a.minus {
            set = set.difference(&operand(snap, x, a.region.as_deref())?);
        }
        set.to_prefixes()
    } else if a.aggregate {
        PrefixSet::from_prefixes(nets).to_prefixes()
    } else {
        nets.sort_unstable_by_key(sort_key);
        nets.dedup();
        nets
    };
    let strings: Vec<String> = nets.iter().map(ToString::to_string).collect();
    let empty = strings.is_empty();
    match format {
        Format::Json => {
            let rec = PrefixesRecord {
                snapshot: super::source::used(),
                tags: ids
                    .iter()
                    .map(|&i| snap.tag(i).name().to_string())
                    .collect(),
                aggregated: a.aggregate,
                prefixes: strings,
            };
            serde_json::to_writer_pretty(&mut *out, &rec)?;
            writeln!(out)?;
        }
        _ => {
            #[derive(Serialize)]
            struct Row<'a> {
                prefix: &'a str,
            }
            let rows: Vec<Row> = strings.iter().map(|p| Row { prefix: p }).collect();
            render::records(out, format, &["PREFIX"], &rows, |r| {
                vec![r.prefix.to_string()]
            })?;
        }
    }
    Ok(if empty {
        Status::NoMatch
    } else {
        Status::Success
    })
}

/// A `--minus`/`--intersect` operand: a prefix, or a tag (with the command's region).
fn operand(snap: &Snapshot, text: &str, region: Option<&str>) -> Result<PrefixSet> {
    if text.contains('/') || text.parse::<IpAddr>().is_ok() {
        let net: IpNet = match text.parse::<IpAddr>() {
            Ok(ip) => IpNet::from(ip),
            Err(_) => tagnet::load::parse_listed_prefix(text)
                .map_err(|reason| anyhow::anyhow!("invalid prefix `{text}`: {reason}"))?,
        };
        return Ok(PrefixSet::from_prefixes([net.trunc()]));
    }
    let ids = snap.resolve_tag(text, region)?;
    Ok(PrefixSet::from_prefixes(ids.iter().flat_map(|&i| {
        let t = snap.tag(i);
        t.prefixes()
    })))
}

/// IPv4 before IPv6, then address, then length.
pub(crate) fn sort_key(n: &IpNet) -> (u8, u128, u8) {
    let (s, _) = tagnet::prefixset::prefix_range(n);
    (u8::from(matches!(n, IpNet::V6(_))), s, n.prefix_len())
}

/// Pre-rendered per-tag fields, so a million rows cost a few copies each.
struct Renderer<'a> {
    format: Format,
    snap: &'a Snapshot,
    json_tag: Vec<String>,
    csv_tag: Vec<String>,
    prefix_text: Vec<String>,
    /// Table column widths: IP, TAG, REGION, SERVICE.
    widths: [usize; 4],
}

/// Where the addresses come from, as (1-based line number, text) blocks.
struct Source<'a> {
    origin: String,
    from_args: bool,
    blocks: Vec<(usize, &'a str)>,
}

/// An address as printed, and the tags holding it.
type Answer<'a> = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, [Match]>);

pub(crate) use tagnet::load::{parse_address, quoted};

/// What one input line was.
enum Line<'a> {
    /// An address and the tags holding it (`mapped`: an IPv4-mapped IPv6 address).
    Answer(Answer<'a>, bool),
    /// A blank or comment line.
    Skip,
    /// An invalid address, with the reason.
    Bad(&'a str, String),
}

/// Answers one line.
fn answer<'a>(raw: &'a str, index: &'a TagIndex, region: Option<&RegionIndex>) -> Line<'a> {
    let text = raw.split('#').next().unwrap_or("").trim();
    if text.is_empty() {
        return Line::Skip;
    }
    let (ip, mapped) = match parse_address(text) {
        Ok(x) => x,
        Err(reason) => return Line::Bad(text, reason),
    };
    let text: std::borrow::Cow<str> = if mapped || text.contains('%') {
        ip.to_string().into()
    } else {
        canonical(text, ip)
    };
    let matches = match region {
        Some(r) => {
            let mut m: Vec<Match> = r
                .lookup(ip)
                .into_iter()
                .map(|(tag, net)| Match {
                    tag,
                    prefix: index_prefix_id(index, net),
                })
                .collect();
            m.sort_unstable();
            m.into()
        }
        None => index.lookup(ip).into(),
    };
    Line::Answer((text, matches), mapped)
}

/// Answers and renders one wave of blocks in parallel; returns the time it took.
fn render_wave<'a>(
    outs: &mut Vec<BlockOut<'a>>,
    blocks: &[(usize, &'a str)],
    index: &'a TagIndex,
    region: Option<&RegionIndex>,
    r: &Renderer,
) -> Duration {
    let start = Instant::now();
    outs.resize_with(blocks.len().max(outs.len()), BlockOut::default);
    outs[..blocks.len()]
        .par_iter_mut()
        .zip(blocks.par_iter())
        .for_each(|(o, &(first_line, block))| {
            o.text.clear();
            o.bad.clear();
            o.any_match = false;
            o.valid = 0;
            o.mapped = 0;
            for (k, line) in block.lines().enumerate() {
                match answer(line, index, region) {
                    Line::Answer((text, ms), mapped) => {
                        o.any_match |= !ms.is_empty();
                        o.valid += 1;
                        o.mapped += usize::from(mapped);
                        r.item(&mut o.text, &text, &ms);
                    }
                    Line::Skip => {}
                    Line::Bad(bad, reason) => o.bad.push((first_line + k, bad, reason)),
                }
            }
        });
    start.elapsed()
}

/// The result of one block of lines.
#[derive(Default)]
struct BlockOut<'a> {
    text: String,
    bad: Vec<(usize, &'a str, String)>,
    any_match: bool,
    valid: usize,
    mapped: usize,
}

pub fn lookup(
    snap: &Snapshot,
    a: &LookupArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let index = super::timed("index", || TagIndex::build(snap));
    let region: Option<&RegionIndex> = match a.region.as_deref() {
        Some(r) => {
            let code = snap.resolve_region(r)?;
            Some(index.region(code).context("region index missing")?)
        }
        None => None,
    };
    let bytes;
    let joined;
    let source = if let Some(path) = &a.input {
        let origin;
        (bytes, origin) = super::timed("read input", || tagnet::load::read_input(path))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            anyhow::anyhow!(
                "{origin}:{line}: input is not UTF-8 text; expected one IP address per line"
            )
        })?;
        Source {
            origin,
            from_args: false,
            blocks: split_blocks(text, 1 << 16),
        }
    } else {
        // Arguments are checked before any output: a bad one is an error, not a skipped line.
        for (no, text) in a.addresses.iter().enumerate() {
            if let Err(reason) = parse_address(text) {
                anyhow::bail!(
                    "invalid IP address `{}` (argument {}): {reason}",
                    quoted(text),
                    no + 1
                );
            }
        }
        joined = a.addresses.join("\n");
        Source {
            origin: "<arguments>".into(),
            from_args: true,
            blocks: vec![(1, joined.as_str())],
        }
    };

    // Table columns are sized from the answers, so the table takes one extra lookup pass.
    let mut widths = [2usize, 3, 6, 7];
    if format == Format::Table {
        let per_block: Vec<[usize; 4]> = source
            .blocks
            .par_iter()
            .map(|&(_, block)| {
                let mut w = [0usize; 4];
                for line in block.lines() {
                    if let Line::Answer((text, ms), _) = answer(line, &index, region) {
                        w[0] = w[0].max(text.len());
                        for m in ms.iter() {
                            let t = snap.tag(m.tag);
                            w[1] = w[1].max(t.name().len());
                            w[2] = w[2].max(t.region().len());
                            w[3] = w[3].max(t.system_service().len());
                        }
                    }
                }
                w
            })
            .collect();
        for w in per_block {
            for i in 0..4 {
                widths[i] = widths[i].max(w[i]);
            }
        }
    }
    let r = Renderer {
        format,
        snap,
        json_tag: snap
            .tags()
            .iter()
            .map(|t| {
                format!(
                    "\"tag\":{},\"region\":{},\"system_service\":{}",
                    json_str(t.name()),
                    json_str(t.region()),
                    json_str(t.system_service())
                )
            })
            .collect(),
        csv_tag: snap
            .tags()
            .iter()
            .map(|t| {
                format!(
                    "{},{},{}",
                    csv_field(t.name()),
                    csv_field(t.region()),
                    csv_field(t.system_service())
                )
            })
            .collect(),
        prefix_text: index
            .prefixes()
            .par_iter()
            .map(ToString::to_string)
            .collect(),
        widths,
    };

    // The header is written with the first answer, so a run with no valid line (exit 2)
    // writes nothing.
    let mut header: Vec<u8> = Vec::new();
    match format {
        Format::Az | Format::Arm | Format::Bicep | Format::Terraform => {
            unreachable!("refused in cli::run")
        }
        Format::Markdown | Format::Sarif => anyhow::bail!(
            "--format {}: lookup writes table, json, ndjson or csv",
            format.typed()
        ),
        Format::Csv => header.extend_from_slice(b"ip,tag,region,system_service,prefix\n"),
        Format::Json => match super::source::used() {
            Some(s) => write!(
                header,
                "{{\"snapshot\":{},\"records\":[",
                serde_json::to_string(s)?
            )?,
            None => header.extend_from_slice(b"["),
        },
        Format::Table => {
            let mut line = String::new();
            for (h, w) in ["IP", "TAG", "REGION", "SERVICE"].iter().zip(widths) {
                pad(&mut line, h, w);
            }
            line.push_str("PREFIX\n");
            header.extend_from_slice(line.as_bytes());
        }
        Format::Ndjson => {}
    }
    let mut header = Some(header);

    // Blocks are answered and rendered in parallel, a wave at a time, and written in input
    // order while the next wave is rendered; the two waves' buffers are reused in turn.
    let wave = rayon::current_num_threads() * 4;
    let waves: Vec<&[(usize, &str)]> = source.blocks.chunks(wave).collect();
    let (mut cur, mut next): (Vec<BlockOut>, Vec<BlockOut>) = (Vec::new(), Vec::new());
    let mut any = false;
    let mut valid = 0usize;
    let mut mapped = 0usize;
    let mut wrote_item = false;
    let mut err = std::io::stderr().lock();
    let (mut answering, mut writing) = (Duration::ZERO, Duration::ZERO);
    if let Some(first) = waves.first() {
        answering += render_wave(&mut cur, first, &index, region, &r);
    }
    for (k, blocks) in waves.iter().enumerate() {
        let following = waves.get(k + 1);
        let next_ref = &mut next;
        let (index, r) = (&index, &r);
        let (rendered, wrote) = rayon::in_place_scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            if let Some(b) = following {
                s.spawn(move |_| {
                    let _ = tx.send(render_wave(next_ref, b, index, region, r));
                });
            } else {
                drop(tx);
            }
            let start = Instant::now();
            let wrote = (|| -> Result<()> {
                for o in &cur[..blocks.len()] {
                    if let Some((no, text, reason)) = o.bad.first()
                        && source.from_args
                    {
                        anyhow::bail!(
                            "invalid IP address `{}` (argument {no}): {reason}",
                            quoted(text)
                        );
                    }
                    for (no, text, reason) in &o.bad {
                        let _ = writeln!(
                            err,
                            "tagnet: {}:{no}: invalid IP address `{}`: skipped ({reason})",
                            source.origin,
                            quoted(text)
                        );
                    }
                    valid += o.valid;
                    mapped += o.mapped;
                    any |= o.any_match;
                    let mut text = o.text.as_bytes();
                    if format == Format::Json && !wrote_item && !text.is_empty() {
                        text = &text[1..]; // the first item takes no separating comma
                        wrote_item = true;
                    }
                    if !text.is_empty()
                        && let Some(h) = header.take()
                    {
                        out.write_all(&h)?;
                    }
                    out.write_all(text)?;
                }
                Ok(())
            })();
            writing += start.elapsed();
            // Waits for the next wave (the scope would anyway).
            (rx.recv().unwrap_or_default(), wrote)
        });
        wrote?;
        answering += rendered;
        std::mem::swap(&mut cur, &mut next);
    }
    super::timing("parse, look up and render (in parallel)", answering);
    super::timing("write (while the next wave renders)", writing);
    if valid == 0 {
        anyhow::bail!(
            "{}: no valid address (expected one IP address per line; blank lines and `#` comments are skipped)",
            source.origin
        );
    }
    if let Some(h) = header.take() {
        out.write_all(&h)?; // valid lines whose answers rendered empty: none today
    }
    if format == Format::Json {
        out.write_all(if wrote_item { b"\n]" } else { b"]" })?;
        out.write_all(if super::source::used().is_some() {
            b"}\n"
        } else {
            b"\n"
        })?;
    }
    if mapped > 0 {
        let _ = writeln!(
            err,
            "tagnet: note: {mapped} IPv4-mapped IPv6 address(es) (::ffff:a.b.c.d) looked up as the IPv4 address they map"
        );
    }
    Ok(if any {
        Status::Success
    } else {
        Status::NoMatch
    })
}

/// `lookup PREFIX`: every tag with a prefix that contains the query (or equals it), lies inside
/// it, or — for a tag as a whole — overlaps it; sorted by query, tag name, then prefix.
pub fn lookup_prefixes(
    snap: &Snapshot,
    a: &LookupArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let region = a
        .region
        .as_deref()
        .map(|r| snap.resolve_region(r))
        .transpose()?;
    let mut queries = Vec::new();
    for (no, text) in a.addresses.iter().enumerate() {
        let net = if text.contains('/') {
            tagnet::load::parse_listed_prefix(text).map_err(|reason| {
                anyhow::anyhow!(
                    "invalid prefix `{}` (argument {}): {reason}",
                    quoted(text),
                    no + 1
                )
            })?
        } else {
            IpNet::from(
                parse_address(text)
                    .map_err(|reason| {
                        anyhow::anyhow!(
                            "invalid IP address `{}` (argument {}): {reason}",
                            quoted(text),
                            no + 1
                        )
                    })?
                    .0,
            )
        };
        if net.trunc() != net {
            eprintln!(
                "tagnet: note: `{text}` has host bits set; looked up as {}",
                net.trunc()
            );
        }
        queries.push(net.trunc());
    }
    #[derive(Serialize)]
    struct Row<'a> {
        query: String,
        tag: &'a str,
        region: &'a str,
        system_service: &'a str,
        prefix: String,
        relation: &'static str,
    }
    let mut rows = Vec::new();
    for q in &queries {
        for (id, n, relation) in tagnet::index::relations(snap, q, region) {
            let t = snap.tag(id);
            rows.push(Row {
                query: q.to_string(),
                tag: t.name(),
                region: t.region(),
                system_service: t.system_service(),
                prefix: n.to_string(),
                relation: relation.as_str(),
            });
        }
    }
    render::records(
        out,
        format,
        &[
            "QUERY",
            "TAG",
            "REGION",
            "SYSTEM SERVICE",
            "PREFIX",
            "RELATION",
        ],
        &rows,
        |r| {
            vec![
                r.query.clone(),
                r.tag.to_string(),
                r.region.to_string(),
                r.system_service.to_string(),
                r.prefix.clone(),
                r.relation.to_string(),
            ]
        },
    )?;
    Ok(if rows.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

/// Cuts text into blocks of about `size` bytes at line ends, with each block's first line number.
pub(crate) fn split_blocks(text: &str, size: usize) -> Vec<(usize, &str)> {
    let mut blocks = Vec::new();
    let (mut rest, mut line) = (text, 1usize);
    while !rest.is_empty() {
        let cut = if rest.len() <= size {
            rest.len()
        } else {
            rest.as_bytes()[size..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |p| size + p + 1)
        };
        let (block, tail) = rest.split_at(cut);
        blocks.push((line, block));
        line += block.bytes().filter(|&b| b == b'\n').count();
        rest = tail;
    }
    blocks
}

/// The text to print for an address: as typed when already canonical (always for IPv4 after
/// a successful parse), else the canonical form.
fn canonical(text: &str, ip: IpAddr) -> std::borrow::Cow<'_, str> {
    match ip {
        IpAddr::V4(_) => text.into(),
        IpAddr::V6(_) => {
            let c = ip.to_string();
            if c == text { text.into() } else { c.into() }
        }
    }
}

fn index_prefix_id(index: &TagIndex, net: IpNet) -> u32 {
    let key = sort_key(&net);
    let all = index.prefixes();
    let i = all.partition_point(|p| sort_key(p) < key);
    debug_assert_eq!(all[i], net);
    i as u32
}

fn pad(s: &mut String, cell: &str, width: usize) {
    s.push_str(cell);
    const SPACES: &str = "                                                                ";
    let mut n = width.saturating_sub(cell.len()) + 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        s.push_str(&SPACES[..k]);
        n -= k;
    }
}

impl Renderer<'_> {
    /// Appends one address's answer.
    fn item(&self, buf: &mut String, ip: &str, ms: &[Match]) {
        match self.format {
            Format::Csv => {
                if ms.is_empty() {
                    buf.push_str(ip);
                    buf.push_str(",,,,\n");
                }
                for m in ms {
                    buf.push_str(ip);
                    buf.push(',');
                    buf.push_str(&self.csv_tag[m.tag as usize]);
                    buf.push(',');
                    buf.push_str(&self.prefix_text[m.prefix as usize]);
                    buf.push('\n');
                }
            }
            Format::Json | Format::Ndjson => {
                if self.format == Format::Json {
                    buf.push_str(",\n");
                }
                buf.push_str("{\"ip\":\"");
                buf.push_str(ip);
                buf.push_str("\",\"matches\":[");
                for (i, m) in ms.iter().enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    buf.push('{');
                    buf.push_str(&self.json_tag[m.tag as usize]);
                    buf.push_str(",\"prefix\":\"");
                    buf.push_str(&self.prefix_text[m.prefix as usize]);
                    buf.push_str("\"}");
                }
                buf.push_str("]}");
                if self.format == Format::Ndjson {
                    buf.push('\n');
                }
            }
            Format::Table
            | Format::Markdown
            | Format::Sarif
            | Format::Az
            | Format::Arm
            | Format::Bicep
            | Format::Terraform => {
                let w = &self.widths;
                if ms.is_empty() {
                    pad(buf, ip, w[0]);
                    pad(buf, "-", w[1]);
                    pad(buf, "-", w[2]);
                    pad(buf, "-", w[3]);
                    buf.push_str("-\n");
                }
                for m in ms {
                    let t = self.snap.tag(m.tag);
                    pad(buf, ip, w[0]);
                    pad(buf, t.name(), w[1]);
                    pad(buf, t.region(), w[2]);
                    pad(buf, t.system_service(), w[3]);
                    buf.push_str(&self.prefix_text[m.prefix as usize]);
                    buf.push('\n');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tagnet::snapshot::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("storage.*", "storage.westeurope"));
        assert!(!glob_match("storage.*", "storage"));
        assert!(glob_match("*east*", "azurecloud.eastus2"));
        assert!(glob_match("sql.eastus?", "sql.eastus2"));
        assert!(glob_match("*", ""));
    }
}

#[cfg(test)]
#[test]
fn blocks_cut_at_line_ends() {
    let text = "a\nbb\nccc\nd";
    let b = split_blocks(text, 3);
    assert_eq!(b, vec![(1, "a\nbb\n"), (3, "ccc\n"), (4, "d")]);
    let joined: String = b.iter().map(|x| x.1).collect();
    assert_eq!(joined, text);
}
