//! `terraform show -json` of a plan: the azurerm resources of `planned_values` (root and
//! child modules), rewritten into Azure's REST shape and mapped like any other resource.
//!
//! A plan leaves out values known only after apply (the id of a subnet not yet created), so
//! references are read from `configuration` (`expressions.<attribute>.references`, e.g.
//! `["azurerm_subnet.compute.id", "azurerm_subnet.compute"]`) and kept as the resource's
//! address, which the rewritten resource carries as its id.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Whether a document is a Terraform plan or state in JSON.
pub fn is_plan(doc: &Value) -> bool {
    doc.get("planned_values").is_some()
        || (doc.get("format_version").is_some() && doc.get("values").is_some())
}

struct Res {
    address: String,
    kind: String,
    values: Value,
    /// The configuration's expressions of the resource, when found.
    expressions: Value,
    /// Module prefix of the address (`module.net.`), for module-relative references.
    prefix: String,
}

/// Data sources read as the resources they describe: an existing network the plan's
/// resources are placed in (`data.azurerm_subnet.existing.id`).
const DATA_KINDS: [&str; 9] = [
    "azurerm_virtual_network",
    "azurerm_subnet",
    "azurerm_network_security_group",
    "azurerm_route_table",
    "azurerm_storage_account",
    "azurerm_key_vault",
    "azurerm_container_registry",
    "azurerm_machine_learning_workspace",
    "azurerm_private_endpoint_connection",
];

/// Where a plan contradicts itself, as (resource address, what): `resource_changes` says what
/// apply does to each managed resource and `planned_values` what exists after it, with the
/// same known values (`change.after`). A resource one lists and the other lacks, or whose
/// values differ, means the file was edited or assembled from two plans; tagnet reads
/// `planned_values` and names each difference.
pub fn inconsistencies(doc: &Value) -> Vec<(String, String)> {
    let Some(changes) = doc.get("resource_changes").and_then(Value::as_array) else {
        return Vec::new();
    };
    let Some(root) = doc.pointer("/planned_values/root_module") else {
        return Vec::new();
    };
    let mut planned = Vec::new();
    collect_mode(root, false, &mut planned);
    let mut out = Vec::new();
    let mut changed = BTreeSet::new();
    for c in changes {
        if c.get("mode").and_then(Value::as_str) == Some("data") {
            continue;
        }
        let Some(address) = c.get("address").and_then(Value::as_str) else {
            continue;
        };
        changed.insert(address.to_string());
        let actions = strs(c.pointer("/change/actions"));
        let deleted = actions == ["delete"] || actions == ["forget"];
        let found = planned.iter().find(|p| p.0 == address);
        match (found, deleted) {
            (None, false) => out.push((
                address.to_string(),
                format!(
                    "resource_changes plans `{}` for it, but planned_values does not hold it",
                    actions.join(", ")
                ),
            )),
            (Some(_), true) => out.push((
                address.to_string(),
                "resource_changes deletes it, but planned_values still holds it".to_string(),
            )),
            (Some((_, _, values)), false) => {
                if let (Some(after), Some(values)) = (
                    c.pointer("/change/after").and_then(Value::as_object),
                    values.as_object(),
                ) {
                    let differs = after
                        .iter()
                        .find(|(k, v)| values.get(*k).is_some_and(|w| !agree(v, w)));
                    if let Some((k, _)) = differs {
                        out.push((
                            address.to_string(),
                            format!(
                                "its `{k}` in resource_changes (change.after) differs from planned_values; planned_values is read"
                            ),
                        ));
                    }
                }
            }
            (None, true) => {}
        }
    }
    for (address, _, _) in &planned {
        if !changed.contains(address) {
            out.push((
                address.clone(),
                "planned_values holds it, but resource_changes does not list it".to_string(),
            ));
        }
    }
    out
}

