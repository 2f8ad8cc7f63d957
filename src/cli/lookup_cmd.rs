//! `lookup`: addresses and prefixes, from arguments or streamed from a file in blocks
//! answered on the pool and written in input order.

use super::Status;
use super::args::LookupArgs;
use super::lookup_render::*;
use super::render::{self, Format, Sink};
use anyhow::{Context, Result};
use ipnet::IpNet;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tagnet::index::RegionIndex;
use tagnet::ops::catalog::sort_key;
use tagnet::{Match, Snapshot, TagIndex};

/// Where the addresses come from, as (1-based line number, text) blocks.
pub(super) struct Source<'a> {
    origin: String,
    from_args: bool,
    blocks: Vec<(usize, &'a str)>,
}

/// An address as printed, and the tags holding it.
pub(super) type Answer<'a> = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, [Match]>);

pub(crate) use tagnet::text::{address as parse_address, quoted};

/// What one input line was.
pub(super) enum Line<'a> {
    /// An address and the tags holding it (`mapped`: an IPv4-mapped IPv6 address).
    Answer(Answer<'a>, bool),
    /// A blank or comment line.
    Skip,
    /// An invalid address, with the reason.
    Bad(&'a str, String),
}

/// Answers one line.
pub(super) fn answer<'a>(
    raw: &'a str,
    index: &'a TagIndex,
    region: Option<&RegionIndex>,
) -> Line<'a> {
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
pub(super) fn render_wave<'a>(
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
            // Most lines are a plain IPv4 address: read without the general parser and
            // looked up a batch at a time; any other line first flushes the batch.
            let mut plain = PlainBatch::default();
            let mut at = 0;
            for (k, raw) in block.split_inclusive('\n').enumerate() {
                // As `str::lines` cuts them.
                let line = match raw.strip_suffix('\n') {
                    Some(l) => l.strip_suffix('\r').unwrap_or(l),
                    None => raw,
                };
                let rest = &block.as_bytes()[at..];
                at += raw.len();
                if region.is_none()
                    && let Some(a) = tagnet::text::plain_v4(line.as_bytes())
                {
                    plain.keys[plain.n] = a.into();
                    plain.texts[plain.n] = (line, rest);
                    plain.n += 1;
                    if plain.n == PLAIN_BATCH {
                        r.plain_v4(o, &mut plain, index);
                    }
                    continue;
                }
                r.plain_v4(o, &mut plain, index);
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
            r.plain_v4(o, &mut plain, index);
        });
    start.elapsed()
}

