//! IPv4 table of fixed strides, 16-8-8: the address's top 16 bits index a first level, whose
//! entry is the value of the whole /16 or a 256-entry chunk of its /24s; a /24's entry is its
//! value, or a cache line holding the few segment boundaries inside it with their values
//! (a line: up to [`LINE_STARTS`] boundaries, placed by one 16-byte compare), or, for the few
//! /24s cut more finely, a 256-entry chunk of its addresses. At most three reads an address
//! and no search: the layout of a router's DIR-24-8 with a /16 first level (256 KiB) instead
//! of a /24 one (64 MiB, a cache and TLB miss an address). On the published Azure ranges
//! (57,702 segment starts): 779 cut /16s, 11,274 cut /24s, of which 540 take a chunk — 2.2 MiB
//! in all.
//!
//! Built from the same segments as [`super::interval::IntervalTable`]; the two give the same
//! value for every key (`dir_matches_interval_table_and_oracle` below).

use super::interval::prefetch;
use std::hint::select_unpredictable as select;

/// Entries at or above this are no value: in the first level `CHUNK + c` names chunk `c` of
/// the second; in the second, `CHUNK + b` names the line at block `b` of the third level and
/// `CHUNK + FULL + b` the chunk of addresses starting at block `b`. Values must stay below
/// it: the index's packed spans do (below 2^31, or 2^31 plus the number of spans too long to
/// pack). 2^27 codes for blocks of the third level: enough for 8.4M chunked /24s (half of
/// IPv4's 2^24), some 10^8 segments; more than that is refused by an assertion when built.
pub const CHUNK: u32 = 0xF000_0000;
/// The bit of a second-level code marking a chunk of addresses (not a line).
const FULL: u32 = 1 << 27;
const STRIDE: usize = 256;
/// Items a batch lookup takes a stage at a time.
const BLOCK: usize = 16;
/// The most segment boundaries a /24 held in a line may have.
pub const LINE_STARTS: usize = 11;

/// One cache line of the third level: a line, or a sixteenth of a chunk of 256 addresses'
/// values. A line holds, in words 0 to 3, the low bytes of a /24's segment boundaries (unused
/// ones zero), and in words 4 to 15 the values of its segments in order, the last repeated to
/// the end: the value of an address is word `4 + g` with `g` the number of boundaries at or
/// below its low byte, which is the place of the first boundary above it.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block([u32; 16]);

impl Block {
    /// The block as a line: the value of the address with low byte `low`. (Read as a line, a
    /// block of a chunk gives some word of itself: a batch lookup reads both ways.)
    #[inline(always)]
    fn line(&self, low: u32) -> u32 {
        // Boundaries ascend and unused ones are zero (at or below any byte): the index of the
        // address's segment is the number of boundaries at or below its low byte before the
        // first above it, or (none above) at least the index of the last segment.
        let g = self.at_or_below(low as u8).trailing_ones() as usize;
        self.0[4 + g.min(LINE_STARTS)]
    }

    /// Bit `i` set where boundary byte `i` is at or below `low`: one compare of 16 bytes.
    #[inline(always)]
    #[allow(unsafe_code)] // one of the two unsafe blocks of the library; see the SAFETY note
    fn at_or_below(&self, low: u8) -> u32 {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            let w = self.0.map(|w| w as i32);
            // SAFETY: SSE2 is in the x86_64 baseline, and these compute on values only (no
            // pointer is read).
            unsafe {
                let starts = _mm_set_epi32(w[3], w[2], w[1], w[0]);
                let low = _mm_set1_epi8(low as i8);
                // s <= low exactly where max(s, low) == low (bytes unsigned).
                _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(starts, low), low)) as u32
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        self.at_or_below_portable(low)
    }

    /// [`Block::at_or_below`] a byte at a time (other processors, and the tests' oracle).
    #[cfg(any(test, not(target_arch = "x86_64")))]
    fn at_or_below_portable(&self, low: u8) -> u32 {
        (0..16).fold(0, |m, i| {
            m | u32::from((self.0[i / 4] >> (8 * (i % 4))) as u8 <= low) << i
        })
    }

    /// A line of boundaries `starts` (ascending low bytes) between `values` (one more).
    fn new_line(starts: &[u32], values: &[u32]) -> Block {
        let k = starts.len();
        debug_assert!(k <= LINE_STARTS && values.len() == k + 1);
        let mut b = Block::default();
        for (i, &s) in starts.iter().enumerate() {
            b.0[i / 4] |= (s & 0xff) << (8 * (i % 4));
        }
        for (i, word) in b.0[4..].iter_mut().enumerate() {
            *word = values[i.min(k)];
        }
        b
    }
}