/// Whether two values agree where both are known: null (unknown, or not set) agrees with
/// anything, objects key by key, lists item by item.
fn agree(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => true,
        (Value::Object(x), Value::Object(y)) => {
            x.iter().all(|(k, v)| y.get(k).is_none_or(|w| agree(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| agree(v, w))
        }
        _ => a == b,
    }
}

fn collect_planned(m: &Value, out: &mut Vec<(String, String, Value)>) {
    collect_mode(m, false, out);
}

/// The resources of a module (and its child modules): managed ones, or data sources of the
/// kinds in [`DATA_KINDS`].
fn collect_mode(m: &Value, data: bool, out: &mut Vec<(String, String, Value)>) {
    for r in m
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let is_data = r.get("mode").and_then(Value::as_str) == Some("data");
        if is_data != data {
            continue;
        }
        if data
            && !r
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| DATA_KINDS.contains(&t))
        {
            continue;
        }
        let address = r
            .get("address")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind = r
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        out.push((
            address,
            kind,
            r.get("values").cloned().unwrap_or(Value::Null),
        ));
    }
    for c in m
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_mode(c, data, out);
    }
}

fn collect_config(m: &Value, prefix: &str, out: &mut BTreeMap<String, (Value, String)>) {
    for r in m
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(a) = r.get("address").and_then(Value::as_str) {
            out.insert(
                format!("{prefix}{a}"),
                (
                    r.get("expressions").cloned().unwrap_or(Value::Null),
                    prefix.to_string(),
                ),
            );
        }
    }
    if let Some(calls) = m.get("module_calls").and_then(Value::as_object) {
        for (name, call) in calls {
            if let Some(module) = call.get("module") {
                let inner = format!("{prefix}module.{name}.");
                // The call's inputs and the module's outputs, for `var.` and `module.` references.
                out.insert(
                    format!("{MODULE}{inner}"),
                    (
                        serde_json::json!({
                            "inputs": call.get("expressions").cloned().unwrap_or(Value::Null),
                            "outputs": module.get("outputs").cloned().unwrap_or(Value::Null),
                        }),
                        prefix.to_string(),
                    ),
                );
                collect_config(module, &inner, out);
            }
        }
    }
}

/// Marks a module's entry in the configuration map (never a resource address).
const MODULE: &str = "@module:";

/// Strips a count or for_each index: `azurerm_subnet.s["a"]` → `azurerm_subnet.s`.
fn base(address: &str) -> &str {
    address.split('[').next().unwrap_or(address)
}

/// The plan's azurerm resources in Azure's REST shape, and the references that could not be
/// followed (a module output, a variable), as (resource address, attribute, references).
pub fn resources(doc: &Value) -> (Vec<Value>, Vec<(String, String, String)>) {
    let root = doc
        .get("planned_values")
        .or_else(|| doc.get("values"))
        .and_then(|p| p.get("root_module"));
    let mut planned = Vec::new();
    if let Some(r) = root {
        collect_planned(r, &mut planned);
    }
    // Data sources (read at plan time, in `prior_state`; in `planned_values` too when the plan
    // reads them again), each once.
    for m in [doc.pointer("/prior_state/values/root_module"), root]
        .into_iter()
        .flatten()
    {
        let mut data = Vec::new();
        collect_mode(m, true, &mut data);
        for d in data {
            if !planned.iter().any(|p| p.0 == d.0) {
                planned.push(d);
            }
        }
    }
    let mut config = BTreeMap::new();
    if let Some(c) = doc.get("configuration").and_then(|c| c.get("root_module")) {
        collect_config(c, "", &mut config);
    }
    let res: Vec<Res> = planned
        .into_iter()
        .map(|(address, kind, values)| {
            let (expressions, prefix) = config
                .get(base(&address))
                .cloned()
                .unwrap_or((Value::Null, String::new()));
            Res {
                address,
                kind,
                values,
                expressions,
                prefix,
            }
        })
        .collect();
    // Full addresses (with their count or for_each index), and the bare address of a
    // resource with one instance.
    let mut known: BTreeSet<String> = res.iter().map(|r| r.address.clone()).collect();
    for r in &res {
        let b = base(&r.address);
        if res.iter().filter(|x| base(&x.address) == b).count() == 1 {
            known.insert(b.to_string());
        }
    }
    let modules: BTreeMap<String, (Value, String)> = config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(MODULE).map(|p| (p.to_string(), v.clone())))
        .collect();
    let cx = Cx {
        res: &res,
        known,
        modules,
        unresolved: std::cell::RefCell::new(Vec::new()),
    };
    let mut out = Vec::new();
    for r in &res {
        if let Some(v) = cx.rewrite(r) {
            out.push(v);
        }
    }
    (out, cx.unresolved.into_inner())
}

