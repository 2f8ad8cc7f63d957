//! Indexes built from a [`Snapshot`]: every tag containing an address, and per-region tries.
//!
//! [`TagIndex`] answers "which tags hold this address" with **every** containing tag —
//! `AzureCloud`, `AzureCloud.<region>`, `<Service>`, `<Service>.<region>` — each with the
//! matching prefix, for IPv4 and IPv6. Distinct prefixes are swept once into elementary
//! segments, each pointing at a precomputed, name-sorted slice of matches (the closure of its
//! innermost prefix and all prefixes containing it), named by a `u32` packing its offset and
//! length. IPv4 segments go into a [`dir::Dir4`] (fixed strides 16-8-8: at most three reads,
//! no search), IPv6 ones into an [`interval::IntervalTable`] (a directory step, which alone
//! answers most of the address space, else a second step, deeper levels where crowded, and a
//! short search). Then a slice: no allocation.
//!
//! [`RegionIndex`] holds one compressed prefix trie per family and region
//! ([`prefix_trie::PrefixMap`]), for the regional questions (routes, NSG checks) built on top;
//! a region's tries are built the first time it is asked for.
//!
//! Build cost is O(n log n) in the number of (tag, prefix) pairs; families and regions are
//! built in parallel with rayon.

pub mod dir;
pub mod interval;

use crate::snapshot::{Snapshot, TagId};
use dir::Dir4;
use interval::{IntervalTable, NONE, laminar_sweep};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// Index of a distinct prefix in [`TagIndex::prefix`].
pub type PrefixId = u32;

/// One tag containing an address, through one of its prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    /// The tag ([`Snapshot::tag`]).
    pub tag: TagId,
    /// The tag's prefix that contains the address ([`TagIndex::prefix`]).
    pub prefix: PrefixId,
}

/// Bytes an index holds, by part ([`TagIndex::memory`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Memory {
    /// IPv4.
    pub v4: FamilyMemory,
    /// IPv6.
    pub v6: FamilyMemory,
    /// The prefix list ([`TagIndex::prefix`]).
    pub prefixes: usize,
}

/// Bytes of one family of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FamilyMemory {
    /// Segment starts and their match spans (IPv6; the IPv4 table holds its values in its
    /// levels, counted under `directory`).
    pub segments: usize,
    /// The directory on the top bits and its second levels.
    pub directory: usize,
    /// The matches the spans point into, and the spans too long to pack.
    pub matches: usize,
}

impl Memory {
    /// All parts together.
    pub fn total(&self) -> usize {
        let f = |m: &FamilyMemory| m.segments + m.directory + m.matches;
        f(&self.v4) + f(&self.v6) + self.prefixes
    }
}

/// Addresses an IPv6 batch lookup handles at a time.
const BATCH: usize = 64;
/// How many answers ahead of the one given out a batch lookup prefetches its matches.
const AHEAD: usize = 8;

/// How a table segment's `u32` names its span of `matches`: `offset << LEN_BITS | len`, or,
/// for a span too long or too far to pack, `LONG | i` with the span at `long[i]`. A packed span
/// stays below 2^31, so the table's directory can hold it in place of a pointer.
const LEN_BITS: u32 = 7;
const LEN_MAX: u32 = (1 << LEN_BITS) - 1;
const LONG: u32 = 1 << 31;

/// The table of a family's segments: [`Dir4`] for IPv4, [`IntervalTable`] for IPv6.
trait Table: Clone + std::fmt::Debug + Send + Sync {
    type K: interval::Key;
    fn build(segments: impl Iterator<Item = (Self::K, u32)>) -> Self;
    fn get(&self, key: Self::K) -> u32;
    /// The values of many items' keys: `each(i, value)` for the `i`th item, in order.
    fn get_many_by<A: Copy>(
        &self,
        items: &[A],
        key: impl Fn(A) -> Self::K,
        each: impl FnMut(usize, u32),
    );
    /// (segments, directory) bytes.
    fn heap_bytes(&self) -> (usize, usize);
}

