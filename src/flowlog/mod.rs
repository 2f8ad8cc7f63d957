//! Azure flow logs: streaming readers ([`read`]) for VNet flow logs (`flowLogVersion` 4) and
//! NSG flow logs (versions 1 and 2), attribution of each tuple's remote address to service tags
//! ([`attribute`]), and re-evaluation of logged flows with the compiled NSG engine ([`verify`]).
//!
//! A tuple is one comma-separated string of Microsoft's format:
//! - VNet flow logs, `records[].flowRecords.flows[].flowGroups[].flowTuples[]`:
//!   `time(ms),src,dst,srcPort,dstPort,protocol(number),I|O,B|C|E|D,encryption,packetsS2D,bytesS2D,packetsD2S,bytesD2S`
//!   (state `D` is a denied flow);
//! - NSG flow logs v2, `records[].properties.flows[].flows[].flowTuples[]`:
//!   `time(s),src,dst,srcPort,dstPort,T|U,I|O,A|D,B|C|E,packetsS2D,bytesS2D,packetsD2S,bytesD2S`
//!   (the counts are empty on `B`);
//! - NSG flow logs v1: the first eight fields of v2.
//!
//! Times are kept in milliseconds since the Unix epoch for both.

pub mod attribute;
pub mod read;
pub mod synth;
pub mod verify;

use crate::nsg::model::{Access, Direction, Protocol};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// Which log a tuple came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    /// VNet flow logs (`flowLogVersion` 4).
    Vnet,
    /// NSG flow logs version 1.
    Nsg1,
    /// NSG flow logs version 2.
    Nsg2,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Vnet => "vnet",
            Kind::Nsg1 => "nsg-v1",
            Kind::Nsg2 => "nsg-v2",
        })
    }
}

/// The state of a flow in a tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    /// `B`: the flow began.
    Begin,
    /// `C`: an ongoing flow, counted every five minutes.
    Continuing,
    /// `E`: the flow ended.
    End,
    /// `D` (VNet flow logs): the flow was denied.
    Denied,
    /// NSG flow logs v1 carry no state.
    None,
}

impl State {
    /// One letter, as logged (empty for none).
    pub fn letter(self) -> &'static str {
        match self {
            State::Begin => "B",
            State::Continuing => "C",
            State::End => "E",
            State::Denied => "D",
            State::None => "",
        }
    }
}

/// The encryption field of VNet flow logs (`X`, `NX`, `NX_HW_NOT_SUPPORTED`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Encryption {
    /// `X`: encrypted.
    Encrypted,
    /// `NX`: not encrypted.
    NotEncrypted,
    /// One of the `NX_…` reasons: not encrypted, for the reason given.
    NotEncryptedReason(EncryptionReason),
    /// NSG flow logs have no such field.
    None,
}

/// Why a flow was not encrypted (VNet encryption's documented values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum EncryptionReason {
    /// `NX_HW_NOT_SUPPORTED`.
    HwNotSupported,
    /// `NX_SW_NOT_READY`.
    SwNotReady,
    /// `NX_NOT_ACCEPTED`.
    NotAccepted,
    /// `NX_NOT_SUPPORTED`.
    NotSupported,
    /// `NX_LOCAL_DST`.
    LocalDst,
    /// `NX_FALLBACK`.
    Fallback,
    /// Another `NX_` value.
    Other,
}

impl Encryption {
    fn parse(text: &str) -> Option<Encryption> {
        Some(match text {
            "X" => Encryption::Encrypted,
            "NX" => Encryption::NotEncrypted,
            "" => Encryption::None,
            t if t.starts_with("NX_") => Encryption::NotEncryptedReason(match &t[3..] {
                "HW_NOT_SUPPORTED" => EncryptionReason::HwNotSupported,
                "SW_NOT_READY" => EncryptionReason::SwNotReady,
                "NOT_ACCEPTED" => EncryptionReason::NotAccepted,
                "NOT_SUPPORTED" => EncryptionReason::NotSupported,
                "LOCAL_DST" => EncryptionReason::LocalDst,
                "FALLBACK" => EncryptionReason::Fallback,
                _ => EncryptionReason::Other,
            }),
            _ => return None,
        })
    }

