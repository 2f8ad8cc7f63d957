//! Flow logs: the streaming reader against whole-slice parsing at every read size, tuple
//! rendering and parsing as inverses, attribution against a naive scan of every tag, and the
//! `flows` commands end to end on blobs in Azure's layout.

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;
use std::io::Read;
use std::net::IpAddr;
use tagnet::flowlog::attribute::{Attributor, Class, is_private};
use tagnet::flowlog::read::{self, Record};
use tagnet::flowlog::synth::{self, Plan};
use tagnet::flowlog::{Encryption, Kind, State, Tuple, parse_nsg, parse_vnet};
use tagnet::nsg::model::{Access, Direction};
use tagnet::{Snapshot, TagIndex};

fn builtin() -> (Snapshot, TagIndex) {
    let s = tagnet::load::builtin::load().unwrap();
    let i = TagIndex::build(&s);
    (s, i)
}

/// A reader that hands out at most `step` bytes a call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn summary(recs: &[Record]) -> Vec<(usize, usize, Vec<Tuple>, Vec<String>)> {
    recs.iter()
        .map(|r| {
            (
                r.index,
                r.groups.len(),
                r.tuples.clone(),
                r.groups.iter().map(|g| g.rule.clone()).collect(),
            )
        })
        .collect()
}

#[test]
fn streaming_equals_whole_reads_at_every_block_size() {
    let (s, i) = builtin();
    let mut plan = Plan::with_total(Kind::Vnet, "westeurope", 3000, 9);
    plan.nics = 1;
    plan.hours = 1;
    plan.records = 30;
    plan.tuples = 40;
    let blob = &synth::generate(&s, &i, &plan, &synth::default_decision).unwrap()[0];
    // Rule names with quotes, braces and escapes must not confuse the record scanner.
    let json = blob.json.replace(
        "DefaultRule_AllowInternetOutBound",
        "UserRule_a\\\"}]{[\\\\x",
    );
    let (whole, bad, stats) = read::read_slice(json.as_bytes(), "w");
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!((stats.records, stats.tuples), (30, 1200));
    assert!(
        whole
            .iter()
            .any(|r| r.groups.iter().any(|g| g.rule == "UserRule_a\"}]{[\\x"))
    );
    for step in [1, 2, 3, 7, 64, 1000, 65_537] {
        let mut recs = Vec::new();
        let mut bad = Vec::new();
        let st = read::read(
            Trickle {
                data: json.as_bytes(),
                step,
            },
            "t",
            &mut |r| recs.push(r),
            &mut |b| bad.push(b),
        );
        assert_eq!(st, stats, "step {step}");
        assert!(bad.is_empty());
        assert_eq!(summary(&recs), summary(&whole), "step {step}");
    }
}

fn arb_tuple(kind: Kind) -> impl Strategy<Value = Tuple> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u128>(),
        any::<bool>(),
        any::<u16>(),
        any::<u16>(),
        prop::sample::select(vec![6u8, 17]),
        any::<bool>(),
        0u8..4,
        any::<bool>(),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
        1_000_000_000u64..2_000_000_000,
    )
        .prop_map(
            move |(a, b, c, v6, sp, dp, proto, inbound, st, deny, n, secs)| {
                let src: IpAddr = if v6 {
                    IpAddr::V6(c.into())
                } else {
                    IpAddr::V4(a.into())
                };
                let dst: IpAddr = if v6 {
                    IpAddr::V6((c ^ u128::from(b)).into())
                } else {
                    IpAddr::V4(b.into())
                };
                let state = match (kind, st, deny) {
                    (Kind::Vnet, _, true) => State::Denied,
                    (Kind::Nsg1, _, _) => State::None,
                    (_, 0, _) => State::Begin,
                    (_, 1, _) => State::Continuing,
                    _ => State::End,
                };
                let counts = if matches!(state, State::Begin | State::Denied | State::None) {
                    (0, 0, 0, 0)
                } else {
                    (
                        u64::from(n.0),
                        u64::from(n.1),
                        u64::from(n.2),
                        u64::from(n.3),
                    )
                };
                Tuple {
                    time_ms: if kind == Kind::Vnet {
                        secs * 1000 + 123
                    } else {
                        secs * 1000
                    },
                    src,
                    dst,
                    src_port: sp,
                    dst_port: dp,
                    protocol: proto,
                    direction: if inbound {
                        Direction::Inbound
                    } else {
                        Direction::Outbound
                    },
                    access: if deny { Access::Deny } else { Access::Allow },
                    state,
                    encryption: if kind == Kind::Vnet {
                        Encryption::NotEncrypted
                    } else {
                        Encryption::None
                    },
                    packets_out: counts.0,
                    bytes_out: counts.1,
                    packets_in: counts.2,
                    bytes_in: counts.3,
                    group: 0,
                }
            },
        )
}

