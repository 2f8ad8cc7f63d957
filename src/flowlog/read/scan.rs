//! The structural scanner: a blob cut into its records as it is read, without parsing them,
//! so batches of records can be parsed on the pool while the next batch is read.

use super::*;

/// One record's bytes and where it is.
pub(super) struct RawRecord {
    pub(super) index: usize,
    pub(super) line: usize,
    pub(super) bytes: Vec<u8>,
    /// Not an object: what it is instead (reported, skipped).
    pub(super) not_object: Option<&'static str>,
    /// The document was cut short here: the line where the next one begins (reported; the
    /// record, when there is one, is skipped). `index` is `usize::MAX` when the cut is
    /// outside any record.
    pub(super) cut_at: Option<usize>,
    /// Whether this is a whole record or a part of one too large to hold ([`super::split`]).
    pub(super) part: Part,
    /// The last part of a record read in parts: a member of its header that came after
    /// tuples already read in an earlier part (its key).
    pub(super) late: Option<String>,
}

/// A record read whole, or in parts ([`super::split`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// The whole record.
    Whole,
    /// A part, more to come.
    More,
    /// The record's last part.
    Last,
}

pub(super) struct Batch {
    pub(super) records: Vec<RawRecord>,
    pub(super) error: Option<Bad>,
    pub(super) done: bool,
    /// The records' bytes.
    pub(super) bytes: usize,
}

/// Where the scan is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
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
pub(super) struct Scanner<'o, R> {
    pub(super) r: R,
    pub(super) origin: &'o str,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    pub(super) eof: bool,
    pub(super) phase: Phase,
    pub(super) depth: usize,
    pub(super) in_string: bool,
    pub(super) escape: bool,
    pub(super) line: usize,
    /// The last string closed at the top level of the object (a key before `[`).
    pub(super) last_key: Vec<u8>,
    pub(super) key_open: bool,
    pub(super) records_depth: usize,
    pub(super) current: Vec<u8>,
    pub(super) current_line: usize,
    pub(super) next_index: usize,
    pub(super) failed: bool,
    /// Documents begun (several when blobs are concatenated on standard input).
    pub(super) documents: usize,
    /// What the skipped element is, and where it began.
    pub(super) skip_what: &'static str,
    pub(super) skip_line: usize,
    /// Whether the start was looked at for a byte-order mark.
    pub(super) bom_checked: bool,
    /// The structure of the record being read, for reading it in parts.
    pub(super) tracker: super::split::Tracker,
    /// Bytes of a record after which it is read in parts ([`super::split::PART_BYTES`]).
    pub(super) part_bytes: usize,
}

/// Bytes the scan keeps ahead of itself until the input ends (see [`Scanner::limit`]).
const LOOKAHEAD: usize = 64;
/// Blanks allowed before a new blob's `{"records"` on its line.
const BLANKS_BEFORE_BLOB: usize = 32;

