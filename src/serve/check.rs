//! `POST /v1/check`: [`crate::ops::check`] on documents sent as JSON.

use super::*;

/// The body's keys.
const KEYS: [&str; 10] = [
    "documents",
    "parameters",
    "on_prem",
    "profile",
    "udr_profile",
    "location",
    "asgs",
    "deny",
    "warn",
    "allow",
];

pub(super) async fn check(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let obj = body_object(
            &body,
            &KEYS,
            "{\"documents\": {\"net.json\": …}, \"on_prem\": [...]}",
        )?;
        let documents =
            crate::ops::check::documents_of(obj.get("documents").unwrap_or(&Value::Null))
                .map_err(body_error)?;
        let parameters =
            crate::ops::check::parameters_of(obj.get("parameters").unwrap_or(&Value::Null))
                .map_err(body_error)?;
        let defaults = crate::ops::check::CheckParams::default();
        let params = crate::ops::check::CheckParams {
            on_prem: strings(&body, "on_prem")?,
            profile: opt_string(&body, "profile")?.unwrap_or(defaults.profile),
            udr_profile: opt_string(&body, "udr_profile")?.unwrap_or(defaults.udr_profile),
            location: opt_string(&body, "location")?,
            asgs: super::nsg::asgs_of(&body)?,
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
    json_answer(&app, report).await
}
