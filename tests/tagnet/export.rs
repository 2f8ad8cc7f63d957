//! `export`: each target's form, and the incremental change (`--since`) applied to last
//! week's export giving this week's — by a model of each format's add/delete lines on the
//! real snapshots (cn373 → cn376) and on a made-up week of the example, and by nftables itself
//! in a network namespace where `nft` is installed (ignored, with the reason, where not).

use super::common::example;
use assert_cmd::Command;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn export(tags: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .env_remove("TAGNET_SOURCES")
        .env_remove("TAGNET_CUSTOM")
        .arg("--tags")
        .arg(tags)
        .arg("-q")
        .arg("export")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The elements of each set a whole export defines: nftables `elements = { … }` per set,
/// ipset `add SET P`, plain lines.
fn elements(target: &str, text: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for l in text.lines().map(str::trim) {
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        match target {
            "nftables" => {
                if let Some(rest) = l.strip_prefix("add element inet tagnet ") {
                    let (name, list) = rest.split_once(" { ").expect(l);
                    for p in list.trim_end_matches(" }").split(", ") {
                        out.insert((name.to_string(), p.to_string()));
                    }
                }
            }
            "ipset" => {
                if let Some(rest) = l.strip_prefix("add ") {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    out.insert((f[0].to_string(), f[1].to_string()));
                }
            }
            _ => {
                out.insert((String::new(), l.to_string()));
            }
        }
    }
    out
}

/// Applies an incremental export to a set of elements, as the firewall would: deletions of
/// elements present, additions of elements absent (anything else is an error).
fn apply(
    target: &str,
    delta: &str,
    mut set: BTreeSet<(String, String)>,
) -> BTreeSet<(String, String)> {
    for l in delta.lines().map(str::trim) {
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        let (add, items): (bool, Vec<(String, String)>) = match target {
            "nftables" => {
                let (verb, rest) = l.split_once(" element inet tagnet ").expect(l);
                let (name, list) = rest.split_once(" { ").expect(l);
                let list = list.trim_end_matches(" }");
                (
                    verb == "add",
                    list.split(", ")
                        .map(|p| (name.to_string(), p.to_string()))
                        .collect(),
                )
            }
            "ipset" => {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.get(3), Some(&"-exist"), "{l}");
                (f[0] == "add", vec![(f[1].to_string(), f[2].to_string())])
            }
            _ => (
                l.starts_with('+'),
                vec![(String::new(), l[1..].to_string())],
            ),
        };
        for e in items {
            if add {
                assert!(set.insert(e.clone()), "adds an element present: {e:?}");
            } else {
                assert!(set.remove(&e), "deletes an element absent: {e:?}");
            }
        }
    }
    set
}

fn week_of_example(dir: &Path) -> PathBuf {
    // Last week: Storage.WestEurope had another prefix and lacked this week's; AzureCloud's
    // first prefix was split in two.
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    // AzureResourceManager is new this week.
    v["values"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["name"] != "AzureResourceManager");
    for t in v["values"].as_array_mut().unwrap() {
        if t["name"] == "Storage.WestEurope" {
            let p = t["properties"]["addressPrefixes"].as_array_mut().unwrap();
            p.clear();
            p.push("198.51.100.200/29".into());
            p.push("2001:db8:ffff::/48".into());
        }
    }
    v["changeNumber"] = 1.into();
    let f = dir.join("ServiceTags_Example_old.json");
    std::fs::write(&f, v.to_string()).unwrap();
    f
}

fn check_weeks(old: &Path, new: &Path, tags: &[&str]) {
    for target in ["nftables", "ipset", "plain"] {
        let mut args = vec!["--as", target, "--name", "sel"];
        args.extend_from_slice(tags);
        // A tag new this week has no export last week: it held nothing then.
        let known = |snap: &Path| {
            let out = Command::cargo_bin("tagnet")
                .unwrap()
                .arg("--tags")
                .arg(snap)
                .args(["-q", "tags", "--format", "csv"])
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            tags.iter()
                .all(|t| text.lines().any(|l| l.split(',').next() == Some(*t)))
        };
        let before = if known(old) {
            elements(target, &export(old, &args))
        } else {
            BTreeSet::new()
        };
        let after = elements(target, &export(new, &args));
        let since = new_since(old);
        let mut with = args.clone();
        with.extend(["--since", since.as_str()]);
        let delta = export(new, &with);
        assert_eq!(
            apply(target, &delta, before.clone()),
            after,
            "{target} {tags:?}"
        );
        if before != after {
            assert!(
                delta.lines().any(|l| !l.starts_with('#')),
                "a change is written"
            );
        }
    }
}

fn new_since(old: &Path) -> String {
    old.display().to_string()
}

