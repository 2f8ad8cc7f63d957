//! `fetch`, the cache, snapshot choice and `diff`, against a server the test starts on
//! 127.0.0.1 with the faults real downloads meet. Nothing here leaves the machine.

use super::common::{example, shared};
use assert_cmd::Command;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers one request.
#[derive(Clone)]
enum Reply {
    Ok(Vec<u8>),
    Status(u16),
    /// Accept, read the request, close without answering.
    Reset,
    /// Claim `len` bytes, send `body`, close.
    Truncated(Vec<u8>, usize),
    /// Send headers and nothing more for a long time.
    Stall,
    Redirect(String),
    /// Send the body a little at a time, `pause` between pieces.
    Trickle(Vec<u8>, Duration),
    /// The body with an `ETag`; 304 Not Modified when the request sends `If-None-Match` with it.
    Tagged(Vec<u8>, String),
}

type Routes = Arc<Mutex<HashMap<String, Vec<Reply>>>>;

struct Server {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    auth: Arc<Mutex<Vec<String>>>,
    routes: Routes,
}

/// Serves `routes`: path → replies in turn (the last one repeats).
fn serve(routes: Vec<(&str, Vec<Reply>)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes: Routes = Arc::new(Mutex::new(
        routes
            .into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect(),
    ));
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let auth: Arc<Mutex<Vec<String>>> = Arc::default();
    let (h, a, r) = (hits.clone(), auth.clone(), routes.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let routes = r.lock().unwrap().clone();
            let (h, a) = (h.clone(), a.clone());
            std::thread::spawn(move || handle(stream, &routes, &h, &a));
        }
    });
    Server {
        base,
        hits,
        auth,
        routes,
    }
}

fn handle(
    mut s: TcpStream,
    routes: &HashMap<String, Vec<Reply>>,
    hits: &Mutex<HashMap<String, usize>>,
    auth: &Mutex<Vec<String>>,
) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&req).into_owned();
    let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or("/").to_string();
    for line in text.lines() {
        if let Some(v) = line
            .strip_prefix("authorization: ")
            .or(line.strip_prefix("Authorization: "))
        {
            auth.lock().unwrap().push(v.to_string());
        }
    }
    let n = {
        let mut h = hits.lock().unwrap();
        let e = h.entry(path.clone()).or_default();
        *e += 1;
        *e
    };
    let Some(replies) = routes.get(&path) else {
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let reply = replies[(n - 1).min(replies.len() - 1)].clone();
    let _ = match reply {
        Reply::Ok(body) => s
            .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())
            .and_then(|_| s.write_all(&body)),
        Reply::Status(code) => s.write_all(
            format!("HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
        ),
        Reply::Reset => Ok(()),
        Reply::Truncated(body, len) => s
            .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n").as_bytes())
            .and_then(|_| s.write_all(&body)),
        Reply::Stall => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{");
            std::thread::sleep(Duration::from_secs(20));
            Ok(())
        }
        Reply::Trickle(body, pause) => {
            let _ = s.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes(),
            );
            for piece in body.chunks(body.len() / 20 + 1) {
                if s.write_all(piece).is_err() {
                    break;
                }
                let _ = s.flush();
                std::thread::sleep(pause);
            }
            Ok(())
        }
        Reply::Tagged(body, etag) => {
            let asked = text.lines().any(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("if-none-match: ")
                    .is_some_and(|v| v.trim() == etag.to_ascii_lowercase())
            });
            if asked {
                s.write_all(
                    format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n").as_bytes(),
                )
            } else {
                s.write_all(format!("HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())
                    .and_then(|_| s.write_all(&body))
            }
        }
        Reply::Redirect(to) => s.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
        ),
    };
    let _ = s.flush();
}

impl Server {
    fn set(&self, path: &str, replies: Vec<Reply>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), replies);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// The example snapshot with `cloud` and `changeNumber` set.
fn snapshot(cloud: &str, change: u64) -> Vec<u8> {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    doc["cloud"] = cloud.into();
    doc["changeNumber"] = change.into();
    doc.to_string().into_bytes()
}

fn page(link: &str) -> Reply {
    Reply::Ok(format!(
        "<html><head><title>Azure IP Ranges and Service Tags</title></head><body><a href=\"{link}\" class=\"mscom-link\">click here</a></body></html>"
    ).into_bytes())
}

const FILE: &str = "/download/7/1/D/ServiceTags_Public_20251110.json";

fn tagnet(cache: &Path, server: &Server) -> Command {
    let mut c = Command::cargo_bin("tagnet").unwrap();
    c.env_remove("TAGNET_TAGS")
        .env_remove("AZURE_ACCESS_TOKEN")
        .env("TAGNET_CACHE", cache)
        .env("TAGNET_DOWNLOAD_PAGE", format!("{}/page", server.base));
    c
}