    /// As logged.
    pub fn text(self) -> &'static str {
        match self {
            Encryption::Encrypted => "X",
            Encryption::NotEncrypted => "NX",
            Encryption::None => "",
            Encryption::NotEncryptedReason(r) => match r {
                EncryptionReason::HwNotSupported => "NX_HW_NOT_SUPPORTED",
                EncryptionReason::SwNotReady => "NX_SW_NOT_READY",
                EncryptionReason::NotAccepted => "NX_NOT_ACCEPTED",
                EncryptionReason::NotSupported => "NX_NOT_SUPPORTED",
                EncryptionReason::LocalDst => "NX_LOCAL_DST",
                EncryptionReason::Fallback => "NX_FALLBACK",
                EncryptionReason::Other => "NX_OTHER",
            },
        }
    }
}

/// One flow tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Tuple {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// IANA protocol number (NSG logs' `T` is 6, `U` is 17).
    pub protocol: u8,
    /// Relative to the logged interface: inbound to it or outbound from it.
    pub direction: Direction,
    /// The logged decision: NSG logs' `A`/`D`; VNet logs' state `D` is a denial.
    pub access: Access,
    /// The flow's state.
    pub state: State,
    /// VNet flow logs' encryption status.
    pub encryption: Encryption,
    /// Packets source to destination.
    pub packets_out: u64,
    /// Bytes source to destination.
    pub bytes_out: u64,
    /// Packets destination to source.
    pub packets_in: u64,
    /// Bytes destination to source.
    pub bytes_in: u64,
    /// The group (rule) it was logged under: an index into its chunk's groups.
    pub group: u32,
}

impl Tuple {
    /// The address on the logged interface's side.
    pub fn local(&self) -> (IpAddr, u16) {
        match self.direction {
            Direction::Inbound => (self.dst, self.dst_port),
            Direction::Outbound => (self.src, self.src_port),
        }
    }

    /// The other end.
    pub fn remote(&self) -> (IpAddr, u16) {
        match self.direction {
            Direction::Inbound => (self.src, self.src_port),
            Direction::Outbound => (self.dst, self.dst_port),
        }
    }

    /// Packets both ways.
    pub fn packets(&self) -> u64 {
        self.packets_out.saturating_add(self.packets_in)
    }

    /// Bytes both ways.
    pub fn bytes(&self) -> u64 {
        self.bytes_out.saturating_add(self.bytes_in)
    }

    /// Whether this tuple opens a flow (counted once per flow): `B`, `D`, or any NSG v1 tuple.
    pub fn opens_flow(&self) -> bool {
        matches!(self.state, State::Begin | State::Denied | State::None)
    }

    /// The protocol as NSG rules name it (`None` for protocols NSGs do not distinguish).
    pub fn nsg_protocol(&self) -> Option<Protocol> {
        protocol_of(self.protocol)
    }

    /// The flow as the NSG engine takes it (`None` for other protocols).
    pub fn flow(&self) -> Option<crate::nsg::model::Flow> {
        let protocol = self.nsg_protocol()?;
        let ((local_ip, local_port), (remote_ip, remote_port)) = (self.local(), self.remote());
        Some(crate::nsg::model::Flow {
            direction: self.direction,
            protocol,
            local_ip,
            local_port: if protocol.has_ports() { local_port } else { 0 },
            remote_ip,
            remote_port: if protocol.has_ports() { remote_port } else { 0 },
        })
    }
}

/// The NSG protocol of an IANA number.
pub fn protocol_of(n: u8) -> Option<Protocol> {
    Some(match n {
        6 => Protocol::Tcp,
        17 => Protocol::Udp,
        1 | 58 => Protocol::Icmp,
        50 => Protocol::Esp,
        51 => Protocol::Ah,
        _ => return None,
    })
}

/// The name of an IANA protocol number, as tagnet prints it.
pub fn protocol_name(n: u8) -> std::borrow::Cow<'static, str> {
    match n {
        6 => "Tcp".into(),
        17 => "Udp".into(),
        1 => "Icmp".into(),
        58 => "Icmpv6".into(),
        50 => "Esp".into(),
        51 => "Ah".into(),
        n => n.to_string().into(),
    }
}

