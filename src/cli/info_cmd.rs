//! `info` and `regions`: what the snapshot holds.

use super::Status;
use super::render::{self, Format};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use tagnet::TagIndex;

#[derive(Serialize)]
struct InfoRecord<'a> {
    source: String,
    cloud: &'a str,
    change_number: u64,
    format: tagnet::snapshot::SourceFormat,
    tags: usize,
    regional_tags: usize,
    cloud_wide_tags: usize,
    regions: usize,
    ipv4_prefixes: usize,
    ipv6_prefixes: usize,
    distinct_ipv4_prefixes: usize,
    distinct_ipv6_prefixes: usize,
    warnings: &'a [tagnet::snapshot::Warning],
    snapshot: &'a super::source::SnapshotInfo,
}

pub fn info(snap: &super::source::Loaded, format: Format, out: &mut dyn Write) -> Result<Status> {
    let index = TagIndex::build(snap);
    let (d4, d6) = index.distinct_prefixes();
    let regional = snap.tags().iter().filter(|t| t.is_regional()).count();
    let rec = InfoRecord {
        source: snap.info.source.clone(),
        cloud: snap.cloud(),
        change_number: snap.change_number(),
        format: snap.format(),
        tags: snap.tags().len(),
        regional_tags: regional,
        cloud_wide_tags: snap.tags().len() - regional,
        regions: snap.regions().count(),
        ipv4_prefixes: snap.tags().iter().map(|t| t.v4().len()).sum(),
        ipv6_prefixes: snap.tags().iter().map(|t| t.v6().len()).sum(),
        distinct_ipv4_prefixes: d4,
        distinct_ipv6_prefixes: d6,
        warnings: snap.warnings(),
        snapshot: &snap.info,
    };
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &rec)?;
        writeln!(out)?;
        return Ok(Status::Success);
    }
    let headers = [
        "SOURCE",
        "CLOUD",
        "CHANGE",
        "FORMAT",
        "TAGS",
        "REGIONAL",
        "CLOUD_WIDE",
        "REGIONS",
        "IPV4",
        "IPV6",
        "DISTINCT_IPV4",
        "DISTINCT_IPV6",
        "WARNINGS",
    ];
    let cells = |r: &InfoRecord| {
        vec![
            r.source.clone(),
            r.cloud.to_string(),
            r.change_number.to_string(),
            serde_json::to_value(r.format)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            r.tags.to_string(),
            r.regional_tags.to_string(),
            r.cloud_wide_tags.to_string(),
            r.regions.to_string(),
            r.ipv4_prefixes.to_string(),
            r.ipv6_prefixes.to_string(),
            r.distinct_ipv4_prefixes.to_string(),
            r.distinct_ipv6_prefixes.to_string(),
            r.warnings.len().to_string(),
        ]
    };
    if format == Format::Table {
        // Key/value lines read better than one very wide row.
        let rows: Vec<Vec<String>> = headers
            .iter()
            .zip(cells(&rec))
            .map(|(h, v)| vec![h.to_ascii_lowercase().replace('_', " "), v])
            .collect();
        render::table(out, &["FIELD", "VALUE"], &rows)?;
    } else if format == Format::Ndjson {
        serde_json::to_writer(&mut *out, &rec)?;
        writeln!(out)?;
    } else {
        render::records(
            out,
            format,
            Some(&snap.info),
            &headers,
            std::slice::from_ref(&rec),
            cells,
        )?;
    }
    Ok(Status::Success)
}

/// `tagnet regions`: one row per region code, sorted by code.
pub fn regions(
    snap: &super::source::Loaded,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status> {
    #[derive(Serialize)]
    struct Row<'a> {
        region: &'a str,
        display_name: String,
        spellings: Vec<&'a str>,
        tags: usize,
        ipv4_prefixes: usize,
        ipv6_prefixes: usize,
    }
    let rows: Vec<Row> = snap
        .regions()
        .map(|code| {
            let ids = snap.region_tags(code);
            Row {
                region: code,
                display_name: snap.region_display_name(code),
                spellings: snap.region_aliases(code),
                tags: ids.len(),
                ipv4_prefixes: ids.iter().map(|&i| snap.tag(i).v4().len()).sum(),
                ipv6_prefixes: ids.iter().map(|&i| snap.tag(i).v6().len()).sum(),
            }
        })
        .collect();
    render::records(
        out,
        format,
        Some(&snap.info),
        &[
            "REGION",
            "DISPLAY NAME",
            "SPELLINGS",
            "TAGS",
            "IPV4 PREFIXES",
            "IPV6 PREFIXES",
        ],
        &rows,
        |r| {
            vec![
                r.region.to_string(),
                r.display_name.clone(),
                r.spellings.join(" "),
                r.tags.to_string(),
                r.ipv4_prefixes.to_string(),
                r.ipv6_prefixes.to_string(),
            ]
        },
    )?;
    Ok(if rows.is_empty() {
        Status::NoMatch
    } else {
        Status::Success
    })
}
