//! `tagnet check`: the compliant example reports nothing, each broken example exactly its
//! rule's code, the three input formats agree, and bad input is an error that names it.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tagnet::check::{Cx, Levels, read::network as load};
use tagnet::findings::{Finding, Severity};
use tagnet::path::check_all as check;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/examples")
}

fn snap() -> &'static tagnet::Snapshot {
    static S: OnceLock<tagnet::Snapshot> = OnceLock::new();
    S.get_or_init(|| tagnet::load::builtin::load().unwrap())
}

fn run(paths: &[PathBuf]) -> Vec<Finding> {
    let net = load(paths, None).unwrap();
    check(&Cx {
        net: &net,
        snap: snap(),
        on_prem: &[],
        nsg_profile: "aml-vnet-2020",
        udr_profile: "aml-vnet-2020",
        asgs: &net.asg_members(&Default::default()),
    })
}

fn broken() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "compliant" && !n.starts_with("as-"))
        .collect();
    v.sort();
    v
}

fn tagnet() -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.env_remove("TAGNET_TAGS")
        .env("TAGNET_CACHE", "/nonexistent/tagnet-test-cache")
        .arg("--quiet");
    c
}

#[test]
fn compliant_reports_nothing() {
    assert_eq!(run(&[examples().join("compliant")]), Vec::<Finding>::new());
    tagnet()
        .args(["check", "--format", "json"])
        .arg(examples().join("compliant"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"records\": []"));
}

#[test]
fn each_broken_example_reports_exactly_its_code() {
    let names = broken();
    // One example per rule that `check` reports, and each is a registered code.
    assert!(names.len() >= 27, "{names:?}");
    let mut shown = String::new();
    for name in &names {
        let found = run(&[examples().join(name)]);
        assert!(!found.is_empty(), "{name}: no finding");
        for f in &found {
            // A table that forces tunneling also sends the outbound requirements to the
            // firewall, and puts 0.0.0.0/0 in reach of `VirtualNetwork`: the forced-tunneling
            // examples report those consequences too.
            let forced = ["missing-route", "requirement-via-appliance"];
            if forced.contains(&name.as_str())
                && ["requirement-via-appliance", "nsg-vnet-tag-under-udr"].contains(&f.code)
            {
                continue;
            }
            assert_eq!(f.code, name, "{name}: {f:?}");
            assert!(
                tagnet::explain(f.code).is_ok(),
                "{} is not registered",
                f.code
            );
        }
        shown.push_str(&format!("## {name}\n"));
        for f in &found {
            shown.push_str(&format!(
                "{} {} {}\n  resource: {}\n  message: {}\n  counterexample: {}\n  fix: {}\n",
                f.id,
                f.code,
                f.severity,
                f.resource,
                f.message,
                f.counterexample.as_deref().unwrap_or("-"),
                f.fix
            ));
        }
    }
    insta::assert_snapshot!("check_examples", shown);
}

#[test]
fn every_check_rule_has_an_example_and_docs() {
    let names = broken();
    for r in tagnet::check::rules::rules() {
        assert!(r.id.starts_with("TN0"), "{}", r.id);
        assert!(
            !r.reference.is_empty() && !r.why.is_empty() && !r.fix.is_empty(),
            "{}",
            r.code
        );
        if !["cannot-evaluate", "bad-value", "duplicate-resource"].contains(&r.code) {
            assert!(
                names.iter().any(|n| n == r.code),
                "no example for {}",
                r.code
            );
        }
    }
    // Ids and codes are unique across the whole registry.
    let all = tagnet::registry();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(a.id != b.id && a.code != b.code, "{} {}", a.code, b.code);
        }
    }
}

fn key(f: &Finding) -> (String, Severity, String, Option<String>) {
    (
        f.code.to_string(),
        f.severity,
        f.message.clone(),
        f.counterexample.clone(),
    )
}

#[test]
fn az_arm_and_terraform_give_the_same_findings() {
    let mut n = 0;
    for e in std::fs::read_dir(examples().join("as-arm"))
        .unwrap()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let az: Vec<_> = run(&[examples().join(&name)]).iter().map(key).collect();
        let arm: Vec<_> = run(&[e.path()]).iter().map(key).collect();
        let tf: Vec<_> = run(&[examples().join("as-terraform").join(&name)])
            .iter()
            .map(key)
            .collect();
        assert_eq!(az, arm, "{name}: ARM");
        assert_eq!(az, tf, "{name}: Terraform");
        n += 1;
    }
    assert!(n >= 6);
}

#[test]
fn exit_codes_follow_severity_and_levels() {
    let ex = |n: &str| examples().join(n);
    tagnet()
        .arg("check")
        .arg(ex("subnet-overlap"))
        .assert()
        .code(1);
    // Info and warning findings alone exit 0.
    tagnet()
        .arg("check")
        .arg(ex("aks-docker-bridge-overlap"))
        .assert()
        .code(0);
    tagnet()
        .arg("check")
        .arg(ex("dangling-reference"))
        .assert()
        .code(0);
    // --warn lowers, --deny raises (by code or number), --allow drops.
    tagnet()
        .args(["check", "--warn", "subnet-overlap"])
        .arg(ex("subnet-overlap"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning"));
    tagnet()
        .args(["check", "--deny", "TN097"])
        .arg(ex("dangling-reference"))
        .assert()
        .code(1);
    tagnet()
        .args(["check", "--allow", "TN003", "--format", "json"])
        .arg(ex("subnet-overlap"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"records\": []"));
    // tagnet.toml: the file's levels, then the flags'.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tagnet.toml"),
        "[check]\nallow = [\"subnet-overlap\"]\n",
    )
    .unwrap();
    tagnet()
        .current_dir(dir.path())
        .arg("check")
        .arg(ex("subnet-overlap"))
        .assert()
        .code(0);
    std::fs::write(dir.path().join("tagnet.toml"), "[check]\nalow = [\"x\"]\n").unwrap();
    tagnet()
        .current_dir(dir.path())
        .arg("check")
        .arg(ex("subnet-overlap"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tagnet.toml").and(predicate::str::contains("alow")));
}

#[test]
fn sarif_names_every_rule_and_result() {
    let out = tagnet()
        .args(["check", "--format", "sarif"])
        .arg(examples().join("nsg-requirement-unmet"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "nsg-requirement-unmet" && r["name"] == "TN020")
    );
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "nsg-requirement-unmet");
    assert_eq!(results[0]["level"], "error");
    // The counterexample is an address of AzureMachineLearning, on port 44224.
    let ce = results[0]["properties"]["counterexample"].as_str().unwrap();
    assert!(ce.ends_with(":44224"), "{ce}");
}

#[test]
fn nsg_requirement_names_the_rule_and_a_tag_address() {
    let f = run(&[examples().join("nsg-requirement-unmet")]);
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("44224") && f[0].message.contains("AzureMachineLearning"));
    assert!(f[0].message.contains("DenyAllInBound"), "{}", f[0].message);
    let ip: std::net::IpAddr = f[0]
        .counterexample
        .as_deref()
        .unwrap()
        .split(" -> ")
        .next()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .0
        .parse()
        .unwrap();
    let s = snap();
    let aml = s.tag(s.tag_by_name("AzureMachineLearning").unwrap());
    assert!(aml.prefixes().any(|p| p.contains(&ip)));
    assert!(
        f[0].fix
            .starts_with("az network nsg rule create -g rg-ml --nsg-name nsg-compute")
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn arm_expressions_are_evaluated_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "t.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"space": {"type": "string"}, "loc": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
        "variables": {"vnet": "[concat('vnet-', 'ml')]"},
        "resources": [
          {"type": "Microsoft.Network/virtualNetworks", "name": "[variables('vnet')]", "location": "[parameters('loc')]",
           "properties": {"addressSpace": {"addressPrefixes": ["[parameters('space')]"]},
             "subnets": [{"name": "a", "properties": {"addressPrefix": "10.9.0.0/24"}}]}}
        ]}"#,
    );
    // Without the parameter: the space cannot be evaluated and the location neither.
    let f = run(std::slice::from_ref(&t));
    assert!(f.iter().all(|f| f.code == "cannot-evaluate"), "{f:?}");
    assert!(f.iter().any(|f| f.message.contains("--parameters")));
    assert!(f.iter().any(|f| f.message.contains("resourceGroup")));
    // With it, the subnet is outside the space.
    let p = write(
        dir.path(),
        "p.json",
        r#"{"parameters": {"space": {"value": "10.8.0.0/16"}}}"#,
    );
    let net = load(&[t], Some(&p)).unwrap();
    assert_eq!(net.vnets[0].meta.name, "vnet-ml");
    let f = check(&Cx {
        net: &net,
        snap: snap(),
        on_prem: &[],
        nsg_profile: "aml-vnet-2020",
        udr_profile: "aml-vnet-2020",
        asgs: &net.asg_members(&Default::default()),
    });
    assert!(f.iter().any(|f| f.code == "subnet-outside-vnet"), "{f:?}");
}