fn count(text: &str, what: &str) -> Result<u64, String> {
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| format!("{what} `{}` is not a count", crate::text::quoted(text)))
}

fn ip(text: &str, what: &str) -> Result<IpAddr, String> {
    crate::text::address_fast(text.as_bytes()).ok_or_else(|| {
        format!(
            "{what} `{}` is not an IP address",
            crate::text::quoted(text)
        )
    })
}

fn port(text: &str, what: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Ok(0);
    }
    text.parse().map_err(|_| {
        format!(
            "{what} `{}` is not a port (0-65535)",
            crate::text::quoted(text)
        )
    })
}

fn direction(text: &str) -> Result<Direction, String> {
    match text {
        "I" => Ok(Direction::Inbound),
        "O" => Ok(Direction::Outbound),
        t => Err(format!("direction `{t}` is neither I nor O")),
    }
}

/// The comma-separated fields of a tuple, without allocating: up to 13, and how many there
/// were (14 means more than 13).
fn fields(text: &str) -> Result<([&str; 13], usize), String> {
    // No field of a real tuple is longer than an IPv6 address; error messages quote fields.
    const LONGEST: usize = 64;
    if text.len() > 14 * (LONGEST + 1) {
        return Err(format!("{} bytes: longer than any flow tuple", text.len()));
    }
    let mut f = [""; 13];
    let mut n = 0;
    let mut start = 0;
    // Fields are a few bytes long: a plain loop beats a vectorised search here.
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if b == b',' {
            if n == 12 {
                return Ok((f, 14));
            }
            // Commas are ASCII: the slice bounds fall on character boundaries.
            f[n] = &text[start..i];
            n += 1;
            start = i + 1;
        }
    }
    f[n] = &text[start..];
    if let Some(long) = f[..=n].iter().position(|x| x.len() > LONGEST) {
        return Err(format!(
            "field {} is {} bytes long: longer than any field of a flow tuple",
            long + 1,
            f[long].len()
        ));
    }
    Ok((f, n + 1))
}

fn same_family(t: Tuple) -> Result<Tuple, String> {
    if t.src.is_ipv4() == t.dst.is_ipv4() {
        Ok(t)
    } else {
        Err(format!(
            "source {} and destination {} are of different families",
            t.src, t.dst
        ))
    }
}

/// Parses one VNet flow-log tuple (13 fields).
pub fn parse_vnet(text: &str, group: u32) -> Result<Tuple, String> {
    if let Some(t) = parse_vnet_fast(text.as_bytes(), group) {
        return Ok(t);
    }
    parse_vnet_fields(text, group).and_then(same_family)
}

