//! Other providers' ranges and custom tags beside Azure's: each real file of
//! `../shared/data/other-clouds/` read and answered by `lookup` exactly as an independent scan
//! of the same file answers (ignored, with the reason, without the files); custom tags from
//! JSON, CSV and `tagnet.toml`, and their collisions with Microsoft's names refused.

use super::common::{Rng, example};
use assert_cmd::Command;
use ipnet::IpNet;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

fn other(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/other-clouds")
        .join(name)
}

/// One published entry: a prefix and the (service, region) it is listed with.
struct Entry {
    net: IpNet,
    service: String,
    region: String,
}

/// The tag names an address should match, by the naming the README gives, computed by a scan
/// of every entry (no index, no tagnet code).
fn expected(
    entries: &[Entry],
    ip: IpAddr,
    name: &dyn Fn(&Entry) -> Vec<String>,
) -> BTreeSet<String> {
    entries
        .iter()
        .filter(|e| e.net.contains(&ip))
        .flat_map(name)
        .collect()
}

/// Addresses to ask: the first and last address of every entry's prefix, and random ones
/// inside and near them.
fn addresses(entries: &[Entry], n: usize) -> Vec<IpAddr> {
    let mut rng = Rng(7);
    let mut out = Vec::new();
    for _ in 0..n {
        let e = &entries[rng.below(entries.len())];
        out.push(e.net.network());
        out.push(e.net.broadcast());
        if let (IpNet::V4(net), IpAddr::V4(a)) = (e.net, e.net.network()) {
            let span = 1u64 << (32 - net.prefix_len());
            let off = rng.next() % (span + 512);
            out.push(IpAddr::V4(std::net::Ipv4Addr::from(
                (u32::from(a) as u64 + off).min(u32::MAX as u64) as u32,
            )));
        }
    }
    out
}

/// `tagnet lookup` of the addresses with one source beside the example snapshot: for each
/// address, the tag names of that provider it matched.
fn lookup(source: &str, ips: &[IpAddr], provider: &str) -> BTreeMap<String, BTreeSet<String>> {
    let input: String = ips.iter().map(|i| format!("{i}\n")).collect();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .arg("--tags")
        .arg(example())
        .args(["-q", "--source", source, "lookup", "--format", "ndjson"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let ip = v["ip"].as_str().unwrap().to_string();
        let set = got.entry(ip).or_default();
        for m in v["matches"].as_array().unwrap() {
            if m["provider"] == provider {
                set.insert(m["tag"].as_str().unwrap().to_string());
            }
        }
    }
    got
}

fn agree(
    file: &str,
    spec: &str,
    provider: &str,
    entries: &[Entry],
    name: &dyn Fn(&Entry) -> Vec<String>,
) {
    let ips = addresses(entries, 1500);
    let got = lookup(spec, &ips, provider);
    let mut matched = 0;
    for ip in &ips {
        let want = expected(entries, *ip, name);
        let have = got.get(&ip.to_string()).cloned().unwrap_or_default();
        assert_eq!(have, want, "{file}: {ip}");
        matched += usize::from(!want.is_empty());
    }
    assert!(
        matched > ips.len() / 2,
        "{file}: a test of something ({matched} matched)"
    );
}

fn json(path: &PathBuf) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
#[cfg_attr(
    not(tagnet_other_clouds),
    ignore = "needs ../shared/data/other-clouds (other providers' real files are not beside this checkout)"
)]
fn aws_files_answer_as_a_scan_does() {
    for file in [
        "aws_ip-ranges_2025-07-24.json",
        "aws_ip-ranges_2026-08-22.json",
    ] {
        let path = other(file);
        let doc = json(&path);
        let mut entries = Vec::new();
        for (list, key) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
            for p in doc[list].as_array().unwrap() {
                entries.push(Entry {
                    net: p[key].as_str().unwrap().parse::<IpNet>().unwrap().trunc(),
                    service: p["service"].as_str().unwrap().to_string(),
                    region: p["region"].as_str().unwrap().to_string(),
                });
            }
        }
        agree(file, path.to_str().unwrap(), "AWS", &entries, &|e| {
            let mut v = vec!["AWS".to_string(), format!("AWS.{}", e.service)];
            if e.region != "GLOBAL" {
                v.push(format!("AWS.{}.{}", e.service, e.region));
            }
            v
        });
    }
}

