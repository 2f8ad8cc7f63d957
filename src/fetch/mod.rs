//! Staying current: download Microsoft's weekly service-tag file (or the Discovery API's
//! answer), verify it, and keep it in the [`cache`].
//!
//! The download file has no stable address: it is linked from a download page per cloud
//! (ids 56519, 57063, 57062, 57064) whose layout has changed before, so the link to
//! `ServiceTags_*.json` is looked for anywhere in the page (plain, JSON-escaped or
//! HTML-escaped), then on the confirmation page. Every download is verified before it is
//! stored: it must parse and validate, hold the cloud that was asked for, and not be older
//! than the newest cached snapshot. HTTP: connect and whole-request timeouts, retries with backoff on
//! 5xx answers, resets and cut-short bodies; 4xx answers are not retried. Nothing here prints:
//! progress goes to a callback, outcomes are returned.

pub mod cache;
mod http;
pub mod providers;

pub use http::*;

use crate::error::{Error, Result};
#[cfg(feature = "fetch")]
use crate::snapshot::Snapshot;
#[cfg(feature = "fetch")]
use cache::Cache;
use cache::Entry;

/// A cloud with a download page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Azure public cloud (download id 56519).
    Public,
    /// Azure US Government (57063).
    UsGov,
    /// Azure China, operated by 21Vianet (57062).
    China,
    /// Azure Germany (57064; frozen since 2022).
    Germany,
}

impl Cloud {
    /// Parses `public`, `usgov`, `china`, `germany` (and the file's own spellings).
    pub fn parse(text: &str) -> Result<Cloud> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" | "azurecloud" => Ok(Cloud::Public),
            "usgov" | "azuregovernment" | "azureusgovernment" | "gov" => Ok(Cloud::UsGov),
            "china" | "azurechinacloud" | "azurechina" => Ok(Cloud::China),
            "germany" | "azuregermany" | "azuregermancloud" => Ok(Cloud::Germany),
            _ => Err(Error::Usage(format!(
                "unknown cloud `{text}`; use public, usgov, china or germany"
            ))),
        }
    }

    /// The Microsoft download-center id.
    pub fn download_id(self) -> u32 {
        match self {
            Cloud::Public => 56519,
            Cloud::UsGov => 57063,
            Cloud::China => 57062,
            Cloud::Germany => 57064,
        }
    }

    /// The name used for its cache folder and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Public => "Public",
            Cloud::UsGov => "AzureGovernment",
            Cloud::China => "AzureChinaCloud",
            Cloud::Germany => "AzureGermany",
        }
    }

    /// Whether a file's `cloud` field is this cloud.
    pub fn matches(self, file_cloud: &str) -> bool {
        let c = file_cloud.to_ascii_lowercase();
        match self {
            Cloud::Public => c == "public" || c == "azurecloud",
            Cloud::UsGov => c.contains("gov"),
            Cloud::China => c.contains("china"),
            Cloud::Germany => c.contains("german"),
        }
    }

    /// The download page: `TAGNET_DOWNLOAD_PAGE` when set, else Microsoft's.
    pub fn page(self) -> String {
        std::env::var("TAGNET_DOWNLOAD_PAGE")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "https://www.microsoft.com/en-us/download/details.aspx?id={}",
                    self.download_id()
                )
            })
    }
}

/// A URL with its query string dropped (it may carry a signature).
/// A URL fit to print or store: no user name or password, no query string (either may carry
/// a secret, such as a SAS signature).
///
/// ```
/// assert_eq!(tagnet::fetch::redact("https://u:p@h.example/f.json?sig=x"), "https://h.example/f.json?…");
/// ```
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, _)) => (b, "?…"),
        None => (url, ""),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => base.to_string(),
    };
    format!("{base}{query}")
}

