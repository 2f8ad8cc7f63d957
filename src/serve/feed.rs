//! `GET /v1/changes` (JSON Feed 1.1), `/v1/changes.atom` (Atom 1.0) and `/v1/changes/cnNNN`
//! (that week's change from the week before): [`crate::ops::feed`] over the cached weeks of
//! the served snapshot's cloud.

use super::*;

/// The cached weeks of the cloud served, then each other provider's cached versions, read off
/// the request's thread.
async fn weeks(app: &Arc<App>) -> Result<Vec<Vec<crate::ops::feed::Week>>, ApiError> {
    let cloud = app.current().info.cloud.clone();
    let cache = app.opts.cache.clone();
    off_thread(
        move |_| -> crate::Result<Vec<Vec<crate::ops::feed::Week>>> {
            let mut azure = crate::ops::source::cached_weeks(&cloud, cache.as_deref())?;
            azure.dedup_by_key(|(_, i)| i.change_number);
            let mut all = vec![
                azure
                    .into_iter()
                    .map(|(s, i)| crate::ops::feed::Week::azure(s, i))
                    .collect::<Vec<_>>(),
            ];
            let located = match &cache {
                Some(root) => Ok(crate::fetch::cache::Cache::at(root)),
                None => crate::fetch::cache::Cache::locate(),
            };
            if let Ok(c) = located {
                all.extend(crate::ops::feed::provider_weeks(&c)?);
            }
            // The server's folders are its own business: a version is named by its file.
            let file_name = |s: &mut String| {
                if !s.contains("://")
                    && let Some(name) = std::path::Path::new(s.as_str()).file_name()
                {
                    *s = name.to_string_lossy().into_owned();
                }
            };
            for w in all.iter_mut().flatten() {
                file_name(&mut w.info.source);
                for s in &mut w.info.sources {
                    file_name(&mut s.origin);
                }
            }
            Ok(all)
        },
    )
    .await?
    .map_err(ApiError::from)
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
    let is_cn = week
        .strip_prefix("cn")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    let is_file = week.split('_').count() == 3
        && week.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !is_cn && !is_file {
        return Err(ApiError::bad(format!(
            "`{}`: a version is cnNNN (Microsoft's) or a provider's cached file (as AWS_20261207_0000), as the feed's links name them",
            crate::text::quoted(&week)
        )));
    }
    let all = weeks(&app).await?;
    let found = all.iter().find_map(|versions| {
        versions
            .iter()
            .position(|w| w.key == week)
            .map(|k| (versions, k))
    });
    let Some((versions, k)) = found else {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "unknown-week",
            message: format!(
                "`{week}` is not cached; cached: {}",
                all.iter()
                    .flatten()
                    .map(|w| w.key.as_str())
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
                "`{week}` is the oldest version the server has of its source: no version before it is cached (`tagnet fetch` adds one each time the file changes)"
            ),
        });
    }
    let (old, new) = (&versions[k - 1], &versions[k]);
    let report = crate::ops::diff::changes(
        (&old.snap, &old.info),
        (&new.snap, &new.info),
        &Default::default(),
        None,
    )?;
    json_answer(&app, report).await
}
