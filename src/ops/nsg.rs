//! `nsg verify` and `nsg reach`: an NSG scope (the subnet's NSG, the NIC's, `VirtualNetwork`,
//! application security groups) validated once, and the reports every front end renders.

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::nsg::eval::{Context, ResolvedNsg};
use crate::nsg::model::{Direction, Flow, Nsg, Protocol};
use crate::text;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

/// The NSGs a flow meets and what their names stand for.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The subnet's NSG.
    pub nsg: Option<Nsg>,
    /// The NIC's NSG.
    pub nic_nsg: Option<Nsg>,
    /// `VirtualNetwork`: the VNet's space, peered spaces, on-premises spaces.
    pub vnet: Vec<IpNet>,
    /// Application security group → member addresses.
    pub asgs: BTreeMap<String, Vec<IpAddr>>,
    /// The subnet's route table: its UDR prefixes join `VirtualNetwork` under each reading
    /// of [`crate::path::VnetReading`].
    pub route_table: Option<crate::routes::audit::RouteTable>,
}

/// A scope with its NSGs resolved against a snapshot.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The subnet's NSG.
    pub subnet: Option<ResolvedNsg>,
    /// The NIC's NSG.
    pub nic: Option<ResolvedNsg>,
}

/// What reading the NSGs found Azure would refuse or treat otherwise (duplicate rule names,
/// singular and plural fields both set, host bits, more rules than Azure's 1,000): each front
/// end shows them beside its answer.
pub fn nsg_warnings<'a>(nsgs: impl IntoIterator<Item = &'a Nsg>) -> Vec<String> {
    let mut out = Vec::new();
    for n in nsgs {
        out.extend(n.warnings.iter().cloned());
        let user = n.rules.iter().filter(|r| !r.default).count();
        if user > 1000 {
            out.push(format!(
                "NSG `{}` has {user} rules, more than Azure's 1,000: tagnet evaluates it, Azure would refuse it",
                n.name
            ));
        }
    }
    out
}

impl Scope {
    /// The scope under each reading of `VirtualNetwork` (one, unnamed, without a route table).
    pub fn readings(&self, snap: &Snapshot) -> Vec<(Option<crate::path::VnetReading>, Scope)> {
        let Some(t) = &self.route_table else {
            return vec![(None, self.clone())];
        };
        let udrs = crate::path::udr_prefixes(snap, t);
        let learned = crate::path::bgp_prefixes(t);
        crate::path::VnetReading::ALL
            .iter()
            .map(|&r| {
                let mut s = self.clone();
                s.vnet = crate::path::vnet_tag(&self.vnet, &udrs, &learned, r);
                s.route_table = None;
                (Some(r), s)
            })
            .collect()
    }

    /// [`nsg_warnings`] of the scope's NSGs.
    pub fn warnings(&self) -> Vec<String> {
        nsg_warnings(self.nsg.iter().chain(self.nic_nsg.iter()))
    }

    /// Resolves both NSGs (service tags, `VirtualNetwork`, ASGs); at least one is needed.
    pub fn resolve(&self, snap: &Snapshot) -> Result<Resolved> {
        if self.nsg.is_none() && self.nic_nsg.is_none() {
            return Err(Error::field(
                "nsg",
                "is missing: give the subnet's NSG («nsg»), the NIC's («nic_nsg»), or both",
            ));
        }
        if let Some((name, _)) = self.asgs.iter().find(|(_, m)| m.is_empty()) {
            return Err(Error::field(
                "asgs",
                format!(
                    "`{}` has no member addresses; give its members' addresses",
                    text::quoted(name)
                ),
            ));
        }
        let ctx = Context {
            snapshot: snap,
            vnet: self.vnet.clone(),
            asgs: self.asgs.clone(),
        };
        Ok(Resolved {
            subnet: self.nsg.as_ref().map(|n| ctx.resolve(n)).transpose()?,
            nic: self.nic_nsg.as_ref().map(|n| ctx.resolve(n)).transpose()?,
        })
    }
}