/// Every file under the cache, with its bytes.
fn cache_state(cache: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![cache.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fetch_stores_and_later_commands_use_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![
        ("/page", vec![page(FILE)]),
        (FILE, vec![Reply::Ok(snapshot("Public", 1042))]),
    ]);
    // Before: the built-in snapshot, with its age said.
    tagnet(&cache, &server)
        .args(["info", "--format", "json"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("\"change_number\": 376"))
        .stderr(predicates::str::contains("days ago"));
    let out = tagnet(&cache, &server)
        .args(["fetch", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "stored");
    assert_eq!(doc["snapshot"]["change_number"], 1042);
    assert_eq!(doc["snapshot"]["date"], "2025-11-10");
    // Later commands use it, and their JSON says so.
    let out = tagnet(&cache, &server)
        .args(["udr", "--region", "eastus2", "--format", "json", "-q"])
        .output()
        .unwrap();
    let udr: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(udr["snapshot"]["change_number"], 1042);
    assert!(
        udr["snapshot"]["source"]
            .as_str()
            .unwrap()
            .contains("cn1042")
    );
    let out = tagnet(&cache, &server)
        .args(["lookup", "192.0.2.20", "--format", "json", "-q"])
        .output()
        .unwrap();
    let lookup: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lookup["snapshot"]["change_number"], 1042);
    assert_eq!(lookup["records"][0]["ip"], "192.0.2.20");
    for spec in ["latest", "cn1042"] {
        tagnet(&cache, &server)
            .args(["--tags", spec, "info", "--format", "csv", "-q"])
            .assert()
            .code(0)
            .stdout(predicates::str::contains(",1042,"));
    }
    tagnet(&cache, &server)
        .args(["--tags", "cn7", "info"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("holds public:cn1042"));
    tagnet(&cache, &server)
        .args(["snapshots", "--format", "csv"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Public,1042,2025-11-10,"));
    // The same file again: up to date, not downloaded twice.
    tagnet(&cache, &server)
        .arg("fetch")
        .assert()
        .code(0)
        .stdout(predicates::str::contains("up to date"));
    assert_eq!(server.hits(FILE), 1);
    // --offline never touches the network.
    let before = server.hits("/page");
    tagnet(&cache, &server)
        .args(["fetch", "--offline"])
        .assert()
        .code(2);
    assert_eq!(server.hits("/page"), before);
}

/// A cached week older than the built-in one (an old file imported with `fetch --file`) does
/// not displace it: no --tags, `latest` and the built-in `cn376` give the built-in week; the
/// older one is there by its name, with the warning that it is older.
#[test]
fn an_older_cached_week_does_not_displace_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![]);
    let old = dir.path().join("ServiceTags_Public_20250101.json");
    std::fs::write(&old, snapshot("Public", 42)).unwrap();
    tagnet(&cache, &server)
        .args(["--offline", "fetch", "--file"])
        .arg(&old)
        .assert()
        .code(0);
    for spec in [None, Some("latest"), Some("cn376"), Some("public:latest")] {
        let mut c = tagnet(&cache, &server);
        if let Some(s) = spec {
            c.args(["--tags", s]);
        }
        c.args(["info", "--format", "csv", "-q"])
            .assert()
            .code(0)
            .stdout(predicates::str::contains(",376,"));
    }
    let out = tagnet(&cache, &server)
        .args(["--tags", "cn42", "info", "--format", "csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(",42,"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("older than the one built into tagnet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A week neither cached nor built in: the message names both.
    tagnet(&cache, &server)
        .args(["--tags", "cn7", "info"])
        .assert()
        .code(2)
        .stderr(predicates::prelude::PredicateBooleanExt::and(
            predicates::str::contains("the built-in one is public:cn376"),
            predicates::str::contains("holds public:cn42"),
        ));
}

/// Runs a fetch that must fail with `message`, and checks the cache is exactly as before.
fn fails(server: &Server, cache: &Path, args: &[&str], message: &str) {
    let before = cache_state(cache);
    let out = tagnet(cache, server)
        .args(["fetch", "--timeout", "2", "--retries", "1"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: wanted `{message}` in: {err}"
    );
    assert_eq!(cache_state(cache), before, "{args:?} changed the cache");
}

#[test]
fn every_fault_ends_with_a_clear_message_and_the_cache_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // A cache holding changeNumber 42 first.
    let good = serve(vec![
        ("/page", vec![page(FILE)]),
        (FILE, vec![Reply::Ok(snapshot("Public", 42))]),
    ]);
    tagnet(&cache, &good).arg("fetch").assert().code(0);
    assert_eq!(cache_state(&cache).len(), 2, "the file and its source");
    let gz = snapshot("Public", 43);
    let cases: Vec<(Vec<Reply>, &str)> = vec![
        (vec![Reply::Status(404)], "HTTP 404"),
        (vec![Reply::Status(503)], "HTTP 503"),
        (vec![Reply::Reset], "gave up after 2 attempts"),
        (
            vec![Reply::Truncated(gz[..100].to_vec(), gz.len())],
            "cut short",
        ),
        (
            vec![Reply::Ok(b"{\"changeNumber\": 43, \"cloud\": ".to_vec())],
            "line 1",
        ),
        (
            vec![Reply::Ok(snapshot("AzureGovernment", 50))],
            "not Public",
        ),
        (
            vec![Reply::Ok(snapshot("Public", 41))],
            "older than the cached 42",
        ),
        (vec![Reply::Stall], "timed out"),
    ];
    for (replies, message) in cases {
        let server = serve(vec![("/page", vec![page(FILE)]), (FILE, replies)]);
        fails(&server, &cache, &[], message);
    }
    // A page without the link: what was found is quoted.
    let server = serve(vec![(
        "/page",
        vec![Reply::Ok(
            b"<title>Download Center</title><a href=\"other.json\">x</a>".to_vec(),
        )],
    )]);
    fails(&server, &cache, &[], "other.json");
    // A 500 then success is retried; a redirect is followed.
    let server = serve(vec![
        ("/page", vec![Reply::Redirect("/page2".into())]),
        ("/page2", vec![page(FILE)]),
        (
            FILE,
            vec![Reply::Status(500), Reply::Ok(snapshot("Public", 43))],
        ),
    ]);
    tagnet(&cache, &server)
        .args(["fetch", "--retries", "2"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("stored: Public changeNumber 43"));
    assert_eq!(server.hits(FILE), 2);
    // --force stores an older one; --keep prunes.
    let server = serve(vec![("/old.json", vec![Reply::Ok(snapshot("Public", 40))])]);
    tagnet(&cache, &server)
        .args([
            "fetch",
            "--force",
            "--keep",
            "2",
            "--url",
            &format!("{}/old.json", server.base),
        ])
        .assert()
        .code(0);
    let cns: Vec<String> = cache_state(&cache)
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "json"))
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cns.len(), 2, "{cns:?}");
    assert!(
        cns.iter().any(|n| n.contains("cn40")) && cns.iter().any(|n| n.contains("cn43")),
        "the one just stored and the newest other stay: {cns:?}"
    );
}

#[test]
fn a_fetch_killed_halfway_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![
        ("/page", vec![page(FILE)]),
        (FILE, vec![Reply::Stall]),
    ]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tagnet"))
        .env("TAGNET_CACHE", &cache)
        .env("TAGNET_DOWNLOAD_PAGE", format!("{}/page", server.base))
        .arg("fetch")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if server.hits(FILE) > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        cache_state(&cache).is_empty(),
        "{:?}",
        cache_state(&cache).iter().map(|x| &x.0).collect::<Vec<_>>()
    );
}

