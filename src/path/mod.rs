//! `tagnet path`: will a flow get there — the routes and the NSGs of a network definition
//! evaluated together, offline, as Azure's data plane decides.
//!
//! A path starts at an address of a subnet (a NIC's, or the subnet's first usable one). On the
//! way out it meets the NIC's NSG, then the subnet's; then the subnet's route selection
//! ([`crate::routes::select`]) picks the route; a destination inside the VNet or a peered one
//! then meets its subnet's NSG and its NIC's on the way in.
//!
//! `VirtualNetwork` is computed as Azure documents it: the VNet's space, peered spaces (of
//! peerings that allow virtual network access), on-premises prefixes learned by BGP, and the
//! prefixes of the subnet's user-defined routes. Two points are readings, not facts
//! (`azure-routing-readings.md` §1–2): whether a default route joins the tag, and whether every
//! user route adds its prefixes or only those to an appliance. Every reading is evaluated; a
//! flow is answered allowed when any reading allows it (the risk), and each answer says which
//! readings disagree.

use crate::check::model::{Kind, Network};
use crate::error::{Error, Result};
use crate::nsg::compile::CompiledNsg;
use crate::nsg::eval::{Context, ResolvedNsg};
use crate::nsg::model::{Access, Direction, Flow, Nsg, Protocol};
use crate::prefixset::PrefixSet;
use crate::routes::NextHop;
use crate::routes::select::{
    Choice, Inputs, PrivateEndpointRoute, Readings, Selector, ServiceEndpoint,
};
use crate::snapshot::Snapshot;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A reading of the `VirtualNetwork` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VnetReading {
    /// A default route (0.0.0.0/0) joins the tag.
    pub default_route: bool,
    /// Every user route adds its prefixes (else only routes to a virtual appliance).
    pub all_udrs: bool,
}

impl VnetReading {
    /// The four readings, Learn's most literal first.
    pub const ALL: [VnetReading; 4] = [
        VnetReading {
            default_route: false,
            all_udrs: true,
        },
        VnetReading {
            default_route: true,
            all_udrs: true,
        },
        VnetReading {
            default_route: false,
            all_udrs: false,
        },
        VnetReading {
            default_route: true,
            all_udrs: false,
        },
    ];

    /// A short name for answers.
    pub fn name(&self) -> String {
        format!(
            "{}, {}",
            if self.all_udrs {
                "every UDR's prefixes"
            } else {
                "appliance UDRs' prefixes only"
            },
            if self.default_route {
                "default route included"
            } else {
                "default route left out"
            }
        )
    }
}

/// The prefixes of a table's user routes (service tags expanded), each with whether it goes
/// to a virtual appliance.
pub fn udr_prefixes(
    snap: &Snapshot,
    table: &crate::routes::audit::RouteTable,
) -> Vec<(IpNet, bool)> {
    let mut udrs = Vec::new();
    for r in table.user_routes() {
        let appliance = matches!(r.next_hop, NextHop::VirtualAppliance(_));
        if let Ok(n) = r.address_prefix.parse::<IpNet>() {
            udrs.push((n.trunc(), appliance));
        } else if let Ok(id) = snap.service_tag_by_name(&r.address_prefix) {
            let t = snap.tag(id);
            udrs.extend(t.v4().iter().map(|&n| (IpNet::V4(n), appliance)));
            udrs.extend(t.v6().iter().map(|&n| (IpNet::V6(n), appliance)));
        }
    }
    udrs
}

/// The routes a table learned by BGP (effective routes' `VirtualNetworkGateway` source): their
/// prefixes join `VirtualNetwork` as on-premises spaces.
pub fn bgp_prefixes(table: &crate::routes::audit::RouteTable) -> Vec<(IpNet, NextHop)> {
    table
        .routes
        .iter()
        .filter(|r| r.source == crate::routes::audit::RouteSource::Bgp)
        .filter_map(|r| {
            r.address_prefix
                .parse::<IpNet>()
                .ok()
                .map(|n| (n.trunc(), r.next_hop))
        })
        .collect()
}

/// `VirtualNetwork` under one reading: `base` (the VNet's and peered spaces), the UDR
/// prefixes the reading takes, and BGP-learned prefixes (a default route only when the
/// reading counts it).
pub fn vnet_tag(
    base: &[IpNet],
    udrs: &[(IpNet, bool)],
    bgp: &[(IpNet, NextHop)],
    r: VnetReading,
) -> Vec<IpNet> {
    let mut tag = base.to_vec();
    for &(n, appliance) in udrs {
        if (r.all_udrs || appliance) && (r.default_route || n.prefix_len() > 0) {
            tag.push(n);
        }
    }
    for &(n, _) in bgp {
        if r.default_route || n.prefix_len() > 0 {
            tag.push(n.trunc());
        }
    }
    PrefixSet::from_prefixes(tag).to_prefixes()
}

/// One end of a path: a subnet (index into [`Network::subnets`]), an address in it, and the NIC
/// holding the address when the inputs have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// The subnet.
    pub subnet: usize,
    /// The address.
    pub address: IpAddr,
    /// The NIC (index into [`Network::nics`]).
    pub nic: Option<usize>,
}

