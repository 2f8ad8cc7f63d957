//! The OpenAPI document is the API: every answer of every endpoint — successes and errors,
//! recorded from a running server on the built-in snapshot — validates against the schema the
//! document gives for its path, method and status, and every status answered is documented.

use super::serve::client;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tagnet::serve::{App, Loaded, Loader, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> Value {
    serde_json::from_slice(&std::fs::read(root().join("src/serve/openapi.json")).unwrap()).unwrap()
}

/// The document's path template matching `path`, e.g. `/v1/tags/{name}/prefixes`.
fn template<'d>(doc: &'d Value, path: &str) -> Option<&'d str> {
    let want: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .find(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == want.len()
                && parts
                    .iter()
                    .zip(&want)
                    .all(|(p, w)| p == w || (p.starts_with('{') && p.ends_with('}')))
        })
}

/// Follows a `$ref` inside the document.
fn deref<'d>(doc: &'d Value, v: &'d Value) -> &'d Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(
            doc,
            doc.pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("no {r}")),
        ),
        None => v,
    }
}

struct Req {
    method: &'static str,
    path: String,
    ctype: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    token: bool,
}

fn get(path: impl Into<String>, status: u16) -> Req {
    Req {
        method: "GET",
        path: path.into(),
        ctype: None,
        body: Vec::new(),
        status,
        token: true,
    }
}

fn post(path: impl Into<String>, body: Value, status: u16) -> Req {
    Req {
        method: "POST",
        path: path.into(),
        ctype: Some("application/json"),
        body: body.to_string().into_bytes(),
        status,
        token: true,
    }
}

fn post_raw(path: impl Into<String>, ctype: &'static str, body: Vec<u8>, status: u16) -> Req {
    Req {
        method: "POST",
        path: path.into(),
        ctype: Some(ctype),
        body,
        status,
        token: true,
    }
}

fn network(name: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(root().join(format!("data/examples/{name}/network.json"))).unwrap(),
    )
    .unwrap()
}

/// A flow-log blob written by `tagnet flows synth`.
fn flow_blob() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
        .args([
            "-q", "--tags", "builtin", "flows", "synth", "--tuples", "300", "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                return serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            }
        }
    }
    panic!("no blob written");
}

