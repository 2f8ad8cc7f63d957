//! `tagnet serve` under careless and hostile callers: answers within a budget, in pages,
//! stopped when nobody waits; slow clients cut off; a connection limit; JSON bodies for every
//! error, hyper's own included; no server path in an answer; memory under a stated bound.

use super::common::example;
use super::serve::{Server, client, get, json, opts, start};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tagnet::serve::Options;

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Sends `bytes` on a fresh connection and reads what comes back until the server closes it
/// or `wait` passes.
fn raw(addr: &str, bytes: &[u8], wait: Duration) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(wait)).unwrap();
    let _ = c.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The status and the JSON body of a raw answer.
fn status_and_body(answer: &str) -> (u16, Value) {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer: {answer:?}"));
    let status = head[9..12].parse().unwrap();
    (status, json(body))
}

#[test]
fn an_announced_oversize_body_is_refused_at_once() {
    let s = start(&example(), opts());
    let t = Instant::now();
    let answer = raw(
        &addr(&s),
        b"POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 99999999999\r\nExpect: 100-continue\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(!answer.contains("100 Continue"), "{answer}");
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "too-large");
    let m = body["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("99999999999") && m.contains("--body-limit"),
        "{m}"
    );
}

#[test]
fn every_error_has_a_json_body_hypers_own_included() {
    let s = start(&example(), opts());
    let a = addr(&s);
    let long = |n: usize| {
        format!(
            "GET /v1/lookup?ip={} HTTP/1.1\r\nHost: x\r\n\r\n",
            "1".repeat(n)
        )
    };
    let header = |n: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(n)
        )
    };
    let cases = [
        // The guard's limits, then hyper's (a URL past 64 KiB, a head past its buffer).
        (long(20_000), 414, "uri-too-long"),
        (long(70_000), 414, "uri-too-long"),
        (header(100_000), 431, "headers-too-large"),
        (header(300_000), 431, "headers-too-large"),
        (
            "GE T / HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            400,
            "bad-request",
        ),
        (
            "GET / HTTP/1.1\r\nHost x\r\n\r\n".to_string(),
            400,
            "bad-request",
        ),
    ];
    for (req, want, code) in cases {
        let answer = raw(&a, req.as_bytes(), Duration::from_secs(5));
        let (status, body) = status_and_body(&answer);
        assert_eq!(status, want, "{}", &answer[..answer.len().min(300)]);
        assert_eq!(body["error"]["code"], code, "{answer}");
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("content-type: application/json")
        );
    }
}

#[test]
fn the_snapshot_is_named_without_the_servers_folders() {
    let s = start(&example(), opts());
    let (status, text) = get(&s, "/v1/snapshot");
    assert_eq!(status, 200);
    assert_eq!(json(&text)["source"], "ServiceTags_Example.json");
    let (_, text) = get(&s, "/v1/lookup?ip=192.0.2.20");
    assert_eq!(
        json(&text)["snapshot"]["source"],
        "ServiceTags_Example.json"
    );
    assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{text}");
}

