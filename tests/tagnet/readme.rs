//! The README shows what tagnet prints: every command of it that starts with `$ ` is run (on
//! the built-in snapshot unless it names another, in a folder holding the repository's `data/`) and its output
//! compared with the lines under it. `TAGNET_UPDATE_README=1 cargo test --test tagnet readme`
//! writes the real outputs into the README instead (review the diff).

use std::path::PathBuf;

/// One `$ command` of the README and the lines it is said to print (`...` as the last line:
/// only the lines before it are compared).
struct Example {
    command: String,
    /// Line numbers (0-based) of the expected output in the README.
    lines: std::ops::Range<usize>,
    truncated: bool,
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut in_block = false;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("```") {
            in_block = !in_block;
            i += 1;
            continue;
        }
        if in_block && let Some(cmd) = l.strip_prefix("$ ") {
            let start = i + 1;
            let mut end = start;
            while end < lines.len()
                && !lines[end].starts_with("$ ")
                && !lines[end].starts_with("```")
            {
                end += 1;
            }
            let truncated = end > start && lines[end - 1] == "...";
            out.push(Example {
                command: cmd.to_string(),
                lines: start..if truncated { end - 1 } else { end },
                truncated,
            });
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// What a command prints: standard output, then standard error without the snapshot's age
/// warnings (they depend on today's date).
fn run(command: &str, cache: &std::path::Path, work: &std::path::Path) -> Vec<String> {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tagnet"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(work)
        .env("PATH", path)
        .env_remove("TAGNET_TAGS")
        .env("TAGNET_CACHE", cache)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut lines: Vec<String> = stdout.lines().map(|l| l.trim_end().to_string()).collect();
    lines.extend(
        stderr
            .lines()
            .filter(|l| {
                !(l.starts_with("tagnet: warning: the snapshot in use")
                    && l.ends_with("(--quiet hides this)"))
            })
            .map(|l| l.trim_end().to_string()),
    );
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

#[test]
#[cfg_attr(not(unix), ignore = "runs the README's commands with sh")]
fn the_readme_shows_what_tagnet_prints() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A folder of its own with the repository's `data/` in it: what a command writes
    // (`-o map.png`) lands there, not in the checkout.
    let work = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"),
        work.path().join("data"),
    )
    .unwrap();
    let examples = examples(&readme);
    assert!(
        examples.len() >= 15,
        "only {} examples found",
        examples.len()
    );
    let lines: Vec<&str> = readme.lines().collect();
    let update = std::env::var_os("TAGNET_UPDATE_README").is_some();
    let mut failures = Vec::new();
    // (range in the README, replacement lines) for the update.
    let mut edits: Vec<(std::ops::Range<usize>, Vec<String>)> = Vec::new();
    for ex in &examples {
        let got = run(&ex.command, cache.path(), work.path());
        let want: Vec<String> = lines[ex.lines.clone()]
            .iter()
            .map(|l| l.trim_end().to_string())
            .collect();
        let shown: Vec<String> = if ex.truncated {
            got.iter().take(want.len().max(1)).cloned().collect()
        } else {
            got.clone()
        };
        if update {
            edits.push((ex.lines.clone(), shown));
            continue;
        }
        let same = if ex.truncated {
            got.len() >= want.len() && got[..want.len()] == want[..]
        } else {
            got == want
        };
        if !same {
            failures.push(format!(
                "$ {}\n--- the README says:\n{}\n--- tagnet prints:\n{}",
                ex.command,
                want.join("\n"),
                got.join("\n")
            ));
        }
    }
    if update {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for (range, new) in edits.into_iter().rev() {
            out.splice(range, new);
        }
        std::fs::write(&path, out.join("\n") + "\n").unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "{} README example(s) differ (TAGNET_UPDATE_README=1 rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The README's table of `check` rules names every code `check` reports (a code added without
/// its row is how TN053 went missing).
#[test]
fn the_readme_names_every_check_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let missing: Vec<&str> = tagnet::findings::Code::ALL
        .iter()
        .map(|c| c.rule())
        .filter(|r| r.source == "check" && r.id.starts_with("TN0"))
        .filter(|r| !readme.contains(r.code))
        .map(|r| r.id)
        .collect();
    assert!(
        missing.is_empty(),
        "not in the README's rule table: {missing:?}"
    );
}
