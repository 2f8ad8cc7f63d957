//! Resources in Azure's own shapes — `az … show -o json` (properties flattened), the REST and
//! ARM shape (nested `properties`) and `az resource list` — mapped to the model.
//!
//! Field names are matched without regard to case, `_` or `-` (`dnsServiceIP`, `dnsServiceIp`
//! and `dns_service_ip` are one field), first on the resource, then inside `properties` (and
//! the nested `properties` of Azure ML computes).

use crate::check::model::*;
use crate::findings::Finding;
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;

/// A key as fields are matched: without `_` and `-`, lowercased (`address_prefix`,
/// `addressPrefix` and `AddressPrefix` meet).
fn norm_chars(k: &str) -> impl Iterator<Item = char> + '_ {
    k.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
}

fn norm(k: &str) -> String {
    norm_chars(k).collect()
}

/// Whether key `k` is `want` (already [`norm`]ed), without building the normed key.
fn is_key(k: &str, want: &str) -> bool {
    norm_chars(k).eq(want.chars())
}

/// The field `key` of `v`, looked up on `v` and then inside its `properties` (twice nested at
/// most). Null counts as absent.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let want = norm(key);
    let mut cur = v;
    for _ in 0..3 {
        let o = cur.as_object()?;
        if let Some((_, x)) = o.iter().find(|(k, x)| is_key(k, &want) && !x.is_null()) {
            return Some(x);
        }
        cur = o.iter().find(|(k, _)| is_key(k, "properties"))?.1;
    }
    None
}

/// A field by a path of keys.
pub fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |cur, k| field(cur, k))
}

pub use crate::arm::UNEVALUATED;

/// The ARM type of a resource id: `…/providers/Microsoft.MachineLearningServices/workspaces/w/
/// computes/c` → `Microsoft.MachineLearningServices/workspaces/computes`.
pub fn type_of_id(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let at = lower.rfind("/providers/")?;
    let rest: Vec<&str> = id[at + "/providers/".len()..]
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if rest.len() < 3 || rest.len().is_multiple_of(2) {
        return None;
    }
    let mut t = vec![rest[0]];
    t.extend(rest[1..].iter().step_by(2));
    Some(t.join("/"))
}

/// Output of the az CLI's `ml` extension (v2: `az ml workspace show`, `az ml compute show`) in
/// the shape the readers take: the ARM type from the id (v2 prints none for a workspace, and
/// `amlcompute` or `computeinstance` for a compute), a compute's subnet and scale from
/// `network_settings` and `max_instances`, and an array or `{"value": [...]}` of them alike.
pub fn cli_shape(doc: Value) -> Value {
    match doc {
        Value::Array(a) => Value::Array(a.into_iter().map(cli_shape).collect()),
        Value::Object(mut o) => {
            if let Some(Value::Array(items)) = o.get_mut("value") {
                let items = std::mem::take(items);
                o.insert(
                    "value".into(),
                    Value::Array(items.into_iter().map(cli_shape).collect()),
                );
                return Value::Object(o);
            }
            let arm_type = o
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains('/'));
            let from_id = o.get("id").and_then(Value::as_str).and_then(type_of_id);
            if arm_type || from_id.is_none() || o.contains_key("$schema") {
                return Value::Object(o);
            }
            let given = o.get("type").and_then(Value::as_str).map(str::to_string);
            let t = from_id.expect("checked above");
            if t.eq_ignore_ascii_case("Microsoft.MachineLearningServices/workspaces/computes") {
                if let Some(g) = &given {
                    o.entry("computeType").or_insert(Value::String(g.clone()));
                }
                if let Some(subnet) = o.get("network_settings").and_then(|n| n.get("subnet"))
                    && (subnet.as_str().is_some_and(|s| !s.is_empty())
                        || subnet.get("id").is_some())
                {
                    let subnet = subnet.clone();
                    o.entry("subnet").or_insert(subnet);
                }
                if let Some(m) = o.get("max_instances").cloned() {
                    o.entry("scaleSettings")
                        .or_insert(serde_json::json!({"maxNodeCount": m}));
                }
            }
            o.insert("type".into(), Value::String(t));
            Value::Object(o)
        }
        other => other,
    }
}

