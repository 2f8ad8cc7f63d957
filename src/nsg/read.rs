//! Reading NSGs: `az network nsg show` output (properties flattened), the REST shape (nested
//! `properties`), ARM templates (inline rules and `networkSecurityGroups/securityRules`
//! children) and arrays of NSGs (`az network nsg list`).
//!
//! Validation names the NSG and the rule: a priority outside 100–4096, two rules with one
//! priority and direction, a reversed or out-of-range port range, more than one service tag or
//! ASG in a rule, an ARM expression. The six default rules are added when a file omits them.

use super::model::{Access, Address, Direction, Nsg, Ports, Protocol, Rule};
use crate::error::{Error, Result};
use ipnet::IpNet;
use serde_json::Value;
use std::collections::BTreeMap;

const HINT: &str = "give `az network nsg show -g RG -n NSG` output, the REST shape, an ARM template with Microsoft.Network/networkSecurityGroups, or an array of them";

/// The six default rules, as the API returns them.
pub fn default_rules() -> Vec<Rule> {
    let rule =
        |name: &str, direction, priority, source: Address, destination: Address, access| Rule {
            name: name.into(),
            priority,
            direction,
            access,
            protocol: Protocol::Any,
            source,
            source_ports: Ports::any(),
            destination,
            destination_ports: Ports::any(),
            default: true,
        };
    let tag = |t: &str| Address::Tag(t.into());
    vec![
        rule(
            "AllowVnetInBound",
            Direction::Inbound,
            65000,
            tag("VirtualNetwork"),
            tag("VirtualNetwork"),
            Access::Allow,
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            Direction::Inbound,
            65001,
            tag("AzureLoadBalancer"),
            Address::Any,
            Access::Allow,
        ),
        rule(
            "DenyAllInBound",
            Direction::Inbound,
            65500,
            Address::Any,
            Address::Any,
            Access::Deny,
        ),
        rule(
            "AllowVnetOutBound",
            Direction::Outbound,
            65000,
            tag("VirtualNetwork"),
            tag("VirtualNetwork"),
            Access::Allow,
        ),
        rule(
            "AllowInternetOutBound",
            Direction::Outbound,
            65001,
            Address::Any,
            tag("Internet"),
            Access::Allow,
        ),
        rule(
            "DenyAllOutBound",
            Direction::Outbound,
            65500,
            Address::Any,
            Address::Any,
            Access::Deny,
        ),
    ]
}

/// Reads every NSG of a document (an ARM template with its parameters' defaults).
pub fn parse(bytes: &[u8], origin: &str) -> Result<Vec<Nsg>> {
    parse_with(bytes, origin, None)
}

/// Reads every NSG of a document; an ARM template is evaluated with the values of a
/// parameters file (its `parameters` object, and where it came from), which only a template
/// takes.
pub fn parse_with(
    bytes: &[u8],
    origin: &str,
    given: Option<(&str, &serde_json::Map<String, Value>)>,
) -> Result<Vec<Nsg>> {
    let doc: Value = crate::arm::parse_json(bytes).map_err(|e| Error::json(origin, &e, HINT))?;
    from_doc(doc, origin, given)
}

/// Reads every NSG of a file, as the NSG commands take it: an ARM template is evaluated with
/// the parameters file given, else the one beside it (`NAME.parameters*.json` next to
/// `NAME.json`, as `check` pairs them). Returns the NSGs and the parameters file used.
pub fn read_path(
    path: &std::path::Path,
    parameters: Option<&std::path::Path>,
) -> Result<(Vec<Nsg>, Option<String>)> {
    let (bytes, origin) = crate::load::read_input(path)?;
    let doc: Value = crate::arm::parse_json(&bytes).map_err(|e| Error::json(&origin, &e, HINT))?;
    let template = crate::arm::is_template(&doc);
    let file = match parameters {
        Some(p) => Some(p.to_path_buf()),
        None if template => beside(path, &origin)?,
        None => None,
    };
    let values = match &file {
        Some(p) => {
            let (b, o) = crate::load::read_input(p)?;
            Some((o.clone(), crate::arm::parameters(&b, &o)?))
        }
        None => None,
    };
    let nsgs = from_doc(doc, &origin, values.as_ref().map(|(o, m)| (o.as_str(), m)))?;
    Ok((nsgs, values.map(|(o, _)| o)))
}

