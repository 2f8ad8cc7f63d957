//! "Is this flow allowed, and by which rule": the compiled evaluator beside the naive
//! first-match loop, on the same seeded flows.
//!
//! Groups:
//! - `nsg_tags_100`: an NSG of 100 rules over real service tags of the built-in snapshot
//!   (`AzureCloud`, `Storage.<region>`, `BatchNodeManagement.<region>`, …; about 30,000
//!   prefixes in all) and 1M flows, half to or from tagged addresses.
//! - `nsg_rules_1000`: 1,000 random prefix-and-port rules (Azure's limit) and 1M flows.
//! - `nsg_compile`: building the compiled form of each.
//!
//! Two baselines: the oracle the tests use (first match, each rule's address set searched by
//! bisection) on the first 100,000 flows, and the plainest loop (every prefix of every rule
//! scanned, as a script would) on the first 10,000; throughput is per flow, so the figures
//! compare directly.

mod common;

use common::Rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use tagnet::nsg::eval::{Context, ResolvedNsg, first_match_linear, first_match_naive};
use tagnet::nsg::model::{Access, Address, Direction, Flow, Nsg, Ports, Protocol, Rule};

const N: usize = 1_000_000;
const NAIVE: usize = 100_000;
const LINEAR: usize = 10_000;

fn nsg(rules: Vec<Rule>) -> Nsg {
    let mut all = rules;
    all.extend(tagnet::nsg::read::default_rules());
    all.sort_by_key(|r| (r.direction, r.priority));
    Nsg {
        name: "bench".into(),
        rules: all,
        ..Default::default()
    }
}

fn tagged_rules(snap: &tagnet::Snapshot, rng: &mut Rng) -> Vec<Rule> {
    let regions = [
        "eastus2",
        "westeurope",
        "centralus",
        "northeurope",
        "southeastasia",
    ];
    let mut tags: Vec<String> = vec![
        "AzureCloud".into(),
        "Storage".into(),
        "AzureActiveDirectory".into(),
        "Internet".into(),
        "VirtualNetwork".into(),
    ];
    for r in regions {
        for base in [
            "Storage",
            "BatchNodeManagement",
            "AzureMachineLearning",
            "AzureContainerRegistry",
            "AzureCloud",
        ] {
            if let Ok(ids) = snap.resolve_tag(base, Some(r)) {
                tags.push(snap.tag(ids[0]).name().to_string());
            }
        }
    }
    (0..100)
        .map(|i| {
            let tag = Address::Tag(tags[(rng.next() % tags.len() as u64) as usize].clone());
            let (source, destination, direction) = if i % 2 == 0 {
                (tag, Address::Any, Direction::Inbound)
            } else {
                (Address::Any, tag, Direction::Outbound)
            };
            let port = (rng.next() % 60000) as u16;
            Rule {
                name: format!("r{i}"),
                priority: 100 + i as u32,
                direction,
                access: if rng.next().is_multiple_of(3) {
                    Access::Deny
                } else {
                    Access::Allow
                },
                protocol: [Protocol::Any, Protocol::Tcp, Protocol::Udp][(rng.next() % 3) as usize],
                source,
                source_ports: Ports::any(),
                destination,
                destination_ports: if rng.next().is_multiple_of(2) {
                    Ports::any()
                } else {
                    Ports::from_ranges(vec![(port, port + 100)])
                },
                default: false,
            }
        })
        .collect()
}

fn random_rules(rng: &mut Rng) -> Vec<Rule> {
    (0..1000)
        .map(|i| {
            let mut net = || {
                Address::Prefixes(vec![
                    IpNet::V4(
                        Ipv4Net::new(
                            Ipv4Addr::from(rng.next() as u32),
                            8 + (rng.next() % 17) as u8,
                        )
                        .unwrap(),
                    )
                    .trunc(),
                ])
            };
            let (source, destination) = (net(), net());
            let a = (rng.next() % 65000) as u16;
            Rule {
                name: format!("r{i}"),
                priority: 100 + i as u32,
                direction: if i % 2 == 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                access: if rng.next().is_multiple_of(2) {
                    Access::Deny
                } else {
                    Access::Allow
                },
                protocol: [Protocol::Any, Protocol::Tcp, Protocol::Udp][(rng.next() % 3) as usize],
                source,
                source_ports: Ports::any(),
                destination,
                destination_ports: Ports::from_ranges(vec![(a, a + (rng.next() % 500) as u16)]),
                default: false,
            }
        })
        .collect()
}