/// Finds a path's start: `SUBNET` (its id, `VNET/SUBNET` or a unique name: its first usable
/// address) or an address (a NIC's, or any in a subnet of the inputs).
pub fn locate(net: &Network, text: &str) -> Result<End> {
    if let Ok((ip, _)) = crate::text::address(text) {
        let end = end_of(net, ip).ok_or_else(|| {
            Error::field(
                "from",
                format!("`{ip}` is in no subnet of the inputs; give an address of one of their subnets, or a subnet's name"),
            )
        })?;
        // Azure keeps a subnet's first four addresses and its last.
        if let Some(p) = net.subnets[end.subnet]
            .prefixes
            .iter()
            .find(|p| p.contains(&ip))
        {
            let (start, last) = crate::prefixset::prefix_range(&p.trunc());
            let x = crate::prefixset::prefix_range(&IpNet::from(ip)).0;
            if x < start + 4 || x == last {
                return Err(Error::field(
                    "from",
                    format!(
                        "`{ip}` is one of the addresses Azure keeps in {p} (the first four and the last): no VM has it"
                    ),
                ));
            }
        }
        return Ok(end);
    }
    let by_path = || {
        let key = crate::check::model::key_from("Microsoft.Network/virtualNetworks/subnets", text);
        net.resolve(Kind::Subnet, &key)
    };
    let s = net
        .resolve(Kind::Subnet, text)
        .or_else(by_path)
        .ok_or_else(|| {
            let names: Vec<String> = (0..net.subnets.len())
                .take(12)
                .map(|s| {
                    let v = net
                        .vnet_of(s)
                        .map_or(String::new(), |v| format!("{}/", net.vnets[v].meta.name));
                    format!("{v}{}", net.subnets[s].meta.name)
                })
                .collect();
            Error::field(
                "from",
                format!(
                    "`{}` is neither an address nor a subnet of the inputs (subnets: {})",
                    crate::text::quoted(text),
                    names.join(", ")
                ),
            )
        })?;
    let address = net.subnets[s]
        .prefixes
        .iter()
        .find_map(crate::prefixset::first_usable)
        .ok_or_else(|| {
            Error::field(
                "from",
                format!(
                    "subnet `{}` has no usable address",
                    net.subnets[s].meta.name
                ),
            )
        })?;
    Ok(End {
        subnet: s,
        address,
        nic: nic_of(net, address),
    })
}

/// The subnet and NIC of an address, when the inputs hold them.
pub fn end_of(net: &Network, ip: IpAddr) -> Option<End> {
    let nic = nic_of(net, ip);
    let subnet = nic
        .and_then(|n| {
            net.nics[n]
                .subnets
                .iter()
                .filter_map(|r| net.resolve(Kind::Subnet, r))
                .find(|&s| net.subnets[s].prefixes.iter().any(|p| p.contains(&ip)))
        })
        .or_else(|| {
            (0..net.subnets.len())
                .find(|&s| net.subnets[s].prefixes.iter().any(|p| p.contains(&ip)))
        })?;
    Some(End {
        subnet,
        address: ip,
        nic,
    })
}

fn nic_of(net: &Network, ip: IpAddr) -> Option<usize> {
    (0..net.nics.len()).find(|&n| net.nics[n].addresses.contains(&ip))
}

/// The service tag a service endpoint's routes carry, by service.
fn endpoint_tag(service: &str) -> Option<&'static str> {
    let s = service.to_ascii_lowercase();
    Some(match s.as_str() {
        "microsoft.storage" | "microsoft.storage.global" => "Storage",
        "microsoft.keyvault" => "AzureKeyVault",
        "microsoft.sql" => "Sql",
        "microsoft.azurecosmosdb" => "AzureCosmosDB",
        "microsoft.containerregistry" => "AzureContainerRegistry",
        "microsoft.eventhub" => "EventHub",
        "microsoft.servicebus" => "ServiceBus",
        "microsoft.web" => "AppService",
        _ => return None,
    })
}

/// Everything that decides a flow leaving or entering one subnet.
pub struct SubnetPaths<'a> {
    net: &'a Network,
    /// The subnet.
    pub subnet: usize,
    /// The route selector of the documented readings.
    pub selector: Selector,
    /// The selectors of the other route readings, with their names.
    pub alternates: Vec<(String, Selector)>,
    /// `VirtualNetwork` per reading.
    pub vnet_tags: Vec<(VnetReading, Vec<IpNet>)>,
    /// What building noticed.
    pub notes: Vec<String>,
    /// The effective routes used in place of the subnet's table.
    pub effective: Option<crate::routes::audit::RouteTable>,
}

