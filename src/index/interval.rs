//! Interval table: the address space cut into elementary segments, each with one value.
//!
//! Prefixes form a laminar family (two prefixes are disjoint or one contains the other), so
//! sweeping them in (start ascending, length ascending) order with a stack yields the segments
//! and, for each prefix, its innermost container (its parent). A lookup is a directory step on
//! the top 16 bits of the key and a binary search inside that bucket: O(log b) where b is the
//! number of segment starts in the bucket (1 for most IPv4 buckets of the real snapshots). A
//! slot that lies in one segment holds its value in the directory itself.

/// An unsigned address key (`u32` for IPv4, `u128` for IPv6).
pub trait Key: Copy + Ord + Send + Sync + std::fmt::Debug + 'static {
    /// The lowest key.
    const ZERO: Self;
    /// The key plus one, or `None` at the top address.
    fn succ(self) -> Option<Self>;
    /// The top [`DIR_BITS`] bits, as a directory slot.
    fn top16(self) -> usize;
    /// The lowest key of directory slot `slot` (`slot < 1 << DIR_BITS`).
    fn slot_start(slot: usize) -> Self;
    /// The highest key of directory slot `slot`.
    fn slot_last(slot: usize) -> Self;
    /// The `bits` bits after the top [`DIR_BITS`]: the second-level directory slot.
    fn sub(self, bits: u32) -> usize;
    /// The lowest key of second-level slot `sub` (of `bits` bits) inside slot `slot`.
    fn sub_start(slot: usize, sub: usize, bits: u32) -> Self;
    /// The most bits a second level may take.
    const MAX_SUB: u32;
}

impl Key for u32 {
    const ZERO: Self = 0;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn top16(self) -> usize {
        (self >> (32 - DIR_BITS)) as usize
    }
    fn slot_start(slot: usize) -> Self {
        (slot as u32) << (32 - DIR_BITS)
    }
    fn slot_last(slot: usize) -> Self {
        Self::slot_start(slot) | (u32::MAX >> DIR_BITS)
    }
    const MAX_SUB: u32 = 16;
    fn sub(self, bits: u32) -> usize {
        // Two shifts, so zero bits give zero.
        (((self << DIR_BITS) >> 1) >> (31 - bits)) as usize
    }
    fn sub_start(slot: usize, sub: usize, bits: u32) -> Self {
        Self::slot_start(slot) | ((sub as u32) << (32 - DIR_BITS - bits))
    }
}

impl Key for u128 {
    const ZERO: Self = 0;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn top16(self) -> usize {
        (self >> (128 - DIR_BITS)) as usize
    }
    fn slot_start(slot: usize) -> Self {
        (slot as u128) << (128 - DIR_BITS)
    }
    fn slot_last(slot: usize) -> Self {
        Self::slot_start(slot) | (u128::MAX >> DIR_BITS)
    }
    const MAX_SUB: u32 = 20;
    fn sub(self, bits: u32) -> usize {
        (((self << DIR_BITS) >> 1) >> (127 - bits)) as usize
    }
    fn sub_start(slot: usize, sub: usize, bits: u32) -> Self {
        Self::slot_start(slot) | ((sub as u128) << (128 - DIR_BITS - bits))
    }
}

/// Bits of the key that index the directory.
pub const DIR_BITS: u32 = 16;
const SLOTS: usize = 1 << DIR_BITS;

/// Marks a segment covered by no range.
pub const NONE: u32 = u32::MAX;

/// Result of [`laminar_sweep`].
#[derive(Debug)]
pub struct Sweep<K> {
    /// For each input range, the index of its innermost strict container.
    pub parents: Vec<Option<u32>>,
    /// Segment starts (ascending, first is zero) and the innermost range covering each, or
    /// [`NONE`].
    pub segments: Vec<(K, u32)>,
}

