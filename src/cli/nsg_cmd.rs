//! `nsg verify`.

use super::Status;
use super::args::NsgVerifyArgs;
use super::render::{self, Format};
use anyhow::{Context, Result, bail};
use ipnet::IpNet;
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

/// Every NSG of a file (a template with its parameters file: given, or beside it).
fn read_all(path: &Path, parameters: Option<&Path>, quiet: bool) -> Result<Vec<Nsg>> {
    let (all, used) = tagnet::nsg::read::read_path(path, parameters)?;
    if let Some(p) = used
        && !quiet
        && parameters.is_none()
    {
        eprintln!(
            "tagnet: note: {} is evaluated with the parameters file beside it, {p} (--parameters FILE gives another)",
            path.display()
        );
    }
    warn_limits(&all, quiet);
    Ok(all)
}

/// Reads `FILE` or `FILE#NAME`: the one NSG it holds, or the one named.
fn read_nsg(spec: &str, parameters: Option<&Path>, quiet: bool) -> Result<Nsg> {
    let (path, name) = match spec.rsplit_once('#') {
        Some((p, n)) if !Path::new(spec).exists() => (p, Some(n)),
        _ => (spec, None),
    };
    let origin = path;
    let mut all = read_all(Path::new(path), parameters, quiet)?;
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
    (nsg, nic_nsg, parameters): (Option<&str>, Option<&str>, Option<&Path>),
    vnet: &[String],
    asg: &[String],
    quiet: bool,
) -> Result<tagnet::ops::nsg::Scope> {
    Ok(tagnet::ops::nsg::Scope {
        nsg: nsg.map(|n| read_nsg(n, parameters, quiet)).transpose()?,
        nic_nsg: nic_nsg
            .map(|n| read_nsg(n, parameters, quiet))
            .transpose()?,
        vnet: vnet_spaces(vnet, quiet)?,
        asgs: asgs(asg)?,
        route_table: None,
    })
}

/// The scope of `--nsg`, `--nic-nsg`, `--vnet` and `--asg` (`nsg reach`, `nsg require`).
fn scope_of(s: &super::args::NsgScope, quiet: bool) -> Result<tagnet::ops::nsg::Scope> {
    let mut scope = scope_parts(
        (
            s.nsg.as_deref(),
            s.nic_nsg.as_deref(),
            s.parameters.as_deref(),
        ),
        &s.vnet,
        &s.asg,
        quiet,
    )?;
    scope.route_table = route_table(s.route_table.as_deref())?;
    Ok(scope)
}

/// `--route-table FILE`, read as `routes audit` reads tables.
pub(super) fn route_table(p: Option<&Path>) -> Result<Option<tagnet::routes::audit::RouteTable>> {
    p.map(super::routes_cmd::read_route_table).transpose()
}

/// The subnet's and NIC's NSGs, resolved and compiled (at least one must be given).
pub fn compiled_pair(
    snap: &Snapshot,
    nsgs: (Option<&str>, Option<&str>, Option<&Path>),
    vnet: &[String],
    asg: &[String],
    quiet: bool,
) -> Result<(Option<CompiledNsg>, Option<CompiledNsg>)> {
    let r = scope_parts(nsgs, vnet, asg, quiet)?.resolve(snap)?;
    Ok((
        r.subnet.as_ref().map(tagnet::nsg::compile),
        r.nic.as_ref().map(tagnet::nsg::compile),
    ))
}

