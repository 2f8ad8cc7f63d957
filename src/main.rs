//! The `tagnet` binary: parse the command line, run, print errors, set the exit status.

mod cli;

use clap::Parser;
use cli::Status;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::args::Cli::try_parse() {
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
        Some(path) => {
            // Into memory, then a temporary file beside the target, renamed over it, and only
            // when the output is a whole answer: a failed or refused run leaves the file as it
            // was.
            let mut buf = Vec::new();
            cli::run(args, &mut buf).and_then(|s| {
                if s.output_complete() {
                    write_atomically(&path, &buf)?;
                } else {
                    eprintln!(
                        "tagnet: `{}` left unchanged (nothing was produced)",
                        path.display()
                    );
                }
                Ok(s)
            })
        }
    };
    match result {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("tagnet: error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!("\n  caused by: {cause}"));
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

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`: readers see the
/// old file or the new one, never a half-written one. Keeps an existing file's permissions and
/// writes through a symbolic link to its target.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
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
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if let Ok(meta) = std::fs::metadata(&target) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("writing `{}`", path.display()))
    })
}
