//! Reading the inputs of `check`: files or folders of `az` JSON, ARM templates (with an
//! optional parameters file) and Terraform plans, detected by their shape.

pub use crate::arm;
pub use crate::arm::parameters;
use crate::arm::{is_parameters, parameters_beside};
pub mod azure;
pub mod terraform;

use super::model::{Kind, Network, key_of};
use crate::error::{Error, Result};
use crate::findings::Finding;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

const HINT: &str = "give `az … show -o json` output (one resource, an array, or {\"value\": [...]}), an ARM template, or `terraform show -json` of a plan";

/// Every `.json` file of the paths (folders are walked, sorted by path).
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            let mut found = Vec::new();
            // A symlink back up the tree is walked once.
            let mut seen = std::collections::BTreeSet::new();
            while let Some(d) = stack.pop() {
                if !seen.insert(std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone())) {
                    continue;
                }
                let entries = std::fs::read_dir(&d).map_err(|source| Error::Read {
                    path: d.clone(),
                    source,
                })?;
                for e in entries.flatten() {
                    let path = e.path();
                    // Hidden folders (`.git`, `.vscode`, `.terraform`) hold no definitions.
                    let hidden = e.file_name().to_string_lossy().starts_with('.');
                    if path.is_dir() {
                        if !hidden {
                            stack.push(path);
                        }
                    } else if path
                        .extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("json"))
                    {
                        found.push(path);
                    }
                }
            }
            if found.is_empty() {
                return Err(Error::Invalid {
                    origin: p.display().to_string(),
                    message: "the folder holds no .json file".into(),
                    hint: HINT.into(),
                });
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
            // A template named alone brings its parameters files (`NAME.parameters*.json`
            // beside `NAME.json`), as its folder would: they are paired by name when read.
            out.extend(parameters_beside(p));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(out)
}

/// Every `.json` file of the paths (folders walked, sorted) read as (origin, bytes).
pub fn documents(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut docs = Vec::new();
    for f in files(paths)? {
        let (bytes, _) = crate::load::read_input(&f)?;
        docs.push((f.display().to_string(), bytes));
    }
    Ok(docs)
}

/// Reads every input into one network (files and folders, with an ARM parameters file).
pub fn network(paths: &[PathBuf], parameters: Option<&Path>) -> Result<Network> {
    let given: Map<String, Value> = match parameters {
        Some(p) => {
            let (bytes, _) = crate::load::read_input(p)?;
            self::parameters(&bytes, &p.display().to_string())?
        }
        None => Map::new(),
    };
    from_documents(&documents(paths)?, &given, &arm::Deployment::default())
}

