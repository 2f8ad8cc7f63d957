//! "Every tag containing this address" and load time, on the real cn376 snapshot.
//!
//! Groups (each runs tagnet beside its peers on the same seeded inputs; every loop walks its
//! answer — counts the matches and folds each tag id into a checksum — and all must agree on
//! that checksum before anything is measured):
//! - `lookup_v4_cn376`: 1M IPv4 addresses, half inside published prefixes, half uniform.
//!   Peers, each answering with a precomputed closure of the tags containing the matched prefix:
//!   `poptrie` (the crate: a compressed multibit trie, longest-prefix match), `dir_24_8` (a 2^24
//!   first level and 256-entry chunks over the same elementary intervals, written here, the
//!   classic router table) and `prefix_trie` (the crate's longest-prefix match).
//! - `lookup_v6_cn376`: the same for 1M IPv6 addresses (`poptrie`, `prefix_trie`; DIR-24-8 is
//!   IPv4 only).
//! - `lookup_v4_cn376_2threads`, `lookup_v6_cn376_2threads`: the same, the addresses split over
//!   two threads.
//! - `load_cn376`: read + parse + validate + index the whole file, beside parsing it into a
//!   `serde_json::Value` (the floor any JSON loader pays).
//!
//! With `AB=1` in the environment the lookup groups are replaced by alternated rounds (see
//! [`alternate`]): `AB=1 cargo bench --bench lookup -- lookup_v`. With `ONLY=v4` or `ONLY=v6`,
//! only tagnet's batch lookup runs, many times (see [`only`]).
//!
//! Needs `../shared/data/servicetags/`; prints a note and measures nothing without it.

mod common;

use common::Rng;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{Ipv4Net, Ipv6Net};
use poptrie::Poptrie;
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

/// The order-independent walk of one answer: how many matches, and their tag ids folded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Walk {
    matches: u64,
    checksum: u64,
}

