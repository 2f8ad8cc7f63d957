//! The rules of `check`, one file each: the check itself, reporting its codes (`TN0xx`,
//! kebab-case names) whose documentation — what, why, an example, the fix and Microsoft's
//! source, as `tagnet explain` prints it — is in the one table of codes,
//! [`crate::findings::codes`].

use super::Cx;
use crate::findings::{Finding, Rule};

pub mod aci_not_delegated;
pub mod acr_image_build;
pub mod acr_not_premium;
pub mod acr_other_vnet;
pub mod acr_unreachable;
pub mod aks_dns_ip;
pub mod aks_docker_bridge;
pub mod aks_pod_cidr_overlap;
pub mod aks_region;
pub mod aks_reserved_range;
pub mod aks_service_cidr_overlap;
pub mod aks_service_cidr_size;
pub mod aks_subnet_delegated;
pub mod databricks_subnets;
pub mod forced_tunneling;
pub mod input;
pub mod nsg_requirements;
pub mod nsg_rules;
pub mod store_subnet;
pub mod store_trusted;
pub mod subnet_capacity;
pub mod subnet_outside;
pub mod subnet_overlap;
pub mod vm_not_ubuntu;
pub mod vm_ssh;
pub mod vnet_onprem;
pub mod vnet_overlap;
pub mod vnet_reserved;
pub mod workspace_vnet;

/// A rule's check.
pub type Check = fn(&Cx, &mut Vec<Finding>);

/// Every check, in rule order ([`nsg_rules`] and [`forced_tunneling`] report the codes of
/// `nsg analyze` and `routes audit`).
pub const ALL: &[Check] = &[
    subnet_capacity::check,
    subnet_outside::check,
    subnet_overlap::check,
    vnet_overlap::check,
    vnet_reserved::check,
    vnet_onprem::check,
    aks_service_cidr_overlap::check,
    aks_dns_ip::check,
    aks_reserved_range::check,
    aks_service_cidr_size::check,
    aks_docker_bridge::check,
    aks_pod_cidr_overlap::check,
    aks_region::check,
    aks_subnet_delegated::check,
    nsg_requirements::check,
    nsg_rules::check,
    forced_tunneling::check,
    store_subnet::check,
    store_trusted::check,
    acr_not_premium::check,
    acr_image_build::check,
    acr_other_vnet::check,
    acr_unreachable::check,
    workspace_vnet::check,
    aci_not_delegated::check,
    databricks_subnets::check,
    vm_not_ubuntu::check,
    vm_ssh::check,
    input::check,
];

/// Every rule of `check`'s own (`TN0xx`), sorted by number (their documentation is in the
/// one table of codes, [`crate::findings::codes`]).
pub fn rules() -> Vec<&'static Rule> {
    crate::findings::registry()
        .into_iter()
        .filter(|r| r.source == "check")
        .collect()
}
