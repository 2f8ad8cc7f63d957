//! Prefix-set questions: exact aggregation, budgeted aggregation, overlaps.
//!
//! Groups (tagnet beside baselines on the same seeded inputs):
//! - `aggregate_cn376_v4`: all IPv4 prefixes of cn376 (71k) — tagnet's range merge vs
//!   `ipnet::Ipv4Net::aggregate` vs the `iprange` crate.
//! - `aggregate_1m_synthetic_v4`: 1M skewed synthetic prefixes (benches/gen_prefixes.py shape).
//! - `overlaps_1m_labelled`: 1M uniform prefixes (`gen_prefixes.py --uniform`): tagnet's
//!   sort-and-sweep vs prefix-trie `cover` per prefix.
//! - `budget_azurecloud_eastus_400`: optimal budgeted cover of `AzureCloud.eastus` in 400
//!   prefixes vs exact aggregation alone.
//! - `udr_eastus2_end_to_end`: load cn376, plan the eastus2 routes, render ARM; beside loading
//!   alone.

mod common;

use common::Rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};
use iprange::IpRange;
use prefix_trie::PrefixMap;
use std::hint::black_box;
use std::path::PathBuf;
use tagnet::overlaps::{Labelled, overlaps};
use tagnet::prefixset::PrefixSet;

/// 1M skewed prefixes: half /24, a fifth /32, the rest /16-/23 and /25-/31, in 300 clusters
/// picked with a Pareto(1.2) skew.
fn synthetic_prefixes(n: usize, seed: u64) -> Vec<Ipv4Net> {
    let mut rng = Rng(seed);
    let bases: Vec<u32> = (0..300)
        .map(|_| (rng.next() as u32) & 0xFFF0_0000)
        .collect();
    (0..n)
        .map(|_| {
            let pareto = (1.0 - rng.unit()).powf(-1.0 / 1.2);
            let base = bases[(pareto as usize).saturating_sub(1).min(bases.len() - 1)];
            let r = rng.unit();
            let len = if r < 0.5 {
                24
            } else if r < 0.7 {
                32
            } else if r < 0.8 {
                16 + (rng.next() % 8) as u8
            } else {
                25 + (rng.next() % 7) as u8
            };
            let addr = (base | (rng.next() as u32 & 0x000F_FFFF))
                & (u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0));
            Ipv4Net::new(addr.into(), len).unwrap()
        })
        .collect()
}

/// n prefixes spread uniformly over the IPv4 space: 1% /16, 9% /20, 60% /24, 30% /32 (the
/// shape of many labelled allow-lists and subnet plans; pairs stay near-linear in n).
fn uniform_prefixes(n: usize, seed: u64) -> Vec<Ipv4Net> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let r = rng.next() % 100;
            let len = match r {
                0 => 16,
                1..=9 => 20,
                10..=69 => 24,
                _ => 32,
            };
            Ipv4Net::new((rng.next() as u32).into(), len)
                .unwrap()
                .trunc()
        })
        .collect()
}

fn cn376() -> Option<tagnet::Snapshot> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/servicetags/ServiceTags_Public_cn376.json");
    if !p.exists() {
        eprintln!("skipped: {} is absent", p.display());
        return None;
    }
    Some(tagnet::load::load_path(&p).unwrap())
}

fn aggregate_group(c: &mut Criterion, name: &str, nets: &[Ipv4Net]) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(nets.len() as u64));
    g.sample_size(20);
    g.bench_function("tagnet_prefixset", |b| {
        b.iter(|| {
            PrefixSet::from_prefixes(nets.iter().map(|&n| IpNet::V4(n)))
                .to_prefixes()
                .len()
        })
    });
    g.bench_function("ipnet_aggregate", |b| {
        b.iter(|| Ipv4Net::aggregate(&nets.to_vec()).len())
    });
    g.bench_function("iprange_crate", |b| {
        b.iter(|| {
            let mut r: IpRange<Ipv4Net> = IpRange::new();
            for &n in nets {
                r.add(n);
            }
            r.simplify();
            r.iter().count()
        })
    });
    g.finish();
}

