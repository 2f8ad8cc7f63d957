//! `udr`, `routes audit`, `aggregate`, `overlaps`: exactness, budgets, formats, audit cases.

use super::common::{example, shared};
use assert_cmd::Command;
use ipnet::IpNet;
use predicates::prelude::*;
use tagnet::prefixset::PrefixSet;
use tagnet::routes::valid_route_name;

fn tagnet(tags: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.env_remove("TAGNET_TAGS").arg("--tags").arg(tags);
    c
}

/// Runs tagnet on the example snapshot and expects exit 2 with `message` on standard error.
fn fails_with(args: &[&str], message: &str) {
    tagnet(&example())
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
}

fn json_of(tags: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = tagnet(tags)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn route_prefixes(doc: &serde_json::Value) -> Vec<IpNet> {
    doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address_prefix"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn tag_set(snap: &tagnet::Snapshot, names: &[&str], v6: bool) -> PrefixSet {
    PrefixSet::from_prefixes(names.iter().flat_map(|n| {
        let t = snap.tag(snap.tag_by_name(n).unwrap());
        let v4 = t.v4().iter().map(|&p| IpNet::V4(p));
        let v6s = t.v6().iter().map(|&p| IpNet::V6(p)).filter(move |_| v6);
        v4.chain(v6s).collect::<Vec<_>>()
    }))
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn udr_eastus2_routes_exactly_the_two_regional_tags() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let snap = tagnet::load::load_path(&path).unwrap();
    let doc = json_of(&path, &["udr", "--region", "eastus2"]);
    let routes = route_prefixes(&doc);
    let want = tag_set(
        &snap,
        &[
            "BatchNodeManagement.EastUS2",
            "AzureMachineLearning.EastUS2",
        ],
        false,
    );
    assert_eq!(PrefixSet::from_prefixes(routes.iter().copied()), want);
    assert_eq!(
        routes.len(),
        want.to_prefixes().len(),
        "exact minimal aggregation"
    );
    assert_eq!(doc["extra_addresses"], 0);
    let names: Vec<&str> = doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().all(|n| valid_route_name(n)), "{names:?}");
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    assert!(
        doc["routes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["next_hop_type"] == "Internet")
    );
    // With IPv6 and the region's pair.
    let doc = json_of(&path, &["udr", "--region", "eastus2,centralus", "--ipv6"]);
    let want = tag_set(
        &snap,
        &[
            "BatchNodeManagement.EastUS2",
            "AzureMachineLearning.EastUS2",
            "BatchNodeManagement.CentralUS",
            "AzureMachineLearning.CentralUS",
        ],
        true,
    );
    assert_eq!(PrefixSet::from_prefixes(route_prefixes(&doc)), want);
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn udr_budget_covers_within_the_limit_and_never_private() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let snap = tagnet::load::load_path(&path).unwrap();
    let want = tag_set(
        &snap,
        &[
            "BatchNodeManagement.EastUS2",
            "AzureMachineLearning.EastUS2",
        ],
        false,
    );
    for max in [1usize, 5, 10, 22] {
        let args = [
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            &max.to_string(),
            "--reserve",
            "0",
            "--never-cover",
            "20.41.0.0/28",
        ];
        let out = tagnet(&path)
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        if out.status.code() == Some(1) {
            // A small budget is infeasible: few prefixes would cover private or 20.41.0.0/28.
            assert!(max < 10, "{max} routes should be feasible");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("more than --max-routes"),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let doc = json_of(&path, &args);
        let routes = route_prefixes(&doc);
        assert!(routes.len() <= max, "{max}: {}", routes.len());
        let got = PrefixSet::from_prefixes(routes.iter().copied());
        assert!(
            want.difference(&got).v4.is_empty(),
            "{max}: input not covered"
        );
        let private = PrefixSet::from_prefixes(
            tagnet::routes::PRIVATE_RANGES
                .iter()
                .chain(&["20.41.0.0/28"])
                .map(|p| p.parse::<IpNet>().unwrap()),
        );
        assert!(
            got.intersection(&private).v4.is_empty(),
            "{max}: covers forbidden space"
        );
        let extra = got.difference(&want).v4.address_count();
        assert_eq!(doc["extra_addresses"].as_u64().unwrap() as u128, extra);
    }
    tagnet(&path)
        .args([
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "10",
            "--exact",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs 23 routes"));
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn udr_names_are_stable_across_weeks() {
    let (Some(old), Some(new)) = (
        shared("ServiceTags_Public_cn373.json"),
        shared("ServiceTags_Public_cn376.json"),
    ) else {
        return;
    };
    let pairs = |p: &std::path::Path| -> std::collections::BTreeMap<String, String> {
        json_of(p, &["udr", "--region", "westeurope"])["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["address_prefix"].as_str().unwrap().to_string(),
                    r["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (a, b) = (pairs(&old), pairs(&new));
    let mut same = 0;
    for (prefix, name) in &a {
        if let Some(n2) = b.get(prefix) {
            assert_eq!(name, n2, "{prefix}");
            same += 1;
        }
    }
    assert!(same > 0);
}

#[test]
fn udr_every_format_snapshot() {
    for format in ["table", "csv", "json", "az", "arm", "bicep", "terraform"] {
        let out = tagnet(&example())
            .args(["udr", "--region", "East US 2", "--ipv6", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        insta::assert_snapshot!(
            format!("udr_{format}"),
            String::from_utf8(out.stdout)
                .unwrap()
                .replace(&example().display().to_string(), "EXAMPLE")
        );
    }
    let out = tagnet(&example())
        .args([
            "udr",
            "--region",
            "eastus2",
            "--only-tag",
            "Storage",
            "--use-service-tags",
            "--next-hop",
            "VirtualAppliance",
            "--next-hop-ip",
            "10.0.100.4",
            "--format",
            "terraform",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!(
        "udr_service_tag_terraform",
        String::from_utf8(out.stdout).unwrap()
    );
}

#[test]
fn udr_arm_holds_exactly_the_routes_and_az_parses() {
    let json = json_of(&example(), &["udr", "--region", "eastus2", "--ipv6"]);
    // By default: child routes of an existing table, in a serial copy loop.
    let out = tagnet(&example())
        .args(["udr", "--region", "eastus2", "--ipv6", "--format", "arm"])
        .output()
        .unwrap();
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let res = &arm["resources"][0];
    assert_eq!(arm["resources"].as_array().unwrap().len(), 1);
    assert_eq!(res["type"], "Microsoft.Network/routeTables/routes");
    assert_eq!(res["copy"]["mode"], "serial");
    let child_routes: Vec<(String, String, String)> = arm["variables"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["properties"]["addressPrefix"].as_str().unwrap().into(),
                r["properties"]["nextHopType"].as_str().unwrap().into(),
            )
        })
        .collect();
    // With --whole-table: the table, its stated default route first, then the routes.
    let out = tagnet(&example())
        .args([
            "udr",
            "--region",
            "eastus2",
            "--ipv6",
            "--format",
            "arm",
            "--whole-table",
            "--default-route",
            "VirtualAppliance:10.1.0.4",
        ])
        .output()
        .unwrap();
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let res = &arm["resources"][0];
    assert_eq!(res["type"], "Microsoft.Network/routeTables");
    assert_eq!(
        res["properties"]["routes"][0]["properties"]["addressPrefix"],
        "0.0.0.0/0"
    );
    assert_eq!(
        res["properties"]["routes"][0]["properties"]["nextHopIpAddress"],
        "10.1.0.4"
    );
    let arm_routes: Vec<(String, String, String)> = res["properties"]["routes"].as_array().unwrap()
        [1..]
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["properties"]["addressPrefix"].as_str().unwrap().into(),
                r["properties"]["nextHopType"].as_str().unwrap().into(),
            )
        })
        .collect();
    let json_routes: Vec<(String, String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["address_prefix"].as_str().unwrap().into(),
                r["next_hop_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(arm_routes, json_routes);
    assert_eq!(child_routes, json_routes);
    assert_eq!(arm_routes.len(), 5, "4 IPv4 routes and one merged IPv6 /47");

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("routes.sh");
    tagnet(&example())
        .args(["udr", "--region", "eastus2", "--format", "az", "--output"])
        .arg(&script)
        .assert()
        .code(0);
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "bash -n failed on the az script");
    let text = std::fs::read_to_string(&script).unwrap();
    assert_eq!(text.matches("\tInternet\t").count(), 4, "{text}");
}

#[test]
fn udr_bad_input_is_a_clear_error() {
    fails_with(&["udr", "--region", "eastus3"], "did you mean `eastus2`");
    fails_with(
        &["udr", "--region", "eastus2", "--next-hop", "Teleport"],
        "invalid next hop `Teleport`",
    );
    fails_with(
        &[
            "udr",
            "--region",
            "eastus2",
            "--next-hop",
            "VirtualAppliance",
        ],
        "--next-hop-ip",
    );
    fails_with(
        &["udr", "--region", "eastus2", "--profile", "nope"],
        "aml-vnet-2023",
    );
    tagnet(&example())
        .args(["lookup", "192.0.2.1", "--format", "arm"])
        .assert()
        .code(2);
    // A failed run leaves no output file behind.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("routes.json");
    tagnet(&example())
        .args(["udr", "--region", "nowhere", "--output"])
        .arg(&target)
        .assert()
        .code(2);
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The ARM template `udr --region eastus2` writes for `tags`, with `edit` applied to its routes.
fn edited_table(
    tags: &std::path::Path,
    edit: impl FnOnce(&mut Vec<serde_json::Value>),
) -> serde_json::Value {
    let out = tagnet(tags)
        .args([
            "udr",
            "--region",
            "eastus2",
            "--format",
            "arm",
            "--whole-table",
            "--default-route",
            "none",
        ])
        .output()
        .unwrap();
    let mut arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    edit(
        arm["resources"][0]["properties"]["routes"]
            .as_array_mut()
            .unwrap(),
    );
    arm
}

/// Audits `table` (written to a temporary file) for eastus2 with `args` added.
fn run_audit(
    tags: &std::path::Path,
    table: &serde_json::Value,
    args: &[&str],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("table.json");
    std::fs::write(&file, table.to_string()).unwrap();
    tagnet(tags)
        .args(["routes", "audit", "--route-table"])
        .arg(&file)
        .args(["--region", "eastus2"])
        .args(args)
        .output()
        .unwrap()
}

/// Audits the example's correct table with `edit` applied: (exit code, JSON report).
fn audit_with(edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> (i32, serde_json::Value) {
    let table = edited_table(&example(), edit);
    let out = run_audit(
        &example(),
        &table,
        &["--vnet", "10.1.0.0/16", "--format", "json"],
    );
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn route(name: &str, prefix: &str, hop: &str, ip: Option<&str>) -> serde_json::Value {
    let mut p = serde_json::json!({"addressPrefix": prefix, "nextHopType": hop});
    if let Some(ip) = ip {
        p["nextHopIpAddress"] = ip.into();
    }
    serde_json::json!({"name": name, "properties": p})
}

/// The forced-tunneling default route to a firewall.
fn firewall() -> serde_json::Value {
    route("fw", "0.0.0.0/0", "VirtualAppliance", Some("10.1.0.4"))
}

/// One finding as `findings` lists it.
fn one(code: &str, route: &str, prefix: &str) -> Vec<(String, String, Vec<String>)> {
    vec![(code.into(), route.into(), vec![prefix.into()])]
}

/// The error and warning findings (info findings are checked where they matter).
fn findings(doc: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
                f["prefixes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn audit_cases() {
    // Correct table: nothing to report.
    let (code, doc) = audit_with(|_| {});
    assert_eq!((code, findings(&doc).len()), (0, 0));

    // Forced tunneling with one required route deleted: that prefix goes to the firewall.
    let (code, doc) = audit_with(|r| {
        r.retain(|x| x["properties"]["addressPrefix"] != "192.0.2.64/27");
        r.push(firewall());
    });
    assert_eq!(code, 1);
    assert_eq!(findings(&doc), one("missing-route", "fw", "192.0.2.64/27"));
    assert_eq!(doc["ensure"][0]["address_prefix"], "192.0.2.64/27");

    // Partial: a /28 route where a /27 is needed leaves the other half to the default route.
    let (code, doc) = audit_with(|r| {
        for x in r.iter_mut() {
            if x["properties"]["addressPrefix"] == "192.0.2.64/27" {
                x["properties"]["addressPrefix"] = "192.0.2.64/28".into();
            }
        }
        r.push(firewall());
    });
    assert_eq!(code, 1);
    assert_eq!(findings(&doc), one("missing-route", "fw", "192.0.2.80/28"));

    // Shadowed: a more specific route to an appliance inside a required Internet route.
    let (code, doc) = audit_with(|r| {
        r.push(route(
            "inspect",
            "192.0.2.32/30",
            "VirtualAppliance",
            Some("10.1.0.4"),
        ))
    });
    assert_eq!(code, 1);
    assert_eq!(
        findings(&doc),
        one("shadowed-route", "inspect", "192.0.2.32/30")
    );

    // A route to Internet that tagnet cannot tie to the required tags is info, never deleted.
    let (code, doc) = audit_with(|r| r.push(route("old", "198.51.100.0/26", "Internet", None)));
    assert_eq!((code, findings(&doc).len()), (0, 0));
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "unrelated-internet-route" && f["resource"] == "old"),
        "{doc}"
    );
    assert_eq!(doc["delete"], serde_json::json!([]));
    assert_eq!(doc["review"], serde_json::json!([]));

    // Stale: a route named as `udr` names them, for a prefix no required tag holds: a warning,
    // exit 0, listed for review; deleted only with --prune.
    let stale = || {
        route(
            "BatchNodeManagement-198.51.100.0_26",
            "198.51.100.0/26",
            "Internet",
            None,
        )
    };
    let (code, doc) = audit_with(|r| r.push(stale()));
    assert_eq!(code, 0);
    assert_eq!(
        findings(&doc),
        one(
            "stale-route",
            "BatchNodeManagement-198.51.100.0_26",
            "198.51.100.0/26"
        )
    );
    assert_eq!(doc["delete"], serde_json::json!([]));
    assert_eq!(
        doc["review"],
        serde_json::json!(["BatchNodeManagement-198.51.100.0_26"])
    );
    let table = edited_table(&example(), |r| r.push(stale()));
    let out = run_audit(
        &example(),
        &table,
        &["--vnet", "10.1.0.0/16", "--format", "json", "--prune"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["delete"],
        serde_json::json!(["BatchNodeManagement-198.51.100.0_26"])
    );

    // A required prefix already present with another next hop is updated, not created again.
    let (code, doc) = audit_with(|r| {
        for x in r.iter_mut() {
            if x["properties"]["addressPrefix"] == "192.0.2.64/27" {
                x["properties"]["nextHopType"] = "VirtualAppliance".into();
                x["properties"]["nextHopIpAddress"] = "10.1.0.4".into();
                x["name"] = "mine".into();
            }
        }
    });
    assert_eq!(code, 1);
    assert_eq!(doc["ensure"].as_array().unwrap().len(), 1);
    assert_eq!(doc["ensure"][0]["name"], "mine");
    assert_eq!(doc["routes_after"], doc["routes_now"]);

    // A service-tag route to Internet covers what it holds.
    let (code, doc) = audit_with(|r| {
        r.clear();
        r.push(route(
            "aml",
            "AzureMachineLearning.EastUS2",
            "Internet",
            None,
        ));
        r.push(route("bnm", "BatchNodeManagement", "Internet", None));
        r.push(firewall());
    });
    assert_eq!((code, findings(&doc).len()), (0, 0), "{doc}");
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn audit_finds_a_route_deleted_from_a_real_table() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let mut removed = serde_json::Value::Null;
    let table = edited_table(&path, |routes| {
        removed = routes.remove(5);
        routes.push(route(
            "fw",
            "0.0.0.0/0",
            "VirtualAppliance",
            Some("10.0.0.4"),
        ));
    });
    let out = run_audit(&path, &table, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        findings(&doc),
        vec![(
            "missing-route".into(),
            "fw".into(),
            vec![
                removed["properties"]["addressPrefix"]
                    .as_str()
                    .unwrap()
                    .to_string()
            ]
        )]
    );
}

#[test]
fn audit_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    for (text, region, message) in [
        (
            "{\"routes\": [\n  {\"name\": \"a\",}\n]}",
            "eastus2",
            "line 2, column",
        ),
        (
            r#"{"routes": [{"name": "a", "addressPrefix": "1.2.3.0/24", "nextHopType": "Warp"}]}"#,
            "eastus2",
            "invalid next hop `Warp`",
        ),
        (
            r#"{"routes": [{"name": "a", "addressPrefix": "10.0.0.300/24", "nextHopType": "Internet"}]}"#,
            "eastus2",
            "route `a`: invalid address prefix `10.0.0.300/24`",
        ),
        (
            r#"{"routes": [{"name": "to-fw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance"}]}"#,
            "eastus2",
            "route `to-fw` (0.0.0.0/0): next hop VirtualAppliance needs",
        ),
        ("not json at all", "eastus2", "az network route-table show"),
        (r#"{"routes": []}"#, "westus9", "unknown region `westus9`"),
        (
            r#"{"resources": []}"#,
            "eastus2",
            "no Microsoft.Network/routeTables resource",
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        tagnet(&example())
            .args(["routes", "audit", "--region", region, "--route-table"])
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn aggregate_and_overlaps_commands() {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.args(["aggregate", "-"]).write_stdin(
        "10.0.0.0/25\n10.0.0.128/25\n# x\nhost 192.0.2.1\n2001:db8::/33\n2001:db8:8000::/33\n",
    );
    c.assert()
        .code(0)
        .stdout("10.0.0.0/24\n192.0.2.1/32\n2001:db8::/32\n");
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.args(["aggregate", "--max", "1", "--format", "csv"])
        .write_stdin("10.0.0.0/24\n10.0.2.0/24\n");
    c.assert().code(0).stdout("prefix\n10.0.0.0/22\n");
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.args(["aggregate"]).write_stdin("10.0.0.0/24\nnonsense\n");
    c.assert().code(2).stderr(predicate::str::contains(
        "<stdin>:2: invalid prefix `nonsense`",
    ));
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.args(["overlaps", "--format", "ndjson"])
        .write_stdin("vnet 10.0.0.0/16\nsvc 10.0.128.0/20\nx 192.0.2.0/24\n");
    c.assert().code(1).stdout(
        "{\"outer_label\":\"vnet\",\"outer_prefix\":\"10.0.0.0/16\",\"relation\":\"contains\",\"inner_label\":\"svc\",\"inner_prefix\":\"10.0.128.0/20\"}\n",
    );
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.args(["overlaps"])
        .write_stdin("a 10.0.0.0/24\nb 10.0.1.0/24\n");
    c.assert().code(0);
}

#[test]
fn udr_extra_tags_cloud_wide_and_regional() {
    let doc = json_of(
        &example(),
        &[
            "udr",
            "--region",
            "eastus2",
            "--only-tag",
            "AzureActiveDirectory",
            "--tag",
            "Storage.WestEurope",
        ],
    );
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["AzureActiveDirectory", "Storage.WestEurope"]);
    let prefixes: Vec<String> = route_prefixes(&doc)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(prefixes, ["198.51.100.128/26", "203.0.113.0/25"]);
}

#[test]
fn audit_every_format_snapshot() {
    let table = edited_table(&example(), |routes| {
        routes.remove(3);
        routes.push(firewall());
        routes.push(route("old", "198.51.100.0/26", "Internet", None));
        routes.push(route(
            "BatchNodeManagement-198.51.100.64_26",
            "198.51.100.64/26",
            "Internet",
            None,
        ));
        routes.push(route(
            "inspect",
            "192.0.2.32/30",
            "VirtualAppliance",
            Some("10.1.0.4"),
        ));
    });
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json", "ndjson", "csv", "az"] {
        let out = run_audit(
            &example(),
            &table,
            &["--vnet", "10.1.0.0/16", "--format", format],
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        if format == "az" {
            let plan = dir.path().join("plan.sh");
            std::fs::write(&plan, &out.stdout).unwrap();
            assert!(
                std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&plan)
                    .status()
                    .unwrap()
                    .success()
            );
        }
        insta::assert_snapshot!(
            format!("audit_{format}"),
            String::from_utf8(out.stdout)
                .unwrap()
                .replace(&example().display().to_string(), "EXAMPLE")
        );
    }
}

#[test]
fn udr_never_falls_back_silently() {
    // A Discovery API page without AzureMachineLearning.<region>: refused, naming what works.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["values"].as_array_mut().unwrap().retain(|v| {
        !v["name"]
            .as_str()
            .unwrap()
            .starts_with("AzureMachineLearning.")
    });
    doc["changeNumber"] = "42".into();
    doc["nextLink"] = "https://management.azure.com/next".into();
    let api = dir.path().join("api.json");
    std::fs::write(&api, doc.to_string()).unwrap();
    let out = tagnet(&api)
        .args(["udr", "--region", "eastus2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no regional variants"), "{err}");
    assert!(err.contains("batch-classic"), "{err}");
    assert!(err.contains("--only-tag AzureMachineLearning"), "{err}");
    assert!(err.contains("one page of several"), "{err}");
    // Named explicitly, the cloud-wide tag is routed, with a note saying so.
    let out = tagnet(&api)
        .args([
            "udr",
            "--region",
            "eastus2",
            "--only-tag",
            "AzureMachineLearning",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("routed whole"));
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn udr_paired_adds_the_pair_from_the_table() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let doc = json_of(&path, &["udr", "--region", "eastus2", "--paired"]);
    assert_eq!(doc["regions"], serde_json::json!(["centralus", "eastus2"]));
    // Every pair in the table is a region code (or an alias) the snapshot knows.
    let snap = tagnet::load::load_path(&path).unwrap();
    let pairs: serde_json::Value =
        serde_json::from_str(include_str!("../../data/region-pairs.json")).unwrap();
    assert!(
        pairs["source"]
            .as_str()
            .unwrap()
            .contains("learn.microsoft.com")
            || pairs["source"].as_str().unwrap().contains("azure-docs")
    );
    let mut known = 0;
    for p in pairs["pairs"].as_array().unwrap() {
        if snap.resolve_region(p["region"].as_str().unwrap()).is_ok() {
            known += 1;
        }
    }
    assert!(known > 30, "{known}");
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn udr_reserve_budget_and_arguments() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    // AzureCloud in one region needs more than 400 routes: all slots but the reserved one.
    let doc = json_of(
        &path,
        &["udr", "--region", "westeurope", "--only-tag", "AzureCloud"],
    );
    assert_eq!(doc["routes"].as_array().unwrap().len(), 399);
    assert_eq!(doc["budget"]["reserved"], 1);
    assert_eq!(doc["budget"]["used"], 399);
    let doc = json_of(
        &path,
        &[
            "udr",
            "--region",
            "westeurope",
            "--only-tag",
            "AzureCloud",
            "--reserve",
            "5",
        ],
    );
    assert_eq!(doc["routes"].as_array().unwrap().len(), 395);
    for args in [
        &["udr", "--region", "eastus2", "--max-routes", "0"][..],
        &["udr", "--region", "eastus2", "--reserve", "400"][..],
        &[
            "udr",
            "--region",
            "eastus2",
            "--next-hop",
            "VirtualAppliance",
            "--next-hop-ip",
            "fd00::4",
        ][..],
    ] {
        tagnet(&path).args(args).assert().code(2);
    }
    // IPv6 is never merged, and the message says so instead of blaming --never-cover.
    let out = tagnet(&path)
        .args([
            "udr",
            "--region",
            "westeurope",
            "--ipv6",
            "--max-routes",
            "3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("IPv6") && !err.contains("--never-cover space"),
        "{err}"
    );
    // --format is case-insensitive; errors name it as `--format` lists it.
    tagnet(&path)
        .args(["udr", "--region", "eastus2", "--format", "JSON"])
        .assert()
        .code(0);
    tagnet(&path)
        .args(["lookup", "20.41.5.225", "--format", "arm"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--format arm: `lookup` writes table, json, ndjson, csv",
        ));
}

#[test]
fn audit_reads_effective_routes_and_tagnets_own_json() {
    // Effective routes: a BGP default route that no route table shows.
    let effective = serde_json::json!({"nextLink": null, "value": [
        {"source": "Default", "state": "Active", "addressPrefix": ["10.1.0.0/16"], "nextHopType": "VnetLocal", "nextHopIpAddress": []},
        {"source": "Default", "state": "Invalid", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet", "nextHopIpAddress": []},
        {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.2.0.4"]},
        {"source": "Default", "state": "Active", "addressPrefix": ["10.0.0.0/8"], "nextHopType": "None", "nextHopIpAddress": []},
        {"source": "Default", "state": "Active", "addressPrefix": ["10.3.0.0/16"], "nextHopType": "VNetPeering", "nextHopIpAddress": []}
    ]});
    let out = run_audit(&example(), &effective, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["table_kind"], "effective-routes");
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "{doc}");
    assert_eq!(f[0].0, "missing-route");
    assert!(f[0].1.contains("virtualnetworkgateway"), "{:?}", f[0]);
    // The same routes as a plain (empty) table pass, with the assumption stated; declaring the
    // advertised default finds the problem.
    let empty = serde_json::json!({"routes": []});
    let out = run_audit(&example(), &empty, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "no-default-route")
    );
    let out = run_audit(
        &example(),
        &empty,
        &["--default-route", "VirtualNetworkGateway"],
    );
    assert_eq!(out.status.code(), Some(1));
    // tagnet's own udr JSON is a table too, and passes under a firewall default.
    let own: serde_json::Value = json_of(&example(), &["udr", "--region", "eastus2"]);
    let out = run_audit(
        &example(),
        &own,
        &["--default-route", "VirtualAppliance:10.1.0.4"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // An unknown tag in a route is a finding, not an abort; IPv6 not audited is said.
    let table = serde_json::json!({"routes": [
        {"name": "x", "addressPrefix": "NoSuchTag.EastUS2", "nextHopType": "Internet"},
        {"name": "v6", "addressPrefix": "::/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "fd00::4"}
    ]});
    let out = run_audit(&example(), &table, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"unknown-tag-route"), "{codes:?}");
    assert!(codes.contains(&"ipv6-not-audited"), "{codes:?}");
    assert_eq!(doc["ipv6_audited"], false);
    let out = run_audit(&example(), &table, &["--format", "json", "--ipv6"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn every_emitted_code_is_explained() {
    for code in [
        "missing-route",
        "shadowed-route",
        "stale-route",
        "unrelated-internet-route",
        "unknown-tag-route",
        "route-limit",
        "ipv6-not-audited",
        "no-default-route",
    ] {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .args(["explain", code])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{code}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Fix"));
    }
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["explain", "missing"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing-route"));
}

/// Fuzz finding (route_table, 2026-11-28): effective routes with no route for either family
/// pooled the routeless IPv4 and IPv6 ranges under one key and cut the IPv6 ranges into IPv4
/// prefixes, until memory ran out. Each family's routeless ranges now stand apart, as prefixes
/// of their own family. (The fuzzer's input named a tag where a prefix belongs; effective
/// routes now refuse that, so a prefix holding no required address stands in.)
#[test]
fn routeless_ranges_of_both_families_stay_apart() {
    let snap = tagnet::load::load_path(&example()).unwrap();
    assert!(
        tagnet::routes::audit::parse_route_table(
            br#"{"value": [{"source": "Default", "state": "Active", "addressPrefix": ["storage"],
                 "nextHopType": "VirtualAppliance", "nextHopIpAddress": ["10.0.0.4"]}]}"#,
            "effective.json",
        )
        .is_err()
    );
    let table = tagnet::routes::audit::parse_route_table(
        br#"{"value": [{"source": "Default", "state": "Active", "addressPrefix": ["192.0.2.0/24", "2001:db8::/32"],
             "nextHopType": "VirtualAppliance", "nextHopIpAddress": ["10.0.0.4"]}]}"#,
        "effective.json",
    );
    let table = table.unwrap();
    let req = tagnet::routes::required_tags(
        &snap,
        &["eastus2".to_string()],
        &["BatchNodeManagement".into()],
        &[],
    )
    .unwrap();
    let opts = tagnet::routes::audit::AuditOptions {
        vnet: vec!["10.0.0.0/16".parse().unwrap()],
        ipv6: true,
        default_route: None,
        default_route_declared: false,
        related: None,
        previous: None,
        prune: true,
        max_routes: 400,
        accept_over_broad: false,
    };
    let audit = tagnet::routes::audit::audit(&snap, &table, &req.ids, &opts).unwrap();
    let missing: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.finding.code.contains("missing") || f.next_hop == "(dropped)")
        .collect();
    let both: std::collections::BTreeSet<bool> = missing
        .iter()
        .flat_map(|f| f.prefixes.iter().map(|p| matches!(p, IpNet::V6(_))))
        .collect();
    assert_eq!(
        both.len(),
        2,
        "routeless ranges of both families: {missing:#?}"
    );
    for f in missing {
        let fams: std::collections::BTreeSet<bool> = f
            .prefixes
            .iter()
            .map(|p| matches!(p, IpNet::V6(_)))
            .collect();
        assert!(
            fams.len() <= 1,
            "one finding mixes families: {:?}",
            f.prefixes
        );
        assert!(f.prefixes.len() < 1000, "{} prefixes", f.prefixes.len());
    }
}

/// Severity settings apply to `routes audit` as to `check`: `--allow` drops a code (and the
/// exit status follows what remains), `[severity]` in tagnet.toml applies to every command,
/// `[audit]` over it, and an unknown code is refused with a suggestion.
#[test]
fn audit_takes_severity_settings() {
    let table = edited_table(&example(), |r| {
        r.retain(|x| x["properties"]["addressPrefix"] != "192.0.2.64/27");
        r.push(firewall());
    });
    let base = ["--vnet", "10.1.0.0/16", "--format", "json"];
    let out = run_audit(&example(), &table, &base);
    assert_eq!(out.status.code(), Some(1));
    let with = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        run_audit(&example(), &table, &args)
    };
    let out = with(&["--allow", "missing-route"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings(&doc).is_empty(), "{doc}");
    let out = with(&["--warn", "TN101"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"][0]["severity"], "warning", "{doc}");
    // The table's summary never claims what the hidden findings deny.
    let args: Vec<&str> = ["--vnet", "10.1.0.0/16", "--allow", "missing-route"].to_vec();
    let out = run_audit(&example(), &table, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("leaves through Internet"), "{text}");
    let out = with(&["--allow", "missing-rout"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `missing-route`"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tagnet.toml");
    std::fs::write(&config, "[severity]\nallow = [\"missing-route\"]\n").unwrap();
    let out = with(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(
        &config,
        "[severity]\nallow = [\"missing-route\"]\n[audit]\ndeny = [\"missing-route\"]\n",
    )
    .unwrap();
    let out = with(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // A [check] table does not reach the audit.
    std::fs::write(&config, "[check]\nallow = [\"missing-route\"]\n").unwrap();
    let out = with(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

/// Requests `udr` must refuse rather than answer: service-tag routes past the budget, an
/// empty tag name (never the default profile in its place), a next hop Azure refuses; and a
/// note about merging names the budget in plain words.
#[test]
fn udr_refuses_what_azure_would_and_never_falls_back() {
    let run = |args: &[&str]| {
        tagnet(&example())
            .args(["udr", "--region", "eastus2"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "--only-tag",
        "Storage",
        "--use-service-tags",
        "--max-routes",
        "1",
        "--reserve",
        "0",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "one service-tag route fits one slot"
    );
    let out = run(&[
        "--only-tag",
        "Storage",
        "--tag",
        "AzureMachineLearning",
        "--use-service-tags",
        "--max-routes",
        "1",
        "--reserve",
        "0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for empty in [
        &["--only-tag", ""][..],
        &["--only-tag", " "],
        &["--tag", ""],
    ] {
        let out = run(empty);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{empty:?}: {err}");
        assert!(err.contains("empty tag name"), "{err}");
    }
    for ip in ["127.0.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"] {
        let out = run(&["--next-hop", "VirtualAppliance", "--next-hop-ip", ip]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{ip}: {err}");
        assert!(err.contains("--next-hop-ip"), "{err}");
    }
    let out = run(&["--max-routes", "3", "--reserve", "0", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("a limit of 3 routes") && !notes.contains('«'),
        "{notes}"
    );
}

/// A whole table counts its default route: with `--reserve 0` and a limit of 4, the ARM
/// table holds at most 4 routes, the 0.0.0.0/0 among them.
#[test]
fn whole_table_counts_its_default_route() {
    let out = tagnet(&example())
        .args([
            "udr",
            "--region",
            "eastus2",
            "--format",
            "arm",
            "--whole-table",
            "--default-route",
            "VirtualAppliance:10.0.0.4",
            "--reserve",
            "0",
            "--max-routes",
            "4",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let routes = arm["resources"][0]["properties"]["routes"]
        .as_array()
        .unwrap();
    assert_eq!(routes.len(), 4, "{arm:#}");
    assert!(
        routes
            .iter()
            .any(|r| r["properties"]["addressPrefix"] == "0.0.0.0/0")
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--reserve 0 raised to 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--max-extra` caps what a merge may send outside the tags; IPv6 routes never take the
/// slots IPv4 needs unless `--ipv6-shares-budget` says so.
#[test]
fn merges_stay_within_max_extra_and_ipv6_keeps_to_its_own_slots() {
    // The exact IPv4 set of eastus2 is 4 routes; a limit of 3 merges two of them (8 extra).
    let merged = json_of(
        &example(),
        &[
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "3",
            "--reserve",
            "0",
        ],
    );
    assert_eq!(merged["extra_addresses"], 8, "{merged:#}");
    tagnet(&example())
        .args([
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "3",
            "--reserve",
            "0",
            "--max-extra",
            "7",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("more than --max-extra 7"));
    tagnet(&example())
        .args([
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "3",
            "--reserve",
            "0",
            "--max-extra",
            "8",
        ])
        .assert()
        .code(0);
    // With IPv6 (one /47), 4 slots no longer hold the 4 IPv4 routes.
    tagnet(&example())
        .args([
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "4",
            "--reserve",
            "0",
            "--ipv6",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("IPv6 routes take slots the IPv4 routes need")
                .and(predicate::str::contains("without them, none")),
        );
    let shared = json_of(
        &example(),
        &[
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "4",
            "--reserve",
            "0",
            "--ipv6",
            "--ipv6-shares-budget",
        ],
    );
    assert_eq!(shared["extra_addresses"], 8, "{shared:#}");
    assert_eq!(shared["routes"].as_array().unwrap().len(), 4);
    // Enough room for both: no refusal, nothing extra.
    let both = json_of(
        &example(),
        &[
            "udr",
            "--region",
            "eastus2",
            "--max-routes",
            "5",
            "--reserve",
            "0",
            "--ipv6",
        ],
    );
    assert_eq!(both["extra_addresses"], 0);
}

/// A whole network's `az` output given as a route table is refused, saying how many of its
/// resources are route tables (not calling all of them tables).
#[test]
fn a_mixed_resource_list_is_not_called_a_list_of_tables() {
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/examples/missing-route/network.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let n = doc.as_array().unwrap().len();
    fails_with(
        &[
            "routes",
            "audit",
            "--region",
            "eastus2",
            "--route-table",
            file.to_str().unwrap(),
        ],
        &format!("this is a list of {n} resources of several types, 1 of them route table(s)"),
    );
}

/// A route table given as `az`'s REST list (`{"value": [...]}`) of its routes is read; a list
/// of tables (`az network route-table list`, or its REST shape) needs `FILE#NAME`, which picks
/// one (any case), as `--nsg FILE#NAME` does; a name the file lacks lists the tables.
#[test]
fn route_table_lists_and_file_hash_name() {
    let good = edited_table(&example(), |_| {});
    let table = &good["resources"][0];
    let routes = table["properties"]["routes"].clone();
    let plain = run_audit(&example(), table, &["--vnet", "10.1.0.0/16"]);
    let rest_routes = run_audit(
        &example(),
        &serde_json::json!({"value": routes}),
        &["--vnet", "10.1.0.0/16"],
    );
    assert_eq!(rest_routes.status.code(), plain.status.code());
    assert_eq!(rest_routes.stdout, plain.stdout);
    let mut other = table.clone();
    other["name"] = "rt-other".into();
    let dir = tempfile::tempdir().unwrap();
    for (file, doc) in [
        ("list.json", serde_json::json!([other, table])),
        ("rest.json", serde_json::json!({"value": [other, table]})),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, doc.to_string()).unwrap();
        let name = table["name"].as_str().unwrap().to_ascii_uppercase();
        let run = |spec: String| {
            tagnet(&example())
                .args([
                    "routes",
                    "audit",
                    "--region",
                    "eastus2",
                    "--vnet",
                    "10.1.0.0/16",
                ])
                .arg("--route-table")
                .arg(spec)
                .output()
                .unwrap()
        };
        let picked = run(format!("{}#{name}", path.display()));
        assert_eq!(picked.stdout, plain.stdout, "{file}");
        let whole = run(path.display().to_string());
        assert_eq!(whole.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&whole.stderr).contains("FILE#NAME"));
        let missing = run(format!("{}#nope", path.display()));
        assert_eq!(missing.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("rt-other"));
    }
}
