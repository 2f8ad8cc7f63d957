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
            let opts = tagnet::routes::audit::AuditOptions { ipv6: true, max_routes: 400, ..Default::default() };
            let _ = tagnet::routes::audit::audit(&snap, &table, &[0, 1], &opts);
        }
    }
}

/// The route Azure picks for one address, by brute force over every candidate: longest
/// prefix, then explicit prefix over service tag (regional tag, cloud-wide tag, AzureCloud
/// regional, AzureCloud), then system routes. Returns the next hop's kind.
fn pick_naive(
    snap: &tagnet::Snapshot,
    table: &[tagnet::routes::audit::TableRoute],
    vnet: &[IpNet],
    ip: Ipv4Addr,
) -> &'static str {
    let mut best: Option<(u8, u8, &'static str)> = None; // (prefix length, -rank, hop)
    let mut offer = |len: u8, rank: u8, hop: &'static str| {
        let key = (len, 255 - rank, hop);
        if best.is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
            best = Some(key);
        }
    };
    for r in table {
        let hop = r.next_hop.kind();
        if let Ok(net) = r.address_prefix.parse::<IpNet>() {
            if net.contains(&IpAddr::V4(ip)) {
                offer(net.prefix_len(), 0, hop);
            }
        } else {
            let t = snap.tag(snap.tag_by_name(&r.address_prefix).unwrap());
            let rank = match (t.name().starts_with("AzureCloud"), t.is_regional()) {
                (false, true) => 1,
                (false, false) => 2,
                (true, true) => 3,
                (true, false) => 4,
            };
            for n in t.v4().iter().filter(|n| n.contains(&ip)) {
                offer(n.prefix_len(), rank, hop);
            }
        }
    }
    for v in vnet.iter().filter(|v| v.contains(&IpAddr::V4(ip))) {
        offer(v.prefix_len(), 10, "VnetLocal");
    }
    for p in tagnet::routes::PRIVATE_RANGES {
        let n: IpNet = p.parse().unwrap();
        if n.contains(&IpAddr::V4(ip)) && !vnet.iter().any(|v| v.contains(&n)) {
            offer(n.prefix_len(), 11, "None");
        }
    }
    offer(0, 12, "Internet");
    best.unwrap().2
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every required address the audit reports as not leaving through Internet is exactly
    /// the set the brute-force route choice sends elsewhere.
    #[test]
    fn audit_matches_brute_force_route_choice(
        routes in proptest::collection::vec((0u8..7, 0u32..256, 20u8..=32, 0u8..3), 0..8),
        vnet_len in 8u8..=24,
    ) {
        let snap = tagnet::load::load_path(&super::common::example()).unwrap();
        let tags = ["BatchNodeManagement.EastUS2", "AzureMachineLearning", "AzureCloud.eastus2", "AzureCloud"];
        let table: Vec<tagnet::routes::audit::TableRoute> = routes
            .iter()
            .enumerate()
            .map(|(i, &(kind, host, len, hop))| {
                let address_prefix = match kind {
                    0..=2 => IpNet::V4(ipnet::Ipv4Net::new(Ipv4Addr::from(0xC000_0200 | host), len).unwrap().trunc()).to_string(),
                    3 => "0.0.0.0/0".to_string(),
                    k => tags[(k as usize - 4 + i) % tags.len()].to_string(),
                };
                let next_hop = match hop {
                    0 => tagnet::routes::NextHop::Internet,
                    1 => tagnet::routes::NextHop::VirtualAppliance("10.0.0.4".parse().unwrap()),
                    _ => tagnet::routes::NextHop::None,
                };
                tagnet::routes::audit::TableRoute { name: format!("r{i}"), address_prefix, next_hop, source: tagnet::routes::audit::RouteSource::User }
            })
            .collect();
        // Azure refuses two routes with one prefix: keep the first of each.
        let mut seen = std::collections::BTreeSet::new();
        let table: Vec<_> = table.into_iter().filter(|r| seen.insert(r.address_prefix.clone())).collect();
        let vnet = vec![IpNet::V4(ipnet::Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), vnet_len).unwrap().trunc())];
        let required = tagnet::routes::required_tags(&snap, &["eastus2".into()], &["BatchNodeManagement".into(), "AzureMachineLearning".into()], &[]).unwrap().ids;
        let opts = tagnet::routes::audit::AuditOptions { vnet: vnet.clone(), max_routes: 400, ..Default::default() };
        let rt = tagnet::routes::audit::RouteTable { routes: table.clone(), kind: tagnet::routes::audit::TableKind::RouteTable, bgp_propagation_disabled: None };
        let report = tagnet::routes::audit::audit(&snap, &rt, &required, &opts).unwrap();
        let reported: std::collections::BTreeSet<u32> = report
            .findings
            .iter()
            .filter(|f| f.finding.severity == tagnet::findings::Severity::Error)
            .flat_map(|f| f.prefixes.iter())
            .filter_map(|p| match p {
                IpNet::V4(n) => Some(u32::from(n.network())..=u32::from(n.broadcast())),
                IpNet::V6(_) => None,
            })
            .flatten()
            .collect();
        let mut expected = std::collections::BTreeSet::new();
        for &id in &required {
            for n in snap.tag(id).v4() {
                for a in u32::from(n.network())..=u32::from(n.broadcast()) {
                    if pick_naive(&snap, &table, &vnet, a.into()) != "Internet" {
                        expected.insert(a);
                    }
                }
            }
        }
        prop_assert_eq!(reported, expected);

        // The plan, applied as the az script applies it (an existing prefix is updated in
        // place, never created twice), leaves no required address off Internet.
        let mut after = table.clone();
        for r in &report.ensure {
            match after.iter_mut().find(|t| t.address_prefix == r.address_prefix) {
                Some(t) => t.next_hop = r.next_hop,
                None => {
                    prop_assert!(after.iter().all(|t| t.name != r.name), "name {} reused", r.name);
                    after.push(tagnet::routes::audit::TableRoute { name: r.name.clone(), address_prefix: r.address_prefix.clone(), next_hop: r.next_hop, source: tagnet::routes::audit::RouteSource::User });
                }
            }
        }
        prop_assert_eq!(after.len(), report.routes_after);
        for &id in &required {
            for n in snap.tag(id).v4() {
                for a in u32::from(n.network())..=u32::from(n.broadcast()) {
                    prop_assert_eq!(pick_naive(&snap, &after, &vnet, a.into()), "Internet", "{} after the plan", Ipv4Addr::from(a));
                }
            }
        }
    }
}

