//! `flows verify`: logged flows re-evaluated with the NSG engine ([`tagnet::ops::flows`]);
//! drifts streamed as rows while the blobs are read.

use super::Status;
use super::args::FlowsVerifyArgs;
use super::flows_cmd::{check_read, endpoint, stream, totals_line};
use super::render::{self, Format};
use anyhow::{Result, bail};
use std::fmt::Write as _;
use std::io::Write;
use tagnet::flowlog::read::{self, Stats};
use tagnet::ops::flows::{DriftRow, Tally, Verifier, VerifyParams};

/// The drifts found, by code.
fn drift_line(t: &Tally) -> String {
    format!(
        "{} verdict drifts (flow-verdict-drift), {} rule drifts (flow-rule-drift), {} required flows denied (flow-required-denied), {} encryption drops (flow-encryption-drop); {} error(s), {} warning(s){}",
        t.verdict_drifts,
        t.rule_drifts,
        t.required_denied,
        t.encryption_drops,
        t.errors,
        t.warnings,
        if t.not_verified > 0 {
            format!(
                "; {} tuples of protocols NSG rules do not name, not verified",
                t.not_verified
            )
        } else {
            String::new()
        }
    )
}

pub fn verify(
    snap: &super::source::Loaded,
    a: &FlowsVerifyArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if !matches!(
        format,
        Format::Table | Format::Json | Format::Ndjson | Format::Csv
    ) {
        bail!(
            "--format {}: flows verify writes table, json, ndjson or csv",
            format.name()
        );
    }
    let inputs = read::inputs(&a.paths)?;
    let mut scope = super::nsg_cmd::scope_parts(
        (
            a.nsg.as_deref(),
            a.nic_nsg.as_deref(),
            a.parameters.as_deref(),
        ),
        &a.vnet,
        &a.asg,
        quiet,
    )?;
    scope.route_table = super::nsg_cmd::route_table(a.route_table.as_deref())?;
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Flows)?;
    let params = VerifyParams {
        profile: a.profile.clone(),
        region: a.region.clone(),
        all: a.all,
        skip_bad: a.skip_bad,
    };
    let verifier = Verifier::new(snap, &scope, &params, levels)?;
    let mut stats = Stats::default();
    let mut tally = Tally::default();
    let mut first = true;
    // The CSV header or the JSON opening: written with the first row, or at the end once the
    // inputs are known to be read (an empty file is an error with nothing written before it).
    let snapshot = serde_json::to_string(&snap.info)?;
    let open = |out: &mut dyn Write| -> std::io::Result<()> {
        match format {
            Format::Csv => writeln!(out, "{}", DriftRow::CSV),
            Format::Json => write!(out, "{{\"snapshot\":{snapshot},\"records\":["),
            _ => Ok(()),
        }
    };
    let mut opened = false;
    let mut header_done = format != Format::Table;
    let origins: Vec<String> = inputs.iter().map(|i| i.origin()).collect();
    let (st, first_bad) = stream(
        &inputs,
        &|i, rec| {
            // Verdicts and rows on the pool; counts and writing here, in file order.
            let mut t = Tally::default();
            let rows = verifier.record(&rec, &origins[i], &mut t);
            let mut b = String::new();
            for (i, r) in rows.iter().enumerate() {
                write_row(&mut b, format, r, i > 0);
            }
            (b, t)
        },
        &mut |_, (b, t)| {
            tally.add(&t);
            if b.is_empty() {
                return Ok(());
            }
            if !opened {
                open(&mut *out)?;
                opened = true;
            }
            if !header_done {
                out.write_all(
                    format!(
                        "{:<20} {:<8} {:<24} {:<8} {:<5} {:<40} {:<40} {:<6} {:<36} {:<6} RULE\n",
                        "DRIFT",
                        "SEVERITY",
                        "TIME",
                        "DIR",
                        "PROTO",
                        "LOCAL",
                        "REMOTE",
                        "LOGGED",
                        "LOGGED RULE",
                        "TAGNET"
                    )
                    .as_bytes(),
                )?;
                header_done = true;
            }
            if format == Format::Json {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
            }
            out.write_all(b.as_bytes())?;
            Ok(())
        },
    )?;
    stats += st;
    tally.read(&stats);
    if !opened {
        check_read(&stats, &inputs, a.skip_bad, first_bad.as_ref())?;
        open(&mut *out)?;
    }
    // A table with no row says so on standard output (with --quiet too: it is the answer).
    if format == Format::Table && !header_done && tally.nothing_judged() {
        // Not "no drift": nothing was compared (exit 1, as the warning below says).
        writeln!(
            out,
            "nothing judged: {} tuple(s) read, none logged by the NSGs given (the tuples name {})",
            tally.tuples,
            tally.unmatched_nsgs.join(", ")
        )?;
    } else if format == Format::Table && !header_done {
        writeln!(
            out,
            "no drift: {} tuple(s) read, {} judged by the NSGs given, none differing from its log{}",
            tally.tuples,
            tally
                .tuples
                .saturating_sub(tally.unmatched + tally.not_verified),
            if tally.unmatched > 0 {
                format!(" ({} logged by NSGs not given)", tally.unmatched)
            } else {
                String::new()
            }
        )?;
    }
    if format == Format::Json {
        writeln!(
            out,
            "{}],\"summary\":{}}}",
            if first { "" } else { "\n" },
            serde_json::to_string(&tally)?
        )?;
    }
    if !quiet {
        eprintln!("tagnet: {}", totals_line(&stats, inputs.len()));
        for w in stats.warnings() {
            eprintln!("tagnet: warning: {w}");
        }
        eprintln!("tagnet: {}", drift_line(&tally));
        if tally.unmatched > 0 {
            eprintln!(
                "tagnet: note: {} tuple(s) were logged by NSGs not given (not judged): {}",
                tally.unmatched,
                tally.unmatched_nsgs.join(", ")
            );
        }
    }
    check_read(&stats, &inputs, a.skip_bad, first_bad.as_ref())?;
    if tally.nothing_judged() {
        eprintln!(
            "tagnet: warning: none of the {} tuples was logged by the NSGs given (they name {}): nothing was judged; give the NSGs that logged them (`az network nsg show` output carries the id and resourceGuid they are matched by)",
            tally.tuples,
            tally.unmatched_nsgs.join(", ")
        );
    }
    Ok(if tally.failing() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

/// One row of `flows verify` in a format (table rows have fixed widths: they stream).
fn write_row(b: &mut String, format: Format, r: &DriftRow, not_first: bool) {
    match format {
        Format::Csv => {
            let _ = writeln!(
                b,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.drift,
                r.time,
                r.direction,
                r.protocol,
                r.local_ip,
                r.local_port,
                r.remote_ip,
                r.remote_port,
                r.logged_access,
                render::csv_field(&r.logged_rule),
                r.access,
                render::csv_field(&r.rule),
                render::csv_field(&r.file),
                r.record,
                render::csv_field(r.requirement.as_deref().unwrap_or("")),
                r.severity.map_or(String::new(), |s| s.to_string()),
            );
        }
        Format::Json | Format::Ndjson => {
            if format == Format::Json && not_first {
                b.push_str(",\n");
            }
            b.push_str(&serde_json::to_string(r).expect("a row serializes"));
            if format == Format::Ndjson {
                b.push('\n');
            }
        }
        _ => {
            let _ = writeln!(
                b,
                "{:<20} {:<8} {:<24} {:<8} {:<5} {:<40} {:<40} {:<6} {:<36} {:<6} {}",
                if r.drift.is_empty() { "-" } else { r.drift },
                r.severity.map_or("-".to_string(), |s| s.to_string()),
                r.time,
                r.direction.to_string(),
                r.protocol,
                endpoint(r.local_ip, r.local_port),
                endpoint(r.remote_ip, r.remote_port),
                r.logged_access.to_string(),
                r.logged_rule,
                r.access.to_string(),
                r.rule
            );
        }
    }
}