impl<'a> SubnetPaths<'a> {
    /// The routes and `VirtualNetwork` readings of a subnet; `bgp` are routes a gateway
    /// advertises (not in any route table).
    pub fn new(
        net: &'a Network,
        snap: &Snapshot,
        subnet: usize,
        bgp: &[(IpNet, NextHop)],
    ) -> SubnetPaths<'a> {
        Self::with_routes(net, snap, subnet, bgp, None)
    }

    /// [`SubnetPaths::new`] with a NIC's effective routes (`az network nic
    /// show-effective-route-table`) in place of the subnet's route table: they already hold
    /// every system, BGP and user route Azure applies.
    pub fn with_routes(
        net: &'a Network,
        snap: &Snapshot,
        subnet: usize,
        bgp: &[(IpNet, NextHop)],
        effective: Option<crate::routes::audit::RouteTable>,
    ) -> SubnetPaths<'a> {
        let sub = &net.subnets[subnet];
        let mut notes = Vec::new();
        let v = net.vnet_of(subnet);
        let spaces: Vec<IpNet> = v.map(|v| net.vnets[v].spaces.clone()).unwrap_or_default();
        let region = v
            .and_then(|v| net.vnets[v].meta.location.clone())
            .and_then(|l| snap.resolve_region(&l).ok().map(str::to_string));
        let peerings: Vec<(String, IpNet)> = v.map(|v| net.peered_spaces(v)).unwrap_or_default();
        let table = match &effective {
            Some(t) => Some(t),
            None => net
                .find(Kind::Table, sub.route_table.as_deref())
                .map(|t| &net.tables[t].table),
        };
        let mut service_endpoints = Vec::new();
        for (service, locations) in &sub.service_endpoints {
            let Some(tag) = endpoint_tag(service) else {
                notes.push(format!(
                    "the service endpoint of {service} is not modelled (its routes are left out)"
                ));
                continue;
            };
            let regions: Vec<String> = if locations.is_empty() || locations.iter().any(|l| l == "*")
            {
                region.iter().cloned().collect()
            } else {
                locations.clone()
            };
            let mut prefixes = Vec::new();
            if service.eq_ignore_ascii_case("Microsoft.Storage.Global") {
                // Storage in every region.
                if let Ok(id) = snap.tag_by_name(tag) {
                    prefixes.extend(snap.tag(id).v4().iter().map(|&n| IpNet::V4(n)));
                }
                service_endpoints.push(ServiceEndpoint {
                    service: service.clone(),
                    prefixes,
                });
                continue;
            }
            for r in &regions {
                match snap.resolve_tag(tag, Some(r)) {
                    Ok(ids) => {
                        for id in ids {
                            prefixes.extend(snap.tag(id).v4().iter().map(|&n| IpNet::V4(n)));
                        }
                    }
                    Err(e) => notes.push(format!("service endpoint {service} in {r}: {e}")),
                }
            }
            service_endpoints.push(ServiceEndpoint {
                service: service.clone(),
                prefixes,
            });
        }
        // Private endpoints of the VNet and of directly peered ones.
        let mut private_endpoints = Vec::new();
        for pe in &net.private_endpoints {
            let Some(ps) = net.find(Kind::Subnet, pe.subnet.as_deref()) else {
                continue;
            };
            let (Some(pv), Some(v)) = (net.vnet_of(ps), v) else {
                continue;
            };
            if !net.connected(v, pv) {
                continue;
            }
            for &address in &pe.addresses {
                let space_len = net.vnets[pv]
                    .spaces
                    .iter()
                    .find(|s| s.contains(&address))
                    .map_or(0, IpNet::prefix_len);
                private_endpoints.push(PrivateEndpointRoute {
                    name: pe.meta.name.clone(),
                    address,
                    policies: net.subnets[ps].pe_route_policies,
                    space_len,
                });
            }
        }
        let inputs = |readings: Readings| Inputs {
            table,
            vnet: spaces.clone(),
            peerings: peerings.clone(),
            service_endpoints: service_endpoints.clone(),
            private_endpoints: private_endpoints.clone(),
            bgp: bgp.to_vec(),
            readings,
        };
        let selector = Selector::new(snap, &inputs(Readings::default()));
        notes.extend(selector.notes.iter().cloned());
        // Tags the file does not mark usable in routes (`networkFeatures` without UDR: an
        // undocumented field, so a note, not a refusal).
        if let Some(t) = table {
            for r in t.user_routes() {
                if let Ok(id) = snap.service_tag_by_name(&r.address_prefix)
                    && !snap.tag(id).has_feature("UDR")
                {
                    notes.push(format!(
                        "route `{}` names {}, whose networkFeatures in the file do not list UDR (undocumented field; Azure may refuse such a route)",
                        r.name,
                        snap.tag(id).name()
                    ));
                }
            }
        }
        let alternates = vec![
            (
                "a UDR of a service endpoint's prefix wins (field report; Learn says the endpoint wins)".to_string(),
                Selector::new(
                    snap,
                    &inputs(Readings {
                        udr_over_service_endpoint: true,
                        ..Readings::default()
                    }),
                ),
            ),
            (
                "the reserved None routes stay after a 0.0.0.0/0 UDR (Learn's example removes them)".to_string(),
                Selector::new(
                    snap,
                    &inputs(Readings {
                        none_routes_kept: true,
                        ..Readings::default()
                    }),
                ),
            ),
            (
                "a service-tag UDR to an appliance wins over the endpoint it covers (azure-docs#111706)".to_string(),
                Selector::new(
                    snap,
                    &inputs(Readings {
                        tag_udr_to_appliance_over_service_endpoint: true,
                        ..Readings::default()
                    }),
                ),
            ),
            (
                "a 0.0.0.0/0 learned by BGP removes the reserved None routes too (undocumented)".to_string(),
                Selector::new(
                    snap,
                    &inputs(Readings {
                        bgp_default_removes_none: true,
                        ..Readings::default()
                    }),
                ),
            ),
        ];
        // `VirtualNetwork`, per reading.
        let mut base: Vec<IpNet> = spaces.clone();
        base.extend(v.map(|v| net.vnet_tag_peered_spaces(v)).unwrap_or_default());
        let udrs = table.map(|t| udr_prefixes(snap, t)).unwrap_or_default();
        let mut learned = bgp.to_vec();
        learned.extend(table.map(bgp_prefixes).unwrap_or_default());
        let vnet_tags = VnetReading::ALL
            .iter()
            .map(|&r| (r, vnet_tag(&base, &udrs, &learned, r)))
            .collect();
        SubnetPaths {
            net,
            subnet,
            selector,
            alternates,
            vnet_tags,
            notes,
            effective,
        }
    }

    /// The subnet's NSG and the NIC's, resolved and compiled under each `VirtualNetwork`
    /// reading.
    pub fn nsgs(
        &self,
        snap: &Snapshot,
        nic: Option<usize>,
        asgs: &BTreeMap<String, Vec<IpAddr>>,
    ) -> Result<Vec<Guards>> {
        let net = self.net;
        // An NSG the inputs hold but that could not be read (a value only the deployment
        // knows) is not "no NSG": the flow's verdict is unknown, and the path is refused.
        let unreadable = |r: Option<&str>, whose: &str| -> Result<()> {
            let Some(r) = r else { return Ok(()) };
            if net.find(Kind::Nsg, Some(r)).is_some() {
                return Ok(());
            }
            match net.unreadable.iter().find(|m| {
                m.keys.contains(&crate::check::model::key_of(r))
                    && crate::check::model::same_scope(m, r)
            }) {
                Some(m) => Err(crate::Error::Invalid {
                    origin: m.origin.clone(),
                    message: format!(
                        "the {whose}'s NSG `{}` cannot be read (a value of its rules cannot be evaluated offline; the cannot-evaluate notes name it), so no verdict can be given",
                        m.name
                    ),
                    hint: "give the template's parameters (--parameters FILE, or NAME.parameters.json beside it; `parameters` over HTTP and in Python), or the deployed NSG (`az network nsg show`)".into(),
                }),
                None => Ok(()),
            }
        };
        unreadable(net.subnets[self.subnet].nsg.as_deref(), "subnet")?;
        if let Some(n) = nic {
            unreadable(net.nics[n].nsg.as_deref(), "NIC")?;
        }
        let subnet_nsg = net
            .find(Kind::Nsg, net.subnets[self.subnet].nsg.as_deref())
            .map(|n| &net.nsgs[n].nsg);
        let nic_nsg = nic
            .and_then(|n| net.find(Kind::Nsg, net.nics[n].nsg.as_deref()))
            .map(|n| &net.nsgs[n].nsg);
        self.vnet_tags
            .iter()
            .map(|(reading, tag)| {
                let ctx = Context {
                    snapshot: snap,
                    vnet: tag.clone(),
                    asgs: asgs.clone(),
                };
                let resolve = |n: Option<&Nsg>| -> Result<Option<(ResolvedNsg, CompiledNsg)>> {
                    n.map(|n| {
                        let r = ctx.resolve(n)?;
                        let c = crate::nsg::compile(&r);
                        Ok((r, c))
                    })
                    .transpose()
                };
                Ok(Guards {
                    reading: *reading,
                    subnet: resolve(subnet_nsg)?,
                    nic: resolve(nic_nsg)?,
                })
            })
            .collect()
    }
}

