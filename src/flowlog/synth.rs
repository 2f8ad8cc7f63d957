//! Flow-log blobs made up from a snapshot, in Azure's documented shapes and storage layout:
//! for tests, benchmarks and trying tagnet without a storage account. Deterministic for a seed.
//!
//! The traffic is that of Azure ML compute in a VNet: outbound HTTPS to the services the
//! guidance names (real addresses of their tags), inbound Batch and Azure ML management,
//! some Internet and some traffic inside the VNet, a little IPv6.

use super::{Kind, Tuple};
use super::{State, rfc3339};
use crate::nsg::model::{Access, Direction};
use crate::{Snapshot, TagIndex};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What to make.
#[derive(Debug, Clone)]
pub struct Plan {
    /// VNet flow logs or NSG flow logs (version 1 or 2).
    pub kind: Kind,
    /// The compute's region (the regional tags used).
    pub region: String,
    /// Interfaces: one blob per interface and hour.
    pub nics: usize,
    /// Hours.
    pub hours: usize,
    /// Records per blob (Azure writes one a minute).
    pub records: usize,
    /// Tuples per record.
    pub tuples: usize,
    /// Records (the first ones written) that hold one tuple more, so that the total is the
    /// one asked for.
    pub extra: usize,
    /// Seed.
    pub seed: u64,
    /// The VNet's first address (the NICs get `.4`, `.5`, …).
    pub vnet: Ipv4Addr,
}

impl Plan {
    /// A plan for `tuples` tuples in all, spread over 2 NICs and enough hours.
    pub fn with_total(kind: Kind, region: &str, total: usize, seed: u64) -> Plan {
        let per_blob = 60 * 1000;
        let blobs = total.div_ceil(per_blob).max(1);
        let nics = blobs.min(2);
        let hours = blobs.div_ceil(nics);
        // Fewer than a record a minute: fewer records, one tuple each.
        let records = total.clamp(1, 60);
        Plan {
            kind,
            region: region.to_string(),
            nics,
            hours,
            records,
            tuples: (total / (nics * hours * records)).max(1),
            extra: total
                .saturating_sub(nics * hours * records * (total / (nics * hours * records)).max(1)),
            seed,
            vnet: Ipv4Addr::new(10, 0, 0, 0),
        }
    }
}

/// One blob: its path in the storage account's layout and its JSON.
#[derive(Debug, Clone)]
pub struct Blob {
    /// `…/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=MAC/PT1H.json`.
    pub path: String,
    /// The blob.
    pub json: String,
}

