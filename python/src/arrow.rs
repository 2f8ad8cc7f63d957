//! Arrow columns in and out: string and integer buffers read in place through the buffer
//! protocol, answers written once into little-endian bytes.

use crate::*;

/// A string column as Arrow lays it out: data, offsets (32- or 64-bit), validity bitmap.
pub(crate) struct StrCol<'a> {
    data: &'a [u8],
    offsets: &'a [u8],
    wide: bool,
    start: usize,
    len: usize,
    validity: Option<&'a [u8]>,
}

impl StrCol<'_> {
    /// A column over an Arrow array's buffers, its lengths checked.
    pub(crate) fn new<'a>(
        data: Option<&'a PyBuffer<u8>>,
        offsets: &'a PyBuffer<u8>,
        wide: bool,
        start: usize,
        len: usize,
        validity: Option<&'a PyBuffer<u8>>,
    ) -> PyResult<StrCol<'a>> {
        let col = StrCol {
            data: data.map(bytes_of).transpose()?.unwrap_or(&[]),
            offsets: bytes_of(offsets)?,
            wide,
            start,
            len,
            validity: validity.map(bytes_of).transpose()?,
        };
        col.check()?;
        Ok(col)
    }

    pub(crate) fn check(&self) -> PyResult<()> {
        let w = if self.wide { 8 } else { 4 };
        if self.offsets.len() < (self.start + self.len + 1) * w {
            return Err(err("the offsets buffer is shorter than the array"));
        }
        if let Some(v) = self.validity
            && v.len() * 8 < self.start + self.len
        {
            return Err(err("the validity bitmap is shorter than the array"));
        }
        Ok(())
    }

    pub(crate) fn off(&self, i: usize) -> usize {
        if self.wide {
            let b = &self.offsets[i * 8..i * 8 + 8];
            i64::from_le_bytes(b.try_into().expect("8 bytes")) as usize
        } else {
            let b = &self.offsets[i * 4..i * 4 + 4];
            i32::from_le_bytes(b.try_into().expect("4 bytes")) as usize
        }
    }

    /// Row `i`: `None` when null; `Some(Err)` when the bytes are out of range.
    pub(crate) fn get(&self, i: usize) -> Option<Result<&[u8], String>> {
        let j = self.start + i;
        if let Some(v) = self.validity
            && v[j / 8] & (1 << (j % 8)) == 0
        {
            return None;
        }
        let (a, b) = (self.off(j), self.off(j + 1));
        Some(if a <= b && b <= self.data.len() {
            Ok(&self.data[a..b])
        } else {
            Err(format!("row {i}: offsets {a}..{b} outside the data buffer"))
        })
    }
}

/// The bytes of a Python buffer (an Arrow buffer, `bytes`, a `memoryview`), read in place,
/// never copied. Only C-contiguous buffers are taken.
#[allow(unsafe_code)] // the crate's one unsafe block; see the SAFETY note
pub(crate) fn bytes_of(b: &PyBuffer<u8>) -> PyResult<&[u8]> {
    if !b.is_c_contiguous() {
        return Err(err("an Arrow buffer that is not contiguous"));
    }
    if b.len_bytes() == 0 {
        return Ok(&[]);
    }
    // SAFETY: `b` holds the exporter's buffer view (PEP 3118) until it is dropped, which is
    // after every use of the slice (its lifetime is `b`'s); the view is C-contiguous, of
    // `len_bytes()` bytes at `buf_ptr()` (`PyBuffer<u8>` checked the item format is bytes).
    // The Python side holds the Arrow array for the whole call and does not change it (Arrow
    // arrays are immutable).
    Ok(unsafe { std::slice::from_raw_parts(b.buf_ptr() as *const u8, b.len_bytes()) })
}

/// Row states in the `state` column given back.
pub(crate) const OK: u8 = 0;
pub(crate) const NULL: u8 = 1;
pub(crate) const INVALID: u8 = 2;

pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    tagnet::text::address_fast(b.trim_ascii())
}

/// One chunk's lookup results.
#[derive(Default)]
pub(crate) struct Part {
    counts: Vec<i32>,
    tags: Vec<i32>,
    prefixes: Vec<i32>,
    state: Vec<u8>,
    first_bad: Option<(usize, String)>,
}

pub(crate) const CHUNK: usize = 16 * 1024;

