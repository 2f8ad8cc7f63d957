//! Which Azure service, region and tag each flow's remote address belongs to, and summaries by
//! direction, service, region and decision.

use super::Tuple;
use crate::index::{Match, PrefixId};
use crate::nsg::model::{Access, Direction};
use crate::prefixset::PrefixSet;
use crate::{Snapshot, TagId, TagIndex};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::HashMap as StdHashMap;
use std::net::IpAddr;

/// Where a remote address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// In a service tag of the snapshot.
    Azure,
    /// In another provider's published ranges (`--source`: AWS, Google, Oracle, GitHub,
    /// Cloudflare).
    Cloud,
    /// In one of your own named ranges (`--custom`): on-premises, partners, proxies.
    Custom,
    /// Private, shared, loopback, link-local or multicast space: not the Internet.
    Private,
    /// The rest of the Internet.
    Internet,
}

impl Class {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Azure => "azure",
            Class::Cloud => "cloud",
            Class::Custom => "custom",
            Class::Private => "private",
            Class::Internet => "internet",
        }
    }
}

/// What a remote address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribution {
    /// Azure, private or Internet.
    pub class: Class,
    /// The most specific tag holding it: a service's tag over `AzureCloud`, a regional tag over
    /// a global one, then the longest prefix, then the name.
    pub tag: Option<TagId>,
    /// That tag's prefix holding the address.
    pub prefix: Option<PrefixId>,
    /// The region: the chosen tag's, else that of any regional tag holding it (`AzureCloud.R`).
    pub region: Option<TagId>,
    /// Whether the profile's routes carry it (`None` without a plan).
    pub carried: Option<bool>,
}

/// Attributes addresses with one index; build once, share across threads.
pub struct Attributor<'a> {
    snap: &'a Snapshot,
    index: &'a TagIndex,
    rank: Vec<u8>,
    carried: Option<PrefixSet>,
}

/// Private and special-purpose space that is not the Internet (RFC 1918, 6598, 3927, 4193,
/// 4291 link-local, loopback, multicast, unspecified), and Azure's platform address
/// 168.63.129.16 (DNS, DHCP, health probes: it never leaves the host).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            o == [168, 63, 129, 16]
                || a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_unspecified()
                || a.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            let s = a.segments()[0];
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s & 0xfe00) == 0xfc00
                || (s & 0xffc0) == 0xfe80
        }
    }
}

impl<'a> Attributor<'a> {
    /// An attributor; `carried` is the address space a route plan sends to the Internet.
    pub fn new(snap: &'a Snapshot, index: &'a TagIndex, carried: Option<PrefixSet>) -> Self {
        let rank = snap
            .tags()
            .iter()
            .map(|t| {
                // Every tag but AzureCloud's is a service's, `systemService` or not (the Front
                // Door tags have none): a Front Door address is Front Door's, not AzureCloud's.
                // A provider's own all-ranges tags (`AWS`, AWS's `AMAZON` service, `Oracle`)
                // are its AzureCloud. Your own named ranges come first: they say what you mean
                // by an address; then Microsoft's tags, over another provider's (GitHub's
                // Actions ranges are Azure addresses: the cloud is Azure).
                let service = match t.provider() {
                    None => t.name_base() != "AzureCloud",
                    Some(crate::sources::Provider::Aws) => {
                        t.name().contains('.') && t.system_service() != "AMAZON"
                    }
                    Some(_) => t.name().contains('.'),
                };
                let class = match t.provider() {
                    Some(crate::sources::Provider::Custom) => 2,
                    None => 1,
                    Some(_) => 0,
                };
                class * 4 + u8::from(service) * 2 + u8::from(t.is_regional())
            })
            .collect();
        Attributor {
            snap,
            index,
            rank,
            carried,
        }
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &'a Snapshot {
        self.snap
    }

