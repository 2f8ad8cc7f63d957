//! How `lookup` writes its answers fast: the text of every tag, prefix and (for CSV) whole row
//! made once, rows assembled by fixed-size copies into per-block buffers.

use super::render::{self, Format, Sink, Texts, csv_field, json_str};
use ipnet::IpNet;
use std::io::Write;
use tagnet::{Match, Snapshot, TagIndex};

/// Pre-rendered per-tag fields, so a million rows cost a few copies each.
pub(super) struct Renderer<'a> {
    format: Format,
    snap: &'a Snapshot,
    /// Per tag: `{"tag":…,"region":…,"system_service":…,"prefix":"` (with `"provider":…,`
    /// before `"prefix"` for a tag not Microsoft's).
    json_tag: Texts,
    /// Per tag: `,name,region,service,`.
    csv_tag: Texts,
    prefix_text: PrefixTexts<'a>,
    /// For CSV of many addresses: per IPv4 match of the index ([`TagIndex::matches_v4`]),
    /// its row after the address: `,name,region,service,prefix` and a newline.
    csv_rows_v4: Option<Texts>,
    /// Table column widths: IP, TAG, REGION, SERVICE.
    widths: [usize; 4],
}

/// The printed form of every distinct prefix of an index, by prefix id: the IPv4 ones made at
/// once, the IPv6 ones when first asked for.
pub(super) struct PrefixTexts<'a> {
    index: &'a TagIndex,
    v4: Texts,
    v6: std::sync::OnceLock<Texts>,
}

impl<'a> PrefixTexts<'a> {
    pub(super) fn new(index: &'a TagIndex) -> Self {
        let all = index.prefixes();
        PrefixTexts {
            index,
            v4: Texts::build(index.distinct_prefixes().0, |i, b| {
                if let IpNet::V4(n) = all[i] {
                    render::push_ipv4_net(b, n);
                }
            }),
            v6: std::sync::OnceLock::new(),
        }
    }

    /// The texts holding prefix `id`, and its place among them.
    #[inline(always)]
    pub(super) fn texts(&self, id: u32) -> (&Texts, usize) {
        let (id, v4) = (id as usize, self.index.distinct_prefixes().0);
        if id < v4 {
            return (&self.v4, id);
        }
        let v6 = self.v6.get_or_init(|| {
            let all = &self.index.prefixes()[v4..];
            Texts::build(all.len(), |i, b| {
                let _ = write!(b, "{}", all[i]);
            })
        });
        (v6, id - v4)
    }

    pub(super) fn get(&self, id: u32) -> &[u8] {
        let (t, i) = self.texts(id);
        t.get(i)
    }

    #[inline(always)]
    pub(super) fn put(&self, sink: &mut Sink, id: u32) {
        let (t, i) = self.texts(id);
        t.put(sink, i);
    }
}

pub(super) fn pad(s: &mut Sink, cell: &[u8], width: usize) {
    s.extend(cell);
    s.fill(b' ', width.saturating_sub(cell.len()) + 2);
}

/// `text` copied into `wide` when it fits, so that [`Sink::put`] appends it with one fixed
/// copy: (what to put from, the length).
pub(super) fn widened<'a>(wide: &'a mut [u8; Texts::WIDE], text: &'a str) -> (&'a [u8], usize) {
    match wide.get_mut(..text.len()) {
        Some(head) => {
            head.copy_from_slice(text.as_bytes());
            (wide, text.len())
        }
        None => (text.as_bytes(), text.len()),
    }
}