impl Table for Dir4 {
    type K = u32;
    fn build(segments: impl Iterator<Item = (u32, u32)>) -> Self {
        Dir4::new(segments)
    }
    #[inline(always)]
    fn get(&self, key: u32) -> u32 {
        Dir4::get(self, key)
    }
    #[inline(always)]
    fn get_many_by<A: Copy>(
        &self,
        items: &[A],
        key: impl Fn(A) -> u32,
        each: impl FnMut(usize, u32),
    ) {
        Dir4::get_many_by(self, items, key, each)
    }
    fn heap_bytes(&self) -> (usize, usize) {
        (0, Dir4::heap_bytes(self))
    }
}

impl Table for IntervalTable<u128> {
    type K = u128;
    fn build(segments: impl Iterator<Item = (u128, u32)>) -> Self {
        IntervalTable::new(segments)
    }
    #[inline(always)]
    fn get(&self, key: u128) -> u32 {
        IntervalTable::get(self, key)
    }
    /// A block of [`BATCH`] keys at a time, the next block's directory entries prefetched
    /// meanwhile.
    #[inline(always)]
    fn get_many_by<A: Copy>(
        &self,
        items: &[A],
        key: impl Fn(A) -> u128,
        mut each: impl FnMut(usize, u32),
    ) {
        let mut keys = [0u128; BATCH];
        for (b, block) in items.chunks(BATCH).enumerate() {
            for &a in items
                .get((b + 1) * BATCH..)
                .unwrap_or_default()
                .iter()
                .take(BATCH)
            {
                self.prefetch_slot(key(a));
            }
            let keys = &mut keys[..block.len()];
            for (k, &a) in keys.iter_mut().zip(block) {
                *k = key(a);
            }
            self.get_many(keys, |i, v| each(b * BATCH + i, v));
        }
    }
    fn heap_bytes(&self) -> (usize, usize) {
        IntervalTable::heap_bytes(self)
    }
}

#[derive(Debug, Clone)]
struct Family<T: Table> {
    table: T,
    matches: Vec<Match>,
    /// Spans that do not pack into a segment's `u32`.
    long: Vec<(u32, u32)>,
}

impl<T: Table> Family<T> {
    /// The `u32` naming span `[s, e)` of `matches`, adding it to `long` if it does not pack.
    fn pack(long: &mut Vec<(u32, u32)>, (s, e): (u32, u32)) -> u32 {
        if e - s <= LEN_MAX && s < LONG >> LEN_BITS {
            s << LEN_BITS | (e - s)
        } else {
            long.push((s, e));
            LONG | (long.len() - 1) as u32
        }
    }

    /// Where the span named by `v` starts and ends in `matches`.
    #[inline(always)]
    fn span(&self, v: u32) -> (usize, usize) {
        if v & LONG == 0 {
            let s = (v >> LEN_BITS) as usize;
            (s, s + (v & LEN_MAX) as usize)
        } else {
            let (s, e) = self.long[(v & !LONG) as usize];
            (s as usize, e as usize)
        }
    }

    /// The matches of one key.
    #[inline(always)]
    fn get(&self, key: T::K) -> &[Match] {
        let (s, e) = self.span(self.table.get(key));
        &self.matches[s..e]
    }

    /// The matches of many addresses: `each(i, run)` with the run of `matches` answering
    /// the `i`th, in order. Each answer's first and last match are prefetched [`AHEAD`]
    /// answers before it is given out (a span of a few matches often crosses a line).
    fn lookup_many<A: Copy>(
        &self,
        ips: &[A],
        key: impl Fn(A) -> T::K,
        mut each: impl FnMut(usize, std::ops::Range<usize>),
    ) {
        const RING: usize = 2 * AHEAD;
        let mut ring = [(0usize, 0usize); RING];
        self.table.get_many_by(ips, key, |i, span| {
            let (s, e) = self.span(span);
            interval::prefetch(self.matches.as_ptr().wrapping_add(s));
            interval::prefetch(self.matches.as_ptr().wrapping_add(e.saturating_sub(1)));
            if let Some(j) = i.checked_sub(AHEAD) {
                let (s, e) = ring[j % RING];
                each(j, s..e);
            }
            ring[i % RING] = (s, e);
        });
        for j in ips.len().saturating_sub(AHEAD)..ips.len() {
            let (s, e) = ring[j % RING];
            each(j, s..e);
        }
    }
}

