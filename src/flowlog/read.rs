//! Streaming flow-log readers: a blob is parsed as it is read, a few megabytes of records at a
//! time, so a 1 GB blob never sits in memory whole. Bad tuples and bad records are reported
//! with their location and skipped; a syntax error between records ends that file (its
//! records so far are kept) and the run goes on with the next.

use super::{Kind, Tuple};
use crate::{Error, Result};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One group of tuples: the rule they were logged under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// The logged rule (`DefaultRule_AllowInternetOutBound`, `UserRule_Port80`).
    pub rule: String,
    /// VNet flow logs: the `aclID` of the flows' NSG; NSG flow logs: empty.
    pub acl: String,
    /// NSG flow logs: the NIC's MAC address of the group; VNet flow logs: empty.
    pub mac: String,
}

/// One record of a blob, with its tuples.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Its position in the file (0-based).
    pub index: usize,
    /// `time`.
    pub time: String,
    /// `macAddress`.
    pub mac: String,
    /// `targetResourceID` (VNet) or `resourceId` (NSG).
    pub resource: String,
    /// `flowLogVersion` (VNet) or `properties.Version` (NSG).
    pub version: Option<u64>,
    /// The log it came from (`None` when it held no tuple).
    pub kind: Option<Kind>,
    /// Its groups; each tuple's `group` indexes this.
    pub groups: Vec<Group>,
    /// Its tuples, in file order.
    pub tuples: Vec<Tuple>,
}

/// A tuple or record that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    /// The file (`<stdin>` for standard input).
    pub origin: String,
    /// The record's position (0-based), when known.
    pub record: Option<usize>,
    /// The tuple's position in its record (0-based), when it is one tuple.
    pub tuple: Option<usize>,
    /// The tuple as written (empty for JSON errors).
    pub text: String,
    /// What is wrong.
    pub why: String,
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(r) = self.record {
            write!(f, ": records[{r}]")?;
        }
        if let Some(t) = self.tuple {
            write!(f, ", tuple {t}")?;
        }
        write!(f, ": {}", self.why)?;
        if !self.text.is_empty() {
            write!(f, " (`{}`)", self.text)?;
        }
        Ok(())
    }
}

/// What one file held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records read.
    pub records: usize,
    /// Tuples read.
    pub tuples: usize,
    /// Tuples (or files) that could not be read.
    pub bad: usize,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.records += o.records;
        self.tuples += o.tuples;
        self.bad += o.bad;
    }
}

