//! Which snapshot a request uses, and how it is named in every report.
//!
//! Order: a spec (`PATH|-|latest|cnNNN|CLOUD:latest|CLOUD:cnNNN|builtin`) — the CLI's `--tags`
//! or `TAGNET_TAGS`, the server's `--tags` — else the newest cached Public snapshot (`tagnet
//! fetch`), else the built-in one. Nothing here prints: the age warning is returned as data
//! ([`age_warning`]) for the front end to show.

use crate::Snapshot;
use crate::error::{Error, Result};
use crate::fetch::cache::Cache;
use crate::load::builtin;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The snapshot a report was computed on, as every JSON output records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Cloud.
    pub cloud: String,
    /// Top-level changeNumber.
    pub change_number: u64,
    /// Publication date, when known.
    pub date: Option<String>,
    /// A path, `<stdin>`, or the built-in snapshot's name.
    pub source: String,
    /// The sources beside Microsoft's whose tags are answered too (other providers' files,
    /// custom tags); absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<crate::sources::SourceInfo>,
}

impl SnapshotInfo {
    /// The info of a snapshot with no known date or source (a library caller's own).
    pub fn of(snap: &Snapshot, source: &str) -> SnapshotInfo {
        SnapshotInfo {
            cloud: snap.cloud().to_string(),
            change_number: snap.change_number(),
            date: None,
            source: source.to_string(),
            sources: Vec::new(),
        }
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Today as `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let (y, m, d) = builtin::civil_from_days((now_secs() / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The publication date in a file name such as `ServiceTags_Public_20251110.json`.
fn date_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if let Some((_, _, date)) = crate::fetch::cache::parse_name(name) {
        return Some(date);
    }
    crate::fetch::date_in_url(name)
}

/// Days after which a snapshot is called old.
pub const STALE_DAYS: i64 = 14;

/// The warning for a snapshot older than [`STALE_DAYS`] at `now` (seconds since the epoch).
pub fn age_warning(info: &SnapshotInfo, now: u64) -> Option<String> {
    let date = info.date.as_deref()?;
    let age = builtin::age_days(date, now)?;
    (age > STALE_DAYS).then(|| {
        format!(
            "the snapshot in use ({} changeNumber {}, {}) was published {date}, {age} days ago; service tags change weekly: refresh with `tagnet fetch`",
            info.cloud,
            info.change_number,
            if info.source.starts_with("built-in") {
                "built in"
            } else {
                info.source.as_str()
            }
        )
    })
}

/// When the snapshot in use came from the cache and the built-in one is a newer week of the
/// same cloud (tagnet was upgraded since the last `fetch`): a warning saying so.
pub fn older_than_builtin(info: &SnapshotInfo) -> Option<String> {
    (!info.source.starts_with("built-in")
        && info.cloud.eq_ignore_ascii_case(builtin::CLOUD)
        && info.change_number < builtin::CHANGE_NUMBER)
        .then(|| {
            format!(
                "the snapshot in use ({}, changeNumber {}) is older than the one built into tagnet (changeNumber {}, {}); run `tagnet fetch`, or give `--tags builtin`",
                info.source,
                info.change_number,
                builtin::CHANGE_NUMBER,
                builtin::DATE
            )
        })
}

/// Whether a spec names a file (or `-`) rather than the cache or the built-in snapshot.
pub fn is_path(spec: &Path) -> bool {
    let t = spec.to_string_lossy();
    !(t.eq_ignore_ascii_case("builtin")
        || t.eq_ignore_ascii_case("built-in")
        || (cache_spec(&t).is_some() && !spec.exists()))
}

fn context(e: Error, what: String) -> Error {
    Error::Usage(format!("{what}: {e}"))
}

/// Resolves and loads a snapshot without printing anything.
pub fn resolve(spec: Option<&Path>) -> Result<(Snapshot, SnapshotInfo)> {
    let spec = spec.filter(|p| !p.as_os_str().is_empty());
    let text = spec.map(|p| p.to_string_lossy().into_owned());
    match text.as_deref() {
        None => {
            // The newest Public week tagnet has: cached, or the built-in one (a week imported
            // later but older than the built-in one does not displace it).
            if let Ok(cache) = Cache::locate()
                && let Ok(Some(e)) = cache.newest("Public")
                && (!builtin::CLOUD.eq_ignore_ascii_case("Public")
                    || e.change_number >= builtin::CHANGE_NUMBER)
            {
                return from_cache(&e);
            }
            builtin_snapshot()
        }
        Some(t) if t.eq_ignore_ascii_case("builtin") || t.eq_ignore_ascii_case("built-in") => {
            builtin_snapshot()
        }
        Some(t) if cache_spec(t).is_some() && !Path::new(t).exists() => {
            let (cloud, which) = cache_spec(t).expect("checked");
            let located = Cache::locate();
            let all = match &located {
                Ok(cache) => cache.list()?,
                Err(_) => Vec::new(),
            };
            let have = || -> String {
                if all.is_empty() && which.is_some_and(|n| n < builtin::CHANGE_NUMBER) {
                    "none".to_string()
                } else if all.is_empty() {
                    format!(
                        "none (run `tagnet fetch{}`)",
                        match &cloud {
                            Some(c) if !c.matches("Public") => format!(
                                " --cloud {}",
                                cloud_word(match c {
                                    crate::fetch::Cloud::UsGov => "AzureGovernment",
                                    crate::fetch::Cloud::China => "AzureChinaCloud",
                                    crate::fetch::Cloud::Germany => "AzureGermanCloud",
                                    crate::fetch::Cloud::Public => "Public",
                                })
                            ),
                            _ => String::new(),
                        }
                    )
                } else {
                    all.iter()
                        .map(|e| format!("{}:cn{}", cloud_word(&e.cloud), e.change_number))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let of_cloud: Vec<&crate::fetch::cache::Entry> = all
                .iter()
                .filter(|e| cloud.as_ref().is_none_or(|c| c.matches(&e.cloud)))
                .collect();
            let chosen = match which {
                None => {
                    // `latest`: the Public cloud's unless a cloud is named or only one is cached.
                    let public: Vec<&&crate::fetch::cache::Entry> = of_cloud
                        .iter()
                        .filter(|e| cloud.is_some() || e.cloud.eq_ignore_ascii_case("Public"))
                        .collect();
                    let pool: Vec<&crate::fetch::cache::Entry> = if public.is_empty() {
                        of_cloud.clone()
                    } else {
                        public.into_iter().copied().collect()
                    };
                    let clouds: std::collections::BTreeSet<&str> =
                        pool.iter().map(|e| e.cloud.as_str()).collect();
                    if clouds.len() > 1 {
                        return Err(Error::Usage(format!(
                            "`{t}`: the cache holds several clouds ({}); say which, e.g. usgov:latest",
                            clouds.into_iter().collect::<Vec<_>>().join(", ")
                        )));
                    }
                    pool.into_iter().max_by_key(|e| e.change_number)
                }
                Some(n) => {
                    let hits: Vec<&crate::fetch::cache::Entry> = of_cloud
                        .iter()
                        .copied()
                        .filter(|e| e.change_number == n)
                        .collect();
                    if hits.len() > 1 {
                        return Err(Error::Usage(format!(
                            "`{t}`: several cached clouds have changeNumber {n} ({}); say which, e.g. public:cn{n}",
                            hits.iter()
                                .map(|e| e.cloud.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    hits.into_iter().next()
                }
            };
            // The built-in week counts as one of the cloud's weeks: `latest` when it is newer
            // than every cached one, `cnNNN` when it is that week.
            let builtin_cloud = match &cloud {
                Some(c) => c.matches(builtin::CLOUD),
                None => chosen.is_none_or(|e| {
                    crate::fetch::Cloud::parse(builtin::CLOUD).is_ok_and(|b| b.matches(&e.cloud))
                }),
            };
            let builtin_wins = builtin_cloud
                && match which {
                    None => chosen.is_none_or(|e| e.change_number < builtin::CHANGE_NUMBER),
                    Some(n) => chosen.is_none() && n == builtin::CHANGE_NUMBER,
                };
            match chosen {
                _ if builtin_wins => builtin_snapshot(),
                Some(e) => from_cache(e),
                None => Err(Error::Usage(format!(
                    "no snapshot matches `{t}`: the built-in one is {}:cn{} ({}), and the cache{} holds {}. {}; a file's path works wherever a week is named",
                    cloud_word(builtin::CLOUD),
                    builtin::CHANGE_NUMBER,
                    builtin::DATE,
                    located
                        .as_ref()
                        .map(|c| format!(" at {}", c.root().display()))
                        .unwrap_or_default(),
                    have(),
                    match which {
                        // `fetch` brings the current week: an earlier one comes from a copy.
                        Some(n) if n < builtin::CHANGE_NUMBER => format!(
                            "Week {n} is older than the built-in one: only an archived copy of it brings it in (`tagnet fetch --file ServiceTags_….json`); the cache keeps each week `tagnet fetch` finds from now on"
                        ),
                        _ => "A newer week comes into the cache with `tagnet fetch`, an archived one with `tagnet fetch --file FILE`".to_string(),
                    }
                ))),
            }
        }
        Some(_) => {
            let path = spec.expect("some");
            let snap = crate::load::load_path(path)?;
            let info = SnapshotInfo {
                cloud: snap.cloud().to_string(),
                change_number: snap.change_number(),
                date: date_in_name(path),
                source: if path.as_os_str() == "-" {
                    "<stdin>".into()
                } else {
                    path.display().to_string()
                },
                sources: Vec::new(),
            };
            Ok((snap, info))
        }
    }
}

/// Every cached week of `cloud` (`tagnet fetch` stores one each time it runs) and the built-in
/// snapshot when it is of that cloud and the cache lacks its week: what `history` and the
/// change feed read (from the cache at `cache`, else where the environment says). Sorted by
/// changeNumber.
pub fn cached_weeks(cloud: &str, cache: Option<&Path>) -> Result<Vec<(Snapshot, SnapshotInfo)>> {
    let cloud = crate::fetch::Cloud::parse(cloud)?;
    let mut weeks = Vec::new();
    let cache = match cache {
        Some(root) => Ok(Cache::at(root)),
        None => Cache::locate(),
    };
    if let Ok(cache) = cache {
        for e in cache.list()? {
            if cloud.matches(&e.cloud) {
                weeks.push(from_cache(&e)?);
            }
        }
    }
    let (snap, info) = builtin_snapshot()?;
    if cloud.matches(snap.cloud())
        && !weeks
            .iter()
            .any(|(_, i)| i.change_number == info.change_number)
    {
        weeks.push((snap, info));
    }
    weeks.sort_by_key(|(_, i)| i.change_number);
    Ok(weeks)
}

/// The snapshot with other sources' tags beside Microsoft's ([`Snapshot::with_sources`]), and
/// its info naming them.
pub fn with_sources(
    snap: Snapshot,
    mut info: SnapshotInfo,
    sources: Vec<crate::sources::Source>,
) -> Result<(Snapshot, SnapshotInfo)> {
    let snap = snap.with_sources(sources)?;
    info.sources = snap.sources().to_vec();
    Ok((snap, info))
}

/// `latest`, `cnNNN`, `CLOUD:latest`, `CLOUD:cnNNN` → (cloud, changeNumber or latest).
fn cache_spec(t: &str) -> Option<(Option<crate::fetch::Cloud>, Option<u64>)> {
    let (cloud, rest) = match t.split_once(':') {
        Some((c, r)) => (Some(crate::fetch::Cloud::parse(c).ok()?), r),
        None => (None, t),
    };
    if rest.eq_ignore_ascii_case("latest") {
        return Some((cloud, None));
    }
    let digits = rest
        .strip_prefix("cn")
        .or_else(|| rest.strip_prefix("CN"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((cloud, Some(digits.parse().ok()?)))
}

fn cloud_word(cloud: &str) -> &'static str {
    match crate::fetch::Cloud::parse(cloud) {
        Ok(crate::fetch::Cloud::Public) => "public",
        Ok(crate::fetch::Cloud::UsGov) => "usgov",
        Ok(crate::fetch::Cloud::China) => "china",
        Ok(crate::fetch::Cloud::Germany) => "germany",
        Err(_) => "other",
    }
}

fn from_cache(e: &crate::fetch::cache::Entry) -> Result<(Snapshot, SnapshotInfo)> {
    let snap = crate::load::load_path(&e.path).map_err(|err| {
        context(
            err,
            format!(
                "loading the cached snapshot `{}` (delete it if it is damaged, then `tagnet fetch`)",
                e.path.display()
            ),
        )
    })?;
    Ok((
        snap,
        SnapshotInfo {
            cloud: e.cloud.clone(),
            change_number: e.change_number,
            date: Some(e.date.clone()),
            source: e.path.display().to_string(),
            sources: Vec::new(),
        },
    ))
}

fn builtin_snapshot() -> Result<(Snapshot, SnapshotInfo)> {
    let snap = builtin::load().map_err(|e| context(e, "loading the built-in snapshot".into()))?;
    Ok((
        snap,
        SnapshotInfo {
            cloud: builtin::CLOUD.into(),
            change_number: builtin::CHANGE_NUMBER,
            date: Some(builtin::DATE.into()),
            source: builtin::SOURCE.into(),
            sources: Vec::new(),
        },
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_date() {
        let t = super::today();
        assert_eq!(t.len(), 10);
        let secs = super::now_secs();
        assert_eq!(
            crate::load::builtin::days_from_civil(&t),
            Some((secs / 86_400) as i64)
        );
    }
}
