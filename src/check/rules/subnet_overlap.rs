//! Overlapping subnets of one network.

use super::Cx;
use crate::check::overlap;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each pair of subnets of each network.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for v in 0..cx.net.vnets.len() {
        let subs = cx.net.subnets_of(v);
        for (k, &a) in subs.iter().enumerate() {
            for &b in &subs[k + 1..] {
                let (sa, sb) = (&cx.net.subnets[a], &cx.net.subnets[b]);
                for pa in &sa.prefixes {
                    for pb in sb.prefixes.iter().filter(|pb| overlap(pa, pb)) {
                        let inner = if pa.prefix_len() >= pb.prefix_len() {
                            pa
                        } else {
                            pb
                        };
                        out.push(
                            Finding::new(
                                Code::SubnetOverlap,
                                &sb.meta.id,
                                format!("{pb} overlaps {pa} of subnet `{}`", sa.meta.name),
                            )
                            .counterexample(inner.network().to_string()),
                        );
                    }
                }
            }
        }
    }
}
