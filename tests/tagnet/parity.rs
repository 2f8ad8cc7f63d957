//! One engine, two front ends: the CLI's JSON and the server's `/v1` JSON are equal on the same
//! request — random requests over the built-in (real, Public) snapshot, including requests
//! that are refused, which both refuse with the same message (each spelling the request's
//! fields its own way: `--max-routes`, `max_routes`).

use assert_cmd::Command;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tagnet::serve::{App, Loaded, Loader, Options};

struct Server {
    base: String,
    _rt: tokio::runtime::Runtime,
}

/// One server on the built-in snapshot for every test of this file.
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let loader: Loader = Arc::new(|| {
            tagnet::ops::source::resolve(Some("builtin".as_ref())).map_err(|e| e.to_string())
        });
        let (snap, info) = loader().unwrap();
        let app = App::new(
            Loaded::new(snap, info),
            loader,
            Options {
                watch: None,
                ..Options::default()
            },
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { tagnet::serve::run(app, listener).await });
        Server { base, _rt: rt }
    })
}

fn http() -> &'static reqwest::blocking::Client {
    static C: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    C.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    })
}

/// What a front end answered: a JSON document, or a refusal's message.
#[derive(Debug, PartialEq)]
enum Said {
    Doc(Value),
    Refused(String),
}

/// The CLI on the built-in snapshot, with an empty cache, `--format json`.
fn cli(args: &[String]) -> Said {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env("TAGNET_CACHE", cache.path())
        .env_remove("TAGNET_TAGS")
        .args(["--tags", "builtin", "--quiet", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    if out.stdout.is_empty() {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("tagnet: ") && !l.starts_with("tagnet: note:"))
            .unwrap_or_else(|| panic!("{args:?}: no message: {stderr}"));
        let msg = line
            .trim_start_matches("tagnet: ")
            .trim_start_matches("error: ");
        assert!(
            out.status.code() == Some(1) || out.status.code() == Some(2),
            "{args:?}"
        );
        return Said::Refused(normalize(msg));
    }
    Said::Doc(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}")))
}

/// The server's answer to `GET path`.
fn get(path: &str) -> Said {
    let r = http()
        .get(format!("{}{path}", server().base))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_ne!(status, 500, "{path}: {body}");
    if status == 200 {
        Said::Doc(body)
    } else {
        Said::Refused(normalize(body["error"]["message"].as_str().unwrap()))
    }
}

/// A message with the request's fields in one spelling: `--max-routes` and `` `max_routes` ``
/// both become `max_routes`.
fn normalize(msg: &str) -> String {
    let mut out = String::new();
    let mut rest = msg.replace('`', "");
    while let Some(i) = rest.find("--") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(after.len());
        out.push_str(&after[..end].replace('-', "_"));
        rest = after[end..].to_string();
    }
    out.push_str(&rest);
    out
}

