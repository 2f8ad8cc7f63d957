//! The network as `check` sees it: the resources of every input format mapped to one model,
//! with references kept as keys and resolved through [`Network::resolve`].
//!
//! A key is the part of a resource id after its last `/providers/`, lowercased
//! (`microsoft.network/virtualnetworks/vnet/subnets/compute`), so an id from `az`, a
//! `resourceId(...)` of an ARM template and a literal id in a Terraform plan meet; Terraform
//! resources are also known by their address (`azurerm_subnet.compute`).

use crate::findings::Finding;
use crate::nsg::model::Nsg;
use crate::routes::audit::RouteTable;
use ipnet::IpNet;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::OnceLock;

/// The key of a resource id, name path or Terraform address (see the module documentation).
pub fn key_of(reference: &str) -> String {
    let lower = reference.trim().trim_end_matches('/').to_ascii_lowercase();
    match lower.rfind("/providers/") {
        Some(i) => lower[i + "/providers/".len()..].to_string(),
        None => lower,
    }
}

/// The key of a resource given its type (`Microsoft.Network/virtualNetworks/subnets`) and
/// name path (`vnet/compute`).
pub use crate::arm::key_from;

/// The subscription of a resource id, when it names one (lowercased; not a template's
/// placeholder such as `{subscription}`).
pub fn subscription_of(id: &str) -> Option<String> {
    segment_after(id, "subscriptions")
}

/// The resource group of a resource id, when it names one (lowercased; not a placeholder).
pub fn resource_group_of(id: &str) -> Option<String> {
    segment_after(id, "resourceGroups")
}

fn segment_after(id: &str, key: &str) -> Option<String> {
    let head = match id.to_ascii_lowercase().find("/providers/") {
        Some(i) => id[..i].to_string(),
        None => return None,
    };
    let mut parts = head.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts
                .next()
                .filter(|s| !s.is_empty() && !s.starts_with('{'))
                .map(str::to_ascii_lowercase);
        }
    }
    None
}

/// Whether a reference's subscription and resource group (see [`subscription_of`]) can name
/// the resource of `m`: each part agrees, or one side does not say.
pub fn same_scope(m: &Meta, reference: &str) -> bool {
    let agree = |a: &Option<String>, b: Option<String>| match (a, b) {
        (Some(a), Some(b)) => *a == b,
        _ => true,
    };
    agree(&m.subscription, subscription_of(reference))
        && agree(&m.resource_group, resource_group_of(reference))
}

/// What every resource carries.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The id as given (or the Terraform address, or the ARM name path).
    pub id: String,
    /// The short name.
    pub name: String,
    /// Keys it is known by.
    pub keys: Vec<String>,
    /// Location (region), when given.
    pub location: Option<String>,
    /// Subscription, when the id names one.
    pub subscription: Option<String>,
    /// Resource group, when the id names one: resources of one type and name in two
    /// resource groups are two resources.
    pub resource_group: Option<String>,
    /// The file it came from.
    pub origin: String,
}

/// A virtual network.
#[derive(Debug, Clone, Default)]
pub struct Vnet {
    /// Id, name, keys.
    pub meta: Meta,
    /// Address spaces.
    pub spaces: Vec<IpNet>,
    /// Peerings.
    pub peerings: Vec<Peering>,
}

/// A peering of a virtual network.
#[derive(Debug, Clone, Default)]
pub struct Peering {
    /// Its name.
    pub name: String,
    /// The remote network (a reference), when given.
    pub remote: Option<String>,
    /// The remote address spaces, when given.
    pub spaces: Vec<IpNet>,
    /// `allowVirtualNetworkAccess` is false: the remote space is not in this VNet's
    /// `VirtualNetwork` tag (routes still reach it).
    pub no_vnet_access: bool,
}