/// Splitmix64: small, fast, good enough for test traffic.
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Below `n` (> 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// The address pools of the made-up traffic.
/// Traffic concentrates on a few endpoints per service, as real traffic does: each pool holds
/// up to this many addresses drawn from the tag's prefixes.
const ENDPOINTS: usize = 500;

struct Pools {
    outbound: Vec<(Vec<IpAddr>, u16)>,
    inbound: Vec<(Vec<IpAddr>, u16, u16)>,
    v6: Vec<IpAddr>,
    internet: Vec<IpAddr>,
}

fn endpoints(rng: &mut Rng, nets: &[ipnet::IpNet]) -> Vec<IpAddr> {
    if nets.is_empty() {
        return Vec::new();
    }
    let mut v: Vec<IpAddr> = (0..ENDPOINTS).map(|_| pick(rng, nets)).collect();
    v.sort();
    v.dedup();
    v
}

fn pools(snap: &Snapshot, index: &TagIndex, region: &str, rng: &mut Rng) -> crate::Result<Pools> {
    let region = snap.resolve_region(region)?.to_string();
    let tag = |base: &str| -> Vec<ipnet::IpNet> {
        let id = snap
            .resolve_tag(base, Some(&region))
            .ok()
            .and_then(|ids| ids.first().copied())
            .or_else(|| snap.tag_by_name(base).ok());
        id.map(|i| {
            snap.tag(i)
                .v4()
                .iter()
                .map(|p| ipnet::IpNet::V4(*p))
                .collect()
        })
        .unwrap_or_default()
    };
    let mut outbound = Vec::new();
    for (t, port) in [
        ("Storage", 443),
        ("AzureContainerRegistry", 443),
        ("MicrosoftContainerRegistry", 443),
        ("AzureMachineLearning", 443),
        ("AzureActiveDirectory", 443),
        ("AzureResourceManager", 443),
        ("AzureMonitor", 443),
        ("AzureCloud", 443),
    ] {
        let p = endpoints(rng, &tag(t));
        if !p.is_empty() {
            outbound.push((p, port));
        }
    }
    let mut inbound = Vec::new();
    for (t, lo, hi) in [
        ("BatchNodeManagement", 29876, 29877),
        ("AzureMachineLearning", 44224, 44224),
    ] {
        let p = endpoints(rng, &tag(t));
        if !p.is_empty() {
            inbound.push((p, lo, hi));
        }
    }
    let v6nets: Vec<ipnet::IpNet> = snap
        .tag_by_name("AzureCloud")
        .map(|i| {
            snap.tag(i)
                .v6()
                .iter()
                .map(|p| ipnet::IpNet::V6(*p))
                .collect()
        })
        .unwrap_or_default();
    let v6 = endpoints(rng, &v6nets);
    // The rest of the Internet: public addresses in no tag.
    let mut internet = Vec::new();
    while internet.len() < 2 * ENDPOINTS {
        let a = Ipv4Addr::from(rng.next_u64() as u32);
        let ip = IpAddr::V4(a);
        if !super::attribute::is_private(ip)
            && a.octets()[0] < 224
            && a.octets()[0] != 0
            && index.lookup(ip).is_empty()
        {
            internet.push(ip);
        }
    }
    if outbound.is_empty() {
        return Err(crate::Error::Usage(format!(
            "the snapshot has no tag of the services used in {region}: nothing to make traffic from"
        )));
    }
    Ok(Pools {
        outbound,
        inbound,
        v6,
        internet,
    })
}

fn pick(rng: &mut Rng, nets: &[ipnet::IpNet]) -> IpAddr {
    let n = nets[rng.below(nets.len() as u64) as usize];
    match n {
        ipnet::IpNet::V4(p) => {
            let size = 1u64 << (32 - p.prefix_len());
            IpAddr::V4(Ipv4Addr::from(
                u32::from(p.network()) + rng.below(size) as u32,
            ))
        }
        ipnet::IpNet::V6(p) => {
            let host = 128 - u32::from(p.prefix_len());
            let r = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
            let mask = if host == 128 {
                u128::MAX
            } else {
                (1u128 << host) - 1
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(p.network()) | (r & mask)))
        }
    }
}

/// One made-up tuple (access and rule not yet decided), from `local`.
fn tuple(rng: &mut Rng, p: &Pools, local: Ipv4Addr, time_ms: u64) -> Tuple {
    let one = |rng: &mut Rng, v: &[IpAddr]| v[rng.below(v.len() as u64) as usize];
    let eph = 1024 + rng.below(64_000) as u16;
    let roll = rng.below(100);
    let (direction, remote, rport, lport, protocol) = if roll < 55 {
        let (nets, port) = &p.outbound[rng.below(p.outbound.len() as u64) as usize];
        (Direction::Outbound, one(rng, nets), *port, eph, 6)
    } else if roll < 70 && !p.inbound.is_empty() {
        let (nets, lo, hi) = &p.inbound[rng.below(p.inbound.len() as u64) as usize];
        let port = lo + rng.below(u64::from(hi - lo) + 1) as u16;
        (Direction::Inbound, one(rng, nets), eph, port, 6)
    } else if roll < 85 {
        let (port, proto) = if rng.below(4) == 0 {
            (53, 17)
        } else {
            (443, 6)
        };
        (Direction::Outbound, one(rng, &p.internet), port, eph, proto)
    } else if roll < 97 || p.v6.is_empty() {
        let o = local.octets();
        let peer = Ipv4Addr::new(o[0], o[1], o[2], 4 + rng.below(200) as u8);
        if rng.below(2) == 0 {
            (Direction::Inbound, IpAddr::V4(peer), eph, 22, 6)
        } else {
            (Direction::Outbound, IpAddr::V4(peer), 53, eph, 17)
        }
    } else {
        (Direction::Outbound, one(rng, &p.v6), 443, eph, 6)
    };
    let local_ip = if remote.is_ipv6() {
        IpAddr::V6(Ipv6Addr::new(
            0xfd00,
            0,
            0,
            0,
            0,
            0,
            0,
            u16::from(local.octets()[3]),
        ))
    } else {
        IpAddr::V4(local)
    };
    let (src, sport, dst, dport) = match direction {
        Direction::Inbound => (remote, rport, local_ip, lport),
        Direction::Outbound => (local_ip, lport, remote, rport),
    };
    let state = match rng.below(3) {
        0 => State::Begin,
        1 => State::Continuing,
        _ => State::End,
    };
    let (po, pi) = if state == State::Begin {
        (0, 0)
    } else {
        (1 + rng.below(500), 1 + rng.below(500))
    };
    Tuple {
        time_ms,
        src,
        dst,
        src_port: sport,
        dst_port: dport,
        protocol,
        direction,
        access: Access::Allow,
        state,
        encryption: super::Encryption::NotEncrypted,
        packets_out: po,
        bytes_out: po * (60 + rng.below(1400)),
        packets_in: pi,
        bytes_in: pi * (60 + rng.below(1400)),
        group: 0,
    }
}

