//! `nsg analyze` on every NSG of the inputs: rules that never match, rules whose removal
//! changes nothing, opposite rules that overlap, tags the snapshot lacks. The findings keep
//! their `nsg analyze` codes (`TN2xx`).

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;
use crate::nsg::eval::Context;

/// Analyzes each NSG.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for nsg in &cx.net.nsgs {
        // VirtualNetwork: the spaces of the networks whose subnets use this NSG.
        let mut space = Vec::new();
        for (i, s) in cx.net.subnets.iter().enumerate() {
            if cx
                .net
                .find(Kind::Nsg, s.nsg.as_deref())
                .is_some_and(|n| cx.net.nsgs[n].meta.id == nsg.meta.id)
                && let Some(v) = cx.net.vnet_of(i)
            {
                space.extend(cx.net.vnets[v].spaces.iter().copied());
                space.extend(cx.net.vnet_tag_peered_spaces(v));
            }
        }
        let ctx = Context {
            snapshot: cx.snap,
            vnet: space,
            asgs: cx.asgs.clone(),
        };
        for f in crate::nsg::analyze::analyze(&ctx, &nsg.nsg) {
            let mut finding = f.finding;
            finding.resource = format!("{}/{}", nsg.meta.id, f.rule);
            out.push(finding);
        }
    }
}
