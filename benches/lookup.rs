//! "Every tag containing this address" and load time, on the real cn376 snapshot.
//!
//! Groups (each runs tagnet beside a baseline on the same seeded inputs):
//! - `lookup_v4_cn376`: 1M IPv4 addresses, half inside published prefixes, half uniform.
//!   `tagnet_interval_table` vs `prefix_trie_lpm_closure` (prefix-trie's longest-prefix match
//!   plus a precomputed closure of containing tags, the best existing crate approach).
//! - `lookup_v6_cn376`: the same for 1M IPv6 addresses.
//! - `load_cn376`: read + parse + validate + index the whole file, beside parsing it into a
//!   `serde_json::Value` (the floor any JSON loader pays).
//!
//! Needs `../shared/data/servicetags/`; prints a note and measures nothing without it.

mod common;

use common::Rng;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use tagnet::{Snapshot, TagIndex};

const N: usize = 1_000_000;

fn snapshot_path() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/servicetags/ServiceTags_Public_cn376.json");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

fn addresses_v4(snap: &Snapshot, seed: u64) -> Vec<Ipv4Addr> {
    let nets: Vec<Ipv4Net> = snap
        .tags()
        .iter()
        .flat_map(|t| t.v4().iter().copied())
        .collect();
    let mut rng = Rng(seed);
    (0..N)
        .map(|i| {
            if i % 2 == 0 {
                let n = nets[(rng.next() % nets.len() as u64) as usize];
                let size = 1u64 << (32 - n.prefix_len());
                Ipv4Addr::from(u32::from(n.network()) + (rng.next() % size) as u32)
            } else {
                Ipv4Addr::from(rng.next() as u32)
            }
        })
        .collect()
}

fn addresses_v6(snap: &Snapshot, seed: u64) -> Vec<Ipv6Addr> {
    let nets: Vec<Ipv6Net> = snap
        .tags()
        .iter()
        .flat_map(|t| t.v6().iter().copied())
        .collect();
    let mut rng = Rng(seed);
    (0..N)
        .map(|i| {
            let r = u128::from(rng.next()) << 64 | u128::from(rng.next());
            if i % 2 == 0 {
                let n = nets[(rng.next() % nets.len() as u64) as usize];
                let host = if n.prefix_len() == 0 {
                    u128::MAX
                } else {
                    (1u128 << (128 - n.prefix_len())) - 1
                };
                Ipv6Addr::from(u128::from(n.network()) | (r & host))
            } else {
                Ipv6Addr::from(r)
            }
        })
        .collect()
}

/// The peer: prefix-trie longest-prefix match, value = closure of all tags containing the
/// prefix (computed once with `cover`).
struct TrieClosure<P> {
    map: PrefixMap<P, (u32, u32)>,
    closure: Vec<u32>,
}

fn trie_closure<P>(snap: &Snapshot, nets: impl Fn(&tagnet::Tag) -> &[P]) -> TrieClosure<P>
where
    P: prefix_trie::Prefix + Copy + Eq,
{
    let mut own: PrefixMap<P, Vec<u32>> = PrefixMap::new();
    for (i, t) in snap.tags().iter().enumerate() {
        for n in nets(t) {
            own.entry(*n).or_default().push(i as u32);
        }
    }
    let mut map = PrefixMap::new();
    let mut closure = Vec::new();
    for (p, _) in own.iter() {
        let start = closure.len() as u32;
        for (_, tags) in own.cover(&p) {
            closure.extend_from_slice(tags);
        }
        map.insert(p, (start, closure.len() as u32));
    }
    TrieClosure { map, closure }
}

fn lookup_v4(c: &mut Criterion) {
    let Some(path) = snapshot_path() else { return };
    let snap = tagnet::load::load_path(&path).unwrap();
    let index = TagIndex::build(&snap);
    let peer = trie_closure(&snap, |t| t.v4());
    let addrs = addresses_v4(&snap, 42);
    let mut g = c.benchmark_group("lookup_v4_cn376");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(BenchmarkId::new("tagnet_interval_table", N), |b| {
        b.iter(|| {
            addrs
                .iter()
                .map(|&a| index.lookup_v4(a).len())
                .sum::<usize>()
        })
    });
    g.bench_function(BenchmarkId::new("prefix_trie_lpm_closure", N), |b| {
        b.iter(|| {
            addrs
                .iter()
                .map(|&a| match peer.map.get_lpm(&Ipv4Net::from(a)) {
                    Some((_, &(s, e))) => peer.closure[s as usize..e as usize].len(),
                    None => 0,
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

fn lookup_v6(c: &mut Criterion) {
    let Some(path) = snapshot_path() else { return };
    let snap = tagnet::load::load_path(&path).unwrap();
    let index = TagIndex::build(&snap);
    let peer = trie_closure(&snap, |t| t.v6());
    let addrs = addresses_v6(&snap, 43);
    let mut g = c.benchmark_group("lookup_v6_cn376");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(BenchmarkId::new("tagnet_interval_table", N), |b| {
        b.iter(|| {
            addrs
                .iter()
                .map(|&a| index.lookup_v6(a).len())
                .sum::<usize>()
        })
    });
    g.bench_function(BenchmarkId::new("prefix_trie_lpm_closure", N), |b| {
        b.iter(|| {
            addrs
                .iter()
                .map(|&a| match peer.map.get_lpm(&Ipv6Net::from(a)) {
                    Some((_, &(s, e))) => peer.closure[s as usize..e as usize].len(),
                    None => 0,
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

fn load(c: &mut Criterion) {
    let Some(path) = snapshot_path() else { return };
    let mut g = c.benchmark_group("load_cn376");
    g.sample_size(30);
    g.bench_function("tagnet_read_validate_index", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&path).unwrap();
            let snap = tagnet::load::from_slice(&bytes, "cn376").unwrap();
            black_box(TagIndex::build(&snap).segments())
        })
    });
    g.bench_function("tagnet_read_validate", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&path).unwrap();
            black_box(
                tagnet::load::from_slice(&bytes, "cn376")
                    .unwrap()
                    .tags()
                    .len(),
            )
        })
    });
    g.bench_function("serde_json_value_parse_only", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&path).unwrap();
            black_box(
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .unwrap()
                    .is_object(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, lookup_v4, lookup_v6, load);
criterion_main!(benches);