struct Cx<'a> {
    res: &'a [Res],
    known: BTreeSet<String>,
    /// Per module prefix: its call's inputs and its outputs, and the parent's prefix.
    modules: BTreeMap<String, (Value, String)>,
    unresolved: std::cell::RefCell<Vec<(String, String, String)>>,
}

/// A value at a path of keys and indices (`["network_profile", "0", "service_cidr"]`).
fn at<'a>(v: &'a Value, p: &[&str]) -> Option<&'a Value> {
    p.iter()
        .try_fold(v, |cur, k| match k.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(*k),
        })
        .filter(|x| !x.is_null())
}

fn s(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(t) if !t.is_empty() => Some(t.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| s(Some(x))).collect(),
        Some(x) => s(Some(x)).into_iter().collect(),
        None => Vec::new(),
    }
}

fn snake_to_camel(k: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Cx<'_> {
    fn by_address(&self, a: &str) -> Option<&Res> {
        self.res
            .iter()
            .find(|r| r.address == a)
            .or_else(|| self.res.iter().find(|r| base(&r.address) == a))
    }

    /// The resources an attribute refers to (addresses), read from the configuration.
    fn refs(&self, r: &Res, p: &[&str]) -> Vec<String> {
        let Some(e) = at(&r.expressions, p) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        let all = strs(e.get("references"));
        for t in &all {
            for c in self.follow(&r.prefix, t, 0) {
                // `azurerm_subnet.s["a"]` and its base `azurerm_subnet.s` name one resource.
                if !out.iter().any(|o| base(o) == base(&c)) {
                    out.push(c);
                }
            }
        }
        if out.is_empty() && !all.is_empty() {
            self.unresolved
                .borrow_mut()
                .push((r.address.clone(), p.join("."), all.join(", ")));
        }
        out
    }

    /// The resources one reference names, written in the module at `prefix`: a resource
    /// address (with `.id` or not), a module input (`var.x`: the call's expression) or a
    /// module output (`module.m.x`: the output's expression).
    fn follow(&self, prefix: &str, t: &str, depth: usize) -> Vec<String> {
        self.follow_at(prefix, t, None, depth)
    }

    /// [`Cx::follow`], with the index a module output was read at (`module.net.ids["aks"]`):
    /// an output of every instance then names the instance of that key.
    fn follow_at(&self, prefix: &str, t: &str, index: Option<&str>, depth: usize) -> Vec<String> {
        if depth > 8 {
            return Vec::new();
        }
        let full = format!("{prefix}{t}");
        if let Some(i) = index {
            let b = full.strip_suffix(".id").unwrap_or(&full);
            let at = format!("{b}{i}");
            if self.known.contains(&at) {
                return vec![at];
            }
        }
        if self.known.contains(&full) {
            return vec![full];
        }
        if let Some(b) = full.strip_suffix(".id")
            && self.known.contains(b)
        {
            return vec![b.to_string()];
        }
        let name_of = |rest: &str| rest.split(['.', '[']).next().unwrap_or("").to_string();
        let refs_of = |v: Option<&Value>| strs(v.and_then(|x| x.get("references")));
        if let Some(rest) = t.strip_prefix("var.") {
            let Some((m, parent)) = self.modules.get(prefix) else {
                return Vec::new();
            };
            let name = name_of(rest);
            return refs_of(m.get("inputs").and_then(|i| i.get(&name)))
                .iter()
                .flat_map(|x| self.follow(parent, x, depth + 1))
                .collect();
        }
        if let Some(rest) = t.strip_prefix("module.") {
            let module = name_of(rest);
            let inner = format!("{prefix}module.{module}.");
            let after = rest.get(module.len() + 1..).unwrap_or("");
            let output = name_of(after);
            let index = after.get(output.len()..).filter(|i| i.starts_with('['));
            let Some((m, _)) = self.modules.get(&inner) else {
                return Vec::new();
            };
            return refs_of(
                m.get("outputs")
                    .and_then(|o| o.get(&output))
                    .and_then(|o| o.get("expression")),
            )
            .iter()
            .flat_map(|x| self.follow_at(&inner, x, index, depth + 1))
            .collect();
        }
        Vec::new()
    }

    /// An attribute that names other resources: the literal ids the plan knows, else the
    /// configuration's references.
    fn ids(&self, r: &Res, p: &[&str]) -> Vec<String> {
        let lit = strs(at(&r.values, p));
        if !lit.is_empty() {
            return lit;
        }
        self.refs(r, p)
    }

    /// Whether the attribute `p` of `a` names `r`: by its address (a plan's reference) or by
    /// its id (a state's, or a plan's known id; ids compared without case, as Azure does).
    fn names(&self, a: &Res, p: &[&str], r: &Res) -> bool {
        let id = s(r.values.get("id"));
        self.ids(a, p)
            .iter()
            .any(|x| *x == r.address || id.as_deref().is_some_and(|id| x.eq_ignore_ascii_case(id)))
    }

    fn id(&self, r: &Res, p: &[&str]) -> Option<String> {
        self.ids(r, p).into_iter().next()
    }

    /// The name of a referenced resource, for name paths.
    fn name_of(&self, reference: &str) -> String {
        match self.by_address(reference) {
            Some(r) => s(r.values.get("name")).unwrap_or_default(),
            None => reference
                .rsplit('/')
                .next()
                .unwrap_or(reference)
                .to_string(),
        }
    }

    fn rewrite(&self, r: &Res) -> Option<Value> {
        match r.kind.as_str() {
            "azurerm_subnet_network_security_group_association"
            | "azurerm_subnet_route_table_association"
            | "azurerm_network_interface_security_group_association"
            | "azurerm_network_interface_application_security_group_association"
            | "azurerm_network_security_rule"
            | "azurerm_route"
            | "azurerm_kubernetes_cluster_node_pool"
            | "azurerm_storage_account_network_rules" => None,
            "azurerm_virtual_network"
            | "azurerm_subnet"
            | "azurerm_virtual_network_peering"
            | "azurerm_network_security_group"
            | "azurerm_route_table"
            | "azurerm_local_network_gateway"
            | "azurerm_network_interface" => Some(self.rewrite_network(r)),
            _ => Some(self.rewrite_service(r)),
        }
    }

    /// A resource's id, type, name, location and properties, as `az` writes them.
    fn head(r: &Res, kind: &str, name: String, props: Value) -> Value {
        let location = r.values.get("location").cloned().unwrap_or(Value::Null);
        json!({"id": r.address, "type": kind, "name": name, "location": location, "properties": props})
    }

    /// VNets, subnets, peerings, NSGs, route tables and NICs.
    fn rewrite_network(&self, r: &Res) -> Value {
        let v = &r.values;
        let name = s(v.get("name")).unwrap_or_default();
        let head = |kind: &str, name: String, props: Value| Self::head(r, kind, name, props);
        let rid = |x: Option<String>| x.map_or(Value::Null, |i| json!({"id": i}));
        match r.kind.as_str() {
            "azurerm_virtual_network" => {
                let subnets: Vec<Value> = v
                    .get("subnet")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|sn| {
                        let mut pre = strs(sn.get("address_prefixes"));
                        pre.extend(strs(sn.get("address_prefix")));
                        json!({"name": sn.get("name"), "properties": {
                            "addressPrefixes": pre,
                            "networkSecurityGroup": rid(s(sn.get("security_group"))),
                        }})
                    })
                    .collect();
                head(
                    "Microsoft.Network/virtualNetworks",
                    name,
                    json!({"addressSpace": {"addressPrefixes": strs(v.get("address_space"))}, "subnets": subnets}),
                )
            }
            "azurerm_subnet" => {
                let vnet = s(v.get("virtual_network_name"))
                    .or_else(|| {
                        self.refs(r, &["virtual_network_name"])
                            .first()
                            .map(|a| self.name_of(a))
                    })
                    .unwrap_or_default();
                let mut pre = strs(v.get("address_prefixes"));
                pre.extend(strs(v.get("address_prefix")));
                let delegations: Vec<Value> = v
                    .get("delegation")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|d| strs(at(d, &["service_delegation", "0", "name"])))
                    .map(|n| json!({"properties": {"serviceName": n}}))
                    .collect();
                let assoc = |kind: &str, attr: &str| {
                    self.res.iter().find_map(|a| {
                        (a.kind == kind && self.names(a, &["subnet_id"], r))
                            .then(|| self.id(a, &[attr]))
                            .flatten()
                    })
                };
                head(
                    "Microsoft.Network/virtualNetworks/subnets",
                    format!("{vnet}/{name}"),
                    json!({
                        "addressPrefixes": pre,
                        "delegations": delegations,
                        "serviceEndpoints": strs(v.get("service_endpoints")),
                        "privateEndpointNetworkPolicies": v.get("private_endpoint_network_policies").cloned().map(|p| match p {
                            // azurerm 3 wrote a boolean `…_enabled`; 4 writes the REST value.
                            Value::Bool(b) => Value::String(if b { "Enabled" } else { "Disabled" }.into()),
                            x => x,
                        }),
                        "networkSecurityGroup": rid(assoc("azurerm_subnet_network_security_group_association", "network_security_group_id")),
                        "routeTable": rid(assoc("azurerm_subnet_route_table_association", "route_table_id")),
                    }),
                )
            }
            "azurerm_virtual_network_peering" => {
                let vnet = s(v.get("virtual_network_name")).unwrap_or_default();
                head(
                    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
                    format!("{vnet}/{name}"),
                    json!({
                        "remoteVirtualNetwork": rid(self.id(r, &["remote_virtual_network_id"])),
                        "allowVirtualNetworkAccess": v.get("allow_virtual_network_access"),
                    }),
                )
            }
            "azurerm_network_security_group" => {
                let mut rules: Vec<Value> = v
                    .get("security_rule")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(rule_rest)
                    .collect();
                for x in self.res.iter().filter(|x| {
                    x.kind == "azurerm_network_security_rule"
                        && s(x.values.get("network_security_group_name")).as_deref()
                            == Some(name.as_str())
                }) {
                    rules.push(rule_rest(&x.values));
                }
                head(
                    "Microsoft.Network/networkSecurityGroups",
                    name,
                    json!({"securityRules": rules}),
                )
            }
            "azurerm_local_network_gateway" => head(
                "Microsoft.Network/localNetworkGateways",
                name,
                json!({"localNetworkAddressSpace": {"addressPrefixes": strs(v.get("address_space"))}}),
            ),
            "azurerm_route_table" => {
                let mut routes: Vec<Value> = v
                    .get("route")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(route_rest)
                    .collect();
                for x in self.res.iter().filter(|x| {
                    x.kind == "azurerm_route"
                        && s(x.values.get("route_table_name")).as_deref() == Some(name.as_str())
                }) {
                    routes.push(route_rest(&x.values));
                }
                head(
                    "Microsoft.Network/routeTables",
                    name,
                    json!({"routes": routes}),
                )
            }
            "azurerm_network_interface" => {
                let n = v
                    .get("ip_configuration")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                // Application security groups join a NIC through association resources (one
                // per group; azurerm puts them on every IP configuration).
                let asgs: Vec<Value> = self
                    .res
                    .iter()
                    .filter(|a| {
                        a.kind == "azurerm_network_interface_application_security_group_association"
                            && self.names(a, &["network_interface_id"], r)
                    })
                    .filter_map(|a| self.id(a, &["application_security_group_id"]))
                    .map(|g| {
                        let name = if g.contains('/') { g } else { self.name_of(&g) };
                        json!({"id": name})
                    })
                    .collect();
                let configs: Vec<Value> = (0..n)
                    .map(|i| {
                        let i = i.to_string();
                        json!({"properties": {
                            "subnet": rid(self.id(r, &["ip_configuration", &i, "subnet_id"])),
                            "privateIPAddress": at(v, &["ip_configuration", &i, "private_ip_address"]),
                            "applicationSecurityGroups": asgs,
                        }})
                    })
                    .collect();
                let nsg = self.res.iter().find_map(|a| {
                    (a.kind == "azurerm_network_interface_security_group_association"
                        && self.names(a, &["network_interface_id"], r))
                    .then(|| self.id(a, &["network_security_group_id"]))
                    .flatten()
                });
                head(
                    "Microsoft.Network/networkInterfaces",
                    name,
                    json!({"ipConfigurations": configs, "networkSecurityGroup": rid(nsg)}),
                )
            }
            other => unreachable!("{other} is not a network resource"),
        }
    }

    /// Clusters, workspaces and their compute, stores, registries, VMs and container groups;
    /// any other resource by its address and type.
    fn rewrite_service(&self, r: &Res) -> Value {
        let v = &r.values;
        let name = s(v.get("name")).unwrap_or_default();
        let location = v.get("location").cloned().unwrap_or(Value::Null);
        let head = |kind: &str, name: String, props: Value| Self::head(r, kind, name, props);
        match r.kind.as_str() {
            "azurerm_kubernetes_cluster"
            | "azurerm_machine_learning_workspace"
            | "azurerm_machine_learning_compute_cluster"
            | "azurerm_machine_learning_compute_instance"
            | "azurerm_databricks_workspace" => self.rewrite_compute(r),
            "azurerm_storage_account" | "azurerm_key_vault" => {
                let block = if r.kind == "azurerm_key_vault" {
                    "network_acls"
                } else {
                    "network_rules"
                };
                let mut acl = acl_rest(self, r, &[block, "0"]);
                let kind = if r.kind == "azurerm_key_vault" {
                    "Microsoft.KeyVault/vaults"
                } else {
                    "Microsoft.Storage/storageAccounts"
                };
                // A separate azurerm_storage_account_network_rules resource.
                if let Some(x) = self.res.iter().find(|x| {
                    x.kind == "azurerm_storage_account_network_rules"
                        && self.ids(x, &["storage_account_id"]).contains(&r.address)
                }) {
                    acl = acl_rest(self, x, &[]);
                }
                let public = v
                    .get("public_network_access_enabled")
                    .and_then(Value::as_bool);
                head(
                    kind,
                    name,
                    json!({
                        "networkAcls": acl,
                        "publicNetworkAccess": if public == Some(false) { json!("Disabled") } else { Value::Null },
                    }),
                )
            }
            "azurerm_private_endpoint" => {
                let blocks = |x: &Value| {
                    at(x, &["private_service_connection"])
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                };
                let connections: Vec<Value> = (0..blocks(v).max(blocks(&r.expressions)))
                    .filter_map(|i| {
                        let i = i.to_string();
                        let target = self.id(
                            r,
                            &["private_service_connection", &i, "private_connection_resource_id"],
                        )?;
                        // A manual connection waits for the resource owner's approval.
                        let manual = at(v, &["private_service_connection", &i, "is_manual_connection"])
                            .and_then(Value::as_bool)
                            == Some(true);
                        Some(json!({"properties": {
                            "privateLinkServiceId": target,
                            "groupIds": at(v, &["private_service_connection", &i, "subresource_names"]),
                            "privateLinkServiceConnectionState": {"status": if manual { "Pending" } else { "Approved" }},
                        }}))
                    })
                    .collect();
                let subnet = self
                    .id(r, &["subnet_id"])
                    .map_or(Value::Null, |i| json!({"id": i}));
                head(
                    "Microsoft.Network/privateEndpoints",
                    name,
                    json!({"subnet": subnet, "privateLinkServiceConnections": connections}),
                )
            }
            "azurerm_container_registry" => {
                let blocks = |x: &Value| {
                    at(x, &["network_rule_set", "0", "virtual_network"])
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                };
                let acr_rules: Vec<Value> = (0..blocks(v).max(blocks(&r.expressions)))
                    .filter_map(|i| {
                        let i = i.to_string();
                        self.id(
                            r,
                            &["network_rule_set", "0", "virtual_network", &i, "subnet_id"],
                        )
                    })
                    .map(|i| json!({"id": i}))
                    .collect();
                let public = v
                    .get("public_network_access_enabled")
                    .and_then(Value::as_bool);
                json!({"id": r.address, "type": "Microsoft.ContainerRegistry/registries", "name": name,
                "location": location, "sku": {"name": v.get("sku")},
                "properties": {
                    "networkRuleSet": {
                        "defaultAction": at(v, &["network_rule_set", "0", "default_action"]),
                        "virtualNetworkRules": acr_rules,
                    },
                    "publicNetworkAccess": if public == Some(false) { json!("Disabled") } else { Value::Null },
                }})
            }
            "azurerm_linux_virtual_machine"
            | "azurerm_windows_virtual_machine"
            | "azurerm_virtual_machine" => {
                let img = at(v, &["source_image_reference", "0"])
                    .or_else(|| at(v, &["storage_image_reference", "0"]))
                    .cloned()
                    .unwrap_or(Value::Null);
                let nics: Vec<Value> = self
                    .ids(r, &["network_interface_ids"])
                    .into_iter()
                    .map(|n| json!({"id": n}))
                    .collect();
                head(
                    "Microsoft.Compute/virtualMachines",
                    name,
                    json!({
                        "storageProfile": {"imageReference": img},
                        "networkProfile": {"networkInterfaces": nics},
                    }),
                )
            }
            "azurerm_container_group" => {
                let subnets: Vec<Value> = self
                    .ids(r, &["subnet_ids"])
                    .into_iter()
                    .map(|n| json!({"id": n}))
                    .collect();
                let profile = self
                    .id(r, &["network_profile_id"])
                    .map_or(Value::Null, |i| json!({"id": i}));
                head(
                    "Microsoft.ContainerInstance/containerGroups",
                    name,
                    json!({"subnetIds": subnets, "networkProfile": profile}),
                )
            }
            "azurerm_network_profile" => {
                let mut configs = Vec::new();
                let count = |v: Option<&Value>| v.and_then(Value::as_array).map_or(0, Vec::len);
                for c in 0..count(v.get("container_network_interface")) {
                    let c = c.to_string();
                    let ips: Vec<Value> = (0..count(at(v, &["container_network_interface", &c, "ip_configuration"])))
                        .map(|i| {
                            let i = i.to_string();
                            let subnet = self.id(r, &["container_network_interface", &c, "ip_configuration", &i, "subnet_id"]);
                            json!({"properties": {"subnet": subnet.map_or(Value::Null, |s| json!({"id": s}))}})
                        })
                        .collect();
                    configs.push(json!({"properties": {"ipConfigurations": ips}}));
                }
                head(
                    "Microsoft.Network/networkProfiles",
                    name,
                    json!({"containerNetworkInterfaceConfigurations": configs}),
                )
            }
            // Read through the resources they attach to.
            _ => json!({"id": r.address, "type": format!("terraform:{}", r.kind), "name": name}),
        }
    }

    /// AKS clusters, Azure ML workspaces and their compute, Databricks workspaces.
    fn rewrite_compute(&self, r: &Res) -> Value {
        let v = &r.values;
        let name = s(v.get("name")).unwrap_or_default();
        let head = |kind: &str, name: String, props: Value| Self::head(r, kind, name, props);
        let rid = |x: Option<String>| x.map_or(Value::Null, |i| json!({"id": i}));
        match r.kind.as_str() {
            "azurerm_kubernetes_cluster" => {
                let np = at(v, &["network_profile", "0"])
                    .cloned()
                    .unwrap_or(json!({}));
                let g = |k: &str| np.get(k).cloned().unwrap_or(Value::Null);
                let mut pools = vec![pool_rest(
                    v,
                    &["default_node_pool", "0"],
                    self.id(r, &["default_node_pool", "0", "vnet_subnet_id"]),
                )];
                for x in self.res.iter().filter(|x| {
                    x.kind == "azurerm_kubernetes_cluster_node_pool"
                        && self.ids(x, &["kubernetes_cluster_id"]).contains(&r.address)
                }) {
                    pools.push(pool_rest(&x.values, &[], self.id(x, &["vnet_subnet_id"])));
                }
                head(
                    "Microsoft.ContainerService/managedClusters",
                    name,
                    json!({
                        "networkProfile": {
                            "networkPlugin": g("network_plugin"),
                            "networkPluginMode": g("network_plugin_mode"),
                            "serviceCidr": g("service_cidr"),
                            "dnsServiceIP": g("dns_service_ip"),
                            "podCidr": g("pod_cidr"),
                            "dockerBridgeCidr": g("docker_bridge_cidr"),
                        },
                        "agentPoolProfiles": pools,
                    }),
                )
            }
            "azurerm_machine_learning_workspace" => head(
                "Microsoft.MachineLearningServices/workspaces",
                name,
                json!({
                    "storageAccount": self.id(r, &["storage_account_id"]),
                    "keyVault": self.id(r, &["key_vault_id"]),
                    "containerRegistry": self.id(r, &["container_registry_id"]),
                    "imageBuildCompute": v.get("image_build_compute_name"),
                    // azurerm writes `managed_network { isolation_mode = … }` as a one-item list.
                    "managedNetwork": {"isolationMode": at(v, &["managed_network", "0", "isolation_mode"])},
                }),
            ),
            "azurerm_machine_learning_compute_cluster"
            | "azurerm_machine_learning_compute_instance" => {
                let ws = self
                    .id(r, &["machine_learning_workspace_id"])
                    .map(|w| self.name_of(&w))
                    .unwrap_or_default();
                let cluster = r.kind.ends_with("cluster");
                head(
                    "Microsoft.MachineLearningServices/workspaces/computes",
                    format!("{ws}/{name}"),
                    json!({
                        "computeType": if cluster { "AmlCompute" } else { "ComputeInstance" },
                        "properties": {
                            "subnet": rid(self.id(r, &["subnet_resource_id"])),
                            "scaleSettings": {"maxNodeCount": at(v, &["scale_settings", "0", "max_node_count"])},
                            // azurerm 4 spells it node_public_ip_enabled; 3 had the negation.
                            "enableNodePublicIp": v.get("node_public_ip_enabled").cloned().or_else(|| {
                                v.get("public_ip_enabled").cloned()
                            }),
                        },
                    }),
                )
            }
            "azurerm_databricks_workspace" => {
                let p = |k: &str| json!({"value": at(v, &["custom_parameters", "0", k])});
                let vnet = self.id(r, &["custom_parameters", "0", "virtual_network_id"]);
                head(
                    "Microsoft.Databricks/workspaces",
                    name,
                    json!({"parameters": {
                        "customVirtualNetworkId": {"value": vnet},
                        "customPublicSubnetName": p("public_subnet_name"),
                        "customPrivateSubnetName": p("private_subnet_name"),
                    }}),
                )
            }
            other => unreachable!("{other} is not a compute resource"),
        }
    }
}

