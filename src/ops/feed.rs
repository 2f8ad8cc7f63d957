//! The change feed: one entry per cached week after the first of each source — Microsoft's
//! weeks and each other provider's cached versions — with the per-tag changes from the
//! version before, as a JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>) and an Atom
//! 1.0 feed (RFC 4287) — so a team subscribes instead of polling Microsoft's page.

use crate::Snapshot;
use crate::error::Result;
use crate::ops::SnapshotInfo;
use serde::Serialize;
use std::fmt::Write as _;

/// One cached version of a source, as the feed names it.
#[derive(Debug)]
pub struct Week {
    /// The tags.
    pub snap: Snapshot,
    /// How reports name it.
    pub info: SnapshotInfo,
    /// Its key in links, unique across sources: `cnNNN` for Microsoft's weeks, the cached
    /// file's name (`AWS_20261207_0000`) for a provider's.
    pub key: String,
    /// How a title names it: `Public changeNumber 376`, `AWS version 1733529789`.
    pub label: String,
}

impl Week {
    /// A week of Microsoft's file.
    pub fn azure(snap: Snapshot, info: SnapshotInfo) -> Week {
        Week {
            key: format!("cn{}", info.change_number),
            label: format!("{} changeNumber {}", info.cloud, info.change_number),
            snap,
            info,
        }
    }
}

/// Every cached version of every other provider (`tagnet fetch --provider NAME`), one list a
/// provider with a cached file, oldest first.
pub fn provider_weeks(cache: &crate::fetch::cache::Cache) -> Result<Vec<Vec<Week>>> {
    let mut out = Vec::new();
    for p in crate::sources::Provider::PUBLISHERS {
        let weeks: Vec<Week> = crate::fetch::providers::versions(cache, p)?
            .into_iter()
            .map(|(snap, info, e)| Week {
                key: e
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                label: format!("{} version {}", info.cloud, e.version),
                snap,
                info,
            })
            .collect();
        if !weeks.is_empty() {
            out.push(weeks);
        }
    }
    Ok(out)
}

/// One version's entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// A stable id: `tagnet:CLOUD:cnNNN`, `tagnet:PROVIDER:FILE`.
    pub id: String,
    /// `Public changeNumber 376 (2025-11-09): 3 tag(s) changed`.
    pub title: String,
    /// When it was published (RFC 3339, midnight UTC of its date; the fetch date when the
    /// file carried none).
    pub date: String,
    /// The version before, as a title names it.
    pub since: String,
    /// One line per tag changed: `Storage.WestEurope: +1 -0 prefixes`.
    pub changes: Vec<String>,
    /// Where the full change is: `/v1/changes/KEY`.
    pub url: String,
}

/// The feed: its title, where it lives, and the entries, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Feed {
    /// `tagnet: Azure service tag changes (Public)`.
    pub title: String,
    /// The feed's own address.
    pub feed_url: String,
    /// The newest version's date (RFC 3339): when the feed last changed.
    pub updated: String,
    /// Newest first (by date, then source, then version).
    pub entries: Vec<Entry>,
}

fn rfc3339(date: Option<&str>) -> String {
    match date {
        Some(d) if d.len() == 10 => format!("{d}T00:00:00Z"),
        _ => "1970-01-01T00:00:00Z".into(),
    }
}

/// The change between two versions of one source, one line per tag.
pub fn changes(old: &Week, new: &Week) -> Result<Vec<String>> {
    let d = crate::ops::diff::changes(
        (&old.snap, &old.info),
        (&new.snap, &new.info),
        &Default::default(),
        None,
    )?;
    let mut changes: Vec<String> = d
        .diff
        .tags
        .iter()
        .filter(|t| !t.added.is_empty() || !t.removed.is_empty())
        .map(|t| {
            format!(
                "{}: +{} -{} prefixes",
                t.name,
                t.added.len(),
                t.removed.len()
            )
        })
        .collect();
    changes.extend(d.diff.tags_added.iter().map(|t| format!("{t}: new tag")));
    changes.extend(
        d.diff
            .tags_removed
            .iter()
            .map(|t| format!("{t}: tag removed")),
    );
    changes.sort();
    Ok(changes)
}

