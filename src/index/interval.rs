//! Interval table: the address space cut into elementary segments, each with one value.
//!
//! Prefixes form a laminar family (two prefixes are disjoint or one contains the other), so
//! sweeping them in (start ascending, length ascending) order with a stack yields the segments
//! and, for each prefix, its innermost container (its parent). A lookup is a directory step on
//! the top 16 bits of the key, a second-level step on the next bits, and a search among the
//! few segment starts left (none where the sub-slot lies in one segment, whose value the entry
//! holds). Where a bucket would still hold many starts (IPv6's crowded slots), further levels
//! index the block of keys its starts share, as a path-compressed trie would.

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
    /// The highest key of second-level slot `sub` (of `bits` bits) inside slot `slot`.
    fn sub_last(slot: usize, sub: usize, bits: u32) -> Self;
    /// The most bits a second level may take.
    const MAX_SUB: u32;
    /// The most segment starts a bucket below the directory may hold and still be searched;
    /// one holding more gets a level of its own.
    const SEARCHED: usize;
    /// Bits in a key.
    const BITS: u32;
    /// The `bits` bits of the key above its lowest `shift` bits.
    fn bits_at(self, shift: u32, bits: u32) -> usize;
    /// The key with `j` written at bit `shift` (bits there are zero).
    fn or_at(self, j: usize, shift: u32) -> Self;
    /// The key with its lowest `shift` bits set.
    fn fill_below(self, shift: u32) -> Self;
    /// The key with its lowest `shift` bits cleared.
    fn clear_below(self, shift: u32) -> Self;
    /// The position (0 the lowest) of the highest bit in which the two keys differ; they
    /// differ.
    fn top_diff(self, other: Self) -> u32;
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
    // IPv4's second level leaves short buckets; a deeper level costs more than it saves.
    const SEARCHED: usize = 31;
    fn sub(self, bits: u32) -> usize {
        // Two shifts, so zero bits give zero.
        (((self << DIR_BITS) >> 1) >> (31 - bits)) as usize
    }
    fn sub_start(slot: usize, sub: usize, bits: u32) -> Self {
        Self::slot_start(slot) | ((sub as u32) << (32 - DIR_BITS - bits))
    }
    fn sub_last(slot: usize, sub: usize, bits: u32) -> Self {
        Self::sub_start(slot, sub, bits) | ((u32::MAX >> DIR_BITS) >> bits)
    }
    const BITS: u32 = 32;
    fn bits_at(self, shift: u32, bits: u32) -> usize {
        ((self >> shift) & ((1 << bits) - 1)) as usize
    }
    fn or_at(self, j: usize, shift: u32) -> Self {
        self | (j as u32) << shift
    }
    fn fill_below(self, shift: u32) -> Self {
        self | (((1u64 << shift) - 1) as u32)
    }
    fn clear_below(self, shift: u32) -> Self {
        self & !(((1u64 << shift) - 1) as u32)
    }
    fn top_diff(self, other: Self) -> u32 {
        31 - (self ^ other).leading_zeros()
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
    // IPv6's crowded slots leave buckets of thousands: levels over the blocks they share.
    const SEARCHED: usize = DENSE;
    fn sub(self, bits: u32) -> usize {
        (((self << DIR_BITS) >> 1) >> (127 - bits)) as usize
    }
    fn sub_start(slot: usize, sub: usize, bits: u32) -> Self {
        Self::slot_start(slot) | ((sub as u128) << (128 - DIR_BITS - bits))
    }
    fn sub_last(slot: usize, sub: usize, bits: u32) -> Self {
        Self::sub_start(slot, sub, bits) | ((u128::MAX >> DIR_BITS) >> bits)
    }
    const BITS: u32 = 128;
    fn bits_at(self, shift: u32, bits: u32) -> usize {
        ((self >> shift) as usize) & ((1 << bits) - 1)
    }
    fn or_at(self, j: usize, shift: u32) -> Self {
        self | (j as u128) << shift
    }
    fn fill_below(self, shift: u32) -> Self {
        if shift == 0 {
            self
        } else {
            self | (u128::MAX >> (128 - shift))
        }
    }
    fn clear_below(self, shift: u32) -> Self {
        self & !Self::ZERO.fill_below(shift)
    }
    fn top_diff(self, other: Self) -> u32 {
        127 - (self ^ other).leading_zeros()
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
/// In a directory or second-level entry: set when the whole slot lies in one segment, whose
/// value (below 2^31) the entry holds in place of the rest.
const LEAF: u32 = 1 << 31;
/// In a second-level entry that is no leaf: set when it is described at `wide[rest]` (a
/// deeper level, or a bucket too long to pack); else the entry is
/// `(hi - lo) << COUNT_SHIFT | lo`.
const WIDE: u32 = 1 << 30;
/// The most bits a level below the second takes.
const MAX_DEEP: u32 = 12;

/// A second-level (or deeper) entry whose bucket `[lo, hi]` holds more than [`DENSE`]
/// starts: a further level of `2^bits` entries at `dir2[base..]` over `first..=last`, the
/// block of keys sharing the bits above the highest bit in which the bucket's inner starts
/// differ, indexed by the key's `bits` bits above its lowest `shift`. A key below that
/// block lies in segment `lo`, above it in `hi`. With `bits` zero, no level: the bucket is
/// searched.
#[derive(Debug, Clone, Copy)]
struct Wide<K> {
    first: K,
    last: K,
    lo: u32,
    hi: u32,
    base: u32,
    shift: u8,
    bits: u8,
}
const COUNT_SHIFT: u32 = 25;
const LO: u32 = (1 << COUNT_SHIFT) - 1;

/// Segments with a `u32` value each, and a two-level directory: the top [`DIR_BITS`] bits of
/// the key, then, in slots holding many segments, as many more bits as it takes to leave about
/// one segment start a sub-slot (8 to 16 for IPv4, up to 20 for IPv6, whose space is crowded
/// into a few top-16 slots), so the final search spans a handful of starts. A slot or sub-slot
/// that lies in one segment (most of the space, outside the published ranges) holds that
/// segment's value itself: one read answers it. A sub-slot whose bucket holds more than
/// [`Key::SEARCHED`] starts gets a level of its own (a `Wide`) over the block of keys its
/// starts share, and so on down.
#[derive(Debug, Clone)]
pub struct IntervalTable<K> {
    starts: Vec<K>,
    /// Every [`STRIDE`]th start (`coarse[j] == starts[j * STRIDE]`), for long buckets.
    coarse: Vec<K>,
    values: Vec<u32>,
    /// Per slot: `LEAF | value`, or `bits << WIDTH_SHIFT | base`, its second level being
    /// `dir2[base..base + 2^bits]`. A sparse slot has width 0: one entry. Four bytes a slot
    /// keep an IPv4 directory at 256 KiB.
    dir: Vec<u32>,
    /// Per sub-slot: `LEAF | value` when it lies in one segment, else its bucket of segments
    /// `[lo, hi]` (the segments holding its first and last keys): packed, or
    /// `WIDE | i` for `wide[i]`; deeper levels' entries follow, alike.
    dir2: Vec<u32>,
    wide: Vec<Wide<K>>,
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
        // A sparse slot adds one entry, a dense slot one per sub-slot.
        let mut dir = Vec::with_capacity(SLOTS);
        let mut dir2 = Vec::with_capacity(SLOTS);
        let mut wide = Vec::new();
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
            dir2.resize(dir2.len() + (1 << bits), 0);
            let (mut first, mut last) = (lo as usize, lo as usize);
            for sub in 0..1usize << bits {
                let start = K::sub_start(slot, sub, bits);
                let bucket = (
                    holding(&mut first, start),
                    holding(&mut last, K::sub_last(slot, sub, bits)),
                );
                let e = Self::entry(
                    &starts,
                    &values,
                    (&mut dir2, &mut wide),
                    (start, K::BITS - DIR_BITS - bits),
                    bucket,
                );
                dir2[base as usize + sub] = e;
            }
            let mut last = lo as usize;
            let leaf = holding(&mut last, K::slot_last(slot)) == lo && values[lo as usize] < LEAF;
            dir.push(if leaf {
                LEAF | values[lo as usize]
            } else {
                bits << WIDTH_SHIFT | base
            });
        }
        assert!(
            starts.len() <= LO as usize,
            "too many segments for the directory"
        );
        dir2.shrink_to_fit();
        assert!(
            dir2.len() < BASE as usize && wide.len() < WIDE as usize,
            "too many segments for the directory"
        );
        IntervalTable {
            coarse: starts.iter().copied().step_by(STRIDE).collect(),
            starts,
            values,
            dir,
            dir2,
            wide,
        }
    }

    /// The entry of the keys `start..=start.fill_below(shift)`, which lie in segments
    /// `lo..=hi`: a leaf, a packed bucket, or a [`Wide`] (with a deeper level appended to
    /// `dir2` when its bucket is long and bits remain).
    fn entry(
        starts: &[K],
        values: &[u32],
        (dir2, wide): (&mut Vec<u32>, &mut Vec<Wide<K>>),
        (start, shift): (K, u32),
        (lo, hi): (u32, u32),
    ) -> u32 {
        if lo == hi && values[lo as usize] < LEAF {
            return LEAF | values[lo as usize];
        }
        let count = (hi - lo) as usize;
        if (count <= K::SEARCHED || shift == 0) && count < 1 << (30 - COUNT_SHIFT) && lo <= LO {
            return (hi - lo) << COUNT_SHIFT | lo;
        }
        // The block of keys sharing the bits above the highest one in which the inner starts
        // (all but `lo`'s, which may lie before `start`) differ.
        let (s1, s2) = (starts[lo as usize + 1], starts[hi as usize]);
        let (first, top) = if count <= K::SEARCHED || shift == 0 || s1 == s2 {
            (start, 0)
        } else {
            let top = s1.top_diff(s2) + 1;
            (s1.clear_below(top), top)
        };
        let bits = if top == 0 {
            0
        } else {
            count
                .next_power_of_two()
                .trailing_zeros()
                .clamp(1, MAX_DEEP.min(top))
        };
        let at = wide.len();
        assert!(at < WIDE as usize, "too many segments for the directory");
        let base = dir2.len();
        wide.push(Wide {
            first,
            last: first.fill_below(top),
            lo,
            hi,
            base: base as u32,
            shift: (top - bits) as u8,
            bits: bits as u8,
        });
        dir2.resize(base + (1 << bits), 0);
        let run = &starts[lo as usize..=hi as usize];
        let holding = |key: K| lo + (run.partition_point(|&s| s <= key) - 1) as u32;
        for j in 0..1usize << bits {
            let child = first.or_at(j, top - bits);
            let bucket = (holding(child), holding(child.fill_below(top - bits)));
            dir2[base + j] = Self::entry(starts, values, (dir2, wide), (child, top - bits), bucket);
        }
        if bits == 0 {
            dir2.truncate(base);
        }
        WIDE | at as u32
    }

    /// The value of the segment holding `key`.
    #[inline]
    pub fn get(&self, key: K) -> u32 {
        let a = self.dir[key.top16()];
        if a & LEAF != 0 {
            return a & !LEAF;
        }
        let e = self.descend(key, self.dir2[self.sub_index(key, a)]);
        if e & LEAF != 0 {
            return e & !LEAF;
        }
        let (lo, hi) = self.bucket(e);
        self.values[self.find(key, lo, hi)]
    }

    /// Where in `dir2` the bucket of `key` starts, given its directory entry `a` (no leaf; for
    /// a leaf, any number).
    #[inline(always)]
    fn sub_index(&self, key: K, a: u32) -> usize {
        // No branch: a sparse slot is a sub-level of width zero.
        (a & BASE) as usize + key.sub((a >> WIDTH_SHIFT) & 31)
    }

    /// From second-level entry `e` of `key`, through the deeper levels: a leaf, a packed
    /// bucket, or a [`Wide`] with no level below.
    #[inline(always)]
    fn descend(&self, key: K, mut e: u32) -> u32 {
        while e & (LEAF | WIDE) == WIDE {
            match self.step(key, e) {
                Ok(at) => e = self.dir2[at],
                Err(last) => return last,
            }
        }
        e
    }

    /// One level down from `Wide` entry `e` of `key`: `Ok` with where in `dir2` its entry
    /// of the level below is, or `Err` with its final entry (`e` itself when no level is
    /// below, the packed bucket of segment `lo` or `hi` for a key outside the level's block).
    #[inline(always)]
    fn step(&self, key: K, e: u32) -> Result<usize, u32> {
        let w = &self.wide[(e & !WIDE) as usize];
        if w.bits == 0 {
            Err(e)
        } else if key < w.first {
            Err(w.lo)
        } else if key > w.last {
            Err(w.hi)
        } else {
            Ok(w.base as usize + key.bits_at(u32::from(w.shift), u32::from(w.bits)))
        }
    }

    /// The bucket of segments `[lo, hi]` of entry `e` (no leaf) as [`Self::descend`] leaves it.
    #[inline(always)]
    fn bucket(&self, e: u32) -> (u32, u32) {
        if e & WIDE != 0 {
            let w = &self.wide[(e & !WIDE) as usize];
            return (w.lo, w.hi);
        }
        let lo = e & LO;
        (lo, lo + (e >> COUNT_SHIFT))
    }

    /// The segment of `key` in bucket `[lo, hi]`: a bucket of up to two starts (most of them)
    /// is decided by two comparisons without a branch; a longer one (up to
    /// [`Key::SEARCHED`] starts) bisects the every-[`STRIDE`]th starts of `coarse`, which stay
    /// in cache, then counts within one run of [`STRIDE`] starts.
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
    /// directory entry (a caller that knows its next keys prefetches theirs with
    /// [`IntervalTable::prefetch_slot`] meanwhile), which answers keys in
    /// leaf slots and lists the others (without a branch), prefetching their second-level
    /// entries; then those entries, which answer keys in leaf sub-slots and list the rest,
    /// prefetching the first start each compares and its value; then their searches. The
    /// reads of a block are in flight together instead of one chain after another, and a key
    /// in a leaf slot costs one read.
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
            // Second-level entries (in `listed[j].1` from here on), taken down the deeper
            // levels a level at a time for all keys together, each level's reads prefetched
            // before any is used.
            for entry in &mut listed[..n] {
                entry.1 = self.dir2[entry.1 as usize];
            }
            let mut work = [0u8; BLOCK];
            let mut w = 0;
            for (j, &(_, e)) in listed[..n].iter().enumerate() {
                work[w] = j as u8;
                w += usize::from(e & (LEAF | WIDE) == WIDE);
            }
            while w > 0 {
                for &j in &work[..w] {
                    let e = listed[usize::from(j)].1;
                    prefetch(self.wide.as_ptr().wrapping_add((e & !WIDE) as usize));
                }
                let mut next = 0;
                for k in 0..w {
                    let j = usize::from(work[k]);
                    let (i, e) = listed[j];
                    match self.step(block[i as usize], e) {
                        Ok(at) => {
                            prefetch(self.dir2.as_ptr().wrapping_add(at));
                            listed[j].1 = at as u32;
                            work[next] = j as u8;
                            next += 1;
                        }
                        Err(e) => listed[j].1 = e,
                    }
                }
                w = 0;
                for k in 0..next {
                    let j = usize::from(work[k]);
                    let e = self.dir2[listed[j].1 as usize];
                    listed[j].1 = e;
                    work[w] = j as u8;
                    w += usize::from(e & (LEAF | WIDE) == WIDE);
                }
            }
            // Final entries: a leaf answers, the others are listed again with their buckets,
            // whose first start and value are prefetched.
            let mut m = 0;
            for j in 0..n {
                let (i, e) = listed[j];
                values[i as usize] = e & !LEAF;
                let search = u32::from(e & LEAF == 0);
                // A leaf's "bucket" is garbage: entry 0 instead, a bucket of segment 0.
                let bucket = self.bucket(e & search.wrapping_neg());
                prefetch(self.starts.as_ptr().wrapping_add(bucket.0 as usize + 1));
                prefetch(self.values.as_ptr().wrapping_add(bucket.0 as usize));
                buckets[m] = bucket;
                listed[m].0 = i;
                m += search as usize;
            }
            for (&(lo, hi), &(i, _)) in buckets.iter().zip(&listed[..m]) {
                let i = i as usize;
                values[i] = self.values[self.find(block[i], lo, hi)];
            }
            for (i, &v) in values[..block.len()].iter().enumerate() {
                each(b * BLOCK + i, v);
            }
        }
    }

    /// Brings the directory entry of `key` into cache, without waiting: a caller that knows
    /// its next keys early calls this for them before [`IntervalTable::get_many`].
    #[inline(always)]
    pub fn prefetch_slot(&self, key: K) {
        prefetch(self.dir.as_ptr().wrapping_add(key.top16()));
    }

    /// Bytes held: (segment starts and values, directory).
    pub fn heap_bytes(&self) -> (usize, usize) {
        (
            (self.starts.capacity() + self.coarse.capacity()) * std::mem::size_of::<K>()
                + self.values.capacity() * std::mem::size_of::<u32>(),
            (self.dir.capacity() + self.dir2.capacity()) * 4
                + self.wide.capacity() * std::mem::size_of::<Wide<K>>(),
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
#[allow(unsafe_code)] // one of the two unsafe blocks of the library (the other: `dir::Block`); see the SAFETY note
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

    /// Innermost containing range of `key` in sorted laminar ranges, by brute force.
    fn innermost_u128(ranges: &[(u128, u128)], key: u128) -> u32 {
        ranges
            .iter()
            .rposition(|&(s, e)| s <= key && key <= e)
            .map_or(NONE, |i| i as u32)
    }

    /// Prefixes crowded as IPv6's are: a few top-16 slots, and inside them clusters at two
    /// depths (bits 64..80 and the lowest 8), so buckets of every length, deeper levels and
    /// keys outside a level's block all occur.
    fn prefixes_u128() -> impl Strategy<Value = Vec<(u128, u128)>> {
        proptest::collection::vec((0u128..3, 0u128..16, 0u128..256, 0u32..=128), 0..160).prop_map(
            |v| {
                let mut r: Vec<(u128, u128)> = v
                    .into_iter()
                    .map(|(top, mid, low, len)| {
                        let key = (0x2603 + top) << 112 | mid << 60 | low;
                        let host = u128::MAX.checked_shr(len).unwrap_or(0);
                        (key & !host, key | host)
                    })
                    .collect();
                r.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                r.dedup();
                r
            },
        )
    }

    proptest! {
        #[test]
        fn table_matches_oracle_u128(ranges in prefixes_u128(), probes in proptest::collection::vec(any::<u128>(), 32)) {
            let table = IntervalTable::new(laminar_sweep(&ranges).segments);
            let edges = ranges.iter().flat_map(|&(s, e)| [s, e, s.wrapping_sub(1), e.wrapping_add(1)]);
            let keys: Vec<u128> = probes.into_iter().chain(edges).chain([0, u128::MAX]).collect();
            let mut batch = Vec::new();
            table.get_many(&keys, |_, v| batch.push(v));
            for (&key, &got) in keys.iter().zip(&batch) {
                let want = innermost_u128(&ranges, key);
                prop_assert_eq!(table.get(key), want, "key {:#x}", key);
                prop_assert_eq!(got, want, "batch, key {:#x}", key);
            }
        }

        /// Many prefixes in one top-16 slot of IPv4: buckets too long to pack and deeper levels.
        #[test]
        fn crowded_slot_matches_oracle(v in proptest::collection::vec((0u32..1 << 16, 16u32..=32), 0..400), probes in proptest::collection::vec(0u32..1 << 16, 64)) {
            let mut ranges: Vec<(u32, u32)> = v
                .into_iter()
                .map(|(low, len)| {
                    let host = u32::MAX.checked_shr(len).unwrap_or(0);
                    let key = 0x0A0B_0000 | low;
                    (key & !host, key | host)
                })
                .collect();
            ranges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            ranges.dedup();
            let table = IntervalTable::new(laminar_sweep(&ranges).segments);
            let keys: Vec<u32> = probes.into_iter().map(|p| 0x0A0B_0000 | p).chain(ranges.iter().flat_map(|&(s, e)| [s, e, s - 1, e + 1])).collect();
            let mut batch = Vec::new();
            table.get_many(&keys, |_, v| batch.push(v));
            for (&key, &got) in keys.iter().zip(&batch) {
                prop_assert_eq!(table.get(key), innermost(&ranges, key), "key {:#x}", key);
                prop_assert_eq!(got, innermost(&ranges, key), "batch, key {:#x}", key);
            }
        }

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

    /// The deeper levels exist where the tests above need them: 300 adjacent /32s in one
    /// top-16 slot, and 200 /64s in one /48 of IPv6 (a level over the block they share, keys
    /// on either side of it answered from the bucket's ends).
    #[test]
    fn crowded_slots_get_deeper_levels() {
        let mut v4: Vec<(u32, u32)> = (0..300u32)
            .map(|i| 0x0A0B_0000 | i)
            .map(|k| (k, k))
            .collect();
        v4.sort();
        v4.dedup();
        let table = IntervalTable::new(laminar_sweep(&v4).segments);
        assert!(table.wide.iter().any(|w| w.bits > 0));
        for k in (0x0A0B_0000u32..=0x0A0B_FFFF)
            .step_by(7)
            .chain(v4.iter().map(|r| r.0))
        {
            assert_eq!(table.get(k), innermost(&v4, k), "{k:#x}");
        }
        let v6: Vec<(u128, u128)> = (0..200u128)
            .map(|i| {
                let s = (0x2603_1000_0000_0000u128 << 64) | (i << 64);
                (s, s | u128::from(u64::MAX))
            })
            .collect();
        let table = IntervalTable::new(laminar_sweep(&v6).segments);
        assert!(
            table
                .wide
                .iter()
                .any(|w| w.bits > 0 && w.first > Key::slot_start(0x2603))
        );
        let probes = [
            0x2603u128 << 112,
            (0x2603_1000u128 << 96) - 1,
            0x2603_1000u128 << 96,
            (0x2603_1000_0000_00C8u128 << 64),
            (0x2603_1000_0000_00C7u128 << 64) | 5,
            u128::MAX,
        ];
        for k in probes
            .into_iter()
            .chain(v6.iter().flat_map(|r| [r.0, r.1, r.0 - 1]))
        {
            assert_eq!(table.get(k), innermost_u128(&v6, k), "{k:#x}");
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