/// A file to read, or standard input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// As reports name it.
    pub fn origin(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// The files that paths name: files as given, folders walked for `*.json` (the storage
/// account's `…/y=/m=/d=/h=/m=/macAddress=/PT1H.json` layout), sorted by path so the hours come
/// in order; `-` is standard input.
pub fn inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|source| Error::Read {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: no .json flow-log blob under this folder (expected …/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=…/PT1H.json)",
                    p.display()
                )));
            }
            found.sort();
            out.extend(found.into_iter().map(Input::File));
        } else {
            out.push(Input::File(p.clone()));
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "no flow log given: name files, folders, or - for standard input".into(),
        ));
    }
    Ok(out)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in rd {
        let e = e.map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = e.path();
        let ft = e.file_type().map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if ft.is_dir() {
            walk(&path, found)?;
        } else if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// Opens an input for [`read`]. An unreadable file is an error (exit 2); what is in it is not.
pub fn open(input: &Input) -> Result<Box<dyn Read + Send>> {
    Ok(match input {
        Input::Stdin => Box::new(std::io::stdin()),
        Input::File(p) => Box::new(std::fs::File::open(p).map_err(|source| Error::Read {
            path: p.clone(),
            source,
        })?),
    })
}

/// Bytes of records gathered before they are parsed together.
const BATCH_BYTES: usize = 4 << 20;

/// Reads one blob as it streams in: calls `on_record` for each record in file order and
/// `on_bad` for each tuple or record that could not be read. A JSON syntax error between
/// records, or a read error midway, is one more `Bad` and ends the file.
pub fn read(
    r: impl Read + Send,
    origin: &str,
    on_record: &mut dyn FnMut(Record),
    on_bad: &mut dyn FnMut(Bad),
) -> Stats {
    read_map(
        r,
        origin,
        &|rec| rec,
        &mut |rec| {
            on_record(rec);
            true
        },
        on_bad,
    )
}

/// [`read`], with `map` applied to each record on the thread pool (records are parsed there
/// too) and `each` called on this thread with the results in file order; `each` returning
/// false stops the read (a closed output). Not to be called from inside the thread pool
/// while other work of the pool waits on this call.
///
/// The blob is read in blocks; a structural scan finds each element of its `records` array
/// (strings and escapes respected), and batches of about 4 MB of records are parsed in
/// parallel while the next batch is read and scanned. Memory stays at a few batches whatever
/// the blob's size.
pub fn read_map<T: Send>(
    r: impl Read + Send,
    origin: &str,
    map: &(dyn Fn(Record) -> T + Sync),
    each: &mut dyn FnMut(T) -> bool,
    on_bad: &mut dyn FnMut(Bad),
) -> Stats {
    let mut scan = Scanner::new(r, origin);
    let mut stats = Stats::default();
    let mut batch = scan.next_batch();
    let mut stop = false;
    loop {
        let (current, next) = rayon::join(
            || {
                use rayon::prelude::*;
                batch
                    .records
                    .par_iter()
                    .map(|raw| {
                        let (rec, bad) = parse_record(raw, origin);
                        let n = (rec.tuples.len(), bad.len());
                        (map(rec), bad, n)
                    })
                    .collect::<Vec<_>>()
            },
            || {
                if batch.done || stop {
                    None
                } else {
                    Some(scan.next_batch())
                }
            },
        );
        for (t, bad, (tuples, nbad)) in current {
            stats.records += 1;
            stats.tuples += tuples;
            stats.bad += nbad;
            for b in bad {
                on_bad(b);
            }
            if !stop && !each(t) {
                stop = true;
            }
        }
        if stop {
            break;
        }
        if let Some(b) = batch.error.take() {
            stats.bad += 1;
            on_bad(b);
        }
        match next {
            Some(n) => batch = n,
            None => break,
        }
    }
    stats
}

/// Reads a whole blob from memory (tests, the Python package): the records and the bad tuples.
pub fn read_slice(bytes: &[u8], origin: &str) -> (Vec<Record>, Vec<Bad>, Stats) {
    let (mut recs, mut bad) = (Vec::new(), Vec::new());
    let stats = read(bytes, origin, &mut |r| recs.push(r), &mut |b| bad.push(b));
    (recs, bad, stats)
}

/// One record's bytes and where it is.
struct RawRecord {
    index: usize,
    line: usize,
    bytes: Vec<u8>,
    /// Not an object: what it is instead (reported, skipped).
    not_object: Option<&'static str>,
}

struct Batch {
    records: Vec<RawRecord>,
    error: Option<Bad>,
    done: bool,
}

/// Where the scan is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first byte that is not white space.
    Start,
    /// Inside the top-level object, looking for `"records": [`.
    Object,
    /// Inside the records array, between records.
    Between,
    /// Inside a record.
    Record,
    /// After the records array, to the end of the document (another may follow: `cat`).
    After,
    /// Inside an element of the records array that is not an object (reported, skipped).
    Skip,
}

/// Finds the elements of the `records` array in a byte stream.
struct Scanner<'o, R> {
    r: R,
    origin: &'o str,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    phase: Phase,
    depth: usize,
    in_string: bool,
    escape: bool,
    line: usize,
    /// The last string closed at the top level of the object (a key before `[`).
    last_key: Vec<u8>,
    key_open: bool,
    records_depth: usize,
    current: Vec<u8>,
    current_line: usize,
    next_index: usize,
    failed: bool,
    /// Documents begun (several when blobs are concatenated on standard input).
    documents: usize,
    /// What the skipped element is, and where it began.
    skip_what: &'static str,
    skip_line: usize,
}