/// A subnet's NSG and a NIC's, under one `VirtualNetwork` reading.
pub struct Guards {
    /// The reading.
    pub reading: VnetReading,
    /// The subnet's NSG, resolved and compiled.
    pub subnet: Option<(ResolvedNsg, CompiledNsg)>,
    /// The NIC's NSG.
    pub nic: Option<(ResolvedNsg, CompiledNsg)>,
}

impl Guards {
    /// The verdict on a flow (subnet then NIC inbound; NIC then subnet outbound).
    pub fn verdict(&self, f: &Flow) -> crate::nsg::model::Verdict {
        crate::nsg::verdict(
            self.subnet.as_ref().map(|x| &x.1),
            self.nic.as_ref().map(|x| &x.1),
            f,
        )
    }
}

/// What the NSGs on one side said, over the readings.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NsgStep {
    /// `Outbound` (leaving the source) or `Inbound` (entering the destination).
    pub direction: String,
    /// Allowed under some reading (the answer, as the risk).
    pub access: String,
    /// The deciding NSG and rule under the first reading that gives [`NsgStep::access`].
    pub nsg: String,
    /// The rule.
    pub rule: String,
    /// The readings that answer otherwise, with their rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
    /// Why no rule decided (no NSG, a platform address, an endpoint's subnet without network
    /// policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn nsg_step(guards: &[Guards], f: &Flow) -> NsgStep {
    let verdicts: Vec<(VnetReading, crate::nsg::model::Verdict)> =
        guards.iter().map(|g| (g.reading, g.verdict(f))).collect();
    let allowed = verdicts.iter().any(|(_, v)| v.access == Access::Allow);
    let want = if allowed { Access::Allow } else { Access::Deny };
    let (_, chosen) = verdicts
        .iter()
        .find(|(_, v)| v.access == want)
        .expect("one verdict gives the answer");
    NsgStep {
        direction: f.direction.to_string(),
        access: format!("{want:?}"),
        nsg: chosen.nsg.clone(),
        rule: chosen.rule.clone(),
        differs: verdicts
            .iter()
            .filter(|(_, v)| v.access != want)
            .map(|(r, v)| format!("{:?} under `{}` ({} {})", v.access, r.name(), v.nsg, v.rule))
            .collect(),
        note: (chosen.nsg.is_empty() && chosen.rule.is_empty()).then(|| {
            if crate::routes::select::PLATFORM.contains(&f.remote_ip) {
                "a platform address: not subject to NSGs unless a rule names AzurePlatformDNS or AzurePlatformIMDS".to_string()
            } else {
                "no NSG on the subnet or the NIC".to_string()
            }
        }),
    }
}

/// The route step of a path.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RouteStep {
    /// The route's prefix (`platform` for 168.63.129.16 and 169.254.169.254).
    pub prefix: String,
    /// Its next hop.
    pub next_hop: String,
    /// Where the route comes from (`user route NAME`, `system route of the VNet`, …).
    pub route: String,
    /// Where the traffic goes: `internet`, `appliance`, `gateway`, `virtual-network`,
    /// `service-endpoint`, `private-endpoint`, `platform` or `dropped`.
    pub goes: String,
    /// Other readings choosing another route.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
}

fn goes(hop: &NextHop) -> &'static str {
    use crate::routes::PlatformHop as P;
    match hop {
        NextHop::Internet => "internet",
        NextHop::VirtualAppliance(_) => "appliance",
        NextHop::VirtualNetworkGateway => "gateway",
        NextHop::VnetLocal => "virtual-network",
        NextHop::None => "dropped",
        NextHop::Platform(P::VnetPeering | P::VnetGlobalPeering | P::ConnectedGroup) => {
            "virtual-network"
        }
        NextHop::Platform(P::ServiceEndpoint) => "service-endpoint",
        NextHop::Platform(P::InterfaceEndpoint) => "private-endpoint",
        NextHop::Platform(P::Other) => "platform",
    }
}

