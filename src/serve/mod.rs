//! `tagnet serve`: the index held in memory behind a JSON API and a web page, swapped for a
//! newer snapshot without a restart.
//!
//! The snapshot and its index sit behind an [`ArcSwap`]: a request takes the current one at
//! its start and finishes on it, while a reload builds the next one beside it and swaps the
//! pointer. A snapshot that does not load is refused with a log line; the old one keeps
//! serving. Handlers that compute (lookups of large batches, UDR plans, NSG checks) run on the
//! blocking pool, so the async workers stay free.

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
use std::net::{IpAddr, SocketAddr};
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
}

impl Loaded {
    /// Indexes a snapshot.
    pub fn new(snap: Snapshot, info: Info) -> Loaded {
        let index = TagIndex::build(&snap);
        Loaded {
            snap,
            index,
            info,
            loaded_at: now(),
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_batch: 1_000_000,
            token: None,
            timeout: Duration::from_secs(30),
            body_limit: 64 << 20,
            watch: Some(Duration::from_secs(60)),
        }
    }
}

#[derive(Default)]
struct Metrics {
    /// (route, status) → (count, seconds).
    requests: BTreeMap<(String, u16), (u64, f64)>,
    reloads: u64,
    reload_failures: u64,
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
}

impl App {
    /// A server state around a first snapshot.
    pub fn new(first: Loaded, loader: Loader, opts: Options) -> Arc<App> {
        Arc::new(App {
            current: ArcSwap::from_pointee(first),
            loader,
            opts,
            metrics: Mutex::new(Metrics::default()),
            reload_lock: tokio::sync::Mutex::new(()),
            last_refusal: Mutex::new(None),
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

/// An API error: `{"error": {"code": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad-request",
            message: message.into(),
        }
    }
    fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid-input",
            message: message.into(),
        }
    }
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not-found",
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

/// A request field as the server spells it: the query parameter's name.
pub fn param_name(field: &str) -> String {
    match field {
        "regions" => "region".into(),
        "tags" => "tag".into(),
        "only_tags" => "only_tag".into(),
        other => other.into(),
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> ApiError {
        let text = e.spelled(&|f: &str| format!("`{}`", param_name(f)));
        if matches!(e, crate::Error::Field { .. }) {
            ApiError::bad(text)
        } else if text.contains("unknown") {
            ApiError::not_found(text)
        } else {
            ApiError::unprocessable(text)
        }
    }
}

type ApiResult = Result<Response, ApiError>;

/// The router: the API, the page, health and metrics.
pub fn router(app: Arc<App>) -> Router {
    let limit = app.opts.body_limit;
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/lookup", get(lookup_get).post(lookup_post))
        .route("/v1/tags", get(tags))
        .route("/v1/tags/{name}/prefixes", get(tag_prefixes))
        .route("/v1/udr", get(udr))
        .route("/v1/nsg/verify", post(nsg_verify))
        .route("/v1/nsg/reach", post(nsg_reach))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /v1/openapi.json") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app)
}

/// Token, timeout and metrics around every request; no body is logged.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let path = req.uri().path().to_string();
    // The page and the health check are open; the page sends the token with its API calls.
    if let Some(token) = &app.opts.token
        && path != "/healthz"
        && path != "/"
    {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        if given != Some(token.as_str()) {
            let mut r = ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: "this server needs `Authorization: Bearer TOKEN`".into(),
            }
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            record(&app, &route, r.status().as_u16(), start);
            return r;
        }
    }
    let resp = match tokio::time::timeout(app.opts.timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "timeout",
            message: format!("the request took longer than {:?}", app.opts.timeout),
        }
        .into_response(),
    };
    let resp = json_errors(resp).await;
    let status = resp.status().as_u16();
    record(&app, &route, status, start);
    tracing::debug!(%path, status, micros = start.elapsed().as_micros() as u64, "request");
    resp
}

