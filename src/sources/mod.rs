//! Ranges beside Azure's: other providers' published files (AWS, Google, Oracle, GitHub,
//! Cloudflare) and an organisation's own named ranges (custom tags), read into named tags that
//! join the snapshot ([`crate::Snapshot::with_sources`]) and are then answered like service
//! tags everywhere: one index, one lookup.
//!
//! Names: a provider's tags carry its name first, so they never meet a Microsoft tag —
//! `AWS` (every AWS prefix), `AWS.EC2` (a service, every region), `AWS.EC2.us-east-1`;
//! `Google` (`goog.json`), `GoogleCloud`, `GoogleCloud.us-east1`; `Oracle`, `Oracle.OCI`,
//! `Oracle.OCI.us-ashburn-1`; `GitHub.hooks`, `GitHub.actions`, …; `Cloudflare`. Custom tags keep
//! the names they are given, and one that a Microsoft tag already has is refused.
//!
//! Each reader takes the provider's file as published (see `../shared/data/other-clouds/`'s
//! README for their addresses and shapes). A file's kind is told by its shape; a plain list of
//! prefixes (Cloudflare's) needs its name: `cloudflare=FILE`.

use crate::error::{Error, Result};
use crate::text::{self, HostBits};
use ipnet::IpNet;
use serde_json::Value;
use std::collections::BTreeMap;

/// Who published a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Provider {
    /// Amazon Web Services, `ip-ranges.json`.
    #[serde(rename = "AWS")]
    Aws,
    /// Google: `cloud.json` (Google Cloud's customer ranges) or `goog.json` (all of Google's).
    Google,
    /// Oracle Cloud, `public_ip_ranges.json`.
    Oracle,
    /// GitHub, the `meta` API's document.
    GitHub,
    /// Cloudflare, its `ips-v4` and `ips-v6` lists.
    Cloudflare,
    /// An organisation's own named ranges.
    Custom,
}

impl Provider {
    /// The providers whose files tagnet reads and fetches (custom tags are not fetched).
    pub const PUBLISHERS: [Provider; 5] = [
        Provider::Aws,
        Provider::Google,
        Provider::Oracle,
        Provider::GitHub,
        Provider::Cloudflare,
    ];

    /// The name as tagnet writes it (and as tag names begin).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Aws => "AWS",
            Provider::Google => "Google",
            Provider::Oracle => "Oracle",
            Provider::GitHub => "GitHub",
            Provider::Cloudflare => "Cloudflare",
            Provider::Custom => "Custom",
        }
    }

    /// A provider as typed (`aws`, `AWS`, `gcp`, `google`, `oci`, …).
    pub fn parse(typed: &str) -> Option<Provider> {
        Some(match typed.trim().to_ascii_lowercase().as_str() {
            "aws" | "amazon" => Provider::Aws,
            "google" | "gcp" | "googlecloud" | "google-cloud" => Provider::Google,
            "oracle" | "oci" => Provider::Oracle,
            "github" => Provider::GitHub,
            "cloudflare" => Provider::Cloudflare,
            "custom" => Provider::Custom,
            _ => return None,
        })
    }

    /// The documented address of the provider's file (`None` for custom tags, and for
    /// Cloudflare, whose two lists are fetched apart).
    pub fn url(self) -> Option<&'static str> {
        match self {
            Provider::Aws => Some("https://ip-ranges.amazonaws.com/ip-ranges.json"),
            Provider::Google => Some("https://www.gstatic.com/ipranges/cloud.json"),
            Provider::Oracle => {
                Some("https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json")
            }
            Provider::GitHub => Some("https://api.github.com/meta"),
            Provider::Cloudflare | Provider::Custom => None,
        }
    }
}

/// One named range of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTag {
    /// The tag's name (`AWS.EC2.us-east-1`).
    pub name: String,
    /// The provider's service (`EC2`), empty where the file names none.
    pub service: String,
    /// The provider's region (`us-east-1`), empty for a tag of every region.
    pub region: String,
    /// A description (custom tags).
    pub description: String,
    /// The prefixes, canonical, sorted, each once.
    pub prefixes: Vec<IpNet>,
}

/// A source read: what reports say of it, and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The publisher.
    pub provider: Provider,
    /// Who published it, which version, from where.
    pub info: SourceInfo,
    /// Its tags, sorted by name.
    pub tags: Vec<SourceTag>,
}