/// Every distinct address of a `ServiceTags_*.json` file linked anywhere in `page` (plain,
/// JSON-escaped `\/` or HTML-escaped `&amp;`), in order of appearance.
///
/// ```
/// let page = r#"<a href="https://download.microsoft.com/download/7/1/D/ServiceTags_Public_20251110.json">x</a>"#;
/// assert_eq!(tagnet::fetch::find_links(page), ["https://download.microsoft.com/download/7/1/D/ServiceTags_Public_20251110.json"]);
/// ```
pub fn find_links(page: &str) -> Vec<String> {
    let text = page
        .replace("\\/", "/")
        .replace("\\u002F", "/")
        .replace("\\u002f", "/")
        .replace("\\u0026", "&")
        .replace("&#x2F;", "/")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x3A;", ":")
        .replace("&#x3a;", ":")
        .replace("&#58;", ":")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&amp;", "&");
    let lower = text.to_ascii_lowercase();
    let stop = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')' | ',');
    let mut out: Vec<String> = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("servicetags_") {
        let at = from + i;
        from = at + 1;
        let Some(end_rel) = lower[at..].find(".json") else {
            break;
        };
        let mut end = at + end_rel + ".json".len();
        if text[at..end].contains(stop) {
            continue;
        }
        // A query string after the name belongs to the link.
        if text[end..].starts_with('?') {
            end += text[end..].find(stop).unwrap_or(text.len() - end);
        }
        let start = text[..at]
            .rfind(|c: char| stop(c) || c == '=')
            .map_or(0, |p| p + 1);
        let link = &text[start..end];
        // Absolute, or relative to the page (resolved by the caller).
        if !link.is_empty() && !out.iter().any(|l| l == link) {
            out.push(link.to_string());
        }
    }
    out
}

/// The links in the order to try them: the latest date in the file name first.
#[cfg(feature = "fetch")]
fn rank_links(links: &[String]) -> Vec<String> {
    let mut ranked = links.to_vec();
    ranked.sort_by_key(|l| std::cmp::Reverse(date_in_url(l).unwrap_or_default()));
    ranked
}

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// Which cloud.
    pub cloud: Cloud,
    /// A file's address, instead of looking it up on the download page.
    pub url: Option<String>,
    /// Store even when older than the newest cached snapshot.
    pub force: bool,
    /// Snapshots of the cloud to keep.
    pub keep: usize,
}

/// What a fetch did.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A new snapshot was stored.
    Stored(Entry),
    /// The cache already holds this changeNumber (or this file); nothing was stored.
    UpToDate(Entry),
}

#[cfg(feature = "fetch")]
/// Finds the current file's address on the cloud's download page (then its confirmation
/// page): every candidate, newest first; or says what was found instead.
pub fn discover(http: &Http, cloud: Cloud) -> Result<Vec<String>> {
    let page = cloud.page();
    let mut seen = Vec::new();
    let mut loaded = false;
    let mut pages = vec![page.clone()];
    if page.contains("details.aspx") {
        pages.push(page.replace("details.aspx", "confirmation.aspx"));
    }
    for p in &pages {
        let body = match http.get(p, &[], &mut |_, _| {}) {
            Ok(x) => x,
            Err(e) => {
                seen.push(e.to_string());
                continue;
            }
        };
        loaded = true;
        let text = String::from_utf8_lossy(&body.bytes);
        let links: Vec<String> = find_links(&text)
            .into_iter()
            .filter_map(|l| {
                reqwest::Url::parse(&body.url)
                    .ok()?
                    .join(&l)
                    .ok()
                    .map(|u| u.to_string())
            })
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
            .collect();
        if !links.is_empty() {
            // A listing (a mirror's, or a page with every cloud's file) gives the asked
            // cloud's files when any is named so.
            let mine = format!("servicetags_{}_", cloud.name().to_ascii_lowercase());
            let of_cloud: Vec<String> = links
                .iter()
                .filter(|l| l.to_ascii_lowercase().contains(&mine))
                .cloned()
                .collect();
            return Ok(rank_links(if of_cloud.is_empty() {
                &links
            } else {
                &of_cloud
            }));
        }
        let json_links: Vec<String> = text
            .split(['"', '\''])
            .filter(|s| s.ends_with(".json") && s.len() < 300)
            .map(String::from)
            .take(5)
            .collect();
        let title = text
            .split_once("<title>")
            .and_then(|(_, r)| r.split_once("</title>"))
            .map(|(t, _)| t.trim().chars().take(100).collect::<String>())
            .unwrap_or_default();
        seen.push(format!(
            "{}: {} bytes, title `{title}`, no link to ServiceTags_*.json{}",
            redact(p),
            body.bytes.len(),
            if json_links.is_empty() {
                String::new()
            } else {
                format!(" (other .json links: {})", json_links.join(", "))
            }
        ));
    }
    let message = if loaded {
        format!(
            "could not find the service-tag file's link; the page layout may have changed. Found: {}. Give the file's address with --url",
            seen.join("; ")
        )
    } else {
        format!(
            "the download page could not be loaded ({}). Check the network (or TAGNET_DOWNLOAD_PAGE), give the file's address with --url, or import a copy you have with --file PATH (works offline)",
            seen.join("; ")
        )
    };
    Err(Error::Fetch {
        url: redact(&page),
        message,
    })
}

