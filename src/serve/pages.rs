//! The page, the OpenAPI document, `/v1/snapshot` and `/metrics`.

use super::*;

pub(super) async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("page.html"),
    )
        .into_response()
}

pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

pub(super) fn snapshot_json(l: &Loaded) -> Value {
    let age = l
        .info
        .date
        .as_deref()
        .and_then(|d| crate::load::builtin::age_days(d, now()));
    json!({
        "cloud": l.info.cloud,
        "change_number": l.info.change_number,
        "date": l.info.date,
        "source": l.info.source,
        "loaded_at": l.loaded_at,
        "age_days": age,
    })
}

pub(super) async fn snapshot(State(app): State<Arc<App>>) -> Response {
    axum::Json(snapshot_json(&app.current())).into_response()
}

pub(super) async fn metrics(State(app): State<Arc<App>>) -> Response {
    let cur = app.current();
    let m = app.metrics.lock().expect("metrics");
    let mut out = String::new();
    out.push_str("# HELP tagnet_requests_total Requests by route and status.\n# TYPE tagnet_requests_total counter\n");
    for ((route, status), (n, _)) in &m.requests {
        out.push_str(&format!(
            "tagnet_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP tagnet_request_seconds Time spent answering, by route.\n# TYPE tagnet_request_seconds summary\n");
    let mut by_route: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for ((route, _), (n, s)) in &m.requests {
        let e = by_route.entry(route).or_default();
        e.0 += n;
        e.1 += s;
    }
    for (route, (n, s)) in by_route {
        out.push_str(&format!(
            "tagnet_request_seconds_sum{{route=\"{route}\"}} {s:.6}\ntagnet_request_seconds_count{{route=\"{route}\"}} {n}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP tagnet_snapshot_change_number The changeNumber served.\n# TYPE tagnet_snapshot_change_number gauge\ntagnet_snapshot_change_number{{cloud=\"{}\"}} {}\n",
        cur.info.cloud, cur.info.change_number
    ));
    if let Some(age) = cur
        .info
        .date
        .as_deref()
        .and_then(|d| crate::load::builtin::age_days(d, now()))
    {
        out.push_str(&format!(
            "# HELP tagnet_snapshot_age_days Days since the snapshot was published.\n# TYPE tagnet_snapshot_age_days gauge\ntagnet_snapshot_age_days {age}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP tagnet_reloads_total Snapshots swapped in since start.\n# TYPE tagnet_reloads_total counter\ntagnet_reloads_total {}\n# HELP tagnet_reload_failures_total Snapshots refused (each distinct failure once).\n# TYPE tagnet_reload_failures_total counter\ntagnet_reload_failures_total {}\n",
        m.reloads, m.reload_failures
    ));
    out.push_str(&format!(
        "# HELP tagnet_connection_waits_total Times the accept loop found every connection slot taken (--max-connections); the connections behind it wait in the listen backlog.\n# TYPE tagnet_connection_waits_total counter\ntagnet_connection_waits_total {}\n# HELP tagnet_busy_total Requests turned away (503 busy): their endpoint stayed at --max-concurrent, or the answer memory was in use.\n# TYPE tagnet_busy_total counter\ntagnet_busy_total {}\n# HELP tagnet_write_timeouts_total Connections closed because their client took no byte of its answer within --write-timeout.\n# TYPE tagnet_write_timeouts_total counter\ntagnet_write_timeouts_total {}\n",
        m.connection_waits,
        m.busy,
        app.write_timeouts.load(std::sync::atomic::Ordering::Relaxed)
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
