//! `export`: a selection of tags as firewall objects ([`tagnet::ops::export`]).

use super::Status;
use super::args::ExportArgs;
use super::render::Format;
use super::source::{Extra, Loaded};
use anyhow::{Result, bail};
use std::io::Write;
use tagnet::ops::export::{self, ExportParams, Target};

pub fn export(
    snap: &Loaded,
    tags: Option<&std::path::Path>,
    extra: &Extra,
    a: &ExportArgs,
    (format, quiet): (Format, bool),
    out: &mut dyn Write,
) -> Result<Status> {
    if format != Format::Table {
        bail!(
            "--format {}: export writes the format --as names ({})",
            format.name(),
            Target::NAMES.join(", ")
        );
    }
    let Some(target) = Target::parse(&a.target) else {
        bail!("--as `{}`: one of {}", a.target, Target::NAMES.join(", "));
    };
    let params = ExportParams {
        tags: a.selection.clone(),
        region: a.region.clone(),
        max: a.max,
        name: a.name.clone(),
        target: a.target.clone(),
    };
    let sel = export::select(snap, &params)?;
    if sel.extra_addresses > 0 {
        eprintln!(
            "tagnet: note: merged into {} prefixes, covering {} IPv4 address(es) beyond the tags' (never private, loopback, link-local, multicast or reserved space the tags do not hold)",
            sel.prefixes.len(),
            sel.extra_addresses
        );
    }
    let v6 = sel
        .prefixes
        .iter()
        .filter(|p| matches!(p, ipnet::IpNet::V6(_)))
        .count();
    if matches!(target, Target::Arm | Target::Bicep | Target::Terraform) && v6 > 0 {
        eprintln!(
            "tagnet: note: {v6} IPv6 prefix(es) left out: Azure Firewall IP Groups take IPv4 addresses, CIDRs and ranges"
        );
    }
    let old = if a.since.is_empty() {
        None
    } else {
        let old = earlier(tags, extra, &a.since)?;
        if !quiet {
            different_clouds(&old.info, &snap.info);
        }
        let before = export::select_earlier(&old, &params)?;
        Some((old, before))
    };
    let text = export::render(
        target,
        &sel,
        &snap.info,
        old.as_ref().map(|(o, s)| (s, &o.info)),
    )?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Success)
}

/// The earlier state `--since` names: Microsoft's week it names (else the one in use), with
/// each provider's file it names in place of that provider's current one (a source it does
/// not name is taken as it is now, so it shows no change).
fn earlier(
    tags: Option<&std::path::Path>,
    extra: &Extra,
    since: &[std::path::PathBuf],
) -> Result<Loaded> {
    let mut azure: Option<&std::path::Path> = None;
    let mut older: Vec<tagnet::sources::Source> = Vec::new();
    for spec in since {
        let text = spec.to_string_lossy();
        if let Some(s) = provider_version(&text)? {
            if older.iter().any(|o| o.provider == s.provider) {
                bail!("--since {text}: {} is named twice", s.provider.name());
            }
            older.push(s);
        } else if let Some(first) = azure {
            bail!(
                "--since {text}: a Microsoft snapshot is named already (`{}`); name one, and other providers' files beside it",
                first.display()
            );
        } else {
            azure = Some(spec);
        }
    }
    let base = match azure {
        Some(a) => super::source::load(Some(a), true, "--since")?,
        None => super::source::load(tags, true, "--tags")?,
    };
    let mut sources = extra.read()?;
    for o in older {
        let Some(k) = sources.iter().position(|s| s.provider == o.provider) else {
            bail!(
                "--since names {}'s file, but no {} source is loaded now (--source {})",
                o.provider.name(),
                o.provider.name(),
                o.provider.name().to_ascii_lowercase()
            );
        };
        sources[k] = o;
    }
    let (snap, info) = tagnet::ops::source::with_sources(base.snap, base.info, sources)?;
    Ok(Loaded { snap, info })
}

/// An earlier provider file as `--since` names it: `PROVIDER=FILE`, or a cached version's name
/// (`AWS_20261130_0000`); `None` for anything else (Microsoft's snapshot).
fn provider_version(text: &str) -> Result<Option<tagnet::sources::Source>> {
    use tagnet::sources::Provider;
    if let Some((name, _)) = text.split_once('=')
        && Provider::parse(name).is_some_and(|p| p != Provider::Custom)
    {
        return Ok(Some(tagnet::sources::read_spec(text)?));
    }
    let parts: Vec<&str> = text.split('_').collect();
    if let [name, date, seq] = parts[..]
        && let Some(p) = Provider::parse(name).filter(|p| *p != Provider::Custom)
        && date.len() == 8
        && date.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit())
        && !std::path::Path::new(text).exists()
    {
        let cache = tagnet::fetch::cache::Cache::locate()?;
        let Some(e) = tagnet::fetch::providers::list(&cache, p)
            .into_iter()
            .find(|e| e.path.file_stem().is_some_and(|s| s == text))
        else {
            let have: Vec<String> = tagnet::fetch::providers::list(&cache, p)
                .iter()
                .filter_map(|e| e.path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect();
            bail!(
                "--since {text}: no such cached {} file; cached: {}",
                p.name(),
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            );
        };
        let (bytes, origin) = tagnet::load::read_input(&e.path)?;
        return Ok(Some(tagnet::sources::read(&bytes, &origin, Some(p))?));
    }
    Ok(None)
}

/// Warns (standard error) when `--since` names another cloud's week than the one in use: the
/// change between them is no week's change, as `diff` warns.
pub(super) fn different_clouds(old: &tagnet::ops::SnapshotInfo, new: &tagnet::ops::SnapshotInfo) {
    if !old.cloud.eq_ignore_ascii_case(&new.cloud) {
        eprintln!(
            "tagnet: warning: comparing different clouds ({} and {}): the change between them is no week's change",
            old.cloud, new.cloud
        );
    }
}
