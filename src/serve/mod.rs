//! `tagnet serve`: the index held in memory behind a JSON API and a web page, swapped for a
//! newer snapshot without a restart.
//!
//! The snapshot and its index sit behind an [`ArcSwap`]: a request takes the current one at
//! its start and finishes on it, while a reload builds the next one beside it and swaps the
//! pointer. A snapshot that does not load is refused with a log line; the old one keeps
//! serving. Handlers that compute (lookups of large batches, UDR plans, NSG checks) run on the
//! blocking pool, so the async workers stay free.

mod audit;
mod catalog;
mod check;
mod conn;
mod diff;
mod feed;
mod flows;
mod guard;
mod http;
mod lookup;
mod map;
mod nsg;
mod pages;
mod path;
mod udr;

use audit::*;
use catalog::*;
use guard::*;
use http::*;
pub use http::{ApiError, param_name};
use lookup::*;
use nsg::*;
use pages::*;
use udr::*;

use crate::index::TagIndex;
use crate::snapshot::Snapshot;
use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server was loaded from, as `/v1/snapshot` shows it: the snapshot info every
/// report carries.
pub use crate::ops::SnapshotInfo as Info;

/// A snapshot and its index.
pub struct Loaded {
    /// The tags.
    pub snap: Snapshot,
    /// The index.
    pub index: TagIndex,
    /// Where it came from.
    pub info: Info,
    /// When it was loaded (seconds since the epoch).
    pub loaded_at: u64,
    /// The JSON texts of tags and prefixes, made once, for batch lookups.
    answers: crate::ops::lookup::AnswerWriter,
    /// A digest of the snapshot's content (every tag's name, region and prefixes): cursors
    /// carry it, so a page is never continued on other data of the same changeNumber.
    fingerprint: u64,
}

impl Loaded {
    /// Indexes a snapshot. A source that is a path is named by its file name only: the
    /// server's folders are nobody's business.
    pub fn new(snap: Snapshot, mut info: Info) -> Loaded {
        let file_name = |s: &mut String| {
            if s.contains(['/', '\\']) {
                let name = std::path::Path::new(s.as_str())
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                if let Some(n) = name {
                    *s = n;
                }
            }
        };
        file_name(&mut info.source);
        // Other sources' files too (a URL stays: it is public).
        for s in &mut info.sources {
            if !s.origin.contains("://") {
                file_name(&mut s.origin);
            }
        }
        let index = TagIndex::build(&snap);
        let answers = crate::ops::lookup::AnswerWriter::new(&snap, &index);
        let fingerprint = {
            let mut parts: Vec<Vec<u8>> = vec![snap.cloud().as_bytes().to_vec()];
            for t in snap.tags() {
                parts.push(t.name().as_bytes().to_vec());
                parts.push(t.region().as_bytes().to_vec());
                parts.extend(t.prefixes().map(|p| p.to_string().into_bytes()));
            }
            crate::text::digest(parts.iter().map(Vec::as_slice))
        };
        Loaded {
            snap,
            index,
            info,
            loaded_at: now(),
            answers,
            fingerprint,
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Loads the snapshot the server is configured for (re-read on every reload).
pub type Loader = Arc<dyn Fn() -> Result<(Snapshot, Info), String> + Send + Sync>;

/// Server settings.
#[derive(Clone)]
pub struct Options {
    /// The most addresses of one `POST /v1/lookup`.
    pub max_batch: usize,
    /// A bearer token every request but `/healthz` must carry.
    pub token: Option<String>,
    /// How long a request may take.
    pub timeout: Duration,
    /// The largest request body.
    pub body_limit: usize,
    /// How often to look for a newer snapshot (`None`: only on SIGHUP).
    pub watch: Option<Duration>,
    /// The largest answer, in bytes, checked while it is written.
    pub max_answer: usize,
    /// How long a client may take to send a request's headers, and then its body.
    pub read_timeout: Duration,
    /// The most connections open at once; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// The most requests one endpoint computes at once; others wait for a turn.
    pub max_concurrent: usize,
    /// The memory kept for answers being sent, in bytes: an answer that does not fit is
    /// refused (503) rather than kept for a client that reads slowly or not at all.
    pub max_answer_memory: usize,
    /// How long sending an answer may stall (the client takes no byte) before the
    /// connection is closed.
    pub write_timeout: Duration,
    /// The snapshot cache whose weeks the change feed (`/v1/changes`) reads; `None`: where
    /// the environment says (`TAGNET_CACHE`, …), as `tagnet fetch` keeps it.
    pub cache: Option<std::path::PathBuf>,
}

/// The default connection limit: 128 below the open-file limit (the index, logs and the
/// runtime need some), at most 4,096.
pub fn default_max_connections() -> usize {
    open_file_limit()
        .map_or(512, |n| n.saturating_sub(128) as usize)
        .clamp(16, 4096)
}

/// The soft limit on open files, where the system says (`/proc/self/limits` on Linux).
fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The default per-endpoint concurrency: the cores, at least two.
pub fn default_max_concurrent() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_batch: 1_000_000,
            token: None,
            timeout: Duration::from_secs(30),
            body_limit: 64 << 20,
            watch: Some(Duration::from_secs(60)),
            max_answer: 128 << 20,
            read_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            max_concurrent: default_max_concurrent(),
            max_answer_memory: 512 << 20,
            write_timeout: Duration::from_secs(30),
            cache: None,
        }
    }
}

