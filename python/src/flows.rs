//! Flow-log blobs read into columns, as `tagnet flows attribute` reads them.

use crate::*;
use std::io::Write as _;

/// A string column as Arrow lays it out: 64-bit offsets (`large_string`) and the UTF-8 data.
struct StrCol {
    offsets: Vec<u8>,
    data: Vec<u8>,
}

impl StrCol {
    fn new() -> StrCol {
        StrCol {
            offsets: 0i64.to_le_bytes().to_vec(),
            data: Vec::new(),
        }
    }
    fn end(&mut self) {
        self.offsets.extend((self.data.len() as i64).to_le_bytes());
    }
    fn push_str(&mut self, s: &str) {
        self.data.extend_from_slice(s.as_bytes());
        self.end();
    }
    fn push_ip(&mut self, ip: IpAddr) {
        // Written in place: no string is made per address; IPv4 without the formatter.
        match ip {
            IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        self.data.push(b'.');
                    }
                    if o >= 100 {
                        self.data.push(b'0' + o / 100);
                    }
                    if o >= 10 {
                        self.data.push(b'0' + o / 10 % 10);
                    }
                    self.data.push(b'0' + o % 10);
                }
            }
            IpAddr::V6(_) => {
                let _ = write!(self.data, "{ip}");
            }
        }
        self.end();
    }
    /// Appends another column's rows after this one's.
    fn append(&mut self, other: StrCol) {
        let base = self.data.len() as i64;
        for c in other.offsets[8..].chunks_exact(8) {
            let v = i64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.offsets.extend((base + v).to_le_bytes());
        }
        self.data.extend(other.data);
    }
    fn to_py<'py>(&self, py: Python<'py>) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        (
            PyBytes::new(py, &self.offsets),
            PyBytes::new(py, &self.data),
        )
    }
}

/// The columns of one input (file), filled by one thread.
struct Cols {
    time: Vec<u8>,
    inbound: Vec<u8>,
    deny: Vec<u8>,
    state: StrCol,
    protocol: Vec<u8>,
    src: StrCol,
    dst: StrCol,
    src_port: Vec<u8>,
    dst_port: Vec<u8>,
    local_port: Vec<u8>,
    remote_port: Vec<u8>,
    packets: Vec<u8>,
    bytes: Vec<u8>,
    /// Rule names, each once, and each tuple's index into them.
    rules: Vec<String>,
    rule: Vec<i32>,
    file: Vec<u8>,
    record: Vec<u8>,
    bad: Vec<String>,
}

impl Cols {
    fn new() -> Cols {
        Cols {
            time: Vec::new(),
            inbound: Vec::new(),
            deny: Vec::new(),
            state: StrCol::new(),
            protocol: Vec::new(),
            src: StrCol::new(),
            dst: StrCol::new(),
            src_port: Vec::new(),
            dst_port: Vec::new(),
            local_port: Vec::new(),
            remote_port: Vec::new(),
            packets: Vec::new(),
            bytes: Vec::new(),
            rules: Vec::new(),
            rule: Vec::new(),
            file: Vec::new(),
            record: Vec::new(),
            bad: Vec::new(),
        }
    }

    fn append(&mut self, o: Cols) {
        self.time.extend(o.time);
        self.inbound.extend(o.inbound);
        self.deny.extend(o.deny);
        self.state.append(o.state);
        self.protocol.extend(o.protocol);
        self.src.append(o.src);
        self.dst.append(o.dst);
        self.src_port.extend(o.src_port);
        self.dst_port.extend(o.dst_port);
        self.local_port.extend(o.local_port);
        self.remote_port.extend(o.remote_port);
        self.packets.extend(o.packets);
        self.bytes.extend(o.bytes);
        // The other part's rule names renumbered into this one's.
        let map: Vec<i32> = o
            .rules
            .into_iter()
            .map(|name| match self.rules.iter().position(|r| *r == name) {
                Some(i) => i as i32,
                None => {
                    self.rules.push(name);
                    self.rules.len() as i32 - 1
                }
            })
            .collect();
        self.rule
            .extend(o.rule.into_iter().map(|i| map[i as usize]));
        self.file.extend(o.file);
        self.record.extend(o.record);
        self.bad.extend(o.bad);
    }
}

