//! `flows verify`: logged flows re-evaluated with the NSG engine. Each drift is a finding of
//! its own code (`flow-verdict-drift`, `flow-rule-drift`, `flow-required-denied`) whose
//! severity the configuration sets; error-severity drifts fail the command.
//!
//! A [`Verifier`] is built once from the request and turns each record into rows; the CLI
//! streams them as blobs are read, the server and Python collect them with [`verify()`].

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::findings::Severity;
use crate::findings::severity::Resolved;
use crate::flowlog::read::{Record, Stats};
use crate::flowlog::verify::{self, Drift, Required};
use crate::flowlog::{Tuple, protocol_name, rfc3339};
use crate::nsg::compile::CompiledNsg;
use crate::nsg::model::Direction;
use serde::Serialize;
use std::borrow::Cow;
use std::net::IpAddr;

/// What to verify beside the NSG scope.
#[derive(Debug, Clone, Default)]
pub struct VerifyParams {
    /// A requirement profile (`nsg require --profile`): denied flows it requires are drifts.
    pub profile: Option<String>,
    /// The region the profile's regional tags are read in (needed with a profile).
    pub region: Option<String>,
    /// Every verified tuple is a row, not only drifts.
    pub all: bool,
    /// Unreadable tuples are reported and the rest verified; without it they refuse the run.
    pub skip_bad: bool,
}

/// One row: a drift, or with `all` a verified tuple without one (`drift` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftRow<'a> {
    /// The drift's code; empty for a tuple without drift.
    pub drift: &'static str,
    /// The drift's severity after the configuration (absent without a drift).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The tuple's time, RFC 3339.
    pub time: String,
    /// Inbound or Outbound.
    pub direction: Direction,
    /// `Tcp`, `Udp`, …, or the IANA number.
    pub protocol: Cow<'static, str>,
    /// The local address.
    pub local_ip: IpAddr,
    /// The local port.
    pub local_port: u16,
    /// The remote address.
    pub remote_ip: IpAddr,
    /// The remote port.
    pub remote_port: u16,
    /// The logged decision.
    pub logged_access: crate::nsg::model::Access,
    /// The logged rule (`UserRule_…`, `DefaultRule_…`; empty when the log names none).
    pub logged_rule: Cow<'a, str>,
    /// tagnet's decision.
    pub access: crate::nsg::model::Access,
    /// tagnet's rule (`NSG securityRules/NAME`).
    pub rule: Cow<'a, str>,
    /// The blob.
    pub file: Cow<'a, str>,
    /// The record's position in the blob (0-based).
    pub record: usize,
    /// The requirement a denied flow falls under (`flow-required-denied`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
}

impl DriftRow<'_> {
    /// The row with what it borrows from its record copied (to outlive the record).
    pub fn into_owned(self) -> DriftRow<'static> {
        DriftRow {
            logged_rule: Cow::Owned(self.logged_rule.into_owned()),
            rule: Cow::Owned(self.rule.into_owned()),
            file: Cow::Owned(self.file.into_owned()),
            ..self
        }
    }

    /// The CSV headings (the JSON keys).
    pub const CSV: &'static str = "drift,time,direction,protocol,local_ip,local_port,remote_ip,remote_port,logged_access,logged_rule,access,rule,file,record,requirement,severity";
}

/// What was read and found, for the summary line and the exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Records read.
    pub records: usize,
    /// Tuples read.
    pub tuples: usize,
    /// Tuples (or files) that could not be read.
    pub unreadable: usize,
    /// Tuples of protocols NSG rules do not name, not verified.
    pub not_verified: usize,
    /// `flow-verdict-drift` rows.
    pub verdict_drifts: usize,
    /// `flow-rule-drift` rows.
    pub rule_drifts: usize,
    /// `flow-required-denied` rows.
    pub required_denied: usize,
    /// `flow-encryption-drop` rows (dropped by VNet encryption, not compared with an NSG).
    pub encryption_drops: usize,
    /// Drifts of error severity (they fail the command).
    pub errors: usize,
    /// Drifts of warning severity.
    pub warnings: usize,
    /// Tuples logged by an NSG that is not in the scope (an NSG flow log's `resourceId`, a VNet
    /// flow log's `aclID` that names neither NSG given): not judged.
    pub unmatched: usize,
    /// Tuples with implausible times (seconds written for milliseconds, or the reverse).
    pub odd_times: usize,
    /// Records of a log version tagnet does not know.
    pub unknown_versions: usize,
    /// The NSGs (`resourceId` or `aclID`) of those tuples, sorted (at most 20).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched_nsgs: Vec<String>,
}

