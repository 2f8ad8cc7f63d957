//! Property tests: the fast indexes give exactly the oracle's answers on random snapshots with
//! overlapping prefixes, /0, /32, /128 and the top address.

use ipnet::IpNet;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tagnet::{TagIndex, oracle};

const ANCHORS4: [u32; 4] = [0, 0xC000_0200, 0xFFFF_FFFF, 0x0A00_0000];
const ANCHORS6: [u128; 3] = [0, 0x2001_0db8 << 96, u128::MAX];
const REGIONS: [&str; 3] = ["", "eastus2", "westeurope"];

#[derive(Debug, Clone)]
struct GenTag {
    region: usize,
    v4: Vec<(u32, u8)>,
    v6: Vec<(u128, u8)>,
}

fn gen_tag() -> impl Strategy<Value = GenTag> {
    let v4 = proptest::collection::vec((0..ANCHORS4.len(), any::<u16>(), 0u8..=32), 0..6).prop_map(
        |v| {
            v.into_iter()
                .map(|(a, x, l)| (ANCHORS4[a] ^ u32::from(x & 0x3ff), l))
                .collect()
        },
    );
    let v6 = proptest::collection::vec((0..ANCHORS6.len(), any::<u16>(), 0u8..=128), 0..4)
        .prop_map(|v| {
            v.into_iter()
                .map(|(a, x, l)| (ANCHORS6[a] ^ u128::from(x), l))
                .collect()
        });
    (0..REGIONS.len(), v4, v6).prop_map(|(region, v4, v6)| GenTag { region, v4, v6 })
}

fn to_json(tags: &[GenTag]) -> String {
    let values: Vec<serde_json::Value> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut prefixes: Vec<String> =
                t.v4.iter().map(|&(a, l)| format!("{}/{l}", Ipv4Addr::from(a))).collect();
            prefixes.extend(t.v6.iter().map(|&(a, l)| format!("{}/{l}", Ipv6Addr::from(a))));
            let region = REGIONS[t.region];
            serde_json::json!({
                "name": format!("Tag{i}{}{region}", if region.is_empty() { "" } else { "." }),
                "properties": {"region": region, "systemService": format!("Svc{}", i % 2), "addressPrefixes": prefixes,
                               "networkFeatures": null}
            })
        })
        .collect();
    serde_json::json!({"changeNumber": 1, "cloud": "Public", "values": values}).to_string()
}

fn probes(snap: &tagnet::Snapshot, extra4: &[u32], extra6: &[u128]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    let mut v4: Vec<u32> = vec![0, u32::MAX];
    let mut v6: Vec<u128> = vec![0, u128::MAX];
    for t in snap.tags() {
        for n in t.v4() {
            let (s, e) = (u32::from(n.network()), u32::from(n.broadcast()));
            v4.extend([s, e, s.wrapping_sub(1), e.wrapping_add(1)]);
        }
        for n in t.v6() {
            let (s, e) = (u128::from(n.network()), u128::from(n.broadcast()));
            v6.extend([s, e, s.wrapping_sub(1), e.wrapping_add(1)]);
        }
    }
    v4.extend(extra4);
    v6.extend(extra6);
    out.extend(v4.into_iter().map(|a| IpAddr::V4(a.into())));
    out.extend(v6.into_iter().map(|a| IpAddr::V6(a.into())));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_containing_tag_matches_the_oracle(
        tags in proptest::collection::vec(gen_tag(), 1..7),
        extra4 in proptest::collection::vec(any::<u32>(), 16),
        extra6 in proptest::collection::vec(any::<u128>(), 8),
    ) {
        let snap = tagnet::load::from_slice(to_json(&tags).as_bytes(), "gen").unwrap();
        let index = TagIndex::build(&snap);
        for ip in probes(&snap, &extra4, &extra6) {
            let fast: Vec<(u32, IpNet)> = index.lookup(ip).iter().map(|m| (m.tag, index.prefix(m.prefix))).collect();
            let slow = oracle::lookup(&snap, ip);
            prop_assert_eq!(&fast, &slow, "address {}", ip);
            for region in snap.regions() {
                let want: Vec<_> = slow.iter().copied().filter(|(t, _)| snap.tag(*t).region() == region).collect();
                prop_assert_eq!(index.region(region).unwrap().lookup(ip), want, "address {} region {}", ip, region);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Damaged input never panics the loader: it loads or gives an error.
    #[test]
    fn damaged_snapshots_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let mut bytes = std::fs::read(super::common::example()).unwrap();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        if let Ok(snap) = tagnet::load::from_slice(&bytes, "damaged") {
            let index = TagIndex::build(&snap);
            let _ = index.lookup("192.0.2.1".parse().unwrap());
        }
    }

    /// Arbitrary route tables never panic the parser or the audit.
    #[test]
    fn route_tables_never_panic(text in "\\PC{0,200}", prefix in "[0-9a-fA-F:./]{0,20}", hop in "(Internet|VirtualAppliance|None|VnetLocal|x)") {
        let snap = tagnet::load::load_path(&super::common::example()).unwrap();
        let _ = tagnet::routes::audit::parse_route_table(text.as_bytes(), "t");
        let doc = format!(r#"{{"routes": [{{"name": "r", "addressPrefix": "{prefix}", "nextHopType": "{hop}", "nextHopIpAddress": "10.0.0.4"}}]}}"#);
        if let Ok(table) = tagnet::routes::audit::parse_route_table(doc.as_bytes(), "t") {
            let _ = tagnet::routes::audit::audit(&snap, &table, &[0, 1], &[], true);
        }
    }
}