/// The address space of a VNet document (`az network vnet show`, REST or an ARM resource):
/// its address prefixes and the remote spaces of its connected peerings; with notes on the
/// peerings left out.
pub fn vnet_space(doc: &serde_json::Value, origin: &str) -> Result<(Vec<IpNet>, Vec<String>)> {
    let props = doc.get("properties").unwrap_or(doc);
    let space = |v: &serde_json::Value| -> Vec<String> {
        v.pointer("/addressSpace/addressPrefixes")
            .or_else(|| v.pointer("/properties/addressSpace/addressPrefixes"))
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut all = space(props);
    all.extend(space(doc));
    let mut notes = Vec::new();
    if let Some(peers) = props
        .get("virtualNetworkPeerings")
        .and_then(|p| p.as_array())
    {
        for p in peers {
            let pp = p.get("properties").unwrap_or(p);
            let state = pp
                .get("peeringState")
                .and_then(|x| x.as_str())
                .unwrap_or("Connected");
            if !state.eq_ignore_ascii_case("Connected") {
                notes.push(format!(
                    "{origin}: a peering in state {state} is left out of VirtualNetwork"
                ));
                continue;
            }
            if pp
                .get("allowVirtualNetworkAccess")
                .and_then(|x| x.as_bool())
                == Some(false)
            {
                notes.push(format!(
                    "{origin}: a peering with allowVirtualNetworkAccess false is left out of VirtualNetwork"
                ));
                continue;
            }
            // The space the peering carries now (`remoteAddressSpace`); the remote VNet's
            // current space joins it only once the peering is synced.
            if let Some(r) = pp
                .pointer("/remoteAddressSpace/addressPrefixes")
                .or_else(|| pp.pointer("/remoteVirtualNetworkAddressSpace/addressPrefixes"))
                .and_then(|x| x.as_array())
            {
                all.extend(r.iter().filter_map(|s| s.as_str().map(String::from)));
            }
        }
    }
    if all.is_empty() {
        return Err(Error::Usage(format!(
            "{origin}: no addressSpace.addressPrefixes (expected `az network vnet show` output)"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|t| seen.insert(t.clone()));
    let mut out = Vec::with_capacity(all.len());
    for t in &all {
        out.push(text::prefix(t, text::HostBits::Clear).map_err(|r| {
            Error::Usage(format!(
                "{origin}: invalid prefix `{}`: {r}",
                text::quoted(t)
            ))
        })?);
    }
    Ok((out, notes))
}

/// One flow's verdict, with the flow.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerdictRecord {
    /// `Allow` or `Deny`.
    pub access: &'static str,
    /// The NSG whose rule decided (empty when no rule did).
    pub nsg: Arc<str>,
    /// `securityRules/NAME` or `defaultSecurityRules/NAME`; when no rule decided, why, in
    /// parentheses: [`NO_NSG`] or [`PLATFORM_EXEMPT`].
    pub rule: Arc<str>,
    /// `Inbound` or `Outbound`.
    pub direction: &'static str,
    /// The protocol.
    pub protocol: &'static str,
    /// The VM's address.
    pub local_ip: IpAddr,
    /// The VM's port.
    pub local_port: u16,
    /// The other end.
    pub remote_ip: IpAddr,
    /// The other end's port.
    pub remote_port: u16,
    /// With a route table: the readings of `VirtualNetwork` that answer otherwise (the access
    /// is the permissive answer, the risk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readings: Option<String>,
}

impl super::Row for VerdictRecord {
    /// The table and CSV columns.
    const HEADERS: &'static [&'static str] = &[
        "ACCESS",
        "NSG",
        "RULE",
        "DIRECTION",
        "PROTOCOL",
        "LOCAL IP",
        "LOCAL PORT",
        "REMOTE IP",
        "REMOTE PORT",
    ];

    /// The table and CSV cells.
    fn cells(&self) -> Vec<String> {
        vec![
            self.access.to_string(),
            self.nsg.to_string(),
            self.rule.to_string(),
            self.direction.to_string(),
            self.protocol.to_string(),
            self.local_ip.to_string(),
            self.local_port.to_string(),
            self.remote_ip.to_string(),
            self.remote_port.to_string(),
        ]
    }

    /// The cells one by one, the numbers formatted in one reused buffer (a million verdicts
    /// are written without a million times nine strings).
    fn each_cell(&self, f: &mut dyn FnMut(&str) -> std::io::Result<()>) -> std::io::Result<()> {
        use std::fmt::Write as _;
        for s in [
            self.access,
            &self.nsg,
            &self.rule,
            self.direction,
            self.protocol,
        ] {
            f(s)?;
        }
        let mut b = String::with_capacity(40);
        let _ = write!(b, "{}", self.local_ip);
        f(&b)?;
        b.clear();
        let _ = write!(b, "{}", self.local_port);
        f(&b)?;
        b.clear();
        let _ = write!(b, "{}", self.remote_ip);
        f(&b)?;
        b.clear();
        let _ = write!(b, "{}", self.remote_port);
        f(&b)
    }
}

/// A scope's NSGs compiled once per reading of `VirtualNetwork`: what [`verify`] and
/// [`verify_lines`] decide each flow with.
pub struct Verifier {
    pairs: Vec<(
        Option<crate::path::VnetReading>,
        Option<crate::nsg::compile::CompiledNsg>,
        Option<crate::nsg::compile::CompiledNsg>,
    )>,
    /// Per reading, the names records carry: (NSG, rules) of the subnet's and the NIC's.
    names: Vec<[Names; 2]>,
    empty: Arc<str>,
    no_nsg: Arc<str>,
    platform: Arc<str>,
}

/// The rule of a flow no NSG applies to: allowed, as without an NSG.
pub const NO_NSG: &str = "(no NSG applies)";

/// The rule of a flow to Azure's platform addresses (168.63.129.16, 169.254.169.254) that no
/// rule naming `AzurePlatformDNS`/`AzurePlatformIMDS` decides: Azure exempts it from NSGs.
pub const PLATFORM_EXEMPT: &str = "(platform address: exempt from NSGs)";

/// An NSG's name and its rules' paths, shared by every record that names them.
type Names = Option<(Arc<str>, Vec<Arc<str>>)>;

fn names_of(c: Option<&crate::nsg::compile::CompiledNsg>) -> Names {
    c.map(|c| {
        (
            Arc::from(c.name.as_str()),
            c.rules.iter().map(|r| Arc::from(r.1.as_str())).collect(),
        )
    })
}

impl Verifier {
    /// Resolves and compiles the scope's NSGs.
    pub fn new(snap: &Snapshot, scope: &Scope) -> Result<Verifier> {
        let mut pairs = Vec::new();
        for (reading, s) in scope.readings(snap) {
            let r = s.resolve(snap)?;
            pairs.push((
                reading,
                r.subnet.as_ref().map(crate::nsg::compile),
                r.nic.as_ref().map(crate::nsg::compile),
            ));
        }
        let names = pairs
            .iter()
            .map(|(_, cs, cn)| [names_of(cs.as_ref()), names_of(cn.as_ref())])
            .collect();
        Ok(Verifier {
            pairs,
            names,
            empty: Arc::from(""),
            no_nsg: Arc::from(NO_NSG),
            platform: Arc::from(PLATFORM_EXEMPT),
        })
    }

    /// The NSG and rule that made decision `d` under reading `k` (empty when none).
    fn named(&self, k: usize, d: &crate::nsg::Decision) -> (Arc<str>, Arc<str>) {
        let by = d.by.and_then(|(hop, i)| {
            let (nsg, rules) = self.names[k][match hop {
                crate::nsg::Hop::Subnet => 0,
                crate::nsg::Hop::Nic => 1,
            }]
            .as_ref()?;
            Some((nsg.clone(), rules.get(i)?.clone()))
        });
        by.unwrap_or_else(|| {
            // No rule decided: no NSG applies, or (every NSG ends in a deny-all default rule)
            // the flow is to a platform address Azure exempts.
            let none = self.names[k].iter().all(Option::is_none);
            let why = if none { &self.no_nsg } else { &self.platform };
            (self.empty.clone(), why.clone())
        })
    }

    /// One flow's verdict: the permissive one over the readings, the others named.
    pub fn record(&self, f: &Flow) -> VerdictRecord {
        let decide = |(_, cs, cn): &(_, Option<_>, Option<_>)| {
            crate::nsg::decide(cs.as_ref(), cn.as_ref(), f)
        };
        let allows = |d: &crate::nsg::Decision| d.access == crate::nsg::model::Access::Allow;
        let (k, chosen, readings) = if self.pairs.len() == 1 {
            (0, decide(&self.pairs[0]), None)
        } else {
            let all: Vec<crate::nsg::Decision> = self.pairs.iter().map(decide).collect();
            let k = all.iter().position(allows).unwrap_or(0);
            let others: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|(_, x)| x.access != all[k].access)
                .map(|(j, x)| {
                    let (nsg, rule) = self.named(j, x);
                    format!(
                        "{} under `{}` ({nsg} {rule})",
                        x.access,
                        self.pairs[j].0.map(|r| r.name()).unwrap_or_default(),
                    )
                })
                .collect();
            (k, all[k], (!others.is_empty()).then(|| others.join("; ")))
        };
        let (nsg, rule) = self.named(k, &chosen);
        VerdictRecord {
            readings,
            access: chosen.access.name(),
            nsg,
            rule,
            direction: f.direction.name(),
            protocol: f.protocol.name(),
            local_ip: f.local_ip,
            local_port: f.local_port,
            remote_ip: f.remote_ip,
            remote_port: f.remote_port,
        }
    }
}

/// The verdict of each flow through the scope's NSGs (subnet then NIC inbound, NIC then
/// subnet outbound), in the flows' order.
pub fn verify(snap: &Snapshot, scope: &Scope, flows: &[Flow]) -> Result<Vec<VerdictRecord>> {
    use rayon::prelude::*;
    let v = Verifier::new(snap, scope)?;
    Ok(flows.par_iter().map(|f| v.record(f)).collect())
}

/// A flow line that could not be read: its number, why, and the line.
#[derive(Debug, Clone)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// Why it is not a flow.
    pub why: String,
    /// The line as written.
    pub text: String,
}

