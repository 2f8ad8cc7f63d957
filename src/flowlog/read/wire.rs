//! Flow-log records as Azure writes them (serde wire types, borrowed where the text allows)
//! and their validation into tuples.

use super::*;

/// A string that is borrowed when it can be.
#[derive(Deserialize, Default)]
pub(super) struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// One element of `flowTuples`: a string, or something else that is reported and skipped
/// without losing the record's other tuples.
pub(super) enum Entry<'a> {
    Text(Cow<'a, str>),
    Other(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Entry<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Entry<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a flow tuple")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Other("a number"))
            }
            fn visit_unit<E>(self) -> std::result::Result<Entry<'a>, E> {
                Ok(Entry::Other("null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Entry<'a>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entry::Other("an array"))
            }
            fn visit_map<M: MapAccess<'de>>(
                self,
                mut m: M,
            ) -> std::result::Result<Entry<'a>, M::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Entry::Other("an object"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `flowTuples` as written, kept raw: an array of plain strings is cut by [`plain_strings`];
/// anything else sends the record through [`Entry`]s, which read or report every element.
#[derive(Default)]
pub(super) struct RawTuples<'a>(Option<&'a serde_json::value::RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for RawTuples<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        <&'a serde_json::value::RawValue>::deserialize(d).map(|r| RawTuples(Some(r)))
    }
}