proptest! {
    #[test]
    fn vnet_tuples_render_and_parse_back(t in arb_tuple(Kind::Vnet)) {
        let text = synth::render(&t, Kind::Vnet);
        prop_assert_eq!(parse_vnet(&text, 0).unwrap(), t);
    }

    #[test]
    fn nsg_tuples_render_and_parse_back(t in arb_tuple(Kind::Nsg2), v1 in any::<bool>()) {
        let kind = if v1 { Kind::Nsg1 } else { Kind::Nsg2 };
        let mut t = t;
        if v1 {
            t.state = State::None;
            (t.packets_out, t.bytes_out, t.packets_in, t.bytes_in) = (0, 0, 0, 0);
        }
        let text = synth::render(&t, kind);
        prop_assert_eq!(parse_nsg(&text, 0).unwrap(), (t, kind));
    }
}

/// The attribution rule, naively: every tag's every prefix scanned.
fn naive(s: &Snapshot, ip: IpAddr) -> (Class, Option<(String, String)>, String) {
    type Best = ((u8, u8, std::cmp::Reverse<usize>), usize, ipnet::IpNet);
    let mut best: Option<Best> = None;
    let mut region: Option<((u8, std::cmp::Reverse<usize>), usize)> = None;
    for (id, t) in s.tags().iter().enumerate() {
        for p in t.prefixes() {
            if !p.contains(&ip) {
                continue;
            }
            let service = t.name_base() != "AzureCloud";
            let rank = u8::from(service) * 2 + u8::from(t.is_regional());
            let key = (rank, p.prefix_len(), std::cmp::Reverse(id));
            if best.as_ref().is_none_or(|b| key > b.0) {
                best = Some((key, id, p));
            }
            if t.is_regional() {
                let k = (p.prefix_len(), std::cmp::Reverse(id));
                if region.as_ref().is_none_or(|r| k > r.0) {
                    region = Some((k, id));
                }
            }
        }
    }
    match best {
        None => (
            if is_private(ip) {
                Class::Private
            } else {
                Class::Internet
            },
            None,
            String::new(),
        ),
        Some((_, id, p)) => {
            let t = &s.tags()[id];
            let r = if t.is_regional() {
                t.region().to_string()
            } else {
                region.map_or(String::new(), |(_, r)| s.tags()[r].region().to_string())
            };
            (Class::Azure, Some((t.name().to_string(), p.to_string())), r)
        }
    }
}

#[test]
fn attribution_equals_a_naive_scan_of_every_tag() {
    let (s, i) = builtin();
    let at = Attributor::new(&s, &i, None);
    let mut rng = super::common::Rng(17);
    let prefixes = i.prefixes();
    let mut addrs: Vec<IpAddr> = Vec::new();
    for _ in 0..600 {
        let p = prefixes[rng.below(prefixes.len())];
        addrs.push(match p {
            ipnet::IpNet::V4(n) => {
                let size = 1u64 << (32 - n.prefix_len());
                IpAddr::V4((u32::from(n.network()) + rng.below(size as usize) as u32).into())
            }
            ipnet::IpNet::V6(n) => IpAddr::V6(n.network()),
        });
        addrs.push(IpAddr::V4((rng.below(u32::MAX as usize) as u32).into()));
    }
    addrs.push("10.1.2.3".parse().unwrap());
    let tuples: Vec<Tuple> = addrs
        .iter()
        .map(|&a| Tuple {
            time_ms: 0,
            src: "10.0.0.4".parse().unwrap(),
            dst: a,
            src_port: 1,
            dst_port: 443,
            protocol: 6,
            direction: Direction::Outbound,
            access: Access::Allow,
            state: State::Begin,
            encryption: Encryption::None,
            packets_out: 0,
            bytes_out: 0,
            packets_in: 0,
            bytes_in: 0,
            group: 0,
        })
        .collect();
    let batch = at.attribute_tuples(&tuples);
    for (a, b) in addrs.iter().zip(&batch) {
        let one = at.attribute(*a);
        assert_eq!(&one, b, "{a}");
        let (class, tag, region) = naive(&s, *a);
        assert_eq!(one.class, class, "{a}");
        assert_eq!(
            one.tag.map(|_| (
                at.tag_name(&one).to_string(),
                i.prefix(one.prefix.unwrap()).to_string()
            )),
            tag,
            "{a}"
        );
        assert_eq!(at.region(&one), region, "{a}");
    }
}

