//! Loading: bytes → wire types → validated [`Snapshot`].
//!
//! Reads the weekly download file and the Service Tag Discovery API shape (detected from the
//! document itself), for every cloud, with IPv4 and IPv6 prefixes mixed. Validation rules:
//! malformed JSON is an error with line and column; an invalid prefix is an error naming the tag
//! and the text; a prefix with host bits set is canonicalised (host bits cleared) with a warning;
//! a prefix repeated inside one tag is kept once with a warning; duplicate tag names and an empty
//! `values` array are errors. No input makes it panic.

pub mod builtin;
pub mod wire;

use crate::error::{Error, Result};
use crate::snapshot::{Snapshot, SourceFormat, Tag, Warning};
use ipnet::IpNet;
use rayon::prelude::*;
use std::io::Read;
use std::path::Path;

/// Reads and validates a snapshot from a file, or from standard input when `path` is `-`.
///
/// ```no_run
/// let snap = tagnet::load::load_path("ServiceTags_Public_20251110.json".as_ref())?;
/// println!("{} tags", snap.tags().len());
/// # Ok::<(), tagnet::Error>(())
/// ```
pub fn load_path(path: &Path) -> Result<Snapshot> {
    let (bytes, origin) = read_input(path)?;
    from_slice(&bytes, &origin)
}

/// Reads a whole file, or standard input for `-`, returning the bytes and a display name.
pub fn read_input(path: &Path) -> Result<(Vec<u8>, String)> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let (bytes, origin) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(read_err)?;
        (buf, "<stdin>".to_string())
    } else {
        let text = path.to_string_lossy();
        if text.starts_with("http://") || text.starts_with("https://") {
            return Err(Error::Usage(format!(
                "`{text}` is an address on the web, not a file: tagnet reads local files; download it first (for example `curl -fLo tags.json '{text}'`) and pass the file"
            )));
        }
        (
            std::fs::read(path).map_err(read_err)?,
            path.display().to_string(),
        )
    };
    Ok((decode_text(bytes, &origin)?, origin))
}

/// Opens a text input to read as it streams: a file, or standard input for `-`; gzip is
/// decompressed on the way, a UTF-8 byte-order mark skipped, UTF-16 refused (as
/// [`decode_text`] does for whole inputs). Returns the reader and a display name.
pub fn open_text(path: &Path) -> Result<(Box<dyn std::io::BufRead + Send>, String)> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let (raw, origin): (Box<dyn Read + Send>, String) = if path.as_os_str() == "-" {
        (Box::new(std::io::stdin()), "<stdin>".to_string())
    } else {
        (
            Box::new(std::fs::File::open(path).map_err(read_err)?),
            path.display().to_string(),
        )
    };
    open_text_from(raw, origin)
}

/// [`open_text`] of a reader already open (a temporary copy of standard input), named
/// `origin` in messages.
pub fn open_text_from(
    raw: Box<dyn Read + Send>,
    origin: String,
) -> Result<(Box<dyn std::io::BufRead + Send>, String)> {
    use std::io::BufRead;
    let read_err = |source| Error::Read {
        path: origin.clone().into(),
        source,
    };
    let mut r = std::io::BufReader::with_capacity(1 << 16, raw);
    let head = r.fill_buf().map_err(read_err)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut z =
            std::io::BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(r));
        let head = z.fill_buf().map_err(|e| Error::Invalid {
            origin: origin.clone(),
            message: format!("the gzip data cannot be decompressed: {e}"),
            hint: "give a complete .gz, or the text itself".into(),
        })?;
        let skip = text_start(head, &origin)?;
        z.consume(skip);
        return Ok((Box::new(z), origin));
    }
    let skip = text_start(head, &origin)?;
    r.consume(skip);
    Ok((Box::new(r), origin))
}

