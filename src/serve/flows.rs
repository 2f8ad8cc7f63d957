//! `POST /v1/flows/verify`: [`crate::ops::flows`] on flow-log blobs sent as JSON.

use super::*;

pub(super) async fn verify(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let scope = nsg_scope(&body)?;
        let blobs = crate::ops::flows::blobs_of(body.get("flow_logs").unwrap_or(&Value::Null))
            .map_err(body_error)?;
        let params = crate::ops::flows::VerifyParams {
            profile: opt_string(&body, "profile")?,
            region: opt_string(&body, "region")?,
            all: boolean(&body, "all")?,
            skip_bad: boolean(&body, "skip_bad")?,
        };
        let levels = levels_of(&body)?;
        let verifier = crate::ops::flows::Verifier::new(&l2.snap, &scope, &params, levels)
            .map_err(body_error)?;
        crate::ops::flows::verify(
            &l2.info,
            &verifier,
            crate::ops::flows::sources_of_blobs(&blobs),
        )
        .map_err(body_error)
    })
    .await?;
    json_answer(&app, report).await
}

/// `POST /v1/flows/summary`: what the blobs talked to, as `flows attribute --summary`.
pub(super) async fn summary(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    const KEYS: [&str; 5] = ["flow_logs", "region", "profile", "top", "skip_bad"];
    let (_, report) = blocking_json(&app, body, |l2, body| {
        body_object(
            &body,
            &KEYS,
            "{\"flow_logs\": …, \"region\": …, \"profile\": …}",
        )?;
        let blobs = crate::ops::flows::blobs_of(body.get("flow_logs").unwrap_or(&Value::Null))
            .map_err(body_error)?;
        let top = match body.get("top") {
            None | Some(Value::Null) => 10,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ApiError::unprocessable("`top`: a whole number"))?,
        };
        let params = crate::ops::flows::SummaryParams {
            region: opt_string(&body, "region")?,
            profile: opt_string(&body, "profile")?,
            top,
            skip_bad: boolean(&body, "skip_bad")?,
        };
        crate::ops::flows::summarize(
            &l2.snap,
            &l2.index,
            &l2.info,
            crate::ops::flows::sources_of_blobs(&blobs),
            &params,
        )
        .map_err(body_error)
    })
    .await?;
    json_answer(&app, report).await
}
