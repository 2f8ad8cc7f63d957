//! The rules of `check`, one file each: a stable number (`TN0xx`), a kebab-case code, the
//! documentation `tagnet explain` prints (what, why, an example, the fix and Microsoft's
//! source, written once in the `rule!` call that also makes the file's doc comment) and the
//! check itself.

use super::Cx;
use crate::findings::{Finding, Rule};

/// Declares a file's rule: its documentation becomes both the `RULE` constant and its doc.
macro_rules! rule {
    (
        $(#[$meta:meta])*
        $konst:ident = $id:literal, $code:literal, $sev:ident,
        summary: $sum:literal,
        why: $why:literal,
        example: $ex:literal,
        fix: $fix:literal,
        reference: $r:literal $(,)?
    ) => {
        #[doc = concat!("`", $id, "` `", $code, "` (", stringify!($sev), "): ", $sum,
                            "\n\n**Why.** ", $why, "\n\n**Example.** ", $ex, "\n\n**Fix.** ", $fix,
                            "\n\n**Source.** `", $r, "`")]
        pub const $konst: crate::findings::Rule = crate::findings::Rule {
            code: $code,
            id: $id,
            severity: crate::findings::Severity::$sev,
            source: "check",
            summary: $sum,
            why: $why,
            example: $ex,
            fix: $fix,
            reference: $r,
        };
    };
}

pub mod aci_not_delegated;
pub mod acr_image_build;
pub mod acr_not_premium;
pub mod acr_other_vnet;
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
pub mod vnet_overlap;
pub mod vnet_reserved;
pub mod workspace_vnet;

pub use input::{BAD_VALUE, CANNOT_EVALUATE, DANGLING, DUPLICATE};

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
    workspace_vnet::check,
    aci_not_delegated::check,
    databricks_subnets::check,
    vm_not_ubuntu::check,
    vm_ssh::check,
    input::check,
];

/// Every rule of `check`'s own (`TN0xx`), sorted by number.
pub fn rules() -> Vec<&'static Rule> {
    let mut v: Vec<&'static Rule> = vec![
        &subnet_capacity::RULE,
        &subnet_outside::RULE,
        &subnet_overlap::RULE,
        &vnet_overlap::RULE,
        &vnet_reserved::RULE,
        &aks_service_cidr_overlap::RULE,
        &aks_dns_ip::RULE,
        &aks_reserved_range::RULE,
        &aks_service_cidr_size::RULE,
        &aks_docker_bridge::RULE,
        &aks_pod_cidr_overlap::RULE,
        &aks_region::RULE,
        &aks_subnet_delegated::RULE,
        &nsg_requirements::RULE,
        &store_subnet::RULE,
        &store_subnet::RULE_KV,
        &store_trusted::RULE,
        &store_trusted::RULE_KV,
        &acr_not_premium::RULE,
        &acr_image_build::RULE,
        &acr_other_vnet::RULE,
        &workspace_vnet::RULE,
        &aci_not_delegated::RULE,
        &databricks_subnets::RULE,
        &vm_not_ubuntu::RULE,
        &vm_ssh::RULE,
        &DUPLICATE,
        &DANGLING,
        &CANNOT_EVALUATE,
        &BAD_VALUE,
    ];
    v.sort_by_key(|r| r.id);
    v
}