/// Whether a private-link connection is approved (one without a state, as a template's, is
/// taken as approved: it is what the template asks for).
fn approved(c: &Value) -> bool {
    text(path(c, &["privateLinkServiceConnectionState", "status"]))
        .is_none_or(|s| s.eq_ignore_ascii_case("Approved"))
}

/// The private endpoints (ids) of a resource's approved `privateEndpointConnections`.
fn approved_endpoints(v: &Value) -> Vec<String> {
    list(field(v, "privateEndpointConnections"))
        .into_iter()
        .filter(|c| approved(c))
        .filter_map(|c| reference(field(c, "privateEndpoint")))
        .collect()
}

/// Whether a value is [`UNEVALUATED`].
pub fn is_unevaluated(v: &Value) -> bool {
    v.as_str() == Some(UNEVALUATED)
}

/// A string, or a number as text.
pub fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s == UNEVALUATED => None,
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o
            .iter()
            .find(|(k, _)| is_key(k, "value"))
            .and_then(|(_, x)| text(Some(x))),
        _ => None,
    }
}

/// A reference: an id string, or an object holding `id`.
pub fn reference(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s == UNEVALUATED => None,
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        o @ Value::Object(_) => text(field(o, "id")),
        _ => None,
    }
}

/// A list of values (a single value is a list of one).
pub fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(x) if !x.is_null() => vec![x],
        _ => Vec::new(),
    }
}

/// A number.
pub fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean.
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Where a value sits, for messages.
pub struct Place<'a> {
    /// The file.
    pub origin: &'a str,
    /// The resource.
    pub resource: &'a str,
}

/// A prefix, or a `check-bad-value` problem naming where it is.
fn prefix(net: &mut Network, at: &Place, field_name: &str, t: &str) -> Option<IpNet> {
    match t.parse::<IpNet>() {
        Ok(n) => {
            if n.trunc() != n {
                net.problems.push(
                    Finding::new(
                        crate::findings::Code::BadValue,
                        at.resource,
                        format!(
                            "{}: {field_name} `{t}` has host bits set, which Azure refuses; checked as {}",
                            at.origin,
                            n.trunc()
                        ),
                    )
                    .fix(format!("write {}", n.trunc())),
                );
            }
            Some(n.trunc())
        }
        Err(_) => {
            net.problems.push(Finding::new(
                crate::findings::Code::BadValue,
                at.resource,
                format!(
                    "{}: {field_name} `{t}` is not a CIDR prefix (ADDRESS/LENGTH)",
                    at.origin
                ),
            ));
            None
        }
    }
}

fn prefixes(net: &mut Network, at: &Place, field_name: &str, vals: Vec<&Value>) -> Vec<IpNet> {
    vals.into_iter()
        .filter_map(|x| text(Some(x)))
        .filter_map(|t| prefix(net, at, field_name, &t))
        .collect()
}

fn meta(v: &Value, kind: &str, name_path: &str, origin: &str) -> Meta {
    let id = text(v.get("id")).unwrap_or_default();
    let mut keys = vec![key_from(kind, name_path)];
    if !id.is_empty() {
        keys.push(key_of(&id));
    }
    keys.dedup();
    Meta {
        id: if id.is_empty() {
            name_path.to_string()
        } else {
            id.clone()
        },
        name: name_path
            .rsplit('/')
            .next()
            .unwrap_or(name_path)
            .to_string(),
        keys,
        location: text(v.get("location")).map(|l| l.to_ascii_lowercase().replace(' ', "")),
        subscription: subscription_of(&id),
        resource_group: resource_group_of(&id),
        origin: origin.to_string(),
    }
}

fn is(kind: &str, want: &str) -> bool {
    kind.eq_ignore_ascii_case(want)
}