/// Every tag containing an address, for IPv4 and IPv6, plus per-region tries.
#[derive(Debug, Clone)]
pub struct TagIndex {
    v4: Family<Dir4>,
    v6: Family<IntervalTable<u128>>,
    prefixes: Vec<IpNet>,
    v4_prefix_count: usize,
    regions: BTreeMap<String, LazyRegion>,
}

/// A region's (prefix, tag) pairs, and its tries, built on first use.
#[derive(Debug, Clone, Default)]
struct LazyRegion {
    pairs: Vec<(IpNet, TagId)>,
    tries: OnceLock<RegionIndex>,
}

/// Compressed prefix tries of one region's tags: prefix → tags holding it (sorted by name).
#[derive(Debug, Clone, Default)]
pub struct RegionIndex {
    /// IPv4 prefixes of the region's tags.
    pub v4: PrefixMap<Ipv4Net, Vec<TagId>>,
    /// IPv6 prefixes of the region's tags.
    pub v6: PrefixMap<Ipv6Net, Vec<TagId>>,
}

impl RegionIndex {
    /// Every (tag, prefix) of this region containing `ip`, sorted by tag then prefix.
    pub fn lookup(&self, ip: IpAddr) -> Vec<(TagId, IpNet)> {
        let mut out: Vec<(TagId, IpNet)> = match ip {
            IpAddr::V4(a) => self
                .v4
                .cover(&Ipv4Net::from(a))
                .flat_map(|(p, tags)| tags.iter().map(move |&t| (t, IpNet::V4(p))))
                .collect(),
            IpAddr::V6(a) => self
                .v6
                .cover(&Ipv6Net::from(a))
                .flat_map(|(p, tags)| tags.iter().map(move |&t| (t, IpNet::V6(p))))
                .collect(),
        };
        out.sort_unstable();
        out
    }
}

trait Net: Copy + Send + Sync {
    type K: interval::Key;
    type T: Table<K = Self::K>;
    fn range(&self) -> (Self::K, Self::K);
    fn to_ipnet(self) -> IpNet;
}
impl Net for Ipv4Net {
    type K = u32;
    type T = Dir4;
    fn range(&self) -> (u32, u32) {
        (self.network().into(), self.broadcast().into())
    }
    fn to_ipnet(self) -> IpNet {
        IpNet::V4(self)
    }
}
impl Net for Ipv6Net {
    type K = u128;
    type T = IntervalTable<u128>;
    fn range(&self) -> (u128, u128) {
        (self.network().into(), self.broadcast().into())
    }
    fn to_ipnet(self) -> IpNet {
        IpNet::V6(self)
    }
}

