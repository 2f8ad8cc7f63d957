//! `POST /v1/diff`: [`crate::ops::diff::changes`] from a snapshot sent as the body (the older
//! one, as downloaded: JSON or gzip) to the snapshot the server holds.

use super::*;

pub(super) async fn diff(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["tag", "region", "service"])?;
    // Repeated or `a,b`, as the command's repeated flags and `--region a,b`; an empty value
    // is a name the library refuses, as `--tag ''` is.
    let all = |key: &str| -> Vec<String> {
        p.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let params = crate::ops::diff::DiffParams {
        tags: all("tag"),
        regions: all("region"),
        services: all("service"),
    };
    if body.is_empty() {
        return Err(ApiError::bad(
            "the body is the earlier snapshot (ServiceTags_*.json as downloaded, JSON or gzip)",
        ));
    }
    let l = app.current();
    let l2 = l.clone();
    // A gzip body unpacks within the body limit: what the server reads is bounded by it.
    let max = app.opts.body_limit;
    let report = off_thread(move |_| {
        let origin = "request body";
        let bytes = crate::load::decode_text_within(body.to_vec(), origin, max)?;
        let old = crate::load::from_slice(&bytes, origin)?;
        let info = crate::ops::SnapshotInfo::of(&old, origin);
        crate::ops::diff::changes((&old, &info), (&l2.snap, &l2.info), &params, None)
    })
    .await?
    .map_err(|e| match e {
        crate::Error::Invalid { ref message, .. } if message.contains("unpacks to more than") => {
            ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "too-large",
                message: format!(
                    "{} (--body-limit counts the unpacked body)",
                    e.spelled(&|f: &str| f.to_string())
                ),
            }
        }
        crate::Error::Field { .. } | crate::Error::Usage(_) => body_error(e),
        other => ApiError::from(other),
    })?;
    json_answer(&app, report).await
}