/// The name path of a resource: `name` as given (ARM child resources: `parent/child`), or
/// read from its id.
fn name_path(v: &Value, kind: &str) -> String {
    let name = text(v.get("name")).unwrap_or_default();
    let depth = kind.matches('/').count();
    if name.matches('/').count() + 1 >= depth {
        return name;
    }
    // `az` child resources carry the short name; the id has the parents.
    if let Some(id) = text(v.get("id")) {
        let key = key_of(&id);
        let parts: Vec<&str> = key.split('/').collect();
        let names: Vec<&str> = parts.iter().skip(2).step_by(2).copied().collect();
        if names.len() == depth {
            // Keep the given name's case for the last segment.
            let mut n: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            if let Some(last) = n.last_mut() {
                *last = name.clone();
            }
            return n.join("/");
        }
    }
    name
}

/// Maps one resource into the network. Returns false for a type `check` does not read.
pub fn map_resource(net: &mut Network, v: &Value, origin: &str) -> bool {
    let Some(kind) = text(v.get("type")) else {
        return false;
    };
    let np = name_path(v, &kind);
    let m = meta(v, &kind, &np, origin);
    let at = Place {
        origin,
        resource: &m.id.clone(),
    };
    if is(&kind, "Microsoft.Network/virtualNetworks") {
        let space_values = list(path(v, &["addressSpace", "addressPrefixes"]));
        // Unevaluated values have their own finding (TN098), not "no address space" too.
        let unevaluated = space_values.iter().any(|v| is_unevaluated(v))
            || path(v, &["addressSpace"]).is_some_and(is_unevaluated);
        let spaces = prefixes(net, &at, "addressSpace", space_values);
        let mut peerings = Vec::new();
        for p in list(field(v, "virtualNetworkPeerings")) {
            let spaces = prefixes(
                net,
                &at,
                "remoteAddressSpace",
                list(path(p, &["remoteAddressSpace", "addressPrefixes"])),
            );
            let state = text(field(p, "peeringState"));
            if state
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case("Connected"))
            {
                continue;
            }
            peerings.push(Peering {
                name: text(p.get("name")).unwrap_or_default(),
                remote: reference(field(p, "remoteVirtualNetwork")),
                spaces,
                no_vnet_access: boolean(field(p, "allowVirtualNetworkAccess")) == Some(false),
            });
        }
        for s in list(field(v, "subnets")) {
            let sname = text(s.get("name")).unwrap_or_default();
            let sv = subnet_value(s, &format!("{np}/{sname}"));
            map_subnet(net, &sv, origin, &np, &m);
        }
        if spaces.is_empty() && !unevaluated && !net.problems.iter().any(|f| f.resource == m.id) {
            net.problems.push(Finding::new(
                crate::findings::Code::BadValue,
                &m.id,
                format!(
                    "{origin}: the network has no address space (addressSpace.addressPrefixes)"
                ),
            ));
        }
        net.vnets.push(Vnet {
            meta: m,
            spaces,
            peerings,
        });
    } else if is(&kind, "Microsoft.Network/virtualNetworks/subnets") {
        let parent = np.split('/').next().unwrap_or("").to_string();
        let vm = Meta {
            keys: vec![key_from("Microsoft.Network/virtualNetworks", &parent)],
            ..Meta::default()
        };
        map_subnet(net, v, origin, &parent, &vm);
    } else if is(
        &kind,
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
    ) {
        let parent = np.split('/').next().unwrap_or("").to_string();
        let spaces = prefixes(
            net,
            &at,
            "remoteAddressSpace",
            list(path(v, &["remoteAddressSpace", "addressPrefixes"])),
        );
        net.pending_peerings.push((
            key_from("Microsoft.Network/virtualNetworks", &parent),
            Peering {
                name: m.name.clone(),
                remote: reference(field(v, "remoteVirtualNetwork")),
                spaces,
                no_vnet_access: boolean(field(v, "allowVirtualNetworkAccess")) == Some(false),
            },
        ));
    } else if is(&kind, "Microsoft.Network/networkSecurityGroups") {
        let mut doc = v.clone();
        if let Some(o) = doc.as_object_mut() {
            o.insert("name".into(), Value::String(m.name.clone()));
        }
        for s in list(field(v, "subnets")) {
            if let Some(r) = reference(Some(s)) {
                net.pending_associations.push((m.id.clone(), false, r));
            }
        }
        match crate::nsg::read::parse(doc.to_string().as_bytes(), origin) {
            Ok(mut list) if list.len() == 1 => net.nsgs.push(NsgRes {
                meta: m,
                nsg: list.remove(0),
            }),
            Ok(_) => {}
            // A value that cannot be evaluated offline has its own finding (TN098), which
            // says the checks that need it are skipped: it is not also a bad value.
            Err(_) if crate::arm::holds_unevaluated(&doc) => net.unreadable.push(m),
            Err(e) => {
                net.problems.push(
                    Finding::new(
                        crate::findings::Code::BadValue,
                        &m.id,
                        format!("the NSG cannot be read, so nothing it guards is checked against it: {e}"),
                    )
                    .fix("correct the value the message names (a template's with --parameters or --location), then check again"),
                );
                net.unreadable.push(m);
            }
        }
    } else if is(&kind, "Microsoft.Network/routeTables") {
        let mut doc = v.clone();
        if let Some(o) = doc.as_object_mut() {
            o.entry("routes").or_insert_with(|| {
                field(v, "routes")
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new()))
            });
        }
        for s in list(field(v, "subnets")) {
            if let Some(r) = reference(Some(s)) {
                net.pending_associations.push((m.id.clone(), true, r));
            }
        }
        match crate::routes::audit::parse_route_table(doc.to_string().as_bytes(), origin) {
            Ok(table) => net.tables.push(TableRes { meta: m, table }),
            Err(e) => net.problems.push(Finding::new(
                crate::findings::Code::BadValue,
                &m.id,
                format!("the route table cannot be read: {e}"),
            )),
        }
    } else {
        return map_service(net, v, &kind, &np, m, origin);
    }
    true
}

