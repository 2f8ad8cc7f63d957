//! The use cases: one function per question tagnet answers, called alike by every front end
//! (the CLI, the HTTP server, the Python package).
//!
//! Each use case takes a request of plain values — what a user typed, a query string held,
//! or a Python call passed — validates it once, here, and returns a report that is
//! [`serde::Serialize`]: the CLI renders it, the server sends it, Python converts it. Nothing
//! here prints, reads the environment or keeps global state. An invalid request is an
//! [`Error::Field`](crate::Error::Field) naming the request's field (`max_routes`), which
//! each front end spells its own way (`--max-routes`, `max_routes`, `max_routes=`).
//!
//! - [`source`]: which snapshot a request uses and how reports name it.
//! - [`audit`]: a route table against the routes the required tags need, and the plan.
//! - [`check`]: a network definition against the ML-in-a-VNet guidance.
//! - [`diff`]: what a week's change means for a route table.
//! - [`feed`]: the cached weeks' changes as a JSON Feed and an Atom feed.
//! - [`export`]: a selection of tags as firewall objects, whole or as a week's change.
//! - [`history`]: when an address, a prefix or a tag's prefixes joined or left each tag, week by week.
//! - [`flows`]: flow logs re-evaluated with the NSG engine; drifts as findings.
//! - [`lookup`]: every tag holding an address, or related to a prefix.
//! - [`catalog`]: the tags of a snapshot, filtered; the prefixes of tags.
//! - [`nsg`]: an NSG scope; `nsg verify` and `nsg reach`.
//! - [`udr`]: the routes forced tunneling needs.

//!
//! ## Vocabulary
//!
//! One word per concept, across the library, the commands and the endpoints:
//! - **load** is a snapshot's: reading a service-tag file into a [`crate::Snapshot`]
//!   ([`crate::load`]). Every other input is **read** (`nsg::read`, `check::read`,
//!   `flowlog::read`).
//! - **prefix** is an address range written `ADDRESS/LENGTH` ([`crate::text::prefix`]); `net`
//!   appears only as `ipnet`'s type name.
//! - **udr** is the plan of user-defined routes a set of tags needs ([`udr`], `tagnet udr`,
//!   `GET /v1/udr`); **routes** is the route arithmetic under it ([`crate::routes`]) and the
//!   commands on existing route tables (`routes audit`, [`audit`]).
//! - A **decision** is what the NSG engine computes for a flow ([`crate::nsg::decide`], the
//!   one evaluation); a **verdict** is a decision with its NSG and rule named
//!   ([`crate::nsg::Decision::named`]); a **drift** is a logged decision that differs from
//!   tagnet's ([`crate::flowlog::verify::drift_of`]).

pub mod audit;
pub mod catalog;
pub mod check;
pub mod diff;
pub mod export;
pub mod feed;
pub mod flows;
pub mod history;
pub mod lookup;
pub mod map;
pub mod nsg;
pub mod path;
pub mod source;
pub mod udr;

pub use source::SnapshotInfo;

/// A report's record that knows its table and CSV columns (JSON and NDJSON serialize it).
pub trait Row: serde::Serialize {
    /// The column headings, in upper case (`NEXT HOP TYPE`; CSV writes them in snake case).
    const HEADERS: &'static [&'static str];
    /// The cells, in the headings' order.
    fn cells(&self) -> Vec<String>;
    /// The cells one by one (a row can give them without building each as a string).
    fn each_cell(&self, f: &mut dyn FnMut(&str) -> std::io::Result<()>) -> std::io::Result<()> {
        for c in self.cells() {
            f(&c)?;
        }
        Ok(())
    }
}

/// `{"snapshot": …, "records": [...]}`: how a list report is written as one JSON document.
#[derive(Debug, serde::Serialize)]
pub struct Records<'a, T> {
    /// The snapshot the records were computed on.
    pub snapshot: &'a SnapshotInfo,
    /// The records.
    pub records: &'a [T],
    /// What reading the inputs found (an NSG Azure would refuse, …); left out when none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub warnings: &'a [String],
}

/// A JSON number when it fits in 64 bits, else a decimal string (JSON readers lose precision
/// past 2^53 and most refuse past 2^64).
pub fn big_count<S: serde::Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
    match u64::try_from(*n) {
        Ok(v) => s.serialize_u64(v),
        Err(_) => s.serialize_str(&n.to_string()),
    }
}
