//! Attached VMs that do not run Ubuntu.

use super::Cx;
use crate::check::model::{ComputeKind, Kind};
use crate::findings::Finding;

rule! {
    RULE = "TN090", "attached-vm-not-ubuntu", Error,
    summary: "A virtual machine attached to Azure ML as compute does not run Ubuntu.",
    why: "Azure ML supports attached virtual machines running Ubuntu only; jobs on other images fail to start.",
    example: "an attached VM from MicrosoftWindowsServer WindowsServer 2019-Datacenter",
    fix: "Attach a VM from an Ubuntu image (publisher Canonical), e.g. the Data Science VM for Ubuntu.",
    reference: "https://learn.microsoft.com/azure/machine-learning/how-to-attach-compute-targets#remote-virtual-machines",
}

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
            out.push(Finding::of(
                &RULE,
                &vm.meta.id,
                format!(
                    "attached as `{}` but runs {publisher} {offer} {sku}",
                    c.meta.name
                ),
            ));
        }
    }
}