/// The IPv4 table: see the module documentation.
#[derive(Debug, Clone)]
pub struct Dir4 {
    /// Per /16: its value, or `CHUNK + c` for its /24s at `l2[c * 256..]`.
    l1: Box<[u32; 1 << 16]>,
    /// Per /24 of a cut /16: its value, or a code for the third level (see [`CHUNK`]).
    l2: Vec<u32>,
    /// Lines and chunks of addresses (16 blocks each).
    ext: Vec<Block>,
    lines: usize,
    chunks: usize,
    segments: usize,
}

impl Dir4 {
    /// Builds from segments with ascending starts, the first starting at zero, each value
    /// below [`CHUNK`].
    pub fn new(segments: impl IntoIterator<Item = (u32, u32)>) -> Dir4 {
        let mut starts: Vec<u32> = Vec::new();
        let mut values: Vec<u32> = Vec::new();
        for (s, v) in segments {
            assert!(v < CHUNK, "value {v:#x} too large for the IPv4 directory");
            if values.last() == Some(&v) {
                continue;
            }
            starts.push(s);
            values.push(v);
        }
        assert!(
            starts.first() == Some(&0),
            "segments must start at the lowest key"
        );
        // `seg` is the segment holding the block's first key; the block lies in one segment
        // when the next start is past its last key.
        let advance = |seg: &mut usize, key: u32| {
            while *seg + 1 < starts.len() && starts[*seg + 1] <= key {
                *seg += 1;
            }
        };
        let whole = |seg: usize, last: u32| seg + 1 == starts.len() || starts[seg + 1] > last;
        let mut l1 = Vec::with_capacity(1 << 16);
        let mut l2 = Vec::new();
        let mut ext: Vec<Block> = Vec::new();
        let (mut lines, mut chunks) = (0, 0);
        let mut seg = 0usize;
        for hi in 0..1u32 << 16 {
            let first = hi << 16;
            advance(&mut seg, first);
            if whole(seg, first | 0xffff) {
                l1.push(values[seg]);
                continue;
            }
            l1.push(CHUNK + (l2.len() / STRIDE) as u32);
            for mid in 0..STRIDE as u32 {
                let first = first | mid << 8;
                advance(&mut seg, first);
                // Segments `seg..=last` hold the /24.
                let mut last = seg;
                advance(&mut last, first | 0xff);
                let code = CHUNK + ext.len() as u32;
                let entry = if last == seg {
                    values[seg]
                } else if last - seg <= LINE_STARTS {
                    ext.push(Block::new_line(
                        &starts[seg + 1..=last],
                        &values[seg..=last],
                    ));
                    lines += 1;
                    code
                } else {
                    let mut words = (0..STRIDE as u32).map(|low| {
                        advance(&mut seg, first | low);
                        values[seg]
                    });
                    for _ in 0..STRIDE / 16 {
                        ext.push(Block(std::array::from_fn(|_| words.next().unwrap_or(0))));
                    }
                    chunks += 1;
                    code | FULL
                };
                l2.push(entry);
            }
        }
        l2.shrink_to_fit();
        ext.shrink_to_fit();
        assert!(
            l2.len() / STRIDE < (u32::MAX - CHUNK) as usize && ext.len() < FULL as usize,
            "too many segments for the IPv4 directory"
        );
        Dir4 {
            l1: l1.into_boxed_slice().try_into().expect("one entry per /16"),
            l2,
            ext,
            lines,
            chunks,
            segments: values.len(),
        }
    }