    /// The index.
    pub fn index(&self) -> &'a TagIndex {
        self.index
    }

    /// Attributes one address from its matches (as [`TagIndex::lookup`] gives them).
    pub fn of_matches(&self, ip: IpAddr, matches: &[Match]) -> Attribution {
        let carried = self.carried.as_ref().map(|c| c.contains(ip));
        if matches.is_empty() {
            return Attribution {
                class: if is_private(ip) {
                    Class::Private
                } else {
                    Class::Internet
                },
                tag: None,
                prefix: None,
                region: None,
                carried,
            };
        }
        let key = |m: &Match| {
            (
                self.rank[m.tag as usize],
                self.index.prefix(m.prefix).prefix_len(),
                std::cmp::Reverse(m.tag),
            )
        };
        let best = matches.iter().max_by_key(|m| key(m)).expect("non-empty");
        let provider = self.snap.tag(best.tag).provider();
        let region = if self.snap.tag(best.tag).is_regional() {
            Some(best.tag)
        } else {
            matches
                .iter()
                .filter(|m| {
                    let t = self.snap.tag(m.tag);
                    t.is_regional() && t.provider() == provider
                })
                .max_by_key(|m| {
                    (
                        self.index.prefix(m.prefix).prefix_len(),
                        std::cmp::Reverse(m.tag),
                    )
                })
                .map(|m| m.tag)
        };
        Attribution {
            class: match provider {
                None => Class::Azure,
                Some(crate::sources::Provider::Custom) => Class::Custom,
                Some(_) => Class::Cloud,
            },
            tag: Some(best.tag),
            prefix: Some(best.prefix),
            region,
            carried,
        }
    }

    /// Attributes one address.
    pub fn attribute(&self, ip: IpAddr) -> Attribution {
        self.of_matches(ip, self.index.lookup(ip))
    }

    /// Attributes every tuple's remote address, in order; IPv4 in batches.
    pub fn attribute_tuples(&self, tuples: &[Tuple]) -> Vec<Attribution> {
        let mut out = Vec::with_capacity(tuples.len());
        let mut v4 = Vec::with_capacity(tuples.len());
        let mut at = Vec::with_capacity(tuples.len());
        for (i, t) in tuples.iter().enumerate() {
            if let IpAddr::V4(a) = t.remote().0 {
                v4.push(a);
                at.push(i);
            }
        }
        let empty = Attribution {
            class: Class::Internet,
            tag: None,
            prefix: None,
            region: None,
            carried: None,
        };
        out.resize(tuples.len(), empty);
        self.index.lookup_many_v4(&v4, |k, m| {
            out[at[k]] = self.of_matches(IpAddr::V4(v4[k]), m);
        });
        for (i, t) in tuples.iter().enumerate() {
            if let ip @ IpAddr::V6(_) = t.remote().0 {
                out[i] = self.attribute(ip);
            }
        }
        out
    }

    /// The service name of an attribution: the tag's `systemService`, else its base name; for
    /// another provider's or a custom tag, the tag's name without its region
    /// (`AWS.EC2.us-east-1` → `AWS.EC2`, `GitHub.hooks`, `Corp.OnPrem`).
    pub fn service(&self, a: &Attribution) -> &'a str {
        a.tag.map_or("", |t| self.service_of(t))
    }

    /// The service name of a tag, as [`Attributor::service`] gives it.
    pub fn service_of(&self, t: TagId) -> &'a str {
        let tag = self.snap.tag(t);
        if tag.provider().is_some() {
            let name = tag.name();
            return match name.strip_suffix(tag.region()) {
                Some(base) if tag.is_regional() && base.ends_with('.') => &base[..base.len() - 1],
                _ => name,
            };
        }
        if tag.system_service().is_empty() {
            tag.name_base()
        } else {
            tag.system_service()
        }
    }

    /// The region code of an attribution (empty when global or not Azure).
    pub fn region(&self, a: &Attribution) -> &'a str {
        a.region.map_or("", |t| self.snap.tag(t).region())
    }

    /// The tag's name (empty when not Azure).
    pub fn tag_name(&self, a: &Attribution) -> &'a str {
        a.tag.map_or("", |t| self.snap.tag(t).name())
    }
}