/// What reading flow lines found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Flows read.
    pub flows: usize,
    /// Lines that are not flows though meant to be (not blank, comment or header lines).
    pub bad: usize,
}

/// Bytes of lines read per block: parsed in parallel, then handed on in order.
const BLOCK_BYTES: usize = 4 << 20;

/// The longest flow line kept, in bytes. A flow is under 200 bytes in either form; a longer
/// line is a bad line, read through without being kept (memory stays bounded whatever a
/// line's length).
pub const MAX_FLOW_LINE: usize = 4096;

/// Appends one line of `r` (its `\n` included) to `buf`, keeping at most `cap` bytes of it.
/// Returns the bytes the line had (0 at the end) and whether it was longer than `cap`.
fn read_line_capped(
    r: &mut dyn std::io::BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<(usize, bool)> {
    let mut total = 0usize;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((total, total > cap));
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = cap.saturating_sub(total);
        buf.extend_from_slice(&chunk[..take.min(room)]);
        total += take;
        r.consume(take);
        if done {
            return Ok((total, total > cap));
        }
    }
}

/// Reads flow lines ([`Flow::parse_line`]: CSV or NDJSON, a header, blank lines and `#`
/// comments skipped) in blocks of about 4 MB, parsed in parallel; `each` gets each block's
/// flows in input order, `on_bad` each line that is not a flow (one that is not UTF-8, or
/// longer than [`MAX_FLOW_LINE`], included; its text is the line's first
/// [`MAX_FLOW_LINE`] bytes at most). Memory stays at one block. A read that fails (a `.gz`
/// cut short) ends it with that error after the lines read before it are handed on.
pub fn flow_lines(
    lines: &mut dyn std::io::BufRead,
    origin: &str,
    on_bad: &mut dyn FnMut(BadLine),
    each: &mut dyn FnMut(&[Flow]) -> Result<()>,
) -> Result<LineCounts> {
    use rayon::prelude::*;
    let mut counts = LineCounts::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_BYTES + MAX_FLOW_LINE + 1);
    let mut starts: Vec<usize> = Vec::new();
    // The lines of the block longer than the cap, by index in the block.
    let mut overlong: Vec<usize> = Vec::new();
    let mut number = 0usize;
    let bad_read = |line: usize, e: String| Error::Invalid {
        origin: origin.to_string(),
        message: format!("line {line}: {e}"),
        hint: "give flow lines as UTF-8 text (CSV or NDJSON), or a .gz of them".into(),
    };
    let mut failed = None;
    while failed.is_none() {
        buf.clear();
        starts.clear();
        overlong.clear();
        let first = number + 1;
        while buf.len() < BLOCK_BYTES {
            let at = buf.len();
            match read_line_capped(lines, &mut buf, MAX_FLOW_LINE) {
                Ok((0, _)) => break,
                Ok((_, long)) => {
                    number += 1;
                    if long {
                        overlong.push(starts.len());
                    }
                    starts.push(at);
                }
                Err(e) => {
                    failed = Some(bad_read(number + 1, format!("reading: {e}")));
                    break;
                }
            }
        }
        if starts.is_empty() {
            break;
        }
        let bytes = |k: usize| {
            let end = starts.get(k + 1).copied().unwrap_or(buf.len());
            &buf[starts[k]..end]
        };
        let parsed: Vec<std::result::Result<Option<Flow>, String>> = (0..starts.len())
            .into_par_iter()
            .with_min_len(1024)
            .map(|k| {
                if overlong.binary_search(&k).is_ok() {
                    return Err(format!(
                        "longer than {MAX_FLOW_LINE} bytes (a flow line is under 200)"
                    ));
                }
                match std::str::from_utf8(bytes(k)) {
                    Ok(l) => Flow::parse_line(l),
                    Err(_) => Err("not UTF-8 text".to_string()),
                }
            })
            .collect();
        let line = |k: usize| String::from_utf8_lossy(bytes(k));
        let mut flows = Vec::with_capacity(parsed.len());
        for (k, r) in parsed.into_iter().enumerate() {
            match r {
                Ok(Some(f)) => flows.push(f),
                Ok(None) => {}
                Err(why) if why == crate::nsg::model::MISORDERED_HEADER => {
                    return Err(Error::Invalid {
                        origin: origin.to_string(),
                        message: format!("line {}: {why}", first + k),
                        hint: "write the header as direction,protocol,local_ip,local_port,remote_ip,remote_port".into(),
                    });
                }
                Err(why) => {
                    counts.bad += 1;
                    on_bad(BadLine {
                        line: first + k,
                        why,
                        text: line(k).trim_end_matches(['\n', '\r']).to_string(),
                    });
                }
            }
        }
        counts.flows += flows.len();
        if !flows.is_empty() {
            each(&flows)?;
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(counts),
    }
}

