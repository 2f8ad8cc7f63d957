//! `GET /v1/changes` (JSON Feed 1.1), `/v1/changes.atom` (Atom 1.0) and `/v1/changes/cnNNN`
//! (that week's change from the week before): [`crate::ops::feed`] over the cached weeks of
//! the served snapshot's cloud.

use super::*;

/// The cached weeks of the cloud served, read off the request's thread.
async fn weeks(
    app: &Arc<App>,
) -> Result<Vec<(crate::Snapshot, crate::ops::SnapshotInfo)>, ApiError> {
    let cloud = app.current().info.cloud.clone();
    let cache = app.opts.cache.clone();
    let mut weeks = off_thread(move |_| crate::ops::source::cached_weeks(&cloud, cache.as_deref()))
        .await?
        .map_err(ApiError::from)?;
    // The server's folders are its own business: a week is named by its file.
    for (_, i) in &mut weeks {
        if let Some(name) = std::path::Path::new(&i.source).file_name() {
            i.source = name.to_string_lossy().into_owned();
        }
    }
    Ok(weeks)
}

/// `http://HOST` of the request, for the feed's links.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub(super) async fn json_feed(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult {
    let feed = crate::ops::feed::feed(weeks(&app).await?, &base(&headers))?;
    Ok((
        [(header::CONTENT_TYPE, "application/feed+json")],
        crate::ops::feed::json_feed(&feed).to_string(),
    )
        .into_response())
}

pub(super) async fn atom(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult {
    let feed = crate::ops::feed::feed(weeks(&app).await?, &base(&headers))?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml")],
        crate::ops::feed::atom(&feed),
    )
        .into_response())
}

pub(super) async fn week(
    State(app): State<Arc<App>>,
    axum::extract::Path(week): axum::extract::Path<String>,
) -> ApiResult {
    let Some(cn) = week.strip_prefix("cn").and_then(|d| d.parse::<u64>().ok()) else {
        return Err(ApiError::bad(format!(
            "`{}`: a week is cnNNN, as the feed's links name it",
            crate::text::quoted(&week)
        )));
    };
    let all = weeks(&app).await?;
    let Some(k) = all.iter().position(|(_, i)| i.change_number == cn) else {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "unknown-week",
            message: format!(
                "changeNumber {cn} is not cached; cached: {}",
                all.iter()
                    .map(|(_, i)| format!("cn{}", i.change_number))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    };
    if k == 0 {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "unknown-week",
            message: format!(
                "changeNumber {cn} is the oldest week the server has: no week before it is cached (`tagnet fetch` adds one a week)"
            ),
        });
    }
    let ((old, oi), (new, ni)) = (&all[k - 1], &all[k]);
    let report = crate::ops::diff::changes((old, oi), (new, ni), &Default::default(), None)?;
    json_answer(&app, report).await
}
