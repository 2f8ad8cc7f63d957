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
/// `flag` names where `spec` came from (`--tags`, `TAGNET_TAGS`, `--since`) for its errors.
pub fn load(spec: Option<&Path>, quiet: bool, flag: &str) -> Result<Loaded> {
    let (snap, info) = super::timed("load snapshot (read, parse, validate)", || {
        resolve(spec, flag)
    })?;
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

/// Other sources given on the command line (`--source`, `--custom`) or by environment
/// (`TAGNET_SOURCES`, `TAGNET_CUSTOM`), and `./tagnet.toml`'s `[tags]`.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// `[PROVIDER=]FILE` specs.
    pub sources: Vec<String>,
    /// Custom-tag files.
    pub custom: Vec<std::path::PathBuf>,
    /// Whether `./tagnet.toml` was added without being named (the last of `custom`).
    pub local_added: bool,
}

impl Extra {
    /// The flags, else the environment; `./tagnet.toml` is added when it has `[tags]`.
    pub fn new(sources: &[String], custom: &[std::path::PathBuf]) -> Extra {
        let env = |name: &str| -> Vec<std::path::PathBuf> {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let sources = if sources.is_empty() {
            env("TAGNET_SOURCES")
                .into_iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        } else {
            sources.to_vec()
        };
        let custom = if custom.is_empty() {
            env("TAGNET_CUSTOM")
        } else {
            custom.to_vec()
        };
        let local = std::path::PathBuf::from("tagnet.toml");
        let same = |a: &std::path::Path, b: &std::path::Path| {
            a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
        };
        // The same source or file named twice is read once.
        let mut sources_once: Vec<String> = Vec::new();
        for s in sources {
            if !sources_once.contains(&s) {
                sources_once.push(s);
            }
        }
        let sources = sources_once;
        let mut unique: Vec<std::path::PathBuf> = Vec::new();
        for c in custom {
            if !unique.iter().any(|u| same(u, &c)) {
                unique.push(c);
            }
        }
        let mut custom = unique;
        let local_added = local.is_file() && !custom.iter().any(|c| same(c, &local));
        if local_added {
            custom.push(local);
        }
        Extra {
            sources,
            custom,
            local_added,
        }
    }

    /// The sources named (flags or environment) without `./tagnet.toml` read unasked: what
    /// `serve` answers with, so a folder's file never reaches the server's callers unnamed.
    pub fn named_only(&self) -> Extra {
        let mut e = self.clone();
        if e.local_added {
            e.custom.pop();
            e.local_added = false;
        }
        e
    }

    /// Reads every source; a file's errors say which file.
    pub fn read(&self) -> Result<Vec<tagnet::sources::Source>> {
        let mut out = Vec::new();
        for s in &self.sources {
            out.push(tagnet::sources::read_spec(s).with_context(|| format!("--source {s}"))?);
        }
        for c in &self.custom {
            if let Some(s) = tagnet::sources::read_custom_path(c)
                .with_context(|| format!("--custom {}", c.display()))?
            {
                out.push(s);
            }
        }
        Ok(out)
    }
}

/// [`load`] with other sources' tags beside Microsoft's.
pub fn load_with(spec: Option<&Path>, extra: &Extra, quiet: bool, flag: &str) -> Result<Loaded> {
    let Loaded { snap, info } = load(spec, quiet, flag)?;
    let sources = extra.read()?;
    let (snap, info) = tagnet::ops::source::with_sources(snap, info, sources)?;
    Ok(Loaded { snap, info })
}

/// Resolves and loads a snapshot without printing anything; a file's errors say which file, a
/// week's which option named it (`flag`: `--tags`, `TAGNET_TAGS`, `--since`, `--snapshot` …).
pub fn resolve(spec: Option<&Path>, flag: &str) -> Result<(Snapshot, SnapshotInfo)> {
    let r = tagnet::ops::source::resolve(spec);
    match spec.filter(|p| !p.as_os_str().is_empty()) {
        Some(p) if tagnet::ops::source::is_path(p) => {
            r.with_context(|| format!("loading service tags from `{}`", p.display()))
        }
        Some(p) => r.with_context(|| match flag {
            "TAGNET_TAGS" => format!(
                "TAGNET_TAGS={} (unset it, or give --tags builtin, to use the built-in week)",
                p.display()
            ),
            "--tags" => format!(
                "--tags {} (--tags builtin, or no --tags, uses the built-in week)",
                p.display()
            ),
            _ => format!("{flag} {}", p.display()),
        }),
        None => Ok(r?),
    }
}