#[cfg(feature = "fetch")]
/// Downloads, verifies and stores the cloud's current snapshot.
pub fn fetch(
    http: &Http,
    cache: &Cache,
    req: &FetchRequest,
    today: &str,
    progress: Progress,
) -> Result<(Fetched, Vec<String>)> {
    let candidates = match &req.url {
        Some(u) => vec![u.clone()],
        None => discover(http, req.cloud)?,
    };
    let (newest, broken) = newest_valid(cache, req.cloud)?;
    let mut notes = broken_notes(&broken);
    let fetched = fetch_from(http, cache, req, today, progress, &candidates, newest)?;
    remove_broken(&broken, &fetched, &mut notes);
    Ok((fetched, notes))
}

/// A cached file that failed validation, and why.
#[cfg(feature = "fetch")]
type Broken = (Entry, String);

/// The newest cached snapshot of `cloud` that still loads as the snapshot its name says, and
/// the newer ones that do not (truncated, edited, another cloud's file): (entry, broken with
/// why).
#[cfg(feature = "fetch")]
fn newest_valid(cache: &Cache, cloud: Cloud) -> Result<(Option<Entry>, Vec<Broken>)> {
    let mut entries: Vec<Entry> = cache
        .list()?
        .into_iter()
        .filter(|e| e.cloud.eq_ignore_ascii_case(cloud.name()))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.change_number));
    let mut broken = Vec::new();
    for e in entries {
        match cache::check(&e) {
            Ok(()) => return Ok((Some(e), broken)),
            Err(why) => broken.push((e, why)),
        }
    }
    Ok((None, broken))
}

#[cfg(feature = "fetch")]
fn broken_notes(broken: &[Broken]) -> Vec<String> {
    broken
        .iter()
        .map(|(e, why)| {
            format!(
                "the cached {} changeNumber {} ({}) failed validation ({why}); it was not trusted and is fetched again",
                e.cloud,
                e.change_number,
                e.path.display()
            )
        })
        .collect()
}

/// Removes cached files that failed validation once a fetch has given a good one in their
/// place (a store under the same name has already overwritten it).
#[cfg(feature = "fetch")]
fn remove_broken(broken: &[Broken], fetched: &Fetched, notes: &mut Vec<String>) {
    let kept = match fetched {
        Fetched::Stored(e) | Fetched::UpToDate(e) => &e.path,
    };
    for (e, _) in broken {
        if &e.path != kept && cache::remove(&e.path).is_ok() {
            notes.push(format!("removed the broken {}", e.path.display()));
        }
    }
}

/// A date no later than what is known, for a file whose name carries no date: a Public week
/// no newer than the built-in one is at least as old as the built-in one's date (else a copy
/// would look published the day it was copied and hide its age).
#[cfg(feature = "fetch")]
fn bounded_date(snap: &Snapshot, date: String) -> String {
    use crate::load::builtin;
    if snap.cloud().eq_ignore_ascii_case(builtin::CLOUD)
        && snap.change_number() <= builtin::CHANGE_NUMBER
        && builtin::DATE < date.as_str()
    {
        builtin::DATE.to_string()
    } else {
        date
    }
}