#[test]
fn on_prem_ranges_count_for_aks() {
    let net = load(&[examples().join("compliant")], None).unwrap();
    let on_prem = [(
        "the on-premises range given with --on-prem".to_string(),
        "10.240.128.0/24".parse().unwrap(),
    )];
    let f = check(&Cx {
        net: &net,
        snap: snap(),
        on_prem: &on_prem,
        nsg_profile: "aml-vnet-2020",
        udr_profile: "aml-vnet-2020",
        asgs: &net.asg_members(&Default::default()),
    });
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, "aks-service-cidr-overlap");
    assert_eq!(f[0].counterexample.as_deref(), Some("10.240.128.0"));
    let _ = Levels::default();
}

#[test]
fn bad_input_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        "{\"type\": \"Microsoft.Network/virtualNetworks\",",
    );
    tagnet()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.json").and(predicate::str::contains("line")));
    tagnet()
        .args(["check", "/nonexistent/net.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/net.json"));
    let ex = examples().join("compliant");
    for (args, says) in [
        (vec!["--deny", "no-such-code"], "no-such-code"),
        (vec!["--on-prem", "10.0.0.0/33"], "--on-prem"),
        (vec!["--profile", "nope"], "aml-vnet-2023"),
        (vec!["--format", "arm"], "--format arm"),
    ] {
        tagnet()
            .arg("check")
            .args(&args)
            .arg(&ex)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    let empty = tempfile::tempdir().unwrap();
    tagnet()
        .arg("check")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no .json file"));
    let odd = write(dir.path(), "odd.json", "{\"hello\": 1}");
    tagnet()
        .arg("check")
        .arg(&odd)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no resource tagnet checks"));
    // A bad prefix inside a resource is a finding naming the resource and file.
    let p = write(
        dir.path(),
        "v.json",
        r#"{"type": "Microsoft.Network/virtualNetworks", "name": "v", "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v", "addressSpace": {"addressPrefixes": ["10.0.0.0/33"]}}"#,
    );
    let f = run(&[p]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, "bad-value");
    assert!(f[0].message.contains("10.0.0.0/33") && f[0].message.contains("v.json"));
}

#[test]
fn explain_reads_every_registry() {
    for code in [
        "TN010",
        "aks-service-cidr-overlap",
        "TN101",
        "missing-route",
        "TN201",
    ] {
        tagnet().args(["explain", code]).assert().code(0);
    }
    tagnet().args(["explain", "TN010"]).assert().stdout(
        predicate::str::contains("ServiceCidrOverlapExistingSubnetsCidr")
            .and(predicate::str::contains("learn.microsoft.com")),
    );
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/fixtures/check")
        .join(name)
}

/// Inputs from a user trial: each gives exactly these codes.
#[test]
fn trial_inputs_give_the_right_codes() {
    for (file, want) in [
        // Terraform: for_each instances, module outputs and module inputs are followed.
        (
            "tf-for-each.json",
            vec!["aks-service-cidr-overlap", "subnet-too-small"],
        ),
        (
            "tf-module-output.json",
            vec!["aks-service-cidr-overlap", "subnet-too-small"],
        ),
        (
            "tf-module-input.json",
            vec!["aks-service-cidr-overlap", "subnet-too-small"],
        ),
        // AKS's default service CIDR applies when a definition sets none.
        (
            "tf-default-service-cidr.json",
            vec!["aks-service-cidr-overlap"],
        ),
        (
            "az-default_svc_overlap.json",
            vec!["aks-service-cidr-overlap"],
        ),
        // Azure CNI with a pod subnet: pods count in the pod subnet.
        ("az-cni_podsubnet.json", vec!["subnet-too-small"]),
        ("az-dns_broadcast.json", vec!["aks-dns-service-ip"]),
        ("az-aks_in_delegated.json", vec!["aks-subnet-delegated"]),
        ("az-vnet_reserved_aks.json", vec!["aks-reserved-range"]),
        ("az-negative.json", vec!["bad-value", "bad-value"]),
        // Container instances injected through a network profile (API versions before
        // 2021-07-01, azurerm 3.x): the profile's subnet is the group's.
        (
            "arm-aci-network-profile.json",
            vec!["aci-subnet-not-delegated"],
        ),
        ("arm-aci-network-profile-delegated.json", vec![]),
        (
            "tf-aci-network-profile.json",
            vec!["aci-subnet-not-delegated"],
        ),
        // A copy loop's resources are expanded, each with its copyIndex().
        (
            "arm-copy-loop.json",
            vec!["aks-service-cidr-overlap", "subnet-too-small"],
        ),
    ] {
        let mut got: Vec<&str> = run(&[fixture(file)]).iter().map(|f| f.code).collect();
        got.sort();
        assert_eq!(got, want, "{file}");
    }
    let f = run(&[fixture("az-cni_podsubnet.json")]);
    assert!(f[0].message.contains("for pods"), "{}", f[0].message);
    let f = run(&[fixture("tf-default-service-cidr.json")]);
    assert!(f[0].message.contains("AKS's default"), "{}", f[0].message);
}

#[test]
fn a_resource_read_twice_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(examples().join("compliant/network.json")).unwrap())
            .unwrap();
    let compute = net
        .iter()
        .find(|r| r["name"] == "cpu-cluster")
        .unwrap()
        .clone();
    std::fs::write(
        dir.path().join("all.json"),
        serde_json::to_vec(&net).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compute.json"),
        serde_json::to_vec(&compute).unwrap(),
    )
    .unwrap();
    // And a symlink back up the tree.
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("up")).unwrap();
    let f = run(&[dir.path().to_path_buf()]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, "duplicate-resource");
}

#[test]
fn levels_resolve_with_flags_after_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tagnet.toml"),
        "[check]\ndeny = [\"TN014\"]\n",
    )
    .unwrap();
    let ex = examples().join("aks-docker-bridge-overlap");
    // The file raises TN014 to error; the flag lowers it again.
    tagnet()
        .current_dir(dir.path())
        .arg("check")
        .arg(&ex)
        .assert()
        .code(1);
    tagnet()
        .current_dir(dir.path())
        .args(["check", "--warn", "aks-docker-bridge-overlap"])
        .arg(&ex)
        .assert()
        .code(0);
    // One code, two levels on the command line: an error.
    tagnet()
        .args(["check", "--deny", "TN014", "--allow", "TN014"])
        .arg(&ex)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("two levels"));
    // An unknown code in the file names the file, and a typo gets a suggestion.
    std::fs::write(
        dir.path().join("tagnet.toml"),
        "[check]\nwarn = [\"subnet-to-small\"]\n",
    )
    .unwrap();
    tagnet()
        .current_dir(dir.path())
        .arg("check")
        .arg(&ex)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("tagnet.toml")
                .and(predicate::str::contains("did you mean `subnet-too-small`")),
        );
}

#[test]
fn inputs_without_resources_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, says) in [
        ("empty-array.json", "[]", "no resource found"),
        ("scalars.json", "[1, \"x\", null]", "item 0 is `1`"),
        (
            "inventory.json",
            r#"[{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v", "type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": null, "changedTime": "2024-01-01"}]"#,
            "no resource tagnet checks",
        ),
    ] {
        let p = write(dir.path(), name, text);
        tagnet()
            .arg("check")
            .arg(&p)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
}

