//! Exact rule analysis over the whole 5-tuple space, with service tags expanded.
//!
//! A rule's match space is a box: a set of protocols × source addresses × source ports ×
//! destination addresses × destination ports (ports only for TCP and UDP; ICMP, ESP and AH
//! boxes carry every port). Subtracting one box from another gives at most five disjoint
//! boxes, one per dimension, so the part of a rule that the rules above it leave is exact, and
//! so is what the rules below it would decide there:
//! - `nsg-unreachable-rule`: the rules above cover the whole space (they are named);
//! - `nsg-redundant-rule`: the rules below decide its whole remaining space the same way, so
//!   removing it changes no verdict;
//! - `nsg-opposite-overlap`: a rule partly overlaps a rule of opposite access above it;
//! - `nsg-unknown-tag`: a tag the snapshot does not hold (the rule is analysed as empty);
//!   `nsg-unknown-asg`: an application security group without members given.
//!
//! Only rules that share a flow are ever compared: a sweep over the rules' address hulls,
//! sorted, finds the pairs whose sources can meet, and an exact test (protocols, ports, then
//! both address sets by binary search) keeps the pairs that really do — so the work follows
//! the overlaps, not the square of the rule count ([`Pairs::All`], every pair, is kept as the
//! reference the tests and benches compare with). Work also grows with the number of boxes a
//! subtraction leaves; past [`BOX_LIMIT`] a rule is reported as not analysed rather than
//! guessed.

use super::eval::{Context, Resolved};
use super::model::{Access, Direction, Nsg, Ports, Protocol};
use crate::findings::Finding;
use crate::prefixset::PrefixSet;

/// Boxes kept per rule before the analysis of that rule gives up.
pub const BOX_LIMIT: usize = 20_000;

const TCP_UDP: u8 = 0b00011;
const NO_PORTS: u8 = 0b11100;

fn proto_mask(p: Protocol) -> u8 {
    match p {
        Protocol::Any => 0b11111,
        Protocol::Tcp => 1,
        Protocol::Udp => 2,
        Protocol::Icmp => 4,
        Protocol::Esp => 8,
        Protocol::Ah => 16,
    }
}

#[derive(Debug, Clone)]
struct Space {
    proto: u8,
    src: PrefixSet,
    sport: Vec<(u16, u16)>,
    dst: PrefixSet,
    dport: Vec<(u16, u16)>,
}

fn ports_and(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for &(s1, e1) in a {
        for &(s2, e2) in b {
            let (s, e) = (s1.max(s2), e1.min(e2));
            if s <= e {
                out.push((s, e));
            }
        }
    }
    out.sort_unstable();
    out
}

fn ports_minus(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut cur: Vec<(u32, u32)> = a
        .iter()
        .map(|&(s, e)| (u32::from(s), u32::from(e)))
        .collect();
    for &(s2, e2) in b {
        let (s2, e2) = (u32::from(s2), u32::from(e2));
        let mut next = Vec::new();
        for (s, e) in cur {
            if e2 < s || s2 > e {
                next.push((s, e));
                continue;
            }
            if s < s2 {
                next.push((s, s2 - 1));
            }
            if e2 < e {
                next.push((e2 + 1, e));
            }
        }
        cur = next;
    }
    cur.into_iter().map(|(s, e)| (s as u16, e as u16)).collect()
}

impl Space {
    fn of(r: &Resolved, group: u8) -> Option<Space> {
        let proto = proto_mask(r.rule.protocol) & group;
        if proto == 0 {
            return None;
        }
        let (sport, dport) = if group == TCP_UDP {
            (
                r.rule.source_ports.0.clone(),
                r.rule.destination_ports.0.clone(),
            )
        } else {
            (Ports::any().0, Ports::any().0)
        };
        Some(Space {
            proto,
            src: r.source.clone(),
            sport,
            dst: r.destination.clone(),
            dport,
        })
    }

