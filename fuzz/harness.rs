#![allow(dead_code)]

//! What each fuzz target checks for one input, shared by the targets (`fuzz_targets/`) and by
//! the regular test that replays the kept corpus on stable (`tests/tagnet/fuzz_replay.rs`).
//!
//! Every function must return for any input: no panic, no abort; and where a fast path has a
//! naive twin, both give the same answer (an `assert!` here is the invariant the fuzzer hunts).

use std::net::IpAddr;
use std::sync::OnceLock;

/// The small example snapshot: quick to load, and it has real tags, regions and IPv6.
pub fn example() -> &'static tagnet::Snapshot {
    static S: OnceLock<tagnet::Snapshot> = OnceLock::new();
    S.get_or_init(|| {
        tagnet::load::from_slice(
            include_bytes!("../data/example/ServiceTags_Example.json"),
            "example",
        )
        .expect("the example snapshot loads")
    })
}

/// Snapshot loading (both shapes: the download file and the Discovery API's); a loaded
/// snapshot indexes, and the index agrees with the naive oracle on its own prefixes.
pub fn snapshot(data: &[u8]) {
    let Ok(snap) = tagnet::load::from_slice(data, "fuzz") else {
        return;
    };
    if snap
        .tags()
        .iter()
        .map(|t| t.prefixes().count())
        .sum::<usize>()
        > 20_000
    {
        return; // the oracle is quadratic
    }
    let index = tagnet::TagIndex::build(&snap);
    for t in snap.tags().iter().take(50) {
        for p in t.prefixes().take(20) {
            let ip = p.addr();
            let mut fast: Vec<(u32, String)> = index
                .lookup(ip)
                .iter()
                .map(|m| (m.tag, index.prefix(m.prefix).to_string()))
                .collect();
            fast.sort();
            let mut slow: Vec<(u32, String)> = tagnet::oracle::lookup(&snap, ip)
                .into_iter()
                .map(|(t, n)| (t, n.to_string()))
                .collect();
            slow.sort();
            assert_eq!(fast, slow, "lookup of {ip}");
        }
    }
}

/// Route tables, effective routes and ARM route tables; a table that loads is audited.
pub fn route_table(data: &[u8]) {
    let Ok(table) = tagnet::routes::audit::parse_route_table(data, "fuzz") else {
        return;
    };
    let snap = example();
    let Ok(req) = tagnet::routes::required_tags(
        snap,
        &["eastus2".to_string()],
        &["BatchNodeManagement".into()],
        &[],
    ) else {
        return;
    };
    let rel = tagnet::routes::audit::related(snap, &req.ids);
    let opts = tagnet::routes::audit::AuditOptions {
        vnet: vec!["10.0.0.0/16".parse().expect("valid")],
        ipv6: true,
        default_route: None,
        default_route_declared: false,
        related: Some(&rel),
        previous: None,
        prune: true,
        max_routes: 400,
        accept_over_broad: false,
    };
    let _ = tagnet::routes::audit::audit(snap, &table, &req.ids, &opts);
}