/// `--vnet PREFIX` or `--vnet FILE` (`az network vnet show`: its address space and its
/// peerings' remote spaces, read by [`tagnet::ops::nsg::vnet_space`]).
pub fn vnet_spaces(args: &[String], quiet: bool) -> Result<Vec<IpNet>> {
    let mut out = Vec::new();
    if args.is_empty() && !quiet {
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

/// The one flow of `--direction`, `--protocol`, `--local`, `--remote`.
fn one_flow(a: &NsgVerifyArgs) -> Result<Flow> {
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
    // ICMP, ESP and AH have no ports: one given is read as 0, as a flow line's is.
    let port = |p: Option<u16>| {
        if protocol.has_ports() {
            p.unwrap_or(0)
        } else {
            0
        }
    };
    Ok(Flow {
        direction,
        protocol,
        local_ip,
        local_port: port(local_port),
        remote_ip,
        remote_port: port(remote_port),
    })
}

/// A bad flow line, as stderr reports it.
/// Bad flow lines shown on standard error (with `-q` too: they are the input's faults): the
/// first [`BadLines::SHOWN`], then a count of the rest (a million bad lines are not a million
/// lines of warnings).
#[derive(Default)]
struct BadLines {
    seen: usize,
    /// `--skip-bad`: the line is skipped and the run goes on (else the run is refused).
    skip: bool,
}

impl BadLines {
    const SHOWN: usize = 20;

    fn report(&mut self, origin: &str, b: &tagnet::ops::nsg::BadLine) {
        self.seen += 1;
        if self.seen <= Self::SHOWN {
            eprintln!(
                "tagnet: {origin}:{}: {}: {} (`{}`)",
                b.line,
                b.why,
                if self.skip { "skipped" } else { "unreadable" },
                tagnet::text::quoted(&b.text)
            );
        }
    }

    fn finish(&self, origin: &str) {
        if self.seen > Self::SHOWN {
            eprintln!(
                "tagnet: {origin}: {} more bad line(s) not shown ({} in all)",
                self.seen - Self::SHOWN,
                self.seen
            );
        }
    }
}

fn note_readings(differing: usize, quiet: bool) {
    if differing > 0 && !quiet {
        eprintln!(
            "tagnet: note: {differing} flow(s) are allowed under some readings of VirtualNetwork only (with the route table's UDR prefixes, the default route in or out): the permissive verdict is shown"
        );
    }
}

pub fn verify(
    snap: &super::source::Loaded,
    a: &NsgVerifyArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    use tagnet::ops::nsg::{VerdictRecord, Verifier, flow_lines, verify_lines};
    if format.is_deployment() || format == Format::Markdown {
        bail!(
            "--format {}: nsg verify writes table, json, ndjson or csv",
            format.name()
        );
    }
    let mut nsg_scope = scope_parts(
        (
            a.nsg.as_deref(),
            a.nic_nsg.as_deref(),
            a.parameters.as_deref(),
        ),
        &a.vnet,
        &a.asg,
        quiet,
    )?;
    nsg_scope.route_table = route_table(a.route_table.as_deref())?;
    let verifier = Verifier::new(snap, &nsg_scope)?;
    let denied_of = |recs: &[VerdictRecord]| recs.iter().any(|r| r.access == "Deny");
    let differing_of =
        |recs: &[VerdictRecord]| recs.iter().filter(|r| r.readings.is_some()).count();
    let Some(path) = &a.flows else {
        let recs = vec![verifier.record(&one_flow(a)?)];
        note_readings(differing_of(&recs), quiet);
        tagnet::render::rows(out, format, Some(&snap.info), &recs)?;
        return Ok(if denied_of(&recs) {
            Status::NoMatch
        } else {
            Status::Success
        });
    };
    // Without --skip-bad the input is read twice (below). What can be read once only —
    // standard input, a pipe, `<(…)` — is first copied into an unnamed temporary file (gone
    // with the process however it ends).
    let regular = path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let spool = if !regular && !a.skip_bad {
        let mut f = tempfile::tempfile().context("a temporary file for the flows")?;
        let mut input: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(
                std::fs::File::open(path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?,
            )
        };
        std::io::copy(&mut input, &mut f).context("copying the flows to a temporary file")?;
        Some(f)
    } else {
        None
    };
    let name = if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let open = || -> Result<(Box<dyn std::io::BufRead + Send>, String)> {
        Ok(match &spool {
            Some(f) => {
                let mut f = f.try_clone().context("the temporary copy of the flows")?;
                std::io::Seek::rewind(&mut f).context("the temporary copy of the flows")?;
                tagnet::load::open_text_from(Box::new(f), name.clone())?
            }
            None => tagnet::load::open_text(path)?,
        })
    };
    // A file of garbage is never a pass: without --skip-bad, every line is read first and bad
    // ones refuse the run before a verdict is written.
    if !a.skip_bad {
        let (mut r, o) = open()?;
        let mut first = None;
        let mut shown = BadLines::default();
        let counts = flow_lines(
            &mut r,
            &o,
            &mut |b| {
                shown.report(&o, &b);
                first.get_or_insert_with(|| format!("line {}: {}", b.line, b.why));
            },
            &mut |_| Ok(()),
        )?;
        shown.finish(&o);
        if counts.bad > 0 {
            // Counted over the lines that are flows or meant to be (not blank lines, comments
            // or the header).
            bail!(
                "{o}: {} of {} flow lines could not be read (the first: {}); fix them, or give --skip-bad to verify the rest",
                counts.bad,
                counts.bad + counts.flows,
                first.unwrap_or_default()
            );
        }
    }
    let (mut r, o) = open()?;
    // The report begins with the first verdict: no valid flow writes nothing.
    let mut stream: Option<tagnet::render::RowStream<'_, VerdictRecord>> = None;
    let (mut denied, mut differing) = (false, 0usize);
    let mut out = Some(out);
    let mut shown = BadLines {
        skip: a.skip_bad,
        ..BadLines::default()
    };
    let counts = verify_lines(
        &verifier,
        &mut r,
        &o,
        &mut |b| shown.report(&o, &b),
        &mut |recs| {
            denied |= denied_of(recs);
            differing += differing_of(recs);
            // Kept as an I/O error, so that a closed pipe (`| head`) ends the run quietly.
            let io = |source: std::io::Error| tagnet::Error::Write {
                path: "standard output".into(),
                source,
            };
            if stream.is_none() {
                let w = out.take().expect("the output is taken once");
                stream =
                    Some(tagnet::render::RowStream::new(w, format, Some(&snap.info)).map_err(io)?);
            }
            stream
                .as_mut()
                .expect("begun above")
                .block(recs)
                .map_err(io)
        },
    );
    shown.finish(&o);
    let counts = match counts {
        Ok(c) => c,
        // The input broke off (a `.gz` cut short, a read error): the verdicts of the lines
        // read before the break are written whole, then the run fails on it.
        Err(e) => {
            if let Some(stream) = stream
                && !matches!(e, tagnet::Error::Write { .. })
            {
                stream.finish()?;
            }
            return Err(e.into());
        }
    };
    let Some(stream) = stream else {
        bail!(
            "no valid flow to verify in {o} ({} line(s) could not be read)",
            counts.bad
        );
    };
    stream.finish()?;
    note_readings(differing, quiet);
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
    let levels = super::severity(&a.severity, tagnet::findings::severity::Command::Analyze)?;
    // Every NSG is read before anything is said about the scope: a file that cannot be read
    // is the one message.
    let mut read = Vec::new();
    for spec in &a.nsg {
        let nsgs = if spec.contains('#') && !Path::new(spec).exists() {
            vec![read_nsg(spec, a.parameters.as_deref(), quiet)?]
        } else {
            read_all(Path::new(spec), a.parameters.as_deref(), quiet)?
        };
        read.push((spec.split('#').next().unwrap_or(spec).to_string(), nsgs));
    }
    let base = tagnet::ops::nsg::Scope {
        vnet: vnet_spaces(&a.vnet, quiet)?,
        asgs: asgs(&a.asg)?,
        ..Default::default()
    };
    let mut findings = Vec::new();
    let mut files = Vec::new();
    for (file, nsgs) in &read {
        for f in tagnet::ops::nsg::analyze(snap, &base, nsgs, &levels) {
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