impl Tally {
    /// Adds what reading found.
    pub fn read(&mut self, s: &Stats) {
        self.records += s.records;
        self.tuples += s.tuples;
        self.unreadable += s.bad;
        self.odd_times += s.odd_times;
        self.unknown_versions += s.unknown_versions;
    }

    /// Adds another tally's counts.
    pub fn add(&mut self, o: &Tally) {
        self.records += o.records;
        self.tuples += o.tuples;
        self.unreadable += o.unreadable;
        self.odd_times += o.odd_times;
        self.unknown_versions += o.unknown_versions;
        self.not_verified += o.not_verified;
        self.verdict_drifts += o.verdict_drifts;
        self.rule_drifts += o.rule_drifts;
        self.required_denied += o.required_denied;
        self.encryption_drops += o.encryption_drops;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.unmatched += o.unmatched;
        for k in &o.unmatched_nsgs {
            self.note_unmatched(k);
        }
    }

    /// Records an NSG key that matched no NSG of the scope.
    fn note_unmatched(&mut self, key: &str) {
        if let Err(i) = self
            .unmatched_nsgs
            .binary_search_by(|k| k.as_str().cmp(key))
            && self.unmatched_nsgs.len() < 20
        {
            self.unmatched_nsgs.insert(i, key.to_string());
        }
    }

    /// Whether an error-severity drift was found (the command fails).
    pub fn failing(&self) -> bool {
        self.errors > 0 || self.nothing_judged()
    }

    /// Whether every tuple read was logged by NSGs not given: nothing was judged, which is
    /// never a pass.
    pub fn nothing_judged(&self) -> bool {
        self.tuples > 0 && self.unmatched == self.tuples
    }
}

/// The request, resolved once: compiled NSGs, the profile's requirements, the levels.
pub struct Verifier {
    subnet: Option<CompiledNsg>,
    nic: Option<CompiledNsg>,
    /// With a route table: the NSGs under the other readings of `VirtualNetwork`; a logged
    /// decision that one of them explains is not drift.
    alternates: Vec<(Option<CompiledNsg>, Option<CompiledNsg>)>,
    /// The NSGs as given (for their id and `resourceGuid`): which one a record was logged by.
    subnet_nsg: Option<crate::nsg::model::Nsg>,
    nic_nsg: Option<crate::nsg::model::Nsg>,
    reqs: Vec<Required>,
    /// Each drift's severity after the levels (`None`: allowed, not reported).
    levels: [Option<Severity>; 4],
    all: bool,
    skip_bad: bool,
}

