//! Severity from configuration, for every command that reports findings: per code (a name
//! or a number), `deny` (an error), `warn` (a warning) or `allow` (not reported) — from
//! `tagnet.toml` and from the command line, the command line winning.
//!
//! ```toml
//! [severity]          # every command
//! warn = ["unrelated-internet-route"]
//! allow = ["TN107"]
//!
//! [check]             # one command's own settings, over [severity]
//! deny = ["subnet-too-small"]
//! ```
//!
//! The tables of one command each: `check`, `audit` (`routes audit`, and `diff
//! --route-table`), `analyze` (`nsg analyze`), `flows` (`flows verify`).

use super::{Finding, Rule, Severity};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Severity changes per code (`--deny`, `--warn`, `--allow`, or `tagnet.toml`): a code or a
/// number (`TN013`); `allow` drops the finding.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// Codes raised to error.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Codes set to warning.
    #[serde(default)]
    pub warn: Vec<String>,
    /// Codes not reported.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// What a code is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Reported as an error.
    Deny,
    /// Reported as a warning.
    Warn,
    /// Not reported.
    Allow,
}

/// Severity settings resolved against the registry: per rule code, its level. A later set
/// (the command line) overrides an earlier one (the file); within one set a code may be named
/// once.
#[derive(Debug, Clone, Default)]
pub struct Resolved(BTreeMap<&'static str, Level>);

impl Levels {
    /// The settings by rule, or an error naming the unknown codes (with the codes that look
    /// like them) or a code given two levels.
    pub fn resolve(&self, registry: &[&'static Rule]) -> std::result::Result<Resolved, String> {
        let mut out = BTreeMap::new();
        let mut unknown = Vec::new();
        for (list, level, flag) in [
            (&self.deny, Level::Deny, "deny"),
            (&self.warn, Level::Warn, "warn"),
            (&self.allow, Level::Allow, "allow"),
        ] {
            for c in list {
                let Some(r) = registry.iter().find(|r| names(r, c)) else {
                    unknown.push(c.clone());
                    continue;
                };
                if let Some(before) = out.insert(r.code, level)
                    && before != level
                {
                    return Err(format!(
                        "`{c}` is given two levels ({before:?} and {flag}); name each code once"
                    ));
                }
            }
        }
        if !unknown.is_empty() {
            let hints: Vec<String> = unknown
                .iter()
                .map(|u| match super::lookup(u) {
                    Ok(_) => format!("`{u}`"),
                    Err(close) => format!("`{u}` (did you mean `{}`?)", close[0]),
                })
                .collect();
            return Err(format!(
                "unknown finding code {}; `tagnet explain` lists them",
                hints.join(", ")
            ));
        }
        Ok(Resolved(out))
    }
}

impl Resolved {
    /// `later` overrides `self` code by code.
    pub fn then(mut self, later: Resolved) -> Resolved {
        self.0.extend(later.0);
        self
    }

    /// Applies the levels.
    pub fn apply(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter_map(|mut f| self.adjust(&mut f).then_some(f))
            .collect()
    }

    /// Sets one finding's severity; `false` when its code is allowed (not reported).
    pub fn adjust(&self, f: &mut Finding) -> bool {
        match self.0.get(f.code) {
            Some(Level::Allow) => return false,
            Some(Level::Deny) => f.severity = Severity::Error,
            Some(Level::Warn) => f.severity = Severity::Warning,
            None => {}
        }
        true
    }

    /// A code's severity after these levels; `None` when it is allowed (not reported).
    pub fn severity_of(&self, code: crate::findings::Code) -> Option<Severity> {
        let r = code.rule();
        match self.0.get(r.code) {
            Some(Level::Allow) => None,
            Some(Level::Deny) => Some(Severity::Error),
            Some(Level::Warn) => Some(Severity::Warning),
            None => Some(r.severity),
        }
    }

    /// Whether a code is allowed (its findings are not reported).
    pub fn allows(&self, code: &str) -> bool {
        self.0.get(code) == Some(&Level::Allow)
    }
}

fn names(r: &Rule, c: &str) -> bool {
    r.code.eq_ignore_ascii_case(c) || r.id.eq_ignore_ascii_case(c)
}

/// The settings of `tagnet.toml`: `[severity]` for every command, then a table per command.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Every command.
    #[serde(default)]
    pub severity: Levels,
    /// `check`.
    #[serde(default)]
    pub check: Levels,
    /// `routes audit` and `diff --route-table`.
    #[serde(default)]
    pub audit: Levels,
    /// `nsg analyze`.
    #[serde(default)]
    pub analyze: Levels,
    /// `flows verify`.
    #[serde(default)]
    pub flows: Levels,
    /// Custom tags ([`crate::sources::read_custom_path`] reads them; not severities).
    #[serde(default)]
    pub tags: Option<toml::Table>,
}

/// The commands that report findings, by their table in [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `check`.
    Check,
    /// `routes audit`, `diff --route-table`.
    Audit,
    /// `nsg analyze`.
    Analyze,
    /// `flows verify`.
    Flows,
}

impl Config {
    /// Reads a `tagnet.toml`.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        toml::from_str(&text).map_err(|e| Error::Invalid {
            origin: path.display().to_string(),
            message: e.to_string().trim_end().to_string(),
            hint: "write [severity] (every command) or [check], [audit], [analyze], [flows] with deny = [...], warn = [...], allow = [...] lists of codes, and [tags] with your own named ranges".into(),
        })
    }

    /// The levels a command uses: `[severity]`, then the command's own table over it.
    pub fn levels(&self, command: Command) -> std::result::Result<Resolved, String> {
        let registry = super::registry();
        let own = match command {
            Command::Check => &self.check,
            Command::Audit => &self.audit,
            Command::Analyze => &self.analyze,
            Command::Flows => &self.flows,
        };
        Ok(self
            .severity
            .resolve(&registry)?
            .then(own.resolve(&registry)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_table_overrides_severity_and_allow_drops() {
        let c: Config = toml::from_str(
            "[severity]\nwarn = [\"missing-route\"]\nallow = [\"TN107\"]\n[audit]\ndeny = [\"missing-route\"]\n",
        )
        .unwrap();
        let audit = c.levels(Command::Audit).unwrap();
        let check = c.levels(Command::Check).unwrap();
        let f = Finding::new(super::super::Code::MissingRoute, "r", "m");
        let mut a = f.clone();
        assert!(audit.adjust(&mut a));
        assert_eq!(a.severity, Severity::Error);
        let mut b = f.clone();
        b.severity = Severity::Error;
        assert!(check.adjust(&mut b));
        assert_eq!(b.severity, Severity::Warning);
        assert!(audit.allows("unrelated-internet-route"));
        assert!(toml::from_str::<Config>("[nsg]\nallow = []\n").is_err());
        assert!(c.severity.resolve(&super::super::registry()).is_ok());
        let bad = Levels {
            deny: vec!["missing-rout".into()],
            ..Levels::default()
        };
        assert!(
            bad.resolve(&super::super::registry())
                .unwrap_err()
                .contains("missing-route")
        );
    }
}
