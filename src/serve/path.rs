//! `POST /v1/path`: [`crate::ops::path`] on a network definition sent as JSON.

use super::*;

/// The body's keys.
const KEYS: [&str; 12] = [
    "documents",
    "parameters",
    "from",
    "to",
    "protocol",
    "port",
    "bgp",
    "asgs",
    "profile",
    "region",
    "location",
    "effective_routes",
];

pub(super) async fn path(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let obj = body_object(
            &body,
            &KEYS,
            "{\"documents\": {\"net.json\": …}, \"from\": \"VNET/SUBNET\", \"to\": \"IP:PORT\"}",
        )?;
        let documents =
            crate::ops::check::documents_of(obj.get("documents").unwrap_or(&Value::Null))
                .map_err(body_error)?;
        let parameters =
            crate::ops::check::parameters_of(obj.get("parameters").unwrap_or(&Value::Null))
                .map_err(body_error)?;
        let port = match body.get("port") {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                p.as_u64()
                    .filter(|&p| p <= 65535)
                    .ok_or_else(|| ApiError::unprocessable("`port`: 0 to 65535"))?
                    as u16,
            ),
        };
        let params = crate::ops::path::PathParams {
            from: opt_string(&body, "from")?.ok_or_else(|| {
                ApiError::unprocessable("give `from`: a subnet (VNET/SUBNET) or an address")
            })?,
            to: opt_string(&body, "to")?.unwrap_or_default(),
            protocol: opt_string(&body, "protocol")?.unwrap_or_else(|| "tcp".into()),
            port,
            bgp: strings(&body, "bgp")?,
            asgs: super::nsg::asgs_of(&body)?,
            profile: opt_string(&body, "profile")?,
            region: opt_string(&body, "region")?,
            location: opt_string(&body, "location")?,
            effective_routes: match body.get("effective_routes") {
                None | Some(Value::Null) => None,
                Some(doc) => Some(
                    crate::routes::audit::parse_route_table(
                        doc.to_string().as_bytes(),
                        "effective_routes",
                    )
                    .map_err(body_error)?,
                ),
            },
        };
        if params.to.is_empty() && params.profile.is_none() {
            return Err(ApiError::unprocessable(
                "give `to` (IP, IP:PORT or a service tag) or `profile`",
            ));
        }
        crate::ops::path::path(&l2.snap, &l2.info, &documents, &parameters, &params)
            .map_err(body_error)
    })
    .await?;
    json_answer(&app, report).await
}