/// Builds one family: returns the family index and its distinct prefixes in id order.
fn build_family<N: Net>(pairs: &mut [(N::K, N::K, TagId, N)]) -> (Family<N::T>, Vec<IpNet>) {
    pairs.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    // Group identical prefixes: node i covers pairs[bounds[i]..bounds[i + 1]].
    let mut ranges: Vec<(N::K, N::K)> = Vec::new();
    let mut bounds: Vec<usize> = Vec::new();
    let mut nets: Vec<IpNet> = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        if ranges.last() != Some(&(p.0, p.1)) {
            ranges.push((p.0, p.1));
            bounds.push(i);
            nets.push(p.3.to_ipnet());
        }
    }
    bounds.push(pairs.len());
    let sweep = laminar_sweep(&ranges);
    // Closure of node i = its own tags + closure of its parent; parents come first.
    let mut closure: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    let mut matches: Vec<Match> = Vec::new();
    let mut scratch: Vec<Match> = Vec::new();
    for (i, parent) in sweep.parents.iter().enumerate() {
        scratch.clear();
        scratch.extend(pairs[bounds[i]..bounds[i + 1]].iter().map(|p| Match {
            tag: p.2,
            prefix: i as u32,
        }));
        if let Some(p) = parent {
            let (s, e) = closure[*p as usize];
            scratch.extend_from_slice(&matches[s as usize..e as usize]);
        }
        scratch.sort_unstable();
        let start = matches.len() as u32;
        matches.extend_from_slice(&scratch);
        closure.push((start, matches.len() as u32));
    }
    let mut long = Vec::new();
    let packed: Vec<u32> = closure
        .iter()
        .map(|&span| Family::<N::T>::pack(&mut long, span))
        .collect();
    let table = N::T::build(sweep.segments.iter().map(|&(k, node)| {
        (
            k,
            if node == NONE {
                0
            } else {
                packed[node as usize]
            },
        )
    }));
    (
        Family {
            table,
            matches,
            long,
        },
        nets,
    )
}

impl TagIndex {
    /// Builds the index of a snapshot.
    ///
    /// ```
    /// # let json = br#"{"changeNumber":1,"cloud":"Public","values":[
    /// #  {"name":"AzureCloud","properties":{"region":"","systemService":"","addressPrefixes":["192.0.2.0/24"]}},
    /// #  {"name":"Storage","properties":{"region":"","systemService":"AzureStorage","addressPrefixes":["192.0.2.128/25"]}}]}"#;
    /// let snap = tagnet::load::from_slice(json, "x")?;
    /// let index = tagnet::TagIndex::build(&snap);
    /// let hits = index.lookup("192.0.2.200".parse().unwrap());
    /// let names: Vec<_> = hits.iter().map(|m| snap.tag(m.tag).name()).collect();
    /// assert_eq!(names, ["AzureCloud", "Storage"]);
    /// assert_eq!(index.prefix(hits[1].prefix).to_string(), "192.0.2.128/25");
    /// # Ok::<(), tagnet::Error>(())
    /// ```
    pub fn build(snap: &Snapshot) -> TagIndex {
        let tags = snap.tags();
        fn pairs<N: Net>(
            tags: &[crate::snapshot::Tag],
            nets: fn(&crate::snapshot::Tag) -> &[N],
        ) -> Vec<(N::K, N::K, TagId, N)> {
            tags.iter()
                .enumerate()
                .flat_map(|(i, t)| {
                    nets(t).iter().map(move |n| {
                        let (s, e) = n.range();
                        (s, e, i as TagId, *n)
                    })
                })
                .collect()
        }
        let (((v4, mut prefixes), (mut v6, v6_nets)), regions) = rayon::join(
            || {
                rayon::join(
                    || build_family::<Ipv4Net>(&mut pairs(tags, |t| t.v4())),
                    || build_family::<Ipv6Net>(&mut pairs(tags, |t| t.v6())),
                )
            },
            || build_regions(snap),
        );
        let v4_prefix_count = prefixes.len();
        for m in &mut v6.matches {
            m.prefix += v4_prefix_count as u32;
        }
        prefixes.extend(v6_nets);
        TagIndex {
            v4,
            v6,
            prefixes,
            v4_prefix_count,
            regions,
        }
    }

    /// Every tag containing an IPv4 address, sorted by tag name then prefix.
    #[inline]
    pub fn lookup_v4(&self, ip: Ipv4Addr) -> &[Match] {
        self.v4.get(u32::from(ip))
    }

    /// Every tag containing an IPv6 address, sorted by tag name then prefix.
    #[inline]
    pub fn lookup_v6(&self, ip: Ipv6Addr) -> &[Match] {
        self.v6.get(u128::from(ip))
    }

