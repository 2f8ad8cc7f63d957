//! Flow-log blobs read into columns, as `tagnet flows attribute` reads them.

use crate::*;

/// Reads flow-log blobs (files, folders, as `tagnet flows attribute` does): a dict of
/// columns (numbers as little-endian bytes, addresses and rules as lists) and the list of
/// unreadable tuples as messages.
#[pyfunction]
pub(crate) fn read_flow_logs<'py>(
    py: Python<'py>,
    paths: Vec<std::path::PathBuf>,
) -> PyResult<(Bound<'py, PyDict>, Vec<String>)> {
    use tagnet::flowlog::read;
    let inputs = read::inputs(&paths).map_err(tagnet_err)?;
    #[derive(Default)]
    struct Cols {
        time: Vec<u8>,
        inbound: Vec<u8>,
        deny: Vec<u8>,
        state: Vec<u8>,
        protocol: Vec<u8>,
        src: Vec<String>,
        dst: Vec<String>,
        src_port: Vec<u8>,
        dst_port: Vec<u8>,
        local: Vec<String>,
        local_port: Vec<u8>,
        remote: Vec<String>,
        remote_port: Vec<u8>,
        packets: Vec<u8>,
        bytes: Vec<u8>,
        rule: Vec<String>,
        file: Vec<String>,
        record: Vec<u8>,
    }
    let res: Result<(Cols, Vec<String>), tagnet::Error> = py.detach(|| {
        let mut c = Cols::default();
        let mut bad = Vec::new();
        for input in &inputs {
            let origin = input.origin();
            let r = read::open(input)?;
            read::read(
                r,
                &origin,
                &mut |rec| {
                    for t in &rec.tuples {
                        let (l, lp) = t.local();
                        let (m, mp) = t.remote();
                        c.time.extend(t.time_ms.to_le_bytes());
                        c.inbound.push(u8::from(
                            t.direction == tagnet::nsg::model::Direction::Inbound,
                        ));
                        c.deny
                            .push(u8::from(t.access == tagnet::nsg::model::Access::Deny));
                        c.state
                            .push(t.state.letter().bytes().next().unwrap_or(b'-'));
                        c.protocol.push(t.protocol);
                        c.src.push(t.src.to_string());
                        c.dst.push(t.dst.to_string());
                        c.src_port.extend(t.src_port.to_le_bytes());
                        c.dst_port.extend(t.dst_port.to_le_bytes());
                        c.local.push(l.to_string());
                        c.local_port.extend(lp.to_le_bytes());
                        c.remote.push(m.to_string());
                        c.remote_port.extend(mp.to_le_bytes());
                        c.packets.extend(t.packets().to_le_bytes());
                        c.bytes.extend(t.bytes().to_le_bytes());
                        c.rule.push(rec.groups[t.group as usize].rule.clone());
                        c.file.push(origin.clone());
                        c.record.extend((rec.index as u64).to_le_bytes());
                    }
                },
                &mut |b| bad.push(b.to_string()),
            );
        }
        Ok((c, bad))
    });
    let (c, bad) = res.map_err(tagnet_err)?;
    let d = PyDict::new(py);
    d.set_item("time_ms", PyBytes::new(py, &c.time))?;
    d.set_item("inbound", PyBytes::new(py, &c.inbound))?;
    d.set_item("deny", PyBytes::new(py, &c.deny))?;
    d.set_item("state", PyBytes::new(py, &c.state))?;
    d.set_item("protocol", PyBytes::new(py, &c.protocol))?;
    d.set_item("src_ip", c.src)?;
    d.set_item("src_port", PyBytes::new(py, &c.src_port))?;
    d.set_item("dst_ip", c.dst)?;
    d.set_item("dst_port", PyBytes::new(py, &c.dst_port))?;
    d.set_item("local_ip", c.local)?;
    d.set_item("local_port", PyBytes::new(py, &c.local_port))?;
    d.set_item("remote_ip", c.remote)?;
    d.set_item("remote_port", PyBytes::new(py, &c.remote_port))?;
    d.set_item("packets", PyBytes::new(py, &c.packets))?;
    d.set_item("bytes", PyBytes::new(py, &c.bytes))?;
    d.set_item("rule", c.rule)?;
    d.set_item("file", c.file)?;
    d.set_item("record", PyBytes::new(py, &c.record))?;
    Ok((d, bad))
}