fn requests() -> Vec<Req> {
    let nsg = json!({"name": "ml-nsg", "securityRules": [
        {"name": "AllowBatch", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "BatchNodeManagement", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "29876-29877"},
        {"name": "AllowAML", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "sourceAddressPrefix": "AzureMachineLearning", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "44224"},
        {"name": "DenyWeb", "priority": 200, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
         "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"},
        {"name": "Shadowed", "priority": 300, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
         "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"}]});
    let flows = json!([
        {"direction": "Inbound", "protocol": "Tcp", "local_ip": "10.0.0.4", "local_port": 443, "remote_ip": "192.0.2.9", "remote_port": 5000},
        {"direction": "Outbound", "protocol": "Udp", "local_ip": "10.0.0.4", "local_port": 5000, "remote_ip": "20.38.98.100", "remote_port": 53}]);
    let table = json!({"name": "rt", "routes": [
        {"name": "fw", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.100.4"}},
        {"name": "stale", "properties": {"addressPrefix": "192.0.2.0/24", "nextHopType": "Internet"}}]});
    let blob = flow_blob();
    let example = std::fs::read(root().join("data/example/ServiceTags_Example.json")).unwrap();
    let mut r = vec![
        get("/healthz", 200),
        get("/metrics", 200),
        get("/", 200),
        get("/v1/openapi.json", 200),
        get("/v1/snapshot", 200),
        get("/v1/info", 200),
        get("/v1/info?x=1", 400),
        get("/v1/regions", 200),
        get("/v1/lookup?ip=20.38.98.100&ip=2603:1030::/40", 200),
        get("/v1/lookup?ip=0.0.0.0/0&limit=3", 200),
        get("/v1/lookup?ip=20.38.98.100&region=westeurope", 200),
        get("/v1/lookup", 400),
        get("/v1/lookup?ip=999.1.1.1", 422),
        get("/v1/lookup?ip=1.2.3.4&region=atlantis", 404),
        get(
            "/v1/lookup?ip=0.0.0.0/0&cursor=cn1-0-1-00000000-00000000",
            400,
        ),
        get(
            format!("/v1/lookup?{}", vec!["ip=0.0.0.0/0"; 20].join("&")),
            413,
        ),
        get(format!("/v1/lookup?ip={}", "1".repeat(20_000)), 414),
        post_raw(
            "/v1/lookup",
            "text/plain",
            b"20.38.98.100\nnope\n13.66.141.155\n".to_vec(),
            200,
        ),
        post(
            "/v1/lookup?limit=2",
            json!(["0.0.0.0/0", "20.38.98.100"]),
            200,
        ),
        post_raw(
            "/v1/lookup",
            "application/json",
            b"{\"not\": 1}".to_vec(),
            400,
        ),
        Req {
            method: "PUT",
            path: "/v1/lookup".into(),
            ctype: None,
            body: Vec::new(),
            status: 405,
            token: true,
        },
        get("/v1/tags?region=westeurope&service=AzureStorage", 200),
        get("/v1/tags?feature=nope", 404),
        get("/v1/tags?colour=red", 400),
        get(
            "/v1/tags/Storage/prefixes?region=eastus2&family=ipv4&aggregate=true",
            200,
        ),
        get("/v1/tags/AzureCloud/prefixes?limit=5", 200),
        get("/v1/tags/NoSuchTag/prefixes", 404),
        get("/v1/tags/AzureCloud/prefixes?family=ipv5", 400),
        get(
            "/v1/tags/AzureFrontDoor.Frontend/prefixes?region=eastus2",
            422,
        ),
        get("/v1/snapshot?x=1", 400),
        Req {
            method: "POST",
            path: "/healthz".into(),
            ctype: None,
            body: Vec::new(),
            status: 405,
            token: true,
        },
        Req {
            method: "PUT",
            path: "/v1/snapshot".into(),
            ctype: None,
            body: Vec::new(),
            status: 405,
            token: true,
        },
        get("/v1/udr?region=eastus2", 200),
        get("/v1/udr?region=eastus2&format=csv", 200),
        get("/v1/udr?region=eastus2&format=az", 200),
        get("/v1/udr?region=eastus2&format=arm", 200),
        get("/v1/udr?region=eastus2&format=bicep", 200),
        get("/v1/udr?region=eastus2&format=terraform", 200),
        get("/v1/udr", 400),
        get("/v1/changes", 200),
        get("/v1/changes.atom", 200),
        get("/v1/changes/cn376", 200),
        get("/v1/changes/cn99999", 404),
        get("/v1/changes/latest", 400),
        get("/v1/map?mark=20.38.98.100", 200),
        get("/v1/map?tag=Storage&region=westeurope&format=png", 200),
        get("/v1/map?mark=2603:1030::1", 400),
        get("/v1/map?tag=NoSuchTag", 404),
        get("/v1/udr?region=atlantis", 404),
        get("/v1/udr?region=eastus2&next_hop=VirtualAppliance", 400),
        get("/v1/udr?region=eastus2&exact=true&max_routes=3", 422),
        post(
            "/v1/nsg/verify",
            json!({"nsg": nsg, "vnet": ["10.0.0.0/16"], "flows": flows}),
            200,
        ),
        post("/v1/nsg/verify", json!({"nsg": nsg, "flowz": []}), 422),
        post_raw(
            "/v1/nsg/verify",
            "application/json",
            b"not json".to_vec(),
            400,
        ),
        post(
            "/v1/nsg/reach",
            json!({"nsg": nsg, "vnet": ["10.0.0.0/16"], "direction": "inbound", "protocol": "tcp", "port": 44224}),
            200,
        ),
        post(
            "/v1/nsg/reach",
            json!({"nsg": nsg, "direction": "up", "protocol": "tcp"}),
            422,
        ),
        post(
            "/v1/nsg/require",
            json!({"nsg": nsg, "vnet": ["10.0.0.0/16"], "region": "eastus2"}),
            200,
        ),
        post(
            "/v1/nsg/require",
            json!({"nsg": nsg, "region": "atlantis"}),
            422,
        ),
        post(
            "/v1/nsg/analyze",
            json!({"nsg": nsg, "vnet": ["10.0.0.0/16"]}),
            200,
        ),
        post("/v1/nsg/analyze", json!({"vnet": ["10.0.0.0/16"]}), 422),
        post(
            "/v1/routes/audit",
            json!({"route_table": table, "region": "eastus2", "vnet": ["10.1.0.0/16"]}),
            200,
        ),
        post(
            "/v1/routes/audit",
            json!({"route_table": table, "region": "atlantis"}),
            422,
        ),
        post(
            "/v1/check",
            json!({"documents": {"network.json": network("compliant")}}),
            200,
        ),
        post(
            "/v1/check",
            json!({"documents": {"network.json": network("missing-route")}, "profile": "aml-vnet-2020"}),
            200,
        ),
        post("/v1/check", json!({"documents": 5}), 422),
        post(
            "/v1/path",
            json!({"documents": {"network.json": network("missing-route")}, "from": "vnet-ml/compute", "to": "20.38.98.100:443"}),
            200,
        ),
        post(
            "/v1/path",
            json!({"documents": {"network.json": network("missing-route")}, "from": "vnet-ml/compute", "to": "Storage.EastUS2", "port": 443}),
            200,
        ),
        post(
            "/v1/path",
            json!({"documents": {"network.json": network("missing-route")}, "from": "vnet-ml/compute", "profile": "aml-vnet-2020", "region": "eastus2"}),
            200,
        ),
        post(
            "/v1/path",
            json!({"documents": {"network.json": network("missing-route")}, "from": "nowhere/none", "to": "20.38.98.100:443"}),
            422,
        ),
        post(
            "/v1/flows/verify",
            json!({"flow_logs": blob, "nsg": nsg, "vnet": ["10.0.0.0/16"]}),
            200,
        ),
        post("/v1/flows/verify", json!({"nsg": nsg}), 422),
        post(
            "/v1/flows/summary",
            json!({"flow_logs": blob, "top": 3}),
            200,
        ),
        post(
            "/v1/flows/summary",
            json!({"flow_logs": blob, "profile": "aml-vnet-2020", "region": "eastus2"}),
            200,
        ),
        post("/v1/flows/summary", json!({"flow_logs": 7}), 422),
        post_raw(
            "/v1/diff?region=eastus2",
            "application/json",
            example.clone(),
            200,
        ),
        post_raw("/v1/diff?region=atlantis", "application/json", example, 404),
        post_raw("/v1/diff", "application/json", b"{}".to_vec(), 422),
        get("/v2/nothing", 404),
    ];
    r.push(Req {
        token: false,
        ..get("/v1/tags", 401)
    });
    r.push(Req {
        token: false,
        ..get("/healthz", 200)
    });
    r
}

#[test]
fn every_answer_is_described_by_the_openapi_document() {
    let doc = doc();
    let token = "s3cret";
    let (snap, info) = tagnet::ops::source::resolve(Some("builtin".as_ref())).unwrap();
    // The change feed's weeks: the example snapshot cached, then the built-in one.
    let weeks = tempfile::tempdir().unwrap();
    let ex: Value =
        serde_json::from_slice(&std::fs::read(super::common::example()).unwrap()).unwrap();
    std::fs::create_dir_all(weeks.path().join("public")).unwrap();
    std::fs::copy(
        super::common::example(),
        weeks.path().join(format!(
            "public/ServiceTags_Public_cn{}_20250101.json",
            ex["changeNumber"]
        )),
    )
    .unwrap();
    let loader: Loader = Arc::new(|| {
        tagnet::ops::source::resolve(Some("builtin".as_ref())).map_err(|e| e.to_string())
    });
    let app = App::new(
        Loaded::new(snap, info),
        loader,
        Options {
            watch: None,
            token: Some(token.into()),
            cache: Some(weeks.path().to_path_buf()),
            ..Options::default()
        },
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { tagnet::serve::run(app, listener).await });
    let c = client();
    let dump = std::env::var_os("TAGNET_DUMP_ANSWERS").map(PathBuf::from);
    let mut seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for (i, req) in requests().into_iter().enumerate() {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut b = c
            .request(method, format!("{base}{}", req.path))
            .timeout(Duration::from_secs(60));
        if let Some(t) = req.ctype {
            b = b.header("content-type", t);
        }
        if req.token {
            b = b.bearer_auth(token);
        }
        let req_body = req.body.clone();
        let r = b.body(req.body).send().unwrap();
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| {
                v.to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        let text = r.text().unwrap();
        let what = format!(
            "{} {} → {status}",
            req.method,
            &req.path[..req.path.len().min(80)]
        );
        if status != req.status {
            failures.push(format!(
                "{what}: expected {}: {}",
                req.status,
                &text[..text.len().min(300)]
            ));
        }
        if let Some(d) = &dump {
            std::fs::create_dir_all(d).unwrap();
            let name = req
                .path
                .split('?')
                .next()
                .unwrap()
                .replace(['/', '{', '}'], "_");
            std::fs::write(
                d.join(format!("{i:02}-{}{name}-{status}.txt", req.method)),
                &text,
            )
            .unwrap();
        }
        let Some(t) = template(&doc, req.path.split('?').next().unwrap()) else {
            // An unknown endpoint: the fallback's JSON error.
            if status != 404
                || serde_json::from_str::<Value>(&text)
                    .map_or(true, |v| v["error"]["code"] != "not-found")
            {
                failures.push(format!("{what}: not in the document"));
            }
            continue;
        };
        let op = &doc["paths"][t][req.method.to_ascii_lowercase()];
        if op.is_null() {
            // A method the path does not take: the 405 of any of its operations.
            if status != 405 {
                failures.push(format!("{what}: not in the document"));
            }
            let any = doc["paths"][t]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap();
            if any["responses"].get("405").is_none() {
                failures.push(format!("{what}: 405 is not documented"));
            }
            continue;
        }
        // What was sent is what the document describes (for the requests the server took).
        if status < 300
            && req.ctype == Some("application/json")
            && let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema")
            && let Ok(sent) = serde_json::from_slice::<Value>(&req_body)
        {
            let mut root = doc.clone();
            root.as_object_mut()
                .unwrap()
                .retain(|k, _| k == "components");
            root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
            root["allOf"] = json!([schema]);
            let v = jsonschema::validator_for(&root).unwrap();
            for e in v.iter_errors(&sent).take(5) {
                failures.push(format!(
                    "{what}: the request body: {} at {}",
                    e,
                    e.instance_path()
                ));
            }
        }
        seen.insert((t.to_string(), req.method, status));
        let answers = &op["responses"];
        let Some(resp) = answers.get(status.to_string()).map(|r| deref(&doc, r)) else {
            failures.push(format!("{what}: status {status} is not documented"));
            continue;
        };
        let Some(media) = resp["content"].get(&ctype) else {
            failures.push(format!(
                "{what}: content type `{ctype}` is not documented ({:?})",
                resp["content"]
                    .as_object()
                    .map(|o| o.keys().collect::<Vec<_>>())
            ));
            continue;
        };
        if ctype != "application/json" {
            continue;
        }
        let instance: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
        let schema = media
            .get("schema")
            .unwrap_or_else(|| panic!("{what}: no schema"));
        // The schema resolved inside the whole document, as a client generator does.
        let mut root = doc.clone();
        root.as_object_mut()
            .unwrap()
            .retain(|k, _| k == "components");
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["allOf"] = json!([schema]);
        let v =
            jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{what}: the schema: {e}"));
        for e in v.iter_errors(&instance).take(5) {
            failures.push(format!("{what}: {} at {}", e, e.instance_path()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The document itself: OpenAPI 3.1, a bearer scheme (optional: the server may run
    // without a token), every operation with its answers.
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["type"],
        "http"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([]));
    // Every operation of the document was tried with at least its success.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| ["get", "post"].contains(&m.as_str()))
        {
            let m = method.to_ascii_uppercase();
            assert!(
                seen.iter()
                    .any(|(p, mm, s)| p == path && *mm == m && *s < 300),
                "{m} {path} is never answered in this test"
            );
        }
    }
}
