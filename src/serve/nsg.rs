//! `POST /v1/nsg/verify` and `/v1/nsg/reach`: [`crate::ops::nsg`] on an NSG scope sent as JSON.

use super::*;

/// The NSGs of one body key; a template evaluated with the body's `parameters` (an ARM
/// parameters file, as `--parameters FILE` gives it to the commands).
fn read_nsgs(
    body: &Value,
    doc: &Value,
    key: &str,
) -> Result<Vec<crate::nsg::model::Nsg>, ApiError> {
    let given = match body.get("parameters").filter(|v| !v.is_null()) {
        Some(p) => Some(crate::arm::parameters(
            p.to_string().as_bytes(),
            "parameters",
        )?),
        None => None,
    };
    Ok(crate::nsg::read::parse_with(
        doc.to_string().as_bytes(),
        key,
        given.as_ref().map(|m| ("`parameters`", m)),
    )?)
}

/// `{"nsg": NSG JSON, "nic_nsg": …, "vnet": ["10.0.0.0/16"], "asgs": {"web": ["10.0.1.4"]}}`:
/// the scope of `nsg verify` and `nsg reach`.
pub(super) fn nsg_scope(body: &Value) -> Result<crate::ops::nsg::Scope, ApiError> {
    const KEYS: [&str; 21] = [
        "nsg",
        "nsg_name",
        "nic_nsg_name",
        "parameters",
        "route_table",
        "flow_logs",
        "all",
        "skip_bad",
        "nic_nsg",
        "vnet",
        "asgs",
        "flows",
        "direction",
        "protocol",
        "port",
        "local",
        "region",
        "profile",
        "deny",
        "warn",
        "allow",
    ];
    let Some(obj) = body.as_object() else {
        return Err(ApiError::unprocessable(
            "the body is a JSON object: {\"nsg\": …, \"vnet\": [...], …}",
        ));
    };
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "unknown key `{k}`; the body takes nsg, nic_nsg, parameters, vnet, asgs, route_table and the endpoint's own keys"
        )));
    }
    if body
        .get("vnet")
        .is_some_and(|v| !v.is_array() && !v.is_null())
    {
        return Err(ApiError::unprocessable(
            "`vnet` is a list of CIDR prefixes, e.g. [\"10.0.0.0/16\"]",
        ));
    }
    let mut vnet = Vec::new();
    for v in body
        .get("vnet")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(t) = v.as_str() else {
            return Err(ApiError::unprocessable(format!(
                "vnet item `{v}` is not a string"
            )));
        };
        vnet.push(
            crate::text::address_or_prefix(t, crate::text::HostBits::Clear).map_err(|e| {
                ApiError::unprocessable(format!(
                    "vnet `{}` is not a CIDR prefix: {e}",
                    crate::text::quoted(t)
                ))
            })?,
        );
    }
    let asgs = asgs_of(body)?;
    let read = |key: &str| -> Result<Option<crate::nsg::model::Nsg>, ApiError> {
        let Some(doc) = body.get(key).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let mut nsgs = read_nsgs(body, doc, key)?;
        let names = || {
            nsgs.iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        // `nsg_name` picks one of several (a template's, a list's), as the CLI's FILE#NAME.
        let pick = format!("{key}_name");
        match body.get(&pick).filter(|v| !v.is_null()) {
            Some(Value::String(name)) => {
                let Some(i) = nsgs.iter().position(|n| n.name.eq_ignore_ascii_case(name)) else {
                    return Err(ApiError::unprocessable(format!(
                        "`{key}` holds no NSG named `{}`; it holds: {}",
                        crate::text::quoted(name),
                        names()
                    )));
                };
                Ok(Some(nsgs.swap_remove(i)))
            }
            Some(other) => Err(ApiError::unprocessable(format!(
                "`{pick}` is the NSG's name, a string (not {other})"
            ))),
            None if nsgs.len() == 1 => Ok(Some(nsgs.remove(0))),
            None => Err(ApiError::unprocessable(format!(
                "`{key}` holds {} NSGs ({}); name one with `{pick}`",
                nsgs.len(),
                names()
            ))),
        }
    };
    let route_table = match body.get("route_table") {
        None | Some(Value::Null) => None,
        Some(doc) => Some(
            crate::routes::audit::parse_route_table(doc.to_string().as_bytes(), "route_table")
                .map_err(body_error)?,
        ),
    };
    Ok(crate::ops::nsg::Scope {
        nsg: read("nsg")?,
        nic_nsg: read("nic_nsg")?,
        vnet,
        asgs,
        route_table,
    })
}