    /// [`TagIndex::lookup_v4`] of many addresses: `each(i, matches)` for the `i`th address, in
    /// order. Faster than one lookup at a time: the memory reads of a block of addresses are
    /// in flight together.
    pub fn lookup_many_v4<'s>(
        &'s self,
        ips: &[Ipv4Addr],
        mut each: impl FnMut(usize, &'s [Match]),
    ) {
        let all = &self.v4.matches;
        self.v4
            .lookup_many(ips, u32::from, |i, run| each(i, &all[run]));
    }

    /// [`TagIndex::lookup_v6`] of many addresses, as [`TagIndex::lookup_many_v4`].
    pub fn lookup_many_v6<'s>(
        &'s self,
        ips: &[Ipv6Addr],
        mut each: impl FnMut(usize, &'s [Match]),
    ) {
        let all = &self.v6.matches;
        self.v6
            .lookup_many(ips, u128::from, |i, run| each(i, &all[run]));
    }

    /// Every IPv4 match the index holds. The answer to any IPv4 address is a run of this
    /// list, which [`TagIndex::lookup_many_v4_at`] gives by position: a caller can prepare
    /// something per match once (a rendered row, say) and find an address's by position.
    pub fn matches_v4(&self) -> &[Match] {
        &self.v4.matches
    }

    /// Every IPv6 match the index holds, as [`TagIndex::matches_v4`].
    pub fn matches_v6(&self) -> &[Match] {
        &self.v6.matches
    }

    /// [`TagIndex::lookup_many_v4`] with each answer given as its run of
    /// [`TagIndex::matches_v4`].
    pub fn lookup_many_v4_at(
        &self,
        ips: &[Ipv4Addr],
        each: impl FnMut(usize, std::ops::Range<usize>),
    ) {
        self.v4.lookup_many(ips, u32::from, each);
    }

    /// [`TagIndex::lookup_many_v6`] with each answer given as its run of
    /// [`TagIndex::matches_v6`].
    pub fn lookup_many_v6_at(
        &self,
        ips: &[Ipv6Addr],
        each: impl FnMut(usize, std::ops::Range<usize>),
    ) {
        self.v6.lookup_many(ips, u128::from, each);
    }

    /// Every tag containing an address, sorted by tag name then prefix.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> &[Match] {
        match ip {
            IpAddr::V4(a) => self.lookup_v4(a),
            IpAddr::V6(a) => self.lookup_v6(a),
        }
    }

    /// The distinct prefix with this id.
    pub fn prefix(&self, id: PrefixId) -> IpNet {
        self.prefixes[id as usize]
    }

    /// All distinct prefixes, IPv4 first, each family sorted by address then length.
    pub fn prefixes(&self) -> &[IpNet] {
        &self.prefixes
    }

    /// Number of distinct (IPv4, IPv6) prefixes.
    pub fn distinct_prefixes(&self) -> (usize, usize) {
        (
            self.v4_prefix_count,
            self.prefixes.len() - self.v4_prefix_count,
        )
    }

    /// The index's size in memory, by part (the lazily built per-region tries excluded).
    pub fn memory(&self) -> Memory {
        fn fam<T: Table>(f: &Family<T>) -> FamilyMemory {
            let (segments, directory) = f.table.heap_bytes();
            FamilyMemory {
                segments,
                directory,
                matches: std::mem::size_of_val(&f.matches[..]) + std::mem::size_of_val(&f.long[..]),
            }
        }
        Memory {
            v4: fam(&self.v4),
            v6: fam(&self.v6),
            prefixes: self.prefixes.capacity() * std::mem::size_of::<IpNet>(),
        }
    }

    /// Number of elementary (IPv4, IPv6) segments.
    pub fn segments(&self) -> (usize, usize) {
        (self.v4.table.len(), self.v6.table.len())
    }

    /// The tries of one region (by exact code, see [`Snapshot::resolve_region`]), built on
    /// first use (a region holds a few thousand prefixes: well under a millisecond).
    pub fn region(&self, code: &str) -> Option<&RegionIndex> {
        let lazy = self.regions.get(code)?;
        Some(lazy.tries.get_or_init(|| {
            let mut idx = RegionIndex::default();
            for &(net, id) in &lazy.pairs {
                match net {
                    IpNet::V4(n) => idx.v4.entry(n).or_default().push(id),
                    IpNet::V6(n) => idx.v6.entry(n).or_default().push(id),
                }
            }
            idx
        }))
    }
}

