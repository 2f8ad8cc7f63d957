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

pub(super) type ApiResult = Result<Response, ApiError>;

/// The query's pairs, decoded.
pub(super) fn pairs(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
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

/// `v` as the JSON answer, serialized off the async workers and within the answer budget.
pub(super) async fn json_answer<T: serde::Serialize + Send + 'static>(
    app: &App,
    v: T,
) -> ApiResult {
    let max = app.opts.max_answer;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut w = Capped::new(max);
        serde_json::to_writer(&mut w, &v).map(|()| {
            w.buf.push(b'\n');
            w.buf
        })
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))?
    .map_err(|_| answer_too_large(max, "narrow the request (fewer inputs, a region, a tag)"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
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
    let out = tokio::task::spawn_blocking(move || f(&l2, json_body(&body)?))
        .await
        .map_err(|e| ApiError::unprocessable(e.to_string()))??;
    Ok((l, out))
}

/// A library error about a JSON body: unprocessable input, the field named as the server
/// spells it.
pub(super) fn body_error(e: crate::Error) -> ApiError {
    ApiError::unprocessable(e.spelled(&|f: &str| format!("`{}`", param_name(f))))
}
