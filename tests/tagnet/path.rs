//! `tagnet path` and the route selector under it: the fast selector agrees with the naive
//! evaluator ([`tagnet::oracle::route`]) on random route tables over the built-in snapshot, and
//! the documented exceptions hold.

use ipnet::IpNet;
use proptest::prelude::*;
use std::net::IpAddr;
use std::sync::OnceLock;
use tagnet::routes::NextHop;
use tagnet::routes::select::{
    Choice, Inputs, PrivateEndpointRoute, Readings, Selector, ServiceEndpoint,
};
use tagnet::routes::table::{RouteSource, RouteTable, TableKind, TableRoute};

fn snap() -> &'static tagnet::Snapshot {
    static S: OnceLock<tagnet::Snapshot> = OnceLock::new();
    S.get_or_init(|| tagnet::load::builtin::load().unwrap())
}

const TAGS: [&str; 6] = [
    "AzureMachineLearning",
    "BatchNodeManagement.EastUS2",
    "Storage.EastUS2",
    "AzureCloud.eastus2",
    "AzureCloud",
    "NoSuchTag.EastUS2",
];

fn tag_nets(name: &str) -> Vec<IpNet> {
    let s = snap();
    let t = s.tag(s.tag_by_name(name).unwrap());
    t.v4().iter().map(|&n| IpNet::V4(n)).collect()
}

fn hop(h: u8) -> NextHop {
    match h % 5 {
        0 => NextHop::Internet,
        1 => NextHop::VirtualAppliance("10.0.100.4".parse().unwrap()),
        2 => NextHop::VirtualNetworkGateway,
        3 => NextHop::None,
        _ => NextHop::VnetLocal,
    }
}

/// A prefix near a few interesting places: the VNet, private ranges, a tag's first prefix,
/// the default route.
fn prefix(anchor: u8, bits: u32, len: u8) -> IpNet {
    let base: u32 = match anchor % 6 {
        0 => 0x0A00_0000, // 10.0.0.0
        1 => 0xC0A8_0000, // 192.168.0.0
        2 => 0x6440_0000, // 100.64.0.0
        3 => u32::from(match tag_nets("AzureMachineLearning")[0] {
            IpNet::V4(n) => n.network(),
            _ => unreachable!(),
        }),
        4 => u32::from(match tag_nets("Storage.EastUS2")[0] {
            IpNet::V4(n) => n.network(),
            _ => unreachable!(),
        }),
        _ => 0,
    };
    let a = std::net::Ipv4Addr::from(base ^ (bits & 0xffff));
    IpNet::V4(ipnet::Ipv4Net::new(a, len).unwrap()).trunc()
}

#[derive(Debug, Clone)]
struct Case {
    routes: Vec<(u8, u32, u8, u8, u8, u8)>, // (anchor, bits, len, hop, tag?, source)
    effective: bool,
    bgp_off: bool,
    bgp: Vec<(u8, u32, u8, u8)>,
    vnet_len: u8,
    peer: bool,
    se: bool,
    pes: Vec<(u16, bool)>,
    readings: (bool, bool, bool, bool),
}

fn case() -> impl Strategy<Value = Case> {
    let route = (0u8..6, any::<u32>(), 0u8..=32, any::<u8>(), 0u8..8, 0u8..4);
    (
        proptest::collection::vec(route, 0..12),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((0u8..6, any::<u32>(), 0u8..=32, any::<u8>()), 0..3),
        8u8..=24,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((any::<u16>(), any::<bool>()), 0..3),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(routes, effective, bgp_off, bgp, vnet_len, peer, se, pes, readings)| Case {
                routes,
                effective,
                bgp_off,
                bgp,
                vnet_len,
                peer,
                se,
                pes,
                readings,
            },
        )
}

fn build(c: &Case) -> (RouteTable, Inputs<'static>) {
    let routes = c
        .routes
        .iter()
        .enumerate()
        .map(|(i, &(a, bits, len, h, tag, src))| TableRoute {
            name: format!("r{i}"),
            address_prefix: if (tag as usize) < TAGS.len() && tag % 2 == 1 {
                TAGS[tag as usize].to_string()
            } else {
                prefix(a, bits, len).to_string()
            },
            next_hop: hop(h),
            source: if c.effective {
                match src {
                    0 => RouteSource::Bgp,
                    1 => RouteSource::Default,
                    _ => RouteSource::User,
                }
            } else {
                RouteSource::User
            },
        })
        .collect();
    let table = RouteTable {
        routes,
        kind: if c.effective {
            TableKind::EffectiveRoutes
        } else {
            TableKind::RouteTable
        },
        bgp_propagation_disabled: Some(c.bgp_off),
    };
    let vnet = prefix(0, 0, c.vnet_len);
    let inputs = Inputs {
        table: None,
        vnet: vec![vnet],
        peerings: if c.peer {
            vec![("hub".into(), prefix(0, 0x0100_0000 >> 8, 16))]
        } else {
            vec![]
        },
        service_endpoints: if c.se {
            vec![ServiceEndpoint {
                service: "Microsoft.Storage".into(),
                prefixes: tag_nets("Storage.EastUS2"),
            }]
        } else {
            vec![]
        },
        private_endpoints: c
            .pes
            .iter()
            .enumerate()
            .map(|(i, &(x, policies))| PrivateEndpointRoute {
                name: format!("pe{i}"),
                address: IpAddr::V4(std::net::Ipv4Addr::from(0x0A00_0000 | u32::from(x))),
                policies,
                space_len: c.vnet_len,
            })
            .collect(),
        bgp: c
            .bgp
            .iter()
            .map(|&(a, bits, len, h)| (prefix(a, bits, len), hop(h)))
            .collect(),
        readings: Readings {
            udr_over_service_endpoint: c.readings.0,
            none_routes_kept: c.readings.1,
            tag_udr_to_appliance_over_service_endpoint: c.readings.2,
            bgp_default_removes_none: c.readings.3,
        },
    };
    (table, inputs)
}

