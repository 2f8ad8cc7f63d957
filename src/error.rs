//! The library's one error type.
//!
//! Every variant carries enough context to act on: the file, the JSON line and column, the tag,
//! the offending text, and a hint that names the fix. Findings (warnings, unmatched addresses)
//! are data, not errors; an [`Error`] means tagnet could not do what was asked.

use std::path::PathBuf;

/// Result with the library [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The path as given (`-` for standard input).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A file could not be written.
    #[error("cannot write `{path}`")]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The input is not valid JSON or does not have the service-tag shape.
    #[error("{origin}: line {line}, column {column}: {message}\n  hint: {hint}")]
    Json {
        /// Where the JSON came from.
        origin: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description.
        message: String,
        /// What the input should have been.
        hint: String,
    },

    /// A prefix in the file is not a valid IPv4 or IPv6 prefix.
    #[error(
        "{origin}: tag `{tag}`: invalid prefix `{text}` (addressPrefixes[{position}]): {reason}\n  hint: each entry must be ADDRESS/LENGTH, e.g. 192.0.2.0/24 or 2001:db8::/32"
    )]
    InvalidPrefix {
        /// Where the JSON came from.
        origin: String,
        /// The tag holding it.
        tag: String,
        /// The text as written.
        text: String,
        /// Position in the tag's `addressPrefixes`.
        position: usize,
        /// Why it failed.
        reason: String,
    },

    /// The document is well-formed JSON but breaks a rule of the format.
    #[error("{origin}: {message}\n  hint: {hint}")]
    Invalid {
        /// Where the JSON came from.
        origin: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },

    /// A tag name that the snapshot does not hold.
    #[error("unknown tag `{name}`{}", did_you_mean(suggestions))]
    UnknownTag {
        /// The name as typed.
        name: String,
        /// Closest known names.
        suggestions: Vec<String>,
    },

    /// A region that the snapshot does not hold.
    #[error("unknown region `{name}`{}", did_you_mean(suggestions))]
    UnknownRegion {
        /// The region as typed.
        name: String,
        /// Closest known region codes.
        suggestions: Vec<String>,
    },

    /// The tag exists, but not in the requested region.
    #[error(
        "tag `{tag}` has no variant in region `{region}`{}",
        available(regions)
    )]
    TagNotInRegion {
        /// The tag as typed.
        tag: String,
        /// The region code.
        region: String,
        /// Regions the tag does have.
        regions: Vec<String>,
    },

    /// Text that should be an IP address or prefix but is not.
    #[error("invalid {what} `{text}`: {reason}")]
    Parse {
        /// What was expected ("IP address", "prefix").
        what: &'static str,
        /// The text as given.
        text: String,
        /// Why it failed, with an example of the right form.
        reason: String,
    },

    /// A download failed or what it brought was refused.
    #[error("fetching {url}: {message}")]
    Fetch {
        /// The address (without its query string).
        url: String,
        /// What went wrong and what to do.
        message: String,
    },

    /// A command-level usage error found by the library (conflicting options and the like).
    #[error("{}", spell_refs(.0, &|f: &str| f.to_string()))]
    Usage(String),

    /// A request's field holds a value the library refuses. The message names other fields as
    /// `«name»`; each front end spells them its own way ([`Error::spelled`]): the CLI
    /// `--max-routes`, the server `max_routes`, Python `max_routes=`.
    #[error("{}", spell(field, message, &|f: &str| f.to_string()))]
    Field {
        /// The request field, in snake case (`max_routes`).
        field: &'static str,
        /// What is wrong and how to fix it; other fields as `«name»`.
        message: String,
    },
}

/// `FIELD MESSAGE` with every `«name»` in the message spelled by `name`.
fn spell(field: &str, message: &str, name: &dyn Fn(&str) -> String) -> String {
    let mut out = name(field);
    if !message.starts_with(':') {
        out.push(' ');
    }
    out.push_str(&spell_refs(message, name));
    out
}

/// `text` with every `«name»` spelled by `name`.
pub fn spell_refs(text: &str, name: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('«') {
        out.push_str(&rest[..open]);
        let after = &rest[open + '«'.len_utf8()..];
        match after.find('»') {
            Some(close) => {
                out.push_str(&name(&after[..close]));
                rest = &after[close + '»'.len_utf8()..];
            }
            None => {
                out.push('«');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Error {
    /// A [`Error::Field`] error.
    pub fn field(field: &'static str, message: impl Into<String>) -> Error {
        Error::Field {
            field,
            message: message.into(),
        }
    }

    /// The message with request fields spelled by `name` (a front end's spelling: the CLI
    /// gives `--max-routes` for `max_routes`); other errors as [`Display`](std::fmt::Display)
    /// writes them.
    ///
    /// ```
    /// let e = tagnet::Error::field("reserve", "`5` leaves no room under «max_routes» 5");
    /// assert_eq!(e.to_string(), "reserve `5` leaves no room under max_routes 5");
    /// let cli = e.spelled(&|f: &str| format!("--{}", f.replace('_', "-")));
    /// assert_eq!(cli, "--reserve `5` leaves no room under --max-routes 5");
    /// ```
    pub fn spelled(&self, name: &dyn Fn(&str) -> String) -> String {
        match self {
            Error::Field { field, message } => spell(field, message, name),
            Error::Usage(m) => spell_refs(m, name),
            other => other.to_string(),
        }
    }

    /// A JSON syntax error of `origin` (line and column apart from the message), with the hint
    /// naming what the input should be.
    pub fn json(origin: &str, e: &serde_json::Error, hint: &str) -> Error {
        // Nothing at all to parse: said as such, not as the parser's end-of-input error.
        if e.is_eof() && e.line() == 1 && e.column() == 0 {
            return Error::Invalid {
                origin: origin.to_string(),
                message: "the file is empty".into(),
                hint: hint.to_string(),
            };
        }
        let m = e.to_string();
        Error::Json {
            origin: origin.to_string(),
            line: e.line(),
            column: e.column(),
            // serde_json appends " at line L column C"; it is printed separately.
            message: m
                .rfind(" at line ")
                .map_or(m.clone(), |i| m[..i].to_string()),
            hint: hint.to_string(),
        }
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn available(regions: &[String]) -> String {
    if regions.is_empty() {
        "; it is a cloud-wide tag with no regional variants".to_string()
    } else {
        let shown: Vec<&str> = regions.iter().take(12).map(String::as_str).collect();
        let more = if regions.len() > 12 {
            format!(" and {} more", regions.len() - 12)
        } else {
            String::new()
        };
        format!("; it has variants in: {}{more}", shown.join(", "))
    }
}