/// Errors from the framework itself (a body over the limit, a method not allowed, a path that
/// is not UTF-8) come as plain text or nothing: rewritten as the API's JSON errors.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too-large",
            "the request body is larger than this server takes (--body-limit)".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            format!(
                "this endpoint takes {}",
                parts
                    .headers
                    .get(header::ALLOW)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("another method")
            ),
        ),
        s if s.is_client_error() => (
            "bad-request",
            if text.is_empty() { s.to_string() } else { text },
        ),
        s => (
            "internal",
            if text.is_empty() { s.to_string() } else { text },
        ),
    };
    let mut r = ApiError {
        status,
        code,
        message,
    }
    .into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        r.headers_mut().insert(header::ALLOW, allow.clone());
    }
    r
}

fn record(app: &App, route: &str, status: u16, start: Instant) {
    let mut m = app.metrics.lock().expect("metrics");
    let e = m.requests.entry((route.to_string(), status)).or_default();
    e.0 += 1;
    e.1 += start.elapsed().as_secs_f64();
}

async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("page.html"),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

fn snapshot_json(l: &Loaded) -> Value {
    let age = l
        .info
        .date
        .as_deref()
        .and_then(|d| crate::load::builtin::age_days(d, now()));
    json!({
        "cloud": l.info.cloud,
        "change_number": l.info.change_number,
        "date": l.info.date,
        "source": l.info.source,
        "loaded_at": l.loaded_at,
        "age_days": age,
    })
}

