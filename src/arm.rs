//! ARM templates, one evaluator for every reader of them (`check`, the NSG reader).
//!
//! What a template means before Azure deploys it, as far as it can be known offline:
//! - parameters (a parameters file's values, else the declared defaults), variables (their
//!   `copy` loops included);
//! - resource `copy` loops (each instance evaluated with its `copyIndex()`), property `copy`
//!   loops (`"copy": [{"name": "securityRules", "count": …, "input": …}]`), `condition`;
//! - child resources, flattened to their full type and name path; inline nested deployments
//!   (`Microsoft.Resources/deployments` with `properties.template`) in their own scope
//!   (`expressionEvaluationOptions.scope: inner`: the template's own parameters, given the
//!   deployment's `parameters`) or the parent's (`outer`, the default);
//! - the template functions network templates use: `parameters`, `variables`, `copyIndex`,
//!   `concat`, `format`, `resourceId` (and `subscriptionResourceId`, `extensionResourceId`,
//!   `tenantResourceId`), `length`, `add`/`sub`/`mul`/`div`/`mod`, `if`, `equals`, `not`,
//!   `and`, `or`, comparisons, `empty`, `contains`, `createObject`, `createArray`, `union`,
//!   `toLower`/`toUpper`, `string`, `int`, `bool`, `json`, `first`/`last`/`take`/`skip`,
//!   `range`, `split`/`join`/`replace`/`trim`/`substring`, `coalesce`, `items`,
//!   `parseCidr`/`cidrSubnet`/`cidrHost`, `subscription()`, `resourceGroup()`, with property
//!   access (`.location`, `[0]`).
//!
//! What only a deployment knows (`reference()`, `list*()`, `uniqueString()`, `guid()`,
//! `utcNow()`, a linked template, `resourceGroup().location` unless given) is reported — the
//! expression and where it is — and the value is left as [`UNEVALUATED`], never guessed and
//! never read as empty. Templates may hold `//` and `/* */` comments ([`parse_json`]); Bicep
//! files are read as the ARM JSON `bicep build` compiles them to.

use crate::error::Error;
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What an ARM expression that cannot be evaluated leaves in place of its value: present (so
/// no default is assumed) but read as nothing.
pub const UNEVALUATED: &str = "\u{1}tagnet:unevaluated";

/// A resource's key: its type and name path interleaved, lower case
/// (`microsoft.network/virtualnetworks/vnet/subnets/snet`).
pub fn key_from(kind: &str, name: &str) -> String {
    let mut types = kind.split('/');
    let namespace = types.next().unwrap_or("");
    let mut out = vec![namespace.to_string()];
    for (t, n) in types.zip(name.split('/')) {
        out.push(t.to_string());
        out.push(n.to_string());
    }
    out.join("/").to_ascii_lowercase()
}

/// An expression that cannot be evaluated: where, and why.
#[derive(Debug, Clone)]
pub struct Unevaluated {
    /// The resource's name path (or type when its name is unknown).
    pub resource: String,
    /// The resource's type (`Microsoft.Network/networkSecurityGroups/securityRules`).
    pub kind: String,
    /// The JSON path of the value inside the resource.
    pub at: String,
    /// The expression.
    pub expression: String,
    /// Why.
    pub reason: String,
}

/// Whether a document is an ARM template.
pub fn is_template(doc: &Value) -> bool {
    doc.get("$schema")
        .and_then(Value::as_str)
        .is_some_and(|s| s.contains("deploymentTemplate"))
        || (doc.get("resources").is_some() && doc.get("contentVersion").is_some())
}

/// JSON as ARM templates, parameters files and the az CLI's saved output are written: `//`
/// and `/* */` comments are allowed (replaced by spaces, so an error's line and column are
/// those of the file).
pub fn parse_json(bytes: &[u8]) -> serde_json::Result<Value> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => {
            let has_comment = bytes.windows(2).any(|w| w == b"//" || w == b"/*");
            if !has_comment {
                return Err(first);
            }
            serde_json::from_reader(json_comments::StripComments::new(bytes))
        }
    }
}

/// The parameters files beside a file `NAME.json`: `NAME.parameters*.json` in its folder,
/// sorted.
pub fn parameters_beside(file: &Path) -> Vec<PathBuf> {
    let Some(stem) = file
        .file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_ascii_lowercase)
    else {
        return Vec::new();
    };
    if stem.contains(".parameters") || file.as_os_str() == "-" {
        return Vec::new();
    }
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_ascii_lowercase();
            n.starts_with(&format!("{stem}.parameters")) && n.ends_with(".json")
        })
        .map(|e| match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join(e.file_name()),
            _ => PathBuf::from(e.file_name()),
        })
        .collect();
    out.sort();
    out
}

/// Whether a document is an ARM parameters file: its `$schema` says so, or it holds only a
/// `parameters` object of `{"value": …}` (or Key Vault `{"reference": …}`) entries, or is such
/// an object itself (`{"name": {"value": …}}`).
pub fn is_parameters(doc: &Value) -> bool {
    if let Some(s) = doc.get("$schema").and_then(Value::as_str) {
        return s.contains("deploymentParameters");
    }
    let entries = |o: &Map<String, Value>| {
        !o.is_empty()
            && o.values().all(|v| {
                v.as_object().is_some_and(|e| {
                    (e.contains_key("value") || e.contains_key("reference"))
                        && e.keys()
                            .all(|k| matches!(k.as_str(), "value" | "reference" | "metadata"))
                })
            })
    };
    let Some(o) = doc.as_object() else {
        return false;
    };
    if o.contains_key("resources") || o.contains_key("type") || o.contains_key("id") {
        return false;
    }
    match o.get("parameters").and_then(Value::as_object) {
        Some(p) => {
            o.keys()
                .all(|k| matches!(k.as_str(), "parameters" | "contentVersion" | "$schema"))
                && (p.is_empty() || entries(p))
        }
        None => entries(o),
    }
}

/// The values of an ARM parameters file: its `parameters` object (or the document itself
/// when it is a bare object of values).
pub fn parameters(bytes: &[u8], origin: &str) -> crate::error::Result<Map<String, Value>> {
    const SHAPE: &str = "give the parameters file the template is deployed with: {\"parameters\": {\"name\": {\"value\": …}}}";
    let doc: Value = crate::arm::parse_json(bytes).map_err(|e| Error::json(origin, &e, SHAPE))?;
    let refuse = |message: String| Error::Invalid {
        origin: origin.to_string(),
        message,
        hint: SHAPE.into(),
    };
    if is_template(&doc) {
        return Err(refuse(
            "this is an ARM template, not a parameters file".into(),
        ));
    }
    // Anything else not of a parameters file's shape (an NSG, a resource, a list) is named
    // for what it looks like, not read as parameters of its keys' names.
    // (A bare object of values, `{"name": value}`, is a parameters object too.)
    match &doc {
        Value::Object(o) if !is_parameters(&doc) => {
            let resource = ["securityRules", "properties", "id", "resources"]
                .iter()
                .any(|k| o.contains_key(*k))
                || o.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.contains('/'));
            if resource {
                return Err(refuse(format!(
                    "this is a resource ({}), not a parameters file",
                    o.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("`az … show` output or the REST shape")
                )));
            }
        }
        Value::Object(_) => {}
        Value::Array(_) => {
            return Err(refuse(
                "this is a list (of resources, as `az … list` writes), not a parameters file"
                    .into(),
            ));
        }
        _ => {
            return Err(refuse(
                "this is not a parameters file: it is not a JSON object".into(),
            ));
        }
    }
    Ok(doc
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .or_else(|| doc.as_object().cloned())
        .unwrap_or_default())
}

/// The parameters a parameters file gives that the template does not declare (names
/// compared without case, as Azure does): Azure refuses such a deployment (InvalidTemplate).
pub fn undeclared_parameters<'a>(doc: &Value, given: &'a Map<String, Value>) -> Vec<&'a str> {
    let declared = doc.get("parameters").and_then(Value::as_object);
    given
        .keys()
        .filter(|n| !declared.is_some_and(|d| d.keys().any(|k| k.eq_ignore_ascii_case(n))))
        .map(String::as_str)
        .collect()
}

