//! `tagnet._tagnet`: the native half of the Python package. It takes Arrow buffers through
//! the buffer protocol (read in place; no address ever crosses as an integer) and gives columns back as little-endian bytes that `tagnet/__init__.py` wraps, without
//! copying, into Arrow arrays; no Arrow crate is needed on this side. Bulk work runs with the
//! GIL released, on tagnet's thread pool.

#![deny(unsafe_code)]

mod arrow;
mod flows;
mod reports;

use arrow::*;

use pyo3::buffer::PyBuffer;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use rayon::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use tagnet::flowlog::attribute::{Attributor, Class};
use tagnet::index::Match;
use tagnet::{Snapshot, TagIndex};

create_exception!(
    _tagnet,
    TagnetError,
    PyValueError,
    "An input tagnet cannot use: the message says what, where and how to fix it."
);

pub(crate) fn err(e: impl std::fmt::Display) -> PyErr {
    TagnetError::new_err(e.to_string())
}

/// A request field as Python spells it: a keyword argument (`max_routes=`).
pub(crate) fn py_name(field: &str) -> String {
    match field {
        "regions" => "`region=`".into(),
        other => format!("`{other}=`"),
    }
}

pub(crate) fn tagnet_err(e: tagnet::Error) -> PyErr {
    // Request fields spelled as Python keyword arguments (`max_routes=`).
    let mut msg = e.spelled(&py_name);
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(&format!("\n  caused by: {s}"));
        src = s.source();
    }
    TagnetError::new_err(msg)
}

/// A loaded snapshot with its index.
#[pyclass(frozen, module = "tagnet._tagnet")]
pub(crate) struct Index {
    snap: Arc<Snapshot>,
    index: Arc<TagIndex>,
    /// How reports name the snapshot (as the CLI's JSON does).
    info: tagnet::ops::SnapshotInfo,
}

#[pymethods]
impl Index {
    /// (cloud, change number, tag count, distinct IPv4 prefixes, distinct IPv6 prefixes).
    fn info(&self) -> (String, u64, usize, usize, usize) {
        let (v4, v6) = self.index.distinct_prefixes();
        (
            self.snap.cloud().to_string(),
            self.snap.change_number(),
            self.snap.tags().len(),
            v4,
            v6,
        )
    }

    /// Per tag id: (names, regions, services) — the dictionaries of the Arrow results.
    fn tag_table(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let t = self.snap.tags();
        (
            t.iter().map(|x| x.name().to_string()).collect(),
            t.iter().map(|x| x.region().to_string()).collect(),
            t.iter().map(|x| x.system_service().to_string()).collect(),
        )
    }

