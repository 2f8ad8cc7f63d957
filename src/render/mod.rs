//! Rendering: records → table, CSV, JSON, NDJSON or Markdown text, for the CLI and the server
//! alike (the deployment formats live with the routes, in [`crate::routes::deploy`]). Nothing
//! here decides what to show: a report knows its columns, this writes them.

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
}

/// The exporter of a format (the deployment formats and SARIF are written by their commands;
/// here they fall back to the table).
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Json => Box::new(JsonExporter::default()),
        Format::Ndjson => Box::new(NdjsonExporter),
        Format::Csv => Box::new(CsvExporter),
        Format::Markdown => Box::new(Gathered::new(markdown)),
        Format::Table
        | Format::Sarif
        | Format::Az
        | Format::Arm
        | Format::Bicep
        | Format::Terraform
        | Format::Svg
        | Format::Png => Box::new(Gathered::new(table)),
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
        csv_row(out, r.cells().iter().map(String::as_str))
    }
    fn end(&mut self, _: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Writes headings and rows at once ([`table`], [`markdown`]).
type WriteAll = fn(&mut dyn Write, &[&str], &[Vec<String>]) -> io::Result<()>;

/// Formats that see every row before writing (aligned tables, Markdown).
struct Gathered {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    write: WriteAll,
}

impl Gathered {
    fn new(write: WriteAll) -> Gathered {
        Gathered {
            headers: Vec::new(),
            rows: Vec::new(),
            write,
        }
    }
}

impl Exporter for Gathered {
    fn begin(
        &mut self,
        _: &mut dyn Write,
        headers: &[&str],
        _: Option<&crate::ops::SnapshotInfo>,
    ) -> io::Result<()> {
        self.headers = headers.iter().map(|h| h.to_string()).collect();
        Ok(())
    }
    fn record(&mut self, _: &mut dyn Write, r: &dyn Record) -> io::Result<()> {
        self.rows.push(r.cells());
        Ok(())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let h: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        (self.write)(out, &h, &self.rows)
    }
}

/// Writes report rows in `format`, with the columns the rows name ([`crate::ops::Row`]).
pub fn rows<T: crate::ops::Row>(
    out: &mut dyn Write,
    format: Format,
    snapshot: Option<&crate::ops::SnapshotInfo>,
    rows: &[T],
) -> io::Result<()> {
    records(out, format, snapshot, T::HEADERS, rows, T::cells)
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
    let cell = |c: &str| c.replace('|', "\\|").replace(['\n', '\r'], " ");
    let line = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    writeln!(out, "{}", line(headers.iter().map(|h| cell(h)).collect()))?;
    writeln!(
        out,
        "{}",
        line(headers.iter().map(|_| "---".to_string()).collect())
    )?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(|c| cell(c)).collect()))?;
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
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            if i + 1 < widths.len() {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
            } else {
                s.push_str(c);
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, &mut headers.iter().copied())?;
    for r in rows {
        line(out, &mut r.iter().map(String::as_str))?;
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
}
