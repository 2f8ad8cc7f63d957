//! `check` and `nsg analyze` at scale: the sweeps beside the every-pair way they replaced.
//!
//! Groups:
//! - `check_subnets`: a virtual network of 1,000 / 10,000 / 60,000 subnets in the shape of
//!   `benches/gen_vnet.py` (space 10.0.0.0/8, /22–/29 subnets at random aligned offsets, so
//!   some overlap; a tenth also hold an IPv6 /64): `read` is the `az` JSON read into the
//!   model, `rules` every rule of `check` on it (what `tagnet check` runs after reading).
//! - `subnet_overlap`: the overlap rule alone, the sweep beside every pair (every pair is
//!   left out at 60,000: about a minute an iteration).
//! - `nsg_analyze`: `nsg analyze` of 100 / 1,000 / 10,000 rules in the shape of
//!   `benches/gen_nsg.py` (random prefixes and lists, `*`, `Internet`, `VirtualNetwork`, real
//!   service tags of the built-in snapshot, ports, ranges, lists), swept beside every pair
//!   (every pair is left out at 10,000).

mod common;

use common::Rng;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};
use std::hint::black_box;
use std::net::Ipv4Addr;
use tagnet::nsg::analyze::{Pairs, analyze_with};
use tagnet::nsg::eval::Context;
use tagnet::nsg::model::{Access, Address, Direction, Nsg, Ports, Protocol, Rule};

fn vnet_json(n: usize, rng: &mut Rng) -> Vec<u8> {
    let base = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-big/providers/Microsoft.Network/virtualNetworks/vnet-big";
    let subnets: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let len = [22u8, 24, 26, 27, 28, 28, 29, 29, 29][(rng.next() % 9) as usize];
            let addr = (10u32 << 24) | (rng.next() as u32 & 0x00FF_FFFF & (u32::MAX << (32 - len)));
            let p = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().to_string();
            let mut s = serde_json::json!({
                "id": format!("{base}/subnets/s{i:05}"),
                "name": format!("s{i:05}"),
                "delegations": [],
            });
            if i % 10 == 0 {
                s["addressPrefixes"] =
                    serde_json::json!([p, format!("fd00:{:x}:{:x}::/64", i >> 16, i & 0xFFFF)]);
            } else {
                s["addressPrefix"] = serde_json::json!(p);
            }
            s
        })
        .collect();
    serde_json::to_vec(&serde_json::json!([{
        "id": base,
        "name": "vnet-big",
        "type": "Microsoft.Network/virtualNetworks",
        "location": "eastus2",
        "addressSpace": {"addressPrefixes": ["10.0.0.0/8", "fd00::/16"]},
        "subnets": subnets,
    }]))
    .unwrap()
}

fn read(doc: &[u8]) -> tagnet::check::model::Network {
    tagnet::check::read::from_documents(
        &[("vnet.json".to_string(), doc.to_vec())],
        &Default::default(),
        &Default::default(),
    )
    .unwrap()
}

fn rules(n: usize, rng: &mut Rng) -> Nsg {
    let tags = [
        "Storage.EastUS2",
        "AzureMachineLearning",
        "BatchNodeManagement.EastUS2",
        "AzureContainerRegistry.EastUS2",
        "AzureActiveDirectory",
        "AzureResourceManager",
        "AzureMonitor",
        "Sql.EastUS2",
        "AzureFrontDoor.Backend",
        "AzureLoadBalancer",
    ];
    let prefix = |rng: &mut Rng| {
        let len = 8 + (rng.next() % 21) as u8;
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(rng.next() as u32), len).unwrap()).trunc()
    };
    let address = |rng: &mut Rng| match rng.next() % 20 {
        0..=10 => Address::Prefixes(vec![prefix(rng)]),
        11..=13 => Address::Prefixes((0..2 + rng.next() % 4).map(|_| prefix(rng)).collect()),
        14 => Address::Any,
        15 => Address::Tag("VirtualNetwork".into()),
        16 => Address::Tag("Internet".into()),
        _ => Address::Tag(tags[(rng.next() % 10) as usize].into()),
    };
    let mut all: Vec<Rule> = (0..n)
        .map(|i| {
            let (source, destination) = (address(rng), address(rng));
            let a = 1 + (rng.next() % 65000) as u16;
            let destination_ports = match rng.next() % 20 {
                0..=7 => Ports::from_ranges(vec![(a, a)]),
                8..=13 => Ports::from_ranges(vec![(a, a + (rng.next() % 500) as u16)]),
                14..=16 => Ports::from_ranges(
                    (0..3)
                        .map(|_| {
                            let p = 1 + (rng.next() % 65000) as u16;
                            (p, p)
                        })
                        .collect(),
                ),
                _ => Ports::any(),
            };
            Rule {
                name: format!("rule{i:05}"),
                priority: 100 + (i / 2) as u32,
                direction: if i % 2 == 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                access: if rng.next().is_multiple_of(2) {
                    Access::Allow
                } else {
                    Access::Deny
                },
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Any][(rng.next() % 3) as usize],
                source,
                source_ports: Ports::any(),
                destination,
                destination_ports,
                default: false,
            }
        })
        .collect();
    all.extend(tagnet::nsg::read::default_rules());
    all.sort_by_key(|r| (r.direction, r.priority));
    Nsg {
        name: format!("nsg-{n}"),
        rules: all,
        ..Default::default()
    }
}