    /// Per prefix id: the prefix as text.
    fn prefix_table(&self) -> Vec<String> {
        self.index
            .prefixes()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    /// Every (tag id, prefix id) holding one address.
    fn lookup(&self, address: &str) -> PyResult<Vec<(u32, u32)>> {
        let (ip, _) = tagnet::text::address(address)
            .map_err(|e| err(format!("`{address}` is not an IP address: {e}")))?;
        Ok(self
            .index
            .lookup(ip)
            .iter()
            .map(|m| (m.tag, m.prefix))
            .collect())
    }

    /// Every match of one address as (tag, region, system service, prefix) texts: the
    /// per-address path, with no table to build first.
    #[allow(clippy::type_complexity)]
    fn lookup_records(
        &self,
        address: &str,
    ) -> PyResult<Vec<(String, String, String, String, Option<&'static str>)>> {
        let (ip, _) = tagnet::text::address(address)
            .map_err(|e| err(format!("`{address}` is not an IP address: {e}")))?;
        // The CLI's answer, record for record.
        let q = tagnet::ops::lookup::Query::Address(ip);
        let tagnet::ops::lookup::Answer::Address { matches, .. } =
            tagnet::ops::lookup::answer(&self.snap, &self.index, q, None)
        else {
            unreachable!("an address query has an address answer")
        };
        Ok(matches
            .into_iter()
            .map(|m| (m.tag, m.region, m.system_service, m.prefix, m.provider))
            .collect())
    }

    /// The CLI's warnings about the snapshot's age, worded as the CLI's: older than two weeks,
    /// older than the one built into tagnet.
    fn stale_warnings(&self) -> Vec<String> {
        use tagnet::ops::source;
        source::age_warning(&self.info, source::now_secs())
            .into_iter()
            .chain(source::older_than_builtin(&self.info))
            .collect()
    }

    /// Bulk lookup of an Arrow string array: (list offsets i32, tag ids i32, prefix ids i32,
    /// row state u8: 0 ok, 1 null, 2 not an address). `strict`: raise on the first bad row.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (data, offsets, wide, start, length, validity, strict))]
    fn lookup_strings<'py>(
        &self,
        py: Python<'py>,
        data: Option<PyBuffer<u8>>,
        offsets: PyBuffer<u8>,
        wide: bool,
        start: usize,
        length: usize,
        validity: Option<PyBuffer<u8>>,
        strict: bool,
    ) -> PyResult<Columns<'py>> {
        let col = StrCol::new(
            data.as_ref(),
            &offsets,
            wide,
            start,
            length,
            validity.as_ref(),
        )?;
        let part = py.detach(|| {
            self.lookup_rows(length, |i| match col.get(i) {
                None => Ok(None),
                Some(Err(e)) => Err(e),
                Some(Ok(b)) => parse_ip(b).map(Some).ok_or_else(|| {
                    format!(
                        "row {i}: `{}` is not an IP address",
                        String::from_utf8_lossy(b)
                    )
                }),
            })
        });
        if strict && let Some((_, e)) = part.first_bad() {
            return Err(err(format!(
                "{e} (pass errors=\"null\" to get nulls instead)"
            )));
        }
        part.columns(py)
    }

    /// Bulk lookup of IPv4 addresses as unsigned 32-bit integers (host order values, given
    /// as little-endian bytes); nulls by the validity bitmap.
    #[pyo3(signature = (data, start, length, validity))]
    fn lookup_u32<'py>(
        &self,
        py: Python<'py>,
        data: Option<PyBuffer<u8>>,
        start: usize,
        length: usize,
        validity: Option<PyBuffer<u8>>,
    ) -> PyResult<Columns<'py>> {
        let (data, validity) = (
            data.as_ref().map(bytes_of).transpose()?.unwrap_or(&[]),
            validity.as_ref().map(bytes_of).transpose()?,
        );
        if data.len() < (start + length) * 4 {
            return Err(err("the data buffer is shorter than the array"));
        }
        if let Some(v) = validity
            && v.len() * 8 < start + length
        {
            return Err(err("the validity bitmap is shorter than the array"));
        }
        let part = py.detach(|| {
            self.lookup_rows(length, |i| {
                let j = start + i;
                if let Some(v) = validity
                    && v[j / 8] & (1 << (j % 8)) == 0
                {
                    return Ok(None);
                }
                let b: [u8; 4] = data[j * 4..j * 4 + 4].try_into().expect("4 bytes");
                Ok(Some(IpAddr::V4(Ipv4Addr::from(u32::from_le_bytes(b)))))
            })
        });
        part.columns(py)
    }

    /// Attribution as `tagnet flows attribute` does it, for an Arrow string array: (class u8:
    /// 0 azure, 1 private, 2 internet, 255 null/invalid; tag id i32; region tag id i32; prefix
    /// id i32), -1 where there is none.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (data, offsets, wide, start, length, validity, strict))]
    fn attribute_strings<'py>(
        &self,
        py: Python<'py>,
        data: Option<PyBuffer<u8>>,
        offsets: PyBuffer<u8>,
        wide: bool,
        start: usize,
        length: usize,
        validity: Option<PyBuffer<u8>>,
        strict: bool,
    ) -> PyResult<Columns<'py>> {
        let col = StrCol::new(
            data.as_ref(),
            &offsets,
            wide,
            start,
            length,
            validity.as_ref(),
        )?;
        type Row = (u8, i32, i32, i32);
        let res: Result<Vec<Row>, String> = py.detach(|| {
            let at = Attributor::new(&self.snap, &self.index, None);
            (0..length)
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| match col.get(i) {
                    None => Ok((255, -1, -1, -1)),
                    Some(Err(e)) => Err(e),
                    Some(Ok(b)) => match parse_ip(b) {
                        None if strict => Err(format!(
                            "row {i}: `{}` is not an IP address",
                            String::from_utf8_lossy(b)
                        )),
                        None => Ok((255, -1, -1, -1)),
                        Some(ip) => {
                            let a = at.attribute(ip);
                            Ok((
                                match a.class {
                                    Class::Azure => 0,
                                    Class::Private => 1,
                                    Class::Internet => 2,
                                    Class::Cloud => 3,
                                    Class::Custom => 4,
                                },
                                a.tag.map_or(-1, |t| t as i32),
                                a.region.map_or(-1, |t| t as i32),
                                a.prefix.map_or(-1, |p| p as i32),
                            ))
                        }
                    },
                })
                .collect()
        });
        let rows =
            res.map_err(|e| err(format!("{e} (pass errors=\"null\" to get nulls instead)")))?;
        let class: Vec<u8> = rows.iter().map(|r| r.0).collect();
        let tag: Vec<i32> = rows.iter().map(|r| r.1).collect();
        let region: Vec<i32> = rows.iter().map(|r| r.2).collect();
        let prefix: Vec<i32> = rows.iter().map(|r| r.3).collect();
        Ok((
            PyBytes::new(py, &class),
            i32_bytes(py, &tag),
            i32_bytes(py, &region),
            i32_bytes(py, &prefix),
        ))
    }

    /// The service name of each tag id as attribution names it (systemService, else the
    /// tag's base name).
    fn service_table(&self) -> Vec<String> {
        let at = Attributor::new(&self.snap, &self.index, None);
        (0..self.snap.tags().len() as u32)
            .map(|t| at.service_of(t).to_string())
            .collect()
    }

    /// The routes forced tunneling needs: a list of dicts (name, address_prefix, next_hop_type (also as next_hop),
    /// tags).
    #[pyo3(signature = (regions, profile, ipv6, max_routes))]
    fn udr<'py>(
        &self,
        py: Python<'py>,
        regions: Vec<String>,
        profile: &str,
        ipv6: bool,
        max_routes: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let params = tagnet::ops::udr::UdrParams {
            regions,
            profile: Some(profile.to_string()),
            ipv6,
            max_routes: Some(max_routes),
            ..Default::default()
        };
        let info = tagnet::ops::SnapshotInfo::of(&self.snap, "python");
        let plan = tagnet::ops::udr::udr(&self.snap, &info, &params)
            .map_err(tagnet_err)?
            .map_err(|over| err(over.spelled(&py_name)))?;
        let out = PyList::empty(py);
        for r in &plan.plan_routes {
            let d = PyDict::new(py);
            d.set_item("name", &r.name)?;
            d.set_item("address_prefix", &r.address_prefix)?;
            d.set_item("next_hop_type", r.next_hop.to_string())?;
            // The older name of the same field, kept for scripts written against it.
            d.set_item("next_hop", r.next_hop.to_string())?;
            d.set_item("tags", r.tags.clone())?;
            out.append(d)?;
        }
        Ok(out)
    }

    /// Verifies flows given as columns against an NSG: (access u8 0 allow 1 deny, 255 not
    /// verified; rule id i32 into the returned names; names; drift u8 0 none, 1
    /// flow-verdict-drift, 2 flow-rule-drift, when the logged access and rule are given).
    /// With `logged`, flows of protocols NSG rules cannot name are skipped (255) as
    /// `flows verify` skips them; without, they are an error.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (nsg_json, vnet, inbound, protocol, local, local_port, remote, remote_port, logged = None, nic_nsg_json = None, parameters_json = None))]
    fn nsg_verify<'py>(
        &self,
        py: Python<'py>,
        nsg_json: &[u8],
        vnet: Vec<String>,
        inbound: &[u8],
        protocol: &[u8],
        local: Vec<String>,
        local_port: &[u8],
        remote: Vec<String>,
        remote_port: &[u8],
        logged: Option<(Vec<u8>, Vec<String>)>,
        nic_nsg_json: Option<&[u8]>,
        parameters_json: Option<&[u8]>,
    ) -> PyResult<Verified<'py>> {
        use tagnet::nsg::model::{Access, Direction, Flow};
        let n = local.len();
        if let Some((deny, rules)) = &logged
            && (deny.len() != n || rules.len() != n)
        {
            return Err(err(
                "the logged columns and the flow columns have different lengths",
            ));
        }
        if inbound.len() != n
            || protocol.len() != n
            || remote.len() != n
            || local_port.len() != 2 * n
            || remote_port.len() != 2 * n
        {
            return Err(err("the flow columns have different lengths"));
        }
        // The scope as every use case reads it: one NSG a side, `VirtualNetwork` from `vnet`.
        let scope = nsg_scope(
            (Some(nsg_json), nic_nsg_json, parameters_json),
            &vnet,
            &Default::default(),
        )?;
        // What reading the NSGs found, as Python warnings (the CLI writes them to stderr).
        for w in scope.warnings() {
            let text = std::ffi::CString::new(format!("tagnet: {w}")).map_err(err)?;
            PyErr::warn(
                py,
                &py.get_type::<pyo3::exceptions::PyUserWarning>(),
                &text,
                1,
            )?;
        }
        let resolved = scope.resolve(&self.snap).map_err(tagnet_err)?;
        let subnet = resolved.subnet.as_ref().map(tagnet::nsg::compile);
        let nic = resolved.nic.as_ref().map(tagnet::nsg::compile);
        // Rule ids index the subnet NSG's rules, then the NIC NSG's; with both, each name
        // carries its NSG's, as `flows verify` writes rules.
        let both = nic.is_some();
        let mut names: Vec<String> = Vec::new();
        for c in subnet.iter().chain(nic.iter()) {
            for r in &c.rules {
                names.push(if both {
                    format!("{} {}", c.name, r.1)
                } else {
                    r.1.clone()
                });
            }
        }
        let offset = subnet.as_ref().map_or(0, |c| c.rules.len());
        let nsg_name = subnet
            .as_ref()
            .or(nic.as_ref())
            .map_or(String::new(), |c| c.name.clone());
        let mut flows = Vec::with_capacity(n);
        for i in 0..n {
            let Some(p) = tagnet::flowlog::protocol_of(protocol[i]) else {
                if logged.is_some() {
                    flows.push(None);
                    continue;
                }
                return Err(err(format!(
                    "row {i}: protocol {} is not one NSG rules name (6 Tcp, 17 Udp, 1 Icmp, 50 Esp, 51 Ah)",
                    protocol[i]
                )));
            };
            let ip = |s: &str| {
                tagnet::text::address(s.trim())
                    .map(|(a, _)| a)
                    .map_err(|e| {
                        err(format!(
                            "row {i}: `{}` is not an IP address: {e}",
                            tagnet::text::quoted(s)
                        ))
                    })
            };
            let port = |b: &[u8]| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
            let (l, r) = (ip(&local[i])?, ip(&remote[i])?);
            if l.is_ipv4() != r.is_ipv4() {
                if logged.is_some() {
                    flows.push(None);
                    continue;
                }
                return Err(err(format!(
                    "row {i}: {l} and {r} are of different families; a flow is IPv4 or IPv6"
                )));
            }
            flows.push(Some(Flow {
                direction: if inbound[i] != 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                protocol: p,
                local_ip: l,
                local_port: if p.has_ports() { port(local_port) } else { 0 },
                remote_ip: r,
                remote_port: if p.has_ports() { port(remote_port) } else { 0 },
            }));
        }
        let decided: Vec<(u8, i32, u8)> = py.detach(|| {
            flows
                .par_iter()
                .enumerate()
                .map(|(i, f)| {
                    let Some(f) = f else {
                        return (255, -1, 0);
                    };
                    let d = tagnet::nsg::decide(subnet.as_ref(), nic.as_ref(), f);
                    let id = d.by.map_or(-1, |(hop, k)| match hop {
                        tagnet::nsg::Hop::Subnet => k as i32,
                        tagnet::nsg::Hop::Nic => (offset + k) as i32,
                    });
                    let drift = match &logged {
                        None => 0,
                        Some((deny, rules)) => {
                            let ours = tagnet::flowlog::verify::Verdict {
                                access: d.access,
                                rule: d.qualified_rule(subnet.as_ref(), nic.as_ref()),
                            };
                            let logged = if deny[i] != 0 {
                                Access::Deny
                            } else {
                                Access::Allow
                            };
                            match tagnet::flowlog::verify::drift_of(logged, &rules[i], &ours) {
                                None => 0,
                                Some(tagnet::flowlog::verify::Drift::Verdict) => 1,
                                Some(_) => 2,
                            }
                        }
                    };
                    (u8::from(d.access == Access::Deny), id, drift)
                })
                .collect()
        });
        let access: Vec<u8> = decided.iter().map(|d| d.0).collect();
        let rule: Vec<i32> = decided.iter().map(|d| d.1).collect();
        let drift: Vec<u8> = decided.iter().map(|d| d.2).collect();
        Ok((
            PyBytes::new(py, &access),
            i32_bytes(py, &rule),
            names,
            logged.map(|_| PyBytes::new(py, &drift)),
            nsg_name,
        ))
    }
}

