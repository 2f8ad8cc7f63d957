//! `GET` and `POST /v1/lookup`: [`crate::ops::lookup`] per address or prefix, in pages or
//! whole, within the answer budget, stopped when the request is gone.

use super::*;
use crate::ops::lookup::{self as ops_lookup, Query};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One item of a request: a query, or the JSON error record of an item that is not one.
pub(super) enum Item {
    Query(Query),
    Bad(String),
}

/// The largest page (`limit`).
pub(super) const MAX_LIMIT: usize = 100_000;
/// The page size when a cursor comes without `limit`.
const DEFAULT_LIMIT: usize = 1_000;

/// Where a page starts (the item, and the match within it) and how many matches it holds.
pub(super) struct Page {
    pub(super) item: usize,
    pub(super) skip: usize,
    pub(super) limit: Option<usize>,
}

/// A cursor names the snapshot it was made on: a page of another snapshot would not continue
/// the first.
pub(super) fn cursor_text(l: &Loaded, item: usize, skip: usize) -> String {
    format!("cn{}-{}-{}", l.info.change_number, item, skip)
}

/// `limit` and `cursor` of a request.
pub(super) fn page_of(l: &Loaded, p: &[(String, String)]) -> Result<Page, ApiError> {
    let limit = match one(p, "limit")? {
        None => None,
        Some(t) => Some(
            t.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::bad(format!(
                        "`limit` `{t}`: a number of matches, 1 to {MAX_LIMIT}"
                    ))
                })?,
        ),
    };
    let Some(c) = one(p, "cursor")? else {
        return Ok(Page {
            item: 0,
            skip: 0,
            limit,
        });
    };
    let bad = || {
        ApiError::bad(format!(
            "`cursor` `{c}` is not one this server gave; repeat the request without it to start again"
        ))
    };
    let mut parts = c.strip_prefix("cn").ok_or_else(bad)?.splitn(3, '-');
    let mut num =
        || -> Result<u64, ApiError> { parts.next().and_then(|x| x.parse().ok()).ok_or_else(bad) };
    let (cn, item, skip) = (num()?, num()? as usize, num()? as usize);
    if cn != l.info.change_number {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: "stale-cursor",
            message: format!(
                "the cursor was made on changeNumber {cn}; the server now answers from changeNumber {}: repeat the request without `cursor` to start again",
                l.info.change_number
            ),
        });
    }
    Ok(Page {
        item,
        skip,
        limit: Some(limit.unwrap_or(DEFAULT_LIMIT)),
    })
}

pub(super) fn region_param(l: &Loaded, r: Option<String>) -> Result<Option<String>, ApiError> {
    r.filter(|r| !r.is_empty())
        .map(|r| l.snap.resolve_region(&r).map(str::to_string))
        .transpose()
        .map_err(|e| ApiError::not_found(e.to_string()))
}

/// Why an answer was not finished.
enum Stop {
    Budget,
    Cancelled,
}

/// The records of `items` as JSON texts to be joined with commas, and the cursor of the next
/// page when a `limit` cut the answer short.
fn records(
    l: &Loaded,
    items: &[Item],
    region: Option<&str>,
    page: &Page,
    max: usize,
    cancel: &Cancel,
) -> Result<(Vec<String>, Option<String>), Stop> {
    let write = |buf: &mut String, it: &Item, skip: usize, take: usize| -> usize {
        match it {
            Item::Query(q) => l
                .answers
                .write_range(buf, &l.snap, &l.index, *q, region, skip, take),
            Item::Bad(text) => {
                if skip == 0 && take > 0 {
                    buf.push_str(text);
                }
                1
            }
        }
    };
    let Some(limit) = page.limit else {
        // Whole: chunks answered in parallel, each into one buffer, joined in input order;
        // every item's bytes are counted against the budget as they are written.
        use rayon::prelude::*;
        let used = AtomicUsize::new(0);
        let over = AtomicBool::new(false);
        let parts: Option<Vec<String>> = items
            .par_chunks(4096)
            .map(|chunk| {
                let mut buf = String::new();
                for (k, it) in chunk.iter().enumerate() {
                    if cancel.is_set() || over.load(Ordering::Relaxed) {
                        return None;
                    }
                    if k > 0 {
                        buf.push(',');
                    }
                    let before = buf.len();
                    write(&mut buf, it, 0, usize::MAX);
                    if used.fetch_add(buf.len() - before + 1, Ordering::Relaxed) > max {
                        over.store(true, Ordering::Relaxed);
                        return None;
                    }
                }
                Some(buf)
            })
            .collect();
        return match parts {
            Some(p) => Ok((p, None)),
            None if cancel.is_set() => Err(Stop::Cancelled),
            None => Err(Stop::Budget),
        };
    };
    // A page: from the cursor's item and match, `limit` matches (an item that is not a query
    // counts as one).
    let mut buf = String::new();
    let mut left = limit;
    let mut next = None;
    for (i, it) in items.iter().enumerate().skip(page.item) {
        if cancel.is_set() {
            return Err(Stop::Cancelled);
        }
        if left == 0 {
            next = Some(cursor_text(l, i, 0));
            break;
        }
        let skip = if i == page.item { page.skip } else { 0 };
        let mark = buf.len();
        if !buf.is_empty() {
            buf.push(',');
        }
        let total = write(&mut buf, it, skip, left);
        if matches!(it, Item::Bad(_)) && skip > 0 {
            buf.truncate(mark);
            continue;
        }
        let shown = total.saturating_sub(skip).min(left);
        left -= shown;
        if buf.len() > max {
            return Err(Stop::Budget);
        }
        if skip + shown < total {
            next = Some(cursor_text(l, i, skip + shown));
            break;
        }
    }
    Ok((vec![buf], next))
}