/// Reads one input into columns; `file` is its position among the inputs.
fn read_one(input: &tagnet::flowlog::read::Input, file: i32) -> Result<Cols, tagnet::Error> {
    use tagnet::flowlog::read;
    use tagnet::nsg::model::{Access, Direction};
    let origin = input.origin();
    let r = read::open(input)?;
    let mut c = Cols::new();
    let mut bad = Vec::new();
    read::read(
        r,
        &origin,
        &mut |rec| {
            // This record's groups' rules, numbered in the file's list of names.
            let ids: Vec<i32> = rec
                .groups
                .iter()
                .map(|g| match c.rules.iter().position(|r| *r == g.rule) {
                    Some(i) => i as i32,
                    None => {
                        c.rules.push(g.rule.clone());
                        c.rules.len() as i32 - 1
                    }
                })
                .collect();
            for t in &rec.tuples {
                c.time.extend(t.time_ms.to_le_bytes());
                c.inbound.push(u8::from(t.direction == Direction::Inbound));
                c.deny.push(u8::from(t.access == Access::Deny));
                c.state.push_str(match t.state.letter() {
                    "-" => "",
                    l => l,
                });
                c.protocol.push(t.protocol);
                c.src.push_ip(t.src);
                c.dst.push_ip(t.dst);
                c.src_port.extend(t.src_port.to_le_bytes());
                c.dst_port.extend(t.dst_port.to_le_bytes());
                c.local_port.extend(t.local().1.to_le_bytes());
                c.remote_port.extend(t.remote().1.to_le_bytes());
                c.packets.extend(t.packets().to_le_bytes());
                c.bytes.extend(t.bytes().to_le_bytes());
                c.rule.push(ids[t.group as usize]);
                c.file.extend(file.to_le_bytes());
                c.record.extend((rec.index as u64).to_le_bytes());
            }
        },
        &mut |b| bad.push(b.to_string()),
    );
    c.bad = bad;
    Ok(c)
}

/// Reads flow-log blobs (files, folders, as `tagnet flows attribute` does), the files in
/// parallel and joined in input order: a dict of columns — numbers as little-endian bytes,
/// strings as (64-bit offsets, data) pairs, `rule` as (indices, names), `file` as indices
/// into the list of file names —
/// and the list of unreadable tuples as messages.
#[pyfunction]
pub(crate) fn read_flow_logs<'py>(
    py: Python<'py>,
    paths: Vec<std::path::PathBuf>,
) -> PyResult<(Bound<'py, PyDict>, Vec<String>, Vec<String>)> {
    use tagnet::flowlog::read;
    let inputs = read::inputs(&paths).map_err(tagnet_err)?;
    let names: Vec<String> = inputs.iter().map(|i| i.origin()).collect();
    let res: Result<Cols, tagnet::Error> = py.detach(|| {
        let parts: Vec<Result<Cols, tagnet::Error>> = inputs
            .par_iter()
            .enumerate()
            .map(|(i, input)| read_one(input, i as i32))
            .collect();
        let mut all = Cols::new();
        for p in parts {
            all.append(p?);
        }
        Ok(all)
    });
    let c = res.map_err(tagnet_err)?;
    let d = PyDict::new(py);
    d.set_item("time_ms", PyBytes::new(py, &c.time))?;
    d.set_item("inbound", PyBytes::new(py, &c.inbound))?;
    d.set_item("deny", PyBytes::new(py, &c.deny))?;
    d.set_item("state", c.state.to_py(py))?;
    d.set_item("protocol", PyBytes::new(py, &c.protocol))?;
    d.set_item("src_ip", c.src.to_py(py))?;
    d.set_item("src_port", PyBytes::new(py, &c.src_port))?;
    d.set_item("dst_ip", c.dst.to_py(py))?;
    d.set_item("dst_port", PyBytes::new(py, &c.dst_port))?;
    d.set_item("local_port", PyBytes::new(py, &c.local_port))?;
    d.set_item("remote_port", PyBytes::new(py, &c.remote_port))?;
    d.set_item("packets", PyBytes::new(py, &c.packets))?;
    d.set_item("bytes", PyBytes::new(py, &c.bytes))?;
    let rule: Vec<u8> = c.rule.iter().flat_map(|i| i.to_le_bytes()).collect();
    d.set_item("rule", (PyBytes::new(py, &rule), c.rules))?;
    d.set_item("file", PyBytes::new(py, &c.file))?;
    d.set_item("record", PyBytes::new(py, &c.record))?;
    Ok((d, c.bad, names))
}
