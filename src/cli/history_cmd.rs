//! `history`: an address's, a prefix's or a tag's weeks ([`tagnet::ops::history`]).

use super::Status;
use super::args::HistoryArgs;
use super::render::Format;
use anyhow::{Context, Result};
use std::io::Write;

pub fn history(a: &HistoryArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    let mut weeks = Vec::new();
    if a.snapshots.is_empty() {
        // Every cached week of the cloud, and the built-in one when the cache lacks it.
        let cloud = tagnet::fetch::Cloud::parse(&a.cloud)?;
        let cache = tagnet::fetch::cache::Cache::locate()?;
        for e in cache.list()? {
            if cloud.matches(&e.cloud) {
                let spec = e.path.clone();
                weeks.push(
                    super::source::resolve(Some(&spec))
                        .with_context(|| format!("the cached snapshot {}", e.path.display()))?,
                );
            }
        }
        let builtin = super::source::resolve(Some("builtin".as_ref()))?;
        if cloud.matches(builtin.0.cloud())
            && !weeks
                .iter()
                .any(|(_, i)| i.change_number == builtin.1.change_number)
        {
            weeks.push(builtin);
        }
    } else {
        for s in &a.snapshots {
            weeks.push(super::source::resolve(Some(s))?);
        }
    }
    let report = tagnet::ops::history::history(&a.subject, weeks)?;
    if report.snapshots.len() == 1 {
        eprintln!(
            "tagnet: note: one week only ({} changeNumber {}): `tagnet fetch` caches a week each time it runs, or give --snapshot twice or more",
            report.snapshot.cloud, report.snapshot.change_number
        );
    }
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        tagnet::render::rows(out, format, Some(&report.snapshot), &report.events)?;
    }
    Ok(if report.events.iter().any(|e| e.event != "present") {
        Status::Success
    } else {
        Status::NoMatch
    })
}
