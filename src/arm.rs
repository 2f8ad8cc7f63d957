//! ARM templates, one evaluator for every reader of them (`check`, the NSG reader): parameters, variables and the few template functions that name resources
//! (`resourceId`, `concat`, `format`, `toLower`, `toUpper`, `string`) are evaluated; any other
//! expression is reported as "cannot evaluate" and its value left out, never guessed.
//! Nested child resources are flattened to their full type and name path.

use serde_json::{Map, Value};

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

struct Scope<'a> {
    parameters: &'a Map<String, Value>,
    given: &'a Map<String, Value>,
    variables: &'a Map<String, Value>,
}

/// The template's resources, evaluated and flattened, and what could not be evaluated.
pub fn resources(doc: &Value, given: &Map<String, Value>) -> (Vec<Value>, Vec<Unevaluated>) {
    let empty = Map::new();
    let scope = Scope {
        parameters: doc
            .get("parameters")
            .and_then(Value::as_object)
            .unwrap_or(&empty),
        given,
        variables: doc
            .get("variables")
            .and_then(Value::as_object)
            .unwrap_or(&empty),
    };
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let raw: Vec<Value> = match doc.get("resources") {
        Some(Value::Array(a)) => a.clone(),
        // Language version 2.0 keeps resources in an object by symbolic name.
        Some(Value::Object(o)) => o.values().cloned().collect(),
        _ => Vec::new(),
    };
    for r in &raw {
        flatten(r, None, &scope, &mut out, &mut bad);
    }
    (out, bad)
}