/// A subnet.
#[derive(Debug, Clone, Default)]
pub struct Subnet {
    /// Id, name, keys.
    pub meta: Meta,
    /// The network it belongs to (a reference).
    pub vnet: String,
    /// Its prefixes.
    pub prefixes: Vec<IpNet>,
    /// Its NSG (a reference).
    pub nsg: Option<String>,
    /// Its route table (a reference).
    pub route_table: Option<String>,
    /// Services it is delegated to (`Microsoft.ContainerInstance/containerGroups`).
    pub delegations: Vec<String>,
    /// Service endpoints: (service, locations; empty when the input does not say).
    pub service_endpoints: Vec<(String, Vec<String>)>,
    /// Network policies for private endpoints cover route tables
    /// (`privateEndpointNetworkPolicies` Enabled or RouteTableEnabled).
    pub pe_route_policies: bool,
    /// Network policies for private endpoints cover NSGs (`privateEndpointNetworkPolicies`
    /// Enabled or NetworkSecurityGroupEnabled); off (Azure's default), the subnet's NSG does
    /// not apply to traffic to its private endpoints.
    pub pe_nsg_policies: bool,
}

/// An NSG.
#[derive(Debug, Clone)]
pub struct NsgRes {
    /// Id, name, keys.
    pub meta: Meta,
    /// The rules, loaded by the NSG engine.
    pub nsg: Nsg,
}

/// A route table.
#[derive(Debug, Clone)]
pub struct TableRes {
    /// Id, name, keys.
    pub meta: Meta,
    /// The routes, loaded by the route audit.
    pub table: RouteTable,
}

/// A node pool of an AKS cluster.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    /// Its name.
    pub name: String,
    /// Its subnet (a reference).
    pub subnet: Option<String>,
    /// Its pod subnet (Azure CNI with dynamic IP allocation), a reference.
    pub pod_subnet: Option<String>,
    /// The most nodes it runs (`maxCount` with autoscaling, else `count`).
    pub nodes: u64,
    /// Pods per node (`maxPods`; AKS's default when absent).
    pub max_pods: u64,
}

/// An AKS cluster.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// Id, name, keys.
    pub meta: Meta,
    /// `kubenet`, `azure` (or another plugin), lowercased.
    pub plugin: String,
    /// Azure CNI Overlay: pods take addresses from the pod CIDR, not the subnet.
    pub overlay: bool,
    /// Service CIDR.
    pub service_cidr: Option<IpNet>,
    /// DNS service IP.
    pub dns_ip: Option<IpAddr>,
    /// Pod CIDR (kubenet, overlay).
    pub pod_cidr: Option<IpNet>,
    /// Docker bridge CIDR (deprecated field).
    pub docker_bridge: Option<IpNet>,
    /// Node pools.
    pub pools: Vec<Pool>,
    /// Fields the definition leaves out, set to AKS's defaults (`serviceCidr`, `dnsServiceIP`,
    /// `podCidr`).
    pub defaulted: Vec<String>,
}

/// An Azure Machine Learning workspace.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// Id, name, keys.
    pub meta: Meta,
    /// Its storage account (a reference).
    pub storage: Option<String>,
    /// Its key vault (a reference).
    pub vault: Option<String>,
    /// Its container registry (a reference).
    pub registry: Option<String>,
    /// The compute that builds images when the registry is behind a VNet.
    pub image_build_compute: Option<String>,
    /// A managed virtual network isolates it (`managedNetwork.isolationMode`
    /// AllowInternetOutbound or AllowOnlyApprovedOutbound): Azure ML makes the private
    /// endpoints to its storage, key vault and registry, and applies the required rules.
    pub managed_network: bool,
}

/// What kind of Azure ML compute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ComputeKind {
    /// A compute cluster (`AmlCompute`).
    #[default]
    Cluster,
    /// A compute instance.
    Instance,
    /// An attached virtual machine.
    AttachedVm,
    /// An Azure Batch pool (`Microsoft.Batch/batchAccounts/pools`).
    BatchPool,
    /// Anything else (AKS attach, Databricks …), by its type name.
    Other(String),
}