/// The snapshot with other sources beside it, as the CLI's `--source` and `--custom` add them.
fn with_sources(
    snap: Snapshot,
    info: tagnet::ops::SnapshotInfo,
    sources: &[String],
    custom: &[std::path::PathBuf],
) -> tagnet::Result<(Snapshot, tagnet::ops::SnapshotInfo)> {
    let mut read = Vec::new();
    for s in sources {
        read.push(tagnet::sources::read_spec(s)?);
    }
    for c in custom {
        read.extend(tagnet::sources::read_custom_path(c)?);
    }
    tagnet::ops::source::with_sources(snap, info, read)
}

/// Loads a snapshot file (JSON, gzip or not); `-` is not accepted here.
#[pyfunction]
#[pyo3(signature = (path, sources = Vec::new(), custom = Vec::new()))]
fn load_path(
    py: Python<'_>,
    path: std::path::PathBuf,
    sources: Vec<String>,
    custom: Vec<std::path::PathBuf>,
) -> PyResult<Index> {
    // Resolved as the CLI's `--tags PATH` is, so reports name it alike (date from the name).
    let (snap, info) = py
        .detach(|| {
            let (snap, info) = tagnet::ops::source::resolve(Some(&path))?;
            with_sources(snap, info, &sources, &custom)
        })
        .map_err(tagnet_err)?;
    Ok(build(py, snap, info))
}

