//! `history`: when an address, a prefix or a tag's prefixes joined or left each tag, over a
//! series of snapshots (every cached week of a cloud, or the files given), oldest first.

use crate::Snapshot;
use crate::TagIndex;
use crate::error::{Error, Result};
use crate::ops::SnapshotInfo;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeSet;

/// What a history is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An address: the tags holding it.
    Address(std::net::IpAddr),
    /// A prefix: the tags with a prefix that contains, equals or lies inside it.
    Prefix(IpNet),
    /// A tag: its prefixes.
    Tag(String),
}

impl Subject {
    /// Reads what `history` is asked about: an address, a prefix, else a tag name.
    pub fn parse(t: &str) -> Subject {
        match crate::ops::lookup::parse_query(t) {
            Ok(crate::ops::lookup::Query::Address(ip)) => Subject::Address(ip),
            Ok(crate::ops::lookup::Query::Prefix(n)) => Subject::Prefix(n),
            Err(_) => Subject::Tag(t.trim().to_string()),
        }
    }
}

/// One change between two consecutive snapshots.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// The snapshot where it is first seen: its changeNumber.
    pub change_number: u64,
    /// Its date, when known.
    pub date: Option<String>,
    /// `joined` or `left` (the first snapshot's state is `present`); for an address or a
    /// prefix, `changed` when the tag still holds it by another prefix.
    pub event: &'static str,
    /// The tag.
    pub tag: String,
    /// The prefix that joined or left (an address's or prefix's: the tag's prefixes holding
    /// it, space-separated; a tag's: the prefix itself).
    pub prefix: String,
    /// For `changed`: the tag's prefixes holding it the week before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<String>,
}

impl crate::ops::Row for Event {
    const HEADERS: &'static [&'static str] =
        &["CHANGE NUMBER", "DATE", "EVENT", "TAG", "PREFIX", "WAS"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.change_number.to_string(),
            self.date.clone().unwrap_or_default(),
            self.event.to_string(),
            self.tag.clone(),
            self.prefix.clone(),
            self.was.clone().unwrap_or_default(),
        ]
    }
}

/// The history of a subject.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// What it is of, as asked.
    pub subject: String,
    /// The snapshots read, oldest first.
    pub snapshots: Vec<SnapshotInfo>,
    /// The state in the first snapshot (`present`), then every change, in snapshot order, then
    /// by tag and prefix.
    pub events: Vec<Event>,
    /// The newest snapshot, as every report names it.
    pub snapshot: SnapshotInfo,
}

/// (tag, prefix) pairs of a subject in one snapshot.
fn state(snap: &Snapshot, subject: &Subject) -> BTreeSet<(String, String)> {
    match subject {
        Subject::Address(ip) => {
            let index = TagIndex::build(snap);
            index
                .lookup(*ip)
                .iter()
                .map(|m| {
                    (
                        snap.tag(m.tag).name().to_string(),
                        index.prefix(m.prefix).to_string(),
                    )
                })
                .collect()
        }
        Subject::Prefix(net) => crate::index::relations(snap, net, None)
            .into_iter()
            .map(|(id, n, _)| (snap.tag(id).name().to_string(), n.to_string()))
            .collect(),
        Subject::Tag(name) => match snap.tag_by_name(name) {
            Ok(id) => {
                let t = snap.tag(id);
                t.prefixes()
                    .map(|p| (t.name().to_string(), p.to_string()))
                    .collect()
            }
            // A tag not in this week's file: it holds nothing that week.
            Err(_) => BTreeSet::new(),
        },
    }
}

/// The history of `subject` over `snapshots` (sorted here by cloud, changeNumber). A tag no
/// snapshot knows is an error naming the nearest names; two clouds are refused.
pub fn history(
    subject_text: &str,
    mut snapshots: Vec<(Snapshot, SnapshotInfo)>,
) -> Result<HistoryReport> {
    if snapshots.is_empty() {
        return Err(Error::Usage(
            "no snapshots to compare: `tagnet fetch` caches a week each time it runs, or give --snapshot FILE (twice or more)".into(),
        ));
    }
    let clouds: BTreeSet<String> = snapshots
        .iter()
        .map(|(_, i)| i.cloud.to_ascii_lowercase())
        .collect();
    if clouds.len() > 1 {
        return Err(Error::Usage(format!(
            "the snapshots are of {} clouds ({}): give one cloud's weeks",
            clouds.len(),
            clouds.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    snapshots.sort_by_key(|(_, i)| i.change_number);
    snapshots.dedup_by_key(|(_, i)| i.change_number);
    let subject = Subject::parse(subject_text);
    if let Subject::Tag(name) = &subject {
        // Known to one week at least; else the newest week's error, with its suggestions.
        if !snapshots.iter().any(|(s, _)| s.tag_by_name(name).is_ok()) {
            return Err(snapshots
                .last()
                .expect("not empty")
                .0
                .tag_by_name(name)
                .expect_err("unknown in every week"));
        }
    }
    // A tag's history is of its prefixes; an address's or a prefix's is of the tags holding
    // it, each with the prefixes by which it does.
    let by_tag = !matches!(subject, Subject::Tag(_));
    let group = |s: BTreeSet<(String, String)>| -> std::collections::BTreeMap<String, String> {
        let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (t, p) in s {
            m.entry(if by_tag { t } else { format!("{t}\u{0}{p}") })
                .or_default()
                .push(p);
        }
        m.into_iter().map(|(k, v)| (k, v.join(" "))).collect()
    };
    let mut events = Vec::new();
    let mut before: Option<std::collections::BTreeMap<String, String>> = None;
    for (snap, info) in &snapshots {
        let now = group(state(snap, &subject));
        let ev = |event: &'static str, key: &str, prefix: &str, was: Option<&str>| Event {
            change_number: info.change_number,
            date: info.date.clone(),
            event,
            tag: key.split('\u{0}').next().unwrap_or(key).to_string(),
            prefix: prefix.to_string(),
            was: was.map(String::from),
        };
        match &before {
            None => events.extend(now.iter().map(|(k, p)| ev("present", k, p, None))),
            Some(old) => {
                for (k, p) in &now {
                    match old.get(k) {
                        None => events.push(ev("joined", k, p, None)),
                        Some(w) if w != p => events.push(ev("changed", k, p, Some(w))),
                        Some(_) => {}
                    }
                }
                for (k, p) in old {
                    if !now.contains_key(k) {
                        events.push(ev("left", k, p, None));
                    }
                }
            }
        }
        before = Some(now);
    }
    // Within a snapshot: by tag, prefix, then event.
    events.sort_by(|a, b| {
        (a.change_number, &a.tag, &a.prefix, a.event).cmp(&(
            b.change_number,
            &b.tag,
            &b.prefix,
            b.event,
        ))
    });
    let infos: Vec<SnapshotInfo> = snapshots.iter().map(|(_, i)| i.clone()).collect();
    Ok(HistoryReport {
        subject: subject_text.trim().to_string(),
        snapshot: infos.last().cloned().expect("not empty"),
        snapshots: infos,
        events,
    })
}
