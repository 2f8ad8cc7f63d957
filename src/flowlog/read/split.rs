//! A record too large to hold, read in parts: its bytes so far are closed into a record of
//! their own at a comma between two elements of an array (a tuple list), and the next part
//! opens again with what encloses that array — each enclosing object's scalar members seen so
//! far (`time`, `targetResourceID`, `aclID`, `rule` …) and the key of its open member — so
//! every part is a valid record with its header. Memory then stays at a part's size whatever
//! the record's.
//!
//! The structure is followed lazily over the part's bytes (only when a split is tried), so
//! records under the limit cost nothing.

/// Bytes of a record after which it is read in parts.
pub(super) const PART_BYTES: usize = 1 << 20;

/// One open container of the record.
#[derive(Debug, Clone)]
struct Frame {
    array: bool,
    /// Objects: the completed members whose values are scalars, as spans of the part.
    members: Vec<(usize, usize)>,
    /// Objects: where the member being read began (its key's quote).
    member: Option<usize>,
    /// Objects: the span of `"key":` before the open child container.
    child_key: Option<(usize, usize)>,
    /// Whether the container was open when the record was split (it began in a part's
    /// reopening prefix).
    carried: bool,
}

/// The structure of the record part being read.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    frames: Vec<Frame>,
    /// Bytes of the part followed so far.
    at: usize,
    in_string: bool,
    escape: bool,
    /// The reopening prefix's length: containers opened in it are carried over.
    carried_until: usize,
    /// A scalar member that came after a part of its object was already closed: the parts
    /// before lacked it (its key).
    pub(super) late: Option<String>,
    /// Whether the record was split at least once.
    pub(super) split: bool,
}

impl Tracker {
    /// Forgets everything: a new record begins.
    pub(super) fn reset(&mut self) {
        *self = Tracker::default();
    }

    /// Follows the part's bytes not yet followed.
    pub(super) fn follow(&mut self, part: &[u8]) {
        while self.at < part.len() {
            let i = self.at;
            let c = part[i];
            self.at += 1;
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if c == b'\\' {
                    self.escape = true;
                } else if c == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match c {
                b'"' => {
                    self.in_string = true;
                    if let Some(f) = self.frames.last_mut()
                        && !f.array
                        && f.member.is_none()
                    {
                        f.member = Some(i);
                    }
                }
                b'{' | b'[' => {
                    if let Some(f) = self.frames.last_mut()
                        && !f.array
                    {
                        f.child_key = f.member.map(|m| (m, i));
                    }
                    self.frames.push(Frame {
                        array: c == b'[',
                        members: Vec::new(),
                        member: None,
                        child_key: None,
                        carried: i < self.carried_until,
                    });
                }
                b'}' | b']' => {
                    if c == b'}' {
                        self.end_member(part, i);
                    }
                    self.frames.pop();
                    if let Some(f) = self.frames.last_mut()
                        && !f.array
                    {
                        // A container member ends: not kept (its bytes are in a part).
                        f.member = None;
                        f.child_key = None;
                    }
                }
                b',' => self.end_member(part, i),
                _ => {}
            }
        }
    }

    /// A member of the innermost object ends at `i` (a `,` or its `}`): kept when its value
    /// was a scalar.
    fn end_member(&mut self, part: &[u8], i: usize) {
        let carried_until = self.carried_until;
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        if f.array {
            return;
        }
        if let Some(m) = f.member.take()
            && f.child_key.is_none()
        {
            f.members.push((m, i));
            if f.carried && m >= carried_until && self.late.is_none() {
                let text = String::from_utf8_lossy(&part[m..i]);
                let key = text
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .trim_matches('"');
                self.late = Some(key.to_string());
            }
        }
        f.child_key = None;
    }