/// Addresses at every candidate prefix's edges, the endpoints' addresses and the platform's.
fn probes(sel: &Selector, inputs: &Inputs) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = tagnet::routes::select::PLATFORM.to_vec();
    // Every edge of a route the case wrote, and of a sample of the tag routes' prefixes (the
    // naive evaluator scans every prefix for each probe).
    let n = sel.candidates.len();
    let stride = (n / 120).max(1);
    for (k, c) in sel.candidates.iter().enumerate() {
        let tagged = matches!(
            c.origin,
            tagnet::routes::select::Origin::TagRoute(_)
                | tagnet::routes::select::Origin::ServiceEndpoint(_)
        );
        if tagged && k % stride != 0 {
            continue;
        }
        if let IpNet::V4(n) = c.net {
            let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
            for x in [a, b, a.wrapping_sub(1), b.wrapping_add(1), a / 2 + b / 2] {
                out.push(IpAddr::V4(x.into()));
            }
        }
    }
    out.extend(inputs.private_endpoints.iter().map(|p| p.address));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn the_selector_agrees_with_the_naive_evaluator(c in case()) {
        let (table, mut inputs) = build(&c);
        inputs.table = Some(&table);
        let sel = Selector::new(snap(), &inputs);
        for ip in probes(&sel, &inputs) {
            let fast = match sel.lookup(ip) {
                Choice::Route(r) => Some((r.net, r.hop, r.origin)),
                Choice::Platform | Choice::NoRoute => None,
            };
            let slow = tagnet::oracle::route(snap(), &inputs, ip);
            prop_assert_eq!(fast, slow, "{}", ip);
        }
    }
}

fn table(routes: &[(&str, NextHop)], bgp_off: bool) -> RouteTable {
    RouteTable {
        routes: routes
            .iter()
            .enumerate()
            .map(|(i, (p, h))| TableRoute {
                name: format!("r{i}"),
                address_prefix: p.to_string(),
                next_hop: *h,
                source: RouteSource::User,
            })
            .collect(),
        kind: TableKind::RouteTable,
        bgp_propagation_disabled: Some(bgp_off),
    }
}

fn choose(inputs: &Inputs, ip: &str) -> (String, String) {
    let sel = Selector::new(snap(), inputs);
    match sel.lookup(ip.parse().unwrap()) {
        Choice::Route(r) => (r.net.to_string(), r.hop.kind().to_string()),
        Choice::Platform => ("platform".into(), String::new()),
        Choice::NoRoute => ("none".into(), String::new()),
    }
}