/// Clusters, workspaces and their compute, stores, registries, NICs, VMs and container groups
/// (the rest of [`map_resource`]); `false` for a type `check` does not read.
fn map_service(net: &mut Network, v: &Value, kind: &str, np: &str, m: Meta, origin: &str) -> bool {
    let kind = kind.to_string();
    let id = m.id.clone();
    let at = Place {
        origin,
        resource: &id,
    };
    if is(&kind, "Microsoft.ContainerService/managedClusters") {
        map_cluster(net, v, m);
    } else if is(&kind, "Microsoft.MachineLearningServices/workspaces") {
        net.workspaces.push(Workspace {
            storage: reference(field(v, "storageAccount")),
            vault: reference(field(v, "keyVault")),
            registry: reference(field(v, "containerRegistry")),
            image_build_compute: text(field(v, "imageBuildCompute")),
            managed_network: path(v, &["managedNetwork", "isolationMode"])
                .and_then(|x| text(Some(x)))
                .is_some_and(|mode| {
                    let mode = mode.replace('_', "").to_ascii_lowercase();
                    mode == "allowinternetoutbound" || mode == "allowonlyapprovedoutbound"
                }),
            meta: m,
        });
    } else if is(
        &kind,
        "Microsoft.MachineLearningServices/workspaces/computes",
    ) {
        let parent = np.split('/').next().unwrap_or("").to_string();
        let ctype = text(field(v, "computeType"))
            .unwrap_or_else(|| "AmlCompute".into())
            .to_ascii_lowercase();
        let ck = match ctype.as_str() {
            "amlcompute" => ComputeKind::Cluster,
            "computeinstance" => ComputeKind::Instance,
            "virtualmachine" => ComputeKind::AttachedVm,
            other => ComputeKind::Other(other.to_string()),
        };
        let max_nodes = count(
            net,
            &at,
            "scaleSettings.maxNodeCount",
            path(v, &["scaleSettings", "maxNodeCount"]),
            100_000,
        )
        .unwrap_or(if ck == ComputeKind::Cluster { 0 } else { 1 });
        net.computes.push(Compute {
            workspace: Some(key_from(
                "Microsoft.MachineLearningServices/workspaces",
                &parent,
            )),
            subnet: reference(field(v, "subnet")),
            vm: reference(field(v, "resourceId")),
            public_ip: field(v, "enableNodePublicIp").and_then(|x| match x {
                Value::Bool(b) => Some(*b),
                Value::String(s) => s.parse().ok(),
                _ => None,
            }),
            kind: ck,
            max_nodes,
            meta: m,
        });
    } else if is(&kind, "Microsoft.Storage/storageAccounts")
        || is(&kind, "Microsoft.KeyVault/vaults")
    {
        let acl = field(v, "networkAcls").or_else(|| field(v, "networkRuleSet"));
        let (deny, bypass, subnets) = match acl {
            Some(a) => (
                text(field(a, "defaultAction")).is_some_and(|d| d.eq_ignore_ascii_case("Deny")),
                text(field(a, "bypass")).is_some_and(|b| {
                    b.split(',')
                        .any(|x| x.trim().eq_ignore_ascii_case("AzureServices"))
                }),
                list(field(a, "virtualNetworkRules"))
                    .into_iter()
                    .filter_map(|r| {
                        text(field(r, "id")).or_else(|| text(field(r, "virtualNetworkResourceId")))
                    })
                    .collect(),
            ),
            None => (false, true, Vec::new()),
        };
        let public_off = text(field(v, "publicNetworkAccess"))
            .is_some_and(|p| p.eq_ignore_ascii_case("Disabled"));
        net.stores.push(Store {
            kind: if is(&kind, "Microsoft.KeyVault/vaults") {
                StoreKind::KeyVault
            } else {
                StoreKind::Storage
            },
            default_deny: deny || public_off,
            public_disabled: public_off,
            trusted_bypass: bypass,
            subnets,
            endpoints: approved_endpoints(v),
            meta: m,
        });
    } else if is(&kind, "Microsoft.ContainerRegistry/registries") {
        let rules = field(v, "networkRuleSet");
        let deny = rules
            .and_then(|r| text(field(r, "defaultAction")))
            .is_some_and(|d| d.eq_ignore_ascii_case("Deny"));
        let public_off = text(field(v, "publicNetworkAccess"))
            .is_some_and(|p| p.eq_ignore_ascii_case("Disabled"));
        net.registries.push(Registry {
            sku: text(path(v, &["sku", "name"])).or_else(|| text(field(v, "sku"))),
            restricted: deny || public_off,
            subnets: list(rules.and_then(|r| field(r, "virtualNetworkRules")))
                .into_iter()
                .filter_map(|r| {
                    text(field(r, "id")).or_else(|| text(field(r, "virtualNetworkResourceId")))
                })
                .collect(),
            ip_rules: !list(rules.and_then(|r| field(r, "ipRules"))).is_empty(),
            endpoints: approved_endpoints(v),
            meta: m,
        });
    } else if is(&kind, "Microsoft.Network/privateEndpoints") {
        let mut targets = Vec::new();
        let mut groups = Vec::new();
        for c in list(field(v, "privateLinkServiceConnections"))
            .into_iter()
            .chain(list(field(v, "manualPrivateLinkServiceConnections")))
        {
            if let Some(t) = text(field(c, "privateLinkServiceId"))
                && approved(c)
            {
                targets.push(t);
                groups.extend(
                    list(field(c, "groupIds"))
                        .into_iter()
                        .filter_map(|g| text(Some(g)))
                        .map(|g| g.to_ascii_lowercase()),
                );
            }
        }
        let mut addresses: Vec<IpAddr> = list(field(v, "customDnsConfigs"))
            .into_iter()
            .flat_map(|c| list(field(c, "ipAddresses")))
            .chain(
                list(field(v, "ipConfigurations"))
                    .into_iter()
                    .filter_map(|c| field(c, "privateIPAddress")),
            )
            .filter_map(|a| text(Some(a)).and_then(|t| t.parse().ok()))
            .collect();
        addresses.sort();
        addresses.dedup();
        net.private_endpoints.push(PrivateEndpoint {
            subnet: reference(field(v, "subnet")),
            targets,
            groups,
            addresses,
            meta: m,
        });
    } else if is(&kind, "Microsoft.Databricks/workspaces") {
        let p = field(v, "parameters");
        let get = |k: &str| p.and_then(|p| text(field(p, k)));
        net.databricks.push(Databricks {
            vnet: get("customVirtualNetworkId"),
            public_subnet: get("customPublicSubnetName"),
            private_subnet: get("customPrivateSubnetName"),
            meta: m,
        });
    } else if is(&kind, "Microsoft.Compute/virtualMachines") {
        let img = path(v, &["storageProfile", "imageReference"]);
        let image = img.map(|i| {
            (
                text(field(i, "publisher")).unwrap_or_default(),
                text(field(i, "offer")).unwrap_or_default(),
                text(field(i, "sku")).unwrap_or_default(),
            )
        });
        net.vms.push(Vm {
            image,
            nics: list(path(v, &["networkProfile", "networkInterfaces"]))
                .into_iter()
                .filter_map(|n| reference(Some(n)))
                .collect(),
            meta: m,
        });
    } else if is(&kind, "Microsoft.Network/networkInterfaces") {
        let mut subnets = Vec::new();
        let mut addresses = Vec::new();
        let mut asgs = Vec::new();
        for c in list(field(v, "ipConfigurations")) {
            subnets.extend(reference(field(c, "subnet")));
            let ip = text(field(c, "privateIPAddress")).and_then(|a| a.parse::<IpAddr>().ok());
            addresses.extend(ip);
            for g in list(field(c, "applicationSecurityGroups")) {
                if let Some(r) = reference(Some(g)) {
                    let name = r.trim_end_matches('/').rsplit('/').next().unwrap_or(&r);
                    asgs.push((name.to_string(), ip));
                }
            }
        }
        net.nics.push(Nic {
            subnets,
            asgs,
            addresses,
            nsg: reference(field(v, "networkSecurityGroup")),
            meta: m,
        });
    } else if is(&kind, "Microsoft.ContainerInstance/containerGroups") {
        let subnets: Vec<String> = list(field(v, "subnetIds"))
            .into_iter()
            .filter_map(|s| reference(Some(s)))
            .collect();
        net.container_groups.push(ContainerGroup {
            subnets,
            network_profile: reference(field(v, "networkProfile")),
            meta: m,
        });
    } else if is(&kind, "Microsoft.Network/localNetworkGateways") {
        let prefixes = prefixes(
            net,
            &at,
            "localNetworkAddressSpace",
            list(path(v, &["localNetworkAddressSpace", "addressPrefixes"])),
        );
        net.local_gateways.push(LocalGateway { prefixes, meta: m });
    } else if is(&kind, "Microsoft.Network/networkProfiles") {
        let subnets = list(field(v, "containerNetworkInterfaceConfigurations"))
            .into_iter()
            .flat_map(|c| list(field(c, "ipConfigurations")))
            .filter_map(|i| reference(field(i, "subnet")))
            .collect();
        net.network_profiles
            .push(NetworkProfileRes { subnets, meta: m });
    } else {
        *net.skipped.entry(kind).or_default() += 1;
        return false;
    }
    true
}

