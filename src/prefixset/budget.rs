//! Budgeted aggregation: at most N prefixes covering every input address, adding the fewest
//! extra addresses, never touching a forbidden set.
//!
//! The exact minimal aggregate's prefixes are the leaves of a compressed binary trie whose
//! inner nodes are the smallest prefixes holding two neighbouring subtrees (covering a subtree
//! with any larger prefix only adds addresses). A tree knapsack over that trie is optimal:
//! `f[v][k]` is the fewest extra addresses that cover v's leaves with exactly k prefixes;
//! a leaf costs 0 with one prefix, an inner node either is taken whole (`size − covered`,
//! unless it touches the forbidden set) or splits k between its children. With arrays capped
//! at N, the work is O(n · N) and the memory O(n · log n + n · log N) entries for n leaves.

use crate::prefixset::{PrefixSet, Ranges, nets_from_bits};
use ipnet::IpNet;

/// Why a budget could not be met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetError {
    /// Input addresses lie in the forbidden set: no cover can avoid them.
    InputForbidden {
        /// The offending input ranges (inclusive).
        ranges: Vec<(u128, u128)>,
    },
    /// Without touching the forbidden set, the input needs more prefixes than allowed.
    TooFew {
        /// The fewest prefixes possible.
        needed: usize,
        /// How many of those are IPv6 prefixes, which are never merged.
        ipv6: usize,
    },
}

/// An aggregation within a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budgeted {
    /// The chosen prefixes (network, length), ascending.
    pub prefixes: Vec<(u128, u8)>,
    /// Addresses covered that were not in the input.
    pub extra_addresses: u128,
    /// Those addresses, as inclusive ranges.
    pub extra_ranges: Vec<(u128, u128)>,
}

/// A budgeted cover of a mixed-family set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetedSet {
    /// The chosen prefixes: IPv4 first, ascending.
    pub prefixes: Vec<IpNet>,
    /// Prefixes the exact aggregate needs.
    pub exact: usize,
    /// IPv4 addresses covered that were not in the input.
    pub extra_addresses: u128,
    /// Those addresses, as prefixes.
    pub extra_prefixes: Vec<IpNet>,
}

/// Covers `set` with at most `max` prefixes: IPv6 stays exact (merging IPv6 would cover
/// astronomically many addresses), IPv4 gets the rest of the budget and the optimal cover
/// from [`budget`], never touching `forbidden`.
pub fn budget_set(
    set: &PrefixSet,
    max: usize,
    forbidden: &PrefixSet,
) -> Result<BudgetedSet, BudgetError> {
    let v4_exact = set.v4.to_prefix_bits(32);
    let v6 = set.v6.to_prefix_bits(128);
    let exact = v4_exact.len() + v6.len();
    if exact <= max {
        return Ok(BudgetedSet {
            prefixes: set.to_prefixes(),
            exact,
            extra_addresses: 0,
            extra_prefixes: Vec::new(),
        });
    }
    let Some(v4_budget) = max.checked_sub(v6.len()) else {
        return Err(BudgetError::TooFew {
            needed: v6.len() + usize::from(!v4_exact.is_empty()),
            ipv6: v6.len(),
        });
    };
    let b = budget(&set.v4, 32, v4_budget, &forbidden.v4).map_err(|e| match e {
        BudgetError::TooFew { needed, .. } => BudgetError::TooFew {
            needed: needed + v6.len(),
            ipv6: v6.len(),
        },
        other => other,
    })?;
    let mut prefixes = nets_from_bits(&b.prefixes, 32);
    prefixes.extend(nets_from_bits(&v6, 128));
    Ok(BudgetedSet {
        prefixes,
        exact,
        extra_addresses: b.extra_addresses,
        extra_prefixes: Ranges::from_ranges(b.extra_ranges).to_prefixes_v4(),
    })
}

const INF: u128 = u128::MAX;

struct Node {
    net: u128,
    len: u8,
    /// Children (inner nodes only).
    kids: Option<(usize, usize)>,
    /// f[k - 1] = fewest extra addresses with exactly k prefixes.
    f: Vec<u128>,
}

fn mask(bits: u32, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        (u128::MAX << (128 - u32::from(len))) >> (128 - bits)
    }
}

fn size(bits: u32, len: u8) -> u128 {
    let host = bits - u32::from(len);
    if host >= 128 {
        u128::MAX
    } else {
        1u128 << host
    }
}

fn last(bits: u32, net: u128, len: u8) -> u128 {
    net | (!mask(bits, len) & (u128::MAX >> (128 - bits)))
}

