//! Logged flows re-evaluated with the compiled NSG engine: where the logged decision or rule
//! differs from tagnet's (the NSG held is not the one that ran), and denied flows a requirement
//! profile says must pass.

use super::Tuple;
use super::read::Group;
use crate::nsg::compile::CompiledNsg;
use crate::nsg::model::{Access, Direction, Ports, Protocol};
use crate::nsg::reach::Profile;
use crate::prefixset::PrefixSet;
use crate::{Result, Snapshot};
use serde::Serialize;

/// What differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drift {
    /// The logged access differs from tagnet's (`flow-verdict-drift`).
    Verdict,
    /// Same access, another rule decided (`flow-rule-drift`).
    Rule,
    /// Logged as denied, and a requirement of the profile says it must pass
    /// (`flow-required-denied`).
    RequiredDenied,
    /// Dropped by virtual network encryption, not by an NSG (`flow-encryption-drop`): its
    /// verdict is not compared.
    EncryptionDrop,
}

impl Drift {
    /// Its finding code.
    pub fn code(self) -> crate::findings::Code {
        use crate::findings::Code;
        match self {
            Drift::Verdict => Code::FlowVerdictDrift,
            Drift::Rule => Code::FlowRuleDrift,
            Drift::RequiredDenied => Code::FlowRequiredDenied,
            Drift::EncryptionDrop => Code::FlowEncryptionDrop,
        }
    }
}

/// tagnet's verdict on one tuple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Allow or deny.
    pub access: Access,
    /// `NSG securityRules/NAME` (empty when no NSG applies).
    pub rule: String,
}

/// A requirement resolved for a region.
#[derive(Debug, Clone)]
pub struct Required {
    /// Its direction.
    pub direction: Direction,
    /// Tcp or Udp.
    pub protocol: Protocol,
    /// The ports: the local port inbound, the remote port outbound.
    pub ports: Ports,
    /// The regional tag.
    pub tag: String,
    /// Its addresses.
    pub set: PrefixSet,
    /// Why it is needed.
    pub why: String,
}

/// A profile's requirements for a region, each with its tag's addresses.
pub fn requirements(snap: &Snapshot, profile: &Profile, region: &str) -> Result<Vec<Required>> {
    let region = snap.resolve_region(region)?.to_string();
    let mut out = Vec::new();
    for r in &profile.requirements {
        let direction = Direction::parse(&r.direction).ok_or_else(|| {
            crate::Error::Usage(format!(
                "profile {}: direction `{}`",
                profile.name, r.direction
            ))
        })?;
        let protocol = Protocol::parse(&r.protocol).ok_or_else(|| {
            crate::Error::Usage(format!(
                "profile {}: protocol `{}`",
                profile.name, r.protocol
            ))
        })?;
        let ports = crate::nsg::reach::parse_ports(&r.ports).ok_or_else(|| {
            crate::Error::Usage(format!("profile {}: ports `{}`", profile.name, r.ports))
        })?;
        let id = if r.tag.contains("<region>") {
            let base = r.tag.split('.').next().unwrap_or(&r.tag);
            match snap.resolve_tag(base, Some(&region)) {
                Ok(ids) => ids[0],
                // No regional variant here: nothing to require in this region.
                Err(_) => continue,
            }
        } else {
            match snap.tag_by_name(&r.tag) {
                Ok(id) => id,
                Err(_) => continue,
            }
        };
        let t = snap.tag(id);
        out.push(Required {
            direction,
            protocol,
            ports,
            tag: t.name().to_string(),
            set: PrefixSet::from_prefixes(t.prefixes()),
            why: r.why.clone(),
        });
    }
    Ok(out)
}

/// The requirement a tuple falls under, if any.
pub fn required<'r>(reqs: &'r [Required], t: &Tuple) -> Option<&'r Required> {
    let p = t.nsg_protocol()?;
    let (remote, rport) = t.remote();
    let (_, lport) = t.local();
    let port = match t.direction {
        Direction::Inbound => lport,
        Direction::Outbound => rport,
    };
    reqs.iter().find(|r| {
        r.direction == t.direction
            && (r.protocol == p || r.protocol == Protocol::Any)
            && r.ports.contains(port)
            && r.set.contains(remote)
    })
}

/// tagnet's verdict on a tuple with the subnet's and NIC's compiled NSGs (`None` for protocols
/// NSGs do not tell apart).
pub fn verdict(
    subnet: Option<&CompiledNsg>,
    nic: Option<&CompiledNsg>,
    t: &Tuple,
) -> Option<Verdict> {
    let d = crate::nsg::decide(subnet, nic, &t.flow()?);
    Some(Verdict {
        access: d.access,
        rule: d.qualified_rule(subnet, nic),
    })
}

/// Whether tagnet's rule is the logged one: the logged name (`UserRule_X`, `DefaultRule_X`) as
/// a rule path, compared without case.
pub fn same_rule(logged: &str, ours: &str) -> bool {
    let path = super::rule_path(logged);
    let ours_path = ours.rsplit_once(' ').map_or(ours, |(_, p)| p);
    ours_path.eq_ignore_ascii_case(&path)
        || ours_path
            .rsplit_once('/')
            .is_some_and(|(_, n)| n.eq_ignore_ascii_case(logged))
}

/// The verdict or rule drift of a logged decision against tagnet's (`None` when they agree;
/// an empty logged rule is not compared).
pub fn drift_of(logged: Access, logged_rule: &str, ours: &Verdict) -> Option<Drift> {
    if ours.access != logged {
        Some(Drift::Verdict)
    } else if !logged_rule.is_empty() && !same_rule(logged_rule, &ours.rule) {
        Some(Drift::Rule)
    } else {
        None
    }
}

/// Whether a denied tuple was dropped by VNet encryption (its encryption field gives the
/// reason), not by an NSG.
pub fn encryption_drop(t: &Tuple) -> bool {
    use super::{Encryption, EncryptionReason};
    t.access == Access::Deny
        && matches!(
            t.encryption,
            Encryption::NotEncryptedReason(
                EncryptionReason::NotAccepted
                    | EncryptionReason::SwNotReady
                    | EncryptionReason::NotSupported
            )
        )
}

/// The drifts of one tuple against tagnet's verdict.
pub fn drifts(t: &Tuple, group: &Group, ours: &Verdict, reqs: &[Required]) -> Vec<Drift> {
    let mut out: Vec<Drift> = if encryption_drop(t) {
        vec![Drift::EncryptionDrop]
    } else {
        drift_of(t.access, &group.rule, ours).into_iter().collect()
    };
    if t.access == Access::Deny && required(reqs, t).is_some() {
        out.push(Drift::RequiredDenied);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names() {
        assert!(same_rule("UserRule_Port80", "nsg1 securityRules/port80"));
        assert!(same_rule(
            "DefaultRule_DenyAllInBound",
            "nsg1 defaultSecurityRules/DenyAllInBound"
        ));
        assert!(!same_rule("UserRule_Port80", "nsg1 securityRules/Port8080"));
        assert!(same_rule("BlockHighRisk", "x securityRules/BlockHighRisk"));
    }
}
