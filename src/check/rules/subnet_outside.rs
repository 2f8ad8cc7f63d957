//! A subnet outside its network's address space.

use super::Cx;
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each subnet against its network's spaces.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for (i, s) in cx.net.subnets.iter().enumerate() {
        let Some(v) = cx.net.vnet_of(i) else { continue };
        let spaces = &cx.net.vnets[v].spaces;
        if spaces.is_empty() {
            continue;
        }
        for p in &s.prefixes {
            if !spaces.iter().any(|sp| sp.contains(p)) {
                let shown: Vec<String> = spaces.iter().map(ToString::to_string).collect();
                out.push(
                    Finding::new(
                        Code::SubnetOutsideVnet,
                        &s.meta.id,
                        format!(
                            "{p} is not inside the address space of `{}` ({})",
                            cx.net.vnets[v].meta.name,
                            shown.join(", ")
                        ),
                    )
                    .counterexample(p.network().to_string()),
                );
            }
        }
    }
}
