//! Rendering: records → table, CSV, JSON, NDJSON or Markdown text, for the CLI and the server
//! alike (the deployment formats live with the routes, in [`crate::routes::deploy`]). Nothing
//! here decides what to show: a report knows its columns, this writes them.

pub mod fast;
pub mod sarif;

use serde::Serialize;
use std::io::{self, Write};

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// A Markdown table (for tickets and pull requests).
    Markdown,
    /// SARIF 2.1.0 for code-scanning tools (nsg analyze).
    Sarif,
    /// A bash script of `az` commands (udr, routes audit).
    Az,
    /// An ARM template (udr).
    Arm,
    /// A Bicep file (udr).
    Bicep,
    /// Terraform azurerm (udr).
    Terraform,
    /// An SVG picture (map).
    Svg,
    /// A PNG picture (map).
    Png,
}

impl Format {
    /// The name as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Az => "az",
            Format::Arm => "arm",
            Format::Bicep => "bicep",
            Format::Terraform => "terraform",
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }

    /// True for the pictures only `map` draws.
    pub fn is_image(self) -> bool {
        matches!(self, Format::Svg | Format::Png)
    }

    /// True for the deployment formats only some commands write.
    pub fn is_deployment(self) -> bool {
        matches!(
            self,
            Format::Az | Format::Arm | Format::Bicep | Format::Terraform
        )
    }
}

/// A record as every exporter sees it: its cells (table, CSV, Markdown) and its JSON.
pub trait Record {
    /// The cells, in the headings' order.
    fn cells(&self) -> Vec<String>;
    /// The JSON value, written compactly.
    fn json(&self, out: &mut dyn Write) -> io::Result<()>;
    /// The JSON value, written as `serde_json`'s pretty printer does.
    fn json_pretty(&self, out: &mut dyn Write) -> io::Result<()>;
    /// The cells one by one, in the headings' order (without building them all as strings,
    /// where the record can).
    fn each_cell(&self, f: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        for c in self.cells() {
            f(&c)?;
        }
        Ok(())
    }
}

/// A report row as a record: its cells and JSON as the row gives them.
struct RowRecord<'a, T>(&'a T);

impl<T: crate::ops::Row> Record for RowRecord<'_, T> {
    fn cells(&self) -> Vec<String> {
        self.0.cells()
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        Ok(serde_json::to_writer(out, self.0)?)
    }
    fn json_pretty(&self, out: &mut dyn Write) -> io::Result<()> {
        Ok(serde_json::to_writer_pretty(out, self.0)?)
    }
    fn each_cell(&self, f: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        self.0.each_cell(f)
    }
}

/// A serializable value with a function giving its cells.
struct With<'a, T, F> {
    rec: &'a T,
    cells: &'a F,
}

impl<T: Serialize, F: Fn(&T) -> Vec<String>> Record for With<'_, T, F> {
    fn cells(&self) -> Vec<String> {
        (self.cells)(self.rec)
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        Ok(serde_json::to_writer(out, self.rec)?)
    }
    fn json_pretty(&self, out: &mut dyn Write) -> io::Result<()> {
        Ok(serde_json::to_writer_pretty(out, self.rec)?)
    }
}

/// One output format: a header, the records one at a time, an end. Each format is one type;
/// the CLI and the server write every list report through [`exporter`].
pub trait Exporter {
    /// Before the first record: the headings, and the snapshot JSON names.
    fn begin(
        &mut self,
        out: &mut dyn Write,
        headers: &[&str],
        snapshot: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()>;
    /// One record.
    fn record(&mut self, out: &mut dyn Write, r: &dyn Record) -> io::Result<()>;
    /// After the last record.
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()>;
    /// When every further record is written the same way whatever came before (CSV, NDJSON
    /// and Markdown always; JSON after its first record; the table once its widths are
    /// set): a copy in that state, so [`RowStream`] renders blocks of records in parallel.
    fn steady(&self) -> Option<Box<dyn Exporter + Send + Sync>> {
        None
    }
}

/// The exporter of a format (the deployment formats and SARIF are written by their commands;
/// here they fall back to the table).
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Json => Box::new(JsonExporter::default()),
        Format::Ndjson => Box::new(NdjsonExporter),
        Format::Csv => Box::new(CsvExporter),
        Format::Markdown => Box::new(MarkdownExporter),
        Format::Table
        | Format::Sarif
        | Format::Az
        | Format::Arm
        | Format::Bicep
        | Format::Terraform
        | Format::Svg
        | Format::Png => Box::new(TableExporter::default()),
    }
}