/// Each documented exception, on its own.
#[test]
fn the_documented_exceptions_hold() {
    let fw = NextHop::VirtualAppliance("10.0.100.4".parse().unwrap());
    let t = table(&[("0.0.0.0/0", fw), ("10.0.0.0/24", NextHop::None)], false);
    let vnet: IpNet = "10.0.0.0/16".parse().unwrap();
    let aml = tag_nets("AzureMachineLearning")[0];
    let aml_ip = match aml {
        IpNet::V4(n) => n.network().to_string(),
        _ => unreachable!(),
    };
    let mut i = Inputs {
        table: Some(&t),
        vnet: vec![vnet],
        ..Default::default()
    };
    // Longest prefix: a UDR inside the VNet wins over the VNet route.
    assert_eq!(choose(&i, "10.0.0.9").1, "None");
    assert_eq!(choose(&i, "10.0.1.9").1, "VnetLocal");
    // Forced tunneling: the Internet goes to the firewall; the platform does not.
    assert_eq!(choose(&i, &aml_ip).1, "VirtualAppliance");
    assert_eq!(choose(&i, "168.63.129.16").0, "platform");
    // Learn's example: after a 0.0.0.0/0 UDR, the reserved ranges follow it (172.16/12, on
    // which the example is silent, too); the other reading keeps them dropped.
    assert_eq!(choose(&i, "192.168.1.1").1, "VirtualAppliance");
    assert_eq!(choose(&i, "172.16.1.1").1, "VirtualAppliance");
    i.readings.none_routes_kept = true;
    assert_eq!(choose(&i, "192.168.1.1").1, "None");
    assert_eq!(choose(&i, "172.16.1.1").1, "None");
    i.readings.none_routes_kept = false;
    // A BGP-learned default: the reserved ranges stay dropped, unless the undocumented
    // reading removes them too.
    let none_table = table(&[], false);
    let mut b = Inputs {
        table: Some(&none_table),
        vnet: vec![vnet],
        bgp: vec![("0.0.0.0/0".parse().unwrap(), NextHop::VirtualNetworkGateway)],
        ..Default::default()
    };
    assert_eq!(choose(&b, "192.168.1.1").1, "None");
    b.readings.bgp_default_removes_none = true;
    assert_eq!(choose(&b, "192.168.1.1").1, "VirtualNetworkGateway");
    // A BGP route inside the VNet loses to the VNet's system route; outside it wins over
    // the system default, and loses to a UDR of the same prefix.
    i.bgp = vec![
        (
            "10.0.5.0/24".parse().unwrap(),
            NextHop::VirtualNetworkGateway,
        ),
        (
            "203.0.113.0/24".parse().unwrap(),
            NextHop::VirtualNetworkGateway,
        ),
    ];
    assert_eq!(choose(&i, "10.0.5.1").1, "VnetLocal");
    assert_eq!(choose(&i, "203.0.113.7").1, "VirtualNetworkGateway");
    let off = table(&[("0.0.0.0/0", fw)], true);
    let j = Inputs {
        table: Some(&off),
        ..i.clone()
    };
    assert_eq!(choose(&j, "203.0.113.7").1, "VirtualAppliance");
    // A service endpoint's route is not overridden by a route table (Learn); under the
    // other reading a UDR of the same prefix wins.
    let st = tag_nets("Storage.EastUS2")[0];
    let st_ip = match st {
        IpNet::V4(n) => n.network().to_string(),
        _ => unreachable!(),
    };
    let same = table(&[("0.0.0.0/0", fw), (&st.to_string(), fw)], false);
    let mut k = Inputs {
        table: Some(&same),
        vnet: vec![vnet],
        service_endpoints: vec![ServiceEndpoint {
            service: "Microsoft.Storage".into(),
            prefixes: tag_nets("Storage.EastUS2"),
        }],
        ..Default::default()
    };
    assert_eq!(choose(&k, &st_ip).1, "VirtualNetworkServiceEndpoint");
    k.readings.udr_over_service_endpoint = true;
    assert_eq!(choose(&k, &st_ip).1, "VirtualAppliance");
    // A service-tag route to an appliance over the endpoint (azure-docs#111706): only under
    // that reading, and never for the same route to Internet.
    for (hop, want) in [
        (fw, "VirtualAppliance"),
        (NextHop::Internet, "VirtualNetworkServiceEndpoint"),
    ] {
        let tagged = table(&[("0.0.0.0/0", fw), ("Storage.EastUS2", hop)], false);
        let mut m = Inputs {
            table: Some(&tagged),
            ..k.clone()
        };
        m.readings = Readings::default();
        assert_eq!(choose(&m, &st_ip).1, "VirtualNetworkServiceEndpoint");
        m.readings.tag_udr_to_appliance_over_service_endpoint = true;
        assert_eq!(choose(&m, &st_ip).1, want);
    }
    // A private endpoint's /32 yields only to a UDR as specific as its VNet's space, with
    // network policies on; never to 0.0.0.0/0.
    let pe = |policies| PrivateEndpointRoute {
        name: "pe".into(),
        address: "10.0.2.5".parse().unwrap(),
        policies,
        space_len: 16,
    };
    let t16 = table(&[("0.0.0.0/0", fw), ("10.0.0.0/16", fw)], false);
    let t8 = table(&[("0.0.0.0/0", fw), ("10.0.0.0/8", fw)], false);
    for (t, policies, want) in [
        (&t16, true, "VirtualAppliance"),
        (&t16, false, "InterfaceEndpoint"),
        (&t8, true, "InterfaceEndpoint"),
        (&t, true, "InterfaceEndpoint"),
    ] {
        let p = Inputs {
            table: Some(t),
            vnet: vec![vnet],
            private_endpoints: vec![pe(policies)],
            ..Default::default()
        };
        assert_eq!(choose(&p, "10.0.2.5").1, want, "{policies} {:?}", t.routes);
    }
    // Tag routes: an explicit prefix beats a tag route of the same prefix; a regional tag
    // beats AzureCloud.
    let tags = table(
        &[
            ("AzureCloud", NextHop::None),
            ("AzureMachineLearning", NextHop::Internet),
        ],
        false,
    );
    let q = Inputs {
        table: Some(&tags),
        vnet: vec![vnet],
        ..Default::default()
    };
    let inside_both = tag_nets("AzureMachineLearning")
        .into_iter()
        .find(|n| tag_nets("AzureCloud").contains(n));
    if let Some(IpNet::V4(n)) = inside_both {
        assert_eq!(choose(&q, &n.network().to_string()).1, "Internet");
    }
}

fn examples() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/examples")
}