impl Walk {
    #[inline(always)]
    fn tag(&mut self, tag: u32) {
        self.matches += 1;
        self.checksum = self
            .checksum
            .wrapping_add((u64::from(tag) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    fn join(self, o: Walk) -> Walk {
        Walk {
            matches: self.matches + o.matches,
            checksum: self.checksum.wrapping_add(o.checksum),
        }
    }
}

/// Closures of containing tags, shared by the peers: closure 0 is empty.
struct Closures {
    spans: Vec<(u32, u32)>,
    tags: Vec<u32>,
}

impl Closures {
    #[inline(always)]
    fn walk(&self, id: u32, w: &mut Walk) {
        let (s, e) = self.spans[id as usize];
        for &t in &self.tags[s as usize..e as usize] {
            w.tag(t);
        }
    }
}

/// Every prefix of a family with its closure id (the tags of the prefix and of every prefix
/// containing it), computed once with prefix-trie's `cover`.
fn closures<P>(snap: &Snapshot, nets: impl Fn(&tagnet::Tag) -> &[P]) -> (Vec<(P, u32)>, Closures)
where
    P: prefix_trie::Prefix + Copy + Eq,
{
    let mut own: PrefixMap<P, Vec<u32>> = PrefixMap::new();
    for (i, t) in snap.tags().iter().enumerate() {
        for n in nets(t) {
            own.entry(*n).or_default().push(i as u32);
        }
    }
    let mut c = Closures {
        spans: vec![(0, 0)],
        tags: Vec::new(),
    };
    let mut out = Vec::new();
    for (p, _) in own.iter() {
        let start = c.tags.len() as u32;
        for (_, tags) in own.cover(&p) {
            c.tags.extend_from_slice(tags);
        }
        c.spans.push((start, c.tags.len() as u32));
        out.push((p, (c.spans.len() - 1) as u32));
    }
    (out, c)
}

/// DIR-24-8: per /24 the closure id, or `CHUNK | c` for a /24 cut by longer prefixes, whose
/// 256 addresses are `chunks[c * 256..]`. Filled by painting prefixes shortest first, so the
/// longest match wins.
struct Dir248 {
    tbl24: Vec<u32>,
    chunks: Vec<u32>,
}

const CHUNK: u32 = 1 << 31;

impl Dir248 {
    fn new(prefixes: &[(Ipv4Net, u32)]) -> Dir248 {
        let mut sorted = prefixes.to_vec();
        sorted.sort_by_key(|(n, _)| n.prefix_len());
        let mut d = Dir248 {
            tbl24: vec![0; 1 << 24],
            chunks: Vec::new(),
        };
        for (n, id) in sorted {
            let (s, e) = (u32::from(n.network()), u32::from(n.broadcast()));
            if n.prefix_len() <= 24 {
                d.tbl24[(s >> 8) as usize..=(e >> 8) as usize].fill(id);
                continue;
            }
            let slot = (s >> 8) as usize;
            if d.tbl24[slot] & CHUNK == 0 {
                let c = (d.chunks.len() / 256) as u32;
                d.chunks.extend(std::iter::repeat_n(d.tbl24[slot], 256));
                d.tbl24[slot] = CHUNK | c;
            }
            let base = ((d.tbl24[slot] & !CHUNK) as usize) << 8;
            d.chunks[base + (s & 0xff) as usize..=base + (e & 0xff) as usize].fill(id);
        }
        d
    }

    #[inline(always)]
    fn get(&self, a: u32) -> u32 {
        let v = self.tbl24[(a >> 8) as usize];
        if v & CHUNK == 0 {
            v
        } else {
            self.chunks[((v & !CHUNK) as usize) << 8 | (a & 0xff) as usize]
        }
    }
}

/// Runs `f` over the addresses, on one thread or split over two.
fn run<A: Sync>(addrs: &[A], threads: usize, f: impl Fn(&[A]) -> Walk + Sync) -> Walk {
    if threads == 1 {
        return f(addrs);
    }
    std::thread::scope(|s| {
        let parts: Vec<_> = addrs
            .chunks(addrs.len().div_ceil(threads))
            .map(|part| s.spawn(|| f(part)))
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold(Walk::default(), Walk::join)
    })
}

/// With `AB` set in the environment: instead of criterion's groups (which measure one tool
/// for seconds, then the next, so a noisy neighbour on a shared machine can favour either),
/// on one thread and on two, [`ROUNDS`] rounds each timing `ours` then `peer` once, and the median,
/// lowest and highest of peer time / our time. Both must give the same walk.
const ROUNDS: usize = 41;

fn alternate<A: Sync>(
    group: &str,
    peer_name: &str,
    addrs: &[A],
    ours: impl Fn(&[A]) -> Walk + Sync,
    peer: impl Fn(&[A]) -> Walk + Sync,
) {
    for threads in [1, 2] {
        let time = |f: &(dyn Fn(&[A]) -> Walk + Sync)| {
            let t = std::time::Instant::now();
            let w = black_box(run(addrs, threads, f));
            (t.elapsed().as_secs_f64(), w)
        };
        assert_eq!(time(&ours).1, time(&peer).1, "{group}: the answers differ");
        let rounds: Vec<(f64, f64)> = (0..ROUNDS)
            .map(|_| {
                let ours = time(&ours).0;
                (ours, time(&peer).0)
            })
            .collect();
        let mut ratios: Vec<f64> = rounds.iter().map(|&(o, p)| p / o).collect();
        ratios.sort_by(f64::total_cmp);
        let ns = |t: f64| t * 1e9 / addrs.len() as f64;
        let ours_min = rounds.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
        let peer_min = rounds.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
        eprintln!(
            "{group}, {threads} thread(s), tagnet against {peer_name}: speed ratio median {:.2} \
             (lowest {:.2}, highest {:.2}) over {ROUNDS} alternated rounds; fastest rounds \
             {:.1} ns against {:.1} ns an address, ratio {:.2}",
            ratios[ROUNDS / 2],
            ratios[0],
            ratios[ROUNDS - 1],
            ns(ours_min),
            ns(peer_min),
            peer_min / ours_min
        );
    }
}

/// With `ONLY=v4` (or `v6`) in the environment: the other family is skipped and tagnet's
/// batch lookup of the 1M addresses runs [`ONLY_ROUNDS`] times, measuring nothing — a
/// workload for `perf record` and for timing two builds as whole processes.
fn only(family: &str) -> bool {
    std::env::var("ONLY").is_ok_and(|f| f == family)
}

const ONLY_ROUNDS: usize = 300;

fn skipped(family: &str) -> bool {
    std::env::var("ONLY").is_ok_and(|f| f != family)
}

fn lookup_v4(c: &mut Criterion) {
    if skipped("v4") {
        return;
    }
    let Some(path) = snapshot_path() else { return };
    let snap = tagnet::load::load_path(&path).unwrap();
    let index = TagIndex::build(&snap);
    let (prefixes, cl) = closures(&snap, |t| t.v4());
    let mut trie = PrefixMap::new();
    let mut pop: Poptrie<(u32, u8), u32> = Poptrie::new();
    for &(p, id) in &prefixes {
        trie.insert(p, id);
        pop.insert((u32::from(p.network()), p.prefix_len()), id);
    }
    let dir = Dir248::new(&prefixes);
    eprintln!(
        "index: {:?}, {} segments; dir_24_8: {} MiB",
        index.memory(),
        index.segments().0,
        ((dir.tbl24.len() + dir.chunks.len()) * 4) >> 20
    );
    let addrs = addresses_v4(&snap, 42);
    let tagnet_walk = |part: &[Ipv4Addr]| {
        let mut w = Walk::default();
        for &a in part {
            for m in index.lookup_v4(a) {
                w.tag(m.tag);
            }
        }
        w
    };
    let tagnet_many = |part: &[Ipv4Addr]| {
        let mut w = Walk::default();
        index.lookup_many_v4(part, |_, ms| {
            for m in ms {
                w.tag(m.tag);
            }
        });
        w
    };
    let poptrie_walk = |part: &[Ipv4Addr]| {
        let mut w = Walk::default();
        for &a in part {
            cl.walk(pop.lookup(u32::from(a)).copied().unwrap_or(0), &mut w);
        }
        w
    };
    let dir_walk = |part: &[Ipv4Addr]| {
        let mut w = Walk::default();
        for &a in part {
            cl.walk(dir.get(u32::from(a)), &mut w);
        }
        w
    };
    let trie_walk = |part: &[Ipv4Addr]| {
        let mut w = Walk::default();
        for &a in part {
            cl.walk(
                trie.get_lpm(&Ipv4Net::from(a)).map_or(0, |(_, &id)| id),
                &mut w,
            );
        }
        w
    };
    if only("v4") {
        for _ in 0..ONLY_ROUNDS {
            black_box(tagnet_many(&addrs));
        }
        return;
    }
    if std::env::var_os("AB").is_some() {
        let ids: Vec<u32> = addrs.iter().map(|&a| dir.get(u32::from(a))).collect();
        let t = std::time::Instant::now();
        for _ in 0..5 {
            let mut w = Walk::default();
            for &id in &ids {
                cl.walk(id, &mut w);
            }
            black_box(w);
        }
        eprintln!(
            "lookup_v4_cn376: the walk alone (each address's closure known beforehand) takes \
             {:.1} ns an address: the part of every tool's time no lookup removes",
            t.elapsed().as_secs_f64() * 1e9 / 5.0 / N as f64
        );
        // tagnet's two parts apart: the lookup alone (each answer's run of matches, not
        // walked), and the walk alone (the runs known beforehand).
        let time5 = |f: &dyn Fn() -> u64| {
            let t = std::time::Instant::now();
            for _ in 0..5 {
                black_box(f());
            }
            t.elapsed().as_secs_f64() * 1e9 / 5.0 / N as f64
        };
        let lookup_alone = time5(&|| {
            let mut sum = 0u64;
            index.lookup_many_v4_at(&addrs, |_, run| sum += (run.start ^ run.end) as u64);
            sum
        });
        let mut runs = Vec::with_capacity(N);
        index.lookup_many_v4_at(&addrs, |_, run| runs.push(run));
        let all = index.matches_v4();
        let walk_alone = time5(&|| {
            let mut w = Walk::default();
            for run in &runs {
                for m in &all[run.clone()] {
                    w.tag(m.tag);
                }
            }
            w.checksum
        });
        eprintln!(
            "lookup_v4_cn376: tagnet's lookup alone {lookup_alone:.1} ns an address, its walk \
             alone {walk_alone:.1} ns"
        );
        return alternate("lookup_v4_cn376", "dir_24_8", &addrs, tagnet_many, dir_walk);
    }
    let want = tagnet_many(&addrs);
    for (name, got) in [
        ("tagnet one at a time", tagnet_walk(&addrs)),
        ("poptrie", poptrie_walk(&addrs)),
        ("dir_24_8", dir_walk(&addrs)),
        ("prefix_trie", trie_walk(&addrs)),
    ] {
        assert_eq!(got, want, "{name} disagrees with tagnet");
    }
    eprintln!(
        "lookup_v4_cn376: {} matches, checksum {:#x}, equal for all four",
        want.matches, want.checksum
    );
    for threads in [1, 2] {
        let name = if threads == 1 {
            "lookup_v4_cn376".to_string()
        } else {
            format!("lookup_v4_cn376_{threads}threads")
        };
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function(BenchmarkId::new("tagnet", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, tagnet_many)))
        });
        g.bench_function(BenchmarkId::new("tagnet_one_at_a_time", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, tagnet_walk)))
        });
        g.bench_function(BenchmarkId::new("poptrie_closure", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, poptrie_walk)))
        });
        g.bench_function(BenchmarkId::new("dir_24_8_closure", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, dir_walk)))
        });
        g.bench_function(BenchmarkId::new("prefix_trie_closure", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, trie_walk)))
        });
        g.finish();
    }
}