/// An Azure ML compute.
#[derive(Debug, Clone, Default)]
pub struct Compute {
    /// Id, name, keys.
    pub meta: Meta,
    /// Its workspace (a reference).
    pub workspace: Option<String>,
    /// Its kind.
    pub kind: ComputeKind,
    /// Its subnet (a reference).
    pub subnet: Option<String>,
    /// The most nodes (clusters and Batch pools with fixed scale; 1 for an instance; 0 when
    /// unknown, as for an autoscale formula).
    pub max_nodes: u64,
    /// The attached VM (a reference).
    pub vm: Option<String>,
    /// Whether its nodes have public IPs (`enableNodePublicIp`; `None` when not said: Azure's
    /// default is yes).
    pub public_ip: Option<bool>,
}

/// What kind of guarded store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreKind {
    /// A storage account.
    #[default]
    Storage,
    /// A key vault.
    KeyVault,
}

/// A storage account or key vault with network rules.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// Id, name, keys.
    pub meta: Meta,
    /// Storage account or key vault.
    pub kind: StoreKind,
    /// Network rules deny by default (the store is behind a VNet).
    pub default_deny: bool,
    /// Public network access is disabled: only private endpoints reach it (its virtual
    /// network and IP rules have no effect).
    pub public_disabled: bool,
    /// Trusted Microsoft services may bypass the rules (`bypass` holds `AzureServices`).
    pub trusted_bypass: bool,
    /// Subnets allowed by the rules (references).
    pub subnets: Vec<String>,
    /// Its approved private endpoint connections: the private endpoints' ids.
    pub endpoints: Vec<String>,
}

/// A private endpoint: a resource reached from a subnet at a private address.
#[derive(Debug, Clone, Default)]
pub struct PrivateEndpoint {
    /// Id, name, keys.
    pub meta: Meta,
    /// Its subnet (a reference).
    pub subnet: Option<String>,
    /// The resources it reaches (`privateLinkServiceId`s) whose connection is approved (or
    /// carries no state, as a template's).
    pub targets: Vec<String>,
    /// The sub-resources it serves (`groupIds`: `blob`, `file`, `vault`, `registry`), lower
    /// case; empty when the input does not say.
    pub groups: Vec<String>,
    /// Its private addresses, when given (`customDnsConfigs`, static `ipConfigurations`).
    pub addresses: Vec<IpAddr>,
}

/// How a compute's subnet reaches a resource through private endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateReach {
    /// Through this endpoint (a description: its name, and its VNet when known).
    Yes(String),
    /// Only through endpoints in VNets the compute's is neither nor peered with (their names).
    Elsewhere(Vec<String>),
    /// Only through endpoints of other sub-resources than the one needed (their groups).
    OtherGroups(Vec<String>),
    /// No private endpoint reaches it.
    No,
}

/// A container registry.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Id, name, keys.
    pub meta: Meta,
    /// Its SKU (`Basic`, `Standard`, `Premium`).
    pub sku: Option<String>,
    /// Network rules or private access restrict it.
    pub restricted: bool,
    /// Subnets allowed by its network rules (references).
    pub subnets: Vec<String>,
    /// Its network rules allow some IP addresses.
    pub ip_rules: bool,
    /// Its approved private endpoint connections: the private endpoints' ids.
    pub endpoints: Vec<String>,
}

/// A Databricks workspace injected in a VNet.
#[derive(Debug, Clone, Default)]
pub struct Databricks {
    /// Id, name, keys.
    pub meta: Meta,
    /// Its VNet (a reference), when injected.
    pub vnet: Option<String>,
    /// The public (host) subnet's name.
    pub public_subnet: Option<String>,
    /// The private (container) subnet's name.
    pub private_subnet: Option<String>,
}

/// A virtual machine.
#[derive(Debug, Clone, Default)]
pub struct Vm {
    /// Id, name, keys.
    pub meta: Meta,
    /// Image publisher, offer and SKU, when given.
    pub image: Option<(String, String, String)>,
    /// Its NICs (references).
    pub nics: Vec<String>,
}

