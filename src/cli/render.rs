//! Rendering: records → table, CSV, JSON or NDJSON text. Nothing here decides what to show.

use serde::Serialize;
use std::io::{self, Write};
pub use tagnet::render::sarif::{SarifResult, sarif};
pub use tagnet::render::{Format, csv_field, json_str, markdown, table};

/// Writes `records` in `format`, naming `snapshot` in JSON (see [`tagnet::render::records`]).
pub fn records<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    snapshot: Option<&tagnet::ops::SnapshotInfo>,
    headers: &[&str],
    records: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> io::Result<()> {
    tagnet::render::records(out, format, snapshot, headers, records, cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }

    #[test]
    fn table_aligns() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["abc".into(), "1".into()],
            vec!["d".into(), "22".into()],
        ];
        table(&mut out, &["NAME", "N"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME  N\nabc   1\nd     22\n"
        );
    }
}

/// Writes every slice, in order, with vectored writes (which a `BufWriter` passes straight to
/// its writer when they are larger than its buffer, instead of copying them in).
pub fn write_all_slices<'a>(
    out: &mut dyn Write,
    slices: impl IntoIterator<Item = &'a [u8]>,
) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice> = slices
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(io::IoSlice::new)
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match out.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Appends an IPv4 prefix as its `Display` writes it (`192.0.2.0/24`), without the
/// formatting machinery: the rows of a lookup print a hundred thousand of them.
pub use tagnet::render::fast::push_ipv4_net;

/// A growing output buffer for loops that append millions of short texts. Its vector is kept
/// at least [`Texts::WIDE`] bytes longer than what was written, so a text of up to that
/// length is appended as one fixed-size copy (a few vector moves, no call to `memcpy`),
/// and the length then advanced by the text's own.
#[derive(Default)]
pub struct Sink {
    bytes: Vec<u8>,
    len: usize,
}

impl Sink {
    /// What was written.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Forgets what was written, keeping the memory.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The next `n` bytes, to be written.
    #[inline(always)]
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.bytes.len() < self.len + n + Texts::WIDE {
            self.grow(n);
        }
        &mut self.bytes[self.len..self.len + n]
    }

    #[cold]
    fn grow(&mut self, n: usize) {
        let want = (self.len + n + Texts::WIDE)
            .max(self.bytes.len() * 2)
            .max(4096);
        self.bytes.resize(want, 0);
    }

    /// Appends `s`.
    #[inline(always)]
    pub fn extend(&mut self, s: &[u8]) {
        self.room(s.len()).copy_from_slice(s);
        self.len += s.len();
    }

    /// Appends one byte.
    #[inline(always)]
    pub fn push(&mut self, b: u8) {
        self.room(1)[0] = b;
        self.len += 1;
    }

    /// Appends `n` copies of `b`.
    pub fn fill(&mut self, b: u8, n: usize) {
        self.room(n).fill(b);
        self.len += n;
    }

    /// Appends `from[..len]`: by one fixed copy of [`Texts::WIDE`] bytes when `from` holds
    /// that many and `len` is no more, else by a plain copy.
    #[inline(always)]
    pub fn put(&mut self, from: &[u8], len: usize) {
        match from.first_chunk::<{ Texts::WIDE }>() {
            Some(wide) if len <= Texts::WIDE => {
                self.room(Texts::WIDE).copy_from_slice(wide);
                self.len += len;
            }
            _ => self.put_long(&from[..len]),
        }
    }

    /// [`Sink::put`] of a text too long for one fixed copy (apart, so that the compiler does
    /// not merge the two copies into one call to `memcpy`).
    #[cold]
    #[inline(never)]
    fn put_long(&mut self, s: &[u8]) {
        self.extend(s);
    }
}

/// Many short texts, each appended to a [`Sink`] by one fixed-size copy: texts are kept in
/// chunks of [`Texts::CHUNK`], each chunk's buffer ending in [`Texts::WIDE`] spare bytes so
/// that such a copy from any text stays inside it. Chunks are built in parallel and kept
/// apart (no copy to join them).
pub struct Texts {
    chunks: Vec<Vec<u8>>,
    /// Per text: offset in its chunk, and length.
    at: Vec<(u32, u32)>,
}

impl Texts {
    /// Texts up to this length are appended with one fixed copy.
    pub const WIDE: usize = 64;
    /// Texts a chunk.
    const CHUNK: usize = 4096;

    /// The texts, in order (the `i`th is [`Texts::put`]`(_, i)`).
    pub fn new<S: AsRef<str> + Sync>(texts: impl IntoIterator<Item = S>) -> Texts {
        let texts: Vec<S> = texts.into_iter().collect();
        Texts::build(texts.len(), |i, b| {
            b.extend_from_slice(texts[i].as_ref().as_bytes())
        })
    }

