//! `diff`: what changed between two snapshots ([`changes`]), and with `--route-table` what a
//! week's change of service tags means for a route table ([`impact`]) — the table audited
//! against the new snapshot (the old one's addresses tying its stale routes) and the `udr`
//! routes the new snapshot adds and drops.

use crate::Snapshot;
use crate::error::{Error, Result};
use crate::findings::Severity;
use crate::findings::severity::Resolved;
use crate::routes::NextHop;
use crate::routes::audit::{AuditFinding, AuditOptions, RouteTable};
use serde::Serialize;

/// Which tags to compare.
#[derive(Debug, Clone, Default)]
pub struct DiffParams {
    /// Tag names or globs; a cloud-wide name also selects its regional variants.
    pub tags: Vec<String>,
    /// Regions, as names or codes either snapshot knows.
    pub regions: Vec<String>,
    /// systemService values.
    pub services: Vec<String>,
}

/// What changed between two snapshots, with what it means for a route table when one is given.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The tag changes.
    #[serde(flatten)]
    pub diff: crate::diff::Diff,
    /// The route table's impact (`--route-table`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// What the change does to the flows an NSG must let through (`--nsg`, [`nsg_impact`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsg: Option<NsgImpact>,
    /// Warnings about the pair (different clouds, the older one given as new).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The snapshot the report is about (the new one), as every report names it.
    pub snapshot: super::SnapshotInfo,
}

impl DiffReport {
    /// Whether something is to be done (the command's exit 1): the table needs a change.
    pub fn action_needed(&self) -> bool {
        self.impact.as_ref().is_some_and(Impact::action_needed)
            || self.nsg.as_ref().is_some_and(NsgImpact::breaks)
    }
}

/// A required flow whose standing an NSG's scope changed between two snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementChange {
    /// `breaks` (more of the tag's addresses blocked than before), `fixes` (fewer), or
    /// `changed` (as many blocked, the tag changed).
    pub change: &'static str,
    /// The region code.
    pub region: String,
    /// The requirement.
    pub requirement: crate::nsg::reach::Requirement,
    /// The regional tag, as the new snapshot names it.
    pub tag: String,
    /// The verdict with the old snapshot.
    pub before: crate::nsg::reach::Met,
    /// The verdict with the new one.
    pub after: crate::nsg::reach::Met,
    /// The tag's addresses the scope blocked with the old snapshot (a decimal string).
    pub blocked_before: String,
    /// … and with the new one.
    pub blocked_after: String,
    /// A blocked flow with the new snapshot (remote address and port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<String>,
    /// The rule that blocks it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
}

/// What a snapshot change does to the flows a requirement profile needs through an NSG scope.
#[derive(Debug, Clone, Serialize)]
pub struct NsgImpact {
    /// The requirement profile.
    pub profile: String,
    /// The compute's address.
    pub local: std::net::IpAddr,
    /// Requirements whose standing changed, by region then requirement order.
    pub changes: Vec<RequirementChange>,
    /// Requirements checked in all (per region).
    pub checked: usize,
    /// Requirements not met with the new snapshot, changed or not.
    pub not_met_now: usize,
}

impl NsgImpact {
    /// Whether the new week blocks required addresses the old one let through.
    pub fn breaks(&self) -> bool {
        self.changes.iter().any(|c| c.change == "breaks")
    }
}

