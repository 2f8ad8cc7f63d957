//! Route tables as tagnet reads them: `az network route-table show` output, a NIC's effective
//! routes (`az network nic show-effective-route-table`), an ARM template's route table, or
//! `tagnet udr --format json` — each route with its prefix (or service tag), next hop and
//! source.

use super::NextHop;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// Where a route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum RouteSource {
    /// A user-defined route of the table.
    User,
    /// Learned by BGP from a gateway (effective routes, or `--default-route`).
    Bgp,
    /// A system route (effective routes' `Default`).
    Default,
}

/// A route as found in the table or the effective routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRoute {
    /// Route name (effective routes may have none: then `(source)`).
    pub name: String,
    /// A prefix or a service-tag name.
    pub address_prefix: String,
    /// Where it sends traffic.
    #[serde(serialize_with = "ser_hop")]
    pub next_hop: NextHop,
    /// Where it came from.
    pub source: RouteSource,
}

fn ser_hop<S: serde::Serializer>(h: &NextHop, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&h.to_string())
}

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableKind {
    /// A route table (`az network route-table show`, REST, route list, ARM, tagnet's `udr` JSON).
    RouteTable,
    /// A NIC's effective routes: what Azure really uses, BGP routes included.
    EffectiveRoutes,
}

/// A parsed route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    /// The routes (for effective routes: the active ones, one per prefix).
    pub routes: Vec<TableRoute>,
    /// What was read.
    pub kind: TableKind,
    /// `disableBgpRoutePropagation`, where the document says.
    pub bgp_propagation_disabled: Option<bool>,
}

impl RouteTable {
    /// The user routes: what the route table itself holds and what counts against its limit.
    pub fn user_routes(&self) -> impl Iterator<Item = &TableRoute> {
        self.routes.iter().filter(|r| r.source == RouteSource::User)
    }
}

const TABLE_HINT: &str = "give the output of `az network route-table show -g RG -n TABLE`, `az network nic show-effective-route-table -g RG -n NIC`, an ARM template with a Microsoft.Network/routeTables resource, or `tagnet udr --format json`";

/// Reads a route table: `az network route-table show` output (or the REST shape with
/// `properties`), `az network route-table route list` (an array), an ARM template holding a
/// `Microsoft.Network/routeTables` resource or `routeTables/routes` children, tagnet's own
/// `udr --format json`, or a NIC's effective routes (`{"value": [{"source", "state",
/// "addressPrefix": [...], ...}]}`).
pub fn parse_route_table(bytes: &[u8], origin: &str) -> Result<RouteTable> {
    parse_route_table_named(bytes, origin, None)
}

