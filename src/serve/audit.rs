//! `POST /v1/routes/audit`: [`crate::ops::audit`] on a route table sent as JSON.

use super::*;

/// The body's keys.
const KEYS: [&str; 15] = [
    "route_table",
    "region",
    "paired",
    "profile",
    "tag",
    "only_tag",
    "vnet",
    "ipv6",
    "default_route",
    "prune",
    "max_routes",
    "deny",
    "warn",
    "allow",
    "previous",
];

pub(super) async fn routes_audit(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let obj = body_object(&body, &KEYS, "{\"route_table\": …, \"region\": …}")?;
        if obj.contains_key("previous") {
            return Err(ApiError::unprocessable(
                "`previous` (an earlier snapshot) is the CLI's --previous only: the server holds one snapshot",
            ));
        }
        let table = body
            .get("route_table")
            .filter(|v| !v.is_null())
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "give `route_table`: `az network route-table show` output, effective routes or an ARM template",
                )
            })?;
        let table = crate::routes::audit::parse_route_table(
            table.to_string().as_bytes(),
            "route_table",
        )?;
        let default_route = match body.get("default_route") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(
                crate::ops::audit::default_route(t)
                    .map_err(body_error)?
                    .0,
            ),
            Some(_) => {
                return Err(ApiError::unprocessable(
                    "`default_route`: VirtualAppliance:IP, VirtualNetworkGateway or none",
                ));
            }
        };
        let max_routes = match body.get("max_routes") {
            None | Some(Value::Null) => crate::routes::DEFAULT_MAX_ROUTES,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ApiError::unprocessable("`max_routes`: a number from 1"))?,
        };
        let params = crate::ops::audit::AuditParams {
            tags: crate::ops::udr::UdrParams {
                regions: strings(&body, "region")?,
                paired: boolean(&body, "paired")?,
                profile: body
                    .get("profile")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                tags: strings(&body, "tag")?,
                only_tags: strings(&body, "only_tag")?,
                ..Default::default()
            },
            vnet: strings(&body, "vnet")?,
            ipv6: boolean(&body, "ipv6")?,
            default_route,
            prune: boolean(&body, "prune")?,
            max_routes,
        };
        let levels = levels_of(&body)?;
        crate::ops::audit::audit(&l2.snap, &l2.info, &table, &params, None, &levels)
            .map_err(body_error)
    })
    .await?;
    json_answer(&app, report).await
}
