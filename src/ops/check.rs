//! `check`: the ML-in-a-VNet guidance applied to a network definition (`az` JSON, ARM
//! templates, Terraform plans) before it is deployed.

use super::SnapshotInfo;
use crate::Snapshot;
use crate::error::{Error, Result};
use crate::findings::severity::Resolved;
use crate::findings::{Finding, Severity};
use ipnet::IpNet;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What to check the documents against.
#[derive(Debug, Clone)]
pub struct CheckParams {
    /// On-premises ranges (AKS ranges must not overlap them): prefixes, or tags' names (your
    /// own, from `--custom`) standing for their prefixes.
    pub on_prem: Vec<String>,
    /// The NSG requirement profile (`nsg require --profile`).
    pub profile: String,
    /// The route profile (`udr --profile`).
    pub udr_profile: String,
    /// The resource group's region, for templates' `resourceGroup().location` (known only
    /// when Azure deploys; `None`: such a value cannot be evaluated and is reported).
    pub location: Option<String>,
    /// Application security group → member addresses, beside the members the inputs' NICs
    /// name.
    pub asgs: BTreeMap<String, Vec<std::net::IpAddr>>,
}

impl Default for CheckParams {
    fn default() -> Self {
        CheckParams {
            on_prem: Vec::new(),
            profile: "aml-vnet-2020".into(),
            udr_profile: "aml-vnet-2020".into(),
            location: None,
            asgs: BTreeMap::new(),
        }
    }
}

/// The findings on a network definition, sorted by rule number, resource and message.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The snapshot the tags were resolved in.
    pub snapshot: SnapshotInfo,
    /// The findings (severities after the configuration).
    pub records: Vec<Finding>,
    /// How many resources were read.
    pub resources: usize,
    /// Resource types read but not checked, with their count.
    pub not_checked: BTreeMap<String, usize>,
    /// Files skipped: they hold no Azure resource, template or plan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_files: Vec<String>,
    /// The file each finding's resource came from, in the findings' order (SARIF locations).
    #[serde(skip)]
    pub origins: Vec<Option<String>>,
}

impl CheckReport {
    /// How many findings have this severity.
    pub fn count(&self, s: Severity) -> usize {
        self.records.iter().filter(|f| f.severity == s).count()
    }

    /// Whether an error-severity finding remains (the command fails).
    pub fn failing(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}

impl CheckParams {
    /// The on-premises ranges, each with the phrase that names it in findings: a prefix, or a
    /// tag (your own `Corp.OnPrem` from `--custom`, or any other) standing for its prefixes.
    fn on_prem(&self, snap: &Snapshot) -> Result<Vec<(String, IpNet)>> {
        let mut out = Vec::new();
        for t in &self.on_prem {
            let (ids, set) = super::catalog::range_named(snap, t, None, "on_prem")?;
            let label = match &ids[..] {
                [] => "the on-premises range given with --on-prem".to_string(),
                ids => format!(
                    "the on-premises tag `{}`",
                    ids.iter()
                        .map(|&i| snap.tag(i).name())
                        .collect::<Vec<_>>()
                        .join("`, `")
                ),
            };
            out.extend(set.to_prefixes().into_iter().map(|p| (label.clone(), p)));
        }
        Ok(out)
    }

    /// Both profiles exist, or the field's error.
    fn validate(&self) -> Result<()> {
        let names: Vec<String> = crate::nsg::reach::profiles()
            .into_iter()
            .map(|p| p.name)
            .collect();
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&self.profile)) {
            return Err(Error::field(
                "profile",
                format!(
                    "`{}` is not an NSG profile; known: {}",
                    crate::text::quoted(&self.profile),
                    names.join(", ")
                ),
            ));
        }
        crate::routes::profile(&self.udr_profile)
            .map_err(|e| Error::field("udr_profile", e.to_string()))?;
        Ok(())
    }
}

