//! The command-line front end: parse, call the library, render.

pub mod args;
mod catalog_cmd;
mod check_cmd;
mod diff_cmd;
mod explain_cmd;
mod export_cmd;
mod fetch_cmd;
mod flows_cmd;
mod flows_verify_cmd;
mod history_cmd;
mod info_cmd;
mod lookup_cmd;
mod lookup_render;
mod map_cmd;
mod nsg_cmd;
mod path_cmd;
pub mod render;
mod routes_cmd;
mod serve_cmd;
pub mod source;

use anyhow::{Result, bail};
use args::{Cli, Command, RoutesCommand};
use std::io::Write;
use std::path::Path;

/// `TAGNET_TIMINGS=1`: where the time of a run goes, phase by phase, on stderr.
pub fn timed<T>(phase: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    timing(phase, start.elapsed());
    out
}

/// Reports one phase's time when `TAGNET_TIMINGS` is set.
pub fn timing(phase: &str, took: std::time::Duration) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("TAGNET_TIMINGS").is_some_and(|v| v != "0")) {
        eprintln!(
            "tagnet: timing: {phase}: {:.1} ms",
            took.as_secs_f64() * 1e3
        );
    }
}

/// A request field as the command line spells it: `max_routes` → `--max-routes`.
pub fn flag_name(field: &str) -> String {
    match field {
        "regions" => "--region".into(),
        "tags" => "--tag".into(),
        "only_tags" => "--only-tag".into(),
        "asgs" => "--asg".into(),
        // The positional PATHs of the flows commands.
        "flow_logs" => "the flow logs".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// The severity levels of a command: `tagnet.toml` (`--config`, else `./tagnet.toml` when it
/// exists), then the command line's `--deny`, `--warn`, `--allow`.
pub fn severity(
    a: &args::SeverityArgs,
    command: tagnet::findings::severity::Command,
) -> Result<tagnet::findings::severity::Resolved> {
    use tagnet::findings::severity::{Config, Levels};
    let path = a
        .config
        .clone()
        .or_else(|| Some(std::path::PathBuf::from("tagnet.toml")).filter(|p| p.is_file()));
    let file = match &path {
        Some(p) => Config::read(p)?
            .levels(command)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        None => Default::default(),
    };
    let flags = Levels {
        deny: a.deny.clone(),
        warn: a.warn.clone(),
        allow: a.allow.clone(),
    }
    .resolve(&tagnet::registry())
    .map_err(|e| anyhow::anyhow!("--deny/--warn/--allow: {e}"))?;
    Ok(file.then(flags))
}

/// Process exit status: 0 success, 1 negative result, 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The command did what was asked and found something.
    Success,
    /// The command ran and its output is a complete answer, but a negative one (no address
    /// matched, no tag listed, findings to act on). Exit 1; `-o FILE` is written.
    NoMatch,
    /// The command could not produce what was asked (a route set that does not fit). Exit 1;
    /// `-o FILE` is left as it was.
    Refused,
    /// The command could not run. Exit 2.
    Error,
}

impl Status {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::NoMatch | Status::Refused => 1,
            Status::Error => 2,
        }
    }

    /// Whether the output is a whole answer worth writing to `-o FILE`.
    pub fn output_complete(self) -> bool {
        matches!(self, Status::Success | Status::NoMatch)
    }
}

/// A command's name as `--help` and [`args::FORMATS`] give it (`nsg verify`).
fn command_name(c: &Command) -> &'static str {
    use args::{FlowsCommand as F, NsgCommand as N};
    match c {
        Command::Lookup(_) => "lookup",
        Command::Tags(_) => "tags",
        Command::Prefixes(_) => "prefixes",
        Command::Info => "info",
        Command::Regions => "regions",
        Command::Udr(_) => "udr",
        Command::Routes(RoutesCommand::Audit(_)) => "routes audit",
        Command::Path(_) => "path",
        Command::Nsg(N::Verify(_)) => "nsg verify",
        Command::Nsg(N::Require(_)) => "nsg require",
        Command::Nsg(N::Reach(_)) => "nsg reach",
        Command::Nsg(N::Analyze(_)) => "nsg analyze",
        Command::Nsg(N::FromClassbench(_)) => "nsg from-classbench",
        Command::Check(_) => "check",
        Command::Explain(_) => "explain",
        Command::Flows(F::Attribute(_)) => "flows attribute",
        Command::Flows(F::Verify(_)) => "flows verify",
        Command::Flows(F::Synth(_)) => "flows synth",
        Command::Fetch(_) => "fetch",
        Command::Snapshots => "snapshots",
        Command::Diff(_) => "diff",
        Command::Serve(_) => "serve",
        Command::Aggregate(_) => "aggregate",
        Command::Export(_) => "export",
        Command::History(_) => "history",
        Command::Overlaps(_) => "overlaps",
        Command::Completions(_) => "completions",
        Command::Map(_) => "map",
        Command::Man(_) => "man",
    }
}

