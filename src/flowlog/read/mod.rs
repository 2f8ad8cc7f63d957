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

mod scan;
mod split;
mod wire;

use scan::*;
use wire::*;

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
    /// A part of a record too large to hold, read in parts of about a megabyte: more parts
    /// follow, each a record of the same index with the header read so far.
    pub more: bool,
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
    /// Tuples whose time is before 2015 or more than a day ahead of now: seconds written where
    /// milliseconds belong (or the reverse), or a clock gone wrong.
    pub odd_times: usize,
    /// Records of a log version tagnet does not know (VNet flow logs are version 4, NSG flow
    /// logs 1 or 2), read as the nearest known one.
    pub unknown_versions: usize,
    /// The first such version.
    pub unknown_version: Option<u64>,
}

impl Stats {
    /// What a reader should be warned of: implausible times, unknown versions.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.odd_times > 0 {
            out.push(format!(
                "{} tuple(s) have implausible times (before 2015, or more than a day ahead): VNet flow logs give milliseconds and NSG flow logs seconds since 1970; a log converted with the other unit is read 1,000 times off",
                self.odd_times
            ));
        }
        if let Some(v) = self.unknown_version {
            out.push(format!(
                "{} record(s) are of log version {v}, which tagnet does not know (VNet flow logs are version 4, NSG flow logs 1 or 2): read as the nearest known version",
                self.unknown_versions
            ));
        }
        out
    }

    /// Notes a record's odd times, and its version when `whole` (not a part before the last
    /// of a record read in parts, which carries the same version).
    fn note(&mut self, rec: &Record, whole: bool) {
        const Y2015_MS: u64 = 1_420_070_400_000;
        let ahead = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(u64::MAX, |d| d.as_millis() as u64 + 86_400_000);
        self.odd_times += rec
            .tuples
            .iter()
            .filter(|t| t.time_ms < Y2015_MS || t.time_ms > ahead)
            .count();
        if let Some(v) = rec.version
            && whole
            && !matches!(v, 1 | 2 | 4)
        {
            self.unknown_versions += 1;
            self.unknown_version.get_or_insert(v);
        }
    }
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.records += o.records;
        self.tuples += o.tuples;
        self.bad += o.bad;
        self.odd_times += o.odd_times;
        self.unknown_versions += o.unknown_versions;
        if self.unknown_version.is_none() {
            self.unknown_version = o.unknown_version;
        }
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

/// The files that paths name: files as given, folders walked for `*.json` and `*.json.gz` (the storage
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

/// `*.json`, or `*.json.gz` (blobs archived compressed).
fn is_blob_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".json") || name.ends_with(".json.gz")
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
        } else if is_blob_name(&path) {
            found.push(path);
        }
    }
    Ok(())
}

/// Opens an input for [`read`]; gzip (`PT1H.json.gz`, as archived blobs are kept) is
/// decompressed as it streams. An unreadable file is an error (exit 2); what is in it is not.
pub fn open(input: &Input) -> Result<Box<dyn Read + Send>> {
    let path = match input {
        Input::Stdin => PathBuf::from("<stdin>"),
        Input::File(p) => p.clone(),
    };
    let raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(std::io::stdin()),
        Input::File(p) => Box::new(std::fs::File::open(p).map_err(|source| Error::Read {
            path: p.clone(),
            source,
        })?),
    };
    let mut r = std::io::BufReader::with_capacity(1 << 16, raw);
    let gzip = std::io::BufRead::fill_buf(&mut r)
        .map_err(|source| Error::Read { path, source })?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
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
    read_map_in_parts(r, origin, split::PART_BYTES, map, each, on_bad)
}