async fn snapshot(State(app): State<Arc<App>>) -> Response {
    axum::Json(snapshot_json(&app.current())).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let cur = app.current();
    let m = app.metrics.lock().expect("metrics");
    let mut out = String::new();
    out.push_str("# HELP tagnet_requests_total Requests by route and status.\n# TYPE tagnet_requests_total counter\n");
    for ((route, status), (n, _)) in &m.requests {
        out.push_str(&format!(
            "tagnet_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP tagnet_request_seconds Time spent answering, by route.\n# TYPE tagnet_request_seconds summary\n");
    let mut by_route: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for ((route, _), (n, s)) in &m.requests {
        let e = by_route.entry(route).or_default();
        e.0 += n;
        e.1 += s;
    }
    for (route, (n, s)) in by_route {
        out.push_str(&format!(
            "tagnet_request_seconds_sum{{route=\"{route}\"}} {s:.6}\ntagnet_request_seconds_count{{route=\"{route}\"}} {n}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP tagnet_snapshot_change_number The changeNumber served.\n# TYPE tagnet_snapshot_change_number gauge\ntagnet_snapshot_change_number{{cloud=\"{}\"}} {}\n",
        cur.info.cloud, cur.info.change_number
    ));
    if let Some(age) = cur
        .info
        .date
        .as_deref()
        .and_then(|d| crate::load::builtin::age_days(d, now()))
    {
        out.push_str(&format!(
            "# HELP tagnet_snapshot_age_days Days since the snapshot was published.\n# TYPE tagnet_snapshot_age_days gauge\ntagnet_snapshot_age_days {age}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP tagnet_reloads_total Snapshots swapped in since start.\n# TYPE tagnet_reloads_total counter\ntagnet_reloads_total {}\n# HELP tagnet_reload_failures_total Snapshots refused (each distinct failure once).\n# TYPE tagnet_reload_failures_total counter\ntagnet_reload_failures_total {}\n",
        m.reloads, m.reload_failures
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// The query's pairs, decoded.
fn pairs(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A parameter given at most once.
fn one(pairs: &[(String, String)], key: &str) -> Result<Option<String>, ApiError> {
    let mut it = pairs.iter().filter(|(k, _)| k == key);
    let first = it.next().map(|(_, v)| v.clone());
    if it.next().is_some() {
        return Err(ApiError::bad(format!(
            "`{key}` is given more than once; give it once"
        )));
    }
    Ok(first)
}

/// A boolean parameter: true/false/1/0, any case; absent is false.
fn flag(pairs: &[(String, String)], key: &str) -> Result<bool, ApiError> {
    match one(pairs, key)?.map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(x) => Err(ApiError::bad(format!("`{key}` `{x}`: true or false"))),
    }
}

fn known_keys(pairs: &[(String, String)], keys: &[&str]) -> Result<(), ApiError> {
    match pairs.iter().find(|(k, _)| !keys.contains(&k.as_str())) {
        Some((k, _)) => Err(ApiError::bad(format!(
            "unknown parameter `{k}`; this endpoint takes {}",
            keys.join(", ")
        ))),
        None => Ok(()),
    }
}

/// One answer of `lookup` ([`crate::ops::lookup::answer`]), written as JSON into `buf`:
/// `{"ip": …, "matches": [{tag, region, system_service, prefix}]}` for an address (the records
/// of `lookup --format json`), or `{"query": …, "matches": [… relation]}` for a prefix.
fn answer(l: &Loaded, buf: &mut String, text: &str, region: Option<&str>) -> Result<(), String> {
    use crate::ops::lookup;
    let q = lookup::parse_query(text).map_err(|reason| {
        format!(
            "`{}` is not an IP address or prefix: {reason}",
            crate::text::quoted(text.trim())
        )
    })?;
    let a = lookup::answer(&l.snap, &l.index, q, region);
    buf.push_str(&serde_json::to_string(&a).map_err(|e| e.to_string())?);
    Ok(())
}

/// `{"snapshot": …, "records": [ITEMS]}` around items already written as JSON.
fn records_text(l: &Loaded, items: &[String]) -> Response {
    let head = format!(
        "{{\"snapshot\":{},\"records\":[",
        serde_json::to_string(&l.info).unwrap_or_default()
    );
    let len = head.len() + items.iter().map(|i| i.len() + 1).sum::<usize>() + 3;
    let mut body = String::with_capacity(len);
    body.push_str(&head);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str("]}\n");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn region_param(l: &Loaded, r: Option<String>) -> Result<Option<String>, ApiError> {
    r.filter(|r| !r.is_empty())
        .map(|r| l.snap.resolve_region(&r).map(str::to_string))
        .transpose()
        .map_err(|e| ApiError::not_found(e.to_string()))
}

async fn lookup_get(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["ip", "region"])?;
    let l = app.current();
    let region = region_param(&l, one(&p, "region")?)?;
    let ips: Vec<&String> = p
        .iter()
        .filter(|(k, _)| k == "ip")
        .map(|(_, v)| v)
        .collect();
    if ips.is_empty() {
        return Err(ApiError::bad("give ?ip=ADDRESS (repeatable) or a prefix"));
    }
    if ips.len() > app.opts.max_batch {
        return Err(too_many(ips.len(), app.opts.max_batch));
    }
    let mut buf = String::new();
    for (i, t) in ips.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        answer(&l, &mut buf, t, region.as_deref()).map_err(ApiError::unprocessable)?;
    }
    Ok(records_text(&l, &[buf]))
}

fn too_many(n: usize, max: usize) -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too-many",
        message: format!("{n} addresses; this server takes at most {max} a request (--max-batch)"),
    }
}

async fn lookup_post(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["region"])?;
    let l = app.current();
    let region = region_param(&l, one(&p, "region")?)?;
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let max = app.opts.max_batch;
    let l2 = l.clone();
    let out = tokio::task::spawn_blocking(move || -> Result<Vec<String>, ApiError> {
        // (position, text): the array index, or the line number of a text body.
        let items: Vec<(usize, String)> = if json_body {
            serde_json::from_slice::<Vec<String>>(&body)
                .map_err(|e| {
                    ApiError::bad(format!("the body is not a JSON array of strings: {e}"))
                })?
                .into_iter()
                .enumerate()
                .map(|(i, t)| (i + 1, t))
                .collect()
        } else {
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::bad("the body is not UTF-8 text"))?;
            text.trim_start_matches('\u{feff}')
                .lines()
                .enumerate()
                .map(|(i, x)| (i + 1, x.split('#').next().unwrap_or("").trim().to_string()))
                .filter(|(_, x)| !x.is_empty())
                .collect()
        };
        if items.is_empty() {
            return Err(ApiError::bad(
                "no address in the body: send a JSON array of strings, or one address a line",
            ));
        }
        if items.len() > max {
            return Err(too_many(items.len(), max));
        }
        let what = if json_body { "item" } else { "line" };
        // Chunks answered in parallel, each into one buffer, joined in input order; an
        // item that is not an address or prefix is answered with its error, and the rest go on.
        use rayon::prelude::*;
        Ok(items
            .par_chunks(4096)
            .map(|chunk| {
                let mut buf = String::with_capacity(chunk.len() * 160);
                for (k, (pos, t)) in chunk.iter().enumerate() {
                    if k > 0 {
                        buf.push(',');
                    }
                    let mark = buf.len();
                    if let Err(e) = answer(&l2, &mut buf, t, region.as_deref()) {
                        buf.truncate(mark);
                        buf.push_str(
                            &json!({"input": crate::text::quoted(t), what: pos, "error": e})
                                .to_string(),
                        );
                    }
                }
                buf
            })
            .filter(|s| !s.is_empty())
            .collect())
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))??;
    Ok(records_text(&l, &out))
}

async fn tags(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["region", "service", "feature", "name"])?;
    let l = app.current();
    let params = crate::ops::catalog::TagsParams {
        region: one(&p, "region")?,
        service: one(&p, "service")?,
        feature: one(&p, "feature")?,
        name: one(&p, "name")?,
    };
    let recs = crate::ops::catalog::tags(&l.snap, &params).map_err(|e| match e {
        // An unknown feature is a thing not found, as an unknown region is.
        crate::Error::Field { .. } => {
            ApiError::not_found(e.spelled(&|f: &str| format!("`{}`", param_name(f))))
        }
        other => ApiError::from(other),
    })?;
    Ok(axum::Json(crate::ops::Records {
        snapshot: &l.info,
        records: &recs,
    })
    .into_response())
}

async fn tag_prefixes(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["region", "family", "aggregate"])?;
    let l = app.current();
    let params = crate::ops::catalog::PrefixesParams {
        tags: vec![name],
        region: one(&p, "region")?,
        family: crate::ops::catalog::Family::parse(
            &one(&p, "family")?.unwrap_or_default(),
            "family",
        )?,
        aggregate: flag(&p, "aggregate")?,
        minus: Vec::new(),
        intersect: Vec::new(),
    };
    let report = crate::ops::catalog::prefixes(&l.snap, &l.info, &params)?;
    // `records` repeats `prefixes` for clients of the first version of this endpoint.
    let mut doc =
        serde_json::to_value(&report).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    doc["records"] = doc["prefixes"].clone();
    Ok(axum::Json(doc).into_response())
}