/// The values a parameters file gives that are not of the type the template declares
/// (`"value": "29876-29877"` for an `array`): Azure refuses such a deployment, so each is a
/// message naming the parameter, the value and both types. Key Vault references and
/// parameters the template does not declare are not judged here.
pub fn parameter_type_errors(doc: &Value, given: &Map<String, Value>) -> Vec<String> {
    let Some(declared) = doc.get("parameters").and_then(Value::as_object) else {
        return Vec::new();
    };
    let kind = |v: &Value| match v {
        Value::String(_) => "a string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an int",
        Value::Number(_) => "a number with a fraction",
        Value::Bool(_) => "a bool",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::Null => "null",
    };
    let mut out = Vec::new();
    for (name, entry) in given {
        let Some((_, decl)) = declared.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let Some(want) = decl.get("type").and_then(Value::as_str) else {
            continue;
        };
        let value = match entry.as_object() {
            Some(o) if o.contains_key("reference") => continue,
            Some(o) if o.contains_key("value") => &o["value"],
            _ => entry,
        };
        if value.as_str() == Some(UNEVALUATED) {
            continue;
        }
        let fits = match want.to_ascii_lowercase().as_str() {
            "string" | "securestring" => value.is_string(),
            "int" => value.is_i64() || value.is_u64(),
            "bool" => value.is_boolean(),
            "array" => value.is_array(),
            "object" | "secureobject" => value.is_object(),
            _ => true,
        };
        if !fits {
            out.push(format!(
                "the parameter `{name}` is declared {want} but given {} (`{}`): Azure refuses the deployment (InvalidTemplate)",
                kind(value),
                crate::text::quoted(&value.to_string())
            ));
        }
    }
    out
}

/// What only a deployment knows, when the user says it: the subscription, the resource group
/// and its location (`resourceGroup().location`).
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// `subscription().subscriptionId`.
    pub subscription_id: Option<String>,
    /// `resourceGroup().name`.
    pub resource_group: Option<String>,
    /// `resourceGroup().location`.
    pub location: Option<String>,
}

/// The template's resources, evaluated and flattened, and what could not be evaluated.
pub fn resources(doc: &Value, given: &Map<String, Value>) -> (Vec<Value>, Vec<Unevaluated>) {
    resources_in(doc, given, &Deployment::default())
}

/// [`resources`] with what the deployment is known to be.
pub fn resources_in(
    doc: &Value,
    given: &Map<String, Value>,
    dep: &Deployment,
) -> (Vec<Value>, Vec<Unevaluated>) {
    let t = Template::of(doc, given.clone());
    let why = std::cell::RefCell::new(Vec::new());
    let memo = std::cell::RefCell::new(std::collections::HashMap::new());
    let cx = Ctx {
        t: &t,
        dep,
        why: &why,
        loops: Vec::new(),
        depth: 0,
        memo: &memo,
    };
    COPY_ITEMS.with(|c| c.set(0));
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for r in &template_resources(doc) {
        flatten(r, None, &cx, &mut out, &mut bad);
    }
    (out, bad)
}

