//! The change feed: one entry per cached week after the first, with the per-tag changes from
//! the week before, as a JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>) and an Atom
//! 1.0 feed (RFC 4287) — so a team subscribes instead of polling Microsoft's page.

use crate::Snapshot;
use crate::error::Result;
use crate::ops::SnapshotInfo;
use serde::Serialize;
use std::fmt::Write as _;

/// One week's entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// A stable id: `tagnet:CLOUD:cnNNN`.
    pub id: String,
    /// `Public changeNumber 376 (2025-11-09)`.
    pub title: String,
    /// When it was published (RFC 3339, midnight UTC of its date; the fetch date when the
    /// file carried none).
    pub date: String,
    /// The week before's change number.
    pub since: u64,
    /// One line per tag changed: `Storage.WestEurope: +1 -0 prefixes`.
    pub changes: Vec<String>,
    /// Where the full change is: the server's `/v1/diff` takes the earlier file as its body.
    pub url: String,
}

/// The feed: its title, where it lives, and the entries, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Feed {
    /// `tagnet: Azure service tag changes (Public)`.
    pub title: String,
    /// The feed's own address.
    pub feed_url: String,
    /// The newest week's date (RFC 3339): when the feed last changed.
    pub updated: String,
    /// Newest first.
    pub entries: Vec<Entry>,
}

fn rfc3339(date: Option<&str>) -> String {
    match date {
        Some(d) if d.len() == 10 => format!("{d}T00:00:00Z"),
        _ => "1970-01-01T00:00:00Z".into(),
    }
}

/// The feed of `weeks` (one cloud; sorted here by changeNumber). `base` is the server's
/// address (`http://host:port`), for the links.
pub fn feed(mut weeks: Vec<(Snapshot, SnapshotInfo)>, base: &str) -> Result<Feed> {
    weeks.sort_by_key(|(_, i)| i.change_number);
    weeks.dedup_by_key(|(_, i)| i.change_number);
    let cloud = weeks
        .last()
        .map_or("Public".to_string(), |(_, i)| i.cloud.clone());
    let mut entries = Vec::new();
    for pair in weeks.windows(2) {
        let ((old, oi), (new, ni)) = (&pair[0], &pair[1]);
        let d = crate::ops::diff::changes((old, oi), (new, ni), &Default::default(), None)?;
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
        entries.push(Entry {
            id: format!("tagnet:{}:cn{}", ni.cloud, ni.change_number),
            title: format!(
                "{} changeNumber {}{}: {} tag(s) changed",
                ni.cloud,
                ni.change_number,
                ni.date
                    .as_deref()
                    .map_or(String::new(), |d| format!(" ({d})")),
                changes.len()
            ),
            date: rfc3339(ni.date.as_deref()),
            since: oi.change_number,
            changes,
            url: format!("{base}/v1/changes/cn{}", ni.change_number),
        });
    }
    entries.reverse();
    let updated = rfc3339(weeks.last().and_then(|(_, i)| i.date.as_deref()));
    Ok(Feed {
        updated,
        title: format!("tagnet: Azure service tag changes ({cloud})"),
        feed_url: format!("{base}/v1/changes"),
        entries,
    })
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
            "content_text": if e.changes.is_empty() {
                format!("No prefix changed since changeNumber {}.", e.since)
            } else {
                format!("Since changeNumber {}:\n{}", e.since, e.changes.join("\n"))
            },
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
        let text = if e.changes.is_empty() {
            format!("No prefix changed since changeNumber {}.", e.since)
        } else {
            format!("Since changeNumber {}:\n{}", e.since, e.changes.join("\n"))
        };
        let _ = writeln!(out, r#"    <content type="text">{}</content>"#, xml(&text));
        let _ = writeln!(out, "  </entry>");
    }
    let _ = writeln!(out, "</feed>");
    out
}