#[test]
fn the_change_applied_to_last_weeks_export_is_this_weeks() {
    let dir = tempfile::tempdir().unwrap();
    let old = week_of_example(dir.path());
    check_weeks(&old, &example(), &["Storage.WestEurope"]);
    check_weeks(&old, &example(), &["Storage.WestEurope", "AzureCloud"]);
    // A tag new this week: all its prefixes are additions.
    check_weeks(&old, &example(), &["AzureResourceManager"]);
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn the_change_applied_to_last_weeks_export_is_this_weeks_on_real_weeks() {
    let s = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/servicetags");
    let (old, new) = (
        s.join("ServiceTags_Public_cn373.json"),
        s.join("ServiceTags_Public_cn376.json"),
    );
    for tags in [
        &["AzureCloud.westeurope"][..],
        &["BatchNodeManagement", "AzureMachineLearning"],
        &["Storage"],
        // New in cn376.
        &["MicrosoftCloudAppSecurity.JapanEast"],
    ] {
        check_weeks(&old, &new, tags);
    }
    // An address whose AzureCloud prefix grew: still in the tag, `changed`, not `left`.
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args([
            "-q",
            "--format",
            "json",
            "history",
            "57.157.3.5",
            "--snapshot",
        ])
        .arg(&old)
        .arg("--snapshot")
        .arg(&new)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cloud: Vec<&serde_json::Value> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tag"] == "AzureCloud" && e["change_number"] == 376)
        .collect();
    assert_eq!(cloud.len(), 1, "{v:#}");
    assert_eq!(cloud[0]["event"], "changed", "{v:#}");
    assert!(
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event"] != "left"),
        "{v:#}"
    );
}

/// Every target's shape: headers naming the sources, names within each firewall's limits,
/// IP Groups split at 5,000 prefixes, FortiGate objects per prefix, and the errors.
#[test]
fn each_target_is_written_as_its_firewall_reads_it() {
    let ex = example();
    let plain = export(&ex, &["Storage.WestEurope"]);
    assert!(
        plain.starts_with("# tagnet export `Storage.WestEurope`"),
        "{plain}"
    );
    assert!(plain.contains("# source: Public changeNumber"), "{plain}");
    // The built-in week names itself: its change number is said once.
    let builtin = export(Path::new("builtin"), &["AzureMachineLearning.WestEurope"]);
    let source = builtin.lines().nth(1).unwrap_or_default();
    assert!(source.starts_with("# source: built-in"), "{builtin}");
    assert_eq!(source.matches("changeNumber").count(), 1, "{source}");
    let edl = export(&ex, &["--as", "paloalto", "Storage.WestEurope"]);
    assert!(
        edl.lines().all(|l| l.contains('/') && !l.starts_with('#')),
        "{edl}"
    );
    let forti = export(&ex, &["--as", "fortigate", "Storage"]);
    assert!(forti.contains("config firewall address\n"), "{forti}");
    assert!(forti.contains("set subnet "), "{forti}");
    assert!(forti.contains("config firewall addrgrp\n"), "{forti}");
    let arm = export(&ex, &["--as", "arm", "Storage"]);
    let v: serde_json::Value = serde_json::from_str(&arm).unwrap();
    assert_eq!(v["resources"][0]["type"], "Microsoft.Network/ipGroups");
    assert!(
        v["metadata"]["description"]
            .as_str()
            .unwrap()
            .contains("changeNumber")
    );
    let bicep = export(&ex, &["--as", "bicep", "Storage"]);
    assert!(bicep.contains("'Microsoft.Network/ipGroups@"), "{bicep}");
    let tf = export(&ex, &["--as", "terraform", "Storage"]);
    assert!(tf.contains("resource \"azurerm_ip_group\""), "{tf}");
    // Refusals: an unknown target, an unknown tag, --since where no change form exists.
    for (args, says) in [
        (&["--as", "cisco", "Storage"][..], "--as `cisco`"),
        (&["Nowhere"][..], "Nowhere"),
        (
            &["--as", "arm", "Storage", "--since", "builtin"][..],
            "incremental",
        ),
    ] {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .arg("--tags")
            .arg(&ex)
            .args(["-q", "export"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// nftables loads what `export` writes, and the change applied in the kernel gives the set a
/// fresh export gives (in a network namespace of its own).
#[test]
#[cfg_attr(
    not(tagnet_nft),
    ignore = "needs nft (Debian's nftables) and `ip netns` (iproute2), run as root"
)]
fn nftables_loads_the_export_and_applies_the_change() {
    struct Ns(String);
    impl Drop for Ns {
        fn drop(&mut self) {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", &self.0])
                .status();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let old = week_of_example(dir.path());
    let ns = Ns(format!("tagnet-test-{}", std::process::id()));
    let ok = std::process::Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .unwrap();
    assert!(ok.success(), "ip netns add");
    let nft = |file: &Path| {
        let o = std::process::Command::new("ip")
            .args(["netns", "exec", &ns.0, "nft", "-f"])
            .arg(file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let list = || {
        let o = std::process::Command::new("ip")
            .args([
                "netns", "exec", &ns.0, "nft", "list", "table", "inet", "tagnet",
            ])
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    let write = |name: &str, text: String| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        f
    };
    let args = [
        "--as",
        "nftables",
        "--name",
        "sel",
        "Storage.WestEurope",
        "AzureCloud",
    ];
    nft(&write("old.nft", export(&old, &args)));
    let mut since = args.to_vec();
    let o = old.display().to_string();
    since.extend(["--since", o.as_str()]);
    nft(&write("delta.nft", export(&example(), &since)));
    let applied = list();
    // A whole export loads over an older week's load too, and gives the same set.
    nft(&write("old2.nft", export(&old, &args)));
    nft(&write("new2.nft", export(&example(), &args)));
    assert_eq!(list(), applied);
    let flush = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.0, "nft", "flush", "ruleset"])
        .status()
        .unwrap();
    assert!(flush.success());
    nft(&write("new.nft", export(&example(), &args)));
    assert_eq!(applied, list());
    assert!(applied.contains("sel_v4"), "{applied}");
}

/// `history`: a tag's prefixes and an address's tags, week by week — the first week's state,
/// then what joined and left, each change named with its week.
#[test]
fn history_names_what_joined_and_left_each_week() {
    let dir = tempfile::tempdir().unwrap();
    let old = week_of_example(dir.path());
    let run = |subject: &str| {
        let out = Command::cargo_bin("tagnet")
            .unwrap()
            .args(["-q", "--format", "json", "history", subject, "--snapshot"])
            .arg(example())
            .arg("--snapshot")
            .arg(&old)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v
    };
    let v = run("Storage.WestEurope");
    let new_cn = v["snapshot"]["change_number"].as_u64().unwrap();
    assert_eq!(v["snapshots"][0]["change_number"], 1, "oldest first: {v:#}");
    let events: Vec<(u64, String, String)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["change_number"].as_u64().unwrap(),
                e["event"].as_str().unwrap().to_string(),
                e["prefix"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        events.contains(&(1, "present".into(), "198.51.100.200/29".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&(new_cn, "left".into(), "198.51.100.200/29".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&(new_cn, "left".into(), "2001:db8:ffff::/48".into())),
        "{events:?}"
    );
    let joined = events.iter().filter(|e| e.1 == "joined").count();
    assert!(joined >= 1, "{events:?}");
    // An address of last week's prefix: present in the tag, then left it.
    let v = run("198.51.100.201");
    let mine: Vec<&serde_json::Value> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tag"] == "Storage.WestEurope")
        .collect();
    assert_eq!(mine.len(), 2, "{v:#}");
    assert_eq!(mine[0]["event"], "present");
    assert_eq!(mine[1]["event"], "left");
}

/// The change feed: `serve`'s `/v1/changes` is a valid JSON Feed 1.1 and `/v1/changes.atom` a
/// valid Atom 1.0 feed, one entry a cached week after the first, newest first, naming the tags
/// that changed; each entry's link answers with that week's change.
#[test]
fn the_change_feed_is_json_feed_and_atom() {
    let dir = tempfile::tempdir().unwrap();
    let old = week_of_example(dir.path());
    // A cache of two weeks: last week's (cn1) and the example's.
    let cache = dir.path().join("cache");
    let public = cache.join("public");
    std::fs::create_dir_all(&public).unwrap();
    std::fs::copy(&old, public.join("ServiceTags_Public_cn1_20261130.json")).unwrap();
    let ex: serde_json::Value = serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    let cn = ex["changeNumber"].as_u64().unwrap();
    std::fs::copy(
        example(),
        public.join(format!("ServiceTags_Public_cn{cn}_20261207.json")),
    )
    .unwrap();
    // Two cached versions of AWS's file (as `fetch --provider aws` stores them): S3 grew.
    let aws = cache.join("providers").join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    for (k, (token, extra)) in [("1733000000", ""), ("1733600000", r#",{"ip_prefix":"52.95.111.0/24","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}"#)].iter().enumerate() {
        let stem = format!("AWS_2026120{}_0000", k + 1);
        std::fs::write(
            aws.join(format!("{stem}.json")),
            format!(r#"{{"syncToken":"{token}","createDate":"2026-12-0{}-00-00-00","prefixes":[{{"ip_prefix":"52.95.110.0/24","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}}{extra}],"ipv6_prefixes":[]}}"#, k + 1),
        )
        .unwrap();
        std::fs::write(aws.join(format!("{stem}.version")), token).unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(
        std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .env("TAGNET_CACHE", &cache)
            .args([
                "-q", "serve", "--tags", "latest", "--watch", "0", "--listen", &listen,
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let get = |path: &str| -> Option<(String, String)> {
        let mut s = std::net::TcpStream::connect(&listen).ok()?;
        use std::io::{Read, Write};
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {listen}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut r = String::new();
        s.read_to_string(&mut r).ok()?;
        let (head, body) = r.split_once("\r\n\r\n")?;
        Some((head.to_string(), body.to_string()))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get("/healthz").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (head, body) = get("/v1/changes").unwrap();
    assert!(
        head.contains("200") && head.to_ascii_lowercase().contains("application/feed+json"),
        "{head}"
    );
    let feed: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("{head}\n{body}"));
    // JSON Feed 1.1: version, title, items; each item an id and content; dates RFC 3339.
    let schema = serde_json::json!({
        "type": "object",
        "required": ["version", "title", "items"],
        "properties": {
            "version": {"const": "https://jsonfeed.org/version/1.1"},
            "title": {"type": "string"},
            "feed_url": {"type": "string"},
            "items": {"type": "array", "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_text"]}, {"required": ["content_html"]}],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_text": {"type": "string"},
                    "date_published": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$"},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }
            }}
        }
    });
    assert!(jsonschema::is_valid(&schema, &feed), "{feed:#}");
    let items = feed["items"].as_array().unwrap();
    // Weeks: cn1, the example's, and the built-in one (not cached): two entries; and AWS's
    // second version: one. Newest first.
    assert_eq!(items.len(), 3, "{feed:#}");
    let dates: Vec<&str> = items
        .iter()
        .map(|i| i["date_published"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    let theirs = items
        .iter()
        .find(|i| i["id"] == "tagnet:AWS:AWS_20261202_0000")
        .unwrap_or_else(|| panic!("{feed:#}"));
    let text = theirs["content_text"].as_str().unwrap();
    assert!(
        text.contains("Since AWS version 1733000000") && text.contains("AWS.S3: +1 -0 prefixes"),
        "{theirs:#}"
    );
    assert!(
        theirs["title"]
            .as_str()
            .unwrap()
            .starts_with("AWS version 1733600000")
    );
    let path = theirs["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&format!("http://{listen}"))
        .unwrap();
    let (head, body) = get(path).unwrap();
    assert!(head.contains("200"), "{head}\n{body}");
    assert!(body.contains("52.95.111.0/24"), "{body}");
    let (head, body) = get("/v1/changes/AWS_20261201_0000").unwrap();
    assert!(
        head.contains("404") && body.contains("oldest"),
        "{head}\n{body}"
    );
    let mine = items
        .iter()
        .find(|i| i["id"] == format!("tagnet:Public:cn{cn}"))
        .unwrap_or_else(|| panic!("{feed:#}"));
    assert!(
        mine["content_text"]
            .as_str()
            .unwrap()
            .contains("Storage.WestEurope: +"),
        "{mine:#}"
    );
    // Its link: that week's change from cn1.
    let url = mine["url"].as_str().unwrap();
    let path = url.strip_prefix(&format!("http://{listen}")).unwrap();
    let (head, body) = get(path).unwrap();
    assert!(head.contains("200"), "{head}\n{body}");
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["old"]["change_number"], 1, "{d:#}");
    let (head, _) = get("/v1/changes/cn1").unwrap();
    assert!(head.contains("404"), "{head}");
    // Atom 1.0: the feed's id, title, updated and author; each entry's id, title, updated.
    let (head, body) = get("/v1/changes.atom").unwrap();
    assert!(
        head.to_ascii_lowercase().contains("application/atom+xml"),
        "{head}"
    );
    let doc = roxmltree::Document::parse(&body).unwrap();
    let root = doc.root_element();
    let atom = "http://www.w3.org/2005/Atom";
    assert_eq!(
        (root.tag_name().namespace(), root.tag_name().name()),
        (Some(atom), "feed")
    );
    fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
        n.children().find(|c| {
            c.tag_name().name() == name
                && c.tag_name().namespace() == Some("http://www.w3.org/2005/Atom")
        })
    }
    for name in ["id", "title", "updated", "author"] {
        assert!(child(root, name).is_some(), "feed lacks {name}");
    }
    let entries: Vec<_> = root
        .children()
        .filter(|c| c.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 3);
    for e in &entries {
        for name in ["id", "title", "updated", "link", "content"] {
            assert!(child(*e, name).is_some(), "entry lacks {name}");
        }
        let id = child(*e, "id").unwrap().text().unwrap();
        assert!(id.starts_with("http://"), "an IRI: {id}");
    }
}
