//! `routes audit` (and the impact part of `diff --route-table`): a route table checked
//! against the routes the required tags need, with the plan that fixes it, as one request
//! for every front end.

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::findings::severity::Resolved;
use crate::prefixset::PrefixSet;
use crate::routes::NextHop;
use crate::routes::audit::{Audit, AuditOptions, RouteTable};
use crate::routes::deploy::{self, Header};
use crate::text::{self, HostBits};
use serde::Serialize;

/// An audit request as a front end receives it.
#[derive(Debug, Clone, Default)]
pub struct AuditParams {
    /// Regions (and their tags), as `udr` takes them.
    pub tags: super::udr::UdrParams,
    /// The VNet's address space, as prefixes.
    pub vnet: Vec<String>,
    /// Audit IPv6 too.
    pub ipv6: bool,
    /// A `0.0.0.0/0` advertised by BGP (`Some(None)`: declared as none).
    pub default_route: Option<Option<NextHop>>,
    /// Delete stale routes in the plan.
    pub prune: bool,
    /// The table's route limit.
    pub max_routes: usize,
}

/// The audit, its plan as an `az` script, and the notes of choosing the tags.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Findings, plan and counts.
    #[serde(flatten)]
    pub audit: Audit,
    /// Routes the plan creates or updates.
    pub ensure: Vec<super::udr::RouteRecord>,
    /// Routes the plan deletes, by name.
    pub delete: Vec<String>,
    /// Stale routes for review, by name.
    pub review: Vec<String>,
    /// The plan as a bash script of `az` commands.
    pub plan: String,
    /// The snapshot's cloud.
    pub cloud: String,
    /// The snapshot's changeNumber.
    pub change_number: u64,
    /// The snapshot.
    pub snapshot: SnapshotInfo,
    /// Notes of choosing the required tags and of the audit.
    #[serde(skip)]
    pub notes: Vec<String>,
    /// Whether every required address leaves through Internet (before severity settings,
    /// which may hide the findings that say otherwise).
    #[serde(skip)]
    pub all_via_internet: bool,
}

/// The VNet's address space of a request (`vnet`), host bits cleared.
pub fn vnet_prefixes(texts: &[String]) -> Result<Vec<ipnet::IpNet>> {
    texts
        .iter()
        .map(|t| {
            text::prefix(t, HostBits::Clear).map_err(|reason| {
                Error::field(
                    "vnet",
                    format!(": invalid prefix `{}`: {reason}", text::quoted(t)),
                )
            })
        })
        .collect()
}

/// Every address the tags of a request held in an earlier snapshot (`--previous`): routes to
/// Internet holding only such addresses are tagnet's, and stale when no required tag holds
/// them now.
pub fn previous_addresses(old: &Snapshot, tags: &[String], regions: &[String]) -> PrefixSet {
    let mut nets = Vec::new();
    for t in tags {
        for r in regions {
            if let Ok(ids) = old.resolve_tag(t, Some(r)) {
                nets.extend(ids.iter().flat_map(|&id| old.tag(id).prefixes()));
            }
        }
    }
    PrefixSet::from_prefixes(nets)
}

/// The request's regions split into those `snap` publishes (a request of its own) and those
/// only `old` does (retired, as `old`'s region codes).
fn split_retired(
    tags: &super::udr::UdrParams,
    snap: &Snapshot,
    old: &Snapshot,
) -> (super::udr::UdrParams, Vec<String>) {
    let mut live = tags.clone();
    live.regions.clear();
    let mut retired = Vec::new();
    for r in tags
        .regions
        .iter()
        .flat_map(|r| r.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        match (snap.resolve_region(r), old.resolve_region(r)) {
            (Err(_), Ok(code)) => retired.push(code.to_string()),
            _ => live.regions.push(r.to_string()),
        }
    }
    retired.sort();
    retired.dedup();
    (live, retired)
}