/// A local file imported into the cache (`fetch --file`) with every check a download gets:
/// readable (gzip too), not a web page, a valid snapshot of the asked cloud, not older than
/// the newest cached one (unless forced); the same changeNumber is up to date.
#[cfg(feature = "fetch")]
pub fn import(
    cache: &Cache,
    req: &FetchRequest,
    path: &std::path::Path,
    today: &str,
) -> Result<(Fetched, Vec<String>)> {
    let (bytes, origin) = crate::load::read_input(path)?;
    not_a_page(&bytes, &origin)?;
    let snap = crate::load::from_slice(&bytes, &origin)?;
    let (newest, broken) = newest_valid(cache, req.cloud)?;
    let mut notes = broken_notes(&broken);
    let source = std::fs::canonicalize(path)
        .map(|p| format!("file:{}", p.display()))
        .unwrap_or_else(|_| format!("file:{origin}"));
    verify(&snap, req.cloud, newest.as_ref(), req.force, &origin)?;
    let fetched = match &newest {
        Some(n) if n.change_number == snap.change_number() && !req.force => {
            Fetched::UpToDate(n.clone())
        }
        _ => {
            let date =
                date_in_url(&origin).unwrap_or_else(|| bounded_date(&snap, today.to_string()));
            Fetched::Stored(cache.store(
                &bytes,
                req.cloud.name(),
                snap.change_number(),
                &date,
                Some(&source),
                req.keep,
            )?)
        }
    };
    remove_broken(&broken, &fetched, &mut notes);
    Ok((fetched, notes))
}

#[cfg(feature = "fetch")]
fn fetch_from(
    http: &Http,
    cache: &Cache,
    req: &FetchRequest,
    today: &str,
    progress: Progress,
    candidates: &[String],
    newest: Option<Entry>,
) -> Result<Fetched> {
    // Try the newest link first; a link that is gone (404) gives way to the next one.
    let mut got = None;
    let mut gone = Vec::new();
    for url in candidates {
        let same = newest
            .as_ref()
            .filter(|n| !req.force && n.source.as_deref() == Some(redact(url).as_str()));
        // Microsoft's page links each week's file under a new dated name, so the name it
        // links already fetched is that week's file. Any other address (a mirror's fixed
        // name, a SAS address) is asked again: conditionally when the server gave
        // validators, else downloaded and compared by changeNumber.
        if let Some(n) = same
            && req.url.is_none()
            && date_in_url(url).is_some()
        {
            return Ok(Fetched::UpToDate(n.clone()));
        }
        let headers = same
            .map(|n| n.validators.conditional_headers())
            .unwrap_or_default();
        match http.get(url, &headers, progress) {
            Ok(b) if b.not_modified => {
                return match same {
                    Some(n) => Ok(Fetched::UpToDate(n.clone())),
                    None => Err(Error::Fetch {
                        url: redact(url),
                        message: "HTTP 304 Not Modified to a request that asked for the file unconditionally".into(),
                    }),
                };
            }
            Ok(b) => {
                got = Some((url.clone(), b));
                break;
            }
            Err(Error::Fetch { message, .. })
                if message.starts_with("HTTP 404") && candidates.len() > 1 =>
            {
                gone.push(redact(url));
            }
            Err(e) => return Err(e),
        }
    }
    let Some((url, body)) = got else {
        return Err(Error::Fetch {
            url: redact(&req.cloud.page()),
            message: format!("every linked file is gone (HTTP 404): {}", gone.join(", ")),
        });
    };
    let bytes = body.bytes;
    // A mirror may keep the file gzip-compressed (`.json.gz`, or `Content-Encoding: gzip`
    // metadata on a blob): stored as the JSON it holds.
    let bytes = crate::load::decode_text(bytes, &redact(&url))?;
    not_a_page(&bytes, &url)?;
    let snap = crate::load::from_slice(&bytes, &redact(&url))?;
    let validators = body.validators;
    verify(&snap, req.cloud, newest.as_ref(), req.force, &url)?;
    if let Some(n) = &newest
        && n.change_number == snap.change_number()
        && !req.force
    {
        // The same week: keep what the server said about it (and where) for the next
        // conditional request.
        let here = redact(&url);
        if !validators.is_empty()
            && (n.source.as_deref() != Some(here.as_str()) || n.validators != validators)
        {
            let moved = Entry {
                source: Some(here),
                ..n.clone()
            };
            cache.set_validators(&moved, &validators)?;
        }
        return Ok(Fetched::UpToDate(n.clone()));
    }
    // The date: from the file's name as Microsoft gives it, else the server's Last-Modified,
    // else today.
    let date = date_in_url(&url).unwrap_or_else(|| {
        bounded_date(
            &snap,
            body.last_modified.unwrap_or_else(|| today.to_string()),
        )
    });
    let entry = cache.store(
        &bytes,
        req.cloud.name(),
        snap.change_number(),
        &date,
        Some(&redact(&url)),
        req.keep,
    )?;
    if !validators.is_empty() {
        cache.set_validators(&entry, &validators)?;
    }
    Ok(Fetched::Stored(entry))
}