    /// The rule's flows of a protocol group, one space per address family: a flow is all
    /// IPv4 or all IPv6, so an IPv4 source never meets an IPv6 destination.
    fn of_families(r: &Resolved, group: u8) -> Vec<Space> {
        let Some(s) = Space::of(r, group) else {
            return Vec::new();
        };
        let v4 = |p: &PrefixSet| PrefixSet {
            v4: p.v4.clone(),
            ..Default::default()
        };
        let v6 = |p: &PrefixSet| PrefixSet {
            v6: p.v6.clone(),
            ..Default::default()
        };
        [(v4(&s.src), v4(&s.dst)), (v6(&s.src), v6(&s.dst))]
            .into_iter()
            .map(|(src, dst)| Space {
                proto: s.proto,
                src,
                sport: s.sport.clone(),
                dst,
                dport: s.dport.clone(),
            })
            .filter(|x| !x.is_empty())
            .collect()
    }

    /// Whether the boxes share a flow, without building the intersection: the cheap
    /// dimensions first.
    fn meets(&self, o: &Space) -> bool {
        self.proto & o.proto != 0
            && ports_meet(&self.sport, &o.sport)
            && ports_meet(&self.dport, &o.dport)
            && self.src.v4.intersects(&o.src.v4) | self.src.v6.intersects(&o.src.v6)
            && self.dst.v4.intersects(&o.dst.v4) | self.dst.v6.intersects(&o.dst.v6)
    }

    /// The smallest and largest source address of the box (it is of one family).
    fn src_hull(&self) -> Option<(u128, u128)> {
        let r = if self.src.v4.is_empty() {
            self.src.v6.ranges()
        } else {
            self.src.v4.ranges()
        };
        Some((r.first()?.0, r.last()?.1))
    }

    fn is_empty(&self) -> bool {
        self.proto == 0
            || self.src.is_empty()
            || self.dst.is_empty()
            || self.sport.is_empty()
            || self.dport.is_empty()
    }

    /// `self − o` as disjoint boxes, added to `out` (the box itself when they do not meet);
    /// whether they met.
    fn minus_into(self, o: &Space, out: &mut Vec<Space>) -> bool {
        if !self.meets(o) {
            out.push(self);
            return false;
        }
        // Peel off, one dimension at a time, the part of `self` outside `o`; what stays
        // inside narrows to the intersection. Each piece is built only when it is not empty.
        let mut inside = self;
        let proto = inside.proto & !o.proto;
        if proto != 0 {
            out.push(Space {
                proto,
                ..inside.clone()
            });
        }
        inside.proto &= o.proto;
        let src = inside.src.difference(&o.src);
        if !src.is_empty() {
            out.push(Space {
                proto: inside.proto,
                src,
                sport: inside.sport.clone(),
                dst: inside.dst.clone(),
                dport: inside.dport.clone(),
            });
        }
        inside.src = inside.src.intersection(&o.src);
        let sport = ports_minus(&inside.sport, &o.sport);
        if !sport.is_empty() {
            out.push(Space {
                proto: inside.proto,
                src: inside.src.clone(),
                sport,
                dst: inside.dst.clone(),
                dport: inside.dport.clone(),
            });
        }
        inside.sport = ports_and(&inside.sport, &o.sport);
        let dst = inside.dst.difference(&o.dst);
        if !dst.is_empty() {
            out.push(Space {
                proto: inside.proto,
                src: inside.src.clone(),
                sport: inside.sport.clone(),
                dst,
                dport: inside.dport.clone(),
            });
        }
        inside.dst = inside.dst.intersection(&o.dst);
        let dport = ports_minus(&inside.dport, &o.dport);
        if !dport.is_empty() {
            out.push(Space { dport, ..inside });
        }
        true
    }
}

fn ports_meet(a: &[(u16, u16)], b: &[(u16, u16)]) -> bool {
    a.iter()
        .any(|&(s1, e1)| b.iter().any(|&(s2, e2)| s1.max(s2) <= e1.min(e2)))
}

/// What is left of `boxes` once every box of another rule is taken away, and whether any of
/// them met.
fn subtract(mut boxes: Vec<Space>, other: &[Space]) -> (Vec<Space>, bool) {
    let mut touched = false;
    for a in other {
        let mut next = Vec::with_capacity(boxes.len());
        for b in boxes {
            touched |= b.minus_into(a, &mut next);
        }
        boxes = next;
    }
    (boxes, touched)
}