/// The compliant example under forced tunneling: its route table sends 0.0.0.0/0 to a
/// firewall (with `routes` of its own added by `extra`).
fn forced_tunnel(extra: serde_json::Value) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(examples().join("compliant/network.json")).unwrap())
            .unwrap();
    for r in net.iter_mut() {
        if r["name"] == "rt-compute" {
            let routes = r["routes"].as_array_mut().unwrap();
            routes.push(
                serde_json::json!({"name": "default-to-fw", "addressPrefix": "0.0.0.0/0",
                "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}),
            );
            routes.extend(extra.as_array().unwrap().iter().cloned());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("network.json");
    std::fs::write(&p, serde_json::to_vec(&net).unwrap()).unwrap();
    (dir, p)
}

fn trace(
    p: &std::path::Path,
    params: tagnet::ops::path::PathParams,
) -> tagnet::ops::path::PathReport {
    let docs = tagnet::check::read::documents(&[p.to_path_buf()]).unwrap();
    let info = tagnet::ops::SnapshotInfo::of(snap(), "builtin");
    tagnet::ops::path::path(snap(), &info, &docs, &Default::default(), &params).unwrap()
}

/// Under a 0.0.0.0/0 UDR, `VirtualNetwork` may hold the whole Internet (Learn: "this tag might
/// also contain default routes"; azure-docs#22178): `AllowVnetInBound` then admits an Internet
/// source. The reading that decides is named.
#[test]
fn allow_vnet_inbound_admits_the_internet_under_a_default_udr() {
    let (_d, p) = forced_tunnel(serde_json::json!([]));
    let docs = tagnet::check::read::documents(&[p]).unwrap();
    let net = tagnet::check::read::from_documents(&docs, &Default::default(), &Default::default())
        .unwrap();
    let from = tagnet::path::locate(&net, "vnet-ml/compute").unwrap();
    let paths = tagnet::path::SubnetPaths::new(&net, snap(), from.subnet, &[]);
    let guards = paths.nsgs(snap(), None, &Default::default()).unwrap();
    let flow = tagnet::nsg::model::Flow {
        direction: tagnet::nsg::model::Direction::Inbound,
        protocol: tagnet::nsg::model::Protocol::Tcp,
        local_ip: from.address,
        local_port: 22,
        remote_ip: "203.0.113.9".parse().unwrap(),
        remote_port: 50000,
    };
    let verdicts: Vec<(bool, String)> = guards
        .iter()
        .map(|g| (g.reading.default_route, g.verdict(&flow).rule))
        .collect();
    for (default_in_tag, rule) in &verdicts {
        if *default_in_tag {
            assert_eq!(
                rule, "defaultSecurityRules/AllowVnetInBound",
                "{verdicts:?}"
            );
        } else {
            assert_eq!(rule, "defaultSecurityRules/DenyAllInBound", "{verdicts:?}");
        }
    }
    // Without the default route the Internet source is denied under every reading.
    let (_d2, plain) = (
        tempfile::tempdir().unwrap(),
        examples().join("compliant/network.json"),
    );
    let docs = tagnet::check::read::documents(&[plain]).unwrap();
    let net = tagnet::check::read::from_documents(&docs, &Default::default(), &Default::default())
        .unwrap();
    let paths = tagnet::path::SubnetPaths::new(&net, snap(), from.subnet, &[]);
    for g in paths.nsgs(snap(), None, &Default::default()).unwrap() {
        assert_eq!(g.verdict(&flow).rule, "defaultSecurityRules/DenyAllInBound");
    }
}

/// The guidance's required flows of a forced-tunneled ML subnet, end to end: without the UDRs
/// to Internet for the control plane, its inbound requirements fail (replies go to the
/// firewall); storage is allowed by the NSG but routed to the firewall; with the routes
/// `udr` writes, the inbound requirements are met.
#[test]
fn a_forced_tunneled_ml_subnet_is_answered_end_to_end() {
    let params = |to: &str| tagnet::ops::path::PathParams {
        from: "vnet-ml/compute".into(),
        to: to.into(),
        protocol: "tcp".into(),
        profile: to.is_empty().then(|| "aml-vnet-2020".to_string()),
        ..Default::default()
    };
    let (_d, p) = forced_tunnel(serde_json::json!([]));
    let r = trace(&p, params(""));
    let status = |r: &tagnet::ops::path::PathReport, what: &str| {
        r.requirements
            .iter()
            .find(|x| x.requirement.contains(what))
            .map(|x| x.status.clone())
            .unwrap()
    };
    assert_eq!(status(&r, "from BatchNodeManagement"), "not-met");
    assert_eq!(status(&r, "from AzureMachineLearning"), "not-met");
    assert_eq!(status(&r, "to Storage"), "via-appliance");
    assert!(r.failing());
    let inbound = r
        .requirements
        .iter()
        .find(|x| x.requirement.contains("from BatchNodeManagement"))
        .unwrap();
    assert!(
        inbound.path.shares.iter().any(|s| s.goes == "appliance"),
        "{:?}",
        inbound.path
    );
    // The routes the guidance asks for: service-tag routes to Internet.
    let (_d, p) = forced_tunnel(serde_json::json!([
        {"name": "batch", "addressPrefix": "BatchNodeManagement.EastUS2", "nextHopType": "Internet"},
        {"name": "aml", "addressPrefix": "AzureMachineLearning", "nextHopType": "Internet"}
    ]));
    let r = trace(&p, params(""));
    assert_eq!(status(&r, "from BatchNodeManagement"), "met");
    assert_eq!(status(&r, "from AzureMachineLearning"), "met");
    assert_eq!(status(&r, "to Storage"), "via-appliance");
    assert!(!r.failing());
    // One address: where it goes and which route and rules decide.
    let r = trace(&p, params("8.8.8.8:443"));
    let path = r.path.unwrap();
    assert_eq!(path.route.goes, "appliance");
    assert_eq!(path.route.next_hop, "VirtualAppliance 10.0.0.4");
    assert!(
        path.route.route.contains("default-to-fw"),
        "{}",
        path.route.route
    );
    assert_eq!(path.out.access, "Allow");
}

/// The command: exit 0 when the flow gets through, 1 when it does not, 2 on bad input.
#[test]
fn the_path_command_exits_by_its_answer() {
    let (_d, p) = forced_tunnel(serde_json::json!([
        {"name": "drop-test", "addressPrefix": "198.51.100.0/24", "nextHopType": "None"}
    ]));
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .args(["-q", "path"])
            .arg(&p)
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&["--from", "vnet-ml/compute", "--to", "8.8.8.8:443"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("to the appliance"));
    let dropped = run(&[
        "--from",
        "vnet-ml/compute",
        "--to",
        "198.51.100.7:443",
        "--format",
        "json",
    ]);
    assert_eq!(dropped.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&dropped.stdout).unwrap();
    assert_eq!(v["path"]["outcome"], "dropped by route");
    assert!(v["snapshot"].is_object());
    for bad in [
        vec!["--from", "nowhere", "--to", "8.8.8.8:443"],
        vec!["--from", "vnet-ml/compute", "--to", "8.8.8.8"],
        vec![
            "--from",
            "vnet-ml/compute",
            "--to",
            "NoSuchTag",
            "--port",
            "443",
        ],
        vec![
            "--from",
            "vnet-ml/compute",
            "--to",
            "8.8.8.8:443",
            "--bgp",
            "0.0.0.0/0",
        ],
    ] {
        let o = run(&bad);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(!o.stderr.is_empty());
    }
}

/// Trial regressions: a requirement met only under some readings of `VirtualNetwork` is not
/// met (an empty NSG under forced tunneling relies on AllowVnetInBound holding the UDR
/// prefixes); a private endpoint's subnet NSG does not apply without network policies; bad
/// inputs are refused.
#[test]
fn trial_regressions_of_path() {
    let (_d, p) = forced_tunnel(serde_json::json!([
        {"name": "batch", "addressPrefix": "BatchNodeManagement.EastUS2", "nextHopType": "Internet"},
        {"name": "aml", "addressPrefix": "AzureMachineLearning", "nextHopType": "Internet"}
    ]));
    let mut net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    for r in net.iter_mut() {
        if r["name"] == "nsg-compute" {
            r["securityRules"] = serde_json::json!([]);
        }
    }
    // A private endpoint in subnet `default`, whose NSG denies everything inbound.
    net.push(serde_json::json!({
        "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Network/networkSecurityGroups/nsg-pe",
        "name": "nsg-pe", "type": "Microsoft.Network/networkSecurityGroups", "location": "eastus2",
        "securityRules": [{"name": "DenyAllIn", "priority": 100, "direction": "Inbound", "access": "Deny",
            "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": "*"}]
    }));
    net.push(serde_json::json!({
        "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Network/privateEndpoints/pe-st",
        "name": "pe-st", "type": "Microsoft.Network/privateEndpoints", "location": "eastus2",
        "subnet": {"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Network/virtualNetworks/vnet-ml/subnets/default"},
        "customDnsConfigs": [{"fqdn": "stml.blob.core.windows.net", "ipAddresses": ["10.10.2.4"]}],
        "privateLinkServiceConnections": [{"name": "c", "privateLinkServiceId": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Storage/storageAccounts/stml", "groupIds": ["blob"]}]
    }));
    let with_policies = |policies: &str| {
        let mut net = net.clone();
        for r in net.iter_mut() {
            if r["name"] == "vnet-ml" {
                for s in r["subnets"].as_array_mut().unwrap() {
                    if s["name"] == "default" {
                        s["networkSecurityGroup"] = serde_json::json!({"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Network/networkSecurityGroups/nsg-pe"});
                        s["privateEndpointNetworkPolicies"] = policies.into();
                    }
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("network.json");
        std::fs::write(&f, serde_json::to_vec(&net).unwrap()).unwrap();
        (dir, f)
    };
    let (_d1, off) = with_policies("Disabled");
    let params = |to: &str, profile: Option<&str>| tagnet::ops::path::PathParams {
        from: "vnet-ml/compute".into(),
        to: to.into(),
        protocol: "tcp".into(),
        profile: profile.map(str::to_string),
        ..Default::default()
    };
    let r = trace(&off, params("", Some("aml-vnet-2020")));
    let inbound = r
        .requirements
        .iter()
        .find(|x| x.requirement.contains("from BatchNodeManagement"))
        .unwrap();
    assert_eq!(inbound.status, "not-met", "{inbound:?}");
    assert!(
        inbound.reason.as_deref().unwrap().contains("some readings"),
        "{inbound:?}"
    );
    assert!(!inbound.path.differs.is_empty());
    let to_pe = trace(&off, params("10.10.2.4:443", None)).path.unwrap();
    assert_eq!(to_pe.route.goes, "private-endpoint");
    assert_eq!(to_pe.inbound.as_ref().unwrap().access, "Allow", "{to_pe:?}");
    let (_d2, on) = with_policies("Enabled");
    let to_pe = trace(&on, params("10.10.2.4:443", None)).path.unwrap();
    assert_eq!(to_pe.inbound.as_ref().unwrap().access, "Deny", "{to_pe:?}");
    assert_eq!(to_pe.outcome, "dropped by NSG (inbound)");
    // Refused: another family, a BGP route not from a gateway, two ports, a reserved source.
    let docs = tagnet::check::read::documents(std::slice::from_ref(&off)).unwrap();
    let info = tagnet::ops::SnapshotInfo::of(snap(), "builtin");
    for (from, to, port, bgp) in [
        ("vnet-ml/compute", "[2001:db8::1]:443", None, vec![]),
        (
            "vnet-ml/compute",
            "8.8.8.8:443",
            None,
            vec!["0.0.0.0/0=VnetLocal".to_string()],
        ),
        (
            "vnet-ml/compute",
            "8.8.8.8:443",
            None,
            vec!["10.1.2.3/8=VirtualNetworkGateway".to_string()],
        ),
        ("vnet-ml/compute", "8.8.8.8:443", Some(80), vec![]),
        ("10.10.0.1", "8.8.8.8:443", None, vec![]),
    ] {
        let p = tagnet::ops::path::PathParams {
            from: from.into(),
            to: to.into(),
            protocol: "tcp".into(),
            port,
            bgp,
            ..Default::default()
        };
        assert!(
            tagnet::ops::path::path(snap(), &info, &docs, &Default::default(), &p).is_err(),
            "{from} {to} {port:?}"
        );
    }
}

/// The forced-tunneled network of the examples, as az JSON, an ARM template and a Terraform
/// plan: the profile's requirements are answered alike.
#[test]
fn a_forced_tunneled_network_is_answered_alike_in_every_format() {
    let statuses = |dir: &str| {
        let p = examples().join(dir);
        let r = trace(
            &p,
            tagnet::ops::path::PathParams {
                from: "vnet-ml/compute".into(),
                protocol: "tcp".into(),
                profile: Some("aml-vnet-2020".into()),
                region: Some("eastus2".into()),
                ..Default::default()
            },
        );
        r.requirements
            .iter()
            .map(|x| (x.requirement.clone(), x.status.clone()))
            .collect::<Vec<_>>()
    };
    let az = statuses("missing-route");
    assert!(az.iter().any(|(_, s)| s == "not-met"), "{az:?}");
    assert_eq!(statuses("as-arm/missing-route"), az);
    assert_eq!(statuses("as-terraform/missing-route"), az);
}

/// `path --flows`: one row a line, streamed as ndjson or csv; exit 1 when one does not get
/// through; a line that cannot be read is an error naming it.
#[test]
fn path_flows_are_answered_line_by_line() {
    let (d, p) = forced_tunnel(serde_json::json!([
        {"name": "drop-test", "addressPrefix": "198.51.100.0/24", "nextHopType": "None"}
    ]));
    let flows = d.path().join("flows.csv");
    std::fs::write(
        &flows,
        "from,to,protocol,port\n# forced tunneling\nvnet-ml/compute,8.8.8.8:443\nvnet-ml/compute,198.51.100.7,tcp,443\n10.10.3.5,10.10.0.9:22\nvnet-ml/compute,8.8.8.8,icmp\n",
    )
    .unwrap();
    let run = |fmt: &str, f: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .args(["-q", "path", "--format", fmt, "--flows"])
            .arg(f)
            .arg(&p)
            .output()
            .unwrap()
    };
    let o = run("ndjson", &flows);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["next_hop"], "VirtualAppliance 10.0.0.4");
    assert_eq!(rows[1]["outcome"], "dropped by route");
    assert_eq!(rows[1]["line"], 4);
    assert_eq!(rows[2]["in_access"], "Allow");
    assert_eq!(rows[3]["to"], "8.8.8.8");
    let o = run("csv", &flows);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("line,from,to,protocol,outcome"), "{text}");
    assert_eq!(text.lines().count(), 5);
    // JSON names the snapshot and holds the same rows; the table has a row a flow; a .gz of
    // the lines reads the same.
    let o = run("json", &flows);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["snapshot"]["change_number"].is_number(), "{doc}");
    assert_eq!(doc["records"].as_array().unwrap().len(), 4);
    assert_eq!(doc["records"][1]["outcome"], "dropped by route");
    let o = run("table", &flows);
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 5);
    let gz = d.path().join("flows.csv.gz");
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &std::fs::read(&flows).unwrap()).unwrap();
    std::fs::write(&gz, z.finish().unwrap()).unwrap();
    assert_eq!(run("ndjson", &gz).stdout, run("ndjson", &flows).stdout);
    std::fs::write(
        &flows,
        "vnet-ml/compute,8.8.8.8:443\nvnet-ml/compute,not-an-ip:443\n",
    )
    .unwrap();
    let o = run("csv", &flows);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2"));
    // A first line that cannot be read writes nothing, in any format.
    std::fs::write(&flows, "vnet-ml/compute,not-an-ip:443\n").unwrap();
    for fmt in ["json", "table", "csv", "ndjson"] {
        let o = run(fmt, &flows);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            o.stdout.is_empty(),
            "{fmt}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

/// A NIC's effective routes in place of the subnet's table: what Azure applies, BGP routes
/// included; a route table given there is refused.
#[test]
fn effective_routes_replace_the_subnet_table() {
    let dir = tempfile::tempdir().unwrap();
    let eff = dir.path().join("effective.json");
    std::fs::write(
        &eff,
        serde_json::json!({"value": [
            {"source": "Default", "state": "Active", "addressPrefix": ["10.10.0.0/16"], "nextHopType": "VnetLocal", "nextHopIpAddress": []},
            {"source": "User", "state": "Active", "name": "default-to-fw", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "VirtualAppliance", "nextHopIpAddress": ["10.0.0.4"]},
            {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["172.20.0.0/16"], "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.0.0.10"]},
            {"source": "Default", "state": "Invalid", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet", "nextHopIpAddress": []}
        ]})
        .to_string(),
    )
    .unwrap();
    let run = |to: &str, routes: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .args([
                "-q",
                "path",
                "--format",
                "json",
                "--from",
                "vnet-ml/compute",
                "--to",
                to,
            ])
            .arg("--effective-routes")
            .arg(routes)
            .arg(examples().join("compliant"))
            .output()
            .unwrap()
    };
    let v = |o: std::process::Output| -> serde_json::Value {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let a = v(run("8.8.8.8:443", &eff));
    assert_eq!(a["path"]["route"]["next_hop"], "VirtualAppliance 10.0.0.4");
    assert!(
        a["path"]["route"]["route"]
            .as_str()
            .unwrap()
            .contains("default-to-fw"),
        "{a}"
    );
    let b = v(run("172.20.1.1:22", &eff));
    assert_eq!(b["path"]["route"]["goes"], "gateway");
    let table = dir.path().join("rt.json");
    std::fs::write(
        &table,
        r#"{"name": "rt", "routes": [{"name": "r", "addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}]}"#,
    )
    .unwrap();
    assert_eq!(run("8.8.8.8:443", &table).status.code(), Some(2));
}

/// `path --profile --format sarif`: the unmet requirements as SARIF results with registered
/// rule ids; without --profile SARIF is refused.
#[test]
fn path_profile_writes_sarif() {
    let net = examples().join("missing-route");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .args([
                "-q",
                "path",
                "--from",
                "vnet-ml/compute",
                "--format",
                "sarif",
            ])
            .args(args)
            .arg(&net)
            .output()
            .unwrap()
    };
    let o = run(&["--profile", "aml-vnet-2020"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"missing-route"), "{ids:?}");
    assert!(ids.contains(&"requirement-via-appliance"), "{ids:?}");
    for id in &ids {
        assert!(tagnet::explain(id).is_ok(), "{id}");
    }
    assert_eq!(run(&["--to", "8.8.8.8:443"]).status.code(), Some(2));
}

/// Second-trial regressions: BGP routes of effective routes join `VirtualNetwork`; effective
/// routes of another NIC are refused; special destinations and port 0 are refused; an empty
/// flows file is an error; a BOM is skipped; `--flows` refuses options it cannot honour.
#[test]
fn second_trial_regressions_of_path() {
    let dir = tempfile::tempdir().unwrap();
    let eff = dir.path().join("effective.json");
    std::fs::write(
        &eff,
        serde_json::json!({"value": [
            {"source": "Default", "state": "Active", "addressPrefix": ["10.10.0.0/16"], "nextHopType": "VnetLocal", "nextHopIpAddress": []},
            {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["192.168.0.0/16"], "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.0.0.10"]},
            {"source": "Default", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet", "nextHopIpAddress": []}
        ]})
        .to_string(),
    )
    .unwrap();
    // An NSG that denies Internet outbound: 192.168.1.1 is allowed only as VirtualNetwork.
    let mut net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(examples().join("compliant/network.json")).unwrap())
            .unwrap();
    for r in net.iter_mut() {
        if r["name"] == "nsg-compute" {
            r["securityRules"].as_array_mut().unwrap().push(serde_json::json!({
                "name": "DenyInternetOut", "priority": 4000, "direction": "Outbound", "access": "Deny",
                "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
                "destinationAddressPrefix": "Internet", "destinationPortRange": "*"}));
        }
    }
    let p = dir.path().join("network.json");
    std::fs::write(&p, serde_json::to_vec(&net).unwrap()).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .args(["-q", "path", "--format", "json"])
            .args(args)
            .arg(&p)
            .output()
            .unwrap()
    };
    let e = eff.to_str().unwrap();
    let o = run(&[
        "--from",
        "vnet-ml/compute",
        "--to",
        "192.168.1.1:443",
        "--effective-routes",
        e,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["path"]["out"]["rule"], "defaultSecurityRules/AllowVnetOutBound",
        "{v}"
    );
    // Another NIC's routes: refused.
    let o = run(&[
        "--from",
        "vnet-hub/gateway",
        "--to",
        "10.10.0.9:443",
        "--effective-routes",
        e,
    ]);
    assert_eq!(o.status.code(), Some(2));
    for to in [
        "255.255.255.255:443",
        "127.0.0.1:443",
        "224.0.0.1:443",
        "0.0.0.0:443",
        "8.8.8.8:0",
    ] {
        let o = run(&["--from", "vnet-ml/compute", "--to", to]);
        assert_eq!(o.status.code(), Some(2), "{to}");
    }
    let flows = dir.path().join("flows.txt");
    std::fs::write(&flows, "# nothing\n").unwrap();
    let f = flows.to_str().unwrap();
    assert_eq!(run(&["--flows", f]).status.code(), Some(2));
    std::fs::write(&flows, "\u{feff}vnet-ml/compute,8.8.8.8:443\n").unwrap();
    assert_eq!(run(&["--flows", f]).status.code(), Some(1)); // denied: DenyInternetOut
    assert_eq!(
        run(&["--flows", f, "--effective-routes", e]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["--flows", f, "--port", "80"]).status.code(), Some(2));
    std::fs::write(&flows, "vnet-ml/compute,8.8.8.8:443,tcp,80\n").unwrap();
    assert_eq!(run(&["--flows", f]).status.code(), Some(2));
}

/// Compute without public IPs needs no inbound flow from the control plane: `--profile` skips
/// the inbound requirements with a note, and a forced-tunneled subnet then meets the rest.
#[test]
fn no_public_ip_compute_needs_no_inbound_path() {
    let (_d, p) = forced_tunnel(serde_json::json!([]));
    let mut net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    for r in net.iter_mut() {
        if r["name"] == "cpu-cluster" {
            r["properties"]["properties"]["enableNodePublicIp"] = false.into();
        }
    }
    std::fs::write(&p, serde_json::to_vec(&net).unwrap()).unwrap();
    let r = trace(
        &p,
        tagnet::ops::path::PathParams {
            from: "vnet-ml/compute".into(),
            protocol: "tcp".into(),
            profile: Some("aml-vnet-2023".into()),
            ..Default::default()
        },
    );
    assert!(
        r.requirements
            .iter()
            .all(|x| !x.requirement.starts_with("Inbound"))
    );
    assert!(
        r.notes.iter().any(|n| n.contains("no public IP")),
        "{:?}",
        r.notes
    );
    assert!(!r.failing(), "{:?}", r.requirements);
}

/// `path --profile` holds every port of a requirement's range: an NSG that opens 29876 but
/// not 29877 leaves Batch's requirement not met (the newcomer trial's finding: only the first
/// port of a range was traced, and it said met).
#[test]
fn a_profile_range_is_traced_port_by_port() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/examples/compliant/network.json");
    let text = std::fs::read_to_string(src).unwrap();
    assert!(text.contains("\"29876-29877\""));
    std::fs::write(
        dir.path().join("network.json"),
        text.replace("\"29876-29877\"", "\"29876\""),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["--tags", "builtin", "-q", "path"])
        .arg(dir.path())
        .args([
            "--from",
            "vnet-ml/compute",
            "--profile",
            "aml-vnet-2020",
            "--region",
            "eastus2",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[met] Inbound TCP 29876 from BatchNodeManagement.EastUS2"),
        "{text}"
    );
    assert!(
        text.contains("[not-met] Inbound TCP 29877 from BatchNodeManagement.EastUS2"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
}

/// `check` and `path --profile` apply one rule to an inbound requirement's replies: what the
/// guidance's own routes carry. The missing-route example, given the routes `tagnet udr` writes,
/// passes both; without them both fail, and path's hint names the command that writes them.
#[test]
fn check_and_path_agree_on_a_table_fixed_with_udr() {
    let tagnet = || {
        let mut c = assert_cmd::Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS")
            .args(["--tags", "builtin", "-q"]);
        c
    };
    let udr = tagnet()
        .args(["udr", "--region", "eastus2", "--format", "json"])
        .output()
        .unwrap();
    assert!(udr.status.success());
    let udr: serde_json::Value = serde_json::from_slice(&udr.stdout).unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/examples/missing-route/network.json");
    let mut net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    let table = net
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["type"] == "Microsoft.Network/routeTables")
        .unwrap();
    for r in udr["routes"].as_array().unwrap() {
        table["routes"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "name": r["name"], "addressPrefix": r["address_prefix"], "nextHopType": "Internet"
            }));
    }
    let before = tempfile::tempdir().unwrap();
    let after = tempfile::tempdir().unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/examples/missing-route/network.json"),
        before.path().join("network.json"),
    )
    .unwrap();
    std::fs::write(after.path().join("network.json"), net.to_string()).unwrap();
    for (dir, fixed) in [(before.path(), false), (after.path(), true)] {
        let check = tagnet().arg("check").arg(dir).output().unwrap();
        let check = String::from_utf8_lossy(&check.stdout).to_string();
        assert_eq!(!check.contains("missing-route"), fixed, "{check}");
        let path = tagnet()
            .arg("path")
            .arg(dir)
            .args(["--from", "vnet-ml/compute", "--profile", "aml-vnet-2020"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&path.stdout);
        for req in [
            "Inbound TCP 29876 from BatchNodeManagement.EastUS2",
            "Inbound TCP 44224 from AzureMachineLearning",
        ] {
            let status = if fixed { "[met]" } else { "[not-met]" };
            assert!(text.contains(&format!("{status} {req}")), "{req}: {text}");
        }
        if fixed {
            // The cloud-wide reading is reported, not hidden.
            assert!(
                text.contains("reaches the compute from outside eastus2"),
                "{text}"
            );
        } else {
            assert!(
                text.contains("`tagnet udr --region eastus2 --profile aml-vnet-2020` writes them"),
                "{text}"
            );
        }
    }
}