fn flows(snap: &tagnet::Snapshot, rng: &mut Rng) -> Vec<Flow> {
    let nets: Vec<Ipv4Net> = snap
        .tags()
        .iter()
        .flat_map(|t| t.v4().iter().copied())
        .collect();
    (0..N)
        .map(|i| {
            let remote = if i % 2 == 0 {
                let n = nets[(rng.next() % nets.len() as u64) as usize];
                u32::from(n.network()) + (rng.next() % (1u64 << (32 - n.prefix_len()))) as u32
            } else {
                rng.next() as u32
            };
            Flow {
                direction: if rng.next().is_multiple_of(2) {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Icmp][(rng.next() % 3) as usize],
                local_ip: IpAddr::V4(Ipv4Addr::new(
                    10,
                    1,
                    (rng.next() % 256) as u8,
                    (rng.next() % 256) as u8,
                )),
                local_port: (rng.next() % 65536) as u16,
                remote_ip: IpAddr::V4(remote.into()),
                remote_port: (rng.next() % 65536) as u16,
            }
        })
        .collect()
}

fn group(c: &mut Criterion, name: &str, resolved: &ResolvedNsg, flows: &[Flow]) {
    let compiled = tagnet::nsg::compile(resolved);
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.throughput(Throughput::Elements(flows.len() as u64));
    g.bench_function("tagnet_compiled", |b| {
        b.iter(|| {
            let mut allowed = 0usize;
            for f in flows {
                if let Some(i) = compiled.first(f) {
                    allowed += usize::from(compiled.rules[i].0 == Access::Allow);
                }
            }
            black_box(allowed)
        })
    });
    g.throughput(Throughput::Elements(NAIVE as u64));
    g.bench_function("naive_first_match", |b| {
        b.iter(|| {
            let mut allowed = 0usize;
            for f in &flows[..NAIVE] {
                if let Some(r) = first_match_naive(resolved, f) {
                    allowed += usize::from(r.rule.access == Access::Allow);
                }
            }
            black_box(allowed)
        })
    });
    g.throughput(Throughput::Elements(LINEAR as u64));
    g.bench_function("naive_linear_scan", |b| {
        b.iter(|| {
            let mut allowed = 0usize;
            for f in &flows[..LINEAR] {
                if let Some(r) = first_match_linear(resolved, f) {
                    allowed += usize::from(r.rule.access == Access::Allow);
                }
            }
            black_box(allowed)
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let snap = tagnet::load::builtin::load().unwrap();
    let ctx = Context {
        snapshot: &snap,
        vnet: vec!["10.1.0.0/16".parse().unwrap()],
        asgs: Default::default(),
    };
    let mut rng = Rng(0x5EED_0001);
    let tagged = ctx.resolve(&nsg(tagged_rules(&snap, &mut rng))).unwrap();
    let random = ctx.resolve(&nsg(random_rules(&mut rng))).unwrap();
    let fl = flows(&snap, &mut rng);
    // Both evaluators agree on every flow measured.
    let (ct, cr) = (tagnet::nsg::compile(&tagged), tagnet::nsg::compile(&random));
    for f in &fl[..NAIVE] {
        assert_eq!(
            ct.first(f).map(|i| &ct.rules[i].1),
            first_match_naive(&tagged, f)
                .map(|r| r.rule.path())
                .as_ref()
        );
        assert_eq!(
            cr.first(f).map(|i| &cr.rules[i].1),
            first_match_naive(&random, f)
                .map(|r| r.rule.path())
                .as_ref()
        );
    }
    group(c, "nsg_tags_100", &tagged, &fl);
    group(c, "nsg_rules_1000", &random, &fl);
    let mut g = c.benchmark_group("nsg_compile");
    g.sample_size(10);
    g.bench_function("tags_100", |b| {
        b.iter(|| tagnet::nsg::compile(black_box(&tagged)).distinct_sets())
    });
    g.bench_function("rules_1000", |b| {
        b.iter(|| tagnet::nsg::compile(black_box(&random)).distinct_sets())
    });
    g.finish();
}

criterion_group!(nsg_benches, benches);
criterion_main!(nsg_benches);