/// Refuses an HTML answer (a sign-in page, a proxy's block page, a download page given as
/// the file's address), naming its title, before it is read as JSON.
#[cfg(feature = "fetch")]
fn not_a_page(bytes: &[u8], url: &str) -> Result<()> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let start = head.trim_start();
    if !(start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || start.starts_with('<'))
    {
        return Ok(());
    }
    let full = String::from_utf8_lossy(&bytes[..bytes.len().min(65536)]);
    let lower = full.to_ascii_lowercase();
    let title = lower
        .find("<title")
        .and_then(|i| Some(i + lower[i..].find('>')? + 1))
        .and_then(|i| Some(full[i..i + lower[i..].find("</title")?].trim().to_string()))
        .filter(|t| !t.is_empty());
    Err(Error::Fetch {
        url: redact(url),
        message: format!(
            "{}{}, not the service-tags JSON file; {}",
            if url.contains("://") {
                "the server answered with an HTML page"
            } else {
                "the file is an HTML page"
            },
            title.map_or(String::new(), |t| format!(
                " (“{}”)",
                crate::text::quoted(&t)
            )),
            if url.contains("://") {
                "the address is a web page (a download page, a sign-in or proxy page): give the file's own address"
            } else {
                "it was saved from a web page (a download page, a sign-in or proxy page): save the JSON file itself"
            }
        ),
    })
}

#[cfg(feature = "fetch")]
fn verify(
    snap: &Snapshot,
    cloud: Cloud,
    newest: Option<&Entry>,
    force: bool,
    url: &str,
) -> Result<()> {
    if !cloud.matches(snap.cloud()) {
        return Err(Error::Fetch {
            url: redact(url),
            message: format!(
                "the file is for cloud `{}`, not {} as asked; nothing was stored (choose the cloud with --cloud)",
                snap.cloud(),
                cloud.name()
            ),
        });
    }
    if let Some(n) = newest
        && snap.change_number() < n.change_number
        && !force
    {
        return Err(Error::Fetch {
            url: redact(url),
            message: format!(
                "the file has changeNumber {}, older than the cached {} ({}); nothing was stored (--force stores it anyway)",
                snap.change_number(),
                n.change_number,
                n.path.display()
            ),
        });
    }
    Ok(())
}

/// `YYYY-MM-DD` from a file name such as `ServiceTags_Public_20251110.json`.
pub fn date_in_url(url: &str) -> Option<String> {
    let name = url.split('?').next()?.rsplit('/').next()?;
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let digits = name.strip_suffix(".json")?.rsplit('_').next()?;
    (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..]))
}

/// Where the Discovery API is asked.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// Subscription id.
    pub subscription: String,
    /// Location used as the API's version reference (not a filter).
    pub location: String,
    /// `https://management.azure.com` unless testing.
    pub base: String,
    /// Snapshots of the cloud to keep.
    pub keep: usize,
    /// Store even when older than the newest cached snapshot.
    pub force: bool,
    /// The cloud asked for: an answer of another cloud is refused.
    pub cloud: Cloud,
}

/// The API version asked for.
pub const API_VERSION: &str = "2024-05-01";

