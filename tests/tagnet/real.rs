//! Tests on Microsoft's real snapshots (`../shared/data/servicetags/`); each skips with a note
//! when the shared folder is absent.

use super::common::{Rng, shared};
use ipnet::IpNet;
use std::net::IpAddr;
use tagnet::{TagIndex, oracle};

/// Seeded addresses: half inside published IPv4 prefixes, a quarter uniform IPv4, a quarter
/// inside published IPv6 prefixes.
fn seeded(snap: &tagnet::Snapshot, n: usize, seed: u64) -> Vec<IpAddr> {
    let v4: Vec<_> = snap
        .tags()
        .iter()
        .flat_map(|t| t.v4().iter().copied())
        .collect();
    let v6: Vec<_> = snap
        .tags()
        .iter()
        .flat_map(|t| t.v6().iter().copied())
        .collect();
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| match i % 4 {
            0 | 1 => {
                let p = v4[rng.below(v4.len())];
                let size = 1u64 << (32 - p.prefix_len());
                IpAddr::V4((u32::from(p.network()) + (rng.next() % size) as u32).into())
            }
            2 => IpAddr::V4((rng.next() as u32).into()),
            _ => {
                let p = v6[rng.below(v6.len())];
                let host = if p.prefix_len() == 0 {
                    u128::MAX
                } else {
                    (1u128 << (128 - p.prefix_len())) - 1
                };
                let r = (u128::from(rng.next()) << 64 | u128::from(rng.next())) & host;
                IpAddr::V6((u128::from(p.network()) | r).into())
            }
        })
        .collect()
}

fn check_against_linear_scan(file: &str, n: usize) {
    let Some(path) = shared(file) else { return };
    let snap = tagnet::load::load_path(&path).unwrap();
    let index = TagIndex::build(&snap);
    let mut matched = 0;
    for ip in seeded(&snap, n, 0x7a9e7) {
        let fast: Vec<(u32, IpNet)> = index
            .lookup(ip)
            .iter()
            .map(|m| (m.tag, index.prefix(m.prefix)))
            .collect();
        assert_eq!(fast, oracle::lookup(&snap, ip), "{file}: address {ip}");
        matched += usize::from(!fast.is_empty());
    }
    // At least the addresses drawn from published prefixes matched.
    assert!(
        matched >= n * 3 / 4,
        "{file}: only {matched} of {n} matched"
    );
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn cn376_ten_thousand_addresses_equal_linear_scan() {
    check_against_linear_scan("ServiceTags_Public_cn376.json", 10_000);
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn other_snapshots_equal_linear_scan() {
    for f in [
        "ServiceTags_Public_cn373.json",
        "ServiceTags_Public_cn128.json",
        "ServiceTags_AzureGovernment_cn401.json",
    ] {
        check_against_linear_scan(f, 2_000);
    }
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn real_files_load_with_expected_shape() {
    for (file, cloud, change, tags) in [
        ("ServiceTags_Public_cn376.json", "Public", 376, 3041),
        ("ServiceTags_Public_cn373.json", "Public", 373, 3039),
        ("ServiceTags_Public_cn128.json", "Public", 128, 1767),
        (
            "ServiceTags_AzureGovernment_cn401.json",
            "AzureGovernment",
            401,
            299,
        ),
    ] {
        let Some(path) = shared(file) else { return };
        let snap = tagnet::load::load_path(&path).unwrap();
        assert_eq!(
            (snap.cloud(), snap.change_number(), snap.tags().len()),
            (cloud, change, tags)
        );
        assert!(
            snap.warnings().is_empty(),
            "{file}: {:?}",
            &snap.warnings()[..1]
        );
    }
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let snap = tagnet::load::load_path(&path).unwrap();
    let v4: usize = snap.tags().iter().map(|t| t.v4().len()).sum();
    let v6: usize = snap.tags().iter().map(|t| t.v6().len()).sum();
    assert_eq!((v4, v6), (71_348, 24_475));
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn regional_selection_uses_region_and_service() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let snap = tagnet::load::load_path(&path).unwrap();
    let names = |t: &str, r: &str| -> Vec<String> {
        snap.resolve_tag(t, Some(r))
            .unwrap()
            .iter()
            .map(|&i| snap.tag(i).name().to_string())
            .collect()
    };
    assert_eq!(
        names("BatchNodeManagement", "East US 2"),
        ["BatchNodeManagement.EastUS2"]
    );
    assert_eq!(
        names("AzureCloud", "francecentral"),
        ["AzureCloud.centralfrance"]
    );
    assert_eq!(
        names("AzureCloud", "Germany West Central"),
        ["AzureCloud.germanywc"]
    );
    assert_eq!(snap.resolve_region("norway-east").unwrap(), "norwaye");
    assert_eq!(
        names("Storage", "eastus2"),
        ["Storage.EastUS2", "Storage.EastUS2Stage"]
    );
    assert_eq!(
        names("ApiManagement", "brazilse"),
        ["ApiManagement.BrazilSoutheast"]
    );
    // DataFactoryManagement shares its systemService with DataFactory but has no regional tags.
    assert!(
        snap.resolve_tag("DataFactoryManagement", Some("eastus"))
            .is_err()
    );
}