fn build_regions(snap: &Snapshot) -> BTreeMap<String, LazyRegion> {
    snap.regions()
        .map(|code| {
            let mut pairs = Vec::new();
            for &id in snap.region_tags(code) {
                let tag = snap.tag(id);
                pairs.extend(tag.v4().iter().map(|&n| (IpNet::V4(n), id)));
                pairs.extend(tag.v6().iter().map(|&n| (IpNet::V6(n), id)));
            }
            (
                code.to_string(),
                LazyRegion {
                    pairs,
                    tries: OnceLock::new(),
                },
            )
        })
        .collect()
}

/// How a tag's prefix relates to a queried prefix (`lookup PREFIX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The tag's prefix is the query.
    Equals,
    /// The tag's prefix holds the whole query.
    Contains,
    /// The tag's prefix lies inside the query.
    Inside,
}

impl Relation {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Equals => "equals",
            Relation::Contains => "contains",
            Relation::Inside => "inside",
        }
    }
}

/// Every tag prefix that equals, contains or lies inside `query` (optionally only tags of one
/// region code), in tag order then prefix order: what `lookup PREFIX` answers.
pub fn relations(
    snap: &Snapshot,
    query: &IpNet,
    region: Option<&str>,
) -> Vec<(TagId, IpNet, Relation)> {
    let mut out = Vec::new();
    for (id, t) in snap.tags().iter().enumerate() {
        if region.is_some_and(|r| t.region() != r) {
            continue;
        }
        for n in t.prefixes() {
            let relation = if n.contains(query) {
                if n == *query {
                    Relation::Equals
                } else {
                    Relation::Contains
                }
            } else if query.contains(&n) {
                Relation::Inside
            } else {
                continue;
            };
            out.push((id as TagId, n, relation));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches of every length around the pipeline's blocks and the matches' ring (none, fewer
    /// than the ring, a block, several) answer each address once, in order, as one lookup
    /// at a time does, for both families and both forms (matches, runs).
    #[test]
    fn batches_of_every_length_answer_in_order() {
        let json = br#"{"changeNumber":1,"cloud":"Public","values":[
            {"name":"A","properties":{"region":"","systemService":"","addressPrefixes":["10.0.0.0/8","10.1.2.0/24","2001:db8::/32"]}},
            {"name":"B","properties":{"region":"","systemService":"","addressPrefixes":["10.1.2.128/25","10.1.2.7/32","2001:db8:1::/48"]}}]}"#;
        let snap = crate::load::from_slice(json, "t").unwrap();
        let index = TagIndex::build(&snap);
        let v4: Vec<Ipv4Addr> = (0..300u32)
            .map(|i| Ipv4Addr::from(0x0A01_0200 + i * 7 % 512 + (i % 3) * 0x0100_0000))
            .collect();
        let v6: Vec<Ipv6Addr> = (0..300u128)
            .map(|i| Ipv6Addr::from(0x2001_0db8_0000u128 << 80 | (i % 4) << 80 | i))
            .collect();
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 47, 48, 49, 64, 65, 300] {
            let mut got = Vec::new();
            index.lookup_many_v4(&v4[..n], |i, m| got.push((i, m.to_vec())));
            let want: Vec<_> = (0..n)
                .map(|i| (i, index.lookup_v4(v4[i]).to_vec()))
                .collect();
            assert_eq!(got, want, "IPv4, {n} addresses");
            assert!(
                n < 10 || want.iter().any(|(_, m)| m.len() == 2),
                "IPv4 answers vary"
            );
            let mut runs = Vec::new();
            index.lookup_many_v4_at(&v4[..n], |i, r| {
                runs.push((i, index.matches_v4()[r].to_vec()))
            });
            assert_eq!(runs, want, "IPv4 runs, {n} addresses");
            let mut got = Vec::new();
            index.lookup_many_v6(&v6[..n], |i, m| got.push((i, m.to_vec())));
            let want: Vec<_> = (0..n)
                .map(|i| (i, index.lookup_v6(v6[i]).to_vec()))
                .collect();
            assert_eq!(got, want, "IPv6, {n} addresses");
        }
    }

    /// Tags sharing prefixes in numbers around what packs into a segment's `u32`: 130 tags
    /// hold 10.0.0.0/8 and 2000::/3 (whole directory slots, so their long spans must not be
    /// taken for leaf values), one of them also 10.1.2.128/25 (131); 126 tags hold
    /// 198.51.100.0/24 and 127 hold 203.0.113.0/24 (the length field's edge). Every answer is
    /// whole, one at a time and in batches spanning several blocks, in order.
    #[test]
    fn spans_too_long_to_pack_answer_in_full() {
        let tags: Vec<String> = (0..130)
            .map(|i| {
                let mut p = vec!["10.0.0.0/8", "2000::/3"];
                if i == 0 {
                    p.push("10.1.2.128/25");
                }
                if i < 126 {
                    p.push("198.51.100.0/24");
                }
                if i < 127 {
                    p.push("203.0.113.0/24");
                }
                let p: Vec<String> = p.iter().map(|x| format!("\"{x}\"")).collect();
                format!(
                    r#"{{"name":"T{i:03}","properties":{{"region":"","systemService":"","addressPrefixes":[{}]}}}}"#,
                    p.join(",")
                )
            })
            .collect();
        let json = format!(
            r#"{{"changeNumber":1,"cloud":"Public","values":[{}]}}"#,
            tags.join(",")
        );
        let snap = crate::load::from_slice(json.as_bytes(), "x").unwrap();
        let index = TagIndex::build(&snap);
        assert!(!index.v4.long.is_empty() && !index.v6.long.is_empty());
        let cases4: [(&str, usize); 6] = [
            ("10.200.0.1", 130),
            ("10.1.2.200", 131),
            ("198.51.100.7", 126),
            ("203.0.113.7", 127),
            ("192.0.2.1", 0),
            ("11.0.0.0", 0),
        ];
        let ips: Vec<Ipv4Addr> = (0..200).map(|i| cases4[i % 6].0.parse().unwrap()).collect();
        let mut seen = 0;
        index.lookup_many_v4(&ips, |i, ms| {
            assert_eq!(i, seen, "in order");
            seen += 1;
            assert_eq!(ms.len(), cases4[i % 6].1, "{} in a batch", ips[i]);
            assert_eq!(ms, index.lookup_v4(ips[i]));
        });
        assert_eq!(seen, ips.len());
        let ips6: Vec<Ipv6Addr> = (0..100)
            .map(|i| {
                ["2001:db8::1", "3fff::1", "4000::1"][i % 3]
                    .parse()
                    .unwrap()
            })
            .collect();
        let mut seen = 0;
        index.lookup_many_v6(&ips6, |i, ms| {
            seen += 1;
            assert_eq!(ms.len(), [130, 130, 0][i % 3], "{}", ips6[i]);
            assert_eq!(ms, index.lookup_v6(ips6[i]));
        });
        assert_eq!(seen, ips6.len());
        let mut seen = 0;
        index.lookup_many_v4_at(&ips, |i, run| {
            assert_eq!(i, seen, "in order");
            seen += 1;
            assert_eq!(&index.matches_v4()[run], index.lookup_v4(ips[i]));
        });
        assert_eq!(seen, ips.len());
        let mut seen = 0;
        index.lookup_many_v6_at(&ips6, |i, run| {
            seen += 1;
            assert_eq!(&index.matches_v6()[run], index.lookup_v6(ips6[i]));
        });
        assert_eq!(seen, ips6.len());
    }
}