/// The logged rule name of a rule path: `securityRules/X` → `UserRule_X`,
/// `defaultSecurityRules/X` → `DefaultRule_X`.
pub fn logged_rule(path: &str) -> String {
    let path = path.rsplit_once(' ').map_or(path, |(_, p)| p);
    if let Some(n) = path.strip_prefix("defaultSecurityRules/") {
        format!("DefaultRule_{n}")
    } else if let Some(n) = path.strip_prefix("securityRules/") {
        format!("UserRule_{n}")
    } else {
        path.to_string()
    }
}

/// The decision a made-up flow gets: access and the logged rule name.
pub type Decide<'a> = &'a (dyn Fn(&Tuple) -> (Access, String) + Sync);

/// Azure's default rules' decision, for a VNet of private addresses: the VNet in and out,
/// everything else out, nothing else in.
pub fn default_decision(t: &Tuple) -> (Access, String) {
    match t.direction {
        Direction::Outbound if super::attribute::is_private(t.dst) => {
            (Access::Allow, "DefaultRule_AllowVnetOutBound".into())
        }
        Direction::Outbound => (Access::Allow, "DefaultRule_AllowInternetOutBound".into()),
        Direction::Inbound if super::attribute::is_private(t.src) => {
            (Access::Allow, "DefaultRule_AllowVnetInBound".into())
        }
        Direction::Inbound => (Access::Deny, "DefaultRule_DenyAllInBound".into()),
    }
}

/// Makes the blobs of a plan: one per NIC and hour, in path order.
pub fn generate(
    snap: &Snapshot,
    index: &TagIndex,
    plan: &Plan,
    decide: Decide<'_>,
) -> crate::Result<Vec<Blob>> {
    let mut blobs = Vec::new();
    generate_each(snap, index, plan, decide, &mut |b| {
        blobs.push(b);
        Ok(())
    })?;
    blobs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(blobs)
}

/// [`generate`], handing each blob on as it is made (NIC by NIC, hour by hour), so that only
/// one blob is in memory at a time.
pub fn generate_each(
    snap: &Snapshot,
    index: &TagIndex,
    plan: &Plan,
    decide: Decide<'_>,
    each: &mut dyn FnMut(Blob) -> crate::Result<()>,
) -> crate::Result<()> {
    let mut rng = Rng::new(plan.seed);
    let pools = pools(snap, index, &plan.region, &mut rng)?;
    let start_ms: u64 = 1_764_288_000_000; // 2025-11-28T00:00:00Z
    for nic in 0..plan.nics {
        let local = Ipv4Addr::from(u32::from(plan.vnet) + 4 + nic as u32);
        let mac = format!("00224800{:04X}", nic);
        for hour in 0..plan.hours {
            let hour_ms = start_ms + hour as u64 * 3_600_000;
            let mut records = Vec::new();
            for minute in 0..plan.records {
                let t0 = hour_ms + minute as u64 * 60_000;
                let mut groups: Vec<(String, Vec<String>)> = Vec::new();
                let ordinal = (nic * plan.hours + hour) * plan.records + minute;
                for k in 0..plan.tuples + usize::from(ordinal < plan.extra) {
                    let mut t = tuple(&mut rng, &pools, local, t0 + k as u64 * 7);
                    let (access, rule) = decide(&t);
                    t.access = access;
                    if access == Access::Deny {
                        t.state = State::Denied;
                        (t.packets_out, t.bytes_out, t.packets_in, t.bytes_in) = (0, 0, 0, 0);
                    }
                    let text = render(&t, plan.kind);
                    match groups.iter_mut().find(|g| g.0 == rule) {
                        Some(g) => g.1.push(text),
                        None => groups.push((rule, vec![text])),
                    }
                }
                records.push(record(plan.kind, t0, &mac, nic, &groups));
            }
            let json = format!("{{\"records\":[{}]}}", records.join(","));
            let date = rfc3339(hour_ms);
            let (y, m, d, h) = (&date[0..4], &date[5..7], &date[8..10], &date[11..13]);
            let root = match plan.kind {
                Kind::Vnet => {
                    "flowLogResourceID=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_REGION/FLOWLOGS/ML-VNET-FLOWLOG"
                }
                _ => {
                    "resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/ML-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/ML-NSG"
                }
            };
            each(Blob {
                path: format!("{root}/y={y}/m={m}/d={d}/h={h}/m=00/macAddress={mac}/PT1H.json"),
                json,
            })?;
        }
    }
    Ok(())
}

