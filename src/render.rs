//! Rendering: records → table, CSV, JSON, NDJSON or Markdown text, for the CLI and the server
//! alike (the deployment formats live with the routes, in [`crate::routes::deploy`]). Nothing
//! here decides what to show: a report knows its columns, this writes them.

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
        }
    }

    /// True for the deployment formats only some commands write.
    pub fn is_deployment(self) -> bool {
        matches!(
            self,
            Format::Az | Format::Arm | Format::Bicep | Format::Terraform
        )
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
    match format {
        Format::Json => {
            match snapshot {
                Some(snapshot) => serde_json::to_writer_pretty(
                    &mut *out,
                    &crate::ops::Records { snapshot, records },
                )?,
                None => serde_json::to_writer_pretty(&mut *out, records)?,
            }
            writeln!(out)
        }
        Format::Markdown => {
            let rows: Vec<Vec<String>> = records.iter().map(&cells).collect();
            markdown(out, headers, &rows)
        }
        Format::Ndjson => {
            for r in records {
                serde_json::to_writer(&mut *out, r)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Csv => csv(out, headers, records.iter().map(cells)),
        Format::Table
        | Format::Sarif
        | Format::Az
        | Format::Arm
        | Format::Bicep
        | Format::Terraform => {
            let rows: Vec<Vec<String>> = records.iter().map(&cells).collect();
            table(out, headers, &rows)
        }
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