impl Index {
    /// Looks up rows `0..n` given by `addr(i)`, in parallel chunks, IPv4 through the batch
    /// path.
    pub(crate) fn lookup_rows<F: Fn(usize) -> Result<Option<IpAddr>, String> + Sync>(
        &self,
        n: usize,
        addr: F,
    ) -> Parts {
        let parts: Vec<Part> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let lo = c * CHUNK;
                let hi = (lo + CHUNK).min(n);
                let mut p = Part {
                    counts: vec![0; hi - lo],
                    state: vec![OK; hi - lo],
                    ..Part::default()
                };
                p.tags.reserve(3 * (hi - lo));
                p.prefixes.reserve(3 * (hi - lo));
                let mut v4 = Vec::with_capacity(hi - lo);
                let mut v4_at = Vec::with_capacity(hi - lo);
                let mut other: Vec<(usize, IpAddr)> = Vec::new();
                for i in lo..hi {
                    match addr(i) {
                        Ok(Some(IpAddr::V4(a))) => {
                            v4.push(a);
                            v4_at.push(i - lo);
                        }
                        Ok(Some(ip)) => other.push((i - lo, ip)),
                        Ok(None) => p.state[i - lo] = NULL,
                        Err(e) => {
                            p.state[i - lo] = INVALID;
                            if p.first_bad.is_none() {
                                p.first_bad = Some((i, e));
                            }
                        }
                    }
                }
                // Matches per row, in row order: IPv4 rows come in order from the batch, the
                // rest are looked up one by one; both are merged by row.
                let mut per_row: Vec<&[Match]> = vec![&[]; hi - lo];
                self.index.lookup_many_v4(&v4, |k, m| per_row[v4_at[k]] = m);
                for (r, ip) in &other {
                    per_row[*r] = self.index.lookup(*ip);
                }
                for (r, m) in per_row.iter().enumerate() {
                    p.counts[r] = m.len() as i32;
                    for x in *m {
                        p.tags.push(x.tag as i32);
                        p.prefixes.push(x.prefix as i32);
                    }
                }
                p
            })
            .collect();
        Parts(parts)
    }
}

/// Per-chunk results, in row order.
pub(crate) struct Parts(Vec<Part>);

impl Parts {
    pub(crate) fn first_bad(&self) -> Option<&(usize, String)> {
        self.0.iter().find_map(|p| p.first_bad.as_ref())
    }

    /// The four columns as Python bytes, written in place (no intermediate copies), the
    /// chunks filled in parallel.
    pub(crate) fn columns<'py>(&self, py: Python<'py>) -> PyResult<Columns<'py>> {
        let rows: usize = self.0.iter().map(|p| p.counts.len()).sum();
        let matches: usize = self.0.iter().map(|p| p.tags.len()).sum();
        let offsets = PyBytes::new_with(py, (rows + 1) * 4, |buf| {
            let mut at = 0i32;
            let mut k = 0;
            buf[..4].copy_from_slice(&0i32.to_le_bytes());
            for p in &self.0 {
                for c in &p.counts {
                    at += c;
                    k += 1;
                    buf[k * 4..k * 4 + 4].copy_from_slice(&at.to_le_bytes());
                }
            }
            Ok(())
        })?;
        let fill = |pick: fn(&Part) -> &Vec<i32>| {
            PyBytes::new_with(py, matches * 4, |buf| {
                let mut slices = Vec::with_capacity(self.0.len());
                let mut rest = buf;
                for p in &self.0 {
                    let (head, tail) = rest.split_at_mut(pick(p).len() * 4);
                    slices.push((p, head));
                    rest = tail;
                }
                slices.into_par_iter().for_each(|(p, out)| {
                    for (o, v) in out.chunks_exact_mut(4).zip(pick(p)) {
                        o.copy_from_slice(&v.to_le_bytes());
                    }
                });
                Ok(())
            })
        };
        let tags = fill(|p| &p.tags)?;
        let prefixes = fill(|p| &p.prefixes)?;
        let state = PyBytes::new_with(py, rows, |buf| {
            let mut k = 0;
            for p in &self.0 {
                buf[k..k + p.state.len()].copy_from_slice(&p.state);
                k += p.state.len();
            }
            Ok(())
        })?;
        Ok((offsets, tags, prefixes, state))
    }
}

pub(crate) fn i32_bytes<'py>(py: Python<'py>, v: &[i32]) -> Bound<'py, PyBytes> {
    let out: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    PyBytes::new(py, &out)
}

pub(crate) type Verified<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Vec<String>,
    Option<Bound<'py, PyBytes>>,
    String,
);

pub(crate) type Columns<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
);