    /// Where the first-level entry `e` (at or above [`CHUNK`]) holds the /24 `mid`.
    #[inline(always)]
    fn at(e: u32, mid: u32) -> usize {
        (e.wrapping_sub(CHUNK) as usize) << 8 | (mid & 0xff) as usize
    }

    /// The word of the third level a second-level code `e` (at or above [`CHUNK`]) names for
    /// the address with low byte `low`: a line's first word, or the address's in a chunk.
    #[inline(always)]
    fn word(e: u32, low: u32) -> usize {
        let x = e.wrapping_sub(CHUNK);
        ((x & (FULL - 1)) * 16 + select(x & FULL != 0, low & 0xff, 0)) as usize
    }

    /// The value at `word` (from [`Dir4::word`]) of the code `e`.
    #[inline(always)]
    fn third(&self, e: u32, word: usize, low: u32) -> u32 {
        let b = &self.ext[word >> 4];
        select(
            e.wrapping_sub(CHUNK) & FULL != 0,
            b.0[word & 15],
            b.line(low),
        )
    }

    /// The value of the segment holding `key`.
    #[inline]
    pub fn get(&self, key: u32) -> u32 {
        let e = self.l1[(key >> 16) as usize];
        if e < CHUNK {
            return e;
        }
        let e = self.l2[Self::at(e, key >> 8)];
        if e < CHUNK {
            return e;
        }
        self.third(e, Self::word(e, key), key)
    }

    /// The values of many items' keys, as [`Dir4::get`] gives them one by one: `each(i,
    /// value)` for the `i`th item, in order. Software-pipelined over blocks of 16 (`BLOCK`)
    /// items: while block `b`'s first-level entries are prefetched, block `b - 1` reads them
    /// and prefetches its /24 entries, block `b - 2` reads those and prefetches its lines or
    /// address entries, and block `b - 3` reads those and is answered; so every read has a
    /// block's time to arrive. A stage past the first takes only the items the one before
    /// left unanswered (queued without a branch): an address outside every cut /16, half the
    /// address space, costs one read and a few instructions.
    #[inline]
    pub fn get_many_by<A: Copy>(
        &self,
        items: &[A],
        key: impl Fn(A) -> u32,
        mut each: impl FnMut(usize, u32),
    ) {
        const R: usize = 4 * BLOCK; // the items in flight
        let n = items.len();
        // Per item in flight (by its place in the ring): key, entry or value, and where its
        // next read is; per block in flight, the places of the items a stage passes on.
        let (mut k, mut v, mut at) = ([0u32; R], [0u32; R], [0usize; R]);
        let (mut q2, mut q3) = ([[0u8; BLOCK]; 2], [[0u8; BLOCK]; 2]);
        let (mut n2, mut n3) = ([0usize; 2], [0usize; 2]);
        let block = |b: usize| (b * BLOCK..n.min((b + 1) * BLOCK)).map(|i| (i, i % R));
        let l2 = self.l2.as_ptr();
        let ext = self.ext.as_ptr().cast::<u32>();
        for b in 0..n.div_ceil(BLOCK) + 3 {
            for (i, s) in block(b) {
                let key = key(items[i]);
                prefetch(self.l1.as_ptr().wrapping_add((key >> 16) as usize));
                k[s] = key;
            }
            if let Some(b) = b.checked_sub(1) {
                let (q, mut m) = (&mut q2[b % 2], 0);
                for (_, s) in block(b) {
                    let e = self.l1[(k[s] >> 16) as usize];
                    let a = select(e >= CHUNK, Self::at(e, k[s] >> 8), 0);
                    prefetch(l2.wrapping_add(a));
                    (v[s], at[s]) = (e, a);
                    q[m] = s as u8;
                    m += usize::from(e >= CHUNK);
                }
                n2[b % 2] = m;
            }
            if let Some(b) = b.checked_sub(2) {
                let (q, mut m) = (&mut q3[b % 2], 0);
                for &s in &q2[b % 2][..n2[b % 2]] {
                    let s = usize::from(s) % R;
                    let e = self.l2[at[s]];
                    let w = select(e >= CHUNK, Self::word(e, k[s]), 0);
                    prefetch(ext.wrapping_add(w));
                    (v[s], at[s]) = (e, w);
                    q[m] = s as u8;
                    m += usize::from(e >= CHUNK);
                }
                n3[b % 2] = m;
            }
            if let Some(b) = b.checked_sub(3) {
                for &s in &q3[b % 2][..n3[b % 2]] {
                    let s = usize::from(s) % R;
                    v[s] = self.third(v[s], at[s], k[s]);
                }
                for (i, s) in block(b) {
                    each(i, v[s]);
                }
            }
        }
    }