/// Builds the network from documents already read: (origin, bytes), with the values of an
/// ARM parameters file (its `parameters` object) for templates.
pub fn from_documents(
    docs: &[(String, Vec<u8>)],
    given: &Map<String, Value>,
    dep: &arm::Deployment,
) -> Result<Network> {
    let mut net = Network::default();
    let mut parsed = Vec::with_capacity(docs.len());
    for (origin, bytes) in docs {
        let doc: Value =
            crate::arm::parse_json(bytes).map_err(|e| Error::json(origin, &e, HINT))?;
        parsed.push((origin.clone(), azure::cli_shape(doc)));
    }
    // Parameters files among the documents, each paired with the templates of its folder.
    let found: Vec<(String, Map<String, Value>)> = parsed
        .iter()
        .filter(|(_, d)| is_parameters(d))
        .map(|(o, d)| Ok((o.clone(), parameters(d.to_string().as_bytes(), o)?)))
        .collect::<Result<_>>()?;
    // The values for one template, and where they came from: the parameters file of its
    // folder (`NAME.parameters.json` beside `NAME.json`, or the folder's only one); else the
    // one given (--parameters); else none. Several in the folder and none matching by name
    // are named, and none is guessed.
    let mut ambiguous_reported: Vec<String> = Vec::new();
    let mut values_for = |template: &str,
                          problems: &mut Vec<Finding>|
     -> (Map<String, Value>, Option<String>) {
        // The file given (--parameters) is the one deployed with, as `az deployment group
        // create --parameters` takes it, whatever sits beside the template.
        if !given.is_empty() {
            return (given.clone(), Some("the parameters file given".into()));
        }
        let dir = |o: &str| {
            Path::new(o)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        let here: Vec<&(String, Map<String, Value>)> = found
            .iter()
            .filter(|(o, _)| dir(o) == dir(template))
            .collect();
        let stem = Path::new(template)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let named = here.iter().filter(|(o, _)| {
            Path::new(o)
                .file_name()
                .and_then(|s| s.to_str())
                .is_some_and(|n| {
                    n.to_ascii_lowercase()
                        .starts_with(&format!("{stem}.parameters"))
                })
        });
        let named: Vec<&&(String, Map<String, Value>)> = named.collect();
        let pick = match (named.as_slice(), here.as_slice()) {
            ([one], _) => Some(*one),
            ([], [one]) => Some(one),
            _ => None,
        };
        if let Some((o, m)) = pick {
            return (m.clone(), Some(o.clone()));
        }
        if here.len() > 1 {
            let d = dir(template).display().to_string();
            if !ambiguous_reported.contains(&d) {
                ambiguous_reported.push(d);
                problems.push(
                    Finding::new(
                        crate::findings::Code::CannotEvaluate,
                        template,
                        if named.len() > 1 {
                            format!(
                                "{} parameters files are named after the template ({}); which one it is deployed with is not known, so none was used and its parameters take their defaults",
                                named.len(),
                                named.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>().join(", ")
                            )
                        } else {
                            format!(
                                "{} parameters files sit beside the template ({}) and none is named after it; none was used, so its parameters take their defaults",
                                here.len(),
                                here.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>().join(", ")
                            )
                        },
                    )
                    .fix("give the one to deploy with: --parameters FILE (or name it TEMPLATE.parameters.json)"),
                );
            }
        }
        (Map::new(), None)
    };
    for (origin, doc) in parsed {
        if is_parameters(&doc) {
            continue;
        }
        let (given, given_from) = if arm::is_template(&doc) {
            values_for(&origin, &mut net.problems)
        } else {
            (Map::new(), None)
        };
        let given = &given;
        let resources: Vec<Value> = if terraform::is_plan(&doc) {
            let (res, unresolved) = terraform::resources(&doc);
            for (address, what) in terraform::inconsistencies(&doc) {
                net.problems.push(
                    Finding::new(
                        crate::findings::Code::BadValue,
                        &address,
                        format!("{origin}: the plan contradicts itself: {what}"),
                    )
                    .fix("check the file `terraform show -json PLAN` writes, unedited"),
                );
            }
            for (address, attr, refs) in unresolved {
                net.problems.push(Finding::new(
                    crate::findings::Code::CannotEvaluate,
                    &address,
                    format!(
                        "{origin}: `{attr}` refers to {refs}, which is not a resource of the plan (a module output or a variable); the checks that need it are skipped"
                    ),
                ));
            }
            res
        } else if arm::is_template(&doc) {
            // Azure refuses a deployment whose parameters file gives a parameter the template
            // does not declare.
            let given_from = given_from.unwrap_or_default();
            for name in arm::undeclared_parameters(&doc, given) {
                net.problems.push(
                    Finding::new(
                        crate::findings::Code::BadValue,
                        &origin,
                        format!(
                            "{given_from} gives the parameter `{name}`, which the template does not declare: Azure refuses the deployment (InvalidTemplate)"
                        ),
                    )
                    .fix("remove the parameter from the parameters file, or declare it in the template's `parameters`"),
                );
            }
            for wrong in arm::parameter_type_errors(&doc, given) {
                net.problems.push(
                    Finding::new(
                        crate::findings::Code::BadValue,
                        &origin,
                        format!("{given_from}: {wrong}"),
                    )
                    .fix("give the value in the type the template declares (an array as [\"…\"], an int without quotes)"),
                );
            }
            let (res, bad) = arm::resources_in(&doc, given, dep);
            // Values that decide nothing a check reads (deployment order, tags) are not
            // reported.
            let decides = |at: &str| {
                !["dependsOn", "tags", "comments", "apiVersion", "metadata"]
                    .iter()
                    .any(|k| {
                        at == *k
                            || at.starts_with(&format!("{k}."))
                            || at.starts_with(&format!("{k}["))
                    })
            };
            for b in bad.into_iter().filter(|b| decides(&b.at)) {
                net.problems.push(
                    Finding::new(
                        crate::findings::Code::CannotEvaluate,
                        &b.resource,
                        format!(
                            "{origin}: {} is `{}`, which cannot be evaluated offline ({}); the checks that need it are skipped",
                            if b.at.is_empty() { "a value".to_string() } else { format!("`{}`", b.at) },
                            b.expression,
                            b.reason
                        ),
                    ),
                );
            }
            fold_nsg_rules(res, true)
        } else if let Some(a) = doc.as_array() {
            fold_nsg_rules(a.clone(), false)
        } else if let Some(a) = doc.get("value").and_then(Value::as_array) {
            fold_nsg_rules(a.clone(), false)
        } else if doc.get("type").is_some() {
            vec![doc]
        } else {
            // Not an Azure document (a `package.json`, an editor's settings): skipped with a
            // note; when nothing else is read, the run is refused below.
            net.stray_files.push(origin);
            continue;
        };
        if let Some(i) = resources.iter().position(|r| !r.is_object()) {
            return Err(Error::Invalid {
                origin,
                message: format!("item {i} is `{}`, not a resource object", resources[i]),
                hint: HINT.into(),
            });
        }
        for r in &resources {
            if r.get("properties").is_some_and(Value::is_null) && r.get("changedTime").is_some() {
                *net.skipped
                    .entry("`az resource list` items without properties".into())
                    .or_default() += 1;
                continue;
            }
            azure::map_resource(&mut net, r, &origin);
        }
    }
    // An NSG or route table that lists a subnet as associated (its own `subnets`) is that
    // subnet's, when the subnet's definition does not name one.
    for (owner, is_table, subnet) in std::mem::take(&mut net.pending_associations) {
        if let Some(s) = net.resolve(Kind::Subnet, &subnet) {
            let slot = if is_table {
                &mut net.subnets[s].route_table
            } else {
                &mut net.subnets[s].nsg
            };
            if slot.is_none() {
                *slot = Some(owner);
            }
        }
    }
    // Peerings given as child resources join their network.
    for (key, p) in std::mem::take(&mut net.pending_peerings) {
        if let Some(v) = net
            .vnets
            .iter_mut()
            .find(|v| v.meta.keys.iter().any(|k| *k == key_of(&key)))
        {
            v.peerings.push(p);
        }
    }
    // A container group injected through a network profile is in the profile's subnets.
    for g in 0..net.container_groups.len() {
        if let Some(p) = net.find(
            Kind::NetworkProfile,
            net.container_groups[g].network_profile.as_deref(),
        ) {
            let subnets = net.network_profiles[p].subnets.clone();
            net.container_groups[g].subnets.extend(subnets);
        }
    }
    // Nothing to check and nothing to say: an error. Resources that could not be evaluated
    // (their findings say why) are something to say.
    if net.resource_count() == 0 && net.problems.is_empty() && net.unreadable.is_empty() {
        let mut skipped: Vec<String> = net
            .skipped
            .iter()
            .map(|(k, n)| format!("{n} of {k}"))
            .collect();
        if !net.stray_files.is_empty() {
            skipped.push(format!(
                "{} file(s) with no resource: no `type`, not an array, not a template or plan ({})",
                net.stray_files.len(),
                net.stray_files.join(", ")
            ));
        }
        return Err(Error::Invalid {
            origin: docs
                .iter()
                .map(|(o, _)| o.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            message: if skipped.is_empty() {
                "no resource found".into()
            } else {
                format!("no resource tagnet checks (read: {})", skipped.join(", "))
            },
            hint: HINT.into(),
        });
    }
    // A resource read twice (a subnet inside its network and as a child resource, the same
    // export in two files) is checked once: the last read wins; copies from different files
    // are reported.
    let problems = &mut net.problems;
    dedupe(&mut net.vnets, |x| &x.meta, problems);
    dedupe(&mut net.subnets, |x| &x.meta, problems);
    dedupe(&mut net.nsgs, |x| &x.meta, problems);
    dedupe(&mut net.tables, |x| &x.meta, problems);
    dedupe(&mut net.clusters, |x| &x.meta, problems);
    dedupe(&mut net.workspaces, |x| &x.meta, problems);
    dedupe(&mut net.computes, |x| &x.meta, problems);
    dedupe(&mut net.stores, |x| &x.meta, problems);
    dedupe(&mut net.registries, |x| &x.meta, problems);
    dedupe(&mut net.databricks, |x| &x.meta, problems);
    dedupe(&mut net.vms, |x| &x.meta, problems);
    dedupe(&mut net.nics, |x| &x.meta, problems);
    dedupe(&mut net.container_groups, |x| &x.meta, problems);
    dedupe(&mut net.network_profiles, |x| &x.meta, problems);
    dedupe(&mut net.local_gateways, |x| &x.meta, problems);
    Ok(net)
}

fn dedupe<T>(
    list: &mut Vec<T>,
    meta: impl Fn(&T) -> &super::model::Meta,
    problems: &mut Vec<Finding>,
) {
    // By key, with the metas read so far: one of the same key and a compatible scope (both
    // in one resource group, or one not saying) is the same resource.
    let mut seen: std::collections::BTreeMap<String, Vec<super::model::Meta>> =
        std::collections::BTreeMap::new();
    let mut keep = vec![true; list.len()];
    for i in (0..list.len()).rev() {
        let m = meta(&list[i]);
        let Some(key) = m.keys.first().cloned() else {
            continue;
        };
        let later = seen.get(&key).and_then(|l| {
            l.iter()
                .find(|x| super::model::same_scope(x, &m.id) && super::model::same_scope(m, &x.id))
                .map(|x| x.origin.clone())
        });
        match later {
            Some(later) => {
                keep[i] = false;
                if *later != m.origin {
                    problems.push(Finding::new(
                        crate::findings::Code::DuplicateResource,
                        &m.id,
                        format!(
                            "read from {} and again from {later}; the last read is checked",
                            m.origin
                        ),
                    ));
                }
            }
            None => {
                seen.entry(key).or_default().push(m.clone());
            }
        }
    }
    let mut it = keep.into_iter();
    list.retain(|_| it.next().unwrap_or(true));
}

/// Rules given as child resources (`Microsoft.Network/networkSecurityGroups/securityRules`
/// named `NSG/RULE`, as templates often write them) joined to their NSG's `securityRules`,
/// as Azure deploys them; in a template, an NSG without `securityRules` has none of its own.
/// In a list (`az network nsg rule list`), rules are joined by the NSG their ids name.
fn fold_nsg_rules(resources: Vec<Value>, template: bool) -> Vec<Value> {
    let is = |v: &Value, t: &str| {
        v.get("type")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case(t))
    };
    let (rules, mut rest): (Vec<Value>, Vec<Value>) = resources
        .into_iter()
        .partition(|v| is(v, "Microsoft.Network/networkSecurityGroups/securityRules"));
    if rules.is_empty() && !template {
        return rest;
    }
    for nsg in rest
        .iter_mut()
        .filter(|v| template && is(v, "Microsoft.Network/networkSecurityGroups"))
    {
        let props = nsg.as_object_mut().map(|o| {
            o.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()))
        });
        if let Some(Value::Object(p)) = props {
            p.entry("securityRules")
                .or_insert_with(|| Value::Array(Vec::new()));
        }
    }
    let mut orphans = Vec::new();
    for mut r in rules {
        let full = r
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // The NSG: the name's first segment (`NSG/RULE`, a template's child), else the id's
        // (`…/networkSecurityGroups/NSG/securityRules/RULE`, `az network nsg rule list`).
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let from_id = id
            .to_ascii_lowercase()
            .find("/securityrules/")
            .map(|at| id[..at].to_string())
            .filter(|nsg_id| {
                nsg_id
                    .to_ascii_lowercase()
                    .contains("/providers/microsoft.network/networksecuritygroups/")
            });
        let (parent, rule) = match (full.split_once('/'), &from_id) {
            (Some((p, r)), _) => (p.to_string(), r.to_string()),
            (None, Some(nsg_id)) => (
                nsg_id.rsplit('/').next().unwrap_or_default().to_string(),
                full.clone(),
            ),
            (None, None) => {
                orphans.push(r);
                continue;
            }
        };
        let target = rest.iter().position(|v| {
            is(v, "Microsoft.Network/networkSecurityGroups")
                && v.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(&parent))
        });
        // A rule list without its NSG stands for that NSG (Azure's default rules implied).
        let target = match (target, &from_id) {
            (Some(t), _) => Some(t),
            (None, Some(nsg_id)) => {
                rest.push(serde_json::json!({
                    "id": nsg_id,
                    "name": parent,
                    "type": "Microsoft.Network/networkSecurityGroups",
                    "properties": {"securityRules": []}
                }));
                Some(rest.len() - 1)
            }
            (None, None) => None,
        };
        let list = target.and_then(|t| {
            let nsg = &mut rest[t];
            if nsg.get("securityRules").is_some() {
                nsg.get_mut("securityRules")
            } else {
                nsg.pointer_mut("/properties/securityRules")
            }
        });
        match list {
            Some(Value::Array(list)) => {
                r["name"] = Value::String(rule);
                list.push(r);
            }
            _ => orphans.push(r),
        }
    }
    rest.extend(orphans);
    rest
}
