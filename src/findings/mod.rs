//! Findings: the one model every check reports in, and the registry of their codes.
//!
//! A [`Finding`] is data — a stable kebab-case code, a severity, the resource concerned, what is
//! wrong, one concrete counterexample where there is one, and the fix — never a string put
//! together at the call site. Every code a check can emit is documented once in the table of [`Code`];
//! `tagnet explain CODE` prints that documentation ([`codes`], one table), and a finding is
//! made from a [`Code`], so an unregistered code does not compile.

pub mod codes;
pub mod severity;

pub use codes::Code;
use serde::Serialize;
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Required traffic is broken, or a plan cannot be carried out.
    Error,
    /// Something to act on that breaks nothing today.
    Warning,
    /// Worth knowing; nothing to do unless it is a surprise.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One finding of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code, documented in [`Code`]'s table (`missing-route`).
    pub code: &'static str,
    /// The code's stable number (`TN101`).
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The resource concerned: a route, a rule, a table.
    pub resource: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// One concrete address (or flow) that shows it, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<String>,
    /// What to do about it.
    pub fix: String,
}

/// The documentation of one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The code: a kebab-case name (`missing-route`).
    pub code: &'static str,
    /// The stable number: `TN0xx` for `check`, `TN1xx` for `routes audit`, `TN2xx` for
    /// `nsg analyze`.
    pub id: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The command that reports it.
    pub source: &'static str,
    /// One line.
    pub summary: &'static str,
    /// What it checks and why it matters.
    pub why: &'static str,
    /// An example that triggers it.
    pub example: &'static str,
    /// What to do instead.
    pub fix: &'static str,
    /// Microsoft's documentation of the requirement, where there is one.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reference: &'static str,
}

/// Every code's documentation, sorted by number: the one registry `tagnet explain` reads.
pub fn registry() -> Vec<&'static Rule> {
    Code::ALL.iter().map(|c| c.rule()).collect()
}

/// The code of a name or number (`missing-route`, `TN101`, any case, `_` for `-`); else the
/// codes that look like it, nearest first (all codes when none does).
pub fn lookup(code: &str) -> std::result::Result<Code, Vec<&'static str>> {
    let mut want = code.trim().to_ascii_lowercase().replace('_', "-");
    // A number alone is the id's (`20` and `TN20` are TN020).
    if let Ok(n) = want.strip_prefix("tn").unwrap_or(&want).parse::<u32>() {
        want = format!("tn{n:03}");
    }
    if let Some(c) = Code::ALL
        .iter()
        .find(|c| c.rule().code == want || c.rule().id.eq_ignore_ascii_case(&want))
    {
        return Ok(*c);
    }
    // An id (`TN999`): the codes of the nearest numbers, each named by id and name.
    if let Some(n) = want.strip_prefix("tn").and_then(|d| d.parse::<i64>().ok()) {
        let mut all = registry();
        all.sort_by_key(|r| {
            let id = r.id[2..].parse::<i64>().unwrap_or(i64::MAX / 2);
            ((id - n).abs(), id)
        });
        return Err(all.iter().take(5).map(|r| r.code).collect());
    }
    let share = |c: &str| {
        c.split('-')
            .any(|w| w.len() > 3 && want.split('-').any(|v| v == w))
    };
    let all = registry();
    let mut close: Vec<&str> = all
        .iter()
        .map(|r| r.code)
        .filter(|c| c.contains(&want) || want.contains(c) || share(c))
        .collect();
    if close.is_empty() {
        close = all.iter().map(|r| r.code).collect();
    }
    close.sort_by_key(|c| (crate::text::edit_distance(c, &want), *c));
    close.truncate(5);
    Err(close)
}

impl Code {
    /// The kebab-case name (`missing-route`).
    pub fn name(self) -> &'static str {
        self.rule().code
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Finding {
    /// A finding of a code, with that code's severity and fix.
    pub fn new(code: Code, resource: impl Into<String>, message: impl Into<String>) -> Self {
        let r = code.rule();
        Finding {
            code: r.code,
            id: r.id,
            severity: r.severity,
            resource: resource.into(),
            message: message.into(),
            counterexample: None,
            fix: r.fix.to_string(),
        }
    }

    /// With one concrete address or flow that shows it.
    pub fn counterexample(mut self, c: impl Into<String>) -> Self {
        self.counterexample = Some(c.into());
        self
    }

    /// With a fix more precise than the code's general one.
    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = f.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_kebab_case() {
        let all = registry();
        for w in all.windows(2) {
            assert!(w[0].id < w[1].id, "{} before {}", w[0].id, w[1].id);
        }
        let mut names: Vec<&str> = all.iter().map(|r| r.code).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "codes are unique");
        for r in all {
            assert!(
                r.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{}",
                r.code
            );
            assert!(!r.summary.is_empty() && !r.why.is_empty() && !r.fix.is_empty());
        }
    }
}
