//! CLI tests: exit codes, stdout and stderr, stdin, bad input, and a snapshot per format.

use super::common::{example, shared};
use assert_cmd::Command;
use predicates::prelude::*;
use serde::Deserialize;

fn tagnet() -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    // No cached snapshot: the built-in one is the default.
    c.env_remove("TAGNET_TAGS")
        .env("TAGNET_CACHE", "/nonexistent/tagnet-test-cache");
    c
}

fn with_example() -> Command {
    let mut c = tagnet();
    c.arg("--tags").arg(example());
    c
}

fn stdout_of(args: &[&str]) -> String {
    let out = with_example().args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn info_in_every_format() {
    insta::assert_snapshot!(
        "info_table",
        stdout_of(&["info"]).replace(&example().display().to_string(), "EXAMPLE")
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&["info", "--format", "json"])).unwrap();
    assert_eq!(json["change_number"], 42);
    assert_eq!(json["cloud"], "Public");
    assert_eq!(json["tags"], 14);
    assert_eq!(json["regions"], 2);
    assert!(stdout_of(&["info", "--format", "csv"]).starts_with("source,cloud,change"));
}

#[test]
fn tags_filters() {
    insta::assert_snapshot!(
        "tags_eastus2",
        stdout_of(&["tags", "--region", "East US 2"])
    );
    insta::assert_snapshot!(
        "tags_udr_csv",
        stdout_of(&["tags", "--feature", "udr", "--format", "csv"])
    );
    let out = stdout_of(&[
        "tags",
        "--name",
        "batch*",
        "--service",
        "BatchNodeManagement",
        "--format",
        "ndjson",
    ]);
    assert_eq!(out.lines().count(), 3);
    with_example()
        .args(["tags", "--name", "Nothing*"])
        .assert()
        .code(1);
}

#[test]
fn prefixes_union_region_and_aggregate() {
    // These prefixes are already minimal: the union and its aggregate are the same list.
    for extra in [None, Some("--aggregate")] {
        let mut args = vec![
            "prefixes",
            "BatchNodeManagement",
            "AzureMachineLearning",
            "--region",
            "eastus2",
            "-4",
        ];
        args.extend(extra);
        assert_eq!(
            stdout_of(&args),
            "192.0.2.16/28\n192.0.2.32/28\n192.0.2.48/29\n192.0.2.64/27\n"
        );
    }
    let agg = stdout_of(&[
        "prefixes",
        "AzureCloud.eastus2",
        "AzureCloud.westeurope",
        "--aggregate",
    ]);
    assert_eq!(
        agg,
        "192.0.2.0/24\n198.51.100.0/24\n2001:db8:1000::/36\n2001:db8:2000::/36\n"
    );
    let v6 = stdout_of(&["prefixes", "storage", "-6"]);
    assert_eq!(v6, "2001:db8:1002::/48\n");
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "prefixes",
        "Storage",
        "--region",
        "westeurope",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["tags"], serde_json::json!(["Storage.WestEurope"]));
    assert_eq!(json["prefixes"], serde_json::json!(["198.51.100.128/26"]));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupLine {
    ip: String,
    matches: Vec<LookupMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupMatch {
    tag: String,
    region: String,
    system_service: String,
    prefix: String,
}

#[test]
fn lookup_ndjson_shape_is_fixed() {
    let out = stdout_of(&[
        "lookup",
        "192.0.2.20",
        "203.0.113.200",
        "2001:DB8:1000::5",
        "--format",
        "ndjson",
    ]);
    let lines: Vec<LookupLine> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].ip, "192.0.2.20");
    let tags: Vec<&str> = lines[0].matches.iter().map(|m| m.tag.as_str()).collect();
    assert_eq!(
        tags,
        [
            "AzureCloud",
            "AzureCloud.eastus2",
            "BatchNodeManagement",
            "BatchNodeManagement.EastUS2"
        ]
    );
    let bnm = &lines[0].matches[3];
    assert_eq!(
        (
            bnm.region.as_str(),
            bnm.system_service.as_str(),
            bnm.prefix.as_str()
        ),
        ("eastus2", "BatchNodeManagement", "192.0.2.16/28")
    );
    let only: Vec<&str> = lines[1].matches.iter().map(|m| m.tag.as_str()).collect();
    assert_eq!(only, ["AzureCloud"], "203.0.113.200 is in AzureCloud alone");
    assert_eq!(lines[2].ip, "2001:db8:1000::5", "IPv6 is printed canonical");
}

