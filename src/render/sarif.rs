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

/// The `artifactLocation` of an input file.
fn artifact(file: &str) -> serde_json::Value {
    if file.is_empty() || file.starts_with('<') {
        // Standard input: no file to point at.
        return serde_json::json!({"uri": "stdin", "description": {"text": "standard input"}});
    }
    let path = std::path::Path::new(file);
    if path.is_absolute() {
        serde_json::json!({"uri": format!("file://{}", uri_path(file))})
    } else {
        let rel = file.strip_prefix("./").unwrap_or(file);
        serde_json::json!({"uri": uri_path(rel), "uriBaseId": "%SRCROOT%"})
    }
}

/// The 1-based line where `resource` is defined in `text`: the first line holding its last
/// name segment as a JSON string (`"ml-nsg"`), else as a Terraform or Bicep name; 1 when
/// none does.
fn line_of(text: &str, resource: &str) -> usize {
    let name = resource
        .rsplit(['/', ' '])
        .find(|s| !s.is_empty())
        .unwrap_or(resource);
    if name.is_empty() {
        return 1;
    }
    let quoted = format!("\"{name}\"");
    text.lines()
        .position(|l| l.contains(&quoted))
        .or_else(|| text.lines().position(|l| l.contains(name)))
        .map_or(1, |i| i + 1)
}

/// A stable 64-bit FNV-1a hash, hex: the same input gives the same fingerprint on every run
/// and every machine (`DefaultHasher` promises neither).
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
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
    let mut texts: BTreeMap<&str, Option<String>> = BTreeMap::new();
    // How many results so far share a rule and a resource: their fingerprints differ by it.
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let results: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let f = r.finding;
            let text = texts
                .entry(r.file.as_str())
                .or_insert_with(|| std::fs::read_to_string(&r.file).ok());
            let line = text.as_deref().map_or(1, |t| line_of(t, &f.resource));
            let n = seen.entry((f.code, f.resource.as_str())).or_insert(0);
            *n += 1;
            let mut v = serde_json::json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}. Fix: {}", f.message.trim_end_matches('.'), f.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact(&r.file),
                        "region": {"startLine": line},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}],
                }],
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
        assert_eq!(artifact("./x y.json")["uri"], "x%20y.json");
        assert_eq!(artifact("./x y.json")["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact("/tmp/a b.json")["uri"], "file:///tmp/a%20b.json");
        let text = "{\n  \"name\": \"vnet-ml\",\n  \"subnets\": [{\"name\": \"compute\"}]\n}";
        assert_eq!(line_of(text, "vnet-ml/compute"), 3);
        assert_eq!(line_of(text, "vnet-ml"), 2);
        assert_eq!(line_of(text, "nowhere"), 1);
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["a", "b"]), fingerprint(&["ab", ""]));
    }
}
