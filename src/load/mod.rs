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

/// Skips a UTF-8 byte-order mark (Windows editors and PowerShell write one), and refuses
/// UTF-16 (what Windows PowerShell 5.1's `>` writes) with the command that converts it.
///
/// ```
/// let b = tagnet::load::decode_text(b"\xef\xbb\xbf{}".to_vec(), "x").unwrap();
/// assert_eq!(b, b"{}");
/// assert!(tagnet::load::decode_text(b"\xff\xfe{\x00".to_vec(), "x").unwrap_err().to_string().contains("UTF-16"));
/// ```
pub fn decode_text(mut bytes: Vec<u8>, origin: &str) -> Result<Vec<u8>> {
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
        let net = parse_listed_prefix(text).map_err(|reason| Error::InvalidPrefix {
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
    };
    Ok((tag, warnings))
}

/// Parses a prefix as listed in the file: `ADDRESS/LENGTH`, with std's fast address parsers.
/// A bare address is refused here (the published files never contain one, so it signals a
/// damaged file).
pub fn parse_listed_prefix(text: &str) -> std::result::Result<IpNet, String> {
    let t = text.trim();
    let Some(slash) = t.bytes().position(|b| b == b'/') else {
        return Err("no `/LENGTH`".into());
    };
    let (addr, len) = (&t[..slash], &t[slash + 1..]);
    let len_ok = |max: u8| -> std::result::Result<u8, String> {
        match len.parse::<u8>() {
            Ok(l) if l <= max && !len.starts_with('+') => Ok(l),
            _ => Err(format!("length `{len}` is not 0..={max}")),
        }
    };
    if addr.bytes().any(|b| b == b':') {
        let a: std::net::Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv6 address"))?;
        Ok(IpNet::V6(
            ipnet::Ipv6Net::new(a, len_ok(128)?).map_err(|e| e.to_string())?,
        ))
    } else {
        let a: std::net::Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        Ok(IpNet::V4(
            ipnet::Ipv4Net::new(a, len_ok(32)?).map_err(|e| e.to_string())?,
        ))
    }
}

/// Reads an address as people paste it: an IPv6 zone (`fe80::1%eth0`) is dropped and an
/// IPv4-mapped IPv6 address (`::ffff:20.41.5.225`) is the IPv4 address it maps (flagged
/// `true`). The error says what is wrong, e.g. leading zeros.
pub fn parse_address(text: &str) -> std::result::Result<(std::net::IpAddr, bool), String> {
    let t = text.trim();
    let t = match t.split_once('%') {
        Some((addr, _zone)) if addr.contains(':') => addr,
        _ => t,
    };
    match t.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => Ok((std::net::IpAddr::V4(v4), true)),
            None => Ok((std::net::IpAddr::V6(v6), false)),
        },
        Ok(ip) => Ok((ip, false)),
        Err(_) => {
            let parts: Vec<&str> = t.split('.').collect();
            if parts.len() == 4
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                && parts.iter().any(|p| p.len() > 1 && p.starts_with('0'))
            {
                let fixed: Vec<String> = parts
                    .iter()
                    .map(|p| p.trim_start_matches('0'))
                    .map(|p| {
                        if p.is_empty() {
                            "0".into()
                        } else {
                            p.to_string()
                        }
                    })
                    .collect();
                return Err(format!(
                    "leading zeros are ambiguous (some tools read them as octal); write `{}` if decimal was meant",
                    fixed.join(".")
                ));
            }
            if t.contains('/') {
                return Err(format!(
                    "a prefix; look prefixes up as arguments (`tagnet lookup {t}`)"
                ));
            }
            Err("expected IPv4 like 192.0.2.1 or IPv6 like 2001:db8::1".into())
        }
    }
}

/// The value of `text` when it is exactly an IPv4 address in dotted-decimal form (four numbers
/// 0–255, no leading zeros, nothing around them) — the form nearly every line of an address
/// list has, read here without the general parser; `None` for anything else, which
/// [`parse_address`] then reads (and accepts or explains). Where this gives a value, so does
/// `text.parse::<Ipv4Addr>()`, the same one.
#[inline]
pub fn parse_plain_v4(text: &[u8]) -> Option<u32> {
    if !(7..=15).contains(&text.len()) {
        return None;
    }
    let (mut value, mut part, mut digits, mut dots) = (0u32, 0u32, 0u32, 0u32);
    for &b in text {
        if b == b'.' {
            if digits == 0 || part > 255 || dots == 3 {
                return None;
            }
            value = value << 8 | part;
            (part, digits, dots) = (0, 0, dots + 1);
        } else {
            let d = b.wrapping_sub(b'0');
            // A digit after a leading zero, or a fourth digit, is not the plain form.
            if d > 9 || (digits > 0 && part == 0) || digits == 3 {
                return None;
            }
            part = part * 10 + u32::from(d);
            digits += 1;
        }
    }
    if dots != 3 || digits == 0 || part > 255 {
        return None;
    }
    Some(value << 8 | part)
}

/// A line as quoted in a message: at most 100 characters, control characters escaped (`\u{1b}`,
/// `\t`), so that a crafted input cannot send escape sequences to the reader's terminal.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(128));
    for (i, c) in text.chars().enumerate() {
        if i == 100 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn plain_v4_agrees_with_std(
            parts in proptest::collection::vec(("[0-9]{0,4}", proptest::sample::select(vec![".", ".", ".", ":", "", " ", "x"])), 1..6),
        ) {
            let text: String = parts.iter().flat_map(|(d, s)| [d.as_str(), *s]).collect();
            let text = text.trim_end_matches('.').to_string();
            let fast = parse_plain_v4(text.as_bytes());
            let std = text.parse::<std::net::Ipv4Addr>().ok();
            // Where the fast reader answers, std agrees; where std reads the plain form, so
            // does the fast reader.
            proptest::prop_assert_eq!(fast, std.map(u32::from), "{:?}", text);
        }
    }

    #[test]
    fn quoted_lines_escape_control_characters_and_stop_at_100() {
        assert_eq!(quoted("\u{1b}[31mRED\u{7}\0"), "\\u{1b}[31mRED\\u{7}\\u{0}");
        assert_eq!(quoted("a\tb"), "a\\tb");
        assert_eq!(quoted(&"é".repeat(101)), format!("{}…", "é".repeat(100)));
        assert_eq!(quoted(&"x".repeat(100)), "x".repeat(100));
    }

    #[test]
    fn plain_v4_edges() {
        for (t, want) in [
            ("0.0.0.0", Some(0)),
            ("255.255.255.255", Some(u32::MAX)),
            ("10.0.0.1", Some(0x0a00_0001)),
            ("256.0.0.1", None),
            ("1.2.3.04", None),
            ("01.2.3.4", None),
            ("1.2.3", None),
            ("1.2.3.4.5", None),
            ("1..3.4", None),
            (" 1.2.3.4", None),
            ("1.2.3.4 ", None),
            ("1.2.3.", None),
            ("1.2.3.1000", None),
        ] {
            assert_eq!(parse_plain_v4(t.as_bytes()), want, "{t}");
        }
    }

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
