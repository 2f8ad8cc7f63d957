//! The compiled evaluator: a cost per flow that does not grow with the number of rules or
//! prefixes.
//!
//! Each dimension of a flow — direction and protocol together, source address, destination
//! address, source port, destination port — is cut into elementary segments, and each segment
//! carries the set of rules that match it there, as a bitset in evaluation order (interned: the
//! few distinct sets are stored once), with a one-word summary of its non-zero words. A flow looks up one bitset per dimension (the address
//! dimensions through [`IntervalTable`]s, the ports through 65,536-entry tables) and the first
//! set bit of their intersection is the deciding rule. Work per flow: two interval lookups, two
//! table reads, one AND of the five summaries and word ANDs only where all five have bits (at most
//! `rules / 64`); building is O(P log P + S · rules / 64) for P
//! prefixes and S segments.

use super::eval::ResolvedNsg;
use super::model::{Access, Direction, Flow, Protocol};
use crate::index::interval::IntervalTable;
use crate::prefixset::PrefixSet;
use std::collections::HashMap;
use std::net::IpAddr;

/// One NSG, compiled.
#[derive(Debug)]
pub struct CompiledNsg {
    /// Name.
    pub name: String,
    /// Per rule in evaluation order: its access and `securityRules/NAME` path.
    pub rules: Vec<(Access, String)>,
    words: usize,
    sets: Vec<u64>,
    /// Per set, bit k set when its word k is not zero (up to 64 words, 4,096 rules).
    summary: Vec<u64>,
    /// Per (direction, flow protocol): the rules of that direction naming that protocol or `*`.
    dir_proto: [u32; 10],
    no_ports: u32,
    src4: IntervalTable<u32>,
    src6: IntervalTable<u128>,
    dst4: IntervalTable<u32>,
    dst6: IntervalTable<u128>,
    /// Per port: an index into `sport_ids` (16 bits keep the table at 128 KiB).
    sport: Vec<u16>,
    sport_ids: Vec<u32>,
    dport: Vec<u16>,
    dport_ids: Vec<u32>,
    /// Direction, protocol and both ports crossed into one set: per (direction-and-protocol
    /// slot, source-port class, destination-port class), the rules matching all three; empty
    /// when that product would exceed [`MAX_CROSS`] entries.
    cross: Vec<u32>,
    /// Per /16 of IPv4 (source, destination): the set id when one segment covers it, else
    /// `CHUNK | c` when the /16's 256 /24s are `flat24[c * 256..]`, each the set id of the one
    /// segment covering that /24 or [`MIXED`] — most addresses answer in one or two reads.
    flat4: [Vec<u32>; 2],
    flat24: [Vec<u32>; 2],
}

/// A /24 that holds several segments.
const MIXED: u32 = u32::MAX;
/// Marks a /16 whose /24s are listed apart.
const CHUNK: u32 = 1 << 31;

/// Per /16 of IPv4, the one set id covering it or `CHUNK | c`, and the chunks: per /24 of those
/// /16s, the one set id covering it or [`MIXED`].
fn flat(segs: &[(u128, u32)]) -> (Vec<u32>, Vec<u32>) {
    // The set id of the one segment covering [start, start + size), if one does; `i` walks on.
    let one = |i: &mut usize, start: u128, size: u128| {
        while *i + 1 < segs.len() && segs[*i + 1].0 <= start {
            *i += 1;
        }
        segs.get(*i + 1)
            .is_none_or(|n| n.0 >= start + size)
            .then_some(segs[*i].1)
    };
    let (mut top, mut chunks) = (Vec::with_capacity(1 << 16), Vec::new());
    let mut i = 0;
    for slot in 0..1u128 << 16 {
        match one(&mut i, slot << 16, 1 << 16) {
            Some(id) => top.push(id),
            None => {
                top.push(CHUNK | (chunks.len() / 256) as u32);
                let mut j = i;
                for sub in 0..256u128 {
                    chunks.push(one(&mut j, slot << 16 | sub << 8, 1 << 8).unwrap_or(MIXED));
                }
            }
        }
    }
    (top, chunks)
}