/// A network interface.
#[derive(Debug, Clone, Default)]
pub struct Nic {
    /// Id, name, keys.
    pub meta: Meta,
    /// Subnets of its IP configurations (references).
    pub subnets: Vec<String>,
    /// Application security groups of its IP configurations (names), with the configuration's
    /// private address when given.
    pub asgs: Vec<(String, Option<IpAddr>)>,
    /// Private addresses, when given.
    pub addresses: Vec<IpAddr>,
    /// Its NSG (a reference).
    pub nsg: Option<String>,
}

/// A container group injected in subnets.
#[derive(Debug, Clone, Default)]
pub struct ContainerGroup {
    /// Id, name, keys.
    pub meta: Meta,
    /// Its subnets (references), with those of its network profile once resolved.
    pub subnets: Vec<String>,
    /// Its network profile (a reference; API versions before 2021-07-01 inject a group
    /// through one).
    pub network_profile: Option<String>,
}

/// A network profile (`Microsoft.Network/networkProfiles`): the subnets of its container
/// network interface configurations.
#[derive(Debug, Clone, Default)]
pub struct NetworkProfileRes {
    /// Id, name, keys.
    pub meta: Meta,
    /// Subnets of its IP configurations (references).
    pub subnets: Vec<String>,
}

/// A local network gateway (`Microsoft.Network/localNetworkGateways`): the on-premises
/// address space a VPN connection reaches.
#[derive(Debug, Clone, Default)]
pub struct LocalGateway {
    /// Id, name, keys.
    pub meta: Meta,
    /// `localNetworkAddressSpace.addressPrefixes`.
    pub prefixes: Vec<IpNet>,
}

/// Every resource of the inputs.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Virtual networks.
    pub vnets: Vec<Vnet>,
    /// Subnets (of every network).
    pub subnets: Vec<Subnet>,
    /// NSGs.
    pub nsgs: Vec<NsgRes>,
    /// Route tables.
    pub tables: Vec<TableRes>,
    /// AKS clusters.
    pub clusters: Vec<Cluster>,
    /// Azure ML workspaces.
    pub workspaces: Vec<Workspace>,
    /// Azure ML computes.
    pub computes: Vec<Compute>,
    /// Storage accounts and key vaults.
    pub stores: Vec<Store>,
    /// Container registries.
    pub registries: Vec<Registry>,
    /// Databricks workspaces.
    pub databricks: Vec<Databricks>,
    /// Virtual machines.
    pub vms: Vec<Vm>,
    /// Network interfaces.
    pub nics: Vec<Nic>,
    /// Container groups.
    pub container_groups: Vec<ContainerGroup>,
    /// Network profiles of container groups.
    pub network_profiles: Vec<NetworkProfileRes>,
    /// Local network gateways: on-premises spaces.
    pub local_gateways: Vec<LocalGateway>,
    /// Resources read but refused (reported as `bad-value`): a reference to one is not
    /// dangling.
    pub unreadable: Vec<Meta>,
    /// Private endpoints.
    pub private_endpoints: Vec<PrivateEndpoint>,
    /// What loading found wrong (values that cannot be evaluated, unreadable resources).
    pub problems: Vec<Finding>,
    /// Resource types read but not checked, with their count.
    pub skipped: BTreeMap<String, usize>,
    /// Files that hold no Azure resource, template or plan (a `package.json` in the folder):
    /// skipped, named in a note.
    pub stray_files: Vec<String>,
    /// Peerings given as child resources, by their network's key, until the networks are all
    /// read.
    pub pending_peerings: Vec<(String, Peering)>,
    /// Resources by key and name, built on first use (see [`Lookups`]).
    pub lookups: Lookups,
    /// Subnets an NSG or route table lists as associated (`az network nsg show` writes
    /// `subnets`), as (NSG or table id, is a route table, subnet reference), for subnets whose
    /// own definition does not say.
    pub pending_associations: Vec<(String, bool, String)>,
}