/// Audits a route table; `levels` sets the findings' severities (`allow` drops them).
pub fn audit(
    snap: &Snapshot,
    info: &SnapshotInfo,
    table: &RouteTable,
    p: &AuditParams,
    previous: Option<&Snapshot>,
    levels: &Resolved,
) -> Result<AuditReport> {
    if p.max_routes == 0 {
        return Err(Error::field(
            "max_routes",
            "must be at least 1 (Azure's limit is 400 routes per table)",
        ));
    }
    let mut early_notes = Vec::new();
    if let Some(old) = previous {
        if !old.cloud().eq_ignore_ascii_case(snap.cloud()) {
            return Err(Error::field(
                "previous",
                format!(
                    ": it is {} changeNumber {} and the audited snapshot is {}; give an earlier week of the same cloud",
                    old.cloud(),
                    old.change_number(),
                    snap.cloud()
                ),
            ));
        }
        if old.change_number() > snap.change_number() {
            early_notes.push(format!(
                "--previous (changeNumber {}) is newer than the audited snapshot ({}); were they swapped?",
                old.change_number(),
                snap.change_number()
            ));
        }
    }
    // A region --previous has and this snapshot retired (`uknorth`) stays a region of the
    // table: nothing of it is required now, and its routes are stale.
    let (live, retired) = match previous {
        Some(old) => split_retired(&p.tags, snap, old),
        None => (p.tags.clone(), Vec::new()),
    };
    let chosen = match previous {
        Some(old) if live.regions.is_empty() && !retired.is_empty() => {
            let mut c = p.tags.validate(old)?.request;
            c.regions.clear();
            c
        }
        _ => live.validate(snap).map_err(|e| match e {
            Error::UnknownRegion { name, suggestions } if previous.is_none() => Error::Usage(format!(
                "{}; if Microsoft retired it, «previous» (a snapshot of a week that still has it) cleans up its routes",
                Error::UnknownRegion { name, suggestions }
            )),
            other => other,
        })?.request,
    };
    let vnet = vnet_prefixes(&p.vnet)?;
    let mut all_tags = chosen.profile_tags.clone();
    all_tags.extend(chosen.named_tags.iter().cloned());
    let mut required = if chosen.regions.is_empty() {
        crate::routes::Required {
            ids: Vec::new(),
            notes: Vec::new(),
        }
    } else {
        crate::routes::required_tags(
            snap,
            &chosen.regions,
            &chosen.profile_tags,
            &chosen.named_tags,
        )?
    };
    if let Some(old) = previous {
        for r in &retired {
            required.notes.push(format!(
                "region `{r}` is in --previous ({} changeNumber {}) but not in this snapshot ({} changeNumber {}): it was retired, so none of its addresses is required and its routes are stale",
                old.cloud(),
                old.change_number(),
                snap.cloud(),
                snap.change_number()
            ));
        }
    }
    let mut then_regions = chosen.regions.clone();
    then_regions.extend(retired.iter().cloned());
    let previous = previous.map(|old| previous_addresses(old, &all_tags, &then_regions));
    let related = crate::routes::audit::related(snap, &required.ids);
    let opts = AuditOptions {
        vnet,
        ipv6: p.ipv6,
        default_route: p.default_route.flatten(),
        default_route_declared: p.default_route.is_some(),
        related: Some(&related),
        previous: previous.as_ref(),
        prune: p.prune,
        max_routes: p.max_routes,
        accept_over_broad: levels.allows(crate::findings::Code::OverBroadRoute.name()),
    };
    let mut audit = crate::routes::audit::audit(snap, table, &required.ids, &opts)?;
    let all_via_internet = !audit.findings.iter().any(|f| {
        matches!(
            f.finding.code,
            "missing-route" | "shadowed-route" | "ipv6-not-audited"
        )
    });
    audit.findings.retain_mut(|f| levels.adjust(&mut f.finding));
    let mut notes = early_notes;
    notes.extend(required.notes);
    notes.extend(audit.notes.iter().cloned());
    Ok(AuditReport {
        ensure: audit
            .ensure
            .iter()
            .map(super::udr::RouteRecord::of)
            .collect(),
        delete: audit.delete.iter().map(|d| d.name.clone()).collect(),
        review: audit.review.iter().map(|d| d.name.clone()).collect(),
        plan: plan_script(snap, &audit),
        cloud: snap.cloud().to_string(),
        change_number: snap.change_number(),
        snapshot: info.clone(),
        notes,
        all_via_internet,
        audit,
    })
}

/// The plan as a bash script of `az` commands.
pub fn plan_script(snap: &Snapshot, report: &Audit) -> String {
    deploy::az_plan(
        &report.ensure,
        &report.delete,
        &report.review,
        &Header {
            lines: vec![
                format!(
                    "Plan from `tagnet routes audit` for {}, on {} service tags changeNumber {}.",
                    report.required_tags.join(", "),
                    snap.cloud(),
                    snap.change_number()
                ),
                format!(
                    "{} route(s) to create or update, {} to delete, {} for review; the table holds {} routes, {} after (limit {}).",
                    report.ensure.len(),
                    report.delete.len(),
                    report.review.len(),
                    report.routes_now,
                    report.routes_after,
                    report.max_routes
                ),
            ],
        },
        report.max_routes,
    )
}

/// The `0.0.0.0/0` a gateway advertises (or a whole table holds): `VirtualAppliance:IP`,
/// `VirtualNetworkGateway`, or `none` (`Ok((None, _))`); with warnings on an appliance
/// address that deploys but looks wrong.
pub fn default_route(t: &str) -> Result<(Option<NextHop>, Vec<String>)> {
    let text = t.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok((None, Vec::new()));
    }
    let (kind, ip) = match text.split_once(':') {
        Some((k, ip)) if !k.contains('.') && !ip.is_empty() => (k, Some(ip)),
        _ => (text, None),
    };
    let hint = "give VirtualAppliance:10.0.100.4 (the firewall's private IP), VirtualNetworkGateway, or none";
    let hop = match NextHop::parse(kind, ip) {
        Ok(h) => h,
        Err(_) if ip.is_none() && kind.to_ascii_lowercase().contains("appliance") => {
            return Err(Error::field(
                "default_route",
                format!(
                    "`{}` needs the appliance's IP after a colon: VirtualAppliance:10.0.100.4",
                    text::quoted(text)
                ),
            ));
        }
        Err(e) => {
            return Err(Error::field(
                "default_route",
                format!(": invalid `{}`: {e}\n  hint: {hint}", text::quoted(text)),
            ));
        }
    };
    let mut warnings = Vec::new();
    if let NextHop::VirtualAppliance(ip) = hop {
        if ip.is_ipv6() {
            return Err(Error::field(
                "default_route",
                format!(
                    "`{}`: the 0.0.0.0/0 route is IPv4, so its appliance needs an IPv4 address",
                    text::quoted(text)
                ),
            ));
        }
        if !super::udr::is_private(ip) {
            warnings.push(format!(
                "the default route's appliance {ip} is a public address; an appliance's next hop is normally its private IP in the VNet"
            ));
        }
    }
    match hop {
        NextHop::VirtualAppliance(_) | NextHop::VirtualNetworkGateway => Ok((Some(hop), warnings)),
        other => Err(Error::field(
            "default_route",
            format!(
                "{} would not tunnel anything; give VirtualAppliance:IP, VirtualNetworkGateway, or none for a table without a 0.0.0.0/0 route",
                other.kind()
            ),
        )),
    }
}
