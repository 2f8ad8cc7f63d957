//! `POST /v1/flows/verify`: [`crate::ops::flows`] on flow-log blobs sent as JSON.

use super::*;

pub(super) async fn verify(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let scope = nsg_scope(&body)?;
        let blobs = crate::ops::flows::blobs_of(body.get("flow_logs").unwrap_or(&Value::Null))
            .map_err(body_error)?;
        let text = |key: &str| -> Result<Option<String>, ApiError> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::unprocessable(format!("`{key}` is a string"))),
            }
        };
        let params = crate::ops::flows::VerifyParams {
            profile: text("profile")?,
            region: text("region")?,
            all: boolean(&body, "all")?,
        };
        let levels = levels_of(&body)?;
        let verifier = crate::ops::flows::Verifier::new(&l2.snap, &scope, &params, levels)
            .map_err(body_error)?;
        crate::ops::flows::verify(&l2.info, &verifier, &blobs).map_err(body_error)
    })
    .await?;
    Ok(axum::Json(report).into_response())
}
