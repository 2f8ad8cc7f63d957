//! IPv4 table of fixed strides, 16-8-8: the address's top 16 bits index a first level, whose
//! entry is the value of the whole /16 or a 256-entry chunk of its /24s; a /24's entry is its
//! value, or a cache line holding the few segment boundaries inside it with their values
//! (`Line`: up to [`LINE_STARTS`] boundaries, counted without a branch), or, for the few
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
/// the second; in the second, `LINE + c` names line `c`, `FULL + c` chunk `c` of addresses.
/// Values must stay below it: the index's packed spans do (below 2^31, or 2^31 plus the
/// number of spans too long to pack). 2^27 codes each for lines and chunks, where IPv4 has
/// 2^24 /24s: codes never run out.
pub const CHUNK: u32 = 0xF000_0000;
const LINE: u32 = CHUNK;
const FULL: u32 = CHUNK + (1 << 27);
const STRIDE: usize = 256;
/// Items a batch lookup takes a stage at a time.
const BLOCK: usize = 16;
/// The most segment boundaries a /24 held in a line (`Line`) may have.
pub const LINE_STARTS: usize = 11;

/// A /24 cut by up to [`LINE_STARTS`] segment boundaries, in one cache line: the low bytes of
/// the boundaries (unused ones zero) and the values, last segment first, so that the value of
/// an address is `values[g]` with `g` the number of boundaries above its low byte.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line {
    starts: [u8; 16],
    values: [u32; LINE_STARTS + 1],
}

impl Line {
    #[inline(always)]
    fn get(&self, low: u32) -> u32 {
        let low = low as u8;
        let above = self.starts.iter().fold(0u8, |n, &s| n + u8::from(s > low));
        self.values[usize::from(above).min(LINE_STARTS)]
    }
}