fn q(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

const REGIONS: &[&str] = &[
    "eastus2",
    "East US 2",
    "westeurope",
    "francecentral",
    "uksouth",
    "brazilsoutheast",
    "centralus",
    "atlantis",
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn udr_is_the_same_answer(
        region in proptest::sample::subsequence(REGIONS, 1..3),
        paired in any::<bool>(),
        ipv6 in any::<bool>(),
        exact in any::<bool>(),
        profile in proptest::sample::select(vec!["", "aml-vnet-2020", "aml-vnet-2023", "batch-classic"]),
        storage in any::<bool>(),
        hop in 0usize..6,
        max_routes in proptest::sample::select(vec![0usize, 1, 5, 40, 400]),
        reserve in proptest::sample::select(vec![0usize, 1, 3, 40]),
    ) {
        let (next_hop, ip) = [
            ("Internet", None),
            ("VirtualAppliance", Some("10.0.0.4")),
            ("VirtualAppliance", Some("fd00::4")),
            ("VirtualNetworkGateway", None),
            ("None", None),
            ("Internet", Some("10.0.0.4")),
        ][hop];
        let mut args: Vec<String> = vec!["udr".into(), "--region".into(), region.join(",")];
        let mut query = format!("/v1/udr?region={}", q(&region.join(",")));
        for (on, flag) in [(paired, "paired"), (ipv6, "ipv6"), (exact, "exact")] {
            if on {
                args.push(format!("--{flag}"));
                query.push_str(&format!("&{flag}=true"));
            }
        }
        if !profile.is_empty() {
            args.extend(["--profile".into(), profile.to_string()]);
            query.push_str(&format!("&profile={profile}"));
        }
        if storage {
            args.extend(["--tag".into(), "Storage".into()]);
            query.push_str("&tag=Storage");
        }
        args.extend(["--next-hop".into(), next_hop.into()]);
        query.push_str(&format!("&next_hop={next_hop}"));
        if let Some(ip) = ip {
            args.extend(["--next-hop-ip".into(), ip.into()]);
            query.push_str(&format!("&next_hop_ip={}", q(ip)));
        }
        args.extend(["--max-routes".into(), max_routes.to_string(), "--reserve".into(), reserve.to_string()]);
        query.push_str(&format!("&max_routes={max_routes}&reserve={reserve}"));
        prop_assert_eq!(cli(&args), get(&query), "{:?}", args);
    }

    #[test]
    fn tags_are_the_same_answer(
        region in proptest::option::of(proptest::sample::select(REGIONS.to_vec())),
        service in proptest::option::of(proptest::sample::select(vec!["AzureMachineLearning", "azurestorage", "BatchNodeManagement", "Nope"])),
        name in proptest::option::of(proptest::sample::select(vec!["Storage*", "*.EastUS2", "Azure?loud*", "x"])),
        feature in proptest::option::of(proptest::sample::select(vec!["UDR", "nsg", "XYZ"])),
    ) {
        let mut args: Vec<String> = vec!["tags".into()];
        let mut query = String::from("/v1/tags?");
        for (v, flag) in [(region, "region"), (service, "service"), (name, "name"), (feature, "feature")] {
            if let Some(v) = v {
                args.extend([format!("--{flag}"), v.to_string()]);
                query.push_str(&format!("{flag}={}&", q(v)));
            }
        }
        prop_assert_eq!(cli(&args), get(&query), "{:?}", args);
    }

    #[test]
    fn prefixes_are_the_same_answer(
        tag in proptest::sample::select(vec!["Storage", "AzureMachineLearning", "BatchNodeManagement.EastUS2", "AzureCloud.westeurope", "Storag"]),
        region in proptest::option::of(proptest::sample::select(REGIONS.to_vec())),
        family in 0usize..3,
        aggregate in any::<bool>(),
    ) {
        let mut args: Vec<String> = vec!["prefixes".into(), tag.into()];
        let mut query = format!("/v1/tags/{tag}/prefixes?");
        if let Some(r) = region {
            args.extend(["--region".into(), r.into()]);
            query.push_str(&format!("region={}&", q(r)));
        }
        match family {
            1 => { args.push("-4".into()); query.push_str("family=ipv4&"); }
            2 => { args.push("-6".into()); query.push_str("family=ipv6&"); }
            _ => {}
        }
        if aggregate {
            args.push("--aggregate".into());
            query.push_str("aggregate=true&");
        }
        let mut server = get(&query);
        // The server repeats `prefixes` as `records` for its first clients.
        if let Said::Doc(Value::Object(m)) = &mut server {
            let records = m.remove("records");
            prop_assert_eq!(records.as_ref(), m.get("prefixes"));
        }
        prop_assert_eq!(cli(&args), server, "{:?}", args);
    }

    #[test]
    fn lookups_are_the_same_answer(
        picks in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u128>()), 1..6),
        region in proptest::option::of(proptest::sample::select(REGIONS.to_vec())),
    ) {
        // Addresses inside the snapshot's own prefixes (both families), and a few outside.
        let snap = tagnet::load::builtin::load().unwrap();
        let tags = snap.tags();
        let ips: Vec<String> = picks
            .iter()
            .map(|(i, bits)| {
                let t = &tags[i.index(tags.len())];
                match t.prefixes().nth((*bits % 7) as usize).or_else(|| t.prefixes().next()) {
                    Some(ipnet::IpNet::V4(n)) => {
                        let host = (*bits as u32) & !u32::from(n.netmask());
                        std::net::Ipv4Addr::from(u32::from(n.network()) | host).to_string()
                    }
                    Some(ipnet::IpNet::V6(n)) => {
                        let host = *bits & !u128::from(n.netmask());
                        std::net::Ipv6Addr::from(u128::from(n.network()) | host).to_string()
                    }
                    None => "198.51.100.7".to_string(),
                }
            })
            .collect();
        // A prefix and a bracketed IPv6 address beside them: every front end answers each
        // query in its own record.
        let mut ips = ips;
        if picks.len() > 2 {
            ips.push("20.41.5.224/28".into());
            ips.push("[2603:1030:40c:1::2c1]".into());
        }
        let mut args: Vec<String> = vec!["lookup".into()];
        args.extend(ips.iter().cloned());
        let mut query = String::from("/v1/lookup?");
        for ip in &ips {
            query.push_str(&format!("ip={}&", q(ip)));
        }
        if let Some(r) = region {
            args.extend(["--region".into(), r.into()]);
            query.push_str(&format!("region={}", q(r)));
        }
        prop_assert_eq!(cli(&args), get(&query), "{:?}", args);
    }
}