/// Covers `input` (a family `bits` wide) with at most `max` prefixes, never covering any
/// address of `forbidden`, adding the fewest extra addresses.
///
/// ```
/// use tagnet::{budget::budget, prefixset::Ranges};
/// // 10.0.0.0/24 and 10.0.2.0/24 in one prefix: 10.0.0.0/22, adding 512 addresses.
/// let input = Ranges::from_ranges(vec![(0x0a00_0000, 0x0a00_00ff), (0x0a00_0200, 0x0a00_02ff)]);
/// let b = budget(&input, 32, 1, &Ranges::default()).unwrap();
/// assert_eq!(b.prefixes, vec![(0x0a00_0000, 22)]);
/// assert_eq!(b.extra_addresses, 512);
/// ```
pub fn budget(
    input: &Ranges,
    bits: u32,
    max: usize,
    forbidden: &Ranges,
) -> Result<Budgeted, BudgetError> {
    let clash = input.intersection(forbidden);
    if !clash.is_empty() {
        return Err(BudgetError::InputForbidden {
            ranges: clash.ranges().to_vec(),
        });
    }
    let leaves = input.to_prefix_bits(bits);
    if leaves.len() <= max {
        return Ok(Budgeted {
            prefixes: leaves,
            extra_addresses: 0,
            extra_ranges: Vec::new(),
        });
    }
    if max == 0 {
        return Err(BudgetError::TooFew {
            needed: leaves.len().min(1),
            ipv6: 0,
        });
    }
    let mut nodes: Vec<Node> = Vec::with_capacity(leaves.len() * 2);
    let root = build(&leaves, bits, &mut nodes);
    solve(root, &mut nodes, bits, max, forbidden);
    let f = &nodes[root].f;
    let (best_k, &best) = f
        .iter()
        .enumerate()
        .min_by_key(|&(k, &c)| (c, k))
        .expect("root has at least one entry");
    if best == INF {
        // Find the fewest possible without the cap, to say how many are needed.
        let mut nodes2: Vec<Node> = Vec::with_capacity(leaves.len() * 2);
        let root2 = build(&leaves, bits, &mut nodes2);
        solve(root2, &mut nodes2, bits, leaves.len(), forbidden);
        let needed = nodes2[root2]
            .f
            .iter()
            .position(|&c| c != INF)
            .map_or(leaves.len(), |k| k + 1);
        return Err(BudgetError::TooFew { needed, ipv6: 0 });
    }
    let mut chosen = Vec::new();
    pick(root, best_k + 1, &nodes, &mut chosen);
    chosen.sort_unstable();
    let covered = Ranges::from_ranges(chosen.iter().map(|&(n, l)| (n, last(bits, n, l))).collect());
    // Counted from the ranges: the DP saturates at 2^128 − 1 for the whole IPv6 space.
    let extra = covered.difference(input);
    Ok(Budgeted {
        prefixes: chosen,
        extra_addresses: extra.address_count(),
        extra_ranges: extra.ranges().to_vec(),
    })
}

/// Builds the compressed trie over sorted, disjoint leaves; returns the root's index.
fn build(leaves: &[(u128, u8)], bits: u32, nodes: &mut Vec<Node>) -> usize {
    if let [(net, len)] = *leaves {
        nodes.push(Node {
            net,
            len,
            kids: None,
            f: Vec::new(),
        });
        return nodes.len() - 1;
    }
    let first = leaves[0].0;
    let lastl = leaves[leaves.len() - 1];
    let end = last(bits, lastl.0, lastl.1);
    // Common prefix length of the whole span, within the family width.
    let diff = (first ^ end) << (128 - bits);
    let lcp = diff.leading_zeros().min(bits) as u8;
    let net = first & mask(bits, lcp);
    let split_bit = 1u128 << (bits - 1 - u32::from(lcp));
    let cut = leaves.partition_point(|&(n, _)| n & split_bit == 0);
    let a = build(&leaves[..cut], bits, nodes);
    let b = build(&leaves[cut..], bits, nodes);
    nodes.push(Node {
        net,
        len: lcp,
        kids: Some((a, b)),
        f: Vec::new(),
    });
    nodes.len() - 1
}

fn touches(forbidden: &Ranges, s: u128, e: u128) -> bool {
    let r = forbidden.ranges();
    let i = r.partition_point(|&(_, fe)| fe < s);
    i < r.len() && r[i].0 <= e
}

/// Fills `f` bottom-up (children are always pushed before their parent).
fn solve(_root: usize, nodes: &mut [Node], bits: u32, max: usize, forbidden: &Ranges) {
    let mut covered: Vec<u128> = vec![0; nodes.len()];
    for v in 0..nodes.len() {
        match nodes[v].kids {
            None => {
                nodes[v].f = vec![0];
                covered[v] = size(bits, nodes[v].len);
            }
            Some((a, b)) => {
                covered[v] = covered[a].saturating_add(covered[b]);
                let (fa, fb) = (&nodes[a].f, &nodes[b].f);
                let cap = (fa.len() + fb.len()).min(max);
                let mut f = vec![INF; cap];
                for (i, &ca) in fa.iter().enumerate() {
                    if ca == INF {
                        continue;
                    }
                    for (j, &cb) in fb.iter().enumerate().take(cap.saturating_sub(i + 1)) {
                        if cb == INF {
                            continue;
                        }
                        let k = i + j + 1; // (i + 1) + (j + 1) prefixes, index k
                        let c = ca.saturating_add(cb);
                        if c < f[k] {
                            f[k] = c;
                        }
                    }
                }
                let (net, len) = (nodes[v].net, nodes[v].len);
                if !touches(forbidden, net, last(bits, net, len)) {
                    f[0] = size(bits, len).saturating_sub(covered[v]);
                }
                // Children's arrays are still needed to reconstruct; keep them.
                nodes[v].f = f;
            }
        }
    }
}