impl Renderer<'_> {
    /// Looks up and renders the waiting plain IPv4 lines, and empties the batch.
    pub(super) fn plain_v4(&self, o: &mut BlockOut, batch: &mut PlainBatch, index: &TagIndex) {
        let (keys, texts) = (&batch.keys[..batch.n], &batch.texts[..batch.n]);
        batch.n = 0;
        if keys.is_empty() {
            return;
        }
        o.valid += keys.len();
        let Some(rows) = &self.csv_rows_v4 else {
            index.lookup_many_v4(keys, |i, ms| {
                o.any_match |= !ms.is_empty();
                self.item(&mut o.text, texts[i].0, ms);
            });
            return;
        };
        let mut runs = [(0usize, 0usize); PLAIN_BATCH];
        index.lookup_many_v4_at(keys, |i, run| runs[i] = (run.start, run.end));
        // Each address's rows are a run of prepared rows: their places are fetched eight
        // addresses ahead, their text four ahead, while this one is written.
        let runs = &runs[..keys.len()];
        for &(start, _) in runs.iter().take(8) {
            rows.prefetch_place(start);
        }
        for (i, &(start, end)) in runs.iter().enumerate() {
            if let Some(&(ahead, _)) = runs.get(i + 8) {
                rows.prefetch_place(ahead);
            }
            if let Some(&(ahead, _)) = runs.get(i + 4) {
                rows.prefetch_text(ahead);
            }
            let run = start..end;
            o.any_match |= !run.is_empty();
            let (ip, ip_len) = (texts[i].1, texts[i].0.len());
            if run.is_empty() {
                o.text.put(ip, ip_len);
                o.text.extend(b",,,,\n");
            }
            for j in run {
                o.text.put(ip, ip_len);
                rows.put(&mut o.text, j);
            }
        }
    }

    /// Appends one address's answer.
    pub(super) fn item(&self, buf: &mut Sink, ip: &str, ms: &[Match]) {
        let mut wide = [0u8; Texts::WIDE];
        let (ip, ip_len) = widened(&mut wide, ip);
        match self.format {
            Format::Csv => {
                if ms.is_empty() {
                    buf.put(ip, ip_len);
                    buf.extend(b",,,,\n");
                }
                for m in ms {
                    buf.put(ip, ip_len);
                    self.csv_tag.put(buf, m.tag as usize);
                    self.prefix_text.put(buf, m.prefix);
                    buf.push(b'\n');
                }
            }
            Format::Json | Format::Ndjson => {
                if self.format == Format::Json {
                    buf.extend(b",\n");
                }
                buf.extend(b"{\"ip\":\"");
                buf.put(ip, ip_len);
                buf.extend(b"\",\"matches\":[");
                for (i, m) in ms.iter().enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    self.json_tag.put(buf, m.tag as usize);
                    self.prefix_text.put(buf, m.prefix);
                    buf.extend(b"\"}");
                }
                buf.extend(b"]}");
                if self.format == Format::Ndjson {
                    buf.push(b'\n');
                }
            }
            Format::Table
            | Format::Markdown
            | Format::Sarif
            | Format::Az
            | Format::Arm
            | Format::Bicep
            | Format::Terraform
            | Format::Svg
            | Format::Png => {
                let w = &self.widths;
                let ip = &ip[..ip_len];
                if ms.is_empty() {
                    pad(buf, ip, w[0]);
                    pad(buf, b"-", w[1]);
                    pad(buf, b"-", w[2]);
                    pad(buf, b"-", w[3]);
                    buf.extend(b"-\n");
                }
                for m in ms {
                    let t = self.snap.tag(m.tag);
                    pad(buf, ip, w[0]);
                    pad(buf, t.name().as_bytes(), w[1]);
                    pad(buf, t.region().as_bytes(), w[2]);
                    pad(buf, t.system_service().as_bytes(), w[3]);
                    self.prefix_text.put(buf, m.prefix);
                    buf.push(b'\n');
                }
            }
        }
    }
}

/// The texts of tags, prefixes and (for CSV over many blocks) whole rows, made once.
pub(super) fn renderer<'a>(
    snap: &'a Snapshot,
    index: &'a TagIndex,
    format: Format,
    many_blocks: bool,
    widths: [usize; 4],
) -> Renderer<'a> {
    let csv_tag = Texts::new(snap.tags().iter().map(|t| {
        format!(
            ",{},{},{},",
            csv_field(t.name()),
            csv_field(t.region()),
            csv_field(t.system_service())
        )
    }));
    let prefix_text = PrefixTexts::new(index);
    // Rows prepared per match pay off over many addresses, not a few.
    let csv_rows_v4 = (format == Format::Csv && many_blocks).then(|| {
        let all = index.matches_v4();
        Texts::build(all.len(), |j, b| {
            b.extend_from_slice(csv_tag.get(all[j].tag as usize));
            b.extend_from_slice(prefix_text.get(all[j].prefix));
            b.push(b'\n');
        })
    });
    Renderer {
        format,
        snap,
        json_tag: Texts::new(snap.tags().iter().map(|t| {
            format!(
                "{{\"tag\":{},\"region\":{},\"system_service\":{},{}\"prefix\":\"",
                json_str(t.name()),
                json_str(t.region()),
                json_str(t.system_service()),
                t.provider().map_or(String::new(), |p| format!(
                    "\"provider\":{},",
                    json_str(p.name())
                ))
            )
        })),
        csv_tag,
        prefix_text,
        csv_rows_v4,
        widths,
    }
}

/// Plain IPv4 lines waiting to be looked up together.
pub(super) const PLAIN_BATCH: usize = 64;

pub(super) struct PlainBatch<'a> {
    pub(super) keys: [std::net::Ipv4Addr; PLAIN_BATCH],
    /// Each line, and the block from the line on (a fixed copy of the address reads on
    /// past it).
    pub(super) texts: [(&'a str, &'a [u8]); PLAIN_BATCH],
    pub(super) n: usize,
}

impl Default for PlainBatch<'_> {
    fn default() -> Self {
        PlainBatch {
            keys: [std::net::Ipv4Addr::UNSPECIFIED; PLAIN_BATCH],
            texts: [("", &[]); PLAIN_BATCH],
            n: 0,
        }
    }
}

/// The result of one block of lines.
#[derive(Default)]
pub(super) struct BlockOut<'a> {
    pub(super) text: Sink,
    pub(super) bad: Vec<(usize, &'a str, String)>,
    pub(super) any_match: bool,
    pub(super) valid: usize,
    pub(super) mapped: usize,
}