/// Pages of `limit` matches, followed by their cursors, are the whole answer, for addresses
/// and prefixes, GET and POST, and for `/v1/tags/{name}/prefixes`.
#[test]
fn pages_put_together_are_the_whole_answer() {
    let s = start(&example(), opts());
    let c = client();
    let whole_get = json(&get(&s, "/v1/lookup?ip=0.0.0.0/0&ip=192.0.2.20&ip=::/0").1);
    let want: Vec<Value> = whole_get["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["matches"].as_array().unwrap().clone())
        .collect();
    assert!(want.len() > 5, "{whole_get}");
    for limit in [1, 2, 3, 7, 1000] {
        // GET
        let mut got = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut url = format!("/v1/lookup?ip=0.0.0.0/0&ip=192.0.2.20&ip=::/0&limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let (status, text) = get(&s, &url);
            assert_eq!(status, 200, "{text}");
            let v = json(&text);
            let n: usize = v["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["matches"].as_array().unwrap().len())
                .sum();
            assert!(n <= limit);
            got.extend(
                v["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|r| r["matches"].as_array().unwrap().clone()),
            );
            pages += 1;
            match v.get("next_cursor").and_then(Value::as_str) {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(got, want, "limit {limit}");
        assert_eq!(pages, want.len().div_ceil(limit).max(1), "limit {limit}");
        // POST, with a line that is not an address among them.
        let mut got = Vec::new();
        let mut errors = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/v1/lookup?limit={limit}", s.base);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let r = c
                .post(url)
                .header("content-type", "text/plain")
                .body("0.0.0.0/0\nnope\n192.0.2.20\n::/0\n")
                .send()
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let v = json(&r.text().unwrap());
            for rec in v["records"].as_array().unwrap() {
                match rec.get("matches") {
                    Some(m) => got.extend(m.as_array().unwrap().clone()),
                    None => errors += 1,
                }
            }
            match v.get("next_cursor").and_then(Value::as_str) {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(got, want, "POST limit {limit}");
        assert_eq!(errors, 1, "the bad line is answered once");
    }
    // Prefixes of a tag.
    let whole = json(&get(&s, "/v1/tags/AzureCloud/prefixes").1);
    let all = whole["prefixes"].as_array().unwrap().clone();
    let mut got = Vec::new();
    let mut url = "/v1/tags/AzureCloud/prefixes?limit=2".to_string();
    loop {
        let v = json(&get(&s, &url).1);
        assert_eq!(v["total"], all.len());
        assert_eq!(v["records"], v["prefixes"]);
        got.extend(v["prefixes"].as_array().unwrap().clone());
        match v.get("next_cursor").and_then(Value::as_str) {
            Some(c) => url = format!("/v1/tags/AzureCloud/prefixes?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(got, all);
    // A record cut by a page continues on the next one, marked `continued`; whole records
    // are not.
    let first = json(&get(&s, "/v1/lookup?ip=::/0&ip=::/0&limit=2").1);
    let c = first["next_cursor"].as_str().unwrap().to_string();
    let second = json(
        &get(
            &s,
            &format!("/v1/lookup?ip=::/0&ip=::/0&limit=2&cursor={c}"),
        )
        .1,
    );
    assert_eq!(second["records"][0]["continued"], true, "{second}");
    assert!(first["records"][0].get("continued").is_none());
    // Cursors this server did not give for this request: another snapshot, another request,
    // another endpoint, made up, edited (past the end, another position, other digits, not
    // canonical); limits out of range.
    let (cn, rest) = c.split_once('-').unwrap();
    let parts: Vec<&str> = rest.split('-').collect();
    let (key, digits) = (parts[2], parts[3]);
    let prefixes = json(&get(&s, "/v1/tags/AzureCloud/prefixes?limit=1").1);
    let pc = prefixes["next_cursor"].as_str().unwrap().to_string();
    let flip = |d: &str| {
        let last = if d.ends_with('0') { '1' } else { '0' };
        format!("{}{last}", &d[..7])
    };
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("/v1/lookup?ip=::/0&cursor={c}"),
            409,
            "stale-cursor",
        ),
        (
            format!("/v1/lookup?ip=::/0&ip=::/0&cursor={pc}"),
            409,
            "stale-cursor",
        ),
        (
            format!("/v1/tags/AzureCloud/prefixes?cursor={c}"),
            409,
            "stale-cursor",
        ),
        (
            format!("/v1/lookup?ip=::/0&ip=::/0&cursor=cn999999-0-1-{key}-{digits}"),
            400,
            "bad-request",
        ),
        (
            "/v1/lookup?ip=0.0.0.0/0&cursor=abc".into(),
            400,
            "bad-request",
        ),
        (
            format!("/v1/lookup?ip=::/0&ip=::/0&cursor={cn}-5-0-{key}-{digits}"),
            400,
            "bad-request",
        ),
        (
            format!("/v1/lookup?ip=::/0&ip=::/0&cursor={cn}-0-1-{key}-{digits}"),
            400,
            "bad-request",
        ),
        (
            format!(
                "/v1/lookup?ip=::/0&ip=::/0&cursor={cn}-{}-{}-{key}-{}",
                parts[0],
                parts[1],
                flip(digits)
            ),
            400,
            "bad-request",
        ),
        (
            format!(
                "/v1/lookup?ip=::/0&ip=::/0&cursor={cn}-{}-{}-{}-{digits}",
                parts[0],
                parts[1],
                key.to_uppercase()
            ),
            400,
            "bad-request",
        ),
        (
            format!(
                "/v1/lookup?ip=::/0&ip=::/0&cursor={cn}-0{}-{}-{key}-{digits}",
                parts[0], parts[1]
            ),
            400,
            "bad-request",
        ),
        ("/v1/lookup?ip=0.0.0.0/0&limit=0".into(), 400, "bad-request"),
        (
            "/v1/lookup?ip=0.0.0.0/0&limit=100001".into(),
            400,
            "bad-request",
        ),
        (
            "/v1/tags/AzureCloud/prefixes?limit=-1".into(),
            400,
            "bad-request",
        ),
    ];
    for (url, status, code) in cases {
        let (st, text) = get(&s, &url);
        assert_eq!(st, status, "{url}: {text}");
        assert_eq!(json(&text)["error"]["code"], code, "{url}");
    }
}

/// A client sending its headers a byte at a time is cut off at the read deadline; so is one
/// that sends nothing, and one that sends its body too slowly (408).
#[test]
fn slow_clients_are_cut_off() {
    let s = start(
        &example(),
        Options {
            read_timeout: Duration::from_secs(1),
            ..opts()
        },
    );
    let a = addr(&s);
    // Headers a byte every 200 ms.
    let t = Instant::now();
    let mut c = TcpStream::connect(&a).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut closed = false;
    for b in b"GET /v1/tags HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        if c.write_all(&[*b]).is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match c.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(
        closed,
        "a byte-a-time client was still connected after {:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    // Nothing at all.
    let t = Instant::now();
    let answer = raw(&a, b"", Duration::from_secs(5));
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "an idle connection stayed {:?}: {answer}",
        t.elapsed()
    );
    // A body that stops halfway.
    let answer = raw(
        &a,
        b"POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n192.0.2.20\n",
        Duration::from_secs(5),
    );
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 408, "{answer}");
    assert_eq!(body["error"]["code"], "read-timeout");
}

/// Past `max_connections`, new connections wait (counted in /metrics) and are served when a
/// slot frees: here when the idle ones are cut off at the read deadline.
#[test]
fn the_connection_limit_holds() {
    let s = start(
        &example(),
        Options {
            read_timeout: Duration::from_secs(1),
            max_connections: 4,
            ..opts()
        },
    );
    let a = addr(&s);
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&a).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let (status, _) = get(&s, "/healthz");
    assert_eq!(status, 200);
    // It waited for an idle connection to be cut off.
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    let (_, metrics) = get(&s, "/metrics");
    let waits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tagnet_connection_waits_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(waits >= 1, "{metrics}");
    drop(idle);
}

/// 60 clients sending headers a byte every 250 ms for 4 s, beside a client asking lookups one
/// after another: every lookup is answered, none slower than a second.
#[test]
fn soak_slow_clients_beside_normal_ones() {
    let s = start(
        &example(),
        Options {
            read_timeout: Duration::from_secs(2),
            ..opts()
        },
    );
    let a = addr(&s);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slow: Vec<_> = (0..60)
        .map(|i| {
            let a = a.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut cut = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok(mut c) = TcpStream::connect(&a) else {
                        continue;
                    };
                    let line = format!(
                        "GET /v1/tags HTTP/1.1\r\nHost: slow{i}\r\nX-Pad: {}",
                        "a".repeat(200)
                    );
                    for b in line.bytes() {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return cut;
                        }
                        if c.write_all(&[b]).is_err() {
                            cut += 1;
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(250));
                    }
                }
                cut
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let c = client();
    let mut worst = Duration::ZERO;
    let until = Instant::now() + Duration::from_secs(4);
    let mut n = 0;
    while Instant::now() < until {
        let t = Instant::now();
        let r = c
            .get(format!("{}/v1/lookup?ip=192.0.2.{}", s.base, n % 250))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let _ = r.text().unwrap();
        worst = worst.max(t.elapsed());
        n += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let cut: usize = slow.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(n > 50, "only {n} lookups in 4 s");
    assert!(
        worst < Duration::from_secs(1),
        "the slowest lookup took {worst:?}"
    );
    // The slow ones were cut off at the read deadline, not left hanging.
    assert!(cut >= 30, "only {cut} slow clients were cut off");
}

/// The server as a process: `tagnet serve --tags builtin`, its memory read from /proc.
struct Process {
    child: std::process::Child,
    base: String,
}

impl Process {
    fn start(extra: &[&str]) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec![
            "-q", "serve", "--tags", "builtin", "--watch", "0", "--listen", &listen,
        ];
        args.extend_from_slice(extra);
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tagnet"))
            .args(&args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let p = Process {
            child,
            base: format!("http://{listen}"),
        };
        let c = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.get(format!("{}/healthz", p.base)).send().is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }
    fn status(&self, key: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }
    /// CPU seconds (user + system) so far.
    fn cpu(&self) -> f64 {
        let s = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let f: Vec<&str> = s.rsplit_once(')').unwrap().1.split_whitespace().collect();
        (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The requests that took the server down (issue 29): 1,000 lines of `0.0.0.0/0` (8.6 MB of
/// answer each) and four concurrent GETs of twenty each. Each gets a quick 413 naming the
/// budget; `/healthz` answers meanwhile; the server's peak memory stays under 640 MiB (the
/// snapshot and index take about 150 MiB; the budget is 128 MiB an answer).
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "reads the server's memory from /proc"
)]
fn abusive_lookups_get_quick_bounded_answers() {
    let p = Process::start(&[]);
    let c = client();
    let t = Instant::now();
    let r = c
        .post(format!("{}/v1/lookup", p.base))
        .header("content-type", "text/plain")
        .body("0.0.0.0/0\n".repeat(1000))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let v = json(&r.text().unwrap());
    assert_eq!(v["error"]["code"], "answer-too-large");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-answer")
    );
    let post_took = t.elapsed();
    assert!(post_took < Duration::from_secs(15), "{post_took:?}");
    let url = format!(
        "{}/v1/lookup?{}",
        p.base,
        vec!["ip=0.0.0.0/0"; 20].join("&")
    );
    let gets: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let r = client().get(url).send().unwrap();
                let status = r.status().as_u16();
                (status, json(&r.text().unwrap())["error"]["code"].clone())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut slowest_health = Duration::ZERO;
    while !gets.iter().all(|g| g.is_finished()) {
        let t = Instant::now();
        assert_eq!(
            c.get(format!("{}/healthz", p.base))
                .send()
                .unwrap()
                .status()
                .as_u16(),
            200
        );
        slowest_health = slowest_health.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    for g in gets {
        let (status, code) = g.join().unwrap();
        assert!(
            (status == 413 && code == "answer-too-large") || (status == 503 && code == "busy"),
            "{status} {code}"
        );
    }
    assert!(
        slowest_health < Duration::from_secs(1),
        "/healthz took {slowest_health:?}"
    );
    // A page of the same answer is fine.
    let r = c
        .get(format!("{}/v1/lookup?ip=0.0.0.0/0&limit=5000", p.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(json(&r.text().unwrap())["next_cursor"].is_string());
    let peak_kib = p.status("VmHWM:");
    eprintln!(
        "1,000 x 0.0.0.0/0: 413 in {post_took:?}; slowest /healthz beside four 20 x 0.0.0.0/0 GETs: {slowest_health:?}; peak memory {} MiB",
        peak_kib >> 10
    );
    assert!(peak_kib < 640 << 10, "peak memory {} MiB", peak_kib >> 10);
}

/// A request whose deadline passes stops computing: the server's CPU goes quiet right after
/// the 503, instead of writing gigabytes nobody reads.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "reads the server's CPU time from /proc"
)]
fn work_stops_when_the_deadline_passes() {
    let p = Process::start(&["--timeout", "1", "--max-answer", "100000"]);
    let c = client();
    let r = c
        .post(format!("{}/v1/lookup", p.base))
        .header("content-type", "text/plain")
        .body("0.0.0.0/0\n".repeat(5000))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(json(&r.text().unwrap())["error"]["code"], "timeout");
    std::thread::sleep(Duration::from_millis(300));
    let before = p.cpu();
    std::thread::sleep(Duration::from_secs(1));
    let spent = p.cpu() - before;
    assert!(
        spent < 0.3,
        "the server spent {spent:.2} CPU s in the second after the timeout"
    );
}

/// One endpoint at its `max_concurrent`: the next request to it waits up to the read deadline
/// for a turn, then gets 503 with Retry-After, while other endpoints answer.
#[test]
fn a_busy_endpoint_turns_requests_away_and_others_answer() {
    let p = Process::start(&[
        "--max-concurrent",
        "1",
        "--read-timeout",
        "1",
        "--max-answer",
        "100000",
    ]);
    let url = format!(
        "{}/v1/lookup?{}",
        p.base,
        vec!["ip=0.0.0.0/0"; 40].join("&")
    );
    let long = {
        let url = url.clone();
        std::thread::spawn(move || client().get(url).send().unwrap().status().as_u16())
    };
    std::thread::sleep(Duration::from_millis(200));
    let r = client().get(&url).send().unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let v = json(&r.text().unwrap());
    let (tags, _) = {
        let r = client()
            .get(format!("{}/v1/tags?name=Storage", p.base))
            .send()
            .unwrap();
        (r.status().as_u16(), ())
    };
    assert_eq!(long.join().unwrap(), 200);
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["code"], "busy");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(tags, 200);
}

/// An NSG whose analysis takes seconds however it is done: `n - 100` small deny rules (a /24
/// of 10/8, one port) above 100 wide allows of 10/8, each of which the holes above cut into
/// thousands of pieces (made deterministically).
fn big_nsg(n: usize) -> serde_json::Value {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let holes = n.saturating_sub(100);
    let rules: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let a = next();
            if i < holes {
                serde_json::json!({"name": format!("hole{i}"), "properties": {
                    "priority": 100 + i, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
                    "sourceAddressPrefix": format!("10.{}.{}.0/24", (a >> 8) & 255, a & 255),
                    "sourcePortRange": "*", "destinationAddressPrefix": "*",
                    "destinationPortRange": format!("{}", 1 + (a >> 16) % 65534)}})
            } else {
                serde_json::json!({"name": format!("wide{i}"), "properties": {
                    "priority": 100 + i, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                    "sourceAddressPrefix": format!("10.0.0.0/{}", 8 + i % 4), "sourcePortRange": "*",
                    "destinationAddressPrefix": "*", "destinationPortRange": "*"}})
            }
        })
        .collect();
    serde_json::json!({"name": "big", "securityRules": rules})
}

/// Past `--timeout`, `nsg analyze` stops too (not only lookups), and its turn is held until
/// it has: a second request to the endpoint meanwhile waits or is turned away, never runs
/// beside the abandoned one.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "reads the server's CPU time from /proc"
)]
fn analysis_stops_when_its_deadline_passes() {
    let p = Process::start(&["--timeout", "1", "--max-concurrent", "1"]);
    let body = serde_json::json!({"nsg": big_nsg(3000), "vnet": ["10.0.0.0/16"]}).to_string();
    let c = client();
    let t = Instant::now();
    let r = c
        .post(format!("{}/v1/nsg/analyze", p.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(json(&r.text().unwrap())["error"]["code"], "timeout");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    std::thread::sleep(Duration::from_millis(400));
    let before = p.cpu();
    std::thread::sleep(Duration::from_secs(1));
    let spent = p.cpu() - before;
    assert!(
        spent < 0.3,
        "the server spent {spent:.2} CPU s in the second after the timeout"
    );
}

/// A client that takes no byte of its answer is dropped after `--write-timeout`, and the
/// answer memory it held comes back; meanwhile answers past `--max-answer-memory` are
/// refused (503 busy), not kept.
#[test]
fn clients_that_do_not_read_are_dropped_and_their_answers_bounded() {
    let p = Process::start(&["--write-timeout", "2", "--max-answer-memory", "24"]);
    let addr = p.base.trim_start_matches("http://").to_string();
    // About 17 MB of answer, more than the socket buffers take.
    let req = "GET /v1/lookup?ip=0.0.0.0/0&ip=0.0.0.0/0 HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(req.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    // The first answer holds most of the answer memory: the same again does not fit.
    let r = client()
        .get(format!("{}/v1/lookup?ip=0.0.0.0/0&ip=0.0.0.0/0", p.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let v = json(&r.text().unwrap());
    assert_eq!(v["error"]["code"], "busy");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-answer-memory")
    );
    // After the write timeout the reader-less connection is closed and its memory is back.
    let deadline = Instant::now() + Duration::from_secs(15);
    let timeouts = |c: &reqwest::blocking::Client| -> u64 {
        let m = c
            .get(format!("{}/metrics", p.base))
            .send()
            .unwrap()
            .text()
            .unwrap();
        m.lines()
            .find_map(|l| l.strip_prefix("tagnet_write_timeouts_total "))
            .unwrap()
            .parse()
            .unwrap()
    };
    let c = client();
    while timeouts(&c) == 0 {
        assert!(
            Instant::now() < deadline,
            "the reader-less connection was not dropped"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = c
        .get(format!("{}/v1/lookup?ip=0.0.0.0/0&ip=0.0.0.0/0", p.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().unwrap().len() > 10 << 20);
    drop(idle);
}

/// A gzip body that unpacks past `--body-limit` (a 3 MB gzip of gigabytes) is refused with
/// 413, naming the limit, not unpacked into memory.
#[test]
fn a_gzip_bomb_is_refused() {
    let s = start(
        &example(),
        Options {
            body_limit: 1 << 20,
            ..opts()
        },
    );
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [")
        .unwrap();
    gz.write_all(&vec![b' '; 8 << 20]).unwrap();
    let body = gz.finish().unwrap();
    assert!(body.len() < 1 << 20);
    let r = client()
        .post(format!("{}/v1/diff", s.base))
        .header("content-type", "application/gzip")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let v = json(&r.text().unwrap());
    assert_eq!(v["error"]["code"], "too-large");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unpacks to more than 1 MiB"),
        "{v}"
    );
}

/// Endpoints that take their options in the body, or none, refuse a query parameter as every
/// other endpoint refuses an unknown one.
#[test]
fn query_parameters_an_endpoint_does_not_take_are_refused() {
    let s = start(&example(), opts());
    for (method, path) in [
        ("GET", "/v1/snapshot?x=1"),
        ("GET", "/healthz?x=1"),
        ("GET", "/metrics?x=1"),
        ("GET", "/v1/openapi.json?x=1"),
        ("GET", "/v1/info?x=1"),
        ("POST", "/v1/nsg/analyze?x=1"),
        ("POST", "/v1/check?limit=1"),
    ] {
        let c = client();
        let r = if method == "GET" {
            c.get(format!("{}{path}", s.base))
        } else {
            c.post(format!("{}{path}", s.base)).body("{}")
        }
        .send()
        .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{path}");
        let v = json(&r.text().unwrap());
        let m = v["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("takes no") && !m.ends_with("takes "),
            "{path}: {m}"
        );
    }
}