const NSG: &str = r#"{"name": "ml-nsg", "securityRules": [
  {"name": "AllowBatch", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow",
   "protocol": "Tcp", "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*",
   "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"}},
  {"name": "AllowAml", "properties": {"priority": 110, "direction": "Inbound", "access": "Allow",
   "protocol": "Tcp", "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*",
   "destinationAddressPrefix": "*", "destinationPortRange": "44224"}}]}"#;

const NSG_NO_BATCH: &str = r#"{"name": "ml-nsg", "securityRules": [
  {"name": "AllowAml", "properties": {"priority": 110, "direction": "Inbound", "access": "Allow",
   "protocol": "Tcp", "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*",
   "destinationAddressPrefix": "*", "destinationPortRange": "44224"}}]}"#;

fn tagnet() -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.arg("--quiet");
    c
}

#[test]
fn flows_commands_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nsg.json"), NSG).unwrap();
    std::fs::write(d.join("nsg-no-batch.json"), NSG_NO_BATCH).unwrap();
    let nsg = d.join("nsg.json");
    let nsg_nb = d.join("nsg-no-batch.json");
    for (kind, sub, with) in [
        ("vnet", "vnet", &nsg),
        ("nsg-v2", "nsg", &nsg),
        ("nsg-v1", "nsgv1", &nsg),
        ("vnet", "vnet-nb", &nsg_nb),
    ] {
        tagnet()
            .args([
                "flows",
                "synth",
                "--kind",
                kind,
                "--tuples",
                "12000",
                "--vnet",
                "10.0.0.0/16",
                "--nsg",
            ])
            .arg(with)
            .arg("--dir")
            .arg(d.join(sub))
            .assert()
            .success()
            .stdout(predicate::str::contains("PT1H.json"));
    }
    // The summary counts every tuple, and the shares add up.
    let out = tagnet()
        .args([
            "flows",
            "attribute",
            "--summary",
            "--format",
            "json",
            "--region",
            "westeurope",
            "--profile",
            "aml-vnet-2020",
        ])
        .arg(d.join("vnet"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tuples = v["tuples"].as_u64().unwrap();
    assert!(tuples >= 10_000, "{v}");
    let sum: u64 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["tuples"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, tuples);
    let classes: Vec<&str> = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["azure", "private", "internet"]);
    // With your own ranges (half the address space), their tuples are `custom`, named by the
    // tag; every tuple is still counted once.
    let corp = d.join("corp.json");
    std::fs::write(&corp, r#"{"Corp.Half": ["0.0.0.0/1"]}"#).unwrap();
    let out2 = tagnet()
        .arg("--custom")
        .arg(&corp)
        .args(["flows", "attribute", "--summary", "--format", "json"])
        .arg(d.join("vnet"))
        .output()
        .unwrap();
    assert!(
        out2.status.success(),
        "{}",
        String::from_utf8_lossy(&out2.stderr)
    );
    let w: serde_json::Value = serde_json::from_slice(&out2.stdout).unwrap();
    let by_class: Vec<(&str, u64)> = w["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["class"].as_str().unwrap(), c["tuples"].as_u64().unwrap()))
        .collect();
    assert!(
        by_class.iter().any(|(c, n)| *c == "custom" && *n > 0),
        "{by_class:?}"
    );
    assert_eq!(by_class.iter().map(|c| c.1).sum::<u64>(), tuples);
    assert!(
        w["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["class"] == "custom" && g["service"] == "Corp.Half"),
        "{w:#}"
    );
    assert!(
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["carried"] == true && g["service"] == "AzureMachineLearning")
    );
    // Rows: one per tuple, in file order, the same in csv and ndjson.
    let csv = tagnet()
        .args(["flows", "attribute", "--format", "csv"])
        .arg(d.join("vnet"))
        .output()
        .unwrap();
    let nd = tagnet()
        .args(["flows", "attribute", "--format", "ndjson"])
        .arg(d.join("vnet"))
        .output()
        .unwrap();
    let js = tagnet()
        .args(["flows", "attribute", "--format", "json"])
        .arg(d.join("vnet"))
        .output()
        .unwrap();
    let csv_rows = String::from_utf8(csv.stdout).unwrap();
    let nd_rows: Vec<serde_json::Value> = String::from_utf8(nd.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // A JSON document names its snapshot: {"snapshot": …, "records": [...]}.
    let js_doc: serde_json::Value = serde_json::from_slice(&js.stdout).unwrap();
    assert_eq!(js_doc["snapshot"]["cloud"], "Public");
    let js_rows: Vec<serde_json::Value> = js_doc["records"].as_array().unwrap().clone();
    assert_eq!(csv_rows.lines().count() as u64, tuples + 1);
    assert_eq!(nd_rows.len() as u64, tuples);
    assert_eq!(nd_rows, js_rows);
    for (line, row) in csv_rows.lines().skip(1).zip(&nd_rows) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[7], row["remote_ip"].as_str().unwrap());
        assert_eq!(f[12], row["tag"].as_str().unwrap());
    }
    // Verified against the NSG that decided them: no drift, in every log format.
    for sub in ["vnet", "nsg", "nsgv1"] {
        tagnet()
            .args(["flows", "verify", "--vnet", "10.0.0.0/16", "--nsg"])
            .arg(&nsg)
            .arg(d.join(sub))
            .assert()
            .success()
            .stdout(predicate::str::starts_with("no drift: "));
    }
    // Against an NSG without the Batch rule: the Batch flows drift, and nothing else.
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "ndjson",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(&nsg_nb)
        .arg(d.join("vnet"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["drift"], "flow-verdict-drift", "{r}");
        assert_eq!(r["logged_rule"], "UserRule_AllowBatch");
        assert_eq!(r["rule"], "ml-nsg defaultSecurityRules/DenyAllInBound");
        assert!([29876, 29877].contains(&r["local_port"].as_u64().unwrap()));
    }
    // Logs of the NSG without the Batch rule, verified with it and the profile: the denied
    // Batch flows are required ones.
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "csv",
            "--vnet",
            "10.0.0.0/16",
            "--profile",
            "aml-vnet-2020",
            "--region",
            "westeurope",
            "--nsg",
        ])
        .arg(&nsg_nb)
        .arg(d.join("vnet-nb"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().skip(1).count() > 0);
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.starts_with("flow-required-denied,")),
        "{text}"
    );
    tagnet()
        .args(["explain", "flow-required-denied"])
        .assert()
        .success()
        .stdout(predicate::str::contains("TN303"));
}