fn describe(net: &Network, paths: &SubnetPaths, c: &crate::routes::select::Candidate) -> String {
    use crate::routes::select::Origin as O;
    let table = net
        .find(
            Kind::Table,
            net.subnets[paths.subnet].route_table.as_deref(),
        )
        .map(|t| &net.tables[t]);
    let route_name = |i: usize| match &paths.effective {
        Some(e) => e.routes[i].name.clone(),
        None => table.map_or(String::from("?"), |t| t.table.routes[i].name.clone()),
    };
    if let (Some(e), O::Route(i) | O::TagRoute(i)) = (&paths.effective, c.origin) {
        return format!(
            "effective route `{}` ({:?})",
            route_name(i),
            e.routes[i].source
        );
    }
    match c.origin {
        O::Route(i) => format!(
            "route `{}` of {}",
            route_name(i),
            table.map_or("the table".into(), |t| format!("`{}`", t.meta.name))
        ),
        O::TagRoute(i) => format!("service-tag route `{}`", route_name(i)),
        O::Bgp(_) => "BGP route (declared)".into(),
        O::Vnet => "system route of the VNet's address space".into(),
        O::Peering(i) => format!(
            "system route of peering `{}`",
            paths.selector_peering_name(i)
        ),
        O::ServiceEndpoint(_) => "system route of the subnet's service endpoint".into(),
        O::PrivateEndpoint(_) => "system route of a private endpoint".into(),
        O::Reserved => "system route of a reserved range (None)".into(),
        O::Default => "system default route".into(),
    }
}

impl SubnetPaths<'_> {
    fn selector_peering_name(&self, i: usize) -> String {
        let v = self.net.vnet_of(self.subnet);
        v.map(|v| self.net.peered_spaces(v))
            .and_then(|p| p.get(i).map(|x| x.0.clone()))
            .unwrap_or_default()
    }

    /// The route step for one destination address.
    pub fn route_step(&self, ip: IpAddr) -> RouteStep {
        let step = |sel: &Selector| -> (String, String, String, String) {
            match sel.lookup(ip) {
                Choice::Route(c) => (
                    c.net.to_string(),
                    c.hop.to_string(),
                    describe(self.net, self, c),
                    goes(&c.hop).to_string(),
                ),
                Choice::Platform => (
                    "platform".into(),
                    "platform".into(),
                    "Azure's platform address, not subject to user-defined routes".into(),
                    "platform".into(),
                ),
                Choice::NoRoute => (
                    "-".into(),
                    "None".into(),
                    "no route holds it".into(),
                    "dropped".into(),
                ),
            }
        };
        let (prefix, next_hop, route, to) = step(&self.selector);
        let differs = self
            .alternates
            .iter()
            .filter_map(|(name, sel)| {
                let (p, h, r, _) = step(sel);
                (p != prefix || h != next_hop).then(|| format!("{h} by {r} ({p}) if {name}"))
            })
            .collect();
        RouteStep {
            prefix,
            next_hop,
            route,
            goes: to,
            differs,
        }
    }
}

/// One path's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Path {
    /// The source address and subnet.
    pub from: String,
    /// The destination.
    pub to: String,
    /// The NSGs leaving the source.
    pub out: NsgStep,
    /// The route.
    pub route: RouteStep,
    /// The NSGs entering the destination, when it is in a subnet of the inputs reached through
    /// the VNet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound: Option<NsgStep>,
    /// `delivered`, `dropped by NSG`, `dropped by route`, or where it leaves (`to the Internet`,
    /// `to appliance IP`, `to the gateway`).
    pub outcome: String,
}