/// How many bytes of a byte-order mark to skip at the start of a text; UTF-16 is an error.
fn text_start(head: &[u8], origin: &str) -> Result<usize> {
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        return Ok(3);
    }
    // UTF-16 shows in the first bytes: `decode_text` refuses it, naming the fix.
    decode_text_within(head[..head.len().min(4)].to_vec(), origin, 0)?;
    Ok(0)
}

/// Decompresses gzip, skips a UTF-8 byte-order mark (Windows editors and PowerShell write
/// one), and refuses UTF-16 (what Windows PowerShell 5.1's `>` writes) with the command that converts it.
///
/// ```
/// let b = tagnet::load::decode_text(b"\xef\xbb\xbf{}".to_vec(), "x").unwrap();
/// assert_eq!(b, b"{}");
/// assert!(tagnet::load::decode_text(b"\xff\xfe{\x00".to_vec(), "x").unwrap_err().to_string().contains("UTF-16"));
/// ```
pub fn decode_text(bytes: Vec<u8>, origin: &str) -> Result<Vec<u8>> {
    decode_text_within(bytes, origin, 1 << 30)
}

/// [`decode_text`] with at most `max` bytes unpacked from gzip: a body that unpacks to more
/// (a 3 MB gzip of gigabytes of spaces) is refused, naming the limit, rather than read.
pub fn decode_text_within(mut bytes: Vec<u8>, origin: &str, max: usize) -> Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // Gzip (`ServiceTags_Public_….json.gz`, a compressed body): read through, at most
        // `max` bytes out (a snapshot is 4 MB; a bomb is refused).
        use std::io::Read;
        let mut out = Vec::with_capacity((bytes.len() * 8).min(max));
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .take(max as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::Invalid {
                origin: origin.to_string(),
                message: format!("the gzip data cannot be decompressed: {e}"),
                hint: "give the file as downloaded (JSON), or a complete .gz of it".into(),
            })?;
        if out.len() > max {
            return Err(Error::Invalid {
                origin: origin.to_string(),
                message: format!(
                    "the gzip data unpacks to more than {} MiB; a service-tag file is about 4 MB",
                    max >> 20
                ),
                hint: "give the snapshot as downloaded".into(),
            });
        }
        return decode_text_within(out, origin, max);
    }
    if bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
        bytes.drain(..3);
        return Ok(bytes);
    }
    let utf16 = bytes.starts_with(&[0xff, 0xfe])
        || bytes.starts_with(&[0xfe, 0xff])
        || (bytes.len() >= 4 && (bytes[1] == 0 && bytes[3] == 0 || bytes[0] == 0 && bytes[2] == 0));
    if utf16 {
        return Err(Error::Invalid {
            origin: origin.to_string(),
            message: "the file is UTF-16 text (what Windows PowerShell 5.1's `>` writes); tagnet reads UTF-8".into(),
            hint: "convert it: `Get-Content IN | Set-Content -Encoding utf8 OUT` in PowerShell, or `iconv -f UTF-16 -t UTF-8 IN > OUT`; or write it with `| Out-File -Encoding utf8`".into(),
        });
    }
    Ok(bytes)
}

/// Parses and validates a snapshot held in memory. `origin` names it in messages.
///
/// ```
/// let json = br#"{"changeNumber": 7, "cloud": "Public", "values": [
///   {"name": "Example", "id": "Example", "properties": {"changeNumber": 1, "region": "",
///    "regionId": 0, "platform": "Azure", "systemService": "Example",
///    "addressPrefixes": ["192.0.2.0/24", "2001:db8::/32"], "networkFeatures": null}}]}"#;
/// let snap = tagnet::load::from_slice(json, "example.json")?;
/// assert_eq!(snap.change_number(), 7);
/// assert_eq!(snap.tags()[0].v4().len(), 1);
/// # Ok::<(), tagnet::Error>(())
/// ```
pub fn from_slice(bytes: &[u8], origin: &str) -> Result<Snapshot> {
    let doc: wire::Document =
        serde_json::from_slice(bytes).map_err(|e| Error::json(origin, &e, SNAPSHOT_HINT))?;
    validate(doc, origin)
}

