//! Deployment outputs run as a user runs them: the `az` scripts against a simulated route
//! table (`tests/tagnet/bin/az`, which answers as Azure does, RouteConflict and the route limit
//! included), and the ARM, Bicep and Terraform outputs checked for what they own.

use super::common::example;
use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn tagnet() -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.env_remove("TAGNET_TAGS").arg("--tags").arg(example());
    c
}

fn stdout(args: &[&str]) -> String {
    let out = tagnet().args(args).output().unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn route(name: &str, prefix: &str, hop: &str, ip: Option<&str>) -> Value {
    let mut r = json!({"name": name, "addressPrefix": prefix, "nextHopType": hop});
    if let Some(ip) = ip {
        r["nextHopIpAddress"] = ip.into();
    }
    r
}

/// A forced-tunneling table as users have them: the default route to the firewall, a required
/// prefix already routed to the firewall under the user's own name, a stale route tagnet
/// wrote, and a KMS route to Internet.
fn production_table() -> Vec<Value> {
    vec![
        route(
            "to-firewall",
            "0.0.0.0/0",
            "VirtualAppliance",
            Some("10.1.0.4"),
        ),
        route(
            "mine",
            "192.0.2.64/27",
            "VirtualAppliance",
            Some("10.1.0.4"),
        ),
        route(
            "BatchNodeManagement-198.51.100.0_26",
            "198.51.100.0/26",
            "Internet",
            None,
        ),
        route("kms", "20.118.99.224/32", "Internet", None),
    ]
}

struct Run {
    code: i32,
    stderr: String,
    table: Vec<Value>,
    calls: Vec<String>,
}

/// Runs `script` with the simulated `az` on a table holding `table`.
fn run_script(script: &str, table: &[Value], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("table.json");
    let log = dir.path().join("calls.log");
    std::fs::write(&state, serde_json::to_string(table).unwrap()).unwrap();
    let file = dir.path().join("plan.sh");
    std::fs::write(&file, script).unwrap();
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tagnet/bin");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut c = std::process::Command::new("bash");
    c.arg(&file)
        .args(["my-rg", "my-rt"])
        .env("PATH", path)
        .env("FAKE_AZ_STATE", &state)
        .env("FAKE_AZ_LOG", &log);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        table: serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap(),
        calls: std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect(),
    }
}

fn find<'a>(table: &'a [Value], prefix: &str) -> &'a Value {
    table
        .iter()
        .find(|r| r["addressPrefix"] == prefix)
        .unwrap_or_else(|| panic!("{prefix} not in {table:?}"))
}