#[cfg(feature = "fetch")]
/// Asks the Service Tag Discovery API (following `nextLink`), verifies the merged answer and
/// stores it. `token` is sent as a bearer token and appears in no message.
pub fn fetch_api(
    http: &Http,
    cache: &Cache,
    req: &ApiRequest,
    token: &str,
    today: &str,
) -> Result<Fetched> {
    let mut url = format!(
        "{}/subscriptions/{}/providers/Microsoft.Network/locations/{}/serviceTags?api-version={API_VERSION}",
        req.base.trim_end_matches('/'),
        req.subscription,
        req.location
    );
    let auth = format!("Bearer {token}");
    let origin = |u: &str| -> Option<String> {
        let p = reqwest::Url::parse(u).ok()?;
        Some(format!(
            "{}://{}:{}",
            p.scheme(),
            p.host_str()?,
            p.port_or_known_default()?
        ))
    };
    let base_origin = origin(&url);
    let mut visited = std::collections::BTreeSet::new();
    let mut merged: Option<serde_json::Value> = None;
    let mut values: Vec<serde_json::Value> = Vec::new();
    for page in 0..1000 {
        // The token goes only where --api-base points.
        if origin(&url) != base_origin {
            return Err(Error::Fetch {
                url: redact(&url),
                message: format!(
                    "page {}'s nextLink points to another host than --api-base; the token is not sent there",
                    page
                ),
            });
        }
        if !visited.insert(url.clone()) {
            return Err(Error::Fetch {
                url: redact(&url),
                message: format!("nextLink loops back to a page already read (page {page})"),
            });
        }
        let body = http
            .get(&url, &[("Authorization", auth.as_str())], &mut |_, _| {})?
            .bytes;
        let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Error::Fetch {
            url: redact(&url),
            message: format!("page {} is not JSON: {e}", page + 1),
        })?;
        if let Some(v) = doc.get("values").and_then(|v| v.as_array()) {
            values.extend(v.iter().cloned());
        }
        let next = doc
            .get("nextLink")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(String::from);
        if merged.is_none() {
            merged = Some(doc);
        }
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    let mut doc = merged.ok_or_else(|| Error::Fetch {
        url: redact(&url),
        message: "no answer".into(),
    })?;
    doc["values"] = serde_json::Value::Array(values);
    if let Some(o) = doc.as_object_mut() {
        o.remove("nextLink");
    }
    let bytes = serde_json::to_vec(&doc).expect("values serialise");
    let snap = crate::load::from_slice(&bytes, "Discovery API")?;
    let cloud = req.cloud;
    let newest = cache.newest(cloud.name())?;
    verify(&snap, cloud, newest.as_ref(), req.force, &url)?;
    if let Some(n) = &newest
        && n.change_number == snap.change_number()
        && !req.force
    {
        return Ok(Fetched::UpToDate(n.clone()));
    }
    let entry = cache.store(
        &bytes,
        cloud.name(),
        snap.change_number(),
        today,
        Some(&redact(&format!(
            "{}/subscriptions/…/serviceTags",
            req.base
        ))),
        req.keep,
    )?;
    Ok(Fetched::Stored(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_every_spelling() {
        let plain = r#"<a href="https://download.microsoft.com/download/7/1/D/71D86715/ServiceTags_Public_20251110.json" class="x">"#;
        let json = r#"{"url":"https:\/\/download.microsoft.com\/download\/ServiceTags_Public_20251117.json"}"#;
        assert_eq!(find_links(plain).len(), 1);
        assert_eq!(
            find_links(json),
            ["https://download.microsoft.com/download/ServiceTags_Public_20251117.json"]
        );
        let both = format!("{plain}{json}");
        assert!(rank_links(&find_links(&both))[0].ends_with("20251117.json"));
        assert_eq!(
            find_links("<a href=\"/x/ServiceTags_Public_20251110.json?a=1&amp;b=2\">"),
            ["/x/ServiceTags_Public_20251110.json?a=1&b=2"]
        );
        assert_eq!(
            find_links("href=\"https:&#x2F;&#x2F;h&#x2F;servicetags_public_20251110.json\""),
            ["https://h/servicetags_public_20251110.json"]
        );
        assert_eq!(
            http::http_date("Sat, 15 Nov 2025 10:00:00 GMT").as_deref(),
            Some("2025-11-15")
        );
        assert!(find_links("ServiceTags_ and nothing.json").is_empty());
        assert_eq!(
            date_in_url("https://x/ServiceTags_Public_20251110.json").as_deref(),
            Some("2025-11-10")
        );
    }

    #[test]
    fn clouds() {
        assert_eq!(Cloud::parse("USGov").unwrap().download_id(), 57063);
        assert!(Cloud::UsGov.matches("AzureGovernment"));
        assert!(!Cloud::Public.matches("AzureGovernment"));
        assert!(Cloud::parse("mars").is_err());
    }
}