/// The common VNet tuple in one pass over its bytes, without cutting it into fields first:
/// numbers of plain digits, IPv4 addresses in the plain dotted form, one-letter direction and
/// state, encryption `X`, `NX` or empty. `None` for anything else (IPv6, `+5`, a 20-digit
/// number, `NX_…`, a missing or extra field), which [`parse_vnet_fields`] then reads or refuses
/// with its reason. Where this gives a tuple, that one gives the same (a property test holds
/// them equal).
#[inline]
fn parse_vnet_fast(b: &[u8], group: u32) -> Option<Tuple> {
    // Digits up to a comma (taken) or, for the last field, the end; at most `max` of them
    // (19 keep a u64 from overflowing), at least one unless `empty` is allowed.
    #[inline(always)]
    fn num(b: &[u8], i: &mut usize, max: usize, empty: bool, last: bool) -> Option<u64> {
        let start = *i;
        let mut v = 0u64;
        while let Some(&c) = b.get(*i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // Wrapping: past `max` digits the value is thrown away below.
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
            *i += 1;
        }
        let len = *i - start;
        if len > max || (len == 0 && !empty) {
            return None;
        }
        if last {
            (*i == b.len()).then_some(v)
        } else {
            (b.get(*i) == Some(&b',')).then(|| {
                *i += 1;
                v
            })
        }
    }
    // A field up to its comma (taken).
    #[inline(always)]
    fn field<'a>(b: &'a [u8], i: &mut usize) -> Option<&'a [u8]> {
        let start = *i;
        let len = b[start..].iter().position(|&c| c == b',')?;
        *i = start + len + 1;
        Some(&b[start..start + len])
    }
    // An IPv4 address in the plain dotted form ([`crate::text::plain_v4`]) up to its comma
    // (taken), read as it goes: no search for the comma first, no second pass.
    #[inline(always)]
    fn v4(b: &[u8], i: &mut usize) -> Option<u32> {
        let mut value = 0u32;
        for end in [b'.', b'.', b'.', b','] {
            let digit = |i: usize| b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9);
            let first = digit(*i)?;
            let mut part = u32::from(first);
            *i += 1;
            if let Some(d) = digit(*i) {
                // A digit after a leading zero is not the plain form.
                if first == 0 {
                    return None;
                }
                part = part * 10 + u32::from(d);
                *i += 1;
                if let Some(d) = digit(*i) {
                    part = part * 10 + u32::from(d);
                    *i += 1;
                }
            }
            if part > 255 || b.get(*i) != Some(&end) {
                return None;
            }
            *i += 1;
            value = value << 8 | part;
        }
        Some(value)
    }
    let i = &mut 0usize;
    let time_ms = num(b, i, 19, false, false)?;
    let src = v4(b, i)?;
    let dst = v4(b, i)?;
    let port = |i: &mut usize| num(b, i, 5, true, false).and_then(|v| u16::try_from(v).ok());
    let src_port = port(i)?;
    let dst_port = port(i)?;
    let protocol = u8::try_from(num(b, i, 3, false, false)?).ok()?;
    let direction = match field(b, i)? {
        b"I" => Direction::Inbound,
        b"O" => Direction::Outbound,
        _ => return None,
    };
    let state = match field(b, i)? {
        b"B" => State::Begin,
        b"C" => State::Continuing,
        b"E" => State::End,
        b"D" => State::Denied,
        _ => return None,
    };
    let encryption = match field(b, i)? {
        b"X" => Encryption::Encrypted,
        b"NX" => Encryption::NotEncrypted,
        b"" => Encryption::None,
        _ => return None,
    };
    Some(Tuple {
        time_ms,
        src: IpAddr::V4(src.into()),
        dst: IpAddr::V4(dst.into()),
        src_port,
        dst_port,
        protocol,
        direction,
        access: if state == State::Denied {
            Access::Deny
        } else {
            Access::Allow
        },
        state,
        encryption,
        packets_out: num(b, i, 19, true, false)?,
        bytes_out: num(b, i, 19, true, false)?,
        packets_in: num(b, i, 19, true, false)?,
        bytes_in: num(b, i, 19, true, true)?,
        group,
    })
}

fn parse_vnet_fields(text: &str, group: u32) -> Result<Tuple, String> {
    let (f, n) = fields(text)?;
    if n != 13 {
        return Err(format!("{n} fields where a VNet flow-log tuple has 13"));
    }
    let state = match f[7] {
        "B" => State::Begin,
        "C" => State::Continuing,
        "E" => State::End,
        "D" => State::Denied,
        t => return Err(format!("flow state `{t}` is none of B, C, E, D")),
    };
    Ok(Tuple {
        time_ms: f[0]
            .parse()
            .map_err(|_| format!("time `{}` is not milliseconds since 1970", f[0]))?,
        src: ip(f[1], "source")?,
        dst: ip(f[2], "destination")?,
        src_port: port(f[3], "source port")?,
        dst_port: port(f[4], "destination port")?,
        protocol: f[5]
            .parse()
            .map_err(|_| format!("protocol `{}` is not a protocol number", f[5]))?,
        direction: direction(f[6])?,
        access: if state == State::Denied {
            Access::Deny
        } else {
            Access::Allow
        },
        state,
        encryption: Encryption::parse(f[8])
            .ok_or_else(|| format!("encryption `{}` is none of X, NX, NX_…", f[8]))?,
        packets_out: count(f[9], "packets source to destination")?,
        bytes_out: count(f[10], "bytes source to destination")?,
        packets_in: count(f[11], "packets destination to source")?,
        bytes_in: count(f[12], "bytes destination to source")?,
        group,
    })
}