/// The key a summary groups by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    /// Direction.
    pub direction: Direction,
    /// Azure, private or Internet.
    pub class: Class,
    /// Service (empty outside Azure).
    pub service: String,
    /// Region code (empty when global).
    pub region: String,
    /// The logged decision.
    pub access: Access,
    /// Carried by the profile's routes (`None` without `--profile`).
    pub carried: Option<bool>,
}

/// Flows, packets and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Tuples.
    pub tuples: u64,
    /// Flows (tuples that open one: `B`, `D`, NSG v1).
    pub flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Bytes both ways.
    pub bytes: u64,
}

impl Totals {
    fn add(&mut self, t: &Tuple) {
        self.tuples += 1;
        self.flows += u64::from(t.opens_flow());
        self.packets = self.packets.saturating_add(t.packets());
        self.bytes = self.bytes.saturating_add(t.bytes());
    }

    fn merge(&mut self, o: &Totals) {
        self.tuples += o.tuples;
        self.flows += o.flows;
        self.packets = self.packets.saturating_add(o.packets);
        self.bytes = self.bytes.saturating_add(o.bytes);
    }
}

/// (direction, class, tag, region tag, decision, carried): names are resolved at the end.
type GroupKey = (
    Direction,
    Class,
    Option<TagId>,
    Option<TagId>,
    Access,
    Option<bool>,
);

/// A summary being built: mergeable, so files and threads can each build one.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// By (direction, class, service, region, decision, carried), with tag ids resolved lazily.
    groups: HashMap<GroupKey, Totals>,
    /// By remote address.
    talkers: HashMap<IpAddr, (Totals, Option<TagId>)>,
    /// By class.
    classes: [Totals; 5],
}

/// One remote address's traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Talker {
    /// The remote address.
    pub remote: IpAddr,
    /// Its class.
    pub class: Class,
    /// Its tag (empty outside Azure).
    pub tag: String,
    /// Its traffic.
    #[serde(flatten)]
    pub totals: Totals,
}

/// A finished summary, sorted.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Groups, by bytes (descending), then key.
    pub groups: Vec<(Key, Totals)>,
    /// The remote addresses with the most bytes, then the most flows, then by address.
    pub top_talkers: Vec<Talker>,
    /// Azure services, private space and the rest of the Internet.
    pub classes: Vec<(Class, Totals)>,
}

impl Summary {
    /// Counts one tuple.
    pub fn add(&mut self, t: &Tuple, a: &Attribution) {
        // Service-level grouping: the tag's base is what sets the service; the region comes
        // from the region tag. Keyed by the base tag id so names are resolved once at the end.
        self.groups
            .entry((t.direction, a.class, a.tag, a.region, t.access, a.carried))
            .or_default()
            .add(t);
        let e = self
            .talkers
            .entry(t.remote().0)
            .or_insert((Totals::default(), a.tag));
        e.0.add(t);
        self.classes[a.class as usize].add(t);
    }

    /// Adds another summary.
    pub fn merge(&mut self, o: Summary) {
        for (k, v) in o.groups {
            self.groups.entry(k).or_default().merge(&v);
        }
        for (k, v) in o.talkers {
            self.talkers
                .entry(k)
                .or_insert((Totals::default(), v.1))
                .0
                .merge(&v.0);
        }
        for (a, b) in self.classes.iter_mut().zip(o.classes.iter()) {
            a.merge(b);
        }
    }

