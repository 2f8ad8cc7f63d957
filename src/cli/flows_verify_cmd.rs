//! `flows verify`: logged flows re-evaluated with the NSG engine; drifts and denied required
//! flows streamed as rows.

use super::Status;
use super::args::FlowsVerifyArgs;
use super::flows_cmd::{endpoint, nothing_read, stream, totals_line};
use super::render::{self, Format};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::io::Write;
use tagnet::Snapshot;
use tagnet::flowlog::read::{self, Stats};
use tagnet::flowlog::{Tuple, protocol_name, rfc3339, verify};

/// The requirements `--profile` and `--region` name (none without a profile).
fn requirements(snap: &Snapshot, a: &FlowsVerifyArgs) -> Result<Vec<verify::Required>> {
    Ok(match (&a.profile, &a.region) {
        (Some(p), Some(r)) => {
            let all = tagnet::nsg::reach::profiles();
            let prof = all
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(p))
                .with_context(|| {
                    format!(
                        "unknown NSG profile `{p}`; known: {}",
                        all.iter()
                            .map(|x| x.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            verify::requirements(snap, prof, r)?
        }
        (Some(_), None) => bail!("--profile needs --region"),
        _ => Vec::new(),
    })
}

/// The drifts found, by code.
fn drift_line(counts: &[usize; 3], skipped: usize) -> String {
    format!(
        "{} verdict drifts (flow-verdict-drift), {} rule drifts (flow-rule-drift), {} required flows denied (flow-required-denied){}",
        counts[verify::Drift::Verdict as usize],
        counts[verify::Drift::Rule as usize],
        counts[verify::Drift::RequiredDenied as usize],
        if skipped > 0 {
            format!("; {skipped} tuples of protocols NSG rules do not name, not verified")
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
    let (cs, cn) = super::nsg_cmd::compiled_pair(
        snap,
        a.nsg.as_deref(),
        a.nic_nsg.as_deref(),
        &a.vnet,
        &a.asg,
        quiet,
    )?;
    let reqs = requirements(snap, a)?;
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Flows)?;
    let mut stats = Stats::default();
    let mut counts = [0usize; 3];
    let mut skipped = 0usize;
    let mut first = true;
    match format {
        Format::Csv => out.write_all(b"drift,time,direction,protocol,local_ip,local_port,remote_ip,remote_port,logged_access,logged_rule,access,rule,file,record,requirement\n")?,
        Format::Json => out.write_all(
            format!(
                "{{\"snapshot\":{},\"records\":[",
                serde_json::to_string(&snap.info)?
            )
            .as_bytes(),
        )?,
        _ => {}
    }
    let mut header_done = format != Format::Table;
    for input in &inputs {
        let origin = input.origin();
        let st = stream(
            input,
            &|rec| {
                // Verdicts and rows on the pool; counts and writing here, in file order.
                let mut b = String::new();
                let mut n = [0usize; 3];
                let mut skip = 0usize;
                let mut not_first = false;
                for t in &rec.tuples {
                    let Some(v) = verify::verdict(cs.as_ref(), cn.as_ref(), t) else {
                        skip += 1;
                        continue;
                    };
                    let g = &rec.groups[t.group as usize];
                    let mut ds = verify::drifts(t, g, &v, &reqs);
                    // `allow`ed codes are not reported (tagnet.toml, --allow).
                    ds.retain(|d| !levels.allows(d.code().name()));
                    for d in &ds {
                        n[*d as usize] += 1;
                    }
                    if ds.is_empty() && a.all {
                        verify_row(
                            &mut b,
                            format,
                            "",
                            t,
                            g,
                            &v,
                            &origin,
                            rec.index,
                            None,
                            &mut not_first,
                        );
                    }
                    for d in ds {
                        let req = (d == verify::Drift::RequiredDenied)
                            .then(|| verify::required(&reqs, t))
                            .flatten();
                        verify_row(
                            &mut b,
                            format,
                            d.code().name(),
                            t,
                            g,
                            &v,
                            &origin,
                            rec.index,
                            req,
                            &mut not_first,
                        );
                    }
                }
                (b, n, skip)
            },
            &mut |(b, n, skip)| {
                for (c, k) in counts.iter_mut().zip(n) {
                    *c += k;
                }
                skipped += skip;
                if b.is_empty() {
                    return Ok(());
                }
                if !header_done {
                    out.write_all(
                        format!(
                            "{:<20} {:<24} {:<8} {:<5} {:<40} {:<40} {:<6} {:<36} {:<6} RULE\n",
                            "DRIFT",
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
    }
    nothing_read(&stats, &inputs)?;
    if format == Format::Json {
        out.write_all(if first { b"]}\n" } else { b"\n]}\n" })?;
    }
    let total: usize = counts.iter().sum();
    if !quiet {
        eprintln!("tagnet: {}", totals_line(&stats, inputs.len()));
        eprintln!("tagnet: {}", drift_line(&counts, skipped));
    }
    Ok(if total > 0 {
        Status::NoMatch
    } else {
        Status::Success
    })
}

fn requirement_text(r: &verify::Required) -> String {
    let ports: Vec<String> = r
        .ports
        .0
        .iter()
        .map(|(l, h)| {
            if l == h {
                l.to_string()
            } else {
                format!("{l}-{h}")
            }
        })
        .collect();
    format!(
        "{} {} {} {} {}: {}",
        r.direction,
        r.protocol.name(),
        ports.join(","),
        if r.direction == tagnet::nsg::model::Direction::Inbound {
            "from"
        } else {
            "to"
        },
        r.tag,
        r.why
    )
}

/// One row of `flows verify` in a format (table rows have fixed widths: they stream).
#[allow(clippy::too_many_arguments)]
fn verify_row(
    b: &mut String,
    format: Format,
    code: &str,
    t: &Tuple,
    g: &read::Group,
    v: &verify::Verdict,
    origin: &str,
    record: usize,
    req: Option<&verify::Required>,
    not_first: &mut bool,
) {
    let (lip, lport) = t.local();
    let (rip, rport) = t.remote();
    let time = rfc3339(t.time_ms);
    match format {
        Format::Csv => {
            let _ = writeln!(
                b,
                "{code},{time},{},{},{lip},{lport},{rip},{rport},{},{},{},{},{},{record},{}",
                t.direction,
                protocol_name(t.protocol),
                t.access,
                render::csv_field(&g.rule),
                v.access,
                render::csv_field(&v.rule),
                render::csv_field(origin),
                req.map_or(String::new(), |r| render::csv_field(&requirement_text(r))
                    .into_owned()),
            );
        }
        Format::Json | Format::Ndjson => {
            if format == Format::Json && *not_first {
                b.push_str(",\n");
            }
            *not_first = true;
            let _ = write!(
                b,
                "{{\"drift\":\"{code}\",\"time\":\"{time}\",\"direction\":\"{}\",\"protocol\":\"{}\",\"local_ip\":\"{lip}\",\"local_port\":{lport},\"remote_ip\":\"{rip}\",\"remote_port\":{rport},\"logged_access\":\"{}\",\"logged_rule\":{},\"access\":\"{}\",\"rule\":{},\"file\":{},\"record\":{record}",
                t.direction,
                protocol_name(t.protocol),
                t.access,
                render::json_str(&g.rule),
                v.access,
                render::json_str(&v.rule),
                render::json_str(origin),
            );
            if let Some(r) = req {
                let _ = write!(
                    b,
                    ",\"requirement\":{}",
                    render::json_str(&requirement_text(r))
                );
            }
            b.push('}');
            if format == Format::Ndjson {
                b.push('\n');
            }
        }
        _ => {
            let _ = writeln!(
                b,
                "{:<20} {time:<24} {:<8} {:<5} {:<40} {:<40} {:<6} {:<36} {:<6} {}",
                if code.is_empty() { "-" } else { code },
                t.direction.to_string(),
                protocol_name(t.protocol),
                endpoint(lip, lport),
                endpoint(rip, rport),
                t.access.to_string(),
                g.rule,
                v.access.to_string(),
                v.rule
            );
        }
    }
}