fn template_resources(doc: &Value) -> Vec<Value> {
    match doc.get("resources") {
        Some(Value::Array(a)) => a.clone(),
        // Language version 2.0 keeps resources in an object by symbolic name.
        Some(Value::Object(o)) => o.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// One template's declarations and the values it was given.
struct Template {
    parameters: Map<String, Value>,
    given: Map<String, Value>,
    variables: Map<String, Value>,
}

impl Template {
    fn of(doc: &Value, given: Map<String, Value>) -> Template {
        let obj = |k: &str| {
            doc.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Template {
            parameters: obj("parameters"),
            given,
            variables: obj("variables"),
        }
    }
}

/// Where an expression is evaluated: a template, the deployment, the copy loops around it.
#[derive(Clone)]
struct Ctx<'a> {
    t: &'a Template,
    dep: &'a Deployment,
    /// Why the parts of values that could not be evaluated are unknown (a variable holding
    /// one `uniqueString()` is otherwise known, and used as far as it is).
    why: &'a std::cell::RefCell<Vec<String>>,
    /// (loop name, index, a resource loop), innermost last.
    loops: Vec<(String, i64, bool)>,
    depth: usize,
    /// Variables already evaluated, by lowercased name: a variable is evaluated once per
    /// template (variables that use each other twice, as a doubling chain does, are not
    /// evaluated an exponential number of times).
    memo: &'a std::cell::RefCell<std::collections::HashMap<String, Result<Value, String>>>,
}

/// (JSON path, expression, why) of what could not be evaluated.
type Errs = Vec<(String, String, String)>;

/// A resource's name as written, for messages about it before it is evaluated.
fn label_of(r: &Value) -> String {
    r.get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string()
}

fn flatten(
    r: &Value,
    parent: Option<(&str, &str)>,
    cx: &Ctx,
    out: &mut Vec<Value>,
    bad: &mut Vec<Unevaluated>,
) {
    let label = label_of(r);
    let kind_text = r.get("type").and_then(Value::as_str).unwrap_or("");
    let Some(copy) = r.get("copy") else {
        flatten_one(r, parent, cx, out, bad);
        return;
    };
    // A resource copy loop: one resource per index.
    let report = |bad: &mut Vec<Unevaluated>, expression: String, reason: String| {
        bad.push(Unevaluated {
            resource: label.clone(),
            kind: kind_text.to_string(),
            at: "copy.count".into(),
            expression,
            reason,
        })
    };
    let name = copy
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let count = match copy.get("count") {
        Some(c) => cx.value(c),
        None => Err("the copy loop has no count".into()),
    }
    .and_then(|c| int_of(&c));
    match count {
        Ok(n) if (0..=800).contains(&n) => {
            let mut one = r.clone();
            if let Some(o) = one.as_object_mut() {
                o.remove("copy");
            }
            for i in 0..n {
                if crate::cancel::cancelled() || out.len() > MAX_RESOURCES {
                    if out.len() > MAX_RESOURCES {
                        report(
                            bad,
                            copy.to_string(),
                            format!(
                                "copy loops make more than {MAX_RESOURCES} resources, more than a template evaluated here may hold; the rest are left out"
                            ),
                        );
                    }
                    break;
                }
                let mut inner = cx.clone();
                inner.loops.push((name.clone(), i, true));
                flatten_one(&one, parent, &inner, out, bad);
            }
        }
        Ok(n) => report(
            bad,
            copy.to_string(),
            format!(
                "a copy loop of {n} instances (Azure allows 0 to 800); the resource is left out"
            ),
        ),
        Err(why) => report(
            bad,
            copy.get("count").map(|c| c.to_string()).unwrap_or_default(),
            format!("{why}; the loop's resources are left out"),
        ),
    }
}

fn flatten_one(
    r: &Value,
    parent: Option<(&str, &str)>,
    cx: &Ctx,
    out: &mut Vec<Value>,
    bad: &mut Vec<Unevaluated>,
) {
    let label = label_of(r);
    let mut v = r.clone();
    let children = v
        .as_object_mut()
        .and_then(|o| o.remove("resources"))
        .and_then(|c| c.as_array().cloned())
        .unwrap_or_default();
    // A nested deployment's template is evaluated in its own scope, not as a value of this
    // resource.
    let is_deployment = v
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments"));
    let nested = if is_deployment {
        v.get_mut("properties")
            .and_then(Value::as_object_mut)
            .and_then(|p| p.remove("template"))
    } else {
        None
    };
    let mut errs = Errs::new();
    cx.tree(&mut v, "", &mut errs);
    let mut kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut name = v
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some((pk, pn)) = parent
        && !kind.contains('/')
    {
        kind = format!("{pk}/{kind}");
        name = format!("{pn}/{name}");
    }
    if let Some(o) = v.as_object_mut() {
        o.insert("type".into(), Value::String(kind.clone()));
        o.insert("name".into(), Value::String(name.clone()));
    }
    let unnamed = name.contains(UNEVALUATED);
    let resource = if name.is_empty() || unnamed {
        label.clone()
    } else {
        name.clone()
    };
    let conditioned_out = matches!(v.get("condition"), Some(Value::Bool(false)))
        || v.get("condition")
            .and_then(Value::as_str)
            .is_some_and(|c| c.eq_ignore_ascii_case("false"));
    if is_deployment
        && !conditioned_out
        && nested.is_none()
        && v.pointer("/properties/templateLink").is_some()
    {
        errs.push((
            "properties.templateLink".into(),
            v.pointer("/properties/templateLink")
                .map(|l| l.to_string())
                .unwrap_or_default(),
            "a linked template is not read offline; its resources are left out (deploy it inline, or give its file to tagnet too)".into(),
        ));
    }
    bad.extend(
        errs.into_iter()
            .map(|(at, expression, reason)| Unevaluated {
                resource: resource.clone(),
                kind: kind.clone(),
                at,
                expression,
                reason,
            }),
    );
    if unnamed {
        // Without its name the resource cannot be referred to: it is reported, not checked.
        return;
    }
    // A Bicep `existing` resource (`"existing": true`) names a resource the deployment does
    // not make: it is not one of the template's resources.
    if v.get("existing").and_then(Value::as_bool) == Some(true) {
        return;
    }
    // `condition` false (as written or evaluated): Azure does not deploy the resource, nor
    // its children. (One that cannot be evaluated was reported above and is kept.)
    if conditioned_out {
        return;
    }
    if let Some(template) = nested {
        nested_deployment(&v, &template, cx, out, bad);
    }
    for c in &children {
        flatten(c, Some((&kind, &name)), cx, out, bad);
    }
    out.push(v);
}

/// The resources of an inline nested deployment: in its own scope (`inner`), or in the
/// parent's (`outer`, Azure's default).
fn nested_deployment(
    v: &Value,
    template: &Value,
    cx: &Ctx,
    out: &mut Vec<Value>,
    bad: &mut Vec<Unevaluated>,
) {
    let inner = v
        .pointer("/properties/expressionEvaluationOptions/scope")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    let resources = template_resources(template);
    if inner {
        // The deployment's `parameters` (already evaluated in the parent) are the inner
        // template's given values; a value that could not be evaluated stays unknown.
        let given = v
            .pointer("/properties/parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let t = Template::of(template, given);
        // Its own variables: its own memo.
        let memo = std::cell::RefCell::new(std::collections::HashMap::new());
        let icx = Ctx {
            t: &t,
            dep: cx.dep,
            why: cx.why,
            loops: Vec::new(),
            depth: cx.depth,
            memo: &memo,
        };
        for r in &resources {
            flatten(r, None, &icx, out, bad);
        }
    } else {
        for r in &resources {
            flatten(r, None, cx, out, bad);
        }
    }
}

/// The most resources copy loops may make in one template (800 × 800 is 640,000).
const MAX_RESOURCES: usize = 20_000;
/// The most items property and variable copy loops may make in one template, together.
const MAX_COPY_ITEMS: usize = 100_000;

thread_local! {
    /// The items the copy loops of the template being evaluated have made so far (evaluation
    /// runs on one thread; reset for every template).
    static COPY_ITEMS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// What makes a value larger than evaluation takes (a template that doubles a string or an
/// array 24 times would take gigabytes): its description, or `None` when it is within bounds.
/// The whole value is weighed — strings by their bytes, every item and member as 8 — and the
/// weighing stops as soon as it passes the bound.
fn too_big(v: &Value) -> Option<String> {
    const WEIGHT: usize = 4 << 20;
    fn weigh(v: &Value, left: &mut usize) -> bool {
        let w = match v {
            Value::String(s) => s.len(),
            _ => 8,
        };
        if w > *left {
            return false;
        }
        *left -= w;
        match v {
            Value::Array(a) => a.iter().all(|x| weigh(x, left)),
            Value::Object(o) => o.iter().all(|(k, x)| {
                k.len() <= *left && {
                    *left -= k.len();
                    weigh(x, left)
                }
            }),
            _ => true,
        }
    }
    let mut left = WEIGHT;
    (!weigh(v, &mut left)).then(|| match v {
        Value::String(s) => format!("a string of {} bytes", s.len()),
        Value::Array(a) => format!("an array of {} items weighing over 4 MiB", a.len()),
        Value::Object(o) => format!("an object of {} members weighing over 4 MiB", o.len()),
        _ => "a value over 4 MiB".to_string(),
    })
}

impl Ctx<'_> {
    /// Evaluates every expression of a value in place; what cannot be evaluated becomes
    /// [`UNEVALUATED`] and is listed in `errs`.
    fn tree(&self, v: &mut Value, at: &str, errs: &mut Errs) {
        match v {
            Value::String(s) => {
                if let Some(body) = expression(s) {
                    match self.eval_text(body) {
                        Ok(x) => {
                            // Known in part: the part that is not is reported here.
                            if holds_unevaluated(&x) {
                                let why = self.why.borrow().last().cloned().unwrap_or_default();
                                errs.push((
                                    at.to_string(),
                                    s.clone(),
                                    format!("part of it cannot be evaluated offline ({why})"),
                                ));
                            }
                            *v = x;
                        }
                        Err(mut reason) => {
                            if reason.contains(DEPENDS)
                                && let Some(w) = self.why.borrow().last()
                            {
                                reason = format!("{reason} ({w})");
                            }
                            errs.push((at.to_string(), s.clone(), reason));
                            *v = Value::String(UNEVALUATED.into());
                        }
                    }
                } else if let Some(rest) = s.strip_prefix("[[") {
                    *v = Value::String(format!("[{rest}"));
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    self.tree(x, &format!("{at}[{i}]"), errs);
                }
            }
            Value::Object(o) => {
                // A property (or variable) copy loop: `"copy": [{"name", "count", "input"}]`
                // makes each named property an array of `count` inputs.
                if let Some(Value::Array(loops)) = o.get("copy")
                    && loops
                        .iter()
                        .all(|l| l.get("name").is_some() && l.get("input").is_some())
                {
                    let loops = loops.clone();
                    o.remove("copy");
                    for l in &loops {
                        let name = l.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
                        let p = join_path(at, name);
                        match self.copy_array(l, name) {
                            Ok(a) => {
                                o.insert(name.to_string(), a);
                            }
                            Err(reason) => {
                                errs.push((p, l.to_string(), reason));
                                o.insert(name.to_string(), Value::String(UNEVALUATED.into()));
                            }
                        }
                    }
                }
                for (k, x) in o.iter_mut() {
                    let p = join_path(at, k);
                    self.tree(x, &p, errs);
                }
            }
            _ => {}
        }
    }

    /// The array a property or variable copy loop makes.
    fn copy_array(&self, l: &Value, name: &str) -> Result<Value, String> {
        let count = match l.get("count") {
            Some(c) => int_of(&self.value(c)?)?,
            None => return Err("the copy loop has no count".into()),
        };
        if !(0..=800).contains(&count) {
            return Err(format!(
                "a copy loop of {count} items (Azure allows 0 to 800)"
            ));
        }
        let made = COPY_ITEMS.with(|c| {
            c.set(c.get() + count as usize);
            c.get()
        });
        if made > MAX_COPY_ITEMS {
            return Err(format!(
                "the template's copy loops make more than {MAX_COPY_ITEMS} items, more than a template evaluated here may hold"
            ));
        }
        let input = l.get("input").cloned().unwrap_or(Value::Null);
        let mut items = Vec::new();
        for i in 0..count {
            if crate::cancel::cancelled() {
                return Err("the evaluation was given up".into());
            }
            let mut cx = self.clone();
            cx.loops.push((name.to_string(), i, false));
            items.push(cx.value(&input)?);
        }
        let v = Value::Array(items);
        too_big(&v).map_or(Ok(v), |what| {
            Err(format!(
                "the copy loop `{name}` makes {what}, more than a template evaluated here may hold"
            ))
        })
    }

    /// A value with its expressions evaluated as far as they can be: a part that cannot be is
    /// left as [`UNEVALUATED`] (its reason kept in `why`), and the rest is used — the length
    /// of a list is known when one of its items is not.
    fn value(&self, v: &Value) -> Result<Value, String> {
        if self.depth > 32 {
            return Err("parameters or variables refer to each other too deeply".into());
        }
        let mut x = v.clone();
        let mut errs = Errs::new();
        let deeper = Ctx {
            depth: self.depth + 1,
            ..self.clone()
        };
        deeper.tree(&mut x, "", &mut errs);
        if x.as_str() == Some(UNEVALUATED) {
            // Nothing of it is known.
            let (_, e, why) = errs.into_iter().next().unwrap_or_default();
            return Err(if e.starts_with('[') {
                format!("`{e}`: {why}")
            } else {
                why
            });
        }
        for (_, e, why) in errs {
            self.why.borrow_mut().push(if e.starts_with('[') {
                format!("`{e}`: {why}")
            } else {
                why
            });
        }
        Ok(x)
    }

    fn eval_text(&self, body: &str) -> Result<Value, String> {
        let tokens = lex(body)?;
        let mut p = Parser { t: &tokens, i: 0 };
        let e = p.expr()?;
        if p.i != tokens.len() {
            return Err(format!("unexpected `{}`", tokens[p.i].show()));
        }
        self.eval(&e)
    }

    fn eval(&self, e: &Expr) -> Result<Value, String> {
        match e {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::Prop(base, name) => {
                if let Expr::Call(f, args) = &**base
                    && f.eq_ignore_ascii_case("resourceGroup")
                    && args.is_empty()
                    && name.eq_ignore_ascii_case("location")
                    && self.dep.location.is_none()
                {
                    return Err("resourceGroup().location is known only when Azure deploys the template: give the region (`check --location REGION`)".into());
                }
                let v = self.eval(base)?;
                if v.as_str() == Some(UNEVALUATED) {
                    return Err(DEPENDS.into());
                }
                match &v {
                    Value::Object(o) => o
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, x)| x.clone())
                        .ok_or_else(|| format!("the object has no property `{name}`")),
                    other => Err(format!(
                        "`.{name}` of `{}`, which is not an object",
                        short(other)
                    )),
                }
            }
            Expr::Index(base, index) => {
                let v = self.eval(base)?;
                let i = self.eval(index)?;
                if v.as_str() == Some(UNEVALUATED) || i.as_str() == Some(UNEVALUATED) {
                    return Err(DEPENDS.into());
                }
                match (&v, &i) {
                    (Value::Array(a), _) => {
                        let k = int_of(&i)?;
                        usize::try_from(k)
                            .ok()
                            .and_then(|k| a.get(k))
                            .cloned()
                            .ok_or_else(|| format!("index {k} is outside an array of {}", a.len()))
                    }
                    (Value::Object(o), Value::String(k)) => o
                        .iter()
                        .find(|(x, _)| x.eq_ignore_ascii_case(k))
                        .map(|(_, x)| x.clone())
                        .ok_or_else(|| format!("the object has no property `{k}`")),
                    _ => Err(format!("`[{}]` of `{}`", short(&i), short(&v))),
                }
            }
            Expr::Call(f, args) => {
                let lower = f.to_ascii_lowercase();
                if lower == "if" {
                    if args.len() != 3 {
                        return Err("if() takes a condition and two values".into());
                    }
                    let c = bool_of(&self.eval(&args[0])?)?;
                    return self.eval(&args[if c { 1 } else { 2 }]);
                }
                let vals: Vec<Value> = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<_, _>>()?;
                // Only functions that carry values along (make or cut lists and objects, count
                // a list) take one that is known in part; any other needs it whole.
                let carries = matches!(
                    lower.as_str(),
                    "createarray"
                        | "createobject"
                        | "union"
                        | "array"
                        | "first"
                        | "last"
                        | "take"
                        | "skip"
                        | "coalesce"
                        | "items"
                        | "concat"
                        | "length"
                );
                let unknown = |v: &Value| {
                    if carries {
                        v.as_str() == Some(UNEVALUATED)
                    } else {
                        holds_unevaluated(v)
                    }
                };
                if vals.iter().any(unknown) {
                    return Err(DEPENDS.into());
                }
                if crate::cancel::cancelled() {
                    return Err("the evaluation was given up".into());
                }
                let v = self.call(&lower, f, vals)?;
                too_big(&v).map_or(Ok(v), |what| {
                    Err(format!(
                        "{f}() makes {what}, more than a template evaluated here may hold (4 MiB)"
                    ))
                })
            }
        }
    }

    fn call(&self, f: &str, spelled: &str, a: Vec<Value>) -> Result<Value, String> {
        let arg = |i: usize| -> Result<&Value, String> {
            a.get(i)
                .ok_or_else(|| format!("{spelled}() needs {} argument(s)", i + 1))
        };
        let text = |i: usize| -> Result<String, String> { text_of(arg(i)?) };
        let int = |i: usize| -> Result<i64, String> { int_of(arg(i)?) };
        match f {
            "parameters" => self.parameter(&text(0)?),
            "variables" => self.variable(&text(0)?),
            "copyindex" => {
                let (name, offset) = match a.first() {
                    Some(Value::String(n)) => (Some(n.clone()), a.get(1).map(int_of).transpose()?),
                    Some(x) => (None, Some(int_of(x)?)),
                    None => (None, None),
                };
                let found = match &name {
                    Some(n) => self
                        .loops
                        .iter()
                        .rev()
                        .find(|l| l.0.eq_ignore_ascii_case(n)),
                    None => self.loops.iter().rev().find(|l| l.2),
                };
                let (_, i, _) = found.ok_or_else(|| match &name {
                    Some(n) => format!("copyIndex('{n}') is outside a copy loop named `{n}`"),
                    None => "copyIndex() is outside a resource copy loop".to_string(),
                })?;
                Ok(Value::from(i + offset.unwrap_or(0)))
            }
            "length" => match arg(0)? {
                Value::Array(x) => Ok(Value::from(x.len())),
                Value::String(s) => Ok(Value::from(s.chars().count())),
                Value::Object(o) => Ok(Value::from(o.len())),
                other => Err(format!("length() of `{}`", short(other))),
            },
            "empty" => Ok(Value::Bool(match arg(0)? {
                Value::Null => true,
                Value::Array(x) => x.is_empty(),
                Value::String(s) => s.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            })),
            "contains" => Ok(Value::Bool(match (arg(0)?, arg(1)?) {
                (Value::Array(x), item) => x.contains(item),
                (Value::String(s), item) => s.contains(&text_of(item)?),
                (Value::Object(o), key) => {
                    let k = text_of(key)?;
                    o.keys().any(|x| x.eq_ignore_ascii_case(&k))
                }
                (other, _) => return Err(format!("contains() in `{}`", short(other))),
            })),
            "add" => Ok(Value::from(
                int(0)?.checked_add(int(1)?).ok_or("add() overflows")?,
            )),
            "sub" => Ok(Value::from(
                int(0)?.checked_sub(int(1)?).ok_or("sub() overflows")?,
            )),
            "mul" => Ok(Value::from(
                int(0)?.checked_mul(int(1)?).ok_or("mul() overflows")?,
            )),
            "div" => Ok(Value::from(
                int(0)?.checked_div(int(1)?).ok_or("div() by zero")?,
            )),
            "mod" => Ok(Value::from(
                int(0)?.checked_rem(int(1)?).ok_or("mod() by zero")?,
            )),
            "min" | "max" => {
                let nums: Vec<i64> = match a.as_slice() {
                    [Value::Array(x)] => x.iter().map(int_of).collect::<Result<_, _>>()?,
                    xs => xs.iter().map(int_of).collect::<Result<_, _>>()?,
                };
                let r = if f == "min" {
                    nums.iter().min()
                } else {
                    nums.iter().max()
                };
                r.map(|&n| Value::from(n))
                    .ok_or_else(|| format!("{spelled}() of nothing"))
            }
            "equals" => Ok(Value::Bool(arg(0)? == arg(1)?)),
            "not" => Ok(Value::Bool(!bool_of(arg(0)?)?)),
            "and" => Ok(Value::Bool(
                a.iter()
                    .map(bool_of)
                    .collect::<Result<Vec<_>, _>>()?
                    .iter()
                    .all(|&b| b),
            )),
            "or" => Ok(Value::Bool(
                a.iter()
                    .map(bool_of)
                    .collect::<Result<Vec<_>, _>>()?
                    .iter()
                    .any(|&b| b),
            )),
            "greater" | "greaterorequals" | "less" | "lessorequals" => {
                let ord = match (arg(0)?, arg(1)?) {
                    (Value::String(x), Value::String(y)) => x.cmp(y),
                    (x, y) => int_of(x)?.cmp(&int_of(y)?),
                };
                use std::cmp::Ordering::*;
                Ok(Value::Bool(match f {
                    "greater" => ord == Greater,
                    "greaterorequals" => ord != Less,
                    "less" => ord == Less,
                    _ => ord != Greater,
                }))
            }
            "bool" => Ok(Value::Bool(bool_of(arg(0)?)?)),
            "int" => Ok(Value::from(int(0)?)),
            "string" => Ok(Value::String(match arg(0)? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })),
            "json" => serde_json::from_str(&text(0)?).map_err(|e| format!("json(): {e}")),
            "createobject" => {
                if !a.len().is_multiple_of(2) {
                    return Err("createObject() takes key and value pairs".into());
                }
                let mut o = Map::new();
                for kv in a.chunks(2) {
                    o.insert(text_of(&kv[0])?, kv[1].clone());
                }
                Ok(Value::Object(o))
            }
            "createarray" => Ok(Value::Array(a)),
            "array" => Ok(match arg(0)? {
                Value::Array(x) => Value::Array(x.clone()),
                other => Value::Array(vec![other.clone()]),
            }),
            "union" => {
                if a.iter().all(Value::is_object) {
                    let mut o = Value::Object(Map::new());
                    for x in &a {
                        merge(&mut o, x);
                    }
                    Ok(o)
                } else if a.iter().all(Value::is_array) {
                    let mut out: Vec<Value> = Vec::new();
                    for x in a
                        .iter()
                        .flat_map(|x| x.as_array().cloned().unwrap_or_default())
                    {
                        if !out.contains(&x) {
                            out.push(x);
                        }
                    }
                    Ok(Value::Array(out))
                } else {
                    Err("union() takes objects or arrays, not a mix".into())
                }
            }
            "coalesce" => Ok(a.into_iter().find(|x| !x.is_null()).unwrap_or(Value::Null)),
            // Bicep writes `if(cond, createObject('id', x), null())` for optional references.
            "null" if a.is_empty() => Ok(Value::Null),
            "concat" => {
                if a.iter().all(Value::is_array) {
                    return Ok(Value::Array(
                        a.into_iter()
                            .flat_map(|x| x.as_array().cloned().unwrap_or_default())
                            .collect(),
                    ));
                }
                let parts: Vec<String> = a.iter().map(text_of).collect::<Result<_, _>>()?;
                Ok(Value::String(parts.concat()))
            }
            "format" => format_text(&text(0)?, &a[1..]),
            "tolower" => Ok(Value::String(text(0)?.to_lowercase())),
            "toupper" => Ok(Value::String(text(0)?.to_uppercase())),
            "trim" => Ok(Value::String(text(0)?.trim().to_string())),
            "replace" => Ok(Value::String(text(0)?.replace(&text(1)?, &text(2)?))),
            "split" => {
                let s = text(0)?;
                let delims: Vec<String> = match arg(1)? {
                    Value::Array(x) => x.iter().map(text_of).collect::<Result<_, _>>()?,
                    other => vec![text_of(other)?],
                };
                let parts = s
                    .split(|c: char| {
                        delims
                            .iter()
                            .any(|d| d.chars().count() == 1 && d.starts_with(c))
                    })
                    .map(|p| Value::String(p.to_string()))
                    .collect();
                if delims.iter().any(|d| d.chars().count() != 1) {
                    let d = &delims[0];
                    return Ok(Value::Array(
                        s.split(d.as_str())
                            .map(|p| Value::String(p.into()))
                            .collect(),
                    ));
                }
                Ok(Value::Array(parts))
            }
            "join" => {
                let items = arg(0)?.as_array().ok_or("join() takes an array")?;
                let parts: Vec<String> = items.iter().map(text_of).collect::<Result<_, _>>()?;
                Ok(Value::String(parts.join(&text(1)?)))
            }
            "substring" => {
                let s: Vec<char> = text(0)?.chars().collect();
                let start = usize::try_from(int(1)?).map_err(|_| "substring() start below 0")?;
                let len = match a.get(2) {
                    Some(x) => {
                        usize::try_from(int_of(x)?).map_err(|_| "substring() length below 0")?
                    }
                    None => s.len().saturating_sub(start),
                };
                if start + len > s.len() {
                    return Err("substring() beyond the end of the string".into());
                }
                Ok(Value::String(s[start..start + len].iter().collect()))
            }
            "startswith" => Ok(Value::Bool(
                text(0)?
                    .to_lowercase()
                    .starts_with(&text(1)?.to_lowercase()),
            )),
            "endswith" => Ok(Value::Bool(
                text(0)?.to_lowercase().ends_with(&text(1)?.to_lowercase()),
            )),
            "first" | "last" => match arg(0)? {
                Value::Array(x) => Ok((if f == "first" { x.first() } else { x.last() })
                    .cloned()
                    .unwrap_or(Value::Null)),
                Value::String(s) => Ok(Value::String(
                    (if f == "first" {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    })
                    .map(String::from)
                    .unwrap_or_default(),
                )),
                other => Err(format!("{spelled}() of `{}`", short(other))),
            },
            "take" | "skip" => {
                let n = usize::try_from(int(1)?.max(0)).unwrap_or(0);
                match arg(0)? {
                    Value::Array(x) => Ok(Value::Array(if f == "take" {
                        x.iter().take(n).cloned().collect()
                    } else {
                        x.iter().skip(n).cloned().collect()
                    })),
                    Value::String(s) => Ok(Value::String(if f == "take" {
                        s.chars().take(n).collect()
                    } else {
                        s.chars().skip(n).collect()
                    })),
                    other => Err(format!("{spelled}() of `{}`", short(other))),
                }
            }
            "range" => {
                let (start, count) = (int(0)?, int(1)?);
                if !(0..=10_000).contains(&count) {
                    return Err(format!("range() of {count} items"));
                }
                Ok(Value::Array(
                    (start..start + count).map(Value::from).collect(),
                ))
            }
            "items" => {
                let o = arg(0)?.as_object().ok_or("items() takes an object")?;
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort_by_key(|k| k.to_lowercase());
                Ok(Value::Array(
                    keys.into_iter()
                        .map(|k| serde_json::json!({"key": k, "value": o[k]}))
                        .collect(),
                ))
            }
            "resourceid" => self.resource_id(&a),
            "subscriptionresourceid" => {
                let texts: Vec<String> = a.iter().map(text_of).collect::<Result<_, _>>()?;
                let ti = texts
                    .iter()
                    .position(|t| t.contains('/'))
                    .ok_or("subscriptionResourceId() needs a resource type")?;
                let sub = if ti == 1 {
                    texts[0].clone()
                } else {
                    self.subscription()
                };
                Ok(Value::String(format!(
                    "/subscriptions/{sub}/providers/{}",
                    type_and_names(&texts[ti], &texts[ti + 1..])?
                )))
            }
            "tenantresourceid" => {
                let texts: Vec<String> = a.iter().map(text_of).collect::<Result<_, _>>()?;
                Ok(Value::String(format!(
                    "/providers/{}",
                    type_and_names(
                        texts.first().ok_or("tenantResourceId() needs a type")?,
                        &texts[1..]
                    )?
                )))
            }
            "extensionresourceid" => {
                let texts: Vec<String> = a.iter().map(text_of).collect::<Result<_, _>>()?;
                if texts.len() < 3 {
                    return Err("extensionResourceId() needs an id, a type and names".into());
                }
                Ok(Value::String(format!(
                    "{}/providers/{}",
                    texts[0],
                    type_and_names(&texts[1], &texts[2..])?
                )))
            }
            "subscription" => Ok(serde_json::json!({
                "id": format!("/subscriptions/{}", self.subscription()),
                "subscriptionId": self.subscription(),
                // Names no network resource reads; a placeholder as the subscription's is.
                "tenantId": "{tenant}",
            })),
            "resourcegroup" => {
                let mut o = serde_json::json!({
                    "id": format!("/subscriptions/{}/resourceGroups/{}", self.subscription(), self.resource_group()),
                    "name": self.resource_group(),
                    "type": "Microsoft.Resources/resourceGroups",
                });
                if let Some(l) = &self.dep.location {
                    o["location"] = Value::String(l.clone());
                }
                Ok(o)
            }
            "parsecidr" => parse_cidr(&text(0)?),
            "cidrsubnet" => cidr_subnet(&text(0)?, int(1)?, int(2)?),
            "cidrhost" => cidr_host(&text(0)?, int(1)?),
            "reference"
            | "list"
            | "listkeys"
            | "listsecrets"
            | "uniquestring"
            | "guid"
            | "newguid"
            | "utcnow"
            | "deployment"
            | "environment"
            | "managementgroup"
            | "tenant"
            | "pickzones"
            | "providers"
            | "listaccountsas"
            | "listservicesas"
            | "managementgroupresourceid"
            | "base64"
            | "datetimeadd" => Err(format!(
                "`{spelled}()` is known only when Azure deploys the template"
            )),
            other if other.starts_with("list") => Err(format!(
                "`{spelled}()` is known only when Azure deploys the template"
            )),
            _ => Err(format!("`{spelled}()` is not evaluated offline")),
        }
    }

    fn subscription(&self) -> String {
        self.dep
            .subscription_id
            .clone()
            .unwrap_or_else(|| "{subscription}".into())
    }

    fn resource_group(&self) -> String {
        self.dep
            .resource_group
            .clone()
            .unwrap_or_else(|| "{resourceGroup}".into())
    }

    fn resource_id(&self, a: &[Value]) -> Result<Value, String> {
        let texts: Vec<String> = a.iter().map(text_of).collect::<Result<_, _>>()?;
        let Some(ti) = texts.iter().position(|t| t.contains('/')) else {
            return Err("resourceId() needs a resource type".into());
        };
        let (sub, rg) = match ti {
            2 => (texts[0].clone(), texts[1].clone()),
            1 => (self.subscription(), texts[0].clone()),
            _ => (self.subscription(), self.resource_group()),
        };
        Ok(Value::String(format!(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/{}",
            type_and_names(&texts[ti], &texts[ti + 1..])?
        )))
    }

    fn parameter(&self, n: &str) -> Result<Value, String> {
        let find = |m: &Map<String, Value>| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        if let Some(v) = find(&self.t.given) {
            // A parameters file (or a nested deployment) wraps each value as {"value": …}; a
            // Key Vault reference is resolved when Azure deploys, not here.
            if let Some(x) = v.get("value") {
                if x.as_str() == Some(UNEVALUATED) {
                    return Err(format!(
                        "parameter `{n}` is given a value that cannot be evaluated offline"
                    ));
                }
                return Ok(x.clone());
            }
            if v.get("reference").is_some() {
                return Err(format!(
                    "parameter `{n}` is a Key Vault reference, resolved only when Azure deploys the template"
                ));
            }
            if v.as_object().is_some_and(|o| o.is_empty()) {
                return Err(format!(
                    "parameter `{n}` is given as {{}} in the parameters file, with no `value`"
                ));
            }
            // A bare parameters object (`{"name": value}`).
            return Ok(v);
        }
        let decl =
            find(&self.t.parameters).ok_or_else(|| format!("parameter `{n}` is not declared"))?;
        let d = decl.get("defaultValue").ok_or_else(|| {
            format!(
                "parameter `{n}` has no value and no default (give it in the parameters: `--parameters FILE` on the command line, `parameters` over HTTP and in Python)"
            )
        })?;
        // A default is evaluated in the template, outside any copy loop.
        let top = Ctx {
            loops: Vec::new(),
            ..self.clone()
        };
        top.value(d)
            .map_err(|why| format!("parameter `{n}`'s default: {why}"))
    }

    fn variable(&self, n: &str) -> Result<Value, String> {
        let key = n.to_ascii_lowercase();
        if let Some(known) = self.memo.borrow().get(&key) {
            return known.clone();
        }
        let got = self.variable_uncached(n);
        // An error of depth is the path's, not the variable's: not kept.
        if !matches!(&got, Err(why) if why.contains("too deeply")) {
            self.memo.borrow_mut().insert(key, got.clone());
        }
        got
    }

    fn variable_uncached(&self, n: &str) -> Result<Value, String> {
        let top = Ctx {
            loops: Vec::new(),
            ..self.clone()
        };
        if let Some((_, v)) = self
            .t
            .variables
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n) && !k.eq_ignore_ascii_case("copy"))
        {
            return top.value(v).map_err(|why| format!("variable `{n}`: {why}"));
        }
        // A variable copy loop: `"variables": {"copy": [{"name": n, "count", "input"}]}`.
        if let Some(Value::Array(loops)) = self
            .t
            .variables
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("copy"))
            .map(|(_, v)| v)
            && let Some(l) = loops.iter().find(|l| {
                l.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(n))
            })
        {
            let deeper = Ctx {
                depth: self.depth + 1,
                ..top
            };
            if deeper.depth > 32 {
                return Err("variables refer to each other too deeply".into());
            }
            return deeper
                .copy_array(l, n)
                .map_err(|why| format!("variable `{n}`: {why}"));
        }
        Err(format!("variable `{n}` is not declared"))
    }
}

