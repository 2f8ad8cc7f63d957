//! SARIF 2.1.0, the format code-scanning tools read, for reports of findings (`check`,
//! `nsg analyze`).

use std::io::Write;

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
            if !r.reference.is_empty() {
                v["helpUri"] = serde_json::Value::String(
                    r.reference
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                );
            }
            v
        })
        .collect();
    let results: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let f = r.finding;
            let mut v = serde_json::json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}. Fix: {}", f.message.trim_end_matches('.'), f.fix)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": r.file}},
                    "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}],
                }],
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
                    "informationUri": "https://example.invalid/tagnet",
                    "rules": rules,
                }},
                "results": results,
            }],
        }),
    )?;
    writeln!(out)
}
