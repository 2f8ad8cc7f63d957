//! Around every request: the size of its head, the bearer token, an announced body over the
//! limit (refused before it is read), a turn of its endpoint, the body read against a
//! deadline, the request's timeout, metrics, and JSON bodies for the errors axum makes itself.

use super::*;

/// The longest URL read: longer ones get 414 (many addresses go in a POST body).
const MAX_URI: usize = 16 << 10;
/// The largest head (all header names and values): larger ones get 431.
const MAX_HEADERS: usize = 64 << 10;

/// Endpoints whose options are in the body or that have none: a query parameter is refused,
/// as an unknown parameter is everywhere else.
const NO_QUERY: &[&str] = &[
    "/healthz",
    "/metrics",
    "/v1/openapi.json",
    "/v1/snapshot",
    "/v1/nsg/verify",
    "/v1/nsg/reach",
    "/v1/nsg/require",
    "/v1/nsg/analyze",
    "/v1/routes/audit",
    "/v1/check",
    "/v1/path",
    "/v1/flows/verify",
    "/v1/flows/summary",
    "/v1/changes",
    "/v1/changes.atom",
    "/v1/changes/{week}",
];

/// Endpoints that answer from memory at once and need no turn.
fn needs_turn(route: &str) -> bool {
    !matches!(
        route,
        "/" | "/healthz" | "/metrics" | "/v1/openapi.json" | "/v1/snapshot" | "other"
    )
}

fn error(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError {
        status,
        code,
        message,
    }
    .into_response()
}

/// Token, timeout and metrics around every request; no body is logged.
pub(super) async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let path = req.uri().path().to_string();
    let uri_len = req.uri().to_string().len();
    if uri_len > MAX_URI {
        let r = error(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            format!(
                "the URL has {uri_len} bytes, more than this server reads ({MAX_URI}); send many addresses as a POST body"
            ),
        );
        record(&app, &route, r.status().as_u16(), start);
        return r;
    }
    let head: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if head > MAX_HEADERS {
        let r = error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            format!("the headers have {head} bytes, more than this server reads ({MAX_HEADERS})"),
        );
        record(&app, &route, r.status().as_u16(), start);
        return r;
    }
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
    if NO_QUERY.contains(&route.as_str())
        && let Some((key, _)) = pairs(&req.uri().query().map(str::to_string))
            .into_iter()
            .next()
    {
        let r = error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!(
                "unknown parameter `{key}`: {route} takes no query parameters{}",
                if route.starts_with("/v1/")
                    && route != "/v1/snapshot"
                    && route != "/v1/openapi.json"
                {
                    "; its options go in the JSON body"
                } else {
                    ""
                }
            ),
        );
        record(&app, &route, r.status().as_u16(), start);
        return r;
    }
    // An announced body over the limit is refused before a byte of it is read (and before
    // `100 Continue`, which hyper sends only when the body is read).
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = announced
        && n > app.opts.body_limit as u64
    {
        let r = too_large_body(&app, Some(n));
        record(&app, &route, r.status().as_u16(), start);
        return r;
    }
    let resp = match tokio::time::timeout(app.opts.timeout, turn_then_run(&app, &route, req, next))
        .await
    {
        Ok(r) => r,
        Err(_) => ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "timeout",
            message: format!(
                "the request took longer than {:?} (--timeout) and was given up",
                app.opts.timeout
            ),
        }
        .into_response(),
    };
    let resp = json_errors(resp).await;
    let status = resp.status().as_u16();
    record(&app, &route, status, start);
    tracing::debug!(%path, status, micros = start.elapsed().as_micros() as u64, "request");
    resp
}

fn too_large_body(app: &App, announced: Option<u64>) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!(
            "the request body{} is larger than this server takes, {} MiB (--body-limit)",
            announced.map_or(String::new(), |n| format!(" ({n} bytes)")),
            app.opts.body_limit >> 20
        ),
    )
}

/// Reads the body against the read deadline, then waits for a turn of the endpoint
/// (`--max-concurrent`) and runs the handler. The body comes first, so a client sending it
/// slowly holds no turn; a request that waits past the read deadline for its turn is turned
/// away with 503 and `Retry-After`.
async fn turn_then_run(app: &Arc<App>, route: &str, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let limit = app.opts.body_limit;
    let bytes = match tokio::time::timeout(app.opts.read_timeout, axum::body::to_bytes(body, limit))
        .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return if e.to_string().contains("length limit") {
                too_large_body(app, None)
            } else {
                error(
                    StatusCode::BAD_REQUEST,
                    "bad-body",
                    format!("the request body could not be read: {e}"),
                )
            };
        }
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "read-timeout",
                format!(
                    "the request body did not arrive within {:?} (--read-timeout)",
                    app.opts.read_timeout
                ),
            );
        }
    };
    let turn = if needs_turn(route) {
        let sem = app
            .turns
            .lock()
            .expect("turns")
            .entry(route.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(app.opts.max_concurrent)))
            .clone();
        match tokio::time::timeout(app.opts.read_timeout, sem.acquire_owned()).await {
            Ok(Ok(t)) => Some(Arc::new(t)),
            _ => {
                app.metrics.lock().expect("metrics").busy += 1;
                let mut r = error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!(
                        "{} to {route} {} being answered, the most at once (--max-concurrent); retry in a moment",
                        if app.opts.max_concurrent == 1 {
                            "1 request".to_string()
                        } else {
                            format!("{} requests", app.opts.max_concurrent)
                        },
                        if app.opts.max_concurrent == 1 {
                            "is"
                        } else {
                            "are"
                        }
                    ),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
        }
    } else {
        None
    };
    // The turn is shared with the work the handler runs off the async workers
    // ([`off_thread`]): it is given back when that work ends, not when the answer is given up.
    TURN.scope(
        turn,
        next.run(Request::from_parts(parts, axum::body::Body::from(bytes))),
    )
    .await
}

/// Errors from the framework itself (a body over the limit, a method not allowed, a path that
/// is not UTF-8) come as plain text or nothing: rewritten as the API's JSON errors.
pub(super) async fn json_errors(resp: Response) -> Response {
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

pub(super) fn record(app: &App, route: &str, status: u16, start: Instant) {
    let mut m = app.metrics.lock().expect("metrics");
    let e = m.requests.entry((route.to_string(), status)).or_default();
    e.0 += 1;
    e.1 += start.elapsed().as_secs_f64();
}