/// A flow from `from` to `to:port`.
#[allow(clippy::too_many_arguments)]
pub fn one(
    net: &Network,
    snap: &Snapshot,
    src: &SubnetPaths,
    out_guards: &[Guards],
    from: End,
    to: IpAddr,
    protocol: Protocol,
    port: u16,
    asgs: &BTreeMap<String, Vec<IpAddr>>,
    bgp: &[(IpNet, NextHop)],
    inbound_cache: &mut BTreeMap<(usize, Option<usize>), Vec<Guards>>,
) -> Result<Path> {
    let special = match to {
        IpAddr::V4(a) => {
            a.is_unspecified() || a.is_broadcast() || a.is_loopback() || a.is_multicast()
        }
        IpAddr::V6(a) => a.is_unspecified() || a.is_loopback() || a.is_multicast(),
    };
    if special {
        return Err(Error::field(
            "to",
            format!(
                "`{to}` is not a unicast address a flow can go to (unspecified, broadcast, loopback or multicast)"
            ),
        ));
    }
    if port == 0 && protocol.has_ports() {
        return Err(Error::field(
            "port",
            format!("0 is not a port a {} flow can use", protocol.name()),
        ));
    }
    let flow = Flow {
        direction: Direction::Outbound,
        protocol,
        local_ip: from.address,
        local_port: EPHEMERAL,
        remote_ip: to,
        remote_port: port,
    };
    if to.is_ipv4() != from.address.is_ipv4() {
        return Err(Error::field(
            "to",
            format!(
                "`{to}` is IPv{} and the source {} IPv{}: a flow is all IPv4 or all IPv6",
                if to.is_ipv4() { 4 } else { 6 },
                from.address,
                if from.address.is_ipv4() { 4 } else { 6 }
            ),
        ));
    }
    let out = nsg_step(out_guards, &flow);
    let route = src.route_step(to);
    let mut inbound = None;
    let endpoint_subnet = (route.goes == "private-endpoint")
        .then(|| end_of(net, to))
        .flatten()
        .filter(|d| !net.subnets[d.subnet].pe_nsg_policies);
    if let Some(d) = endpoint_subnet {
        inbound = Some(NsgStep {
            direction: Direction::Inbound.to_string(),
            access: "Allow".into(),
            nsg: String::new(),
            rule: String::new(),
            differs: Vec::new(),
            note: Some(format!(
                "the NSG of subnet `{}` does not apply to traffic to its private endpoints: network policies for NSGs are off (privateEndpointNetworkPolicies)",
                net.subnets[d.subnet].meta.name
            )),
        });
    } else if matches!(route.goes.as_str(), "virtual-network" | "private-endpoint")
        && let Some(dst) = end_of(net, to)
    {
        let guards = match inbound_cache.entry((dst.subnet, dst.nic)) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let dst_paths = SubnetPaths::new(net, snap, dst.subnet, bgp);
                v.insert(dst_paths.nsgs(snap, dst.nic, asgs)?)
            }
        };
        let f = Flow {
            direction: Direction::Inbound,
            protocol,
            local_ip: to,
            local_port: port,
            remote_ip: from.address,
            remote_port: EPHEMERAL,
        };
        inbound = Some(nsg_step(guards, &f));
    }
    let outcome = if out.access != "Allow" {
        "dropped by NSG (outbound)".to_string()
    } else if route.goes == "dropped" {
        "dropped by route".to_string()
    } else if inbound.as_ref().is_some_and(|i| i.access != "Allow") {
        "dropped by NSG (inbound)".to_string()
    } else {
        match route.goes.as_str() {
            "internet" => "leaves to the Internet".into(),
            "appliance" => format!("to the appliance ({})", route.next_hop),
            "gateway" => "to the gateway".into(),
            "service-endpoint" => "to the service through its endpoint".into(),
            "private-endpoint" => "to the private endpoint".into(),
            "platform" => "to Azure's platform".into(),
            _ if end_of(net, to).is_none() => {
                "in the virtual network's space, but no subnet of the inputs holds the address"
                    .into()
            }
            _ => "delivered in the virtual network".into(),
        }
    };
    Ok(Path {
        from: format!("{} ({})", from.address, net.subnets[from.subnet].meta.name),
        to: match (protocol.has_ports(), to) {
            (false, _) => to.to_string(),
            (true, IpAddr::V6(a)) => format!("[{a}]:{port}"),
            (true, IpAddr::V4(a)) => format!("{a}:{port}"),
        },
        out,
        route,
        inbound,
        outcome,
    })
}

/// The local port of a path's source: an ephemeral one (Azure's range starts at 49152).
pub const EPHEMERAL: u16 = 49152;

/// Where a tag's addresses go from a subnet: per route outcome, how many, how many the NSGs
/// let through, and one address each way.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TagShare {
    /// Where they go (see [`RouteStep::goes`]); for an inbound flow, where the replies go.
    pub goes: String,
    /// The next hop.
    pub next_hop: String,
    /// Addresses of the tag routed this way (a decimal string: IPv6 counts exceed 2^64).
    pub addresses: String,
    /// Of them, allowed by the NSGs under some reading of `VirtualNetwork` (the risk).
    pub allowed: String,
    /// Of them, allowed under every reading.
    pub allowed_every_reading: String,
    /// A few of the prefixes (at most 8).
    pub prefixes: Vec<String>,
}

/// A tag's answer: a flow to (outbound) or from (inbound) every address of a tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagPath {
    /// The source (outbound) or destination (inbound) address in the subnet.
    pub from: String,
    /// `Outbound` (to the tag) or `Inbound` (from the tag; its replies must leave through the
    /// Internet, or they return asymmetrically through an appliance and are dropped).
    pub direction: String,
    /// The tag.
    pub tag: String,
    /// Protocol and port.
    pub port: String,
    /// Where its addresses go (inbound: where the replies go).
    pub shares: Vec<TagShare>,
    /// Addresses that get through under some reading: allowed, and routed anywhere but
    /// `dropped` (inbound: replies routed to the Internet).
    pub through: String,
    /// Addresses that get through under every reading.
    pub through_every_reading: String,
    /// Addresses in all.
    pub addresses: String,
    /// Readings (of `VirtualNetwork`, of routes) under which the answer differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
    /// One address that does not get through and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<String>,
}

/// The pieces of `set` (one family) by where a selector sends them.
fn route_shares(
    sel: &Selector,
    set: &crate::prefixset::Ranges,
    v6: bool,
) -> BTreeMap<(String, String), PrefixSet> {
    let mut by: BTreeMap<(String, String), Vec<(u128, u128)>> = BTreeMap::new();
    let ranges = set.ranges();
    let mut j = 0;
    for (start, end, c) in sel.segments(v6) {
        while j < ranges.len() && ranges[j].1 < start {
            j += 1;
        }
        let (g, h) = if c == crate::index::interval::NONE {
            ("dropped".to_string(), "None".to_string())
        } else {
            let cand = &sel.candidates[c as usize];
            (goes(&cand.hop).to_string(), cand.hop.to_string())
        };
        for r in ranges[j..].iter().take_while(|r| r.0 <= end) {
            by.entry((g.clone(), h.clone()))
                .or_default()
                .push((r.0.max(start), r.1.min(end)));
        }
    }
    by.into_iter()
        .map(|(k, v)| (k, PrefixSet::from_family_ranges(v6, v)))
        .collect()
}

/// Whether a share of a tag gets through: outbound, anywhere but dropped; inbound, only
/// replies leaving through the Internet.
fn passes(direction: Direction, goes: &str) -> bool {
    match direction {
        Direction::Outbound => goes != "dropped",
        Direction::Inbound => goes == "internet",
    }
}

