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
    // Each command completes `--format` with the formats it writes (`args::FORMATS`), not
    // every format: the global option is propagated first, then narrowed per command.
    cmd.build();
    for (name, formats, _) in super::args::FORMATS {
        let names: Vec<&'static str> = formats.iter().map(|f| f.name()).collect();
        cmd = offer(cmd, name, "format", names);
    }
    // `--profile` completes to the profile names of the command: requirement profiles
    // (`data/nsg-profiles.json`), route profiles, or both for `diff` (validation is the
    // command's own, case-insensitive; this narrows only what the shell offers).
    let leak = |n: String| -> &'static str { Box::leak(n.into_boxed_str()) };
    let nsg: Vec<&'static str> = tagnet::nsg::reach::profiles()
        .into_iter()
        .map(|p| leak(p.name))
        .collect();
    let udr: Vec<&'static str> = tagnet::routes::profiles()
        .into_iter()
        .map(|p| leak(p.name))
        .collect();
    let mut both = nsg.clone();
    both.extend(udr.iter().filter(|n| !nsg.contains(n)));
    let targets: Vec<&'static str> = tagnet::ops::export::Target::NAMES.to_vec();
    for (name, arg, names) in [
        ("nsg require", "profile", &nsg),
        ("flows verify", "profile", &nsg),
        ("path", "profile", &nsg),
        ("check", "profile", &nsg),
        ("check", "udr_profile", &udr),
        ("flows attribute", "profile", &udr),
        ("diff", "profile", &both),
        ("export", "target", &targets),
    ] {
        cmd = offer(cmd, name, arg, names.clone());
    }
    clap_complete::generate(a.shell, &mut cmd, "tagnet", out);
    Ok(Status::Success)
}

/// The command `name` (`nsg verify`) of `cmd` with its option `arg` completing to `names`
/// (what the shell offers; the option's own parsing is unchanged for a run).
fn offer(cmd: clap::Command, name: &str, arg: &str, names: Vec<&'static str>) -> clap::Command {
    let narrow = |c: clap::Command| {
        c.mut_arg(arg, |a| {
            a.value_parser(clap::builder::PossibleValuesParser::new(names.clone()))
        })
    };
    let mut words = name.split(' ');
    let first = words.next().unwrap_or_default();
    match words.next() {
        None => cmd.mut_subcommand(first, narrow),
        Some(second) => cmd.mut_subcommand(first, |c| c.mut_subcommand(second, narrow)),
    }
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

/// A command's page, its footer naming tagnet and its version (not the command's name); a
/// command without subcommands shows each option's value in its synopsis
/// (`--region <REGION>`, not `--region` alone).
fn page_of(cmd: clap::Command) -> clap_mangen::Man {
    let cmd = if cmd.has_subcommands() {
        cmd
    } else {
        let usage = synopsis(&cmd);
        cmd.override_usage(usage)
    };
    clap_mangen::Man::new(cmd).source(format!("tagnet {}", env!("CARGO_PKG_VERSION")))
}

/// `tagnet udr --region <REGION> [--paired] [--tags <FILE>] …`: required options first, then
/// the others, then the positionals, each with its value's name.
fn synopsis(cmd: &clap::Command) -> String {
    use clap::ArgAction;
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let value = |a: &clap::Arg| -> String {
        let names = a
            .get_value_names()
            .map(|v| {
                v.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| a.get_id().as_str().to_ascii_uppercase());
        let many = matches!(a.get_action(), ArgAction::Append)
            || a.get_num_args().is_some_and(|n| n.max_values() > 1);
        format!("<{names}>{}", if many { "..." } else { "" })
    };
    let mut required = Vec::new();
    let mut optional = Vec::new();
    let mut positionals = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if a.is_positional() {
            let v = value(a);
            positionals.push(if a.is_required_set() {
                v
            } else {
                format!("[{v}]")
            });
            continue;
        }
        let flag = match (a.get_short(), a.get_long()) {
            (Some(s), Some(l)) => format!("-{s}|--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        let takes = a.get_action().takes_values();
        let text = if takes {
            format!("{flag} {}", value(a))
        } else {
            flag
        };
        if a.is_required_set() {
            required.push(text);
        } else {
            optional.push(format!("[{text}]"));
        }
    }
    let mut words = vec![name.to_string()];
    words.extend(required);
    words.extend(optional);
    words.extend(positionals);
    words.join(" ")
}

/// `tagnet explain [CODE]`: a code's documentation, or every code.
pub fn explain(a: &ExplainArgs, format: Format, out: &mut dyn Write) -> Result<Status> {
    let rules: Vec<&tagnet::findings::Rule> = match &a.code {
        None => tagnet::registry(),
        Some(code) => match tagnet::explain(code) {
            Ok(r) => vec![r],
            Err(close) => anyhow::bail!(
                "unknown finding code `{code}`; nearest: {} (`tagnet explain` lists every code)",
                close
                    .iter()
                    .filter_map(|c| tagnet::explain(c).ok())
                    .map(|r| format!("{} {}", r.id, r.code))
                    .collect::<Vec<_>>()
                    .join(", ")
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