/// What a service-tag input should be.
pub const SNAPSHOT_HINT: &str = "expected Microsoft's ServiceTags_<Cloud>_<date>.json download or `az network list-service-tags` output";

/// Turns wire types into a validated [`Snapshot`].
pub fn validate(doc: wire::Document<'_>, origin: &str) -> Result<Snapshot> {
    let invalid = |message: String, hint: &str| Error::Invalid {
        origin: origin.to_string(),
        message,
        hint: hint.to_string(),
    };
    if doc.values.is_empty() {
        return Err(invalid(
            "`values` is empty: the file holds no service tags".into(),
            "the download may have been cut short; fetch the weekly file again",
        ));
    }
    let format = if doc.change_number.was_string
        || doc.kind.is_some()
        || doc.id.is_some()
        || doc.next_link.is_some()
    {
        SourceFormat::DiscoveryApi
    } else {
        SourceFormat::Download
    };

    let paged = doc
        .next_link
        .as_deref()
        .is_some_and(|l| !l.trim().is_empty());
    let checked: Vec<(Tag, Vec<Warning>)> = doc
        .values
        .into_par_iter()
        .enumerate()
        .map(|(i, v)| validate_tag(v, i, origin))
        .collect::<Result<_>>()?;

    let mut warnings = Vec::new();
    let mut tags = Vec::with_capacity(checked.len());
    for (tag, w) in checked {
        warnings.extend(w);
        tags.push(tag);
    }
    tags.par_sort_unstable_by(|a, b| a.name().cmp(b.name()));
    for pair in tags.windows(2) {
        if pair[0].name().eq_ignore_ascii_case(pair[1].name()) {
            return Err(invalid(
                format!(
                    "duplicate tag name `{}`{}",
                    pair[1].name(),
                    if pair[0].name() == pair[1].name() {
                        String::new()
                    } else {
                        format!(" (also written `{}`)", pair[0].name())
                    }
                ),
                "each tag must appear once in `values`; the file may be two snapshots concatenated",
            ));
        }
    }
    if paged {
        warnings.push(Warning {
            code: "one-page-of-several",
            tag: "(document)".into(),
            message: "this Discovery API output has a `nextLink`: it is one page of several, so tags may be missing; fetch every page (follow nextLink) or use the weekly download file".into(),
        });
    }
    warnings.sort_by(|a: &Warning, b: &Warning| (&a.tag, &a.message).cmp(&(&b.tag, &b.message)));
    Ok(Snapshot::new(
        doc.cloud,
        doc.change_number.value,
        format,
        tags,
        warnings,
    ))
}

