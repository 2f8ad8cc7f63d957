//! NSG engine: the compiled evaluator against the naive first-match oracle, Azure's documented
//! default behaviour, loading every shape and every kind of bad input, and `nsg verify`.

use super::common::example;
use assert_cmd::Command;
use ipnet::IpNet;
use predicates::prelude::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::net::IpAddr;
use tagnet::nsg::eval::{Context, verdict_naive};
use tagnet::nsg::model::{Access, Address, Direction, Flow, Nsg, Ports, Protocol, Rule};

fn snap() -> tagnet::Snapshot {
    tagnet::load::load_path(&example()).unwrap()
}

fn ctx(s: &tagnet::Snapshot) -> Context<'_> {
    Context {
        snapshot: s,
        vnet: vec!["10.1.0.0/16".parse().unwrap(), "fd00::/48".parse().unwrap()],
        asgs: BTreeMap::from([(
            "web".to_string(),
            vec!["10.1.0.4".parse().unwrap(), "10.1.0.5".parse().unwrap()],
        )]),
    }
}

fn nsg(name: &str, rules: Vec<Rule>) -> Nsg {
    let mut all = rules;
    all.extend(tagnet::nsg::read::default_rules());
    all.sort_by_key(|r| (r.direction, r.priority));
    Nsg {
        name: name.into(),
        rules: all,
        ..Default::default()
    }
}

const ADDRESSES: [&str; 12] = [
    "10.1.0.4",
    "10.1.0.5",
    "10.1.2.3",
    "192.0.2.20",
    "192.0.2.70",
    "198.51.100.7",
    "203.0.113.9",
    "168.63.129.16",
    "8.8.8.8",
    "fd00::1",
    "2001:db8:1000::5",
    "255.255.255.255",
];

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        Just(Address::Any),
        Just(Address::Tag("BatchNodeManagement".into())),
        Just(Address::Tag("Storage.EastUS2".into())),
        Just(Address::Tag("AzureCloud".into())),
        Just(Address::Tag("VirtualNetwork".into())),
        Just(Address::Tag("Internet".into())),
        Just(Address::Tag("AzureLoadBalancer".into())),
        Just(Address::Asgs(vec!["web".into()])),
        proptest::collection::vec(
            prop_oneof![
                (0u32..256, 16u8..=32).prop_map(|(h, l)| IpNet::V4(
                    ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0x0A01_0000 | (h << 8)), l)
                        .unwrap()
                )
                .trunc()),
                (0u32..256, 24u8..=32).prop_map(|(h, l)| IpNet::V4(
                    ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0xC000_0200 | h), l).unwrap()
                )
                .trunc()),
                Just("fd00::/64".parse::<IpNet>().unwrap()),
                Just("0.0.0.0/1".parse::<IpNet>().unwrap()),
            ],
            1..3
        )
        .prop_map(Address::Prefixes),
    ]
}

fn ports() -> impl Strategy<Value = Ports> {
    prop_oneof![
        Just(Ports::any()),
        Just(Ports::from_ranges(vec![(0, 0)])),
        Just(Ports::from_ranges(vec![(65535, 65535)])),
        (0u16..2000, 0u16..100)
            .prop_map(|(a, w)| Ports::from_ranges(vec![(a, a.saturating_add(w))])),
        Just(Ports::from_ranges(vec![
            (22, 22),
            (443, 445),
            (29876, 29877)
        ])),
    ]
}

fn rule(i: usize) -> impl Strategy<Value = Rule> {
    (
        prop_oneof![Just(Direction::Inbound), Just(Direction::Outbound)],
        prop_oneof![Just(Access::Allow), Just(Access::Deny)],
        prop_oneof![
            Just(Protocol::Any),
            Just(Protocol::Tcp),
            Just(Protocol::Udp),
            Just(Protocol::Icmp),
            Just(Protocol::Esp),
            Just(Protocol::Ah)
        ],
        address(),
        ports(),
        address(),
        ports(),
    )
        .prop_map(
            move |(
                direction,
                access,
                protocol,
                source,
                source_ports,
                destination,
                destination_ports,
            )| Rule {
                name: format!("r{i}"),
                priority: 100 + i as u32,
                direction,
                access,
                protocol,
                source,
                source_ports,
                destination,
                destination_ports,
                default: false,
            },
        )
}

fn rules(max: usize) -> impl Strategy<Value = Vec<Rule>> {
    (0..max).prop_flat_map(|n| (0..n).map(rule).collect::<Vec<_>>())
}