/// A value that cannot be read is never read as absent (AKS's default is not assumed for it):
/// an object where a prefix belongs is a `bad-value`; a Key Vault reference in a parameters
/// file is a `cannot-evaluate`, named.
#[test]
fn unreadable_values_are_findings_not_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let src = examples().join("aks-service-cidr-overlap/network.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    for r in doc.as_array_mut().unwrap() {
        if r["type"].as_str().unwrap().ends_with("managedClusters") {
            r["networkProfile"]["serviceCidr"] = serde_json::json!({"a": 1});
        }
    }
    let f = dir.path().join("net.json");
    std::fs::write(&f, doc.to_string()).unwrap();
    let out = tagnet()
        .args(["check", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"bad-value"), "{codes:?}");
    assert_eq!(out.status.code(), Some(1));
    // A network plugin AKS does not have, or of the wrong type: bad-value too.
    for plugin in [serde_json::json!("azurecni"), serde_json::json!(false)] {
        let mut d = doc.clone();
        for r in d.as_array_mut().unwrap() {
            if r["type"].as_str().unwrap().ends_with("managedClusters") {
                r["networkProfile"]["serviceCidr"] = "10.10.0.0/16".into();
                r["networkProfile"]["networkPlugin"] = plugin.clone();
            }
        }
        std::fs::write(&f, d.to_string()).unwrap();
        let out = tagnet()
            .args(["check", "--format", "json"])
            .arg(&f)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["code"] == "bad-value"
                    && r["message"].as_str().unwrap().contains("networkPlugin")),
            "{plugin}: {v}"
        );
    }
    // The template with serviceCidr from a parameter given as a Key Vault reference.
    let tsrc = examples().join("as-arm/aks-service-cidr-overlap/template.json");
    let mut t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tsrc).unwrap()).unwrap();
    t["parameters"]["serviceCidr"] = serde_json::json!({"type": "string"});
    for r in t["resources"].as_array_mut().unwrap() {
        if r["type"].as_str().unwrap().ends_with("managedClusters") {
            r["properties"]["networkProfile"]["serviceCidr"] = "[parameters('serviceCidr')]".into();
        }
    }
    let tf = dir.path().join("template.json");
    std::fs::write(&tf, t.to_string()).unwrap();
    let pf = dir.path().join("params.json");
    std::fs::write(&pf, r#"{"parameters": {"serviceCidr": {"reference": {"keyVault": {"id": "/subscriptions/x/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv"}, "secretName": "s"}}}}"#).unwrap();
    let out = tagnet()
        .args(["check", "--format", "json", "--parameters"])
        .arg(&pf)
        .arg(&tf)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msgs: Vec<String> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "cannot-evaluate")
        .map(|r| r["message"].as_str().unwrap().to_string())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("Key Vault")), "{v}");
}

/// An ARM template whose NSG rules are child resources (`NSG/RULE`), as templates often write
/// them: `check` reads the NSG with its rules and finds what it finds with the rules inline.
#[test]
fn template_nsg_rules_as_child_resources() {
    let src = examples().join("as-arm/compliant/template.json");
    let mut t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&src).unwrap()).unwrap();
    let mut children = Vec::new();
    for r in t["resources"].as_array_mut().unwrap() {
        if r["type"] == "Microsoft.Network/networkSecurityGroups" {
            let name = r["name"].as_str().unwrap().to_string();
            let rules = r["properties"]["securityRules"].take();
            r["properties"] = serde_json::json!({});
            for rule in rules.as_array().unwrap() {
                children.push(serde_json::json!({
                    "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                    "apiVersion": "2023-04-01",
                    "name": format!("{name}/{}", rule["name"].as_str().unwrap()),
                    "properties": rule["properties"],
                }));
            }
        }
    }
    assert!(!children.is_empty());
    t["resources"].as_array_mut().unwrap().extend(children);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("template.json");
    std::fs::write(&f, t.to_string()).unwrap();
    let run = |p: &std::path::Path| {
        let out = tagnet()
            .args(["check", "--format", "json"])
            .arg(p)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let codes: Vec<String> = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect();
        (out.status.code(), codes)
    };
    assert_eq!(run(&f), run(&src));
    assert_eq!(run(&f).0, Some(0));
}

/// A project folder holds more than Azure definitions: a stray `package.json` is skipped with
/// a note, hidden folders (`.vscode`, `.git`) are not walked; a file with nothing Azure in it,
/// given alone, is still refused.
#[test]
fn stray_json_in_a_folder_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join(".vscode")).unwrap();
    std::fs::create_dir_all(d.join("infra")).unwrap();
    std::fs::copy(
        examples().join("compliant/network.json"),
        d.join("infra/network.json"),
    )
    .unwrap();
    std::fs::write(
        d.join("package.json"),
        r#"{"name": "app", "version": "1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(d.join(".vscode/settings.json"), r#"{"editor.tabSize": 2}"#).unwrap();
    let out = assert_cmd::Command::cargo_bin("tagnet")
        .unwrap()
        .args(["--tags", "builtin", "check", "--format", "json"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped: Vec<String> = v["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].ends_with("package.json"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: skipped"));
    let out = assert_cmd::Command::cargo_bin("tagnet")
        .unwrap()
        .args(["--tags", "builtin", "-q", "check"])
        .arg(d.join("package.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Today's secure design — storage, key vault, registry and workspace behind private endpoints
/// in the VNet, public access off — passes in all three forms it is written in (az JSON with
/// `az ml … show` v2 output, an ARM template with a copy loop, a Terraform plan); a registry
/// that denies everything with no private endpoint is flagged; a private endpoint in a VNet
/// the compute cannot reach does not count.
#[test]
fn private_endpoints_satisfy_todays_secure_design() {
    for f in [
        "pe-compliant-az.json",
        "pe-compliant-arm.json",
        "pe-compliant-tf.json",
    ] {
        let got: Vec<(&str, String)> = run(&[fixture(f)])
            .into_iter()
            .map(|x| (x.code, x.message))
            .collect();
        assert!(got.is_empty(), "{f}: {got:?}");
    }
    let got: Vec<&str> = run(&[fixture("acr-deny-no-pe-az.json")])
        .iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(got, ["acr-unreachable"]);
    // The storage account's endpoints moved to a VNet nobody peers with.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    let other = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ml/providers/Microsoft.Network/virtualNetworks/vnet-other";
    let items = doc.as_array_mut().unwrap();
    for pe in items.iter_mut() {
        let name = pe["name"].as_str().unwrap_or("").to_string();
        if name == "pe-st-blob" || name == "pe-st-file" {
            pe["subnet"]["id"] = format!("{other}/subnets/snet-pe").into();
        }
    }
    items.push(serde_json::json!({"type": "Microsoft.Network/virtualNetworks", "name": "vnet-other", "id": other,
        "location": "eastus2", "addressSpace": {"addressPrefixes": ["10.30.0.0/16"]},
        "subnets": [{"name": "snet-pe", "id": format!("{other}/subnets/snet-pe"), "addressPrefix": "10.30.2.0/24"}]}));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got = run(&[p]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].code, "storage-subnet-not-allowed");
    assert!(
        got[0].message.contains("VNet `vnet-other`"),
        "{}",
        got[0].message
    );
}

/// Compute without public IPs takes no inbound control-plane traffic: an NSG without the
/// inbound rules is not flagged for it (it is for compute with public IPs); and the regional
/// `BatchNodeManagement.<region>` that Batch documents meets the Batch requirement.
#[test]
fn no_public_ip_compute_needs_no_inbound_rules() {
    let base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let codes = |doc: &serde_json::Value, profile: &str| -> Vec<String> {
        let p = dir.path().join("net.json");
        std::fs::write(&p, doc.to_string()).unwrap();
        let out = assert_cmd::Command::cargo_bin("tagnet")
            .unwrap()
            .args([
                "--tags",
                "builtin",
                "-q",
                "check",
                "--format",
                "json",
                "--profile",
                profile,
            ])
            .arg(&p)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["code"].as_str().unwrap(),
                    r["message"].as_str().unwrap()
                )
            })
            .collect()
    };
    let mut no_rules = base.clone();
    for r in no_rules.as_array_mut().unwrap() {
        if r["name"] == "nsg-training" {
            r["securityRules"] = serde_json::json!([]);
        }
    }
    let with_ip = codes(&no_rules, "aml-vnet-2023");
    assert!(
        with_ip
            .iter()
            .any(|c| c.starts_with("nsg-requirement-unmet Inbound TCP 44224")),
        "{with_ip:?}"
    );
    for r in no_rules.as_array_mut().unwrap() {
        if r["type"] == "amlcompute" {
            r["enable_node_public_ip"] = false.into();
        }
    }
    let without = codes(&no_rules, "aml-vnet-2023");
    assert!(
        without.iter().all(|c| !c.contains("Inbound")),
        "{without:?}"
    );
    // The Batch rule written with the region's tag, as Batch documents it.
    let mut regional = base.clone();
    for r in regional.as_array_mut().unwrap() {
        if r["name"] == "nsg-training" {
            for rule in r["securityRules"].as_array_mut().unwrap() {
                if rule["sourceAddressPrefix"] == "BatchNodeManagement" {
                    rule["sourceAddressPrefix"] = "BatchNodeManagement.EastUS2".into();
                }
            }
        }
    }
    let got = codes(&regional, "aml-vnet-2020");
    assert!(got.iter().all(|c| !c.contains("29876")), "{got:?}");
}

