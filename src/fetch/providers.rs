//! Other providers' published files in the same cache as Microsoft's snapshots
//! (`<cache>/providers/<provider>/`), verified by reading them before they are stored, a new
//! file kept only when the provider's own version changed (AWS's and Google's `syncToken`,
//! Oracle's `last_updated_timestamp`, else the content's digest).

#[cfg(feature = "fetch")]
use super::Http;
use super::cache::Cache;
#[cfg(feature = "fetch")]
use crate::error::Error;
use crate::error::Result;
use crate::sources::{self, Provider, Source};
#[cfg(feature = "fetch")]
use std::path::Path;
use std::path::PathBuf;

/// A provider's cached file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProviderEntry {
    /// The provider.
    pub provider: String,
    /// The file's own version.
    pub version: String,
    /// The day it was fetched, `YYYY-MM-DD`.
    pub fetched: String,
    /// Where it is.
    pub path: PathBuf,
}

/// The folder of a provider's files in the cache.
pub fn folder(cache: &Cache, p: Provider) -> PathBuf {
    cache
        .root()
        .join("providers")
        .join(p.name().to_ascii_lowercase())
}

/// The provider's cached files, oldest first (by the date and sequence in their names).
pub fn list(cache: &Cache, p: Provider) -> Vec<ProviderEntry> {
    let mut out = Vec::new();
    let Ok(files) = std::fs::read_dir(folder(cache, p)) else {
        return out;
    };
    for f in files.flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        // NAME_YYYYMMDD_NNNN.json, its version in a sidecar.
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let parts: Vec<&str> = stem.split('_').collect();
        let [_, date, _seq] = parts[..] else { continue };
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let version =
            std::fs::read_to_string(f.path().with_extension("version")).unwrap_or_default();
        out.push(ProviderEntry {
            provider: p.name().to_string(),
            version: version.trim().to_string(),
            fetched: format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]),
            path: f.path(),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The newest cached file of a provider, read.
pub fn newest(cache: &Cache, p: Provider) -> Result<Option<Source>> {
    // By the provider's own version where it orders (a version stored with --force that is
    // older than one fetched before does not become the newest), else the last fetched.
    let Some(e) = by_version(list(cache, p)).pop() else {
        return Ok(None);
    };
    let (bytes, origin) = crate::load::read_input(&e.path)?;
    sources::read(&bytes, &origin, Some(p)).map(Some)
}

/// Every cached file of a provider as a week of its own (oldest first, numbered from 1 as its
/// change number; dated the day it was fetched), for `history`.
pub fn weeks(
    cache: &Cache,
    p: Provider,
) -> Result<Vec<(crate::Snapshot, crate::ops::SnapshotInfo)>> {
    Ok(versions(cache, p)?
        .into_iter()
        .map(|(s, i, _)| (s, i))
        .collect())
}

/// [`weeks`], each with its cached file.
pub fn versions(
    cache: &Cache,
    p: Provider,
) -> Result<Vec<(crate::Snapshot, crate::ops::SnapshotInfo, ProviderEntry)>> {
    let mut out = Vec::new();
    for (k, e) in by_version(list(cache, p)).into_iter().enumerate() {
        let (bytes, origin) = crate::load::read_input(&e.path)?;
        let source = sources::read(&bytes, &origin, Some(p))?;
        let snap = crate::Snapshot::of_source(source)?;
        let info = crate::ops::SnapshotInfo {
            cloud: p.name().to_string(),
            change_number: k as u64 + 1,
            // The day the provider says it published the file, else the day it was fetched.
            date: Some(
                snap.sources()
                    .first()
                    .and_then(|i| i.published.as_deref())
                    .map(|p| p.get(..10).unwrap_or(p))
                    .filter(|d| {
                        d.len() == 10
                            && d.bytes().enumerate().all(|(i, b)| {
                                if i == 4 || i == 7 {
                                    b == b'-'
                                } else {
                                    b.is_ascii_digit()
                                }
                            })
                    })
                    .map_or_else(|| e.fetched.clone(), str::to_string),
            ),
            source: format!("{} (version {})", e.path.display(), e.version),
            sources: snap.sources().to_vec(),
        };
        out.push((snap, info, e));
    }
    Ok(out)
}

/// What fetching a provider's file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderFetched {
    /// A new version, stored.
    Stored(ProviderEntry),
    /// The newest cached file has this version already: nothing stored.
    UpToDate(ProviderEntry),
}