#[test]
fn bad_flow_logs_are_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = r#"{"records":[{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,B,NX,0,0,0,0","1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,Q,NX,0,0,0,0"]}]}]}}]}"#;
    std::fs::write(d.join("a.json"), good).unwrap();
    std::fs::write(d.join("b.json"), &good[..good.len() - 30]).unwrap();
    std::fs::write(d.join("c.json"), "hello").unwrap();
    // Unreadable tuples are reported and, without --skip-bad, end the run with exit 2 (a
    // folder of garbage is never a pass); the readable rows are still written.
    let refused = tagnet()
        .args(["flows", "attribute", "--format", "csv"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--skip-bad"));
    let out = tagnet()
        .args(["flows", "attribute", "--format", "csv", "--skip-bad"])
        .arg(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, refused.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a.json: records[0], tuple 1: flow state `Q` is none of B, C, E, D"),
        "{err}"
    );
    assert!(
        err.contains("b.json") && err.contains("ends inside the JSON"),
        "{err}"
    );
    assert!(
        err.contains("c.json") && err.contains("not a flow log"),
        "{err}"
    );
    // The header and the one good tuple of a.json: b.json's only record is cut short.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    // Nothing readable at all: exit 2, and -o leaves no file.
    let o = d.join("out.csv");
    tagnet()
        .args(["--format", "csv", "flows", "attribute", "-o"])
        .arg(&o)
        .arg(d.join("c.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no readable flow tuple"));
    assert!(!o.exists());
    tagnet()
        .args(["flows", "attribute"])
        .arg(d.join("missing"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
    tagnet()
        .args(["flows", "verify"])
        .arg(d.join("a.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--nsg"));
    tagnet()
        .args(["flows", "attribute", "--format", "az"])
        .arg(d.join("a.json"))
        .assert()
        .code(2);
    // From standard input (its second tuple is unreadable: accepted with --skip-bad).
    tagnet()
        .args(["flows", "attribute", "--format", "csv", "--skip-bad", "-"])
        .write_stdin(good)
        .assert()
        .success()
        .stdout(predicate::str::contains("20.38.98.100"));
}

/// What Azure and archives really hold: an hour without traffic (`{"records": []}`) is empty,
/// not an error; compressed blobs in a folder are read; unreadable flow lines of `nsg verify
/// --flows` refuse the run unless `--skip-bad`.
#[test]
fn empty_hours_gzip_blobs_and_bad_lines() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = r#"{"records":[{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,B,NX,0,0,0,0"]}]}]}}]}"#;
    let hour = d.join("y=2026/m=12/d=01/h=00/m=00/macAddress=00AA/");
    std::fs::create_dir_all(&hour).unwrap();
    std::fs::write(hour.join("PT1H.json"), r#"{"records": []}"#).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(good.as_bytes()).unwrap();
    let next = d.join("y=2026/m=12/d=01/h=01/m=00/macAddress=00AA/");
    std::fs::create_dir_all(&next).unwrap();
    std::fs::write(next.join("PT1H.json.gz"), gz.finish().unwrap()).unwrap();
    // The empty hour alone: an empty table, exit 0.
    let out = tagnet()
        .args(["flows", "attribute", "--format", "csv"])
        .arg(hour.join("PT1H.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = tagnet()
        .args(["flows", "attribute", "--format", "json"])
        .arg(hour.join("PT1H.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"], serde_json::json!([]));
    // The folder: the gzip blob's tuple is read.
    let out = tagnet()
        .args(["flows", "attribute", "--format", "csv"])
        .arg(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("20.38.98.100"));
    // nsg verify --flows with 4 of 6 lines bad: exit 2, nothing verified; --skip-bad verifies
    // the rest.
    let nsg = d.join("nsg.json");
    std::fs::write(&nsg, NSG).unwrap();
    let flows = d.join("flows.csv");
    std::fs::write(
        &flows,
        "inbound,tcp,10.0.0.4,29876,40.74.1.1,5000\nnonsense\ninbound,tcp,10.0.0.4\noutbound,tcp,10.0.0.4,5000,x,443\ninbound,tcp,10.0.0.4,22,1.2.3.4,5000,extra\ninbound,tcp,10.0.0.4,44224,1.2.3.4,5000\n",
    )
    .unwrap();
    let out = tagnet()
        .args(["nsg", "verify", "--vnet", "10.0.0.0/16", "--nsg"])
        .arg(&nsg)
        .arg("--flows")
        .arg(&flows)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("4 of 6 flow lines") && err.contains("--skip-bad"),
        "{err}"
    );
    let out = tagnet()
        .args([
            "nsg",
            "verify",
            "--skip-bad",
            "--format",
            "csv",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(&nsg)
        .arg("--flows")
        .arg(&flows)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

/// A tuple VNet encryption dropped (`NX_NOT_ACCEPTED`, logged denied) is its own finding, not
/// an NSG drift: with an NSG that allows the flow, verify reports `flow-encryption-drop` (a
/// warning: exit 0) and no verdict drift.
#[test]
fn encryption_drops_are_not_nsg_drift() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blob = r#"{"records":[{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"DefaultRule_AllowVnetOutBound","flowTuples":["1663146003599,10.0.0.6,10.0.1.9,23956,443,6,O,D,NX_NOT_ACCEPTED,0,0,0,0","1663146003599,10.0.0.6,10.0.1.9,23957,443,6,O,D,NX,0,0,0,0"]}]}]}}]}"#;
    std::fs::write(d.join("PT1H.json"), blob).unwrap();
    std::fs::write(d.join("nsg.json"), NSG).unwrap();
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "ndjson",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(d.join("nsg.json"))
        .arg(d.join("PT1H.json"))
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let drifts: Vec<(&str, &str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["drift"].as_str().unwrap(),
                r["severity"].as_str().unwrap(),
                r["local_port"].as_u64().unwrap(),
            )
        })
        .collect();
    // The encrypted-drop tuple is an encryption drop; the plain denied one a verdict drift.
    assert_eq!(
        drifts,
        [
            ("flow-encryption-drop", "warning", 23956),
            ("flow-verdict-drift", "error", 23957)
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "ndjson",
            "--vnet",
            "10.0.0.0/16",
            "--allow",
            "flow-verdict-drift",
            "--nsg",
        ])
        .arg(d.join("nsg.json"))
        .arg(d.join("PT1H.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// A Front Door address is attributed to Front Door (its tags have an empty `systemService`),
/// not to `AzureCloud.<region>`.
#[test]
fn front_door_addresses_are_front_doors() {
    let (snap, index) = builtin();
    let at = Attributor::new(&snap, &index, None);
    let fd = snap.tag(snap.tag_by_name("AzureFrontDoor.Frontend").unwrap());
    let p = fd.v4().first().copied().unwrap();
    let ip = IpAddr::V4(p.network());
    let a = at.attribute(ip);
    assert_eq!(snap.tag(a.tag.unwrap()).name_base(), "AzureFrontDoor");
    assert_eq!(at.service(&a), "AzureFrontDoor");
}

/// Azure logs each NSG's own decision: in a VNet flow log, one `aclID` per NSG (its
/// `resourceGuid`). A flow the subnet's NSG allows and the NIC's denies is logged allowed
/// under the first and denied under the second — no drift; an `aclID` of an NSG not given is
/// counted and named, not judged.
#[test]
fn each_nsg_record_is_judged_against_its_own_nsg() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let subnet = serde_json::json!({"name": "nsg-subnet", "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-subnet",
        "resourceGuid": "aaaaaaaa-0000-0000-0000-000000000001", "securityRules": []});
    let nic = serde_json::json!({"name": "nsg-nic", "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-nic",
        "resourceGuid": "aaaaaaaa-0000-0000-0000-000000000002", "securityRules": [
        {"name": "DenyHttps", "priority": 100, "direction": "Outbound", "access": "Deny", "protocol": "Tcp",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"}]});
    std::fs::write(d.join("subnet.json"), subnet.to_string()).unwrap();
    std::fs::write(d.join("nic.json"), nic.to_string()).unwrap();
    let tuple = |state: &str| {
        format!("1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,{state},NX,0,0,0,0")
    };
    let blob = serde_json::json!({"records": [{"time": "t", "flowLogVersion": 4, "flowRecords": {"flows": [
        {"aclID": "AAAAAAAA-0000-0000-0000-000000000001", "flowGroups": [{"rule": "DefaultRule_AllowInternetOutBound", "flowTuples": [tuple("B")]}]},
        {"aclID": "aaaaaaaa-0000-0000-0000-000000000002", "flowGroups": [{"rule": "UserRule_DenyHttps", "flowTuples": [tuple("D")]}]},
        {"aclID": "bbbbbbbb-0000-0000-0000-000000000009", "flowGroups": [{"rule": "UserRule_Other", "flowTuples": [tuple("D")]}]}
    ]}}]});
    std::fs::write(d.join("PT1H.json"), blob.to_string()).unwrap();
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "json",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(d.join("subnet.json"))
        .arg("--nic-nsg")
        .arg(d.join("nic.json"))
        .arg(d.join("PT1H.json"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["records"], serde_json::json!([]), "{v:#}");
    assert_eq!(v["summary"]["unmatched"], 1);
    assert_eq!(
        v["summary"]["unmatched_nsgs"],
        serde_json::json!(["bbbbbbbb-0000-0000-0000-000000000009"])
    );
    // An NSG that logged none of the records: nothing is judged, and that is not a pass.
    let other = serde_json::json!({"name": "nsg-other", "resourceGuid": "cccccccc-0000-0000-0000-000000000003", "securityRules": []});
    std::fs::write(d.join("other.json"), other.to_string()).unwrap();
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "json",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(d.join("other.json"))
        .arg(d.join("PT1H.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// Blobs concatenated on standard input, one of them cut short (`cat` of an hour still being
/// written and the next): the cut blob is reported and the next one read whole, not
/// swallowed into the cut one.
#[test]
fn a_cut_blob_on_stdin_does_not_swallow_the_next() {
    let blob = r#"{"records":[{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["1663146003599,10.0.0.6,20.38.98.100,23956,443,6,O,B,NX,0,0,0,0"]}]}]}}]}"#;
    for (cut, sep) in [30, 120, blob.len() - 3]
        .into_iter()
        .flat_map(|c| [(c, "\n"), (c, "")])
    {
        // With a line break after the cut, or none (a file cut short ends without one).
        let input = format!("{}{sep}{blob}\n{blob}\n", &blob[..cut]);
        let out = tagnet()
            .args(["flows", "attribute", "-", "--format", "csv", "--skip-bad"])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "cut at {cut}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = String::from_utf8_lossy(&out.stdout).lines().count() - 1;
        assert_eq!(rows, 2, "cut at {cut}: both whole blobs are read");
        // Without --skip-bad the cut is an error, never a pass.
        let out = tagnet()
            .args(["flows", "attribute", "-", "--format", "csv"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "cut at {cut}");
    }
}

/// Times in seconds where milliseconds belong, and a log version tagnet does not know, are
/// read but warned about with their counts (standard error and the JSON summary).
#[test]
fn implausible_times_and_unknown_versions_are_counted() {
    let blob = r#"{"records":[{"time":"t","flowLogVersion":5,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["1663146003,10.0.0.6,20.38.98.100,23956,443,6,O,B,NX,0,0,0,0","1663146003599,10.0.0.6,20.38.98.100,23957,443,6,O,B,NX,0,0,0,0"]}]}]}}]}"#;
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["flows", "attribute", "-", "--format", "csv"])
        .write_stdin(blob)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 tuple(s) have implausible times"), "{err}");
    assert!(err.contains("1 record(s) are of log version 5"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nsg.json"), NSG).unwrap();
    let out = tagnet()
        .args([
            "flows",
            "verify",
            "--format",
            "json",
            "--vnet",
            "10.0.0.0/16",
            "--nsg",
        ])
        .arg(dir.path().join("nsg.json"))
        .arg("-")
        .write_stdin(blob)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["odd_times"], 1, "{v:#}");
    assert_eq!(v["summary"]["unknown_versions"], 1, "{v:#}");
}

/// With the subnet's route table, a logged decision that a reading of `VirtualNetwork`
/// explains is not drift: under a 0.0.0.0/0 UDR Azure logged an Internet source allowed by
/// AllowVnetInBound, which is drift without the table and none with it.
#[test]
fn a_route_table_explains_allow_vnet_inbound_under_forced_tunneling() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blob = r#"{"records":[{"time":"t","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"DefaultRule_AllowVnetInBound","flowTuples":["1663146003599,203.0.113.9,10.0.0.6,50000,22,6,I,B,NX,0,0,0,0"]}]}]}}]}"#;
    std::fs::write(d.join("PT1H.json"), blob).unwrap();
    std::fs::write(
        d.join("nsg.json"),
        r#"{"name": "nsg-default", "securityRules": []}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("rt.json"),
        r#"{"name": "rt", "routes": [{"name": "fw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}]}"#,
    )
    .unwrap();
    let run = |extra: &[&str]| {
        tagnet()
            .args([
                "flows",
                "verify",
                "--format",
                "ndjson",
                "--vnet",
                "10.0.0.0/16",
                "--nsg",
            ])
            .arg(d.join("nsg.json"))
            .args(extra)
            .arg(d.join("PT1H.json"))
            .output()
            .unwrap()
    };
    let without = run(&[]);
    assert_eq!(
        without.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&without.stdout)
    );
    assert!(String::from_utf8_lossy(&without.stdout).contains("flow-verdict-drift"));
    let rt = d.join("rt.json");
    let with = run(&["--route-table", rt.to_str().unwrap()]);
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stdout)
    );
    assert!(
        with.stdout.is_empty() || !String::from_utf8_lossy(&with.stdout).contains("drift\":\"flow")
    );
}

/// `flows verify` in a table with nothing to show says so on standard output, `--quiet` or
/// not: the answer is never an empty screen.
#[test]
fn verify_without_drift_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    assert!(
        tagnet()
            .args(["flows", "synth", "--tuples", "300", "--dir"])
            .arg(&logs)
            .output()
            .unwrap()
            .status
            .success()
    );
    // No rule of its own: Azure's default rules decide, as they were logged.
    let nsg = dir.path().join("nsg.json");
    std::fs::write(&nsg, r#"{"name": "ml-nsg", "securityRules": []}"#).unwrap();
    let out = tagnet()
        .args(["flows", "verify"])
        .arg(&logs)
        .arg("--nsg")
        .arg(&nsg)
        .args(["--vnet", "10.0.0.0/16"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("no drift: 300 tuple(s) read, 300 judged"),
        "{text}"
    );
}