/// The request that started this: an IPv6 appliance for IPv4 routes is refused by both.
#[test]
fn an_appliance_of_the_other_family_is_refused_by_both() {
    let args: Vec<String> = [
        "udr",
        "--region",
        "eastus2",
        "--next-hop",
        "VirtualAppliance",
        "--next-hop-ip",
        "fd00::4",
    ]
    .map(String::from)
    .to_vec();
    let c = cli(&args);
    let s = get("/v1/udr?region=eastus2&next_hop=VirtualAppliance&next_hop_ip=fd00::4");
    assert_eq!(c, s);
    match c {
        Said::Refused(m) => assert!(m.contains("next_hop_ip fd00::4 is IPv6"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// An NSG as `az network nsg show` writes it (flattened rules), with the guidance's inbound
/// rules, a deny of SSH, an outbound rule per service tag and an ASG.
const NSG: &str = r#"{"name": "nsg-aml", "securityRules": [
  {"name": "AllowBatchNodeManagement", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
   "sourceAddressPrefix": "BatchNodeManagement.EastUS2", "sourcePortRange": "*", "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "29876-29877"},
  {"name": "AllowAzureMachineLearning", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
   "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*", "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "44224"},
  {"name": "DenySsh", "priority": 200, "direction": "Inbound", "access": "Deny", "protocol": "*",
   "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"},
  {"name": "AllowStorage", "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
   "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationAddressPrefix": "Storage.EastUS2", "destinationPortRange": "443"},
  {"name": "AllowWeb", "priority": 120, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
   "sourceApplicationSecurityGroups": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/web"}],
   "sourcePortRange": "*", "destinationAddressPrefix": "AzureCloud", "destinationPortRange": "80-443"},
  {"name": "DenyInternet", "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*",
   "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "*"}
]}"#;

fn nsg_file() -> &'static std::path::Path {
    static F: OnceLock<tempfile::TempPath> = OnceLock::new();
    F.get_or_init(|| {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, NSG.as_bytes()).unwrap();
        f.into_temp_path()
    })
}

fn post(path: &str, body: &Value) -> Said {
    let r = http()
        .post(format!("{}{path}", server().base))
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_ne!(status, 500, "{path}: {body}");
    if status == 200 {
        Said::Doc(body)
    } else {
        Said::Refused(normalize(body["error"]["message"].as_str().unwrap()))
    }
}

/// An address of a tag of the built-in snapshot (its `pick`th prefix, host bits from `bits`).
fn address_of(tag: &str, pick: usize, bits: u128) -> String {
    let snap = tagnet::load::builtin::load().unwrap();
    let id = snap.tag_by_name(tag).unwrap();
    let nets: Vec<ipnet::IpNet> = snap.tag(id).v4().iter().map(|&n| n.into()).collect();
    match nets[pick % nets.len()] {
        ipnet::IpNet::V4(n) => {
            let host = (bits as u32) & !u32::from(n.netmask());
            std::net::Ipv4Addr::from(u32::from(n.network()) | host).to_string()
        }
        ipnet::IpNet::V6(_) => unreachable!("IPv4 prefixes only"),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn nsg_verify_is_the_same_answer(
        inbound in any::<bool>(),
        tcp in any::<bool>(),
        remote_tag in proptest::sample::select(vec!["BatchNodeManagement.EastUS2", "AzureMachineLearning", "Storage.EastUS2", "Storage.WestEurope", "AzureCloud"]),
        pick in any::<usize>(),
        bits in any::<u128>(),
        local_port in proptest::sample::select(vec![22u16, 443, 29876, 29877, 44224, 50000]),
        remote_port in proptest::sample::select(vec![22u16, 80, 443, 50000]),
        local_web in any::<bool>(),
    ) {
        let remote = address_of(remote_tag, pick, bits);
        let local = if local_web { "10.0.1.10" } else { "10.0.1.4" };
        let (direction, protocol) = (if inbound { "Inbound" } else { "Outbound" }, if tcp { "Tcp" } else { "Udp" });
        let args: Vec<String> = [
            "nsg", "verify", "--nsg", &nsg_file().display().to_string(), "--vnet", "10.0.0.0/16",
            "--asg", "web=10.0.1.10", "--direction", direction, "--protocol", protocol,
            "--local", &format!("{local}:{local_port}"), "--remote", &format!("{remote}:{remote_port}"),
        ]
        .map(String::from)
        .to_vec();
        let body = serde_json::json!({
            "nsg": serde_json::from_str::<Value>(NSG).unwrap(),
            "vnet": ["10.0.0.0/16"],
            "asgs": {"web": ["10.0.1.10"]},
            "flows": [{"direction": direction, "protocol": protocol, "local_ip": local, "local_port": local_port,
                       "remote_ip": remote, "remote_port": remote_port}],
        });
        prop_assert_eq!(cli(&args), post("/v1/nsg/verify", &body), "{:?}", args);
    }

    #[test]
    fn nsg_reach_is_the_same_answer(
        inbound in any::<bool>(),
        protocol in proptest::sample::select(vec!["Tcp", "udp", "Icmp", "any", "carrier-pigeon"]),
        port in proptest::sample::select(vec![0u16, 22, 443, 29877, 44224]),
        local in proptest::option::of(proptest::sample::select(vec!["10.0.1.10", "10.0.2.7", "nope"])),
    ) {
        let direction = if inbound { "inbound" } else { "outbound" };
        let mut args: Vec<String> = [
            "nsg", "reach", "--nsg", &nsg_file().display().to_string(), "--vnet", "10.0.0.0/16",
            "--asg", "web=10.0.1.10", "--direction", direction, "--protocol", protocol, "--port", &port.to_string(),
        ]
        .map(String::from)
        .to_vec();
        let mut body = serde_json::json!({
            "nsg": serde_json::from_str::<Value>(NSG).unwrap(),
            "vnet": ["10.0.0.0/16"],
            "asgs": {"web": ["10.0.1.10"]},
            "direction": direction, "protocol": protocol, "port": port,
        });
        if let Some(l) = local {
            args.extend(["--local".into(), l.into()]);
            body["local"] = l.into();
        }
        prop_assert_eq!(cli(&args), post("/v1/nsg/reach", &body), "{:?}", args);
    }

    #[test]
    fn nsg_require_is_the_same_answer(
        region in proptest::sample::select(REGIONS.to_vec()),
        profile in proptest::option::of(proptest::sample::select(vec!["aml-vnet-2020", "aml-vnet-2023", "batch-simplified", "nope"])),
        local in proptest::option::of(proptest::sample::select(vec!["10.0.1.10", "10.0.2.7", "nope"])),
    ) {
        let mut args: Vec<String> = [
            "nsg", "require", "--nsg", &nsg_file().display().to_string(), "--vnet", "10.0.0.0/16",
            "--asg", "web=10.0.1.10", "--region", region,
        ]
        .map(String::from)
        .to_vec();
        let mut body = serde_json::json!({
            "nsg": serde_json::from_str::<Value>(NSG).unwrap(),
            "vnet": ["10.0.0.0/16"],
            "asgs": {"web": ["10.0.1.10"]},
            "region": region,
        });
        if let Some(p) = profile {
            args.extend(["--profile".into(), p.into()]);
            body["profile"] = p.into();
        }
        if let Some(l) = local {
            args.extend(["--local".into(), l.into()]);
            body["local"] = l.into();
        }
        prop_assert_eq!(cli(&args), post("/v1/nsg/require", &body), "{:?}", args);
    }

    #[test]
    fn nsg_analyze_is_the_same_answer(
        allow in proptest::option::of(proptest::sample::select(vec!["nsg-redundant-rule", "nsg-unreachable-rule", "TN203"])),
        extra in any::<bool>(),
    ) {
        // The test NSG, and (sometimes) a rule that a broader one above it shadows.
        let mut nsg: Value = serde_json::from_str(NSG).unwrap();
        if extra {
            nsg["securityRules"].as_array_mut().unwrap().push(serde_json::json!({
                "name": "AllowStorageAgain", "priority": 150, "direction": "Outbound", "access": "Allow",
                "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*",
                "destinationAddressPrefix": "Storage.EastUS2", "destinationPortRange": "443"}));
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nsg.json");
        std::fs::write(&file, nsg.to_string()).unwrap();
        let mut args: Vec<String> = [
            "nsg", "analyze", "--nsg", &file.display().to_string(), "--vnet", "10.0.0.0/16",
            "--asg", "web=10.0.1.10",
        ]
        .map(String::from)
        .to_vec();
        let mut body = serde_json::json!({"nsg": nsg, "vnet": ["10.0.0.0/16"], "asgs": {"web": ["10.0.1.10"]}});
        if let Some(code) = allow {
            args.extend(["--allow".into(), code.into()]);
            body["allow"] = serde_json::json!([code]);
        }
        prop_assert_eq!(cli(&args), post("/v1/nsg/analyze", &body), "{:?}", args);
    }

    #[test]
    fn routes_audit_is_the_same_answer(
        keep in proptest::collection::vec(any::<bool>(), 40),
        firewall in any::<bool>(),
        stale in any::<bool>(),
        prune in any::<bool>(),
        allow in proptest::option::of(proptest::sample::select(vec!["missing-route", "stale-route", "TN107"])),
        max_routes in proptest::sample::select(vec![0usize, 5, 40, 400]),
    ) {
        // A route table as `az network route-table show` writes it: some of the routes `udr`
        // plans for eastus2, perhaps a firewall default route, perhaps a stale route.
        let (snap, info) = tagnet::ops::source::resolve(Some("builtin".as_ref())).unwrap();
        let params = tagnet::ops::udr::UdrParams { regions: vec!["eastus2".into()], ..Default::default() };
        let plan = tagnet::ops::udr::udr(&snap, &info, &params).unwrap().unwrap();
        let mut routes: Vec<Value> = plan
            .routes
            .iter()
            .zip(keep.iter().cycle())
            .filter(|(_, k)| **k)
            .map(|(r, _)| serde_json::json!({"name": r.name, "properties": {"addressPrefix": r.address_prefix, "nextHopType": "Internet"}}))
            .collect();
        if firewall {
            routes.push(serde_json::json!({"name": "fw", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.100.4"}}));
        }
        if stale {
            routes.push(serde_json::json!({"name": "BatchNodeManagement-192.0.2.0_24", "properties": {"addressPrefix": "192.0.2.0/24", "nextHopType": "Internet"}}));
        }
        let table = serde_json::json!({"name": "rt", "routes": routes});
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rt.json");
        std::fs::write(&file, table.to_string()).unwrap();
        let mut args: Vec<String> = [
            "routes", "audit", "--route-table", &file.display().to_string(), "--region", "eastus2",
            "--vnet", "10.1.0.0/16", "--max-routes", &max_routes.to_string(),
        ]
        .map(String::from)
        .to_vec();
        let mut body = serde_json::json!({"route_table": table, "region": "eastus2", "vnet": ["10.1.0.0/16"], "max_routes": max_routes});
        if prune {
            args.push("--prune".into());
            body["prune"] = true.into();
        }
        if let Some(code) = allow {
            args.extend(["--allow".into(), code.into()]);
            body["allow"] = serde_json::json!([code]);
        }
        prop_assert_eq!(cli(&args), post("/v1/routes/audit", &body), "{:?}", args);
    }
}

/// `nsg analyze` of a document holding several NSGs analyses each, in every front end; an ASG
/// with no members is refused by the library.
#[test]
fn analyze_takes_every_nsg_of_a_document_and_empty_asgs_are_refused() {
    let one: Value = serde_json::from_str(NSG).unwrap();
    let mut two = one.clone();
    two["name"] = "nsg-second".into();
    let list = serde_json::json!([one, two]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nsgs.json");
    std::fs::write(&file, list.to_string()).unwrap();
    let args: Vec<String> = [
        "nsg",
        "analyze",
        "--nsg",
        &file.display().to_string(),
        "--vnet",
        "10.0.0.0/16",
        "--asg",
        "web=10.0.1.10",
    ]
    .map(String::from)
    .to_vec();
    let c = cli(&args);
    let s = post(
        "/v1/nsg/analyze",
        &serde_json::json!({"nsg": list, "vnet": ["10.0.0.0/16"], "asgs": {"web": ["10.0.1.10"]}}),
    );
    assert_eq!(c, s);
    match s {
        Said::Doc(d) => {
            let nsgs: std::collections::BTreeSet<&str> = d["records"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["nsg"].as_str())
                .collect();
            assert!(nsgs.contains("nsg-second"), "{d}");
        }
        other => panic!("{other:?}"),
    }
    let empty = post(
        "/v1/nsg/require",
        &serde_json::json!({"nsg": one, "vnet": ["10.0.0.0/16"], "asgs": {"web": []}, "region": "eastus2"}),
    );
    assert!(
        matches!(&empty, Said::Refused(m) if m.contains("no member addresses")),
        "{empty:?}"
    );
}

/// The example folders of `check` (each a network definition, some as ARM or Terraform).
fn check_examples() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/examples");
    let mut out = Vec::new();
    for sub in ["", "as-arm", "as-terraform"] {
        for e in std::fs::read_dir(root.join(sub)).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.ends_with("as-arm") && !p.ends_with("as-terraform") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A folder's `.json` files as `{"path": document}`, named as the CLI names them.
fn documents_of(dir: &std::path::Path) -> Value {
    let mut docs = serde_json::Map::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let doc: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                docs.insert(p.display().to_string(), doc);
            }
        }
    }
    Value::Object(docs)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn check_is_the_same_answer(
        pick in any::<proptest::sample::Index>(),
        on_prem in proptest::option::of(proptest::sample::select(vec!["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/33", "nope"])),
        level in proptest::option::of(proptest::sample::select(vec![("--allow", "allow"), ("--warn", "warn"), ("--deny", "deny")])),
        code in proptest::sample::select(vec!["missing-route", "subnet-too-small", "TN003", "nsg-requirement-unmet", "no-such-code"]),
        profile in proptest::sample::select(vec!["aml-vnet-2020", "AML-VNET-2023", "nope"]),
    ) {
        let all = check_examples();
        let dir = pick.get(&all);
        let mut args: Vec<String> = vec!["check".into(), dir.display().to_string(), "--profile".into(), profile.into()];
        let mut body = serde_json::json!({"documents": documents_of(dir), "profile": profile});
        if let Some(p) = on_prem {
            args.extend(["--on-prem".into(), p.into()]);
            body["on_prem"] = serde_json::json!([p]);
        }
        if let Some((flag, key)) = level {
            args.extend([flag.into(), code.into()]);
            body[key] = serde_json::json!([code]);
        }
        prop_assert_eq!(cli(&args), post("/v1/check", &body), "{:?}", args);
    }
}

/// Flow logs written by `flows synth` (VNet and NSG formats) under an NSG that allows the
/// guidance's inbound flows, on the built-in snapshot: `(folder, {"path": blob})` per format.
fn synth_logs() -> &'static Vec<(std::path::PathBuf, Value)> {
    static L: OnceLock<(tempfile::TempDir, Vec<(std::path::PathBuf, Value)>)> = OnceLock::new();
    &L.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let nsg = dir.path().join("synth-nsg.json");
        std::fs::write(
            &nsg,
            r#"{"name": "ml-nsg", "securityRules": [
  {"name": "AllowBatch", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow",
   "protocol": "Tcp", "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*",
   "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"}}]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        for kind in ["vnet", "nsg-v2"] {
            let d = dir.path().join(kind);
            Command::cargo_bin("tagnet")
                .unwrap()
                .args([
                    "--tags",
                    "builtin",
                    "--quiet",
                    "flows",
                    "synth",
                    "--kind",
                    kind,
                    "--region",
                    "eastus2",
                    "--tuples",
                    "3000",
                    "--vnet",
                    "10.0.0.0/16",
                    "--nsg",
                ])
                .arg(&nsg)
                .arg("--dir")
                .arg(&d)
                .assert()
                .success();
            out.push((d.clone(), documents_of(&d)));
        }
        (dir, out)
    })
    .1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..config() })]

    #[test]
    fn flows_verify_is_the_same_answer(
        kind in 0usize..2,
        nic in any::<bool>(),
        profile in proptest::option::of(proptest::sample::select(vec![("aml-vnet-2020", Some("eastus2")), ("nope", Some("eastus2")), ("aml-vnet-2020", Some("atlantis"))])),
        all in any::<bool>(),
        level in proptest::option::of(proptest::sample::select(vec![("--allow", "allow"), ("--warn", "warn"), ("--deny", "deny")])),
        code in proptest::sample::select(vec!["flow-verdict-drift", "flow-rule-drift", "TN303", "no-such-code"]),
    ) {
        let (dir, blobs) = &synth_logs()[kind];
        let flag = if nic { "--nic-nsg" } else { "--nsg" };
        let mut args: Vec<String> = vec![
            "flows".into(), "verify".into(), dir.display().to_string(), flag.into(),
            nsg_file().display().to_string(), "--vnet".into(), "10.0.0.0/16".into(),
            "--asg".into(), "web=10.0.1.4".into(),
        ];
        let mut body = serde_json::json!({
            "flow_logs": blobs, "vnet": ["10.0.0.0/16"], "asgs": {"web": ["10.0.1.4"]},
            (if nic { "nic_nsg" } else { "nsg" }): serde_json::from_str::<Value>(NSG).unwrap(),
        });
        if let Some((p, region)) = profile {
            args.extend(["--profile".into(), p.into()]);
            body["profile"] = p.into();
            if let Some(r) = region {
                args.extend(["--region".into(), r.into()]);
                body["region"] = r.into();
            }
        }
        if all {
            args.push("--all".into());
            body["all"] = true.into();
        }
        if let Some((flag, key)) = level {
            args.extend([flag.into(), code.into()]);
            body[key] = serde_json::json!([code]);
        }
        let said = cli(&args);
        if profile.is_none() && level.is_none() {
            let Said::Doc(d) = &said else { panic!("{args:?}: {said:?}") };
            prop_assert!(d["summary"]["tuples"].as_u64().unwrap() > 0);
            if kind == 0 {
                // VNet flow logs name their NSG by an aclID the file given does not carry (no
                // resourceGuid): judged against it, and it is another NSG than the one that
                // logged them: there are drifts to compare.
                prop_assert!(!d["records"].as_array().unwrap().is_empty());
            } else {
                // NSG flow logs name their NSG (`…/NETWORKSECURITYGROUPS/ML-NSG`), which is not
                // the one given: counted as unmatched, not judged.
                prop_assert!(d["summary"]["unmatched"].as_u64().unwrap() > 0);
                prop_assert!(d["records"].as_array().unwrap().is_empty());
            }
        }
        prop_assert_eq!(said, post("/v1/flows/verify", &body), "{:?}", args);
    }
}