impl<'o, R: Read> Scanner<'o, R> {
    fn new(r: R, origin: &'o str) -> Self {
        Scanner {
            r,
            origin,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            phase: Phase::Start,
            depth: 0,
            in_string: false,
            escape: false,
            line: 1,
            last_key: Vec::new(),
            key_open: false,
            records_depth: 0,
            current: Vec::new(),
            current_line: 1,
            next_index: 0,
            failed: false,
            documents: 0,
            skip_what: "",
            skip_line: 0,
        }
    }

    fn bad(&self, record: Option<usize>, why: String) -> Bad {
        Bad {
            origin: self.origin.to_string(),
            record,
            tuple: None,
            text: String::new(),
            why,
        }
    }

    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.buf.resize(1 << 20, 0);
        self.pos = 0;
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    self.buf.clear();
                    return Ok(false);
                }
                Ok(n) => {
                    self.buf.truncate(n);
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn next_batch(&mut self) -> Batch {
        let mut batch = Batch {
            records: Vec::new(),
            error: None,
            done: false,
        };
        let mut bytes = 0;
        while bytes < BATCH_BYTES {
            if self.failed {
                batch.done = true;
                return batch;
            }
            if self.pos >= self.buf.len() {
                match self.fill() {
                    Ok(true) => {}
                    Ok(false) => {
                        batch.done = true;
                        batch.error = self.at_end();
                        return batch;
                    }
                    Err(e) => {
                        self.failed = true;
                        batch.done = true;
                        batch.error = Some(self.bad(
                            (self.next_index > 0).then_some(self.next_index),
                            format!("read failed: {e}"),
                        ));
                        return batch;
                    }
                }
                if self.next_index == 0
                    && self.phase == Phase::Start
                    && self.buf.starts_with(b"\xef\xbb\xbf")
                {
                    self.pos = 3;
                }
            }
            match self.step() {
                Ok(Some(rec)) => {
                    bytes += rec.bytes.len();
                    batch.records.push(rec);
                }
                Ok(None) => {}
                Err(why) => {
                    self.failed = true;
                    batch.done = true;
                    batch.error = Some(self.bad(None, why));
                    return batch;
                }
            }
        }
        batch
    }

    /// The element just skipped, as a record to report.
    fn skipped(&mut self) -> RawRecord {
        let r = RawRecord {
            index: self.next_index,
            line: self.skip_line,
            bytes: Vec::new(),
            not_object: Some(self.skip_what),
        };
        self.next_index += 1;
        r
    }

    /// What an ended stream lacks.
    fn at_end(&self) -> Option<Bad> {
        match self.phase {
            Phase::After => None,
            Phase::Start if self.documents > 0 => None,
            Phase::Start => Some(self.bad(None, "empty: not a flow log (expected {\"records\": [...]} as Azure writes VNet or NSG flow logs)".into())),
            Phase::Object if self.depth == 0 => Some(self.bad(None, "no `records` array: not a flow log (expected {\"records\": [...]} as Azure writes VNet or NSG flow logs)".into())),
            _ => Some(self.bad(
                (self.phase == Phase::Record).then_some(self.next_index),
                format!(
                    "the file ends inside the JSON (line {}): a blob still being written, or cut short",
                    self.line
                ),
            )),
        }
    }

    /// Scans the rest of the block; returns a record when one closes.
    fn step(&mut self) -> std::result::Result<Option<RawRecord>, String> {
        while self.pos < self.buf.len() {
            if self.phase == Phase::Record {
                // Copy up to the record's end in one go.
                let start = self.pos;
                let mut closed = false;
                while self.pos < self.buf.len() {
                    if self.in_string {
                        if self.escape {
                            self.escape = false;
                            self.pos += 1;
                            continue;
                        }
                        // Most of a record is string bytes: jump to the next quote or escape.
                        match memchr::memchr2(b'"', b'\\', &self.buf[self.pos..]) {
                            None => self.pos = self.buf.len(),
                            Some(k) => {
                                let c = self.buf[self.pos + k];
                                self.pos += k + 1;
                                if c == b'\\' {
                                    self.escape = true;
                                } else {
                                    self.in_string = false;
                                }
                            }
                        }
                        continue;
                    }
                    let c = self.buf[self.pos];
                    self.pos += 1;
                    match c {
                        b'"' => self.in_string = true,
                        b'{' | b'[' => self.depth += 1,
                        b'}' | b']' => {
                            self.depth -= 1;
                            if self.depth == self.records_depth {
                                closed = true;
                                break;
                            }
                        }
                        b'\n' => self.line += 1,
                        _ => {}
                    }
                }
                self.current.extend_from_slice(&self.buf[start..self.pos]);
                if closed {
                    self.phase = Phase::Between;
                    let rec = RawRecord {
                        index: self.next_index,
                        line: self.current_line,
                        bytes: std::mem::take(&mut self.current),
                        not_object: None,
                    };
                    self.next_index += 1;
                    return Ok(Some(rec));
                }
                continue;
            }
            let c = self.buf[self.pos];
            self.pos += 1;
            if c == b'\n' {
                self.line += 1;
            }
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if c == b'\\' {
                    self.escape = true;
                } else if c == b'"' {
                    self.in_string = false;
                } else if self.key_open {
                    self.last_key.push(c);
                }
                continue;
            }
            if c.is_ascii_whitespace() {
                continue;
            }
            match self.phase {
                Phase::After => match c {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            // The document ended; another may follow (blobs concatenated).
                            self.phase = Phase::Start;
                        }
                    }
                    _ => {}
                },
                Phase::Skip => match c {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b',' if self.depth == self.records_depth => {
                        self.phase = Phase::Between;
                        return Ok(Some(self.skipped()));
                    }
                    b']' if self.depth == self.records_depth => {
                        self.depth -= 1;
                        self.phase = if self.depth == 0 {
                            Phase::Start
                        } else {
                            Phase::After
                        };
                        return Ok(Some(self.skipped()));
                    }
                    b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                },
                Phase::Start => match c {
                    b'{' => {
                        self.phase = Phase::Object;
                        self.depth = 1;
                        self.documents += 1;
                        self.last_key.clear();
                    }
                    b'[' => {
                        self.phase = Phase::Between;
                        self.depth = 1;
                        self.records_depth = 1;
                        self.documents += 1;
                    }
                    _ if self.documents > 0 => {
                        return Err(format!(
                            "line {}: `{}` after the end of the JSON document: the rest of the file is not read",
                            self.line,
                            (c as char).escape_default()
                        ));
                    }
                    0x1f => {
                        return Err("gzip-compressed: decompress it first (`gunzip -k FILE`, or `zcat FILE | tagnet flows attribute -`)".into());
                    }
                    0xff | 0xfe => {
                        return Err("UTF-16 text: Azure writes flow logs as UTF-8; convert it (`iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8.json`)".into());
                    }
                    _ => {
                        return Err(format!(
                            "line {}: not a flow log: starts with `{}` (expected {{\"records\": [...]}} as Azure writes VNet or NSG flow logs)",
                            self.line,
                            (c as char).escape_default()
                        ));
                    }
                },
                Phase::Object => match c {
                    b'"' => {
                        self.in_string = true;
                        self.key_open = self.depth == 1;
                        if self.key_open {
                            self.last_key.clear();
                        }
                    }
                    b'[' if self.depth == 1 && self.last_key == b"records" => {
                        self.depth += 1;
                        self.records_depth = self.depth;
                        self.phase = Phase::Between;
                    }
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return Err("no `records` array: not a flow log (expected {\"records\": [...]} as Azure writes VNet or NSG flow logs)".into());
                        }
                    }
                    _ => {}
                },
                Phase::Between => match c {
                    b'{' => {
                        self.phase = Phase::Record;
                        self.depth += 1;
                        self.current.clear();
                        self.current.push(b'{');
                        self.current_line = self.line;
                    }
                    b',' => {}
                    b']' => {
                        self.depth -= 1;
                        self.phase = if self.depth == 0 {
                            Phase::Start
                        } else {
                            Phase::After
                        };
                    }
                    _ => {
                        self.skip_line = self.line;
                        self.skip_what = match c {
                            b'"' => {
                                self.in_string = true;
                                "a string"
                            }
                            b'[' => {
                                self.depth += 1;
                                "an array"
                            }
                            b'n' => "null",
                            b't' | b'f' => "a boolean",
                            _ => "a number",
                        };
                        self.phase = Phase::Skip;
                    }
                },
                Phase::Record => unreachable!("handled above"),
            }
        }
        Ok(None)
    }
}