/// Checks the scope against the profile's required flows in each region with both snapshots
/// and reports the requirements whose standing changed. A region one snapshot lacks is
/// checked with the other only (as met by nothing in the one that lacks it).
pub fn nsg_impact(
    old: (&Snapshot, &super::SnapshotInfo),
    new: (&Snapshot, &super::SnapshotInfo),
    scope: &super::nsg::Scope,
    regions: &[String],
    profile: Option<&str>,
    local: Option<&str>,
) -> Result<NsgImpact> {
    use crate::nsg::reach::Met;
    if regions.is_empty() {
        return Err(Error::field(
            "nsg",
            "needs «regions»: the required flows name regional tags",
        ));
    }
    same_cloud(old.0, new.0, "nsg")?;
    let blocked = |c: &crate::nsg::reach::Checked| c.addresses - c.addresses_allowed;
    let mut changes = Vec::new();
    let (mut checked, mut not_met_now, mut profile_name, mut local_ip) = (0, 0, None, None);
    for region in regions {
        let run = |(snap, info): (&Snapshot, &super::SnapshotInfo)| {
            if snap.resolve_region(region).is_err() {
                return Ok(None);
            }
            super::nsg::require(
                snap,
                info,
                scope,
                &super::nsg::RequireParams {
                    region: region.clone(),
                    profile: profile.map(str::to_string),
                    local: local.map(str::to_string),
                },
            )
            .map(Some)
        };
        let (before, after) = (run(old)?, run(new)?);
        let Some(after) = after else {
            continue; // retired: nothing is required there any more
        };
        profile_name.get_or_insert_with(|| after.profile.clone());
        local_ip.get_or_insert(after.local);
        for (k, now) in after.requirements.iter().enumerate() {
            checked += 1;
            if now.verdict != Met::Met {
                not_met_now += 1;
            }
            let then = before.as_ref().and_then(|b| b.requirements.get(k));
            let (then_verdict, then_blocked) = match then {
                Some(t) => (t.verdict, blocked(t)),
                None => (Met::NotMet, 0),
            };
            let moved =
                then.is_none_or(|t| t.addresses != now.addresses || t.verdict != now.verdict);
            if !moved && then_blocked == blocked(now) {
                continue;
            }
            let change = match blocked(now).cmp(&then_blocked) {
                std::cmp::Ordering::Greater => "breaks",
                std::cmp::Ordering::Less => "fixes",
                std::cmp::Ordering::Equal if then_verdict == now.verdict => continue,
                std::cmp::Ordering::Equal => "changed",
            };
            changes.push(RequirementChange {
                change,
                region: after.region.clone(),
                requirement: now.requirement.clone(),
                tag: now.tag.clone(),
                before: then_verdict,
                after: now.verdict,
                blocked_before: then_blocked.to_string(),
                blocked_after: blocked(now).to_string(),
                counterexample: now.counterexample.clone(),
                blocked_by: now.blocked_by.clone(),
            });
        }
    }
    let Some(profile) = profile_name else {
        return Err(Error::field(
            "regions",
            format!(
                ": {} is not a region of the new snapshot ({} changeNumber {}): retired, so it requires nothing",
                regions.join(", "),
                new.0.cloud(),
                new.0.change_number()
            ),
        ));
    };
    Ok(NsgImpact {
        profile,
        local: local_ip.expect("set with the profile"),
        changes,
        checked,
        not_met_now,
    })
}

impl DiffParams {
    /// The regions as codes (either snapshot may know a region the other has retired or not
    /// yet published).
    pub fn region_codes(&self, old: &Snapshot, new: &Snapshot) -> Result<Vec<String>> {
        let mut out = Vec::new();
        // `a,b` is two regions in every front end (as `--region a,b`).
        for r in self
            .regions
            .iter()
            .flat_map(|r| r.split(','))
            .filter(|r| !r.trim().is_empty())
        {
            out.push(match new.resolve_region(r) {
                Ok(code) => code.to_string(),
                Err(e) => old.resolve_region(r).map_err(|_| e)?.to_string(),
            });
        }
        Ok(out)
    }
}