/// A subnet of a VNet's `subnets` list, with its name path for an id-less (ARM) subnet.
fn subnet_value(s: &Value, name_path: &str) -> Value {
    let mut v = s.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert("name".into(), Value::String(name_path.to_string()));
    }
    v
}

fn map_subnet(net: &mut Network, v: &Value, origin: &str, vnet_name: &str, vnet: &Meta) {
    let kind = "Microsoft.Network/virtualNetworks/subnets";
    let np = text(v.get("name")).unwrap_or_default();
    let np = if np.contains('/') {
        np
    } else {
        format!("{vnet_name}/{np}")
    };
    let m = meta(v, kind, &np, origin);
    let at = Place {
        origin,
        resource: &m.id.clone(),
    };
    let mut vals = list(field(v, "addressPrefixes"));
    if vals.is_empty() {
        vals = list(field(v, "addressPrefix"));
    }
    // A prefix that cannot be evaluated offline has its own finding (TN098): it is not
    // also reported missing.
    let unevaluated = vals.iter().any(|v| is_unevaluated(v));
    let prefixes = prefixes(net, &at, "addressPrefix", vals);
    if prefixes.is_empty() && !unevaluated && !net.problems.iter().any(|f| f.resource == m.id) {
        net.problems.push(Finding::new(
            crate::findings::Code::BadValue,
            &m.id,
            format!(
                "{origin}: the subnet has no address prefix (addressPrefix or addressPrefixes)"
            ),
        ));
    }
    // The network by its full id when known (two networks of one name in two resource
    // groups are two networks), else by its key.
    let lower = m.id.to_ascii_lowercase();
    let vnet_ref = if vnet.id.to_ascii_lowercase().contains("/providers/") {
        vnet.id.clone()
    } else if lower.contains("/providers/") && lower.contains("/subnets/") {
        m.id[..lower.rfind("/subnets/").unwrap_or(m.id.len())].to_string()
    } else {
        vnet.keys
            .first()
            .cloned()
            .unwrap_or_else(|| key_from("Microsoft.Network/virtualNetworks", vnet_name))
    };
    net.subnets.push(Subnet {
        vnet: vnet_ref,
        prefixes,
        nsg: reference(field(v, "networkSecurityGroup")),
        route_table: reference(field(v, "routeTable")),
        delegations: list(field(v, "delegations"))
            .into_iter()
            .filter_map(|d| text(field(d, "serviceName")))
            .collect(),
        service_endpoints: list(field(v, "serviceEndpoints"))
            .into_iter()
            .filter_map(|e| {
                let service = text(field(e, "service")).or_else(|| text(Some(e)))?;
                let locations = list(field(e, "locations"))
                    .into_iter()
                    .filter_map(|l| text(Some(l)))
                    .collect();
                Some((service, locations))
            })
            .collect(),
        pe_route_policies: text(field(v, "privateEndpointNetworkPolicies")).is_some_and(|p| {
            p.eq_ignore_ascii_case("Enabled") || p.eq_ignore_ascii_case("RouteTableEnabled")
        }),
        pe_nsg_policies: text(field(v, "privateEndpointNetworkPolicies")).is_some_and(|p| {
            p.eq_ignore_ascii_case("Enabled")
                || p.eq_ignore_ascii_case("NetworkSecurityGroupEnabled")
        }),
        meta: m,
    });
}

