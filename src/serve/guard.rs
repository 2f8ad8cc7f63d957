//! Around every request: the bearer token, the timeout, metrics, and JSON bodies for the
//! errors axum makes itself.

use super::*;

/// Token, timeout and metrics around every request; no body is logged.
pub(super) async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
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
