//! `tagnet path`: the front end of [`tagnet::ops::path`].

use super::Status;
use anyhow::{Result, bail};
use std::io::Write;
use tagnet::render::Format;

pub fn path(
    snap: &super::source::Loaded,
    a: &super::args::PathArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if format == Format::Sarif && a.profile.is_none() {
        bail!("--format sarif: path writes SARIF findings with --profile (its unmet requirements)");
    }
    if a.flows.is_none() && !matches!(format, Format::Table | Format::Json | Format::Sarif) {
        bail!(
            "--format {}: path writes table or json (sarif with --profile; with --flows also ndjson and csv)",
            format.name()
        );
    }
    if a.flows.is_some()
        && !matches!(
            format,
            Format::Table | Format::Json | Format::Ndjson | Format::Csv
        )
    {
        bail!(
            "--format {}: path --flows writes table, json, ndjson or csv",
            format.name()
        );
    }
    for p in &a.paths {
        if !p.exists() {
            bail!("`{}` does not exist", p.display());
        }
    }
    let given = match &a.parameters {
        Some(p) => {
            let (bytes, _) = tagnet::load::read_input(p)?;
            tagnet::check::read::parameters(&bytes, &p.display().to_string())?
        }
        None => Default::default(),
    };
    let params = tagnet::ops::path::PathParams {
        from: a.from.clone().unwrap_or_default(),
        to: a.to.clone().unwrap_or_default(),
        protocol: a.protocol.clone(),
        port: a.port,
        bgp: a.bgp.clone(),
        asgs: super::nsg_cmd::asgs(&a.asg)?,
        profile: a.profile.clone(),
        region: a.region.clone(),
        location: a.location.clone(),
        effective_routes: match &a.effective_routes {
            Some(p) => {
                let (bytes, _) = tagnet::load::read_input(p)?;
                Some(tagnet::routes::audit::parse_route_table(
                    &bytes,
                    &p.display().to_string(),
                )?)
            }
            None => None,
        },
    };
    let docs = tagnet::check::read::documents(&a.paths)?;
    if let Some(f) = &a.flows {
        return bulk(snap, &docs, &given, &params, f, format, out);
    }
    let report = tagnet::ops::path::path(snap, &snap.info, &docs, &given, &params)?;
    if !quiet {
        for n in &report.notes {
            eprintln!("tagnet: note: {n}");
        }
    }
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Sarif => {
            let findings = report.findings(a.from.as_deref().unwrap_or_default());
            let file = a
                .paths
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let results: Vec<super::render::SarifResult> = findings
                .iter()
                .map(|f| super::render::SarifResult {
                    finding: f,
                    file: file.clone(),
                    related: Vec::new(),
                })
                .collect();
            super::render::sarif(out, &tagnet::registry(), &results)?;
        }
        _ => {
            if let Some(p) = &report.path {
                writeln!(out, "{} -> {}: {}", p.from, p.to, p.outcome)?;
                let step =
                    |out: &mut dyn Write, s: &tagnet::path::NsgStep| -> std::io::Result<()> {
                        match &s.note {
                            Some(n) => writeln!(out, "  {:<8} {}: {n}", s.direction, s.access)?,
                            None => writeln!(
                                out,
                                "  {:<8} {} by {} {}",
                                s.direction, s.access, s.nsg, s.rule
                            )?,
                        }
                        for d in &s.differs {
                            writeln!(out, "           reading: {d}")?;
                        }
                        Ok(())
                    };
                step(out, &p.out)?;
                writeln!(
                    out,
                    "  route    {} -> {} ({}; {})",
                    p.route.prefix, p.route.next_hop, p.route.route, p.route.goes
                )?;
                for d in &p.route.differs {
                    writeln!(out, "           reading: {d}")?;
                }
                if let Some(i) = &p.inbound {
                    step(out, i)?;
                }
            }
            let tag = |out: &mut dyn Write, t: &tagnet::path::TagPath| -> std::io::Result<()> {
                let inbound = t.direction == "Inbound";
                if inbound {
                    writeln!(
                        out,
                        "{} -> {} {}: {} of {} addresses get in and are answered through the Internet",
                        t.tag, t.from, t.port, t.through, t.addresses
                    )?;
                } else {
                    writeln!(
                        out,
                        "{} -> {} {}: {} of {} addresses get through",
                        t.from, t.tag, t.port, t.through, t.addresses
                    )?;
                }
                for s in &t.shares {
                    writeln!(
                        out,
                        "  {}{:<17} {:<28} {} addresses, {} allowed by the NSGs ({} under every reading)",
                        if inbound { "replies: " } else { "" },
                        s.goes,
                        s.next_hop,
                        s.addresses,
                        s.allowed,
                        s.allowed_every_reading
                    )?;
                }
                for d in &t.differs {
                    writeln!(out, "  reading: {d}")?;
                }
                if let Some(c) = &t.counterexample {
                    writeln!(out, "  e.g. {c}")?;
                }
                Ok(())
            };
            if let Some(t) = &report.tag {
                tag(out, t)?;
            }
            for r in &report.requirements {
                writeln!(out, "[{}] {} — {}", r.status, r.requirement, r.why)?;
                if let Some(reason) = &r.reason {
                    writeln!(out, "  because {reason}")?;
                }
                tag(out, &r.path)?;
            }
        }
    }
    Ok(if report.failing() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

/// Rows of `path --flows` written together.
const BLOCK: usize = 256;

fn bulk(
    snap: &super::source::Loaded,
    docs: &[(String, Vec<u8>)],
    given: &serde_json::Map<String, serde_json::Value>,
    params: &tagnet::ops::path::PathParams,
    file: &std::path::Path,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    use tagnet::ops::path::PathRow;
    // A file or standard input, gzip or not, read as it streams.
    let (mut reader, _) = tagnet::load::open_text(file)?;
    // Every format streams (`render::RowStream`): rows go out in blocks as they are answered,
    // and the report begins with the first block, so a line that fails first writes nothing.
    struct Rows<'o> {
        out: Option<&'o mut dyn Write>,
        stream: Option<tagnet::render::RowStream<'o, PathRow>>,
        pending: Vec<PathRow>,
        format: Format,
        info: &'o tagnet::ops::SnapshotInfo,
    }
    impl Rows<'_> {
        fn flush(&mut self) -> tagnet::Result<()> {
            // Kept as an I/O error, so that a closed pipe (`| head`) ends the run quietly.
            let io = |source: std::io::Error| tagnet::Error::Write {
                path: "standard output".into(),
                source,
            };
            if self.stream.is_none() {
                let w = self.out.take().expect("the output is taken once");
                self.stream = Some(
                    tagnet::render::RowStream::new(w, self.format, Some(self.info)).map_err(io)?,
                );
            }
            let s = self.stream.as_mut().expect("begun above");
            s.block(&self.pending).map_err(io)?;
            self.pending.clear();
            Ok(())
        }
    }
    let mut rows = Rows {
        out: Some(out),
        stream: None,
        pending: Vec::with_capacity(BLOCK),
        format,
        info: &snap.info,
    };
    let failing = {
        let mut sink = |r: PathRow| -> tagnet::Result<()> {
            rows.pending.push(r);
            if rows.pending.len() >= BLOCK {
                rows.flush()?;
            }
            Ok(())
        };
        tagnet::ops::path::bulk(snap, docs, given, params, &mut reader, &mut sink)?
    };
    rows.flush()?;
    rows.stream.expect("begun by the last flush").finish()?;
    Ok(if failing > 0 {
        Status::NoMatch
    } else {
        Status::Success
    })
}