/// A tuple as the log writes it.
pub fn render(t: &Tuple, kind: Kind) -> String {
    let mut s = String::with_capacity(80);
    match kind {
        Kind::Vnet => {
            let _ = write!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                t.time_ms,
                t.src,
                t.dst,
                t.src_port,
                t.dst_port,
                t.protocol,
                if t.direction == Direction::Inbound {
                    "I"
                } else {
                    "O"
                },
                t.state.letter(),
                t.encryption.text(),
                t.packets_out,
                t.bytes_out,
                t.packets_in,
                t.bytes_in
            );
        }
        Kind::Nsg1 | Kind::Nsg2 => {
            let _ = write!(
                s,
                "{},{},{},{},{},{},{},{}",
                t.time_ms / 1000,
                t.src,
                t.dst,
                t.src_port,
                t.dst_port,
                if t.protocol == 17 { "U" } else { "T" },
                if t.direction == Direction::Inbound {
                    "I"
                } else {
                    "O"
                },
                if t.access == Access::Deny { "D" } else { "A" },
            );
            if kind == Kind::Nsg2 {
                let state = match t.state {
                    State::Continuing => "C",
                    State::End => "E",
                    _ => "B",
                };
                if state == "B" {
                    let _ = write!(s, ",B,,,,");
                } else {
                    let _ = write!(
                        s,
                        ",{state},{},{},{},{}",
                        t.packets_out, t.bytes_out, t.packets_in, t.bytes_in
                    );
                }
            }
        }
    }
    s
}

fn record(kind: Kind, t0: u64, mac: &str, nic: usize, groups: &[(String, Vec<String>)]) -> String {
    let tuples = |g: &[String]| {
        g.iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    match kind {
        Kind::Vnet => {
            let fg: Vec<String> = groups
                .iter()
                .map(|(rule, ts)| {
                    format!("{{\"rule\":\"{rule}\",\"flowTuples\":[{}]}}", tuples(ts))
                })
                .collect();
            format!(
                "{{\"time\":\"{}\",\"flowLogVersion\":4,\"flowLogGUID\":\"00000000-0000-0000-0000-00000000{nic:04}\",\"macAddress\":\"{mac}\",\"category\":\"FlowLogFlowEvent\",\"flowLogResourceID\":\"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_REGION/FLOWLOGS/ML-VNET-FLOWLOG\",\"targetResourceID\":\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-rg/providers/Microsoft.Network/virtualNetworks/ml-vnet\",\"operationName\":\"FlowLogFlowEvent\",\"flowRecords\":{{\"flows\":[{{\"aclID\":\"00000000-1111-2222-3333-444444444444\",\"flowGroups\":[{}]}}]}}}}",
                rfc3339(t0),
                fg.join(",")
            )
        }
        Kind::Nsg1 | Kind::Nsg2 => {
            let fl: Vec<String> = groups
                .iter()
                .map(|(rule, ts)| {
                    format!(
                        "{{\"rule\":\"{rule}\",\"flows\":[{{\"mac\":\"{mac}\",\"flowTuples\":[{}]}}]}}",
                        tuples(ts)
                    )
                })
                .collect();
            format!(
                "{{\"time\":\"{}\",\"systemId\":\"00000000-0000-0000-0000-000000000000\",\"macAddress\":\"{mac}\",\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":\"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/ML-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/ML-NSG\",\"operationName\":\"NetworkSecurityGroupFlowEvents\",\"properties\":{{\"Version\":{},\"flows\":[{}]}}}}",
                rfc3339(t0),
                if kind == Kind::Nsg1 { 1 } else { 2 },
                fl.join(",")
            )
        }
    }
}

/// Writes the blobs under `dir` in the storage account's layout; returns the files written.
pub fn write(dir: &std::path::Path, blobs: &[Blob]) -> crate::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for b in blobs {
        let path = dir.join(&b.path);
        let werr = |source| crate::Error::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(path.parent().expect("blob paths have folders")).map_err(werr)?;
        std::fs::write(&path, &b.json).map_err(werr)?;
        out.push(path);
    }
    Ok(out)
}