/// A flow between `from` and every address of a tag (IPv4 when the source is IPv4).
#[allow(clippy::too_many_arguments)]
pub fn to_tag(
    snap: &Snapshot,
    src: &SubnetPaths,
    guards: &[Guards],
    from: End,
    from_name: &str,
    tag: &str,
    direction: Direction,
    protocol: Protocol,
    port: u16,
) -> Result<TagPath> {
    let id = snap.tag_by_name(tag)?;
    let t = snap.tag(id);
    let v6 = from.address.is_ipv6();
    let nets: Vec<IpNet> = if v6 {
        t.v6().iter().map(|&n| IpNet::V6(n)).collect()
    } else {
        t.v4().iter().map(|&n| IpNet::V4(n)).collect()
    };
    let tag_set = PrefixSet::from_prefixes(nets);
    // What the NSGs let through, per reading of `VirtualNetwork`.
    let per_reading: Vec<(VnetReading, PrefixSet)> = guards
        .iter()
        .map(|g| {
            let r = crate::nsg::reach::reach(
                snap,
                g.subnet.as_ref().map(|x| &x.0),
                g.nic.as_ref().map(|x| &x.0),
                direction,
                protocol,
                port,
                from.address,
            );
            (
                g.reading,
                PrefixSet::from_prefixes(r.prefixes.iter().map(|p| p.0)),
            )
        })
        .collect();
    let mut any = PrefixSet::default();
    let mut every: Option<PrefixSet> = None;
    for (_, a) in &per_reading {
        any = any.union(a);
        every = Some(match every {
            None => a.clone(),
            Some(e) => e.intersection(a),
        });
    }
    let every = every.unwrap_or_default();
    let fam = if v6 { &tag_set.v6 } else { &tag_set.v4 };
    let main = route_shares(&src.selector, fam, v6);
    let through_of = |shares: &BTreeMap<(String, String), PrefixSet>, allowed: &PrefixSet| {
        let mut through = PrefixSet::default();
        for ((g, _), set) in shares {
            if passes(direction, g) {
                through = through.union(&set.intersection(allowed));
            }
        }
        through
    };
    let through = through_of(&main, &any);
    let through_every = through_of(&main, &every);
    let mut differs = Vec::new();
    for (r, a) in &per_reading {
        let n = through_of(&main, a).address_count();
        if n != through.address_count() {
            differs.push(format!(
                "{n} get through under `{}` (VirtualNetwork)",
                r.name()
            ));
        }
    }
    for (name, sel) in &src.alternates {
        let alt = route_shares(sel, fam, v6);
        if alt != main {
            let n = through_of(&alt, &any).address_count();
            let hops: Vec<String> = alt
                .iter()
                .map(|((g, h), set)| format!("{} to {h} ({g})", set.address_count()))
                .collect();
            differs.push(format!("if {name}: {} ; {n} get through", hops.join(", ")));
        }
    }
    let shares: Vec<TagShare> = main
        .iter()
        .map(|((g, h), set)| TagShare {
            goes: g.clone(),
            next_hop: h.clone(),
            addresses: set.address_count().to_string(),
            allowed: set.intersection(&any).address_count().to_string(),
            allowed_every_reading: set.intersection(&every).address_count().to_string(),
            prefixes: set
                .to_prefixes()
                .iter()
                .take(8)
                .map(IpNet::to_string)
                .collect(),
        })
        .collect();
    let missing = tag_set.difference(&through);
    let counterexample = missing.first(v6).map(|a| {
        let ip = crate::prefixset::to_addr(a, v6);
        let route = src.route_step(ip);
        let f = match direction {
            Direction::Outbound => Flow {
                direction,
                protocol,
                local_ip: from.address,
                local_port: EPHEMERAL,
                remote_ip: ip,
                remote_port: port,
            },
            Direction::Inbound => Flow {
                direction,
                protocol,
                local_ip: from.address,
                local_port: port,
                remote_ip: ip,
                remote_port: EPHEMERAL,
            },
        };
        let nsg = nsg_step(guards, &f);
        if nsg.access != "Allow" {
            format!("{ip}: denied by {} {}", nsg.nsg, nsg.rule)
        } else if direction == Direction::Inbound {
            format!(
                "{ip}: allowed in, but the replies are routed to {} by {} ({}), not to the Internet: they return asymmetrically and are dropped",
                route.next_hop, route.route, route.prefix
            )
        } else {
            format!(
                "{ip}: routed to {} by {} ({})",
                route.next_hop, route.route, route.prefix
            )
        }
    });
    Ok(TagPath {
        from: from_name.to_string(),
        direction: direction.to_string(),
        tag: t.name().to_string(),
        port: format!("{} {port}", protocol.name()),
        shares,
        through: through.address_count().to_string(),
        through_every_reading: through_every.address_count().to_string(),
        addresses: tag_set.address_count().to_string(),
        differs,
        counterexample,
    })
}

/// Every `check` finding: the rules ([`crate::check::check`]) and [`check_findings`], sorted by
/// rule number, resource and message.
pub fn check_all(cx: &crate::check::Cx) -> Vec<crate::findings::Finding> {
    let mut all = crate::check::check(cx);
    all.extend(check_findings(cx));
    all.sort_by(|a, b| (a.id, &a.resource, &a.message).cmp(&(b.id, &b.resource, &b.message)));
    all.dedup();
    all
}