/// The rule's boxes: one per protocol group and address family that has flows.
fn boxes(r: &Resolved) -> Vec<Space> {
    [TCP_UDP, NO_PORTS]
        .iter()
        .flat_map(|&g| Space::of_families(r, g))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Which rule pairs [`analyze_with`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairs {
    /// The pairs that share a flow, found by a sweep (what `analyze` does).
    Swept,
    /// Every pair: the plain quadratic way, kept as the reference.
    All,
}

/// For each rule (by its place in `boxes`), the other rules it shares a flow with, ascending.
/// A sweep over the source hulls, sorted by their first address, meets each pair of
/// overlapping hulls once per address family; the exact test keeps those that share a flow.
fn meeting(boxes: &[Vec<Space>]) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); boxes.len()];
    for v6 in [false, true] {
        // (first, last, rule) per rule with flows of this family.
        let mut hulls: Vec<(u128, u128, u32)> = boxes
            .iter()
            .enumerate()
            .filter_map(|(k, bs)| {
                let (lo, hi) = bs
                    .iter()
                    .filter(|b| b.src.v4.is_empty() == v6)
                    .filter_map(Space::src_hull)
                    .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))?;
                Some((lo, hi, k as u32))
            })
            .collect();
        hulls.sort_unstable();
        // Hulls still open at the current start, by their last address.
        let mut open: Vec<(u128, u32)> = Vec::new();
        for &(lo, hi, k) in &hulls {
            open.retain(|&(end, _)| end >= lo);
            for &(_, j) in &open {
                let (a, b) = (&boxes[j as usize], &boxes[k as usize]);
                if a.iter().any(|x| b.iter().any(|y| x.meets(y))) {
                    out[j as usize].push(k);
                    out[k as usize].push(j);
                }
            }
            open.push((hi, k));
        }
    }
    for list in &mut out {
        list.sort_unstable();
        list.dedup();
    }
    out
}

/// One analysis finding with the rules involved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NsgFinding {
    /// The shared model.
    #[serde(flatten)]
    pub finding: Finding,
    /// The NSG.
    pub nsg: String,
    /// The rule concerned (`securityRules/NAME`).
    pub rule: String,
    /// The other rules involved (the covering rules, the overlapping one).
    pub related: Vec<String>,
}

/// Every rule with its addresses resolved; a tag or ASG that does not resolve is a finding and
/// matches nothing.
fn resolve_rules(ctx: &Context, nsg: &Nsg, findings: &mut Vec<NsgFinding>) -> Vec<Resolved> {
    let mut rules: Vec<Resolved> = Vec::new();
    for r in &nsg.rules {
        let mut resolve = |a: &super::model::Address| match ctx.addresses(a, &r.name, &nsg.name) {
            Ok(s) => s,
            Err(e) => {
                let finding = match a {
                    super::model::Address::Asgs(names) => {
                        let missing: Vec<&String> = names
                            .iter()
                            .filter(|n| !ctx.asgs.keys().any(|k| k.eq_ignore_ascii_case(n)))
                            .collect();
                        let first = missing.first().map_or("NAME", |n| n.as_str());
                        Finding::new(
                            crate::findings::Code::NsgUnknownAsg,
                            format!("{}/{}", nsg.name, r.path()),
                            format!(
                                "NSG `{}` rule `{}` uses the application security group(s) {}, whose members were not given; the rule is analysed as matching nothing",
                                nsg.name,
                                r.name,
                                missing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                            ),
                        )
                        .fix(format!(
                            "give the members: --asg {first}=IP[,IP…] (`asgs` over HTTP and in Python), or add the NICs that join the group to the inputs"
                        ))
                    }
                    _ => Finding::new(
                        crate::findings::Code::NsgUnknownTag,
                        format!("{}/{}", nsg.name, r.path()),
                        format!("{e}; the rule is analysed as matching nothing"),
                    ),
                };
                findings.push(NsgFinding {
                    finding,
                    nsg: nsg.name.clone(),
                    rule: r.path(),
                    related: Vec::new(),
                });
                PrefixSet::default()
            }
        };
        let source = resolve(&r.source);
        let destination = super::eval::platform_exempt(r, resolve(&r.destination));
        rules.push(Resolved {
            rule: r.clone(),
            source,
            destination,
        });
    }
    rules
}