/// Which list a resolved reference points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`Network::vnets`].
    Vnet,
    /// [`Network::subnets`].
    Subnet,
    /// [`Network::nsgs`].
    Nsg,
    /// [`Network::tables`].
    Table,
    /// [`Network::workspaces`].
    Workspace,
    /// [`Network::stores`].
    Store,
    /// [`Network::registries`].
    Registry,
    /// [`Network::vms`].
    Vm,
    /// [`Network::nics`].
    Nic,
    /// [`Network::computes`].
    Compute,
    /// [`Network::network_profiles`].
    NetworkProfile,
}

/// The kinds of [`Kind`], in its order.
const KINDS: [Kind; 11] = [
    Kind::Vnet,
    Kind::Subnet,
    Kind::Nsg,
    Kind::Table,
    Kind::Workspace,
    Kind::Store,
    Kind::Registry,
    Kind::Vm,
    Kind::Nic,
    Kind::Compute,
    Kind::NetworkProfile,
];

/// One kind's resources by key and by lowercased name (indices ascending), and how many
/// resources of the kind there were when it was built.
#[derive(Debug, Default)]
struct KindIndex {
    count: usize,
    by_key: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
}

/// How many networks and subnets an index was built from.
type Counts = (usize, usize);

/// Indexes of a [`Network`] for [`Network::resolve`], [`Network::vnet_of`],
/// [`Network::subnets_of`] and [`Network::origin_of`], so that checking a network of 60,000
/// subnets is not 60,000 scans of 60,000. Each is built on first use, when the inputs have
/// been read; one whose resources have changed in number since is not used (the lookup scans
/// instead), so an index never answers for a network it was not built from. A clone starts
/// without them.
#[derive(Default)]
pub struct Lookups {
    kinds: [OnceLock<KindIndex>; 11],
    vnet_of: OnceLock<(Counts, Vec<Option<usize>>)>,
    subnets_of: OnceLock<(usize, Vec<Vec<usize>>)>,
    origins: OnceLock<(usize, HashMap<String, String>)>,
}

impl Clone for Lookups {
    fn clone(&self) -> Self {
        Lookups::default()
    }
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lookups")
    }
}

