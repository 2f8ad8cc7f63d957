//! Rendering: records → table, CSV, JSON or NDJSON text. Nothing here decides what to show.

use serde::Serialize;
use std::io::{self, Write};

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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

    /// The value as the user typed it after `--format` (for messages), else [`Format::name`].
    pub fn typed(self) -> String {
        let args: Vec<String> = std::env::args().collect();
        args.iter()
            .enumerate()
            .rev()
            .find_map(|(i, a)| match a.strip_prefix("--format=") {
                Some(v) => Some(v.to_string()),
                None if a == "--format" => args.get(i + 1).cloned(),
                None => None,
            })
            .filter(|v| v.eq_ignore_ascii_case(self.name()))
            .unwrap_or_else(|| self.name().to_string())
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
/// and NDJSON serialise the records themselves.
pub fn records<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    headers: &[&str],
    records: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> io::Result<()> {
    match format {
        Format::Json => {
            match crate::cli::source::used() {
                Some(snapshot) => {
                    #[derive(Serialize)]
                    struct Wrapped<'a, T> {
                        snapshot: &'a crate::cli::source::SnapshotInfo,
                        records: &'a [T],
                    }
                    serde_json::to_writer_pretty(&mut *out, &Wrapped { snapshot, records })?
                }
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
        Format::Csv => {
            let snake: Vec<String> = headers.iter().map(|h| snake_case(h)).collect();
            csv_row(out, snake.iter().map(String::as_str))?;
            for r in records {
                csv_row(out, cells(r).iter().map(String::as_str))?;
            }
            Ok(())
        }
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

/// One SARIF result: a finding, the file it is about and related places (text, name).
pub struct SarifResult<'a> {
    /// The finding.
    pub finding: &'a tagnet::findings::Finding,
    /// The input file.
    pub file: String,
    /// Related places: a message and a fully qualified name.
    pub related: Vec<(String, String)>,
}

/// SARIF 2.1.0 for code-scanning tools: the rules that may be reported and the results.
pub fn sarif(
    out: &mut dyn Write,
    rules: &[&tagnet::findings::Rule],
    results: &[SarifResult],
) -> std::io::Result<()> {
    use tagnet::findings::Severity;
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "id": r.code,
                "name": r.id,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.why},
                "help": {"text": format!("{} Example: {}", r.fix, r.example)},
                "defaultConfiguration": {"level": level(r.severity)},
            });
            if !r.reference.is_empty() {
                v["helpUri"] = serde_json::Value::String(
                    r.reference
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                );
            }
            v
        })
        .collect();
    let results: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let f = r.finding;
            let mut v = serde_json::json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}. Fix: {}", f.message.trim_end_matches('.'), f.fix)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": r.file}},
                    "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}],
                }],
            });
            if !r.related.is_empty() {
                v["relatedLocations"] = r
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, (text, name))| {
                        serde_json::json!({
                            "id": i,
                            "message": {"text": text},
                            "logicalLocations": [{"fullyQualifiedName": name}],
                        })
                    })
                    .collect();
            }
            if let Some(c) = &f.counterexample {
                v["properties"] = serde_json::json!({"counterexample": c});
            }
            v
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "tagnet",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/tagnet",
                    "rules": rules,
                }},
                "results": results,
            }],
        }),
    )?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }

    #[test]
    fn table_aligns() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["abc".into(), "1".into()],
            vec!["d".into(), "22".into()],
        ];
        table(&mut out, &["NAME", "N"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME  N\nabc   1\nd     22\n"
        );
    }
}
