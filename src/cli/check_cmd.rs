//! `tagnet check`.

use super::Status;
use super::args::CheckArgs;
use super::render::{self, Format};
use anyhow::{Result, bail};
use ipnet::IpNet;
use std::io::Write;
use tagnet::findings::Severity;

pub fn check(
    snap: &super::source::Loaded,
    a: &CheckArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    if format.is_deployment() {
        bail!(
            "--format {}: check writes table, json, ndjson, csv, markdown or sarif",
            format.name()
        );
    }
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Check)?;
    let mut on_prem = Vec::new();
    for t in &a.on_prem {
        on_prem.push(
            t.trim()
                .parse::<IpNet>()
                .map_err(|_| anyhow::anyhow!("--on-prem `{t}` is not a CIDR prefix"))?
                .trunc(),
        );
    }
    let names: Vec<String> = tagnet::nsg::reach::profiles()
        .into_iter()
        .map(|p| p.name)
        .collect();
    if !names.iter().any(|n| n.eq_ignore_ascii_case(&a.profile)) {
        bail!(
            "unknown --profile `{}`; known: {}",
            a.profile,
            names.join(", ")
        );
    }
    tagnet::routes::profile(&a.udr_profile)?;
    for p in &a.paths {
        if !p.exists() {
            bail!("`{}` does not exist", p.display());
        }
    }
    let net = tagnet::check::read::load(&a.paths, a.parameters.as_deref())?;
    let cx = tagnet::check::Cx {
        net: &net,
        snap,
        on_prem: &on_prem,
        nsg_profile: &a.profile,
        udr_profile: &a.udr_profile,
    };
    let findings = levels.apply(tagnet::check::check(&cx));
    for (kind, n) in &net.skipped {
        eprintln!("tagnet: note: {n} resource(s) of type {kind} read but not checked");
    }
    let failing = findings.iter().any(|f| f.severity == Severity::Error);
    match format {
        Format::Sarif => {
            let file = a
                .paths
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let results: Vec<render::SarifResult> = findings
                .iter()
                .map(|f| render::SarifResult {
                    finding: f,
                    file: net
                        .origin_of(&f.resource)
                        .map_or_else(|| file.clone(), str::to_string),
                    related: Vec::new(),
                })
                .collect();
            render::sarif(out, &tagnet::registry(), &results)?;
        }
        Format::Table => {
            // One block a finding, as compilers print diagnostics: a wide table of ids and
            // commands does not fit a terminal.
            for f in &findings {
                writeln!(out, "{}[{} {}]: {}", f.severity, f.id, f.code, f.message)?;
                writeln!(out, "  resource: {}", f.resource)?;
                if let Some(c) = &f.counterexample {
                    writeln!(out, "  counterexample: {c}")?;
                }
                writeln!(out, "  fix: {}\n", f.fix)?;
            }
            let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
            writeln!(
                out,
                "{} error(s), {} warning(s), {} info; {} resources read (`tagnet explain CODE` tells more)",
                count(Severity::Error),
                count(Severity::Warning),
                count(Severity::Info),
                net.resource_count()
            )?;
        }
        _ => {
            render::records(
                out,
                format,
                Some(&snap.info),
                &[
                    "ID",
                    "CODE",
                    "SEVERITY",
                    "RESOURCE",
                    "MESSAGE",
                    "COUNTEREXAMPLE",
                    "FIX",
                ],
                &findings,
                |f| {
                    vec![
                        f.id.to_string(),
                        f.code.to_string(),
                        f.severity.to_string(),
                        f.resource.clone(),
                        f.message.clone(),
                        f.counterexample.clone().unwrap_or_default(),
                        f.fix.clone(),
                    ]
                },
            )?;
        }
    }
    Ok(if failing {
        Status::NoMatch
    } else {
        Status::Success
    })
}