fn acl_rest(cx: &Cx, r: &Res, p: &[&str]) -> Value {
    let v = &r.values;
    let mut path: Vec<&str> = p.to_vec();
    let g = |path: &mut Vec<&str>, k: &'static str| {
        path.push(k);
        let x = at(v, path).cloned();
        path.pop();
        x
    };
    let Some(action) = g(&mut path, "default_action") else {
        return Value::Null;
    };
    let bypass = strs(g(&mut path, "bypass").as_ref()).join(",");
    path.push("virtual_network_subnet_ids");
    let subnets: Vec<Value> = cx
        .ids(r, &path)
        .into_iter()
        .map(|i| json!({"id": i}))
        .collect();
    json!({"defaultAction": action, "bypass": bypass, "virtualNetworkRules": subnets})
}

fn pool_rest(v: &Value, p: &[&str], subnet: Option<String>) -> Value {
    let g = |k: &str| {
        let mut path = p.to_vec();
        path.push(k);
        at(v, &path).cloned().unwrap_or(Value::Null)
    };
    let auto = match g("auto_scaling_enabled") {
        Value::Null => g("enable_auto_scaling"),
        x => x,
    };
    json!({
        "name": g("name"),
        "count": g("node_count"),
        "maxCount": g("max_count"),
        "maxPods": g("max_pods"),
        "enableAutoScaling": auto,
        "vnetSubnetID": subnet,
    })
}