/// `nsg verify --flows`: [`flow_lines`] decided block by block, each block's records handed
/// to `sink` in input order (a block's flows are decided in parallel). Memory stays flat in
/// the number of lines.
pub fn verify_lines(
    verifier: &Verifier,
    lines: &mut dyn std::io::BufRead,
    origin: &str,
    on_bad: &mut dyn FnMut(BadLine),
    sink: &mut dyn FnMut(&[VerdictRecord]) -> Result<()>,
) -> Result<LineCounts> {
    use rayon::prelude::*;
    flow_lines(lines, origin, on_bad, &mut |flows| {
        let recs: Vec<VerdictRecord> = flows.par_iter().map(|f| verifier.record(f)).collect();
        sink(&recs)
    })
}

/// A `reach` request as typed.
#[derive(Debug, Clone, Default)]
pub struct ReachParams {
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `Tcp`, `Udp`, `Icmp`, `Esp` or `Ah`.
    pub protocol: String,
    /// The local port inbound, the remote port outbound; needed with Tcp and Udp (a flow of
    /// those has one), ignored for the others.
    pub port: Option<u16>,
    /// The compute's address (default: the first address Azure gives a VM in the first
    /// `VirtualNetwork` prefix).
    pub local: Option<String>,
}

/// Allowed addresses of one prefix.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReachPrefix {
    /// The prefix.
    pub prefix: IpNet,
    /// Its address count, as a decimal string (IPv6 counts exceed 2^64).
    pub addresses: String,
}