pub(super) async fn nsg_verify(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let max = app.opts.max_batch;
    let (l, out) = blocking_json(&app, body, move |l2, body| {
        let scope = nsg_scope(&body)?;
        let flows = body
            .get("flows")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::unprocessable("give `flows`: a list of {direction, protocol, local_ip, local_port, remote_ip, remote_port}"))?;
        if flows.len() > max {
            return Err(too_many(flows.len(), max));
        }
        let flows = flows
            .iter()
            .enumerate()
            .map(|(i, f)| {
                crate::nsg::model::Flow::from_json(f)
                    .map_err(|e| ApiError::unprocessable(format!("flows[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let records = crate::ops::nsg::verify(&l2.snap, &scope, &flows).map_err(body_error)?;
        Ok((records, scope.warnings()))
    })
    .await?;
    json_answer(
        &app,
        OwnedRecords {
            snapshot: l.info.clone(),
            records: out.0,
            warnings: out.1,
        },
    )
    .await
}

pub(super) async fn nsg_reach(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let scope = nsg_scope(&body)?;
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let port = match body.get("port") {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                p.as_u64()
                    .filter(|&p| p <= 65535)
                    .ok_or_else(|| ApiError::unprocessable("`port`: 0 to 65535"))?
                    as u16,
            ),
        };
        let params = crate::ops::nsg::ReachParams {
            direction: text("direction"),
            protocol: text("protocol"),
            port,
            local: body
                .get("local")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        crate::ops::nsg::reach(&l2.snap, &l2.info, &scope, &params).map_err(body_error)
    })
    .await?;
    json_answer(&app, report).await
}

/// `POST /v1/nsg/require`: `nsg require` on a scope sent as JSON, with `region` and
/// (optionally) `profile` and `local`.
pub(super) async fn nsg_require(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (_, report) = blocking_json(&app, body, |l2, body| {
        let scope = nsg_scope(&body)?;
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let params = crate::ops::nsg::RequireParams {
            region: text("region").unwrap_or_default(),
            profile: text("profile"),
            local: text("local"),
        };
        crate::ops::nsg::require(&l2.snap, &l2.info, &scope, &params).map_err(body_error)
    })
    .await?;
    json_answer(&app, report).await
}

/// `POST /v1/nsg/analyze`: `nsg analyze` of the body's NSGs (`nsg` and `nic_nsg`), with
/// `deny`, `warn` and `allow` lists of codes as the command's flags.
pub(super) async fn nsg_analyze(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let (l, out) = blocking_json(&app, body, |l2, mut body| {
        // Every NSG of `nsg` (one, or a list as `az network nsg list` gives them), as the
        // command analyses every NSG of its file.
        let docs: Vec<(Value, &str)> = ["nsg", "nic_nsg"]
            .into_iter()
            .filter_map(|k| Some((body.as_object_mut()?.remove(k)?, k)))
            .filter(|(v, _)| !v.is_null())
            .collect();
        let scope = nsg_scope(&body)?;
        let levels = levels_of(&body)?;
        let mut nsgs: Vec<crate::nsg::model::Nsg> = Vec::new();
        for (doc, key) in &docs {
            let mut read = read_nsgs(&body, doc, key)?;
            // `nsg_name`: that one of the document's NSGs, as the CLI's FILE#NAME.
            if let Some(name) = body.get(format!("{key}_name")).and_then(Value::as_str) {
                let all: Vec<String> = read.iter().map(|n| n.name.clone()).collect();
                read.retain(|n| n.name.eq_ignore_ascii_case(name));
                if read.is_empty() {
                    return Err(ApiError::unprocessable(format!(
                        "`{key}` holds no NSG named `{}`; it holds: {}",
                        crate::text::quoted(name),
                        all.join(", ")
                    )));
                }
            }
            nsgs.extend(read);
        }
        if nsgs.is_empty() {
            return Err(ApiError::unprocessable(
                "give `nsg` (or `nic_nsg`): the NSG to analyse",
            ));
        }
        Ok((
            crate::ops::nsg::analyze(&l2.snap, &scope, &nsgs, &levels),
            crate::ops::nsg::nsg_warnings(&nsgs),
        ))
    })
    .await?;
    json_answer(
        &app,
        OwnedRecords {
            snapshot: l.info.clone(),
            records: out.0,
            warnings: out.1,
        },
    )
    .await
}

/// A body's `asgs`: application security group → member addresses.
pub(crate) fn asgs_of(body: &Value) -> Result<BTreeMap<String, Vec<IpAddr>>, ApiError> {
    let mut asgs = BTreeMap::new();
    match body.get("asgs") {
        None | Some(Value::Null) => return Ok(asgs),
        Some(Value::Object(o)) => {
            for (k, v) in o {
                let ips: Option<Vec<IpAddr>> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|x| crate::text::address(x.as_str()?).ok().map(|a| a.0))
                    .collect();
                asgs.insert(
                    k.clone(),
                    ips.ok_or_else(|| {
                        ApiError::unprocessable(format!("asgs.{k}: not a list of IP addresses"))
                    })?,
                );
            }
        }
        Some(_) => {
            return Err(ApiError::unprocessable(
                "asgs: not an object of NAME: [IP, …]".to_string(),
            ));
        }
    }
    Ok(asgs)
}