    /// Sorted, with names: `top` talkers.
    pub fn report(&self, at: &Attributor<'_>, top: usize) -> Report {
        let mut groups: StdHashMap<Key, Totals> = StdHashMap::new();
        for (&(direction, class, tag, region, access, carried), v) in &self.groups {
            let a = Attribution {
                class,
                tag,
                prefix: None,
                region,
                carried,
            };
            groups
                .entry(Key {
                    direction,
                    class,
                    service: at.service(&a).to_string(),
                    region: at.region(&a).to_string(),
                    access,
                    carried,
                })
                .or_default()
                .merge(v);
        }
        let mut groups: Vec<(Key, Totals)> = groups.into_iter().collect();
        groups.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(&b.0)));
        let mut talkers: Vec<(&IpAddr, &(Totals, Option<TagId>))> = self.talkers.iter().collect();
        let order = |a: &(&IpAddr, &(Totals, Option<TagId>)),
                     b: &(&IpAddr, &(Totals, Option<TagId>))| {
            (b.1.0.bytes, b.1.0.flows)
                .cmp(&(a.1.0.bytes, a.1.0.flows))
                .then_with(|| a.0.cmp(b.0))
        };
        if top < talkers.len() {
            talkers.select_nth_unstable_by(top, order);
            talkers.truncate(top);
        }
        talkers.sort_by(order);
        let top_talkers = talkers
            .into_iter()
            .take(top)
            .map(|(ip, (t, tag))| Talker {
                remote: *ip,
                class: if let Some(t) = tag {
                    // As each row's class: whose tag it is.
                    match at.snapshot().tag(*t).provider() {
                        None => Class::Azure,
                        Some(crate::sources::Provider::Custom) => Class::Custom,
                        Some(_) => Class::Cloud,
                    }
                } else if is_private(*ip) {
                    Class::Private
                } else {
                    Class::Internet
                },
                tag: tag.map_or(String::new(), |t| at.snapshot().tag(t).name().to_string()),
                totals: *t,
            })
            .collect();
        // Azure, private and Internet always; another provider's and your own ranges when
        // any tuple was theirs (they exist only with --source and --custom).
        let classes = [
            Class::Azure,
            Class::Cloud,
            Class::Custom,
            Class::Private,
            Class::Internet,
        ]
        .into_iter()
        .map(|c| (c, self.classes[c as usize]))
        .filter(|(c, t)| !matches!(c, Class::Cloud | Class::Custom) || t.tuples > 0)
        .collect();
        Report {
            groups,
            top_talkers,
            classes,
        }
    }
}

/// Reads one blob and sums it: records are parsed, attributed and summed on the thread pool
/// into partial sums taken from a shelf (one per busy thread) and merged at the end — sums do
/// not depend on the order, so the result is the same for any number of threads.
pub fn summarize(
    r: impl std::io::Read + Send,
    origin: &str,
    at: &Attributor<'_>,
    on_bad: &mut dyn FnMut(super::read::Bad),
) -> (Summary, super::read::Stats) {
    let shelf: std::sync::Mutex<Vec<Summary>> = std::sync::Mutex::new(Vec::new());
    let stats = summarize_into(r, origin, at, &shelf, on_bad);
    let mut sum = Summary::default();
    for part in shelf.into_inner().expect("no panic holds the shelf") {
        sum.merge(part);
    }
    (sum, stats)
}

/// [`summarize`] into a shelf shared by several blobs (merge its parts when all are read).
pub fn summarize_into(
    r: impl std::io::Read + Send,
    origin: &str,
    at: &Attributor<'_>,
    shelf: &std::sync::Mutex<Vec<Summary>>,
    on_bad: &mut dyn FnMut(super::read::Bad),
) -> super::read::Stats {
    super::read::read_map(
        r,
        origin,
        &|rec| {
            let attrs = at.attribute_tuples(&rec.tuples);
            let mut part = shelf
                .lock()
                .expect("no panic holds the shelf")
                .pop()
                .unwrap_or_default();
            for (t, x) in rec.tuples.iter().zip(&attrs) {
                part.add(t, x);
            }
            shelf.lock().expect("no panic holds the shelf").push(part);
        },
        &mut |()| true,
        on_bad,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_space() {
        for p in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "fd00::1",
            "fe80::1",
            "::1",
        ] {
            assert!(is_private(p.parse().unwrap()), "{p}");
        }
        for p in ["20.1.2.3", "100.128.0.1", "2603:1000::1"] {
            assert!(!is_private(p.parse().unwrap()), "{p}");
        }
    }
}