/// The feed of `sources`, each one source's versions oldest first (Microsoft's weeks of one
/// cloud first). `base` is the server's address (`http://host:port`), for the links.
pub fn feed(sources: Vec<Vec<Week>>, base: &str) -> Result<Feed> {
    let mut names = Vec::new();
    let mut entries = Vec::new();
    let mut updated: Option<String> = None;
    for weeks in &sources {
        let Some(last) = weeks.last() else { continue };
        names.push(last.info.cloud.clone());
        let date = rfc3339(last.info.date.as_deref());
        if updated.as_ref().is_none_or(|u| *u < date) {
            updated = Some(date);
        }
        for pair in weeks.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            let changes = changes(old, new)?;
            entries.push(Entry {
                id: format!("tagnet:{}:{}", new.info.cloud, new.key),
                title: format!(
                    "{}{}: {} tag(s) changed",
                    new.label,
                    new.info
                        .date
                        .as_deref()
                        .map_or(String::new(), |d| format!(" ({d})")),
                    changes.len()
                ),
                date: rfc3339(new.info.date.as_deref()),
                since: old.label.clone(),
                changes,
                url: format!("{base}/v1/changes/{}", new.key),
            });
        }
    }
    // Newest first; a day's entries by source, then version.
    entries.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    let title = match &names[..] {
        [] => "tagnet: Azure service tag changes".to_string(),
        [one] => format!("tagnet: Azure service tag changes ({one})"),
        [first, rest @ ..] => format!(
            "tagnet: Azure service tag changes ({first}) and other providers' ranges ({})",
            rest.join(", ")
        ),
    };
    Ok(Feed {
        updated: updated.unwrap_or_else(|| rfc3339(None)),
        title,
        feed_url: format!("{base}/v1/changes"),
        entries,
    })
}

/// The text of an entry: what changed since the version before.
fn content(e: &Entry) -> String {
    if e.changes.is_empty() {
        format!("No prefix changed since {}.", e.since)
    } else {
        format!("Since {}:\n{}", e.since, e.changes.join("\n"))
    }
}

/// The feed as JSON Feed 1.1.
pub fn json_feed(f: &Feed) -> serde_json::Value {
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": f.title,
        "feed_url": f.feed_url,
        "items": f.entries.iter().map(|e| serde_json::json!({
            "id": e.id,
            "url": e.url,
            "title": e.title,
            "date_published": e.date,
            "content_text": content(e),
            "tags": e.changes.iter().filter_map(|c| c.split(':').next()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The feed as Atom 1.0.
pub fn atom(f: &Feed) -> String {
    let mut out = String::new();
    let updated = &f.updated;
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="utf-8"?>"#);
    let _ = writeln!(out, r#"<feed xmlns="http://www.w3.org/2005/Atom">"#);
    let _ = writeln!(out, "  <id>{}</id>", xml(&f.feed_url));
    let _ = writeln!(out, "  <title>{}</title>", xml(&f.title));
    let _ = writeln!(out, "  <updated>{updated}</updated>");
    let _ = writeln!(out, "  <author><name>tagnet</name></author>");
    let _ = writeln!(
        out,
        r#"  <link rel="self" type="application/atom+xml" href="{}.atom"/>"#,
        xml(&f.feed_url)
    );
    for e in &f.entries {
        let _ = writeln!(out, "  <entry>");
        let _ = writeln!(
            out,
            "    <id>{}</id>",
            // The entry's address: an IRI, as RFC 4287 asks, one a week.
            xml(&e.url)
        );
        let _ = writeln!(out, "    <title>{}</title>", xml(&e.title));
        let _ = writeln!(out, "    <updated>{}</updated>", e.date);
        let _ = writeln!(out, r#"    <link href="{}"/>"#, xml(&e.url));
        let _ = writeln!(
            out,
            r#"    <content type="text">{}</content>"#,
            xml(&content(e))
        );
        let _ = writeln!(out, "  </entry>");
    }
    let _ = writeln!(out, "</feed>");
    out
}