/// Rows a table reads before it fixes its column widths and starts writing; a table of up to
/// this many rows is aligned exactly as [`table`] aligns it.
pub const TABLE_BLOCK: usize = 4096;

/// Records of one report written as they come, in blocks (what bulk commands write: memory
/// stays flat in the input's size, whatever the format — see [`Exporter::steady`]). Once a
/// format is steady, each block renders in parallel pieces written in order, so the output is
/// the same bytes as writing the records one by one.
pub struct RowStream<'o, T> {
    out: &'o mut dyn Write,
    e: Box<dyn Exporter>,
    written: usize,
    _rows: std::marker::PhantomData<fn(&T)>,
}

impl<'o, T: crate::ops::Row + Sync> RowStream<'o, T> {
    /// Begins the report (headings, the snapshot JSON names).
    pub fn new(
        out: &'o mut dyn Write,
        format: Format,
        snapshot: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<Self> {
        let mut e = exporter(format);
        e.begin(out, T::HEADERS, snapshot)?;
        Ok(RowStream {
            out,
            e,
            written: 0,
            _rows: std::marker::PhantomData,
        })
    }

    /// Writes a block of records.
    pub fn block(&mut self, rows: &[T]) -> io::Result<()> {
        use rayon::prelude::*;
        let mut rest = rows;
        // One by one until the format is steady.
        let steady = loop {
            if let Some(s) = self.e.steady() {
                break s;
            }
            let Some((first, tail)) = rest.split_first() else {
                return Ok(());
            };
            self.e.record(self.out, &RowRecord(first))?;
            self.written += 1;
            rest = tail;
        };
        let pieces: Vec<io::Result<Vec<u8>>> = rest
            .par_chunks(1024)
            .map(|chunk| {
                let mut e = steady.steady().expect("a steady format stays steady");
                let mut b = Vec::with_capacity(chunk.len() * 128);
                for rec in chunk {
                    e.record(&mut b, &RowRecord(rec))?;
                }
                Ok(b)
            })
            .collect();
        for p in pieces {
            self.out.write_all(&p?)?;
        }
        self.written += rest.len();
        Ok(())
    }

    /// Ends the report; how many records it holds.
    pub fn finish(mut self) -> io::Result<usize> {
        self.e.end(self.out)?;
        Ok(self.written)
    }
}

/// Writes `records` in `format`. `headers` and `cells` give the table and CSV columns; JSON
/// and NDJSON serialise the records themselves. JSON names the `snapshot` when there is one:
/// `{"snapshot": …, "records": [...]}`.
pub fn records<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    snapshot: Option<&crate::ops::SnapshotInfo>,
    headers: &[&str],
    records: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> io::Result<()> {
    let mut e = exporter(format);
    e.begin(out, headers, snapshot)?;
    for rec in records {
        e.record(out, &With { rec, cells: &cells })?;
    }
    e.end(out)
}

/// `{"snapshot": …, "records": [...]}` (or a bare array), written as `serde_json`'s pretty
/// printer writes the whole document, one record at a time.
#[derive(Default)]
struct JsonExporter {
    wrapped: bool,
    any: bool,
}

/// Pretty JSON text indented by `pad` (JSON strings hold no raw line breaks).
fn indented(text: &[u8], pad: &str, out: &mut dyn Write) -> io::Result<()> {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
            out.write_all(pad.as_bytes())?;
        }
        out.write_all(line)?;
    }
    Ok(())
}