/// A source as every JSON report names it beside the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// The publisher (`AWS`, `Google`, `Oracle`, `GitHub`, `Cloudflare`, `Custom`).
    pub provider: String,
    /// The file's own version: AWS's and Google's `syncToken`, Oracle's
    /// `last_updated_timestamp`; else a digest of the content (`fnv:` and 16 hex digits).
    pub version: String,
    /// The publication time the file states (AWS `createDate`, Google `creationTime`,
    /// Oracle `last_updated_timestamp`), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Where it was read from.
    pub origin: String,
    /// Tags in the source.
    pub tag_count: usize,
    /// Prefixes in the source (each counted once per tag).
    pub prefix_count: usize,
}

fn invalid(origin: &str, message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Invalid {
        origin: origin.to_string(),
        message: message.into(),
        hint: hint.into(),
    }
}

/// Tags being gathered: name → (service, region, prefixes).
#[derive(Default)]
struct Gather {
    tags: BTreeMap<String, (String, String, Vec<IpNet>)>,
}

impl Gather {
    fn add(&mut self, name: String, service: &str, region: &str, net: IpNet) {
        self.tags
            .entry(name)
            .or_insert_with(|| (service.to_string(), region.to_string(), Vec::new()))
            .2
            .push(net);
    }

    fn finish(
        self,
        provider: Provider,
        version: String,
        published: Option<String>,
        origin: &str,
    ) -> Source {
        let tags: Vec<SourceTag> = self
            .tags
            .into_iter()
            .map(|(name, (service, region, mut prefixes))| {
                prefixes.sort();
                prefixes.dedup();
                SourceTag {
                    name,
                    service,
                    region,
                    description: String::new(),
                    prefixes,
                }
            })
            .collect();
        Source {
            provider,
            info: SourceInfo {
                provider: provider.name().to_string(),
                version,
                published,
                origin: origin.to_string(),
                tag_count: tags.len(),
                prefix_count: tags.iter().map(|t| t.prefixes.len()).sum(),
            },
            tags,
        }
    }
}

/// A prefix of a provider's file: `ADDRESS/LENGTH`; host bits, where a file has them, are
/// cleared (the file's owner means the network).
fn listed(origin: &str, at: &str, v: &Value) -> Result<IpNet> {
    let t = v.as_str().ok_or_else(|| {
        invalid(
            origin,
            format!("{at}: `{v}` is not a prefix string"),
            "give the provider's file as published",
        )
    })?;
    text::prefix(t, HostBits::Clear).map_err(|e| {
        invalid(
            origin,
            format!("{at}: `{}`: {e}", text::quoted(t)),
            "give the provider's file as published",
        )
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("").trim()
}

/// A content digest, for sources whose file states no version.
fn digest(bytes: &[u8]) -> String {
    format!("fnv:{:016x}", text::digest([bytes]))
}

/// AWS `ip-ranges.json`: `prefixes[]` (`ip_prefix`) and `ipv6_prefixes[]` (`ipv6_prefix`), each
/// with `service` and `region` (`GLOBAL` for none). A prefix is listed once per service and
/// `AMAZON` holds them all: tags `AWS` (every prefix), `AWS.SERVICE`, `AWS.SERVICE.region`.
fn aws(doc: &Value, origin: &str) -> Result<Source> {
    let mut g = Gather::default();
    for (list, key) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
        let Some(items) = doc.get(list).and_then(Value::as_array) else {
            if list == "prefixes" {
                return Err(invalid(
                    origin,
                    "no `prefixes` array",
                    "give AWS's ip-ranges.json as published",
                ));
            }
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let at = format!("{list}[{i}]");
            let net = listed(origin, &at, item.get(key).unwrap_or(&Value::Null))?;
            let service = str_of(item, "service");
            let region = str_of(item, "region");
            let region = if region.eq_ignore_ascii_case("GLOBAL") {
                ""
            } else {
                region
            };
            g.add("AWS".into(), "", "", net);
            if !service.is_empty() {
                g.add(format!("AWS.{service}"), service, "", net);
                if !region.is_empty() {
                    g.add(format!("AWS.{service}.{region}"), service, region, net);
                }
            }
        }
    }
    let version = str_of(doc, "syncToken").to_string();
    let published = Some(str_of(doc, "createDate").to_string()).filter(|s| !s.is_empty());
    Ok(g.finish(Provider::Aws, version, published, origin))
}

/// Google `cloud.json` (`prefixes[]` with `service` and `scope`, the region) or `goog.json`
/// (`prefixes[]` alone): `ipv4Prefix` or `ipv6Prefix`. Tags `GoogleCloud` and
/// `GoogleCloud.scope`, or `Google`.
fn google(doc: &Value, origin: &str) -> Result<Source> {
    let items = doc
        .get("prefixes")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            invalid(
                origin,
                "no `prefixes` array",
                "give Google's cloud.json or goog.json as published",
            )
        })?;
    let cloud = items.iter().any(|i| i.get("scope").is_some());
    let mut g = Gather::default();
    for (i, item) in items.iter().enumerate() {
        let at = format!("prefixes[{i}]");
        let v = item
            .get("ipv4Prefix")
            .or_else(|| item.get("ipv6Prefix"))
            .unwrap_or(&Value::Null);
        let net = listed(origin, &at, v)?;
        if cloud {
            let service = str_of(item, "service");
            let scope = str_of(item, "scope");
            g.add("GoogleCloud".into(), service, "", net);
            if !scope.is_empty() {
                g.add(format!("GoogleCloud.{scope}"), service, scope, net);
            }
        } else {
            g.add("Google".into(), "", "", net);
        }
    }
    let version = str_of(doc, "syncToken").to_string();
    let published = Some(str_of(doc, "creationTime").to_string()).filter(|s| !s.is_empty());
    Ok(g.finish(Provider::Google, version, published, origin))
}