/// The parameters file of the template at `path` when none is given: the one
/// `NAME.parameters*.json` beside it; none; or an error naming several (which one is deployed
/// is not known).
fn beside(path: &std::path::Path, origin: &str) -> Result<Option<std::path::PathBuf>> {
    match crate::arm::parameters_beside(path).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        several => Err(Error::Invalid {
            origin: origin.to_string(),
            message: format!(
                "{} parameters files sit beside the template ({}); which one it is deployed with is not known",
                several.len(),
                several
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "name the one to read: --parameters FILE".into(),
        }),
    }
}

/// The parameters file an NSG command reads for the file at `path` when none is given: the
/// one beside it when the file is an ARM template (see [`read_path`]), else none.
pub fn parameters_for(path: &std::path::Path) -> Result<Option<std::path::PathBuf>> {
    let (bytes, origin) = crate::load::read_input(path)?;
    let doc: Value = crate::arm::parse_json(&bytes).map_err(|e| Error::json(&origin, &e, HINT))?;
    if crate::arm::is_template(&doc) {
        beside(path, &origin)
    } else {
        Ok(None)
    }
}

fn from_doc(
    doc: Value,
    origin: &str,
    given: Option<(&str, &serde_json::Map<String, Value>)>,
) -> Result<Vec<Nsg>> {
    let invalid = |message: String| Error::Invalid {
        origin: origin.to_string(),
        message,
        hint: HINT.into(),
    };
    // An ARM template is evaluated first (parameter defaults, variables, the functions
    // templates use), by the evaluator `check` uses. A value of an NSG or its rules that
    // cannot be evaluated offline refuses the NSG: it is never read as empty.
    let empty = serde_json::Map::new();
    let doc = if crate::arm::is_template(&doc) {
        // Azure refuses a deployment whose parameters file gives a parameter the template
        // does not declare.
        if let Some((from, values)) = given
            && let Some(name) = crate::arm::undeclared_parameters(&doc, values).first()
        {
            return Err(Error::Invalid {
                origin: origin.to_string(),
                message: format!(
                    "{from} gives the parameter `{name}`, which the template does not declare: Azure refuses the deployment (InvalidTemplate)"
                ),
                hint: "remove the parameter from the parameters file, or give the parameters file of this template".into(),
            });
        }
        if let Some((from, values)) = given
            && let Some(wrong) = crate::arm::parameter_type_errors(&doc, values).first()
        {
            return Err(Error::Invalid {
                origin: origin.to_string(),
                message: format!("{from}: {wrong}"),
                hint: "give the value in the type the template declares (an array as [\"…\"], an int without quotes)".into(),
            });
        }
        let (resources, bad) = crate::arm::resources(&doc, given.map_or(&empty, |(_, m)| m));
        // What the rules are made of: the properties, the names, copy loops (not `location`,
        // `tags` or `dependsOn`, which decide nothing here).
        let decides = |at: &str| {
            !["location", "tags", "dependsOn", "apiVersion", "comments"]
                .iter()
                .any(|k| {
                    at == *k || at.starts_with(&format!("{k}.")) || at.starts_with(&format!("{k}["))
                })
        };
        if let Some(u) = bad.iter().find(|u| {
            u.kind
                .to_ascii_lowercase()
                .contains("networksecuritygroups")
                && decides(&u.at)
        }) {
            return Err(Error::Invalid {
                origin: origin.to_string(),
                message: format!(
                    "{} `{}`{}: `{}` cannot be evaluated offline ({})",
                    u.kind,
                    u.resource,
                    if u.at.is_empty() {
                        String::new()
                    } else {
                        format!(" at {}", u.at)
                    },
                    crate::text::quoted(&u.expression),
                    u.reason
                ),
                hint: "give the value in the parameters (`--parameters FILE` or NAME.parameters.json beside the template; `parameters` over HTTP and in Python), or check the deployed NSG (`az network nsg show`)".into(),
            });
        }
        serde_json::json!({ "resources": resources })
    } else if let Some((from, _)) = given {
        return Err(Error::Invalid {
            origin: origin.to_string(),
            message: format!(
                "parameters were given ({from}), but this is not an ARM template: only a template takes parameters"
            ),
            hint: "give parameters with a template only; `az` output and REST JSON hold deployed values".into(),
        });
    } else {
        doc
    };
    // (nsg name, rule values, default rule values, identity: id and resourceGuid)
    let mut found: Vec<(String, Vec<Value>, Vec<Value>, Identity)> = Vec::new();
    let mut children: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // `securityRules` that is not a list (an expression left as text, an object) is refused
    // where it is met: an NSG is never read as having no rules when it has some.
    let not_a_list = |v: &Value| -> Option<String> {
        let props = v.get("properties").unwrap_or(v);
        let rules = props
            .get("securityRules")
            .or_else(|| v.get("securityRules"))?;
        (!rules.is_array()).then(|| {
            let name = v.get("name").and_then(Value::as_str).unwrap_or("nsg");
            if rules.is_null() {
                format!(
                    "NSG `{name}`: securityRules is null, which tagnet does not read as \"no rules\" (`az network nsg show` writes [] for an NSG without rules of its own); give [] or the rules"
                )
            } else if crate::arm::UNEVALUATED == rules.as_str().unwrap_or("") {
                format!("NSG `{name}`: securityRules cannot be evaluated offline")
            } else {
                format!(
                    "NSG `{name}`: securityRules is `{}`, not a list of rules",
                    crate::text::quoted(&rules.to_string())
                )
            }
        })
    };
    let one = |v: &Value| -> Option<(String, Vec<Value>, Vec<Value>, Identity)> {
        let props = v.get("properties").unwrap_or(v);
        let rules = props
            .get("securityRules")
            .or_else(|| v.get("securityRules"))?;
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("nsg")
            .to_string();
        let defaults = props
            .get("defaultSecurityRules")
            .or_else(|| v.get("defaultSecurityRules"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Some((
            name,
            rules.as_array().cloned().unwrap_or_default(),
            defaults,
            identity(v),
        ))
    };
    if let Some(resources) = doc.get("resources").and_then(Value::as_array) {
        for r in resources {
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
            let rname = r.get("name").and_then(Value::as_str).unwrap_or("");
            if rname.starts_with('[') {
                return Err(invalid(format!(
                    "resource name `{rname}` is an ARM expression, which tagnet cannot evaluate; deploy-time values must be literal"
                )));
            }
            if kind.eq_ignore_ascii_case("Microsoft.Network/networkSecurityGroups") {
                // Child rules nested in the NSG's own `resources`.
                if let Some(nested) = r.get("resources").and_then(Value::as_array) {
                    for c in nested {
                        let ck = c.get("type").and_then(Value::as_str).unwrap_or("");
                        if ck.eq_ignore_ascii_case("securityRules")
                            || ck.eq_ignore_ascii_case(
                                "Microsoft.Network/networkSecurityGroups/securityRules",
                            )
                        {
                            let cn = c.get("name").and_then(Value::as_str).unwrap_or("");
                            if cn.starts_with('[') {
                                return Err(invalid(format!(
                                    "rule resource name `{cn}` is an ARM expression, which tagnet cannot evaluate"
                                )));
                            }
                            let mut v = c.clone();
                            v["name"] =
                                Value::String(cn.rsplit('/').next().unwrap_or(cn).to_string());
                            children.entry(rname.to_string()).or_default().push(v);
                        }
                    }
                }
                if let Some(m) = not_a_list(r) {
                    return Err(invalid(m));
                }
                let n = one(r).unwrap_or_else(|| {
                    (
                        r.get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("nsg")
                            .to_string(),
                        Vec::new(),
                        Vec::new(),
                        identity(r),
                    )
                });
                if n.0.starts_with('[') {
                    return Err(invalid(format!(
                        "the NSG's name is the ARM expression `{}`, which tagnet cannot evaluate",
                        n.0
                    )));
                }
                found.push(n);
            } else if kind
                .eq_ignore_ascii_case("Microsoft.Network/networkSecurityGroups/securityRules")
            {
                let full = r.get("name").and_then(Value::as_str).unwrap_or("");
                let (nsg, rule) = full.split_once('/').ok_or_else(|| {
                    invalid(format!("rule resource `{full}`: its name must be NSG/RULE"))
                })?;
                let mut v = r.clone();
                v["name"] = Value::String(rule.to_string());
                children.entry(nsg.to_string()).or_default().push(v);
            }
        }
        for (nsg, rules) in children {
            match found.iter_mut().find(|f| f.0 == nsg) {
                // A child rule resource is deployed after its NSG: it replaces the inline rule
                // of its name (names are case-insensitive).
                Some(f) => {
                    for c in rules {
                        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                        f.1.retain(|r| {
                            !r.get("name")
                                .and_then(Value::as_str)
                                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                        });
                        f.1.push(c);
                    }
                }
                None => found.push((nsg, rules, Vec::new(), Identity::default())),
            }
        }
        if found.is_empty() {
            return Err(invalid(
                "the template holds no Microsoft.Network/networkSecurityGroups resource".into(),
            ));
        }
    } else if let Some(arr) = doc
        .as_array()
        .or_else(|| doc.get("value").and_then(Value::as_array))
    {
        // `az network nsg list`, or the REST list shape `{"value": [...]}`.
        for (i, v) in arr.iter().enumerate() {
            // An export of several resources (`az resource list`, a network's folder as
            // `check` reads it): the others are not this command's.
            if v.get("type").and_then(Value::as_str).is_some_and(|t| {
                t.contains('/')
                    && !t.eq_ignore_ascii_case("Microsoft.Network/networkSecurityGroups")
            }) {
                continue;
            }
            if let Some(m) = not_a_list(v) {
                return Err(invalid(m));
            }
            found.push(one(v).ok_or_else(|| {
                let rule_like =
                    v.get("priority").is_some() || v.pointer("/properties/priority").is_some();
                invalid(if rule_like {
                    "this is a list of rules (`az network nsg rule list`), not of NSGs: give `az network nsg show -g RG -n NSG` output".to_string()
                } else {
                    format!("element {} of the array is not an NSG (no securityRules)", i + 1)
                })
            })?);
        }
        // `az network nsg rule list`: the rules of one NSG (its own; Azure's default rules
        // are implied, as in a template), named by their ids.
        if found.is_empty() {
            let mut by_nsg: Vec<(String, Vec<Value>)> = Vec::new();
            for v in arr {
                let is_rule = v.get("type").and_then(Value::as_str).is_some_and(|t| {
                    t.eq_ignore_ascii_case("Microsoft.Network/networkSecurityGroups/securityRules")
                });
                let nsg = v.get("id").and_then(Value::as_str).and_then(|id| {
                    let lower = id.to_ascii_lowercase();
                    let at =
                        lower.find("/networksecuritygroups/")? + "/networksecuritygroups/".len();
                    id[at..].split('/').next().map(str::to_string)
                });
                if let (true, Some(nsg)) = (is_rule, nsg) {
                    match by_nsg
                        .iter_mut()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&nsg))
                    {
                        Some((_, rules)) => rules.push(v.clone()),
                        None => by_nsg.push((nsg, vec![v.clone()])),
                    }
                }
            }
            if by_nsg.len() > 1 {
                return Err(invalid(format!(
                    "the rules listed belong to {} NSGs ({}): give one NSG's (`az network nsg show -g RG -n NSG`)",
                    by_nsg.len(),
                    by_nsg
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            for (nsg, rules) in by_nsg {
                found.push((nsg, rules, Vec::new(), Identity::default()));
            }
        }
        if found.is_empty() {
            return Err(invalid("the list holds no NSG".into()));
        }
    } else if let Some(m) = not_a_list(&doc) {
        return Err(invalid(m));
    } else if let Some(n) = one(&doc) {
        found.push(n);
    } else {
        return Err(invalid("no `securityRules` found".into()));
    }
    let mut out = Vec::new();
    for (name, rules, defaults, ident) in found {
        let mut n = build(&name, &rules, &defaults, origin)?;
        (n.id, n.resource_guid) = (ident.id, ident.resource_guid);
        out.push(n);
    }
    Ok(out)
}

/// An NSG's resource id and `resourceGuid`, when its document gives them (an ARM template's
/// resource has neither: only the deployment knows them).
#[derive(Debug, Clone, Default)]
struct Identity {
    id: Option<String>,
    resource_guid: Option<String>,
}

fn identity(v: &Value) -> Identity {
    let props = v.get("properties").unwrap_or(v);
    let text = |x: Option<&Value>| {
        x.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.starts_with('[') && *s != crate::arm::UNEVALUATED)
            .map(String::from)
    };
    Identity {
        id: text(v.get("id")).filter(|id| id.contains('/')),
        resource_guid: text(props.get("resourceGuid").or_else(|| v.get("resourceGuid"))),
    }
}

fn build(name: &str, rules: &[Value], defaults: &[Value], origin: &str) -> Result<Nsg> {
    let invalid = |message: String, hint: &str| Error::Invalid {
        origin: origin.to_string(),
        message: format!("NSG `{name}`: {message}"),
        hint: hint.to_string(),
    };
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for r in rules {
        out.push(rule(r, false, &invalid, &mut warnings)?);
    }
    // Azure refuses two rules of one name in an NSG (names are case-insensitive).
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for r in &out {
        *names.entry(r.name.to_ascii_lowercase()).or_default() += 1;
    }
    for (n, count) in names.iter().filter(|(_, c)| **c > 1) {
        let spelled = out
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(n))
            .map_or(n.as_str(), |r| r.name.as_str());
        warnings.push(format!(
            "NSG `{name}`: {count} rules are named `{spelled}`; Azure refuses two rules of one name in an NSG (each is evaluated here by its priority)"
        ));
    }
    let mut seen: BTreeMap<(Direction, u32), String> = BTreeMap::new();
    for r in &out {
        if !(100..=4096).contains(&r.priority) {
            return Err(invalid(
                format!(
                    "rule `{}`: priority {} is outside 100–4096",
                    r.name, r.priority
                ),
                "user rules take priorities 100 to 4096 (lower first)",
            ));
        }
        if let Some(other) = seen.insert((r.direction, r.priority), r.name.clone()) {
            return Err(invalid(
                format!(
                    "rules `{other}` and `{}` share priority {} {}",
                    r.name,
                    r.priority,
                    r.direction.to_string().to_ascii_lowercase()
                ),
                "priority and direction must be unique in an NSG; give one of them another priority",
            ));
        }
    }
    // Default rules: Azure's six, always; they cannot be changed, so what a file says of them
    // is not read (an edited copy would otherwise change verdicts Azure would not).
    let _ = defaults;
    out.extend(default_rules());
    out.sort_by_key(|r| (r.direction, r.priority));
    Ok(Nsg {
        name: name.to_string(),
        rules: out,
        warnings: warnings
            .into_iter()
            .map(|w| format!("{origin}: {w}"))
            .collect(),
        ..Default::default()
    })
}

/// One side of a rule: addresses, one service tag, or application security groups, as Azure
/// allows them; `keys` are the side's fields (one, many, groups) for the messages.
fn rule_address(
    name: &str,
    texts: Vec<String>,
    groups: Vec<String>,
    [one, many, asg_key]: [&str; 3],
    side: &str,
    invalid: &dyn Fn(String, &str) -> Error,
) -> Result<Address> {
    let expr = |s: &str| s.starts_with('[');
    if texts.is_empty() && groups.is_empty() {
        return Err(invalid(
            format!("rule `{name}` has no {side} address: give {one}, {many} or {asg_key}"),
            "Azure requires a source and a destination on every rule (`*` for any)",
        ));
    }
    if !groups.is_empty() {
        if !(texts.is_empty() || texts.len() == 1 && is_any(&texts[0])) {
            return Err(invalid(
                format!(
                    "rule `{name}`: the {side} mixes application security groups with addresses"
                ),
                "a rule's source (or destination) is addresses, one service tag, or application security groups",
            ));
        }
        return Ok(Address::Asgs(groups));
    }
    if texts.iter().any(|t| is_any(t)) {
        return Ok(Address::Any);
    }
    let mut nets = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for t in &texts {
        if expr(t) {
            return Err(invalid(
                format!(
                    "rule `{name}`: the {side} is the ARM expression `{t}`, which tagnet cannot evaluate"
                ),
                "deploy-time values must be literal",
            ));
        }
        // `10.0.0.0/24, 10.1.0.0/24` in the singular field: a list belongs in the plural one.
        if t.contains(',') {
            return Err(invalid(
                format!(
                    "rule `{name}`: the {side} `{}` holds several values; one field holds one prefix or tag",
                    crate::text::quoted(t)
                ),
                &format!("several go in a list: `{many}`: [\"10.0.0.0/24\", \"10.1.0.0/24\"]"),
            ));
        }
        match parse_address(t) {
            Some(Ok(n)) => nets.push(n),
            Some(Err(reason)) => {
                return Err(invalid(
                    format!("rule `{name}`: invalid {side} prefix `{t}`: {reason}"),
                    "addresses are ADDRESS or ADDRESS/LENGTH, e.g. 10.1.0.0/16",
                ));
            }
            None => tags.push(t.clone()),
        }
    }
    match (tags.len(), nets.is_empty()) {
        (0, _) => Ok(Address::Prefixes(nets)),
        (1, true) => Ok(Address::Tag(tags.remove(0))),
        _ => Err(invalid(
            format!(
                "rule `{name}`: the {side} holds {} service tags{}; Azure allows one service tag per rule, alone",
                tags.len(),
                if nets.is_empty() {
                    ""
                } else {
                    " beside prefixes"
                }
            ),
            "split the rule: one rule per service tag",
        )),
    }
}

fn rule(
    v: &Value,
    default: bool,
    invalid: &dyn Fn(String, &str) -> Error,
    warnings: &mut Vec<String>,
) -> Result<Rule> {
    let props = v.get("properties").unwrap_or(v);
    let get = |k: &str| props.get(k).or_else(|| v.get(k));
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string();
    let text = |k: &str| get(k).and_then(Value::as_str).map(str::trim);
    let expr = |s: &str| s.starts_with('[');
    for k in ["priority", "direction", "access", "protocol"] {
        if let Some(s) = text(k)
            && expr(s)
        {
            return Err(invalid(
                format!(
                    "rule `{name}`: `{k}` is the ARM expression `{s}`, which tagnet cannot evaluate"
                ),
                "deploy-time values must be literal",
            ));
        }
    }
    let priority = match get("priority") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        invalid(
            match get("priority") {
                Some(p @ Value::Number(_)) => {
                    format!("rule `{name}`: `priority` {p} is not a whole number")
                }
                Some(p) => format!(
                    "rule `{name}`: `priority` {} is not a number",
                    crate::text::quoted(&p.to_string())
                ),
                None => format!("rule `{name}` has no `priority`"),
            },
            "priority is a whole number 100–4096",
        )
    })?;
    let direction = text("direction")
        .and_then(Direction::parse)
        .ok_or_else(|| {
            invalid(
                format!("rule `{name}`: `direction` must be Inbound or Outbound"),
                "direction: Inbound or Outbound",
            )
        })?;
    let access = match text("access").map(str::to_ascii_lowercase).as_deref() {
        Some("allow") => Access::Allow,
        Some("deny") => Access::Deny,
        _ => {
            return Err(invalid(
                format!("rule `{name}`: `access` must be Allow or Deny"),
                "access: Allow or Deny",
            ));
        }
    };
    let protocol = text("protocol").and_then(Protocol::parse).ok_or_else(|| {
        invalid(
            format!(
                "rule `{name}`: protocol `{}` is not one of Tcp, Udp, Icmp, Esp, Ah, *",
                text("protocol").unwrap_or("")
            ),
            "protocol: Tcp, Udp, Icmp, Esp, Ah or *",
        )
    })?;
    let both = std::cell::RefCell::new(Vec::new());
    // A port may be written as a number (`"destinationPortRange": 22`), as templates do.
    let item = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let list = |one: &str, many: &str| -> Vec<String> {
        let mut out: Vec<String> = get(many)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(item).collect())
            .unwrap_or_default();
        if let Some(s) = get(one).and_then(item).filter(|s| !s.is_empty()) {
            if !out.is_empty() {
                both.borrow_mut().push(format!(
                    "rule `{name}` gives both `{one}` ({s}) and `{many}` ({}); Azure takes one or the other, not both: both are read here",
                    out.join(", ")
                ));
            }
            out.push(s.to_string());
        }
        // Host bits set (`10.0.0.5/24`): read as the prefix they belong to.
        for t in &out {
            if let Ok(n) = crate::text::listed_prefix(t)
                && n.trunc() != n
            {
                both.borrow_mut().push(format!(
                    "rule `{name}`: `{one}` `{t}` has host bits set; it is read as {}",
                    n.trunc()
                ));
            }
        }
        out
    };
    let asgs = |k: &str| -> Vec<String> {
        get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        x.get("id")
                            .and_then(Value::as_str)
                            .or(x.get("name").and_then(Value::as_str))
                            .or(x.as_str())
                    })
                    .map(|id| id.rsplit('/').next().unwrap_or(id).to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let unevaluated = |texts: &[String], one: &str, many: &str| -> Result<()> {
        if texts.iter().any(|t| t == crate::arm::UNEVALUATED) {
            return Err(invalid(
                format!(
                    "rule `{name}`: its {one} ({many}) is an expression only the deployment can evaluate (reference(), list*(), …; the cannot-evaluate finding names it)"
                ),
                "give the value in a parameters file, or check the deployed NSG (`az network nsg show`)",
            ));
        }
        Ok(())
    };
    let address = |one: &str, many: &str, asg_key: &str, side: &str| -> Result<Address> {
        let texts = list(one, many);
        unevaluated(&texts, one, many)?;
        let groups = asgs(asg_key);
        rule_address(&name, texts, groups, [one, many, asg_key], side, invalid)
    };
    let ports = |one: &str, many: &str, side: &str| -> Result<Ports> {
        let texts = list(one, many);
        unevaluated(&texts, one, many)?;
        if texts.is_empty() {
            return Err(invalid(
                format!("rule `{name}` has no {side} port: give {one} or {many} (`*` for any)"),
                "Azure requires source and destination ports on every rule",
            ));
        }
        if texts.iter().any(|t| is_any(t)) {
            return Ok(Ports::any());
        }
        let mut r = Vec::new();
        for t in &texts {
            r.push(parse_port_range(t).map_err(|reason| {
                invalid(
                    format!("rule `{name}`: {side} port `{t}`: {reason}"),
                    "ports are *, a number 0–65535, or a range LOW-HIGH",
                )
            })?);
        }
        Ok(Ports::from_ranges(r))
    };
    let source = address(
        "sourceAddressPrefix",
        "sourceAddressPrefixes",
        "sourceApplicationSecurityGroups",
        "source",
    )?;
    let destination = address(
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        "destinationApplicationSecurityGroups",
        "destination",
    )?;
    let source_ports = ports("sourcePortRange", "sourcePortRanges", "source")?;
    let destination_ports = ports(
        "destinationPortRange",
        "destinationPortRanges",
        "destination",
    )?;
    let mut seen = both.into_inner();
    seen.dedup();
    warnings.extend(seen);
    for side in [&source, &destination] {
        if let Address::Tag(t) = side
            && t.replace('_', "").eq_ignore_ascii_case("AzurePlatformLKM")
        {
            warnings.push(format!(
                "rule `{name}` names AzurePlatformLKM (Windows license activation), for which Learn publishes no address: tagnet reads it as matching no flow"
            ));
        }
    }
    Ok(Rule {
        source,
        destination,
        source_ports,
        destination_ports,
        name,
        priority: priority.min(u64::from(u32::MAX)) as u32,
        direction,
        access,
        protocol,
        default,
    })
}

