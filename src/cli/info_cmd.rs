//! `info` and `regions`: what the snapshot holds ([`tagnet::ops::catalog`]).

use super::Status;
use super::render::{self, Format};
use anyhow::Result;
use std::io::Write;
use tagnet::TagIndex;
use tagnet::ops::Row;
use tagnet::ops::catalog::InfoReport;

pub fn info(snap: &super::source::Loaded, format: Format, out: &mut dyn Write) -> Result<Status> {
    let index = TagIndex::build(snap);
    let rec = tagnet::ops::catalog::info(snap, &index, &snap.info);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &rec)?;
            writeln!(out)?;
        }
        Format::Table => {
            // Key/value lines read better than one very wide row.
            let rows: Vec<Vec<String>> = InfoReport::HEADERS
                .iter()
                .zip(rec.cells())
                .map(|(h, v)| vec![h.to_ascii_lowercase().replace('_', " "), v])
                .collect();
            render::table(out, &["FIELD", "VALUE"], &rows)?;
        }
        Format::Ndjson => {
            serde_json::to_writer(&mut *out, &rec)?;
            writeln!(out)?;
        }
        _ => tagnet::render::rows(out, format, Some(&snap.info), std::slice::from_ref(&rec))?,
    }
    Ok(Status::Success)
}

/// `tagnet regions`: one row per region code, sorted by code.
pub fn regions(
    snap: &super::source::Loaded,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let rows = tagnet::ops::catalog::regions(snap);
    tagnet::render::rows(out, format, Some(&snap.info), &rows)?;
    Ok(if rows.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}