/// Oracle `public_ip_ranges.json`: `regions[]` (`region`, `cidrs[]` with `cidr` and `tags`,
/// e.g. `OCI`, `OSN`, `OBJECT_STORAGE`). Tags `Oracle`, `Oracle.TAG`, `Oracle.TAG.region`.
fn oracle(doc: &Value, origin: &str) -> Result<Source> {
    let regions = doc
        .get("regions")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            invalid(
                origin,
                "no `regions` array",
                "give Oracle's public_ip_ranges.json as published",
            )
        })?;
    let mut g = Gather::default();
    for (r, reg) in regions.iter().enumerate() {
        let region = str_of(reg, "region");
        let cidrs = reg.get("cidrs").and_then(Value::as_array);
        for (i, c) in cidrs.into_iter().flatten().enumerate() {
            let at = format!("regions[{r}].cidrs[{i}]");
            let net = listed(origin, &at, c.get("cidr").unwrap_or(&Value::Null))?;
            g.add("Oracle".into(), "", "", net);
            for t in c
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(t) = t.as_str().map(str::trim).filter(|t| !t.is_empty()) else {
                    continue;
                };
                g.add(format!("Oracle.{t}"), t, "", net);
                if !region.is_empty() {
                    g.add(format!("Oracle.{t}.{region}"), t, region, net);
                }
            }
        }
    }
    let stamp = str_of(doc, "last_updated_timestamp").to_string();
    let published = Some(stamp.clone()).filter(|s| !s.is_empty());
    Ok(g.finish(Provider::Oracle, stamp, published, origin))
}

/// GitHub's `meta`: every member that is an array of prefixes (`hooks`, `web`, `api`, `git`,
/// `actions`, …) is a service, tag `GitHub.member`; members of other kinds (keys, domains,
/// flags) are not ranges and are passed over; an array member none of whose strings is a
/// prefix is too (`domains`).
fn github(doc: &Value, origin: &str) -> Result<Source> {
    let obj = doc.as_object().ok_or_else(|| {
        invalid(
            origin,
            "not a JSON object",
            "give GitHub's meta document (https://api.github.com/meta)",
        )
    })?;
    let mut g = Gather::default();
    for (key, v) in obj {
        let Some(items) = v.as_array() else { continue };
        let strings: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        if strings.is_empty() || strings.len() != items.len() {
            continue;
        }
        // A list of prefixes: every item is one (some lists hold bare addresses? none do;
        // a list with any non-prefix is not a range list).
        let nets: Vec<IpNet> = strings
            .iter()
            .filter_map(|s| text::prefix(s, HostBits::Clear).ok())
            .collect();
        if nets.len() != strings.len() {
            continue;
        }
        for net in nets {
            g.add(format!("GitHub.{key}"), key, "", net);
        }
    }
    if g.tags.is_empty() {
        return Err(invalid(
            origin,
            "no member of this document is a list of prefixes",
            "give GitHub's meta document (https://api.github.com/meta)",
        ));
    }
    // The version is the prefixes' (the document also carries keys and domains, which change
    // no range).
    let mut all: Vec<String> = g
        .tags
        .iter()
        .flat_map(|(name, t)| t.2.iter().map(move |p| format!("{name} {p}")))
        .collect();
    all.sort();
    let version = format!(
        "fnv:{:016x}",
        text::digest(all.iter().map(String::as_bytes))
    );
    Ok(g.finish(Provider::GitHub, version, None, origin))
}

