//! The input rules: values that cannot be read or evaluated, and references to resources the
//! inputs do not hold.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Code;
use crate::findings::Finding;

/// Reports references that resolve to nothing.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    let mut dangling = |from: &str, what: &str, kind: Kind, r: &Option<String>| {
        if let Some(r) = r
            && net.resolve(kind, r).is_none()
            && !net.unreadable.iter().any(|m| {
                m.keys.contains(&crate::check::model::key_of(r))
                    && crate::check::model::same_scope(m, r)
            })
        {
            out.push(Finding::new(
                Code::DanglingReference,
                from,
                format!("its {what} `{r}` is not among the inputs"),
            ));
        }
    };
    for s in &net.subnets {
        dangling(&s.meta.id, "network", Kind::Vnet, &Some(s.vnet.clone()));
        dangling(&s.meta.id, "NSG", Kind::Nsg, &s.nsg);
        dangling(&s.meta.id, "route table", Kind::Table, &s.route_table);
    }
    for c in &net.clusters {
        for p in &c.pools {
            dangling(
                &c.meta.id,
                &format!("node pool `{}` subnet", p.name),
                Kind::Subnet,
                &p.subnet,
            );
        }
    }
    for c in &net.computes {
        dangling(&c.meta.id, "subnet", Kind::Subnet, &c.subnet);
        dangling(&c.meta.id, "workspace", Kind::Workspace, &c.workspace);
        dangling(&c.meta.id, "virtual machine", Kind::Vm, &c.vm);
    }
    for w in &net.workspaces {
        dangling(&w.meta.id, "storage account", Kind::Store, &w.storage);
        dangling(&w.meta.id, "key vault", Kind::Store, &w.vault);
        dangling(
            &w.meta.id,
            "container registry",
            Kind::Registry,
            &w.registry,
        );
    }
    for s in &net.stores {
        for r in &s.subnets {
            dangling(
                &s.meta.id,
                "network rule's subnet",
                Kind::Subnet,
                &Some(r.clone()),
            );
        }
    }
    // A private endpoint whose subnet the inputs lack is taken as reaching its resource from
    // the compute's VNet: said here, so it is never a silent pass.
    for pe in &net.private_endpoints {
        dangling(&pe.meta.id, "subnet", Kind::Subnet, &pe.subnet);
    }
    for v in &net.vms {
        for n in &v.nics {
            dangling(&v.meta.id, "network interface", Kind::Nic, &Some(n.clone()));
        }
    }
    for n in &net.nics {
        for s in &n.subnets {
            dangling(&n.meta.id, "subnet", Kind::Subnet, &Some(s.clone()));
        }
        dangling(&n.meta.id, "NSG", Kind::Nsg, &n.nsg);
    }
    for g in &net.container_groups {
        dangling(
            &g.meta.id,
            "network profile",
            Kind::NetworkProfile,
            &g.network_profile,
        );
        for s in &g.subnets {
            dangling(&g.meta.id, "subnet", Kind::Subnet, &Some(s.clone()));
        }
    }
    for d in &net.databricks {
        dangling(&d.meta.id, "virtual network", Kind::Vnet, &d.vnet);
    }
}