fn lookup_v6(c: &mut Criterion) {
    if skipped("v6") {
        return;
    }
    let Some(path) = snapshot_path() else { return };
    let snap = tagnet::load::load_path(&path).unwrap();
    let index = TagIndex::build(&snap);
    let (prefixes, cl) = closures(&snap, |t| t.v6());
    let mut trie = PrefixMap::new();
    let mut pop: Poptrie<(u128, u8), u32> = Poptrie::new();
    for &(p, id) in &prefixes {
        trie.insert(p, id);
        pop.insert((u128::from(p.network()), p.prefix_len()), id);
    }
    let addrs = addresses_v6(&snap, 43);
    let tagnet_walk = |part: &[Ipv6Addr]| {
        let mut w = Walk::default();
        for &a in part {
            for m in index.lookup_v6(a) {
                w.tag(m.tag);
            }
        }
        w
    };
    let tagnet_many = |part: &[Ipv6Addr]| {
        let mut w = Walk::default();
        index.lookup_many_v6(part, |_, ms| {
            for m in ms {
                w.tag(m.tag);
            }
        });
        w
    };
    let poptrie_walk = |part: &[Ipv6Addr]| {
        let mut w = Walk::default();
        for &a in part {
            cl.walk(pop.lookup(u128::from(a)).copied().unwrap_or(0), &mut w);
        }
        w
    };
    let trie_walk = |part: &[Ipv6Addr]| {
        let mut w = Walk::default();
        for &a in part {
            cl.walk(
                trie.get_lpm(&Ipv6Net::from(a)).map_or(0, |(_, &id)| id),
                &mut w,
            );
        }
        w
    };
    if only("v6") {
        for _ in 0..ONLY_ROUNDS {
            black_box(tagnet_many(&addrs));
        }
        return;
    }
    if std::env::var_os("AB").is_some() {
        return alternate(
            "lookup_v6_cn376",
            "poptrie",
            &addrs,
            tagnet_many,
            poptrie_walk,
        );
    }
    let want = tagnet_many(&addrs);
    for (name, got) in [
        ("tagnet one at a time", tagnet_walk(&addrs)),
        ("poptrie", poptrie_walk(&addrs)),
        ("prefix_trie", trie_walk(&addrs)),
    ] {
        assert_eq!(got, want, "{name} disagrees with tagnet");
    }
    eprintln!(
        "lookup_v6_cn376: {} matches, checksum {:#x}, equal for all three",
        want.matches, want.checksum
    );
    for threads in [1, 2] {
        let name = if threads == 1 {
            "lookup_v6_cn376".to_string()
        } else {
            format!("lookup_v6_cn376_{threads}threads")
        };
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function(BenchmarkId::new("tagnet", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, tagnet_many)))
        });
        g.bench_function(BenchmarkId::new("tagnet_one_at_a_time", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, tagnet_walk)))
        });
        g.bench_function(BenchmarkId::new("poptrie_closure", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, poptrie_walk)))
        });
        g.bench_function(BenchmarkId::new("prefix_trie_closure", N), |b| {
            b.iter(|| black_box(run(&addrs, threads, trie_walk)))
        });
        g.finish();
    }
}