/// The tag changes from `old` to `new` (named by their reports' sources), with the route
/// table's impact when `impact` is given (its regions are the request's).
pub fn changes(
    old: (&Snapshot, &super::SnapshotInfo),
    new: (&Snapshot, &super::SnapshotInfo),
    params: &DiffParams,
    impact_on: Option<(&RouteTable, &ImpactParams, &Resolved)>,
) -> Result<DiffReport> {
    let ((old, old_info), (new, new_info)) = (old, new);
    let mut warnings = Vec::new();
    if !old.cloud().eq_ignore_ascii_case(new.cloud()) {
        warnings.push(format!(
            "comparing different clouds ({} and {})",
            old.cloud(),
            new.cloud()
        ));
    }
    if old.change_number() > new.change_number() {
        warnings.push(format!(
            "the old snapshot has the higher changeNumber ({} > {}); were they swapped?",
            old.change_number(),
            new.change_number()
        ));
    }
    let regions = params.region_codes(old, new)?;
    let filter = crate::diff::Filter {
        tags: params.tags.clone(),
        regions: regions.clone(),
        services: params.services.clone(),
    };
    crate::diff::check_filter(&filter, old, new)?;
    let diff = crate::diff::diff(old, new, &old_info.source, &new_info.source, &filter);
    let impact = match impact_on {
        None => None,
        Some((table, p, levels)) => {
            same_cloud(old, new, "route_table")?;
            if regions.is_empty() {
                return Err(Error::field(
                    "route_table",
                    "needs «regions»: the routes a table needs are regional",
                ));
            }
            let p = ImpactParams {
                regions,
                ..p.clone()
            };
            Some(impact(old, new, table, &p, levels)?)
        }
    };
    Ok(DiffReport {
        diff,
        impact,
        nsg: None,
        warnings,
        snapshot: new_info.clone(),
    })
}

/// Refuses to judge a table or an NSG across two clouds: every region of one would look
/// retired in the other.
fn same_cloud(old: &Snapshot, new: &Snapshot, field: &'static str) -> Result<()> {
    if old.cloud().eq_ignore_ascii_case(new.cloud()) {
        return Ok(());
    }
    Err(Error::field(
        field,
        format!(
            ": OLD is {} and NEW is {}; a table or NSG is judged between two weeks of one cloud (every region of one would look retired in the other)",
            old.cloud(),
            new.cloud()
        ),
    ))
}

/// What to check a table for.
#[derive(Debug, Clone, Default)]
pub struct ImpactParams {
    /// Region codes.
    pub regions: Vec<String>,
    /// The `udr` profile whose tags the table routes (`None`: the default one).
    pub profile: Option<String>,
    /// The VNet's address space, as prefixes.
    pub vnet: Vec<String>,
    /// A `0.0.0.0/0` advertised by BGP (`Some(None)`: declared as none).
    pub default_route: Option<Option<NextHop>>,
    /// Delete stale routes in the plan.
    pub prune: bool,
    /// Audit IPv6 too.
    pub ipv6: bool,
    /// The table's route limit (`None`: [`crate::routes::DEFAULT_MAX_ROUTES`]).
    pub max_routes: Option<usize>,
}

/// What a snapshot change means for one route table.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// The regions and tags checked.
    pub required_tags: Vec<String>,
    /// Whether IPv6 was audited (without it, only IPv4 is).
    pub ipv6_audited: bool,
    /// The table's audit against the new snapshot (the old one's required prefixes tie stale
    /// routes).
    pub findings: Vec<AuditFinding>,
    /// `udr` routes (default options) the new snapshot adds: name and prefix.
    pub udr_add: Vec<(String, String)>,
    /// `udr` routes the new snapshot drops.
    pub udr_delete: Vec<(String, String)>,
    /// Regions of the request the new snapshot no longer publishes: their routes are stale.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retired_regions: Vec<String>,
    /// The audit's plan for the table as it is.
    pub plan: String,
    /// Routes the plan creates, updates or deletes.
    #[serde(skip)]
    pub plan_changes: usize,
}

impl Impact {
    /// Whether something is to be done: the plan changes the table, or an error-level finding
    /// stands. It is what a re-audit of the table says once the plan is applied: the `udr`
    /// lists (what a fresh `udr` would write) do not count, as the table may carry their
    /// addresses under other routes, and stale routes kept for review (without `--prune`) are
    /// warnings, not work.
    pub fn action_needed(&self) -> bool {
        self.plan_changes > 0
            || self
                .findings
                .iter()
                .any(|f| f.finding.severity == Severity::Error)
    }
}