/// Sweeps distinct laminar inclusive ranges sorted by (start ascending, end descending).
///
/// Ranges that are not laminar or not sorted give an unspecified (but memory-safe) result; the
/// caller builds them from canonical prefixes, which always are.
pub fn laminar_sweep<K: Key>(ranges: &[(K, K)]) -> Sweep<K> {
    let mut parents = Vec::with_capacity(ranges.len());
    let mut segments: Vec<(K, u32)> = vec![(K::ZERO, NONE)];
    let mut stack: Vec<(K, u32)> = Vec::new(); // (end, range index)
    fn push<K: Key>(segments: &mut Vec<(K, u32)>, start: K, value: u32) {
        let last = segments.last_mut().expect("segments starts non-empty");
        if last.0 == start {
            last.1 = value;
        } else if last.1 != value {
            segments.push((start, value));
        }
    }
    fn pop_until<K: Key>(
        stack: &mut Vec<(K, u32)>,
        segments: &mut Vec<(K, u32)>,
        before: Option<K>,
    ) {
        while let Some(&(end, _)) = stack.last() {
            if before.is_some_and(|s| end >= s) {
                break;
            }
            stack.pop();
            if let Some(next) = end.succ() {
                let value = stack.last().map_or(NONE, |&(_, i)| i);
                push(segments, next, value);
            }
        }
    }
    for (i, &(start, end)) in ranges.iter().enumerate() {
        pop_until(&mut stack, &mut segments, Some(start));
        parents.push(stack.last().map(|&(_, p)| p));
        push(&mut segments, start, i as u32);
        stack.push((end, i as u32));
    }
    pop_until(&mut stack, &mut segments, None);
    Sweep { parents, segments }
}

/// Starts a run of a long bucket's search: [`IntervalTable::find`].
const STRIDE: usize = 8;
/// A slot holding more segment starts than this gets a second-level directory.
const DENSE: usize = 2;
/// In a directory entry: the second level's width in bits (0 for a sparse slot) sits above
/// [`BASE`].
const WIDTH_SHIFT: u32 = 26;
/// In a directory entry: where its second level starts in `dir2`.
const BASE: u32 = (1 << WIDTH_SHIFT) - 1;
/// In a directory entry: set when the whole slot lies in one segment, whose value (below
/// 2^31) the entry holds in place of the rest.
const LEAF: u32 = 1 << 31;

/// Segments with a `u32` value each, and a two-level directory: the top [`DIR_BITS`] bits of
/// the key, then, in slots holding many segments, as many more bits as it takes to leave about
/// two segment starts a sub-slot (8 to 16 for IPv4, up to 20 for IPv6, whose space is crowded
/// into a few top-16 slots), so the final binary search spans a handful of starts. A slot
/// that lies in one segment (most of the space, outside the published ranges) holds that
/// segment's value itself: one read answers it.
#[derive(Debug, Clone)]
pub struct IntervalTable<K> {
    starts: Vec<K>,
    /// Every [`STRIDE`]th start (`coarse[j] == starts[j * STRIDE]`), for long buckets.
    coarse: Vec<K>,
    values: Vec<u32>,
    /// Per slot: `LEAF | value`, or `bits << WIDTH_SHIFT | base`, its second level being
    /// `dir2[base..base + 2^bits + 1]`: per sub-slot, the segment holding its first key (the
    /// last entry is the next slot's first). A sparse slot has width 0: one entry, and the
    /// next slot's. Four bytes a slot keep an IPv4 directory at 256 KiB.
    dir: Vec<u32>,
    dir2: Vec<u32>,
}

impl<K: Key> IntervalTable<K> {
    /// Builds from segments with ascending starts, the first starting at zero.
    pub fn new(segments: impl IntoIterator<Item = (K, u32)>) -> Self {
        let mut starts: Vec<K> = Vec::new();
        let mut values: Vec<u32> = Vec::new();
        for (s, v) in segments {
            if values.last() == Some(&v) {
                continue;
            }
            starts.push(s);
            values.push(v);
        }
        assert!(
            starts.first() == Some(&K::ZERO),
            "segments must start at the lowest key"
        );
        // The segment holding `key`, found by a forward scan from `seg`.
        let holding = |seg: &mut usize, key: K| {
            while *seg + 1 < starts.len() && starts[*seg + 1] <= key {
                *seg += 1;
            }
            *seg as u32
        };
        let mut first_seg = Vec::with_capacity(SLOTS + 1);
        let mut seg = 0usize;
        for slot in 0..SLOTS {
            first_seg.push(holding(&mut seg, K::slot_start(slot)));
        }
        first_seg.push((starts.len() - 1) as u32);
        // One run of bucket bounds for the whole key space: a sparse slot adds its first
        // segment, a dense slot one entry per sub-slot; each bucket ends where the next begins.
        let mut dir = Vec::with_capacity(SLOTS);
        let mut dir2 = Vec::with_capacity(SLOTS + 1);
        for slot in 0..SLOTS {
            let (lo, hi) = (first_seg[slot], first_seg[slot + 1]);
            let count = (hi - lo) as usize;
            // About one start a sub-slot (where the starts spread evenly).
            let bits = if count <= DENSE {
                0
            } else {
                count
                    .next_power_of_two()
                    .trailing_zeros()
                    .clamp(1, K::MAX_SUB)
            };
            let base = dir2.len() as u32;
            assert!(base <= BASE, "too many segments for the directory");
            let mut seg = lo as usize;
            for sub in 0..1usize << bits {
                dir2.push(holding(&mut seg, K::sub_start(slot, sub, bits)));
            }
            let mut last = lo as usize;
            let leaf = holding(&mut last, K::slot_last(slot)) == lo && values[lo as usize] < LEAF;
            dir.push(if leaf {
                LEAF | values[lo as usize]
            } else {
                bits << WIDTH_SHIFT | base
            });
        }
        dir2.push(first_seg[SLOTS]);
        dir2.shrink_to_fit();
        assert!(
            starts.len() < BASE as usize && dir2.len() < BASE as usize,
            "too many segments for the directory"
        );
        IntervalTable {
            coarse: starts.iter().copied().step_by(STRIDE).collect(),
            starts,
            values,
            dir,
            dir2,
        }
    }