/// Runs one parsed command line, writing results to `out`.
pub fn run(mut cli: Cli, out: &mut dyn Write) -> Result<Status> {
    let tags_flag = if cli.tags.is_none() {
        "TAGNET_TAGS"
    } else {
        "--tags"
    };
    if cli.tags.is_none() {
        cli.tags = std::env::var_os("TAGNET_TAGS")
            .filter(|v| !v.is_empty())
            .map(Into::into);
    }
    if matches!(cli.command, Command::Serve(_)) && cli.output.is_some() {
        bail!(
            "--output: `serve` answers over HTTP and writes no output file (its log goes to standard error)"
        );
    }
    // `map -o traffic.png` means a PNG, as the file's name says; a name that says the other
    // picture format than --format is refused rather than written wrong.
    if matches!(cli.command, Command::Map(_)) {
        let ext = cli
            .output
            .as_deref()
            .and_then(Path::extension)
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match (cli.format, ext.as_deref()) {
            (render::Format::Table, Some("png")) => cli.format = render::Format::Png,
            (render::Format::Png, Some("svg")) | (render::Format::Svg, Some("png")) => {
                bail!(
                    "-o {}: the name says {} but --format is {}; give the one meant",
                    cli.output.as_deref().map(Path::display).expect("some"),
                    ext.as_deref().unwrap_or_default(),
                    if cli.format == render::Format::Png {
                        "png"
                    } else {
                        "svg"
                    }
                )
            }
            // Another picture's name (`map.jpg`) would hold an SVG or a PNG under it.
            (_, Some(x @ ("jpg" | "jpeg" | "gif" | "webp" | "bmp" | "tif" | "tiff" | "pdf"))) => {
                bail!(
                    "-o {}: `map` writes svg or png, not {x}; name the file .svg or .png",
                    cli.output.as_deref().map(Path::display).expect("some")
                )
            }
            _ => {}
        }
    }
    // `-o routes.json` with a table (or `--format csv -o routes.json`) would fill a file with
    // another format than its name says: refused, naming the formats the name means.
    if !matches!(cli.command, Command::Map(_)) {
        let ext = cli
            .output
            .as_deref()
            .and_then(Path::extension)
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        use render::Format as F;
        let (meant, fits): (&str, &[F]) = match ext.as_deref() {
            Some("json") => ("json (or arm for a template)", &[F::Json, F::Arm, F::Sarif]),
            Some("ndjson" | "jsonl") => ("ndjson", &[F::Ndjson]),
            Some("csv") => ("csv", &[F::Csv]),
            Some("md") => ("markdown", &[F::Markdown]),
            Some("tf") => ("terraform", &[F::Terraform]),
            Some("bicep") => ("bicep", &[F::Bicep]),
            Some("sarif") => ("sarif", &[F::Sarif]),
            Some("sh") => ("az", &[F::Az]),
            Some("svg" | "png") => ("svg or png (of `map`)", &[]),
            _ => ("", &[F::Table]),
        };
        if !meant.is_empty() && !fits.contains(&cli.format) {
            // The other way out: a name that fits what is written (a table has no extension
            // of its own: `.txt`).
            let fitting = match cli.format {
                F::Table => "txt",
                F::Json | F::Arm => "json",
                F::Ndjson => "ndjson",
                F::Csv => "csv",
                F::Markdown => "md",
                F::Terraform => "tf",
                F::Bicep => "bicep",
                F::Sarif => "sarif",
                F::Az => "sh",
                _ => cli.format.name(),
            };
            let out = cli.output.as_deref().expect("some");
            bail!(
                "-o {}: the name says {} but the output is {}; give --format {meant}, or name the file {}",
                out.display(),
                ext.as_deref().unwrap_or_default(),
                cli.format.name(),
                out.with_extension(fitting).display()
            );
        }
    }
    let extra = source::Extra::new(&cli.sources, &cli.custom);
    let snap = || source::load_with(cli.tags.as_deref(), &extra, cli.quiet, tags_flag);

    // The formats each command writes, as its --help lists them (one table, `args::FORMATS`).
    let name = command_name(&cli.command);
    if let Some((_, formats, note)) = args::FORMATS.iter().find(|(n, ..)| *n == name)
        && !formats.contains(&cli.format)
    {
        bail!(
            "--format {}: `{name}` writes {}",
            cli.format.name(),
            args::formats_text(formats, note)
        );
    }
    let deployment_ok = matches!(
        cli.command,
        Command::Udr(_) | Command::Routes(_) | Command::Diff(_)
    );
    if cli.format == render::Format::Sarif
        && !matches!(
            cli.command,
            Command::Nsg(args::NsgCommand::Analyze(_)) | Command::Check(_) | Command::Path(_)
        )
    {
        bail!("--format sarif applies to `nsg analyze`, `check` and `path --profile` only");
    }
    if cli.format.is_image() != matches!(cli.command, Command::Map(_))
        && (cli.format.is_image() || cli.format != render::Format::Table)
    {
        bail!(
            "--format {} applies to {}",
            cli.format.name(),
            if cli.format.is_image() {
                "`map` only"
            } else {
                "other commands: `map` draws svg (the default) or png"
            }
        );
    }
    if cli.format.is_deployment() && !deployment_ok {
        bail!(
            "--format {} applies to `udr`, `routes audit` and `diff` only; use table, json, ndjson, csv or markdown (sarif for `check` and `nsg analyze`)",
            cli.format.name()
        );
    }
    match &cli.command {
        Command::Udr(a) => routes_cmd::udr(&snap()?, a, cli.format, cli.quiet, out),
        Command::Routes(RoutesCommand::Audit(a)) => {
            if a.route_table.as_path() == Path::new("-")
                && cli.tags.as_deref() == Some(Path::new("-"))
            {
                bail!(
                    "--tags and --route-table cannot both read standard input; give one of them a file"
                );
            }
            routes_cmd::audit(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Aggregate(a) => routes_cmd::aggregate(a, cli.format, out, snap),
        Command::Export(a) => export_cmd::export(
            &snap()?,
            cli.tags.as_deref(),
            &extra,
            a,
            (cli.format, cli.quiet),
            out,
        ),
        Command::History(a) => {
            if !cli.sources.is_empty() || !cli.custom.is_empty() {
                eprintln!(
                    "tagnet: note: history reads one source's weeks: Microsoft's (the default) or a provider's cached files (--provider NAME); --source/--custom are not applied"
                );
            }
            history_cmd::history(a, cli.format, out)
        }
        Command::Overlaps(a) => routes_cmd::overlaps(a, cli.format, out),
        Command::Info => info_cmd::info(&snap()?, cli.format, out),
        Command::Map(a) => map_cmd::map(&snap()?, a, cli.format, cli.quiet, out),
        Command::Completions(a) => explain_cmd::completions(a, out),
        Command::Nsg(args::NsgCommand::Verify(a)) => {
            nsg_cmd::verify(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Nsg(args::NsgCommand::Require(a)) => {
            nsg_cmd::require(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Nsg(args::NsgCommand::Reach(a)) => {
            nsg_cmd::reach(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Nsg(args::NsgCommand::Analyze(a)) => {
            nsg_cmd::analyze(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Nsg(args::NsgCommand::FromClassbench(a)) => {
            if !matches!(cli.format, render::Format::Table | render::Format::Json) {
                bail!(
                    "--format {}: from-classbench writes an NSG as JSON (az and REST shape)",
                    cli.format.name()
                );
            }
            nsg_cmd::from_classbench(a, cli.quiet, out)
        }
        Command::Flows(args::FlowsCommand::Attribute(a)) => {
            flows_cmd::attribute(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Flows(args::FlowsCommand::Verify(a)) => {
            flows_verify_cmd::verify(&snap()?, a, cli.format, cli.quiet, out)
        }
        Command::Flows(args::FlowsCommand::Synth(a)) => {
            flows_cmd::synth(&snap()?.snap, a, cli.quiet, out)
        }
        Command::Fetch(a) => fetch_cmd::fetch(a, cli.offline, cli.format, out),
        Command::Snapshots => fetch_cmd::snapshots(cli.format, out),
        Command::Diff(a) => diff_cmd::diff(a, cli.format, cli.quiet, out),
        Command::Man(a) => explain_cmd::man(a, out),
        Command::Regions => info_cmd::regions(&snap()?, cli.format, out),
        Command::Explain(a) => explain_cmd::explain(a, cli.format, out),
        Command::Check(a) => check_cmd::check(&snap()?, a, cli.format, out),
        Command::Path(a) => path_cmd::path(&snap()?, a, cli.format, cli.quiet, out),
        Command::Serve(a) => serve_cmd::serve(
            cli.tags.clone(),
            extra.named_only(),
            cli.offline,
            cli.quiet,
            a,
        ),
        Command::Tags(a) => catalog_cmd::tags(&snap()?, a, cli.format, out),
        Command::Prefixes(a) => catalog_cmd::prefixes(&snap()?, a, cli.format, out),
        Command::Lookup(a) => {
            if a.input.as_deref() == Some(Path::new("-"))
                && cli.tags.as_deref() == Some(Path::new("-"))
            {
                bail!(
                    "--tags and --input cannot both read standard input; give one of them a file"
                );
            }
            if a.input.is_none() && a.addresses.is_empty() {
                use std::io::IsTerminal;
                if std::io::stdin().is_terminal() {
                    bail!(
                        "no addresses: give them as arguments, or --input FILE (or `-` for standard input)"
                    );
                }
                let mut from_stdin = a.clone();
                from_stdin.input = Some("-".into());
                return lookup_cmd::lookup(snap, &from_stdin, cli.format, out);
            }
            if a.addresses.iter().any(|x| x.contains('/')) {
                return lookup_cmd::lookup_prefixes(&snap()?, a, cli.format, out);
            }
            lookup_cmd::lookup(snap, a, cli.format, out)
        }
    }
}
