//! SARIF 2.1.0, the format code-scanning tools read, for reports of findings (`check`,
//! `nsg analyze`, `path --profile`).
//!
//! Each result is anchored as GitHub code scanning needs it: the input file as a relative URI
//! under `%SRCROOT%` (or a `file://` URI for an absolute path), percent-encoded; a `region`
//! at the line where the resource is defined (found by its name in the file; line 1 when it
//! cannot be found); and `partialFingerprints` from the rule and the resource, so an alert
//! keeps its identity from one run to the next while its message's figures change.

use std::collections::BTreeMap;
use std::io::Write;

/// A path as a URI reference: every byte but unreserved characters and `/` percent-encoded
/// (RFC 3986); `\` separators become `/`.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A path with `.` and `dir/..` taken out, lexically (`a/b/../c` is `a/c`; a leading `..`
/// stays).
fn normalized(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The `artifactLocation` of an input file; `None` for standard input (no file to point at).
fn artifact(file: &str) -> Option<serde_json::Value> {
    if file.is_empty() || file == "-" || file.starts_with('<') {
        return None;
    }
    let path = normalized(&file.replace('\\', "/"));
    Some(if std::path::Path::new(file).is_absolute() {
        serde_json::json!({"uri": format!("file://{}", uri_path(&path))})
    } else {
        serde_json::json!({"uri": uri_path(&path), "uriBaseId": "%SRCROOT%"})
    })
}

/// A JSON object of an input with a `"name": "…"` member.
struct Named {
    /// The line of its name.
    line: usize,
    name: String,
    /// The names of the named objects around it, outermost first.
    around: Vec<String>,
    /// Whether it is inside a template's `variables`, `parameters`, `outputs` or `functions`
    /// (a declaration, not a resource).
    declared: bool,
}

/// Every JSON object of `text` with a `"name": "…"` member. A small scanner of its own:
/// `serde_json` keeps no lines.
fn named_objects(text: &str) -> Vec<Named> {
    struct Frame {
        object: bool,
        name: Option<String>,
        key: Option<String>,
        expect_key: bool,
        /// The member this object or array is the value of.
        under: Option<String>,
    }
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut line = 1;
    let mut chars = text.chars();
    let open = |stack: &mut Vec<Frame>, object: bool| {
        let under = stack.last().and_then(|f| {
            if f.object {
                f.key.clone()
            } else {
                f.under.clone()
            }
        });
        stack.push(Frame {
            object,
            name: None,
            key: None,
            expect_key: object,
            under,
        });
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '{' => open(&mut stack, true),
            '[' => open(&mut stack, false),
            '}' | ']' => {
                stack.pop();
            }
            ',' => {
                if let Some(f) = stack.last_mut().filter(|f| f.object) {
                    f.expect_key = true;
                    f.key = None;
                }
            }
            ':' => {
                if let Some(f) = stack.last_mut().filter(|f| f.object) {
                    f.expect_key = false;
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(x) = chars.next() {
                    match x {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        '\n' => {
                            line += 1;
                            s.push(x);
                        }
                        _ => s.push(x),
                    }
                }
                let Some(f) = stack.last().filter(|f| f.object) else {
                    continue;
                };
                if f.expect_key {
                    if let Some(f) = stack.last_mut() {
                        f.key = Some(s);
                    }
                } else if f.key.as_deref() == Some("name") && f.name.is_none() {
                    // Only a name's own string pays for the walk up the stack.
                    let around: Vec<String> = stack
                        .iter()
                        .take(stack.len().saturating_sub(1))
                        .filter_map(|f| f.name.clone())
                        .collect();
                    let declared = stack.iter().any(|f| {
                        matches!(
                            f.under.as_deref(),
                            Some("variables" | "parameters" | "outputs" | "functions")
                        )
                    });
                    if let Some(f) = stack.last_mut() {
                        f.name = Some(s.clone());
                        out.push(Named {
                            line,
                            name: s,
                            around,
                            declared,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// An input file's text and its named objects, indexed by name: read and scanned once per
/// file, so a report of many results is linear in the file and the results, not their product.
struct Places {
    text: String,
    objects: Vec<Named>,
    by_name: std::collections::HashMap<String, Vec<usize>>,
}

impl Places {
    fn new(text: String) -> Places {
        let objects = named_objects(&text);
        let mut by_name: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            by_name.entry(o.name.clone()).or_default().push(i);
        }
        Places {
            text,
            objects,
            by_name,
        }
    }
}

/// The 1-based line where `resource` is defined in `text`: among the JSON objects named by
/// its last name segment, resources before declarations (a variable may carry a rule's
/// shape and name), then those whose enclosing objects carry its other segments (a rule in
/// its own NSG) — a name written as an expression (`[parameters('nsgName')]`) may be any, a
/// literal other name is not this one —, then the first in the file. A name a copy loop
/// makes, not in the file, falls back to the segments before it; then to the first line
/// naming it at all; then to line 1.
fn line_of(places: &Places, resource: &str) -> usize {
    let segments: Vec<&str> = resource
        .split(['/', ' '])
        .filter(|s| !s.is_empty())
        .collect();
    let objects = &places.objects;
    for (i, name) in segments.iter().enumerate().rev() {
        let before = &segments[..i];
        let candidates = places.by_name.get(*name).map_or(&[][..], Vec::as_slice);
        let best = candidates.iter().map(|&k| &objects[k]).max_by_key(|o| {
            let matched = before
                .iter()
                .filter(|s| o.around.iter().any(|a| a == *s))
                .count() as i64;
            let other = o
                .around
                .iter()
                .filter(|a| !a.starts_with('[') && !before.contains(&a.as_str()))
                .count() as i64;
            (!o.declared, 2 * matched - other, std::cmp::Reverse(o.line))
        });
        if let Some(o) = best {
            return o.line;
        }
        // A name a copy loop made (`nsg-2` of `[concat('nsg-', copyIndex())]`): the object
        // whose name is a copyIndex() expression with its literal pieces, in order, in it.
        if let Some(o) = objects
            .iter()
            .filter(|o| {
                o.name.starts_with('[') && o.name.to_ascii_lowercase().contains("copyindex(")
            })
            .find(|o| made_by(&o.name, &segments[..=i].join("/"), name))
        {
            return o.line;
        }
    }
    let Some(name) = segments.last() else {
        return 1;
    };
    let quoted = format!("\"{name}\"");
    let text = &places.text;
    text.lines()
        .position(|l| l.contains(&quoted))
        .or_else(|| text.lines().position(|l| l.contains(name)))
        .map_or(1, |i| i + 1)
}

/// Whether the resource at `path` (its name path, ending in `name`) may be what the name
/// expression `expr` makes: its quoted literal pieces (split at `format` placeholders like
/// `{0}` and at `/`), at least one, appear in `path` in order, the last of them in `name`
/// (`vnet/s-b` of `[concat('vnet/s-', …)]`, not a child of the resource the loop makes).
fn made_by(expr: &str, path: &str, name: &str) -> bool {
    // Quoted text, but not the names of parameters, variables or loops (`parameters('n')`),
    // which are not part of the value.
    let parts: Vec<&str> = expr.split('\'').collect();
    let pieces: Vec<String> = (1..parts.len())
        .step_by(2)
        .filter(|&k| {
            let before = parts[k - 1].to_ascii_lowercase();
            !["parameters(", "variables(", "copyindex(", "reference("]
                .iter()
                .any(|f| before.trim_end().ends_with(f))
        })
        .map(|k| parts[k])
        .flat_map(|lit| {
            let mut out = Vec::new();
            let mut rest = lit;
            while let Some(i) = rest.find('{') {
                out.push(rest[..i].to_string());
                rest = rest[i..].split_once('}').map_or("", |(_, r)| r);
            }
            out.push(rest.to_string());
            out
        })
        .flat_map(|p| p.split('/').map(str::to_string).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    let Some(last) = pieces.last() else {
        return false;
    };
    if !name.contains(last.as_str()) {
        return false;
    }
    let mut at = 0;
    for p in &pieces {
        match path[at..].find(p.as_str()) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

/// A stable 64-bit FNV-1a hash, hex: the same input gives the same fingerprint on every run
/// and every machine (`DefaultHasher` promises neither).
fn fingerprint(parts: &[&str]) -> String {
    format!(
        "{:016x}",
        crate::text::digest(parts.iter().map(|p| p.as_bytes()))
    )
}

/// One SARIF result: a finding, the file it is about and related places (text, name).
pub struct SarifResult<'a> {
    /// The finding.
    pub finding: &'a crate::findings::Finding,
    /// The input file.
    pub file: String,
    /// Related places: a message and a fully qualified name.
    pub related: Vec<(String, String)>,
}

/// SARIF 2.1.0 for code-scanning tools: the rules that may be reported and the results.
pub fn sarif(
    out: &mut dyn Write,
    rules: &[&crate::findings::Rule],
    results: &[SarifResult],
) -> std::io::Result<()> {
    use crate::findings::Severity;
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "id": r.code,
                "name": r.id,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.why},
                "help": {"text": format!("{} Example: {}", r.fix, r.example)},
                "defaultConfiguration": {"level": level(r.severity)},
            });
            // The reference's first address (the text after it says which part of the page).
            if let Some(uri) = r
                .reference
                .split([';', ' '])
                .map(str::trim)
                .find(|t| t.starts_with("https://"))
            {
                v["helpUri"] = serde_json::Value::String(uri.to_string());
            }
            v
        })
        .collect();
    // Each input file read once, for the lines its resources are defined at.
    let mut texts: BTreeMap<&str, Option<Places>> = BTreeMap::new();
    // How many results so far share a rule and a resource: their fingerprints differ by it.
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let results: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let f = r.finding;
            let text = texts
                .entry(r.file.as_str())
                .or_insert_with(|| std::fs::read_to_string(&r.file).ok().map(Places::new));
            let line = text.as_ref().map_or(1, |t| line_of(t, &f.resource));
            let n = seen.entry((f.code, f.resource.as_str())).or_insert(0);
            *n += 1;
            let mut location = serde_json::json!({
                "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}],
            });
            if let Some(a) = artifact(&r.file) {
                location["physicalLocation"] = serde_json::json!({
                    "artifactLocation": a,
                    "region": {"startLine": line},
                });
            }
            let mut v = serde_json::json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}. Fix: {}", f.message.trim_end_matches('.'), f.fix)},
                "locations": [location],
                "partialFingerprints": {
                    "tagnetFinding/v1": fingerprint(&[f.code, &f.resource, &n.to_string()]),
                },
            });
            if !r.related.is_empty() {
                v["relatedLocations"] = r
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, (text, name))| {
                        serde_json::json!({
                            "id": i,
                            "message": {"text": text},
                            "logicalLocations": [{"fullyQualifiedName": name}],
                        })
                    })
                    .collect();
            }
            if let Some(c) = &f.counterexample {
                v["properties"] = serde_json::json!({"counterexample": c});
            }
            v
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "tagnet",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "results": results,
            }],
        }),
    )?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_anchored() {
        assert_eq!(uri_path("net work/ml #1.json"), "net%20work/ml%20%231.json");
        assert_eq!(uri_path("a\\b/é.json"), "a/b/%C3%A9.json");
        assert_eq!(artifact("./x y.json").unwrap()["uri"], "x%20y.json");
        assert_eq!(artifact("./x y.json").unwrap()["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            artifact("/tmp/a b.json").unwrap()["uri"],
            "file:///tmp/a%20b.json"
        );
        assert_eq!(
            artifact("d x/../d x/n.json").unwrap()["uri"],
            "d%20x/n.json"
        );
        assert!(artifact("-").is_none() && artifact("<stdin>").is_none());
        let text = "{\n  \"name\": \"vnet-ml\",\n  \"subnets\": [{\"name\": \"compute\"}]\n}";
        assert_eq!(
            line_of(&Places::new(text.to_string()), "vnet-ml/compute"),
            3
        );
        assert_eq!(line_of(&Places::new(text.to_string()), "vnet-ml"), 2);
        assert_eq!(line_of(&Places::new(text.to_string()), "nowhere"), 1);
        // Two NSGs with a rule of one name, and a variable of that name before them: each
        // rule is found in its own NSG.
        let text = r#"{"variables": {"x": {"name": "r1"}},
"resources": [
 {"name": "nsg-a", "properties": {"securityRules": [
   {"name": "r1"}]}},
 {"name": "nsg-b", "properties": {"securityRules": [
   {"name": "r1"}]}}]}"#;
        assert_eq!(
            line_of(&Places::new(text.to_string()), "nsg-b/securityRules/r1"),
            6
        );
        assert_eq!(
            line_of(&Places::new(text.to_string()), "nsg-a/securityRules/r1"),
            4
        );
        // A name a copy loop makes: the resource it is in.
        assert_eq!(
            line_of(&Places::new(text.to_string()), "nsg-b/securityRules/loop7"),
            5
        );
        // A resource a copy loop names: the object whose copyIndex() name makes it, not the
        // first line.
        let text = r#"{"resources": [
 {"name": "vnet-hub"},
 {"name": "[concat('vnet-spoke-', copyIndex())]",
  "copy": {"name": "spokes", "count": 3}},
 {"name": "[format('nsg-{0}-ml', copyIndex(1))]", "copy": {"name": "n", "count": 2}}]}"#;
        let places = Places::new(text.to_string());
        assert_eq!(line_of(&places, "vnet-spoke-2"), 3);
        assert_eq!(line_of(&places, "nsg-2-ml"), 5);
        assert_eq!(line_of(&places, "vnet-spoke-2/subnets/a"), 3);
        assert!(
            made_by("[concat('a-', copyIndex())]", "a-0", "a-0")
                && !made_by("[concat('a-', copyIndex())]", "b-0", "b-0")
        );
        assert!(!made_by("[copyIndex()]", "7", "7"));
        // A child the loop's name path makes (`vnet/s-b`), and not a child of its instance.
        let text = r#"{"resources": [
 {"name": "vnet"},
 {"name": "[concat('vnet/s-', parameters('names')[copyIndex()])]", "copy": {"name": "subs", "count": 2}}]}"#;
        let places = Places::new(text.to_string());
        assert_eq!(line_of(&places, "vnet/s-b"), 3);
        assert_eq!(line_of(&places, "vnet/subnets/s-b"), 3);
        assert!(!made_by("[concat('vnet-', copyIndex())]", "vnet-1/a", "a"));
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["a", "b"]), fingerprint(&["ab", ""]));
    }
}