/// Parses one NSG flow-log tuple: 8 fields (version 1) or 13 (version 2).
pub fn parse_nsg(text: &str, group: u32) -> Result<(Tuple, Kind), String> {
    let (t, k) = parse_nsg_fields(text, group)?;
    Ok((same_family(t)?, k))
}

fn parse_nsg_fields(text: &str, group: u32) -> Result<(Tuple, Kind), String> {
    let (f, n) = fields(text)?;
    let kind = match n {
        8 => Kind::Nsg1,
        13 => Kind::Nsg2,
        n => {
            return Err(format!(
                "{n} fields where an NSG flow-log tuple has 8 (version 1) or 13 (version 2)"
            ));
        }
    };
    let protocol = match f[5] {
        "T" => 6,
        "U" => 17,
        t => t
            .parse()
            .map_err(|_| format!("protocol `{t}` is neither T nor U"))?,
    };
    let access = match f[7] {
        "A" => Access::Allow,
        "D" => Access::Deny,
        t => return Err(format!("decision `{t}` is neither A nor D")),
    };
    let (state, counts) = if kind == Kind::Nsg2 {
        let s = match f[8] {
            "B" => State::Begin,
            "C" => State::Continuing,
            "E" => State::End,
            t => return Err(format!("flow state `{t}` is none of B, C, E")),
        };
        (
            s,
            [
                count(f[9], "packets source to destination")?,
                count(f[10], "bytes source to destination")?,
                count(f[11], "packets destination to source")?,
                count(f[12], "bytes destination to source")?,
            ],
        )
    } else {
        (State::None, [0; 4])
    };
    let secs: u64 = f[0]
        .parse()
        .map_err(|_| format!("time `{}` is not seconds since 1970", f[0]))?;
    Ok((
        Tuple {
            time_ms: secs.saturating_mul(1000),
            src: ip(f[1], "source")?,
            dst: ip(f[2], "destination")?,
            src_port: port(f[3], "source port")?,
            dst_port: port(f[4], "destination port")?,
            protocol,
            direction: direction(f[6])?,
            access,
            state,
            encryption: Encryption::None,
            packets_out: counts[0],
            bytes_out: counts[1],
            packets_in: counts[2],
            bytes_in: counts[3],
            group,
        },
        kind,
    ))
}

/// Logged rule names as tagnet names them: `UserRule_X` → `securityRules/X`,
/// `DefaultRule_X` → `defaultSecurityRules/X`; any other name (a Virtual Network Manager admin
/// rule) unchanged.
pub fn rule_path(logged: &str) -> String {
    if let Some(n) = logged.strip_prefix("UserRule_") {
        format!("securityRules/{n}")
    } else if let Some(n) = logged.strip_prefix("DefaultRule_") {
        format!("defaultSecurityRules/{n}")
    } else {
        logged.to_string()
    }
}

