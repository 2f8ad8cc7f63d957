//! Writing numbers, addresses and times straight into a byte buffer: what bulk rows (a
//! flow-log tuple a row, a verdict a row) spend their time on when written through `fmt`.
//! Each writes exactly what `Display` writes; the tests compare them on random values.

use std::net::IpAddr;

/// Appends the first `len` bytes of `text` (`len <= N`): a copy of a fixed size, which
/// compiles to a few stores with no call to `memcpy`, then a truncation to `len`.
#[inline(always)]
fn push_first<const N: usize>(b: &mut Vec<u8>, text: &[u8; N], len: usize) {
    debug_assert!(len <= N);
    b.extend_from_slice(text);
    b.truncate(b.len() - (N - len));
}

// The digits of a field are gathered in a register, first byte lowest, and stored at once:
// bytes stored one by one into a buffer then read back as one word stall the processor
// (the load cannot be forwarded from the narrow stores).

/// Appends the decimal digits of `n`.
pub fn push_u64(b: &mut Vec<u8>, n: u64) {
    let len = digits(n);
    if len <= 16 {
        let mut v = 0u128;
        let mut m = n;
        for _ in 0..len {
            v = v << 8 | u128::from(b'0' + (m % 10) as u8);
            m /= 10;
        }
        return push_first(b, &v.to_le_bytes(), len);
    }
    let mut d = [0u8; 20];
    let mut m = n;
    for i in (0..len).rev() {
        d[i] = b'0' + (m % 10) as u8;
        m /= 10;
    }
    b.extend_from_slice(&d[..len]);
}

/// How many decimal digits `n` has.
#[inline(always)]
fn digits(n: u64) -> usize {
    if n < 100_000 {
        1 + usize::from(n >= 10)
            + usize::from(n >= 100)
            + usize::from(n >= 1_000)
            + usize::from(n >= 10_000)
    } else {
        n.ilog10() as usize + 1
    }
}

/// Each octet's digits, first digit lowest, and their count in the top byte.
const OCTETS: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut o = 0;
    while o < 256 {
        let (h, d, u) = ((o / 100) as u32, (o / 10 % 10) as u32, (o % 10) as u32);
        t[o] = if o >= 100 {
            (b'0' as u32 + h) | (b'0' as u32 + d) << 8 | (b'0' as u32 + u) << 16 | 3 << 24
        } else if o >= 10 {
            (b'0' as u32 + d) | (b'0' as u32 + u) << 8 | 2 << 24
        } else {
            (b'0' as u32 + u) | 1 << 24
        };
        o += 1;
    }
    t
};

/// Appends an IPv4 prefix as `Display` writes it (`20.38.98.0/24`), by hand.
pub fn push_ipv4_net(b: &mut Vec<u8>, net: ipnet::Ipv4Net) {
    b.reserve(18);
    push_ipv4(b, net.network());
    b.push(b'/');
    push_u64(b, u64::from(net.prefix_len()));
}

/// Appends a dotted quad.
fn push_ipv4(b: &mut Vec<u8>, a: std::net::Ipv4Addr) {
    let mut v = 0u128;
    let mut len = 0;
    for (k, o) in a.octets().into_iter().enumerate() {
        if k > 0 {
            v |= u128::from(b'.') << (8 * len);
            len += 1;
        }
        let t = OCTETS[usize::from(o)];
        v |= u128::from(t & 0xff_ffff) << (8 * len);
        len += (t >> 24) as usize;
    }
    push_first(b, &v.to_le_bytes(), len);
}

/// Appends an address as `Display` writes it (IPv4 dotted quads by hand; IPv6 through `fmt`,
/// whose compression rules are longer than they are worth repeating).
pub fn push_ip(b: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => push_ipv4(b, a),
        IpAddr::V6(a) => {
            use std::io::Write as _;
            let _ = write!(b, "{a}");
        }
    }
}

/// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` for `ms` since the Unix epoch (what
/// [`crate::flowlog::rfc3339`] writes); `day` caches the date part of the last day written.
pub fn push_rfc3339(b: &mut Vec<u8>, ms: u64, day: &mut Option<(u64, [u8; 11])>) {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let date = match day {
        Some((d, text)) if *d == days => *text,
        _ => {
            let (y, m, d) = crate::load::builtin::civil_from_days(days as i64);
            let mut text = [0u8; 11];
            let s = format!("{y:04}-{m:02}-{d:02}T");
            if s.len() == 11 {
                text.copy_from_slice(s.as_bytes());
                *day = Some((days, text));
                text
            } else {
                // Past year 9999: written as `fmt` would, without the cache.
                b.extend_from_slice(s.as_bytes());
                push_clock(b, rem, ms % 1000);
                return;
            }
        }
    };
    b.extend_from_slice(&date);
    push_clock(b, rem, ms % 1000);
}

/// Appends `HH:MM:SS.mmmZ`.
fn push_clock(b: &mut Vec<u8>, rem: u64, milli: u64) {
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut v = 0u128;
    for (i, c) in [
        b'0' + (h / 10) as u8,
        b'0' + (h % 10) as u8,
        b':',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b':',
        b'0' + (s / 10) as u8,
        b'0' + (s % 10) as u8,
        b'.',
        b'0' + (milli / 100) as u8,
        b'0' + (milli / 10 % 10) as u8,
        b'0' + (milli % 10) as u8,
        b'Z',
    ]
    .into_iter()
    .enumerate()
    {
        v |= u128::from(c) << (8 * i);
    }
    push_first(b, &v.to_le_bytes(), 13);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn as_display_writes(n in any::<u64>(), v4 in any::<u32>(), v6 in any::<u128>(), ms in 0u64..253_402_300_799_999) {
            for m in [n, n % 100_000, n % 1_000, n % 10] {
                let mut b = Vec::new();
                push_u64(&mut b, m);
                prop_assert_eq!(String::from_utf8(b).unwrap(), m.to_string());
            }
            for ip in [IpAddr::from(std::net::Ipv4Addr::from(v4)), IpAddr::from(std::net::Ipv6Addr::from(v6))] {
                let mut b = Vec::new();
                push_ip(&mut b, ip);
                prop_assert_eq!(String::from_utf8(b).unwrap(), ip.to_string());
            }
            let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(v4), (n % 33) as u8).unwrap().trunc();
            let mut b = Vec::new();
            push_ipv4_net(&mut b, net);
            prop_assert_eq!(String::from_utf8(b).unwrap(), net.to_string());
            let mut day = None;
            for t in [ms, ms + 1, ms + 86_400_000] {
                let mut b = Vec::new();
                push_rfc3339(&mut b, t, &mut day);
                prop_assert_eq!(String::from_utf8(b).unwrap(), crate::flowlog::rfc3339(t));
            }
        }
    }
}
