//! "Will this flow get there": a path from a subnet — the route Azure picks (the subnet's
//! route selector) and the NSG verdict on the way out — beside the naive evaluators the tests
//! use, on the same seeded flows.
//!
//! The subnet: VNet 10.1.0.0/16 peered with 10.2.0.0/16; a route table under forced tunneling
//! (0.0.0.0/0 to a firewall) with the service-tag routes the ML guidance asks for
//! (`BatchNodeManagement.EastUS2`, `AzureMachineLearning` to Internet), a `Storage.EastUS2`
//! service endpoint, two private endpoints, and 300 random explicit routes; an NSG of 100 rules
//! over real tags. 1M flows, half to tagged addresses. Baseline: [`tagnet::oracle::route`]
//! (every route scanned per address) and the oracle's first-match NSG evaluation, on the first
//! 10,000 flows; throughput is per flow, so the figures compare directly.

mod common;

use common::Rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::IpNet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use tagnet::nsg::eval::{Context, first_match_naive};
use tagnet::nsg::model::{Access, Address, Direction, Flow, Nsg, Ports, Protocol, Rule};
use tagnet::routes::NextHop;
use tagnet::routes::select::{Choice, Inputs, PrivateEndpointRoute, Selector, ServiceEndpoint};
use tagnet::routes::table::{RouteSource, RouteTable, TableKind, TableRoute};

const N: usize = 1_000_000;
const NAIVE: usize = 10_000;

fn tag_nets(snap: &tagnet::Snapshot, name: &str) -> Vec<IpNet> {
    let t = snap.tag(snap.tag_by_name(name).unwrap());
    t.v4().iter().map(|&n| IpNet::V4(n)).collect()
}

fn table(rng: &mut Rng) -> RouteTable {
    let fw = NextHop::VirtualAppliance("10.0.0.4".parse().unwrap());
    let mut routes = vec![
        ("default-to-fw".to_string(), "0.0.0.0/0".to_string(), fw),
        (
            "batch".into(),
            "BatchNodeManagement.EastUS2".into(),
            NextHop::Internet,
        ),
        (
            "aml".into(),
            "AzureMachineLearning".into(),
            NextHop::Internet,
        ),
    ];
    for i in 0..300 {
        let a = Ipv4Addr::from((rng.next() as u32) & 0xFFFF_FF00);
        let len = 16 + (rng.next() % 13) as u8;
        let net = ipnet::Ipv4Net::new(a, len).unwrap().trunc();
        let hop = if i % 3 == 0 { NextHop::Internet } else { fw };
        routes.push((format!("r{i}"), net.to_string(), hop));
    }
    RouteTable {
        routes: routes
            .into_iter()
            .map(|(name, address_prefix, next_hop)| TableRoute {
                name,
                address_prefix,
                next_hop,
                source: RouteSource::User,
            })
            .collect(),
        kind: TableKind::RouteTable,
        bgp_propagation_disabled: Some(false),
    }
}

fn nsg(snap: &tagnet::Snapshot, rng: &mut Rng) -> Nsg {
    let tags = [
        "Storage.EastUS2",
        "AzureMachineLearning",
        "BatchNodeManagement.EastUS2",
        "AzureActiveDirectory",
        "AzureResourceManager",
        "MicrosoftContainerRegistry.EastUS2",
        "AzureCloud.eastus2",
        "Internet",
        "VirtualNetwork",
    ];
    let mut rules: Vec<Rule> = (0..100)
        .map(|i| {
            let tag = tags[(rng.next() % tags.len() as u64) as usize];
            let port = [443u16, 80, 8787, 18881, 5831][(rng.next() % 5) as usize];
            Rule {
                name: format!("r{i}"),
                priority: 100 + i as u32 * 10,
                direction: Direction::Outbound,
                access: if rng.next().is_multiple_of(4) {
                    Access::Deny
                } else {
                    Access::Allow
                },
                protocol: Protocol::Tcp,
                source: Address::Any,
                source_ports: Ports::any(),
                destination: Address::Tag(tag.into()),
                destination_ports: Ports::from_ranges(vec![(port, port)]),
                default: false,
            }
        })
        .collect();
    let _ = snap;
    rules.extend(tagnet::nsg::read::default_rules());
    rules.sort_by_key(|r| (r.direction, r.priority));
    Nsg {
        name: "bench".into(),
        rules,
        ..Default::default()
    }
}