fn validate_tag(v: wire::Value<'_>, index: usize, origin: &str) -> Result<(Tag, Vec<Warning>)> {
    let name = v.name.trim().to_string();
    if name.is_empty() {
        return Err(Error::Invalid {
            origin: origin.to_string(),
            message: format!("values[{index}] has an empty `name`"),
            hint: "every tag needs a name such as `Storage.WestEurope`".into(),
        });
    }
    let mut warnings = Vec::new();
    if let Some(id) = &v.id
        && id != &name
        && !id.is_empty()
    {
        warnings.push(Warning {
            code: "id-differs-from-name",
            tag: name.clone(),
            message: format!("`id` is `{id}` but `name` is `{name}`; tagnet uses `name`"),
        });
    }
    let p = v.properties;
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for (position, text) in p.address_prefixes.iter().enumerate() {
        let text = &text.0;
        let net = crate::text::listed_prefix(text).map_err(|reason| Error::InvalidPrefix {
            origin: origin.to_string(),
            tag: name.clone(),
            text: text.to_string(),
            position,
            reason,
        })?;
        let canon = net.trunc();
        if canon != net {
            warnings.push(Warning {
                code: "host-bits-set",
                tag: name.clone(),
                message: format!("prefix `{text}` has host bits set; read as `{canon}`"),
            });
        }
        match canon {
            IpNet::V4(n) => v4.push(n),
            IpNet::V6(n) => v6.push(n),
        }
    }
    let before = v4.len() + v6.len();
    v4.sort_unstable();
    v4.dedup();
    v6.sort_unstable();
    v6.dedup();
    let repeated = before - v4.len() - v6.len();
    if repeated > 0 {
        warnings.push(Warning {
            code: "repeated-prefix",
            tag: name.clone(),
            message: format!("{repeated} prefix(es) listed more than once; each is kept once"),
        });
    }
    let features = p.network_features.map(|mut f| {
        f.sort();
        f.dedup();
        f
    });
    let tag = Tag {
        name,
        region: p.region.trim().to_ascii_lowercase(),
        region_id: p.region_id,
        platform: p.platform,
        system_service: p.system_service,
        change_number: p.change_number.map(|c| c.value),
        network_features: features,
        v4,
        v6,
        provider: None,
        description: String::new(),
    };
    Ok((tag, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(values: &str) -> String {
        format!(r#"{{"changeNumber": 3, "cloud": "Public", "values": [{values}]}}"#)
    }
    fn tag(name: &str, prefixes: &str) -> String {
        format!(
            r#"{{"name": "{name}", "id": "{name}", "properties": {{"changeNumber": 1, "region": "",
            "regionId": 0, "platform": "Azure", "systemService": "X", "addressPrefixes": [{prefixes}],
            "networkFeatures": null}}}}"#
        )
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = from_slice(b"{\n  \"changeNumber\": 1,\n  \"cloud\": }", "f.json").unwrap_err();
        match err {
            Error::Json { line, column, .. } => assert_eq!((line, column), (3, 12)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_prefix_names_tag_and_text() {
        let text = doc(&tag("Bad", r#""192.0.2.0/24", "300.1.2.3/8""#));
        let err = from_slice(text.as_bytes(), "f.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`Bad`") && err.contains("`300.1.2.3/8`"),
            "{err}"
        );
        let text = doc(&tag("Bad", r#""192.0.2.0/33""#));
        let err = from_slice(text.as_bytes(), "f.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not 0..=32"), "{err}");
    }

    #[test]
    fn host_bits_are_cleared_with_a_warning() {
        let text = doc(&tag("T", r#""192.0.2.77/24", "2001:db8::1/32""#));
        let snap = from_slice(text.as_bytes(), "f.json").unwrap();
        assert_eq!(snap.tags()[0].v4()[0].to_string(), "192.0.2.0/24");
        assert_eq!(snap.tags()[0].v6()[0].to_string(), "2001:db8::/32");
        assert_eq!(snap.warnings().len(), 2);
        assert!(snap.warnings().iter().all(|w| w.code == "host-bits-set"));
    }

    #[test]
    fn duplicates_and_empty_values_are_errors() {
        let text = doc(&format!("{},{}", tag("A", ""), tag("a", "")));
        let err = from_slice(text.as_bytes(), "f.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate tag name"), "{err}");
        let err = from_slice(doc("").as_bytes(), "f.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`values` is empty"), "{err}");
    }

    #[test]
    fn api_shape_is_detected() {
        let text = r#"{"name": "public", "id": "/subscriptions/x/providers/Microsoft.Network/serviceTags/public",
          "type": "Microsoft.Network/serviceTags", "changeNumber": "63", "cloud": "Public",
          "values": [{"name": "ApiManagement", "id": "ApiManagement", "properties": {"changeNumber": "7",
          "region": "", "systemService": "AzureApiManagement", "addressPrefixes": ["192.0.2.0/24"]}}],
          "nextLink": ""}"#;
        let snap = from_slice(text.as_bytes(), "api.json").unwrap();
        assert_eq!(snap.format(), SourceFormat::DiscoveryApi);
        assert_eq!(snap.change_number(), 63);
        assert_eq!(snap.tags()[0].network_features(), None);
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"\xff\xfe",
            b"{\"values\": 3}",
        ] {
            assert!(from_slice(input, "x").is_err());
        }
    }
}