#[test]
fn lookup_every_format_snapshot() {
    for format in ["table", "json", "ndjson", "csv"] {
        let out = stdout_of(&[
            "lookup",
            "192.0.2.40",
            "198.51.100.1",
            "100.64.0.1",
            "--format",
            format,
        ]);
        insta::assert_snapshot!(
            format!("lookup_{format}"),
            out.replace(&example().display().to_string(), "EXAMPLE")
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&["lookup", "100.64.0.1", "--format", "json"])).unwrap();
    assert_eq!(
        json["records"],
        serde_json::json!([{"ip": "100.64.0.1", "matches": []}])
    );
    assert_eq!(json["snapshot"]["change_number"], 42);
}

#[test]
fn lookup_region_filter_uses_the_region() {
    let out = stdout_of(&[
        "lookup",
        "192.0.2.20",
        "--region",
        "eastus2",
        "--format",
        "csv",
    ]);
    assert_eq!(
        out,
        "ip,tag,region,system_service,prefix\n192.0.2.20,AzureCloud.eastus2,eastus2,,192.0.2.0/25\n\
         192.0.2.20,BatchNodeManagement.EastUS2,eastus2,BatchNodeManagement,192.0.2.16/28\n"
    );
}

#[test]
fn lookup_exit_codes() {
    with_example()
        .args(["lookup", "192.0.2.1"])
        .assert()
        .code(0);
    with_example()
        .args(["lookup", "100.64.0.1"])
        .assert()
        .code(1);
    with_example()
        .args(["lookup", "192.0.2.300"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid IP address `192.0.2.300`"));
    // No arguments and standard input not a terminal: standard input is read; empty is an
    // input with no valid address.
    with_example()
        .args(["lookup"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no valid address"));
}

#[test]
fn lookup_input_from_stdin_reports_bad_lines_and_goes_on() {
    with_example()
        .args(["lookup", "--input", "-", "--format", "csv"])
        .write_stdin("# header comment\n192.0.2.20\n\nnot-an-ip\n203.0.113.5  # AAD\n")
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "<stdin>:4: invalid IP address `not-an-ip`",
        ))
        .stdout(predicate::str::contains("192.0.2.20,BatchNodeManagement,"))
        .stdout(predicate::str::contains(
            "203.0.113.5,AzureActiveDirectory,",
        ));
    with_example()
        .args(["lookup", "--input", "-"])
        .write_stdin("junk\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no valid address"));
}

#[test]
fn lookup_keeps_input_order_over_many_blocks() {
    let mut input = String::new();
    for i in 0..40_000u32 {
        input.push_str(&format!(
            "{}\n",
            std::net::Ipv4Addr::from(
                0xC000_0200u32
                    .wrapping_add(i % 256)
                    .wrapping_add((i / 256) << 24)
            )
        ));
    }
    let out = with_example()
        .args(["lookup", "--input", "-", "--format", "ndjson"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    let ips: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<LookupLine>(l).unwrap().ip)
        .collect();
    assert_eq!(ips, input.lines().collect::<Vec<_>>());
}

#[test]
fn tags_from_stdin_and_environment() {
    let json = std::fs::read(example()).unwrap();
    tagnet()
        .args(["--tags", "-", "info", "--format", "json"])
        .write_stdin(json)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"change_number\": 42"));
    tagnet()
        .env("TAGNET_TAGS", example())
        .args(["lookup", "192.0.2.1"])
        .assert()
        .code(0);
    tagnet()
        .args(["--tags", "-", "lookup", "--input", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot both read standard input"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"changeNumber\": 1,\n  \"cloud\": \"Public\",\n  \"values\": [ { \"name\": 7 } ]\n}\n").unwrap();
    tagnet()
        .arg("--tags")
        .arg(&bad)
        .arg("info")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("line 4, column").and(predicate::str::contains("bad.json")),
        );
    tagnet()
        .args(["--tags", "/nonexistent/ServiceTags.json", "info"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read `/nonexistent/ServiceTags.json`",
        ));
    // Without --tags or TAGNET_TAGS: the built-in snapshot.
    tagnet()
        .args(["info", "--format", "json", "-q"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"change_number\": 376"));
    with_example()
        .args(["prefixes", "Storage", "--region", "eastus3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown region `eastus3`; did you mean `eastus2`?",
        ));
    with_example()
        .args(["prefixes", "Storag.WestEurope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `Storage.WestEurope`?",
        ));
    with_example()
        .args(["prefixes", "AzureActiveDirectory", "--region", "eastus2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no variant in region `eastus2`"));
    with_example()
        .args(["--format", "yaml", "info"])
        .assert()
        .code(2);
    let bad_prefix = dir.path().join("prefix.json");
    std::fs::write(&bad_prefix, r#"{"changeNumber":1,"cloud":"Public","values":[{"name":"X","properties":{"region":"","systemService":"","addressPrefixes":["192.0.2.0/24","192.0.2/24"]}}]}"#).unwrap();
    tagnet()
        .arg("--tags")
        .arg(&bad_prefix)
        .arg("info")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tag `X`: invalid prefix `192.0.2/24`",
        ));
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn real_snapshot_lookup_of_a_batch_address() {
    let Some(path) = shared("ServiceTags_Public_cn376.json") else {
        return;
    };
    let first = {
        let snap = tagnet::load::load_path(&path).unwrap();
        let id = snap.tag_by_name("BatchNodeManagement.EastUS2").unwrap();
        snap.tag(id).v4()[0]
    };
    let out = tagnet()
        .arg("--tags")
        .arg(&path)
        .args(["lookup", &first.network().to_string(), "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for tag in [
        "AzureCloud,",
        "BatchNodeManagement,",
        "BatchNodeManagement.EastUS2,",
    ] {
        assert!(
            text.contains(&format!(",{tag}")),
            "{tag} missing in\n{text}"
        );
    }
}

#[test]
fn prefixes_set_algebra() {
    // AzureCloud.eastus2 minus the eastus2 Storage prefixes, IPv4 only.
    let out = stdout_of(&[
        "prefixes",
        "AzureCloud",
        "--region",
        "eastus2",
        "-4",
        "--minus",
        "Storage",
    ]);
    assert_eq!(out, "192.0.2.0/25\n198.51.100.64/26\n");
    let out = stdout_of(&[
        "prefixes",
        "AzureCloud",
        "-4",
        "--intersect",
        "192.0.2.0/26",
        "--minus",
        "192.0.2.16/28",
    ]);
    assert_eq!(out, "192.0.2.0/28\n192.0.2.32/27\n");
    let out = stdout_of(&[
        "prefixes",
        "AzureCloud",
        "--intersect",
        "2001:db8:1000::/36",
        "--minus",
        "BatchNodeManagement",
    ]);
    assert_eq!(
        out,
        "2001:db8:1001::/48\n2001:db8:1002::/47\n2001:db8:1004::/46\n2001:db8:1008::/45\n2001:db8:1010::/44\n2001:db8:1020::/43\n2001:db8:1040::/42\n2001:db8:1080::/41\n2001:db8:1100::/40\n2001:db8:1200::/39\n2001:db8:1400::/38\n2001:db8:1800::/37\n"
    );
    with_example()
        .args(["prefixes", "AzureCloud", "--minus", "10.0.0.1/33"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid prefix `10.0.0.1/33`"));
}

#[test]
fn inputs_from_windows_and_from_people() {
    let tagnet = || {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS").arg("--tags").arg(example());
        c
    };
    let dir = tempfile::tempdir().unwrap();
    // A UTF-8 byte-order mark is skipped, in the snapshot and in address lists.
    let bom = dir.path().join("bom.json");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(std::fs::read(example()).unwrap());
    std::fs::write(&bom, &bytes).unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, b"\xef\xbb\xbf192.0.2.20\n").unwrap();
    Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["--tags"])
        .arg(&bom)
        .args(["lookup", "--input"])
        .arg(&list)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("BatchNodeManagement"));
    // UTF-16 gets a message saying so.
    let utf16 = dir.path().join("u16.txt");
    let mut b = vec![0xff, 0xfe];
    for c in "192.0.2.20\r\n".encode_utf16() {
        b.extend(c.to_le_bytes());
    }
    std::fs::write(&utf16, b).unwrap();
    tagnet()
        .args(["lookup", "--input"])
        .arg(&utf16)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("UTF-16"));
    // Mapped, zoned and zero-padded addresses.
    tagnet()
        .args(["lookup", "::ffff:192.0.2.20"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("192.0.2.20  "))
        .stderr(predicate::str::contains("IPv4-mapped"));
    tagnet()
        .args(["lookup", "2001:db8:1000::5%eth0"])
        .assert()
        .code(0);
    tagnet()
        .args(["lookup", "010.1.1.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("leading zeros"));
    // No address arguments: standard input, when it is not a terminal.
    tagnet()
        .arg("lookup")
        .write_stdin("192.0.2.20\n")
        .assert()
        .code(0);
    // No valid line at all is an error; a bad line is quoted at most 100 characters.
    let long = "x".repeat(500);
    let out = tagnet()
        .args(["lookup", "--input", "-"])
        .write_stdin(format!("{long}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&"x".repeat(100)) && !err.contains(&"x".repeat(101)),
        "{err}"
    );
    // A prefix: the tags that contain it or lie inside it.
    tagnet()
        .args(["lookup", "192.0.2.16/29", "--format", "csv"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "192.0.2.16/29,BatchNodeManagement,,BatchNodeManagement,192.0.2.16/28,contains",
        ));
    tagnet()
        .args(["lookup", "192.0.2.0/16"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("inside"));
    // Arguments.
    tagnet()
        .args(["tags", "--feature", "XYZ"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("NSG"));
    // An empty TAGNET_TAGS counts as unset: the built-in snapshot, with its age said.
    Command::cargo_bin("tagnet")
        .unwrap()
        .env("TAGNET_TAGS", "")
        .env("TAGNET_CACHE", "/nonexistent/tagnet-test-cache")
        .args(["info", "--format", "csv"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("built-in ServiceTags_Public"))
        .stderr(predicate::str::contains("days ago"));
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["--tags", "https://download.microsoft.com/x.json", "info"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("curl"));
    tagnet()
        .args(["prefixes", "Storage", "--intersect", "203.0.113.0/24"])
        .assert()
        .code(1);
    tagnet().args(["info", "--format", "Json"]).assert().code(0);
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["aggregate", "--max", "0"])
        .write_stdin("10.0.0.0/24\n")
        .assert()
        .code(2);
    // Labels with spaces; repeated labels carry their line numbers.
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["overlaps"])
        .write_stdin("my vnet 10.0.0.0/16\nsvc 10.0.1.0/24\nsvc 10.0.2.0/24\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("my vnet").and(predicate::str::contains("svc (line 3)")));
}

#[test]
fn regions_lists_codes_names_and_spellings() {
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["--tags"])
        .arg(example())
        .args(["regions", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["snapshot"]["change_number"], 42);
    let east = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "eastus2")
        .unwrap();
    assert_eq!(east["display_name"], "East US 2");
    assert!(east["tags"].as_u64().unwrap() >= 4);
    if let Some(path) = shared("ServiceTags_Public_cn376.json") {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .args(["--tags"])
            .arg(path)
            .args(["regions", "--format", "csv"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with("region,display_name,spellings,tags,ipv4_prefixes,ipv6_prefixes\n")
        );
        assert!(
            text.contains("centralfrance,France Central,francecentral,"),
            "{text}"
        );
    }
}

#[test]
fn completions_version_and_man() {
    let out = tagnet().args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tagnet.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |words: &str, cword: usize| -> String {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; _tagnet tagnet \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; echo \"${{COMPREPLY[*]}}\"",
                script.display()
            ))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("tagnet u", 1).trim(), "udr");
    let profiles = complete("tagnet udr --profile ''", 3);
    assert!(
        profiles.contains("aml-vnet-2023") && profiles.contains("batch-classic"),
        "{profiles}"
    );
    // `--profile` completes to the command's profiles, not to file names.
    for (words, cword) in [
        ("tagnet nsg require --profile ''", 4),
        ("tagnet check --profile ''", 3),
        ("tagnet path --profile ''", 3),
        ("tagnet flows verify --profile ''", 4),
    ] {
        let got = complete(words, cword);
        assert!(
            got.contains("batch-simplified") && got.contains("aml-vnet-2020"),
            "{words}: {got}"
        );
    }
    let got = complete("tagnet check --udr-profile ''", 3);
    assert!(got.contains("batch-classic"), "{got}");
    let got = complete("tagnet export --as ''", 3);
    assert!(
        got.contains("paloalto") && got.contains("nftables"),
        "{got}"
    );
    // `--format` completes to the formats the command writes.
    let formats = complete("tagnet map --format ''", 3);
    let mut got: Vec<&str> = formats.split_whitespace().collect();
    got.sort();
    assert_eq!(got, ["png", "svg", "table"], "{formats}");
    let formats = complete("tagnet nsg verify --format ''", 4);
    assert!(
        formats.contains("csv") && !formats.contains("sarif") && !formats.contains("bicep"),
        "{formats}"
    );
    for shell in ["zsh", "fish", "powershell"] {
        tagnet().args(["completions", shell]).assert().code(0);
    }
    tagnet()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("changeNumber 376"));
    tagnet()
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH tagnet"));
}

/// Trial finding (2026-11-28): a `lookup --input` with no valid line (exit 2) wrote the CSV
/// header to standard output first; now it writes nothing.
#[test]
fn lookup_without_a_valid_line_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("novalid.txt");
    std::fs::write(&input, "# only a comment\nnot-an-address\n").unwrap();
    for format in ["csv", "json", "table", "ndjson"] {
        Command::cargo_bin("tagnet")
            .unwrap()
            .env_remove("TAGNET_TAGS")
            .arg("--tags")
            .arg(super::common::example())
            .args(["lookup", "--input"])
            .arg(&input)
            .args(["--format", format])
            .assert()
            .code(2)
            .stdout("");
    }
}

/// Plain IPv4 lines take a fast path (own reader, batched lookups, rows prepared per match);
/// every other line the general one. The same addresses written so that none is plain (a
/// trailing space) must give byte-identical output in every format, over many blocks, with
/// other kinds of lines mixed in.
#[test]
fn lookup_fast_path_answers_as_the_general_one() {
    let mut rng = super::common::Rng(7);
    let mut plain = String::new();
    let mut padded = String::new();
    for i in 0..30_000 {
        let line = match i % 50 {
            0 => "# a comment".to_string(),
            1 => String::new(),
            2 => format!("2603:1030:{:x}::1", rng.below(0x1000)),
            3 => format!(
                "::ffff:20.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                rng.below(256)
            ),
            4 => "10.0.0.01".to_string(),
            5 => format!("{}", std::net::Ipv4Addr::from(rng.next() as u32)),
            _ => {
                let first = [4, 13, 20, 40, 51, 52, 104, 137, 191][rng.below(9)];
                format!(
                    "{first}.{}.{}.{}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256)
                )
            }
        };
        let end = if i % 7 == 0 { "\r\n" } else { "\n" };
        plain.push_str(&line);
        plain.push_str(end);
        padded.push_str(&line);
        if !line.is_empty() && !line.starts_with('#') {
            padded.push(' ');
        }
        padded.push_str(end);
    }
    // The last line without its newline.
    plain.push_str("52.146.137.0");
    padded.push_str("52.146.137.0 ");
    for format in ["csv", "ndjson", "json", "table"] {
        let run = |input: &str| {
            tagnet()
                .args(["lookup", "--input", "-", "--format", format])
                .write_stdin(input.to_string())
                .output()
                .unwrap()
        };
        let (fast, general) = (run(&plain), run(&padded));
        assert_eq!(fast.status.code(), Some(0), "{format}");
        assert!(
            fast.stdout.len() > 1 << 20,
            "{format}: {} bytes",
            fast.stdout.len()
        );
        assert!(
            fast.stdout == general.stdout,
            "{format}: the fast path answers otherwise"
        );
        assert_eq!(
            String::from_utf8_lossy(&fast.stderr),
            String::from_utf8_lossy(&general.stderr)
        );
    }
}

/// A systemService nobody has is a typo to name, not an empty list: every front end refuses
/// it with suggestions (as an unknown feature, region or tag).
#[test]
fn an_unknown_service_is_refused_with_suggestions() {
    with_example()
        .args(["tags", "--service", "AzureStorag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `AzureStorage`"));
    with_example()
        .args(["tags", "--service", "azurestorage"])
        .assert()
        .code(0);
}

/// `--help` lists the commands by job, each group with its commands, and the exit statuses
/// of each command; `man` prints the page of any command, and `man --dir` writes every page
/// the main page refers to.
#[test]
fn help_is_grouped_by_job_and_every_man_page_exists() {
    let out = tagnet().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut at = 0;
    for heading in [
        "Look up:",
        "Routes:",
        "NSGs:",
        "Check a deployment:",
        "Flow logs:",
        "Stay current:",
        "Serve:",
        "Prefix lists:",
        "Shell:",
    ] {
        let i = help[at..]
            .find(heading)
            .unwrap_or_else(|| panic!("{heading} missing or out of order:\n{help}"));
        at += i;
    }
    for name in [
        "lookup",
        "udr",
        "routes",
        "path",
        "nsg",
        "check",
        "flows",
        "fetch",
        "diff",
        "serve",
        "aggregate",
        "overlaps",
        "man",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} "))),
            "{name} not listed"
        );
    }
    let commands = &help[help.find("Look up:").unwrap()..help.find("Options:").unwrap()];
    assert!(
        commands.lines().all(|l| l.chars().count() <= 100),
        "a command line over 100 columns"
    );
    for exit in [
        "check",
        "path",
        "flows verify",
        "diff",
        "overlaps",
        "routes audit",
        "nsg verify",
    ] {
        assert!(help.contains(exit), "no exit status for {exit}");
    }
    // A command's page.
    let page = tagnet().args(["man", "nsg", "verify"]).output().unwrap();
    assert_eq!(page.status.code(), Some(0));
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(
        page.contains(".TH tagnet-nsg-verify 1") && page.contains("tagnet\\-nsg\\-verify"),
        "{page}"
    );
    // Its synopsis names each option's value.
    let synopsis = page
        .split(".SH SYNOPSIS")
        .nth(1)
        .and_then(|s| s.split(".SH").next())
        .unwrap_or_default();
    assert!(
        synopsis.contains("[\\-\\-nsg <FILE[#NAME]>]")
            && synopsis.contains("[\\-\\-format <FORMAT>]"),
        "{synopsis}"
    );
    assert_eq!(
        tagnet()
            .args(["man", "nope"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    // Every page the main page names is written.
    let dir = tempfile::tempdir().unwrap();
    assert!(
        tagnet()
            .args(["man", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap()
            .status
            .success()
    );
    let main = std::fs::read_to_string(dir.path().join("tagnet.1")).unwrap();
    let named: Vec<&str> = main
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '\\'))
        .filter(|w| w.starts_with("tagnet\\-"))
        .collect();
    assert!(named.len() >= 15, "{named:?}");
    for n in named {
        let file = format!("{}.1", n.replace("\\-", "-"));
        assert!(
            dir.path().join(&file).exists(),
            "{file} is named by tagnet(1) but not written"
        );
    }
}

/// `tagnet map`: SVG by default (a `<rect>` a filled /16 with its prefix as a tooltip, the
/// marks circled), PNG on request (decoded: 768 pixels a side, the marked cell red); the map
/// of a tag holds exactly the /16s the tag's prefixes touch; a flows map holds the /16s of
/// the remote addresses; IPv6 marks and images for other commands are refused.
#[test]
fn map_draws_the_ipv4_space() {
    let example = example();
    let out = tagnet()
        .arg("--tags")
        .arg(&example)
        .args(["-q", "map", "--tag", "AzureCloud", "--mark", "192.0.2.20"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    // The example's AzureCloud IPv4 prefixes, by /16, computed apart from the map.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&example).unwrap()).unwrap();
    let mut want = std::collections::BTreeSet::new();
    for v in doc["values"].as_array().unwrap() {
        if v["name"] != "AzureCloud" {
            continue;
        }
        for p in v["properties"]["addressPrefixes"].as_array().unwrap() {
            let n: ipnet::IpNet = p.as_str().unwrap().parse().unwrap();
            if let ipnet::IpNet::V4(n) = n {
                let (a, b) = (u32::from(n.network()) >> 16, u32::from(n.broadcast()) >> 16);
                want.extend((a..=b).map(|k| format!("{}.{}.0.0/16", k >> 8, k & 255)));
            }
        }
    }
    let got: std::collections::BTreeSet<String> = svg
        .match_indices("<title>")
        .filter_map(|(i, _)| svg[i + 7..].split_whitespace().next())
        .filter(|t| t.ends_with(".0.0/16"))
        .map(str::to_string)
        .collect();
    assert_eq!(got, want);
    // One circle the mark, one the legend's entry for it.
    assert_eq!(svg.matches("<circle").count(), 2);
    assert!(svg.contains(">marked address</text>"));
    // The title is written under the legend, not only as a tooltip.
    let title = svg
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap();
    assert!(svg.contains(&format!("\">{title}</text>")), "{title}");
    // PNG.
    let out = tagnet()
        .args(["-q", "map", "--format", "png", "--mark", "20.38.98.100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let decoder = png::Decoder::new(std::io::Cursor::new(out.stdout));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.color_type), (768, png::ColorType::Rgb));
    let (x, y) = tagnet::map::cell_of("20.38.98.100".parse().unwrap());
    let (px, py) = (x * 3 + 1 + 9, y * 3 + 1);
    let i = ((py * info.width + px) * 3) as usize;
    assert_eq!(&buf[i..i + 3], &[207, 34, 46], "the mark's square");
    // The legend is named: the first entry's text, drawn from the font, is under the grid.
    let text_row = |dy: u32| {
        (0..8u32)
            .map(|dx| {
                let i = (((768 + 8 + 2 + dy) * info.width + 4 + 16 + dx) * 3) as usize;
                u8::from(buf[i..i + 3] == [36, 41, 47]) << dx
            })
            .sum::<u8>()
    };
    let same = tagnet()
        .args(["-q", "map", "--format", "svg", "--mark", "20.38.98.100"])
        .output()
        .unwrap();
    let same = String::from_utf8(same.stdout).unwrap();
    let svg_first = same
        .split("<text")
        .nth(1)
        .and_then(|t| t.split('>').nth(1))
        .and_then(|t| t.chars().next())
        .unwrap();
    let glyph: Vec<u8> = (0..8).map(text_row).collect();
    assert_eq!(
        glyph,
        font8x8::legacy::BASIC_LEGACY[svg_first as usize].to_vec(),
        "the PNG legend's first letter is the SVG legend's ({svg_first})"
    );
    // Flows: the /16s of the remote IPv4 addresses.
    let dir = tempfile::tempdir().unwrap();
    assert!(
        tagnet()
            .args(["-q", "flows", "synth", "--tuples", "2000", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap()
            .status
            .success()
    );
    let csv = tagnet()
        .args(["-q", "flows", "attribute", "--format", "csv"])
        .arg(dir.path())
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let want: std::collections::BTreeSet<String> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(7))
        .filter_map(|ip| ip.parse::<std::net::Ipv4Addr>().ok())
        .map(|ip| {
            let o = ip.octets();
            format!("{}.{}.0.0/16", o[0], o[1])
        })
        .collect();
    let svg = tagnet()
        .args(["-q", "map", "--flows"])
        .arg(dir.path())
        .output()
        .unwrap();
    let svg = String::from_utf8(svg.stdout).unwrap();
    let got: std::collections::BTreeSet<String> = svg
        .match_indices("<title>")
        .filter_map(|(i, _)| svg[i + 7..].split_whitespace().next())
        .filter(|t| t.ends_with(".0.0/16"))
        .map(str::to_string)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    // Refusals.
    assert_eq!(
        tagnet()
            .args(["-q", "map", "--mark", "2603:1030::1"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        tagnet()
            .args(["-q", "lookup", "1.2.3.4", "--format", "svg"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        tagnet()
            .args(["-q", "map", "--format", "json"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

/// `diff --format markdown`: every row of the table has as many cells as its header (the
/// IPv4 and IPv6 address counts were two cells under one heading).
#[test]
fn diff_markdown_rows_match_their_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    let old = dir.path().join("old.json");
    std::fs::write(&old, doc.to_string()).unwrap();
    doc["changeNumber"] = 43.into();
    let v = doc["values"].as_array_mut().unwrap();
    v[0]["properties"]["addressPrefixes"]
        .as_array_mut()
        .unwrap()
        .pop();
    let new = dir.path().join("new.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    let out = tagnet()
        .args(["-q", "diff", "--format", "markdown"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() >= 3, "{md}");
    let cells = |l: &str| l.trim().trim_matches('|').split(" | ").count();
    for r in &rows {
        assert_eq!(cells(r), cells(rows[0]), "{r}\n{md}");
    }
}

/// The third newcomer trial's findings, kept fixed: an empty prefix list is an error, not a
/// silent success; `nsg analyze` reads the NSGs of a network's export (other resources
/// beside them are not its business); `-o` with a name saying another format is refused.
#[test]
fn newcomer_findings_stay_fixed() {
    let t = || {
        let mut c = assert_cmd::Command::cargo_bin("tagnet").unwrap();
        c.env_remove("TAGNET_TAGS")
            .args(["--tags", "builtin", "-q"]);
        c
    };
    for cmd in ["aggregate", "overlaps"] {
        t().arg(cmd)
            .write_stdin("# nothing but a comment\n")
            .assert()
            .code(2)
            .stderr(predicates::str::contains("no prefix in the input"));
    }
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/examples/nsg-unreachable-rule/network.json");
    t().args(["nsg", "analyze", "--vnet", "10.10.0.0/16", "--nsg"])
        .arg(&ex)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("AllowSshFromAzureMLEastUS2"));
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("routes.json");
    t().args(["udr", "--region", "eastus2", "-o"])
        .arg(&o)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--format json (or arm for a template)",
        ));
    assert!(!o.exists());
}

/// Each command's `--help` ends with the formats it writes, and that line is the truth: every
/// format it lists is written (not refused as a format), every other one is refused, naming
/// the command and its formats.
#[test]
fn each_command_writes_the_formats_its_help_lists() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let d = |p: &str| data.join(p).to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    assert!(
        tagnet()
            .args(["-q", "flows", "synth", "--tuples", "50", "--dir"])
            .arg(&logs)
            .output()
            .unwrap()
            .status
            .success()
    );
    let list = dir.path().join("p.txt");
    std::fs::write(&list, "10.0.0.0/24\n10.0.1.0/24\n").unwrap();
    let st = dir.path().join("st.json");
    {
        use std::io::Read;
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(data.join("ServiceTags_Public_cn376.json.gz")).unwrap(),
        )
        .read_to_end(&mut text)
        .unwrap();
        std::fs::write(&st, text).unwrap();
    }
    let (logs, list, st) = (
        logs.to_string_lossy().into_owned(),
        list.to_string_lossy().into_owned(),
        st.to_string_lossy().into_owned(),
    );
    let nsg = d("nsg/ml-nsg.json");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("info", vec![]),
        ("tags", vec![]),
        ("prefixes", vec!["Storage.EastUS2".into()]),
        ("lookup", vec!["20.38.98.100".into()]),
        ("regions", vec![]),
        ("udr", vec!["--region".into(), "eastus2".into()]),
        (
            "routes audit",
            vec![
                "--route-table".into(),
                d("routes/rt-ml.json"),
                "--region".into(),
                "eastus2".into(),
            ],
        ),
        (
            "path",
            vec![
                d("examples/compliant"),
                "--from".into(),
                "vnet-ml/compute".into(),
                "--profile".into(),
                "aml-vnet-2020".into(),
            ],
        ),
        (
            "nsg verify",
            vec![
                "--nsg".into(),
                nsg.clone(),
                "--direction".into(),
                "outbound".into(),
                "--protocol".into(),
                "tcp".into(),
                "--local".into(),
                "10.10.0.4:50000".into(),
                "--remote".into(),
                "20.38.98.100:443".into(),
                "--vnet".into(),
                "10.10.0.0/16".into(),
            ],
        ),
        (
            "nsg require",
            vec![
                "--nsg".into(),
                nsg.clone(),
                "--vnet".into(),
                "10.10.0.0/16".into(),
                "--region".into(),
                "eastus2".into(),
            ],
        ),
        (
            "nsg reach",
            vec![
                "--nsg".into(),
                nsg.clone(),
                "--vnet".into(),
                "10.10.0.0/16".into(),
                "--local".into(),
                "10.10.0.4".into(),
                "--direction".into(),
                "outbound".into(),
                "--protocol".into(),
                "tcp".into(),
                "--port".into(),
                "443".into(),
            ],
        ),
        (
            "nsg analyze",
            vec![
                "--nsg".into(),
                nsg.clone(),
                "--vnet".into(),
                "10.10.0.0/16".into(),
            ],
        ),
        ("check", vec![d("examples/compliant")]),
        ("explain", vec!["TN001".into()]),
        ("flows attribute", vec![logs.clone()]),
        (
            "flows verify",
            vec![
                logs.clone(),
                "--nsg".into(),
                nsg.clone(),
                "--vnet".into(),
                "10.10.0.0/16".into(),
            ],
        ),
        ("fetch", vec!["--file".into(), st]),
        ("snapshots", vec![]),
        ("diff", vec!["builtin".into(), "builtin".into()]),
        (
            "history",
            vec!["20.38.98.100".into(), "--snapshot".into(), "builtin".into()],
        ),
        ("export", vec!["Storage.EastUS2".into()]),
        ("aggregate", vec![list.clone()]),
        ("overlaps", vec![list]),
        ("map", vec![]),
    ];
    let all = [
        "table",
        "json",
        "ndjson",
        "csv",
        "markdown",
        "sarif",
        "az",
        "arm",
        "bicep",
        "terraform",
        "svg",
        "png",
    ];
    let cache = dir.path().join("cache");
    let one = |name: &str, args: &[String]| {
        let words: Vec<&str> = name.split(' ').collect();
        let help = tagnet().args(&words).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        let line = help
            .lines()
            .find_map(|l| l.strip_prefix("Formats (--format): "))
            .unwrap_or_else(|| panic!("`{name} --help` lists no formats:\n{help}"));
        let (formats, note) = line.split_once(" (").unwrap_or((line, ""));
        let listed: Vec<&str> = formats.split(", ").collect();
        for f in all {
            let out = tagnet()
                .env("TAGNET_CACHE", cache.join(name.replace(' ', "-")).join(f))
                .args(["-q", "--format", f])
                .args(&words)
                .args(args)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let refused = out.status.code() == Some(2) && err.contains("--format");
            // A format the help lists with a condition (`sarif with --profile`) may be refused
            // without it, by a message naming the condition.
            let conditional = note.contains(&format!("{f} ")) || note.contains(&format!(" {f}"));
            if listed.contains(&f) && conditional {
                assert!(!refused || err.contains(" with --"), "{name} {f}: {err}");
                continue;
            }
            assert_eq!(
                refused,
                !listed.contains(&f),
                "`{name}` with --format {f} (help: {line}): exit {:?}, {err}",
                out.status.code()
            );
            if refused {
                assert!(err.contains(&format!("`{name}` writes")), "{err}");
            }
        }
    };
    std::thread::scope(|s| {
        let (a, b) = cases.split_at(cases.len() / 2);
        for half in [a, b] {
            s.spawn(move || {
                for (name, args) in half {
                    one(name, args);
                }
            });
        }
    });
}

/// `map -o NAME` writes what the name says: `.png` a PNG; a name of another format than the
/// one asked, or of a picture format `map` does not write, is refused and no file is left.
#[test]
fn map_output_names_say_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("map.png");
    assert!(
        tagnet()
            .args(["-q", "map", "-o"])
            .arg(&png)
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    for (name, format) in [
        ("map.jpg", None),
        ("m.svg", Some("png")),
        ("m.png", Some("svg")),
    ] {
        let f = dir.path().join(name);
        let mut c = tagnet();
        c.args(["-q", "map", "-o"]).arg(&f);
        if let Some(x) = format {
            c.args(["--format", x]);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(!f.exists(), "{name} was written");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("-o "),
            "{name}"
        );
    }
}