    /// At a comma that `part` ends just before (the comma itself not in `part`): when it
    /// separates two elements of an array, the part closed into a record and the prefix
    /// the next part begins with; `None` elsewhere (between an object's members).
    pub(super) fn split(&mut self, part: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        self.follow(part);
        if !self.frames.last().is_some_and(|f| f.array) || self.in_string {
            return None;
        }
        let mut closed = part.to_vec();
        closed.extend(
            self.frames
                .iter()
                .rev()
                .map(|f| if f.array { b']' } else { b'}' }),
        );
        let mut prefix = Vec::with_capacity(256);
        for f in &self.frames {
            if f.array {
                prefix.push(b'[');
                continue;
            }
            prefix.push(b'{');
            for (k, &(a, b)) in f.members.iter().enumerate() {
                if k > 0 {
                    prefix.push(b',');
                }
                prefix.extend_from_slice(&part[a..b]);
            }
            if let Some((a, b)) = f.child_key {
                if !f.members.is_empty() {
                    prefix.push(b',');
                }
                prefix.extend_from_slice(&part[a..b]);
            }
        }
        let late = self.late.take();
        *self = Tracker {
            carried_until: prefix.len(),
            late,
            split: true,
            ..Tracker::default()
        };
        Some((closed, prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `doc` (one record) at every array comma and checks each part is valid JSON
    /// whose scalars and tuples, together, are the record's.
    fn parts(doc: &str) -> Vec<serde_json::Value> {
        let mut t = Tracker::default();
        let mut out = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        let bytes = doc.as_bytes();
        let mut in_string = false;
        let mut escape = false;
        for &c in bytes {
            if in_string {
                cur.push(c);
                if escape {
                    escape = false;
                } else if c == b'\\' {
                    escape = true;
                } else if c == b'"' {
                    in_string = false;
                }
                continue;
            }
            if c == b'"' {
                in_string = true;
            }
            if c == b','
                && let Some((closed, prefix)) = t.split(&cur)
            {
                out.push(serde_json::from_slice(&closed).expect("a part is JSON"));
                cur = prefix;
                continue;
            }
            cur.push(c);
        }
        out.push(serde_json::from_slice(&cur).expect("the last part is JSON"));
        out
    }

    #[test]
    fn every_part_is_a_record_with_its_header() {
        let doc = r#"{"time":"t","flowRecords":{"flows":[{"aclID":"a1","flowGroups":[{"rule":"r1","flowTuples":["x1","x,2"]},{"rule":"r2","flowTuples":["x3"]}]},{"aclID":"a2","flowGroups":[{"rule":"r3","flowTuples":["x4","x5"]}]}]},"mac":"m"}"#;
        let p = parts(doc);
        let mut tuples = Vec::new();
        for part in &p {
            assert_eq!(part["time"], "t", "{part}");
            for f in part["flowRecords"]["flows"].as_array().unwrap() {
                for g in f["flowGroups"].as_array().unwrap() {
                    for x in g["flowTuples"].as_array().unwrap() {
                        tuples.push((
                            f["aclID"].as_str().unwrap().to_string(),
                            g["rule"].as_str().unwrap().to_string(),
                            x.as_str().unwrap().to_string(),
                        ));
                    }
                }
            }
        }
        let want: Vec<(String, String, String)> = [
            ("a1", "r1", "x1"),
            ("a1", "r1", "x,2"),
            ("a1", "r2", "x3"),
            ("a2", "r3", "x4"),
            ("a2", "r3", "x5"),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
        assert_eq!(tuples, want);
        assert!(p.len() > 3);
        // `mac` came after the tuples: the last part has it, and the tracker says so.
        assert_eq!(p.last().unwrap()["mac"], "m");
    }

    #[test]
    fn a_member_after_the_split_is_named() {
        let mut t = Tracker::default();
        let head = br#"{"time":"t","flowTuples":["a""#;
        let (_, prefix) = t.split(head).unwrap();
        let mut cur = prefix;
        cur.extend_from_slice(br#""b"],"resourceId":"r""#);
        t.follow(&cur);
        t.end_member(&cur, cur.len());
        assert_eq!(t.late.as_deref(), Some("resourceId"));
    }
}
