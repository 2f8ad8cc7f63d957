//! `history`: an address's, a prefix's or a tag's weeks ([`tagnet::ops::history`]).

use super::Status;
use super::args::HistoryArgs;
use super::render::Format;
use anyhow::Result;
use std::io::Write;

pub fn history(a: &HistoryArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    let weeks = if let Some(name) = &a.provider {
        let Some(p) = tagnet::sources::Provider::parse(name)
            .filter(|p| *p != tagnet::sources::Provider::Custom)
        else {
            anyhow::bail!("--provider `{name}`: one of aws, google, oracle, github, cloudflare");
        };
        let cache = tagnet::fetch::cache::Cache::locate()?;
        tagnet::fetch::providers::weeks(&cache, p)?
    } else if a.snapshots.is_empty() {
        tagnet::ops::source::cached_weeks(&a.cloud, None)?
    } else {
        let mut weeks = Vec::new();
        for s in &a.snapshots {
            weeks.push(super::source::resolve(Some(s), "--snapshot")?);
        }
        weeks
    };
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
