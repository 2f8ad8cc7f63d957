//! Findings: the one model every check reports in, and the registry of their codes.
//!
//! A [`Finding`] is data — a stable kebab-case code, a severity, the resource concerned, what is
//! wrong, one concrete counterexample where there is one, and the fix — never a string put
//! together at the call site. Every code a check can emit is documented once in [`RULES`];
//! `tagnet explain CODE` prints that documentation, and a test checks that codes are unique and
//! that each emitted code is registered.

use serde::Serialize;
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Required traffic is broken, or a plan cannot be carried out.
    Error,
    /// Something to act on that breaks nothing today.
    Warning,
    /// Worth knowing; nothing to do unless it is a surprise.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One finding of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code, documented in [`RULES`] (`missing-route`).
    pub code: &'static str,
    /// The code's stable number (`TN101`).
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The resource concerned: a route, a rule, a table.
    pub resource: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// One concrete address (or flow) that shows it, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<String>,
    /// What to do about it.
    pub fix: String,
}

/// The documentation of one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The code: a kebab-case name (`missing-route`).
    pub code: &'static str,
    /// The stable number: `TN0xx` for `check`, `TN1xx` for `routes audit`, `TN2xx` for
    /// `nsg analyze`.
    pub id: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The command that reports it.
    pub source: &'static str,
    /// One line.
    pub summary: &'static str,
    /// What it checks and why it matters.
    pub why: &'static str,
    /// An example that triggers it.
    pub example: &'static str,
    /// What to do instead.
    pub fix: &'static str,
    /// Microsoft's documentation of the requirement, where there is one.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reference: &'static str,
}

