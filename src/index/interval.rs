//! Interval table: the address space cut into elementary segments, each with one value.
//!
//! Prefixes form a laminar family (two prefixes are disjoint or one contains the other), so
//! sweeping them in (start ascending, length ascending) order with a stack yields the segments
//! and, for each prefix, its innermost container (its parent). A lookup is a directory step on
//! the top 16 bits of the key and a binary search inside that bucket: O(log b) where b is the
//! number of segment starts in the bucket (1 for most IPv4 buckets of the real snapshots).

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
    /// The 8 bits after the top [`DIR_BITS`]: the second-level directory slot.
    fn sub8(self) -> usize;
    /// The lowest key of second-level slot `sub` inside slot `slot`.
    fn sub_start(slot: usize, sub: usize) -> Self;
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
    fn sub8(self) -> usize {
        ((self >> (32 - DIR_BITS - 8)) & 0xff) as usize
    }
    fn sub_start(slot: usize, sub: usize) -> Self {
        Self::slot_start(slot) | ((sub as u32) << (32 - DIR_BITS - 8))
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
    fn sub8(self) -> usize {
        ((self >> (128 - DIR_BITS - 8)) & 0xff) as usize
    }
    fn sub_start(slot: usize, sub: usize) -> Self {
        Self::slot_start(slot) | ((sub as u128) << (128 - DIR_BITS - 8))
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

/// A slot holding more segment starts than this gets a second-level directory.
const DENSE: usize = 8;
/// Marks a directory entry that points at a second-level directory.
const FLAG: u32 = 1 << 31;

/// Segments with a value each, and a two-level directory: the top [`DIR_BITS`] bits of the
/// key, then 8 more bits in slots holding many segments, so the final binary search spans a
/// handful of starts.
#[derive(Debug, Clone)]
pub struct IntervalTable<K, V> {
    starts: Vec<K>,
    values: Vec<V>,
    /// Per slot, and one past the last: the segment holding the slot's first key; or
    /// `FLAG | base` for a dense slot whose second level is `dir2[base..base + 257]` (whose
    /// first entry is that segment). Four bytes a slot keep an IPv4 directory at 256 KiB, so
    /// two tables fit a core's L2 cache.
    dir: Vec<u32>,
    dir2: Vec<u32>,
}

impl<K: Key, V: Copy + PartialEq> IntervalTable<K, V> {
    /// Builds from segments with ascending starts, the first starting at zero.
    pub fn new(segments: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut starts: Vec<K> = Vec::new();
        let mut values: Vec<V> = Vec::new();
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
        let mut dir = Vec::with_capacity(SLOTS + 1);
        let mut dir2 = Vec::new();
        for slot in 0..SLOTS {
            let (lo, hi) = (first_seg[slot], first_seg[slot + 1]);
            if (hi - lo) as usize <= DENSE {
                dir.push(lo);
                continue;
            }
            let base = dir2.len() as u32;
            let mut seg = lo as usize;
            for sub in 0..256 {
                dir2.push(holding(&mut seg, K::sub_start(slot, sub)));
            }
            dir2.push(hi);
            dir.push(FLAG | base);
        }
        dir.push(first_seg[SLOTS]);
        assert!(
            starts.len() < FLAG as usize && dir2.len() < FLAG as usize,
            "too many segments for the directory"
        );
        IntervalTable {
            starts,
            values,
            dir,
            dir2,
        }
    }

    /// The value of the segment holding `key`.
    #[inline]
    pub fn get(&self, key: K) -> V {
        let slot = key.top16();
        let a = self.dir[slot];
        let (lo, hi) = if a & FLAG == 0 {
            let b = self.dir[slot + 1];
            let hi = if b & FLAG == 0 {
                b
            } else {
                self.dir2[(b & !FLAG) as usize]
            };
            (a as usize, hi as usize)
        } else {
            let i = (a & !FLAG) as usize + key.sub8();
            (self.dir2[i] as usize, self.dir2[i + 1] as usize)
        };
        // An empty bucket slice costs a comparison-free partition_point.
        let idx = lo + self.starts[lo + 1..hi + 1].partition_point(|&s| s <= key);
        self.values[idx]
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
    pub fn segments(&self) -> impl Iterator<Item = (K, V)> + '_ {
        self.starts.iter().copied().zip(self.values.iter().copied())
    }
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
        proptest::collection::vec((0u32..16, 0u32..16, 0u32..=32), 0..12).prop_map(|v| {
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
            for key in probes.into_iter().chain(edges).chain([0, u32::MAX]) {
                prop_assert_eq!(table.get(key), innermost(&ranges, key), "key {:#x}", key);
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
