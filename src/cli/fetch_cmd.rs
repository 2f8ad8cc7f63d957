//! `fetch` and `snapshots`.

use super::Status;
use super::args::FetchArgs;
use super::render::{self, Format};
use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tagnet::fetch::cache::{Cache, Entry};
use tagnet::fetch::{ApiRequest, Cloud, FetchRequest, Fetched, Http, HttpOptions};

pub fn fetch(a: &FetchArgs, offline: bool, format: Format, out: &mut dyn Write) -> Result<Status> {
    if offline && a.file.is_none() {
        bail!(
            "--offline: `fetch` would use the network; drop --offline, import a file you have with `tagnet fetch --file PATH` (works offline), or use the cached snapshots (`tagnet snapshots`)"
        );
    }
    let cache = Cache::locate()?;
    let http = Http::new(HttpOptions {
        timeout: Duration::from_secs(a.timeout as u64),
        retries: a.retries,
        ..HttpOptions::default()
    })?;
    let today = super::source::today();
    if let Some(name) = &a.provider {
        use tagnet::fetch::providers::{self, ProviderFetched};
        let Some(p) = tagnet::sources::Provider::parse(name)
            .filter(|p| *p != tagnet::sources::Provider::Custom)
        else {
            bail!("--provider `{name}`: one of aws, google, oracle, github, cloudflare");
        };
        let r = providers::fetch(&http, &cache, p, a.url.as_deref(), &today, a.keep, a.force)?;
        let (state, e) = match &r {
            ProviderFetched::Stored(e) => ("stored", e),
            ProviderFetched::UpToDate(e) => ("up to date", e),
        };
        if format == Format::Json {
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({"state": state, "file": e}),
            )?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{state}: {} version {} at {}",
                e.provider,
                e.version,
                e.path.display()
            )?;
        }
        return Ok(Status::Success);
    }
    let (outcome, notes) = if let Some(file) = &a.file {
        tagnet::fetch::import(
            &cache,
            &FetchRequest {
                cloud: Cloud::parse(&a.cloud)?,
                url: None,
                force: a.force,
                keep: a.keep,
            },
            file,
            &today,
        )?
    } else if a.api {
        let token = token(a.token_from_az)?;
        tagnet::fetch::fetch_api(
            &http,
            &cache,
            &ApiRequest {
                subscription: a.subscription.clone().context("--subscription")?,
                location: a.location.clone().context("--location")?,
                base: a.api_base.clone(),
                keep: a.keep,
                force: a.force,
                cloud: Cloud::parse(&a.cloud)?,
            },
            &token,
            &today,
        )
        .map(|f| (f, Vec::new()))?
    } else {
        let cloud = Cloud::parse(&a.cloud)?;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bytes}/{total_bytes} {wide_bar} {bytes_per_sec}",
                )
                .expect("valid template"),
            );
            b
        });
        let mut progress = |done: u64, total: Option<u64>| {
            if let Some(b) = &bar {
                if let Some(t) = total {
                    b.set_length(t);
                }
                b.set_position(done);
            }
        };
        let r = tagnet::fetch::fetch(
            &http,
            &cache,
            &FetchRequest {
                cloud,
                url: a.url.clone(),
                force: a.force,
                keep: a.keep,
            },
            &today,
            &mut progress,
        );
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        r?
    };
    for n in &notes {
        eprintln!("tagnet: warning: {n}");
    }
    let (state, e) = match &outcome {
        Fetched::Stored(e) => ("stored", e),
        Fetched::UpToDate(e) => ("up to date", e),
    };
    if format == Format::Json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({"state": state, "snapshot": e, "warnings": notes}),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{state}: {} changeNumber {} ({}) at {}",
            e.cloud,
            e.change_number,
            e.date,
            e.path.display()
        )?;
    }
    Ok(Status::Success)
}

/// The bearer token: AZURE_ACCESS_TOKEN, or `az account get-access-token` when asked. It is
/// never printed.
fn token(from_az: bool) -> Result<String> {
    if from_az {
        let out = std::process::Command::new("az")
            .args([
                "account",
                "get-access-token",
                "--query",
                "accessToken",
                "-o",
                "tsv",
            ])
            .output()
            .context("running `az account get-access-token` (is the Azure CLI installed?)")?;
        if !out.status.success() {
            bail!(
                "`az account get-access-token` failed (exit {}); run `az login` first",
                out.status.code().unwrap_or(-1)
            );
        }
        let t = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if t.is_empty() {
            bail!("`az account get-access-token` printed no token; run `az login` first");
        }
        return Ok(t);
    }
    match std::env::var("AZURE_ACCESS_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => bail!(
            "--api needs a token: set AZURE_ACCESS_TOKEN (e.g. from `az account get-access-token --query accessToken -o tsv`), or pass --token-from-az"
        ),
    }
}

pub fn snapshots(format: Format, out: &mut dyn Write) -> Result<Status> {
    let cache = Cache::locate()?;
    let list = cache.list()?;
    let mut theirs = Vec::new();
    for p in tagnet::sources::Provider::PUBLISHERS {
        theirs.extend(tagnet::fetch::providers::list(&cache, p));
    }
    // The table shows the built-in week too, where the cache lacks it: commands take it as one
    // of the cloud's weeks (`cn376`, `latest`). The other formats list the cache.
    let builtin = tagnet::load::builtin::CLOUD;
    let mut shown = list.clone();
    if format == Format::Table
        && !list.iter().any(|e| {
            e.cloud.eq_ignore_ascii_case(builtin)
                && e.change_number == tagnet::load::builtin::CHANGE_NUMBER
        })
    {
        shown.push(Entry {
            cloud: builtin.to_string(),
            change_number: tagnet::load::builtin::CHANGE_NUMBER,
            date: tagnet::load::builtin::DATE.to_string(),
            path: "(built into tagnet)".into(),
            size: tagnet::load::builtin::COMPRESSED_BYTES as u64,
            source: None,
            validators: Default::default(),
        });
        shown.sort_by(|a, b| (&a.cloud, a.change_number).cmp(&(&b.cloud, b.change_number)));
    }
    if !(format == Format::Table && list.is_empty() && !theirs.is_empty()) {
        render::records(
            out,
            format,
            None,
            &["CLOUD", "CHANGE NUMBER", "DATE", "PATH", "SIZE"],
            &shown,
            |e: &Entry| {
                vec![
                    e.cloud.clone(),
                    e.change_number.to_string(),
                    e.date.clone(),
                    e.path.display().to_string(),
                    e.size.to_string(),
                ]
            },
        )?;
    }
    // Other providers' cached versions (`fetch --provider`), by the names `export --since`
    // and the change feed give them; in the table (the other formats keep their one shape).
    if format == Format::Table && !theirs.is_empty() {
        if !list.is_empty() {
            writeln!(out)?;
        }
        let rows: Vec<Vec<String>> = theirs
            .iter()
            .map(|e| {
                vec![
                    e.provider.clone(),
                    e.version.clone(),
                    e.fetched.clone(),
                    e.path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    e.path.display().to_string(),
                ]
            })
            .collect();
        tagnet::render::table(
            out,
            &["PROVIDER", "VERSION", "FETCHED", "NAME", "PATH"],
            &rows,
        )?;
    }
    if list.is_empty() && format == Format::Table {
        eprintln!(
            "tagnet: no cached snapshot of Microsoft's in {} (`tagnet fetch` downloads one); the built-in week is listed, and commands take it as `cn{}` or `latest`",
            cache.root().display(),
            tagnet::load::builtin::CHANGE_NUMBER
        );
    }
    Ok(if list.is_empty() && theirs.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}
