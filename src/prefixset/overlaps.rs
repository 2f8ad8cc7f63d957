//! Overlap detection among labelled prefixes: every pair where one contains or equals the other.
//!
//! Prefixes are laminar (disjoint or nested), so after sorting by (family, start ascending,
//! length ascending) a sweep with a stack finds, for each prefix, exactly the prefixes that
//! contain it: the stack holds the chain of open containers. Sorting is O(n log n) and runs in
//! parallel; the sweep is O(n + pairs) and runs in parallel over independent top-level groups.
//! The answer is sorted by (outer prefix, outer label, inner prefix, inner label).

use crate::prefixset::prefix_range;
use ipnet::IpNet;
use rayon::prelude::*;

/// A prefix with a label (a tag, a subnet name, a file and line…).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Labelled {
    /// What the prefix belongs to.
    pub label: String,
    /// The prefix (canonical).
    pub prefix: IpNet,
}

/// How two prefixes overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The same prefix.
    Equal,
    /// The outer prefix strictly contains the inner one.
    Contains,
}

/// One overlapping pair, by index into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// The containing (or equal) prefix.
    pub outer: usize,
    /// The contained (or equal) prefix.
    pub inner: usize,
    /// Equal or strictly containing.
    pub relation: Relation,
}

fn key(p: &Labelled) -> (bool, u128, u8) {
    (
        matches!(p.prefix, IpNet::V6(_)),
        prefix_range(&p.prefix).0,
        p.prefix.prefix_len(),
    )
}

/// Every pair of input prefixes where one contains or equals the other.
///
/// ```
/// use tagnet::overlaps::{overlaps, Labelled, Relation};
/// let items: Vec<Labelled> = [("vnet", "10.0.0.0/16"), ("aks-svc", "10.0.128.0/20"), ("other", "192.0.2.0/24")]
///     .iter().map(|(l, p)| Labelled { label: l.to_string(), prefix: p.parse().unwrap() }).collect();
/// let found = overlaps(&items);
/// assert_eq!(found.len(), 1);
/// assert_eq!((found[0].outer, found[0].inner, found[0].relation), (0, 1, Relation::Contains));
/// ```
pub fn overlaps(items: &[Labelled]) -> Vec<Overlap> {
    // Sort by (family, start, length) on compact keys, IPv4 and IPv6 apart, then order each
    // run of equal prefixes by label.
    let mut v4: Vec<(u64, u32)> = Vec::new();
    let mut v6: Vec<(u128, u8, u32)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        match it.prefix {
            IpNet::V4(n) => v4.push((
                u64::from(u32::from(n.network())) << 8 | u64::from(n.prefix_len()),
                i as u32,
            )),
            IpNet::V6(n) => v6.push((u128::from(n.network()), n.prefix_len(), i as u32)),
        }
    }
    rayon::join(|| v4.par_sort_unstable(), || v6.par_sort_unstable());
    let mut order: Vec<usize> = v4
        .iter()
        .map(|&(_, i)| i as usize)
        .chain(v6.iter().map(|&(_, _, i)| i as usize))
        .collect();
    let mut run = 0;
    for i in 1..=order.len() {
        if i == order.len() || items[order[i]].prefix != items[order[run]].prefix {
            if i - run > 1 {
                order[run..i]
                    .sort_unstable_by(|&a, &b| items[a].label.cmp(&items[b].label).then(a.cmp(&b)));
            }
            run = i;
        }
    }
    // Cut into groups no prefix crosses: a new group starts where a prefix begins after every
    // earlier one (of the same family) has ended.
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    let mut reach: Option<(bool, u128)> = None;
    for (i, &ix) in order.iter().enumerate() {
        let (v6, s, _) = key(&items[ix]);
        let (_, e) = prefix_range(&items[ix].prefix);
        match reach {
            Some((f, r)) if f == v6 && s <= r => reach = Some((f, r.max(e))),
            _ => {
                if i > start {
                    groups.push(start..i);
                }
                start = i;
                reach = Some((v6, e));
            }
        }
    }
    if start < order.len() {
        groups.push(start..order.len());
    }
    groups
        .par_iter()
        .flat_map_iter(|g| {
            let mut out = Vec::new();
            let mut stack: Vec<usize> = Vec::new();
            for &ix in &order[g.clone()] {
                let (s, _) = prefix_range(&items[ix].prefix);
                while let Some(&top) = stack.last() {
                    if prefix_range(&items[top].prefix).1 < s {
                        stack.pop();
                    } else {
                        break;
                    }
                }
                for &outer in &stack {
                    let relation = if items[outer].prefix == items[ix].prefix {
                        Relation::Equal
                    } else {
                        Relation::Contains
                    };
                    out.push(Overlap {
                        outer,
                        inner: ix,
                        relation,
                    });
                }
                stack.push(ix);
            }
            out
        })
        .collect()
}

/// The quadratic reference: every ordered pair checked directly, in the same order.
pub fn overlaps_naive(items: &[Labelled]) -> Vec<(usize, usize, Relation)> {
    let mut out = Vec::new();
    for (i, a) in items.iter().enumerate() {
        for (j, b) in items.iter().enumerate() {
            if i == j {
                continue;
            }
            let (sa, ea) = prefix_range(&a.prefix);
            let (sb, eb) = prefix_range(&b.prefix);
            let same_family = matches!(a.prefix, IpNet::V4(_)) == matches!(b.prefix, IpNet::V4(_));
            if same_family && sa <= sb && eb <= ea {
                let rel = if a.prefix == b.prefix {
                    Relation::Equal
                } else {
                    Relation::Contains
                };
                // Equal prefixes form one pair, in sort order.
                if rel == Relation::Equal && (key(a), &a.label, i) > (key(b), &b.label, j) {
                    continue;
                }
                out.push((i, j, rel));
            }
        }
    }
    out.sort_unstable_by_key(|&(i, j, _)| (i, j));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items() -> impl Strategy<Value = Vec<Labelled>> {
        proptest::collection::vec((0u8..4, any::<u32>(), 0u8..=32, any::<bool>()), 0..40).prop_map(
            |v| {
                v.into_iter()
                    .map(|(label, a, len, v6)| {
                        let a = (a & 0xff00_000f) | (0x0a00_0000 * u32::from(a & 1 == 0));
                        let prefix = if v6 {
                            IpNet::V6(
                                ipnet::Ipv6Net::new(
                                    u128::from(a).rotate_right(32).into(),
                                    len.min(128),
                                )
                                .unwrap()
                                .trunc(),
                            )
                        } else {
                            IpNet::V4(ipnet::Ipv4Net::new(a.into(), len).unwrap().trunc())
                        };
                        Labelled {
                            label: format!("L{label}"),
                            prefix,
                        }
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn sweep_equals_quadratic_check(items in items()) {
            let mut fast: Vec<(usize, usize, Relation)> = overlaps(&items).iter().map(|o| (o.outer, o.inner, o.relation)).collect();
            fast.sort_unstable_by_key(|&(i, j, _)| (i, j));
            prop_assert_eq!(fast, overlaps_naive(&items));
        }
    }
}