    /// `n` texts, the `i`th written by `write(i, buffer)`, built in parallel.
    pub fn build(n: usize, write: impl Fn(usize, &mut Vec<u8>) + Sync) -> Texts {
        use rayon::prelude::*;
        // Per chunk: its bytes, and its texts' places.
        type Chunk = (Vec<u8>, Vec<(u32, u32)>);
        let parts: Vec<Chunk> = (0..n.div_ceil(Self::CHUNK))
            .into_par_iter()
            .map(|c| {
                let (mut bytes, mut at) = (Vec::new(), Vec::with_capacity(Self::CHUNK));
                for i in c * Self::CHUNK..n.min((c + 1) * Self::CHUNK) {
                    let offset = bytes.len();
                    write(i, &mut bytes);
                    let len = bytes.len() - offset;
                    at.push((
                        u32::try_from(offset).expect("a chunk of texts under 4 GiB"),
                        len as u32,
                    ));
                }
                bytes.resize(bytes.len() + Self::WIDE, 0);
                (bytes, at)
            })
            .collect();
        let mut t = Texts {
            chunks: Vec::with_capacity(parts.len()),
            at: Vec::with_capacity(n),
        };
        for (bytes, at) in parts {
            t.chunks.push(bytes);
            t.at.extend_from_slice(&at);
        }
        t
    }

    /// The chunk holding text `i`, and where in it the text is.
    #[inline(always)]
    fn place(&self, i: usize) -> (&[u8], usize, usize) {
        let (offset, len) = self.at[i];
        (&self.chunks[i / Self::CHUNK], offset as usize, len as usize)
    }

    /// Text `i`.
    pub fn get(&self, i: usize) -> &[u8] {
        let (chunk, offset, len) = self.place(i);
        &chunk[offset..offset + len]
    }

    /// Appends text `i` to `sink`.
    #[inline(always)]
    pub fn put(&self, sink: &mut Sink, i: usize) {
        let (chunk, offset, len) = self.place(i);
        sink.put(&chunk[offset..], len);
    }

    /// Asks for the place of text `i` to be brought into cache ahead of [`Texts::put`].
    #[inline(always)]
    pub fn prefetch_place(&self, i: usize) {
        tagnet::index::interval::prefetch(self.at.as_ptr().wrapping_add(i));
    }

    /// Asks for the bytes of text `i` to be brought into cache (reads its place).
    #[inline(always)]
    pub fn prefetch_text(&self, i: usize) {
        if let (Some(&(offset, _)), Some(chunk)) =
            (self.at.get(i), self.chunks.get(i / Self::CHUNK))
        {
            tagnet::index::interval::prefetch(chunk.as_ptr().wrapping_add(offset as usize));
        }
    }
}

#[cfg(test)]
mod texts_tests {
    use super::*;

    #[test]
    fn ipv4_nets_print_as_display_does() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let addr = match i {
                0 => 0,
                1 => u32::MAX,
                _ => rng as u32 >> (i % 8 * 4),
            };
            let net = ipnet::Ipv4Net::new(addr.into(), (i % 33) as u8)
                .unwrap()
                .trunc();
            let mut b = Vec::new();
            push_ipv4_net(&mut b, net);
            assert_eq!(String::from_utf8(b).unwrap(), net.to_string());
        }
    }

    #[test]
    fn texts_append_exactly_themselves() {
        let long = "x".repeat(Texts::WIDE * 2 + 3);
        let items = ["", "a", "10.0.0.0/8", long.as_str(), "é,\"q\"", ""];
        let t = Texts::new(items);
        let built = Texts::build(items.len() * 3000, |i, b| {
            b.extend_from_slice(items[i % items.len()].as_bytes())
        });
        let mut sink = Sink::default();
        sink.extend(b"head:");
        let mut want = b"head:".to_vec();
        for (i, s) in items.iter().enumerate().rev() {
            assert_eq!(t.get(i), s.as_bytes());
            t.put(&mut sink, i);
            want.extend_from_slice(s.as_bytes());
        }
        for i in (0..items.len() * 3000).step_by(997) {
            built.put(&mut sink, i);
            want.extend_from_slice(items[i % items.len()].as_bytes());
        }
        sink.put(b"abc", 2);
        sink.push(b'!');
        sink.fill(b' ', 3);
        want.extend_from_slice(b"ab!   ");
        assert_eq!(sink.as_bytes(), &want[..]);
        sink.clear();
        assert!(sink.as_bytes().is_empty());
    }
}