/// Runs [`records`] off the async workers; the work stops when the request is dropped.
async fn answer(
    app: &Arc<App>,
    l: Arc<Loaded>,
    items: Vec<Item>,
    region: Option<String>,
    page: Page,
) -> ApiResult {
    let cancel = Cancel::default();
    let _stop_when_dropped = cancel.on_drop();
    let max = app.opts.max_answer;
    let l2 = l.clone();
    let out = tokio::task::spawn_blocking(move || {
        records(&l2, &items, region.as_deref(), &page, max, &cancel)
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    match out {
        Ok((parts, next)) => Ok(records_body(&l, parts, next)),
        Err(Stop::Budget) => Err(answer_too_large(
            max,
            "page through it with `limit` and `cursor`, or ask for fewer addresses or smaller prefixes",
        )),
        Err(Stop::Cancelled) => Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "cancelled",
            message: "the request was stopped".into(),
        }),
    }
}

/// `{"snapshot": …, "records": [PARTS joined], "next_cursor": …}`, sent as the parts are,
/// without joining them into one more copy.
fn records_body(l: &Loaded, parts: Vec<String>, next: Option<String>) -> Response {
    let head = format!(
        "{{\"snapshot\":{},\"records\":[",
        serde_json::to_string(&l.info).unwrap_or_default()
    );
    let tail = match next {
        Some(c) => format!("],\"next_cursor\":{}}}\n", json!(c)),
        None => "]}\n".to_string(),
    };
    let mut chunks = std::collections::VecDeque::with_capacity(parts.len() * 2 + 2);
    chunks.push_back(Bytes::from(head));
    let mut first = true;
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        if !first {
            chunks.push_back(Bytes::from_static(b","));
        }
        first = false;
        chunks.push_back(Bytes::from(p));
    }
    chunks.push_back(Bytes::from(tail));
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::new(Chunks(chunks)),
    )
        .into_response()
}

/// A body of chunks already made, sent one after another with their total as its length.
struct Chunks(std::collections::VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(
            self.get_mut()
                .0
                .pop_front()
                .map(|b| Ok(http_body::Frame::data(b))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

pub(super) async fn lookup_get(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["ip", "region", "limit", "cursor"])?;
    let l = app.current();
    let region = region_param(&l, one(&p, "region")?)?;
    let page = page_of(&l, &p)?;
    let texts: Vec<&String> = p
        .iter()
        .filter(|(k, _)| k == "ip")
        .map(|(_, v)| v)
        .collect();
    if texts.is_empty() {
        return Err(ApiError::bad("give ?ip=ADDRESS (repeatable) or a prefix"));
    }
    if texts.len() > app.opts.max_batch {
        return Err(too_many(texts.len(), app.opts.max_batch));
    }
    let items = texts
        .iter()
        .map(|t| {
            ops_lookup::parse_query(t)
                .map(Item::Query)
                .map_err(|reason| {
                    ApiError::unprocessable(ops_lookup::query_error(t, &reason, None))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    answer(&app, l, items, region, page).await
}

pub(super) async fn lookup_post(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["region", "limit", "cursor"])?;
    let l = app.current();
    let region = region_param(&l, one(&p, "region")?)?;
    let page = page_of(&l, &p)?;
    // The content type decides; without one, a body that opens with `[` is a JSON array
    // (a line of text opening with `[` is a bracketed IPv6 address: send it as text/plain).
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let json_body = match ctype.as_deref() {
        Some(t) if t.contains("json") => true,
        Some(t) if t.starts_with("text/") => false,
        _ => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['),
    };
    let max = app.opts.max_batch;
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Item>, ApiError> {
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
        // An item that is not an address or prefix is answered with its error; the rest go on.
        let what = if json_body { "item" } else { "line" };
        Ok(items
            .into_iter()
            .map(|(pos, t)| match ops_lookup::parse_query(&t) {
                Ok(q) => Item::Query(q),
                Err(reason) => Item::Bad(
                    json!({
                        "input": crate::text::quoted(&t),
                        what: pos,
                        "error": ops_lookup::query_error(&t, &reason, None),
                    })
                    .to_string(),
                ),
            })
            .collect())
    })
    .await
    .map_err(|e| ApiError::unprocessable(e.to_string()))??;
    answer(&app, l, items, region, page).await
}
