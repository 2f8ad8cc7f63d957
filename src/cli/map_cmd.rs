//! `tagnet map`.

use super::Status;
use super::args::MapArgs;
use super::render::Format;
use super::source::Loaded;
use anyhow::Result;
use std::io::Write;

/// `tagnet map`: the picture, SVG (the default) or PNG, on standard output or `-o FILE`.
pub fn map(
    snap: &Loaded,
    a: &MapArgs,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<Status> {
    let cli_name = |f: &str| match f {
        "marks" => "--mark".to_string(),
        "tags" => "--tag".to_string(),
        "skip_bad" => "--skip-bad".to_string(),
        other => format!("--{}", other.replace('_', "-")),
    };
    let err = |e: tagnet::Error| anyhow::anyhow!(e.spelled(&|f: &str| cli_name(f)));
    let picture = if let Some(since) = &a.since {
        let old = super::source::load(Some(since), true, "--since")?;
        if !quiet {
            super::export_cmd::different_clouds(&old.info, &snap.info);
        }
        tagnet::ops::map::change_map((&old.snap, &old.info), (&snap.snap, &snap.info), &a.marks)
            .map_err(err)?
    } else if !a.flows.is_empty() {
        tagnet::ops::map::traffic_map(&a.flows, a.skip_bad, &a.marks).map_err(err)?
    } else {
        let p = tagnet::ops::map::MapParams {
            tags: a.tag_names.clone(),
            region: a.region.clone(),
            marks: a.marks.clone(),
        };
        tagnet::ops::map::map(&snap.snap, &p).map_err(err)?
    };
    match format {
        Format::Png => out.write_all(&picture.png())?,
        _ => out.write_all(picture.svg().as_bytes())?,
    }
    Ok(Status::Success)
}
