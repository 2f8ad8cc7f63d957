//! `/v1/tags` and `/v1/tags/{name}/prefixes`: [`crate::ops::catalog`].

use super::*;

pub(super) async fn tags(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
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
    json_answer(
        &app,
        OwnedRecords {
            snapshot: l.info.clone(),
            records: recs,
            warnings: Vec::new(),
        },
    )
    .await
}

pub(super) async fn tag_prefixes(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["region", "family", "aggregate", "limit", "cursor"])?;
    let l = app.current();
    let key = request_key(
        &l,
        &[
            b"prefixes",
            name.as_bytes(),
            one(&p, "region")?.unwrap_or_default().as_bytes(),
            one(&p, "family")?.unwrap_or_default().as_bytes(),
            one(&p, "aggregate")?.unwrap_or_default().as_bytes(),
        ],
    );
    let page = page_of(&l, &p, key)?;
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
    // Off the async workers: a large tag aggregated takes milliseconds.
    let doc = off_thread(move |_| -> Result<Value, ApiError> {
        let report = crate::ops::catalog::prefixes(&l.snap, &l.info, &params)?;
        let mut doc =
            serde_json::to_value(&report).map_err(|e| ApiError::unprocessable(e.to_string()))?;
        if let Some(limit) = page.limit
            && let Some(all) = doc["prefixes"].as_array_mut()
        {
            // A page: `limit` prefixes from the cursor's, and the total.
            let total = all.len();
            if page.skip > 0 || (page.item > 0 && page.item >= total) {
                return Err(ApiError::bad(
                    "`cursor` is past the end of this request's answer: it is not one this server gave for it; repeat the request without it",
                ));
            }
            let from = page.item.min(total);
            let to = from.saturating_add(limit).min(total);
            *all = all.drain(from..to).collect();
            doc["total"] = json!(total);
            if to < total {
                doc["next_cursor"] = json!(cursor_text(&l, &page.key, to, 0));
            }
        }
        // `records` repeats `prefixes` for clients of the first version of this endpoint.
        doc["records"] = doc["prefixes"].clone();
        Ok(doc)
    })
    .await??;
    json_answer(&app, doc).await
}

/// `GET /v1/info`: what the snapshot holds, as `tagnet info --format json`.
pub(super) async fn info(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    known_keys(&pairs(&q), &[])?;
    let l = app.current();
    json_answer(&app, crate::ops::catalog::info(&l.snap, &l.index, &l.info)).await
}

/// `GET /v1/regions`: one record per region code, as `tagnet regions --format json`.
pub(super) async fn regions(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    known_keys(&pairs(&q), &[])?;
    let l = app.current();
    let recs = crate::ops::catalog::regions(&l.snap);
    json_answer(
        &app,
        OwnedRecords {
            snapshot: l.info.clone(),
            records: recs,
            warnings: Vec::new(),
        },
    )
    .await
}
