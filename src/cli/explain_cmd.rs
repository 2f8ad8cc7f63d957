//! `explain`, `completions` and `man`.

use super::Status;
use super::args::{CompletionsArgs, ExplainArgs};
use super::render::{self, Format};
use anyhow::Result;
use std::io::Write;

/// `tagnet completions SHELL`: the completion script on standard output.
pub fn completions(a: &CompletionsArgs, out: &mut dyn Write) -> Result<Status> {
    use clap::CommandFactory;
    let mut cmd = super::args::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "tagnet", out);
    Ok(Status::Success)
}

/// `tagnet man [COMMAND…] [--dir DIR]`: tagnet's manual page, a command's, or every page
/// into a folder; the pages the main page names (`tagnet-udr(1)`, …) are the ones written.
pub fn man(a: &super::args::ManArgs, out: &mut dyn Write) -> Result<Status> {
    use clap::CommandFactory;
    let mut cmd = super::args::Cli::command()
        .disable_help_subcommand(true)
        .propagate_version(true);
    cmd.build();
    if let Some(dir) = &a.dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot make the folder `{}`: {e}", dir.display()))?;
        fn each(cmd: &clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                each(sub, dir)?;
            }
            page_of(cmd.clone()).generate_to(dir).map(|_| ())
        }
        each(&cmd, dir)
            .map_err(|e| anyhow::anyhow!("cannot write the pages into `{}`: {e}", dir.display()))?;
        return Ok(Status::Success);
    }
    let mut page = cmd;
    // `tagnet man nsg-verify` (or `tagnet-nsg-verify`, the page's own name) is `nsg verify`.
    let words: Vec<String> = a
        .command
        .iter()
        .flat_map(|w| {
            w.strip_prefix("tagnet-")
                .unwrap_or(w)
                .split('-')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let words: Vec<String> = if words.iter().all(|w| !w.is_empty()) && page_exists(&page, &words) {
        words
    } else {
        a.command.clone()
    };
    let a = super::args::ManArgs {
        command: words,
        ..a.clone()
    };
    let a = &a;
    for (i, name) in a.command.iter().enumerate() {
        let Some(sub) = page.find_subcommand(name).cloned() else {
            let known: Vec<&str> = page.get_subcommands().map(|c| c.get_name()).collect();
            if known.is_empty() {
                anyhow::bail!(
                    "no command `{}`: `{}` has no subcommands; `tagnet man {}` is its page",
                    a.command[..=i].join(" "),
                    a.command[..i].join(" "),
                    a.command[..i].join(" ")
                );
            }
            anyhow::bail!(
                "no command `{}`; the pages are for: {}",
                a.command[..=i].join(" "),
                known.join(", ")
            );
        };
        page = sub;
    }
    page_of(page).render(out)?;
    Ok(Status::Success)
}

/// A command's page, its footer naming tagnet and its version (not the command's name).
fn page_of(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("tagnet {}", env!("CARGO_PKG_VERSION")))
}

/// `tagnet explain [CODE]`: a code's documentation, or every code.
pub fn explain(a: &ExplainArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    let rules: Vec<&tagnet::findings::Rule> = match &a.code {
        None => tagnet::registry(),
        Some(code) => match tagnet::explain(code) {
            Ok(r) => vec![r],
            Err(close) => anyhow::bail!(
                "unknown finding code `{code}`; nearest: {} (`tagnet explain` lists every code)",
                close.join(", ")
            ),
        },
    };
    if format == Format::Table && a.code.is_some() {
        let r = rules[0];
        writeln!(
            out,
            "{} {} ({}, from `tagnet {}`)\n\n{}\n\nWhy it matters\n  {}\n\nExample\n  {}\n\nFix\n  {}",
            r.id, r.code, r.severity, r.source, r.summary, r.why, r.example, r.fix
        )?;
        if !r.reference.is_empty() {
            writeln!(out, "\nSource\n  {}", r.reference)?;
        }
        return Ok(Status::Success);
    }
    render::records(
        out,
        format,
        None,
        &["ID", "CODE", "SEVERITY", "SOURCE", "SUMMARY"],
        &rules,
        |r| {
            vec![
                r.id.to_string(),
                r.code.to_string(),
                r.severity.to_string(),
                r.source.to_string(),
                r.summary.to_string(),
            ]
        },
    )?;
    Ok(Status::Success)
}

/// Whether `words` name a command below `cmd`.
fn page_exists(cmd: &clap::Command, words: &[String]) -> bool {
    let mut c = cmd;
    for w in words {
        match c.find_subcommand(w) {
            Some(sub) => c = sub,
            None => return false,
        }
    }
    true
}
