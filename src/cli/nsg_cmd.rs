//! `nsg verify`.

use super::Status;
use super::args::NsgVerifyArgs;
use super::render::{self, Format};
use anyhow::{Context, Result, bail};
use ipnet::IpNet;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use tagnet::Snapshot;
use tagnet::nsg::compile::CompiledNsg;
use tagnet::nsg::model::{Direction, Flow, Nsg, Protocol};

/// Rule sets past Azure's limit load, with a warning (hidden by --quiet).
fn warn_limits(nsgs: &[Nsg], quiet: bool) {
    if quiet {
        return;
    }
    for w in tagnet::ops::nsg::nsg_warnings(nsgs) {
        eprintln!("tagnet: warning: {w}");
    }
}

/// Reads `FILE` or `FILE#NAME`: the one NSG it holds, or the one named.
fn read_nsg(spec: &str, quiet: bool) -> Result<Nsg> {
    let (path, name) = match spec.rsplit_once('#') {
        Some((p, n)) if !Path::new(spec).exists() => (p, Some(n)),
        _ => (spec, None),
    };
    let (bytes, origin) = tagnet::load::read_input(Path::new(path))?;
    let mut all = tagnet::nsg::read::parse(&bytes, &origin)?;
    warn_limits(&all, quiet);
    match name {
        Some(n) => {
            let names: Vec<String> = all.iter().map(|x| x.name.clone()).collect();
            let i = all
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(n))
                .with_context(|| {
                    format!(
                        "{origin} holds no NSG named `{n}`; it holds: {}",
                        names.join(", ")
                    )
                })?;
            Ok(all.swap_remove(i))
        }
        None if all.len() == 1 => Ok(all.remove(0)),
        None => bail!(
            "{origin} holds {} NSGs ({}); name one: {path}#NAME",
            all.len(),
            all.iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The scope the NSG options describe: the NSG files read, `VirtualNetwork` and ASGs.
pub fn scope_parts(
    nsg: Option<&str>,
    nic_nsg: Option<&str>,
    vnet: &[String],
    asg: &[String],
    quiet: bool,
) -> Result<tagnet::ops::nsg::Scope> {
    Ok(tagnet::ops::nsg::Scope {
        nsg: nsg.map(|n| read_nsg(n, quiet)).transpose()?,
        nic_nsg: nic_nsg.map(|n| read_nsg(n, quiet)).transpose()?,
        vnet: vnet_spaces(vnet)?,
        asgs: asgs(asg)?,
        route_table: None,
    })
}

/// The scope of `--nsg`, `--nic-nsg`, `--vnet` and `--asg` (`nsg reach`, `nsg require`).
fn scope_of(s: &super::args::NsgScope, quiet: bool) -> Result<tagnet::ops::nsg::Scope> {
    let mut scope = scope_parts(
        s.nsg.as_deref(),
        s.nic_nsg.as_deref(),
        &s.vnet,
        &s.asg,
        quiet,
    )?;
    scope.route_table = route_table(s.route_table.as_deref())?;
    Ok(scope)
}

/// `--route-table FILE`, read as `routes audit` reads tables.
pub(super) fn route_table(p: Option<&Path>) -> Result<Option<tagnet::routes::audit::RouteTable>> {
    p.map(|p| -> Result<_> {
        let (bytes, _) = tagnet::load::read_input(p)?;
        Ok(tagnet::routes::audit::parse_route_table(
            &bytes,
            &p.display().to_string(),
        )?)
    })
    .transpose()
}

/// The subnet's and NIC's NSGs, resolved and compiled (at least one must be given).
pub fn compiled_pair(
    snap: &Snapshot,
    nsg: Option<&str>,
    nic_nsg: Option<&str>,
    vnet: &[String],
    asg: &[String],
    quiet: bool,
) -> Result<(Option<CompiledNsg>, Option<CompiledNsg>)> {
    let r = scope_parts(nsg, nic_nsg, vnet, asg, quiet)?.resolve(snap)?;
    Ok((
        r.subnet.as_ref().map(tagnet::nsg::compile),
        r.nic.as_ref().map(tagnet::nsg::compile),
    ))
}

/// `--vnet PREFIX` or `--vnet FILE` (`az network vnet show`: its address space and its
/// peerings' remote spaces, read by [`tagnet::ops::nsg::vnet_space`]).
pub fn vnet_spaces(args: &[String]) -> Result<Vec<IpNet>> {
    let mut out = Vec::new();
    if args.is_empty() {
        eprintln!(
            "tagnet: note: no --vnet: VirtualNetwork is empty, so the default rules allow no traffic inside the VNet; give the VNet's space (--vnet 10.1.0.0/16 or --vnet vnet.json)"
        );
    }
    for a in args {
        if let Ok(n) = tagnet::text::address_or_prefix(a, tagnet::text::HostBits::Clear) {
            out.push(n);
            continue;
        }
        let (bytes, origin) = tagnet::load::read_input(Path::new(a))
            .with_context(|| format!("--vnet `{a}` is neither a prefix nor a readable file"))?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
            format!("{origin}: not JSON (expected `az network vnet show` output)")
        })?;
        let (space, notes) = tagnet::ops::nsg::vnet_space(&doc, &origin)?;
        for n in notes {
            eprintln!("tagnet: note: {n}");
        }
        out.extend(space);
    }
    Ok(out)
}