/// The body of an expression string (`[…]`, not the `[[` escape).
fn expression(s: &str) -> Option<&str> {
    if s.starts_with("[[") {
        return None;
    }
    s.strip_prefix('[')?.strip_suffix(']')
}

fn join_path(at: &str, k: &str) -> String {
    if at.is_empty() {
        k.to_string()
    } else {
        format!("{at}.{k}")
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Why an operation on an unknown value fails.
const DEPENDS: &str = "depends on a value that cannot be evaluated offline";

/// Whether a value is, or holds, [`UNEVALUATED`].
pub fn holds_unevaluated(v: &Value) -> bool {
    match v {
        Value::String(s) => s == UNEVALUATED,
        Value::Array(a) => a.iter().any(holds_unevaluated),
        Value::Object(o) => o.values().any(holds_unevaluated),
        _ => false,
    }
}

fn text_of(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) if s == UNEVALUATED => Err(DEPENDS.into()),
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("`{}` is not a string", short(other))),
    }
}

fn int_of(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) if s == UNEVALUATED => Err(DEPENDS.into()),
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("`{n}` is not an integer")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an integer")),
        Value::Bool(b) => Ok(i64::from(*b)),
        other => Err(format!("`{}` is not an integer", short(other))),
    }
}

fn bool_of(v: &Value) -> Result<bool, String> {
    match v {
        Value::String(s) if s == UNEVALUATED => Err(DEPENDS.into()),
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        other => Err(format!("`{}` is not true or false", short(other))),
    }
}