/// The IPv4 table: see the module documentation.
#[derive(Debug, Clone)]
pub struct Dir4 {
    /// Per /16: its value, or `CHUNK + c` for its /24s at `l2[c * 256..]`.
    l1: Vec<u32>,
    /// Per /24 of a cut /16: its value, `LINE + c` for `lines[c]`, or `FULL + c` for its
    /// addresses at `full[c * 256..]`. Chunk 0 of `l2` and `full` and line 0 are spares, read
    /// (and ignored) by a batch lookup for keys answered otherwise, so that every key takes
    /// the same steps.
    l2: Vec<u32>,
    lines: Vec<Line>,
    full: Vec<u32>,
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
        let mut l2 = vec![0; STRIDE];
        let mut lines = vec![Line::default()];
        let mut full = vec![0; STRIDE];
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
                let entry = if last == seg {
                    values[seg]
                } else if last - seg <= LINE_STARTS {
                    let mut line = Line::default();
                    let k = last - seg;
                    for i in 0..=k {
                        line.values[k - i] = values[seg + i];
                        if i > 0 {
                            line.starts[i - 1] = starts[seg + i] as u8;
                        }
                    }
                    lines.push(line);
                    LINE + (lines.len() - 1) as u32
                } else {
                    let c = full.len() / STRIDE;
                    for low in 0..STRIDE as u32 {
                        advance(&mut seg, first | low);
                        full.push(values[seg]);
                    }
                    FULL + c as u32
                };
                l2.push(entry);
            }
        }
        l2.shrink_to_fit();
        lines.shrink_to_fit();
        full.shrink_to_fit();
        assert!(
            l2.len() / STRIDE < (u32::MAX - CHUNK) as usize
                && lines.len() < (FULL - LINE) as usize
                && full.len() / STRIDE < (u32::MAX - FULL) as usize,
            "too many segments for the IPv4 directory"
        );
        Dir4 {
            l1,
            l2,
            lines,
            full,
            segments: values.len(),
        }
    }

    /// Where the chunk entry `e` (an entry at or above [`CHUNK`]) holds `byte`.
    #[inline(always)]
    fn at(e: u32, byte: u32) -> usize {
        (e.wrapping_sub(CHUNK) as usize) << 8 | (byte & 0xff) as usize
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
            e
        } else if e < FULL {
            self.lines[(e - LINE) as usize].get(key & 0xff)
        } else {
            self.full[Self::at(e - FULL + CHUNK, key)]
        }
    }

    /// The values of many items' keys, as [`Dir4::get`] gives them one by one: `each(i,
    /// value)` for the `i`th item, in order. Software-pipelined over blocks of 16 (`BLOCK`)
    /// items: while block `b`'s first-level entries are prefetched, block `b - 1` reads them
    /// and prefetches its /24 entries, block `b - 2` reads those and prefetches its lines or
    /// address entries, and block `b - 3` reads those and is answered; so every read has a
    /// block's time to arrive. Every item takes the same steps without a branch on its
    /// entries: one answered otherwise reads a spare (in cache) and keeps its value.
    #[inline]
    pub fn get_many_by<A: Copy>(
        &self,
        items: &[A],
        key: impl Fn(A) -> u32,
        mut each: impl FnMut(usize, u32),
    ) {
        const R: usize = 4 * BLOCK; // the items in flight
        let n = items.len();
        let (mut k, mut e) = ([0u32; R], [0u32; R]);
        let (mut at, mut at_full) = ([0u32; R], [0u32; R]);
        // Block `b`'s items (none before the first or after the last), and their place in
        // the ring.
        let block = |b: Option<usize>| {
            b.map_or(0..0, |b| b * BLOCK..n.min((b + 1) * BLOCK))
                .map(|i| (i, i % R))
        };
        let blocks = n.div_ceil(BLOCK);
        for b in 0..blocks + 3 {
            for (i, s) in block(Some(b)) {
                let key = key(items[i]);
                prefetch(self.l1.as_ptr().wrapping_add((key >> 16) as usize));
                k[s] = key;
            }
            for (_, s) in block(b.checked_sub(1)) {
                let v = self.l1[(k[s] >> 16) as usize];
                let a = select(v >= CHUNK, Self::at(v, k[s] >> 8), 0);
                prefetch(self.l2.as_ptr().wrapping_add(a));
                (e[s], at[s]) = (v, a as u32);
            }
            for (_, s) in block(b.checked_sub(2)) {
                let v = select(e[s] >= CHUNK, self.l2[at[s] as usize], e[s]);
                let line = select((CHUNK..FULL).contains(&v), v.wrapping_sub(LINE), 0);
                let full = select(v >= FULL, Self::at(v.wrapping_sub(FULL - CHUNK), k[s]), 0);
                prefetch(self.lines.as_ptr().wrapping_add(line as usize));
                prefetch(self.full.as_ptr().wrapping_add(full));
                (e[s], at[s], at_full[s]) = (v, line, full as u32);
            }
            for (i, s) in block(b.checked_sub(3)) {
                let line = self.lines[at[s] as usize].get(k[s] & 0xff);
                let full = self.full[at_full[s] as usize];
                each(
                    i,
                    select(e[s] >= FULL, full, select(e[s] >= CHUNK, line, e[s])),
                );
            }
        }
    }

    /// Bytes held by the levels.
    pub fn heap_bytes(&self) -> usize {
        (self.l1.capacity() + self.l2.capacity() + self.full.capacity()) * 4
            + self.lines.capacity() * std::mem::size_of::<Line>()
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
        /// Up to 40 prefixes of /24 to /32 in one /24: lines of every length, and chunks.
        #[test]
        fn crowded_24_matches_oracle(v in proptest::collection::vec((0u32..256, 24u32..=32), 0..40)) {
            let ranges = ranges(v.into_iter().map(|(low, len)| (0x0A0B_0C00 | low, len)));
            check(&ranges, 0x0A0B_0BF0..0x0A0B_0D10);
        }

        #[test]
        fn dir_matches_interval_table_and_oracle(ranges in prefixes(), probes in proptest::collection::vec(any::<u32>(), 64), near in proptest::collection::vec((0u32..4, 0u32..1 << 16), 64)) {
            // Probes near the prefixes (the same /16s) as well as anywhere.
            let near = near.into_iter().map(|(a, low)| a << 30 | low);
            check(&ranges, probes.into_iter().chain(near));
        }
    }

    #[test]
    fn whole_space_top_address_and_spare_chunks() {
        check(&[(0, u32::MAX), (u32::MAX, u32::MAX)], []);
        check(&[], [1, 1 << 31]);
        // A /32 at the last address: one cut /16, one /24 in a line, beside the spares.
        let (dir, _) = table(&[(u32::MAX, u32::MAX)]);
        assert_eq!(
            (dir.l2.len(), dir.lines.len(), dir.full.len()),
            (2 * STRIDE, 2, STRIDE)
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
        assert_eq!(dir.lines.len(), 2, "one line, beside the spare");
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
        for (last, lines, chunks) in [(0xff, 2, 1), (12, 1, 2)] {
            let ranges: Vec<(u32, u32)> = [2, 4, 6, 8, 10, last]
                .map(|low| 0x0A0B_0C00 | low)
                .map(|k| (k, k))
                .to_vec();
            let (dir, _) = table(&ranges);
            assert_eq!((dir.lines.len(), dir.full.len() / STRIDE), (lines, chunks));
            check(&ranges, 0x0A0B_0B00..0x0A0B_0D01);
        }
    }
}