#[test]
#[cfg_attr(
    not(tagnet_other_clouds),
    ignore = "needs ../shared/data/other-clouds (other providers' real files are not beside this checkout)"
)]
fn google_oracle_github_cloudflare_answer_as_a_scan_does() {
    let path = other("gcp_cloud_2025-07-24.json");
    let entries: Vec<Entry> = json(&path)["prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Entry {
            net: p["ipv4Prefix"]
                .as_str()
                .or(p["ipv6Prefix"].as_str())
                .unwrap()
                .parse::<IpNet>()
                .unwrap()
                .trunc(),
            service: String::new(),
            region: p["scope"].as_str().unwrap().to_string(),
        })
        .collect();
    agree("gcp", path.to_str().unwrap(), "Google", &entries, &|e| {
        vec!["GoogleCloud".into(), format!("GoogleCloud.{}", e.region)]
    });

    let path = other("oracle_public_ip_ranges_2025-07-21.json");
    let mut entries = Vec::new();
    for r in json(&path)["regions"].as_array().unwrap() {
        for c in r["cidrs"].as_array().unwrap() {
            for t in c["tags"].as_array().unwrap() {
                entries.push(Entry {
                    net: c["cidr"]
                        .as_str()
                        .unwrap()
                        .parse::<IpNet>()
                        .unwrap()
                        .trunc(),
                    service: t.as_str().unwrap().to_string(),
                    region: r["region"].as_str().unwrap().to_string(),
                });
            }
        }
    }
    agree("oracle", path.to_str().unwrap(), "Oracle", &entries, &|e| {
        vec![
            "Oracle".into(),
            format!("Oracle.{}", e.service),
            format!("Oracle.{}.{}", e.service, e.region),
        ]
    });

    let path = other("github_meta_2025-07-25.json");
    let mut entries = Vec::new();
    for (k, v) in json(&path).as_object().unwrap() {
        let Some(items) = v.as_array() else { continue };
        let nets: Vec<IpNet> = items
            .iter()
            .filter_map(|i| i.as_str()?.parse::<IpNet>().ok())
            .collect();
        if nets.is_empty() || nets.len() != items.len() {
            continue;
        }
        for net in nets {
            entries.push(Entry {
                net: net.trunc(),
                service: k.clone(),
                region: String::new(),
            });
        }
    }
    assert!(entries.len() > 1000, "GitHub's lists were read");
    agree("github", path.to_str().unwrap(), "GitHub", &entries, &|e| {
        vec![format!("GitHub.{}", e.service)]
    });

    let (v4, v6) = (
        other("cloudflare_ips-v4_2024-10-29.txt"),
        other("cloudflare_ips-v6.txt"),
    );
    for path in [v4, v6] {
        let entries: Vec<Entry> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Entry {
                net: l.trim().parse().unwrap(),
                service: String::new(),
                region: String::new(),
            })
            .collect();
        let spec = format!("cloudflare={}", path.display());
        agree("cloudflare", &spec, "Cloudflare", &entries, &|_| {
            vec!["Cloudflare".into()]
        });
    }
}

fn tagnet_in(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.current_dir(dir)
        .env_remove("TAGNET_TAGS")
        .env_remove("TAGNET_CUSTOM")
        .env_remove("TAGNET_SOURCES")
        .arg("--tags")
        .arg(example())
        .arg("-q");
    c
}

