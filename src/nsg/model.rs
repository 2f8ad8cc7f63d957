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
        const NAMES: [(&str, Protocol); 15] = [
            ("tcp", Protocol::Tcp),
            ("udp", Protocol::Udp),
            ("*", Protocol::Any),
            ("any", Protocol::Any),
            ("all", Protocol::Any),
            ("6", Protocol::Tcp),
            ("17", Protocol::Udp),
            ("icmp", Protocol::Icmp),
            ("1", Protocol::Icmp),
            ("icmpv6", Protocol::Icmp),
            ("58", Protocol::Icmp),
            ("esp", Protocol::Esp),
            ("50", Protocol::Esp),
            ("ah", Protocol::Ah),
            ("51", Protocol::Ah),
        ];
        let t = text.trim();
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
            .map(|&(_, p)| p)
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
        let t = text.trim();
        if t.eq_ignore_ascii_case("inbound") || t.eq_ignore_ascii_case("in") {
            Some(Direction::Inbound)
        } else if t.eq_ignore_ascii_case("outbound") || t.eq_ignore_ascii_case("out") {
            Some(Direction::Outbound)
        } else {
            None
        }
    }
}

impl Direction {
    /// `Inbound` or `Outbound`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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

impl Access {
    /// `Allow` or `Deny`.
    pub fn name(self) -> &'static str {
        match self {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Nsg {
    /// Name.
    pub name: String,
    /// Rules, default rules included.
    pub rules: Vec<Rule>,
    /// Its resource id, when the input gives it (`az network nsg show`): what an NSG flow
    /// log's `resourceId` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its `resourceGuid`, when the input gives it: what a VNet flow log's `aclID` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_guid: Option<String>,
    /// What reading it found that Azure would refuse or read otherwise (duplicate rule names,
    /// a rule with both singular and plural fields, host bits set), as warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Nsg {
    /// Whether a flow log's `resourceId` or `aclID` names this NSG: its id (any case), its
    /// `resourceGuid`, or — for an id whose last segment is the name — its name when the
    /// input gave no id. `None` when the NSG carries nothing to match by.
    pub fn is_named_by(&self, key: &str) -> Option<bool> {
        let key = key.trim();
        if key.is_empty() {
            return None;
        }
        if key.contains('/') {
            // An NSG flow log's `resourceId`.
            return Some(match self.id.as_deref() {
                Some(id) => id.eq_ignore_ascii_case(key),
                None => key
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&self.name)),
            });
        }
        // A VNet flow log's `aclID`.
        self.resource_guid
            .as_deref()
            .map(|g| g.eq_ignore_ascii_case(key))
    }
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

impl Verdict {
    /// The deciding rule as flow logs are compared with it: `NSG securityRules/NAME` (empty
    /// when no NSG applies).
    pub fn qualified_rule(&self) -> String {
        if self.nsg.is_empty() && self.rule.is_empty() {
            String::new()
        } else {
            format!("{} {}", self.nsg, self.rule)
        }
    }
}

/// Why a flow file's header is refused: its columns are not tagnet's, in tagnet's order. Fatal
/// even with `--skip-bad` (the lines under it would be read wrongly).
pub const MISORDERED_HEADER: &str = "a header with other columns than direction,protocol,local_ip,local_port,remote_ip,remote_port (in that order): columns are read by position; reorder them (or drop the header)";

impl Flow {
    /// One flow line: CSV `direction,protocol,local_ip,local_port,remote_ip,remote_port` or an
    /// NDJSON object with those keys. `Ok(None)` for blank, comment and header lines.
    pub fn parse_line(line: &str) -> std::result::Result<Option<Flow>, String> {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            return Ok(None);
        }
        if l.starts_with('{') {
            let v: serde_json::Value =
                serde_json::from_str(l).map_err(|e| format!("invalid JSON: {e}"))?;
            return Flow::from_json(&v).map(Some);
        }
        // CSV fields, each trimmed and unquoted (RFC 4180 quotes around a field).
        fn unquote(s: &str) -> &str {
            let s = s.trim();
            s.strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(s)
                .trim()
        }
        let mut f = [""; 6];
        let mut count = 0;
        for field in l.split(',') {
            if let Some(slot) = f.get_mut(count) {
                *slot = unquote(field);
            }
            count += 1;
        }
        if f[0].eq_ignore_ascii_case("direction") {
            // The header: read by position, so it must name the columns in tagnet's order
            // (a header of another order is refused, never read as if it were this one).
            const COLUMNS: [&str; 6] = [
                "direction",
                "protocol",
                "local_ip",
                "local_port",
                "remote_ip",
                "remote_port",
            ];
            if count == 6
                && f.iter()
                    .zip(COLUMNS)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
            {
                return Ok(None);
            }
            return Err(MISORDERED_HEADER.to_string());
        }
        if count != 6 {
            return Err(format!(
                "expected 6 fields direction,protocol,local_ip,local_port,remote_ip,remote_port, got {count}"
            ));
        }
        Flow::from_fields(&f)
    }

