//! The AKS DNS service IP outside the service CIDR, or on its first addresses.

use super::Cx;
use crate::findings::Finding;
use ipnet::IpNet;
use std::net::IpAddr;

rule! {
    RULE = "TN011", "aks-dns-service-ip", Error,
    summary: "An AKS cluster's DNS service IP is outside its service CIDR, or is the range's network, first or broadcast address.",
    why: "The cluster DNS service (CoreDNS) takes the DNS service IP from the service CIDR; outside it, AKS refuses the cluster (`DnsServiceIpOutOfServiceCidr`). The first address (.1) is the kubernetes API service's (`kubernetes.default.svc.cluster.local`).",
    example: "serviceCidr 10.0.0.0/16 with dnsServiceIP 10.1.0.10",
    fix: "Use the .10 address of the service CIDR.",
    reference: "https://learn.microsoft.com/azure/aks/configure-azure-cni#deployment-parameters; https://learn.microsoft.com/azure/aks/configure-kubenet",
}

fn tenth(n: &IpNet) -> String {
    match n {
        IpNet::V4(v) => std::net::Ipv4Addr::from(u32::from(v.network()) + 10).to_string(),
        IpNet::V6(v) => std::net::Ipv6Addr::from(u128::from(v.network()) + 10).to_string(),
    }
}

/// Checks each cluster's DNS service IP.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        let (Some(svc), Some(dns)) = (c.service_cidr, c.dns_ip) else {
            continue;
        };
        let first = match svc {
            IpNet::V4(v) => IpAddr::V4((u32::from(v.network()) + 1).into()),
            IpNet::V6(v) => IpAddr::V6((u128::from(v.network()) + 1).into()),
        };
        let msg = if !svc.contains(&dns) {
            format!(
                "DNS service IP {dns} is outside the service CIDR {svc} (AKS: DnsServiceIpOutOfServiceCidr)"
            )
        } else if dns == svc.network() {
            format!("DNS service IP {dns} is the network address of the service CIDR {svc}")
        } else if dns == svc.broadcast() && matches!(svc, IpNet::V4(_)) {
            format!(
                "DNS service IP {dns} is the broadcast (last) address of {svc} (AKS: DnsBroadcastAddressConflicting)"
            )
        } else if dns == first {
            format!(
                "DNS service IP {dns} is the first address of {svc}, which the kubernetes API service takes"
            )
        } else {
            continue;
        };
        out.push(
            Finding::of(&RULE, &c.meta.id, msg)
                .counterexample(dns.to_string())
                .fix(format!("set dnsServiceIP to {}", tenth(&svc))),
        );
    }
}