/// `union` of objects: later values win; nested objects are merged.
fn merge(into: &mut Value, from: &Value) {
    if let (Value::Object(a), Value::Object(b)) = (&mut *into, from) {
        for (k, v) in b {
            match a.get_mut(k) {
                Some(x) if x.is_object() && v.is_object() => merge(x, v),
                _ => {
                    a.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// `format('{0}-{1}', …)`: `{n}` placeholders and `{{`/`}}` escapes; a format specifier
/// (`{0:N2}`) is not evaluated (it is .NET's).
fn format_text(fmt: &str, args: &[Value]) -> Result<Value, String> {
    let mut out = String::new();
    let c: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '{' if c.get(i + 1) == Some(&'{') => {
                out.push('{');
                i += 2;
            }
            '}' if c.get(i + 1) == Some(&'}') => {
                out.push('}');
                i += 2;
            }
            '{' => {
                let end = c[i..]
                    .iter()
                    .position(|&x| x == '}')
                    .ok_or("format(): a `{` is not closed")?;
                let inside: String = c[i + 1..i + end].iter().collect();
                if inside.contains(':') || inside.contains(',') {
                    return Err(format!(
                        "format(): the specifier `{{{inside}}}` is not evaluated offline"
                    ));
                }
                let k: usize = inside
                    .trim()
                    .parse()
                    .map_err(|_| format!("format(): `{{{inside}}}` is not a placeholder"))?;
                out.push_str(&text_of(
                    args.get(k)
                        .ok_or_else(|| format!("format(): no argument {k}"))?,
                )?);
                i += end + 1;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    Ok(Value::String(out))
}

/// `Microsoft.Network/virtualNetworks/subnets` and `[vnet, snet]` →
/// `Microsoft.Network/virtualNetworks/vnet/subnets/snet`.
fn type_and_names(kind: &str, names: &[String]) -> Result<String, String> {
    let types: Vec<&str> = kind.split('/').collect();
    if types.len() < 2 || names.len() != types.len() - 1 {
        return Err(format!(
            "the type `{kind}` needs {} name(s), given {}",
            types.len().saturating_sub(1),
            names.len()
        ));
    }
    let mut out = vec![types[0].to_string()];
    for (t, n) in types[1..].iter().zip(names) {
        out.push(t.to_string());
        out.push(n.clone());
    }
    Ok(out.join("/"))
}

fn cidr(text: &str) -> Result<IpNet, String> {
    text.trim()
        .parse::<IpNet>()
        .map_err(|_| format!("`{text}` is not in CIDR notation"))
}

fn parse_cidr(text: &str) -> Result<Value, String> {
    let n = cidr(text)?.trunc();
    Ok(match n {
        IpNet::V4(v4) => {
            let (first, last) = if v4.prefix_len() >= 31 {
                (v4.network(), v4.broadcast())
            } else {
                (
                    std::net::Ipv4Addr::from(u32::from(v4.network()) + 1),
                    std::net::Ipv4Addr::from(u32::from(v4.broadcast()) - 1),
                )
            };
            serde_json::json!({
                "network": v4.network().to_string(),
                "netmask": v4.netmask().to_string(),
                "broadcast": v4.broadcast().to_string(),
                "firstUsable": first.to_string(),
                "lastUsable": last.to_string(),
                "cidr": v4.prefix_len(),
            })
        }
        IpNet::V6(v6) => serde_json::json!({
            "network": v6.network().to_string(),
            "netmask": v6.netmask().to_string(),
            "firstUsable": v6.network().to_string(),
            "lastUsable": v6.broadcast().to_string(),
            "cidr": v6.prefix_len(),
        }),
    })
}

fn cidr_subnet(text: &str, new_len: i64, index: i64) -> Result<Value, String> {
    let n = cidr(text)?.trunc();
    let new_len = u8::try_from(new_len).map_err(|_| format!("cidrSubnet(): /{new_len}"))?;
    if new_len < n.prefix_len() || new_len > n.max_prefix_len() {
        return Err(format!("cidrSubnet(): /{new_len} does not split {n}"));
    }
    let index = u128::try_from(index).map_err(|_| "cidrSubnet(): a negative index")?;
    let bits = u32::from(n.max_prefix_len() - new_len);
    let count = 1u128
        .checked_shl(u32::from(new_len - n.prefix_len()))
        .unwrap_or(u128::MAX);
    if index >= count {
        return Err(format!(
            "cidrSubnet(): {n} has {count} /{new_len} subnets, not {}",
            index + 1
        ));
    }
    let start = addr_u128(n.network()) + (index << bits);
    Ok(Value::String(format!("{}/{new_len}", u128_addr(start, &n))))
}

fn cidr_host(text: &str, index: i64) -> Result<Value, String> {
    let n = cidr(text)?.trunc();
    let index = u128::try_from(index).map_err(|_| "cidrHost(): a negative index")?;
    let (lo, hi) = crate::prefixset::prefix_range(&n);
    // The first usable host is the one after the network address; IPv4 keeps its broadcast.
    let last = if matches!(n, IpNet::V4(_)) {
        hi.saturating_sub(1)
    } else {
        hi
    };
    let host = lo + 1 + index;
    if host > last {
        return Err(format!("cidrHost(): {n} has no host {index}"));
    }
    Ok(Value::String(u128_addr(host, &n).to_string()))
}

fn addr_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn u128_addr(x: u128, like: &IpNet) -> IpAddr {
    match like {
        IpNet::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(x as u32)),
        IpNet::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(x)),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(i64),
    Open,
    Close,
    Comma,
    Dot,
    LBracket,
    RBracket,
}

impl Tok {
    fn show(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Num(n) => n.to_string(),
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Comma => ",".into(),
            Tok::Dot => ".".into(),
            Tok::LBracket => "[".into(),
            Tok::RBracket => "]".into(),
        }
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let single = match c[i] {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            _ => None,
        };
        if let Some(t) = single {
            out.push(t);
            i += 1;
            continue;
        }
        match c[i] {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '\'' => {
                let mut t = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err("a string is not closed".into()),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            t.push('\'');
                            i += 2
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            t.push(ch);
                            i += 1
                        }
                    }
                }
                out.push(Tok::Str(t));
            }
            ch if ch.is_ascii_digit() || ch == '-' => {
                let start = i;
                i += 1;
                while i < c.len() && c[i].is_ascii_digit() {
                    i += 1;
                }
                let t: String = c[start..i].iter().collect();
                out.push(Tok::Num(
                    t.parse().map_err(|_| format!("bad number `{t}`"))?,
                ));
            }
            ch if ch.is_alphabetic() || ch == '_' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(c[start..i].iter().collect()));
            }
            ch => return Err(format!("unexpected character `{ch}`")),
        }
    }
    Ok(out)
}