/// A tag with allowed addresses.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReachTag {
    /// The tag.
    pub tag: String,
    /// `fully` or `partly`.
    pub coverage: &'static str,
}

/// What a local address reaches (outbound) or is reached from (inbound).
#[derive(Debug, Clone, Serialize)]
pub struct ReachReport {
    /// `Inbound` or `Outbound`.
    pub direction: String,
    /// The protocol.
    pub protocol: &'static str,
    /// The port.
    pub port: u16,
    /// The local address.
    pub local: IpAddr,
    /// Allowed addresses in all, as a decimal string.
    pub addresses: String,
    /// The allowed prefixes.
    pub prefixes: Vec<ReachPrefix>,
    /// Tags with allowed addresses.
    pub tags: Vec<ReachTag>,
    /// The snapshot.
    pub snapshot: SnapshotInfo,
    /// What reading the NSGs found (see [`nsg_warnings`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With a route table: the readings of `VirtualNetwork` that allow fewer addresses (the
    /// answer is the permissive reading, the risk).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<String>,
}

/// The remote addresses the scope lets reach the local address (or be reached by it).
pub fn reach(
    snap: &Snapshot,
    info: &SnapshotInfo,
    scope: &Scope,
    p: &ReachParams,
) -> Result<ReachReport> {
    if scope.route_table.is_some() {
        // The local address from the scope as given, not from a reading's wider tag.
        let p = &ReachParams {
            local: Some(local_of(scope, p.local.as_deref())?.to_string()),
            ..p.clone()
        };
        let mut all: Vec<(String, ReachReport)> = Vec::new();
        for (r, s) in scope.readings(snap) {
            all.push((
                r.map(|r| r.name()).unwrap_or_default(),
                reach(snap, info, &s, p)?,
            ));
        }
        let count = |x: &ReachReport| x.addresses.parse::<u128>().unwrap_or(0);
        let best = (0..all.len())
            .max_by_key(|&i| count(&all[i].1))
            .unwrap_or(0);
        let top = count(&all[best].1);
        let readings: Vec<String> = all
            .iter()
            .filter(|(_, x)| count(x) != top)
            .map(|(name, x)| format!("{} addresses under `{name}`", x.addresses))
            .collect();
        let mut report = all.swap_remove(best).1;
        report.readings = readings;
        return Ok(report);
    }
    let direction = Direction::parse(&p.direction).ok_or_else(|| {
        Error::field(
            "direction",
            format!("`{}`: inbound or outbound", text::quoted(&p.direction)),
        )
    })?;
    let protocol = Protocol::parse(&p.protocol)
        .filter(|x| *x != Protocol::Any)
        .ok_or_else(|| {
            Error::field(
                "protocol",
                format!("`{}`: Tcp, Udp, Icmp, Esp or Ah", text::quoted(&p.protocol)),
            )
        })?;
    let port = match (p.port, protocol.has_ports()) {
        (Some(n), true) => n,
        (None, true) => {
            return Err(Error::field(
                "port",
                format!(
                    "is needed with {}: the local port inbound, the remote port outbound",
                    protocol.name()
                ),
            ));
        }
        (_, false) => 0,
    };
    let r = scope.resolve(snap)?;
    let local = local_of(scope, p.local.as_deref())?;
    let reach = crate::nsg::reach::reach(
        snap,
        r.subnet.as_ref(),
        r.nic.as_ref(),
        direction,
        protocol,
        port,
        local,
    );
    let total: u128 = reach
        .prefixes
        .iter()
        .map(|x| x.1)
        .fold(0, u128::saturating_add);
    Ok(ReachReport {
        direction: direction.to_string(),
        protocol: protocol.name(),
        port,
        local,
        addresses: total.to_string(),
        prefixes: reach
            .prefixes
            .iter()
            .map(|&(prefix, n)| ReachPrefix {
                prefix,
                addresses: n.to_string(),
            })
            .collect(),
        tags: reach
            .tags
            .into_iter()
            .map(|(tag, coverage)| ReachTag { tag, coverage })
            .collect(),
        snapshot: info.clone(),
        warnings: scope.warnings(),
        readings: Vec::new(),
    })
}