/// A plain list: one prefix a line (Cloudflare's `ips-v4`, `ips-v6`); blank lines and `#`
/// comments are skipped. Tag: the provider's name.
fn plain_list(provider: Provider, bytes: &[u8], origin: &str) -> Result<Source> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| invalid(origin, "not UTF-8 text", "give one prefix a line"))?;
    let mut g = Gather::default();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let net = text::prefix(t, HostBits::Clear).map_err(|e| {
            invalid(
                origin,
                format!("line {}: `{}`: {e}", i + 1, text::quoted(t)),
                "give one prefix a line (ADDRESS/LENGTH)",
            )
        })?;
        g.add(provider.name().to_string(), "", "", net);
    }
    if g.tags.is_empty() {
        return Err(invalid(
            origin,
            "no prefix in the list",
            "give one prefix a line",
        ));
    }
    // The version of a list is its prefixes', whatever their order (Cloudflare's two lists
    // joined either way round are one version).
    let mut all: Vec<String> = g
        .tags
        .values()
        .flat_map(|t| t.2.iter().map(ToString::to_string))
        .collect();
    all.sort();
    let version = format!(
        "fnv:{:016x}",
        text::digest(all.iter().map(String::as_bytes))
    );
    Ok(g.finish(provider, version, None, origin))
}

/// A JSON object's members in order, repeats kept.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry::<String, Value>()? {
                    v.push(e);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(Members)
    }
}

/// The fields of one CSV line (RFC 4180: a field in double quotes may hold commas, and `""`
/// stands for a quote); a fourth field and after are joined back (a description may hold
/// commas unquoted).
fn csv_fields(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if cur.trim().is_empty() && !was_quoted => {
                cur.clear();
                quoted = true;
                was_quoted = true;
            }
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    out.push(cur);
    if out.len() > 4 {
        let rest = out.split_off(3).join(",");
        out.push(rest);
    }
    Ok(out)
}

/// What a JSON document's shape says it is.
fn kind_of(doc: &Value) -> Option<Provider> {
    let first = |list: &str| {
        doc.get(list)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
    };
    if let Some(p) = first("prefixes") {
        if p.get("ip_prefix").is_some() {
            return Some(Provider::Aws);
        }
        if p.get("ipv4Prefix").is_some() || p.get("ipv6Prefix").is_some() {
            return Some(Provider::Google);
        }
    }
    if doc.get("last_updated_timestamp").is_some() && doc.get("regions").is_some() {
        return Some(Provider::Oracle);
    }
    if ["hooks", "web", "api", "git", "actions"]
        .iter()
        .any(|k| doc.get(k).is_some_and(Value::is_array))
    {
        return Some(Provider::GitHub);
    }
    None
}

