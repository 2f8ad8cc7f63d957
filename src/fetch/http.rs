//! The HTTP client of `fetch`: timeouts, retries of transient failures, conditional requests
//! (`ETag`, `Last-Modified`), and failures named with the address they concern.

#[cfg(feature = "fetch")]
use super::redact;
#[cfg(feature = "fetch")]
use crate::error::{Error, Result};
#[cfg(feature = "fetch")]
use std::io::Read;
use std::time::Duration;

/// How to download.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Timeout for a whole request, body included (a stalled server fails after it).
    pub timeout: Duration,
    /// Attempts after the first, on 5xx answers, resets and cut-short bodies.
    pub retries: u32,
    /// The first backoff; it doubles with each retry.
    pub backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

#[cfg(feature = "fetch")]
/// A blocking HTTP client with tagnet's timeouts and retries.
pub struct Http {
    client: reqwest::blocking::Client,
    opts: HttpOptions,
}

/// A downloaded body.
#[derive(Debug, Clone)]
pub struct Body {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The final address, after redirects.
    pub url: String,
    /// The `Last-Modified` date as `YYYY-MM-DD`, when the server sent one.
    pub last_modified: Option<String>,
    /// The validators the server sent (`ETag`, `Last-Modified` as written), for the next
    /// conditional request.
    pub validators: Validators,
    /// The server answered 304 Not Modified to a conditional request (no bytes).
    pub not_modified: bool,
}

/// What a server said identifies a version of a file: its `ETag` and `Last-Modified`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Validators {
    /// `ETag`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified`, as sent (an HTTP date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// The request headers that ask for the file only when it changed.
    pub fn conditional_headers(&self) -> Vec<(&'static str, &str)> {
        let mut h = Vec::new();
        if let Some(e) = &self.etag {
            h.push(("If-None-Match", e.as_str()));
        }
        if let Some(d) = &self.last_modified {
            h.push(("If-Modified-Since", d.as_str()));
        }
        h
    }

    /// Whether there is anything to ask with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

#[cfg(feature = "fetch")]
/// Progress of a download: (bytes so far, total when the server said).
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

#[cfg(feature = "fetch")]
impl Http {
    /// A client (rustls, no system TLS library).
    pub fn new(opts: HttpOptions) -> Result<Http> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .user_agent(concat!("tagnet/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(10))
            .referer(false)
            .build()
            .map_err(|e| Error::Usage(format!("cannot set up HTTP: {e}")))?;
        Ok(Http { client, opts })
    }

    /// GETs `url` with `headers`, retrying transient failures; the body and the final URL.
    pub fn get(&self, url: &str, headers: &[(&str, &str)], progress: Progress) -> Result<Body> {
        let mut last = String::new();
        for attempt in 0..=self.opts.retries {
            if attempt > 0 {
                std::thread::sleep(self.opts.backoff * 2u32.pow(attempt - 1));
            }
            match self.try_get(url, headers, progress) {
                Ok(x) => return Ok(x),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(why)) => last = why,
            }
        }
        Err(Error::Fetch {
            url: redact(url),
            message: format!("{last} (gave up after {} attempts)", self.opts.retries + 1),
        })
    }

    fn try_get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        progress: Progress,
    ) -> std::result::Result<Body, Failure> {
        let mut req = self.client.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let started = std::time::Instant::now();
        let mut resp = req.send().map_err(|e| classify(url, &e))?;
        let status = resp.status();
        let final_url = resp.url().to_string();
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let last_modified = validators.last_modified.as_deref().and_then(http_date);
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Body {
                bytes: Vec::new(),
                url: final_url,
                last_modified,
                validators,
                not_modified: true,
            });
        }
        if status.is_server_error() {
            return Err(Failure::Transient(format!("HTTP {status}")));
        }
        if !status.is_success() {
            let hint = match status.as_u16() {
                401 | 403 => {
                    "; the token was refused: get a fresh one (`az account get-access-token`)"
                }
                404 => "; the address is wrong or the file was replaced by a newer one",
                _ => "",
            };
            return Err(Failure::Final(Error::Fetch {
                url: redact(url),
                message: format!("HTTP {status}{hint}"),
            }));
        }
        let total = resp.content_length();
        let mut body = Vec::with_capacity(total.unwrap_or(1 << 20).min(64 << 20) as usize);
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match resp.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    body.extend_from_slice(&buf[..n]);
                    progress(body.len() as u64, total);
                    if started.elapsed() > self.opts.timeout {
                        return Err(Failure::Transient(format!(
                            "timed out after {} s with {} bytes received (the server sends too slowly)",
                            self.opts.timeout.as_secs(),
                            body.len()
                        )));
                    }
                }
                Err(e) => {
                    let timeout = e.kind() == std::io::ErrorKind::TimedOut
                        || e.get_ref()
                            .and_then(|i| i.downcast_ref::<reqwest::Error>())
                            .is_some_and(reqwest::Error::is_timeout)
                        || chain_text(&e).contains("timed out");
                    return Err(Failure::Transient(if timeout {
                        format!(
                            "timed out after {} s: the server stopped sending after {} bytes",
                            self.opts.timeout.as_secs(),
                            body.len()
                        )
                    } else {
                        format!(
                            "the download was cut short after {} bytes ({})",
                            body.len(),
                            chain_text(&e)
                        )
                    }));
                }
            }
        }
        if let Some(t) = total
            && (body.len() as u64) < t
        {
            return Err(Failure::Transient(format!(
                "the download was cut short: {} of {t} bytes",
                body.len()
            )));
        }
        Ok(Body {
            bytes: body,
            url: final_url,
            last_modified,
            validators,
            not_modified: false,
        })
    }
}

#[cfg(feature = "fetch")]
/// `YYYY-MM-DD` from an HTTP date (`Sat, 15 Nov 2025 10:00:00 GMT`).
pub(super) fn http_date(text: &str) -> Option<String> {
    let mut it = text.split_whitespace().skip(1);
    let day: u32 = it.next()?.parse().ok()?;
    let month = match it.next()?.to_ascii_lowercase().as_str() {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    let year: u32 = it.next()?.parse().ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

#[cfg(feature = "fetch")]
enum Failure {
    Transient(String),
    Final(Error),
}

#[cfg(feature = "fetch")]
/// An error and its causes, `: `-separated.
fn chain_text(e: &dyn std::error::Error) -> String {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&s.to_string());
        src = s.source();
    }
    chain
}

#[cfg(feature = "fetch")]
fn classify(url: &str, e: &reqwest::Error) -> Failure {
    let chain = chain_text(e).replace(url, &redact(url));
    if e.is_timeout() {
        Failure::Transient(format!("timed out ({chain})"))
    } else if e.is_connect() || e.is_request() || e.is_body() {
        Failure::Transient(chain)
    } else {
        Failure::Final(Error::Fetch {
            url: redact(url),
            message: chain,
        })
    }
}