/// [`parse_route_table`], with `name` picking one table of a document that holds several (`az
/// network route-table list`, the REST list `{"value": [...]}`, a template): the CLI's
/// `FILE#NAME`.
pub fn parse_route_table_named(
    bytes: &[u8],
    origin: &str,
    name: Option<&str>,
) -> Result<RouteTable> {
    let doc: Value =
        crate::arm::parse_json(bytes).map_err(|e| Error::json(origin, &e, TABLE_HINT))?;
    let invalid = |message: String| Error::Invalid {
        origin: origin.to_string(),
        message,
        hint: TABLE_HINT.into(),
    };
    // Effective routes: `value` (or a bare array) of records with `source` and `state`.
    let effective = doc
        .get("value")
        .and_then(Value::as_array)
        .or_else(|| doc.as_array())
        .filter(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|r| r.get("source").is_some() && r.get("state").is_some())
        });
    if let Some(records) = effective {
        return parse_effective(records, &invalid);
    }
    let mut bgp_disabled = None;
    if doc
        .get("value")
        .and_then(Value::as_array)
        .is_some_and(|a| a.is_empty())
    {
        return Err(invalid(
            "no effective routes: Azure lists them only for the NIC of a running VM; start it and run `az network nic show-effective-route-table` again".into(),
        ));
    }
    // The REST list shape (`{"value": [...]}`, perhaps with `nextLink`) is its list.
    let doc = match doc {
        Value::Object(mut o)
            if o.get("value").is_some_and(Value::is_array)
                && o.keys().all(|k| k == "value" || k == "nextLink") =>
        {
            o.remove("value").expect("checked")
        }
        d => d,
    };
    // A name picks that table of a list or a template.
    if let Some(want) = name {
        let tables: Vec<&Value> = match &doc {
            Value::Array(a) => a.iter().collect(),
            d => d
                .get("resources")
                .and_then(Value::as_array)
                .map(|r| r.iter().collect())
                .unwrap_or_else(|| vec![d]),
        };
        let tables: Vec<&Value> = tables
            .into_iter()
            .filter(|t| {
                t.get("routes").is_some()
                    || t.pointer("/properties/routes").is_some()
                    || t.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|k| k.eq_ignore_ascii_case("Microsoft.Network/routeTables"))
            })
            .collect();
        let names: Vec<&str> = tables
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str))
            .collect();
        let Some(t) = tables.iter().find(|t| {
            t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(want))
        }) else {
            return Err(invalid(format!(
                "no route table named `{}` here; the tables: {}",
                crate::text::quoted(want),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        return parse_route_table_named(t.to_string().as_bytes(), origin, None);
    }
    let routes: Vec<&Value> = if let Some(arr) = doc.as_array() {
        // `az network route-table list` (tables, not routes), or a list of resources of
        // several types (a whole network's `az` output) that holds tables.
        let is_table = |x: &&Value| {
            x.get("routes").is_some()
                || x.pointer("/properties/routes").is_some()
                || x.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.eq_ignore_ascii_case("Microsoft.Network/routeTables"))
        };
        if let Some(t) = arr.iter().find(is_table) {
            let tables = arr.iter().filter(is_table).count();
            let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
            let what = if tables == arr.len() {
                format!(
                    "this is a list of {tables} route table(s) (`az network route-table list`), starting with `{name}`"
                )
            } else {
                format!(
                    "this is a list of {} resources of several types, {tables} of them route table(s) (the first `{name}`), not one route table; for the whole network run `tagnet check FILE`",
                    arr.len()
                )
            };
            return Err(invalid(format!(
                "{what}; audit one table: name it (`FILE#NAME` on the command line), or give `az network route-table show --name NAME --resource-group RG`"
            )));
        }
        arr.iter().collect()
    } else if let Some(resources) = doc.get("resources").and_then(Value::as_array) {
        let mut out = Vec::new();
        for r in resources {
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
            if kind.eq_ignore_ascii_case("Microsoft.Network/routeTables") {
                if let Some(rs) = r.pointer("/properties/routes").and_then(Value::as_array) {
                    out.extend(rs.iter());
                }
                bgp_disabled = r
                    .pointer("/properties/disableBgpRoutePropagation")
                    .and_then(Value::as_bool);
            } else if kind.eq_ignore_ascii_case("Microsoft.Network/routeTables/routes") {
                // tagnet's own template: a copy loop over `variables('routes')`.
                let looped = r.get("copy").is_some()
                    && r.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.contains("variables('routes')"));
                match doc.pointer("/variables/routes").and_then(Value::as_array) {
                    Some(vars) if looped => out.extend(vars.iter()),
                    _ => out.push(r),
                }
            }
        }
        if out.is_empty()
            && !resources.iter().any(|r| {
                r.get("type").and_then(Value::as_str).is_some_and(|k| {
                    k.to_ascii_lowercase()
                        .starts_with("microsoft.network/routetables")
                })
            })
        {
            return Err(invalid(
                "the template holds no Microsoft.Network/routeTables resource".into(),
            ));
        }
        out
    } else if let Some(rs) = doc
        .get("routes")
        .or_else(|| doc.pointer("/properties/routes"))
    {
        bgp_disabled = doc
            .get("disableBgpRoutePropagation")
            .or_else(|| doc.pointer("/properties/disableBgpRoutePropagation"))
            .and_then(Value::as_bool);
        rs.as_array()
            .ok_or_else(|| invalid("`routes` is not an array".into()))?
            .iter()
            .collect()
    } else if doc.get("values").is_some() && doc.get("changeNumber").is_some() {
        return Err(invalid(
            "this is a service-tag file, not a route table (give it to --tags)".into(),
        ));
    } else {
        return Err(invalid("no `routes` array found".into()));
    };
    let routes = routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = |keys: &[&str]| {
                keys.iter().find_map(|k| {
                    r.get(*k)
                        .or_else(|| r.get("properties").and_then(|p| p.get(*k)))
                        .and_then(Value::as_str)
                })
            };
            let name = field(&["name"])
                .ok_or_else(|| invalid(format!("route {} has no `name`", i + 1)))?
                .to_string();
            let prefix = field(&["addressPrefix", "address_prefix"])
                .ok_or_else(|| invalid(format!("route `{name}` has no `addressPrefix`")))?
                .trim()
                .to_string();
            let hop = field(&["nextHopType", "next_hop_type"])
                .ok_or_else(|| invalid(format!("route `{name}` has no `nextHopType`")))?;
            for v in [&name, &prefix] {
                if v.starts_with('[') {
                    return Err(invalid(format!(
                        "route `{name}` uses the ARM expression `{v}`, which tagnet cannot evaluate; deploy-time values must be literal"
                    )));
                }
            }
            check_prefix(&name, &prefix, &invalid)?;
            let ip = field(&["nextHopIpAddress", "next_hop_ip_address"]).filter(|s| !s.is_empty());
            let next_hop = NextHop::parse(hop, ip)
                .map_err(|e| invalid(format!("route `{name}` ({prefix}): {e}")))?;
            Ok(TableRoute {
                name,
                address_prefix: prefix,
                next_hop,
                source: RouteSource::User,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RouteTable {
        routes,
        kind: TableKind::RouteTable,
        bgp_propagation_disabled: bgp_disabled,
    })
}

/// A prefix-looking address prefix must be a valid prefix (`10.0.0.300/24` is an invalid
/// prefix, not an unknown service tag).
fn check_prefix(name: &str, prefix: &str, invalid: &dyn Fn(String) -> Error) -> Result<()> {
    let looks_like_prefix = prefix.contains('/')
        || prefix.contains(':')
        || prefix.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if looks_like_prefix {
        crate::text::listed_prefix(prefix).map_err(|reason| {
            invalid(format!(
                "route `{name}`: invalid address prefix `{prefix}`: {reason} (expected ADDRESS/LENGTH such as 20.41.5.224/27, or a service tag)"
            ))
        })?;
    }
    Ok(())
}

fn parse_effective(records: &[Value], invalid: &dyn Fn(String) -> Error) -> Result<RouteTable> {
    let mut routes = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let s = |k: &str| r.get(k).and_then(Value::as_str);
        let strings = |k: &str| -> Vec<String> {
            match r.get(k) {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|x| x.trim().to_string())
                    .collect(),
                Some(Value::String(x)) if !x.is_empty() => vec![x.trim().to_string()],
                _ => Vec::new(),
            }
        };
        if !s("state").is_some_and(|st| st.eq_ignore_ascii_case("Active")) {
            continue; // overridden routes (state Invalid) take no traffic
        }
        let source = match s("source").unwrap_or("").to_ascii_lowercase().as_str() {
            "user" => RouteSource::User,
            "virtualnetworkgateway" => RouteSource::Bgp,
            _ => RouteSource::Default,
        };
        let name = s("name")
            .filter(|n| !n.is_empty())
            .map(String::from)
            .unwrap_or_else(|| {
                format!(
                    "({} route {})",
                    s("source").unwrap_or("unknown").to_ascii_lowercase(),
                    i + 1
                )
            });
        let hop_text = s("nextHopType")
            .ok_or_else(|| invalid(format!("effective route {} has no `nextHopType`", i + 1)))?;
        let ips = strings("nextHopIpAddress");
        // An appliance that is not running shows next hop IP "None": its traffic is dropped.
        let stopped = hop_text.eq_ignore_ascii_case("VirtualAppliance")
            && ips
                .first()
                .is_some_and(|ip| ip.eq_ignore_ascii_case("None"));
        let next_hop = if stopped {
            NextHop::None
        } else {
            NextHop::parse_effective(hop_text, ips.first().map(String::as_str))
                .map_err(|e| invalid(format!("effective route {} (`{name}`): {e}", i + 1)))?
        };
        let prefixes = strings("addressPrefix");
        if prefixes.is_empty() {
            return Err(invalid(format!(
                "effective route {} (`{name}`) has no addressPrefix",
                i + 1
            )));
        }
        for p in prefixes {
            // Effective routes list prefixes, canonical: anything else is not Azure's output.
            crate::text::prefix(&p, crate::text::HostBits::Refuse).map_err(|reason| {
                invalid(format!(
                    "effective route {} (`{name}`): `{p}` is not a prefix: {reason}",
                    i + 1
                ))
            })?;
            routes.push(TableRoute {
                name: name.clone(),
                address_prefix: p,
                next_hop,
                source,
            });
        }
    }
    Ok(RouteTable {
        routes,
        kind: TableKind::EffectiveRoutes,
        bgp_propagation_disabled: None,
    })
}