/// NSGs in every shape; a loaded NSG is resolved, compiled and analysed, and the compiled
/// evaluator gives the naive first-match answer on flows drawn from the input.
pub fn nsg(data: &[u8]) {
    let Ok(nsgs) = tagnet::nsg::read::parse(data, "fuzz") else {
        return;
    };
    let snap = example();
    let ctx = tagnet::nsg::eval::Context {
        snapshot: snap,
        vnet: vec!["10.0.0.0/16".parse().expect("valid")],
        asgs: Default::default(),
    };
    for n in nsgs.iter().take(4) {
        if n.rules.len() > 200 {
            continue; // analysis is quadratic in rules
        }
        let _ = tagnet::nsg::analyze::analyze(&ctx, n);
        let Ok(r) = ctx.resolve(n) else { continue };
        let compiled = tagnet::nsg::compile(&r);
        let plain = tagnet::nsg::compile(&r).without_cross();
        let seed = data
            .iter()
            .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        for k in 0..64u64 {
            let x = seed.wrapping_add(k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let remote = if k % 2 == 0 {
                IpAddr::V4(((x >> 8) as u32).into())
            } else {
                IpAddr::V4([192, 0, 2, (x >> 40) as u8].into())
            };
            let f = tagnet::nsg::model::Flow {
                direction: if x & 1 == 0 {
                    tagnet::nsg::model::Direction::Inbound
                } else {
                    tagnet::nsg::model::Direction::Outbound
                },
                protocol: [
                    tagnet::nsg::model::Protocol::Tcp,
                    tagnet::nsg::model::Protocol::Udp,
                    tagnet::nsg::model::Protocol::Icmp,
                ][((x >> 2) % 3) as usize],
                local_ip: IpAddr::V4([10, 0, (x >> 16) as u8, (x >> 24) as u8].into()),
                local_port: (x >> 32) as u16,
                remote_ip: remote,
                remote_port: (x >> 48) as u16,
            };
            let want = tagnet::nsg::eval::first_match_naive(&r, &f).map(|x| x.rule.path());
            let got = compiled.first(&f).map(|i| compiled.rules[i].1.clone());
            let got2 = plain.first(&f).map(|i| plain.rules[i].1.clone());
            assert_eq!(got, want, "{f:?}");
            assert_eq!(got2, want, "{f:?} (five sets)");
        }
    }
}

/// Network definitions for `check` (az JSON, ARM templates, Terraform plans), then every rule.
pub fn check(data: &[u8]) {
    let Ok(net) = tagnet::check::read::from_documents(
        &[("fuzz.json".to_string(), data.to_vec())],
        &Default::default(),
        &Default::default(),
    ) else {
        return;
    };
    let _ = tagnet::path::check_all(&tagnet::check::Cx {
        net: &net,
        snap: example(),
        on_prem: &[],
        nsg_profile: "aml-vnet-2020",
        udr_profile: "aml-vnet-2020",
        asgs: &net.asg_members(&Default::default()),
    });
}

/// The address and prefix lines of `lookup`, `aggregate` and `overlaps`, and the flow lines of
/// `nsg verify --flows`: each parses or says why not; aggregation equals the naive union, and the budgeted cover holds every prefix.
pub fn lines(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut nets = Vec::new();
    for line in text.lines().take(2000) {
        let t = line.trim();
        let _ = tagnet::text::address(t);
        // `nsg verify --flows` lines (CSV or NDJSON): a flow that parses has both ports when
        // its protocol has ports, and addresses of one family.
        if let Ok(Some(f)) = tagnet::nsg::model::Flow::parse_line(line) {
            assert_eq!(f.local_ip.is_ipv4(), f.remote_ip.is_ipv4(), "{line}");
        }
        if let Ok(n) = tagnet::text::listed_prefix(t) {
            nets.push(n.trunc());
        }
    }
    let set = tagnet::prefixset::PrefixSet::from_prefixes(nets.iter().copied());
    for n in &nets {
        assert!(set.contains(n.network()), "{n}");
    }
    let never: tagnet::prefixset::PrefixSet =
        tagnet::prefixset::PrefixSet::from_prefixes(["10.0.0.0/8".parse().expect("valid")]);
    if let Ok(cover) = tagnet::budget::budget_set(&set, 3, &never) {
        // The cover holds every input address and never touches the forbidden space the
        // input does not hold itself.
        let c = tagnet::prefixset::PrefixSet::from_prefixes(cover.prefixes.iter().copied());
        assert!(set.difference(&c).is_empty(), "the cover misses addresses");
        assert!(
            c.intersection(&never).difference(&set).is_empty(),
            "the cover takes forbidden space"
        );
    }
    if let Ok(cover) = tagnet::budget::budget_set(&set, 3, &tagnet::prefixset::PrefixSet::default())
    {
        let c = tagnet::prefixset::PrefixSet::from_prefixes(cover.prefixes.iter().copied());
        assert!(set.difference(&c).is_empty(), "the cover misses addresses");
    }
}

/// The server's request parsing: one request to the router, in process. The first byte picks
/// the endpoint and method, the text up to the first newline is the query (or the tag name),
/// the rest the body. Every answer is JSON (an error is `{"error": {"code", "message"}}`) with a
/// status below 500: input never makes the server fail.
pub fn server(data: &[u8]) {
    use std::sync::Arc;
    use tower::ServiceExt;
    static APP: OnceLock<(tokio::runtime::Runtime, Arc<tagnet::serve::App>)> = OnceLock::new();
    let (rt, app) = APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let info = tagnet::serve::Info {
            cloud: "Public".into(),
            change_number: 1,
            date: None,
            source: "example".into(),
            sources: Vec::new(),
        };
        let loaded = tagnet::serve::Loaded::new(example().clone(), info.clone());
        let loader: tagnet::serve::Loader = Arc::new(move || Ok((example().clone(), info.clone())));
        let opts = tagnet::serve::Options {
            max_batch: 10_000,
            body_limit: 1 << 20,
            watch: None,
            ..Default::default()
        };
        (rt, tagnet::serve::App::new(loaded, loader, opts))
    });
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let cut = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let head = String::from_utf8_lossy(&rest[..cut]);
    let body = rest.get(cut + 1..).unwrap_or_default().to_vec();
    const ENDPOINTS: [(&str, &str); 10] = [
        ("GET", "/v1/lookup"),
        ("POST", "/v1/lookup"),
        ("GET", "/v1/tags"),
        ("GET", "/v1/tags/{}/prefixes"),
        ("GET", "/v1/udr"),
        ("POST", "/v1/nsg/verify"),
        ("POST", "/v1/nsg/reach"),
        ("GET", "/v1/snapshot"),
        ("PUT", "/v1/lookup"),
        ("GET", "/v1/{}"),
    ];
    let (method, path) = ENDPOINTS[usize::from(pick) % ENDPOINTS.len()];
    let uri = if path.contains("{}") {
        path.replace("{}", &head)
    } else if head.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{head}")
    };
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri.as_str());
    if pick & 0x80 != 0 {
        req = req.header("content-type", "application/json");
    }
    // A URI the HTTP layer refuses never reaches tagnet.
    let Ok(req) = req.body(axum::body::Body::from(body)) else {
        return;
    };
    let router = tagnet::serve::router(app.clone());
    let (status, bytes) = rt.block_on(async {
        let resp = router.oneshot(req).await.expect("the router is infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, bytes)
    });
    assert!(status.as_u16() < 500, "{method} {uri}: {status}");
    // Text answers (csv, the plain formats) are fine; JSON answers must parse, and an error is
    // always JSON with a code and a message.
    let v = serde_json::from_slice::<serde_json::Value>(&bytes);
    if status.as_u16() >= 400 {
        let v = v.unwrap_or_else(|e| panic!("{method} {uri}: {status} with a non-JSON body: {e}"));
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{method} {uri}: {v}"
        );
    }
}