/// The batch lookups answer every address as the one-at-a-time lookup does, in order, across
/// block boundaries.
#[test]
fn batch_lookups_equal_single_lookups() {
    let snap = tagnet::load::load_path(&super::common::example()).unwrap();
    let index = TagIndex::build(&snap);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut v4: Vec<Ipv4Addr> = (0..5000).map(|_| Ipv4Addr::from(next() as u32)).collect();
    let mut v6: Vec<Ipv6Addr> = (0..5000)
        .map(|_| Ipv6Addr::from(u128::from(next()) << 64 | u128::from(next())))
        .collect();
    for t in snap.tags() {
        v4.extend(t.v4().iter().flat_map(|n| [n.network(), n.broadcast()]));
        v6.extend(t.v6().iter().flat_map(|n| [n.network(), n.broadcast()]));
    }
    let mut seen = 0;
    index.lookup_many_v4(&v4, |i, ms| {
        assert_eq!(i, seen);
        assert_eq!(ms, index.lookup_v4(v4[i]), "{}", v4[i]);
        seen += 1;
    });
    assert_eq!(seen, v4.len());
    let mut seen = 0;
    index.lookup_many_v6(&v6, |i, ms| {
        assert_eq!(i, seen);
        assert_eq!(ms, index.lookup_v6(v6[i]), "{}", v6[i]);
        seen += 1;
    });
    assert_eq!(seen, v6.len());
}
