//! Attached VMs that do not run Ubuntu.

use super::Cx;
use crate::check::model::{ComputeKind, Kind};
use crate::findings::Code;
use crate::findings::Finding;

/// Checks each attached VM's image.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in cx
        .net
        .computes
        .iter()
        .filter(|c| c.kind == ComputeKind::AttachedVm)
    {
        let Some(v) = cx.net.find(Kind::Vm, c.vm.as_deref()) else {
            continue;
        };
        let vm = &cx.net.vms[v];
        let Some((publisher, offer, sku)) = &vm.image else {
            continue;
        };
        let ubuntu = [publisher, offer, sku]
            .iter()
            .any(|x| x.to_ascii_lowercase().contains("ubuntu"))
            || publisher.eq_ignore_ascii_case("Canonical");
        if !ubuntu {
            out.push(Finding::new(
                Code::AttachedVmNotUbuntu,
                &vm.meta.id,
                format!(
                    "attached as `{}` but runs {publisher} {offer} {sku}",
                    c.meta.name
                ),
            ));
        }
    }
}