fn benches(c: &mut Criterion) {
    let snap = tagnet::load::builtin::load().unwrap();
    let mut rng = Rng(0x5EED_0025);
    let t = table(&mut rng);
    let inputs = Inputs {
        table: Some(&t),
        vnet: vec!["10.1.0.0/16".parse().unwrap()],
        peerings: vec![("hub".into(), "10.2.0.0/16".parse().unwrap())],
        service_endpoints: vec![ServiceEndpoint {
            service: "Microsoft.Storage".into(),
            prefixes: tag_nets(&snap, "Storage.EastUS2"),
        }],
        private_endpoints: ["10.1.5.4", "10.2.7.9"]
            .iter()
            .map(|a| PrivateEndpointRoute {
                name: (*a).into(),
                address: a.parse().unwrap(),
                policies: true,
                space_len: 16,
            })
            .collect(),
        bgp: vec![],
        readings: Default::default(),
    };
    let sel = Selector::new(&snap, &inputs);
    let ctx = Context {
        snapshot: &snap,
        vnet: vec![
            "10.1.0.0/16".parse().unwrap(),
            "10.2.0.0/16".parse().unwrap(),
        ],
        asgs: Default::default(),
    };
    let resolved = ctx.resolve(&nsg(&snap, &mut rng)).unwrap();
    let compiled = tagnet::nsg::compile(&resolved);
    // Destinations: half in the tags the table and the NSG name, half anywhere.
    let mut pool: Vec<IpNet> = Vec::new();
    for tag in [
        "Storage.EastUS2",
        "AzureMachineLearning",
        "BatchNodeManagement.EastUS2",
        "AzureCloud.eastus2",
    ] {
        pool.extend(tag_nets(&snap, tag));
    }
    let flows: Vec<Flow> = (0..N)
        .map(|i| {
            let remote = if i % 2 == 0 {
                let n = match pool[(rng.next() % pool.len() as u64) as usize] {
                    IpNet::V4(n) => n,
                    IpNet::V6(_) => unreachable!(),
                };
                let span = 1u64 << (32 - n.prefix_len());
                Ipv4Addr::from(u32::from(n.network()) + (rng.next() % span) as u32)
            } else {
                Ipv4Addr::from(rng.next() as u32)
            };
            Flow {
                direction: Direction::Outbound,
                protocol: Protocol::Tcp,
                local_ip: "10.1.0.4".parse().unwrap(),
                local_port: 49152,
                remote_ip: IpAddr::V4(remote),
                remote_port: [443u16, 80, 8787][i % 3],
            }
        })
        .collect();
    let mut g = c.benchmark_group("path_route_and_nsg");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("tagnet_selector_compiled", |b| {
        b.iter(|| {
            let mut through = 0usize;
            for f in &flows {
                let routed = match sel.lookup(f.remote_ip) {
                    Choice::Route(r) => r.hop != NextHop::None,
                    Choice::Platform => true,
                    Choice::NoRoute => false,
                };
                let allowed = compiled
                    .first(f)
                    .is_some_and(|i| compiled.rules[i].0 == Access::Allow);
                through += usize::from(routed && allowed);
            }
            black_box(through)
        })
    });
    g.throughput(Throughput::Elements(NAIVE as u64));
    g.bench_function("naive_scan", |b| {
        b.iter(|| {
            let mut through = 0usize;
            for f in &flows[..NAIVE] {
                let routed = tagnet::oracle::route(&snap, &inputs, f.remote_ip)
                    .is_some_and(|(_, hop, _)| hop != NextHop::None);
                let allowed =
                    first_match_naive(&resolved, f).is_some_and(|r| r.rule.access == Access::Allow);
                through += usize::from(routed && allowed);
            }
            black_box(through)
        })
    });
    g.finish();
    let mut g = c.benchmark_group("path_selector_build");
    g.sample_size(10);
    g.bench_function("tagnet_selector_new", |b| {
        b.iter(|| black_box(Selector::new(&snap, &inputs).candidates.len()))
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