#[test]
fn the_discovery_api_follows_next_link_and_never_shows_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let list = "/subscriptions/sub-1/providers/Microsoft.Network/locations/westeurope/serviceTags";
    let mut whole: Value = serde_json::from_slice(&snapshot("Public", 42)).unwrap();
    let values = whole["values"].as_array().unwrap().clone();
    let (first, second) = values.split_at(values.len() / 2);
    whole["changeNumber"] = "42".into();
    whole["id"] = "/subscriptions/sub-1/providers/Microsoft.Network/serviceTags/public".into();
    whole["type"] = "Microsoft.Network/serviceTags".into();
    let mut p1 = whole.clone();
    p1["values"] = json!(first);
    let mut p2 = whole.clone();
    p2["values"] = json!(second);
    let server3 = serve(vec![]);
    p1["nextLink"] = format!("{}/page2?api-version=2024-05-01&$skipToken=x", server3.base).into();
    server3.set(list, vec![Reply::Ok(p1.to_string().into_bytes())]);
    server3.set("/page2", vec![Reply::Ok(p2.to_string().into_bytes())]);
    // Without a token: a clear error.
    tagnet(&cache, &server3)
        .args([
            "fetch",
            "--api",
            "--subscription",
            "sub-1",
            "--location",
            "westeurope",
            "--api-base",
            &server3.base,
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("AZURE_ACCESS_TOKEN"));
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-token-value";
    let out = tagnet(&cache, &server3)
        .env("AZURE_ACCESS_TOKEN", token)
        .args([
            "fetch",
            "--api",
            "--subscription",
            "sub-1",
            "--location",
            "westeurope",
            "--api-base",
            &server3.base,
        ])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains("secret-token"), "{all}");
    assert_eq!(server3.auth.lock().unwrap()[0], format!("Bearer {token}"));
    // Both pages made it into the stored snapshot.
    let out = tagnet(&cache, &server3)
        .args(["--tags", "cn42", "info", "--format", "json", "-q"])
        .output()
        .unwrap();
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["tags"].as_u64().unwrap() as usize, values.len());
    assert_eq!(info["format"], "discovery-api");
    // A refused token: the message helps, and still does not show the token.
    let denied = serve(vec![(list, vec![Reply::Status(401)])]);
    let out = tagnet(&cache, &denied)
        .env("AZURE_ACCESS_TOKEN", token)
        .args([
            "fetch",
            "--api",
            "--subscription",
            "sub-1",
            "--location",
            "westeurope",
            "--api-base",
            &denied.base,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("401") && err.contains("get-access-token") && !err.contains("secret-token"),
        "{err}"
    );
}