/// Custom tags are answered like service tags, from JSON, CSV and `./tagnet.toml`; the JSON
/// report names the source; a name of Microsoft's is refused naming the tag; a plain list
/// without a provider's name is refused saying how to name it.
#[test]
fn custom_tags_are_answered_and_collisions_refused() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("corp.json");
    std::fs::write(
        &j,
        r#"{"Corp.OnPrem": {"prefixes": ["10.50.0.0/16"], "description": "datacentre"}, "Corp.Proxy": ["203.0.113.8/29"]}"#,
    )
    .unwrap();
    let out = tagnet_in(dir.path())
        .args([
            "--custom",
            "corp.json",
            "lookup",
            "--format",
            "json",
            "10.50.3.4",
            "203.0.113.9",
            "10.99.0.1",
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
    let recs = v["records"].as_array().unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(recs[0]["matches"][0]["tag"], "Corp.OnPrem", "{v:#}");
    assert_eq!(recs[0]["matches"][0]["provider"], "Custom");
    // (The example snapshot lists documentation ranges too: the custom tag is beside them.)
    assert!(
        recs[1]["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["tag"] == "Corp.Proxy" && m["provider"] == "Custom"),
        "{v:#}"
    );
    assert!(recs[2]["matches"].as_array().unwrap().is_empty());
    assert_eq!(v["snapshot"]["sources"][0]["provider"], "Custom", "{v:#}");
    assert_eq!(v["snapshot"]["sources"][0]["tag_count"], 2);
    // CSV, and the same answer.
    let c = dir.path().join("corp.csv");
    std::fs::write(&c, "name,prefix,region,description\nCorp.OnPrem,10.50.0.0/16,,datacentre\nCorp.Proxy,203.0.113.8/29,,\n").unwrap();
    let out2 = tagnet_in(dir.path())
        .args([
            "--custom",
            "corp.csv",
            "lookup",
            "--format",
            "csv",
            "10.50.3.4",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out2.stdout).contains("10.50.3.4,Corp.OnPrem,,,10.50.0.0/16"));
    // ./tagnet.toml's [tags], read without a flag; its [severity] still read by check.
    std::fs::write(
        dir.path().join("tagnet.toml"),
        "[tags]\n\"Corp.Lab\" = [\"10.77.0.0/16\"]\n",
    )
    .unwrap();
    let out3 = tagnet_in(dir.path())
        .args(["lookup", "--format", "ndjson", "10.77.1.1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out3.stdout).contains("\"tag\":\"Corp.Lab\""),
        "{}",
        String::from_utf8_lossy(&out3.stderr)
    );
    std::fs::remove_file(dir.path().join("tagnet.toml")).unwrap();
    // A Microsoft name: refused, naming it, exit 2.
    std::fs::write(&j, r#"{"storage": ["10.50.0.0/16"]}"#).unwrap();
    let out = tagnet_in(dir.path())
        .args(["--custom", "corp.json", "lookup", "10.50.3.4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("collides with Microsoft's tag `Storage`"),
        "{err}"
    );
    // Host bits in a custom prefix: refused with the fix.
    std::fs::write(&j, r#"{"Corp.X": ["10.50.0.1/16"]}"#).unwrap();
    let out = tagnet_in(dir.path())
        .args(["--custom", "corp.json", "lookup", "10.50.3.4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("10.50.0.0/16"));
    // A plain list with no provider named.
    let l = dir.path().join("list.txt");
    std::fs::write(&l, "173.245.48.0/20\n").unwrap();
    let out = tagnet_in(dir.path())
        .args(["--source", "list.txt", "lookup", "173.245.48.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cloudflare=FILE"));
    let out = tagnet_in(dir.path())
        .args([
            "--source",
            "cloudflare=list.txt",
            "lookup",
            "--format",
            "csv",
            "173.245.48.1",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Cloudflare,,,173.245.48.0/20"));
    // Cloudflare's two lists, one tag.
    std::fs::write(dir.path().join("v6.txt"), "2400:cb00::/32\n").unwrap();
    let out = tagnet_in(dir.path())
        .args([
            "--source",
            "cloudflare=list.txt",
            "--source",
            "cloudflare=v6.txt",
        ])
        .args(["lookup", "--format", "csv", "173.245.48.1", "2400:cb00::1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2400:cb00::1,Cloudflare,,,2400:cb00::/32"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A custom tag's region is an Azure region, as typed anywhere; one Azure lacks is refused.
    std::fs::write(&c, "name,prefix,region\nCorp.Eu,10.9.0.0/16,West Europe\n").unwrap();
    let out = tagnet_in(dir.path())
        .args([
            "--custom", "corp.csv", "lookup", "--format", "csv", "10.9.0.1",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("10.9.0.1,Corp.Eu,westeurope,,10.9.0.0/16"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&c, "name,prefix,region\nCorp.Eu,10.9.0.0/16,narnia\n").unwrap();
    let out = tagnet_in(dir.path())
        .args(["--custom", "corp.csv", "lookup", "10.9.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("narnia"));
}

/// Flow attribution across sources: an address of another provider is class `cloud` with its
/// service (`AWS.S3`) and region, one of your own ranges is `custom` even in private space
/// and over an Azure tag, and Azure's stay `azure`.
#[test]
fn attribution_names_the_cloud_and_your_own_ranges() {
    use tagnet::flowlog::attribute::{Attributor, Class};
    let aws = tagnet::sources::read(
        br#"{"syncToken":"1","createDate":"2026-01-01-00-00-00","prefixes":[
        {"ip_prefix":"52.95.110.0/24","region":"eu-west-1","service":"AMAZON","network_border_group":"eu-west-1"},
        {"ip_prefix":"52.95.110.0/24","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}]}"#,
        "aws",
        None,
    )
    .unwrap();
    let azure = tagnet::load::builtin::load().unwrap();
    let storage = azure.tag(azure.tag_by_name("Storage").unwrap()).v4()[0].network();
    let custom = tagnet::sources::read_custom(
        format!(r#"{{"Corp.OnPrem": ["10.50.0.0/16"], "Corp.Blob": ["{storage}/32"]}}"#).as_bytes(),
        "corp",
    )
    .unwrap();
    let snap = azure.with_sources(vec![aws, custom]).unwrap();
    let index = tagnet::TagIndex::build(&snap);
    let at = Attributor::new(&snap, &index, None);
    let a = at.attribute("52.95.110.7".parse().unwrap());
    assert_eq!(a.class, Class::Cloud);
    assert_eq!(at.service(&a), "AWS.S3");
    assert_eq!(at.region(&a), "eu-west-1");
    let a = at.attribute("10.50.9.9".parse().unwrap());
    assert_eq!((a.class, at.service(&a)), (Class::Custom, "Corp.OnPrem"));
    let a = at.attribute(std::net::IpAddr::V4(storage));
    assert_eq!((a.class, at.service(&a)), (Class::Custom, "Corp.Blob"));
    let next = std::net::Ipv4Addr::from(u32::from(storage) + 1);
    assert_eq!(at.attribute(std::net::IpAddr::V4(next)).class, Class::Azure);
    // Microsoft's tags come before another provider's over the same address (GitHub's
    // Actions runners are Azure addresses).
    let azure = tagnet::load::builtin::load().unwrap();
    let cloud_addr = azure.tag(azure.tag_by_name("AzureCloud").unwrap()).v4()[0];
    let gh = tagnet::sources::read(
        format!(r#"{{"hooks": ["192.30.252.0/22"], "actions": ["{cloud_addr}"]}}"#).as_bytes(),
        "gh",
        None,
    )
    .unwrap();
    let both = azure.with_sources(vec![gh]).unwrap();
    let bi = tagnet::TagIndex::build(&both);
    let at2 = Attributor::new(&both, &bi, None);
    assert_eq!(
        at2.attribute(std::net::IpAddr::V4(cloud_addr.network()))
            .class,
        Class::Azure
    );
    assert_eq!(
        at2.attribute("192.30.252.1".parse().unwrap()).class,
        Class::Cloud
    );
    // Azure's regions stay Azure's: a provider's region is not one.
    assert!(snap.resolve_region("eu-west-1").is_err());
    assert!(snap.resolve_region("westeurope").is_ok());
}

/// Your own ranges are inputs wherever a range may be named: `check --on-prem Corp.OnPrem`
/// (the finding names the tag), `udr`/`aggregate --never-cover`, `path --to Corp.Proxy` and
/// `--bgp Corp.OnPrem=VirtualNetworkGateway`, and `prefixes` set algebra; a name that is neither a prefix nor a tag is refused naming it.
#[test]
fn custom_tags_are_inputs_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tagnet.toml"),
        "[tags]\n\"Corp.OnPrem\" = [\"10.240.128.0/25\", \"192.168.50.0/24\"]\n\"Corp.Hole\" = [\"10.0.1.0/24\"]\n\"Corp.Proxy\" = [\"203.0.113.8/29\"]\n",
    )
    .unwrap();
    let t = || {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.current_dir(dir.path())
            .env_remove("TAGNET_TAGS")
            .env_remove("TAGNET_CUSTOM")
            .env_remove("TAGNET_SOURCES")
            .args(["--tags", "builtin", "-q"]);
        c
    };
    let compliant = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/examples/compliant");
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    // check: the AKS service CIDR 10.240.128.0/24 overlaps the tag's first range.
    let out = t()
        .args(["check", "--format", "json", "--on-prem", "Corp.OnPrem"])
        .arg(&compliant)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", err(&out)));
    let hits: Vec<&Value> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "aks-service-cidr-overlap")
        .collect();
    assert_eq!(hits.len(), 1, "{v:#}");
    let msg = hits[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("10.240.128.0/25") && msg.contains("the on-premises tag `Corp.OnPrem`"),
        "{msg}"
    );
    assert_eq!(hits[0]["counterexample"], "10.240.128.0");
    // Without it, the network is compliant.
    let out = t()
        .args(["check", "--format", "json"])
        .arg(&compliant)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !v["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "aks-service-cidr-overlap")
    );
    let out = t()
        .args(["check", "--on-prem", "Corp.Nope"])
        .arg(&compliant)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(
        err(&out).contains("--on-prem")
            && err(&out).contains("`Corp.Nope` is neither a prefix nor a tag"),
        "{}",
        err(&out)
    );

    // aggregate: merging the two /24s into a /22 would cover the tag's range.
    std::fs::write(dir.path().join("in.txt"), "10.0.0.0/24\n10.0.2.0/24\n").unwrap();
    let agg = |extra: &[&str]| {
        t().args(["aggregate", "in.txt", "--max", "1"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = agg(&[]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "10.0.0.0/22\n");
    let out = agg(&["--never-cover", "Corp.Hole"]);
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert_eq!(out.stdout, agg(&["--never-cover", "10.0.1.0/24"]).stdout);
    let out = agg(&["--never-cover", "Corp.Holes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("Corp.Hole"), "{}", err(&out));

    // udr: a route table of 8 merges routes; never over the tag's addresses, as with its prefix.
    let udr = |extra: &[&str]| {
        let out = t()
            .args([
                "udr",
                "--region",
                "eastus2",
                "--max-routes",
                "8",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", err(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let merged = udr(&[]);
    let routes = |v: &Value| -> Vec<IpNet> {
        v["routes"]
            .as_array()
            .unwrap_or_else(|| panic!("{v:#}"))
            .iter()
            .filter_map(|r| r["address_prefix"].as_str()?.parse().ok())
            .collect()
    };
    let extra: Vec<IpNet> = merged["extra_prefixes"]
        .as_array()
        .unwrap_or_else(|| panic!("{merged:#}"))
        .iter()
        .map(|p| p.as_str().unwrap().parse().unwrap())
        .collect();
    let hole = IpNet::new(extra[0].network(), 32).unwrap();
    assert!(routes(&merged).iter().any(|r| r.contains(&hole)));
    std::fs::write(
        dir.path().join("hole.json"),
        format!(r#"{{"Corp.Gap": ["{hole}"]}}"#),
    )
    .unwrap();
    let by_tag = {
        let out = t()
            .args(["--custom", "hole.json"])
            .args([
                "udr",
                "--region",
                "eastus2",
                "--max-routes",
                "8",
                "--format",
                "json",
            ])
            .args(["--never-cover", "Corp.Gap"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", err(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert!(
        !routes(&by_tag).iter().any(|r| r.contains(&hole)),
        "{by_tag:#}"
    );
    assert_eq!(
        routes(&by_tag),
        routes(&udr(&["--never-cover", &hole.to_string()]))
    );

    // prefixes: set algebra over your own tags.
    let out = t()
        .args(["prefixes", "Corp.OnPrem", "--minus", "192.168.0.0/16"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "10.240.128.0/25\n");

    // path: to every address of your proxy tag, through the compliant network.
    let out = t()
        .args(["path", "--from", "vnet-ml/compute", "--to", "Corp.Proxy"])
        .args(["--port", "443", "--format", "json"])
        .arg(&compliant)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", err(&out)));
    assert!(v.to_string().contains("203.0.113.8/29"), "{v:#}");
    // path: your on-premises ranges as routes a gateway advertises, one per prefix.
    let out = t()
        .args([
            "path",
            "--from",
            "vnet-ml/compute",
            "--to",
            "192.168.50.5:443",
        ])
        .args(["--bgp", "Corp.OnPrem=VirtualNetworkGateway"])
        .arg(&compliant)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("192.168.50.0/24 -> VirtualNetworkGateway (BGP route"),
        "{text}{}",
        err(&out)
    );
}

/// What the fresh-eyes trial of other sources and custom tags found, each kept fixed: your own
/// tags are never variants of each other; NSG rules take Microsoft's tags only; Azure's
/// NSG-only names are not yours to take; `export --max` never merges into private space;
/// `lookup --region` keeps your tags of the region; IP Groups are IPv4; spreadsheets' CSV and
/// TOML's dotted names read as meant; `--custom ./tagnet.toml` is read once; an HTML page and
/// an empty file are named as such.
#[test]
fn trial_findings_stay_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let t = || {
        let mut c = Command::cargo_bin("tagnet").unwrap();
        c.current_dir(dir.path())
            .env_remove("TAGNET_TAGS")
            .env_remove("TAGNET_CUSTOM")
            .env_remove("TAGNET_SOURCES")
            .args(["--tags", "builtin", "-q"]);
        c
    };
    let out_of = |c: &mut Command| {
        let o = c.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    std::fs::write(
        dir.path().join("y.json"),
        r#"{"Corp.Saas": ["192.0.2.0/24"], "Corp.WE": {"prefixes": ["198.51.100.0/24"], "region": "West Europe"}, "Corp.Proxy": {"prefixes": ["203.0.113.8/29"], "region": "uksouth"}}"#,
    )
    .unwrap();
    // Not variants of each other: Corp.Saas in a region is refused, not Corp.WE's prefixes.
    let (code, out, err) = out_of(t().args([
        "--custom",
        "y.json",
        "prefixes",
        "Corp.Saas",
        "--region",
        "westeurope",
    ]));
    assert_ne!(code, Some(0), "{out}");
    assert!(!out.contains("198.51.100.0/24"), "{out}{err}");
    // lookup --region keeps your tag of the region.
    let (_, out, _) = out_of(t().args([
        "--custom",
        "y.json",
        "lookup",
        "203.0.113.9",
        "--region",
        "UK South",
        "--format",
        "csv",
    ]));
    assert!(out.contains("203.0.113.9,Corp.Proxy,uksouth"), "{out}");
    // An NSG rule naming your tag: refused as Azure refuses it.
    let nsg: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/nsg/ml-nsg.json"))
            .unwrap(),
    )
    .unwrap();
    let mut nsg = nsg;
    nsg["securityRules"][1]["properties"]["sourceAddressPrefix"] = "Corp.Saas".into();
    std::fs::write(dir.path().join("n.json"), nsg.to_string()).unwrap();
    let (code, _, err) = out_of(t().args([
        "--custom",
        "y.json",
        "nsg",
        "verify",
        "--nsg",
        "n.json",
        "--vnet",
        "10.10.0.0/16",
        "--direction",
        "inbound",
        "--protocol",
        "tcp",
        "--local",
        "10.10.0.4:22",
        "--remote",
        "192.0.2.5:5000",
    ]));
    assert_eq!(code, Some(2));
    assert!(err.contains("not a Microsoft service tag"), "{err}");
    // Azure's NSG-only names are not custom names.
    std::fs::write(
        dir.path().join("v.json"),
        r#"{"VirtualNetwork": ["10.0.0.0/8"]}"#,
    )
    .unwrap();
    let (code, _, err) = out_of(t().args(["--custom", "v.json", "lookup", "10.1.1.1"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("NSG rules give their own meaning"), "{err}");
    // export --max: never a merge into private or reserved space, and the extra said.
    std::fs::write(
        dir.path().join("w.json"),
        r#"{"Corp.A": ["11.0.0.0/24"], "Corp.B": ["13.0.0.0/24"]}"#,
    )
    .unwrap();
    let (code, out, err) = out_of(t().args([
        "--custom", "w.json", "export", "Corp.A", "Corp.B", "--max", "1",
    ]));
    assert_eq!(code, Some(2), "{out}{err}");
    let (code, out, err) = out_of(t().args([
        "--custom",
        "w.json",
        "export",
        "Corp.A",
        "Storage.WestEurope",
        "--max",
        "40",
        "--as",
        "paloalto",
    ]));
    assert_eq!(code, Some(0), "{err}");
    for l in out.lines() {
        let n: IpNet = l.parse().unwrap();
        for private in ["10.0.0.0/8", "127.0.0.0/8", "192.168.0.0/16", "224.0.0.0/4"] {
            let p: IpNet = private.parse().unwrap();
            assert!(
                !n.contains(&p.network()) && !p.contains(&n.network()),
                "{n} meets {p}"
            );
        }
    }
    assert!(err.contains("beyond the tags'"), "{err}");
    // IP Groups: IPv4 only, said.
    let (_, out, err) =
        out_of(t().args(["export", "AzureMachineLearning.EastUS2", "--as", "bicep"]));
    assert!(!out.contains("'2603:"), "{out}");
    assert!(err.contains("IPv6 prefix(es) left out"), "{err}");
    // A spreadsheet's CSV: BOM, CRLF, any header, a description over two lines, a blank row.
    std::fs::write(
        dir.path().join("s.csv"),
        "\u{feff}Tag Name,CIDR,Region,Description\r\nCorp.S1,10.1.0.0/16,,\"two\r\nlines\"\r\n,,,\r\nCorp.S2,10.2.0.0/16,westeurope,\"a, b\"\r\n",
    )
    .unwrap();
    let (code, out, err) = out_of(t().args([
        "--custom", "s.csv", "tags", "--name", "Corp.S*", "--format", "csv",
    ]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("Corp.S1,,,1,0") && out.contains("Corp.S2,westeurope,,1,0"),
        "{out}"
    );
    // TOML's dotted key is the tag's name; the file named as --custom too is read once.
    std::fs::write(
        dir.path().join("tagnet.toml"),
        "[tags]\nCorp.Lab = [\"10.77.0.0/16\"]\n",
    )
    .unwrap();
    let (code, out, err) = out_of(t().args([
        "--custom",
        "./tagnet.toml",
        "lookup",
        "10.77.1.1",
        "--format",
        "csv",
    ]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("10.77.1.1,Corp.Lab"), "{out}");
    std::fs::remove_file(dir.path().join("tagnet.toml")).unwrap();
    // Your own private range routed to a gateway, merged or not: its private space is its.
    std::fs::write(
        dir.path().join("op.json"),
        r#"{"Corp.OnPrem": ["10.50.0.0/16", "192.168.7.0/24"], "Corp.V6": ["2001:db8::/48"]}"#,
    )
    .unwrap();
    let (code, out, err) = out_of(t().args([
        "--custom",
        "op.json",
        "udr",
        "--region",
        "westeurope",
        "--tag",
        "Corp.OnPrem",
        "--max-routes",
        "30",
        "--next-hop",
        "VirtualNetworkGateway",
        "--format",
        "csv",
    ]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("10.50.0.0/16"), "{out}");
    // An IPv6-only selection is no IP Group.
    let (code, _, err) =
        out_of(t().args(["--custom", "op.json", "export", "Corp.V6", "--as", "arm"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("no IPv4 prefix"), "{err}");
    // Another provider's tag with an Azure region: taken as named, not narrowed.
    std::fs::write(
        dir.path().join("aws.json"),
        r#"{"syncToken":"1","createDate":"2026-01-01-00-00-00","prefixes":[{"ip_prefix":"52.95.110.0/24","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}],"ipv6_prefixes":[]}"#,
    )
    .unwrap();
    let (code, out, err) = out_of(t().args([
        "--source",
        "aws.json",
        "prefixes",
        "AWS.S3",
        "--region",
        "westeurope",
    ]));
    assert_eq!((code, out.trim()), (Some(0), "52.95.110.0/24"), "{err}");
    // An HTML page and an empty file: named as such.
    std::fs::write(dir.path().join("page.json"), "<!DOCTYPE html><html></html>").unwrap();
    let (_, _, err) = out_of(t().args(["--source", "aws=page.json", "lookup", "1.1.1.1"]));
    assert!(err.contains("HTML page"), "{err}");
    std::fs::write(dir.path().join("empty.json"), "").unwrap();
    let (_, _, err) = out_of(t().args(["--source", "empty.json", "lookup", "1.1.1.1"]));
    assert!(err.contains("the file is empty"), "{err}");
}