/// A string that is borrowed when it can be.
#[derive(Deserialize, Default)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// One element of `flowTuples`: a string, or something else that is reported and skipped
/// without losing the record's other tuples.
enum Entry<'a> {
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
struct WireRecord<'a> {
    #[serde(default, borrow)]
    time: Text<'a>,
    #[serde(default, rename = "macAddress", borrow)]
    mac: Text<'a>,
    #[serde(default, rename = "targetResourceID", borrow)]
    target: Option<Text<'a>>,
    #[serde(default, rename = "resourceId", borrow)]
    resource_id: Option<Text<'a>>,
    #[serde(default, rename = "flowLogVersion")]
    version: Option<u64>,
    #[serde(default, rename = "flowRecords", borrow)]
    flow_records: Option<WireVnetRecords<'a>>,
    #[serde(default, borrow)]
    properties: Option<WireNsgProperties<'a>>,
}

#[derive(Deserialize)]
struct WireVnetRecords<'a> {
    #[serde(default, borrow)]
    flows: Vec<WireVnetFlow<'a>>,
}

#[derive(Deserialize)]
struct WireVnetFlow<'a> {
    #[serde(default, rename = "aclID", borrow)]
    acl: Text<'a>,
    #[serde(default, rename = "flowGroups", borrow)]
    groups: Vec<WireVnetGroup<'a>>,
}

