//! The snapshot cache: verified snapshots kept on disk, newest first, written atomically.
//!
//! Location: `$TAGNET_CACHE`, else `$XDG_CACHE_HOME/tagnet`, else `~/.cache/tagnet`. Each
//! snapshot is one file `<cloud>/ServiceTags_<Cloud>_cn<N>_<YYYYMMDD>.json`, exactly the bytes
//! downloaded; its name carries what a listing needs, so a listing never reads the files. A
//! sidecar `<file>.source` holds the address it came from. A file is written beside its final
//! name as `.<name>.tmp-<pid>`, synced, then renamed: a fetch killed halfway leaves at most a
//! hidden temporary file, which listings ignore and the next store removes.

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One cached snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The `cloud` field of the file (`Public`, `AzureGovernment`, …).
    pub cloud: String,
    /// Its top-level changeNumber.
    pub change_number: u64,
    /// Publication date `YYYY-MM-DD` (from the file name Microsoft gave it, or the day it was
    /// fetched).
    pub date: String,
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The address it was downloaded from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What the server said identifies this version (for a conditional request next time).
    #[serde(skip)]
    pub validators: super::Validators,
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The cache where the environment says: `TAGNET_CACHE`, `XDG_CACHE_HOME/tagnet`,
    /// `HOME/.cache/tagnet`.
    pub fn locate() -> Result<Cache> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(p) = var("TAGNET_CACHE") {
            return Ok(Cache::at(p));
        }
        if let Some(p) = var("XDG_CACHE_HOME") {
            return Ok(Cache::at(PathBuf::from(p).join("tagnet")));
        }
        if let Some(h) = var("HOME") {
            return Ok(Cache::at(PathBuf::from(h).join(".cache").join("tagnet")));
        }
        Err(Error::Usage(
            "no cache directory: set TAGNET_CACHE (or XDG_CACHE_HOME or HOME)".into(),
        ))
    }

    /// The cache's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every cached snapshot, by cloud then changeNumber (oldest first).
    pub fn list(&self) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        let Ok(clouds) = std::fs::read_dir(&self.root) else {
            return Ok(out); // no cache yet
        };
        for dir in clouds.flatten() {
            if !dir.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Ok(files) = std::fs::read_dir(dir.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let Some((cloud, change_number, date)) = parse_name(&name) else {
                    continue;
                };
                let path = f.path();
                let size = f.metadata().map_or(0, |m| m.len());
                let side = std::fs::read_to_string(sidecar(&path)).unwrap_or_default();
                let (source, validators) = read_sidecar(&side);
                out.push(Entry {
                    cloud,
                    change_number,
                    date,
                    path,
                    size,
                    source,
                    validators,
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.cloud, a.change_number, &a.date).cmp(&(&b.cloud, b.change_number, &b.date))
        });
        Ok(out)
    }

    /// The newest snapshot of `cloud` (case-insensitive).
    pub fn newest(&self, cloud: &str) -> Result<Option<Entry>> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|e| e.cloud.eq_ignore_ascii_case(cloud))
            .max_by_key(|e| e.change_number))
    }

    /// The snapshot of a changeNumber, preferring `cloud`.
    pub fn find(&self, change_number: u64, cloud: &str) -> Result<Option<Entry>> {
        let all: Vec<Entry> = self
            .list()?
            .into_iter()
            .filter(|e| e.change_number == change_number)
            .collect();
        Ok(all
            .iter()
            .find(|e| e.cloud.eq_ignore_ascii_case(cloud))
            .or(all.first())
            .cloned())
    }

    /// Stores verified bytes atomically, then keeps only the newest `keep` snapshots of the
    /// cloud.
    pub fn store(
        &self,
        bytes: &[u8],
        cloud: &str,
        change_number: u64,
        date: &str,
        source: Option<&str>,
        keep: usize,
    ) -> Result<Entry> {
        let dir = self.root.join(cloud.to_ascii_lowercase());
        let io = |path: &Path, source: std::io::Error| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        // Leftovers of a fetch killed halfway; a temporary file younger than an hour may be
        // another fetch's, still running.
        if let Ok(files) = std::fs::read_dir(&dir) {
            for f in files.flatten() {
                let stale = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 3600);
                if f.file_name().to_string_lossy().contains(".tmp-") && stale {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
        let name = file_name(cloud, change_number, date);
        let path = dir.join(&name);
        write_atomic(&path, bytes).map_err(|e| io(&path, e))?;
        if let Some(src) = source {
            write_atomic(&sidecar(&path), src.as_bytes()).map_err(|e| io(&path, e))?;
        }
        // Prune: the newest `keep` of this cloud stay, the one just stored always among them.
        let others: Vec<Entry> = self
            .list()?
            .into_iter()
            .filter(|e| e.cloud.eq_ignore_ascii_case(cloud) && e.path != path)
            .collect();
        let room = keep.max(1) - 1;
        if others.len() > room {
            for old in &others[..others.len() - room] {
                let _ = std::fs::remove_file(&old.path);
                let _ = std::fs::remove_file(sidecar(&old.path));
            }
        }
        Ok(Entry {
            cloud: cloud.to_string(),
            change_number,
            date: date.to_string(),
            size: bytes.len() as u64,
            source: source.map(String::from),
            validators: super::Validators::default(),
            path,
        })
    }

    /// Records the server's validators of a stored snapshot beside its source address.
    pub fn set_validators(&self, entry: &Entry, v: &super::Validators) -> Result<()> {
        let Some(src) = &entry.source else {
            return Ok(());
        };
        let mut text = src.clone();
        for (k, val) in [("etag", &v.etag), ("last-modified", &v.last_modified)] {
            if let Some(val) = val {
                // One line each: a header value holds no line break.
                text.push_str(&format!("\n{k}: {}", val.replace(['\r', '\n'], " ")));
            }
        }
        write_atomic(&sidecar(&entry.path), text.as_bytes()).map_err(|source| Error::Write {
            path: entry.path.clone(),
            source,
        })
    }
}

/// The sidecar's source address (its first line) and validators (`etag: …`,
/// `last-modified: …` lines after it).
/// Whether a cached file still is the snapshot its name says: it loads and validates, and
/// holds that cloud and changeNumber. A truncated or edited file says why not.
pub fn check(entry: &Entry) -> std::result::Result<(), String> {
    let bytes = std::fs::read(&entry.path).map_err(|e| format!("unreadable: {e}"))?;
    let origin = entry.path.display().to_string();
    let bytes = crate::load::decode_text(bytes, &origin).map_err(|e| e.to_string())?;
    let snap = crate::load::from_slice(&bytes, &origin).map_err(|e| {
        let text = e.to_string();
        text.lines().next().unwrap_or_default().to_string()
    })?;
    let same_cloud = super::Cloud::parse(&entry.cloud).is_ok_and(|c| c.matches(snap.cloud()));
    if snap.change_number() != entry.change_number || !same_cloud {
        return Err(format!(
            "it holds {} changeNumber {}, not what its name says",
            snap.cloud(),
            snap.change_number()
        ));
    }
    Ok(())
}

/// Removes a cached file and its sidecar.
pub fn remove(path: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(sidecar(path));
    std::fs::remove_file(path)
}

fn read_sidecar(text: &str) -> (Option<String>, super::Validators) {
    let mut lines = text.lines();
    let source = lines
        .next()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut v = super::Validators::default();
    for l in lines {
        if let Some(e) = l.strip_prefix("etag: ") {
            v.etag = Some(e.to_string());
        } else if let Some(d) = l.strip_prefix("last-modified: ") {
            v.last_modified = Some(d.to_string());
        }
    }
    (source, v)
}

fn sidecar(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".source");
    PathBuf::from(s)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `ServiceTags_<Cloud>_cn<N>_<YYYYMMDD>.json`.
pub fn file_name(cloud: &str, change_number: u64, date: &str) -> String {
    let clean: String = cloud
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!(
        "ServiceTags_{clean}_cn{change_number}_{}.json",
        date.replace('-', "")
    )
}

/// The (cloud, changeNumber, date) in a cache file name; `None` for anything else (temporary
/// files, sidecars).
pub fn parse_name(name: &str) -> Option<(String, u64, String)> {
    let stem = name.strip_prefix("ServiceTags_")?.strip_suffix(".json")?;
    let mut parts = stem.rsplitn(3, '_');
    let date = parts.next()?;
    let cn = parts.next()?.strip_prefix("cn")?.parse().ok()?;
    let cloud = parts.next()?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || cloud.is_empty() {
        return None;
    }
    Some((
        cloud.to_string(),
        cn,
        format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let n = file_name("AzureGovernment", 401, "2026-07-06");
        assert_eq!(n, "ServiceTags_AzureGovernment_cn401_20260706.json");
        assert_eq!(
            parse_name(&n),
            Some(("AzureGovernment".into(), 401, "2026-07-06".into()))
        );
        assert_eq!(parse_name(".x.tmp-3"), None);
        assert_eq!(parse_name(&format!("{n}.source")), None);
    }

    #[test]
    fn store_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::at(dir.path());
        for cn in 1..=5 {
            c.store(b"{}", "Public", cn, &format!("2025-01-0{cn}"), None, 3)
                .unwrap();
        }
        let l = c.list().unwrap();
        assert_eq!(
            l.iter().map(|e| e.change_number).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(c.newest("public").unwrap().unwrap().change_number, 5);
    }
}
