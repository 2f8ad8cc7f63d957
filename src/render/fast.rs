//! Writing numbers, addresses and times straight into a byte buffer: what bulk rows (a
//! flow-log tuple a row, a verdict a row) spend their time on when written through `fmt`.
//! Each writes exactly what `Display` writes; the tests compare them on random values.

use std::net::IpAddr;

/// Appends the decimal digits of `n`.
pub fn push_u64(b: &mut Vec<u8>, mut n: u64) {
    // Numbers of a flow row (ports, packets, most byte counts) have a few digits: pushed one
    // by one they cost less than a call to `memcpy` for a handful of bytes.
    if n < 100_000 {
        b.reserve(5);
        if n >= 10_000 {
            b.push(b'0' + (n / 10_000) as u8);
        }
        if n >= 1_000 {
            b.push(b'0' + (n / 1_000 % 10) as u8);
        }
        if n >= 100 {
            b.push(b'0' + (n / 100 % 10) as u8);
        }
        if n >= 10 {
            b.push(b'0' + (n / 10 % 10) as u8);
        }
        b.push(b'0' + (n % 10) as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&digits[i..]);
}

/// Appends an IPv4 octet's digits.
fn push_octet(b: &mut Vec<u8>, o: u8) {
    if o >= 100 {
        b.push(b'0' + o / 100);
    }
    if o >= 10 {
        b.push(b'0' + o / 10 % 10);
    }
    b.push(b'0' + o % 10);
}

/// Appends an IPv4 prefix as `Display` writes it (`20.38.98.0/24`), by hand.
pub fn push_ipv4_net(b: &mut Vec<u8>, net: ipnet::Ipv4Net) {
    b.reserve(18);
    push_ipv4(b, net.network());
    b.push(b'/');
    push_octet(b, net.prefix_len());
}

/// Appends a dotted quad.
fn push_ipv4(b: &mut Vec<u8>, a: std::net::Ipv4Addr) {
    let [w, x, y, z] = a.octets();
    push_octet(b, w);
    b.push(b'.');
    push_octet(b, x);
    b.push(b'.');
    push_octet(b, y);
    b.push(b'.');
    push_octet(b, z);
}

/// Appends an address as `Display` writes it (IPv4 dotted quads by hand; IPv6 through `fmt`,
/// whose compression rules are longer than they are worth repeating).
pub fn push_ip(b: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            b.reserve(15);
            push_ipv4(b, a);
        }
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

fn push_clock(b: &mut Vec<u8>, rem: u64, milli: u64) {
    let two = |b: &mut Vec<u8>, n: u64| {
        b.push(b'0' + (n / 10) as u8);
        b.push(b'0' + (n % 10) as u8);
    };
    two(b, rem / 3600);
    b.push(b':');
    two(b, rem % 3600 / 60);
    b.push(b':');
    two(b, rem % 60);
    b.push(b'.');
    b.push(b'0' + (milli / 100) as u8);
    two(b, milli % 100);
    b.push(b'Z');
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