impl Network {
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Vnet => self.vnets.len(),
            Kind::Subnet => self.subnets.len(),
            Kind::Nsg => self.nsgs.len(),
            Kind::Table => self.tables.len(),
            Kind::Workspace => self.workspaces.len(),
            Kind::Store => self.stores.len(),
            Kind::Registry => self.registries.len(),
            Kind::Vm => self.vms.len(),
            Kind::Nic => self.nics.len(),
            Kind::Compute => self.computes.len(),
            Kind::NetworkProfile => self.network_profiles.len(),
        }
    }

    fn metas(&self, kind: Kind) -> Vec<&Meta> {
        match kind {
            Kind::Vnet => self.vnets.iter().map(|x| &x.meta).collect(),
            Kind::Subnet => self.subnets.iter().map(|x| &x.meta).collect(),
            Kind::Nsg => self.nsgs.iter().map(|x| &x.meta).collect(),
            Kind::Table => self.tables.iter().map(|x| &x.meta).collect(),
            Kind::Workspace => self.workspaces.iter().map(|x| &x.meta).collect(),
            Kind::Store => self.stores.iter().map(|x| &x.meta).collect(),
            Kind::Registry => self.registries.iter().map(|x| &x.meta).collect(),
            Kind::Vm => self.vms.iter().map(|x| &x.meta).collect(),
            Kind::Nic => self.nics.iter().map(|x| &x.meta).collect(),
            Kind::Compute => self.computes.iter().map(|x| &x.meta).collect(),
            Kind::NetworkProfile => self.network_profiles.iter().map(|x| &x.meta).collect(),
        }
    }

    /// The file a finding's resource came from: the resource whose id is the longest prefix of
    /// `resource` (an NSG's rules are `NSG_ID/securityRules/NAME`).
    pub fn origin_of(&self, resource: &str) -> Option<&str> {
        let metas = || {
            let mut metas: Vec<&Meta> = KINDS.iter().flat_map(|k| self.metas(*k)).collect();
            metas.extend(self.clusters.iter().map(|x| &x.meta));
            metas.extend(self.databricks.iter().map(|x| &x.meta));
            metas.extend(self.container_groups.iter().map(|x| &x.meta));
            metas
        };
        let count = KINDS.iter().map(|k| self.count(*k)).sum::<usize>()
            + self.clusters.len()
            + self.databricks.len()
            + self.container_groups.len();
        let (built, origins) = self.lookups.origins.get_or_init(|| {
            // A later resource of the same id wins, as the longest-match scan below picks it.
            let map = metas()
                .into_iter()
                .filter(|m| !m.id.is_empty())
                .map(|m| (m.id.clone(), m.origin.clone()))
                .collect();
            (count, map)
        });
        if *built == count {
            // The resource itself, or a parent of it: cut at each `/`, longest first.
            let cuts = resource
                .char_indices()
                .filter(|&(_, c)| c == '/')
                .map(|(i, _)| i)
                .rev();
            return std::iter::once(resource.len())
                .chain(cuts)
                .find_map(|end| origins.get(&resource[..end]))
                .map(String::as_str);
        }
        metas()
            .into_iter()
            .filter(|m| !m.id.is_empty() && resource.starts_with(&m.id))
            .max_by_key(|m| m.id.len())
            .map(|m| m.origin.as_str())
    }

    /// Application security group → member addresses: `given` (names match case-blind),
    /// joined by the private addresses of the NICs whose IP configurations name the group.
    /// A NIC in a group without a static address adds nothing; a group no one gives members
    /// stays unknown, and an NSG naming it cannot be evaluated (reported, never read as empty).
    pub fn asg_members(
        &self,
        given: &BTreeMap<String, Vec<IpAddr>>,
    ) -> BTreeMap<String, Vec<IpAddr>> {
        let mut out: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
        let mut add = |name: &str, ip: IpAddr| {
            let key = out
                .keys()
                .find(|k| k.eq_ignore_ascii_case(name))
                .cloned()
                .unwrap_or_else(|| name.to_string());
            let list = out.entry(key).or_default();
            if !list.contains(&ip) {
                list.push(ip);
            }
        };
        for (name, ips) in given {
            for ip in ips {
                add(name, *ip);
            }
        }
        for n in &self.nics {
            for (name, ip) in &n.asgs {
                if let Some(ip) = ip {
                    add(name, *ip);
                }
            }
        }
        for list in out.values_mut() {
            list.sort();
        }
        out
    }

    /// How many resources were read.
    pub fn resource_count(&self) -> usize {
        self.vnets.len()
            + self.subnets.len()
            + self.nsgs.len()
            + self.tables.len()
            + self.clusters.len()
            + self.workspaces.len()
            + self.computes.len()
            + self.stores.len()
            + self.registries.len()
            + self.databricks.len()
            + self.vms.len()
            + self.nics.len()
            + self.container_groups.len()
            + self.network_profiles.len()
            + self.private_endpoints.len()
            + self.local_gateways.len()
    }

    /// Whether two networks are the same or peered (either side's peering naming the other).
    pub fn connected(&self, a: usize, b: usize) -> bool {
        let peers = |x: usize, y: usize| {
            self.vnets[x].peerings.iter().any(|p| {
                p.remote
                    .as_deref()
                    .and_then(|r| self.resolve(Kind::Vnet, r))
                    == Some(y)
            })
        };
        a == b || peers(a, b) || peers(b, a)
    }

    /// How compute subnet `subnet` reaches the resource `target` (with its approved private
    /// endpoint connections `connections`) through a private endpoint: one in its VNet or a
    /// peered one; or one the resource's own connections name whose subnet is not among the
    /// inputs (its VNet cannot be told, and it is taken as reachable).
    /// `group` is the sub-resource needed (`blob` of a storage account): an endpoint of
    /// another one only (`file`) does not reach it.
    pub fn private_reach(
        &self,
        target: &Meta,
        connections: &[String],
        subnet: usize,
        group: Option<&str>,
    ) -> PrivateReach {
        let compute_vnet = self.vnet_of(subnet);
        let mut elsewhere = Vec::new();
        let mut other_groups = Vec::new();
        let mut unknown: Option<String> = None;
        for pe in &self.private_endpoints {
            let aims = pe
                .targets
                .iter()
                .any(|t| target.keys.contains(&key_of(t)) && same_scope(target, t))
                || connections
                    .iter()
                    .any(|c| pe.meta.keys.contains(&key_of(c)));
            if !aims {
                continue;
            }
            if let Some(g) = group
                && !pe.groups.is_empty()
                && !pe.groups.iter().any(|x| x.eq_ignore_ascii_case(g))
            {
                other_groups.extend(pe.groups.iter().cloned());
                continue;
            }
            let pe_vnet = pe
                .subnet
                .as_deref()
                .and_then(|s| self.resolve(Kind::Subnet, s))
                .and_then(|s| self.vnet_of(s));
            match (pe_vnet, compute_vnet) {
                (Some(pv), Some(cv)) if self.connected(pv, cv) => {
                    return PrivateReach::Yes(format!(
                        "private endpoint `{}` in VNet `{}`",
                        pe.meta.name, self.vnets[pv].meta.name
                    ));
                }
                (Some(pv), Some(_)) => elsewhere.push(self.vnets[pv].meta.name.clone()),
                _ => {
                    unknown.get_or_insert(format!(
                        "private endpoint `{}` (its subnet's VNet is not among the inputs)",
                        pe.meta.name
                    ));
                }
            }
        }
        // Connections naming endpoints that are not among the inputs.
        for c in connections {
            let k = key_of(c);
            if !self
                .private_endpoints
                .iter()
                .any(|pe| pe.meta.keys.contains(&k))
            {
                unknown.get_or_insert(format!(
                    "private endpoint `{}` (approved on the resource; the endpoint itself is not among the inputs)",
                    c.rsplit('/').next().unwrap_or(c)
                ));
            }
        }
        if let Some(u) = unknown {
            return PrivateReach::Yes(u);
        }
        if elsewhere.is_empty() && !other_groups.is_empty() {
            other_groups.sort();
            other_groups.dedup();
            return PrivateReach::OtherGroups(other_groups);
        }
        if elsewhere.is_empty() {
            PrivateReach::No
        } else {
            elsewhere.sort();
            elsewhere.dedup();
            PrivateReach::Elsewhere(elsewhere)
        }
    }

    /// The index of the resource of `kind` a reference names, if the inputs hold it.
    pub fn resolve(&self, kind: Kind, reference: &str) -> Option<usize> {
        let key = key_of(reference);
        let index = self.lookups.kinds[kind as usize].get_or_init(|| {
            let mut index = KindIndex {
                count: self.count(kind),
                ..Default::default()
            };
            for (i, m) in self.metas(kind).into_iter().enumerate() {
                for k in &m.keys {
                    index.by_key.entry(k.clone()).or_default().push(i);
                }
                index
                    .by_name
                    .entry(m.name.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
            index
        });
        if index.count != self.count(kind) {
            return self.resolve_by_scan(kind, reference, &key);
        }
        let metas = |i: &usize| self.meta_at(kind, *i);
        index
            .by_key
            .get(&key)
            .and_then(|hits| {
                hits.iter()
                    .copied()
                    .find(|i| same_scope(metas(i), reference))
            })
            .or_else(|| {
                // A bare name matches when exactly one resource of the kind has it.
                if key.contains('/') {
                    return None;
                }
                match index.by_name.get(&key).map(Vec::as_slice) {
                    Some(&[one]) => Some(one),
                    _ => None,
                }
            })
    }

    /// [`Network::resolve`] by a scan of the resources (the reference answer).
    fn resolve_by_scan(&self, kind: Kind, reference: &str, key: &str) -> Option<usize> {
        let key = key.to_string();
        let metas = self.metas(kind);
        metas
            .iter()
            .position(|m| m.keys.contains(&key) && same_scope(m, reference))
            .or_else(|| {
                if key.contains('/') {
                    return None;
                }
                let hits: Vec<usize> = metas
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.name.eq_ignore_ascii_case(&key))
                    .map(|(i, _)| i)
                    .collect();
                (hits.len() == 1).then(|| hits[0])
            })
    }

    fn meta_at(&self, kind: Kind, i: usize) -> &Meta {
        match kind {
            Kind::Vnet => &self.vnets[i].meta,
            Kind::Subnet => &self.subnets[i].meta,
            Kind::Nsg => &self.nsgs[i].meta,
            Kind::Table => &self.tables[i].meta,
            Kind::Workspace => &self.workspaces[i].meta,
            Kind::Store => &self.stores[i].meta,
            Kind::Registry => &self.registries[i].meta,
            Kind::Vm => &self.vms[i].meta,
            Kind::Nic => &self.nics[i].meta,
            Kind::Compute => &self.computes[i].meta,
            Kind::NetworkProfile => &self.network_profiles[i].meta,
        }
    }

    /// [`Network::resolve`] of a reference that may be absent.
    pub fn find(&self, kind: Kind, reference: Option<&str>) -> Option<usize> {
        reference.and_then(|r| self.resolve(kind, r))
    }

    /// The subnets of a network (indices into [`Network::subnets`]).
    pub fn subnets_of(&self, vnet: usize) -> Vec<usize> {
        let (count, by_vnet) = self.lookups.subnets_of.get_or_init(|| {
            let mut by_vnet = vec![Vec::new(); self.vnets.len()];
            for s in 0..self.subnets.len() {
                if let Some(v) = self.vnet_of(s) {
                    by_vnet[v].push(s);
                }
            }
            (self.vnets.len() + self.subnets.len(), by_vnet)
        });
        if *count == self.vnets.len() + self.subnets.len() {
            return by_vnet[vnet].clone();
        }
        (0..self.subnets.len())
            .filter(|&s| self.resolve(Kind::Vnet, &self.subnets[s].vnet) == Some(vnet))
            .collect()
    }

    /// The network of a subnet.
    pub fn vnet_of(&self, subnet: usize) -> Option<usize> {
        let counts = (self.vnets.len(), self.subnets.len());
        let (built, of) = self.lookups.vnet_of.get_or_init(|| {
            let of = (0..self.subnets.len())
                .map(|s| self.resolve(Kind::Vnet, &self.subnets[s].vnet))
                .collect();
            (counts, of)
        });
        if *built == counts {
            return of[subnet];
        }
        self.resolve(Kind::Vnet, &self.subnets[subnet].vnet)
    }

    /// The address spaces a network reaches: its own and its peerings' remote spaces (read
    /// from the peering, or from the remote network when the inputs hold it).
    pub fn peered_spaces(&self, vnet: usize) -> Vec<(String, IpNet)> {
        self.peered(vnet, false)
    }

    /// The peered spaces in the VNet's `VirtualNetwork` tag: those of peerings that allow
    /// virtual network access.
    pub fn vnet_tag_peered_spaces(&self, vnet: usize) -> Vec<IpNet> {
        self.peered(vnet, true)
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    fn peered(&self, vnet: usize, tag_only: bool) -> Vec<(String, IpNet)> {
        let mut out = Vec::new();
        for p in self.vnets[vnet]
            .peerings
            .iter()
            .filter(|p| !(tag_only && p.no_vnet_access))
        {
            let remote = p
                .remote
                .as_deref()
                .and_then(|r| self.resolve(Kind::Vnet, r));
            let spaces = if p.spaces.is_empty() {
                remote
                    .map(|r| self.vnets[r].spaces.clone())
                    .unwrap_or_default()
            } else {
                p.spaces.clone()
            };
            let name = remote.map_or(p.name.clone(), |r| self.vnets[r].meta.name.clone());
            out.extend(spaces.into_iter().map(|s| (name.clone(), s)));
        }
        out
    }
}
