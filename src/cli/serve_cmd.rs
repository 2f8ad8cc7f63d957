//! `tagnet serve`.

use super::Status;
use super::args::ServeArgs;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tagnet::serve::{App, Info, Loaded, Loader, Options};

/// `24h`, `90m`, `3600s` or seconds.
fn interval(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map_or((t, "s"), |i| t.split_at(i));
    let n: u64 = num
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("--refresh `{text}`: a positive number with s, m, h or d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--refresh `{text}`: a positive number with s, m, h or d"),
    };
    if secs < 60 {
        bail!("--refresh `{text}`: at least a minute (Microsoft publishes weekly)");
    }
    Ok(Duration::from_secs(secs))
}

pub fn serve(
    tags: Option<PathBuf>,
    extra: super::source::Extra,
    offline: bool,
    quiet: bool,
    a: &ServeArgs,
) -> Result<Status> {
    let refresh = a.refresh.as_deref().map(interval).transpose()?;
    if refresh.is_some() && offline {
        bail!("--refresh downloads snapshots and --offline forbids it; drop one of them");
    }
    if tags.as_deref() == Some(std::path::Path::new("-")) {
        bail!(
            "serve reloads its snapshot, so it cannot read standard input: give a file or a cache name"
        );
    }
    let token = match &a.token_file {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the token file `{}`", p.display()))?;
            let t = t.trim().to_string();
            if t.is_empty() {
                bail!("the token file `{}` is empty", p.display());
            }
            Some(t)
        }
        None => None,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(if quiet {
            tracing::Level::WARN
        } else {
            tracing::Level::INFO
        })
        .init();
    let spec = tags.clone();
    let loader: Loader = Arc::new(move || {
        // Other sources are read again at each reload too: a mirror's new file is taken up.
        super::source::resolve(spec.as_deref(), "--tags")
            .and_then(|(snap, i)| {
                let sources = extra.read()?;
                Ok(tagnet::ops::source::with_sources(snap, i, sources)?)
            })
            .map(|(snap, i)| {
                // As every command warns: an old snapshot, at start and at each reload.
                if !quiet {
                    let now = tagnet::ops::source::now_secs();
                    for w in [
                        tagnet::ops::source::age_warning(&i, now),
                        tagnet::ops::source::older_than_builtin(&i),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        tracing::warn!("{w} (--quiet hides this)");
                    }
                }
                (
                    snap,
                    Info {
                        cloud: i.cloud,
                        change_number: i.change_number,
                        date: i.date,
                        source: i.source,
                        sources: i.sources,
                    },
                )
            })
            .map_err(|e| format!("{e:#}"))
    });
    let (snap, info) = loader().map_err(|e| anyhow::anyhow!(e))?;
    let opts = Options {
        max_batch: a.max_batch,
        token,
        timeout: Duration::from_secs(a.timeout as u64),
        body_limit: a.body_limit << 20,
        watch: (a.watch > 0).then(|| Duration::from_secs(a.watch)),
        max_answer: a.max_answer << 20,
        max_answer_memory: a.max_answer_memory << 20,
        write_timeout: Duration::from_secs(a.write_timeout as u64),
        cache: None,
        read_timeout: Duration::from_secs(a.read_timeout as u64),
        max_connections: a
            .max_connections
            .unwrap_or_else(tagnet::serve::default_max_connections),
        max_concurrent: a
            .max_concurrent
            .unwrap_or_else(tagnet::serve::default_max_concurrent),
    };
    let app = App::new(Loaded::new(snap, info), loader, opts);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let cur = app.current();
        tracing::info!(
            listen = %listener.local_addr()?,
            cloud = %cur.info.cloud,
            change_number = cur.info.change_number,
            "serving; the page is at http://{}/",
            listener.local_addr()?
        );
        if let Some(every) = refresh {
            let a2 = app.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let fetched = tokio::task::spawn_blocking(|| -> Result<()> {
                        let cache = tagnet::fetch::cache::Cache::locate()?;
                        let http = tagnet::fetch::Http::new(tagnet::fetch::HttpOptions::default())?;
                        let today = super::source::today();
                        tagnet::fetch::fetch(
                            &http,
                            &cache,
                            &tagnet::fetch::FetchRequest {
                                cloud: tagnet::fetch::Cloud::Public,
                                url: None,
                                force: false,
                                keep: 12,
                            },
                            &today,
                            &mut |_, _| {},
                        )?;
                        Ok(())
                    })
                    .await;
                    match fetched {
                        Ok(Ok(())) => {
                            let _ = a2.reload(false).await;
                        }
                        Ok(Err(e)) => tracing::warn!(
                            error = %format!("{e:#}").replace("give the file's address with --url", "fill the cache with `tagnet fetch --url URL` or `tagnet fetch --file PATH`"),
                            "refresh failed; serving the snapshot in use (a week `tagnet fetch` caches is picked up within --watch seconds)"
                        ),
                        Err(e) => tracing::warn!(error = %e, "refresh failed"),
                    }
                }
            });
        }
        tagnet::serve::run(app, listener)
            .await
            .context("serving")?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Status::Success)
}