/// A rule reported redundant (the rules below decide its flows alike) may rely on a rule
/// reported unreachable because of it (two rules of the same flows: the lower one is shadowed,
/// the upper one redundant). Each finding alone is true; acting on both is not: the redundant
/// finding says so, naming the rule.
fn tie_redundant_to_unreachable(findings: &mut [NsgFinding]) {
    let unreachable = crate::findings::Code::NsgUnreachableRule.rule().code;
    let redundant = crate::findings::Code::NsgRedundantRule.rule().code;
    let shadowed: std::collections::HashMap<(String, String), Vec<String>> = findings
        .iter()
        .filter(|f| f.finding.code == unreachable)
        .map(|f| ((f.nsg.clone(), f.rule.clone()), f.related.clone()))
        .collect();
    for f in findings.iter_mut().filter(|f| f.finding.code == redundant) {
        let tied: Vec<String> = f
            .related
            .iter()
            .filter(|d| {
                shadowed
                    .get(&(f.nsg.clone(), (*d).clone()))
                    .is_some_and(|above| above.contains(&f.rule))
            })
            .map(|d| format!("`{d}`"))
            .collect();
        if !tied.is_empty() {
            f.finding.message.push_str(&format!(
                "; but {} is reported unreachable because of this rule: delete one or the other, never both",
                tied.join(", ")
            ));
        }
    }
}

/// Analyses every user rule of an NSG.
pub fn analyze(ctx: &Context, nsg: &Nsg) -> Vec<NsgFinding> {
    analyze_with(ctx, nsg, Pairs::Swept)
}