/// Checks documents read as (origin, bytes), with the values of an ARM parameters file.
pub fn check(
    snap: &Snapshot,
    info: &SnapshotInfo,
    documents: &[(String, Vec<u8>)],
    parameters: &Map<String, Value>,
    params: &CheckParams,
    levels: &Resolved,
) -> Result<CheckReport> {
    let on_prem = params.on_prem(snap)?;
    params.validate()?;
    let net = network(snap, documents, parameters, params.location.as_deref())?;
    let cx = crate::check::Cx {
        net: &net,
        snap,
        on_prem: &on_prem,
        nsg_profile: &params.profile,
        udr_profile: &params.udr_profile,
        asgs: &net.asg_members(&params.asgs),
    };
    // The rules, and what only routes and NSGs evaluated together tell (the path layer).
    let records = levels.apply(crate::path::check_all(&cx));
    let origins = records
        .iter()
        .map(|f| net.origin_of(&f.resource).map(str::to_string))
        .collect();
    Ok(CheckReport {
        snapshot: info.clone(),
        records,
        resources: net.resource_count(),
        not_checked: net.skipped.clone(),
        skipped_files: net.stray_files.clone(),
        origins,
    })
}

/// The network the documents define (read by `check` and `path`): templates evaluated with
/// `parameters` and the resource group's region `location` (resolved in the snapshot).
pub fn network(
    snap: &Snapshot,
    documents: &[(String, Vec<u8>)],
    parameters: &Map<String, Value>,
    location: Option<&str>,
) -> Result<crate::check::model::Network> {
    if documents.is_empty() {
        return Err(Error::field(
            "documents",
            "give at least one document: `az … show -o json` output, an ARM template or a Terraform plan",
        ));
    }
    let location = match location {
        Some(l) => Some(
            snap.resolve_region(l)
                .map_err(|e| Error::field("location", format!(": {e}")))?
                .to_string(),
        ),
        None => None,
    };
    let dep = crate::arm::Deployment {
        location,
        ..Default::default()
    };
    crate::check::read::from_documents(documents, parameters, &dep)
}

/// The values of a parameters document given as JSON (`{"parameters": {...}}` or the bare
/// object), for front ends that hold it already parsed.
pub fn parameters_of(doc: &Value) -> Result<Map<String, Value>> {
    match doc {
        Value::Null => Ok(Map::new()),
        Value::Object(o) => Ok(o
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| o.clone())),
        _ => Err(Error::field(
            "parameters",
            "an ARM parameters file: {\"parameters\": {\"name\": {\"value\": …}}}",
        )),
    }
}

impl super::Row for Finding {
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "CODE",
        "SEVERITY",
        "RESOURCE",
        "MESSAGE",
        "COUNTEREXAMPLE",
        "FIX",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.to_string(),
            self.severity.to_string(),
            self.resource.clone(),
            self.message.clone(),
            self.counterexample.clone().unwrap_or_default(),
            self.fix.clone(),
        ]
    }
}

/// The documents of a request given as JSON: one document, a list of them (named
/// `documents[0]`, …), or an object of `{"file name": document}` (named by its keys, as the
/// CLI names files).
pub fn documents_of(v: &Value) -> Result<Vec<(String, Vec<u8>)>> {
    let bytes = |d: &Value| serde_json::to_vec(d).expect("a JSON value serializes");
    match v {
        Value::Array(a) => Ok(a
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("documents[{i}]"), bytes(d)))
            .collect()),
        Value::Object(o)
            if o.values().all(|d| d.is_object() || d.is_array()) && !is_document(o) =>
        {
            Ok(o.iter().map(|(k, d)| (k.clone(), bytes(d))).collect())
        }
        Value::Object(_) => Ok(vec![("documents".to_string(), bytes(v))]),
        _ => Err(Error::field(
            "documents",
            "is a document (`az … show -o json` output, an ARM template, a Terraform plan), a list of them or an object of {\"file name\": document}",
        )),
    }
}

/// Whether an object is a document itself (a resource, an ARM template, `{"value": [...]}`
/// or a Terraform plan), not an object of named documents.
fn is_document(o: &Map<String, Value>) -> bool {
    [
        "$schema",
        "resources",
        "value",
        "id",
        "type",
        "format_version",
        "planned_values",
    ]
    .iter()
    .any(|k| o.contains_key(*k))
}
