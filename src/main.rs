//! The `tagnet` binary: parse the command line, run, print errors, set the exit status.

mod cli;

use clap::Parser;
use cli::Status;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::args::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Status::Error as u8
            } else {
                0
            });
        }
    };
    let result = match args.output.clone() {
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            cli::run(args, &mut out).and_then(|s| out.flush().map(|_| s).map_err(Into::into))
        }
        Some(path) => {
            // Into memory, then a temporary file beside the target, renamed over it: a failed
            // run leaves no half-written output.
            let mut buf = Vec::new();
            cli::run(args, &mut buf).and_then(|s| write_atomically(&path, &buf).map(|_| s))
        }
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = format!("tagnet: error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(Status::Error as u8)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .context("--output needs a file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tagnet-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("writing `{}`", path.display()))
    })
}