/// A Terraform security rule in the REST shape the NSG engine reads.
fn rule_rest(v: &Value) -> Value {
    let mut props = Map::new();
    let mut name = Value::Null;
    if let Some(o) = v.as_object() {
        for (k, x) in o {
            match x {
                Value::Null => continue,
                Value::String(t) if t.is_empty() => continue,
                Value::Array(a) if a.is_empty() => continue,
                _ => {}
            }
            if k == "name" {
                name = x.clone();
            } else if !matches!(
                k.as_str(),
                "network_security_group_name" | "resource_group_name" | "id" | "timeouts"
            ) {
                let key = match k.as_str() {
                    "source_application_security_group_ids" => {
                        "sourceApplicationSecurityGroups".to_string()
                    }
                    "destination_application_security_group_ids" => {
                        "destinationApplicationSecurityGroups".to_string()
                    }
                    _ => snake_to_camel(k),
                };
                let val = if key.ends_with("ApplicationSecurityGroups") {
                    Value::Array(
                        strs(Some(x))
                            .into_iter()
                            .map(|i| json!({"id": i}))
                            .collect(),
                    )
                } else {
                    x.clone()
                };
                props.insert(key, val);
            }
        }
    }
    json!({"name": name, "properties": props})
}

fn route_rest(v: &Value) -> Value {
    json!({"name": v.get("name"), "properties": {
        "addressPrefix": v.get("address_prefix"),
        "nextHopType": v.get("next_hop_type"),
        "nextHopIpAddress": v.get("next_hop_in_ip_address"),
    }})
}