/// Applies an `az network nsg rule create|update` fix to the NSG of an az JSON network, as
/// Azure would: `create` adds the rule, `update` changes its priority.
fn apply_nsg_fix(doc: &mut serde_json::Value, fix: &str) {
    for cmd in fix.split(" && ") {
        let t: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(&t[..4], ["az", "network", "nsg", "rule"], "{cmd}");
        let mut opts: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        let mut key = "";
        for w in &t[5..] {
            if w.starts_with('-') {
                key = w;
                opts.entry(key).or_default();
            } else {
                opts.entry(key).or_default().push(w);
            }
        }
        let one = |k: &str| opts[k][0].to_string();
        let nsg = doc
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["name"].as_str() == Some(opts["--nsg-name"][0]))
            .expect("the fix names an NSG of the network");
        let rules = nsg["securityRules"].as_array_mut().unwrap();
        match t[4] {
            "update" => {
                let r = rules
                    .iter_mut()
                    .find(|r| r["name"] == one("-n").as_str())
                    .unwrap();
                r["priority"] = one("--priority").parse::<u32>().unwrap().into();
            }
            "create" => {
                let inbound = one("--direction").eq_ignore_ascii_case("inbound");
                let tag = opts
                    .get("--source-address-prefixes")
                    .or(opts.get("--destination-address-prefixes"))
                    .unwrap()[0];
                assert!(
                    !rules.iter().any(|r| r["priority"]
                        == one("--priority").parse::<u32>().unwrap()
                        && r["direction"]
                            .as_str()
                            .unwrap()
                            .eq_ignore_ascii_case(&one("--direction"))),
                    "the fix reuses a priority: {cmd}"
                );
                rules.push(serde_json::json!({"name": one("-n"), "priority": one("--priority").parse::<u32>().unwrap(),
                    "direction": one("--direction"), "access": one("--access"), "protocol": one("--protocol"),
                    "sourceAddressPrefix": if inbound { tag } else { "*" }, "sourcePortRange": "*",
                    "destinationAddressPrefix": if inbound { "*" } else { tag },
                    "destinationPortRanges": opts["--destination-port-ranges"]}));
            }
            other => panic!("unexpected fix {other}: {cmd}"),
        }
    }
}

