//! The `tagnet` binary: parse the command line, run, print errors, set the exit status.

mod cli;

use cli::Status;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let parsed = cli::args::command()
        .try_get_matches()
        .and_then(|m| <cli::args::Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Status::Error.code()
            } else {
                0
            });
        }
    };
    let result = match args.output.clone().filter(|p| p.as_os_str() != "-") {
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            cli::run(args, &mut out).and_then(|s| out.flush().map(|_| s).map_err(Into::into))
        }
        Some(path) => match std::fs::metadata(&path) {
            // A device, FIFO or terminal (`/dev/null`, `/dev/stdout`, a pipe): written straight
            // to, never replaced by a file.
            Ok(m) if !m.file_type().is_file() && !m.is_dir() => {
                match std::fs::OpenOptions::new().write(true).open(&path) {
                    Ok(f) => {
                        let mut out = BufWriter::with_capacity(1 << 20, f);
                        cli::run(args, &mut out)
                            .and_then(|s| out.flush().map(|_| s).map_err(Into::into))
                    }
                    Err(e) => {
                        Err(anyhow::Error::new(e).context(format!("writing `{}`", path.display())))
                    }
                }
            }
            // A file: streamed into a temporary file beside it, renamed over it only when the
            // output is a whole answer; a failed or refused run leaves the file as it was.
            _ => write_atomically(&path, |out| cli::run(args, out)),
        },
    };
    match result {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // The library names request fields (`max_routes`); the command line spells them
            // as flags (`--max-routes`).
            let text =
                |c: &(dyn std::error::Error + 'static)| match c.downcast_ref::<tagnet::Error>() {
                    Some(t) => t.spelled(&cli::flag_name),
                    None => c.to_string(),
                };
            let mut chain = e.chain();
            let mut msg = format!(
                "tagnet: error: {}",
                chain.next().map(text).unwrap_or_default()
            );
            for cause in chain {
                msg.push_str(&format!("\n  caused by: {}", text(cause)));
            }
            eprintln!("{msg}");
            ExitCode::from(Status::Error.code())
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Follows symbolic links to the file they name (which may not exist yet), so that writing
/// replaces the target and leaves the link in place.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Streams `run`'s output into a temporary file beside `path` and renames it over `path` when
/// the run's output is complete: readers see the old file or the new one, never a half-written
/// one, and the output never sits in memory whole. Keeps an existing file's permissions and
/// writes through a symbolic link to its target.
fn write_atomically(
    path: &Path,
    run: impl FnOnce(&mut dyn Write) -> anyhow::Result<Status>,
) -> anyhow::Result<Status> {
    use anyhow::Context;
    let target = resolve_links(path).with_context(|| format!("writing `{}`", path.display()))?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .context("--output needs a file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tagnet-{}", std::process::id()));
    let wrap =
        |e: std::io::Error| anyhow::Error::new(e).context(format!("writing `{}`", path.display()));
    let file = std::fs::File::create(&tmp).map_err(wrap)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let status = match run(&mut out) {
        Ok(s) => s,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if !status.output_complete() {
        drop(out);
        let _ = std::fs::remove_file(&tmp);
        eprintln!(
            "tagnet: `{}` left unchanged (nothing was produced)",
            path.display()
        );
        return Ok(status);
    }
    let finish = || -> std::io::Result<()> {
        let f = out.into_inner().map_err(|e| e.into_error())?;
        if let Ok(meta) = std::fs::metadata(&target) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    };
    finish().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        wrap(e)
    })?;
    Ok(status)
}