    /// The value of the segment holding `key`.
    #[inline]
    pub fn get(&self, key: K) -> u32 {
        let a = self.dir[key.top16()];
        if a & LEAF != 0 {
            return a & !LEAF;
        }
        let (lo, hi) = self.bucket(self.sub_index(key, a));
        self.values[self.find(key, lo, hi)]
    }

    /// Where in `dir2` the bucket of `key` starts, given its directory entry `a` (no leaf; for
    /// a leaf, any number).
    #[inline(always)]
    fn sub_index(&self, key: K, a: u32) -> usize {
        // No branch: a sparse slot is a sub-level of width zero.
        (a & BASE) as usize + key.sub((a >> WIDTH_SHIFT) & 31)
    }

    /// The bucket of segments `[lo, hi]` starting at `dir2[i]`.
    #[inline(always)]
    fn bucket(&self, i: usize) -> (u32, u32) {
        (self.dir2[i], self.dir2[i + 1])
    }

    /// The segment of `key` in bucket `[lo, hi]`: a bucket of up to two starts (most of them)
    /// is decided by two comparisons without a branch; a longer one (IPv6's crowded space
    /// makes buckets of hundreds) bisects the every-[`STRIDE`]th starts of `coarse`, which
    /// stay in cache, then counts within one run of [`STRIDE`] starts.
    #[inline(always)]
    fn find(&self, key: K, lo: u32, hi: u32) -> usize {
        let (lo, hi) = (lo as usize, hi as usize);
        if hi - lo > 2 {
            // `starts[lo] <= key`: the run of `lo` is a lower bound.
            let (first, last) = (lo / STRIDE, hi / STRIDE);
            let run = first + self.coarse[first + 1..last + 1].partition_point(|&s| s <= key);
            let base = run * STRIDE;
            let end = hi.min(base + STRIDE - 1);
            return base
                + self.starts[base + 1..end + 1]
                    .iter()
                    .map(|&s| usize::from(s <= key))
                    .sum::<usize>();
        }
        let at = |j: usize| self.starts[(lo + j).min(hi)];
        lo + usize::from(lo < hi && at(1) <= key) + usize::from(lo + 1 < hi && at(2) <= key)
    }

    /// The values of many keys, as [`IntervalTable::get`] gives them one by one: `each(i,
    /// value)` for the `i`th key, in order. In stages over blocks of keys: every key's
    /// directory entry, which answers keys in leaf slots and lists the others (without a
    /// branch), prefetching their buckets; then every listed key's bucket, prefetching the
    /// first start it compares and its value; then their searches. The reads of a block are in flight
    /// together instead of one chain after another, and a key in a leaf slot costs one read.
    #[inline]
    pub fn get_many(&self, keys: &[K], mut each: impl FnMut(usize, u32)) {
        const BLOCK: usize = 32;
        let mut values = [0u32; BLOCK];
        let mut listed = [(0u32, 0u32); BLOCK]; // (key in block, bucket in `dir2`)
        let mut buckets = [(0u32, 0u32); BLOCK];
        for (b, block) in keys.chunks(BLOCK).enumerate() {
            let mut n = 0;
            for (i, &key) in block.iter().enumerate() {
                let a = self.dir[key.top16()];
                values[i] = a & !LEAF;
                let search = usize::from(a & LEAF == 0);
                // A leaf's "bucket" is garbage: 0 instead, so its prefetch is of a cached line.
                let at = self.sub_index(key, a) & search.wrapping_neg();
                prefetch(self.dir2.as_ptr().wrapping_add(at));
                listed[n] = (i as u32, at as u32);
                n += search;
            }
            for (bucket, &(_, at)) in buckets.iter_mut().zip(&listed[..n]) {
                *bucket = self.bucket(at as usize);
                prefetch(self.starts.as_ptr().wrapping_add(bucket.0 as usize + 1));
                prefetch(self.values.as_ptr().wrapping_add(bucket.0 as usize));
            }
            for (&(lo, hi), &(i, _)) in buckets.iter().zip(&listed[..n]) {
                let i = i as usize;
                values[i] = self.values[self.find(block[i], lo, hi)];
            }
            for (i, &v) in values[..block.len()].iter().enumerate() {
                each(b * BLOCK + i, v);
            }
        }
    }