/// [`analyze`], comparing the rule pairs `pairs` says: the same findings either way.
pub fn analyze_with(ctx: &Context, nsg: &Nsg, pairs: Pairs) -> Vec<NsgFinding> {
    let mut findings = Vec::new();
    let rules = resolve_rules(ctx, nsg, &mut findings);
    for dir in [Direction::Inbound, Direction::Outbound] {
        let list: Vec<&Resolved> = rules.iter().filter(|r| r.rule.direction == dir).collect();
        let spaces: Vec<Vec<Space>> = list.iter().map(|r| boxes(r)).collect();
        let meets = match pairs {
            Pairs::Swept => Some(meeting(&spaces)),
            Pairs::All => None,
        };
        let all: Vec<u32> = match pairs {
            Pairs::All => (0..list.len() as u32).collect(),
            Pairs::Swept => Vec::new(),
        };
        for (i, r) in list.iter().enumerate() {
            // Given up (the server's request is gone): what is found so far is thrown away.
            if crate::cancel::cancelled() {
                return findings;
            }
            if r.rule.default {
                continue;
            }
            // The rules this one may share flows with, in priority order.
            let others: &[u32] = meets.as_ref().map_or(&all, |m| &m[i]);
            let split = others.partition_point(|&j| (j as usize) < i);
            let (above_rules, mut below_rules) = (&others[..split], &others[split..]);
            if below_rules.first() == Some(&(i as u32)) {
                below_rules = &below_rules[1..];
            }
            let path = r.rule.path();
            let resource = format!("{}/{}", nsg.name, path);
            // What the rules above leave of this rule.
            let mut left: Vec<Space> = spaces[i].clone();
            if left.is_empty() {
                // Matches nothing: an unknown tag (reported), an outbound destination of
                // Azure's platform addresses only (which NSGs do not filter), or a source of
                // one address family and a destination of the other, which no flow has.
                let platform_only = r.rule.direction == Direction::Outbound
                    && !r.source.is_empty()
                    && ctx
                        .addresses(&r.rule.destination, &r.rule.name, &nsg.name)
                        .is_ok_and(|d| !d.is_empty() && r.destination.is_empty());
                if platform_only {
                    findings.push(NsgFinding {
                        finding: Finding::new(
                            crate::findings::Code::NsgUnreachableRule,
                            resource,
                            format!(
                                "rule `{}` can never match: its destination is only Azure's platform addresses (168.63.129.16, 169.254.169.254), and their services (DNS, DHCP, IMDS, health, the VM agent) are not subject to NSG rules unless the rule names AzurePlatformDNS, AzurePlatformIMDS or AzurePlatformLKM",
                                r.rule.name
                            ),
                        )
                        .fix("To block or allow the platform's DNS or IMDS, name the tag: destination AzurePlatformDNS (168.63.129.16, DNS) or AzurePlatformIMDS (169.254.169.254); otherwise remove the rule."),
                        nsg: nsg.name.clone(),
                        rule: path,
                        related: Vec::new(),
                    });
                    continue;
                }
                let one = [TCP_UDP, NO_PORTS]
                    .iter()
                    .filter_map(|&g| Space::of(r, g))
                    .any(|s| !s.is_empty());
                if one {
                    findings.push(NsgFinding {
                        finding: Finding::new(
                            crate::findings::Code::NsgUnreachableRule,
                            resource,
                            format!(
                                "rule `{}` can never match: its source and destination share no address family (a flow is all IPv4 or all IPv6)",
                                r.rule.name
                            ),
                        )
                        .fix("Give the source and destination one family: one rule with IPv4 addresses on both sides, another with IPv6 ones."),
                        nsg: nsg.name.clone(),
                        rule: path,
                        related: Vec::new(),
                    });
                }
                continue;
            }
            let mut covering = Vec::new();
            let mut opposite: Option<NsgFinding> = None;
            let mut gave_up = false;
            for &j in above_rules {
                let above = list[j as usize];
                let touched;
                (left, touched) = subtract(left, &spaces[j as usize]);
                if touched {
                    covering.push(above.rule.path());
                    if above.rule.access != r.rule.access && !left.is_empty() && opposite.is_none()
                    {
                        opposite = Some(NsgFinding {
                            finding: Finding::new(
                                crate::findings::Code::NsgOppositeOverlap,
                                resource.clone(),
                                format!(
                                    "rule `{}` ({}) partly overlaps `{}` ({}) above it: that rule decides the shared flows",
                                    r.rule.name, r.rule.access, above.rule.name, above.rule.access
                                ),
                            ),
                            nsg: nsg.name.clone(),
                            rule: path.clone(),
                            related: vec![above.rule.path()],
                        });
                    }
                }
                if left.len() > BOX_LIMIT {
                    gave_up = true;
                    break;
                }
                if left.is_empty() {
                    break;
                }
            }
            if gave_up {
                findings.extend(opposite);
                continue;
            }
            if left.is_empty() {
                findings.push(NsgFinding {
                    finding: Finding::new(crate::findings::Code::NsgUnreachableRule,
                        resource,
                        format!(
                            "rule `{}` can never match: the rules above it ({}) cover every flow it names",
                            r.rule.name,
                            covering.join(", ")
                        ),
                    ),
                    nsg: nsg.name.clone(),
                    rule: path,
                    related: covering,
                });
                continue;
            }
            findings.extend(opposite);
            // Would the rules below decide what is left the same way?
            let mut rest = left;
            let mut same = true;
            let mut deciders: Vec<String> = Vec::new();
            for &j in below_rules {
                let below = list[j as usize];
                let touched;
                (rest, touched) = subtract(rest, &spaces[j as usize]);
                if touched {
                    if below.rule.access != r.rule.access {
                        same = false;
                    }
                    let p = below.rule.path();
                    if !deciders.contains(&p) {
                        deciders.push(p);
                    }
                }
                if !same || rest.is_empty() || rest.len() > BOX_LIMIT {
                    break;
                }
            }
            if same && rest.is_empty() {
                findings.push(NsgFinding {
                    finding: Finding::new(crate::findings::Code::NsgRedundantRule,
                        resource,
                        format!(
                            "removing rule `{}` changes no verdict: the rules below it ({}) {} every flow it decides the same way; keep those if you delete it",
                            r.rule.name,
                            deciders.join(", "),
                            if r.rule.access == Access::Allow { "allow" } else { "deny" }
                        ),
                    ),
                    nsg: nsg.name.clone(),
                    rule: path,
                    related: deciders,
                });
            }
        }
    }
    tie_redundant_to_unreachable(&mut findings);
    findings.sort_by(|a, b| {
        (a.finding.severity, &a.nsg, &a.rule, a.finding.code).cmp(&(
            b.finding.severity,
            &b.nsg,
            &b.rule,
            b.finding.code,
        ))
    });
    findings
}
