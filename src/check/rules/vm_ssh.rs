//! Attached VMs that Azure ML cannot reach over SSH.

use super::Cx;
use crate::check::model::{ComputeKind, Kind};
use crate::findings::Code;
use crate::findings::Finding;
use crate::nsg::eval::Context;
use crate::nsg::reach::{Met, Requirement};
use std::net::IpAddr;

/// Checks each attached VM's NSGs for one address of AzureMachineLearning after another.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    let Ok(tag) = cx.snap.tag_by_name("AzureMachineLearning") else {
        return;
    };
    for c in net
        .computes
        .iter()
        .filter(|c| c.kind == ComputeKind::AttachedVm)
    {
        let Some(vm_i) = net.find(Kind::Vm, c.vm.as_deref()) else {
            continue;
        };
        for nic_ref in &net.vms[vm_i].nics {
            let Some(n) = net.resolve(Kind::Nic, nic_ref) else {
                continue;
            };
            let nic = &net.nics[n];
            let subnet = nic
                .subnets
                .first()
                .and_then(|r| net.resolve(Kind::Subnet, r));
            let local: Option<IpAddr> = nic.addresses.first().copied().or_else(|| {
                subnet
                    .and_then(|s| net.subnets[s].prefixes.first())
                    .and_then(crate::prefixset::first_usable)
            });
            let Some(local) = local else { continue };
            let space = subnet
                .and_then(|s| net.vnet_of(s))
                .map(|v| net.vnets[v].spaces.clone())
                .unwrap_or_default();
            let ctx = Context {
                snapshot: cx.snap,
                vnet: space,
                asgs: cx.asgs.clone(),
            };
            let resolve = |r: Option<&String>| {
                r.and_then(|x| net.resolve(Kind::Nsg, x))
                    .and_then(|i| ctx.resolve(&net.nsgs[i].nsg).ok())
            };
            let sn = resolve(subnet.and_then(|s| net.subnets[s].nsg.as_ref()));
            let nn = resolve(nic.nsg.as_ref());
            let (cs, cn) = (
                sn.as_ref().map(crate::nsg::compile),
                nn.as_ref().map(crate::nsg::compile),
            );
            let decide = |f: &crate::nsg::model::Flow| {
                let v = crate::nsg::verdict(cs.as_ref(), cn.as_ref(), f);
                format!("{} {}", v.nsg, v.rule)
            };
            let t = cx.snap.tag(tag);
            let set = crate::prefixset::PrefixSet::from_prefixes(
                t.prefixes()
                    .filter(|p| p.addr().is_ipv4() == local.is_ipv4()),
            );
            let req = Requirement {
                direction: "Inbound".into(),
                protocol: "Tcp".into(),
                ports: "22".into(),
                tag: t.name().into(),
                why: "Azure ML reaches attached VMs over SSH".into(),
            };
            let c_name = &c.meta.name;
            let c = crate::nsg::reach::check(
                &req,
                t.name(),
                &set,
                sn.as_ref(),
                nn.as_ref(),
                local,
                &decide,
            );
            if c.verdict != Met::Met {
                let mut f = Finding::new(
                    Code::AttachedVmNoSsh,
                    &net.vms[vm_i].meta.id,
                    format!(
                        "inbound TCP 22 from AzureMachineLearning to {local} (attached as `{}`) is {} ({} of {} addresses allowed; blocked by {})",
                        c_name,
                        if c.verdict == Met::NotMet {
                            "denied"
                        } else {
                            "partly denied"
                        },
                        c.addresses_allowed,
                        c.addresses,
                        c.blocked_by.as_deref().unwrap_or("?")
                    ),
                );
                if let Some(ce) = c.counterexample {
                    f = f.counterexample(ce);
                }
                out.push(f);
                break;
            }
        }
    }
}
