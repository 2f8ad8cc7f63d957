//! The AKS DNS service IP outside the service CIDR, or on its first addresses.

use super::Cx;
use crate::findings::Code;
use crate::findings::Finding;
use ipnet::IpNet;
use std::net::IpAddr;

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
            Finding::new(Code::AksDnsServiceIp, &c.meta.id, msg)
                .counterexample(dns.to_string())
                .fix(format!("set dnsServiceIP to {}", tenth(&svc))),
        );
    }
}