    /// Bytes held by the levels.
    pub fn heap_bytes(&self) -> usize {
        (self.l1.len() + self.l2.capacity()) * 4 + self.ext.capacity() * size_of::<Block>()
    }

    /// The cut /24s held in lines and in chunks of addresses.
    pub fn lines_and_chunks(&self) -> (usize, usize) {
        (self.lines, self.chunks)
    }

    /// Number of segments (distinct neighbouring values) it was built from.
    pub fn len(&self) -> usize {
        self.segments
    }

    /// Always false: the table covers the whole key space.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::interval::{IntervalTable, NONE, laminar_sweep};
    use super::*;
    use proptest::prelude::*;

    /// The innermost range holding `key`, by brute force (ranges sorted, laminar), as a
    /// value the directory holds ([`NONE`] becomes `CHUNK - 1`).
    fn innermost(ranges: &[(u32, u32)], key: u32) -> u32 {
        ranges
            .iter()
            .rposition(|&(s, e)| s <= key && key <= e)
            .map_or(CHUNK - 1, |i| i as u32)
    }

    fn table(ranges: &[(u32, u32)]) -> (Dir4, IntervalTable<u32>) {
        let segs: Vec<(u32, u32)> = laminar_sweep(ranges)
            .segments
            .into_iter()
            .map(|(s, v)| (s, if v == NONE { CHUNK - 1 } else { v }))
            .collect();
        (Dir4::new(segs.iter().copied()), IntervalTable::new(segs))
    }

    fn check(ranges: &[(u32, u32)], probes: impl IntoIterator<Item = u32>) {
        let (dir, interval) = table(ranges);
        let edges = ranges
            .iter()
            .flat_map(|&(s, e)| [s, e, s.wrapping_sub(1), e.wrapping_add(1)]);
        let keys: Vec<u32> = probes
            .into_iter()
            .chain(edges)
            .chain([0, u32::MAX])
            .collect();
        let mut batch = Vec::new();
        dir.get_many_by(
            &keys,
            |k| k,
            |i, v| {
                assert_eq!(i, batch.len(), "in order");
                batch.push(v);
            },
        );
        assert_eq!(batch.len(), keys.len());
        for (&key, &got) in keys.iter().zip(&batch) {
            let want = innermost(ranges, key);
            assert_eq!(dir.get(key), want, "key {key:#x}");
            assert_eq!(got, want, "batch, key {key:#x}");
            assert_eq!(interval.get(key), want, "interval table, key {key:#x}");
        }
    }

    /// The prefixes of (address, length) pairs as ranges, sorted and distinct.
    fn ranges(v: impl IntoIterator<Item = (u32, u32)>) -> Vec<(u32, u32)> {
        let mut r: Vec<(u32, u32)> = v
            .into_iter()
            .map(|(key, len)| {
                let host = u32::MAX.checked_shr(len).unwrap_or(0);
                (key & !host, key | host)
            })
            .collect();
        r.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        r.dedup();
        r
    }

    /// Prefixes of every length whose addresses vary in the top, middle and bottom bits: /16s
    /// whole and cut, /24s whole and cut, boundaries at the first and last address of both.
    fn prefixes() -> impl Strategy<Value = Vec<(u32, u32)>> {
        proptest::collection::vec((0u32..4, 0u32..4, 0u32..4, 0u32..=32), 0..60).prop_map(|v| {
            ranges(
                v.into_iter()
                    .map(|(a, b, c, len)| (a << 30 | (b * 85) << 8 | (c * 85), len)),
            )
        })
    }