/// Every code tagnet reports, sorted by code.
pub const RULES: &[Rule] = &[
    Rule {
        code: "flow-required-denied",
        id: "TN303",
        severity: Severity::Error,
        source: "flows verify",
        summary: "A logged flow was denied that the requirement profile says must pass.",
        why: "The flow log shows the traffic the guidance requires (Batch node management on 29876-29877, Azure ML on 44224, the services' HTTPS) being dropped: the compute it serves fails in ways that are hard to trace, such as nodes stuck unusable or jobs that never start.",
        example: "an NSG flow log tuple `…,20.50.1.2,10.0.0.4,51000,29877,T,I,D,B,,,,` from BatchNodeManagement.westeurope",
        fix: "Allow the flow in the NSG that denied it (the logged rule names it); `tagnet nsg require` checks the NSG for every address of the tag.",
        reference: "https://learn.microsoft.com/azure/machine-learning/how-to-access-azureml-behind-firewall",
    },
    Rule {
        code: "flow-rule-drift",
        id: "TN302",
        severity: Severity::Warning,
        source: "flows verify",
        summary: "A logged flow was decided by another rule than the NSG given decides it with.",
        why: "The decision is the same, but the rule that made it in Azure is not the one that makes it in the NSG you hold: the deployed NSG has rules, priorities or address sets that yours does not. The next change may make the decisions differ too.",
        example: "logged `UserRule_AllowHttps`, while the NSG file's first matching rule is `defaultSecurityRules/AllowInternetOutBound`",
        fix: "Export the deployed NSG (`az network nsg show`) and compare it with the file; bring the file or the deployment back in line.",
        reference: "",
    },
    Rule {
        code: "flow-verdict-drift",
        id: "TN301",
        severity: Severity::Error,
        source: "flows verify",
        summary: "A logged flow was allowed where the NSG given denies it, or the reverse.",
        why: "The NSG that ran in Azure is not the one you hold: a rule was added, removed or changed, an application security group holds other members, or the NSG applies at another scope (a NIC's NSG besides the subnet's). Every analysis made on the file is then about a network that does not exist.",
        example: "logged `D` by `DefaultRule_DenyAllInBound` for a flow the NSG file allows by `securityRules/AllowBatch`",
        fix: "Export the deployed NSGs of the subnet and of the NIC (`az network nsg show`), verify again with both (--nsg, --nic-nsg), and reconcile.",
        reference: "",
    },
    Rule {
        code: "ipv6-not-audited",
        id: "TN108",
        severity: Severity::Warning,
        source: "routes audit",
        summary: "The table routes IPv6 away from Internet, and IPv6 was not audited.",
        why: "Without --ipv6 the audit checks IPv4 only. A route such as `::/0 -> VirtualAppliance` sends the required tags' IPv6 prefixes to the appliance; compute that uses IPv6 then loses its management traffic just as with IPv4.",
        example: "a table holding `::/0 -> VirtualAppliance 10.0.100.4`, audited without --ipv6",
        fix: "Rerun with --ipv6 to audit (and plan) the IPv6 routes too.",
        reference: "",
    },
    Rule {
        code: "missing-route",
        id: "TN101",
        severity: Severity::Error,
        source: "routes audit",
        summary: "Required addresses do not leave through Internet.",
        why: "Under forced tunneling, Azure Batch and Azure Machine Learning reach their compute nodes from the addresses of BatchNodeManagement.<region> and AzureMachineLearning.<region>; the replies must leave through next hop Internet, or the nodes become unusable.",
        example: "a table with only `0.0.0.0/0 -> VirtualAppliance`: every required address takes that route",
        fix: "Add routes with next hop Internet for the prefixes listed (the plan does: `--format az`).",
        reference: "",
    },
    Rule {
        code: "no-default-route",
        id: "TN102",
        severity: Severity::Info,
        source: "routes audit",
        summary: "The table has no 0.0.0.0/0 route; the audit assumes none is advertised by BGP.",
        why: "Forced tunneling often comes from a 0.0.0.0/0 that the VPN or ExpressRoute gateway advertises by BGP, which no route table shows. Audited alone, such a table looks fine while the NIC sends everything to the gateway.",
        example: "an empty route table on a subnet whose gateway advertises 0.0.0.0/0",
        fix: "Audit the NIC's effective routes (`az network nic show-effective-route-table`), or declare the advertised default with --default-route VirtualNetworkGateway.",
        reference: "",
    },
    Rule {
        code: "nsg-opposite-overlap",
        id: "TN203",
        severity: Severity::Info,
        source: "nsg analyze",
        summary: "A rule partly overlaps a rule of opposite access above it.",
        why: "For the flows both name, the rule above decides; the lower rule's author may have expected it to apply to them too. Partial overlaps of allow and deny rules are where NSG mistakes hide.",
        example: "`Allow 10.0.0.0/16 :443` at 200 below `Deny 10.0.5.0/24 *` at 100",
        fix: "Check that the rule above should win for the shared flows; narrow one of the two rules if not.",
        reference: "",
    },
    Rule {
        code: "nsg-redundant-rule",
        id: "TN202",
        severity: Severity::Info,
        source: "nsg analyze",
        summary: "Removing the rule changes no verdict.",
        why: "The rules below it decide every flow it reaches the same way (often the default rules). A redundant rule costs a slot of the 1,000 and misleads readers.",
        example: "`Allow VirtualNetwork -> VirtualNetwork *` at 300: AllowVnetInBound does the same",
        fix: "Delete it, or keep it deliberately as documentation of intent.",
        reference: "",
    },
    Rule {
        code: "nsg-unknown-asg",
        id: "TN205",
        severity: Severity::Error,
        source: "nsg analyze",
        summary: "A rule names an application security group whose members were not given.",
        why: "An ASG stands for the NICs placed in it, which an NSG file does not list; without members (`--asg NAME=IP[,IP…]`) tagnet cannot know which addresses the rule means, and analyses it as matching nothing.",
        example: "`sourceApplicationSecurityGroups: [{id: …/applicationSecurityGroups/asg-web}]` analysed without --asg asg-web=…",
        fix: "Give the group's members with --asg NAME=IP[,IP…] (`az network nic list --query` shows which NICs are in it).",
        reference: "https://learn.microsoft.com/azure/virtual-network/application-security-groups",
    },
    Rule {
        code: "nsg-unknown-tag",
        id: "TN204",
        severity: Severity::Error,
        source: "nsg analyze",
        summary: "A rule names a service tag the snapshot does not hold.",
        why: "Azure refuses unknown tags at deployment, and tagnet cannot know which addresses the rule means; it is analysed as matching nothing.",
        example: "`sourceAddressPrefix: Storag.WestEurope`",
        fix: "Correct the name (the message suggests the closest tags), or analyse with a snapshot of the NSG's cloud.",
        reference: "",
    },
    Rule {
        code: "nsg-unreachable-rule",
        id: "TN201",
        severity: Severity::Warning,
        source: "nsg analyze",
        summary: "The rule can never match: the rules above it cover every flow it names.",
        why: "Rules apply in ascending priority and the first match wins, so a rule wholly covered by rules above it never decides anything; it usually means a priority is wrong.",
        example: "`Allow AzureMachineLearning :44224` at 300 below `Deny * *` at 200",
        fix: "Give it a lower priority number than the rules named, or delete it.",
        reference: "",
    },
    Rule {
        code: "route-limit",
        id: "TN103",
        severity: Severity::Error,
        source: "routes audit",
        summary: "The plan would take the table over its route limit.",
        why: "Azure refuses a route beyond the table's limit (400 user routes), so a plan that needs more would stop halfway with the table half changed.",
        example: "a table of 390 routes that needs 23 more",
        fix: "Prune stale routes (--prune), merge routes (`tagnet udr --max-routes`), or split the subnets over two tables.",
        reference: "",
    },
    Rule {
        code: "shadowed-route",
        id: "TN104",
        severity: Severity::Error,
        source: "routes audit",
        summary: "A more specific route takes required addresses away from a route to Internet.",
        why: "Azure picks the longest matching prefix, so a /24 to an appliance beats the /16 to Internet that was meant to carry the required addresses.",
        example: "`20.41.0.0/16 -> Internet` and `20.41.5.0/24 -> VirtualAppliance`, with BatchNodeManagement holding 20.41.5.224/27",
        fix: "Add more specific routes to Internet for the prefixes listed (the plan does), or narrow the shadowing route.",
        reference: "",
    },
    Rule {
        code: "stale-route",
        id: "TN105",
        severity: Severity::Warning,
        source: "routes audit",
        summary: "A route tagnet wrote for the required tags carries none of their addresses now.",
        why: "Service tags change every week. A route written for them (named as `udr` names routes, or holding a prefix the tags had in --previous) that no longer carries a required address sends other traffic around the firewall and takes a slot of the table.",
        example: "`BatchNodeManagement-20.41.5.0_27 -> Internet` after Microsoft moved that range out of BatchNodeManagement.EastUS2",
        fix: "Delete it: the plan lists it for review, and deletes it with --prune.",
        reference: "",
    },
    Rule {
        code: "unknown-tag-route",
        id: "TN106",
        severity: Severity::Warning,
        source: "routes audit",
        summary: "A route's address prefix names a service tag this snapshot does not hold.",
        why: "The route was written for another cloud or a tag that was renamed or retired; tagnet cannot tell which addresses it carries, so the audit treats it as carrying none.",
        example: "`--address-prefix AzureMachineLearningX.EastUS2`",
        fix: "Check the name against `tagnet tags --name 'PATTERN'`, or audit with the snapshot of the table's cloud.",
        reference: "",
    },
    Rule {
        code: "unrelated-internet-route",
        id: "TN107",
        severity: Severity::Info,
        source: "routes audit",
        summary: "A route to Internet that is not tied to the required tags.",
        why: "Other routes to Internet are usually deliberate (KMS activation at 20.118.99.224/32, a Storage route). tagnet reports them so they are seen, and never deletes them.",
        example: "`kms -> 20.118.99.224/32 -> Internet`",
        fix: "Nothing, if it is meant. To have tagnet treat it as its own, name it as `udr` does or pass --previous with the snapshot it was written from.",
        reference: "",
    },
];

/// The registered rule of a code.
///
/// # Panics
/// When the code is not in [`RULES`] — a programming error the tests catch.
pub fn rule(code: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("finding code `{code}` is not registered in findings::RULES"))
}

impl Finding {
    /// A finding of a registered code, with that code's severity and fix.
    pub fn new(
        code: &'static str,
        resource: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding::of(rule(code), resource, message)
    }

    /// A finding of a rule registered outside [`RULES`] (the `check` rules keep theirs beside
    /// their code), with that rule's severity and fix.
    pub fn of(r: &'static Rule, resource: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            code: r.code,
            id: r.id,
            severity: r.severity,
            resource: resource.into(),
            message: message.into(),
            counterexample: None,
            fix: r.fix.to_string(),
        }
    }

    /// With one concrete address or flow that shows it.
    pub fn counterexample(mut self, c: impl Into<String>) -> Self {
        self.counterexample = Some(c.into());
        self
    }

    /// With a fix more precise than the code's general one.
    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = f.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_kebab_case() {
        for w in RULES.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for r in RULES {
            assert!(
                r.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{}",
                r.code
            );
            assert!(!r.summary.is_empty() && !r.why.is_empty() && !r.fix.is_empty());
        }
    }
}