pub(super) fn asgs(args: &[String]) -> Result<BTreeMap<String, Vec<IpAddr>>> {
    let mut out: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
    for a in args {
        let (name, ips) = a
            .split_once('=')
            .with_context(|| format!("--asg `{a}`: expected NAME=IP[,IP…]"))?;
        if name.trim().is_empty() {
            bail!("--asg `{a}`: no group name; give NAME=IP[,IP…]");
        }
        if ips.split(',').all(|s| s.trim().is_empty()) {
            bail!("--asg `{a}`: no member addresses; give NAME=IP[,IP…]");
        }
        let list = out.entry(name.trim().to_string()).or_default();
        for ip in ips.split(',').filter(|s| !s.trim().is_empty()) {
            list.push(
                ip.trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--asg `{a}`: `{ip}` is not an IP address"))?,
            );
        }
    }
    Ok(out)
}

/// `IP`, `IP:PORT`, `[IPv6]:PORT`, read by the one endpoint parser.
fn endpoint(text: &str, what: &str) -> Result<(IpAddr, Option<u16>)> {
    tagnet::text::endpoint(text)
        .map_err(|e| anyhow::anyhow!("{what} `{}`: {e}", tagnet::text::quoted(text.trim())))
}

fn parse_flow(line: &str) -> std::result::Result<Option<Flow>, String> {
    Flow::parse_line(line)
}

/// A flow line: its number, and the flow (`None` for a blank, comment or header line) or why
/// it is not one.
type FlowLine = (usize, std::result::Result<Option<Flow>, String>);