/// An expression: a literal, a call, a property or an index of another.
#[derive(Debug, Clone)]
enum Expr {
    Lit(Value),
    Call(String, Vec<Expr>),
    Prop(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Parser<'_> {
    fn expr(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        loop {
            match self.t.get(self.i) {
                Some(Tok::Dot) => {
                    self.i += 1;
                    match self.t.get(self.i) {
                        Some(Tok::Ident(name)) => {
                            self.i += 1;
                            e = Expr::Prop(Box::new(e), name.clone());
                        }
                        _ => return Err("a `.` is not followed by a property name".into()),
                    }
                }
                Some(Tok::LBracket) => {
                    self.i += 1;
                    let index = self.expr()?;
                    if self.t.get(self.i) != Some(&Tok::RBracket) {
                        return Err("a `[` is not closed".into());
                    }
                    self.i += 1;
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self
            .t
            .get(self.i)
            .cloned()
            .ok_or("an expression ends early")?;
        self.i += 1;
        match tok {
            Tok::Str(s) => Ok(Expr::Lit(Value::String(s))),
            Tok::Num(n) => Ok(Expr::Lit(Value::from(n))),
            Tok::Ident(f) => {
                if self.t.get(self.i) != Some(&Tok::Open) {
                    return match f.to_ascii_lowercase().as_str() {
                        "true" => Ok(Expr::Lit(Value::Bool(true))),
                        "false" => Ok(Expr::Lit(Value::Bool(false))),
                        "null" => Ok(Expr::Lit(Value::Null)),
                        _ => Err(format!("`{f}` is not a function call")),
                    };
                }
                self.i += 1;
                let mut args = Vec::new();
                if self.t.get(self.i) == Some(&Tok::Close) {
                    self.i += 1;
                } else {
                    loop {
                        args.push(self.expr()?);
                        match self.t.get(self.i) {
                            Some(Tok::Comma) => self.i += 1,
                            Some(Tok::Close) => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(format!("`{f}(`: expected `,` or `)`")),
                        }
                    }
                }
                Ok(Expr::Call(f, args))
            }
            t => Err(format!("unexpected `{}`", t.show())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(parameters: Value, variables: Value, resources: Value) -> Value {
        json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": parameters,
            "variables": variables,
            "resources": resources,
        })
    }

    fn eval(expr: &str) -> Result<Value, String> {
        let t = Template::of(
            &json!({"parameters": {"n": {"type": "int", "defaultValue": 3}, "o": {"type": "object", "defaultValue": {"a": {"b": 1}}}},
                    "variables": {"list": ["x", "y"], "copy": [{"name": "nums", "count": "[parameters('n')]", "input": "[mul(copyIndex('nums'), 10)]"}]}}),
            Map::new(),
        );
        let dep = Deployment {
            location: Some("westeurope".into()),
            ..Default::default()
        };
        let why = std::cell::RefCell::new(Vec::new());
        let memo = std::cell::RefCell::new(std::collections::HashMap::new());
        let cx = Ctx {
            t: &t,
            dep: &dep,
            why: &why,
            loops: Vec::new(),
            depth: 0,
            memo: &memo,
        };
        cx.eval_text(expr)
    }

    #[test]
    fn functions_templates_use() {
        for (expr, want) in [
            ("add(parameters('n'), 4)", json!(7)),
            ("length(variables('list'))", json!(2)),
            ("variables('nums')", json!([0, 10, 20])),
            ("variables('list')[1]", json!("y")),
            ("parameters('o').a.b", json!(1)),
            (
                "if(equals(parameters('n'), 3), 'three', reference('x'))",
                json!("three"),
            ),
            ("createObject('k', 1, 'l', 'v')", json!({"k": 1, "l": "v"})),
            (
                "union(createObject('a', 1), createObject('b', 2))",
                json!({"a": 1, "b": 2}),
            ),
            ("toLower(string(int('42')))", json!("42")),
            ("format('{0}-{1}', 'snet', 2)", json!("snet-2")),
            (
                "concat('10.0.', string(add(1, 1)), '.0/24')",
                json!("10.0.2.0/24"),
            ),
            ("resourceGroup().location", json!("westeurope")),
            ("subscription().subscriptionId", json!("{subscription}")),
            ("cidrSubnet('10.144.0.0/20', 24, 3)", json!("10.144.3.0/24")),
            ("cidrHost('10.144.3.0/24', 0)", json!("10.144.3.1")),
            (
                "parseCidr('10.144.0.0/20').lastUsable",
                json!("10.144.15.254"),
            ),
            (
                "cidrSubnet('fdad:3236:5555::/48', 52, 1)",
                json!("fdad:3236:5555:1000::/52"),
            ),
            ("range(1, 3)", json!([1, 2, 3])),
            ("split('a,b', ',')", json!(["a", "b"])),
            (
                "resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')",
                json!(
                    "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
                ),
            ),
        ] {
            assert_eq!(eval(expr), Ok(want), "{expr}");
        }
        for (expr, says) in [
            ("reference('pip').ipAddress", "only when Azure deploys"),
            (
                "uniqueString(resourceGroup().id)",
                "only when Azure deploys",
            ),
            ("copyIndex()", "outside a resource copy loop"),
            ("variables('nope')", "not declared"),
            ("format('{0:N2}', 1)", "specifier"),
            ("cidrSubnet('10.0.0.0/24', 26, 4)", "has 4 /26 subnets"),
        ] {
            let e = eval(expr).unwrap_err();
            assert!(e.contains(says), "{expr}: {e}");
        }
    }

    #[test]
    fn resource_and_property_copy_loops_are_expanded() {
        let doc = template(
            json!({"count": {"type": "int", "defaultValue": 2}}),
            json!({"ports": ["22", "44224"]}),
            json!([{
                "type": "Microsoft.Network/networkSecurityGroups",
                "name": "[concat('nsg-', copyIndex(1))]",
                "copy": {"name": "nsgs", "count": "[parameters('count')]"},
                "properties": {"copy": [{"name": "securityRules", "count": "[length(variables('ports'))]",
                    "input": {"name": "[concat('r', copyIndex('securityRules'))]",
                              "properties": {"priority": "[add(100, copyIndex('securityRules'))]",
                                             "destinationPortRange": "[variables('ports')[copyIndex('securityRules')]]"}}}]}
            }]),
        );
        let (res, bad) = resources(&doc, &Map::new());
        assert!(bad.is_empty(), "{bad:?}");
        let names: Vec<&str> = res.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["nsg-1", "nsg-2"]);
        let rules = &res[1]["properties"]["securityRules"];
        assert_eq!(rules[1]["name"], "r1");
        assert_eq!(rules[1]["properties"]["priority"], 101);
        assert_eq!(rules[1]["properties"]["destinationPortRange"], "44224");
    }

    #[test]
    fn nested_deployments_have_their_scope() {
        let inner = template(
            json!({"vnetName": {"type": "string"}}),
            json!({}),
            json!([{"type": "Microsoft.Network/virtualNetworks", "name": "[parameters('vnetName')]",
                    "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}}]),
        );
        let outer_scope = template(
            json!({}),
            json!({}),
            json!([{"type": "Microsoft.Network/networkSecurityGroups", "name": "[variables('n')]"}]),
        );
        let doc = template(
            json!({"name": {"type": "string", "defaultValue": "vnet-a"}}),
            json!({"n": "nsg-outer"}),
            json!([
                {"type": "Microsoft.Resources/deployments", "name": "inner",
                 "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                                "parameters": {"vnetName": {"value": "[parameters('name')]"}}, "template": inner}},
                {"type": "Microsoft.Resources/deployments", "name": "outer",
                 "properties": {"mode": "Incremental", "template": outer_scope}},
                {"type": "Microsoft.Resources/deployments", "name": "linked",
                 "properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.org/t.json"}}}
            ]),
        );
        let (res, bad) = resources(&doc, &Map::new());
        let names: Vec<&str> = res.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"vnet-a"), "{names:?}");
        assert!(names.contains(&"nsg-outer"), "{names:?}");
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].reason.contains("linked template"), "{bad:?}");
    }

    #[test]
    fn what_cannot_be_known_is_named_not_guessed() {
        let doc = template(
            json!({}),
            json!({}),
            json!([{"type": "Microsoft.Network/virtualNetworks", "name": "v",
                    "location": "[resourceGroup().location]",
                    "properties": {"addressSpace": {"addressPrefixes": ["[reference('x').prefix]"]}}}]),
        );
        let (res, bad) = resources(&doc, &Map::new());
        assert_eq!(res[0]["location"], UNEVALUATED);
        assert_eq!(
            res[0]["properties"]["addressSpace"]["addressPrefixes"][0],
            UNEVALUATED
        );
        assert_eq!(bad.len(), 2);
        assert!(
            bad.iter()
                .any(|b| b.at == "location" && b.reason.contains("--location"))
        );
        let (res, bad) = resources_in(
            &doc,
            &Map::new(),
            &Deployment {
                location: Some("eastus2".into()),
                ..Default::default()
            },
        );
        assert_eq!(res[0]["location"], "eastus2");
        assert_eq!(bad.len(), 1);
    }

    #[test]
    fn bicep_existing_resources_are_not_deployed() {
        let doc = json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "languageVersion": "2.0",
            "contentVersion": "1.0.0.0",
            "resources": {
                "vnet": {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "vnet-ml", "existing": true},
                "nsg": {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "nsg-ml",
                        "properties": {"securityRules": []}}
            }
        });
        let (res, bad) = resources(&doc, &Map::new());
        assert!(bad.is_empty(), "{bad:?}");
        let names: Vec<&str> = res.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["nsg-ml"]);
    }

    #[test]
    fn comments_are_allowed() {
        let text = b"{\n // a comment\n \"a\": 1, /* another */ \"b\": \"http://x\"\n}";
        assert_eq!(parse_json(text).unwrap(), json!({"a": 1, "b": "http://x"}));
        let bad = parse_json(b"{\n // c\n \"a\": }").unwrap_err();
        assert_eq!(bad.line(), 3);
    }
}