fn flow() -> impl Strategy<Value = Flow> {
    (
        prop_oneof![Just(Direction::Inbound), Just(Direction::Outbound)],
        prop_oneof![
            Just(Protocol::Tcp),
            Just(Protocol::Udp),
            Just(Protocol::Icmp),
            Just(Protocol::Esp),
            Just(Protocol::Ah)
        ],
        0..ADDRESSES.len(),
        prop_oneof![
            Just(0u16),
            Just(65535u16),
            Just(22),
            Just(443),
            Just(29876),
            0u16..2100
        ],
        0..ADDRESSES.len(),
        prop_oneof![Just(0u16), Just(65535u16), 0u16..2100],
    )
        .prop_map(|(direction, protocol, l, lp, r, rp)| Flow {
            direction,
            protocol,
            local_ip: ADDRESSES[l].parse().unwrap(),
            local_port: lp,
            remote_ip: ADDRESSES[r].parse().unwrap(),
            remote_port: rp,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The compiled evaluator gives the naive first-match answer, for one NSG and for subnet
    /// and NIC chains, on every flow.
    #[test]
    fn compiled_equals_naive(subnet in rules(12), nic in rules(8), use_nic in any::<bool>(), flows in proptest::collection::vec(flow(), 1..60)) {
        let s = snap();
        let c = ctx(&s);
        let rs = c.resolve(&nsg("subnet", subnet)).unwrap();
        let rn = c.resolve(&nsg("nic", nic)).unwrap();
        let (cs, cn) = (tagnet::nsg::compile(&rs), tagnet::nsg::compile(&rn));
        let nic_r = use_nic.then_some(&rn);
        let nic_c = use_nic.then_some(&cn);
        let (us, un) = (tagnet::nsg::compile(&rs).without_cross(), tagnet::nsg::compile(&rn).without_cross());
        prop_assert!(cs.crossed() && !us.crossed());
        let nic_u = use_nic.then_some(&un);
        for f in &flows {
            let want = verdict_naive(Some(&rs), nic_r, f);
            prop_assert_eq!(&tagnet::nsg::verdict(Some(&cs), nic_c, f), &want, "{:?}", f);
            prop_assert_eq!(&tagnet::nsg::verdict(Some(&us), nic_u, f), &want, "uncrossed {:?}", f);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The exact allowed set of `reach` holds an address exactly when the flow to it is
    /// allowed, for one NSG and for chains.
    #[test]
    fn reach_equals_per_flow_verdicts(subnet in rules(10), nic in rules(6), use_nic in any::<bool>(), flows in proptest::collection::vec(flow(), 1..40)) {
        let s = snap();
        let c = ctx(&s);
        let rs = c.resolve(&nsg("subnet", subnet)).unwrap();
        let rn = c.resolve(&nsg("nic", nic)).unwrap();
        let nic_r = use_nic.then_some(&rn);
        let everything = tagnet::prefixset::PrefixSet::from_prefixes(["0.0.0.0/0".parse::<IpNet>().unwrap(), "::/0".parse::<IpNet>().unwrap()]);
        for f in &flows {
            let set = tagnet::nsg::reach::allowed_chain(Some(&rs), nic_r, f.direction, f.protocol, f.local_ip, f.local_port, f.remote_port, &everything);
            let inside = !set.intersection(&tagnet::prefixset::PrefixSet::from_prefixes([IpNet::from(f.remote_ip)])).is_empty();
            prop_assert_eq!(inside, verdict_naive(Some(&rs), nic_r, f).access == Access::Allow, "{:?}", f);
        }
    }
}

#[test]
fn require_names_the_missing_44224_rule_with_a_counterexample() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nsg.json");
    std::fs::write(&file, r#"{"name": "aml", "securityRules": [
        {"name": "BatchIn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*", "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "29876-29877"}]}"#).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .arg("--tags")
        .arg(example())
        .args([
            "nsg",
            "require",
            "--vnet",
            "10.1.0.0/16",
            "--region",
            "eastus2",
            "--format",
            "json",
            "-q",
            "--nsg",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reqs = doc["requirements"].as_array().unwrap();
    let batch = reqs
        .iter()
        .find(|r| r["tag"] == "BatchNodeManagement.EastUS2")
        .unwrap();
    assert_eq!(batch["verdict"], "met");
    let aml = reqs
        .iter()
        .find(|r| r["tag"] == "AzureMachineLearning" && r["requirement"]["direction"] == "Inbound")
        .unwrap();
    assert_eq!(aml["verdict"], "not-met");
    let ce = aml["counterexample"].as_str().unwrap();
    // Source first: the remote end, then the compute's address and the required port.
    assert!(ce.ends_with("-> 10.1.0.4:44224"), "{ce}");
    let ip: IpAddr = ce
        .split(" -> ")
        .next()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .0
        .trim_matches(['[', ']'])
        .parse()
        .unwrap();
    let s = snap();
    let t = s.tag(s.tag_by_name("AzureMachineLearning").unwrap());
    assert!(
        t.v4().iter().any(|n| IpNet::V4(*n).contains(&ip))
            || t.v6().iter().any(|n| IpNet::V6(*n).contains(&ip)),
        "{ce} is an AzureMachineLearning address"
    );
    assert!(
        aml["blocked_by"]
            .as_str()
            .unwrap()
            .contains("DenyAllInBound")
    );
    // Partly met: only one of the region's Batch prefixes allowed.
    std::fs::write(&file, r#"{"name": "aml", "securityRules": [
        {"name": "BatchIn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "192.0.2.16/28", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"},
        {"name": "AmlIn", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "44224"}]}"#).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .arg("--tags")
        .arg(example())
        .args([
            "nsg",
            "require",
            "--vnet",
            "10.1.0.0/16",
            "--region",
            "eastus2",
            "--format",
            "json",
            "-q",
            "--nsg",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reqs = doc["requirements"].as_array().unwrap();
    assert_eq!(
        reqs.iter()
            .find(|r| r["tag"] == "BatchNodeManagement.EastUS2")
            .unwrap()["verdict"],
        "partly-met"
    );
    assert_eq!(
        reqs.iter()
            .find(|r| r["tag"] == "AzureMachineLearning"
                && r["requirement"]["direction"] == "Inbound")
            .unwrap()["verdict"],
        "met"
    );
    // reach: the allowed remote addresses for 29876 are one of BatchNodeManagement.EastUS2's
    // prefixes and the VNet's.
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .arg("--tags")
        .arg(example())
        .args([
            "nsg",
            "reach",
            "--vnet",
            "10.1.0.0/16",
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--port",
            "29876",
            "--format",
            "json",
            "-q",
            "--nsg",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags: Vec<(&str, &str)> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tag"].as_str().unwrap(), t["coverage"].as_str().unwrap()))
        .collect();
    assert!(
        tags.contains(&("BatchNodeManagement.EastUS2", "partly")),
        "{tags:?}"
    );
}

#[test]
fn compiled_equals_naive_on_many_flows_and_a_large_rule_set() {
    let s = snap();
    let c = ctx(&s);
    let mut rng = super::common::Rng(0x9E37_79B9_7F4A_7C15);
    let mut rules = Vec::new();
    for i in 0..1000usize {
        let net = |rng: &mut super::common::Rng| -> Address {
            match rng.below(5) {
                0 => Address::Any,
                1 => Address::Tag(
                    [
                        "AzureCloud",
                        "Storage",
                        "BatchNodeManagement.EastUS2",
                        "Internet",
                        "VirtualNetwork",
                    ][rng.below(5)]
                    .into(),
                ),
                _ => Address::Prefixes(vec![
                    IpNet::V4(
                        ipnet::Ipv4Net::new(
                            std::net::Ipv4Addr::from(rng.next() as u32),
                            8 + rng.below(25) as u8,
                        )
                        .unwrap(),
                    )
                    .trunc(),
                ]),
            }
        };
        let p = |rng: &mut super::common::Rng| -> Ports {
            if rng.below(3) == 0 {
                Ports::any()
            } else {
                let a = rng.below(65535) as u16;
                Ports::from_ranges(vec![(a, a.saturating_add(rng.below(500) as u16))])
            }
        };
        rules.push(Rule {
            name: format!("r{i}"),
            priority: 100 + i as u32,
            direction: if rng.below(2) == 0 {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            access: if rng.below(2) == 0 {
                Access::Allow
            } else {
                Access::Deny
            },
            protocol: [Protocol::Any, Protocol::Tcp, Protocol::Udp][rng.below(3)],
            source: net(&mut rng),
            source_ports: p(&mut rng),
            destination: net(&mut rng),
            destination_ports: p(&mut rng),
            default: false,
        });
    }
    let r = c.resolve(&nsg("big", rules)).unwrap();
    let compiled = tagnet::nsg::compile(&r);
    println!("crossed port table: {}", compiled.crossed());
    // Two million flows against 1,000 rules: the compiled evaluator gives the oracle's answer
    // on every one.
    for _ in 0..2_000_000 {
        let ip = |rng: &mut super::common::Rng| -> IpAddr {
            if rng.below(4) == 0 {
                ADDRESSES[rng.below(ADDRESSES.len())].parse().unwrap()
            } else {
                IpAddr::V4((rng.next() as u32).into())
            }
        };
        let f = Flow {
            direction: if rng.below(2) == 0 {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Icmp][rng.below(3)],
            local_ip: ip(&mut rng),
            local_port: rng.below(65536) as u16,
            remote_ip: ip(&mut rng),
            remote_port: rng.below(65536) as u16,
        };
        assert_eq!(
            tagnet::nsg::verdict(Some(&compiled), None, &f),
            verdict_naive(Some(&r), None, &f),
            "{f:?}"
        );
    }
}

fn one(f: &str) -> Flow {
    let p: Vec<&str> = f.split(',').collect();
    Flow {
        direction: Direction::parse(p[0]).unwrap(),
        protocol: Protocol::parse(p[1]).unwrap(),
        local_ip: p[2].parse().unwrap(),
        local_port: p[3].parse().unwrap(),
        remote_ip: p[4].parse().unwrap(),
        remote_port: p[5].parse().unwrap(),
    }
}

#[test]
fn microsofts_documented_default_behaviour() {
    let s = snap();
    let c = ctx(&s);
    let empty = c.resolve(&nsg("empty", Vec::new())).unwrap();
    let compiled = tagnet::nsg::compile(&empty);
    for (flow, access, rule) in [
        (
            "inbound,tcp,10.1.0.4,22,10.1.2.3,5000",
            Access::Allow,
            "defaultSecurityRules/AllowVnetInBound",
        ),
        (
            "inbound,tcp,10.1.0.4,22,8.8.8.8,5000",
            Access::Deny,
            "defaultSecurityRules/DenyAllInBound",
        ),
        (
            "inbound,tcp,10.1.0.4,80,168.63.129.16,5000",
            Access::Allow,
            "defaultSecurityRules/AllowAzureLoadBalancerInBound",
        ),
        (
            "outbound,tcp,10.1.0.4,5000,8.8.8.8,443",
            Access::Allow,
            "defaultSecurityRules/AllowInternetOutBound",
        ),
        (
            "outbound,udp,10.1.0.4,5000,10.1.9.9,53",
            Access::Allow,
            "defaultSecurityRules/AllowVnetOutBound",
        ),
    ] {
        let v = tagnet::nsg::verdict(Some(&compiled), None, &one(flow));
        assert_eq!((v.access, v.rule.as_str()), (access, rule), "{flow}");
    }
    // No NSG at all: allowed.
    assert_eq!(
        tagnet::nsg::verdict(None, None, &one("inbound,tcp,10.1.0.4,22,8.8.8.8,5000")).access,
        Access::Allow
    );
    // Inbound meets the subnet NSG first, outbound the NIC NSG first; both must allow.
    let deny_in = c
        .resolve(&nsg(
            "subnet",
            vec![Rule {
                name: "deny22".into(),
                priority: 100,
                direction: Direction::Inbound,
                access: Access::Deny,
                protocol: Protocol::Tcp,
                source: Address::Any,
                source_ports: Ports::any(),
                destination: Address::Any,
                destination_ports: Ports::from_ranges(vec![(22, 22)]),
                default: false,
            }],
        ))
        .unwrap();
    let allow_all = c
        .resolve(&nsg(
            "nic",
            vec![Rule {
                name: "any".into(),
                priority: 100,
                direction: Direction::Inbound,
                access: Access::Allow,
                protocol: Protocol::Any,
                source: Address::Any,
                source_ports: Ports::any(),
                destination: Address::Any,
                destination_ports: Ports::any(),
                default: false,
            }],
        ))
        .unwrap();
    let (cs, cn) = (
        tagnet::nsg::compile(&deny_in),
        tagnet::nsg::compile(&allow_all),
    );
    let v = tagnet::nsg::verdict(
        Some(&cs),
        Some(&cn),
        &one("inbound,tcp,10.1.0.4,22,8.8.8.8,5000"),
    );
    assert_eq!(
        (v.access, v.nsg.as_str(), v.rule.as_str()),
        (Access::Deny, "subnet", "securityRules/deny22")
    );
    let v = tagnet::nsg::verdict(
        Some(&cs),
        Some(&cn),
        &one("inbound,tcp,10.1.0.4,80,8.8.8.8,5000"),
    );
    assert_eq!(
        (v.access, v.nsg.as_str()),
        (Access::Deny, "subnet"),
        "the subnet's DenyAllInBound"
    );
    // ICMP ignores ports.
    let v = tagnet::nsg::verdict(
        Some(&cs),
        Some(&cn),
        &one("inbound,icmp,10.1.0.4,22,10.1.0.9,0"),
    );
    assert_eq!(v.access, Access::Allow);
}

fn parse(text: &str) -> Result<Vec<Nsg>, String> {
    tagnet::nsg::read::parse(text.as_bytes(), "t.json").map_err(|e| e.to_string())
}

#[test]
fn every_shape_loads_the_same_rules() {
    let flat = r#"{"name": "n", "securityRules": [{"name": "a", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "tcp",
        "sourceAddressPrefixes": ["10.0.0.0/8", "192.0.2.1"], "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRanges": ["443", "8000-8080"]}]}"#;
    let rest = r#"{"name": "n", "properties": {"securityRules": [{"name": "a", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefixes": ["10.0.0.0/8", "192.0.2.1"], "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRanges": ["443", "8000-8080"]}}]}}"#;
    let arm_child = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {}},
        {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "n/a", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefixes": ["10.0.0.0/8", "192.0.2.1"], "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRanges": ["443", "8000-8080"]}}]}"#;
    let a = parse(flat).unwrap();
    assert_eq!(a, parse(rest).unwrap());
    assert_eq!(a, parse(arm_child).unwrap());
    assert_eq!(a[0].rules.len(), 7, "one rule and the six default rules");
    assert_eq!(
        parse(&format!("[{flat}, {}]", flat.replace("\"n\"", "\"m\"")))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        parse(&format!("{{\"value\": [{rest}]}}")).unwrap(),
        a,
        "the REST list shape"
    );
    let rules_only = r#"[{"name": "a", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp"}]"#;
    assert!(
        parse(rules_only)
            .unwrap_err()
            .contains("az network nsg rule list")
    );
    assert!(parse("[]").unwrap_err().contains("holds no NSG"));
}

#[test]
fn bad_nsgs_are_clear_errors() {
    let rule = |extra: &str| {
        format!(
            r#"{{"name": "n", "securityRules": [{{"name": "a", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "*" {extra}}}]}}"#
        )
    };
    for (text, message) in [
        (rule(r#", "priority": 50"#), "priority 50 is outside 100–4096"),
        (rule(r#", "destinationPortRange": "90-80""#), "reversed"),
        (rule(r#", "destinationPortRange": "70000""#), "not a port"),
        (rule(r#", "protocol": "Gre""#), "not one of Tcp"),
        (rule(r#", "sourceAddressPrefixes": ["Storage", "AzureCloud"], "sourceAddressPrefix": """#), "2 service tags"),
        (rule(r#", "sourceAddressPrefix": "10.0.0.300/24""#), "invalid source prefix"),
        (rule(r#", "priority": "[parameters('p')]""#), "cannot evaluate"),
        (r#"{"name": "n", "securityRules": [{"name": "a", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "*"}, {"name": "b", "priority": 100, "direction": "Inbound", "access": "Deny", "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "*"}]}"#.to_string(), "share priority 100"),
        (rule(r#", "sourceAddressPrefix": "", "sourceAddressPrefixs": ["203.0.113.0/24"]"#), "has no source address"),
        (rule(r#", "destinationPortRange": """#), "has no destination port"),
        (rule(r#", "sourceAddressPrefix": "8.8.8.0-8.8.8.20""#), "address ranges are not allowed"),
        ("{".to_string(), "line 1"),
    ] {
        let err = parse(&text).unwrap_err();
        assert!(err.contains(message), "{message}: {err}");
        assert!(err.contains("NSG `n`") || message == "line 1", "{err}");
    }
    // An unknown tag has suggestions; an ASG needs its members.
    let s = snap();
    let c = ctx(&s);
    let n = parse(&rule(r#", "sourceAddressPrefix": "Storag.EastUS2""#)).unwrap();
    let err = c.resolve(&n[0]).unwrap_err().to_string();
    assert!(
        err.contains("did you mean") && err.contains("Storage.EastUS2"),
        "{err}"
    );
    let n = parse(&rule(r#", "sourceApplicationSecurityGroups": [{"id": "/subscriptions/x/applicationSecurityGroups/db"}]"#)).unwrap();
    // The library names the request's field; the command line spells it `--asg`.
    let err = c.resolve(&n[0]).unwrap_err().spelled(&|f: &str| {
        if f == "asgs" {
            "--asg".into()
        } else {
            format!("--{f}")
        }
    });
    assert!(err.contains("--asg db="), "{err}");
}

#[test]
fn nsg_verify_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nsg.json");
    std::fs::write(&file, r#"{"name": "aml", "securityRules": [
        {"name": "BatchIn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"}]}"#).unwrap();
    let tagnet = || {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS")
            .arg("--tags")
            .arg(example())
            .args(["nsg", "verify", "--vnet", "10.1.0.0/16", "--nsg"])
            .arg(&file);
        c
    };
    tagnet()
        .args([
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.1.0.4:29876",
            "--remote",
            "192.0.2.20:1000",
            "--format",
            "ndjson",
            "-q",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            r#""access":"Allow","nsg":"aml","rule":"securityRules/BatchIn""#,
        ));
    tagnet()
        .args([
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.1.0.4:44224",
            "--remote",
            "192.0.2.20:1000",
            "-q",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "defaultSecurityRules/DenyAllInBound",
        ));
    tagnet()
        .args(["--flows", "-", "--format", "csv", "-q", "--skip-bad"])
        .write_stdin("direction,protocol,local_ip,local_port,remote_ip,remote_port\noutbound,tcp,10.1.0.4,5000,8.8.8.8,443\nnot a flow\ninbound,udp,10.1.0.4,53,10.1.3.3,5000\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Allow,aml,defaultSecurityRules/AllowInternetOutBound").and(predicate::str::contains("AllowVnetInBound")))
        .stderr(predicate::str::contains("<stdin>:3:"));
    // Without --skip-bad, a bad line refuses the run before any verdict is written, from
    // standard input too (kept aside and read twice, as a file is).
    let lines = "direction,protocol,local_ip,local_port,remote_ip,remote_port\noutbound,tcp,10.1.0.4,5000,8.8.8.8,443\nnot a flow\ninbound,udp,10.1.0.4,53,10.1.3.3,5000\n";
    tagnet()
        .args(["--flows", "-", "--format", "json", "-q"])
        .write_stdin(lines)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "<stdin>: 1 of 3 flow lines could not be read (the first: line 3:",
        ));
    // A gzip of the lines reads as the lines do, in every format.
    let plain = dir.path().join("flows.csv");
    let good: String = lines
        .lines()
        .filter(|l| *l != "not a flow")
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&plain, &good).unwrap();
    let gz = dir.path().join("flows.csv.gz");
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, good.as_bytes()).unwrap();
    std::fs::write(&gz, z.finish().unwrap()).unwrap();
    for format in ["table", "json", "ndjson", "csv"] {
        let run = |f: &std::path::Path| {
            tagnet()
                .arg("--flows")
                .arg(f)
                .args(["--format", format, "-q"])
                .output()
                .unwrap()
        };
        let (a, b) = (run(&plain), run(&gz));
        assert_eq!(
            a.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(a.stdout, b.stdout, "{format}");
        assert!(
            String::from_utf8_lossy(&a.stdout).contains("AllowVnetInBound"),
            "{format}"
        );
    }
    // UTF-16 (what Windows PowerShell's `>` writes) is refused with the fix.
    let utf16 = dir.path().join("flows16.csv");
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(good.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&utf16, bytes).unwrap();
    tagnet()
        .arg("--flows")
        .arg(&utf16)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("UTF-16"));
    tagnet()
        .args([
            "--direction",
            "sideways",
            "--protocol",
            "tcp",
            "--local",
            "10.1.0.4",
            "--remote",
            "8.8.8.8",
        ])
        .assert()
        .code(2);
}

fn block_address() -> impl Strategy<Value = Address> {
    prop_oneof![
        1 => Just(Address::Any),
        4 => proptest::collection::btree_set(0u32..4, 1..4).prop_map(|blocks| Address::Prefixes(
            blocks.into_iter().map(|b| IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0x0A00_0000 | (b << 6)), 26).unwrap())).collect()
        )),
    ]
}

fn block_ports() -> impl Strategy<Value = Ports> {
    prop_oneof![
        Just(Ports::any()),
        proptest::collection::btree_set(0usize..3, 1..3).prop_map(|s| Ports::from_ranges(
            s.into_iter()
                .map(|i| [(0u16, 99u16), (100, 199), (200, 65535)][i])
                .collect()
        )),
    ]
}

fn block_rules() -> impl Strategy<Value = Vec<Rule>> {
    proptest::collection::vec(
        (
            prop_oneof![Just(Direction::Inbound), Just(Direction::Outbound)],
            prop_oneof![Just(Access::Allow), Just(Access::Deny)],
            prop_oneof![
                Just(Protocol::Any),
                Just(Protocol::Tcp),
                Just(Protocol::Udp),
                Just(Protocol::Icmp)
            ],
            block_address(),
            block_ports(),
            block_address(),
            block_ports(),
        ),
        1..7,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(
                |(
                    i,
                    (
                        direction,
                        access,
                        protocol,
                        source,
                        source_ports,
                        destination,
                        destination_ports,
                    ),
                )| Rule {
                    name: format!("r{i}"),
                    priority: 100 + i as u32,
                    direction,
                    access,
                    protocol,
                    source,
                    source_ports,
                    destination,
                    destination_ports,
                    default: false,
                },
            )
            .collect()
    })
}

/// One flow per cell of the space the rules can tell apart.
fn representatives() -> Vec<Flow> {
    let addrs: Vec<IpAddr> = [
        "10.0.0.1",
        "10.0.0.65",
        "10.0.0.129",
        "10.0.0.193",
        "8.8.8.8",
        "10.1.0.4",
        "168.63.129.16",
        "2001:db8::1",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let mut out = Vec::new();
    for direction in [Direction::Inbound, Direction::Outbound] {
        for protocol in Protocol::FLOW {
            for &l in &addrs {
                for &r in &addrs {
                    if l.is_ipv4() != r.is_ipv4() {
                        continue;
                    }
                    for lp in [50u16, 150, 300] {
                        for rp in [50u16, 150, 300] {
                            out.push(Flow {
                                direction,
                                protocol,
                                local_ip: l,
                                local_port: lp,
                                remote_ip: r,
                                remote_port: rp,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    /// `analyze` against brute force over one flow per cell: a rule is unreachable exactly when
    /// no flow's first match is it, and redundant exactly when removing it changes no verdict.
    #[test]
    fn analyze_equals_brute_force(rules in block_rules()) {
        let s = snap();
        let c = ctx(&s);
        let n = nsg("n", rules.clone());
        let findings = tagnet::nsg::analyze::analyze(&c, &n);
        let resolved = c.resolve(&n).unwrap();
        let flows = representatives();
        for r in &rules {
            let path = r.path();
            let first_hits = flows.iter().filter(|f| tagnet::nsg::eval::first_match_naive(&resolved, f).is_some_and(|m| m.rule.name == r.name)).count();
            let without = c.resolve(&nsg("n", rules.iter().filter(|x| x.name != r.name).cloned().collect())).unwrap();
            let changes = flows.iter().any(|f| verdict_naive(Some(&resolved), None, f).access != verdict_naive(Some(&without), None, f).access);
            let has = |code: &str| findings.iter().any(|f| f.rule == path && f.finding.code == code);
            prop_assert_eq!(has("nsg-unreachable-rule"), first_hits == 0, "{} unreachable? hits {}", path, first_hits);
            if first_hits > 0 {
                prop_assert_eq!(has("nsg-redundant-rule"), !changes, "{} redundant? changes {}", path, changes);
            }
        }
    }
}

#[test]
fn analyze_and_classbench_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nsg.json");
    std::fs::write(&file, r#"[{"name": "a", "securityRules": [
        {"name": "DenyAll", "priority": 100, "direction": "Inbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*"},
        {"name": "AmlIn", "priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "44224"}]},
        {"name": "b", "securityRules": [
        {"name": "Typo", "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Storag.EastUS2", "destinationPortRange": "443"}]}]"#).unwrap();
    let run = |format: &str| {
        Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .arg("--tags")
            .arg(example())
            .args([
                "nsg",
                "analyze",
                "--vnet",
                "10.1.0.0/16",
                "-q",
                "--format",
                format,
                "--nsg",
            ])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = run("json");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(&str, &str, &str)> = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["nsg"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        found.contains(&("nsg-unreachable-rule", "a", "securityRules/AmlIn")),
        "{found:?}"
    );
    assert!(
        found.contains(&("nsg-unknown-tag", "b", "securityRules/Typo")),
        "{found:?}"
    );
    let unreachable = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "nsg-unreachable-rule")
        .unwrap();
    assert_eq!(
        unreachable["related"],
        serde_json::json!(["securityRules/DenyAll"])
    );
    // SARIF 2.1.0: every result names a rule the driver declares.
    let sarif: serde_json::Value = serde_json::from_slice(&run("sarif").stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let ids: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in run0["results"].as_array().unwrap() {
        assert!(ids.contains(&r["ruleId"].as_str().unwrap()));
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["explain", "nsg-unreachable-rule"])
        .assert()
        .code(0);
    Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["lookup", "192.0.2.1", "--format", "sarif"])
        .assert()
        .code(2);
    // ClassBench: converted lines evaluate; the rest are reported with their numbers.
    let cb = "@192.0.2.0/24\t10.1.0.0/16\t0 : 65535\t443 : 443\t0x06/0xFF\t0x0000/0x0000\n@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x2F/0xFF\t0x0000/0x0000\n";
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["nsg", "from-classbench", "-"])
        .write_stdin(cb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>:2: not converted: protocol 47"));
    let nsg_file = dir.path().join("cb.json");
    std::fs::write(&nsg_file, &out.stdout).unwrap();
    Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .arg("--tags")
        .arg(example())
        .args([
            "nsg",
            "verify",
            "--vnet",
            "10.1.0.0/16",
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.1.0.4:443",
            "--remote",
            "192.0.2.9:5000",
            "-q",
            "--nsg",
        ])
        .arg(&nsg_file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("securityRules/cb1"));
}

#[test]
fn families_and_fixed_defaults() {
    let s = snap();
    let c = ctx(&s);
    // `::/0` is IPv6 only: an IPv4 allow below it stays reachable and decides IPv4 flows.
    let n = parse(r#"{"name": "n", "securityRules": [
        {"name": "DenyV6", "priority": 100, "direction": "Inbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "::/0", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "*"},
        {"name": "WebV4", "priority": 200, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "203.0.113.0/24", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "443"}],
      "defaultSecurityRules": [{"name": "DenyAllInBound", "priority": 65500, "direction": "Inbound", "access": "Allow", "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "*"}]}"#).unwrap();
    let r = c.resolve(&n[0]).unwrap();
    let compiled = tagnet::nsg::compile(&r);
    let v = tagnet::nsg::verdict(
        Some(&compiled),
        None,
        &one("inbound,tcp,10.1.0.4,443,203.0.113.9,5000"),
    );
    assert_eq!(
        (v.access, v.rule.as_str()),
        (Access::Allow, "securityRules/WebV4")
    );
    let findings = tagnet::nsg::analyze::analyze(&c, &n[0]);
    assert!(
        !findings
            .iter()
            .any(|f| f.finding.code == "nsg-unreachable-rule"),
        "{findings:?}"
    );
    // An edited default rule in the file does not change Azure's fixed defaults.
    let v = tagnet::nsg::verdict(
        Some(&compiled),
        None,
        &one("inbound,tcp,10.1.0.4,22,8.8.8.8,5000"),
    );
    assert_eq!(
        (v.access, v.rule.as_str()),
        (Access::Deny, "defaultSecurityRules/DenyAllInBound")
    );
    // ARM: child rules nested in the NSG resource load; expression names are refused.
    let arm = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {}, "resources": [
        {"type": "securityRules", "name": "AllowBatch", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "BatchNodeManagement", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "29876-29877"}}]}]}"#;
    assert_eq!(parse(arm).unwrap()[0].rules.len(), 7);
    let expr = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "[concat(parameters('n'), '/AllowSSH')]", "properties": {}}]}"#;
    assert!(parse(expr).unwrap_err().contains("ARM expression"));
}

/// Every NSG command, every kind of bad input: exit 2, a message naming what is wrong, no
/// panic, and nothing on standard output.
#[test]
fn every_nsg_command_refuses_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"name": "n", "securityRules": [
        {"name": "AmlIn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "44224"}]}"#).unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"name\": \"n\", \"securityRules\": [").unwrap();
    let cb = dir.path().join("acl.txt");
    std::fs::write(
        &cb,
        "@1.2.3.0/24\t4.5.6.0/24\t0 : 65535\t80 : 80\t0x06/0xFF\n",
    )
    .unwrap();
    let g = good.to_str().unwrap();
    let b = broken.to_str().unwrap();
    let c = cb.to_str().unwrap();
    let named = format!("{g}#nope");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                "/nonexistent/n.json",
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "1.2.3.4:5",
            ],
            "/nonexistent/n.json",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                b,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "1.2.3.4:5",
            ],
            "line 1",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/33",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "1.2.3.4:5",
            ],
            "10.0.0.0/33",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "sideways",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "1.2.3.4:5",
            ],
            "sideways",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "gre",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "1.2.3.4:5",
            ],
            "gre",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.400:22",
                "--remote",
                "1.2.3.4:5",
            ],
            "10.0.0.400",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:70000",
                "--remote",
                "1.2.3.4:5",
            ],
            "70000",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--flows",
                "/nonexistent/flows.csv",
            ],
            "/nonexistent/flows.csv",
        ),
        (
            vec![
                "nsg",
                "verify",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "1.2.3.4:5",
                "--format",
                "sarif",
            ],
            "sarif",
        ),
        (
            vec![
                "nsg",
                "require",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--region",
                "atlantis",
            ],
            "atlantis",
        ),
        (
            vec![
                "nsg",
                "require",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--region",
                "eastus2",
                "--profile",
                "aml-vnet-1999",
            ],
            "aml-vnet-2023",
        ),
        (
            vec![
                "nsg",
                "require",
                "--vnet",
                "10.0.0.0/16",
                "--region",
                "eastus2",
            ],
            "--nsg",
        ),
        (
            vec![
                "nsg", "require", "--nsg", g, "--region", "eastus2", "--format", "arm",
            ],
            "--format arm",
        ),
        (
            vec![
                "nsg",
                "reach",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--port",
                "99999",
            ],
            "99999",
        ),
        (
            vec![
                "nsg",
                "reach",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "up",
                "--protocol",
                "tcp",
                "--port",
                "22",
            ],
            "up",
        ),
        (
            vec![
                "nsg",
                "reach",
                "--nsg",
                g,
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--port",
                "22",
                "--asg",
                "web",
            ],
            "web",
        ),
        (vec!["nsg", "analyze", "--nsg", b], "line 1"),
        (vec!["nsg", "analyze", "--nsg", &named], "nope"),
        (
            vec!["nsg", "from-classbench", "/nonexistent/acl.txt"],
            "/nonexistent/acl.txt",
        ),
        (
            vec!["nsg", "from-classbench", c, "--access", "Maybe"],
            "Maybe",
        ),
        (
            vec!["nsg", "from-classbench", c, "--format", "csv"],
            "--format csv",
        ),
        (vec!["nsg", "from-classbench", b], "no filter line"),
    ];
    for (args, says) in cases {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .env("TAGNET_CACHE", "/nonexistent/tagnet-test-cache")
            .arg("-q")
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should say `{says}`: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    }
}

/// An ASG without members is its own finding, and --quiet hides the rule-limit warning.
#[test]
fn unknown_asg_code_and_quiet_limits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("asg.json");
    std::fs::write(&file, r#"{"name": "n", "securityRules": [
        {"name": "Web", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationApplicationSecurityGroups": [{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/applicationSecurityGroups/web"}], "destinationPortRange": "443"}]}"#).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args([
            "-q",
            "nsg",
            "analyze",
            "--format",
            "csv",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("nsg-unknown-asg") && !text.contains("nsg-unknown-tag"),
        "{text}"
    );
    // 1,001 rules: the warning, unless --quiet.
    let many: Vec<String> = (0..1001)
        .map(|i| format!(r#"{{"name": "r{i}", "priority": {}, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "10.0.{}.{}", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}"#, 100 + i, i / 256, i % 256))
        .collect();
    let big = dir.path().join("big.json");
    std::fs::write(
        &big,
        format!(
            r#"{{"name": "big", "securityRules": [{}]}}"#,
            many.join(",")
        ),
    )
    .unwrap();
    for (quiet, warns) in [(false, true), (true, false)] {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS");
        if quiet {
            c.arg("-q");
        }
        let out = c
            .args([
                "nsg",
                "verify",
                "--vnet",
                "10.0.0.0/16",
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.0.0.4:22",
                "--remote",
                "10.0.0.9:5",
                "--nsg",
            ])
            .arg(&big)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).contains("more than Azure's 1,000"),
            warns
        );
    }
}

/// On the real Government snapshot: the tags resolve in a Government region, and a missing
/// 44224 rule is named with an address of that cloud's AzureMachineLearning.
#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn require_on_the_government_snapshot() {
    let Some(gov) = super::common::shared("ServiceTags_AzureGovernment_cn401.json") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nsg.json");
    std::fs::write(&file, r#"{"name": "gov", "securityRules": [
        {"name": "BatchIn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"},
        {"name": "DenyOut", "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "*"}]}"#).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .arg("--tags")
        .arg(&gov)
        .args([
            "-q",
            "nsg",
            "require",
            "--region",
            "usgovvirginia",
            "--vnet",
            "10.0.0.0/16",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reqs = v["requirements"].as_array().unwrap();
    let batch = reqs
        .iter()
        .find(|r| r["requirement"]["ports"] == "29876-29877")
        .unwrap();
    assert_eq!(batch["verdict"], "met");
    let aml = reqs
        .iter()
        .find(|r| r["requirement"]["ports"] == "44224")
        .unwrap();
    assert_eq!(aml["verdict"], "not-met");
    let snap = tagnet::load::load_path(&gov).unwrap();
    let ip: std::net::IpAddr = aml["counterexample"]
        .as_str()
        .unwrap()
        .split(" -> ")
        .next()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .0
        .parse()
        .unwrap();
    let t = snap.tag(snap.tag_by_name("AzureMachineLearning").unwrap());
    assert!(t.prefixes().any(|p| p.contains(&ip)), "{ip}");
    // Outbound to Storage.<region> is blocked by DenyOut: a counterexample in the Government cloud.
    let st = reqs
        .iter()
        .find(|r| r["tag"].as_str().is_some_and(|t| t.starts_with("Storage.")))
        .unwrap();
    assert_eq!(st["blocked_by"], "gov securityRules/DenyOut");
}

/// Trial findings (2026-11-28): a TCP flow without a port was evaluated as port 0, the batch
/// read addresses differently from `lookup`, and RFC 4180 quotes were refused.
#[test]
fn flow_lines_need_ports_and_read_addresses_as_lookup_does() {
    let tcp = |p: &str| Flow::parse_line(p);
    let err = tcp("outbound,tcp,10.1.0.4,,13.77.112.32,443").unwrap_err();
    assert!(err.contains("needs both ports"), "{err}");
    let err = tcp(r#"{"direction":"outbound","protocol":"tcp","local_ip":"10.1.0.4","remote_ip":"13.77.112.32","remote_port":443}"#).unwrap_err();
    assert!(err.contains("local_port"), "{err}");
    let err = tcp(r#"{"Direction":"outbound"}"#).unwrap_err();
    assert!(err.contains("unknown key `Direction`"), "{err}");
    // ICMP takes no ports.
    let f = tcp("outbound,icmp,10.1.0.4,,13.77.112.32,")
        .unwrap()
        .unwrap();
    assert_eq!((f.local_port, f.remote_port), (0, 0));
    // Quoted fields, an IPv4-mapped address and an IPv6 zone, as `lookup` reads them.
    let f = tcp(r#""outbound","tcp","::ffff:10.1.0.4","50000","13.77.112.32","443""#)
        .unwrap()
        .unwrap();
    assert_eq!(f.local_ip, "10.1.0.4".parse::<IpAddr>().unwrap());
    assert_eq!(f.remote_port, 443);
    let f = tcp("outbound,udp,fe80::1%eth0,53,fe80::2,53")
        .unwrap()
        .unwrap();
    assert_eq!(f.local_ip, "fe80::1".parse::<IpAddr>().unwrap());
    assert!(
        tcp("direction,protocol,local_ip,local_port,remote_ip,remote_port")
            .unwrap()
            .is_none()
    );
    assert!(tcp("outbound,tcp,10.1.0.4,1,13.77.112.32").is_err());
}

/// Trial finding: `--local [IPv6]` without a port was read as port 0 for a TCP flow.
#[test]
fn a_single_ipv6_tcp_flow_without_a_port_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nsg = dir.path().join("nsg.json");
    std::fs::write(&nsg, r#"{"name":"subnet","securityRules":[]}"#).unwrap();
    for local in ["fd00:1::4", "[fd00:1::4]"] {
        Command::cargo_bin("tagnet")
            .unwrap()
            .arg("--tags")
            .arg(example())
            .args(["nsg", "verify", "--nsg"])
            .arg(&nsg)
            .args([
                "--vnet",
                "fd00:1::/48",
                "--direction",
                "outbound",
                "--protocol",
                "tcp",
            ])
            .args(["--local", local, "--remote", "[2603:1030:40f::1]:443"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("needs both ports"));
    }
}

/// An NSG template evaluated with its parameters, as `check` evaluates it: the parameters
/// file beside it (`NAME.parameters.json`, named on standard error), or `--parameters FILE`
/// (which wins); a required parameter without either is refused naming the flag; two files
/// beside it and none chosen, a parameter the template does not declare, parameters for a
/// file that is no template, and a template given as the parameters are each refused.
#[test]
fn nsg_commands_take_a_templates_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let template = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"sshSource": {"type": "string"}},
        "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
            "name": "nsg-ml", "location": "westeurope",
            "properties": {"securityRules": [{"name": "AllowSSH", "properties": {"priority": 100,
                "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "sourceAddressPrefix": "[parameters('sshSource')]", "sourcePortRange": "*",
                "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}}]
    });
    let params = |v: &str| {
        serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"sshSource": {"value": v}}
        })
        .to_string()
    };
    let nsg = dir.path().join("nsg.json");
    std::fs::write(&nsg, template.to_string()).unwrap();
    let verify = |remote: &str, extra: &[&std::path::Path]| {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS").args([
            "--tags",
            "builtin",
            "nsg",
            "verify",
            "--vnet",
            "10.9.0.0/16",
            "--format",
            "csv",
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.9.0.4:22",
            "--remote",
            remote,
            "--nsg",
        ]);
        c.arg(&nsg);
        if let Some(p) = extra.first() {
            c.arg("--parameters").arg(p);
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // No value for a parameter without a default: refused, naming the way to give one.
    let (code, _, err) = verify("10.1.2.3:5000", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("sshSource") && err.contains("--parameters"),
        "{err}"
    );
    // The parameters file beside the template.
    std::fs::write(dir.path().join("nsg.parameters.json"), params("10.0.0.0/8")).unwrap();
    let (code, out, err) = verify("10.1.2.3:5000", &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("AllowSSH"), "{out}");
    assert!(err.contains("nsg.parameters.json"), "{err}");
    assert_eq!(verify("192.0.2.1:5000", &[]).0, Some(1));
    // --parameters wins over the file beside it.
    let other = dir.path().join("prod.json");
    std::fs::write(&other, params("192.0.2.0/24")).unwrap();
    assert_eq!(verify("192.0.2.1:5000", &[&other]).0, Some(0));
    assert_eq!(verify("10.1.2.3:5000", &[&other]).0, Some(1));
    // Two beside it, neither chosen: refused, both named.
    std::fs::rename(
        dir.path().join("nsg.parameters.json"),
        dir.path().join("nsg.parameters.dev.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("nsg.parameters.prod.json"),
        params("192.0.2.0/24"),
    )
    .unwrap();
    let (code, _, err) = verify("10.1.2.3:5000", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("nsg.parameters.dev.json")
            && err.contains("nsg.parameters.prod.json")
            && err.contains("--parameters"),
        "{err}"
    );
    assert_eq!(verify("192.0.2.1:5000", &[&other]).0, Some(0));
    // A parameter the template does not declare: Azure refuses the deployment.
    let typo = dir.path().join("typo.json");
    std::fs::write(
        &typo,
        params("10.0.0.0/8").replace("\"sshSource\"", "\"sshSoruce\""),
    )
    .unwrap();
    let (code, _, err) = verify("10.1.2.3:5000", &[&typo]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("sshSoruce") && err.contains("does not declare"),
        "{err}"
    );
    // The template given as its own parameters.
    let (code, _, err) = verify("10.1.2.3:5000", &[&nsg]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a parameters file"), "{err}");
    // A value of another type than the template declares: Azure refuses the deployment.
    let typed = dir.path().join("typed.json");
    std::fs::write(
        &typed,
        r#"{"parameters": {"sshSource": {"value": ["10.0.0.0/8"]}}}"#,
    )
    .unwrap();
    let (code, _, err) = verify("10.1.2.3:5000", &[&typed]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("declared string but given an array"), "{err}");
    // Several prefixes in the singular field: refused, pointing to the plural one.
    let listed = dir.path().join("listed.json");
    std::fs::write(
        &listed,
        serde_json::json!({"name": "n", "securityRules": [{"name": "r", "priority": 100,
            "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
            "sourceAddressPrefix": "10.0.0.0/24, 10.1.0.0/24", "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": "22"}]})
        .to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["-q", "--tags", "builtin", "nsg", "analyze", "--nsg"])
        .arg(&listed)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`sourceAddressPrefixes`"), "{err}");
    // A path through the template with no value for its parameter: refused, not "no NSG".
    for args in [
        vec!["--to", "20.38.98.100:443"],
        vec!["--profile", "aml-vnet-2020", "--region", "eastus2"],
    ] {
        let vnet = serde_json::json!({"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-04-01",
            "name": "vnet-ml", "location": "eastus2", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]},
            "subnets": [{"name": "compute", "properties": {"addressPrefix": "10.9.0.0/24",
                "networkSecurityGroup": {"id": "[resourceId('Microsoft.Network/networkSecurityGroups', 'nsg-ml')]"}}}]}});
        let mut net = template.clone();
        net["resources"].as_array_mut().unwrap().push(vnet);
        let bare = tempfile::tempdir().unwrap();
        let file = bare.path().join("net.json");
        std::fs::write(&file, net.to_string()).unwrap();
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .args(["-q", "--tags", "builtin", "path"])
            .arg(&file)
            .args(["--from", "vnet-ml/compute"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("`nsg-ml` cannot be read"), "{err}");
    }
    // `az`'s forms: `@FILE` is the file; inline NAME=VALUE is refused with the file to write.
    let at = format!("@{}", other.display());
    let (code, ..) = verify("192.0.2.1:5000", &[std::path::Path::new(&at)]);
    assert_eq!(code, Some(0));
    let (code, _, err) = verify(
        "192.0.2.1:5000",
        &[std::path::Path::new("sshSource=10.0.0.0/8")],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("inline NAME=VALUE"), "{err}");
    // Parameters with `az network nsg show` output, which holds deployed values.
    let shown = dir.path().join("shown.json");
    std::fs::write(
        &shown,
        serde_json::json!({"name": "nsg-ml", "type": "Microsoft.Network/networkSecurityGroups",
            "securityRules": []})
        .to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["--tags", "builtin", "nsg", "analyze", "--nsg"])
        .arg(&shown)
        .arg("--parameters")
        .arg(&other)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not an ARM template"), "{err}");
    // An NSG given as the parameters file is named for what it is.
    let (code, _, err) = verify("10.1.2.3:5000", &[&shown]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a parameters file"), "{err}");
    // nsg analyze reads the template with the same parameters.
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args([
            "-q", "--tags", "builtin", "nsg", "analyze", "--format", "json", "--nsg",
        ])
        .arg(&nsg)
        .arg("--parameters")
        .arg(&other)
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// NSGs as templates and Azure write them: rules from `[variables('rules')]` are evaluated
/// (the SSH they allow is allowed); a value that cannot be evaluated, or `securityRules` left
/// as an expression, refuses the NSG (never read as having no rules); the platform tags
/// outside the file are understood.
#[test]
fn templates_and_platform_tags() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |src: &str| {
        serde_json::json!({"name": "AllowSSH", "properties": {"priority": 100, "direction": "Inbound",
            "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": src, "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": "22"}})
    };
    let template = |rules: serde_json::Value, variables: serde_json::Value| {
        serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"sshSource": {"type": "string", "defaultValue": "10.0.0.0/8"}},
            "variables": variables,
            "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
                "name": "nsg-ml", "location": "[resourceGroup().location]",
                "properties": {"securityRules": rules}}]
        })
    };
    let verify = |doc: &serde_json::Value, remote: &str| {
        let f = dir.path().join("nsg.json");
        std::fs::write(&f, doc.to_string()).unwrap();
        Command::cargo_bin("tagnet")
            .unwrap()
            .args([
                "-q",
                "--tags",
                "builtin",
                "nsg",
                "verify",
                "--vnet",
                "10.9.0.0/16",
                "--format",
                "csv",
                "--nsg",
            ])
            .arg(&f)
            .args([
                "--direction",
                "inbound",
                "--protocol",
                "tcp",
                "--local",
                "10.9.0.4:22",
                "--remote",
                remote,
            ])
            .output()
            .unwrap()
    };
    let from_variables = template(
        "[variables('rules')]".into(),
        serde_json::json!({"rules": [rule("[parameters('sshSource')]")]}),
    );
    let out = verify(&from_variables, "10.1.2.3:5000");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("securityRules/AllowSSH"));
    let out = verify(&from_variables, "192.0.2.1:5000");
    assert_eq!(out.status.code(), Some(1));
    // A value only the deployment knows: refused, naming the expression.
    let unknowable = template(
        serde_json::json!([rule("[reference('pip').ipAddress]")]),
        serde_json::json!({}),
    );
    let out = verify(&unknowable, "10.1.2.3:5000");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reference('pip')"));
    // securityRules left as an expression outside a template.
    let bare = serde_json::json!({"name": "n", "securityRules": "[variables('rules')]"});
    let out = verify(&bare, "10.1.2.3:5000");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a list of rules"));
    // A property copy loop making the rules: expanded, each rule with its copyIndex().
    let copied = template(
        serde_json::json!(null),
        serde_json::json!({"sources": ["192.0.2.0/24", "10.0.0.0/8"]}),
    );
    let mut copied = copied;
    let mut looped = rule("[variables('sources')[copyIndex('securityRules')]]");
    looped["name"] = "[concat('AllowSSH', copyIndex('securityRules'))]".into();
    looped["properties"]["priority"] = "[add(100, copyIndex('securityRules'))]".into();
    copied["resources"][0]["properties"] = serde_json::json!({"copy": [{"name": "securityRules", "count": "[length(variables('sources'))]", "input": looped}]});
    let out = verify(&copied, "10.1.2.3:5000");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("securityRules/AllowSSH1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A copy count only the deployment knows: refused, naming it.
    copied["resources"][0]["properties"]["copy"][0]["count"] =
        "[length(reference('x').rules)]".into();
    let out = verify(&copied, "10.1.2.3:5000");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("reference('x')"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A child rule with `condition: false` is not deployed: SSH falls to the default rules.
    let mut cond = template(serde_json::json!([]), serde_json::json!({}));
    let mut child = rule("10.0.0.0/8");
    child["type"] = "Microsoft.Network/networkSecurityGroups/securityRules".into();
    child["name"] = "nsg-ml/AllowSSH".into();
    child["condition"] = false.into();
    cond["resources"]
        .as_array_mut()
        .unwrap()
        .push(child.clone());
    let out = verify(&cond, "10.1.2.3:5000");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    child["condition"] = true.into();
    cond["resources"][1] = child;
    let out = verify(&cond, "10.1.2.3:5000");
    assert_eq!(out.status.code(), Some(0));
    // AzurePlatformDNS denies DNS to 168.63.129.16 (it was "unknown service tag").
    let dns = serde_json::json!({"name": "n", "securityRules": [{"name": "NoDns", "properties": {
        "priority": 100, "direction": "Outbound", "access": "Deny", "protocol": "*",
        "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "AzurePlatformDNS", "destinationPortRange": "53"}}]});
    let f = dir.path().join("dns.json");
    std::fs::write(&f, dns.to_string()).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "-q",
            "--tags",
            "builtin",
            "nsg",
            "verify",
            "--vnet",
            "10.9.0.0/16",
            "--format",
            "csv",
            "--nsg",
        ])
        .arg(&f)
        .args([
            "--direction",
            "outbound",
            "--protocol",
            "udp",
            "--local",
            "10.9.0.4:5000",
            "--remote",
            "168.63.129.16:53",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("securityRules/NoDns"));
}

/// `diff --nsg`: a week that adds a prefix to BatchNodeManagement breaks an NSG that allows
/// the old prefixes by address (exit 1, the new address as counterexample); an NSG allowing
/// the tag is untouched; going back the other way is a fix.
#[test]
fn diff_nsg_names_the_required_flows_a_week_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    doc["changeNumber"] = 43.into();
    for v in doc["values"].as_array_mut().unwrap() {
        if v["name"] == "BatchNodeManagement" || v["name"] == "BatchNodeManagement.EastUS2" {
            v["properties"]["addressPrefixes"]
                .as_array_mut()
                .unwrap()
                .push("192.0.2.192/28".into());
        }
    }
    let new = dir.path().join("new.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let nsg = |name: &str, source: &str| {
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(
            &file,
            serde_json::json!({"name": name, "securityRules": [
                {"name": "BatchIn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "sourceAddressPrefixes": source.split(',').collect::<Vec<_>>(), "sourcePortRange": "*",
                 "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "29876-29877"},
                {"name": "AmlIn", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*",
                 "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": "44224"}]})
            .to_string(),
        )
        .unwrap();
        file
    };
    let by_address = nsg(
        "by-address",
        "192.0.2.16/28,192.0.2.64/27,192.0.2.160/28,2001:db8:1000::/48",
    );
    let by_tag = nsg("by-tag", "BatchNodeManagement");
    let run = |old: &std::path::Path, new: &std::path::Path, file: &std::path::Path| {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .args(["-q", "--format", "json", "diff"])
            .arg(old)
            .arg(new)
            .args(["--region", "eastus2", "--vnet", "10.1.0.0/16", "--nsg"])
            .arg(file)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), v["nsg"].clone())
    };
    let (code, n) = run(&example(), &new, &by_address);
    assert_eq!(code, 1, "{n:#}");
    let changes = n["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{n:#}");
    let c = &changes[0];
    assert_eq!(c["change"], "breaks");
    assert_eq!(c["tag"], "BatchNodeManagement.EastUS2");
    assert_eq!(
        (c["before"].as_str(), c["after"].as_str()),
        (Some("met"), Some("partly-met"))
    );
    assert_eq!(c["blocked_after"], "16");
    assert!(
        c["counterexample"]
            .as_str()
            .unwrap()
            .starts_with("192.0.2.192"),
        "{c:#}"
    );
    let (code, n) = run(&example(), &new, &by_tag);
    assert_eq!(code, 0, "{n:#}");
    assert!(
        n["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["change"] != "breaks"),
        "{n:#}"
    );
    let (code, n) = run(&new, &example(), &by_address);
    assert_eq!(code, 0, "{n:#}");
    assert_eq!(n["changes"][0]["change"], "fixes", "{n:#}");
}

/// Azure's platform services (168.63.129.16, 169.254.169.254) are not subject to NSGs unless
/// a rule targets them through the platform tags: a deny-all outbound does not block DNS or
/// IMDS; a rule denying `AzurePlatformDNS` does; `AzurePlatformLKM` is read with a warning
/// (Learn publishes no address for it).
#[test]
fn platform_traffic_is_decided_only_by_platform_tags() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |name: &str, prio: u32, dest: &str| {
        serde_json::json!({"name": name, "priority": prio, "direction": "Outbound", "access": "Deny",
            "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": dest, "destinationPortRange": "*"})
    };
    let verify = |rules: Vec<serde_json::Value>, remote: &str| {
        let f = dir.path().join("nsg.json");
        std::fs::write(
            &f,
            serde_json::json!({"name": "n", "securityRules": rules}).to_string(),
        )
        .unwrap();
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .args([
                "--tags",
                "builtin",
                "nsg",
                "verify",
                "--vnet",
                "10.0.0.0/16",
                "--format",
                "json",
                "--nsg",
            ])
            .arg(&f)
            .args([
                "--direction",
                "outbound",
                "--protocol",
                "udp",
                "--local",
                "10.0.0.4:50000",
                "--remote",
                remote,
            ])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        let r = &v["records"][0];
        (
            r["access"].as_str().unwrap().to_string(),
            r["rule"].as_str().unwrap_or("").to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let deny_all = vec![rule("DenyAll", 100, "*")];
    let (access, by, _) = verify(deny_all.clone(), "168.63.129.16:53");
    assert_eq!(access, "Allow");
    // No rule decided, and the record says why rather than leaving the rule blank.
    assert_eq!(by, "(platform address: exempt from NSGs)");
    assert_eq!(verify(deny_all.clone(), "169.254.169.254:80").0, "Allow");
    assert_eq!(verify(deny_all, "20.38.98.100:443").0, "Deny");
    let (access, by, _) = verify(
        vec![rule("NoDns", 100, "AzurePlatformDNS")],
        "168.63.129.16:53",
    );
    assert_eq!(access, "Deny");
    assert!(by.contains("NoDns"), "{by}");
    let (_, _, err) = verify(
        vec![rule("NoLkm", 100, "AzurePlatformLKM")],
        "20.38.98.100:443",
    );
    assert!(err.contains("AzurePlatformLKM"), "{err}");
    // analyze agrees: a deny of AzurePlatformDNS above a deny-all is not redundant (without
    // it, DNS would be allowed).
    let f = dir.path().join("nsg.json");
    std::fs::write(
        &f,
        serde_json::json!({"name": "n", "securityRules": [
        rule("NoDns", 100, "AzurePlatformDNS"), rule("DenyAll", 4000, "*")]})
        .to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "-q",
            "nsg",
            "analyze",
            "--vnet",
            "10.0.0.0/16",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["code"] != "nsg-redundant-rule"),
        "{v:#}"
    );
    // An outbound rule to the platform's addresses only (by address or by AzureLoadBalancer)
    // can never match and says why; one to AzurePlatformDNS can.
    std::fs::write(
        &f,
        serde_json::json!({"name": "n", "securityRules": [
        rule("NoProbe", 100, "AzureLoadBalancer"), rule("NoImds", 110, "169.254.169.254/32"),
        rule("NoDns", 120, "AzurePlatformDNS")]})
        .to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "-q",
            "nsg",
            "analyze",
            "--vnet",
            "10.0.0.0/16",
        ])
        .args(["--format", "json", "--nsg"])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unreachable: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "nsg-unreachable-rule")
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        unreachable,
        ["securityRules/NoImds", "securityRules/NoProbe"],
        "{v:#}"
    );
    assert!(v.to_string().contains("platform addresses"), "{v:#}");
    // Two rules of the same flows above a deny-all: the lower one is unreachable, the upper
    // one redundant because of it, and that finding says not to delete both.
    let allow = |name: &str, prio: u32| {
        serde_json::json!({"name": name, "priority": prio, "direction": "Outbound", "access": "Allow",
            "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": "Storage", "destinationPortRange": "443"})
    };
    std::fs::write(
        &f,
        serde_json::json!({"name": "n", "securityRules": [
        allow("A", 100), allow("B", 200), rule("DenyAll", 4000, "*")]})
        .to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "-q",
            "nsg",
            "analyze",
            "--vnet",
            "10.0.0.0/16",
        ])
        .args(["--format", "json", "--nsg"])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let of = |rule: &str| {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule}: {v:#}"))
            .clone()
    };
    assert_eq!(of("securityRules/B")["code"], "nsg-unreachable-rule");
    let a = of("securityRules/A");
    assert_eq!(a["code"], "nsg-redundant-rule");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("`securityRules/B` is reported unreachable because of this rule"),
        "{a:#}"
    );
}

/// `analyze` reasons per address family: a deny of 0.0.0.0/0 above an allow of `*` leaves the
/// allow its IPv6 flows (not unreachable), and a rule with an IPv4 source and an IPv6
/// destination matches no flow at all, and says why.
#[test]
fn analyze_reasons_per_address_family() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |name: &str, prio: u32, access: &str, src: &str, dst: &str| {
        serde_json::json!({"name": name, "priority": prio, "direction": "Inbound", "access": access,
            "protocol": "*", "sourceAddressPrefix": src, "sourcePortRange": "*",
            "destinationAddressPrefix": dst, "destinationPortRange": "*"})
    };
    let f = dir.path().join("nsg.json");
    std::fs::write(
        &f,
        serde_json::json!({"name": "n", "securityRules": [
            rule("DenyV4", 100, "Deny", "0.0.0.0/0", "*"),
            rule("AllowAll", 110, "Allow", "*", "*"),
            rule("Mixed", 120, "Allow", "10.0.0.0/8", "2001:db8::/32"),
        ]})
        .to_string(),
    )
    .unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "-q",
            "nsg",
            "analyze",
            "--vnet",
            "10.0.0.0/16",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unreachable: Vec<(String, String)> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "nsg-unreachable-rule")
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(unreachable.len(), 1, "{unreachable:?}");
    assert_eq!(unreachable[0].0, "securityRules/Mixed");
    assert!(
        unreachable[0].1.contains("address family"),
        "{unreachable:?}"
    );
}

/// A child `securityRules` resource is deployed after its NSG and replaces the inline rule of
/// its name: SSH denied inline at 100 and allowed by the child at 200 is allowed.
#[test]
fn a_child_rule_replaces_the_inline_rule_of_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |access: &str, prio: u32| {
        serde_json::json!({"priority": prio, "direction": "Inbound", "access": access, "protocol": "Tcp",
            "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"})
    };
    let template = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "nsg-ic",
             "properties": {"securityRules": [{"name": "SSH", "properties": rule("Deny", 100)}]}},
            {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "apiVersion": "2023-09-01",
             "name": "nsg-ic/ssh", "properties": rule("Allow", 200)}
        ]
    });
    let f = dir.path().join("t.json");
    std::fs::write(&f, template.to_string()).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "nsg",
            "verify",
            "--vnet",
            "10.0.0.0/16",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&f)
        .args([
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.0.0.4:22",
            "--remote",
            "8.8.8.8:50000",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["records"][0]["access"], "Allow", "{v:#}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("rules are named"));
}

/// A port written as a number (`"destinationPortRange": 22`, as templates and hand-written
/// files have it) is the port, not a missing field.
#[test]
fn a_port_written_as_a_number_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("nsg.json");
    std::fs::write(&f, serde_json::json!({"name": "n", "securityRules": [
        {"name": "Ssh", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": 22}]}).to_string()).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "-q",
            "nsg",
            "verify",
            "--vnet",
            "10.0.0.0/16",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&f)
        .args([
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.0.0.4:22",
            "--remote",
            "8.8.8.8:50000",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["records"][0]["access"], "Allow", "{v:#}");
}

/// `VirtualNetwork` from `az network vnet show`: a peering that does not allow virtual
/// network access is left out (with a note), and a peering not yet synced carries the space
/// it was made with (`remoteAddressSpace`), not the remote VNet's new one.
#[test]
fn vnet_space_follows_peering_access_and_sync() {
    let doc = serde_json::json!({
        "name": "vnet-ml",
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "virtualNetworkPeerings": [
            {"name": "to-hub", "peeringState": "Connected", "allowVirtualNetworkAccess": false,
             "remoteAddressSpace": {"addressPrefixes": ["10.1.0.0/16"]}},
            {"name": "to-spoke", "peeringState": "Connected", "peeringSyncLevel": "LocalNotInSync",
             "allowVirtualNetworkAccess": true,
             "remoteAddressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
             "remoteVirtualNetworkAddressSpace": {"addressPrefixes": ["10.2.0.0/16", "10.4.0.0/16"]}}
        ]
    });
    let (space, notes) = tagnet::ops::nsg::vnet_space(&doc, "vnet.json").unwrap();
    let got: Vec<String> = space.iter().map(|p| p.to_string()).collect();
    assert_eq!(got, vec!["10.0.0.0/16", "10.2.0.0/16"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("allowVirtualNetworkAccess")),
        "{notes:?}"
    );
}

/// `--route-table`: the subnet's UDR prefixes join `VirtualNetwork` under each reading; under
/// a 0.0.0.0/0 UDR, AllowVnetInBound may admit an Internet source — `nsg verify` answers the
/// permissive verdict and says the readings differ, `nsg reach` names the readings that allow
/// fewer, and `nsg require` holds a requirement met only under every reading.
#[test]
fn route_table_prefixes_join_virtual_network_under_each_reading() {
    let dir = tempfile::tempdir().unwrap();
    let nsg = dir.path().join("nsg.json");
    std::fs::write(&nsg, r#"{"name": "nsg-default", "securityRules": []}"#).unwrap();
    let rt = dir.path().join("rt.json");
    std::fs::write(
        &rt,
        r#"{"name": "rt", "routes": [{"name": "fw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}]}"#,
    )
    .unwrap();
    let bin = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"));
        c.env_remove("TAGNET_TAGS")
            .env("TAGNET_CACHE", "/nonexistent/tagnet-test-cache");
        c
    };
    let verify = |with_rt: bool| {
        let mut c = bin();
        c.args([
            "nsg",
            "verify",
            "--vnet",
            "10.1.0.0/16",
            "--direction",
            "inbound",
            "--protocol",
            "tcp",
        ])
        .args([
            "--local",
            "10.1.0.4:22",
            "--remote",
            "203.0.113.9:50000",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&nsg);
        if with_rt {
            c.arg("--route-table").arg(&rt);
        }
        c.output().unwrap()
    };
    let plain = verify(false);
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(
        v["records"][0]["rule"], "defaultSecurityRules/DenyAllInBound",
        "{v}"
    );
    let routed = verify(true);
    let v: serde_json::Value = serde_json::from_slice(&routed.stdout).unwrap();
    assert_eq!(
        v["records"][0]["rule"], "defaultSecurityRules/AllowVnetInBound",
        "{v}"
    );
    assert!(String::from_utf8_lossy(&routed.stderr).contains("some readings"));
    // reach: the permissive reading's addresses, with the others named.
    let o = bin()
        .args([
            "-q",
            "nsg",
            "reach",
            "--vnet",
            "10.1.0.0/16",
            "--direction",
            "inbound",
        ])
        .args([
            "--protocol",
            "tcp",
            "--port",
            "22",
            "--format",
            "json",
            "--nsg",
        ])
        .arg(&nsg)
        .arg("--route-table")
        .arg(&rt)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["prefixes"][0]["prefix"], "0.0.0.0/0", "{v}");
    assert!(!v["readings"].as_array().unwrap().is_empty(), "{v}");
    // The same over the library for require: a requirement met under one reading only is
    // not met.
    let snap = tagnet::load::builtin::load().unwrap();
    let info = tagnet::ops::SnapshotInfo::of(&snap, "builtin");
    let scope = tagnet::ops::nsg::Scope {
        nsg: Some(
            tagnet::nsg::read::parse(br#"{"name": "n", "securityRules": []}"#, "n")
                .unwrap()
                .remove(0),
        ),
        vnet: vec!["10.1.0.0/16".parse().unwrap()],
        route_table: Some(
            tagnet::routes::audit::parse_route_table(&std::fs::read(&rt).unwrap(), "rt").unwrap(),
        ),
        ..Default::default()
    };
    let r = tagnet::ops::nsg::require(
        &snap,
        &info,
        &scope,
        &tagnet::ops::nsg::RequireParams {
            region: "eastus2".into(),
            profile: Some("aml-vnet-2020".into()),
            local: None,
        },
    )
    .unwrap();
    let inbound = r
        .requirements
        .iter()
        .find(|c| c.requirement.direction == "Inbound")
        .unwrap();
    assert_ne!(inbound.verdict, tagnet::nsg::reach::Met::Met);
    assert!(!r.readings.is_empty());
}

fn wide_address() -> impl Strategy<Value = Address> {
    const TAGS: [&str; 7] = [
        "VirtualNetwork",
        "Internet",
        "AzureCloud",
        "Storage.EastUS2",
        "BatchNodeManagement",
        "AzureMachineLearning",
        "AzureLoadBalancer",
    ];
    prop_oneof![
        1 => Just(Address::Any),
        2 => proptest::sample::select(&TAGS[..]).prop_map(|t| Address::Tag(t.to_string())),
        1 => Just(Address::Asgs(vec!["web".to_string()])),
        5 => proptest::collection::vec((0u32..64, 8u8..29, any::<bool>()), 1..4).prop_map(|v| {
            Address::Prefixes(
                v.into_iter()
                    .map(|(a, len, six)| {
                        if six {
                            IpNet::V6(ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(0xfd00u128 << 112 | u128::from(a) << 90), len + 40).unwrap()).trunc()
                        } else {
                            IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0x0A00_0000 | a << 18), len).unwrap()).trunc()
                        }
                    })
                    .collect(),
            )
        }),
    ]
}

fn wide_ports() -> impl Strategy<Value = Ports> {
    prop_oneof![
        Just(Ports::any()),
        proptest::collection::vec((0u16..2000, 0u16..300), 1..3)
            .prop_map(|v| Ports::from_ranges(v.into_iter().map(|(a, w)| (a, a + w)).collect())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// The swept analysis (pairs that share a flow, found by a sweep over sorted hulls) gives
    /// every finding of the all-pairs one, on NSGs mixing tags, ASGs, both families and
    /// overlapping prefixes and ports.
    #[test]
    fn analyze_swept_equals_all_pairs(v in proptest::collection::vec(
        (any::<bool>(), any::<bool>(), 0usize..4, wide_address(), wide_ports(), wide_address(), wide_ports()),
        1..40,
    )) {
        let rules: Vec<Rule> = v.into_iter().enumerate().map(|(i, (inbound, allow, p, source, source_ports, destination, destination_ports))| Rule {
            name: format!("r{i}"),
            priority: 100 + i as u32,
            direction: if inbound { Direction::Inbound } else { Direction::Outbound },
            access: if allow { Access::Allow } else { Access::Deny },
            protocol: [Protocol::Any, Protocol::Tcp, Protocol::Udp, Protocol::Icmp][p],
            source,
            source_ports,
            destination,
            destination_ports,
            default: false,
        }).collect();
        let s = snap();
        let c = ctx(&s);
        let n = nsg("n", rules);
        let swept = serde_json::to_value(tagnet::nsg::analyze::analyze_with(&c, &n, tagnet::nsg::analyze::Pairs::Swept)).unwrap();
        let all = serde_json::to_value(tagnet::nsg::analyze::analyze_with(&c, &n, tagnet::nsg::analyze::Pairs::All)).unwrap();
        prop_assert_eq!(swept, all);
    }
}

/// The same on the built-in snapshot's real tags: 400 seeded rules in the shape of
/// `benches/gen_nsg.py` (random prefixes and lists, `*`, `Internet`, regional service tags,
/// ports, ranges and lists), swept and all-pairs give the same findings, and there are some.
#[test]
fn analyze_swept_equals_all_pairs_on_real_tags() {
    let s = tagnet::load::builtin::load().unwrap();
    let c = Context {
        snapshot: &s,
        vnet: vec!["10.0.0.0/8".parse().unwrap()],
        asgs: BTreeMap::new(),
    };
    let mut x: u64 = 0x5EED_A7A1;
    fn step(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }
    let tags = [
        "Storage.EastUS2",
        "AzureMachineLearning",
        "BatchNodeManagement.EastUS2",
        "AzureActiveDirectory",
        "Internet",
        "VirtualNetwork",
    ];
    let rules: Vec<Rule> = (0..400)
        .map(|i| {
            let address = |n: u64, x: &mut u64| -> Address {
                match n % 10 {
                    0..=5 => Address::Prefixes(
                        (0..1 + n % 3)
                            .map(|_| {
                                let r = step(x);
                                IpNet::V4(
                                    ipnet::Ipv4Net::new(
                                        std::net::Ipv4Addr::from(r as u32),
                                        8 + (r >> 40) as u8 % 21,
                                    )
                                    .unwrap(),
                                )
                                .trunc()
                            })
                            .collect(),
                    ),
                    6 => Address::Any,
                    _ => Address::Tag(tags[(step(x) % 6) as usize].to_string()),
                }
            };
            let (sn, dn) = (step(&mut x), step(&mut x));
            let (source, destination) = (address(sn, &mut x), address(dn, &mut x));
            let a = (step(&mut x) % 65000) as u16;
            Rule {
                name: format!("r{i:03}"),
                priority: 100 + i / 2,
                direction: if i % 2 == 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                access: if step(&mut x).is_multiple_of(2) {
                    Access::Allow
                } else {
                    Access::Deny
                },
                protocol: [Protocol::Any, Protocol::Tcp, Protocol::Udp]
                    [(step(&mut x) % 3) as usize],
                source,
                source_ports: Ports::any(),
                destination,
                destination_ports: match step(&mut x) % 4 {
                    0 => Ports::any(),
                    1 => Ports::from_ranges(vec![(a, a)]),
                    _ => Ports::from_ranges(vec![(a, a + (step(&mut x) % 500) as u16)]),
                },
                default: false,
            }
        })
        .collect();
    let n = nsg("big", rules);
    let swept = tagnet::nsg::analyze::analyze_with(&c, &n, tagnet::nsg::analyze::Pairs::Swept);
    let all = tagnet::nsg::analyze::analyze_with(&c, &n, tagnet::nsg::analyze::Pairs::All);
    assert_eq!(
        serde_json::to_value(&swept).unwrap(),
        serde_json::to_value(&all).unwrap()
    );
    let codes: std::collections::BTreeSet<&str> = swept.iter().map(|f| f.finding.code).collect();
    assert!(codes.len() >= 2, "a test of something: {codes:?}");
}

/// A header naming the columns in another order is refused, with --skip-bad too (the lines
/// under it would be read by position, local and remote swapped); the header in tagnet's
/// order, in any case, is skipped.
#[test]
fn a_header_in_another_order_is_refused() {
    let run = |lines: &str, skip: bool| {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS")
            .arg("--tags")
            .arg(example())
            .args([
                "-q",
                "nsg",
                "verify",
                "--vnet",
                "10.1.0.0/16",
                "--flows",
                "-",
                "--format",
                "csv",
                "--nsg",
            ])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nsg/ml-nsg.json"));
        if skip {
            c.arg("--skip-bad");
        }
        c.write_stdin(lines.to_string()).output().unwrap()
    };
    let swapped = "direction,protocol,remote_ip,remote_port,local_ip,local_port\nInbound,Tcp,203.0.113.5,50000,10.1.0.4,22\n";
    for skip in [false, true] {
        let o = run(swapped, skip);
        assert_eq!(o.status.code(), Some(2), "skip {skip}");
        assert!(o.stdout.is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains("columns are read by position"));
    }
    let o = run(
        "DIRECTION,Protocol,local_ip,local_port,remote_ip,remote_port\nInbound,Tcp,10.1.0.4,22,10.1.0.9,50000\n",
        false,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("AllowVnetInBound"));
}

/// The edges of a flow file: a line that is not UTF-8 and a line of a megabyte are bad lines
/// (skipped with --skip-bad, the rest verified; refused without it); past 20 bad lines the
/// rest are counted, not printed; a .gz cut short writes the verdicts read before the cut,
/// then ends with exit 2 naming it.
#[test]
fn broken_flow_lines_are_bad_lines_and_a_cut_gz_fails_after_its_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |input: &std::path::Path, skip: bool, format: &str| {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS")
            .arg("--tags")
            .arg(example())
            .args([
                "-q",
                "nsg",
                "verify",
                "--vnet",
                "10.1.0.0/16",
                "--format",
                format,
            ])
            .arg("--flows")
            .arg(input)
            .arg("--nsg")
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nsg/ml-nsg.json"));
        if skip {
            c.arg("--skip-bad");
        }
        c.output().unwrap()
    };
    let good = "Inbound,Tcp,10.1.0.4,22,10.1.0.9,50000\n";
    let mut bytes = good.as_bytes().to_vec();
    bytes.extend_from_slice(b"Inbound,Tcp,10.1.0.4,22,10.1.0.\xff,50000\n");
    bytes.extend_from_slice(format!("Inbound,Tcp,{},22\n", "x".repeat(1 << 20)).as_bytes());
    bytes.extend_from_slice(good.as_bytes());
    let f = dir.path().join("edges.csv");
    std::fs::write(&f, &bytes).unwrap();
    let o = run(&f, true, "csv");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("AllowVnetInBound")
            .count(),
        2
    );
    assert!(err.contains(":2: not UTF-8 text"), "{err}");
    assert!(err.contains(":3: longer than 4096 bytes"), "{err}");
    assert!(
        err.len() < 2000,
        "a long line is quoted short: {} bytes",
        err.len()
    );
    let o = run(&f, false, "csv");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    // Many bad lines: 20 printed, the rest counted.
    let many: String = (0..500)
        .map(|i| format!("bad line {i}\n"))
        .collect::<String>()
        + good;
    let f = dir.path().join("many.csv");
    std::fs::write(&f, many).unwrap();
    let o = run(&f, true, "csv");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("skipped (`").count(), 20, "{err}");
    assert!(
        err.contains("480 more bad line(s) not shown (500 in all)"),
        "{err}"
    );
    // A gzip cut short: with --skip-bad the verdicts before the cut are written (the JSON
    // closed), and the run ends with exit 2; without it nothing is written.
    let lines: String = (0..20_000)
        .map(|i| {
            format!(
                "Inbound,Tcp,10.1.0.4,22,10.1.{}.{},50000\n",
                i / 250,
                i % 250
            )
        })
        .collect();
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, lines.as_bytes()).unwrap();
    let z = z.finish().unwrap();
    let f = dir.path().join("cut.csv.gz");
    std::fs::write(&f, &z[..z.len() / 2]).unwrap();
    let o = run(&f, true, "json");
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the JSON is closed");
    let n = v["records"].as_array().unwrap().len();
    assert!(n > 1000 && n < 20_000, "{n} verdicts before the cut");
    assert!(String::from_utf8_lossy(&o.stderr).contains("reading"));
    let o = run(&f, false, "json");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

/// `az network nsg rule list` output (the NSG's own rules, each typed
/// `…/networkSecurityGroups/securityRules` with its id) is read as that NSG, Azure's default
/// rules implied: it answers as `az network nsg show` of the same NSG does.
#[test]
fn a_rule_list_is_read_as_its_nsg() {
    let show: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nsg/ml-nsg.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let id = "/subscriptions/0/resourceGroups/rg-ml/providers/Microsoft.Network/networkSecurityGroups/ml-nsg";
    let list: Vec<serde_json::Value> = show["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["type"] = "Microsoft.Network/networkSecurityGroups/securityRules".into();
            r["id"] = format!("{id}/securityRules/{}", r["name"].as_str().unwrap()).into();
            r
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, serde_json::to_string(&list).unwrap()).unwrap();
    let verify = |nsg: &std::path::Path, dir: &str, local: &str, remote: &str| {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .args([
                "--tags",
                "builtin",
                "-q",
                "nsg",
                "verify",
                "--vnet",
                "10.10.0.0/16",
                "--nsg",
            ])
            .arg(nsg)
            .args([
                "--direction",
                dir,
                "--protocol",
                "tcp",
                "--local",
                local,
                "--remote",
                remote,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let show_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nsg/ml-nsg.json");
    for (d, l, r) in [
        ("inbound", "10.10.0.4:29876", "13.77.80.138:50000"),
        ("inbound", "10.10.0.4:22", "203.0.113.9:50000"),
        ("inbound", "10.10.0.4:44224", "20.38.98.100:50000"),
        ("outbound", "10.10.0.4:50000", "20.38.98.100:443"),
    ] {
        assert_eq!(
            verify(&rules, d, l, r),
            verify(&show_file, d, l, r),
            "{d} {l} {r}"
        );
    }
    // Rules of two NSGs are refused, naming both.
    let mut two = list.clone();
    let mut other = list[0].clone();
    other["id"] = format!("{}/securityRules/x", id.replace("ml-nsg", "other-nsg")).into();
    two.push(other);
    std::fs::write(&rules, serde_json::to_string(&two).unwrap()).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "--tags",
            "builtin",
            "-q",
            "nsg",
            "analyze",
            "--vnet",
            "10.10.0.0/16",
            "--nsg",
        ])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ml-nsg") && err.contains("other-nsg"), "{err}");
}