/// An earlier week made from the built-in snapshot: some tags dropped, some prefixes of others
/// dropped or added, a lower changeNumber. Written to a file for the CLI.
fn earlier_snapshot() -> &'static (tempfile::TempPath, Vec<u8>) {
    static E: OnceLock<(tempfile::TempPath, Vec<u8>)> = OnceLock::new();
    E.get_or_init(|| {
        let b = tagnet::load::builtin::bytes().unwrap();
        let mut doc: Value = serde_json::from_slice(&b).unwrap();
        doc["changeNumber"] = (doc["changeNumber"].as_u64().unwrap() - 1).into();
        let values = doc["values"].as_array_mut().unwrap();
        let mut i = 0;
        values.retain(|_| {
            i += 1;
            i % 41 != 0
        });
        for (k, v) in values.iter_mut().enumerate() {
            let prefixes = v["properties"]["addressPrefixes"].as_array_mut().unwrap();
            if k % 7 == 0 && prefixes.len() > 1 {
                prefixes.pop();
            }
            if k % 11 == 0 {
                prefixes.push("198.51.100.0/24".into());
            }
        }
        let bytes = serde_json::to_vec(&doc).unwrap();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, &bytes).unwrap();
        (f.into_temp_path(), bytes)
    })
}

fn post_bytes(path: &str, body: Vec<u8>) -> Said {
    let r = http()
        .post(format!("{}{path}", server().base))
        .body(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_ne!(status, 500, "{path}: {body}");
    if status == 200 {
        Said::Doc(body)
    } else {
        Said::Refused(normalize(body["error"]["message"].as_str().unwrap()))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..config() })]

    #[test]
    fn diff_is_the_same_answer(
        tags in proptest::collection::vec(proptest::sample::select(vec!["Storage", "AzureMachineLearning", "Batch*", "NoSuchTag", "AzureCloud.eastus2"]), 0..2),
        regions in proptest::collection::vec(proptest::sample::select(REGIONS.to_vec()), 0..2),
        service in proptest::option::of(proptest::sample::select(vec!["AzureStorage", "nope"])),
    ) {
        let (file, bytes) = earlier_snapshot();
        let mut args: Vec<String> = vec!["diff".into(), file.display().to_string(), "builtin".into()];
        let mut query = Vec::new();
        for t in &tags {
            args.extend(["--tag".into(), t.to_string()]);
            query.push(format!("tag={}", q(t)));
        }
        if !regions.is_empty() {
            args.extend(["--region".into(), regions.join(",")]);
            query.push(format!("region={}", q(&regions.join(","))));
        }
        if let Some(s) = service {
            args.extend(["--service".into(), s.into()]);
            query.push(format!("service={s}"));
        }
        let mut want = cli(&args);
        let mut got = post_bytes(&format!("/v1/diff?{}", query.join("&")), bytes.clone());
        // The old side is named by where it came from: a file for the CLI, the request's body
        // for the server.
        for said in [&mut want, &mut got] {
            if let Said::Doc(d) = said {
                d["old"]["source"] = Value::Null;
            }
        }
        if tags.is_empty() && regions.is_empty() && service.is_none() {
            let Said::Doc(d) = &want else { panic!("{want:?}") };
            prop_assert!(!d["tags"].as_array().unwrap().is_empty());
            prop_assert!(!d["tags_added"].as_array().unwrap().is_empty());
        }
        prop_assert_eq!(want, got, "{:?}", args);
    }
}

