//! The NSG model: rules as Azure defines them, flows, and verdicts.

use ipnet::IpNet;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// A rule's or a flow's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    /// `*`: every protocol (rules only).
    Any,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (ports do not apply).
    Icmp,
    /// ESP (ports do not apply).
    Esp,
    /// AH (ports do not apply).
    Ah,
}

impl Protocol {
    /// The protocols a flow can have.
    pub const FLOW: [Protocol; 5] = [
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Icmp,
        Protocol::Esp,
        Protocol::Ah,
    ];

    /// Parses `Tcp`, `udp`, `*`, `Any`, … (any case); for flows also IANA numbers 6, 17, 1, 50,
    /// 51.
    pub fn parse(text: &str) -> Option<Protocol> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "*" | "any" | "all" => Protocol::Any,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" | "icmpv6" | "58" => Protocol::Icmp,
            "esp" | "50" => Protocol::Esp,
            "ah" | "51" => Protocol::Ah,
            _ => return None,
        })
    }

    /// Whether ports mean anything for it.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp | Protocol::Any)
    }

    /// Azure's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Any => "*",
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Icmp => "Icmp",
            Protocol::Esp => "Esp",
            Protocol::Ah => "Ah",
        }
    }
}

/// Inbound or outbound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Direction {
    /// Traffic arriving at the local address.
    Inbound,
    /// Traffic leaving the local address.
    Outbound,
}

impl Direction {
    /// Parses `inbound`/`in`, `outbound`/`out` (any case).
    pub fn parse(text: &str) -> Option<Direction> {
        match text.trim().to_ascii_lowercase().as_str() {
            "inbound" | "in" => Some(Direction::Inbound),
            "outbound" | "out" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        })
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Access {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        })
    }
}

/// Ports as inclusive ranges, sorted and merged; `[(0, 65535)]` is `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Ports(pub Vec<(u16, u16)>);

impl Ports {
    /// Every port.
    pub fn any() -> Ports {
        Ports(vec![(0, u16::MAX)])
    }

    /// From ranges (merged).
    pub fn from_ranges(mut r: Vec<(u16, u16)>) -> Ports {
        r.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(r.len());
        for (s, e) in r {
            match out.last_mut() {
                Some(last) if u32::from(s) <= u32::from(last.1) + 1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        Ports(out)
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(s, e)| s <= port && port <= e)
    }
}

/// A rule's source or destination as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Address {
    /// `*`, `Any`, `0.0.0.0/0`.
    Any,
    /// IPv4 and IPv6 prefixes (addresses are host prefixes).
    Prefixes(Vec<IpNet>),
    /// A service tag, as written (`Storage.WestEurope`, `VirtualNetwork`).
    Tag(String),
    /// Application security groups, by name.
    Asgs(Vec<String>),
}

/// One security rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Name.
    pub name: String,
    /// 100–4096 for user rules; 65000+ for the default rules.
    pub priority: u32,
    /// Direction.
    pub direction: Direction,
    /// Allow or deny.
    pub access: Access,
    /// Protocol.
    pub protocol: Protocol,
    /// Source.
    pub source: Address,
    /// Source ports.
    pub source_ports: Ports,
    /// Destination.
    pub destination: Address,
    /// Destination ports.
    pub destination_ports: Ports,
    /// One of the six default rules.
    pub default: bool,
}

impl Rule {
    /// `securityRules/NAME` or `defaultSecurityRules/NAME`, as IP flow verify names rules.
    pub fn path(&self) -> String {
        if self.default {
            format!("defaultSecurityRules/{}", self.name)
        } else {
            format!("securityRules/{}", self.name)
        }
    }
}

/// A network security group: its rules sorted by direction, then priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nsg {
    /// Name.
    pub name: String,
    /// Rules, default rules included.
    pub rules: Vec<Rule>,
}

/// One flow, as IP flow verify takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// Inbound to the local address, or outbound from it.
    pub direction: Direction,
    /// Protocol (not `Any`).
    pub protocol: Protocol,
    /// The VM's address.
    pub local_ip: IpAddr,
    /// Its port.
    pub local_port: u16,
    /// The other end.
    pub remote_ip: IpAddr,
    /// Its port.
    pub remote_port: u16,
}

impl Flow {
    /// (source, source port, destination, destination port) as rules see them.
    pub fn endpoints(&self) -> (IpAddr, u16, IpAddr, u16) {
        match self.direction {
            Direction::Inbound => (
                self.remote_ip,
                self.remote_port,
                self.local_ip,
                self.local_port,
            ),
            Direction::Outbound => (
                self.local_ip,
                self.local_port,
                self.remote_ip,
                self.remote_port,
            ),
        }
    }
}

/// The answer for one flow: the access and the deciding NSG and rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Allow or deny.
    pub access: Access,
    /// The NSG whose rule decided (empty when no NSG applies).
    pub nsg: String,
    /// `securityRules/NAME` or `defaultSecurityRules/NAME` (empty when no NSG applies).
    pub rule: String,
}