/// The example snapshot's index, built once.
pub fn example_index() -> &'static tagnet::TagIndex {
    static I: OnceLock<tagnet::TagIndex> = OnceLock::new();
    I.get_or_init(|| tagnet::TagIndex::build(example()))
}

/// Flow-log blobs (`flows attribute`, `flows verify`, the Python package): reading in blocks of
/// any size gives what reading the whole gives, every tuple read renders back to itself, and
/// batch attribution equals one-by-one.
pub fn flow_logs(data: &[u8]) {
    use tagnet::flowlog::{read, synth};
    let (recs, bad, stats) = read::read_slice(data, "fuzz");
    assert_eq!(stats.records, recs.len());
    assert_eq!(
        stats.tuples,
        recs.iter().map(|r| r.tuples.len()).sum::<usize>()
    );
    assert_eq!(stats.bad, bad.len());
    // The same bytes trickled in blocks of 1 to 64 bytes (the first byte picks).
    let step = data.first().map_or(1, |b| usize::from(b % 64) + 1);
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    // Read in parts of 1 to 256 bytes (the second byte picks): a document whose records all
    // parse gives the same tuples, under the same NSGs and rules, the same bad tuples at the
    // same places and the same counts (a header member after tuples is reported instead).
    let part = data.get(1).map_or(1, |b| usize::from(*b) + 1);
    let (precs, pbad, pstats) = read::read_slice_in_parts(data, "fuzz", part);
    let whole_records = |b: &[read::Bad]| b.iter().all(|x| x.tuple.is_some());
    if whole_records(&bad) && whole_records(&pbad) {
        assert_eq!(pstats, stats, "in parts of {part}");
        assert_eq!(pbad, bad, "in parts of {part}");
        assert_eq!(precs.len(), recs.len());
        let flat = |r: &read::Record| {
            r.tuples
                .iter()
                .map(|t| {
                    let g = &r.groups[t.group as usize];
                    (
                        g.acl.clone(),
                        g.rule.clone(),
                        g.mac.clone(),
                        tagnet::flowlog::Tuple { group: 0, ..*t },
                    )
                })
                .collect::<Vec<_>>()
        };
        for (a, b) in recs.iter().zip(&precs) {
            assert_eq!(flat(a), flat(b), "in parts of {part}");
            assert_eq!(
                (&a.time, &a.resource, a.version, a.kind),
                (&b.time, &b.resource, b.version, b.kind)
            );
        }
    }
    let mut again = Vec::new();
    let mut bad2 = Vec::new();
    let st = read::read(
        Trickle(data, step),
        "fuzz",
        &mut |r| again.push(r),
        &mut |b| bad2.push(b),
    );
    assert_eq!(st, stats);
    assert_eq!(bad2, bad);
    assert_eq!(again.len(), recs.len());
    let at = tagnet::flowlog::attribute::Attributor::new(example(), example_index(), None);
    for (a, b) in recs.iter().zip(&again) {
        assert_eq!(a.tuples, b.tuples);
        assert_eq!(a.groups, b.groups);
        let kind = a.kind.unwrap_or(tagnet::flowlog::Kind::Vnet);
        for t in &a.tuples {
            let text = synth::render(t, kind);
            let back = match kind {
                tagnet::flowlog::Kind::Vnet => tagnet::flowlog::parse_vnet(&text, t.group),
                _ => tagnet::flowlog::parse_nsg(&text, t.group).map(|(t, _)| t),
            };
            // NSG logs write seconds and only T/U; what was read renders back the same.
            if let Ok(back) = back
                && kind == tagnet::flowlog::Kind::Vnet
                && t.encryption
                    != tagnet::flowlog::Encryption::NotEncryptedReason(
                        tagnet::flowlog::EncryptionReason::Other,
                    )
            {
                assert_eq!(&back, t, "{text}");
            }
        }
        let batch = at.attribute_tuples(&a.tuples);
        for (t, x) in a.tuples.iter().zip(&batch) {
            assert_eq!(&at.attribute(t.remote().0), x);
        }
    }
}