fn aggregate(c: &mut Criterion) {
    if let Some(snap) = cn376() {
        let nets: Vec<Ipv4Net> = snap
            .tags()
            .iter()
            .flat_map(|t| t.v4().iter().copied())
            .collect();
        aggregate_group(c, "aggregate_cn376_v4", &nets);
    }
    aggregate_group(
        c,
        "aggregate_1m_synthetic_v4",
        &synthetic_prefixes(1_000_000, 7),
    );
}

fn overlaps_group(c: &mut Criterion) {
    let items: Vec<Labelled> = uniform_prefixes(1_000_000, 11)
        .into_iter()
        .enumerate()
        .map(|(i, p)| Labelled {
            label: format!("L{}", i % 1000),
            prefix: IpNet::V4(p),
        })
        .collect();
    let mut g = c.benchmark_group("overlaps_1m_labelled");
    g.throughput(Throughput::Elements(items.len() as u64));
    g.sample_size(10);
    g.bench_function("tagnet_sort_sweep", |b| {
        b.iter(|| black_box(overlaps(&items).len()))
    });
    g.bench_function("prefix_trie_cover", |b| {
        b.iter(|| {
            let mut map: PrefixMap<Ipv4Net, Vec<usize>> = PrefixMap::new();
            for (i, it) in items.iter().enumerate() {
                if let IpNet::V4(p) = it.prefix {
                    map.entry(p).or_default().push(i);
                }
            }
            let mut pairs = 0usize;
            for (p, ids) in map.iter() {
                let here = ids.len();
                pairs += here * (here - 1) / 2;
                for (q, outer) in map.cover(&p) {
                    if q != p {
                        pairs += outer.len() * here;
                    }
                }
            }
            pairs
        })
    });
    g.finish();
}

fn budget_group(c: &mut Criterion) {
    let Some(snap) = cn376() else { return };
    let id = snap.tag_by_name("AzureCloud.eastus").unwrap();
    let set = PrefixSet::from_prefixes(snap.tag(id).v4().iter().map(|&n| IpNet::V4(n)));
    let forbidden = PrefixSet::from_prefixes(
        tagnet::routes::PRIVATE_RANGES
            .iter()
            .map(|p| p.parse::<IpNet>().unwrap()),
    );
    let mut g = c.benchmark_group("budget_azurecloud_eastus_400");
    g.sample_size(20);
    g.bench_function("tagnet_budget_400", |b| {
        b.iter(|| {
            tagnet::budget::budget(&set.v4, 32, 400, &forbidden.v4)
                .unwrap()
                .prefixes
                .len()
        })
    });
    g.bench_function("exact_only", |b| b.iter(|| set.v4.to_prefix_bits(32).len()));
    g.finish();
}

fn udr_group(c: &mut Criterion) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/servicetags/ServiceTags_Public_cn376.json");
    if !p.exists() {
        return;
    }
    let request = tagnet::routes::UdrRequest {
        regions: vec!["eastus2".into()],
        profile_tags: vec!["BatchNodeManagement".into(), "AzureMachineLearning".into()],
        named_tags: Vec::new(),
        ipv6: false,
        next_hop: tagnet::routes::NextHop::Internet,
        max_routes: tagnet::routes::DEFAULT_MAX_ROUTES,
        reserve: 1,
        exact: false,
        use_service_tags: false,
        never_cover: Vec::new(),
        max_extra: None,
        ipv6_shares_budget: false,
    };
    let mut g = c.benchmark_group("udr_eastus2_end_to_end");
    g.sample_size(20);
    g.bench_function("tagnet_load_plan_arm", |b| {
        b.iter(|| {
            let snap = tagnet::load::load_path(&p).unwrap();
            let plan = tagnet::routes::plan(&snap, &request).unwrap().unwrap();
            tagnet::routes::deploy::arm(
                &plan.routes,
                &tagnet::routes::deploy::Header::default(),
                tagnet::routes::deploy::Layout::Routes,
            )
            .len()
        })
    });
    g.bench_function("load_only", |b| {
        b.iter(|| tagnet::load::load_path(&p).unwrap().tags().len())
    });
    g.finish();
}

criterion_group!(benches, aggregate, overlaps_group, budget_group, udr_group);
criterion_main!(benches);