/// `*` or `Any`: every address of both families. (`0.0.0.0/0` and `::/0` are prefixes of one
/// family each.)
fn is_any(t: &str) -> bool {
    t.trim() == "*" || t.trim().eq_ignore_ascii_case("any")
}

/// `Some(Ok)` for an address or prefix, `Some(Err)` for something that looks like one but is
/// not valid, `None` for a name (a service tag).
fn parse_address(t: &str) -> Option<std::result::Result<IpNet, String>> {
    let looks = t.contains('/')
        || t.contains(':')
        || t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if !looks {
        return None;
    }
    if t.contains('-') && !t.contains('/') {
        return Some(Err(
            "address ranges are not allowed in NSG rules; write prefixes (ADDRESS/LENGTH)".into(),
        ));
    }
    if let Ok(ip) = t.parse::<std::net::IpAddr>() {
        return Some(Ok(IpNet::from(ip)));
    }
    Some(crate::text::listed_prefix(t).map(|n| n.trunc()))
}

/// `80`, `8000-8080`, `*`.
pub fn parse_port_range(t: &str) -> std::result::Result<(u16, u16), String> {
    let t = t.trim();
    let num = |s: &str| -> std::result::Result<u16, String> {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| n <= 65535)
            .map(|n| n as u16)
            .ok_or_else(|| format!("`{}` is not a port 0–65535", s.trim()))
    };
    if t.contains(',') {
        return Err(
            "one field holds one port or range; several go in a list: `destinationPortRanges`: [\"29876\", \"29877\"] (or `sourcePortRanges`)".into(),
        );
    }
    match t.split_once('-') {
        Some((a, b)) => {
            let (lo, hi) = (num(a)?, num(b)?);
            if lo > hi {
                return Err(format!("the range is reversed; write {hi}-{lo}"));
            }
            Ok((lo, hi))
        }
        None => {
            let p = num(t)?;
            Ok((p, p))
        }
    }
}