/// The `udr` routes of a profile in regions: (name, prefix).
fn udr_routes(
    snap: &Snapshot,
    regions: &[String],
    profile: &[String],
) -> Result<Vec<(String, String)>> {
    let req = crate::routes::UdrRequest {
        regions: regions.to_vec(),
        profile_tags: profile.to_vec(),
        named_tags: Vec::new(),
        ipv6: false,
        next_hop: NextHop::Internet,
        max_routes: crate::routes::DEFAULT_MAX_ROUTES,
        reserve: 1,
        exact: false,
        use_service_tags: false,
        never_cover: Vec::new(),
        max_extra: None,
        ipv6_shares_budget: false,
    };
    match crate::routes::plan(snap, &req)? {
        Ok(p) => Ok(p
            .routes
            .into_iter()
            .map(|r| (r.name, r.address_prefix))
            .collect()),
        Err(over) => Err(Error::Usage(over.message)),
    }
}

/// The impact of going from `old` to `new` on `table`; `levels` sets the findings' severities.
pub fn impact(
    old: &Snapshot,
    new: &Snapshot,
    table: &RouteTable,
    p: &ImpactParams,
    levels: &Resolved,
) -> Result<Impact> {
    let profile = match &p.profile {
        Some(name) => crate::routes::profile(name)?,
        None => crate::routes::profiles()
            .into_iter()
            .find(|x| x.default)
            .ok_or_else(|| Error::Usage("no default profile".into()))?,
    };
    // A region the new snapshot retired (`uknorth`) is still a region of the table: nothing
    // of it is required any more, and its routes are stale (the old snapshot's addresses).
    let known = |s: &Snapshot| -> Vec<String> {
        p.regions
            .iter()
            .filter(|r| s.resolve_region(r).is_ok())
            .cloned()
            .collect()
    };
    let (live, before) = (known(new), known(old));
    let retired: Vec<String> = before
        .iter()
        .filter(|r| !live.contains(r))
        .cloned()
        .collect();
    let required = crate::routes::required_tags(new, &live, &profile.tags, &[])?;
    let previous = super::audit::previous_addresses(old, &profile.tags, &p.regions);
    let related = crate::routes::audit::related(new, &required.ids);
    let vnet = super::audit::vnet_prefixes(&p.vnet)?;
    let max_routes = p.max_routes.unwrap_or(crate::routes::DEFAULT_MAX_ROUTES);
    if max_routes == 0 {
        return Err(Error::field(
            "max_routes",
            "must be at least 1 (Azure's limit is 400 routes per table)",
        ));
    }
    let opts = AuditOptions {
        vnet,
        ipv6: p.ipv6,
        previous: Some(&previous),
        related: Some(&related),
        max_routes,
        default_route: p.default_route.flatten(),
        default_route_declared: p.default_route.is_some(),
        prune: p.prune,
        accept_over_broad: levels.allows(crate::findings::Code::OverBroadRoute.name()),
    };
    let mut report = crate::routes::audit::audit(new, table, &required.ids, &opts)?;
    report
        .findings
        .retain_mut(|f| levels.adjust(&mut f.finding));
    let plan = crate::routes::deploy::az_plan(
        &report.ensure,
        &report.delete,
        &report.review,
        &crate::routes::deploy::Header {
            lines: vec![format!(
                "Plan from `tagnet diff` ({} cn{} -> cn{}) for {}.",
                new.cloud(),
                old.change_number(),
                new.change_number(),
                if report.required_tags.is_empty() {
                    format!("no required tag (retired: {})", retired.join(", "))
                } else {
                    report.required_tags.join(", ")
                }
            )],
        },
        max_routes,
    );
    let routes_of = |s: &Snapshot, regions: &[String]| {
        if regions.is_empty() {
            Ok(Vec::new())
        } else {
            udr_routes(s, regions, &profile.tags)
        }
    };
    let (uo, un) = (routes_of(old, &before)?, routes_of(new, &live)?);
    let udr_add = un
        .iter()
        .filter(|r| !uo.iter().any(|o| o.1 == r.1))
        .cloned()
        .collect();
    let udr_delete = uo
        .iter()
        .filter(|r| !un.iter().any(|n| n.1 == r.1))
        .cloned()
        .collect();
    Ok(Impact {
        plan_changes: report.ensure.len() + report.delete.len(),
        ipv6_audited: p.ipv6,
        required_tags: report.required_tags.clone(),
        findings: report.findings,
        udr_add,
        udr_delete,
        retired_regions: retired,
        plan,
    })
}