/// The `check` findings only routes and NSGs together give: for each compute subnet, the
/// outbound flows of the NSG profile that its NSG allows but its routes send to an appliance or
/// a gateway (`requirement-via-appliance`, one finding a subnet) or drop
/// (`requirement-dropped-by-route`).
pub fn check_findings(cx: &crate::check::Cx) -> Vec<crate::findings::Finding> {
    use crate::findings::{Code, Finding};
    let mut out = Vec::new();
    let Some(profile) = crate::nsg::reach::profiles()
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(cx.nsg_profile))
    else {
        return out;
    };
    let net = cx.net;
    // Every subnet with an NSG under a user 0.0.0.0/0: does an Internet source get in only
    // because `VirtualNetwork` may hold the default route?
    let probe: IpAddr = "203.0.113.1".parse().expect("valid");
    for s in 0..net.subnets.len() {
        if crate::cancel::cancelled() {
            break;
        }
        let sub = &net.subnets[s];
        let Some(t) = net.find(Kind::Table, sub.route_table.as_deref()) else {
            continue;
        };
        let default_udr = net.tables[t].table.user_routes().any(|r| {
            r.address_prefix
                .parse::<IpNet>()
                .is_ok_and(|n| n.prefix_len() == 0 && n.addr().is_ipv4())
        });
        if !default_udr || net.find(Kind::Nsg, sub.nsg.as_deref()).is_none() {
            continue;
        }
        let Ok(to) = locate(net, &sub.meta.id) else {
            continue;
        };
        let paths = SubnetPaths::new(net, cx.snap, s, &[]);
        let Ok(guards) = paths.nsgs(cx.snap, None, cx.asgs) else {
            continue;
        };
        let mut admitted: Vec<String> = Vec::new();
        let mut first: Option<u16> = None;
        for (protocol, port) in [
            (Protocol::Tcp, 22u16),
            (Protocol::Tcp, 3389),
            (Protocol::Tcp, 443),
        ] {
            let f = Flow {
                direction: Direction::Inbound,
                protocol,
                local_ip: to.address,
                local_port: port,
                remote_ip: probe,
                remote_port: EPHEMERAL,
            };
            let step = nsg_step(&guards, &f);
            if step.access == "Allow" && !step.differs.is_empty() {
                first.get_or_insert(port);
                admitted.push(format!(
                    "{} {port} by {} {}",
                    protocol.name(),
                    step.nsg,
                    step.rule
                ));
            }
        }
        if !admitted.is_empty() {
            let table = &net.tables[t].meta.name;
            let mut f = Finding::new(
                Code::NsgVnetTagUnderUdr,
                &sub.meta.id,
                format!(
                    "subnet `{}` has a user route for 0.0.0.0/0 (table `{table}`), so VirtualNetwork may hold every address: an Internet source such as {probe} then gets in on {} (denied if the default route stays out of the tag)",
                    sub.meta.name,
                    admitted.join(", ")
                ),
            );
            if let Some(port) = first {
                f = f.counterexample(format!("{probe}:{EPHEMERAL} -> {}:{port}", to.address));
            }
            out.push(f);
        }
    }
    for cs in cx.compute_subnets() {
        if crate::cancel::cancelled() {
            break;
        }
        let sub = &net.subnets[cs.subnet];
        if net.find(Kind::Table, sub.route_table.as_deref()).is_none() {
            continue;
        }
        let Some(region) = cx.region_of_subnet(cs.subnet) else {
            continue; // the NSG and route checks say why
        };
        let Ok(from) = locate(net, &sub.meta.id) else {
            continue;
        };
        let paths = SubnetPaths::new(net, cx.snap, cs.subnet, &[]);
        let Ok(guards) = paths.nsgs(cx.snap, None, cx.asgs) else {
            continue; // the NSG checks report what cannot be read
        };
        let mut via: Vec<String> = Vec::new();
        for r in profile
            .requirements
            .iter()
            .filter(|r| r.direction.eq_ignore_ascii_case("outbound"))
        {
            let Ok(tag) = r.tag_in(cx.snap, &region) else {
                continue; // no regional variant: nothing to require here
            };
            let protocol = Protocol::parse(&r.protocol).unwrap_or(Protocol::Tcp);
            let Some(&port) = r.first_ports().first() else {
                continue;
            };
            let name = format!("{} {}", sub.meta.name, from.address);
            let Ok(tp) = to_tag(
                cx.snap,
                &paths,
                &guards,
                from,
                &name,
                &tag,
                Direction::Outbound,
                protocol,
                port,
            ) else {
                continue;
            };
            let what = format!("{} {port} to {tag}", r.protocol.to_ascii_uppercase());
            for s in &tp.shares {
                if s.allowed == "0" {
                    continue; // the NSG blocks it: nsg-requirement-unmet says so
                }
                match s.goes.as_str() {
                    "dropped" => {
                        let example = s
                            .prefixes
                            .first()
                            .and_then(|p| p.parse::<IpNet>().ok())
                            .map(|p| p.network());
                        let by = example.map_or(String::new(), |ip| {
                            let step = paths.route_step(ip);
                            format!(" by {} ({})", step.route, step.prefix)
                        });
                        let mut f = Finding::new(
                            Code::RequirementDroppedByRoute,
                            &sub.meta.id,
                            format!(
                                "outbound {what} is allowed by the NSG, but {} of its addresses are dropped{by} in compute subnet `{}`: {}",
                                s.allowed, sub.meta.name, r.why
                            ),
                        );
                        if let Some(ip) = example {
                            f = f.counterexample(format!("{} -> {ip}:{port}", from.address));
                        }
                        out.push(f);
                    }
                    "appliance" | "gateway" => {
                        let item = format!("{what} ({} addresses to {})", s.allowed, s.next_hop);
                        if !via.contains(&item) {
                            via.push(item);
                        }
                    }
                    _ => {}
                }
            }
        }
        if !via.is_empty() {
            out.push(Finding::new(
                Code::RequirementViaAppliance,
                &sub.meta.id,
                format!(
                    "compute subnet `{}`: its NSG allows what the guidance needs, but its routes send it to an appliance or gateway, whose rules must allow it too: {}",
                    sub.meta.name,
                    via.join("; ")
                ),
            ));
        }
    }
    out
}