    proptest! {
        /// The 16-byte compare of a line's boundaries agrees with one a byte at a time, on
        /// any bytes.
        #[test]
        fn boundary_compare_matches_bytewise(words in proptest::array::uniform16(any::<u32>()), low in any::<u8>()) {
            let b = Block(words);
            prop_assert_eq!(b.at_or_below(low), b.at_or_below_portable(low));
        }

        /// Up to 120 prefixes of /23 to /32 in three neighbouring /24s: lines of every
        /// length, and chunks, one after another in any order.
        #[test]
        fn crowded_24s_match_oracle(v in proptest::collection::vec((0u32..3, 0u32..256, 23u32..=32), 0..120)) {
            let ranges = ranges(v.into_iter().map(|(mid, low, len)| ((0x0A0B_0C00 + (mid << 8)) | low, len)));
            check(&ranges, 0x0A0B_0BF0..0x0A0B_0F10);
        }

        #[test]
        fn dir_matches_interval_table_and_oracle(ranges in prefixes(), probes in proptest::collection::vec(any::<u32>(), 64), near in proptest::collection::vec((0u32..4, 0u32..1 << 16), 64)) {
            // Probes near the prefixes (the same /16s) as well as anywhere.
            let near = near.into_iter().map(|(a, low)| a << 30 | low);
            check(&ranges, probes.into_iter().chain(near));
        }
    }

    #[test]
    fn whole_space_and_top_address() {
        check(&[(0, u32::MAX), (u32::MAX, u32::MAX)], []);
        check(&[], [1, 1 << 31]);
        // A /32 at the last address: one cut /16, one /24 in a line.
        let (dir, _) = table(&[(u32::MAX, u32::MAX)]);
        assert_eq!(
            (dir.l2.len(), dir.lines, dir.chunks, dir.ext.len()),
            (STRIDE, 1, 0, 1)
        );
        assert_eq!(dir.get(u32::MAX), 0);
        assert_eq!(dir.get(u32::MAX - 1), CHUNK - 1);
    }

    /// Segments given as they come, neighbours of equal value included (one segment).
    #[test]
    fn equal_neighbours_are_one_segment() {
        let segs = [(0, 1), (0x0A0B_0C05, 2), (0x0A0B_0C07, 2), (0x0A0B_0C09, 1)];
        let dir = Dir4::new(segs);
        assert_eq!(dir.len(), 3);
        assert_eq!((dir.lines, dir.chunks), (1, 0), "one line");
        let want = |k: u32| {
            if (0x0A0B_0C05..0x0A0B_0C09).contains(&k) {
                2
            } else {
                1
            }
        };
        let keys: Vec<u32> = (0x0A0B_0B00..0x0A0B_0D00).chain([0, u32::MAX]).collect();
        let mut batch = Vec::new();
        dir.get_many_by(&keys, |k| k, |_, v| batch.push(v));
        for (&k, &got) in keys.iter().zip(&batch) {
            assert_eq!((dir.get(k), got), (want(k), want(k)), "{k:#x}");
        }
    }

    /// A /24 with as many boundaries as a line holds takes a line; one more, a chunk.
    #[test]
    fn lines_and_chunks_both_occur() {
        // /32s at .2, .4, .6, .8, .10 (two boundaries each), then .255 (one: its end + 1 is
        // the next /24) or .12 (two).
        for (last, lines, chunks) in [(0xff, 1, 0), (12, 0, 1)] {
            let ranges: Vec<(u32, u32)> = [2, 4, 6, 8, 10, last]
                .map(|low| 0x0A0B_0C00 | low)
                .map(|k| (k, k))
                .to_vec();
            let (dir, _) = table(&ranges);
            assert_eq!(dir.lines_and_chunks(), (lines, chunks));
            assert_eq!(dir.ext.len(), lines + 16 * chunks);
            check(&ranges, 0x0A0B_0B00..0x0A0B_0D01);
        }
    }
}