/// Reads a provider's file. `named` is the provider the user named (`aws=FILE`); without it,
/// a JSON file's shape tells, and a plain list is refused (it names no provider). A file
/// whose shape is another provider's than the one named is refused.
pub fn read(bytes: &[u8], origin: &str, named: Option<Provider>) -> Result<Source> {
    if named == Some(Provider::Custom) {
        return Err(invalid(
            origin,
            "custom tags are read by --custom",
            "give your own ranges with --custom FILE (JSON or CSV) or in tagnet.toml's [tags]",
        ));
    }
    let trimmed = bytes.trim_ascii_start();
    if trimmed.is_empty() {
        return Err(invalid(
            origin,
            "the file is empty",
            "give the provider's file as published (a download cut short leaves an empty file)",
        ));
    }
    if trimmed.starts_with(b"<") {
        return Err(invalid(
            origin,
            "the file is an HTML page (a saved web page or a server's error page), not a provider's file",
            "download the file itself: `tagnet fetch --provider NAME`, or the address the provider documents",
        ));
    }
    if !trimmed.starts_with(b"{") {
        return match named {
            // Only Cloudflare publishes plain lists; the others publish JSON.
            Some(p) if p != Provider::Cloudflare => Err(invalid(
                origin,
                format!(
                    "named {} but a plain list of prefixes: {} publishes JSON ({})",
                    p.name(),
                    p.name(),
                    p.url().unwrap_or("its documented file")
                ),
                "give that JSON file; a plain list is Cloudflare's (cloudflare=FILE) or your own ranges (--custom FILE)",
            )),
            Some(p) => plain_list(p, bytes, origin),
            None => Err(invalid(
                origin,
                "a plain list of prefixes names no provider",
                "name it: --source cloudflare=FILE (Cloudflare publishes plain lists; your own ranges are custom tags, --custom FILE)",
            )),
        };
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        invalid(
            origin,
            format!("invalid JSON: {e}"),
            "give the provider's file as published",
        )
    })?;
    let kind = kind_of(&doc).ok_or_else(|| {
        invalid(
            origin,
            "not a file tagnet knows: not AWS's ip-ranges.json, Google's cloud.json or goog.json, Oracle's public_ip_ranges.json or GitHub's meta",
            "give one of those as published; a list of your own ranges is a custom tag (--custom FILE)",
        )
    })?;
    if let Some(n) = named
        && n != kind
    {
        return Err(invalid(
            origin,
            format!("named {} but shaped as {}'s file", n.name(), kind.name()),
            format!(
                "name it {}=FILE, or give {}'s file",
                kind.name().to_ascii_lowercase(),
                n.name()
            ),
        ));
    }
    match kind {
        Provider::Aws => aws(&doc, origin),
        Provider::Google => google(&doc, origin),
        Provider::Oracle => oracle(&doc, origin),
        Provider::GitHub => github(&doc, origin),
        Provider::Cloudflare | Provider::Custom => unreachable!("not told by shape"),
    }
}

/// Reads `[NAME=]PATH` as `--source` takes it.
pub fn read_spec(spec: &str) -> Result<Source> {
    // A provider's name alone: its newest file in the cache (`tagnet fetch --provider`).
    if let Some(p) = Provider::parse(spec).filter(|p| *p != Provider::Custom)
        && !std::path::Path::new(spec).exists()
    {
        let cache = crate::fetch::cache::Cache::locate()?;
        return crate::fetch::providers::newest(&cache, p)?.ok_or_else(|| {
            Error::Usage(format!(
                "--source {spec}: no {} file in the cache ({}); `tagnet fetch --provider {}` downloads it, or give the file",
                p.name(),
                cache.root().display(),
                p.name().to_ascii_lowercase()
            ))
        });
    }
    let (named, path) = match spec.split_once('=') {
        Some((n, p)) if Provider::parse(n).is_some() => (Provider::parse(n), p),
        Some((n, _)) if !std::path::Path::new(spec).exists() => {
            return Err(Error::Usage(format!(
                "--source {spec}: unknown provider `{n}`; name one of aws, google, oracle, github, cloudflare (or give a file path)"
            )));
        }
        _ => (None, spec),
    };
    let (bytes, origin) = crate::load::read_input(std::path::Path::new(path))?;
    read(&bytes, &origin, named)
}

/// Custom tags from a file: JSON or CSV ([`read_custom`]), or a TOML file's `[tags]` table
/// (`tagnet.toml`: `NAME = ["PREFIX", …]` or `[tags.NAME]` with `prefixes`, `region`,
/// `description`). `None` for a TOML file without `[tags]`.
pub fn read_custom_path(path: &std::path::Path) -> Result<Option<Source>> {
    let (bytes, origin) = crate::load::read_input(path)?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if !is_toml {
        return read_custom(&bytes, &origin).map(Some);
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| invalid(&origin, "not UTF-8 text", "write tagnet.toml as UTF-8"))?;
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        invalid(
            &origin,
            e.to_string().trim_end().to_string(),
            "write [tags] with NAME = [\"PREFIX\", …] lines",
        )
    })?;
    let Some(tags) = doc.get("tags") else {
        return Ok(None);
    };
    // `Corp.Lab = [...]` unquoted is TOML's dotted key, a table `Corp` holding `Lab`: the tag
    // `Corp.Lab` meant. A table that is not a tag's (no `prefixes`) is such a namespace.
    fn flatten(prefix: &str, t: &toml::Table, out: &mut toml::Table) {
        for (k, v) in t {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) if !inner.contains_key("prefixes") => {
                    flatten(&name, inner, out)
                }
                v => {
                    out.insert(name, v.clone());
                }
            }
        }
    }
    let tags = match tags {
        toml::Value::Table(t) => {
            let mut flat = toml::Table::new();
            flatten("", t, &mut flat);
            toml::Value::Table(flat)
        }
        other => other.clone(),
    };
    let json = serde_json::to_vec(&tags).map_err(|e| {
        invalid(
            &origin,
            format!("[tags]: {e}"),
            "write [tags] with NAME = [\"PREFIX\", …] lines",
        )
    })?;
    read_custom(&json, &format!("{origin} [tags]")).map(Some)
}

