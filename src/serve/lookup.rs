//! `GET` and `POST /v1/lookup`: [`crate::ops::lookup`] per address or prefix.

use super::*;

/// One answer of `lookup` ([`crate::ops::lookup::answer`]), written as JSON into `buf`:
/// `{"ip": …, "matches": [{tag, region, system_service, prefix}]}` for an address (the records
/// of `lookup --format json`), or `{"query": …, "matches": [… relation]}` for a prefix.
pub(super) fn answer(
    l: &Loaded,
    buf: &mut String,
    text: &str,
    region: Option<&str>,
) -> Result<(), String> {
    use crate::ops::lookup;
    let q = lookup::parse_query(text).map_err(|reason| lookup::query_error(text, &reason, None))?;
    l.answers.write(buf, &l.snap, &l.index, q, region);
    Ok(())
}

/// `{"snapshot": …, "records": [ITEMS]}` around items already written as JSON.
pub(super) fn records_text(l: &Loaded, items: &[String]) -> Response {
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

pub(super) fn region_param(l: &Loaded, r: Option<String>) -> Result<Option<String>, ApiError> {
    r.filter(|r| !r.is_empty())
        .map(|r| l.snap.resolve_region(&r).map(str::to_string))
        .transpose()
        .map_err(|e| ApiError::not_found(e.to_string()))
}

pub(super) async fn lookup_get(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
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

pub(super) async fn lookup_post(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["region"])?;
    let l = app.current();
    let region = region_param(&l, one(&p, "region")?)?;
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