fn audit_table(table: &[Value], extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rt.json");
    std::fs::write(&file, serde_json::to_string(table).unwrap()).unwrap();
    let out = tagnet()
        .args([
            "routes",
            "audit",
            "--region",
            "eastus2",
            "--format",
            "json",
            "--route-table",
        ])
        .arg(&file)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn script_of(table: &[Value], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rt.json");
    std::fs::write(&file, serde_json::to_string(table).unwrap()).unwrap();
    let out = tagnet()
        .args([
            "routes",
            "audit",
            "--region",
            "eastus2",
            "--format",
            "az",
            "--route-table",
        ])
        .arg(&file)
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn udr_script_adds_routes_and_keeps_the_rest_of_the_table() {
    let script = stdout(&["udr", "--region", "eastus2", "--format", "az"]);
    let before = production_table();
    let run = run_script(&script, &before, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Nothing it did not write is gone or changed, except the required prefix it had to move.
    assert_eq!(find(&run.table, "0.0.0.0/0"), &before[0]);
    assert_eq!(find(&run.table, "20.118.99.224/32"), &before[3]);
    assert_eq!(find(&run.table, "198.51.100.0/26"), &before[2]);
    let mine = find(&run.table, "192.0.2.64/27");
    assert_eq!(mine["name"], "mine", "updated in place, not created twice");
    assert_eq!(mine["nextHopType"], "Internet");
    assert!(mine.get("nextHopIpAddress").is_none());
    // And the result passes the audit.
    let (code, doc) = audit_table(&run.table, &[]);
    assert_eq!(code, 0, "{doc}");
    // Running it again changes nothing.
    let again = run_script(&script, &run.table, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.table, run.table);
    assert!(
        again.calls.iter().all(|c| c.contains(" list ")),
        "{:?}",
        again.calls
    );
}

#[test]
fn audit_plan_runs_on_the_table_as_it_is_and_converges() {
    let before = production_table();
    let (code, _) = audit_table(&before, &[]);
    assert_eq!(code, 1);
    for prune in [false, true] {
        let extra: &[&str] = if prune { &["--prune"] } else { &[] };
        let run = run_script(&script_of(&before, extra), &before, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(find(&run.table, "0.0.0.0/0"), &before[0]);
        assert_eq!(
            find(&run.table, "20.118.99.224/32"),
            &before[3],
            "never deleted"
        );
        let stale_kept = run
            .table
            .iter()
            .any(|r| r["addressPrefix"] == "198.51.100.0/26");
        assert_eq!(stale_kept, !prune, "stale routes go only with --prune");
        let (code, doc) = audit_table(&run.table, &[]);
        assert_eq!(code, 0, "after the plan: {doc}");
        // Creations run before deletions when the table holds both (the table is far from
        // its limit).
        if prune {
            let last_create = run
                .calls
                .iter()
                .rposition(|c| c.contains(" create "))
                .unwrap();
            let delete = run
                .calls
                .iter()
                .position(|c| c.contains(" delete "))
                .unwrap();
            assert!(delete > last_create, "{:?}", run.calls);
        }
    }
}

#[test]
fn plans_stop_before_any_change_at_the_route_limit() {
    let before = production_table();
    // The plan needs 3 new routes on a table of 4: a limit of 6 is one short.
    let script = script_of(&before, &["--max-routes", "6"]);
    let (_, doc) = audit_table(&before, &["--max-routes", "6"]);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "route-limit"),
        "{doc}"
    );
    let run = run_script(&script, &before, &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(run.table, before);
    assert!(run.calls.iter().all(|c| c.contains(" list ")));
    // With --prune the stale route makes room: 4 - 1 + 3 = 6 fits.
    let run = run_script(
        &script_of(&before, &["--max-routes", "6", "--prune"]),
        &before,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.table.len(), 6);
    // The udr script checks the live table too.
    let script = stdout(&["udr", "--region", "eastus2", "--format", "az"]);
    let run = run_script(&script, &before, &[("MAX_ROUTES", "5")]);
    assert_eq!(run.code, 1);
    assert_eq!(run.table, before);
}

#[test]
fn a_name_taken_by_another_prefix_stops_the_script() {
    let mut table = production_table();
    table.push(route(
        "BatchNodeManagement-192.0.2.16_28",
        "203.0.113.0/24",
        "VirtualAppliance",
        Some("10.1.0.4"),
    ));
    let script = stdout(&["udr", "--region", "eastus2", "--format", "az"]);
    let run = run_script(&script, &table, &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("already used for other prefixes"),
        "{}",
        run.stderr
    );
    assert_eq!(run.table, table);
    // Azure names are case-insensitive: a name differing only in case is taken too.
    let mut upper = production_table();
    upper.push(route(
        "batchnodemanagement-192.0.2.16_28",
        "203.0.113.0/24",
        "VirtualAppliance",
        Some("10.1.0.4"),
    ));
    let run = run_script(&script, &upper, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.table, upper);
    // The audit plan picks another name instead.
    let run = run_script(&script_of(&table, &[]), &table, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(find(&run.table, "203.0.113.0/24"), &table[4]);
}

fn udr(format: &str, extra: &[&str]) -> String {
    let mut args = vec!["udr", "--region", "eastus2", "--format", format];
    args.extend_from_slice(extra);
    stdout(&args)
}

#[test]
fn templates_add_routes_unless_the_whole_table_is_asked_for() {
    let bicep = udr("bicep", &[]);
    assert!(bicep.contains("existing = {"), "{bicep}");
    assert!(bicep.contains("'Microsoft.Network/routeTables/routes@"));
    assert!(bicep.contains("@batchSize(1)"));
    assert!(!bicep.contains("0.0.0.0/0"));
    let tf = udr("terraform", &[]);
    assert!(tf.contains("resource \"azurerm_route\" \"tagnet\""), "{tf}");
    assert!(!tf.contains("azurerm_route_table"));
    // The whole table needs its default route stated.
    let out = tagnet()
        .args([
            "udr",
            "--region",
            "eastus2",
            "--format",
            "arm",
            "--whole-table",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--default-route"));
    let out = tagnet()
        .args([
            "udr",
            "--region",
            "eastus2",
            "--format",
            "az",
            "--whole-table",
            "--default-route",
            "none",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for hop in ["VirtualAppliance:10.1.0.4", "VirtualNetworkGateway"] {
        let tf = udr("terraform", &["--whole-table", "--default-route", hop]);
        assert!(tf.contains("\"0.0.0.0/0\""), "{tf}");
        assert!(tf.contains("bgp_route_propagation_enabled"));
        let bicep = udr("bicep", &["--whole-table", "--default-route", hop]);
        assert!(bicep.contains("'0.0.0.0/0'"));
    }
    let tf = udr("terraform", &["--whole-table", "--default-route", "none"]);
    assert!(!tf.contains("0.0.0.0/0"));
}

/// The `=` alignment `terraform fmt` enforces: consecutive single-line attributes of one block
/// align their `=` one space after the longest key; blank lines and block lines end a group.
fn terraform_fmt_clean(text: &str) -> Result<(), String> {
    let mut group: Vec<(usize, usize, usize)> = Vec::new(); // (line, key end, `=` column)
    let flush = |group: &mut Vec<(usize, usize, usize)>| -> Result<(), String> {
        if let Some(want) = group.iter().map(|g| g.1 + 1).max() {
            for &(line, _, eq) in group.iter() {
                if eq != want {
                    return Err(format!(
                        "line {}: `=` at column {eq}, want {want}",
                        line + 1
                    ));
                }
            }
        }
        group.clear();
        Ok(())
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() != line {
            return Err(format!("line {}: trailing space", i + 1));
        }
        let single = line.contains(" = ")
            && !line.trim_end().ends_with('{')
            && !line.trim_start().starts_with('#');
        if single {
            let eq = line.find(" = ").unwrap() + 1;
            let key_end = line[..eq].trim_end().len();
            group.push((i, key_end, eq));
        } else {
            flush(&mut group)?;
        }
    }
    flush(&mut group)
}

#[test]
fn terraform_is_fmt_clean_for_every_next_hop() {
    for extra in [
        &[][..],
        &[
            "--next-hop",
            "VirtualAppliance",
            "--next-hop-ip",
            "10.1.0.4",
        ][..],
        &["--next-hop", "VirtualNetworkGateway"][..],
        &["--next-hop", "None", "--ipv6"][..],
        &["--whole-table", "--default-route", "none"][..],
        &[
            "--whole-table",
            "--default-route",
            "VirtualAppliance:10.1.0.4",
            "--next-hop",
            "VirtualAppliance",
            "--next-hop-ip",
            "10.1.0.5",
        ][..],
    ] {
        let tf = udr("terraform", extra);
        terraform_fmt_clean(&tf).unwrap_or_else(|e| panic!("{extra:?}: {e}\n{tf}"));
    }
    assert!(terraform_fmt_clean("a = 1\nlong = 2\n").is_err());
}

#[test]
fn failed_runs_leave_the_output_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let prev = dir.path().join("prev.sh");
    tagnet()
        .args(["udr", "--region", "eastus2", "--format", "az", "-o"])
        .arg(&prev)
        .assert()
        .code(0);
    let good = std::fs::read(&prev).unwrap();
    assert!(!good.is_empty());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&prev, std::fs::Permissions::from_mode(0o750)).unwrap();
    // Exit 1 (cannot fit) and exit 2 (bad region) both leave it as it was.
    tagnet()
        .args([
            "udr",
            "--region",
            "eastus2",
            "--format",
            "az",
            "--max-routes",
            "2",
            "--exact",
            "-o",
        ])
        .arg(&prev)
        .assert()
        .code(1);
    assert_eq!(std::fs::read(&prev).unwrap(), good);
    tagnet()
        .args(["udr", "--region", "nowhere", "-o"])
        .arg(&prev)
        .assert()
        .code(2);
    assert_eq!(std::fs::read(&prev).unwrap(), good);
    let agg = dir.path().join("agg.txt");
    std::fs::write(&agg, "keep me\n").unwrap();
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.args([
        "aggregate",
        "--max",
        "1",
        "--never-cover",
        "10.0.1.0/24",
        "-o",
    ])
    .arg(&agg)
    .write_stdin("10.0.0.0/24\n10.0.2.0/24\n")
    .assert()
    .code(1);
    assert_eq!(std::fs::read_to_string(&agg).unwrap(), "keep me\n");
    // A successful run keeps the file's mode and writes through a symbolic link.
    let link = dir.path().join("link.sh");
    std::os::unix::fs::symlink("prev.sh", &link).unwrap();
    tagnet()
        .args(["udr", "--region", "eastus2", "--format", "az", "-o"])
        .arg(&link)
        .assert()
        .code(0);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&prev)
            .unwrap()
            .starts_with("#!/usr/bin/env bash")
    );
    assert_eq!(
        std::fs::metadata(&prev).unwrap().permissions().mode() & 0o777,
        0o750
    );
    // `-o -` is standard output.
    let out = tagnet()
        .args(["udr", "--region", "eastus2", "--format", "csv", "-o", "-"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("name,"));
    assert!(!Path::new("-").exists());
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn audit_never_claims_what_another_region_or_a_merge_holds() {
    let Some(path) = super::common::shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let real = |args: &[&str]| -> Value {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .arg("--tags")
            .arg(&path)
            .args(args)
            .args(["--format", "json", "-q"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    // The routes `udr --paired` wrote: the pair's routes are not stale for eastus2 alone.
    let paired = real(&["udr", "--region", "eastus2", "--paired"]);
    let table = dir.path().join("paired.json");
    std::fs::write(&table, paired.to_string()).unwrap();
    let table_arg = table.to_str().unwrap();
    let doc = real(&[
        "routes",
        "audit",
        "--route-table",
        table_arg,
        "--region",
        "eastus2",
        "--prune",
    ]);
    assert_eq!(doc["delete"], json!([]), "{doc}");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "unrelated-internet-route")
            .all(|f| f["message"].as_str().unwrap().contains("CentralUS"))
    );
    // Merged routes (`AzureServices-…`) are tied only through --previous.
    let merged = real(&["udr", "--region", "eastus2", "--tag", "AzureCloud"]);
    let table = dir.path().join("merged.json");
    std::fs::write(&table, merged.to_string()).unwrap();
    let doc = real(&[
        "routes",
        "audit",
        "--route-table",
        table.to_str().unwrap(),
        "--region",
        "eastus2",
        "--prune",
    ]);
    assert_eq!(doc["delete"], json!([]));
    // tagnet's own ARM output (child routes in a copy loop) reads back as its routes.
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .arg("--tags")
        .arg(&path)
        .args(["udr", "--region", "eastus2", "--format", "arm", "-q"])
        .output()
        .unwrap();
    let arm = dir.path().join("arm.json");
    std::fs::write(&arm, &out.stdout).unwrap();
    let doc = real(&[
        "routes",
        "audit",
        "--route-table",
        arm.to_str().unwrap(),
        "--region",
        "eastus2",
        "--default-route",
        "VirtualAppliance:10.0.0.4",
    ]);
    assert_eq!(doc["routes_now"], 23, "{doc}");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info")
    );
}

#[test]
fn previous_ties_only_routes_it_wholly_held() {
    let dir = tempfile::tempdir().unwrap();
    // An earlier snapshot where BatchNodeManagement.EastUS2 also held 198.51.100.0/26.
    let mut old: Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    for v in old["values"].as_array_mut().unwrap() {
        if v["name"] == "BatchNodeManagement.EastUS2" {
            v["properties"]["addressPrefixes"]
                .as_array_mut()
                .unwrap()
                .push("198.51.100.0/26".into());
        }
    }
    let prev = dir.path().join("prev.json");
    std::fs::write(&prev, old.to_string()).unwrap();
    let table = vec![
        route("was-batch", "198.51.100.0/26", "Internet", None),
        route("wide", "198.51.0.0/16", "Internet", None),
    ];
    let (_, doc) = audit_table(
        &table,
        &[
            "--previous",
            prev.to_str().unwrap(),
            "--prune",
            "--default-route",
            "none",
        ],
    );
    assert_eq!(doc["delete"], json!(["was-batch"]), "{doc}");
    let codes: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["resource"].as_str().unwrap()))
        .collect();
    assert!(
        codes.contains(&("unrelated-internet-route", "wide")),
        "{codes:?}"
    );
    assert!(
        !codes.iter().any(|c| c.0 == "no-default-route"),
        "declared: none"
    );
}

#[test]
fn default_route_must_be_an_ipv4_appliance() {
    for (arg, message) in [
        ("VirtualAppliance:fd00::1", "needs an IPv4 address"),
        ("VirtualAppliance", "after a colon"),
        ("Internet", "would not tunnel"),
    ] {
        let out = tagnet()
            .args([
                "udr",
                "--region",
                "eastus2",
                "--format",
                "arm",
                "--whole-table",
                "--default-route",
                arg,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{arg}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "{arg}"
        );
    }
    let out = tagnet()
        .args([
            "udr",
            "--region",
            "eastus2",
            "--format",
            "arm",
            "--whole-table",
            "--default-route",
            "VirtualAppliance:8.8.8.8",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("public address"));
}

/// Runs tagnet with `args` on no default snapshot: (exit code, stdout).
fn tagnet_bare(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// A required prefix that shrank (a /27 of the real built-in week now a /28) leaves the old
/// route sending addresses outside the service to Internet: `diff --route-table` finds it
/// (`over-broad-route`), its plan replaces the route, and once the plan has run both a second
/// `diff` and a re-audit are clean and exit 0.
#[test]
fn a_shrunk_prefix_is_replaced_and_the_next_diff_is_clean() {
    let b = tagnet::load::builtin::bytes().unwrap();
    let mut doc: Value = serde_json::from_slice(&b).unwrap();
    doc["changeNumber"] = (doc["changeNumber"].as_u64().unwrap() + 1).into();
    let regional = "BatchNodeManagement.WestEurope";
    let values = doc["values"].as_array().unwrap();
    let old_prefix: ipnet::Ipv4Net =
        values.iter().find(|v| v["name"] == regional).unwrap()["properties"]["addressPrefixes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str()?.parse::<ipnet::Ipv4Net>().ok())
            .find(|n| n.prefix_len() <= 30)
            .expect("an IPv4 prefix that can shrink");
    let new_prefix = old_prefix
        .subnets(old_prefix.prefix_len() + 1)
        .unwrap()
        .next()
        .unwrap();
    let freed = old_prefix
        .subnets(old_prefix.prefix_len() + 1)
        .unwrap()
        .nth(1)
        .unwrap();
    // The freed half leaves every tag of the service (the regional and the cloud-wide one).
    for v in doc["values"].as_array_mut().unwrap() {
        if v["properties"]["systemService"] != "BatchNodeManagement" {
            continue;
        }
        for p in v["properties"]["addressPrefixes"].as_array_mut().unwrap() {
            if p.as_str() == Some(old_prefix.to_string().as_str()) {
                *p = new_prefix.to_string().into();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("ServiceTags_Public_20261214.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let new = new.to_str().unwrap();
    // The table as `udr` wrote it from the built-in week, behind a firewall.
    let (code, udr) = tagnet_bare(&[
        "--tags",
        "builtin",
        "-q",
        "--format",
        "json",
        "udr",
        "--region",
        "westeurope",
    ]);
    assert_eq!(code, 0);
    let udr: Value = serde_json::from_str(&udr).unwrap();
    let mut table = vec![route(
        "to-firewall",
        "0.0.0.0/0",
        "VirtualAppliance",
        Some("10.1.0.4"),
    )];
    table.extend(udr["routes"].as_array().unwrap().iter().map(|r| {
        route(
            r["name"].as_str().unwrap(),
            r["address_prefix"].as_str().unwrap(),
            "Internet",
            None,
        )
    }));
    let wide = table
        .iter()
        .find(|r| r["addressPrefix"] == old_prefix.to_string())
        .expect("udr routes the prefix as it is")["name"]
        .as_str()
        .unwrap()
        .to_string();
    let rt = dir.path().join("rt.json");
    let write = |t: &[Value]| std::fs::write(&rt, serde_json::to_string(t).unwrap()).unwrap();
    write(&table);
    let rt_s = rt.to_str().unwrap().to_string();
    let diff = |format: &str| {
        tagnet_bare(&[
            "-q",
            "--format",
            format,
            "diff",
            "builtin",
            new,
            "--route-table",
            &rt_s,
            "--region",
            "westeurope",
        ])
    };
    let (code, report) = diff("json");
    assert_eq!(code, 1, "{report}");
    let report: Value = serde_json::from_str(&report).unwrap();
    let broad: Vec<&Value> = report["impact"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "over-broad-route")
        .collect();
    assert_eq!(broad.len(), 1, "{report:#}");
    assert_eq!(broad[0]["resource"], wide.as_str());
    assert_eq!(broad[0]["prefixes"], json!([freed.to_string()]));
    let (_, script) = diff("az");
    let run = run_script(&script, &table, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.table.iter().all(|r| r["name"] != wide.as_str()),
        "{:?}",
        run.table
    );
    assert_eq!(
        find(&run.table, &new_prefix.to_string())["nextHopType"],
        "Internet"
    );
    // The plan applied: a second diff and a re-audit agree that nothing is left to do.
    write(&run.table);
    let (code, again) = diff("json");
    assert_eq!(code, 0, "{again}");
    let again: Value = serde_json::from_str(&again).unwrap();
    assert!(
        again["impact"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "error" && f["code"] != "over-broad-route"),
        "{again:#}"
    );
    let (code, audit) = tagnet_bare(&[
        "--tags",
        new,
        "-q",
        "--format",
        "json",
        "routes",
        "audit",
        "--route-table",
        &rt_s,
        "--region",
        "westeurope",
        "--previous",
        "builtin",
    ]);
    assert_eq!(code, 0, "{audit}");
    let audit: Value = serde_json::from_str(&audit).unwrap();
    assert!(
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] != "over-broad-route" && f["code"] != "missing-route"),
        "{audit:#}"
    );
}

/// A route of the user's own name is over-broad only when `--previous` ties it to the tags
/// (every address it sends was required then); untied, a wide route is the user's choice.
#[test]
fn over_broad_needs_the_route_to_be_tagnets() {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    for v in doc["values"].as_array_mut().unwrap() {
        for p in v["properties"]["addressPrefixes"].as_array_mut().unwrap() {
            if p == "192.0.2.64/27" {
                *p = "192.0.2.64/28".into();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let rt = dir.path().join("rt.json");
    let table = vec![
        route(
            "to-firewall",
            "0.0.0.0/0",
            "VirtualAppliance",
            Some("10.1.0.4"),
        ),
        route("batch-mgmt", "192.0.2.64/27", "Internet", None),
    ];
    std::fs::write(&rt, serde_json::to_string(&table).unwrap()).unwrap();
    let codes = |previous: bool| {
        let mut args = vec![
            "--tags",
            new.to_str().unwrap(),
            "-q",
            "--format",
            "json",
            "routes",
            "audit",
            "--region",
            "eastus2",
            "--route-table",
            rt.to_str().unwrap(),
        ];
        let ex = example();
        if previous {
            args.extend(["--previous", ex.to_str().unwrap()]);
        }
        let (code, out) = tagnet_bare(&args);
        let v: Value = serde_json::from_str(&out).unwrap();
        let codes: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        (code, codes, v)
    };
    // Exit 1: the other required prefixes have no route in this table.
    let (code, with, v) = codes(true);
    assert_eq!(code, 1);
    assert!(with.contains(&"over-broad-route".to_string()), "{v:#}");
    assert_eq!(v["delete"], json!(["batch-mgmt"]));
    assert!(
        v["ensure"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["address_prefix"] == "192.0.2.64/28"),
        "{v:#}"
    );
    let (_, without, v) = codes(false);
    assert!(!without.contains(&"over-broad-route".to_string()), "{v:#}");
    assert_eq!(v["delete"], json!([]));
}

/// The script compares prefixes as networks, not as text: a table holding a required IPv6
/// prefix in upper case or with zeros written out is updated in place (or left alone), never
/// given a second route with the same prefix (Azure's RouteConflict).
#[test]
fn the_script_compares_prefixes_in_canonical_form() {
    let mut table = production_table();
    table.push(route(
        "to-firewall-v6",
        "2001:DB8:1000:0:0::/47",
        "VirtualAppliance",
        Some("10.1.0.4"),
    ));
    // `udr` writes the prefixes canonically (`2001:db8:1000::/47`); the table spells it
    // otherwise.
    let script = stdout(&["udr", "--region", "eastus2", "--format", "az", "--ipv6"]);
    assert!(script.contains("\t2001:db8:1000::/47\t"), "{script}");
    let run = run_script(&script, &table, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v6: Vec<&Value> = run
        .table
        .iter()
        .filter(|r| r["addressPrefix"].as_str().unwrap().contains(':'))
        .collect();
    assert_eq!(v6.len(), 1, "{:?}", run.table);
    assert_eq!(v6[0]["name"], "to-firewall-v6", "updated in place");
    assert_eq!(v6[0]["nextHopType"], "Internet");
    // Run again: the route is seen as the one the script wants, and nothing changes.
    let again = run_script(&script, &run.table, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("to-firewall-v6 already sends 2001:db8:1000::/47"),
        "{}",
        again.stderr
    );
    assert_eq!(again.table, run.table);
}

/// `diff --route-table --ipv6` audits IPv6 too (a shrunk IPv6 prefix inside a merged route is
/// over-broad); without it the report says it is IPv4 only. A table is never judged across
/// two clouds.
#[test]
fn diff_audits_ipv6_when_asked_and_refuses_two_clouds() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    doc["changeNumber"] = 43.into();
    for v in doc["values"].as_array_mut().unwrap() {
        for p in v["properties"]["addressPrefixes"].as_array_mut().unwrap() {
            if p == "2001:db8:1000::/48" {
                *p = "2001:db8:1000::/49".into();
            }
        }
    }
    let new = dir.path().join("new.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let udr: Value = serde_json::from_str(&stdout(&[
        "udr", "--region", "eastus2", "--ipv6", "--format", "json", "-q",
    ]))
    .unwrap();
    let mut table = production_table();
    table.extend(udr["routes"].as_array().unwrap().iter().map(|r| {
        route(
            r["name"].as_str().unwrap(),
            r["address_prefix"].as_str().unwrap(),
            "Internet",
            None,
        )
    }));
    let rt = dir.path().join("rt.json");
    std::fs::write(&rt, serde_json::to_string(&table).unwrap()).unwrap();
    let diff = |extra: &[&str]| {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .args(["-q", "--format", "json", "diff"])
            .arg(example())
            .arg(&new)
            .arg("--route-table")
            .arg(&rt)
            .args(["--region", "eastus2"])
            .args(extra)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap(),
            v,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let broad = |v: &Value| -> Vec<String> {
        v["impact"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "over-broad-route")
            .map(|f| f["resource"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, v4, _) = diff(&[]);
    assert_eq!(v4["impact"]["ipv6_audited"], false);
    assert!(broad(&v4).is_empty(), "{v4:#}");
    let (code, v6, err) = diff(&["--ipv6"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(broad(&v6), ["AzureServices-2001-db8-1000--_47"], "{v6:#}");
    // Another cloud as NEW: refused, not every route read as a retired region's.
    let mut gov = doc.clone();
    gov["cloud"] = "AzureGovernment".into();
    std::fs::write(&new, gov.to_string()).unwrap();
    let (code, _, err) = diff(&["--prune"]);
    assert_eq!(code, 2);
    assert!(err.contains("two weeks of one cloud"), "{err}");
}

/// `--allow over-broad-route` accepts the wide route: no finding, and no plan to replace it.
#[test]
fn an_allowed_over_broad_route_is_left_alone() {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    for v in doc["values"].as_array_mut().unwrap() {
        for p in v["properties"]["addressPrefixes"].as_array_mut().unwrap() {
            if p == "192.0.2.64/27" {
                *p = "192.0.2.64/28".into();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let udr: Value = serde_json::from_str(&stdout(&[
        "udr", "--region", "eastus2", "--format", "json", "-q",
    ]))
    .unwrap();
    let mut table = production_table();
    table.retain(|r| r["name"] != "mine");
    table.extend(udr["routes"].as_array().unwrap().iter().map(|r| {
        route(
            r["name"].as_str().unwrap(),
            r["address_prefix"].as_str().unwrap(),
            "Internet",
            None,
        )
    }));
    let rt = dir.path().join("rt.json");
    std::fs::write(&rt, serde_json::to_string(&table).unwrap()).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .args(["-q", "--format", "json", "diff"])
            .arg(example())
            .arg(&new)
            .arg("--route-table")
            .arg(&rt)
            .args(["--region", "eastus2"])
            .args(extra)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    let (code, v) = run(&[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(
        v["impact"]["plan"]
            .as_str()
            .unwrap()
            .contains("192.0.2.64/28")
    );
    let (code, v) = run(&["--allow", "over-broad-route"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        v["impact"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "over-broad-route")
            .count(),
        0
    );
    assert!(
        !v["impact"]["plan"]
            .as_str()
            .unwrap()
            .contains("192.0.2.64/28"),
        "{v:#}"
    );
}
