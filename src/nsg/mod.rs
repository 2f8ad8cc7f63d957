//! Network security groups, offline, with the real service tags: the rule [`model`], reading
//! NSGs in the shapes Azure tools write them ([`read`]), rule semantics and the naive
//! first-match evaluator ([`eval`]) and the compiled evaluator ([`mod@compile`]) whose cost per
//! flow does not grow with the rules or prefixes; exact allowed sets and requirement
//! profiles ([`reach`]).
//!
//! Approximations, written here and in the README: `VirtualNetwork` is the address spaces the
//! user gives (Azure also adds UDR prefixes and the host's virtual IP); the platform addresses
//! 168.63.129.16 and 169.254.169.254 are evaluated like any other address (Azure exempts some of
//! their traffic from NSGs); Virtual Network Manager admin rules are not modelled.

pub mod analyze;
pub mod classbench;
pub mod compile;
pub mod eval;
pub mod model;
pub mod reach;
pub mod read;

use eval::ResolvedNsg;
use model::{Flow, Verdict};

/// The compiled verdict of a subnet and a NIC NSG, with names: [`decide`], then
/// [`Decision::named`]. (The naive model, [`eval::verdict_naive`], is kept apart as the oracle.)
pub fn verdict(
    subnet: Option<&compile::CompiledNsg>,
    nic: Option<&compile::CompiledNsg>,
    f: &Flow,
) -> Verdict {
    decide(subnet, nic, f).named(subnet, nic)
}

/// Which NSG of a subnet-and-NIC pair decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// The subnet's NSG.
    Subnet,
    /// The NIC's NSG.
    Nic,
}

/// A verdict without strings: the access, and the NSG and rule index that decided (`None` when
/// no NSG applies). For batches of millions of flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Allow or deny.
    pub access: model::Access,
    /// The deciding NSG and the rule's index in [`compile::CompiledNsg::rules`].
    pub by: Option<(Hop, usize)>,
}

impl Decision {
    /// The deciding NSG and rule, given the NSGs the decision was made with.
    fn rule<'c>(
        self,
        subnet: Option<&'c compile::CompiledNsg>,
        nic: Option<&'c compile::CompiledNsg>,
    ) -> Option<(&'c str, &'c str)> {
        let (hop, i) = self.by?;
        let c = match hop {
            Hop::Subnet => subnet,
            Hop::Nic => nic,
        }?;
        Some((c.name.as_str(), c.rules.get(i)?.1.as_str()))
    }

    /// The decision with the deciding NSG's name and rule path, given the NSGs it was made
    /// with.
    pub fn named(
        self,
        subnet: Option<&compile::CompiledNsg>,
        nic: Option<&compile::CompiledNsg>,
    ) -> Verdict {
        let (nsg, rule) = self.rule(subnet, nic).unwrap_or_default();
        Verdict {
            access: self.access,
            nsg: nsg.to_string(),
            rule: rule.to_string(),
        }
    }

    /// The deciding rule as `NSG securityRules/NAME` (empty when no NSG applies), as
    /// [`Verdict::qualified_rule`] writes it, in one allocation.
    pub fn qualified_rule(
        self,
        subnet: Option<&compile::CompiledNsg>,
        nic: Option<&compile::CompiledNsg>,
    ) -> String {
        self.rule(subnet, nic)
            .map_or(String::new(), |(nsg, rule)| format!("{nsg} {rule}"))
    }
}

/// The one evaluation of a subnet-and-NIC pair (inbound the subnet's NSG first, outbound the
/// NIC's; a deny stops), without allocating, for batches of millions of flows.
#[inline]
pub fn decide(
    subnet: Option<&compile::CompiledNsg>,
    nic: Option<&compile::CompiledNsg>,
    f: &Flow,
) -> Decision {
    let order = match f.direction {
        model::Direction::Inbound => [(Hop::Subnet, subnet), (Hop::Nic, nic)],
        model::Direction::Outbound => [(Hop::Nic, nic), (Hop::Subnet, subnet)],
    };
    let mut last = Decision {
        access: model::Access::Allow,
        by: None,
    };
    for (hop, n) in order {
        if let Some(c) = n
            && let Some(i) = c.first(f)
        {
            last = Decision {
                access: c.rules[i].0,
                by: Some((hop, i)),
            };
            if last.access == model::Access::Deny {
                return last;
            }
        }
    }
    last
}

/// Compiles a resolved NSG (see [`compile::CompiledNsg`]).
pub fn compile(nsg: &ResolvedNsg) -> compile::CompiledNsg {
    compile::CompiledNsg::new(nsg)
}