fn flatten(
    r: &Value,
    parent: Option<(&str, &str)>,
    scope: &Scope,
    out: &mut Vec<Value>,
    bad: &mut Vec<Unevaluated>,
) {
    let label = r
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string();
    let mut v = r.clone();
    let children = v
        .as_object_mut()
        .and_then(|o| o.remove("resources"))
        .and_then(|c| c.as_array().cloned())
        .unwrap_or_default();
    let mut errs = Vec::new();
    eval_tree(&mut v, "", scope, &mut errs);
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
    if r.get("copy").is_some() {
        errs.push((
            "copy".into(),
            r.get("copy").map(|c| c.to_string()).unwrap_or_default(),
            "copy loops are not expanded offline; the resource is left out".into(),
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
    if unnamed || r.get("copy").is_some() {
        // Without its name the resource cannot be referred to: it is reported, not checked.
        return;
    }
    // `condition` false (as written or evaluated): Azure does not deploy the resource, nor
    // its children. (One that cannot be evaluated was reported above and is kept.)
    if matches!(v.get("condition"), Some(Value::Bool(false)))
        || v.get("condition")
            .and_then(Value::as_str)
            .is_some_and(|c| c.eq_ignore_ascii_case("false"))
    {
        return;
    }
    for c in &children {
        flatten(c, Some((&kind, &name)), scope, out, bad);
    }
    out.push(v);
}

fn eval_tree(v: &mut Value, at: &str, scope: &Scope, errs: &mut Vec<(String, String, String)>) {
    match v {
        Value::String(s) => {
            if let Some(body) = s.strip_prefix('[').and_then(|b| b.strip_suffix(']'))
                && !s.starts_with("[[")
            {
                match eval_str(body, scope, 0) {
                    Ok(x) => *v = x,
                    Err(reason) => {
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
                eval_tree(x, &format!("{at}[{i}]"), scope, errs);
            }
        }
        Value::Object(o) => {
            // A property `copy` loop (`"copy": [{"name": "securityRules", "count": …,
            // "input": …}]` inside `properties`) makes the named properties: not expanded
            // offline, so each is reported and left as a value that cannot be read — never as
            // absent or empty.
            if at.ends_with("properties")
                && let Some(Value::Array(loops)) = o.remove("copy")
            {
                for l in &loops {
                    let name = l.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
                    errs.push((
                        format!("{at}.{name}"),
                        l.to_string(),
                        "property copy loops are not expanded offline".into(),
                    ));
                    o.insert(name.to_string(), Value::String(UNEVALUATED.into()));
                }
            }
            for (k, x) in o.iter_mut() {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                eval_tree(x, &p, scope, errs);
            }
        }
        _ => {}
    }
}

fn eval_str(body: &str, scope: &Scope, depth: usize) -> Result<Value, String> {
    if depth > 16 {
        return Err("parameters or variables refer to each other too deeply".into());
    }
    let tokens = lex(body)?;
    let mut p = Parser {
        t: &tokens,
        i: 0,
        scope,
        depth,
    };
    let v = p.expr()?;
    if p.i != tokens.len() {
        return Err(format!("unexpected `{}`", tokens[p.i].show()));
    }
    Ok(v)
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
    Bracket,
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
            Tok::Bracket => "[".into(),
        }
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        match c[i] {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1
            }
            ')' => {
                out.push(Tok::Close);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '.' => {
                out.push(Tok::Dot);
                i += 1
            }
            '[' | ']' => {
                out.push(Tok::Bracket);
                i += 1
            }
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

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
    scope: &'a Scope<'a>,
    depth: usize,
}

fn as_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("`{other}` is not a string")),
    }
}

impl Parser<'_> {
    fn expr(&mut self) -> Result<Value, String> {
        let tok = self
            .t
            .get(self.i)
            .cloned()
            .ok_or("an expression ends early")?;
        self.i += 1;
        match tok {
            Tok::Str(s) => Ok(Value::String(s)),
            Tok::Num(n) => Ok(Value::from(n)),
            Tok::Ident(f) => {
                if self.t.get(self.i) != Some(&Tok::Open) {
                    return match f.to_ascii_lowercase().as_str() {
                        "true" => Ok(Value::Bool(true)),
                        "false" => Ok(Value::Bool(false)),
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
                let v = self.call(&f, args)?;
                if let Some(t) = self.t.get(self.i)
                    && matches!(t, Tok::Dot | Tok::Bracket)
                {
                    return Err(format!(
                        "property access on `{f}(...)` is not evaluated offline"
                    ));
                }
                Ok(v)
            }
            t => Err(format!("unexpected `{}`", t.show())),
        }
    }

    fn call(&mut self, f: &str, args: Vec<Value>) -> Result<Value, String> {
        let name_arg = |args: &[Value]| -> Result<String, String> {
            args.first()
                .map(as_text)
                .transpose()?
                .ok_or_else(|| format!("{f}() needs a name"))
        };
        match f.to_ascii_lowercase().as_str() {
            "parameters" => {
                let n = name_arg(&args)?;
                let find = |m: &Map<String, Value>| {
                    m.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&n))
                        .map(|(_, v)| v.clone())
                };
                if let Some(v) = find(self.scope.given) {
                    // A parameters file wraps each value as {"value": …}; a Key Vault
                    // reference is resolved when Azure deploys, not here.
                    if let Some(x) = v.get("value") {
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
                let decl = find(self.scope.parameters)
                    .ok_or_else(|| format!("parameter `{n}` is not declared"))?;
                let mut d = decl.get("defaultValue").cloned().ok_or_else(|| {
                    format!("parameter `{n}` has no value: give it with --parameters FILE")
                })?;
                let mut errs = Vec::new();
                self.nested(&mut d, &mut errs);
                match errs.into_iter().next() {
                    Some((_, e, why)) => Err(format!("parameter `{n}` defaults to `{e}`: {why}")),
                    None => Ok(d),
                }
            }
            "variables" => {
                let n = name_arg(&args)?;
                let mut v = self
                    .scope
                    .variables
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&n))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("variable `{n}` is not declared"))?;
                let mut errs = Vec::new();
                self.nested(&mut v, &mut errs);
                match errs.into_iter().next() {
                    Some((_, e, why)) => Err(format!("variable `{n}` is `{e}`: {why}")),
                    None => Ok(v),
                }
            }
            "resourceid" => {
                let texts: Vec<String> = args.iter().map(as_text).collect::<Result<_, _>>()?;
                let Some(ti) = texts.iter().position(|t| t.contains('/')) else {
                    return Err("resourceId() needs a resource type".into());
                };
                let kind = &texts[ti];
                let names = &texts[ti + 1..];
                if names.len() != kind.matches('/').count() {
                    return Err(format!(
                        "resourceId('{kind}', …) needs {} names",
                        kind.matches('/').count()
                    ));
                }
                let (sub, rg) = match ti {
                    2 => (texts[0].clone(), texts[1].clone()),
                    1 => ("{subscription}".into(), texts[0].clone()),
                    _ => ("{subscription}".into(), "{resourceGroup}".into()),
                };
                let key = key_from(kind, &names.join("/"));
                let (ns, rest) = key.split_once('/').unwrap_or((&key, ""));
                let _ = ns;
                Ok(Value::String(format!(
                    "/subscriptions/{sub}/resourceGroups/{rg}/providers/{}/{}",
                    kind.split('/').next().unwrap_or(""),
                    restore_case(rest, kind, names)
                )))
            }
            "concat" => {
                if args.iter().all(Value::is_array) {
                    return Ok(Value::Array(
                        args.into_iter()
                            .flat_map(|a| a.as_array().cloned().unwrap_or_default())
                            .collect(),
                    ));
                }
                let parts: Vec<String> = args.iter().map(as_text).collect::<Result<_, _>>()?;
                Ok(Value::String(parts.concat()))
            }
            "format" => {
                let fmt = name_arg(&args)?;
                let rest: Vec<String> = args[1..].iter().map(as_text).collect::<Result<_, _>>()?;
                let mut s = fmt;
                for (i, r) in rest.iter().enumerate() {
                    s = s.replace(&format!("{{{i}}}"), r);
                }
                Ok(Value::String(s))
            }
            "tolower" => Ok(Value::String(name_arg(&args)?.to_lowercase())),
            "toupper" => Ok(Value::String(name_arg(&args)?.to_uppercase())),
            "string" => Ok(Value::String(name_arg(&args)?)),
            other => Err(format!("`{other}()` is not evaluated offline")),
        }
    }

    fn nested(&self, v: &mut Value, errs: &mut Vec<(String, String, String)>) {
        // Parameters and variables may themselves hold expressions.
        let scope = self.scope;
        let depth = self.depth + 1;
        fn walk(
            v: &mut Value,
            scope: &Scope,
            depth: usize,
            errs: &mut Vec<(String, String, String)>,
        ) {
            match v {
                Value::String(s)
                    if s.starts_with('[') && !s.starts_with("[[") && s.ends_with(']') =>
                {
                    match eval_str(&s[1..s.len() - 1], scope, depth) {
                        Ok(x) => *v = x,
                        Err(e) => errs.push((String::new(), s.clone(), e)),
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(|x| walk(x, scope, depth, errs)),
                Value::Object(o) => o.values_mut().for_each(|x| walk(x, scope, depth, errs)),
                _ => {}
            }
        }
        walk(v, scope, depth, errs);
    }
}

/// `virtualnetworks/vnet/subnets/snet` with the type and names in their given case.
fn restore_case(_lower: &str, kind: &str, names: &[String]) -> String {
    let types: Vec<&str> = kind.split('/').skip(1).collect();
    types
        .iter()
        .zip(names)
        .flat_map(|(t, n)| [t.to_string(), n.clone()])
        .collect::<Vec<_>>()
        .join("/")
}
