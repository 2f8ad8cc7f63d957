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
    Ok(axum::Json(crate::ops::Records {
        snapshot: &l.info,
        records: &recs,
        warnings: &[],
    })
    .into_response())
}

pub(super) async fn tag_prefixes(
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

/// `GET /v1/info`: what the snapshot holds, as `tagnet info --format json`.
pub(super) async fn info(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    known_keys(&pairs(&q), &[])?;
    let l = app.current();
    Ok(axum::Json(crate::ops::catalog::info(&l.snap, &l.index, &l.info)).into_response())
}

/// `GET /v1/regions`: one record per region code, as `tagnet regions --format json`.
pub(super) async fn regions(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    known_keys(&pairs(&q), &[])?;
    let l = app.current();
    let recs = crate::ops::catalog::regions(&l.snap);
    Ok(axum::Json(crate::ops::Records {
        snapshot: &l.info,
        records: &recs,
        warnings: &[],
    })
    .into_response())
}