/// Custom tags: an organisation's own named ranges, as JSON — `{"NAME": ["PREFIX", …]}`, or
/// `{"NAME": {"prefixes": […], "region": "…", "description": "…"}}`, or an array of
/// `{"name", "prefixes", "region"?, "description"?}` — or CSV `name,prefix[,region[,description]]`
/// (a header allowed; a name on several lines gathers its prefixes). Prefixes must be written
/// without host bits (an address alone is its /32 or /128).
pub fn read_custom(bytes: &[u8], origin: &str) -> Result<Source> {
    let hint = "give {\"NAME\": [\"PREFIX\", …]} as JSON, or name,prefix[,region[,description]] lines as CSV";
    let mut g = Gather::default();
    let mut descriptions: BTreeMap<String, String> = BTreeMap::new();
    let prefix = |t: &str, at: &str| {
        text::address_or_prefix(t.trim(), HostBits::Refuse)
            .map_err(|e| invalid(origin, format!("{at}: `{}`: {e}", text::quoted(t)), hint))
    };
    let check_name = |name: &str, at: &str| -> Result<String> {
        let n = name.trim();
        if n.is_empty() || n.contains(char::is_whitespace) || n.contains(',') {
            return Err(invalid(
                origin,
                format!(
                    "{at}: tag name `{}` is empty or holds a space or comma",
                    text::quoted(name)
                ),
                "name each tag with letters, digits, `.`, `-` or `_` (e.g. OnPrem.London)",
            ));
        }
        Ok(n.to_string())
    };
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| invalid(origin, format!("invalid JSON: {e}"), hint))?;
        let entries: Vec<(String, Value)> = match doc {
            // Read again keeping every member: a name given twice would otherwise keep only
            // its last prefixes, silently.
            Value::Object(_) => {
                let Entries(all) = serde_json::from_slice(bytes)
                    .map_err(|e| invalid(origin, format!("invalid JSON: {e}"), hint))?;
                let mut seen = std::collections::BTreeSet::new();
                for (k, _) in &all {
                    if !seen.insert(k.as_str()) {
                        return Err(invalid(
                            origin,
                            format!("`{}` is given twice", text::quoted(k)),
                            "give each tag once, with all its prefixes in one list",
                        ));
                    }
                }
                all
            }
            Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let name = v
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(origin, format!("[{i}]: no `name`"), hint))?;
                    Ok((name.to_string(), v))
                })
                .collect::<Result<_>>()?,
            _ => return Err(invalid(origin, "neither an object nor an array", hint)),
        };
        for (name, v) in entries {
            let at = format!("`{name}`");
            let name = check_name(&name, &at)?;
            let (list, region, description) = match &v {
                Value::Array(_) => (&v, "", ""),
                Value::Object(o) => {
                    // A key tagnet does not read (`regon`, `cidrs`) is refused, not dropped.
                    if let Some(k) = o.keys().find(|k| {
                        !["name", "prefixes", "region", "description"].contains(&k.as_str())
                    }) {
                        return Err(invalid(
                            origin,
                            format!("{at}: unknown key `{}`", text::quoted(k)),
                            "a tag's object has prefixes, and optionally region and description",
                        ));
                    }
                    (
                        v.get("prefixes").unwrap_or(&Value::Null),
                        str_of(&v, "region"),
                        str_of(&v, "description"),
                    )
                }
                _ => {
                    return Err(invalid(
                        origin,
                        format!("{at}: neither a list of prefixes nor an object with `prefixes`"),
                        hint,
                    ));
                }
            };
            let items = list
                .as_array()
                .ok_or_else(|| invalid(origin, format!("{at}: `prefixes` is not a list"), hint))?;
            if items.is_empty() {
                return Err(invalid(origin, format!("{at}: no prefixes"), hint));
            }
            for (i, p) in items.iter().enumerate() {
                let t = p.as_str().ok_or_else(|| {
                    invalid(
                        origin,
                        format!("{at} prefixes[{i}]: `{p}` is not a string"),
                        hint,
                    )
                })?;
                let net = prefix(t, &format!("{at} prefixes[{i}]"))?;
                g.add(name.clone(), "", &region.to_ascii_lowercase(), net);
            }
            if !description.is_empty() {
                descriptions.insert(name, description.to_string());
            }
        }
    } else {
        let text =
            std::str::from_utf8(bytes).map_err(|_| invalid(origin, "not UTF-8 text", hint))?;
        // Records: a quoted field may hold line breaks (RFC 4180, as spreadsheets write a
        // description of two lines), so a record runs on while its quotes are open.
        let mut records: Vec<(usize, String)> = Vec::new();
        let mut open: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let (start, mut rec) = match open.take() {
                Some((start, mut r)) => {
                    r.push('\n');
                    r.push_str(line);
                    (start, r)
                }
                None => (i, line.to_string()),
            };
            if rec.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
                open = Some((start, std::mem::take(&mut rec)));
                continue;
            }
            records.push((start, rec));
        }
        if let Some((start, rec)) = open {
            records.push((start, rec));
        }
        let mut first_row = true;
        for (i, line) in &records {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let at = format!("line {}", i + 1);
            let owned = csv_fields(t).map_err(|e| invalid(origin, format!("{at}: {e}"), hint))?;
            let f: Vec<&str> = owned.iter().map(|s| s.trim()).collect();
            // A row of empty cells (`,,,`, a spreadsheet's blank row).
            if f.iter().all(|c| c.is_empty()) {
                continue;
            }
            // A header (`name,prefix,…`, `Tag Name,CIDR`, as spreadsheets and PowerShell's
            // Export-Csv write it): the first row, when its second cell is no address.
            let was_first = std::mem::replace(&mut first_row, false);
            if was_first
                && f.get(1).is_some_and(|c| {
                    !c.is_empty()
                        && !c.contains('/')
                        && crate::text::address(c).is_err()
                        && !c.bytes().next().is_some_and(|b| b.is_ascii_digit())
                })
            {
                continue;
            }
            if f.len() < 2 {
                return Err(invalid(
                    origin,
                    format!("{at}: expected name,prefix[,region[,description]]"),
                    hint,
                ));
            }
            let name = check_name(f[0], &at)?;
            let net = prefix(f[1], &at)?;
            let region = f.get(2).copied().unwrap_or("").to_ascii_lowercase();
            if let Some(prev) = g.tags.get(&name)
                && prev.1 != region
            {
                return Err(invalid(
                    origin,
                    format!(
                        "{at}: `{name}` is given regions `{}` and `{region}`",
                        prev.1
                    ),
                    "give a tag one region; name the other ranges apart",
                ));
            }
            g.add(name.clone(), "", &region, net);
            if let Some(d) = f.get(3).filter(|d| !d.is_empty()) {
                descriptions.insert(name, d.to_string());
            }
        }
    }
    if g.tags.is_empty() {
        return Err(invalid(origin, "no tags", hint));
    }
    // Names compared without case, as tags are resolved.
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for n in g.tags.keys() {
        if let Some(other) = seen.insert(n.to_ascii_lowercase(), n) {
            return Err(invalid(
                origin,
                format!("`{n}` and `{other}` are one name (tag names ignore case)"),
                "give each tag one spelling",
            ));
        }
    }
    let mut s = g.finish(Provider::Custom, digest(bytes), None, origin);
    for t in &mut s.tags {
        if let Some(d) = descriptions.remove(&t.name) {
            t.description = d;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_told_apart_and_read() {
        let aws_doc = br#"{"syncToken":"1721","createDate":"2025-07-24-01-00-00","prefixes":[
            {"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON","network_border_group":"ap-northeast-2"},
            {"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"S3","network_border_group":"ap-northeast-2"},
            {"ip_prefix":"52.94.76.0/22","region":"GLOBAL","service":"AMAZON","network_border_group":"GLOBAL"}],
            "ipv6_prefixes":[{"ipv6_prefix":"2600:1f00::/24","region":"GLOBAL","service":"AMAZON","network_border_group":"GLOBAL"}]}"#;
        let s = read(aws_doc, "a", None).unwrap();
        assert_eq!(s.info.provider, "AWS");
        assert_eq!(s.info.version, "1721");
        let names: Vec<&str> = s.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "AWS",
                "AWS.AMAZON",
                "AWS.AMAZON.ap-northeast-2",
                "AWS.S3",
                "AWS.S3.ap-northeast-2"
            ]
        );
        assert_eq!(s.tags[0].prefixes.len(), 3);
        let t = &s.tags[4];
        assert_eq!(
            (t.service.as_str(), t.region.as_str()),
            ("S3", "ap-northeast-2")
        );
        // Named otherwise: refused, naming the shape.
        let e = read(aws_doc, "a", Some(Provider::Google))
            .unwrap_err()
            .to_string();
        assert!(e.contains("shaped as AWS's file"), "{e}");
        // A plain list needs a name.
        assert!(read(b"173.245.48.0/20\n", "c", None).is_err());
        let c = read(
            b"173.245.48.0/20\n2400:cb00::/32\n",
            "c",
            Some(Provider::Cloudflare),
        )
        .unwrap();
        assert_eq!(c.tags[0].name, "Cloudflare");
        assert_eq!(c.tags[0].prefixes.len(), 2);
        let e = read(b"173.245.48.0/20\nnot\n", "c", Some(Provider::Cloudflare))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn custom_tags_read_from_json_and_csv() {
        let j = br#"{"OnPrem": ["10.50.0.0/16", "192.168.7.1"], "Proxy.London": {"prefixes": ["203.0.113.8/29"], "region": "uksouth", "description": "egress proxy"}}"#;
        let s = read_custom(j, "j").unwrap();
        assert_eq!(s.tags.len(), 2);
        assert_eq!(s.tags[0].name, "OnPrem");
        assert_eq!(s.tags[0].prefixes[1].to_string(), "192.168.7.1/32");
        assert_eq!(s.tags[1].region, "uksouth");
        assert_eq!(s.tags[1].description, "egress proxy");
        let c = b"name,prefix,region,description\nOnPrem,10.50.0.0/16,,\nOnPrem,10.60.0.0/16,,\nProxy,203.0.113.8/29,uksouth,egress\n";
        let s2 = read_custom(c, "c").unwrap();
        assert_eq!(s2.tags[0].prefixes.len(), 2);
        let e = read_custom(b"OnPrem,10.50.0.1/16\n", "c")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && e.contains("10.50.0.0/16"), "{e}");
        let e = read_custom(br#"{"on prem": ["10.0.0.0/8"]}"#, "j")
            .unwrap_err()
            .to_string();
        assert!(e.contains("space"), "{e}");
        let e = read_custom(br#"{"A": ["10.0.0.0/8"], "a": ["10.0.0.0/8"]}"#, "j")
            .unwrap_err()
            .to_string();
        assert!(e.contains("one name"), "{e}");
        // A name given twice is refused (serde_json would keep the last silently).
        let e = read_custom(br#"{"A": ["10.0.0.0/8"], "A": ["11.0.0.0/8"]}"#, "j")
            .unwrap_err()
            .to_string();
        assert!(e.contains("given twice"), "{e}");
        let e = read_custom(
            br#"{"A": {"prefixes": ["10.0.0.0/8"], "regon": "westeurope"}}"#,
            "j",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown key `regon`"), "{e}");
        // CSV as spreadsheets and Export-Csv write it: every field quoted, a `tag,cidr`
        // header, a description with a comma.
        let q = b"\"tag\",\"cidr\",\"region\",\"description\"\r\n\"Corp.Lab\",\"172.16.0.0/12\",\"\",\"lab, floor 2\"\r\n";
        let s3 = read_custom(q, "q").unwrap();
        assert_eq!(s3.tags.len(), 1);
        assert_eq!(s3.tags[0].name, "Corp.Lab");
        assert_eq!(s3.tags[0].description, "lab, floor 2");
        assert!(read_custom(b"\"Corp.X,10.0.0.0/8\n", "q").is_err());
    }
}