/// Every NSG fix `check` suggests, applied in the order given, makes its finding go away —
/// even when a deny sits at priority 100 and several rules are missing (the rules after it
/// are renumbered, never an allow put below the deny or two rules on one priority).
#[test]
fn nsg_fixes_applied_make_the_findings_go_away() {
    let base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    let deny = |name: &str, prio: u32, port: &str| {
        serde_json::json!({"name": name, "priority": prio, "direction": "Inbound", "access": "Deny",
            "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": port})
    };
    let dir = tempfile::tempdir().unwrap();
    let findings = |doc: &serde_json::Value, profile: &str| -> Vec<(String, String)> {
        let p = dir.path().join("net.json");
        std::fs::write(&p, doc.to_string()).unwrap();
        let out = assert_cmd::Command::cargo_bin("tagnet")
            .unwrap()
            .args([
                "--tags",
                "builtin",
                "-q",
                "check",
                "--format",
                "json",
                "--profile",
                profile,
            ])
            .arg(&p)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["code"].as_str().unwrap().to_string(),
                    r["fix"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    for (profile, rules) in [
        (
            "aml-vnet-2020",
            vec![deny("DenyAllIn", 100, "*"), deny("DenyRdp", 101, "3389")],
        ),
        ("aml-vnet-2023", vec![deny("DenyAllIn", 100, "*")]),
        ("aml-vnet-2020", vec![deny("DenyAllIn", 300, "*")]),
    ] {
        let mut doc = base.clone();
        for r in doc.as_array_mut().unwrap() {
            if r["name"] == "nsg-training" {
                r["securityRules"] = serde_json::Value::Array(rules.clone());
            }
        }
        let found = findings(&doc, profile);
        let fixes: Vec<&String> = found
            .iter()
            .filter(|(c, _)| c == "nsg-requirement-unmet")
            .map(|(_, f)| f)
            .collect();
        assert!(!fixes.is_empty(), "{profile}: {found:?}");
        for f in &fixes {
            apply_nsg_fix(&mut doc, f);
        }
        let after = findings(&doc, profile);
        assert!(
            after.iter().all(|(c, _)| c != "nsg-requirement-unmet"),
            "{profile}: after {fixes:?}: {after:?}"
        );
    }
}

/// A plan that places its resources in an existing network reads it through data sources
/// (`data.azurerm_subnet.x.id`, in `prior_state`): they are read as the network they describe,
/// not reported as references to nothing.
#[test]
fn terraform_data_sources_are_the_existing_network() {
    let text = std::fs::read_to_string(fixture("pe-compliant-tf.json")).unwrap();
    // Every reference to the network now names a data source.
    let text = text
        .replace("\"azurerm_subnet.", "\"data.azurerm_subnet.")
        .replace(
            "\"azurerm_virtual_network.",
            "\"data.azurerm_virtual_network.",
        );
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let is_net = |r: &serde_json::Value| {
        matches!(
            r["type"].as_str(),
            Some("azurerm_subnet" | "azurerm_virtual_network")
        )
    };
    let moved: Vec<serde_json::Value> = doc["planned_values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| is_net(r))
        .cloned()
        .map(|mut r| {
            r["mode"] = "data".into();
            r
        })
        .collect();
    assert_eq!(moved.len(), 3);
    doc["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| !is_net(r));
    doc["prior_state"]["values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .extend(moved);
    // Read at plan time, they have no change of their own.
    doc["resource_changes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| !is_net(r));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got: Vec<(&str, String)> = run(&[p]).into_iter().map(|f| (f.code, f.message)).collect();
    assert!(got.is_empty(), "{got:?}");
}

/// An NSG whose association is written only on its own side (`az network nsg show` lists
/// `subnets`; the subnet's own output was taken before it was attached) still guards the
/// subnet: the compute's NSG requirements are checked against it.
#[test]
fn an_nsg_associated_on_its_own_side_guards_the_subnet() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    let mut subnet_id = String::new();
    for r in doc.as_array_mut().unwrap() {
        if r["type"] == "Microsoft.Network/virtualNetworks" {
            for s in r["subnets"].as_array_mut().unwrap() {
                if s["name"] == "snet-training" {
                    subnet_id = s["id"].as_str().unwrap().to_string();
                    s.as_object_mut().unwrap().remove("networkSecurityGroup");
                }
            }
        }
    }
    for r in doc.as_array_mut().unwrap() {
        if r["name"] == "nsg-training" {
            r["subnets"] = serde_json::json!([{"id": subnet_id, "resourceGroup": "rg-ml"}]);
            r["securityRules"] = serde_json::json!([]);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got: Vec<&str> = run(&[p]).iter().map(|f| f.code).collect();
    assert!(got.contains(&"nsg-requirement-unmet"), "{got:?}");
}

/// A workspace in a managed virtual network reaches its registry through the endpoints the
/// service makes (no acr-unreachable, no image-build finding); a store whose public network
/// access is disabled is not reached through a virtual network rule (only an endpoint does),
/// and its fix says so.
#[test]
fn managed_networks_and_disabled_public_access() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("acr-deny-no-pe-az.json")).unwrap()).unwrap();
    for r in doc.as_array_mut().unwrap() {
        if r.get("storage_account").is_some() {
            r["managed_network"] =
                serde_json::json!({"isolation_mode": "allow_only_approved_outbound"});
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("managed.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got: Vec<&str> = run(&[p]).iter().map(|f| f.code).collect();
    // Its compute names a subnet of the user's, which the managed network does not use.
    assert_eq!(got, vec!["managed-network-compute"]);
    // Storage: public access disabled, a VNet rule for the compute subnet, no endpoint.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    let subnet = doc
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Microsoft.Network/virtualNetworks")
        .unwrap()["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "snet-training")
        .unwrap()["id"]
        .clone();
    let items = doc.as_array_mut().unwrap();
    items.retain(|r| !matches!(r["name"].as_str(), Some("pe-st-blob" | "pe-st-file")));
    for r in items.iter_mut() {
        if r["type"] == "Microsoft.Storage/storageAccounts" {
            r["privateEndpointConnections"] = serde_json::json!([]);
            r["networkRuleSet"]["virtualNetworkRules"] = serde_json::json!([{"action": "Allow", "state": "Succeeded", "virtualNetworkResourceId": subnet}]);
        }
    }
    let p = dir.path().join("public-off.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got = run(&[p]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].code, "storage-subnet-not-allowed");
    assert!(got[0].fix.contains("private endpoint"), "{}", got[0].fix);
}

/// A storage account named with `uniqueString()` (the quickstart pattern) is unknown, and
/// only it: the copy loop over the endpoints still makes the key vault's and the registry's,
/// so they raise nothing; the storage account's name is reported, never guessed.
#[test]
fn one_unknown_name_leaves_the_rest_of_a_copy_loop_known() {
    let text = std::fs::read_to_string(fixture("pe-compliant-arm.json")).unwrap();
    let text = text.replace(
        "'stmlsecure'",
        "concat('st', uniqueString(resourceGroup().id))",
    );
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The storage account itself is named the same way.
    for r in doc["resources"].as_array_mut().unwrap() {
        if r["name"] == "stmlsecure" {
            r["name"] = "[concat('st', uniqueString(resourceGroup().id))]".into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got = run(&[p]);
    let codes: Vec<&str> = got.iter().map(|f| f.code).collect();
    assert!(
        codes.iter().all(|c| *c == "cannot-evaluate"),
        "only what depends on the unknown name is reported: {got:?}"
    );
    assert!(
        got.iter().any(|f| f.message.contains("uniqueString")),
        "{got:?}"
    );
}

/// A private endpoint whose subnet the inputs lack is taken as reaching its resource, and
/// said so (`dangling-reference`), never a silent pass.
#[test]
fn an_endpoint_in_a_subnet_not_given_is_named() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    for pe in doc.as_array_mut().unwrap() {
        if pe["name"] == "pe-st-blob" {
            pe["subnet"]["id"] = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe".into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got = run(&[p]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].code, "dangling-reference");
    assert!(got[0].resource.ends_with("pe-st-blob"), "{got:?}");
}

/// A storage account reached only through a `file` endpoint is not reached for its blobs,
/// which the workspace's compute needs.
#[test]
fn a_storage_endpoint_must_serve_blobs() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("pe-compliant-az.json")).unwrap()).unwrap();
    let items = doc.as_array_mut().unwrap();
    items.retain(|r| r["name"] != "pe-st-blob");
    for r in items.iter_mut() {
        if r["type"] == "Microsoft.Storage/storageAccounts" {
            r["privateEndpointConnections"]
                .as_array_mut()
                .unwrap()
                .retain(|c| !c.to_string().contains("pe-st-blob"));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let got = run(&[p]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].code, "storage-subnet-not-allowed");
    assert!(got[0].message.contains("`file` only"), "{}", got[0].message);
}

/// An NSG rule naming an application security group is evaluated with the group's members:
/// given (`--asg`) or the private addresses of the NICs in the inputs that join it; with
/// neither, the NSG is reported as not evaluable, never read as if the rule were absent.
#[test]
fn asg_members_come_from_the_inputs_nics_or_are_given() {
    let mut net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(examples().join("compliant/network.json")).unwrap())
            .unwrap();
    let asg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Network/applicationSecurityGroups/asg-jump";
    let nsg = net.iter_mut().find(|r| r["name"] == "nsg-vm").unwrap();
    nsg["securityRules"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "name": "AllowJumpSsh", "priority": 300, "direction": "Inbound", "access": "Allow",
            "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
            "sourceApplicationSecurityGroups": [{"id": asg, "resourceGroup": "rg-ml"}],
            "destinationAddressPrefix": "*"
        }));
    let dir = tempfile::tempdir().unwrap();
    let write = |net: &Vec<serde_json::Value>| {
        let p = dir.path().join("network.json");
        std::fs::write(&p, serde_json::to_vec(net).unwrap()).unwrap();
        load(&[p], None).unwrap()
    };
    let codes =
        |net: &tagnet::check::model::Network,
         given: &std::collections::BTreeMap<String, Vec<std::net::IpAddr>>| {
            let f = check(&Cx {
                net,
                snap: snap(),
                on_prem: &[],
                nsg_profile: "aml-vnet-2020",
                udr_profile: "aml-vnet-2020",
                asgs: &net.asg_members(given),
            });
            f.into_iter()
                .map(|f| format!("{} {}", f.code, f.message))
                .collect::<Vec<_>>()
        };
    let unknown = write(&net);
    let none = std::collections::BTreeMap::new();
    let f = codes(&unknown, &none);
    assert!(
        f.iter()
            .any(|m| m.starts_with("nsg-unknown-asg") && m.contains("asg-jump")),
        "{f:?}"
    );
    let given = std::collections::BTreeMap::from([(
        "ASG-JUMP".to_string(),
        vec!["10.9.0.4".parse().unwrap()],
    )]);
    assert!(
        codes(&unknown, &given).is_empty(),
        "{:?}",
        codes(&unknown, &given)
    );
    net.push(serde_json::json!({
        "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.Network/networkInterfaces/nic-jump",
        "name": "nic-jump", "type": "Microsoft.Network/networkInterfaces", "location": "eastus2",
        "ipConfigurations": [{"name": "ipconfig1", "privateIPAddress": "10.9.0.4",
            "privateIPAllocationMethod": "Dynamic",
            "applicationSecurityGroups": [{"id": asg, "resourceGroup": "rg-ml"}]}]
    }));
    let joined = write(&net);
    assert_eq!(
        joined.asg_members(&Default::default())["asg-jump"],
        vec!["10.9.0.4".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(codes(&joined, &none).is_empty());
}

/// A workspace with a managed virtual network runs its compute there: a subnet of the user's
/// named by its compute is reported (info) and not held to the compute's NSG requirements;
/// dropping the subnet, as the fix says, leaves nothing to report.
#[test]
fn a_managed_network_workspace_compute_is_not_held_to_a_subnet_of_yours() {
    let mut net: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(examples().join("compliant/network.json")).unwrap())
            .unwrap();
    for r in net.iter_mut() {
        if r["name"] == "mlw" {
            r["properties"]["managedNetwork"] =
                serde_json::json!({"isolationMode": "AllowOnlyApprovedOutbound"});
        }
        if r["name"] == "nsg-compute" {
            r["securityRules"] = serde_json::json!([]);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("network.json");
    std::fs::write(&p, serde_json::to_vec(&net).unwrap()).unwrap();
    let f = run(std::slice::from_ref(&p));
    let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["managed-network-compute"], "{f:?}");
    assert!(f[0].resource.ends_with("/computes/cpu-cluster"));
    assert!(f[0].message.contains("`compute`"), "{}", f[0].message);
    // The fix: the compute without a subnet.
    for r in net.iter_mut() {
        if r["name"] == "cpu-cluster" {
            r["properties"]["properties"]
                .as_object_mut()
                .unwrap()
                .remove("subnet");
        }
    }
    std::fs::write(&p, serde_json::to_vec(&net).unwrap()).unwrap();
    assert_eq!(run(&[p]), Vec::<Finding>::new());
}

/// A parameters file beside a template in the folder is used when it is the only one; two
/// are named and neither is guessed; a parameter the template does not declare is refused, as
/// Azure refuses the deployment.
#[test]
fn a_parameters_file_in_the_folder_is_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "azuredeploy.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"space": {"type": "string", "defaultValue": "10.9.0.0/16"}},
        "resources": [
          {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-04-01", "name": "vnet-ml", "location": "eastus2",
           "properties": {"addressSpace": {"addressPrefixes": ["[parameters('space')]"]},
             "subnets": [{"name": "a", "properties": {"addressPrefix": "10.9.0.0/24"}}]}}
        ]}"#,
    );
    assert!(run(&[dir.path().to_path_buf()]).is_empty());
    let params = |space: &str, extra: &str| {
        format!(
            r#"{{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0", "parameters": {{"space": {{"value": "{space}"}}{extra}}}}}"#
        )
    };
    write(
        dir.path(),
        "azuredeploy.parameters.json",
        &params("10.8.0.0/16", ""),
    );
    let f = run(&[dir.path().to_path_buf()]);
    let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["subnet-outside-vnet"], "{f:?}");
    write(
        dir.path(),
        "azuredeploy.parameters.json",
        &params("10.9.0.0/16", r#", "vnetNme": {"value": "x"}"#),
    );
    let f = run(&[dir.path().to_path_buf()]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, "bad-value");
    assert!(
        f[0].message.contains("`vnetNme`") && f[0].message.contains("azuredeploy.parameters.json"),
        "{}",
        f[0].message
    );
    // Two files, neither named after the template: neither is guessed. Without `$schema`,
    // a file of `{"value": …}` entries (or the bare object) is still a parameters file.
    std::fs::remove_file(dir.path().join("azuredeploy.parameters.json")).unwrap();
    write(
        dir.path(),
        "prod.parameters.json",
        r#"{"parameters": {"space": {"value": "10.8.0.0/16"}}}"#,
    );
    let f = run(&[dir.path().to_path_buf()]);
    assert_eq!(
        f.iter().map(|f| f.code).collect::<Vec<_>>(),
        vec!["subnet-outside-vnet"],
        "{f:?}"
    );
    write(
        dir.path(),
        "dev.parameters.json",
        r#"{"space": {"value": "10.9.0.0/16"}}"#,
    );
    let f = run(&[dir.path().to_path_buf()]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, "cannot-evaluate");
    assert!(
        f[0].message.contains("2 parameters files"),
        "{}",
        f[0].message
    );
    // Two stacks, each folder with its template and parameters: each takes its own.
    let two = tempfile::tempdir().unwrap();
    for (stack, space) in [("a", "10.8.0.0/16"), ("b", "10.9.0.0/16")] {
        let d = two.path().join(stack);
        std::fs::create_dir(&d).unwrap();
        let t = std::fs::read_to_string(dir.path().join("azuredeploy.json")).unwrap();
        std::fs::write(
            d.join("azuredeploy.json"),
            t.replace("vnet-ml", &format!("vnet-{stack}")),
        )
        .unwrap();
        write(&d, "azuredeploy.parameters.json", &params(space, ""));
    }
    let f = run(&[two.path().to_path_buf()]);
    let got: Vec<(&str, &str)> = f.iter().map(|f| (f.code, f.resource.as_str())).collect();
    assert_eq!(got, vec![("subnet-outside-vnet", "vnet-a/a")], "{f:?}");
}

/// Resources of one type and name in two resource groups are two resources: each subnet
/// finds its own network, neither is a duplicate, and an overlap between them is seen.
#[test]
fn same_names_in_two_resource_groups_are_two_resources() {
    let vnet = |rg: &str, space: &str, subnet: &str| {
        let id = format!(
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet"
        );
        serde_json::json!({
            "id": id, "name": "vnet", "type": "Microsoft.Network/virtualNetworks",
            "location": "eastus2", "resourceGroup": rg,
            "addressSpace": {"addressPrefixes": [space]},
            "subnets": [{"id": format!("{id}/subnets/default"), "name": "default",
                "addressPrefix": subnet, "resourceGroup": rg,
                "type": "Microsoft.Network/virtualNetworks/subnets"}],
            "virtualNetworkPeerings": [],
        })
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        vnet("rg-a", "10.1.0.0/16", "10.1.0.0/24").to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        vnet("rg-b", "10.2.0.0/16", "10.2.0.0/24").to_string(),
    )
    .unwrap();
    let net = load(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(net.vnets.len(), 2);
    assert_eq!(net.subnets.len(), 2);
    for (s, sub) in net.subnets.iter().enumerate() {
        let v = net.vnet_of(s).unwrap();
        assert!(net.vnets[v].spaces[0].contains(&sub.prefixes[0]), "{sub:?}");
    }
    assert!(run(&[dir.path().to_path_buf()]).is_empty());
    // The same network exported twice is still one.
    std::fs::write(
        dir.path().join("b-again.json"),
        vnet("rg-b", "10.2.0.0/16", "10.2.0.0/24").to_string(),
    )
    .unwrap();
    let f = run(&[dir.path().to_path_buf()]);
    assert!(
        !f.is_empty() && f.iter().all(|f| f.code == "duplicate-resource"),
        "{f:?}"
    );
}

/// A plan whose `resource_changes` and `planned_values` disagree (edited, or assembled from
/// two plans) is named resource by resource; a consistent plan gives no such finding.
#[test]
fn a_plan_that_contradicts_itself_is_named() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("tf-for-each.json")).unwrap()).unwrap();
    let contradictions = |doc: &serde_json::Value| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan.json");
        std::fs::write(&p, doc.to_string()).unwrap();
        run(&[p])
            .into_iter()
            .filter(|f| f.message.contains("contradicts itself"))
            .map(|f| (f.resource, f.message))
            .collect::<Vec<_>>()
    };
    assert!(contradictions(&doc).is_empty());
    // A subnet's prefix changed in resource_changes only; the VNet dropped from
    // planned_values only.
    let rc = doc["resource_changes"].as_array_mut().unwrap();
    let s = rc
        .iter_mut()
        .find(|c| c["type"] == "azurerm_subnet")
        .unwrap();
    let subnet = s["address"].as_str().unwrap().to_string();
    s["change"]["after"]["address_prefixes"] = serde_json::json!(["10.99.0.0/24"]);
    let planned = doc["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    let v = planned
        .iter()
        .position(|r| r["type"] == "azurerm_virtual_network")
        .unwrap();
    let vnet = planned.remove(v)["address"].as_str().unwrap().to_string();
    let got = contradictions(&doc);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter()
            .any(|(r, m)| *r == subnet && m.contains("`address_prefixes`"))
    );
    assert!(
        got.iter()
            .any(|(r, m)| *r == vnet && m.contains("does not hold it"))
    );
}

/// `explain` with an unknown code suggests the nearest few, not the whole registry.
#[test]
fn explain_suggests_the_nearest_codes() {
    let o = tagnet().args(["explain", "missing-rout"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nearest: TN101 missing-route"), "{err}");
    // An id no code has: the nearest ids, each named by id and name.
    let o = tagnet().args(["explain", "TN999"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let nearest = err.split("nearest: ").nth(1).unwrap_or_default();
    assert!(nearest.starts_with("TN304 "), "{err}");
    let o = tagnet().args(["explain", "tn100"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let nearest = err.split("nearest: ").nth(1).unwrap_or_default();
    assert!(
        nearest.starts_with("TN099 bad-value, TN101 missing-route"),
        "{err}"
    );
    // A number alone is the id's.
    let o = tagnet().args(["explain", "20"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("TN020 "));
    let o = tagnet().args(["explain", "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let listed = err
        .split("nearest: ")
        .nth(1)
        .unwrap()
        .split(" (")
        .next()
        .unwrap();
    assert!(listed.split(", ").count() <= 5, "{err}");
}

/// SARIF of `check`, `nsg analyze` and `path --profile` validates against the SARIF 2.1.0
/// schema (the OASIS schema, `data/schemas/sarif-schema-2.1.0.json`), and each result is
/// anchored as code scanning needs: a percent-encoded relative URI under `%SRCROOT%` (or a
/// `file://` URI), the line the resource is defined at, and a fingerprint that stays the same
/// from run to run.
#[test]
fn sarif_validates_against_the_schema_and_is_anchored() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("data/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    // The published schema's `language` patterns have a stray `]` that strict validators
    // refuse as a regular expression (tagnet writes no `language`): read as intended.
    fn mend(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" => {
                *s = "^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$".into();
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(mend),
            serde_json::Value::Object(o) => o.values_mut().for_each(mend),
            _ => {}
        }
    }
    mend(&mut schema);
    let validator = jsonschema::validator_for(&schema).unwrap();
    // An input in a folder whose name has a space, given as a relative path.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("my net");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(
        examples().join("nsg-requirement-unmet/network.json"),
        sub.join("network #1.json"),
    )
    .unwrap();
    let nsg = sub.join("nsg.json");
    std::fs::write(
        &nsg,
        r#"{"name": "ml-nsg", "securityRules": [
  {"name": "AllowWeb", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
   "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"}},
  {"name": "AllowWebAgain", "properties": {"priority": 200, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
   "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"}}]}"#,
    )
    .unwrap();
    let run = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .current_dir(dir.path())
            .arg("-q")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let abs = sub.join("network #1.json").display().to_string();
    let docs = [
        run(&["check", "--format", "sarif", "my net/network #1.json"]),
        run(&["check", "--format", "sarif", &abs]),
        run(&[
            "nsg",
            "analyze",
            "--nsg",
            "my net/nsg.json",
            "--format",
            "sarif",
        ]),
        run(&[
            "path",
            "--from",
            "vnet-ml/compute",
            "--profile",
            "aml-vnet-2020",
            "--format",
            "sarif",
            "my net/network #1.json",
        ]),
    ];
    for (i, doc) in docs.iter().enumerate() {
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "document {i}: {errors:?}");
        let driver = &doc["runs"][0]["tool"]["driver"];
        assert!(driver.get("informationUri").is_none(), "no placeholder URL");
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty(), "document {i} has no result");
        for r in results {
            let loc = &r["locations"][0]["physicalLocation"];
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.contains(' ') && !uri.contains('#'), "{uri}");
            if i == 1 {
                assert!(
                    uri.starts_with("file:///") && uri.ends_with("my%20net/network%20%231.json"),
                    "{uri}"
                );
            } else {
                assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
                assert!(uri.starts_with("my%20net/"), "{uri}");
            }
            assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(
                r["partialFingerprints"]["tagnetFinding/v1"]
                    .as_str()
                    .unwrap()
                    .len()
                    == 16
            );
        }
    }
    // The requirement's NSG is found where the file defines it, not at line 1.
    let r0 = &docs[0]["runs"][0]["results"][0];
    let line = r0["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap();
    let resource = r0["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    let text = std::fs::read_to_string(sub.join("network #1.json")).unwrap();
    let name = resource.rsplit('/').next().unwrap();
    assert!(
        text.lines().nth(line as usize - 1).unwrap().contains(name),
        "line {line} of the file does not name {resource}"
    );
    assert!(line > 1);
    // The same inputs, the same fingerprints.
    let again = run(&["check", "--format", "sarif", "my net/network #1.json"]);
    assert_eq!(
        again["runs"][0]["results"][0]["partialFingerprints"],
        r0["partialFingerprints"]
    );
}

/// A template whose variables double a string 24 times (1.9 KB of JSON, 32 MB of text once
/// evaluated, gigabytes on the way without memoisation) is not evaluated past 1 MiB a value:
/// the value is named as not evaluable, quickly, instead of taking 20 s and 1.3 GB.
#[test]
fn a_doubling_template_is_stopped_at_the_value_limit() {
    let mut vars = serde_json::Map::new();
    vars.insert("v0".into(), "ab".into());
    for i in 1..=24 {
        vars.insert(
            format!("v{i}"),
            format!("[concat(variables('v{0}'), variables('v{0}'))]", i - 1).into(),
        );
    }
    let t = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "variables": vars,
        "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
            "name": "nsg", "location": "eastus2", "properties": {"securityRules": [{"name": "r", "properties": {
                "description": "[variables('v24')]", "priority": 100, "direction": "Inbound", "access": "Allow",
                "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
                "destinationAddressPrefix": "*", "destinationPortRange": "443"}}]}}]
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb.json");
    std::fs::write(&file, t.to_string()).unwrap();
    let start = std::time::Instant::now();
    let out = tagnet().arg("check").arg(&file).output().unwrap();
    // Each variable is evaluated once (memoised): well under a second in a release build (it
    // took 11 s when a chain of variables was evaluated again at every use).
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot-evaluate"), "{text}");
    assert!(
        text.contains("more than a template evaluated here may hold"),
        "{text}"
    );
}

/// A local network gateway's space counts as on premises, read from az JSON (the example) and
/// from a Terraform plan (`azurerm_local_network_gateway.address_space`) alike.
#[test]
fn local_network_gateways_are_on_premises() {
    let az = run(&[examples().join("vnet-onprem-overlap")]);
    assert_eq!(az.len(), 1, "{az:#?}");
    assert_eq!(az[0].code, "vnet-onprem-overlap");
    assert_eq!(az[0].counterexample.as_deref(), Some("10.10.128.0"));
    let plan = examples().join("as-terraform/compliant/plan.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan).unwrap()).unwrap();
    doc["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "address": "azurerm_local_network_gateway.corp", "mode": "managed",
            "type": "azurerm_local_network_gateway", "name": "corp",
            "values": {"name": "lng-corp", "location": "eastus2", "resource_group_name": "rg-ml",
                       "gateway_address": "203.0.113.10",
                       "address_space": ["192.168.0.0/16", "10.10.128.0/17"]}
        }));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), doc.to_string()).unwrap();
    let tf = run(&[dir.path().join("plan.json")]);
    assert_eq!(
        tf.iter().map(|f| f.code).collect::<Vec<_>>(),
        vec!["vnet-onprem-overlap"],
        "{tf:#?}"
    );
    assert!(tf[0].message.contains("`lng-corp`"), "{}", tf[0].message);
}

/// A template named alone brings the parameters file beside it (`NAME.parameters.json`), as
/// its folder does: a value only the parameters file gives is evaluated, not reported as
/// missing — whether the template is named by a path or from its own folder.
#[test]
fn a_template_named_alone_takes_its_parameters_file() {
    let text = std::fs::read_to_string(examples().join("as-arm/compliant/template.json")).unwrap();
    let mut t: serde_json::Value = serde_json::from_str(&text).unwrap();
    t["parameters"]["spaceOfMl"] = serde_json::json!({"type": "string"});
    let vnet = t["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["name"] == "vnet-ml")
        .unwrap();
    vnet["properties"]["addressSpace"]["addressPrefixes"] =
        serde_json::json!(["[parameters('spaceOfMl')]"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("azuredeploy.json"), t.to_string()).unwrap();
    std::fs::write(
        dir.path().join("azuredeploy.parameters.json"),
        serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"spaceOfMl": {"value": "10.10.0.0/16"}}
        })
        .to_string(),
    )
    .unwrap();
    // The on-premises range overlaps the space the parameters file gives.
    for (cwd, arg) in [
        (None, dir.path().join("azuredeploy.json")),
        (Some(dir.path()), PathBuf::from("azuredeploy.json")),
    ] {
        let mut c = tagnet();
        if let Some(d) = cwd {
            c.current_dir(d);
        }
        let out = c
            .args(["check", "--on-prem", "10.10.128.0/17"])
            .arg(&arg)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("TN006 vnet-onprem-overlap"), "{text}");
        assert!(!text.contains("has no value"), "{text}");
        assert_eq!(out.status.code(), Some(1), "{text}");
    }
}