/// Formats milliseconds since the epoch as RFC 3339 UTC (`2024-05-01T10:00:00.123Z`).
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = crate::load::builtin::civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The one-pass reader of the common VNet tuple against the general one (fields cut, then
    /// each read by its own parser): on tuples made of typical and odd field values (IPv6,
    /// leading zeros, `+`, 20-digit numbers, empty fields, `NX_` reasons, a field too many or
    /// too few), where the fast one answers, the general one gives the same tuple; and on a
    /// plain tuple the fast one does answer.
    #[test]
    fn the_fast_vnet_reader_is_the_general_one() {
        let num = prop::sample::select(vec![
            "0",
            "1",
            "007",
            "65535",
            "65536",
            "255",
            "256",
            "",
            "+5",
            "-1",
            "1663146003599",
            "9999999999999999999",
            "18446744073709551615",
            "99999999999999999999",
            "1a",
        ]);
        let ip = prop::sample::select(vec![
            "10.0.0.6",
            "192.0.2.180",
            "255.255.255.255",
            "1.2.3.04",
            "256.1.1.1",
            "::1",
            "2603:1030::5",
            "::ffff:10.0.0.1",
            "",
            "10.0.0",
            " 10.0.0.6",
            "0.0.0.0",
            "01.2.3.4",
            "1.2.3.1000",
            "1..3.4",
            "1.2.3.",
            "100.64.0.1",
            "9.99.199.249",
            "1.2.3.4.5",
        ]);
        let letter = prop::sample::select(vec!["I", "O", "B", "C", "E", "D", "", "X", "i"]);
        let enc = prop::sample::select(vec!["X", "NX", "", "NX_LOCAL_DST", "NX_WHATEVER", "Y"]);
        let tuple = (
            (
                num.clone(),
                ip.clone(),
                ip,
                num.clone(),
                num.clone(),
                num.clone(),
            ),
            (letter.clone(), letter, enc),
            (num.clone(), num.clone(), num.clone(), num),
            prop::sample::select(vec!["", ",", ",7"]),
        );
        proptest!(ProptestConfig::with_cases(20_000), |(t in tuple)| {
            let ((a, b, c, d, e, f), (g, h, i), (j, k, l, m), extra) = t;
            let text = [a, b, c, d, e, f, g, h, i, j, k, l, m].join(",") + extra;
            if let Some(fast) = parse_vnet_fast(text.as_bytes(), 7) {
                let general = parse_vnet_fields(&text, 7).and_then(same_family);
                prop_assert_eq!(Ok(fast), general, "{}", text);
            }
        });
        let plain = "1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,3,400,2,1000";
        assert_eq!(
            parse_vnet_fast(plain.as_bytes(), 1),
            parse_vnet_fields(plain, 1).ok()
        );
        assert!(parse_vnet_fast(plain.as_bytes(), 1).is_some());
        assert!(parse_vnet_fast(b"1,10.0.0.6,192.0.2.180,,,6,I,D,,,,,", 0).is_some());
    }

    #[test]
    fn vnet_tuple() {
        let t = parse_vnet(
            "1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0",
            3,
        )
        .unwrap();
        assert_eq!(t.remote(), ("192.0.2.180".parse().unwrap(), 443));
        assert_eq!(t.local(), ("10.0.0.6".parse().unwrap(), 23956));
        assert_eq!(
            (t.state, t.access, t.group),
            (State::Begin, Access::Allow, 3)
        );
        let d = parse_vnet("1,10.0.0.6,192.0.2.180,1,2,17,I,D,NX_LOCAL_DST,1,2,3,4", 0).unwrap();
        assert_eq!((d.access, d.bytes(), d.packets()), (Access::Deny, 6, 4));
        assert!(parse_vnet("1,10.0.0.6,192.0.2.180,1,2,17,X,D,NX,1,2,3,4", 0).is_err());
        assert!(parse_vnet("1,10.0.0.6,192.0.2.180,1,2,17,I,D,NX,1,2,3", 0).is_err());
        assert!(parse_vnet("1,10.0.0.999,192.0.2.180,1,2,17,I,D,NX,1,2,3,4", 0).is_err());
    }

    #[test]
    fn nsg_tuples() {
        let (t, k) = parse_nsg(
            "1487978545,185.170.185.105,10.2.0.4,35370,23,T,I,D,B,,,,",
            0,
        )
        .unwrap();
        assert_eq!(
            (k, t.access, t.time_ms),
            (Kind::Nsg2, Access::Deny, 1_487_978_545_000)
        );
        let (t, k) = parse_nsg("1487978545,10.2.0.4,13.67.143.118,44931,443,U,O,A", 0).unwrap();
        assert_eq!((k, t.protocol, t.state), (Kind::Nsg1, 17, State::None));
        assert!(parse_nsg("1487978545,10.2.0.4,13.67.143.118,44931,443,U,O,X", 0).is_err());
    }

    #[test]
    fn times_and_rules() {
        assert_eq!(rfc3339(1_663_146_003_599), "2022-09-14T09:00:03.599Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rule_path("UserRule_Port80"), "securityRules/Port80");
        assert_eq!(
            rule_path("DefaultRule_DenyAllInBound"),
            "defaultSecurityRules/DenyAllInBound"
        );
    }
}