/// The flows of `nsg verify`: `--flows FILE` lines (a bad line is reported and skipped), or
/// the one flow of `--direction`, `--protocol`, `--local`, `--remote`.
fn read_flows(a: &NsgVerifyArgs) -> Result<Vec<FlowLine>> {
    Ok(match &a.flows {
        Some(path) => {
            let (bytes, origin) = tagnet::load::read_input(path)?;
            let text =
                std::str::from_utf8(&bytes).with_context(|| format!("{origin}: not UTF-8 text"))?;
            let lines: Vec<(usize, &str)> =
                text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
            let parsed: Vec<_> = lines
                .par_iter()
                .map(|&(no, l)| (no, parse_flow(l)))
                .collect();
            let mut bad = 0usize;
            let mut first = None;
            for (no, r) in &parsed {
                if let Err(e) = r {
                    bad += 1;
                    first.get_or_insert_with(|| format!("line {no}: {e}"));
                    eprintln!(
                        "tagnet: {origin}:{no}: {e}: skipped (`{}`)",
                        tagnet::text::quoted(lines[no - 1].1)
                    );
                }
            }
            if bad > 0 && !a.skip_bad {
                // A file of garbage is never a pass: refused before anything is verified.
                // Counted over the lines that are flows or meant to be (not blank lines,
                // comments or the header).
                let lines = parsed
                    .iter()
                    .filter(|(_, r)| !matches!(r, Ok(None)))
                    .count();
                bail!(
                    "{origin}: {bad} of {lines} flow lines could not be read (the first: {}); fix them, or give --skip-bad to verify the rest",
                    first.unwrap_or_default()
                );
            }
            parsed
        }
        None => {
            let direction = match a.direction.as_deref() {
                Some(d) => Direction::parse(d)
                    .with_context(|| format!("--direction `{d}`: inbound or outbound"))?,
                None => bail!("give --direction inbound|outbound (or --flows FILE)"),
            };
            let protocol = match a.protocol.as_deref().map(|p| (p, Protocol::parse(p))) {
                Some((_, Some(p))) if p != Protocol::Any => p,
                Some((t, _)) => bail!("--protocol `{t}`: Tcp, Udp, Icmp, Esp or Ah"),
                None => bail!("give --protocol Tcp, Udp, Icmp, Esp or Ah"),
            };
            let (local_ip, local_port) = endpoint(
                a.local.as_deref().context("give --local IP[:PORT]")?,
                "--local",
            )?;
            let (remote_ip, remote_port) = endpoint(
                a.remote.as_deref().context("give --remote IP[:PORT]")?,
                "--remote",
            )?;
            if local_ip.is_ipv4() != remote_ip.is_ipv4() {
                bail!(
                    "--local {local_ip} and --remote {remote_ip} are of different families; a flow is IPv4 or IPv6"
                );
            }
            if protocol.has_ports() && (local_port.is_none() || remote_port.is_none()) {
                bail!(
                    "a {} flow needs both ports: --local IP:PORT --remote IP:PORT ([IPv6]:PORT)",
                    protocol.name()
                );
            }
            let (local_port, remote_port) = (local_port.unwrap_or(0), remote_port.unwrap_or(0));
            vec![(
                1,
                Ok(Some(Flow {
                    direction,
                    protocol,
                    local_ip,
                    local_port,
                    remote_ip,
                    remote_port,
                })),
            )]
        }
    })
}