/// Loads a snapshot from bytes (JSON, or gzip-compressed JSON).
#[pyfunction]
#[pyo3(signature = (data, origin = "bytes"))]
fn load_bytes(py: Python<'_>, data: &[u8], origin: &str) -> PyResult<Index> {
    let snap = py
        .detach(|| {
            let bytes = tagnet::load::decode_text(data.to_vec(), origin)?;
            tagnet::load::from_slice(&bytes, origin)
        })
        .map_err(tagnet_err)?;
    let info = tagnet::ops::SnapshotInfo::of(&snap, origin);
    Ok(build(py, snap, info))
}

/// The snapshot the CLI would use: `spec` as `--tags` takes it (a path, `latest`, `cnNNN`,
/// `CLOUD:latest`, `builtin`), else the newest cached Public snapshot, else the built-in one.
/// (`TAGNET_TAGS` is read by the Python side, as the CLI reads it.)
#[pyfunction]
#[pyo3(signature = (spec = None, sources = Vec::new(), custom = Vec::new()))]
fn open(
    py: Python<'_>,
    spec: Option<std::path::PathBuf>,
    sources: Vec<String>,
    custom: Vec<std::path::PathBuf>,
) -> PyResult<Index> {
    if spec.as_deref() == Some(std::path::Path::new("-")) {
        return Err(err(
            "`-` (standard input) is for the CLI; give a path, `latest`, `cnNNN` or `builtin`",
        ));
    }
    let (snap, info) = py
        .detach(|| {
            let (snap, info) = tagnet::ops::source::resolve(spec.as_deref())?;
            with_sources(snap, info, &sources, &custom)
        })
        .map_err(tagnet_err)?;
    Ok(build(py, snap, info))
}