fn benches(c: &mut Criterion) {
    let snap = tagnet::load::builtin::load().unwrap();
    let mut rng = Rng(0x5EED_C4EC);
    let mut g = c.benchmark_group("check_subnets");
    g.sample_size(10);
    let mut docs = Vec::new();
    for n in [1_000usize, 10_000, 60_000] {
        let doc = vnet_json(n, &mut rng);
        g.bench_with_input(BenchmarkId::new("read", n), &doc, |b, d| {
            b.iter(|| read(black_box(d)).subnets.len())
        });
        let net = read(&doc);
        let asgs = Default::default();
        g.bench_with_input(BenchmarkId::new("rules", n), &net, |b, net| {
            b.iter(|| {
                // Built per run: the network's lookups are built on first use.
                let net = net.clone();
                let cx = tagnet::check::Cx {
                    net: &net,
                    snap: &snap,
                    on_prem: &[],
                    nsg_profile: "default",
                    udr_profile: "default",
                    asgs: &asgs,
                };
                tagnet::path::check_all(&cx).len()
            })
        });
        docs.push((n, net));
    }
    g.finish();
    let mut g = c.benchmark_group("subnet_overlap");
    g.sample_size(10);
    let asgs = Default::default();
    for (n, net) in &docs {
        let cx = tagnet::check::Cx {
            net,
            snap: &snap,
            on_prem: &[],
            nsg_profile: "default",
            udr_profile: "default",
            asgs: &asgs,
        };
        use tagnet::check::rules::subnet_overlap::{check, check_all_pairs};
        g.bench_function(BenchmarkId::new("sweep", n), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                check(&cx, &mut out);
                out.len()
            })
        });
        if *n <= 10_000 {
            g.bench_function(BenchmarkId::new("all_pairs", n), |b| {
                b.iter(|| {
                    let mut out = Vec::new();
                    check_all_pairs(&cx, &mut out);
                    out.len()
                })
            });
        }
    }
    g.finish();
    let ctx = Context {
        snapshot: &snap,
        vnet: vec!["10.0.0.0/8".parse().unwrap()],
        asgs: Default::default(),
    };
    let mut g = c.benchmark_group("nsg_analyze");
    g.sample_size(10);
    for n in [100usize, 1_000, 10_000] {
        let nsg = rules(n, &mut rng);
        if n <= 1_000 {
            // Both ways find the same.
            assert_eq!(
                serde_json::to_value(analyze_with(&ctx, &nsg, Pairs::Swept)).unwrap(),
                serde_json::to_value(analyze_with(&ctx, &nsg, Pairs::All)).unwrap()
            );
        }
        g.bench_with_input(BenchmarkId::new("swept", n), &nsg, |b, nsg| {
            b.iter(|| analyze_with(&ctx, nsg, Pairs::Swept).len())
        });
        if n <= 1_000 {
            g.bench_with_input(BenchmarkId::new("all_pairs", n), &nsg, |b, nsg| {
                b.iter(|| analyze_with(&ctx, nsg, Pairs::All).len())
            });
        }
    }
    g.finish();
}

criterion_group!(check_benches, benches);
criterion_main!(check_benches);
