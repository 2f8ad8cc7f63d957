//! The snapshot built into the binary: Microsoft's Public file of changeNumber 376, gzip
//! compressed in `data/`, so that tagnet answers on real data with no file at hand.
//!
//! Which snapshot a command uses: `--tags PATH|-`, else the environment variable
//! `TAGNET_TAGS`, else this one. Its metadata below is checked against the embedded bytes by
//! a test.

use crate::error::{Error, Result};
use crate::snapshot::Snapshot;
use std::io::Read;

/// The compressed file as published by Microsoft, byte for byte once decompressed.
const GZ: &[u8] = include_bytes!("../../data/ServiceTags_Public_cn376.json.gz");

/// The built-in snapshot's size, gzip-compressed as the binary holds it.
pub const COMPRESSED_BYTES: usize = GZ.len();

/// The cloud of the built-in snapshot.
pub const CLOUD: &str = "Public";
/// Its top-level changeNumber.
pub const CHANGE_NUMBER: u64 = 376;
/// When Microsoft published it (the date it was captured from the weekly download).
pub const DATE: &str = "2025-11-09";
/// How it is named in messages.
pub const SOURCE: &str = "built-in ServiceTags_Public (changeNumber 376, 2025-11-09)";
/// One line for `--version`.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (built-in snapshot: Public, changeNumber 376, 2025-11-09)"
);

/// The decompressed JSON.
pub fn bytes() -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(GZ.len() * 9);
    flate2::read::GzDecoder::new(GZ)
        .read_to_end(&mut out)
        .map_err(|source| Error::Read {
            path: "<built-in snapshot>".into(),
            source,
        })?;
    Ok(out)
}

/// Loads the built-in snapshot.
///
/// ```
/// let snap = tagnet::load::builtin::load()?;
/// assert_eq!(snap.change_number(), tagnet::load::builtin::CHANGE_NUMBER);
/// # Ok::<(), tagnet::Error>(())
/// ```
pub fn load() -> Result<Snapshot> {
    super::from_slice(&bytes()?, SOURCE)
}

/// Days from 1970-01-01 to a `YYYY-MM-DD` date (proleptic Gregorian), or `None`.
pub fn days_from_civil(date: &str) -> Option<i64> {
    let mut it = date.split('-');
    let (y, m, d): (i64, i64, i64) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || it.next().is_some() {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The date of a day counted from 1970-01-01 (the inverse of [`days_from_civil`]):
/// (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The age in whole days of a snapshot published on `date`, at `now` (seconds since 1970).
pub fn age_days(date: &str, now_secs: u64) -> Option<i64> {
    Some((now_secs / 86_400) as i64 - days_from_civil(date)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_matches_the_embedded_file() {
        let snap = load().unwrap();
        assert_eq!(snap.cloud(), CLOUD);
        assert_eq!(snap.change_number(), CHANGE_NUMBER);
        assert!(snap.tags().len() > 3000);
        assert!(VERSION_LINE.contains(&CHANGE_NUMBER.to_string()) && VERSION_LINE.contains(DATE));
        assert!(SOURCE.contains(DATE));
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil("1970-01-01"), Some(0));
        assert_eq!(days_from_civil("2000-03-01"), Some(11_017));
        assert_eq!(days_from_civil("2025-11-09"), Some(20_401));
        assert_eq!(age_days("2025-11-09", 20_415 * 86_400 + 5), Some(14));
        assert_eq!(days_from_civil("2025-13-01"), None);
    }
}