/// The snapshot built into tagnet.
#[pyfunction]
fn builtin(py: Python<'_>) -> PyResult<Index> {
    let (snap, info) = py
        .detach(|| tagnet::ops::source::resolve(Some("builtin".as_ref())))
        .map_err(tagnet_err)?;
    Ok(build(py, snap, info))
}

/// The built-in snapshot's bytes (JSON), for broadcasting to Spark executors.
/// The parameters file the NSG commands read for the NSG file at `path` when none is given
/// (the one `NAME.parameters*.json` beside a template), or None; several are an error.
#[pyfunction]
fn nsg_parameters_beside(path: std::path::PathBuf) -> PyResult<Option<std::path::PathBuf>> {
    tagnet::nsg::read::parameters_for(&path).map_err(tagnet_err)
}

#[pyfunction]
fn builtin_bytes(py: Python<'_>) -> PyResult<Bound<'_, PyBytes>> {
    let b = tagnet::load::builtin::bytes().map_err(tagnet_err)?;
    Ok(PyBytes::new(py, &b))
}

fn build(py: Python<'_>, snap: Snapshot, info: tagnet::ops::SnapshotInfo) -> Index {
    let index = py.detach(|| TagIndex::build(&snap));
    Index {
        snap: Arc::new(snap),
        index: Arc::new(index),
        info,
    }
}

/// The NSGs of a JSON text; a template evaluated with `parameters=` (an ARM parameters
/// file's JSON), as the commands' `--parameters FILE`.
fn read_nsgs(
    json: &[u8],
    what: &str,
    parameters: Option<&[u8]>,
) -> PyResult<Vec<tagnet::nsg::model::Nsg>> {
    let given = parameters
        .map(|b| tagnet::arm::parameters(b, "parameters="))
        .transpose()
        .map_err(tagnet_err)?;
    tagnet::nsg::read::parse_with(json, what, given.as_ref().map(|m| ("`parameters=`", m)))
        .map_err(tagnet_err)
}

/// An NSG scope from JSON texts of NSGs (and an ARM parameters file for templates),
/// `VirtualNetwork` prefixes and ASG members.
fn nsg_scope(
    (nsg, nic_nsg, parameters): (Option<&[u8]>, Option<&[u8]>, Option<&[u8]>),
    vnet: &[String],
    asgs: &std::collections::BTreeMap<String, Vec<String>>,
) -> PyResult<tagnet::ops::nsg::Scope> {
    let one = |json: Option<&[u8]>, what: &str| -> PyResult<Option<tagnet::nsg::model::Nsg>> {
        let Some(json) = json else { return Ok(None) };
        let mut all = read_nsgs(json, what, parameters)?;
        if all.len() != 1 {
            return Err(err(format!("`{what}=` holds {} NSGs; give one", all.len())));
        }
        Ok(Some(all.remove(0)))
    };
    let mut space = Vec::with_capacity(vnet.len());
    for t in vnet {
        space.push(
            tagnet::text::address_or_prefix(t, tagnet::text::HostBits::Clear).map_err(|e| {
                err(format!(
                    "`vnet=`: invalid prefix `{}`: {e}",
                    tagnet::text::quoted(t)
                ))
            })?,
        );
    }
    Ok(tagnet::ops::nsg::Scope {
        nsg: one(nsg, "nsg")?,
        nic_nsg: one(nic_nsg, "nic_nsg")?,
        vnet: space,
        asgs: asg_members(asgs)?,
        route_table: None,
    })
}

/// A route table given as JSON text (`route_table=`), read as `routes audit` reads tables.
pub(crate) fn route_table(
    json: Option<&[u8]>,
) -> PyResult<Option<tagnet::routes::audit::RouteTable>> {
    json.map(|b| tagnet::routes::audit::parse_route_table(b, "route_table"))
        .transpose()
        .map_err(tagnet_err)
}

/// ASG members given as NAME → [IP text].
pub(crate) fn asg_members(
    asgs: &std::collections::BTreeMap<String, Vec<String>>,
) -> PyResult<std::collections::BTreeMap<String, Vec<std::net::IpAddr>>> {
    let mut members = std::collections::BTreeMap::new();
    for (name, ips) in asgs {
        let mut list = Vec::with_capacity(ips.len());
        for ip in ips {
            list.push(
                tagnet::text::address(ip)
                    .map_err(|e| {
                        err(format!(
                            "`asgs=` {name}: `{}` is not an IP address: {e}",
                            tagnet::text::quoted(ip)
                        ))
                    })?
                    .0,
            );
        }
        members.insert(name.clone(), list);
    }
    Ok(members)
}

/// A report as JSON text, for `json.loads` on the Python side.
pub(crate) fn json_text(v: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(v).map_err(err)
}

#[pymodule]
fn _tagnet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Index>()?;
    m.add("TagnetError", m.py().get_type::<TagnetError>())?;
    m.add_function(wrap_pyfunction!(load_path, m)?)?;
    m.add_function(wrap_pyfunction!(load_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(builtin, m)?)?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(builtin_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(nsg_parameters_beside, m)?)?;
    m.add_function(wrap_pyfunction!(flows::read_flow_logs, m)?)?;
    Ok(())
}