impl Exporter for JsonExporter {
    fn begin(
        &mut self,
        out: &mut dyn Write,
        _: &[&str],
        snapshot: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()> {
        match snapshot {
            Some(s) => {
                out.write_all(b"{\n  \"snapshot\": ")?;
                indented(&serde_json::to_vec_pretty(s)?, "  ", out)?;
                out.write_all(b",\n  \"records\": [")?;
                self.wrapped = true;
            }
            None => out.write_all(b"[")?,
        }
        Ok(())
    }
    fn record(&mut self, out: &mut dyn Write, r: &dyn Record) -> io::Result<()> {
        let pad = if self.wrapped { "    " } else { "  " };
        out.write_all(if self.any { b",\n" } else { b"\n" })?;
        out.write_all(pad.as_bytes())?;
        let mut b = Vec::new();
        r.json_pretty(&mut b)?;
        indented(&b, pad, out)?;
        self.any = true;
        Ok(())
    }
    fn steady(&self) -> Option<Box<dyn Exporter + Send + Sync>> {
        self.any.then(|| {
            Box::new(JsonExporter {
                wrapped: self.wrapped,
                any: true,
            }) as Box<dyn Exporter + Send + Sync>
        })
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.any {
            out.write_all(if self.wrapped { b"\n  ]" } else { b"\n]" })?;
        } else {
            out.write_all(b"]")?;
        }
        out.write_all(if self.wrapped { b"\n}\n" } else { b"\n" })
    }
}

/// One compact JSON object per line.
struct NdjsonExporter;

impl Exporter for NdjsonExporter {
    fn begin(
        &mut self,
        _: &mut dyn Write,
        _: &[&str],
        _: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()> {
        Ok(())
    }
    fn record(&mut self, out: &mut dyn Write, r: &dyn Record) -> io::Result<()> {
        r.json(out)?;
        out.write_all(b"\n")
    }
    fn end(&mut self, _: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
    fn steady(&self) -> Option<Box<dyn Exporter + Send + Sync>> {
        Some(Box::new(NdjsonExporter))
    }
}

/// RFC 4180 CSV: a header row in snake case, then the rows, quoted where needed.
struct CsvExporter;

impl Exporter for CsvExporter {
    fn begin(
        &mut self,
        out: &mut dyn Write,
        headers: &[&str],
        _: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()> {
        let snake: Vec<String> = headers.iter().map(|h| snake_case(h)).collect();
        csv_row(out, snake.iter().map(String::as_str))
    }
    fn record(&mut self, out: &mut dyn Write, r: &dyn Record) -> io::Result<()> {
        let mut first = true;
        r.each_cell(&mut |c| {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(csv_field(c).as_bytes())
        })?;
        out.write_all(b"\n")
    }
    fn end(&mut self, _: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
    fn steady(&self) -> Option<Box<dyn Exporter + Send + Sync>> {
        Some(Box::new(CsvExporter))
    }
}

/// A Markdown table, row by row.
struct MarkdownExporter;

fn markdown_cell(c: &str) -> String {
    c.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn markdown_line(out: &mut dyn Write, cells: impl Iterator<Item = String>) -> io::Result<()> {
    let cells: Vec<String> = cells.collect();
    writeln!(out, "| {} |", cells.join(" | "))
}

impl Exporter for MarkdownExporter {
    fn begin(
        &mut self,
        out: &mut dyn Write,
        headers: &[&str],
        _: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()> {
        markdown_line(out, headers.iter().map(|h| markdown_cell(h)))?;
        markdown_line(out, headers.iter().map(|_| "---".to_string()))
    }
    fn record(&mut self, out: &mut dyn Write, r: &dyn Record) -> io::Result<()> {
        markdown_line(out, r.cells().iter().map(|c| markdown_cell(c)))
    }
    fn end(&mut self, _: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
    fn steady(&self) -> Option<Box<dyn Exporter + Send + Sync>> {
        Some(Box::new(MarkdownExporter))
    }
}

/// Aligned columns ([`table`]): the widths of the headings and the first [`TABLE_BLOCK`] rows,
/// then every later row in those widths (a longer cell widens its own line only).
#[derive(Default)]
struct TableExporter {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl TableExporter {
    fn fix_widths(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let widths = table_widths(&self.headers, &self.rows);
        if self.headers.len() != 1 {
            table_line(out, &widths, self.headers.iter().map(String::as_str))?;
        }
        for r in std::mem::take(&mut self.rows) {
            table_line(out, &widths, r.iter().map(String::as_str))?;
        }
        self.widths = Some(widths);
        Ok(())
    }
}

impl Exporter for TableExporter {
    fn begin(
        &mut self,
        _: &mut dyn Write,
        headers: &[&str],
        _: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()> {
        self.headers = headers.iter().map(|h| h.to_string()).collect();
        Ok(())
    }
    fn record(&mut self, out: &mut dyn Write, r: &dyn Record) -> io::Result<()> {
        match &self.widths {
            Some(w) => table_line(out, w, r.cells().iter().map(String::as_str)),
            None => {
                self.rows.push(r.cells());
                if self.rows.len() >= TABLE_BLOCK {
                    self.fix_widths(out)?;
                }
                Ok(())
            }
        }
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.widths.is_none() {
            self.fix_widths(out)?;
        }
        Ok(())
    }
    fn steady(&self) -> Option<Box<dyn Exporter + Send + Sync>> {
        self.widths.as_ref().map(|w| {
            Box::new(TableExporter {
                headers: self.headers.clone(),
                rows: Vec::new(),
                widths: Some(w.clone()),
            }) as Box<dyn Exporter + Send + Sync>
        })
    }
}

/// Widest a column is padded to: a longer cell (the hundreds of rules a finding names) widens
/// its own line only, instead of every line of the table.
pub const TABLE_PAD_MAX: usize = 100;

/// Column widths: the widest heading or cell of each column, in characters, at most
/// [`TABLE_PAD_MAX`].
fn table_widths<S: AsRef<str>>(headers: &[S], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.as_ref().chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    for w in &mut widths {
        *w = (*w).min(TABLE_PAD_MAX);
    }
    widths
}

/// One line of aligned columns; the last column is not padded, trailing spaces are dropped.
fn table_line<'a>(
    out: &mut dyn Write,
    widths: &[usize],
    cells: impl Iterator<Item = &'a str>,
) -> io::Result<()> {
    if widths.len() == 1 {
        for c in cells {
            writeln!(out, "{c}")?;
        }
        return Ok(());
    }
    let mut s = String::new();
    for (i, c) in cells.enumerate() {
        s.push_str(c);
        if i + 1 < widths.len() {
            let pad = widths[i].saturating_sub(c.chars().count()) + 2;
            s.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", s.trim_end())
}

/// Writes report rows in `format`, with the columns the rows name ([`crate::ops::Row`]).
pub fn rows<T: crate::ops::Row>(
    out: &mut dyn Write,
    format: Format,
    snapshot: Option<&crate::ops::SnapshotInfo>,
    rows: &[T],
) -> io::Result<()> {
    let mut e = exporter(format);
    e.begin(out, T::HEADERS, snapshot)?;
    for r in rows {
        e.record(out, &RowRecord(r))?;
    }
    e.end(out)
}

/// RFC 4180 CSV: a header row of `headers` in snake case, then the rows, quoted where needed.
pub fn csv(
    out: &mut dyn Write,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<()> {
    let snake: Vec<String> = headers.iter().map(|h| snake_case(h)).collect();
    csv_row(out, snake.iter().map(String::as_str))?;
    for r in rows {
        csv_row(out, r.iter().map(String::as_str))?;
    }
    Ok(())
}

/// A column heading as a CSV header: `NEXT HOP IP` → `next_hop_ip`.
pub fn snake_case(heading: &str) -> String {
    heading.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// A Markdown table; `|` and line breaks in cells are escaped.
pub fn markdown(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    markdown_line(out, headers.iter().map(|h| markdown_cell(h)))?;
    markdown_line(out, headers.iter().map(|_| "---".to_string()))?;
    for r in rows {
        markdown_line(out, r.iter().map(|c| markdown_cell(c)))?;
    }
    Ok(())
}

/// Aligned columns; the last column is not padded. A single column prints without a header so
/// that lists pipe cleanly into other tools.
pub fn table(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    if headers.len() == 1 {
        for r in rows {
            writeln!(out, "{}", r[0])?;
        }
        return Ok(());
    }
    let widths = table_widths(headers, rows);
    table_line(out, &widths, headers.iter().copied())?;
    for r in rows {
        table_line(out, &widths, r.iter().map(String::as_str))?;
    }
    Ok(())
}

/// One CSV row, quoting fields that need it.
pub fn csv_row<'a>(out: &mut dyn Write, cells: impl Iterator<Item = &'a str>) -> io::Result<()> {
    let mut first = true;
    for c in cells {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(csv_field(c).as_bytes())?;
    }
    out.write_all(b"\n")
}

/// A CSV field, quoted when it holds a comma, quote, or line break.
pub fn csv_field(c: &str) -> std::borrow::Cow<'_, str> {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\"")).into()
    } else {
        c.into()
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Row as _;
    use proptest::prelude::*;

    #[derive(Debug, Serialize)]
    struct R {
        name: String,
        n: u64,
        list: Vec<String>,
        inner: Option<Box<R>>,
    }

    fn arb() -> impl Strategy<Value = Vec<R>> {
        proptest::collection::vec(
            (
                ".{0,6}",
                any::<u64>(),
                proptest::collection::vec(".{0,4}", 0..3),
                any::<bool>(),
            )
                .prop_map(|(name, n, list, deep)| R {
                    inner: deep.then(|| {
                        Box::new(R {
                            name: name.clone(),
                            n,
                            list: Vec::new(),
                            inner: None,
                        })
                    }),
                    name,
                    n,
                    list,
                }),
            0..5,
        )
    }

    proptest! {
        /// The JSON exporter, one record at a time, writes the bytes `serde_json` writes for
        /// the whole document.
        #[test]
        fn json_exporter_is_serde_pretty(recs in arb(), wrapped in any::<bool>()) {
            static INFO: std::sync::OnceLock<crate::ops::SnapshotInfo> = std::sync::OnceLock::new();
            let info = INFO.get_or_init(|| {
                crate::ops::SnapshotInfo::of(&crate::load::builtin::load().unwrap(), "builtin")
            });
            let snapshot = wrapped.then_some(info);
            let mut got = Vec::new();
            records(&mut got, Format::Json, snapshot, &["NAME"], &recs, |r| vec![r.name.clone()]).unwrap();
            let mut want = match snapshot {
                Some(snapshot) => serde_json::to_vec_pretty(&crate::ops::Records { snapshot, records: &recs, warnings: &[] }).unwrap(),
                None => serde_json::to_vec_pretty(&recs).unwrap(),
            };
            want.push(b'\n');
            prop_assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
        }
    }

    impl crate::ops::Row for R {
        const HEADERS: &'static [&'static str] = &["NAME", "N", "LIST"];
        fn cells(&self) -> Vec<String> {
            vec![self.name.clone(), self.n.to_string(), self.list.join(";")]
        }
    }

    fn many(n: usize) -> Vec<R> {
        (0..n)
            .map(|i| R {
                name: format!("row|{}", "x".repeat(i % 13)),
                n: (i as u64).wrapping_mul(0x9E37_79B9),
                list: vec![format!("a,{i}"), "q\"uote".into()],
                inner: None,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// A report written in blocks of any sizes through [`RowStream`] (parallel pieces once
        /// the format is steady) is byte for byte the report [`rows`] writes at once, in every
        /// streamed format; the table too while it fits in its first block.
        #[test]
        fn row_stream_is_rows(n in prop_oneof![0usize..4, 1000usize..6000], cuts in proptest::collection::vec(1usize..3000, 0..6)) {
            let recs = many(n);
            for format in [Format::Json, Format::Ndjson, Format::Csv, Format::Markdown, Format::Table] {
                let mut want = Vec::new();
                rows(&mut want, format, None, &recs).unwrap();
                let mut got = Vec::new();
                let mut s = RowStream::<R>::new(&mut got, format, None).unwrap();
                let mut rest = &recs[..];
                for &c in &cuts {
                    let (a, b) = rest.split_at(c.min(rest.len()));
                    s.block(a).unwrap();
                    rest = b;
                }
                s.block(rest).unwrap();
                prop_assert_eq!(s.finish().unwrap(), n);
                if format == Format::Table && n > TABLE_BLOCK {
                    // Widths from the headings and the first block; every row is there.
                    let text = String::from_utf8(got).unwrap();
                    let lines: Vec<&str> = text.lines().collect();
                    prop_assert_eq!(lines.len(), n + 1);
                    let mut first = Vec::new();
                    table(&mut first, <R as crate::ops::Row>::HEADERS, &recs[..TABLE_BLOCK].iter().map(crate::ops::Row::cells).collect::<Vec<_>>()).unwrap();
                    let first = String::from_utf8(first).unwrap();
                    prop_assert_eq!(&lines[..=TABLE_BLOCK], &first.lines().collect::<Vec<_>>()[..]);
                    let mut later = Vec::new();
                    table_line(&mut later, &table_widths(<R as crate::ops::Row>::HEADERS, &recs[..TABLE_BLOCK].iter().map(crate::ops::Row::cells).collect::<Vec<_>>()), recs[n - 1].cells().iter().map(String::as_str)).unwrap();
                    prop_assert_eq!(format!("{}\n", lines[n]), String::from_utf8(later).unwrap());
                } else {
                    prop_assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap(), "{}", format.name());
                }
            }
        }
    }
}
