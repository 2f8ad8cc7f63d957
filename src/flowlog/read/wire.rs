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

#[derive(Deserialize)]
pub(super) struct WireRecord<'a> {
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
    pub(super) flow_records: Option<WireVnetRecords<'a>>,
    #[serde(default, borrow)]
    pub(super) properties: Option<WireNsgProperties<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireVnetRecords<'a> {
    #[serde(default, borrow)]
    pub(super) flows: Vec<WireVnetFlow<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireVnetFlow<'a> {
    #[serde(default, rename = "aclID", borrow)]
    pub(super) acl: Text<'a>,
    #[serde(default, rename = "flowGroups", borrow)]
    pub(super) groups: Vec<WireVnetGroup<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireVnetGroup<'a> {
    #[serde(default, borrow)]
    pub(super) rule: Text<'a>,
    #[serde(default, rename = "flowTuples", borrow)]
    pub(super) tuples: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireNsgProperties<'a> {
    #[serde(default, rename = "Version")]
    pub(super) version: Option<u64>,
    #[serde(default, borrow)]
    pub(super) flows: Vec<WireNsgRuleFlows<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireNsgRuleFlows<'a> {
    #[serde(default, borrow)]
    pub(super) rule: Text<'a>,
    #[serde(default, borrow)]
    pub(super) flows: Vec<WireNsgMacFlows<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireNsgMacFlows<'a> {
    #[serde(default, borrow)]
    pub(super) mac: Text<'a>,
    #[serde(default, rename = "flowTuples", borrow)]
    pub(super) tuples: Vec<Entry<'a>>,
}

/// Parses one record's bytes; tuples that cannot be read are returned as `Bad`.
pub(super) fn parse_record(raw: &RawRecord, origin: &str) -> (Record, Vec<Bad>) {
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
    let w: WireRecord<'_> = match serde_json::from_slice(&raw.bytes) {
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
    rec.time = w.time.0.into_owned();
    rec.mac = w.mac.0.into_owned();
    rec.resource = w
        .target
        .or(w.resource_id)
        .map(|t| t.0.into_owned())
        .unwrap_or_default();
    rec.version = w.version.or(w.properties.as_ref().and_then(|p| p.version));
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
    if let Some(fr) = &w.flow_records {
        for f in &fr.flows {
            for g in &f.groups {
                rec.groups.push(Group {
                    rule: g.rule.0.to_string(),
                    acl: f.acl.0.to_string(),
                    mac: String::new(),
                });
                let gi = (rec.groups.len() - 1) as u32;
                rec.tuples.reserve(g.tuples.len());
                for t in &g.tuples {
                    take(&mut rec, t, gi, false);
                }
            }
        }
    }
    if let Some(p) = &w.properties {
        for rf in &p.flows {
            for m in &rf.flows {
                rec.groups.push(Group {
                    rule: rf.rule.0.to_string(),
                    acl: String::new(),
                    mac: m.mac.0.to_string(),
                });
                let gi = (rec.groups.len() - 1) as u32;
                rec.tuples.reserve(m.tuples.len());
                for t in &m.tuples {
                    take(&mut rec, t, gi, true);
                }
            }
        }
    }
    (rec, bad)
}