#[test]
#[cfg_attr(
    not(tagnet_shared),
    ignore = "needs ../shared/data/servicetags (the real snapshots are not beside this checkout)"
)]
fn diff_of_cn373_and_cn376_equals_a_set_computation() {
    let (Some(old), Some(new)) = (
        shared("ServiceTags_Public_cn373.json"),
        shared("ServiceTags_Public_cn376.json"),
    ) else {
        return;
    };
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(&old)
        .arg(&new)
        .args(["--format", "json", "-q"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let load = |p: &Path| -> HashMap<String, (Option<u64>, Vec<String>)> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let mut ps: Vec<String> = t["properties"]["addressPrefixes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        p.as_str()
                            .unwrap()
                            .parse::<ipnet::IpNet>()
                            .unwrap()
                            .trunc()
                            .to_string()
                    })
                    .collect();
                ps.sort();
                ps.dedup();
                (
                    t["name"].as_str().unwrap().to_string(),
                    (t["properties"]["changeNumber"].as_u64(), ps),
                )
            })
            .collect()
    };
    let (a, b) = (load(&old), load(&new));
    let mut want_added: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    want_added.sort();
    let got_added: Vec<&str> = doc["tags_added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        got_added,
        want_added.iter().map(|s| s.as_str()).collect::<Vec<_>>()
    );
    let mut changed = 0;
    for t in doc["tags"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let (oc, op) = &a[name];
        let (nc, np) = &b[name];
        let set = |v: &Value| -> std::collections::BTreeSet<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect()
        };
        let want_add: std::collections::BTreeSet<String> =
            np.iter().filter(|p| !op.contains(p)).cloned().collect();
        let want_rem: std::collections::BTreeSet<String> =
            op.iter().filter(|p| !np.contains(p)).cloned().collect();
        assert_eq!(set(&t["added"]), want_add, "{name}");
        assert_eq!(set(&t["removed"]), want_rem, "{name}");
        assert_eq!(
            t["change_number_only"],
            want_add.is_empty() && want_rem.is_empty() && oc != nc
        );
        // Net addresses: the exact difference of the two sets.
        let ps = |v: &[String]| {
            tagnet::prefixset::PrefixSet::from_prefixes(v.iter().map(|p| p.parse().unwrap()))
        };
        let want_net: Vec<String> = ps(np)
            .difference(&ps(op))
            .to_prefixes()
            .iter()
            .map(ToString::to_string)
            .collect();
        let got_net: Vec<String> = t["addresses_added"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got_net, want_net, "{name}");
        changed += 1;
    }
    // Every tag whose list or changeNumber moved is reported, and no other.
    let want_changed = b
        .iter()
        .filter(|(k, (nc, np))| a.get(*k).is_some_and(|(oc, op)| op != np || oc != nc))
        .count();
    assert_eq!(changed, want_changed);
}

