//! The input rules: values that cannot be read or evaluated, and references to resources the
//! inputs do not hold.

use super::Cx;
use crate::check::model::Kind;
use crate::findings::Finding;

rule! {
    DANGLING = "TN097", "dangling-reference", Warning,
    summary: "A resource refers to another that the inputs do not hold.",
    why: "Subnets, NSGs, route tables, computes and clusters find each other by id. A reference to a resource that is not among the inputs cannot be checked, and in a template it often means a typo that fails the deployment.",
    example: "a compute cluster whose subnet.id names `vnet-ml/subnets/training`, while the VNet has only `compute`",
    fix: "Add the referenced resource's JSON to the inputs (`az … show -o json`), or correct the id.",
    reference: "https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#resourceid",
}

rule! {
    DUPLICATE = "TN096", "duplicate-resource", Warning,
    summary: "The same resource is read from two files; the last one read is checked.",
    why: "Two exports of one resource (or two templates declaring it) may differ; tagnet checks one of them, and counting both would double the addresses a subnet needs.",
    example: "`compute.json` and `all.json` both holding the compute cluster `cpu-cluster`",
    fix: "Give each resource once: remove the stale export, or check the networks one at a time.",
    reference: "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules",
}

rule! {
    CANNOT_EVALUATE = "TN098", "cannot-evaluate", Warning,
    summary: "An ARM template value is an expression tagnet does not evaluate offline.",
    why: "tagnet evaluates parameters (given with --parameters or their defaults), variables, resourceId, concat, format, toLower, toUpper and string; anything else (reference(), resourceGroup(), copyIndex() …) depends on the deployment. The value is left out rather than guessed, so the checks that need it are skipped.",
    example: "`\"location\": \"[resourceGroup().location]\"`",
    fix: "Give the value in a parameters file with --parameters FILE, or check the deployed resources' `az … show -o json` instead.",
    reference: "https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions",
}

rule! {
    BAD_VALUE = "TN099", "bad-value", Error,
    summary: "A value in the network definition is not valid: not a CIDR prefix, or a resource that cannot be read.",
    why: "Azure rejects the deployment, or reads something other than what was meant (a prefix with host bits set is read as its network).",
    example: "`\"addressPrefix\": \"10.0.1.0/33\"`",
    fix: "Write the value as Azure expects it: ADDRESS/LENGTH with the host bits clear.",
    reference: "https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq",
}

/// Reports references that resolve to nothing.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let net = cx.net;
    let mut dangling = |from: &str, what: &str, kind: Kind, r: &Option<String>| {
        if let Some(r) = r
            && net.resolve(kind, r).is_none()
        {
            out.push(Finding::of(
                &DANGLING,
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
        for s in &g.subnets {
            dangling(&g.meta.id, "subnet", Kind::Subnet, &Some(s.clone()));
        }
    }
    for d in &net.databricks {
        dangling(&d.meta.id, "virtual network", Kind::Vnet, &d.vnet);
    }
}
