//! `POST /v1/check`: [`crate::ops::check`] on documents sent as JSON.

use super::*;

/// The body's keys.
const KEYS: [&str; 8] = [
    "documents",
    "parameters",
    "on_prem",
    "profile",
    "udr_profile",
    "deny",
    "warn",
    "allow",
];

pub(super) async fn check(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let Some(obj) = body.as_object() else {
            return Err(ApiError::unprocessable(
                "the body is a JSON object: {\"documents\": {\"net.json\": …}, \"on_prem\": [...]}",
            ));
        };
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(ApiError::unprocessable(format!(
                "unknown key `{k}`; the body takes {}",
                KEYS.join(", ")
            )));
        }
        let documents =
            crate::ops::check::documents_of(obj.get("documents").unwrap_or(&Value::Null))
                .map_err(body_error)?;
        let parameters =
            crate::ops::check::parameters_of(obj.get("parameters").unwrap_or(&Value::Null))
                .map_err(body_error)?;
        let text = |key: &str| -> Result<Option<String>, ApiError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::unprocessable(format!(
                    "`{key}` is a profile name"
                ))),
            }
        };
        let defaults = crate::ops::check::CheckParams::default();
        let params = crate::ops::check::CheckParams {
            on_prem: strings(&body, "on_prem")?,
            profile: text("profile")?.unwrap_or(defaults.profile),
            udr_profile: text("udr_profile")?.unwrap_or(defaults.udr_profile),
        };
        let levels = levels_of(&body)?;
        crate::ops::check::check(
            &l2.snap,
            &l2.info,
            &documents,
            &parameters,
            &params,
            &levels,
        )
        .map_err(body_error)
    })
    .await?;
    Ok(axum::Json(report).into_response())
}