/// [`read_map`] with records read in parts past `part_bytes` (1 MB in [`read_map`]).
fn read_map_in_parts<'r, T: Send>(
    r: impl Read + Send + 'r,
    origin: &str,
    part_bytes: usize,
    map: &(dyn Fn(Record) -> T + Sync),
    each: &mut dyn FnMut(T) -> bool,
    on_bad: &mut dyn FnMut(Bad),
) -> Stats {
    let origins = [origin];
    let mut r = Some(Box::new(r) as Box<dyn Read + Send + 'r>);
    let mut stats = Stats::default();
    let read = pipeline(
        &origins,
        &mut |_| Ok(r.take().expect("one input, opened once")),
        part_bytes,
        BATCH_BYTES,
        &|_, rec| map(rec),
        &mut |_, t| each(t),
        &mut |_, b| on_bad(b),
        &mut |_, s| stats = s,
    );
    // The one input is open already: nothing is left to fail.
    debug_assert!(read.is_ok());
    stats
}

/// [`read_map`] over several inputs in turn, as one stream: the next input is opened and its
/// first batch scanned while the last batch of the one before is parsed, so the pool does not
/// wait at the start of each file (a folder of hour blobs is many small inputs). `map` and
/// `each` get the input's position in `inputs` with each record; `on_bad` with each bad tuple;
/// `on_end` its statistics once its last record went through `each`. An input that cannot be
/// opened ends the read with its error, everything before it given; `each` returning false
/// stops the read. From outside the thread pool, `each` runs on this thread while the pool
/// parses the next batch; from inside it, in turn with the parsing.
pub fn read_map_inputs<T: Send>(
    inputs: &[Input],
    map: &(dyn Fn(usize, Record) -> T + Sync),
    each: &mut dyn FnMut(usize, T) -> bool,
    on_bad: &mut dyn FnMut(usize, Bad),
    on_end: &mut dyn FnMut(usize, Stats),
) -> Result<()> {
    let origins: Vec<String> = inputs.iter().map(Input::origin).collect();
    let origins: Vec<&str> = origins.iter().map(String::as_str).collect();
    pipeline(
        &origins,
        &mut |i| open(&inputs[i]),
        split::PART_BYTES,
        BATCH_BYTES,
        map,
        each,
        on_bad,
        on_end,
    )
}

/// Records of one input in a batch of the pipeline.
struct Segment {
    /// The input's position.
    at: usize,
    batch: Batch,
}

/// The reading pipeline of [`read_map_inputs`]: batch `k` parsed and mapped on the pool while
/// batch `k + 1` is read and scanned. A batch is about `batch_bytes` of records, taken from
/// as many inputs as it needs: the end of one file and the start of the next are parsed
/// together, so a file's short last batch does not leave the pool idle.
#[allow(clippy::too_many_arguments)]
fn pipeline<'o, 'r, T: Send>(
    origins: &[&'o str],
    open: &mut (dyn FnMut(usize) -> Result<Box<dyn Read + Send + 'r>> + Send),
    part_bytes: usize,
    batch_bytes: usize,
    map: &(dyn Fn(usize, Record) -> T + Sync),
    each: &mut dyn FnMut(usize, T) -> bool,
    on_bad: &mut dyn FnMut(usize, Bad),
    on_end: &mut dyn FnMut(usize, Stats),
) -> Result<()> {
    if origins.is_empty() {
        return Ok(());
    }
    // The input the scanner reads.
    let mut scanning = 0;
    let mut scan = Scanner::new(open(0)?, origins[0]);
    scan.part_bytes = part_bytes;
    // Fills a batch: segments of the inputs in turn, then the error of an input that could
    // not be opened (which ends the read once the segments before it are given). `ended`:
    // the scanner's input is read to its end.
    let mut fill = |scan: &mut Scanner<'o, Box<dyn Read + Send + 'r>>,
                    scanning: &mut usize,
                    ended: &mut bool|
     -> (Vec<Segment>, Option<Error>) {
        let mut segments = Vec::new();
        let mut bytes = 0;
        loop {
            if *ended {
                *scanning += 1;
                *ended = false;
                match open(*scanning) {
                    Ok(r) => {
                        *scan = Scanner::new(r, origins[*scanning]);
                        scan.part_bytes = part_bytes;
                    }
                    Err(e) => return (segments, Some(e)),
                }
            }
            let batch = scan.next_batch(batch_bytes - bytes);
            bytes += batch.bytes;
            *ended = batch.done;
            segments.push(Segment {
                at: *scanning,
                batch,
            });
            if !*ended || bytes >= batch_bytes || *scanning + 1 == origins.len() {
                return (segments, None);
            }
        }
    };
    let mut ended = false;
    let (mut segments, mut failed) = fill(&mut scan, &mut scanning, &mut ended);
    let mut stats = Stats::default();
    // A record read in parts: the tuples of its parts so far (bad ones included), which the
    // positions of the next part's bad tuples count from.
    let mut base = 0usize;
    // The batch before, parsed: given to `each` on this thread while the pool parses the next
    // (writing the output is then not time the pool waits).
    let mut ready: Option<Ready<T>> = None;
    loop {
        // Nothing more to scan once the last input is read to its end, or one failed to open.
        let more = failed.is_none() && !(ended && scanning + 1 == origins.len());
        let mut job = || {
            rayon::join(
                || {
                    use rayon::prelude::*;
                    let records: Vec<(usize, &RawRecord)> = segments
                        .iter()
                        .flat_map(|s| s.batch.records.iter().map(move |r| (s.at, r)))
                        .collect();
                    records
                        .into_par_iter()
                        .map(|(at, raw)| {
                            let (rec, bad) = parse_record(raw, origins[at]);
                            let mut seen = Stats::default();
                            seen.note(&rec, raw.part != Part::More);
                            let n = (rec.tuples.len(), bad.len(), seen);
                            (map(at, rec), bad, n, raw.part)
                        })
                        .collect::<Vec<_>>()
                },
                || more.then(|| fill(&mut scan, &mut scanning, &mut ended)),
            )
        };
        let mut give = |ready: Option<Ready<T>>| match ready {
            Some(r) => deliver(r, &mut stats, &mut base, each, on_bad, on_end),
            None => Ok(true),
        };
        let (work, go_on) = if ready.is_some() && rayon::current_thread_index().is_none() {
            // The batch is parsed from a thread of its own, waiting on the pool, while this
            // one gives out the batch before (none before the first: no thread for a blob of
            // one batch).
            std::thread::scope(|s| {
                let work = s.spawn(job);
                let go_on = give(ready.take());
                let work = work
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (work, go_on)
            })
        } else {
            // The first batch; or called from the pool (a file of many read in parallel),
            // where a thread of the pool must not block on another thread waiting for the
            // pool: the batch before is given out first, then this one parsed here.
            let go_on = give(ready.take());
            (job(), go_on)
        };
        if !go_on? {
            return Ok(());
        }
        let (parsed, next) = work;
        let ends = segments
            .into_iter()
            .map(|s| (s.at, s.batch.records.len(), s.batch.error, s.batch.done))
            .collect();
        ready = Some((ends, parsed, failed));
        match next {
            Some((s, f)) => {
                segments = s;
                failed = f;
            }
            None => break,
        }
    }
    match ready {
        Some(r) => deliver(r, &mut stats, &mut base, each, on_bad, on_end).map(|_| ()),
        None => Ok(()),
    }
}

/// A parsed batch to give out: for each segment its input, number of records, the error that
/// ended it and whether its input ended there; each record's result, bad tuples, counts and
/// part; the error of an input that could not be opened after it.
#[allow(clippy::type_complexity)]
type Ready<T> = (
    Vec<(usize, usize, Option<Bad>, bool)>,
    Vec<(T, Vec<Bad>, (usize, usize, Stats), Part)>,
    Option<Error>,
);

/// Gives a parsed batch to the callbacks of [`pipeline`], in order. `Ok(false)`: `each`
/// stopped the read; `Err`: the batch ended with an input that could not be opened.
fn deliver<T>(
    (ends, parsed, failed): Ready<T>,
    stats: &mut Stats,
    base: &mut usize,
    each: &mut dyn FnMut(usize, T) -> bool,
    on_bad: &mut dyn FnMut(usize, Bad),
    on_end: &mut dyn FnMut(usize, Stats),
) -> Result<bool> {
    let mut parsed = parsed.into_iter();
    for (at, records, error, done) in ends {
        for (t, bad, (tuples, nbad, seen), part) in parsed.by_ref().take(records) {
            if part != Part::More {
                stats.records += 1;
            }
            stats.tuples += tuples;
            stats.bad += nbad;
            *stats += seen;
            let read = tuples + bad.iter().filter(|b| b.tuple.is_some()).count();
            for mut b in bad {
                if let Some(k) = b.tuple.as_mut() {
                    *k += *base;
                }
                on_bad(at, b);
            }
            *base = if part == Part::More { *base + read } else { 0 };
            if !each(at, t) {
                on_end(at, std::mem::take(stats));
                return Ok(false);
            }
        }
        if let Some(b) = error {
            stats.bad += 1;
            on_bad(at, b);
        }
        if done {
            on_end(at, std::mem::take(stats));
            *base = 0;
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(true),
    }
}

/// Reads a whole blob from memory (tests, the Python package): the records and the bad tuples.
/// A record read in parts comes back whole (its parts joined).
pub fn read_slice(bytes: &[u8], origin: &str) -> (Vec<Record>, Vec<Bad>, Stats) {
    read_slice_in_parts(bytes, origin, split::PART_BYTES)
}

/// [`read_slice`] with records read in parts past `part_bytes` bytes: for tests and fuzzing,
/// which give small parts to small inputs.
#[doc(hidden)]
pub fn read_slice_in_parts(
    bytes: &[u8],
    origin: &str,
    part_bytes: usize,
) -> (Vec<Record>, Vec<Bad>, Stats) {
    let (mut recs, mut bad) = (Vec::<Record>::new(), Vec::new());
    let stats = read_map_in_parts(
        bytes,
        origin,
        part_bytes,
        &|r| r,
        &mut |r| {
            join_part(&mut recs, r);
            true
        },
        &mut |b| bad.push(b),
    );
    (recs, bad, stats)
}

/// Appends a record to `recs`, or, when the last one was read in parts and this is its next,
/// to that record (its groups renumbered after the last one's).
fn join_part(recs: &mut Vec<Record>, r: Record) {
    match recs.last_mut() {
        Some(last) if last.more => {
            last.more = r.more;
            let offset = last.groups.len() as u32;
            last.groups.extend(r.groups);
            last.tuples.extend(r.tuples.into_iter().map(|mut t| {
                t.group += offset;
                t
            }));
            last.kind = last.kind.or(r.kind);
        }
        _ => recs.push(r),
    }
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

    /// Several inputs read as one stream, batches small enough to end inside a record and to
    /// span inputs, against each input read alone: the same records in the same order, each
    /// input's bad tuples and statistics its own; an input that cannot be opened ends the
    /// read with its error once everything before it was given.
    #[test]
    fn inputs_read_as_one_stream_are_read_alone() {
        let blobs: Vec<String> = (0..7)
            .map(|k| match k % 3 {
                0 => VNET.to_string(),
                1 => NSG.to_string(),
                _ => format!("{{\"records\":[{}]}}", {
                    let rec = &VNET[13..VNET.len() - 2];
                    vec![rec; k].join(",")
                }),
            })
            .collect();
        let names: Vec<String> = (0..blobs.len()).map(|k| format!("b{k}.json")).collect();
        let origins: Vec<&str> = names.iter().map(String::as_str).collect();
        let alone: Vec<_> = blobs
            .iter()
            .zip(&origins)
            .map(|(b, o)| read_slice_in_parts(b.as_bytes(), o, 64))
            .collect();
        for batch_bytes in [1, 100, 700, 1 << 20] {
            for fail_at in [None, Some(0), Some(4)] {
                let mut got: Vec<(Vec<Record>, Vec<Bad>, Option<Stats>)> =
                    vec![Default::default(); blobs.len()];
                let got = std::cell::RefCell::new(&mut got);
                let result = pipeline(
                    &origins,
                    &mut |i| {
                        if Some(i) == fail_at {
                            return Err(Error::Usage(format!("input {i} cannot be opened")));
                        }
                        Ok(Box::new(blobs[i].as_bytes()) as Box<dyn Read + Send>)
                    },
                    64,
                    batch_bytes,
                    &|i, r| (i, r),
                    &mut |i, (j, r)| {
                        assert_eq!(i, j);
                        join_part(&mut got.borrow_mut()[i].0, r);
                        true
                    },
                    &mut |i, b| got.borrow_mut()[i].1.push(b),
                    &mut |i, st| {
                        let mut got = got.borrow_mut();
                        assert!(got[i].2.is_none(), "input {i} ended twice");
                        assert!(
                            got[i + 1..].iter().all(|g| g.0.is_empty() && g.2.is_none()),
                            "input {i} ended after a later one began"
                        );
                        got[i].2 = Some(st);
                    },
                );
                let got = got.into_inner();
                let until = fail_at.unwrap_or(blobs.len());
                assert_eq!(
                    result.is_err(),
                    fail_at.is_some(),
                    "{batch_bytes} {fail_at:?}"
                );
                for (k, (recs, bad, stats)) in got.iter().enumerate() {
                    if k < until {
                        assert_eq!(
                            format!("{recs:?}"),
                            format!("{:?}", alone[k].0),
                            "input {k}, batches of {batch_bytes}"
                        );
                        assert_eq!(
                            format!("{bad:?}"),
                            format!("{:?}", alone[k].1),
                            "input {k}, batches of {batch_bytes}"
                        );
                        assert_eq!(stats.as_ref(), Some(&alone[k].2), "input {k}");
                    } else {
                        assert!(recs.is_empty() && bad.is_empty() && stats.is_none());
                    }
                }
            }
        }
    }

    #[test]
    fn vnet_blob() {
        let (recs, bad, stats) = read_slice(VNET.as_bytes(), "t.json");
        assert_eq!(
            stats,
            Stats {
                records: 1,
                tuples: 2,
                bad: 1,
                ..Default::default()
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

    /// A VNet record of `n` tuples a group over `groups` groups (two NSGs), a bad tuple at
    /// each position of `bad_at` (counted over the record), then a second small record.
    fn big_vnet(n: usize, groups: usize, bad_at: &[usize], late_mac: bool) -> String {
        let mut k = 0usize;
        let mut flows = Vec::new();
        for f in 0..2 {
            let mut gs = Vec::new();
            for g in 0..groups {
                let mut ts = Vec::new();
                for i in 0..n {
                    if bad_at.contains(&k) {
                        ts.push("\"not,a,tuple\"".to_string());
                    } else {
                        ts.push(format!(
                            "\"{},10.0.{f}.4,20.38.{}.{},{},443,6,O,C,NX,1,{},2,{}\"",
                            1_764_288_000_000u64 + k as u64,
                            i % 256,
                            (i / 256) % 256,
                            1024 + i % 60000,
                            100 + g,
                            200 + k
                        ));
                    }
                    k += 1;
                }
                gs.push(format!(
                    "{{\"rule\":\"Rule_{f}_{g}\",\"flowTuples\":[{}]}}",
                    ts.join(",")
                ));
            }
            flows.push(format!(
                "{{\"aclID\":\"acl-{f}\",\"flowGroups\":[{}]}}",
                gs.join(",\n")
            ));
        }
        let mac = "\"macAddress\":\"00224800000A\"";
        let (before, after) = if late_mac {
            (String::new(), format!(",{mac}"))
        } else {
            (format!("{mac},"), String::new())
        };
        format!(
            "{{\"records\":[{{\"time\":\"2025-11-28T00:00:00.000Z\",\"flowLogVersion\":4,{before}\"targetResourceID\":\"/sub/vnet\",\"flowRecords\":{{\"flows\":[{}]}}{after}}},\n{}]}}",
            flows.join(","),
            r#"{"time":"t2","flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"acl-9","flowGroups":[{"rule":"R9","flowTuples":["1764288000000,10.0.0.9,20.38.98.100,1024,443,6,O,C,NX,1,2,3,4"]}]}]}}"#
        )
    }

    /// The oracle: every tuple of the document in order, with its NSG and rule, read whole by
    /// serde_json; the bad ones as `None`.
    fn oracle(doc: &str) -> Vec<(String, String, Option<Tuple>)> {
        let v: serde_json::Value = serde_json::from_str(doc).unwrap();
        let mut out = Vec::new();
        for r in v["records"].as_array().unwrap() {
            for f in r["flowRecords"]["flows"].as_array().unwrap() {
                for g in f["flowGroups"].as_array().unwrap() {
                    for t in g["flowTuples"].as_array().unwrap() {
                        out.push((
                            f["aclID"].as_str().unwrap().to_string(),
                            g["rule"].as_str().unwrap().to_string(),
                            crate::flowlog::parse_vnet(t.as_str().unwrap(), 0).ok(),
                        ));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn a_record_over_a_part_is_read_in_parts_as_if_whole() {
        // 2 NSGs × 3 groups × 9,000 tuples of about 70 bytes: 3.8 MB, four parts or more.
        let bad_at = [5, 20_000, 53_999];
        let doc = big_vnet(9_000, 3, &bad_at, false);
        assert!(doc.len() > 3 * split::PART_BYTES);
        let want = oracle(&doc);
        // Streamed: parts come as records of the same index; together they are the record.
        let mut got = Vec::new();
        let mut parts = 0;
        let mut bads = Vec::new();
        let stats = read(
            doc.as_bytes(),
            "big.json",
            &mut |r| {
                if r.index == 0 {
                    parts += 1;
                }
                for t in &r.tuples {
                    let g = &r.groups[t.group as usize];
                    got.push((
                        g.acl.clone(),
                        g.rule.clone(),
                        Some(Tuple { group: 0, ..*t }),
                    ));
                }
            },
            &mut |b| bads.push(b),
        );
        assert!(parts >= 4, "{parts} parts");
        assert_eq!(stats.records, 2);
        let good: Vec<_> = want.iter().filter(|w| w.2.is_some()).cloned().collect();
        assert_eq!(got.len(), good.len());
        assert!(got == good, "the tuples differ from the whole document's");
        // Bad tuples are placed by their position in the whole record.
        let at: Vec<Option<usize>> = bads.iter().map(|b| b.tuple).collect();
        assert_eq!(
            at,
            bad_at.iter().map(|&k| Some(k)).collect::<Vec<_>>(),
            "{bads:?}"
        );
        assert!(bads.iter().all(|b| b.record == Some(0)));
        // In memory, the parts come back joined into one record.
        let (recs, _, _) = read_slice(doc.as_bytes(), "big.json");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].tuples.len() + bad_at.len(), 54_000);
        assert!(recs[0].groups.len() >= 6);
        assert_eq!(recs[0].mac, "00224800000A");
        // A header member after the tuples: the record says so rather than reading quietly.
        let late = big_vnet(9_000, 3, &[], true);
        let (_, bad, _) = read_slice(late.as_bytes(), "late.json");
        assert!(
            bad.iter()
                .any(|b| b.why.contains("`macAddress` comes after tuples")),
            "{bad:?}"
        );
    }
}
