//! The request side of the API: query parameters read strictly (unknown or repeated keys are
//! refused) and the one error type every handler answers with.

use super::*;

/// An API error: `{"error": {"code": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl ApiError {
    pub(super) fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad-request",
            message: message.into(),
        }
    }
    pub(super) fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid-input",
            message: message.into(),
        }
    }
    pub(super) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not-found",
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let busy = self.code == "busy";
        let mut r = (
            self.status,
            axum::Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if busy {
            // A moment is all it takes.
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
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

pub(super) type ApiResult = Result<Response, ApiError>;

/// The query's pairs, decoded.
pub(super) fn pairs(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                // `?&` and `?=` say nothing: no parameter.
                .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A parameter given at most once.
pub(super) fn one(pairs: &[(String, String)], key: &str) -> Result<Option<String>, ApiError> {
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
pub(super) fn flag(pairs: &[(String, String)], key: &str) -> Result<bool, ApiError> {
    match one(pairs, key)?.map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(x) => Err(ApiError::bad(format!("`{key}` `{x}`: true or false"))),
    }
}

pub(super) fn known_keys(pairs: &[(String, String)], keys: &[&str]) -> Result<(), ApiError> {
    match pairs.iter().find(|(k, _)| !keys.contains(&k.as_str())) {
        Some((k, v)) if k.is_empty() => Err(ApiError::bad(format!(
            "a parameter without a name (`={v}`); this endpoint takes {}",
            if keys.is_empty() {
                "no parameters".to_string()
            } else {
                keys.join(", ")
            }
        ))),
        Some((k, _)) if keys.is_empty() => Err(ApiError::bad(format!(
            "unknown parameter `{k}`; this endpoint takes no parameters"
        ))),
        Some((k, _)) => Err(ApiError::bad(format!(
            "unknown parameter `{k}`; this endpoint takes {}",
            keys.join(", ")
        ))),
        None => Ok(()),
    }
}

pub(super) fn too_many(n: usize, max: usize) -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too-many",
        message: format!("{n} addresses; this server takes at most {max} a request (--max-batch)"),
    }
}

/// The answer would pass the server's size budget (`--max-answer`).
pub(super) fn answer_too_large(max: usize, hint: &str) -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "answer-too-large",
        message: format!(
            "the answer passed {} MiB, the most this server sends (--max-answer); {hint}",
            max >> 20
        ),
    }
}

/// A flag a computation looks at between steps: set when the request is dropped (its client
/// went away, or its deadline passed), so work nobody waits for stops.
#[derive(Clone, Default)]
pub(super) struct Cancel(Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    /// Whether the request is gone.
    pub(super) fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// A guard that sets the flag when dropped: held by the async handler across its wait.
    pub(super) fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Sets its [`Cancel`] when dropped.
pub(super) struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A writer that refuses to grow past a budget: answers are serialized into it, so an answer
/// over `--max-answer` stops while it is written instead of after.
pub(super) struct Capped {
    pub(super) buf: Vec<u8>,
    max: usize,
}

impl Capped {
    pub(super) fn new(max: usize) -> Capped {
        Capped {
            buf: Vec::new(),
            max,
        }
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + b.len() > self.max {
            return Err(std::io::Error::other("over budget"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

tokio::task_local! {
    /// The endpoint's turn (`--max-concurrent`) the request holds, shared with the work it
    /// runs off the async workers: the turn is given back when both are done, so work a
    /// timed-out request left behind still counts against the endpoint.
    pub(super) static TURN: Option<Arc<tokio::sync::OwnedSemaphorePermit>>;
}

/// Runs `f` off the async workers, holding the request's turn until it ends and with the
/// request's [`Cancel`] set (and [`crate::cancel`]'s flag with it) when the request is dropped.
pub(super) async fn off_thread<T: Send + 'static>(
    f: impl FnOnce(&Cancel) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let turn = TURN.try_with(Clone::clone).ok().flatten();
    let cancel = Cancel::default();
    let _stop_when_dropped = cancel.on_drop();
    let c = cancel.clone();
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        crate::cancel::scope(c.0.clone(), || f(&c))
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))
}

/// Takes `bytes` of the server's memory for answers being sent (`--max-answer-memory`),
/// given back when the body is dropped (sent, or its connection closed); refused with 503
/// when that memory is in use, rather than kept.
pub(super) fn answer_memory(
    app: &App,
    bytes: usize,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
    if bytes > app.opts.max_answer_memory {
        // It would never fit: not a moment to wait for.
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "answer-too-large",
            message: format!(
                "the answer has {} MiB, more than the {} MiB this server keeps for answers (--max-answer-memory); page it or narrow it",
                bytes >> 20,
                app.opts.max_answer_memory >> 20
            ),
        });
    }
    app.answer_pool
        .clone()
        .try_acquire_many_owned(kib.max(1))
        .map_err(|_| {
            app.metrics.lock().expect("metrics").busy += 1;
            ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "busy",
                message: format!(
                    "answers still being sent hold the {} MiB this server keeps for them (--max-answer-memory); retry in a moment",
                    app.opts.max_answer_memory >> 20
                ),
            }
        })
}

