//! `GET /v1/udr`: [`crate::ops::udr`], as JSON, CSV or a deployment file to download.

use super::*;

pub(super) async fn udr(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    use crate::routes::deploy::{self, Layout};
    let p = pairs(&q);
    known_keys(
        &p,
        &[
            "region",
            "profile",
            "tag",
            "only_tag",
            "format",
            "max_routes",
            "reserve",
            "paired",
            "ipv6",
            "exact",
            "use_service_tags",
            "next_hop",
            "next_hop_ip",
            "never_cover",
            "max_extra",
            "ipv6_shares_budget",
        ],
    )?;
    let all = |key: &str| -> Vec<String> {
        p.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let number = |key: &str, min: usize| -> Result<Option<usize>, ApiError> {
        one(&p, key)?
            .map(|m| {
                m.parse::<usize>()
                    .ok()
                    .filter(|&m| m >= min)
                    .ok_or_else(|| ApiError::bad(format!("`{key}` `{m}`: a number from {min}")))
            })
            .transpose()
    };
    // `profile=none` with tags: only the named tags (the CLI's --only-tag).
    let (profile, tags, only_tags) = match one(&p, "profile")?.as_deref() {
        Some(x) if x.eq_ignore_ascii_case("none") => {
            let mut only = all("only_tag");
            only.extend(all("tag"));
            if only.is_empty() {
                return Err(ApiError::bad(
                    "`profile` none needs `tag`=NAME (repeatable)",
                ));
            }
            (None, Vec::new(), only)
        }
        other => (other.map(str::to_string), all("tag"), all("only_tag")),
    };
    let params = crate::ops::udr::UdrParams {
        regions: all("region"),
        paired: flag(&p, "paired")?,
        profile,
        tags,
        only_tags,
        ipv6: flag(&p, "ipv6")?,
        next_hop: one(&p, "next_hop")?,
        next_hop_ip: one(&p, "next_hop_ip")?,
        max_routes: number("max_routes", 0)?,
        reserve: number("reserve", 0)?,
        exact: flag(&p, "exact")?,
        use_service_tags: flag(&p, "use_service_tags")?,
        never_cover: all("never_cover"),
        max_extra: one(&p, "max_extra")?
            .map(|m| {
                m.parse::<u128>().map_err(|_| {
                    ApiError::bad(format!(
                        "`max_extra` `{}`: a number of addresses",
                        crate::text::quoted(&m)
                    ))
                })
            })
            .transpose()?,
        ipv6_shares_budget: flag(&p, "ipv6_shares_budget")?,
        owns_default_route: false,
    };
    let format = one(&p, "format")?
        .unwrap_or_else(|| "json".into())
        .to_ascii_lowercase();
    if !["json", "csv", "az", "arm", "bicep", "terraform"].contains(&format.as_str()) {
        return Err(ApiError::bad(format!(
            "`format` `{}`: json, csv, az, arm, bicep or terraform",
            crate::text::quoted(&format)
        )));
    }
    let l = app.current();
    let l2 = l.clone();
    let report = off_thread(move |_| crate::ops::udr::udr(&l2.snap, &l2.info, &params))
        .await?
        .map_err(ApiError::from)?
        .map_err(|over| {
            ApiError::unprocessable(over.spelled(&|f: &str| format!("`{}`", param_name(f))))
        })?;
    let header = report.header();
    let routes = &report.plan_routes;
    let max = report.budget.max_routes;
    let (body, ctype, ext) = match format.as_str() {
        "json" => (
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
            "application/json",
            "json",
        ),
        "csv" => {
            let mut out = Vec::new();
            crate::render::rows(&mut out, crate::render::Format::Csv, None, &report.routes)
                .map_err(|e| ApiError::unprocessable(e.to_string()))?;
            (
                String::from_utf8_lossy(&out).into_owned(),
                "text/csv; charset=utf-8",
                "csv",
            )
        }
        "az" => (
            deploy::az(routes, &header, max),
            "text/x-shellscript; charset=utf-8",
            "sh",
        ),
        "arm" => (
            deploy::arm(routes, &header, Layout::Routes),
            "application/json",
            "arm.json",
        ),
        "bicep" => (
            deploy::bicep(routes, &header, Layout::Routes),
            "text/plain; charset=utf-8",
            "bicep",
        ),
        _ => (
            deploy::terraform(routes, &header, Layout::Routes),
            "text/plain; charset=utf-8",
            "tf",
        ),
    };
    let file = format!("{}.{ext}", report.file_stem());
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}