    /// Bytes held: (segment starts and values, directory).
    pub fn heap_bytes(&self) -> (usize, usize) {
        (
            (self.starts.capacity() + self.coarse.capacity()) * std::mem::size_of::<K>()
                + self.values.capacity() * std::mem::size_of::<u32>(),
            (self.dir.capacity() + self.dir2.capacity()) * 4,
        )
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: the table covers the whole key space.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Segments as (start, value), ascending.
    pub fn segments(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        self.starts.iter().copied().zip(self.values.iter().copied())
    }
}

/// Asks the processor to bring the line holding `p` into cache, without waiting for it. Never
/// faults: `p` may point anywhere (it is not read).
#[inline(always)]
#[allow(unsafe_code)] // the one unsafe call of the library; see the SAFETY note
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is in the x86_64 baseline, and a prefetch neither reads nor faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Naive oracle over u8-sized keys placed in the top byte of a u32.
    fn innermost(ranges: &[(u32, u32)], key: u32) -> u32 {
        let mut best = NONE;
        for (i, &(s, e)) in ranges.iter().enumerate() {
            if s <= key && key <= e {
                best = i as u32; // later in sort order = more specific
            }
        }
        best
    }

    fn prefixes_u32() -> impl Strategy<Value = Vec<(u32, u32)>> {
        // Addresses vary in the top and the bottom four bits, so /0, the top address, buckets
        // holding one segment and buckets holding many are all exercised.
        proptest::collection::vec((0u32..16, 0u32..16, 0u32..=32), 0..40).prop_map(|v| {
            let mut r: Vec<(u32, u32)> = v
                .into_iter()
                .map(|(hi, lo, len)| {
                    let size = 1u64 << (32 - len);
                    let start = (u64::from(hi << 28 | lo)) & !(size - 1);
                    (start as u32, (start + size - 1) as u32)
                })
                .collect();
            r.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            r.dedup();
            r
        })
    }

    proptest! {
        #[test]
        fn table_matches_oracle(ranges in prefixes_u32(), probes in proptest::collection::vec(any::<u32>(), 64)) {
            let sweep = laminar_sweep(&ranges);
            let table = IntervalTable::new(sweep.segments.iter().copied());
            let edges = ranges.iter().flat_map(|&(s, e)| [s, e, s.wrapping_sub(1), e.wrapping_add(1)]);
            let keys: Vec<u32> = probes.into_iter().chain(edges).chain([0, u32::MAX]).collect();
            let mut batch = Vec::new();
            table.get_many(&keys, |i, v| {
                assert_eq!(i, batch.len(), "in order");
                batch.push(v);
            });
            prop_assert_eq!(batch.len(), keys.len());
            for (&key, &got) in keys.iter().zip(&batch) {
                prop_assert_eq!(table.get(key), innermost(&ranges, key), "key {:#x}", key);
                prop_assert_eq!(got, innermost(&ranges, key), "batch, key {:#x}", key);
            }
            for (i, p) in sweep.parents.iter().enumerate() {
                let (s, e) = ranges[i];
                let expect = ranges[..i].iter().rposition(|&(ps, pe)| ps <= s && e <= pe).map(|x| x as u32);
                prop_assert_eq!(*p, expect);
            }
        }
    }

    #[test]
    fn whole_space_and_top_address() {
        let ranges = [(0u32, u32::MAX), (u32::MAX, u32::MAX)];
        let table = IntervalTable::new(laminar_sweep(&ranges).segments);
        assert_eq!(table.get(0), 0);
        assert_eq!(table.get(u32::MAX - 1), 0);
        assert_eq!(table.get(u32::MAX), 1);
    }
}