#[cfg(feature = "fetch")]
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Downloads a provider's file (its documented address, or `url`; Cloudflare's two lists
/// joined), reads it as that provider's (a file that does not read is refused, nothing
/// stored), and stores it when its version is new; keeps the newest `keep`.
#[cfg(feature = "fetch")]
pub fn fetch(
    http: &Http,
    cache: &Cache,
    p: Provider,
    url: Option<&str>,
    today: &str,
    keep: usize,
    force: bool,
) -> Result<ProviderFetched> {
    let urls: Vec<String> = match (url, p) {
        // Cloudflare's two lists: `--url V4,V6`.
        (Some(u), Provider::Cloudflare) => u.split(',').map(|x| x.trim().to_string()).collect(),
        (Some(u), _) => vec![u.to_string()],
        (None, Provider::Cloudflare) => vec![
            "https://www.cloudflare.com/ips-v4".into(),
            "https://www.cloudflare.com/ips-v6".into(),
        ],
        (None, Provider::Custom) => {
            return Err(Error::Usage(
                "custom tags are your own files: give them with --custom FILE".into(),
            ));
        }
        (None, p) => vec![p.url().expect("a published address").to_string()],
    };
    let mut bytes = Vec::new();
    for u in &urls {
        let body = http.get(u, &[], &mut |_, _| {})?;
        // A compressed copy (`cloud.json.gz`) reads as the file.
        bytes.extend_from_slice(&crate::load::decode_text_within(body.bytes, u, 64 << 20)?);
        if !bytes.ends_with(b"\n") && p == Provider::Cloudflare {
            bytes.push(b'\n');
        }
    }
    let origin = urls.join(" + ");
    let source = sources::read(&bytes, &origin, Some(p))?;
    if p == Provider::Cloudflare {
        let (v4, v6) =
            source
                .tags
                .iter()
                .flat_map(|t| &t.prefixes)
                .fold((0, 0), |(a, b), n| match n {
                    ipnet::IpNet::V4(_) => (a + 1, b),
                    ipnet::IpNet::V6(_) => (a, b + 1),
                });
        if v4 == 0 || v6 == 0 {
            return Err(Error::Usage(format!(
                "{origin}: holds only {} prefixes; Cloudflare publishes its IPv4 and IPv6 lists apart and tagnet keeps them as one version: give both addresses, --url V4_URL,V6_URL",
                if v4 == 0 { "IPv6" } else { "IPv4" }
            )));
        }
    }
    let version = source.info.version.clone();
    let dir = folder(cache, p);
    let io = |path: &Path, source: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(last) = by_version(list(cache, p)).pop() {
        if last.version == version {
            return Ok(ProviderFetched::UpToDate(last));
        }
        if !force && older(&version, &last.version) {
            return Err(Error::Usage(format!(
                "{origin}: {} version {version} is older than the newest cached one, {} ({}); a mirror or cache behind the provider? Nothing stored (--force stores it anyway)",
                p.name(),
                last.version,
                last.path.display()
            )));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let date: String = today.chars().filter(char::is_ascii_digit).collect();
    // The next number of the day: after the oldest were pruned (--keep) a count would name
    // a file that is still there.
    let seq = list(cache, p)
        .iter()
        .filter_map(|e| {
            let stem = e.path.file_stem()?.to_string_lossy().into_owned();
            let (rest, seq) = stem.rsplit_once('_')?;
            rest.ends_with(&date).then(|| seq.parse::<u32>().ok())?
        })
        .max()
        .map_or(0, |m| m + 1);
    let path = dir.join(format!("{}_{date}_{seq:04}.json", p.name()));
    write_atomic(&path.with_extension("version"), version.as_bytes()).map_err(|e| io(&path, e))?;
    write_atomic(&path, &bytes).map_err(|e| io(&path, e))?;
    let all = list(cache, p);
    if all.len() > keep.max(1) {
        for old in &all[..all.len() - keep.max(1)] {
            let _ = std::fs::remove_file(&old.path);
            let _ = std::fs::remove_file(old.path.with_extension("version"));
        }
    }
    Ok(ProviderFetched::Stored(ProviderEntry {
        provider: p.name().to_string(),
        version,
        fetched: today.to_string(),
        path,
    }))
}

/// Whether version `a` is older than `b`, when both say (AWS's and Google's `syncToken` are
/// seconds since the epoch, Oracle's `last_updated_timestamp` a date and time written the same
/// way each time); a digest of the content orders nothing.
pub fn older(a: &str, b: &str) -> bool {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        return a.len() < b.len() || (a.len() == b.len() && a < b);
    }
    let dated = |s: &str| {
        s.len() >= 10 && s.as_bytes()[4] == b'-' && s[..4].bytes().all(|c| c.is_ascii_digit())
    };
    dated(a) && dated(b) && a.len() == b.len() && a < b
}

/// Cached files in the order of the provider's versions where they order (see [`older`]),
/// else in the order they were fetched.
fn by_version(mut entries: Vec<ProviderEntry>) -> Vec<ProviderEntry> {
    entries.sort_by(|a, b| {
        if older(&a.version, &b.version) {
            std::cmp::Ordering::Less
        } else if older(&b.version, &a.version) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    entries
}