/// The compute's address: `local` as given, else the first address Azure gives a VM in the
/// first `VirtualNetwork` prefix.
fn local_of(scope: &Scope, local: Option<&str>) -> Result<IpAddr> {
    Ok(match local.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => {
            text::address(t)
                .map_err(|e| {
                    Error::field("local", format!("`{}` is not an IP address: {e}", text::quoted(t)))
                })?
                .0
        }
        None => match scope.vnet.first() {
            Some(n) => crate::prefixset::first_usable(n).ok_or_else(|| {
                Error::field(
                    "local",
                    format!("is missing, and {n} (the first «vnet» prefix) has no address Azure gives a VM; give «local»"),
                )
            })?,
            None => {
                return Err(Error::field(
                    "local",
                    "is missing: give «local» IP or «vnet» PREFIX (the VirtualNetwork space)",
                ));
            }
        },
    })
}

/// A `require` request as typed.
#[derive(Debug, Clone, Default)]
pub struct RequireParams {
    /// The region of the profile's `<region>` tags.
    pub region: String,
    /// The requirement profile (`None`: the default one).
    pub profile: Option<String>,
    /// The compute's address (default: as for `reach`).
    pub local: Option<String>,
}

/// Whether the scope lets through every flow a profile requires.
#[derive(Debug, Clone, Serialize)]
pub struct RequireReport {
    /// The profile.
    pub profile: String,
    /// Where Microsoft states it.
    pub source: String,
    /// The region code.
    pub region: String,
    /// The local address.
    pub local: IpAddr,
    /// One verdict per requirement.
    pub requirements: Vec<crate::nsg::reach::Checked>,
    /// The snapshot.
    pub snapshot: SnapshotInfo,
    /// What the check assumed.
    #[serde(skip)]
    pub notes: Vec<String>,
    /// What reading the NSGs found (see [`nsg_warnings`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With a route table: requirements whose verdict depends on the reading of
    /// `VirtualNetwork` (each verdict is the worst over the readings: a false "met" is the
    /// risk).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<String>,
}

