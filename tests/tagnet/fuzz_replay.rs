//! Replays the kept fuzz corpus of every target on stable, through the very checks the fuzz
//! targets run (`fuzz/harness.rs`): a crash the fuzzer once found stays fixed.

#[path = "../../fuzz/harness.rs"]
mod harness;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let data = std::fs::read(&f).unwrap();
        check(&data);
        // Every prefix of the input too: truncated files are what people send.
        for cut in [data.len() / 3, data.len() / 2, data.len().saturating_sub(1)] {
            check(&data[..cut]);
        }
        n += 1;
    }
    assert!(n > 0, "no corpus for {target}");
}

#[test]
fn snapshot_corpus() {
    replay("snapshot", harness::snapshot);
}

#[test]
fn route_table_corpus() {
    replay("route_table", harness::route_table);
}

#[test]
fn nsg_corpus() {
    replay("nsg", harness::nsg);
}

#[test]
fn check_corpus() {
    replay("check", harness::check);
}

#[test]
fn lines_corpus() {
    replay("lines", harness::lines);
}

#[test]
fn server_corpus() {
    replay("server", harness::server);
}

#[test]
fn flow_logs_corpus() {
    replay("flow_logs", harness::flow_logs);
}

#[test]
fn flow_lines_corpus() {
    replay("flow_lines", harness::flow_lines);
}

#[test]
fn sources_corpus() {
    replay("sources", harness::sources);
}