    /// A flow from its six fields. TCP and UDP flows need both ports; ICMP, ESP and AH take
    /// none (an empty port or `*` is 0 there). Addresses are read as `lookup` reads them: an
    /// IPv6 zone is dropped, an IPv4-mapped IPv6 address is the IPv4 address it maps.
    pub fn from_fields(fields: &[&str; 6]) -> std::result::Result<Option<Flow>, String> {
        let direction = Direction::parse(fields[0]).ok_or_else(|| {
            format!(
                "direction `{}`: Inbound or Outbound",
                crate::text::quoted(fields[0])
            )
        })?;
        let protocol = match Protocol::parse(fields[1]) {
            Some(Protocol::Any) | None => {
                return Err(format!(
                    "protocol `{}`: Tcp, Udp, Icmp, Esp or Ah",
                    crate::text::quoted(fields[1])
                ));
            }
            Some(p) => p,
        };
        let ip = |s: &str| {
            crate::text::address(s)
                .map(|(ip, _)| ip)
                .map_err(|e| format!("`{}` is not an IP address: {e}", crate::text::quoted(s)))
        };
        let port = |s: &str| {
            if (s.is_empty() || s == "*") && !protocol.has_ports() {
                Ok(0)
            } else if s.is_empty() || s == "*" {
                Err(format!(
                    "a {} flow needs both ports (local_port and remote_port)",
                    protocol.name()
                ))
            } else {
                // A flow of ICMP, ESP or AH has no ports: one written is checked, then read as
                // 0, as Azure's logs and IP flow verify show it.
                s.parse::<u16>()
                    .map(|p| if protocol.has_ports() { p } else { 0 })
                    .map_err(|_| format!("port `{}` is not 0–65535", crate::text::quoted(s)))
            }
        };
        let (local_ip, remote_ip) = (ip(fields[2])?, ip(fields[4])?);
        if local_ip.is_ipv4() != remote_ip.is_ipv4() {
            return Err(format!(
                "{local_ip} and {remote_ip} are of different families"
            ));
        }
        Ok(Some(Flow {
            direction,
            protocol,
            local_ip,
            local_port: port(fields[3])?,
            remote_ip,
            remote_port: port(fields[5])?,
        }))
    }

    /// A flow from a JSON object with the six keys: ports as numbers or digit strings, and
    /// required for TCP and UDP; addresses as people paste them (an IPv6 zone is dropped, an
    /// IPv4-mapped IPv6 address is the IPv4 address it maps).
    pub fn from_json(v: &serde_json::Value) -> std::result::Result<Flow, String> {
        const KEYS: [&str; 6] = [
            "direction",
            "protocol",
            "local_ip",
            "local_port",
            "remote_ip",
            "remote_port",
        ];
        let Some(o) = v.as_object() else {
            return Err(format!("a flow is an object with {}", KEYS.join(", ")));
        };
        if let Some(k) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown key `{}`; a flow has {}",
                crate::text::quoted(k),
                KEYS.join(", ")
            ));
        }
        let text = |k: &str| match o.get(k) {
            None | Some(serde_json::Value::Null) => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.trim().to_string()),
            Some(serde_json::Value::Number(n)) if n.is_u64() => Ok(n.to_string()),
            Some(other) => Err(format!(
                "`{k}` is `{}`, not a string or a port number",
                crate::text::quoted(&other.to_string())
            )),
        };
        let protocol = Protocol::parse(&text("protocol")?);
        if protocol.is_some_and(|p| p.has_ports()) {
            for k in ["local_port", "remote_port"] {
                if text(k)?.is_empty() {
                    return Err(format!("a {} flow needs `{k}`", text("protocol")?));
                }
            }
        }
        let ip = |k: &str| -> std::result::Result<String, String> {
            let t = text(k)?;
            crate::text::address(&t)
                .map(|(ip, _)| ip.to_string())
                .map_err(|e| format!("`{k}` `{}`: {e}", crate::text::quoted(&t)))
        };
        let fields = [
            text("direction")?,
            text("protocol")?,
            ip("local_ip")?,
            text("local_port")?,
            ip("remote_ip")?,
            text("remote_port")?,
        ];
        let f: [&str; 6] = std::array::from_fn(|i| fields[i].as_str());
        Flow::from_fields(&f)?.ok_or_else(|| "an empty flow".to_string())
    }
}