impl RequireReport {
    /// Whether a requirement is not fully met.
    pub fn failing(&self) -> bool {
        self.requirements
            .iter()
            .any(|c| c.verdict != crate::nsg::reach::Met::Met)
    }
}

/// Checks the scope against every flow of a requirement profile.
pub fn require(
    snap: &Snapshot,
    info: &SnapshotInfo,
    scope: &Scope,
    p: &RequireParams,
) -> Result<RequireReport> {
    let all = crate::nsg::reach::profiles();
    let profile = match p.profile.as_deref().map(str::trim) {
        Some(name) => all
            .iter()
            .find(|x| x.name.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                Error::field(
                    "profile",
                    format!(
                        "`{}` is unknown; known: {}",
                        text::quoted(name),
                        all.iter()
                            .map(|x| x.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
        None => all
            .iter()
            .find(|x| x.default)
            .cloned()
            .ok_or_else(|| Error::Usage("no default NSG profile".into()))?,
    };
    let region = snap.resolve_region(&p.region)?.to_string();
    let local = local_of(scope, p.local.as_deref())?;
    let mut requirements: Vec<crate::nsg::reach::Checked> = Vec::new();
    let mut notes = Vec::new();
    let mut readings: Vec<String> = Vec::new();
    for (reading, s) in scope.readings(snap) {
        let r = s.resolve(snap)?;
        let (rows, n) = crate::nsg::reach::require(
            snap,
            &profile,
            &region,
            r.subnet.as_ref(),
            r.nic.as_ref(),
            local,
        );
        if requirements.is_empty() {
            requirements = rows;
            notes = n;
            continue;
        }
        let rank = |m: &crate::nsg::reach::Met| match m {
            crate::nsg::reach::Met::Met => 0,
            crate::nsg::reach::Met::PartlyMet => 1,
            crate::nsg::reach::Met::NotMet => 2,
        };
        for (prev, row) in requirements.iter_mut().zip(rows) {
            if row.verdict != prev.verdict {
                let what = format!(
                    "{} {} {} {}: {:?} under `{}`",
                    row.requirement.direction,
                    row.requirement.protocol,
                    row.requirement.ports,
                    row.tag,
                    row.verdict,
                    reading.map(|r| r.name()).unwrap_or_default()
                );
                if !readings.contains(&what) {
                    readings.push(what);
                }
                if rank(&row.verdict) > rank(&prev.verdict) {
                    *prev = row;
                }
            }
        }
    }
    Ok(RequireReport {
        profile: profile.name,
        source: profile.source,
        region,
        local,
        requirements,
        snapshot: info.clone(),
        notes,
        warnings: scope.warnings(),
        readings,
    })
}

impl super::Row for crate::nsg::analyze::NsgFinding {
    const HEADERS: &'static [&'static str] = &[
        "CODE", "SEVERITY", "NSG", "RULE", "RELATED", "MESSAGE", "FIX",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.finding.code.to_string(),
            self.finding.severity.to_string(),
            self.nsg.clone(),
            self.rule.clone(),
            self.related.join(" "),
            self.finding.message.clone(),
            self.finding.fix.clone(),
        ]
    }
}

/// `nsg analyze`: the findings of each NSG (rules shadowed, redundant, overlapping, unknown
/// tags), with `levels` applied (`allow` drops a finding). The scope gives `VirtualNetwork`
/// and the ASGs; its NSGs are not used.
pub fn analyze(
    snap: &Snapshot,
    scope: &Scope,
    nsgs: &[Nsg],
    levels: &crate::findings::severity::Resolved,
) -> Vec<crate::nsg::analyze::NsgFinding> {
    let ctx = Context {
        snapshot: snap,
        vnet: scope.vnet.clone(),
        asgs: scope.asgs.clone(),
    };
    nsgs.iter()
        .flat_map(|n| crate::nsg::analyze::analyze(&ctx, n))
        .filter_map(|mut f| levels.adjust(&mut f.finding).then_some(f))
        .collect()
}
