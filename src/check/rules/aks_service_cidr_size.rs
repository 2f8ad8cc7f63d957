//! An AKS service CIDR of /12 or larger.

use super::Cx;
use crate::findings::Code;
use crate::findings::Finding;
use ipnet::IpNet;

/// Checks each cluster's service CIDR length.
pub fn check(cx: &Cx, out: &mut Vec<Finding>) {
    for c in &cx.net.clusters {
        if let Some(IpNet::V4(s)) = c.service_cidr
            && s.prefix_len() <= 12
        {
            out.push(Finding::new(
                Code::AksServiceCidrTooLarge,
                &c.meta.id,
                format!(
                    "service CIDR {s} is a /{}; AKS needs one smaller than /12",
                    s.prefix_len()
                ),
            ));
        }
    }
}
