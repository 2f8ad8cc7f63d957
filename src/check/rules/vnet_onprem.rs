//! A network's space overlapping on-premises ranges: local network gateways' spaces and the
//! ranges given with `--on-prem`.

use super::Cx;
use crate::check::overlap;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each network's space against every on-premises range.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let ranges = crate::check::on_prem_ranges(cx);
    for vnet in &cx.net.vnets {
        for s in &vnet.spaces {
            for (what, p) in ranges.iter().filter(|(_, p)| overlap(s, p)) {
                let inner = if s.prefix_len() >= p.prefix_len() {
                    s
                } else {
                    p
                };
                out.push(
                    Finding::new(
                        Code::VnetOnPremOverlap,
                        &vnet.meta.id,
                        format!(
                            "the address space {s} of VNet `{}` overlaps {p} of {what}",
                            vnet.meta.name
                        ),
                    )
                    .counterexample(inner.network().to_string()),
                );
            }
        }
    }
}