impl<'o, R: Read> Scanner<'o, R> {
    pub(super) fn new(r: R, origin: &'o str) -> Self {
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
            bom_checked: false,
            tracker: super::split::Tracker::default(),
            part_bytes: super::split::PART_BYTES,
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

    /// Where the scan of the buffer stops before reading more: [`LOOKAHEAD`] bytes short of
    /// its end until the input has ended, so that every look ahead (a new blob's
    /// `{"records"`) sees the same bytes however the input arrives in reads.
    #[inline(always)]
    fn limit(&self) -> usize {
        if self.eof {
            self.buf.len()
        } else {
            self.buf.len().saturating_sub(LOOKAHEAD)
        }
    }

    /// Reads more after what is not yet scanned (and the one byte before it, looked back at);
    /// `false` when the input has ended.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let from = self.pos.saturating_sub(1).min(self.buf.len());
        self.buf.copy_within(from.., 0);
        let kept = self.buf.len() - from;
        self.pos -= from;
        self.buf.resize(kept + (1 << 20), 0);
        loop {
            match self.r.read(&mut self.buf[kept..]) {
                Ok(0) => {
                    self.eof = true;
                    self.buf.truncate(kept);
                    return Ok(false);
                }
                Ok(n) => {
                    self.buf.truncate(kept + n);
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Records up to about `limit` bytes of them, or to the end of the input.
    pub(super) fn next_batch(&mut self, limit: usize) -> Batch {
        let mut batch = Batch {
            records: Vec::new(),
            error: None,
            done: false,
            bytes: 0,
        };
        while batch.bytes < limit {
            if self.failed {
                batch.done = true;
                return batch;
            }
            if self.pos >= self.limit() {
                match self.fill() {
                    Ok(true) => continue,
                    Ok(false) if self.pos < self.buf.len() => {}
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
            }
            // A byte-order mark, looked at once the first bytes are in (or the input ended).
            if !self.bom_checked {
                self.bom_checked = true;
                if self.pos == 0 && self.buf.starts_with(b"\xef\xbb\xbf") {
                    self.pos = 3;
                }
            }
            match self.step() {
                Ok(Some(rec)) => {
                    batch.bytes += rec.bytes.len();
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
            cut_at: None,
            part: Part::Whole,
            late: None,
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
    /// In a record: copies up to its end in one go; the record when it closed.
    #[inline(always)]
    fn copy_record(&mut self) -> Option<RawRecord> {
        // Copy up to the record's end in one go.
        let mut start = self.pos;
        let mut closed = false;
        while self.pos < self.limit() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    self.pos += 1;
                    continue;
                }
                // Most of a record is string bytes: jump to the next quote or escape (or a
                // line break, which no JSON string holds: the blob was cut there).
                let end = self.limit();
                match memchr::memchr3(b'"', b'\\', b'\n', &self.buf[self.pos..end]) {
                    None => self.pos = end,
                    Some(k) => {
                        let c = self.buf[self.pos + k];
                        // `{"records"` inside a string: the next blob begins right where this
                        // one was cut (a file without a final line break, `cat` with the next).
                        let at = self.pos + k;
                        if c == b'"' && at > 0 && self.buf[at - 1] == b'{' && self.blob_at(at - 1) {
                            self.pos = at - 1;
                            return Some(self.cut());
                        }
                        self.pos += k + 1;
                        if c == b'\\' {
                            self.escape = true;
                        } else if c == b'"' {
                            self.in_string = false;
                        } else {
                            self.line += 1;
                            return Some(self.cut());
                        }
                    }
                }
                continue;
            }
            let c = self.buf[self.pos];
            self.pos += 1;
            match c {
                b'"' => self.in_string = true,
                b'{' if self.blob_at(self.pos - 1) => {
                    self.pos -= 1;
                    return Some(self.cut());
                }
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == self.records_depth {
                        closed = true;
                        break;
                    }
                }
                b'\n' => {
                    self.line += 1;
                    if self.new_blob_follows() {
                        return Some(self.cut());
                    }
                }
                // A record grown past a part's size: closed here, when the comma is between
                // two elements of an array, and read on as a part of its own.
                b',' if self.current.len() + (self.pos - start) > self.part_bytes => {
                    self.current
                        .extend_from_slice(&self.buf[start..self.pos - 1]);
                    start = self.pos;
                    if let Some((closed, prefix)) = self.tracker.split(&self.current) {
                        let rec = RawRecord {
                            index: self.next_index,
                            line: self.current_line,
                            bytes: closed,
                            not_object: None,
                            cut_at: None,
                            part: Part::More,
                            late: None,
                        };
                        self.current = prefix;
                        self.current_line = self.line;
                        return Some(rec);
                    }
                    self.current.push(b',');
                }
                _ => {}
            }
        }
        self.current.extend_from_slice(&self.buf[start..self.pos]);
        if closed {
            self.phase = Phase::Between;
            let (part, late) = if self.tracker.split {
                // What came after the last split, followed to the end for late members.
                self.tracker.follow(&self.current);
                (Part::Last, self.tracker.late.take())
            } else {
                (Part::Whole, None)
            };
            self.tracker.reset();
            let rec = RawRecord {
                index: self.next_index,
                line: self.current_line,
                bytes: std::mem::take(&mut self.current),
                not_object: None,
                cut_at: None,
                part,
                late,
            };
            self.next_index += 1;
            return Some(rec);
        }
        None
    }

    /// Whether the line just begun (after `\n`) is a blob's first line, `{"records"` (spaces
    /// allowed before it). Decided on what the buffer holds: a line start at the very end of a
    /// read block is not looked at.
    fn new_blob_follows(&self) -> bool {
        let rest = &self.buf[self.pos..];
        // At most BLANKS_BEFORE_BLOB blanks: the look ahead stays within LOOKAHEAD.
        let skip = rest
            .iter()
            .take(BLANKS_BEFORE_BLOB + 1)
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r'));
        skip.is_some_and(|k| rest[k..].starts_with(b"{\"records\""))
    }

    /// Whether a blob's first bytes, `{"records"`, are at `i` of the buffer (only what the
    /// buffer holds is looked at).
    fn blob_at(&self, i: usize) -> bool {
        self.buf[i..].starts_with(b"{\"records\"")
    }

    /// Ends the current document, cut short at the line just begun; the scan goes on with the
    /// next one. The record it was in (if any) is reported and skipped.
    fn cut(&mut self) -> RawRecord {
        let in_record = self.phase == Phase::Record;
        let r = RawRecord {
            index: if in_record {
                self.next_index
            } else {
                usize::MAX
            },
            line: if in_record {
                self.current_line
            } else {
                self.line - 1
            },
            bytes: Vec::new(),
            not_object: None,
            cut_at: Some(self.line),
            part: Part::Whole,
            late: None,
        };
        if in_record {
            self.next_index += 1;
        }
        self.phase = Phase::Start;
        self.depth = 0;
        self.records_depth = 0;
        self.in_string = false;
        self.escape = false;
        self.key_open = false;
        self.last_key.clear();
        self.current.clear();
        self.tracker.reset();
        r
    }

    /// Before a document: its first byte decides what it is.
    #[inline(always)]
    fn start(&mut self, c: u8) -> std::result::Result<(), String> {
        match c {
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
        }
        Ok(())
    }

    /// Between records: a record starts, the array ends, or something else is skipped.
    #[inline(always)]
    fn between(&mut self, c: u8) {
        match c {
            b'{' => {
                self.phase = Phase::Record;
                self.depth += 1;
                self.current.clear();
                self.tracker.reset();
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
        }
    }

    fn step(&mut self) -> std::result::Result<Option<RawRecord>, String> {
        while self.pos < self.limit() {
            if self.phase == Phase::Record {
                if let Some(rec) = self.copy_record() {
                    return Ok(Some(rec));
                }
                continue;
            }
            let c = self.buf[self.pos];
            self.pos += 1;
            if c == b'\n' {
                self.line += 1;
                // A line break inside a string, or a new blob's first line inside this one:
                // this document was cut short (blobs concatenated on standard input).
                if self.phase != Phase::Start
                    && (self.in_string || (self.depth > 0 && self.new_blob_follows()))
                {
                    return Ok(Some(self.cut()));
                }
            }
            // A new blob's `{"records"` where this document has not ended: it was cut there.
            if c == b'{'
                && self.phase != Phase::Start
                && self.depth > 0
                && self.blob_at(self.pos - 1)
            {
                self.pos -= 1;
                if self.in_string {
                    self.in_string = false;
                }
                return Ok(Some(self.cut()));
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
                Phase::Start => self.start(c)?,
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
                Phase::Between => self.between(c),
                Phase::Record => unreachable!("handled above"),
            }
        }
        Ok(None)
    }
}