async fn udr(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    use crate::routes::deploy::{self, Layout};
    let p = pairs(&q);
    known_keys(
        &p,
        &[
            "region",
            "profile",
            "tag",
            "only_tag",
            "format",
            "max_routes",
            "reserve",
            "paired",
            "ipv6",
            "exact",
            "use_service_tags",
            "next_hop",
            "next_hop_ip",
            "never_cover",
        ],
    )?;
    let all = |key: &str| -> Vec<String> {
        p.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let number = |key: &str, min: usize| -> Result<Option<usize>, ApiError> {
        one(&p, key)?
            .map(|m| {
                m.parse::<usize>()
                    .ok()
                    .filter(|&m| m >= min)
                    .ok_or_else(|| ApiError::bad(format!("`{key}` `{m}`: a number from {min}")))
            })
            .transpose()
    };
    // `profile=none` with tags: only the named tags (the CLI's --only-tag).
    let (profile, tags, only_tags) = match one(&p, "profile")?.as_deref() {
        Some(x) if x.eq_ignore_ascii_case("none") => {
            let mut only = all("only_tag");
            only.extend(all("tag"));
            if only.is_empty() {
                return Err(ApiError::bad(
                    "`profile` none needs `tag`=NAME (repeatable)",
                ));
            }
            (None, Vec::new(), only)
        }
        other => (other.map(str::to_string), all("tag"), all("only_tag")),
    };
    let params = crate::ops::udr::UdrParams {
        regions: all("region"),
        paired: flag(&p, "paired")?,
        profile,
        tags,
        only_tags,
        ipv6: flag(&p, "ipv6")?,
        next_hop: one(&p, "next_hop")?,
        next_hop_ip: one(&p, "next_hop_ip")?,
        max_routes: number("max_routes", 1)?,
        reserve: number("reserve", 0)?,
        exact: flag(&p, "exact")?,
        use_service_tags: flag(&p, "use_service_tags")?,
        never_cover: all("never_cover"),
    };
    let format = one(&p, "format")?
        .unwrap_or_else(|| "json".into())
        .to_ascii_lowercase();
    if !["json", "csv", "az", "arm", "bicep", "terraform"].contains(&format.as_str()) {
        return Err(ApiError::bad(format!(
            "`format` `{}`: json, csv, az, arm, bicep or terraform",
            crate::text::quoted(&format)
        )));
    }
    let l = app.current();
    let l2 = l.clone();
    let report =
        tokio::task::spawn_blocking(move || crate::ops::udr::udr(&l2.snap, &l2.info, &params))
            .await
            .map_err(|e| ApiError::unprocessable(e.to_string()))?
            .map_err(ApiError::from)?
            .map_err(|over| {
                ApiError::unprocessable(over.spelled(&|f: &str| format!("`{}`", param_name(f))))
            })?;
    let header = report.header();
    let routes = &report.plan_routes;
    let max = report.budget.max_routes;
    let (body, ctype, ext) = match format.as_str() {
        "json" => (
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
            "application/json",
            "json",
        ),
        "csv" => {
            let recs: Vec<crate::ops::udr::RouteRecord> = report.routes.clone();
            let mut out = Vec::new();
            crate::render::csv(
                &mut out,
                &crate::ops::udr::RouteRecord::HEADERS,
                recs.iter().map(|r| r.cells()),
            )
            .map_err(|e| ApiError::unprocessable(e.to_string()))?;
            (
                String::from_utf8_lossy(&out).into_owned(),
                "text/csv; charset=utf-8",
                "csv",
            )
        }
        "az" => (
            deploy::az(routes, &header, max),
            "text/x-shellscript; charset=utf-8",
            "sh",
        ),
        "arm" => (
            deploy::arm(routes, &header, Layout::Routes),
            "application/json",
            "arm.json",
        ),
        "bicep" => (
            deploy::bicep(routes, &header, Layout::Routes),
            "text/plain; charset=utf-8",
            "bicep",
        ),
        _ => (
            deploy::terraform(routes, &header, Layout::Routes),
            "text/plain; charset=utf-8",
            "tf",
        ),
    };
    let file = format!("{}.{ext}", report.file_stem());
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `{"nsg": NSG JSON, "nic_nsg": …, "vnet": ["10.0.0.0/16"], "asgs": {"web": ["10.0.1.4"]}}`:
/// the scope of `nsg verify` and `nsg reach`.
fn nsg_scope(body: &Value) -> Result<crate::ops::nsg::Scope, ApiError> {
    const KEYS: [&str; 10] = [
        "nsg",
        "nic_nsg",
        "vnet",
        "asgs",
        "flows",
        "direction",
        "protocol",
        "port",
        "local",
        "region",
    ];
    let Some(obj) = body.as_object() else {
        return Err(ApiError::unprocessable(
            "the body is a JSON object: {\"nsg\": …, \"vnet\": [...], …}",
        ));
    };
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "unknown key `{k}`; the body takes nsg, nic_nsg, vnet, asgs and the endpoint's own keys"
        )));
    }
    if body
        .get("vnet")
        .is_some_and(|v| !v.is_array() && !v.is_null())
    {
        return Err(ApiError::unprocessable(
            "`vnet` is a list of CIDR prefixes, e.g. [\"10.0.0.0/16\"]",
        ));
    }
    let mut vnet = Vec::new();
    for v in body
        .get("vnet")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(t) = v.as_str() else {
            return Err(ApiError::unprocessable(format!(
                "vnet item `{v}` is not a string"
            )));
        };
        vnet.push(
            crate::text::address_or_prefix(t, crate::text::HostBits::Clear).map_err(|e| {
                ApiError::unprocessable(format!(
                    "vnet `{}` is not a CIDR prefix: {e}",
                    crate::text::quoted(t)
                ))
            })?,
        );
    }
    let mut asgs = BTreeMap::new();
    if let Some(o) = body.get("asgs").and_then(Value::as_object) {
        for (k, v) in o {
            let ips: Option<Vec<IpAddr>> = v
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| crate::text::address(x.as_str()?).ok().map(|a| a.0))
                .collect();
            asgs.insert(
                k.clone(),
                ips.ok_or_else(|| {
                    ApiError::unprocessable(format!("asgs.{k}: not a list of IP addresses"))
                })?,
            );
        }
    }
    let read = |key: &str| -> Result<Option<crate::nsg::model::Nsg>, ApiError> {
        let Some(doc) = body.get(key).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let mut nsgs = crate::nsg::load::parse(doc.to_string().as_bytes(), key)?;
        if nsgs.len() != 1 {
            return Err(ApiError::unprocessable(format!(
                "`{key}` holds {} NSGs; give one",
                nsgs.len()
            )));
        }
        Ok(Some(nsgs.remove(0)))
    };
    Ok(crate::ops::nsg::Scope {
        nsg: read("nsg")?,
        nic_nsg: read("nic_nsg")?,
        vnet,
        asgs,
    })
}

fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("the body is not JSON: {e}")))
}

/// A library error of an NSG request: unprocessable input, named as the server spells it.
fn nsg_error(e: crate::Error) -> ApiError {
    ApiError::unprocessable(e.spelled(&|f: &str| format!("`{}`", param_name(f))))
}

async fn nsg_verify(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let l = app.current();
    let max = app.opts.max_batch;
    let l2 = l.clone();
    let out = tokio::task::spawn_blocking(move || {
        let body = json_body(&body)?;
        let scope = nsg_scope(&body)?;
        let flows = body
            .get("flows")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::unprocessable("give `flows`: a list of {direction, protocol, local_ip, local_port, remote_ip, remote_port}"))?;
        if flows.len() > max {
            return Err(too_many(flows.len(), max));
        }
        let flows = flows
            .iter()
            .enumerate()
            .map(|(i, f)| {
                crate::nsg::model::Flow::from_json(f)
                    .map_err(|e| ApiError::unprocessable(format!("flows[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        crate::ops::nsg::verify(&l2.snap, &scope, &flows).map_err(nsg_error)
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))??;
    Ok(axum::Json(crate::ops::Records {
        snapshot: &l.info,
        records: &out,
    })
    .into_response())
}

async fn nsg_reach(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let l = app.current();
    let l2 = l.clone();
    let report = tokio::task::spawn_blocking(move || {
        let body = json_body(&body)?;
        let scope = nsg_scope(&body)?;
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let port = match body.get("port") {
            None => 0,
            Some(p) => p
                .as_u64()
                .filter(|&p| p <= 65535)
                .ok_or_else(|| ApiError::unprocessable("`port`: 0 to 65535"))?
                as u16,
        };
        let params = crate::ops::nsg::ReachParams {
            direction: text("direction"),
            protocol: text("protocol"),
            port,
            local: body
                .get("local")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        crate::ops::nsg::reach(&l2.snap, &l2.info, &scope, &params).map_err(nsg_error)
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))??;
    Ok(axum::Json(report).into_response())
}

/// Serves until SIGINT or SIGTERM; reloads on SIGHUP and, with [`Options::watch`], when the
/// configured snapshot changes.
pub async fn run(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    spawn_reloads(app.clone());
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
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