#[test]
fn diff_impact_on_a_route_table() {
    let dir = tempfile::tempdir().unwrap();
    // New: BatchNodeManagement.EastUS2 drops 192.0.2.64/27 for 198.51.100.0/27.
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    for v in doc["values"].as_array_mut().unwrap() {
        if v["name"] == "BatchNodeManagement.EastUS2" || v["name"] == "BatchNodeManagement" {
            let ps = v["properties"]["addressPrefixes"].as_array_mut().unwrap();
            ps.retain(|p| p != "192.0.2.64/27");
            ps.push("198.51.100.0/27".into());
            v["properties"]["changeNumber"] = 99.into();
        }
    }
    doc["changeNumber"] = 43.into();
    let new = dir.path().join("new.json");
    std::fs::write(&new, doc.to_string()).unwrap();
    // The table `udr` wrote from the old snapshot, under forced tunneling.
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .env_remove("TAGNET_TAGS")
        .args(["--tags"])
        .arg(example())
        .args(["udr", "--region", "eastus2", "--format", "json", "-q"])
        .output()
        .unwrap();
    let mut table: Value = serde_json::from_slice(&out.stdout).unwrap();
    table["routes"].as_array_mut().unwrap().push(json!({"name": "fw", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualAppliance", "next_hop_ip_address": "10.1.0.4"}));
    let rt = dir.path().join("rt.json");
    std::fs::write(&rt, table.to_string()).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(example())
        .arg(&new)
        .args(["--region", "eastus2", "--route-table"])
        .arg(&rt)
        .args(["--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "action needed");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<(&str, &str)> = d["impact"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["resource"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("missing-route", "fw")), "{codes:?}");
    assert!(
        codes.contains(&("stale-route", "BatchNodeManagement-192.0.2.64_27")),
        "{codes:?}"
    );
    assert_eq!(
        d["impact"]["udr_add"],
        json!([["BatchNodeManagement-198.51.100.0_27", "198.51.100.0/27"]])
    );
    assert_eq!(
        d["impact"]["udr_delete"],
        json!([["BatchNodeManagement-192.0.2.64_27", "192.0.2.64/27"]])
    );
    // A typo in --tag or --service is an error, not "nothing changed".
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(example())
        .arg(&new)
        .args(["--tag", "BatchNodeManagment"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean"));
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(example())
        .arg(&new)
        .args(["--service", "Storage"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("AzureStorage"));
    // The plan alone.
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(example())
        .arg(&new)
        .args(["--region", "eastus2", "--route-table"])
        .arg(&rt)
        .args(["--format", "az", "-q"])
        .assert()
        .code(1)
        .stdout(predicates::str::starts_with("#!/usr/bin/env bash"));
    // Markdown for the weekly ticket.
    Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(example())
        .arg(&new)
        .args(["--format", "markdown", "-q"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "| `BatchNodeManagement.EastUS2` |",
        ));
}

#[test]
fn diff_of_a_file_and_discovery_api_output_says_what_the_api_lacks_or_lags() {
    let dir = tempfile::tempdir().unwrap();
    let mut api: Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    api["changeNumber"] = "40".into();
    api["type"] = "Microsoft.Network/serviceTags".into();
    let values = api["values"].as_array_mut().unwrap();
    values.retain(|v| v["name"] != "Storage.EastUS2");
    for v in values.iter_mut() {
        if v["name"] == "AzureCloud" {
            v["properties"]["changeNumber"] = "0".into();
        } else if let Some(c) = v["properties"]["changeNumber"].as_u64() {
            v["properties"]["changeNumber"] = c.to_string().into();
        }
    }
    let path = dir.path().join("api.json");
    std::fs::write(&path, api.to_string()).unwrap();
    let out = Command::cargo_bin("tagnet")
        .unwrap()
        .args(["diff"])
        .arg(&path)
        .arg(example())
        .args(["--format", "json", "-q"])
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["old"]["format"], "discovery-api");
    assert_eq!(d["api_lacks"], json!(["Storage.EastUS2"]));
    assert_eq!(d["api_lags"], json!(["AzureCloud"]));
}

#[test]
fn secrets_stay_secret_and_trickles_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![(FILE, vec![Reply::Ok(snapshot("Public", 42))])]);
    // A user name, password and SAS signature in --url are neither printed nor stored.
    let url = format!(
        "{}{FILE}?sv=2024&sig=SASSECRET",
        server.base.replace("http://", "http://user:pw@")
    );
    let out = tagnet(&cache, &server)
        .args(["fetch", "--format", "json", "--url", &url])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    for (_, bytes) in cache_state(&cache) {
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    let listing = tagnet(&cache, &server)
        .args(["snapshots", "--format", "json"])
        .output()
        .unwrap();
    all.push_str(&String::from_utf8_lossy(&listing.stdout));
    assert!(
        !all.contains("SASSECRET") && !all.contains("user:pw"),
        "{all}"
    );
    // --timeout covers the body: a server that trickles is cut off.
    let slow = serve(vec![(
        FILE,
        vec![Reply::Trickle(
            snapshot("Public", 43),
            Duration::from_millis(300),
        )],
    )]);
    let started = std::time::Instant::now();
    let out = tagnet(&cache, &slow)
        .args([
            "fetch",
            "--timeout",
            "2",
            "--retries",
            "0",
            "--url",
            &format!("{}{FILE}", slow.base),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // --force --keep 1 keeps what it just stored.
    let old = serve(vec![("/old.json", vec![Reply::Ok(snapshot("Public", 40))])]);
    let out = tagnet(&cache, &old)
        .args([
            "fetch",
            "--force",
            "--keep",
            "1",
            "--format",
            "json",
            "--url",
            &format!("{}/old.json", old.base),
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(Path::new(doc["snapshot"]["path"].as_str().unwrap()).exists());
}

#[test]
fn the_token_goes_only_to_the_api_base() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let list = "/subscriptions/s/providers/Microsoft.Network/locations/l/serviceTags";
    let elsewhere = serve(vec![("/evil", vec![Reply::Ok(b"{}".to_vec())])]);
    let mut page: Value = serde_json::from_slice(&snapshot("Public", 42)).unwrap();
    page["changeNumber"] = "42".into();
    page["nextLink"] = format!("{}/evil?x=1", elsewhere.base).into();
    let api = serve(vec![(list, vec![Reply::Ok(page.to_string().into_bytes())])]);
    let out = tagnet(&cache, &api)
        .env("AZURE_ACCESS_TOKEN", "tok-SECRET")
        .args([
            "fetch",
            "--api",
            "--subscription",
            "s",
            "--location",
            "l",
            "--api-base",
            &api.base,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another host"));
    assert!(elsewhere.auth.lock().unwrap().is_empty());
    assert_eq!(elsewhere.hits("/evil"), 0);
    assert!(cache_state(&cache).is_empty());
    // A nextLink that loops is refused after one round.
    page["nextLink"] = format!("{}{list}", api.base).into();
    api.set(list, vec![Reply::Ok(page.to_string().into_bytes())]);
    let out = tagnet(&cache, &api)
        .env("AZURE_ACCESS_TOKEN", "tok-SECRET")
        .args([
            "fetch",
            "--api",
            "--subscription",
            "s",
            "--location",
            "l",
            "--api-base",
            &api.base,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loops"));
}

#[test]
fn pages_in_every_spelling_and_pages_that_fail() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let escaped = "<a data-x=\"{&quot;url&quot;:&quot;/dl/ServiceTags_Public_20251117.json&quot;}\">x</a> \
        <a href=\"/dl/ServiceTags_Public_20251124.json\">newest, gone</a>";
    let server = serve(vec![
        ("/page", vec![Reply::Ok(escaped.as_bytes().to_vec())]),
        (
            "/dl/ServiceTags_Public_20251117.json",
            vec![Reply::Ok(snapshot("Public", 44))],
        ),
    ]);
    tagnet(&cache, &server)
        .args(["fetch", "--retries", "0"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("changeNumber 44 (2025-11-17)"));
    // A page that cannot be loaded is not blamed on its layout.
    let down = serve(vec![("/page", vec![Reply::Status(500)])]);
    let out = tagnet(&cache, &down)
        .args(["fetch", "--retries", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not be loaded") && !err.contains("layout"),
        "{err}"
    );
}

#[test]
fn cache_choice_is_never_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![
        ("/pub.json", vec![Reply::Ok(snapshot("Public", 42))]),
        (
            "/gov.json",
            vec![Reply::Ok(snapshot("AzureGovernment", 42))],
        ),
    ]);
    tagnet(&cache, &server)
        .args([
            "fetch",
            "--url",
            &format!("{}/gov.json", server.base),
            "--cloud",
            "usgov",
        ])
        .assert()
        .code(0);
    // Only a Government snapshot cached: `latest` is it.
    tagnet(&cache, &server)
        .args(["--tags", "latest", "info", "--format", "csv", "-q"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("AzureGovernment"));
    tagnet(&cache, &server)
        .args(["fetch", "--url", &format!("{}/pub.json", server.base)])
        .assert()
        .code(0);
    tagnet(&cache, &server)
        .args(["--tags", "cn42", "info"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("public:cn42"));
    tagnet(&cache, &server)
        .args(["--tags", "usgov:cn42", "info", "--format", "csv", "-q"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("AzureGovernment"));
    tagnet(&cache, &server)
        .args(["--tags", "latest", "info", "--format", "csv", "-q"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(",Public,"));
}

/// A mirror under a fixed name (or a SAS address whose signature changes) is asked again on
/// every fetch: a new week there is fetched, never answered "up to date" from the address
/// alone; with an `ETag`, the question is a conditional request and a 304 is "up to date".
#[test]
fn a_fixed_name_mirror_is_asked_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    const MIRROR: &str = "/mirror/ServiceTags_Public.json";
    const TAGGED: &str = "/tagged/ServiceTags_Public.json";
    let server = serve(vec![
        (
            MIRROR,
            vec![
                Reply::Ok(snapshot("Public", 42)),
                Reply::Ok(snapshot("Public", 42)),
                Reply::Ok(snapshot("Public", 43)),
            ],
        ),
        (
            TAGGED,
            vec![Reply::Tagged(snapshot("Public", 44), "\"v44\"".into())],
        ),
    ]);
    let fetch = |url: &str| {
        tagnet(&cache, &server)
            .args(["fetch", "--url", url])
            .output()
            .unwrap()
    };
    let changes = || -> Vec<u64> {
        let out = tagnet(&cache, &server)
            .args(["snapshots", "--format", "json"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["change_number"].as_u64().unwrap())
            .collect()
    };
    let mirror = format!("{}{MIRROR}", server.base);
    assert!(fetch(&mirror).status.success());
    assert_eq!(changes(), [42]);
    // Same week again: the server is asked, the answer is "up to date".
    let out = fetch(&mirror);
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    assert_eq!(server.hits(MIRROR), 2);
    // A new week under the same name is fetched.
    assert!(fetch(&mirror).status.success());
    assert_eq!(server.hits(MIRROR), 3);
    assert_eq!(changes(), [42, 43]);
    // A SAS address whose signature changes is the same file: asked again too.
    server.set(MIRROR, vec![Reply::Ok(snapshot("Public", 45))]);
    assert!(fetch(&format!("{mirror}?sv=2025&sig=abc")).status.success());
    assert_eq!(changes().last(), Some(&45));
    // With an ETag: the second fetch is a conditional request, answered 304.
    let tagged = format!("{}{TAGGED}", server.base);
    server.set(
        TAGGED,
        vec![Reply::Tagged(snapshot("Public", 46), "\"v46\"".into())],
    );
    assert!(fetch(&tagged).status.success());
    assert_eq!(changes().last(), Some(&46));
    let out = fetch(&tagged);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("up to date"),
        "{out:?}"
    );
    assert_eq!(server.hits(TAGGED), 2);
    // The next week, a new ETag: fetched.
    server.set(
        TAGGED,
        vec![Reply::Tagged(snapshot("Public", 47), "\"v47\"".into())],
    );
    assert!(fetch(&tagged).status.success());
    assert_eq!(changes().last(), Some(&47));
}

/// A listing with every cloud's file gives the asked cloud's; an HTML answer is named as a
/// page (with its title), not a JSON syntax error; `--api` refuses an answer of another cloud.
#[test]
fn listings_pages_and_the_api_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let listing = "<html><body><a href=\"/f/ServiceTags_AzureGovernment_20251201.json\">gov</a> \
        <a href=\"/f/ServiceTags_Public_20251124.json\">public</a></body></html>";
    let server = serve(vec![
        ("/page", vec![Reply::Ok(listing.as_bytes().to_vec())]),
        (
            "/f/ServiceTags_AzureGovernment_20251201.json",
            vec![Reply::Ok(snapshot("AzureGovernment", 60))],
        ),
        (
            "/f/ServiceTags_Public_20251124.json",
            vec![Reply::Ok(snapshot("Public", 44))],
        ),
        (
            "/signin",
            vec![Reply::Ok(
                b"<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>"
                    .to_vec(),
            )],
        ),
    ]);
    let out = tagnet(&cache, &server)
        .args(["fetch", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["snapshot"]["cloud"], "Public");
    assert_eq!(doc["snapshot"]["change_number"], 44);
    assert_eq!(
        server.hits("/f/ServiceTags_AzureGovernment_20251201.json"),
        0
    );
    fails(
        &server,
        &cache,
        &["--url", &format!("{}/signin", server.base)],
        "HTML page",
    );
    fails(
        &server,
        &cache,
        &["--url", &format!("{}/signin", server.base)],
        "Sign in to your account",
    );
    // The Discovery API of a Government subscription, asked as Public (the default).
    let list =
        "/subscriptions/sub-1/providers/Microsoft.Network/locations/usgovvirginia/serviceTags";
    let mut gov: Value = serde_json::from_slice(&snapshot("AzureGovernment", 61)).unwrap();
    gov["id"] = "/subscriptions/sub-1/providers/Microsoft.Network/serviceTags/public".into();
    gov["type"] = "Microsoft.Network/serviceTags".into();
    server.set(list, vec![Reply::Ok(gov.to_string().into_bytes())]);
    let out = tagnet(&cache, &server)
        .env("AZURE_ACCESS_TOKEN", "t")
        .args([
            "fetch",
            "--api",
            "--subscription",
            "sub-1",
            "--location",
            "usgovvirginia",
            "--api-base",
            &server.base,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not Public as asked"));
    let out = tagnet(&cache, &server)
        .env("AZURE_ACCESS_TOKEN", "t")
        .args([
            "fetch",
            "--api",
            "--cloud",
            "usgov",
            "--subscription",
            "sub-1",
            "--location",
            "usgovvirginia",
            "--api-base",
            &server.base,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A cached file that no longer loads (cut short, edited) is never "up to date": the next
/// fetch says so, downloads the week again and removes the broken copy.
#[test]
fn a_broken_cached_file_is_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![
        ("/page", vec![page(FILE)]),
        (FILE, vec![Reply::Ok(snapshot("Public", 42))]),
    ]);
    assert!(
        tagnet(&cache, &server)
            .arg("fetch")
            .output()
            .unwrap()
            .status
            .success()
    );
    let stored: Vec<PathBuf> = cache_state(&cache)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(stored.len(), 1);
    let bytes = std::fs::read(&stored[0]).unwrap();
    std::fs::write(&stored[0], &bytes[..bytes.len() / 2]).unwrap();
    let out = tagnet(&cache, &server)
        .args(["fetch", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "stored", "{doc:#}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failed validation"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.hits(FILE), 2);
    assert_eq!(std::fs::read(&stored[0]).unwrap(), bytes, "whole again");
}

/// `fetch --file` imports a local copy (a pipeline's artifact, a mirror's download) with
/// the checks a download gets, gzip included; `--offline` allows it.
#[test]
fn fetch_file_imports_with_the_checks_of_a_download() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = serve(vec![]);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let import = |path: &Path, extra: &[&str]| {
        tagnet(&cache, &server)
            .args(["--offline", "fetch", "--format", "json", "--file"])
            .arg(path)
            .args(extra)
            .output()
            .unwrap()
    };
    let week = write("ServiceTags_Public_20251117.json", &snapshot("Public", 43));
    let out = import(&week, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "stored");
    assert_eq!(doc["snapshot"]["date"], "2025-11-17");
    assert!(
        doc["snapshot"]["source"]
            .as_str()
            .unwrap()
            .starts_with("file:")
    );
    let doc: Value = serde_json::from_slice(&import(&week, &[]).stdout).unwrap();
    assert_eq!(doc["state"], "up to date");
    // Gzip, a newer week.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &snapshot("Public", 44)).unwrap();
    let newer = write("ServiceTags_Public_20251124.json.gz", &gz.finish().unwrap());
    let doc: Value = serde_json::from_slice(&import(&newer, &[]).stdout).unwrap();
    assert_eq!(doc["snapshot"]["change_number"], 44);
    // Refused, the cache as it was: another cloud, an older week, a web page, not JSON.
    let before = cache_state(&cache);
    for (path, message) in [
        (
            write("gov.json", &snapshot("AzureGovernment", 50)),
            "not Public as asked",
        ),
        (
            write("old.json", &snapshot("Public", 41)),
            "older than the cached 44",
        ),
        (
            write(
                "page.json",
                b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>",
            ),
            "an HTML page",
        ),
        (
            write("cut.json", &snapshot("Public", 45)[..100]),
            "cut.json",
        ),
        (dir.path().join("missing.json"), "missing.json"),
    ] {
        let out = import(&path, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path:?}: {err}");
        assert!(
            err.contains(message),
            "{path:?}: wanted `{message}` in {err}"
        );
        assert_eq!(cache_state(&cache), before, "{path:?} changed the cache");
    }
    // A copy without a date in its name, no newer than the built-in week, keeps its age.
    let copy = write("copy.json", &tagnet::load::builtin::bytes().unwrap());
    let out = import(&copy, &["--force"]);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(doc["snapshot"]["date"], tagnet::load::builtin::DATE);
    // The Gov file with its cloud named is stored beside the Public ones.
    let gov = dir.path().join("gov.json");
    let out = import(&gov, &["--cloud", "usgov"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `fetch --provider`: another provider's file into the same cache, read before it is kept
/// (a file that does not read is refused and nothing is stored), stored again only when its
/// own version (AWS's syncToken) changes; `--source aws` then reads the newest.
#[test]
fn provider_files_are_fetched_verified_and_kept_by_version() {
    let aws = |token: &str, prefix: &str| {
        format!(
            r#"{{"syncToken":"{token}","createDate":"2026-12-01-00-00-00","prefixes":[{{"ip_prefix":"{prefix}","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}}],"ipv6_prefixes":[]}}"#
        )
        .into_bytes()
    };
    let server = serve(vec![(
        "/ip-ranges.json",
        vec![
            Reply::Ok(aws("100", "52.95.110.0/24")),
            Reply::Ok(aws("100", "52.95.110.0/24")),
            Reply::Ok(
                b"{\"syncToken\": \"101\", \"prefixes\": [{\"ip_prefix\": \"nonsense\"}]}".to_vec(),
            ),
            Reply::Ok(aws("102", "52.95.111.0/24")),
            // A mirror behind AWS: an older syncToken.
            Reply::Ok(aws("99", "52.95.109.0/24")),
            // A compressed copy.
            Reply::Ok({
                use std::io::Write as _;
                let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                z.write_all(&aws("103", "52.95.111.0/24")).unwrap();
                z.finish().unwrap()
            }),
            Reply::Ok(aws("104", "52.95.111.0/24")),
            Reply::Ok(aws("105", "52.95.111.0/24")),
        ],
    )]);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let url = format!("{}/ip-ranges.json", server.base);
    let fetch = || {
        tagnet(&cache, &server)
            .args(["fetch", "--provider", "aws", "--url", &url])
            .output()
            .unwrap()
    };
    let first = fetch();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("stored: AWS version 100"));
    let second = fetch();
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("up to date: AWS version 100"));
    let before = cache_state(&cache);
    let bad = fetch();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nonsense"));
    assert_eq!(
        cache_state(&cache),
        before,
        "a file that does not read is not stored"
    );
    let third = fetch();
    assert!(String::from_utf8_lossy(&third.stdout).starts_with("stored: AWS version 102"));
    // `--source aws`: the newest cached file.
    let out = tagnet(&cache, &server)
        .args([
            "-q", "--tags", "builtin", "--source", "aws", "lookup", "--format", "csv",
        ])
        .args(["52.95.111.7", "52.95.110.7"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("52.95.111.7,AWS.S3.eu-west-1"), "{text}");
    assert!(!text.contains("52.95.110.7,AWS"), "{text}");
    // The provider's cached files are its weeks for `history`.
    let out = tagnet(&cache, &server)
        .args([
            "-q",
            "--format",
            "csv",
            "history",
            "AWS.S3.eu-west-1",
            "--provider",
            "aws",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(",present,AWS.S3.eu-west-1,52.95.110.0/24,"),
        "{text}"
    );
    assert!(
        text.contains(",left,AWS.S3.eu-west-1,52.95.110.0/24,"),
        "{text}"
    );
    assert!(
        text.contains(",joined,AWS.S3.eu-west-1,52.95.111.0/24,"),
        "{text}"
    );
    // No cached file of a provider: said, with the command that fetches it.
    let out = tagnet(&cache, &server)
        .args([
            "-q", "--tags", "builtin", "--source", "oracle", "lookup", "1.1.1.1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fetch --provider oracle"));
    // An older version than the newest cached one: refused, nothing stored.
    let before = cache_state(&cache);
    let old = fetch();
    assert_eq!(old.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&old.stderr)
            .contains("version 99 is older than the newest cached one, 102"),
        "{}",
        String::from_utf8_lossy(&old.stderr)
    );
    assert_eq!(cache_state(&cache), before);
    // gzip reads as the file.
    let gz = fetch();
    assert!(
        String::from_utf8_lossy(&gz.stdout).starts_with("stored: AWS version 103"),
        "{}",
        String::from_utf8_lossy(&gz.stderr)
    );
    // Kept to one file, then another version: a new name, never one still in use.
    let names = |c: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(c.join("providers/aws"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect();
        v.sort();
        v
    };
    for token in ["104", "105"] {
        let o = tagnet(&cache, &server)
            .args(["fetch", "--provider", "aws", "--keep", "2", "--url", &url])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&o.stdout).starts_with(&format!("stored: AWS version {token}")),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The two newest versions, each in a file of its own (a count of the day's files would
    // have named 105's after 103's, still there, and overwritten it).
    let kept = names(&cache);
    let versions: Vec<String> = kept
        .iter()
        .map(|n| {
            std::fs::read_to_string(
                cache
                    .join("providers/aws")
                    .join(n.replace(".json", ".version")),
            )
            .unwrap()
            .trim()
            .to_string()
        })
        .collect();
    assert_eq!(versions, ["104", "105"], "{kept:?}");
    // A plain list named as AWS's: refused (only Cloudflare publishes plain lists).
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "104.16.0.0/13\n").unwrap();
    let out = tagnet(&cache, &server)
        .args(["-q", "--tags", "builtin", "--source"])
        .arg(format!("aws={}", list.display()))
        .args(["lookup", "104.16.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("named AWS but a plain list"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