/// The reader of `nsg verify --flows` ([`tagnet::ops::nsg::flow_lines`]): the same flows and
/// bad lines as a naive reading line by line (a line over the cap, or not UTF-8, is bad; the
/// rest are [`tagnet::nsg::model::Flow::parse_line`]'s), whole or trickled in blocks of 1 to
/// 64 bytes; a bad line's kept text stays within the cap. Through the text opener (gzip, BOM,
/// UTF-16) it returns whatever the bytes are.
pub fn flow_lines(data: &[u8]) {
    use tagnet::nsg::model::Flow;
    use tagnet::ops::nsg::{MAX_FLOW_LINE, flow_lines};
    type Read = (Vec<Flow>, Vec<(usize, String)>, bool);
    let run = |r: &mut dyn std::io::BufRead| -> Read {
        let (mut flows, mut bad) = (Vec::new(), Vec::new());
        let ok = flow_lines(
            r,
            "fuzz",
            &mut |b| {
                assert!(b.text.len() <= MAX_FLOW_LINE, "a bad line kept whole");
                bad.push((b.line, b.why));
            },
            &mut |f| {
                flows.extend_from_slice(f);
                Ok(())
            },
        );
        if let Ok(c) = &ok {
            assert_eq!((c.flows, c.bad), (flows.len(), bad.len()));
        }
        (flows, bad, ok.is_ok())
    };
    let whole = run(&mut std::io::Cursor::new(data));
    // The naive reading. A misordered header ends the read (an error): compare up to it.
    let (mut flows, mut bad) = (Vec::new(), Vec::new());
    let mut fatal = false;
    for (i, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        let r = if line.len() > MAX_FLOW_LINE {
            Err(String::new())
        } else {
            match std::str::from_utf8(line) {
                Ok(l) => Flow::parse_line(l),
                Err(_) => Err(String::new()),
            }
        };
        match r {
            Ok(Some(f)) => flows.push(f),
            Ok(None) => {}
            Err(why) if why == tagnet::nsg::model::MISORDERED_HEADER => {
                fatal = true;
                break;
            }
            Err(_) => bad.push(i + 1),
        }
    }
    assert_eq!(whole.2, !fatal);
    if !fatal {
        assert_eq!(whole.0, flows);
        assert_eq!(whole.1.iter().map(|b| b.0).collect::<Vec<_>>(), bad);
    }
    let step = data.first().map_or(1, |b| usize::from(b % 64) + 1);
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let trickled = run(&mut std::io::BufReader::with_capacity(
        step,
        Trickle(data, step),
    ));
    assert_eq!(trickled, whole);
    if let Ok((mut r, origin)) =
        tagnet::load::open_text_from(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz".into())
    {
        let _ = flow_lines(&mut r, &origin, &mut |_| {}, &mut |_| Ok(()));
    }
}

/// Other providers' files and custom tags ([`tagnet::sources`]): whatever the bytes, each
/// reader returns; a source read has its tags sorted and named for its provider, each tag's
/// prefixes canonical (no host bits), sorted and unique; and it merges beside the example
/// snapshot or is refused (a name clash), never a panic.
pub fn sources(data: &[u8]) {
    use tagnet::sources::{Provider, read, read_custom};
    let mut read_any = Vec::new();
    for named in [
        None,
        Some(Provider::Aws),
        Some(Provider::Google),
        Some(Provider::Oracle),
        Some(Provider::GitHub),
        Some(Provider::Cloudflare),
    ] {
        if let Ok(s) = read(data, "fuzz", named) {
            read_any.push(s);
        }
    }
    if let Ok(s) = read_custom(data, "fuzz") {
        read_any.push(s);
    }
    for s in read_any {
        assert!(
            s.tags.windows(2).all(|w| w[0].name < w[1].name),
            "tags sorted, once"
        );
        for t in &s.tags {
            if s.provider != Provider::Custom {
                assert!(t.name.starts_with(s.provider.name()), "{}", t.name);
            }
            assert!(
                t.prefixes.windows(2).all(|w| w[0] < w[1]),
                "prefixes sorted, once"
            );
            assert!(t.prefixes.iter().all(|p| p.trunc() == *p), "no host bits");
        }
        let _ = example().clone().with_sources(vec![s]);
    }
}