/// An answer's body: chunks already made, sent one after another with their total as its
/// length, holding their share of the answer memory until the body is dropped.
pub(super) struct Held {
    pub(super) chunks: std::collections::VecDeque<Bytes>,
    pub(super) _memory: tokio::sync::OwnedSemaphorePermit,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(
            self.get_mut()
                .chunks
                .pop_front()
                .map(|b| Ok(http_body::Frame::data(b))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.chunks.iter().map(|b| b.len() as u64).sum())
    }
}

/// A JSON answer of chunks, within the answer memory.
pub(super) fn held_json(app: &App, chunks: std::collections::VecDeque<Bytes>) -> ApiResult {
    let size: usize = chunks.iter().map(Bytes::len).sum();
    let memory = answer_memory(app, size)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::new(Held {
            chunks,
            _memory: memory,
        }),
    )
        .into_response())
}

/// `v` as the JSON answer, serialized off the async workers, within the answer budget and
/// the answer memory.
pub(super) async fn json_answer<T: serde::Serialize + Send + 'static>(
    app: &App,
    v: T,
) -> ApiResult {
    let max = app.opts.max_answer;
    let bytes = off_thread(move |_| {
        let mut w = Capped::new(max);
        serde_json::to_writer(&mut w, &v).map(|()| {
            w.buf.push(b'\n');
            w.buf
        })
    })
    .await?
    .map_err(|_| answer_too_large(max, "narrow the request (fewer inputs, a region, a tag)"))?;
    held_json(app, std::collections::VecDeque::from([Bytes::from(bytes)]))
}

/// `{"snapshot": …, "records": […], "warnings": […]}` with owned parts (as
/// [`crate::ops::Records`] writes it), for answers serialized off the handler.
#[derive(serde::Serialize)]
pub(super) struct OwnedRecords<R> {
    pub(super) snapshot: Info,
    pub(super) records: Vec<R>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) warnings: Vec<String>,
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("the body is not JSON: {e}")))
}

/// A list of strings in the body (a lone string is one item).
pub(super) fn strings(body: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::unprocessable(format!("`{key}` is a list of strings")))
            })
            .collect(),
        Some(_) => Err(ApiError::unprocessable(format!(
            "`{key}` is a string or a list of strings"
        ))),
    }
}

/// The body as an object taking only `keys`; `shape` shows what it should look like.
pub(super) fn body_object<'b>(
    body: &'b Value,
    keys: &[&str],
    shape: &str,
) -> Result<&'b serde_json::Map<String, Value>, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::unprocessable(format!(
            "the body is a JSON object: {shape}"
        )));
    };
    if let Some(k) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "unknown key `{k}`; the body takes {}",
            keys.join(", ")
        )));
    }
    Ok(obj)
}

/// An optional string in the body (`null` is absent).
pub(super) fn opt_string(body: &Value, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::unprocessable(format!("`{key}` is a string"))),
    }
}

pub(super) fn boolean(body: &Value, key: &str) -> Result<bool, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::unprocessable(format!("`{key}`: true or false"))),
    }
}

/// Severity settings in a body: `deny`, `warn` and `allow` lists of codes, as a command's flags.
pub(super) fn levels_of(body: &Value) -> Result<crate::findings::severity::Resolved, ApiError> {
    crate::findings::severity::Levels {
        deny: strings(body, "deny")?,
        warn: strings(body, "warn")?,
        allow: strings(body, "allow")?,
    }
    .resolve(&crate::findings::registry())
    .map_err(|e| ApiError::unprocessable(format!("`deny`/`warn`/`allow`: {e}")))
}

/// Runs `f` on the snapshot in use and the JSON body, off the async workers; the snapshot is
/// handed back for the answer's `snapshot`.
pub(super) async fn blocking_json<T: Send + 'static>(
    app: &App,
    body: Bytes,
    f: impl FnOnce(&Loaded, Value) -> Result<T, ApiError> + Send + 'static,
) -> Result<(Arc<Loaded>, T), ApiError> {
    let l = app.current();
    let l2 = l.clone();
    let out = off_thread(move |_| f(&l2, json_body(&body)?)).await??;
    Ok((l, out))
}

/// A library error about a JSON body: unprocessable input, the field named as the server
/// spells it.
pub(super) fn body_error(e: crate::Error) -> ApiError {
    ApiError::unprocessable(e.spelled(&|f: &str| format!("`{}`", param_name(f))))
}