/// The most entries of the crossed port table (1 MiB); beyond, flows intersect five sets.
const MAX_CROSS: usize = 1 << 18;

struct Interner {
    words: usize,
    sets: Vec<u64>,
    summary: Vec<u64>,
    ids: HashMap<Vec<u64>, u32>,
}

impl Interner {
    fn id(&mut self, bits: &[u64]) -> u32 {
        if let Some(&id) = self.ids.get(bits) {
            return id;
        }
        let id = (self.sets.len() / self.words) as u32;
        self.sets.extend_from_slice(bits);
        let mut summary = 0u64;
        for (k, w) in bits.iter().enumerate().take(64) {
            if *w != 0 {
                summary |= 1 << k;
            }
        }
        self.summary.push(summary);
        self.ids.insert(bits.to_vec(), id);
        id
    }
}

/// Segments of one dimension: (start, bitset id), from rule ranges (inclusive) over `[0, top]`.
fn sweep(
    per_rule: &[Vec<(u128, u128)>],
    top: u128,
    words: usize,
    interner: &mut Interner,
) -> Vec<(u128, u32)> {
    let mut events: Vec<(u128, usize, bool)> = Vec::new();
    for (i, ranges) in per_rule.iter().enumerate() {
        for &(s, e) in ranges {
            events.push((s, i, true));
            if e < top {
                events.push((e + 1, i, false));
            }
        }
    }
    events.sort_unstable_by_key(|e| e.0);
    let mut cur = vec![0u64; words];
    let mut out: Vec<(u128, u32)> = Vec::new();
    let mut k = 0;
    if events.first().is_none_or(|e| e.0 > 0) {
        out.push((0, interner.id(&cur)));
    }
    while k < events.len() {
        let point = events[k].0;
        while k < events.len() && events[k].0 == point {
            let (_, i, add) = events[k];
            if add {
                cur[i / 64] |= 1 << (i % 64);
            } else {
                cur[i / 64] &= !(1 << (i % 64));
            }
            k += 1;
        }
        let id = interner.id(&cur);
        match out.last_mut() {
            Some(last) if last.0 == point => last.1 = id,
            Some(last) if last.1 == id => {}
            _ => out.push((point, id)),
        }
    }
    out
}

/// A port table: per port, an index into the returned list of set ids.
fn ports_table(
    per_rule: &[Vec<(u128, u128)>],
    words: usize,
    interner: &mut Interner,
) -> (Vec<u16>, Vec<u32>) {
    let segs = sweep(per_rule, u16::MAX as u128, words, interner);
    let mut ids: Vec<u32> = Vec::new();
    let mut table = vec![0u16; 1 << 16];
    for (k, &(start, id)) in segs.iter().enumerate() {
        let end = segs.get(k + 1).map_or(1 << 16, |n| n.0 as usize);
        let local = match ids.iter().position(|&x| x == id) {
            Some(i) => i,
            None => {
                ids.push(id);
                ids.len() - 1
            }
        };
        // At most 65,536 segments, so the index fits.
        table[start as usize..end].fill(local as u16);
    }
    (table, ids)
}