/// The strings of a JSON array of strings without escapes (`["…","…"]`, white space between):
/// the form Azure writes `flowTuples` in. `None` for anything else.
fn plain_strings(raw: &str) -> Option<Vec<&str>> {
    let b = raw.as_bytes();
    let ws = |i: &mut usize| {
        while matches!(b.get(*i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            *i += 1;
        }
    };
    let mut i = 0;
    ws(&mut i);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    ws(&mut i);
    let mut out = Vec::new();
    if b.get(i) == Some(&b']') {
        return Some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        // The raw value is valid JSON: a string ends at the first quote not escaped, and
        // with no backslash before it, at the first quote.
        let len = memchr::memchr2(b'"', b'\\', &b[start..])?;
        if b[start + len] != b'"' {
            return None;
        }
        out.push(&raw[start..start + len]);
        i = start + len + 1;
        ws(&mut i);
        match b.get(i) {
            Some(b',') => {
                i += 1;
                ws(&mut i);
            }
            Some(b']') => return Some(out),
            _ => return None,
        }
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireRecord<'a, T> {
    #[serde(default, borrow)]
    pub(super) time: Text<'a>,
    #[serde(default, rename = "macAddress", borrow)]
    pub(super) mac: Text<'a>,
    #[serde(default, rename = "targetResourceID", borrow)]
    pub(super) target: Option<Text<'a>>,
    #[serde(default, rename = "resourceId", borrow)]
    pub(super) resource_id: Option<Text<'a>>,
    #[serde(default, rename = "flowLogVersion")]
    pub(super) version: Option<u64>,
    #[serde(default, rename = "flowRecords", borrow)]
    pub(super) flow_records: Option<WireVnetRecords<'a, T>>,
    #[serde(default, borrow)]
    pub(super) properties: Option<WireNsgProperties<'a, T>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireVnetRecords<'a, T> {
    #[serde(default, borrow)]
    pub(super) flows: Vec<WireVnetFlow<'a, T>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireVnetFlow<'a, T> {
    #[serde(default, rename = "aclID", borrow)]
    pub(super) acl: Text<'a>,
    #[serde(default, rename = "flowGroups", borrow)]
    pub(super) groups: Vec<WireVnetGroup<'a, T>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireVnetGroup<'a, T> {
    #[serde(default, borrow)]
    pub(super) rule: Text<'a>,
    #[serde(default, rename = "flowTuples")]
    pub(super) tuples: T,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireNsgProperties<'a, T> {
    #[serde(default, rename = "Version")]
    pub(super) version: Option<u64>,
    #[serde(default, borrow)]
    pub(super) flows: Vec<WireNsgRuleFlows<'a, T>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireNsgRuleFlows<'a, T> {
    #[serde(default, borrow)]
    pub(super) rule: Text<'a>,
    #[serde(default, borrow)]
    pub(super) flows: Vec<WireNsgMacFlows<'a, T>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(super) struct WireNsgMacFlows<'a, T> {
    #[serde(default, borrow)]
    pub(super) mac: Text<'a>,
    #[serde(default, rename = "flowTuples")]
    pub(super) tuples: T,
}

/// A record's groups in order (VNet flow groups, then NSG rule and MAC groups), each with its
/// tuples as `tuples` gives them; `None` if `tuples` gives `None` for one.
#[allow(clippy::type_complexity)]
fn groups_of<'a, T>(
    w: WireRecord<'a, T>,
    tuples: impl Fn(T) -> Option<Vec<Entry<'a>>>,
) -> Option<Vec<(Group, bool, Vec<Entry<'a>>)>> {
    let mut out = Vec::new();
    for f in w.flow_records.into_iter().flat_map(|r| r.flows) {
        for g in f.groups {
            let group = Group {
                rule: g.rule.0.into_owned(),
                acl: f.acl.0.to_string(),
                mac: String::new(),
            };
            out.push((group, false, tuples(g.tuples)?));
        }
    }
    for rf in w.properties.into_iter().flat_map(|p| p.flows) {
        for m in rf.flows {
            let group = Group {
                rule: rf.rule.0.to_string(),
                acl: String::new(),
                mac: m.mac.0.into_owned(),
            };
            out.push((group, true, tuples(m.tuples)?));
        }
    }
    Some(out)
}

/// The tuples of `flowTuples` written as plain strings; `None` for any other form.
fn plain_tuples(t: RawTuples<'_>) -> Option<Vec<Entry<'_>>> {
    match t.0 {
        None => Some(Vec::new()),
        Some(raw) => Some(
            plain_strings(raw.get())?
                .into_iter()
                .map(|s| Entry::Text(Cow::Borrowed(s)))
                .collect(),
        ),
    }
}

/// A record's fields other than its groups.
fn fields_of<T>(w: &WireRecord<'_, T>, rec: &mut Record) {
    rec.time = w.time.0.to_string();
    rec.mac = w.mac.0.to_string();
    rec.resource = w
        .target
        .as_ref()
        .or(w.resource_id.as_ref())
        .map(|t| t.0.to_string())
        .unwrap_or_default();
    rec.version = w.version.or(w.properties.as_ref().and_then(|p| p.version));
}

/// Parses one record's bytes; tuples that cannot be read are returned as `Bad`.
pub(super) fn parse_record(raw: &RawRecord, origin: &str) -> (Record, Vec<Bad>) {
    parse_record_as(raw, origin, true)
}

/// [`parse_record`], with the plain-string reading of `flowTuples` tried first or not.
fn parse_record_as(raw: &RawRecord, origin: &str, plain_first: bool) -> (Record, Vec<Bad>) {
    let mut rec = Record {
        index: raw.index,
        more: raw.part == Part::More,
        ..Record::default()
    };
    let mut bad = Vec::new();
    if let Some(next) = raw.cut_at {
        bad.push(Bad {
            origin: origin.to_string(),
            record: (raw.index != usize::MAX).then_some(raw.index),
            tuple: None,
            text: String::new(),
            why: format!(
                "line {}: the blob is cut short in this {} (the next blob begins at line {next})",
                raw.line,
                if raw.index == usize::MAX {
                    "blob"
                } else {
                    "record"
                }
            ),
        });
        return (rec, bad);
    }
    if let Some(key) = &raw.late {
        bad.push(Bad {
            origin: origin.to_string(),
            record: Some(raw.index),
            tuple: None,
            text: String::new(),
            why: format!(
                "line {}: the record is over {} MB and was read in parts to bound memory, but its `{key}` comes after tuples already read, which were read without it (Azure writes a record's fields before its tuples)",
                raw.line,
                super::split::PART_BYTES >> 20
            ),
        });
    }
    if let Some(what) = raw.not_object {
        bad.push(Bad {
            origin: origin.to_string(),
            record: Some(raw.index),
            tuple: None,
            text: String::new(),
            why: format!("line {}: {what}, not a record object: skipped", raw.line),
        });
        return (rec, bad);
    }
    // Read first with `flowTuples` kept raw and cut as plain strings (as Azure writes them);
    // a record with any other form of tuples, or a syntax error, is read again as it always
    // was, element by element, which gives the same tuples or the error with its place.
    let fast = serde_json::from_slice::<WireRecord<'_, RawTuples<'_>>>(&raw.bytes)
        .ok()
        .filter(|_| plain_first)
        .and_then(|w| {
            let mut head = Record::default();
            fields_of(&w, &mut head);
            Some((head, groups_of(w, plain_tuples)?))
        });
    let groups = match fast {
        Some((head, groups)) => {
            (rec.time, rec.mac, rec.resource, rec.version) =
                (head.time, head.mac, head.resource, head.version);
            groups
        }
        None => {
            let w: WireRecord<'_, Vec<Entry<'_>>> = match serde_json::from_slice(&raw.bytes) {
                Ok(w) => w,
                Err(e) => {
                    bad.push(Bad {
                        origin: origin.to_string(),
                        record: Some(raw.index),
                        tuple: None,
                        text: String::new(),
                        why: {
                            let text = e.to_string();
                            let msg = text
                                .rsplit_once(" at line ")
                                .map_or(text.as_str(), |(m, _)| m);
                            format!(
                                "line {}, column {}: {msg} ({})",
                                raw.line + e.line() - 1,
                                e.column(),
                                if raw.part == Part::Whole {
                                    "the record is skipped"
                                } else {
                                    "this part of a record read in parts is skipped; the column counts from where the part begins"
                                }
                            )
                        },
                    });
                    return (rec, bad);
                }
            };
            fields_of(&w, &mut rec);
            groups_of(w, Some).expect("every group's entries are given")
        }
    };
    let mut no = 0usize;
    let mut take = |rec: &mut Record, entry: &Entry<'_>, g: u32, nsg: bool| {
        let text: &str = match entry {
            Entry::Text(t) => t,
            Entry::Other(what) => {
                bad.push(Bad {
                    origin: origin.to_string(),
                    record: Some(raw.index),
                    tuple: Some(no),
                    text: String::new(),
                    why: format!("{what}, not a tuple string of comma-separated fields"),
                });
                no += 1;
                return;
            }
        };
        let parsed = if nsg {
            crate::flowlog::parse_nsg(text, g)
        } else {
            crate::flowlog::parse_vnet(text, g).map(|t| (t, Kind::Vnet))
        };
        match parsed {
            Ok((t, k)) => {
                rec.kind = Some(k);
                rec.tuples.push(t);
            }
            Err(why) => bad.push(Bad {
                origin: origin.to_string(),
                record: Some(raw.index),
                tuple: Some(no),
                text: crate::text::quoted(text),
                why,
            }),
        }
        no += 1;
    };
    for (group, nsg, entries) in groups {
        rec.groups.push(group);
        let gi = (rec.groups.len() - 1) as u32;
        rec.tuples.reserve(entries.len());
        for t in &entries {
            take(&mut rec, t, gi, nsg);
        }
    }
    (rec, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_are_cut_and_anything_else_is_not() {
        assert_eq!(plain_strings("[]"), Some(vec![]));
        assert_eq!(plain_strings(" [ ] "), Some(vec![]));
        assert_eq!(plain_strings(r#"["a,b",""]"#), Some(vec!["a,b", ""]));
        assert_eq!(
            plain_strings("[\n  \"1,2\" ,\r\n\t\"3\"\n]"),
            Some(vec!["1,2", "3"])
        );
        for other in [
            "null",
            "\"a\"",
            "{}",
            "[1]",
            r#"["a",1]"#,
            r#"["a\"b"]"#,
            r#"["\u0031"]"#,
            r#"[["a"]]"#,
            r#"["a",null]"#,
        ] {
            assert_eq!(plain_strings(other), None, "{other}");
        }
    }

    /// A record read with its tuples cut as plain strings is the record read element by
    /// element: the same groups, tuples, bad tuples and errors, whatever form its tuples take.
    #[test]
    fn plain_tuples_read_as_entries_do() {
        let tuple = "1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0";
        let nsg = "1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D,B,,,,";
        let forms = [
            format!(r#"["{tuple}","{tuple}"]"#),
            format!("[\n \"{tuple}\" ,\n \"bad\"\n]"),
            "[]".to_string(),
            "null".to_string(),
            "7".to_string(),
            format!(r#""{tuple}""#),
            format!(r#"["{tuple}",7,null,{{"a":1}},["x"],true]"#),
            format!(r#"["\u0031{}"]"#, &tuple[1..]),
            format!(r#"["{tuple}\n"]"#),
            format!(r#"["{nsg}"]"#),
        ];
        for form in &forms {
            for record in [
                format!(
                    r#"{{"time":"t","macAddress":"m","targetResourceID":"/v","flowLogVersion":4,"flowRecords":{{"flows":[{{"aclID":"a","flowGroups":[{{"rule":"r","flowTuples":{form}}},{{"rule":"s"}}]}}]}}}}"#
                ),
                format!(
                    r#"{{"time":"t","resourceId":"/n","properties":{{"Version":2,"flows":[{{"rule":"r","flows":[{{"mac":"M","flowTuples":{form}}}]}}]}}}}"#
                ),
                format!(
                    r#"{{"time":"t","flowRecords":{{"flows":[{{"flowGroups":[{{"flowTuples":{form},"flowTuples":[]}}]}}]}}}}"#
                ),
                format!(
                    r#"{{"time":"t","flowRecords":{{"flows":[{{"flowGroups":[{{"flowTuples":{form}}}]}}]}}"#
                ),
            ] {
                let raw = RawRecord {
                    index: 3,
                    line: 10,
                    bytes: record.clone().into_bytes(),
                    not_object: None,
                    cut_at: None,
                    part: Part::Whole,
                    late: None,
                };
                let fast = parse_record_as(&raw, "o", true);
                let slow = parse_record_as(&raw, "o", false);
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{record}");
                if form == &forms[0] && record.contains("aclID") {
                    assert_eq!((fast.0.tuples.len(), fast.0.groups.len()), (2, 2));
                }
            }
        }
    }
}
