//! `tagnet check`.

use super::Status;
use super::args::CheckArgs;
use super::render::{self, Format};
use anyhow::{Result, bail};
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
    for p in &a.paths {
        if !p.exists() {
            bail!("`{}` does not exist", p.display());
        }
    }
    let params = tagnet::ops::check::CheckParams {
        on_prem: a.on_prem.clone(),
        profile: a.profile.clone(),
        udr_profile: a.udr_profile.clone(),
        location: a.location.clone(),
        asgs: super::nsg_cmd::asgs(&a.asg)?,
    };
    let given = match &a.parameters {
        Some(p) => {
            let (bytes, _) = tagnet::load::read_input(p)?;
            tagnet::check::read::parameters(&bytes, &p.display().to_string())?
        }
        None => Default::default(),
    };
    let docs = tagnet::check::read::documents(&a.paths)?;
    let report = tagnet::ops::check::check(snap, &snap.info, &docs, &given, &params, &levels)?;
    for f in &report.skipped_files {
        eprintln!(
            "tagnet: note: skipped {f}: no Azure resource, ARM template or Terraform plan in it"
        );
    }
    for (kind, n) in &report.not_checked {
        eprintln!("tagnet: note: {n} resource(s) of type {kind} read but not checked");
    }
    let findings = &report.records;
    let failing = report.failing();
    match format {
        Format::Sarif => {
            let file = a
                .paths
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let results: Vec<render::SarifResult> = findings
                .iter()
                .zip(&report.origins)
                .map(|(f, origin)| render::SarifResult {
                    finding: f,
                    file: origin.clone().unwrap_or_else(|| file.clone()),
                    related: Vec::new(),
                })
                .collect();
            render::sarif(out, &tagnet::registry(), &results)?;
        }
        Format::Table => {
            // One block a finding, as compilers print diagnostics: a wide table of ids and
            // commands does not fit a terminal.
            for f in findings {
                writeln!(out, "{}[{} {}]: {}", f.severity, f.id, f.code, f.message)?;
                writeln!(out, "  resource: {}", f.resource)?;
                if let Some(c) = &f.counterexample {
                    writeln!(out, "  counterexample: {c}")?;
                }
                writeln!(out, "  fix: {}\n", f.fix)?;
            }
            let count = |s: Severity| report.count(s);
            writeln!(
                out,
                "{} error(s), {} warning(s), {} info; {} resources read (`tagnet explain CODE` tells more)",
                count(Severity::Error),
                count(Severity::Warning),
                count(Severity::Info),
                report.resources
            )?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        _ => tagnet::render::rows(out, format, Some(&snap.info), findings)?,
    }
    Ok(if failing {
        Status::NoMatch
    } else {
        Status::Success
    })
}
