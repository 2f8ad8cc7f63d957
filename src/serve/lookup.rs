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

/// Where a page starts (the item, and the match within it), how many matches it holds, and
/// the request the cursor belongs to.
pub(super) struct Page {
    pub(super) item: usize,
    pub(super) skip: usize,
    pub(super) limit: Option<usize>,
    /// The request's key (see [`request_key`]).
    pub(super) key: String,
}

/// A request's identity in its cursors: the snapshot's content and the request's own parts
/// (endpoint, region, queries), hashed. A cursor continues the request it was made for, on
/// the data it was made on, and no other.
pub(super) fn request_key(l: &Loaded, parts: &[&[u8]]) -> String {
    let fp = l.fingerprint.to_le_bytes();
    format!(
        "{:08x}",
        fnv32(std::iter::once(&fp[..]).chain(parts.iter().copied()))
    )
}

/// A 32-bit FNV-1a digest of the parts (each closed by a byte no text holds).
fn fnv32<'a>(parts: impl Iterator<Item = &'a [u8]>) -> u32 {
    let h = crate::text::digest(parts);
    h as u32 ^ (h >> 32) as u32
}

/// The check digits of a cursor: its snapshot, position and request, so that a position the
/// server did not give (an edited cursor) is told from a cursor of another request.
fn check_digits(cn: u64, item: usize, skip: usize, key: &str) -> String {
    format!(
        "{:08x}",
        fnv32(
            [
                &b"tagnet cursor"[..],
                &cn.to_le_bytes(),
                &(item as u64).to_le_bytes(),
                &(skip as u64).to_le_bytes(),
                key.as_bytes(),
            ]
            .into_iter()
        )
    )
}

/// A cursor: the snapshot it was made on (a page of another snapshot would not continue the
/// first), where the next page starts, the request it belongs to, and check digits.
pub(super) fn cursor_text(l: &Loaded, key: &str, item: usize, skip: usize) -> String {
    let cn = l.info.change_number;
    format!(
        "cn{cn}-{item}-{skip}-{key}-{}",
        check_digits(cn, item, skip, key)
    )
}

/// `limit` and `cursor` of a request whose key is `key`.
pub(super) fn page_of(l: &Loaded, p: &[(String, String)], key: String) -> Result<Page, ApiError> {
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
            key,
        });
    };
    let bad = || {
        ApiError::bad(format!(
            "`cursor` `{c}` is not one this server gave; repeat the request without it to start again"
        ))
    };
    // As written by `cursor_text`, exactly: numbers without signs or leading zeros, hex in
    // lower case, and check digits that match.
    let parts: Vec<&str> = c.strip_prefix("cn").ok_or_else(bad)?.split('-').collect();
    let [cn, item, skip, k, digits] = parts[..] else {
        return Err(bad());
    };
    let num = |x: &str| -> Result<u64, ApiError> {
        let canonical = !x.is_empty()
            && x.bytes().all(|b| b.is_ascii_digit())
            && (x == "0" || !x.starts_with('0'));
        canonical.then(|| x.parse().ok()).flatten().ok_or_else(bad)
    };
    let (cn, item, skip) = (num(cn)?, num(item)? as usize, num(skip)? as usize);
    if k.len() != 8
        || !k
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        || digits != check_digits(cn, item, skip, k)
    {
        return Err(bad());
    }
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
    if k != key {
        // Another request, or the same changeNumber of other data (another cloud, a file
        // edited in place).
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: "stale-cursor",
            message: "the cursor was made for another request, or on other data of this changeNumber: repeat this request without `cursor` to start again".into(),
        });
    }
    Ok(Page {
        item,
        skip,
        limit: Some(limit.unwrap_or(DEFAULT_LIMIT)),
        key,
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
    /// A cursor past the end of its request's answer.
    BadCursor,
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
                    let added = buf.len() - before + 1;
                    if used.fetch_add(added, Ordering::Relaxed) + added > max {
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
    if page.item >= items.len() {
        return Err(Stop::BadCursor);
    }
    let mut buf = String::new();
    let mut left = limit;
    let mut next = None;
    for (i, it) in items.iter().enumerate().skip(page.item) {
        if cancel.is_set() {
            return Err(Stop::Cancelled);
        }
        if left == 0 {
            next = Some(cursor_text(l, &page.key, i, 0));
            break;
        }
        let skip = if i == page.item { page.skip } else { 0 };
        let mark = buf.len();
        if !buf.is_empty() {
            buf.push(',');
        }
        let start = buf.len();
        let total = write(&mut buf, it, skip, left);
        if skip > 0 {
            if skip >= total {
                // No cursor this server gives starts past its item's matches.
                return Err(Stop::BadCursor);
            }
            // The rest of a record the last page cut: marked, so it is merged, not repeated.
            buf.insert_str(start + 1, "\"continued\":true,");
        }
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
            next = Some(cursor_text(l, &page.key, i, skip + shown));
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
    let max = app.opts.max_answer;
    let l2 = l.clone();
    let out = off_thread(move |cancel| records(&l2, &items, region.as_deref(), &page, max, cancel))
        .await?;
    match out {
        Ok((parts, next)) => records_body(app, &l, parts, next),
        Err(Stop::Budget) => Err(answer_too_large(
            max,
            "page through it with `limit` and `cursor`, or ask for fewer addresses or smaller prefixes",
        )),
        Err(Stop::BadCursor) => Err(ApiError::bad(
            "`cursor` is past the end of this request's answer: it is not one this server gave for it; repeat the request without it",
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
fn records_body(app: &App, l: &Loaded, parts: Vec<String>, next: Option<String>) -> ApiResult {
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
    held_json(app, chunks)
}

pub(super) async fn lookup_get(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["ip", "region", "limit", "cursor"])?;
    let l = app.current();
    let region = region_param(&l, one(&p, "region")?)?;
    let texts: Vec<&String> = p
        .iter()
        .filter(|(k, _)| k == "ip")
        .map(|(_, v)| v)
        .collect();
    let mut key: Vec<&[u8]> = vec![b"lookup", region.as_deref().unwrap_or("").as_bytes()];
    key.extend(texts.iter().map(|t| t.as_bytes()));
    let page = page_of(&l, &p, request_key(&l, &key))?;
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
    let key = request_key(
        &l,
        &[b"lookup", region.as_deref().unwrap_or("").as_bytes(), &body],
    );
    let page = page_of(&l, &p, key)?;
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
    let items = off_thread(move |_| -> Result<Vec<Item>, ApiError> {
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
    .await??;
    answer(&app, l, items, region, page).await
}