#[derive(Default)]
struct Metrics {
    /// (route, status) → (count, seconds).
    requests: BTreeMap<(String, u16), (u64, f64)>,
    reloads: u64,
    reload_failures: u64,
    /// Times the accept loop found every connection slot taken (`--max-connections`).
    connection_waits: u64,
    /// Requests turned away because their endpoint stayed busy (`--max-concurrent`).
    busy: u64,
}

/// The server's shared state.
pub struct App {
    current: ArcSwap<Loaded>,
    loader: Loader,
    opts: Options,
    metrics: Mutex<Metrics>,
    reload_lock: tokio::sync::Mutex<()>,
    /// The last refusal logged, so a broken file is not logged at every look.
    last_refusal: Mutex<Option<String>>,
    /// Per endpoint (matched route): the turns of `--max-concurrent`.
    turns: Mutex<BTreeMap<String, Arc<tokio::sync::Semaphore>>>,
    /// The answer memory (`--max-answer-memory`), in KiB.
    answer_pool: Arc<tokio::sync::Semaphore>,
    /// Connections closed because sending stalled past `--write-timeout`.
    write_timeouts: Arc<std::sync::atomic::AtomicU64>,
}

impl App {
    /// A server state around a first snapshot.
    pub fn new(first: Loaded, loader: Loader, opts: Options) -> Arc<App> {
        let pool = (opts.max_answer_memory >> 10).clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        Arc::new(App {
            current: ArcSwap::from_pointee(first),
            loader,
            opts,
            metrics: Mutex::new(Metrics::default()),
            reload_lock: tokio::sync::Mutex::new(()),
            last_refusal: Mutex::new(None),
            turns: Mutex::new(BTreeMap::new()),
            answer_pool: Arc::new(tokio::sync::Semaphore::new(pool)),
            write_timeouts: Arc::default(),
        })
    }

    /// The snapshot in use now.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Loads the configured snapshot again and swaps it in when it differs from the one in
    /// use (or always, when `force`). Returns whether it swapped; a snapshot that does not load
    /// is refused and the old one kept.
    pub async fn reload(self: &Arc<App>, force: bool) -> Result<bool, String> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let loader = self.loader.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            loader().map(|(snap, info)| Loaded::new(snap, info))
        })
        .await
        .map_err(|e| e.to_string())?;
        match loaded {
            Ok(next) => {
                let cur = self.current();
                if !force && next.info == cur.info {
                    return Ok(false);
                }
                *self.last_refusal.lock().expect("refusal") = None;
                if next.info.cloud != cur.info.cloud {
                    tracing::warn!(from = %cur.info.cloud, to = %next.info.cloud, "the snapshot's cloud changed");
                } else if next.info.change_number < cur.info.change_number {
                    tracing::warn!(
                        from = cur.info.change_number,
                        to = next.info.change_number,
                        "the new snapshot is older than the one it replaces"
                    );
                }
                tracing::info!(
                    cloud = %next.info.cloud,
                    change_number = next.info.change_number,
                    source = %next.info.source,
                    "snapshot loaded"
                );
                self.current.store(Arc::new(next));
                self.metrics.lock().expect("metrics").reloads += 1;
                Ok(true)
            }
            Err(e) => {
                let mut last = self.last_refusal.lock().expect("refusal");
                if last.as_deref() != Some(e.as_str()) {
                    tracing::warn!(error = %e, "snapshot refused; the one in use keeps serving");
                    *last = Some(e.clone());
                    self.metrics.lock().expect("metrics").reload_failures += 1;
                }
                Err(e)
            }
        }
    }
}

/// The router: the API, the page, health and metrics.
pub fn router(app: Arc<App>) -> Router {
    let limit = app.opts.body_limit;
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/info", get(catalog::info))
        .route("/v1/regions", get(catalog::regions))
        .route("/v1/lookup", get(lookup_get).post(lookup_post))
        .route("/v1/tags", get(tags))
        .route("/v1/tags/{name}/prefixes", get(tag_prefixes))
        .route("/v1/udr", get(udr))
        .route("/v1/map", get(map::map))
        .route("/v1/nsg/verify", post(nsg_verify))
        .route("/v1/nsg/reach", post(nsg_reach))
        .route("/v1/nsg/require", post(nsg_require))
        .route("/v1/nsg/analyze", post(nsg_analyze))
        .route("/v1/routes/audit", post(routes_audit))
        .route("/v1/check", post(check::check))
        .route("/v1/path", post(path::path))
        .route("/v1/flows/verify", post(flows::verify))
        .route("/v1/flows/summary", post(flows::summary))
        .route("/v1/diff", post(diff::diff))
        .route("/v1/changes", get(feed::json_feed))
        .route("/v1/changes.atom", get(feed::atom))
        .route("/v1/changes/{week}", get(feed::week))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /v1/openapi.json") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app)
}

/// Serves until SIGINT or SIGTERM; reloads on SIGHUP and, with [`Options::watch`], when the
/// configured snapshot changes.
pub async fn run(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    spawn_reloads(app.clone());
    conn::serve(app, listener, shutdown()).await
}

/// Serves until `stop` completes (what [`run`] does on a signal), without the reload tasks:
/// for tests and embedders.
pub async fn serve_until(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    conn::serve(app, listener, stop).await
}

fn spawn_reloads(app: Arc<App>) {
    if let Some(every) = app.opts.watch {
        let a = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let _ = a.reload(false).await;
            }
        });
    }
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the snapshot");
            let _ = app.reload(true).await;
        }
    });
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
