//! Which snapshot a command uses, and how it is named in output.
//!
//! Order: `--tags PATH|-|latest|cnNNN|builtin`, else `TAGNET_TAGS` (same forms; empty counts as
//! unset), else the newest cached Public snapshot (`tagnet fetch`), else the built-in one. A
//! snapshot older than 14 days gets one warning on standard error with its date and the
//! command that refreshes it.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use tagnet::Snapshot;
use tagnet::fetch::cache::Cache;
use tagnet::load::builtin;

/// The snapshot a command used, as every JSON output records it.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    /// Cloud.
    pub cloud: String,
    /// Top-level changeNumber.
    pub change_number: u64,
    /// Publication date, when known.
    pub date: Option<String>,
    /// A path, `<stdin>`, or the built-in snapshot's name.
    pub source: String,
}

static USED: std::sync::OnceLock<SnapshotInfo> = std::sync::OnceLock::new();

/// The snapshot loaded by this run, if any.
pub fn used() -> Option<&'static SnapshotInfo> {
    USED.get()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Today as `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let (y, m, d) = tagnet::load::builtin::civil_from_days((now_secs() / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The publication date in a file name such as `ServiceTags_Public_20251110.json`.
fn date_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if let Some((_, _, date)) = tagnet::fetch::cache::parse_name(name) {
        return Some(date);
    }
    tagnet::fetch::date_in_url(name)
}

/// Loads the snapshot `spec` names (see the module docs), prints its load warnings and age
/// warning unless `quiet`, and records it for JSON output.
pub fn load(spec: Option<&Path>, quiet: bool) -> Result<Snapshot> {
    let (snap, info) = super::timed("load snapshot (read, parse, validate)", || resolve(spec))?;
    if !quiet {
        warn_age(&info);
        let w = snap.warnings();
        let mut err = std::io::stderr().lock();
        for x in w.iter().take(10) {
            let _ = writeln!(
                err,
                "tagnet: warning: {}: {} [{}]",
                x.tag, x.message, x.code
            );
        }
        if w.len() > 10 {
            let _ = writeln!(
                err,
                "tagnet: warning: … and {} more (`tagnet info --format json` lists them all; --quiet hides them)",
                w.len() - 10
            );
        }
    }
    let _ = USED.set(info);
    Ok(snap)
}

fn warn_age(info: &SnapshotInfo) {
    let Some(date) = &info.date else { return };
    let Some(age) = builtin::age_days(date, now_secs()) else {
        return;
    };
    if age > 14 {
        eprintln!(
            "tagnet: warning: the snapshot in use ({} changeNumber {}, {}) was published {date}, {age} days ago; service tags change weekly: refresh with `tagnet fetch` (--quiet hides this)",
            info.cloud,
            info.change_number,
            if info.source.starts_with("built-in") {
                "built in"
            } else {
                info.source.as_str()
            }
        );
    }
}

/// Resolves and loads a snapshot without printing anything.
pub fn resolve(spec: Option<&Path>) -> Result<(Snapshot, SnapshotInfo)> {
    let spec = spec.filter(|p| !p.as_os_str().is_empty());
    let text = spec.map(|p| p.to_string_lossy().into_owned());
    match text.as_deref() {
        None => {
            // The newest cached Public snapshot, else the built-in one.
            if let Ok(cache) = Cache::locate()
                && let Ok(Some(e)) = cache.newest("Public")
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
            let cache = Cache::locate()?;
            let all = cache.list()?;
            let have = || -> String {
                if all.is_empty() {
                    "none (run `tagnet fetch`)".to_string()
                } else {
                    all.iter()
                        .map(|e| format!("{}:cn{}", cloud_word(&e.cloud), e.change_number))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let of_cloud: Vec<&tagnet::fetch::cache::Entry> = all
                .iter()
                .filter(|e| cloud.as_ref().is_none_or(|c| c.matches(&e.cloud)))
                .collect();
            let chosen = match which {
                None => {
                    // `latest`: the Public cloud's unless a cloud is named or only one is cached.
                    let public: Vec<&&tagnet::fetch::cache::Entry> = of_cloud
                        .iter()
                        .filter(|e| cloud.is_some() || e.cloud.eq_ignore_ascii_case("Public"))
                        .collect();
                    let pool: Vec<&tagnet::fetch::cache::Entry> = if public.is_empty() {
                        of_cloud.clone()
                    } else {
                        public.into_iter().copied().collect()
                    };
                    let clouds: std::collections::BTreeSet<&str> =
                        pool.iter().map(|e| e.cloud.as_str()).collect();
                    if clouds.len() > 1 {
                        bail!(
                            "`{t}`: the cache holds several clouds ({}); say which, e.g. usgov:latest",
                            clouds.into_iter().collect::<Vec<_>>().join(", ")
                        );
                    }
                    pool.into_iter().max_by_key(|e| e.change_number)
                }
                Some(n) => {
                    let hits: Vec<&tagnet::fetch::cache::Entry> = of_cloud
                        .iter()
                        .copied()
                        .filter(|e| e.change_number == n)
                        .collect();
                    if hits.len() > 1 {
                        bail!(
                            "`{t}`: several cached clouds have changeNumber {n} ({}); say which, e.g. public:cn{n}",
                            hits.iter()
                                .map(|e| e.cloud.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    }
                    hits.into_iter().next()
                }
            };
            match chosen {
                Some(e) => from_cache(e),
                None => bail!(
                    "no cached snapshot matches `{t}` in {}; cached: {}",
                    cache.root().display(),
                    have()
                ),
            }
        }
        Some(_) => {
            let path = spec.expect("some");
            let snap = tagnet::load::load_path(path)
                .with_context(|| format!("loading service tags from `{}`", path.display()))?;
            let info = SnapshotInfo {
                cloud: snap.cloud().to_string(),
                change_number: snap.change_number(),
                date: date_in_name(path),
                source: if path.as_os_str() == "-" {
                    "<stdin>".into()
                } else {
                    path.display().to_string()
                },
            };
            Ok((snap, info))
        }
    }
}

/// `latest`, `cnNNN`, `CLOUD:latest`, `CLOUD:cnNNN` → (cloud, changeNumber or latest).
fn cache_spec(t: &str) -> Option<(Option<tagnet::fetch::Cloud>, Option<u64>)> {
    let (cloud, rest) = match t.split_once(':') {
        Some((c, r)) => (Some(tagnet::fetch::Cloud::parse(c).ok()?), r),
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
    match tagnet::fetch::Cloud::parse(cloud) {
        Ok(tagnet::fetch::Cloud::Public) => "public",
        Ok(tagnet::fetch::Cloud::UsGov) => "usgov",
        Ok(tagnet::fetch::Cloud::China) => "china",
        Ok(tagnet::fetch::Cloud::Germany) => "germany",
        Err(_) => "other",
    }
}

fn from_cache(e: &tagnet::fetch::cache::Entry) -> Result<(Snapshot, SnapshotInfo)> {
    let snap = tagnet::load::load_path(&e.path).with_context(|| {
        format!(
            "loading the cached snapshot `{}` (delete it if it is damaged, then `tagnet fetch`)",
            e.path.display()
        )
    })?;
    Ok((
        snap,
        SnapshotInfo {
            cloud: e.cloud.clone(),
            change_number: e.change_number,
            date: Some(e.date.clone()),
            source: e.path.display().to_string(),
        },
    ))
}

fn builtin_snapshot() -> Result<(Snapshot, SnapshotInfo)> {
    let snap = builtin::load().context("loading the built-in snapshot")?;
    Ok((
        snap,
        SnapshotInfo {
            cloud: builtin::CLOUD.into(),
            change_number: builtin::CHANGE_NUMBER,
            date: Some(builtin::DATE.into()),
            source: builtin::SOURCE.into(),
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
            tagnet::load::builtin::days_from_civil(&t),
            Some((secs / 86_400) as i64)
        );
    }
}