/// A parameter with no default and no parameters file: its value is a `cannot-evaluate`
/// (TN098), and the network or subnet it sizes is not also reported as having no address
/// (TN099 bad-value), which would send the user looking for a fault the template lacks.
#[test]
fn a_missing_parameter_is_one_finding_not_two() {
    let dir = tempfile::tempdir().unwrap();
    let t = |space: &str, subnet: &str| {
        format!(
            r#"{{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {{"space": {{"type": "string"}}, "subnet": {{"type": "string"}}}},
            "resources": [
              {{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-04-01", "name": "vnet-ml", "location": "eastus2",
               "properties": {{"addressSpace": {{"addressPrefixes": [{space}]}},
                 "subnets": [{{"name": "a", "properties": {{"addressPrefix": {subnet}}}}}]}}}}
            ]}}"#
        )
    };
    for (space, subnet, missing) in [
        (r#""10.9.0.0/16""#, r#""[parameters('subnet')]""#, "subnet"),
        (r#""[parameters('space')]""#, r#""10.9.0.0/24""#, "space"),
    ] {
        let p = write(dir.path(), "azuredeploy.json", &t(space, subnet));
        let f = run(&[p]);
        let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec!["cannot-evaluate"], "{missing}: {f:?}");
        assert!(f[0].message.contains(missing), "{}", f[0].message);
    }
    // A template of one NSG whose rule needs a parameter with no value: its cannot-evaluate
    // findings, not "no resource tagnet checks" (exit 2), and no bad-value.
    let p = write(
        dir.path(),
        "nsg.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"office": {"type": "string"}},
        "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
          "name": "nsg-ml", "location": "eastus2", "properties": {"securityRules": [{"name": "AllowSSH",
          "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
          "sourceAddressPrefix": "[parameters('office')]", "sourcePortRange": "*",
          "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}}]}"#,
    );
    let f = run(&[p]);
    assert!(
        !f.is_empty() && f.iter().all(|f| f.code == "cannot-evaluate"),
        "{f:?}"
    );
}

/// `terraform show -json` of the state (no plan: `values`, what is deployed) is read as a plan's
/// `planned_values` is: a subnet outside its network is found there too.
#[test]
fn terraform_state_is_read_as_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let state = serde_json::json!({
        "format_version": "1.0", "terraform_version": "1.9.5",
        "values": {"root_module": {"resources": [
            {"address": "azurerm_virtual_network.ml", "mode": "managed", "type": "azurerm_virtual_network",
             "name": "ml", "values": {"name": "vnet-ml", "resource_group_name": "rg-ml", "location": "eastus2",
               "address_space": ["10.9.0.0/16"],
               "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.Network/virtualNetworks/vnet-ml"}},
            {"address": "azurerm_subnet.a", "mode": "managed", "type": "azurerm_subnet",
             "name": "a", "values": {"name": "a", "resource_group_name": "rg-ml", "virtual_network_name": "vnet-ml",
               "address_prefixes": ["10.8.0.0/24"],
               "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.Network/virtualNetworks/vnet-ml/subnets/a"}}
        ]}}
    });
    let p = write(dir.path(), "state.json", &state.to_string());
    let f = run(&[p]);
    let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["subnet-outside-vnet"], "{f:?}");
    // Associations name the subnet and the NSG by their ids in a state: the subnet is guarded.
    let sub = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.Network";
    let mut state = state;
    let res = state["values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    res[1]["values"]["address_prefixes"] = serde_json::json!(["10.9.0.0/24"]);
    res.push(serde_json::json!({"address": "azurerm_network_security_group.n", "mode": "managed",
        "type": "azurerm_network_security_group", "name": "n", "values": {"name": "nsg-ml",
        "resource_group_name": "rg-ml", "location": "eastus2", "id": format!("{sub}/networkSecurityGroups/nsg-ml"),
        "security_rule": []}}));
    res.push(serde_json::json!({"address": "azurerm_subnet_network_security_group_association.a", "mode": "managed",
        "type": "azurerm_subnet_network_security_group_association", "name": "a", "values": {
        "subnet_id": format!("{sub}/virtualNetworks/vnet-ml/subnets/a"),
        "network_security_group_id": format!("{sub}/networkSecurityGroups/nsg-ml"),
        "id": format!("{sub}/virtualNetworks/vnet-ml/subnets/a")}}));
    let p = write(dir.path(), "state.json", &state.to_string());
    let net = load(&[p], None).unwrap();
    let subnet = net.subnets.iter().find(|s| s.meta.name == "a").unwrap();
    assert!(
        subnet
            .nsg
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase().ends_with("/nsg-ml")),
        "{:?}",
        subnet.nsg
    );
}

/// `--parameters FILE` is the file deployed with, even beside a template's own file; a value
/// of another type than declared is reported (Azure refuses it); two files named after the
/// template are named as such.
#[test]
fn the_parameters_file_given_wins_and_types_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "net.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"space": {"type": "string"}},
        "resources": [
          {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-04-01", "name": "vnet-ml", "location": "eastus2",
           "properties": {"addressSpace": {"addressPrefixes": ["[parameters('space')]"]},
             "subnets": [{"name": "a", "properties": {"addressPrefix": "10.9.0.0/24"}}]}}
        ]}"#,
    );
    write(
        dir.path(),
        "net.parameters.json",
        r#"{"parameters": {"space": {"value": "10.8.0.0/16"}}}"#,
    );
    let given = write(
        dir.path(),
        "given.json",
        r#"{"parameters": {"space": {"value": "10.9.0.0/16"}}}"#,
    );
    assert_eq!(
        run(std::slice::from_ref(&t))
            .iter()
            .map(|f| f.code)
            .collect::<Vec<_>>(),
        vec!["subnet-outside-vnet"]
    );
    let net = load(std::slice::from_ref(&t), Some(given.as_path())).unwrap();
    assert!(net.problems.is_empty(), "{:?}", net.problems);
    let typed = write(
        dir.path(),
        "typed.json",
        r#"{"parameters": {"space": {"value": ["10.9.0.0/16"]}}}"#,
    );
    let net = load(std::slice::from_ref(&t), Some(typed.as_path())).unwrap();
    assert!(
        net.problems
            .iter()
            .any(|f| f.code == "bad-value"
                && f.message.contains("declared string but given an array")),
        "{:?}",
        net.problems
    );
    std::fs::rename(
        dir.path().join("net.parameters.json"),
        dir.path().join("net.parameters.dev.json"),
    )
    .unwrap();
    write(
        dir.path(),
        "net.parameters.prod.json",
        r#"{"parameters": {"space": {"value": "10.9.0.0/16"}}}"#,
    );
    let f = run(&[t]);
    assert!(
        f.iter().any(|f| f
            .message
            .contains("2 parameters files are named after the template")),
        "{f:?}"
    );
}