/// CSV or NDJSON rows of the verdicts, rendered in parallel blocks and written in input order;
/// each NSG's and rule's name escaped once per format.
fn stream_verdicts(
    out: &mut dyn Write,
    format: Format,
    decisions: &[(Flow, tagnet::nsg::Decision)],
    cs: Option<&CompiledNsg>,
    cn: Option<&CompiledNsg>,
) -> Result<()> {
    let of = |hop: tagnet::nsg::Hop| match hop {
        tagnet::nsg::Hop::Subnet => cs,
        tagnet::nsg::Hop::Nic => cn,
    };
    // Names as each format writes them, once per rule.
    let names = |hop, esc: &dyn Fn(&str) -> String| -> (String, Vec<String>) {
        of(hop).map_or((String::new(), Vec::new()), |c| {
            (esc(&c.name), c.rules.iter().map(|r| esc(&r.1)).collect())
        })
    };
    let json = |x: &str| render::json_str(x);
    let csv = |x: &str| render::csv_field(x).into_owned();
    let (sj, sjr) = names(tagnet::nsg::Hop::Subnet, &json);
    let (nj, njr) = names(tagnet::nsg::Hop::Nic, &json);
    let (sc, scr) = names(tagnet::nsg::Hop::Subnet, &csv);
    let (nc, ncr) = names(tagnet::nsg::Hop::Nic, &csv);
    let text_of = |d: &tagnet::nsg::Decision, csv_form: bool| -> (&str, &str) {
        match (d.by, csv_form) {
            (None, true) => ("", ""),
            (None, false) => ("\"\"", "\"\""),
            (Some((tagnet::nsg::Hop::Subnet, i)), true) => (sc.as_str(), scr[i].as_str()),
            (Some((tagnet::nsg::Hop::Nic, i)), true) => (nc.as_str(), ncr[i].as_str()),
            (Some((tagnet::nsg::Hop::Subnet, i)), false) => (sj.as_str(), sjr[i].as_str()),
            (Some((tagnet::nsg::Hop::Nic, i)), false) => (nj.as_str(), njr[i].as_str()),
        }
    };
    // Rendered in parallel blocks, written in input order.
    if format == Format::Csv {
        out.write_all(
            b"access,nsg,rule,direction,protocol,local_ip,local_port,remote_ip,remote_port\n",
        )?;
    }
    let blocks: Vec<String> = decisions
        .par_chunks(8192)
        .map(|chunk| {
            use std::fmt::Write as _;
            let mut b = String::with_capacity(chunk.len() * 160);
            for (f, v) in chunk {
                let (nsg, rule) = text_of(v, format == Format::Csv);
                if format == Format::Csv {
                    let _ = writeln!(
                        b,
                        "{},{},{},{},{},{},{},{},{}",
                        v.access,
                        nsg,
                        rule,
                        f.direction,
                        f.protocol.name(),
                        f.local_ip,
                        f.local_port,
                        f.remote_ip,
                        f.remote_port
                    );
                } else {
                    let _ = writeln!(
                        b,
                        "{{\"access\":\"{}\",\"nsg\":{},\"rule\":{},\"direction\":\"{}\",\"protocol\":\"{}\",\"local_ip\":\"{}\",\"local_port\":{},\"remote_ip\":\"{}\",\"remote_port\":{}}}",
                        v.access,
                        nsg,
                        rule,
                        f.direction,
                        f.protocol.name(),
                        f.local_ip,
                        f.local_port,
                        f.remote_ip,
                        f.remote_port
                    );
                }
            }
            b
        })
        .collect();
    for b in blocks {
        out.write_all(b.as_bytes())?;
    }
    Ok(())
}

