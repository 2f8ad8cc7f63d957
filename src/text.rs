//! The text vocabulary: one parser for each kind of text tagnet reads — an address, a prefix
//! (with an explicit host-bit policy), an endpoint `IP[:PORT]` — and the helpers every message
//! uses (`quoted`, `edit_distance`). Every reader (snapshot, NSG, route table, check, flows,
//! the server, Python) goes through these, so an address means the same everywhere.
//!
//! The rules, as documented in the README: an IPv6 zone (`fe80::1%eth0`) is dropped; an
//! IPv4-mapped IPv6 address (`::ffff:20.41.5.225`) is the IPv4 address it maps; leading zeros in
//! a dotted quad are refused (some tools read them as octal); a prefix is `ADDRESS/LENGTH` with
//! a decimal length and no sign.
//!
//! This module imports nothing from the rest of the crate: it is the bottom layer.

use ipnet::IpNet;
use std::net::IpAddr;

/// What to do with a prefix whose host bits are set (`192.0.2.77/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostBits {
    /// Read it as the prefix it lies in (`192.0.2.0/24`), as Azure and the published files do.
    Clear,
    /// Refuse it, naming the canonical form (for inputs where a typo would change the meaning).
    Refuse,
}

/// A prefix, `ADDRESS/LENGTH`, with `policy` deciding what set host bits mean.
///
/// ```
/// use tagnet::text::{prefix, HostBits};
/// assert_eq!(prefix("192.0.2.77/24", HostBits::Clear).unwrap().to_string(), "192.0.2.0/24");
/// assert!(prefix("192.0.2.77/24", HostBits::Refuse).unwrap_err().contains("192.0.2.0/24"));
/// ```
pub fn prefix(text: &str, policy: HostBits) -> Result<IpNet, String> {
    let net = listed_prefix(text)?;
    let canon = net.trunc();
    if canon != net && policy == HostBits::Refuse {
        return Err(format!("host bits are set; write `{canon}`"));
    }
    Ok(canon)
}

/// An address or a prefix: a bare address is its `/32` or `/128` (read by [`address`], so a
/// mapped IPv6 address is its IPv4 one); a prefix is read by [`prefix`] with `policy`.
///
/// ```
/// use tagnet::text::{address_or_prefix, HostBits};
/// assert_eq!(address_or_prefix("10.1.2.3", HostBits::Clear).unwrap().to_string(), "10.1.2.3/32");
/// assert_eq!(address_or_prefix("10.1.2.3/8", HostBits::Clear).unwrap().to_string(), "10.0.0.0/8");
/// ```
pub fn address_or_prefix(text: &str, policy: HostBits) -> Result<IpNet, String> {
    if text.contains('/') {
        prefix(text, policy)
    } else {
        address(text).map(|(ip, _)| IpNet::from(ip))
    }
}

/// An endpoint: `IP`, `IP:PORT` or `[IPv6]:PORT` (a bare IPv6 address has no port). The
/// address is read by [`address`].
///
/// ```
/// use tagnet::text::endpoint;
/// assert_eq!(endpoint("20.38.98.100:443").unwrap(), ("20.38.98.100".parse().unwrap(), Some(443)));
/// assert_eq!(endpoint("[2001:db8::1]:22").unwrap(), ("2001:db8::1".parse().unwrap(), Some(22)));
/// assert_eq!(endpoint("2001:db8::1").unwrap().1, None);
/// ```
pub fn endpoint(text: &str) -> Result<(IpAddr, Option<u16>), String> {
    let t = text.trim();
    let bad = || "expected IP, IP:PORT or [IPv6]:PORT".to_string();
    let (ip, port) = if let Some(rest) = t.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (ip, None),
            a => (ip, Some(a.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else if t.matches(':').count() == 1 {
        let (ip, p) = t.split_once(':').expect("one colon");
        (ip, Some(p))
    } else {
        (t, None)
    };
    let ip = address(ip).map_err(|_| bad())?.0;
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|_| !p.starts_with('+'))
                .ok_or_else(|| format!("port `{}` is not 0–65535", quoted(p)))?,
        ),
        None => None,
    };
    Ok((ip, port))
}