impl CompiledNsg {
    /// Compiles a resolved NSG.
    pub fn new(nsg: &ResolvedNsg) -> CompiledNsg {
        let n = nsg.rules.len();
        let words = n.div_ceil(64).max(1);
        let mut interner = Interner {
            words,
            sets: Vec::new(),
            summary: Vec::new(),
            ids: HashMap::new(),
        };
        let mask = |pred: &dyn Fn(usize) -> bool| -> Vec<u64> {
            let mut b = vec![0u64; words];
            for i in (0..n).filter(|&i| pred(i)) {
                b[i / 64] |= 1 << (i % 64);
            }
            b
        };
        let mut dir_proto = [0u32; 10];
        for (d, dir) in [Direction::Inbound, Direction::Outbound]
            .into_iter()
            .enumerate()
        {
            for (slot, p) in Protocol::FLOW.iter().enumerate() {
                let m = mask(&|i| {
                    let r = &nsg.rules[i].rule;
                    r.direction == dir && (r.protocol == Protocol::Any || r.protocol == *p)
                });
                dir_proto[d * 5 + slot] = interner.id(&m);
            }
        }
        let no_ports = interner.id(&mask(&|_| true));
        let v4 = |s: &PrefixSet| s.v4.ranges().to_vec();
        let v6 = |s: &PrefixSet| s.v6.ranges().to_vec();
        let src4: Vec<_> = nsg.rules.iter().map(|r| v4(&r.source)).collect();
        let dst4: Vec<_> = nsg.rules.iter().map(|r| v4(&r.destination)).collect();
        let src6: Vec<_> = nsg.rules.iter().map(|r| v6(&r.source)).collect();
        let dst6: Vec<_> = nsg.rules.iter().map(|r| v6(&r.destination)).collect();
        let table4 = |segs: Vec<(u128, u32)>| {
            IntervalTable::new(segs.into_iter().map(|(s, id)| (s as u32, id)))
        };
        let table6 = |segs: Vec<(u128, u32)>| IntervalTable::new(segs);
        let ports =
            |f: &dyn Fn(&super::eval::Resolved) -> &super::model::Ports| -> Vec<Vec<(u128, u128)>> {
                nsg.rules
                    .iter()
                    .map(|r| {
                        f(r).0
                            .iter()
                            .map(|&(s, e)| (u128::from(s), u128::from(e)))
                            .collect()
                    })
                    .collect()
            };
        let sport_r = ports(&|r| &r.rule.source_ports);
        let dport_r = ports(&|r| &r.rule.destination_ports);
        let s4 = sweep(&src4, u32::MAX as u128, words, &mut interner);
        let d4 = sweep(&dst4, u32::MAX as u128, words, &mut interner);
        let s6 = sweep(&src6, u128::MAX, words, &mut interner);
        let d6 = sweep(&dst6, u128::MAX, words, &mut interner);
        let (sport, sport_ids) = ports_table(&sport_r, words, &mut interner);
        let (dport, dport_ids) = ports_table(&dport_r, words, &mut interner);
        let (f4s, f4d) = (flat(&s4), flat(&d4));
        let mut cross = Vec::new();
        if 10 * sport_ids.len() * dport_ids.len() <= MAX_CROSS {
            let mut bits = vec![0u64; words];
            for (slot, &dp) in dir_proto.iter().enumerate() {
                let has_ports = Protocol::FLOW[slot % 5].has_ports();
                for &sp in &sport_ids {
                    for &pp in &dport_ids {
                        if has_ports {
                            let at = |id: u32, k: usize| interner.sets[id as usize * words + k];
                            for (k, b) in bits.iter_mut().enumerate() {
                                *b = at(dp, k) & at(sp, k) & at(pp, k);
                            }
                            cross.push(interner.id(&bits));
                        } else {
                            cross.push(dp);
                        }
                    }
                }
            }
        }
        CompiledNsg {
            name: nsg.name.clone(),
            rules: nsg
                .rules
                .iter()
                .map(|r| (r.rule.access, r.rule.path()))
                .collect(),
            words,
            sets: interner.sets,
            summary: interner.summary,
            dir_proto,
            no_ports,
            flat4: [f4s.0, f4d.0],
            flat24: [f4s.1, f4d.1],
            src4: table4(s4),
            src6: table6(s6),
            dst4: table4(d4),
            dst6: table6(d6),
            sport,
            sport_ids,
            dport,
            dport_ids,
            cross,
        }
    }

