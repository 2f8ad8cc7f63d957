//! Flow-log attribution from VNet flow-log JSON, parsing included: tagnet's streaming reader
//! (records scanned, parsed and attributed on the thread pool, summed by direction, service,
//! region and decision) beside the plain way — the blob parsed whole into `serde_json::Value`,
//! each tuple split and its addresses parsed by the standard library, looked up in the same
//! index and summed in a `HashMap` on one thread — on the same bytes.
//!
//! The blob: one NIC-hour of made-up traffic (`tagnet flows synth`'s generator) with 1,000
//! tuples per record, real addresses of the built-in snapshot's tags, about 80 MB.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use tagnet::TagIndex;
use tagnet::flowlog::Kind;
use tagnet::flowlog::attribute::{Attributor, summarize};
use tagnet::flowlog::synth::{self, Plan};

fn plain(json: &[u8], index: &TagIndex) -> (usize, usize) {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let mut sums: HashMap<(bool, u32), u64> = HashMap::new();
    let mut n = 0;
    for r in v["records"].as_array().unwrap() {
        for f in r["flowRecords"]["flows"].as_array().unwrap() {
            for g in f["flowGroups"].as_array().unwrap() {
                for t in g["flowTuples"].as_array().unwrap() {
                    let fields: Vec<&str> = t.as_str().unwrap().split(',').collect();
                    let src: IpAddr = fields[1].parse().unwrap();
                    let dst: IpAddr = fields[2].parse().unwrap();
                    let inbound = fields[6] == "I";
                    let remote = if inbound { src } else { dst };
                    let bytes: u64 =
                        fields[10].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
                    let tag = index
                        .lookup(remote)
                        .iter()
                        .map(|m| m.tag)
                        .max()
                        .unwrap_or(u32::MAX);
                    *sums.entry((inbound, tag)).or_default() += bytes;
                    n += 1;
                }
            }
        }
    }
    (n, sums.len())
}

fn flows(c: &mut Criterion) {
    let snap = tagnet::load::builtin::load().unwrap();
    let index = TagIndex::build(&snap);
    let plan = Plan {
        kind: Kind::Vnet,
        region: "westeurope".into(),
        nics: 1,
        hours: 1,
        records: 1000,
        tuples: 1000,
        extra: 0,
        seed: 11,
        vnet: std::net::Ipv4Addr::new(10, 0, 0, 0),
    };
    let blob = synth::generate(&snap, &index, &plan, &synth::default_decision).unwrap();
    let json = blob[0].json.as_bytes();
    let tuples = plan.records * plan.tuples;
    let at = Attributor::new(&snap, &index, None);
    // Same tuple count both ways, before anything is timed.
    let (sum, stats) = summarize(json, "bench", &at, &mut |b| panic!("{b}"));
    assert_eq!(stats.tuples, tuples);
    assert_eq!(plain(json, &index).0, tuples);
    black_box(sum);

    let mut g = c.benchmark_group("flows_attribute_vnet_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(tuples as u64));
    g.bench_function("tagnet_stream_2threads", |b| {
        b.iter(|| {
            summarize(black_box(json), "bench", &at, &mut |_| {})
                .1
                .tuples
        })
    });
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    g.bench_function("tagnet_stream_1thread", |b| {
        b.iter(|| {
            one.install(|| {
                summarize(black_box(json), "bench", &at, &mut |_| {})
                    .1
                    .tuples
            })
        })
    });
    g.bench_function("plain_value_std_parse", |b| {
        b.iter(|| plain(black_box(json), &index))
    });
    g.finish();
}

criterion_group!(benches, flows);
criterion_main!(benches);