/// Levenshtein distance over characters: how suggestions ("did you mean …?") are ranked.
///
/// ```
/// assert_eq!(tagnet::text::edit_distance("Storag", "Storage"), 1);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Parses a prefix as listed in the file: `ADDRESS/LENGTH`, with std's fast address parsers.
/// A bare address is refused here (the published files never contain one, so it signals a
/// damaged file).
pub fn listed_prefix(text: &str) -> std::result::Result<IpNet, String> {
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

/// Reads an address as people paste it: an IPv6 address may stand in brackets
/// (`[2001:db8::1]`, as in a URL), an IPv6 zone (`fe80::1%eth0`) is dropped and an IPv4-mapped
/// IPv6 address (`::ffff:20.41.5.225`) is the IPv4 address it maps (flagged `true`). The error
/// says what is wrong, e.g. leading zeros.
pub fn address(text: &str) -> std::result::Result<(std::net::IpAddr, bool), String> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .filter(|x| x.contains(':'))
        .unwrap_or(t);
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
            // `20.38.98.100:443`, `[2001:db8::1]:443`: an endpoint where an address belongs.
            // (Only text with one colon or a bracket goes there: its address part has none,
            // so this never comes back here.)
            if (t.starts_with('[') || t.matches(':').count() == 1)
                && let Ok((ip, Some(port))) = endpoint(t)
            {
                return Err(format!(
                    "an address with a port (`:{port}`); give the address alone: `{ip}`"
                ));
            }
            Err("expected IPv4 like 192.0.2.1 or IPv6 like 2001:db8::1".into())
        }
    }
}

/// The value of `text` when it is exactly an IPv4 address in dotted-decimal form (four numbers
/// 0–255, no leading zeros, nothing around them) — the form nearly every line of an address
/// list has, read here without the general parser; `None` for anything else, which
/// [`address`] then reads (and accepts or explains). Where this gives a value, so does
/// `text.parse::<Ipv4Addr>()`, the same one.
#[inline]
pub fn plain_v4(text: &[u8]) -> Option<u32> {
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

/// [`address`] for machine-written text read in bulk (flow logs, Arrow columns): a dotted
/// quad takes a fast path, anything else is read by [`address`]'s rules (`None` where it
/// refuses). A property test holds the two equal.
pub fn address_fast(b: &[u8]) -> Option<std::net::IpAddr> {
    match plain_v4(b) {
        Some(v) => Some(std::net::IpAddr::V4(v.into())),
        None => address(std::str::from_utf8(b).ok()?).ok().map(|a| a.0),
    }
}

/// A stable 64-bit FNV-1a digest of `parts`, each closed by `0xff` (a byte no UTF-8 text
/// holds, so `["ab", ""]` and `["a", "b"]` differ): the same on every run and machine, as
/// `DefaultHasher` is not. For fingerprints and check digits, not for security.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
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
            let fast = plain_v4(text.as_bytes());
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
            assert_eq!(plain_v4(t.as_bytes()), want, "{t}");
        }
    }

    #[test]
    fn endpoints() {
        assert!(endpoint("1.2.3.4:99999").is_err());
        assert!(endpoint("1.2.3.4:+1").is_err());
        assert!(endpoint("[2001:db8::1]x").is_err());
        assert_eq!(endpoint("[2001:db8::1]").unwrap().1, None);
        assert_eq!(
            endpoint("::ffff:10.0.0.1").unwrap().0,
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert!(endpoint("010.0.0.1:80").is_err());
    }

    #[test]
    fn host_bit_policies() {
        assert_eq!(
            prefix("10.0.0.0/8", HostBits::Refuse).unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(prefix("10.0.0.0/33", HostBits::Clear).is_err());
        assert!(prefix("10.0.0.0", HostBits::Clear).is_err());
        assert!(address_or_prefix("10.1.0.0/8", HostBits::Refuse).is_err());
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("é", "e"), 1);
    }

    #[test]
    fn the_fast_reader_is_the_address_reader() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases: 20_000,
            failure_persistence: None,
            ..Default::default()
        });
        runner
            .run(&"[0-9.]{1,16}|[0-9a-f:.]{2,20}|::ffff:[0-9.]{7,15}", |s| {
                prop_assert_eq!(
                    address_fast(s.as_bytes()),
                    address(&s).ok().map(|a| a.0),
                    "{}",
                    s
                );
                Ok(())
            })
            .unwrap();
        for s in [
            "1.2.3.4",
            "255.255.255.255",
            "0.0.0.0",
            "01.2.3.4",
            "1.2.3.256",
            "1.2.3",
            "1..2.3",
            "::ffff:1.2.3.4",
            "2001:db8::1",
        ] {
            assert_eq!(
                address_fast(s.as_bytes()),
                address(s).ok().map(|a| a.0),
                "{s}"
            );
        }
    }
}