fn load(c: &mut Criterion) {
    if std::env::var_os("ONLY").is_some() {
        return;
    }
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

/// Azure's snapshot alone against Azure + AWS + Google (`--source`), one index: the same
/// addresses (half inside Azure's prefixes, half anywhere; drawn from the merged snapshot,
/// so a third of the hits land in the other providers' ranges), the batch path on one core.
/// The goal (issue 26): within 1.5× of Azure alone. Needs `../shared/data/other-clouds/`.
fn lookup_sources(c: &mut Criterion) {
    if std::env::var_os("ONLY").is_some() {
        return;
    }
    let Some(path) = snapshot_path() else { return };
    let other = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/other-clouds");
    let (aws, gcp) = (
        other.join("aws_ip-ranges_2026-08-22.json"),
        other.join("gcp_cloud_2025-07-24.json"),
    );
    if !aws.exists() || !gcp.exists() {
        eprintln!("skipped: {} is absent", other.display());
        return;
    }
    let azure = tagnet::load::load_path(&path).unwrap();
    let sources = [&aws, &gcp]
        .iter()
        .map(|p| tagnet::sources::read_spec(p.to_str().unwrap()).unwrap())
        .collect();
    let merged = azure.clone().with_sources(sources).unwrap();
    let (ia, im) = (TagIndex::build(&azure), TagIndex::build(&merged));
    let addrs = addresses_v4(&merged, 42);
    let walk = |index: &TagIndex| {
        let mut w = Walk::default();
        index.lookup_many_v4(&addrs, |_, ms| {
            for m in ms {
                w.tag(m.tag);
            }
        });
        w
    };
    let mut g = c.benchmark_group("lookup_sources_1M_v4");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(addrs.len() as u64));
    g.bench_function("azure_alone", |b| b.iter(|| black_box(walk(&ia))));
    g.bench_function("azure_aws_google", |b| b.iter(|| black_box(walk(&im))));
    g.finish();
}

criterion_group!(benches, lookup_v4, lookup_v6, lookup_sources, load);
criterion_main!(benches);