pub fn verify(
    snap: &super::source::Loaded,
    a: &NsgVerifyArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if format.is_deployment() || format == Format::Markdown {
        bail!(
            "--format {}: nsg verify writes table, json, ndjson or csv",
            format.name()
        );
    }
    let mut nsg_scope = scope_parts(
        a.nsg.as_deref(),
        a.nic_nsg.as_deref(),
        &a.vnet,
        &a.asg,
        quiet,
    )?;
    nsg_scope.route_table = route_table(a.route_table.as_deref())?;
    // One compiled pair per reading of `VirtualNetwork` (one without a route table); each
    // flow takes the permissive verdict.
    let mut pairs = Vec::new();
    for (_, s) in nsg_scope.readings(snap) {
        let resolved = s.resolve(snap)?;
        pairs.push((
            resolved.subnet.as_ref().map(tagnet::nsg::compile),
            resolved.nic.as_ref().map(tagnet::nsg::compile),
        ));
    }
    let (cs, cn) = &pairs[0];
    let flows = read_flows(a)?;
    let differing = std::sync::atomic::AtomicUsize::new(0);
    let decisions: Vec<(Flow, tagnet::nsg::Decision)> = flows
        .par_iter()
        .filter_map(|(_, r)| r.as_ref().ok().and_then(|f| *f))
        .map(|f| {
            let first = tagnet::nsg::decide(cs.as_ref(), cn.as_ref(), &f);
            if pairs.len() == 1 {
                return (f, first);
            }
            let all: Vec<tagnet::nsg::Decision> = pairs
                .iter()
                .map(|(s, n)| tagnet::nsg::decide(s.as_ref(), n.as_ref(), &f))
                .collect();
            let allows = |d: &tagnet::nsg::Decision| d.access == tagnet::nsg::model::Access::Allow;
            if all.iter().any(|d| allows(d) != allows(&first)) {
                differing.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let pick = all.iter().position(allows).unwrap_or(0);
            (f, all[pick])
        })
        .collect();
    let differing = differing.into_inner();
    if differing > 0 && !quiet {
        eprintln!(
            "tagnet: note: {differing} flow(s) are allowed under some readings of VirtualNetwork only (with the route table's UDR prefixes, the default route in or out): the permissive verdict is shown"
        );
    }
    drop(flows);
    if decisions.is_empty() {
        bail!("no valid flow to verify");
    }
    let denied = decisions
        .iter()
        .any(|(_, d)| d.access == tagnet::nsg::model::Access::Deny);
    if matches!(format, Format::Ndjson | Format::Csv) {
        stream_verdicts(out, format, &decisions, cs.as_ref(), cn.as_ref())?;
        return Ok(if denied {
            Status::NoMatch
        } else {
            Status::Success
        });
    }
    // The report every front end gives (`POST /v1/nsg/verify` answers the same records).
    let valid: Vec<Flow> = decisions.iter().map(|(f, _)| *f).collect();
    let recs = tagnet::ops::nsg::verify(snap, &nsg_scope, &valid)?;
    tagnet::render::rows(out, format, Some(&snap.info), &recs)?;
    Ok(if denied {
        Status::NoMatch
    } else {
        Status::Success
    })
}

pub fn require(
    snap: &super::source::Loaded,
    a: &super::args::NsgRequireArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if format.is_deployment() {
        bail!(
            "--format {}: nsg require writes table, json, ndjson, csv or markdown",
            format.name()
        );
    }
    let sc = scope_of(&a.scope, quiet)?;
    let params = tagnet::ops::nsg::RequireParams {
        region: a.region.clone(),
        profile: a.profile.clone(),
        local: a.scope.local.clone(),
    };
    let report = tagnet::ops::nsg::require(snap, &snap.info, &sc, &params)?;
    for n in &report.notes {
        eprintln!("tagnet: {n}");
    }
    let rows = &report.requirements;
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        render::records(
            out,
            format,
            Some(&snap.info),
            &[
                "VERDICT",
                "DIRECTION",
                "PROTOCOL",
                "PORTS",
                "TAG",
                "ALLOWED",
                "COUNTEREXAMPLE",
                "BLOCKED BY",
                "WHY",
            ],
            rows,
            |c| {
                vec![
                    serde_json::to_value(c.verdict)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    c.requirement.direction.clone(),
                    c.requirement.protocol.clone(),
                    c.requirement.ports.clone(),
                    c.tag.clone(),
                    format!("{}/{}", c.addresses_allowed, c.addresses),
                    c.counterexample.clone().unwrap_or_default(),
                    c.blocked_by.clone().unwrap_or_default(),
                    c.requirement.why.clone(),
                ]
            },
        )?;
        if format == Format::Table {
            writeln!(
                out,
                "\nprofile {} ({}); local address {}",
                report.profile, report.source, report.local
            )?;
        }
    }
    Ok(if report.failing() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

pub fn reach(
    snap: &super::source::Loaded,
    a: &super::args::NsgReachArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    if format.is_deployment() {
        bail!(
            "--format {}: nsg reach writes table, json, ndjson, csv or markdown",
            format.name()
        );
    }
    let sc = scope_of(&a.scope, quiet)?;
    let params = tagnet::ops::nsg::ReachParams {
        direction: a.direction.clone(),
        protocol: a.protocol.clone(),
        port: a.port,
        local: a.scope.local.clone(),
    };
    let report = tagnet::ops::nsg::reach(snap, &snap.info, &sc, &params)?;
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        render::records(
            out,
            format,
            Some(&snap.info),
            &["PREFIX", "ADDRESSES"],
            &report.prefixes,
            |r| vec![r.prefix.to_string(), r.addresses.clone()],
        )?;
        if format == Format::Table {
            let tags = &report.tags;
            writeln!(
                out,
                "\n{} addresses allowed; tags touched: {}",
                report.addresses,
                tags.len()
            )?;
            for t in tags.iter().take(40) {
                writeln!(out, "  {} ({})", t.tag, t.coverage)?;
            }
            if tags.len() > 40 {
                writeln!(
                    out,
                    "  … and {} more (--format json lists them all)",
                    tags.len() - 40
                )?;
            }
        }
    }
    Ok(if report.prefixes.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}

pub fn analyze(
    snap: &super::source::Loaded,
    a: &super::args::NsgAnalyzeArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    use tagnet::findings::Severity;
    if format.is_deployment() {
        bail!(
            "--format {}: nsg analyze writes table, json, ndjson, csv, markdown or sarif",
            format.name()
        );
    }
    let base = tagnet::ops::nsg::Scope {
        vnet: vnet_spaces(&a.vnet)?,
        asgs: asgs(&a.asg)?,
        ..Default::default()
    };
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Analyze)?;
    let mut findings = Vec::new();
    let mut files = Vec::new();
    for spec in &a.nsg {
        let nsgs = if spec.contains('#') && !Path::new(spec).exists() {
            vec![read_nsg(spec, quiet)?]
        } else {
            let (bytes, origin) = tagnet::load::read_input(Path::new(spec))?;
            let all = tagnet::nsg::read::parse(&bytes, &origin)?;
            warn_limits(&all, quiet);
            all
        };
        let file = spec.split('#').next().unwrap_or(spec).to_string();
        for f in tagnet::ops::nsg::analyze(snap, &base, &nsgs, &levels) {
            files.push(file.clone());
            findings.push(f);
        }
    }
    let failing = findings
        .iter()
        .any(|f| f.finding.severity != Severity::Info);
    match format {
        Format::Sarif => {
            let rules: Vec<&tagnet::findings::Rule> = tagnet::findings::registry()
                .into_iter()
                .filter(|r| r.source.starts_with("nsg"))
                .collect();
            let results: Vec<render::SarifResult> = findings
                .iter()
                .zip(&files)
                .map(|(f, file)| render::SarifResult {
                    finding: &f.finding,
                    file: file.clone(),
                    related: f
                        .related
                        .iter()
                        .map(|r| (r.clone(), format!("{}/{}", f.nsg, r)))
                        .collect(),
                })
                .collect();
            render::sarif(out, &rules, &results)?;
        }
        _ => {
            tagnet::render::rows(out, format, Some(&snap.info), &findings)?;
            if format == Format::Table && findings.is_empty() {
                writeln!(out, "no findings")?;
            }
        }
    }
    Ok(if failing {
        Status::NoMatch
    } else {
        Status::Success
    })
}

pub fn from_classbench(
    a: &super::args::FromClassbenchArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    let access = match a.access.to_ascii_lowercase().as_str() {
        "allow" => "Allow",
        "deny" => "Deny",
        _ => bail!("--access `{}`: Allow or Deny", a.access),
    };
    let (bytes, origin) = tagnet::load::read_input(&a.input)?;
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{origin}: not UTF-8 text"))?;
    let c = tagnet::nsg::classbench::convert(text, &a.name, access);
    for (no, why) in c.skipped.iter().take(20) {
        eprintln!("tagnet: {origin}:{no}: not converted: {why}");
    }
    if c.skipped.len() > 20 {
        eprintln!(
            "tagnet: … and {} more lines not converted",
            c.skipped.len() - 20
        );
    }
    if c.rules > 1000 && !quiet {
        eprintln!(
            "tagnet: warning: {} rules, more than Azure's 1,000 per NSG: tagnet evaluates it, Azure would refuse it",
            c.rules
        );
    }
    if c.rules == 0 {
        bail!("{origin}: no filter line could be converted");
    }
    serde_json::to_writer_pretty(&mut *out, &c.nsg)?;
    writeln!(out)?;
    Ok(if c.skipped.is_empty() {
        Status::Success
    } else {
        Status::NoMatch
    })
}