impl Verifier {
    /// Resolves the scope and the profile; the field's error when one is wrong.
    pub fn new(
        snap: &Snapshot,
        scope: &super::nsg::Scope,
        params: &VerifyParams,
        levels: Resolved,
    ) -> Result<Verifier> {
        let reqs = match (&params.profile, &params.region) {
            (Some(p), Some(r)) => {
                let all = crate::nsg::reach::profiles();
                let prof = all
                    .iter()
                    .find(|x| x.name.eq_ignore_ascii_case(p))
                    .ok_or_else(|| {
                        Error::field(
                            "profile",
                            format!(
                                "`{}` is not an NSG profile; known: {}",
                                crate::text::quoted(p),
                                all.iter()
                                    .map(|x| x.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                verify::requirements(snap, prof, r)?
            }
            (Some(_), None) => {
                return Err(Error::field(
                    "profile",
                    "needs «region»: the profile's regional tags are read there",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::field(
                    "region",
                    "is the region of «profile»'s tags: give a profile with it",
                ));
            }
            (None, None) => Vec::new(),
        };
        let mut readings = scope.readings(snap).into_iter();
        let (_, first) = readings.next().expect("one reading at least");
        let r = first.resolve(snap)?;
        let mut alternates = Vec::new();
        for (_, s) in readings {
            let x = s.resolve(snap)?;
            alternates.push((
                x.subnet.as_ref().map(crate::nsg::compile),
                x.nic.as_ref().map(crate::nsg::compile),
            ));
        }
        let ident = |n: &Option<crate::nsg::model::Nsg>| {
            n.as_ref().map(|n| crate::nsg::model::Nsg {
                name: n.name.clone(),
                id: n.id.clone(),
                resource_guid: n.resource_guid.clone(),
                ..Default::default()
            })
        };
        Ok(Verifier {
            subnet: r.subnet.as_ref().map(crate::nsg::compile),
            nic: r.nic.as_ref().map(crate::nsg::compile),
            alternates,
            subnet_nsg: ident(&scope.nsg),
            nic_nsg: ident(&scope.nic_nsg),
            reqs,
            levels: [
                Drift::Verdict,
                Drift::Rule,
                Drift::RequiredDenied,
                Drift::EncryptionDrop,
            ]
            .map(|d| levels.severity_of(d.code())),
            all: params.all,
            skip_bad: params.skip_bad,
        })
    }

    /// Which NSG of the scope logged a record with this `resourceId` or `aclID`: the one it
    /// names; the other when it names one not that; both (their combined verdict) when
    /// nothing tells them apart; none when it names neither.
    fn judge(&self, key: &str) -> Judge {
        let named = |n: &Option<crate::nsg::model::Nsg>| n.as_ref().map(|n| n.is_named_by(key));
        match (named(&self.subnet_nsg), named(&self.nic_nsg)) {
            (Some(Some(true)), _) => Judge::Subnet,
            (_, Some(Some(true))) => Judge::Nic,
            // Every NSG given says it is not this one.
            (Some(Some(false)), None | Some(Some(false))) | (None, Some(Some(false))) => {
                Judge::Unmatched
            }
            // One says no; the other cannot tell: the other.
            (Some(Some(false)), Some(None)) => Judge::Nic,
            (Some(None), Some(Some(false))) => Judge::Subnet,
            _ => Judge::Both,
        }
    }

    /// The rows of one record (drifts, or every verified tuple with `all`), counted in `tally`.
    pub fn record<'r>(
        &self,
        rec: &'r Record,
        origin: &'r str,
        tally: &mut Tally,
    ) -> Vec<DriftRow<'r>> {
        let mut out = Vec::new();
        for t in &rec.tuples {
            let g = &rec.groups[t.group as usize];
            // Azure logs each NSG's own decision: an NSG flow log per NSG (`resourceId`), a
            // VNet flow log per `aclID` (the NSG's `resourceGuid`).
            let key = if rec.kind == Some(crate::flowlog::Kind::Vnet) {
                g.acl.as_str()
            } else {
                rec.resource.as_str()
            };
            let (subnet, nic) = match self.judge(key) {
                Judge::Both => (self.subnet.as_ref(), self.nic.as_ref()),
                Judge::Subnet => (self.subnet.as_ref(), None),
                Judge::Nic => (None, self.nic.as_ref()),
                Judge::Unmatched => {
                    tally.unmatched += 1;
                    tally.note_unmatched(key);
                    continue;
                }
            };
            let Some(mut v) = verify::verdict(subnet, nic, t) else {
                tally.not_verified += 1;
                continue;
            };
            let mut drifts = verify::drifts(t, g, &v, &self.reqs);
            // Another reading of `VirtualNetwork` that explains the logged decision wins.
            if !drifts.is_empty() {
                let (has_s, has_n) = (subnet.is_some(), nic.is_some());
                for (s, n) in &self.alternates {
                    let (s, n) = (s.as_ref().filter(|_| has_s), n.as_ref().filter(|_| has_n));
                    if let Some(va) = verify::verdict(s, n, t) {
                        let da = verify::drifts(t, g, &va, &self.reqs);
                        if da.len() < drifts.len() {
                            v = va;
                            drifts = da;
                        }
                    }
                }
            }
            let mut found = Vec::new();
            for d in drifts {
                // `allow`ed codes are not reported (tagnet.toml, --allow).
                if let Some(s) = self.levels[d as usize] {
                    found.push((d, s));
                }
            }
            if found.is_empty() && self.all {
                out.push(row(t, g, v, origin, rec.index, None, None));
                continue;
            }
            let mut v = Some(v);
            let n = found.len();
            for (k, (d, severity)) in found.into_iter().enumerate() {
                match d {
                    Drift::Verdict => tally.verdict_drifts += 1,
                    Drift::Rule => tally.rule_drifts += 1,
                    Drift::RequiredDenied => tally.required_denied += 1,
                    Drift::EncryptionDrop => tally.encryption_drops += 1,
                }
                match severity {
                    Severity::Error => tally.errors += 1,
                    Severity::Warning => tally.warnings += 1,
                    Severity::Info => {}
                }
                let req = (d == Drift::RequiredDenied)
                    .then(|| verify::required(&self.reqs, t))
                    .flatten();
                // The verdict moves into the last row (most tuples drift once).
                let verdict = if k + 1 == n {
                    v.take().expect("taken once, by the last row")
                } else {
                    v.clone().expect("kept until the last row")
                };
                out.push(row(
                    t,
                    g,
                    verdict,
                    origin,
                    rec.index,
                    Some((d, severity)),
                    req,
                ));
            }
        }
        out
    }
}

/// The NSG a tuple is judged against.
enum Judge {
    Both,
    Subnet,
    Nic,
    Unmatched,
}

fn row<'r>(
    t: &Tuple,
    g: &'r crate::flowlog::read::Group,
    v: verify::Verdict,
    origin: &'r str,
    record: usize,
    drift: Option<(Drift, Severity)>,
    req: Option<&Required>,
) -> DriftRow<'r> {
    let (lip, lport) = t.local();
    let (rip, rport) = t.remote();
    DriftRow {
        drift: drift.map_or("", |(d, _)| d.code().name()),
        severity: drift.map(|(_, s)| s),
        time: rfc3339(t.time_ms),
        direction: t.direction,
        protocol: protocol_name(t.protocol),
        local_ip: lip,
        local_port: lport,
        remote_ip: rip,
        remote_port: rport,
        logged_access: t.access,
        logged_rule: Cow::Borrowed(&g.rule),
        access: v.access,
        rule: Cow::Owned(v.rule),
        file: Cow::Borrowed(origin),
        record,
        requirement: req.map(requirement_text),
    }
}

/// A requirement as one line: `Inbound Tcp 29876-29877 from BatchNodeManagement.eastus2: why`.
pub fn requirement_text(r: &Required) -> String {
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
        if r.direction == Direction::Inbound {
            "from"
        } else {
            "to"
        },
        r.tag,
        r.why
    )
}

/// Refuses a read with unreadable tuples or records unless they are accepted (`skip_bad`):
/// a blob of garbage is never a pass. `first` is the first one, named in the message.
pub fn unreadable(
    tally: &Tally,
    skip_bad: bool,
    first: Option<&crate::flowlog::read::Bad>,
) -> Result<()> {
    if tally.unreadable == 0 || skip_bad {
        return Ok(());
    }
    Err(Error::field(
        "flow_logs",
        format!(
            "hold {} unreadable tuple(s) or record(s){} among {} read; fix the input, or give «skip_bad» to go on with the rest",
            tally.unreadable,
            first.map_or(String::new(), |b| format!(" (the first: {b})")),
            tally.tuples
        ),
    ))
}

/// Refuses a read that found not one tuple and could not read something (a wrong file is not
/// a clean pass); blobs that are empty (`{"records": []}`, an hour without traffic) are empty.
pub fn nothing_read(tally: &Tally, origins: &[String]) -> Result<()> {
    if tally.tuples == 0 && tally.unreadable > 0 {
        return Err(Error::field(
            "flow_logs",
            format!(
                "hold no readable flow tuple ({}); give VNet or NSG flow-log blobs (`{{\"records\": [...]}}`)",
                origins.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `flows verify` of blobs held in memory, as the command writes it with `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The snapshot the tags were resolved in.
    pub snapshot: SnapshotInfo,
    /// The rows, in blob and record order.
    pub records: Vec<DriftRow<'static>>,
    /// The counts.
    pub summary: Tally,
}

/// Verifies blobs in order ([`sources_of_paths`], [`sources_of_blobs`]).
pub fn verify(
    info: &SnapshotInfo,
    verifier: &Verifier,
    sources: Vec<Source<'_>>,
) -> Result<VerifyReport> {
    verify_readers(
        info,
        verifier,
        sources
            .into_iter()
            .map(|(origin, open)| Ok((origin, open()?))),
    )
}

fn verify_readers<'a>(
    info: &SnapshotInfo,
    verifier: &Verifier,
    readers: impl Iterator<Item = Result<(String, Box<dyn std::io::Read + Send + 'a>)>>,
) -> Result<VerifyReport> {
    let mut records = Vec::new();
    let mut tally = Tally::default();
    let mut origins = Vec::new();
    let mut first_bad = None;
    for r in readers {
        let (origin, reader) = r?;
        let stats = crate::flowlog::read::read(
            reader,
            &origin,
            &mut |rec| {
                records.extend(
                    verifier
                        .record(&rec, &origin, &mut tally)
                        .into_iter()
                        .map(DriftRow::into_owned),
                )
            },
            &mut |b| {
                first_bad.get_or_insert(b);
            },
        );
        tally.read(&stats);
        origins.push(origin);
    }
    nothing_read(&tally, &origins)?;
    unreadable(&tally, verifier.skip_bad, first_bad.as_ref())?;
    Ok(VerifyReport {
        snapshot: info.clone(),
        records,
        summary: tally,
    })
}

/// Blobs given as JSON: one blob (`{"records": [...]}`), a list of them (named
/// `flow_logs[0]`, …), or `{"name": blob}` (named by their keys, as the CLI names files).
pub fn blobs_of(v: &serde_json::Value) -> Result<Vec<(String, Vec<u8>)>> {
    use serde_json::Value;
    let bytes = |d: &Value| serde_json::to_vec(d).expect("a JSON value serializes");
    match v {
        Value::Object(o) if o.contains_key("records") => Ok(vec![("flow_logs".into(), bytes(v))]),
        Value::Object(o) if !o.is_empty() => {
            Ok(o.iter().map(|(k, d)| (k.clone(), bytes(d))).collect())
        }
        Value::Array(a) if !a.is_empty() => Ok(a
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("flow_logs[{i}]"), bytes(d)))
            .collect()),
        _ => Err(Error::field(
            "flow_logs",
            "is a flow-log blob ({\"records\": [...]}), a list of them or {\"name\": blob}",
        )),
    }
}

/// `flows attribute --summary`: what a set of flow logs talked to, by class, service, region
/// and decision, with the top talkers.
#[derive(Debug, Clone, Default)]
pub struct SummaryParams {
    /// With `profile`: whether each group's traffic is carried by the profile's `udr` routes
    /// in this region.
    pub region: Option<String>,
    /// A `udr` profile (needs `region`).
    pub profile: Option<String>,
    /// How many top talkers.
    pub top: usize,
    /// Unreadable tuples are reported and the rest summed; without it they refuse the run.
    pub skip_bad: bool,
}

/// One group of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    /// Its key (direction, class, service, region, access).
    #[serde(flatten)]
    pub key: GroupKeyRow,
    /// Carried by the profile's routes (only with a profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried: Option<bool>,
    /// Its traffic.
    #[serde(flatten)]
    pub totals: crate::flowlog::attribute::Totals,
}

/// A group's key as written.
#[derive(Debug, Clone, Serialize)]
pub struct GroupKeyRow {
    /// Direction.
    pub direction: Direction,
    /// Azure, private or Internet.
    pub class: crate::flowlog::attribute::Class,
    /// Service (empty outside Azure).
    pub service: String,
    /// Region code (empty when global).
    pub region: String,
    /// The logged decision.
    pub access: crate::nsg::model::Access,
}

/// One class of the summary, with its share of all bytes.
#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    /// Azure, private or Internet.
    pub class: crate::flowlog::attribute::Class,
    /// Its traffic.
    #[serde(flatten)]
    pub totals: crate::flowlog::attribute::Totals,
    /// Its bytes over all bytes (0 when none were logged).
    pub share_of_bytes: f64,
}

/// The summary of a set of flow logs.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryReport {
    /// Blobs read.
    pub files: usize,
    /// Records read.
    pub records: usize,
    /// Tuples read.
    pub tuples: usize,
    /// Tuples (or files) that could not be read.
    pub unreadable: usize,
    /// Groups, by bytes (descending), then key.
    pub groups: Vec<GroupRow>,
    /// The remote addresses with the most bytes.
    pub top_talkers: Vec<crate::flowlog::attribute::Talker>,
    /// Azure services, private space and the rest of the Internet.
    pub classes: Vec<ClassRow>,
    /// The snapshot the addresses were attributed with.
    pub snapshot: SnapshotInfo,
    /// The first unreadable tuples of each blob (the command prints them; the count is
    /// `unreadable`).
    #[serde(skip)]
    pub bad: Vec<crate::flowlog::read::Bad>,
}

/// Unreadable tuples kept per blob for the report; the rest are counted.
pub const BAD_KEPT: usize = 10;

/// The addresses a `udr` profile's routes carry in a region (IPv4 and IPv6).
pub fn carried(
    snap: &Snapshot,
    region: &str,
    profile: &str,
) -> Result<crate::prefixset::PrefixSet> {
    let p = crate::routes::profile(profile).map_err(|e| Error::field("profile", e.to_string()))?;
    let req = crate::routes::UdrRequest {
        regions: vec![region.to_string()],
        profile_tags: p.tags.clone(),
        named_tags: Vec::new(),
        ipv6: true,
        next_hop: crate::routes::NextHop::Internet,
        max_routes: crate::routes::DEFAULT_MAX_ROUTES,
        reserve: 1,
        exact: false,
        use_service_tags: false,
        never_cover: Vec::new(),
        max_extra: None,
        ipv6_shares_budget: true,
    };
    let plan = match crate::routes::plan(snap, &req)? {
        Ok(p) => p,
        Err(over) => return Err(Error::field("profile", over.message)),
    };
    Ok(crate::prefixset::PrefixSet::from_prefixes(
        plan.routes
            .iter()
            .filter_map(|r| r.address_prefix.parse::<ipnet::IpNet>().ok()),
    ))
}

/// What streams a blob's bytes.
pub type Reader<'a> = Box<dyn std::io::Read + Send + 'a>;

/// A blob to read: its name, and how to open it (opened when read, so a folder of thousands
/// of blobs does not hold thousands of files open).
pub type Source<'a> = (String, Box<dyn FnOnce() -> Result<Reader<'a>> + Send + 'a>);

/// Summarizes blobs, each read on the pool (a folder holds many hour-sized blobs) and its
/// records summed there into partial sums.
pub fn summarize(
    snap: &Snapshot,
    index: &crate::TagIndex,
    info: &SnapshotInfo,
    sources: Vec<Source<'_>>,
    params: &SummaryParams,
) -> Result<SummaryReport> {
    use crate::flowlog::attribute::{Attributor, Summary};
    use rayon::prelude::*;
    let carried = match (&params.region, &params.profile) {
        (Some(r), Some(p)) => Some(self::carried(snap, r, p)?),
        (None, Some(_)) => {
            return Err(Error::field(
                "profile",
                "needs «region»: a profile's routes are regional",
            ));
        }
        (Some(_), None) => {
            return Err(Error::field(
                "region",
                "is the region of «profile»'s routes: give a profile with it",
            ));
        }
        (None, None) => None,
    };
    let with_carried = carried.is_some();
    let at = Attributor::new(snap, index, carried);
    let files = sources.len();
    let origins: Vec<String> = sources.iter().map(|s| s.0.clone()).collect();
    let shelf: std::sync::Mutex<Vec<Summary>> = std::sync::Mutex::new(Vec::new());
    let per_file: Vec<(Stats, Vec<crate::flowlog::read::Bad>)> = sources
        .into_par_iter()
        .map(|(origin, open)| -> Result<_> {
            let reader = open()?;
            let mut bad = Vec::new();
            let st =
                crate::flowlog::attribute::summarize_into(reader, &origin, &at, &shelf, &mut |b| {
                    if bad.len() < BAD_KEPT {
                        bad.push(b);
                    }
                });
            Ok((st, bad))
        })
        .collect::<Result<_>>()?;
    let mut tally = Tally::default();
    let mut bad = Vec::new();
    for (st, b) in per_file {
        tally.read(&st);
        bad.extend(b);
    }
    nothing_read(&tally, &origins)?;
    unreadable(&tally, params.skip_bad, bad.first())?;
    let mut sum = Summary::default();
    for part in shelf.into_inner().expect("no panic holds the shelf") {
        sum.merge(part);
    }
    let r = sum.report(&at, params.top);
    let all_bytes: u64 = r.classes.iter().map(|c| c.1.bytes).sum();
    Ok(SummaryReport {
        files,
        records: tally.records,
        tuples: tally.tuples,
        unreadable: tally.unreadable,
        groups: r
            .groups
            .into_iter()
            .map(|(k, totals)| GroupRow {
                key: GroupKeyRow {
                    direction: k.direction,
                    class: k.class,
                    service: k.service,
                    region: k.region,
                    access: k.access,
                },
                carried: with_carried.then_some(k.carried == Some(true)),
                totals,
            })
            .collect(),
        top_talkers: r.top_talkers,
        classes: r
            .classes
            .into_iter()
            .map(|(class, totals)| ClassRow {
                class,
                totals,
                share_of_bytes: if all_bytes == 0 {
                    0.0
                } else {
                    totals.bytes as f64 / all_bytes as f64
                },
            })
            .collect(),
        snapshot: info.clone(),
        bad,
    })
}

/// The sources of paths as the command reads them (folders walked, gzip read).
pub fn sources_of_paths<'a>(paths: &[std::path::PathBuf]) -> Result<Vec<Source<'a>>> {
    Ok(crate::flowlog::read::inputs(paths)?
        .into_iter()
        .map(|i| {
            let origin = i.origin();
            let open: Box<dyn FnOnce() -> Result<Reader<'a>> + Send + 'a> =
                Box::new(move || Ok(crate::flowlog::read::open(&i)? as Reader<'a>));
            (origin, open)
        })
        .collect())
}

/// The sources of blobs held in memory.
pub fn sources_of_blobs<'a>(blobs: &'a [(String, Vec<u8>)]) -> Vec<Source<'a>> {
    blobs
        .iter()
        .map(|(o, b)| {
            let open: Box<dyn FnOnce() -> Result<Reader<'a>> + Send + 'a> =
                Box::new(move || Ok(Box::new(b.as_slice()) as Reader<'a>));
            (o.clone(), open)
        })
        .collect()
}
