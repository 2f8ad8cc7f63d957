//! `tags` and `prefixes`: [`tagnet::ops::catalog`] rendered.

use super::Status;
use super::args::{PrefixesArgs, TagsArgs};
use super::render::{self, Format};
use anyhow::Result;
use ipnet::IpNet;
use serde::Serialize;
use std::io::Write;

pub fn tags(
    snap: &super::source::Loaded,
    a: &TagsArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    let params = tagnet::ops::catalog::TagsParams {
        region: a.region.clone(),
        service: a.service.clone(),
        feature: a.feature.clone(),
        name: a.name.clone(),
    };
    let recs = tagnet::ops::catalog::tags(snap, &params)?;
    tagnet::render::rows(out, format, Some(&snap.info), &recs)?;
    Ok(if recs.is_empty() {
        eprintln!(
            "tagnet: no tag matches (exit 1); `tagnet tags` lists every tag, --name takes globs such as 'Storage.*'"
        );
        Status::NoMatch
    } else {
        Status::Success
    })
}

pub fn prefixes(
    snap: &super::source::Loaded,
    a: &PrefixesArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    use tagnet::ops::catalog::{Family, PrefixesParams};
    let params = PrefixesParams {
        tags: a.tag_names.clone(),
        region: a.region.clone(),
        family: match (a.ipv4, a.ipv6) {
            (true, false) => Family::V4,
            (false, true) => Family::V6,
            _ => Family::Any,
        },
        aggregate: a.aggregate,
        minus: a.minus.clone(),
        intersect: a.intersect.clone(),
    };
    let report = tagnet::ops::catalog::prefixes(snap, &snap.info, &params)?;
    let empty = report.prefixes.is_empty();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        _ => {
            #[derive(Serialize)]
            struct Row {
                prefix: IpNet,
            }
            let rows: Vec<Row> = report
                .prefixes
                .iter()
                .map(|&prefix| Row { prefix })
                .collect();
            render::records(out, format, Some(&snap.info), &["PREFIX"], &rows, |r| {
                vec![r.prefix.to_string()]
            })?;
        }
    }
    Ok(if empty {
        Status::NoMatch
    } else {
        Status::Success
    })
}