/// `lookup ADDRESS…` and `lookup --input FILE`. The snapshot is loaded (by `load`) while the
/// input is read, and indexed while the input is checked and cut into blocks.
pub fn lookup(
    load: impl FnOnce() -> Result<super::source::Loaded> + Send,
    a: &LookupArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let (snap, input) = rayon::join(load, || {
        a.input
            .as_deref()
            .map(|path| super::timed("read input", || tagnet::load::read_input(path)))
            .transpose()
    });
    let snap = &snap?;
    let input = input?;
    let (index, text) = rayon::join(
        || super::timed("index", || TagIndex::build(snap)),
        || {
            input
                .as_ref()
                .map(|(bytes, origin)| {
                    let text = std::str::from_utf8(bytes).map_err(|e| {
                        let line = bytes[..e.valid_up_to()]
                            .iter()
                            .filter(|&&b| b == b'\n')
                            .count()
                            + 1;
                        anyhow::anyhow!(
                            "{origin}:{line}: input is not UTF-8 text; expected one IP address per line"
                        )
                    })?;
                    Ok::<_, anyhow::Error>((text, split_blocks(text, 1 << 16)))
                })
                .transpose()
        },
    );
    let region: Option<&RegionIndex> = match a.region.as_deref() {
        Some(r) => {
            let code = snap.resolve_region(r)?;
            Some(index.region(code).context("region index missing")?)
        }
        None => None,
    };
    let joined;
    let source = if let (Some((_, origin)), Some((_, blocks))) = (&input, text?) {
        Source {
            origin: origin.clone(),
            from_args: false,
            blocks,
        }
    } else {
        // Arguments are checked before any output: a bad one is an error, not a skipped line.
        for (no, text) in a.addresses.iter().enumerate() {
            if let Err(reason) = parse_address(text) {
                anyhow::bail!(
                    "{}",
                    tagnet::ops::lookup::query_error(
                        text,
                        &reason,
                        Some(&format!("argument {}", no + 1))
                    )
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

    let widths = if format == Format::Table {
        table_widths(&source.blocks, snap, &index, region)
    } else {
        [2usize, 3, 6, 7]
    };
    let r = super::timed("prepare the texts of tags, prefixes and rows", || {
        renderer(snap, &index, format, source.blocks.len() > 1, widths)
    });
    let header = header(format, &snap.info, widths)?;
    let mut header = Some(header);

    // Blocks are answered and rendered in parallel, a wave at a time, and written in input
    // order while the next wave is rendered; the two waves' buffers are reused in turn.
    let wave = rayon::current_num_threads() * 4;
    let waves: Vec<&[(usize, &str)]> = source.blocks.chunks(wave).collect();
    let (mut cur, mut next): (Vec<BlockOut>, Vec<BlockOut>) = (Vec::new(), Vec::new());
    let mut tally = Tally::default();
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
            let wrote = write_wave(
                out,
                &mut err,
                &source,
                &cur[..blocks.len()],
                format,
                &mut header,
                &mut tally,
            );
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
    let Tally {
        any,
        valid,
        mapped,
        wrote_item,
    } = tally;
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
        out.write_all(b"}\n")?;
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

/// What the waves written so far held.
#[derive(Default)]
pub(super) struct Tally {
    any: bool,
    valid: usize,
    mapped: usize,
    wrote_item: bool,
}

/// Writes one wave's blocks in input order (bad lines to standard error, an argument's an
/// error), the header before the first text, in one vectored write.
pub(super) fn write_wave(
    out: &mut dyn Write,
    err: &mut dyn Write,
    source: &Source,
    blocks: &[BlockOut],
    format: Format,
    header: &mut Option<Vec<u8>>,
    tally: &mut Tally,
) -> Result<()> {
    let mut head = None;
    let mut parts: Vec<&[u8]> = Vec::with_capacity(blocks.len() + 1);
    for o in blocks {
        if let Some((no, text, reason)) = o.bad.first()
            && source.from_args
        {
            anyhow::bail!(
                "{}",
                tagnet::ops::lookup::query_error(text, reason, Some(&format!("argument {no}")))
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
        tally.valid += o.valid;
        tally.mapped += o.mapped;
        tally.any |= o.any_match;
        let mut text = o.text.as_bytes();
        if format == Format::Json && !tally.wrote_item && !text.is_empty() {
            text = &text[1..]; // the first item takes no separating comma
            tally.wrote_item = true;
        }
        if !text.is_empty() {
            // Before the first text, which only empty ones precede.
            head = head.or_else(|| header.take());
            parts.push(text);
        }
    }
    // The wave in one vectored write: a buffered writer passes it straight through instead of
    // copying it into its buffer.
    let head: Vec<u8> = head.unwrap_or_default();
    render::write_all_slices(out, std::iter::once(&head[..]).chain(parts))?;
    Ok(())
}

/// Table columns sized from the answers (the table takes one extra lookup pass).
pub(super) fn table_widths(
    blocks: &[(usize, &str)],
    snap: &Snapshot,
    index: &TagIndex,
    region: Option<&RegionIndex>,
) -> [usize; 4] {
    let mut widths = [2usize, 3, 6, 7];
    let per_block: Vec<[usize; 4]> = blocks
        .par_iter()
        .map(|&(_, block)| {
            let mut w = [0usize; 4];
            for line in block.lines() {
                if let Line::Answer((text, ms), _) = answer(line, index, region) {
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
    widths
}

/// The output's head, written with the first answer (so a run with no valid line, exit 2,
/// writes nothing).
pub(super) fn header(
    format: Format,
    snapshot: &super::source::SnapshotInfo,
    widths: [usize; 4],
) -> Result<Vec<u8>> {
    let mut header: Vec<u8> = Vec::new();
    match format {
        Format::Az
        | Format::Arm
        | Format::Bicep
        | Format::Terraform
        | Format::Svg
        | Format::Png => {
            unreachable!("refused in cli::run")
        }
        Format::Markdown | Format::Sarif => anyhow::bail!(
            "--format {}: lookup writes table, json, ndjson or csv",
            format.name()
        ),
        Format::Csv => header.extend_from_slice(b"ip,tag,region,system_service,prefix\n"),
        Format::Json => write!(
            header,
            "{{\"snapshot\":{},\"records\":[",
            serde_json::to_string(snapshot)?
        )?,
        Format::Table => {
            let mut line = Sink::default();
            for (h, w) in ["IP", "TAG", "REGION", "SERVICE"].iter().zip(widths) {
                pad(&mut line, h.as_bytes(), w);
            }
            line.extend(b"PREFIX\n");
            header.extend_from_slice(line.as_bytes());
        }
        Format::Ndjson => {}
    }
    Ok(header)
}

/// `lookup PREFIX`: every tag with a prefix that contains the query (or equals it), lies inside
/// it, or — for a tag as a whole — overlaps it; sorted by query, tag name, then prefix.
pub fn lookup_prefixes(
    snap: &super::source::Loaded,
    a: &LookupArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let region = a
        .region
        .as_deref()
        .map(|r| snap.resolve_region(r))
        .transpose()?;
    // Each argument read once, by the reader every front end uses.
    use tagnet::ops::lookup::{Answer, Query, parse_query, query_error};
    let mut parsed: Vec<Query> = Vec::with_capacity(a.addresses.len());
    for (no, text) in a.addresses.iter().enumerate() {
        let q = parse_query(text).map_err(|reason| {
            anyhow::anyhow!(
                "{}",
                query_error(text, &reason, Some(&format!("argument {}", no + 1)))
            )
        })?;
        if let Query::Prefix(net) = q
            && tagnet::text::listed_prefix(text).is_ok_and(|n| n != net)
        {
            eprintln!("tagnet: note: `{text}` has host bits set; looked up as {net}");
        }
        parsed.push(q);
    }
    if matches!(format, Format::Json | Format::Ndjson) {
        // The records of every front end: `{"ip", "matches"}` for an address, `{"query",
        // "matches"}` for a prefix (tagnet::ops::lookup).
        let index = TagIndex::build(snap);
        let answers: Vec<Answer> = parsed
            .iter()
            .map(|&q| tagnet::ops::lookup::answer(snap, &index, q, region))
            .collect();
        let any = answers.iter().any(|x| match x {
            Answer::Address { matches, .. } => !matches.is_empty(),
            Answer::Prefix { matches, .. } => !matches.is_empty(),
        });
        tagnet::render::records(out, format, Some(&snap.info), &[], &answers, |_| Vec::new())?;
        return Ok(if any {
            Status::Success
        } else {
            Status::NoMatch
        });
    }
    let queries: Vec<IpNet> = parsed
        .iter()
        .map(|q| match *q {
            Query::Address(ip) => IpNet::from(ip),
            Query::Prefix(net) => net,
        })
        .collect();
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
        Some(&snap.info),
        &["QUERY", "TAG", "REGION", "SERVICE", "PREFIX", "RELATION"],
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
pub(super) fn canonical(text: &str, ip: IpAddr) -> std::borrow::Cow<'_, str> {
    match ip {
        IpAddr::V4(_) => text.into(),
        IpAddr::V6(_) => {
            let c = ip.to_string();
            if c == text { text.into() } else { c.into() }
        }
    }
}

pub(super) fn index_prefix_id(index: &TagIndex, net: IpNet) -> u32 {
    let key = sort_key(&net);
    let all = index.prefixes();
    let i = all.partition_point(|p| sort_key(p) < key);
    debug_assert_eq!(all[i], net);
    i as u32
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
pub(super) fn blocks_cut_at_line_ends() {
    let text = "a\nbb\nccc\nd";
    let b = split_blocks(text, 3);
    assert_eq!(b, vec![(1, "a\nbb\n"), (3, "ccc\n"), (4, "d")]);
    let joined: String = b.iter().map(|x| x.1).collect();
    assert_eq!(joined, text);
}