/// `info` and `regions` answer alike.
#[test]
fn info_and_regions_are_the_same_answer() {
    for (args, path) in [(["info"], "/v1/info"), (["regions"], "/v1/regions")] {
        let args: Vec<String> = args.map(String::from).to_vec();
        let want = cli(&args);
        let Said::Doc(d) = &want else {
            panic!("{want:?}")
        };
        assert!(d["snapshot"]["change_number"].as_u64().unwrap() > 0);
        assert_eq!(want, get(path), "{path}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..config() })]

    #[test]
    fn flows_summary_is_the_same_answer(
        kind in 0usize..2,
        carried in proptest::option::of(proptest::sample::select(vec![("aml-vnet-2020", "eastus2"), ("nope", "eastus2"), ("aml-vnet-2020", "atlantis")])),
        top in proptest::sample::select(vec![0usize, 3, 10]),
    ) {
        let (dir, blobs) = &synth_logs()[kind];
        let mut args: Vec<String> = vec![
            "flows".into(), "attribute".into(), "--summary".into(), dir.display().to_string(),
            "--top".into(), top.to_string(),
        ];
        let mut body = serde_json::json!({"flow_logs": blobs, "top": top});
        if let Some((p, r)) = carried {
            args.extend(["--profile".into(), p.into(), "--region".into(), r.into()]);
            body["profile"] = p.into();
            body["region"] = r.into();
        }
        let said = cli(&args);
        if carried.is_none() {
            let Said::Doc(d) = &said else { panic!("{args:?}: {said:?}") };
            prop_assert!(d["tuples"].as_u64().unwrap() > 0);
            prop_assert_eq!(d["top_talkers"].as_array().unwrap().len(), top);
        }
        prop_assert_eq!(said, post("/v1/flows/summary", &body), "{:?}", args);
    }
}

/// The earlier snapshot gzip-compressed (as kept in archives) is read by the server's
/// `/v1/diff` and by the command alike; an unknown query parameter is a 400.
#[test]
fn a_gzip_snapshot_is_read_everywhere() {
    use std::io::Write as _;
    let (_, bytes) = earlier_snapshot();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ServiceTags_Public_20261130.json.gz");
    std::fs::write(&file, &gz).unwrap();
    let mut want = cli(&[
        "diff".into(),
        file.display().to_string(),
        "builtin".into(),
        "--region".into(),
        "eastus2".into(),
    ]);
    let mut got = post_bytes("/v1/diff?region=eastus2", gz);
    for said in [&mut want, &mut got] {
        let Said::Doc(d) = said else {
            panic!("{said:?}")
        };
        d["old"]["source"] = Value::Null;
    }
    assert_eq!(want, got);
    let r = http()
        .get(format!("{}/v1/info?x=1", server().base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// `region` belongs to a profile: alone it is refused by every front end (the CLI's clap
/// says so for `flows attribute`; the library for the server and Python).
#[test]
fn a_region_without_a_profile_is_refused() {
    let (_, blobs) = &synth_logs()[0];
    for path in ["/v1/flows/summary", "/v1/flows/verify"] {
        let mut body = serde_json::json!({"flow_logs": blobs, "region": "eastus2"});
        if path.ends_with("verify") {
            body["nsg"] = serde_json::from_str::<Value>(NSG).unwrap();
        }
        let Said::Refused(m) = post(path, &body) else {
            panic!("{path}")
        };
        assert!(m.contains("region") && m.contains("profile"), "{m}");
    }
}

/// `nsg reach` of Tcp or Udp needs a port (it read as port 0 before); Icmp does not.
#[test]
fn reach_needs_a_port_for_tcp_and_udp() {
    let nsg = nsg_file().display().to_string();
    for (protocol, refused) in [("tcp", true), ("Udp", true), ("icmp", false)] {
        let args: Vec<String> = [
            "nsg",
            "reach",
            "--nsg",
            &nsg,
            "--vnet",
            "10.0.0.0/16",
            "--asg",
            "web=10.0.1.4",
            "--direction",
            "inbound",
            "--protocol",
            protocol,
        ]
        .map(String::from)
        .to_vec();
        let body = serde_json::json!({"nsg": serde_json::from_str::<Value>(NSG).unwrap(), "vnet": ["10.0.0.0/16"], "asgs": {"web": ["10.0.1.4"]}, "direction": "inbound", "protocol": protocol});
        let want = cli(&args);
        assert_eq!(
            matches!(&want, Said::Refused(m) if m.contains("port is needed")),
            refused,
            "{want:?}"
        );
        assert_eq!(want, post("/v1/nsg/reach", &body));
    }
}

/// A region the newer week retired stays a region for `diff --route-table`: its routes are
/// stale, `--prune` deletes them, and the report names the retired region — in the CLI and
/// in Python's `Index.diff` alike (both call `ops::diff`).
#[test]
fn a_retired_region_is_cleaned_up() {
    let b = tagnet::load::builtin::bytes().unwrap();
    let mut doc: Value = serde_json::from_slice(&b).unwrap();
    doc["changeNumber"] = (doc["changeNumber"].as_u64().unwrap() + 1).into();
    doc["values"].as_array_mut().unwrap().retain(|v| {
        // France South (`southfrance`, tags named `….FranceSouth`) gone whole.
        let region = v["properties"]["region"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = v["name"].as_str().unwrap_or("").to_ascii_lowercase();
        !["francesouth", "southfrance"]
            .iter()
            .any(|r| region == *r || name.ends_with(&format!(".{r}")))
    });
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("ServiceTags_Public_20261207.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let plan = cli(&["udr".into(), "--region".into(), "francesouth".into()]);
    let Said::Doc(plan) = plan else {
        panic!("{plan:?}")
    };
    let routes: Vec<Value> = plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::json!({"name": r["name"], "properties": {"addressPrefix": r["address_prefix"], "nextHopType": "Internet"}}))
        .collect();
    assert!(!routes.is_empty());
    let rt = dir.path().join("rt.json");
    std::fs::write(
        &rt,
        serde_json::json!({"name": "rt", "routes": routes}).to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["-q", "--format", "json", "diff", "builtin"])
        .arg(&new)
        .arg("--route-table")
        .arg(&rt)
        .args(["--region", "francesouth", "--prune"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["impact"]["retired_regions"],
        serde_json::json!(["southfrance"])
    );
    let codes: Vec<&str> = v["impact"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"stale-route"), "{codes:?}");
    let plan = v["impact"]["plan"].as_str().unwrap();
    let deletes = plan
        .split("DELETES='")
        .nth(1)
        .and_then(|d| d.split('\'').next())
        .unwrap_or("");
    for r in &routes {
        assert!(deletes.contains(r["name"].as_str().unwrap()), "{plan}");
    }
    // `routes audit --previous` keeps the retired region too, and deletes the same routes.
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["-q", "--format", "json", "--tags"])
        .arg(&new)
        .args(["routes", "audit", "--route-table"])
        .arg(&rt)
        .args([
            "--region",
            "francesouth",
            "--previous",
            "builtin",
            "--prune",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut deleted: Vec<&str> = v["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = routes.iter().map(|r| r["name"].as_str().unwrap()).collect();
    deleted.sort();
    want.sort();
    assert_eq!(deleted, want);
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "-q keeps notes off stderr"
    );
}