/// Chooses prefixes for node v with exactly k of them.
fn pick(v: usize, k: usize, nodes: &[Node], out: &mut Vec<(u128, u8)>) {
    let node = &nodes[v];
    if k == 1 {
        out.push((node.net, node.len));
        return;
    }
    let (a, b) = node.kids.expect("k > 1 only for inner nodes");
    let want = node.f[k - 1];
    let (fa, fb) = (&nodes[a].f, &nodes[b].f);
    for i in 1..k {
        let j = k - i;
        if i <= fa.len()
            && j <= fb.len()
            && fa[i - 1] != INF
            && fb[j - 1] != INF
            && fa[i - 1].saturating_add(fb[j - 1]) == want
        {
            pick(a, i, nodes, out);
            pick(b, j, nodes, out);
            return;
        }
    }
    unreachable!("a split realising f[{k}] exists by construction");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ranges8() -> impl Strategy<Value = Vec<(u128, u128)>> {
        crate::prefixset::tests::ranges8_upto(8)
    }

    /// Oracle: the fewest extra addresses covering the input with at most `max` disjoint
    /// aligned blocks over an 8-bit space, by dynamic programming over positions (an optimal
    /// cover never needs nested prefixes). `None` when impossible.
    fn brute(input: &Ranges, forbidden: &Ranges, max: usize) -> Option<u128> {
        const N: usize = 256;
        let inp: Vec<bool> = (0..N as u128).map(|x| input.contains(x)).collect();
        let bad: Vec<bool> = (0..N as u128).map(|x| forbidden.contains(x)).collect();
        let mut best = vec![vec![u128::MAX; max + 1]; N + 1];
        best[0][0] = 0;
        for p in 0..N {
            for c in 0..=max {
                let cur = best[p][c];
                if cur == u128::MAX {
                    continue;
                }
                if !inp[p] {
                    best[p + 1][c] = best[p + 1][c].min(cur);
                }
                if c == max {
                    continue;
                }
                for k in 0..=8 {
                    let size = 1usize << k;
                    if p % size != 0 || p + size > N || bad[p..p + size].iter().any(|&b| b) {
                        continue;
                    }
                    let extra = inp[p..p + size].iter().filter(|&&x| !x).count() as u128;
                    best[p + size][c + 1] = best[p + size][c + 1].min(cur + extra);
                }
            }
        }
        best[N].iter().copied().min().filter(|&b| b != u128::MAX)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn budget_covers_input_stays_in_budget_and_is_optimal(a in ranges8(), f in ranges8(), max in 1usize..7) {
            let input = Ranges::from_ranges(a);
            let forbidden = Ranges::from_ranges(f).difference(&input);
            match budget(&input, 8, max, &forbidden) {
                Ok(b) => {
                    prop_assert!(b.prefixes.len() <= max);
                    let cover = Ranges::from_ranges(b.prefixes.iter().map(|&(n, l)| (n, last(8, n, l))).collect());
                    prop_assert!(input.difference(&cover).is_empty(), "input not covered");
                    prop_assert!(cover.intersection(&forbidden).is_empty(), "forbidden covered");
                    prop_assert_eq!(b.extra_addresses, cover.difference(&input).address_count());
                    if let Some(best) = brute(&input, &forbidden, max) {
                        prop_assert_eq!(b.extra_addresses, best);
                    }
                }
                Err(BudgetError::TooFew { needed, .. }) => {
                    prop_assert!(needed > max);
                    if let Some(best) = brute(&input, &forbidden, max) {
                        prop_assert!(false, "brute force found {} extra within {}", best, max);
                    }
                }
                Err(e) => prop_assert!(false, "{:?}", e),
            }
        }
    }

    #[test]
    fn forbidden_input_is_refused() {
        let input = Ranges::from_ranges(vec![(10, 20)]);
        let forbidden = Ranges::from_ranges(vec![(15, 15)]);
        assert!(matches!(
            budget(&input, 8, 1, &forbidden),
            Err(BudgetError::InputForbidden { .. })
        ));
    }

    #[test]
    fn whole_ipv6_space_and_top() {
        let input = Ranges::from_ranges(vec![(0, 0), (u128::MAX, u128::MAX)]);
        let b = budget(&input, 128, 1, &Ranges::default()).unwrap();
        assert_eq!(b.prefixes, vec![(0, 0)]);
        assert_eq!(b.extra_addresses, u128::MAX - 1);
    }
}
