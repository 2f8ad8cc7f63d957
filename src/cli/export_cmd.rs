//! `export`: a selection of tags as firewall objects ([`tagnet::ops::export`]).

use super::Status;
use super::args::ExportArgs;
use super::render::Format;
use super::source::{Extra, Loaded};
use anyhow::{Result, bail};
use std::io::Write;
use tagnet::ops::export::{self, ExportParams, Target};

pub fn export(
    snap: &Loaded,
    extra: &Extra,
    a: &ExportArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    if format != Format::Table {
        bail!(
            "--format {}: export writes the format --as names ({})",
            format.name(),
            Target::NAMES.join(", ")
        );
    }
    let Some(target) = Target::parse(&a.target) else {
        bail!("--as `{}`: one of {}", a.target, Target::NAMES.join(", "));
    };
    let params = ExportParams {
        tags: a.selection.clone(),
        region: a.region.clone(),
        max: a.max,
        name: a.name.clone(),
        target: a.target.clone(),
    };
    let sel = export::select(snap, &params)?;
    let old = match &a.since {
        None => None,
        Some(spec) => {
            let old = super::source::load_with(Some(spec), extra, true)?;
            let before = export::select_earlier(&old, &params)?;
            Some((old, before))
        }
    };
    let text = export::render(
        target,
        &sel,
        &snap.info,
        old.as_ref().map(|(o, s)| (s, &o.info)),
    )?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Success)
}