/// A count (nodes, pods): absent is `None`; present but not a whole number in `0..=max` is a
/// `bad-value` problem (and `None`).
fn count(net: &mut Network, at: &Place, name: &str, v: Option<&Value>, max: u64) -> Option<u64> {
    let v = v?;
    if is_unevaluated(v) {
        return None;
    }
    match number(Some(v)) {
        Some(n) if n <= max => Some(n),
        _ => {
            net.problems.push(Finding::new(
                crate::findings::Code::BadValue,
                at.resource,
                format!(
                    "{}: {name} `{v}` is not a whole number from 0 to {max}",
                    at.origin
                ),
            ));
            None
        }
    }
}

fn map_cluster(net: &mut Network, v: &Value, m: Meta) {
    let np = field(v, "networkProfile");
    let get = |k: &str| np.and_then(|p| text(field(p, k)));
    let given = |k: &str| np.and_then(|p| field(p, k)).is_some();
    let at = Place {
        origin: &m.origin.clone(),
        resource: &m.id.clone(),
    };
    let plugin = get("networkPlugin")
        .unwrap_or_else(|| "kubenet".into())
        .to_ascii_lowercase();
    let overlay = get("networkPluginMode").is_some_and(|x| x.eq_ignore_ascii_case("overlay"));
    // AKS's defaults apply to what a definition leaves out (not to what cannot be evaluated).
    let mut defaulted = Vec::new();
    // A field given as something no text can be read from (an object, a list, a boolean) is a
    // bad value, not an absent one: AKS's default is not assumed for it.
    let wrong_type = |k: &str| {
        np.and_then(|p| field(p, k))
            .filter(|x| !x.is_null() && !is_unevaluated(x) && text(Some(x)).is_none())
            .map(|x| {
                Finding::new(
                    crate::findings::Code::BadValue,
                    at.resource,
                    format!(
                        "{}: {k} is `{}`, not text AKS reads",
                        at.origin,
                        crate::text::quoted(&x.to_string())
                    ),
                )
            })
    };
    for k in [
        "serviceCidr",
        "podCidr",
        "dockerBridgeCidr",
        "dnsServiceIP",
        "networkPlugin",
        "networkPluginMode",
    ] {
        if let Some(f) = wrong_type(k) {
            net.problems.push(f);
        }
    }
    // A plugin AKS does not have (a typo such as `azurecni`) is not read as kubenet silently.
    if let Some(p) = get("networkPlugin")
        && !["azure", "kubenet", "none"].contains(&p.to_ascii_lowercase().as_str())
    {
        net.problems.push(Finding::new(
            crate::findings::Code::BadValue,
            at.resource,
            format!(
                "{}: networkPlugin `{}` is none of azure, kubenet, none; the subnet's size is checked as for kubenet",
                at.origin,
                crate::text::quoted(&p)
            ),
        ));
    }
    let mut cidr = |k: &str, default: Option<&str>| match get(k) {
        Some(t) => prefix(net, &at, k, &t),
        None if !given(k) => default.map(|d| {
            defaulted.push(k.to_string());
            d.parse::<IpNet>().expect("a valid default")
        }),
        None => None,
    };
    let service_cidr = cidr("serviceCidr", Some("10.0.0.0/16"));
    let pods_from_cidr = plugin == "kubenet" || overlay;
    let pod_cidr = cidr("podCidr", pods_from_cidr.then_some("10.244.0.0/16"));
    let docker_bridge = get("dockerBridgeCidr").and_then(|t| {
        // The bridge is written as the bridge's address with its length (172.17.0.1/16).
        t.parse::<IpNet>().ok().map(|n| n.trunc())
    });
    let dns_ip = match get("dnsServiceIP") {
        Some(t) => match t.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                net.problems.push(Finding::new(
                    crate::findings::Code::BadValue,
                    at.resource,
                    format!("{}: dnsServiceIP `{t}` is not an IP address", at.origin),
                ));
                None
            }
        },
        None if !given("dnsServiceIP") && defaulted.iter().any(|d| d == "serviceCidr") => {
            defaulted.push("dnsServiceIP".into());
            Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 10)))
        }
        None => None,
    };
    let mut pools = Vec::new();
    for p in list(field(v, "agentPoolProfiles")) {
        // AKS allows up to 5,000 nodes a cluster and 250 pods a node.
        let count_n = count(net, &at, "count", field(p, "count"), 5000).unwrap_or(1);
        let max = count(net, &at, "maxCount", field(p, "maxCount"), 5000).unwrap_or(0);
        let auto = boolean(field(p, "enableAutoScaling")).unwrap_or(false);
        let max_pods = count(net, &at, "maxPods", field(p, "maxPods"), 250)
            .unwrap_or(if plugin == "kubenet" { 110 } else { 30 });
        pools.push(Pool {
            name: text(p.get("name")).unwrap_or_default(),
            subnet: reference(field(p, "vnetSubnetID")),
            pod_subnet: reference(field(p, "podSubnetID")),
            nodes: if auto { max.max(count_n) } else { count_n },
            max_pods,
        });
    }
    net.clusters.push(Cluster {
        plugin,
        overlay,
        service_cidr,
        dns_ip,
        pod_cidr,
        docker_bridge,
        pools,
        defaulted,
        meta: m,
    });
}