    /// The same NSG evaluated without the crossed port table (five sets a flow, as for rule
    /// sets whose port classes are too many to cross): the tests hold both paths to the oracle.
    pub fn without_cross(mut self) -> CompiledNsg {
        self.cross = Vec::new();
        self
    }

    /// Whether flows use the crossed port table.
    pub fn crossed(&self) -> bool {
        !self.cross.is_empty()
    }

    /// Distinct rule sets stored (a measure of the compiled size).
    pub fn distinct_sets(&self) -> usize {
        self.sets.len() / self.words
    }

    fn addr(&self, ip: IpAddr, source: bool) -> u32 {
        match (ip, source) {
            (IpAddr::V4(a), _) => {
                let (k, side) = (u32::from(a), usize::from(!source));
                let v = self.flat4[side][(k >> 16) as usize];
                if v & CHUNK == 0 {
                    return v;
                }
                let c = ((v & !CHUNK) as usize) << 8 | ((k >> 8) & 0xff) as usize;
                match self.flat24[side][c] {
                    MIXED if source => self.src4.get(k),
                    MIXED => self.dst4.get(k),
                    v => v,
                }
            }
            (IpAddr::V6(a), true) => self.src6.get(u128::from(a)),
            (IpAddr::V6(a), false) => self.dst6.get(u128::from(a)),
        }
    }

    /// The first rule in every one of the sets.
    #[inline]
    fn intersect(&self, ids: &[u32]) -> Option<usize> {
        let w = self.words;
        let word = |k: usize| {
            let mut x = u64::MAX;
            for &id in ids {
                x &= self.sets[id as usize * w + k];
            }
            x
        };
        if w == 2 {
            // Both words at once: no loop, no data-dependent branch.
            let (mut x0, mut x1) = (u64::MAX, u64::MAX);
            for &id in ids {
                x0 &= self.sets[id as usize * 2];
                x1 &= self.sets[id as usize * 2 + 1];
            }
            let both = u128::from(x0) | (u128::from(x1) << 64);
            return (both != 0).then_some(both.trailing_zeros() as usize);
        }
        if w <= 64 {
            // Only the words every set has bits in can hold the answer.
            let mut m = u64::MAX;
            for &id in ids {
                m &= self.summary[id as usize];
            }
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                let x = word(k);
                if x != 0 {
                    return Some(k * 64 + x.trailing_zeros() as usize);
                }
                m &= m - 1;
            }
            return None;
        }
        for k in 0..w {
            let x = word(k);
            if x != 0 {
                return Some(k * 64 + x.trailing_zeros() as usize);
            }
        }
        None
    }

    /// The index of the deciding rule for a flow (into [`CompiledNsg::rules`]).
    #[inline]
    pub fn first(&self, f: &Flow) -> Option<usize> {
        let (src, sport, dst, dport) = f.endpoints();
        let slot = usize::from(f.direction == Direction::Outbound) * 5 + proto_slot(f.protocol);
        let (s, d) = (self.sport[sport as usize], self.dport[dport as usize]);
        if !self.cross.is_empty() {
            let rest = self.cross
                [(slot * self.sport_ids.len() + s as usize) * self.dport_ids.len() + d as usize];
            return self.intersect(&[rest, self.addr(src, true), self.addr(dst, false)]);
        }
        let (sp, dp) = if f.protocol.has_ports() {
            (self.sport_ids[s as usize], self.dport_ids[d as usize])
        } else {
            (self.no_ports, self.no_ports)
        };
        self.intersect(&[
            self.dir_proto[slot],
            self.addr(src, true),
            self.addr(dst, false),
            sp,
            dp,
        ])
    }
}

/// A flow protocol's slot in [`CompiledNsg`]'s direction-and-protocol sets (`*` evaluates as TCP).
fn proto_slot(p: Protocol) -> usize {
    match p {
        Protocol::Tcp | Protocol::Any => 0,
        Protocol::Udp => 1,
        Protocol::Icmp => 2,
        Protocol::Esp => 3,
        Protocol::Ah => 4,
    }
}