/// An empty file is said to be empty, by every reader, not as the parser's end of input.
#[test]
fn an_empty_file_is_named_empty() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.json", "");
    for args in [
        vec!["check".to_string()],
        vec![
            "nsg".into(),
            "analyze".into(),
            "--vnet".into(),
            "10.0.0.0/16".into(),
            "--nsg".into(),
        ],
        vec![
            "routes".into(),
            "audit".into(),
            "--region".into(),
            "eastus2".into(),
            "--route-table".into(),
        ],
        vec!["--tags".into()],
    ] {
        let mut c = tagnet();
        c.args(&args).arg(&empty);
        if args[0] == "--tags" {
            c.arg("info");
        }
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("the file is empty"), "{args:?}: {err}");
        assert!(!err.contains("EOF"), "{args:?}: {err}");
    }
    // A flow log that is empty: an error, and nothing on standard output before it (no header,
    // no verdict), in every format of `flows attribute` and `flows verify`.
    for (command, format) in [
        ("attribute", "table"),
        ("attribute", "csv"),
        ("attribute", "json"),
        ("verify", "table"),
        ("verify", "csv"),
        ("verify", "json"),
    ] {
        let mut c = tagnet();
        c.args(["flows", command, "--format", format]).arg(&empty);
        if command == "verify" {
            c.args(["--vnet", "10.0.0.0/16"]);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command} {format}");
        assert!(
            out.stdout.is_empty(),
            "{command} {format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// An NSG given as `az network nsg rule list` output (its own rules, each with its id) is
/// checked as that NSG, never read as absent: the broken example with its NSG so given
/// reports what it reports with `az network nsg show` output, in the same folder or apart.
#[test]
fn an_nsg_given_as_its_rule_list_is_checked() {
    let src = examples().join("nsg-requirement-unmet/network.json");
    let doc: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&src).unwrap()).unwrap();
    let (nsg, rest): (Vec<_>, Vec<_>) = doc.into_iter().partition(|r| {
        r["type"] == "Microsoft.Network/networkSecurityGroups" && r["name"] == "nsg-compute"
    });
    let id = nsg[0]["id"].as_str().unwrap().to_string();
    let rules: Vec<serde_json::Value> = nsg[0]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["id"] = format!("{id}/securityRules/{}", r["name"].as_str().unwrap()).into();
            r["type"] = "Microsoft.Network/networkSecurityGroups/securityRules".into();
            r
        })
        .collect();
    let codes = |paths: &[PathBuf]| {
        let mut c: Vec<&'static str> = run(paths).iter().map(|f| f.code).collect();
        c.sort_unstable();
        c
    };
    let want = codes(&[examples().join("nsg-requirement-unmet")]);
    assert!(want.contains(&"nsg-requirement-unmet"), "{want:?}");
    let dir = tempfile::tempdir().unwrap();
    let net = write(
        dir.path(),
        "network.json",
        &serde_json::to_string(&rest).unwrap(),
    );
    let list = write(
        dir.path(),
        "rules.json",
        &serde_json::to_string(&rules).unwrap(),
    );
    assert_eq!(codes(&[net.clone(), list.clone()]), want);
    // The rules inside the network's own list too.
    let mut one = rest.clone();
    one.extend(rules);
    let both = write(
        dir.path(),
        "one.json",
        &serde_json::to_string(&one).unwrap(),
    );
    assert_eq!(codes(&[both]), want);
}
