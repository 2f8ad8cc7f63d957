//! Which snapshot a command uses: resolved by [`tagnet::ops::source`], with its warnings
//! printed here (the library prints nothing).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use tagnet::Snapshot;
pub use tagnet::ops::source::{SnapshotInfo, today};

/// A loaded snapshot and how reports name it. Derefs to the snapshot, so a command that only
/// reads tags takes `&Snapshot` and is handed this.
pub struct Loaded {
    /// The tags.
    pub snap: Snapshot,
    /// How reports name it.
    pub info: SnapshotInfo,
}

impl std::ops::Deref for Loaded {
    type Target = Snapshot;
    fn deref(&self) -> &Snapshot {
        &self.snap
    }
}

/// Loads the snapshot `spec` names (see [`tagnet::ops::source`]) and prints its load warnings
/// and age warning unless `quiet`.
pub fn load(spec: Option<&Path>, quiet: bool) -> Result<Loaded> {
    let (snap, info) = super::timed("load snapshot (read, parse, validate)", || resolve(spec))?;
    if !quiet {
        let mut err = std::io::stderr().lock();
        if let Some(w) = tagnet::ops::source::age_warning(&info, tagnet::ops::source::now_secs()) {
            let _ = writeln!(err, "tagnet: warning: {w} (--quiet hides this)");
        }
        if let Some(w) = tagnet::ops::source::older_than_builtin(&info) {
            let _ = writeln!(err, "tagnet: warning: {w} (--quiet hides this)");
        }
        let w = snap.warnings();
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
    Ok(Loaded { snap, info })
}

/// Resolves and loads a snapshot without printing anything; a file's errors say which file.
pub fn resolve(spec: Option<&Path>) -> Result<(Snapshot, SnapshotInfo)> {
    let r = tagnet::ops::source::resolve(spec);
    match spec.filter(|p| !p.as_os_str().is_empty()) {
        Some(p) if tagnet::ops::source::is_path(p) => {
            r.with_context(|| format!("loading service tags from `{}`", p.display()))
        }
        _ => Ok(r?),
    }
}