#[derive(Deserialize)]
struct WireVnetGroup<'a> {
    #[serde(default, borrow)]
    rule: Text<'a>,
    #[serde(default, rename = "flowTuples", borrow)]
    tuples: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct WireNsgProperties<'a> {
    #[serde(default, rename = "Version")]
    version: Option<u64>,
    #[serde(default, borrow)]
    flows: Vec<WireNsgRuleFlows<'a>>,
}

#[derive(Deserialize)]
struct WireNsgRuleFlows<'a> {
    #[serde(default, borrow)]
    rule: Text<'a>,
    #[serde(default, borrow)]
    flows: Vec<WireNsgMacFlows<'a>>,
}

#[derive(Deserialize)]
struct WireNsgMacFlows<'a> {
    #[serde(default, borrow)]
    mac: Text<'a>,
    #[serde(default, rename = "flowTuples", borrow)]
    tuples: Vec<Entry<'a>>,
}

/// Parses one record's bytes; tuples that cannot be read are returned as `Bad`.
fn parse_record(raw: &RawRecord, origin: &str) -> (Record, Vec<Bad>) {
    let mut rec = Record {
        index: raw.index,
        ..Record::default()
    };
    let mut bad = Vec::new();
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
                        "line {}, column {}: {msg} (the record is skipped)",
                        raw.line + e.line() - 1,
                        e.column()
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
            super::parse_nsg(text, g)
        } else {
            super::parse_vnet(text, g).map(|t| (t, Kind::Vnet))
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

#[cfg(test)]
mod tests {
    use super::*;

    const VNET: &str = r#"{"records":[{"time":"2022-09-14T09:00:52.5625085Z","flowLogVersion":4,
      "macAddress":"112233445566","category":"FlowLogFlowEvent","targetResourceID":"/sub/vnet",
      "flowRecords":{"flows":[{"aclID":"acl-1","flowGroups":[{"rule":"DefaultRule_AllowInternetOutBound",
      "flowTuples":["1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0",
                    "1663146003606,192.0.2.180,10.0.0.6,443,23956,6,I,E,NX,3,767,2,1580",
                    "bad,tuple"]}]}]}}]}"#;

    const NSG: &str = r#"{"records":[{"time":"2017-02-16T22:00:32.8950000Z","resourceId":"/sub/nsg",
      "properties":{"Version":2,"flows":[{"rule":"DefaultRule_DenyAllInBound","flows":[{"mac":"000D3AF8801A",
      "flowTuples":["1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D,B,,,,"]}]},
      {"rule":"UserRule_default-allow-rdp","flows":[{"mac":"000D3AF8801A","flowTuples":["1487282370,163.28.66.17,10.1.0.4,61771,3389,T,I,A,B,,,,"]}]}]}}]}"#;

    #[test]
    fn vnet_blob() {
        let (recs, bad, stats) = read_slice(VNET.as_bytes(), "t.json");
        assert_eq!(
            stats,
            Stats {
                records: 1,
                tuples: 2,
                bad: 1
            }
        );
        assert_eq!(recs[0].kind, Some(Kind::Vnet));
        assert_eq!(recs[0].groups[0].acl, "acl-1");
        assert_eq!(recs[0].groups[0].rule, "DefaultRule_AllowInternetOutBound");
        assert_eq!(bad[0].tuple, Some(2));
        assert!(
            bad[0].to_string().contains("records[0], tuple 2"),
            "{}",
            bad[0]
        );
        let (recs, bad, _) = read_slice(VNET.replace("\"bad,tuple\"", "7").as_bytes(), "t.json");
        assert_eq!(recs[0].tuples.len(), 2);
        assert!(
            bad[0].why.contains("a number, not a tuple") && bad[0].tuple == Some(2),
            "{}",
            bad[0]
        );
        // A record not of the record shape is skipped whole, with its line.
        let (recs, bad, _) = read_slice(
            VNET.replace("\"flowGroups\"", "\"flowGroups\":5,\"x\"")
                .as_bytes(),
            "t.json",
        );
        assert!(recs[0].tuples.is_empty());
        assert!(bad[0].why.contains("line 3"), "{}", bad[0]);
        // Not objects among the records: reported, and the records after them are read.
        let two = format!(
            "{{\"records\":[\"oops\",null,[1,[2]],{}]}}",
            &VNET[12..VNET.len() - 2]
        );
        let (recs, bad, _) = read_slice(two.as_bytes(), "t.json");
        assert_eq!(
            recs.iter().map(|r| r.tuples.len()).sum::<usize>(),
            2,
            "{bad:?}"
        );
        assert_eq!(
            bad.iter()
                .filter(|b| b.why.contains("not a record object"))
                .count(),
            3
        );
        assert_eq!(recs.last().unwrap().index, 3);
        // Two blobs one after the other (cat A B |): both read.
        let cat = format!("{VNET}\n{VNET}");
        let (recs, _, _) = read_slice(cat.as_bytes(), "t.json");
        assert_eq!(recs.len(), 2);
        let (_, bad, _) = read_slice(format!("{VNET} x").as_bytes(), "t.json");
        assert!(
            bad.last()
                .unwrap()
                .why
                .contains("after the end of the JSON document"),
            "{bad:?}"
        );
        let (_, bad, _) = read_slice(b"\x1f\x8b\x08\x00", "t.json.gz");
        assert!(bad[0].why.contains("gzip"), "{bad:?}");
    }

    #[test]
    fn nsg_blob() {
        let (recs, bad, _) = read_slice(NSG.as_bytes(), "n.json");
        assert!(bad.is_empty(), "{bad:?}");
        let r = &recs[0];
        assert_eq!(
            (r.kind, r.version, r.tuples.len()),
            (Some(Kind::Nsg2), Some(2), 2)
        );
        assert_eq!(
            r.groups[r.tuples[1].group as usize].rule,
            "UserRule_default-allow-rdp"
        );
        assert_eq!(r.groups[0].mac, "000D3AF8801A");
    }

    #[test]
    fn cut_short_keeps_the_records_read() {
        let two = VNET.replacen("[{\"time\"", "[{\"time\":\"x\"},{\"time\"", 1);
        let cut = &two[..two.len() - 40];
        let (recs, bad, _) = read_slice(cut.as_bytes(), "c.json");
        assert_eq!(recs.len(), 1);
        assert!(bad.last().unwrap().why.contains("ends inside"), "{bad:?}");
        let (_, bad, _) = read_slice(b"{\"records\": 3}", "w.json");
        assert!(bad[0].why.contains("no `records` array"), "{bad:?}");
        let (_, bad, _) = read_slice(b"hello", "h.json");
        assert!(bad[0].why.contains("not a flow log"), "{bad:?}");
        let (_, bad, _) = read_slice(b"", "e.json");
        assert!(bad[0].why.contains("empty"), "{bad:?}");
    }
}
