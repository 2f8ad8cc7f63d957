//! The connections: accepted up to a limit, read with deadlines, closed gracefully.
//!
//! `axum::serve` sets no deadline on reading a request's headers and takes every connection
//! the kernel hands it, so one client sending a byte a second holds a connection forever and
//! a thousand of them exhaust the open-file limit. Here each connection is served by hyper's
//! HTTP/1 with a header deadline ([`Options::read_timeout`]); at most
//! [`Options::max_connections`] are open at once (past it, new ones wait in the listen
//! backlog, and the wait is logged); and hyper's own answers to requests it cannot parse
//! (400, 414, 431, which it sends with no body) are given the API's JSON error body.

use super::*;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// hyper's buffer for a request's head: past it hyper answers 431 itself. The guard refuses
/// smaller heads first (see [`super::guard`]), with a message.
const HEAD_BUFFER: usize = 256 << 10;

/// Serves `listener` until `stop`, then lets the requests in flight finish (up to the request
/// timeout and five seconds more).
pub(super) async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send,
) -> io::Result<()> {
    let router = router(app.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(app.opts.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(app.opts.read_timeout)
        .max_buf_size(HEAD_BUFFER);
    let mut last_warning: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        // A slot first: past the limit, the next connection stays in the kernel's backlog
        // (no descriptor spent on it) until one closes.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(_) => {
                app.metrics.lock().expect("metrics").connection_waits += 1;
                if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(
                        limit = app.opts.max_connections,
                        "connection limit reached: new connections wait until one closes (raise it with --max-connections)"
                    );
                    last_warning = Some(Instant::now());
                }
                tokio::select! {
                    s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
                    () = &mut stop => break,
                }
            }
        };
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors or memory: wait, then go on; a connection reset
                    // before it was accepted is nothing.
                    if !matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) {
                        tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(ErrorBodies::new(
            stream,
            app.opts.write_timeout,
            app.write_timeouts.clone(),
        ));
        let conn = http.serve_connection(io, TowerToHyperService::new(router.clone()));
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = watched.await;
            drop(slot);
        });
    }
    drop(listener);
    let grace = app.opts.timeout + Duration::from_secs(5);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(grace) => {
            tracing::warn!("connections still open {grace:?} after the signal; closing them");
        }
    }
    Ok(())
}

/// A connection's stream, watching what hyper writes.
///
/// - hyper answers a request it cannot parse (400 malformed, 414 URI too long, 431 head too
///   large) with a head and no body, before any handler runs. Such an answer — a 4xx or 5xx
///   head alone with `content-length: 0`, which no handler of this API ever writes — gets the
///   API's JSON error body.
/// - A write that makes no progress for `write_timeout` (the client takes no byte of its
///   answer) fails the connection, so hyper closes it and the answer's memory and the
///   connection's slot are given back.
struct ErrorBodies {
    inner: TcpStream,
    /// A rewritten answer not yet written, and how much of it is.
    pending: Vec<u8>,
    at: usize,
    /// Since when writing has been stalled, as a timer of `write_timeout`.
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
    write_timeout: Duration,
    timeouts: Arc<std::sync::atomic::AtomicU64>,
}

impl ErrorBodies {
    fn new(
        inner: TcpStream,
        write_timeout: Duration,
        timeouts: Arc<std::sync::atomic::AtomicU64>,
    ) -> ErrorBodies {
        ErrorBodies {
            inner,
            pending: Vec::new(),
            at: 0,
            stall: None,
            write_timeout,
            timeouts,
        }
    }

    /// A write returned `Pending`: still `Pending`, or an error once it has been stalled for
    /// `write_timeout`.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let t = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(self.write_timeout)));
        if t.as_mut().poll(cx).is_ready() {
            self.timeouts
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no byte of its answer within --write-timeout",
            )));
        }
        Poll::Pending
    }

    /// A write made progress (or failed): the stall, if any, is over.
    fn progressed<T>(
        &mut self,
        r: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match r {
            Poll::Pending => self.stalled(cx),
            done => {
                self.stall = None;
                done
            }
        }
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.at < self.pending.len() {
            let r = Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.at..]);
            let n = ready!(self.progressed(r, cx))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.at += n;
        }
        self.pending.clear();
        self.at = 0;
        Poll::Ready(Ok(()))
    }
}

/// hyper's bodiless error answer with the API's JSON body, or `None` for anything else.
fn with_error_body(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    if status < 400 || !text.ends_with("\r\n\r\n") || text.matches("\r\n\r\n").count() != 1 {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let at = lower.find("\r\ncontent-length: 0\r\n")?;
    let (code, message) = match status {
        414 => (
            "uri-too-long",
            "the URL is longer than this server reads; send many addresses as a POST body",
        ),
        431 => (
            "headers-too-large",
            "the request's headers are larger than this server reads",
        ),
        400 => (
            "bad-request",
            "the request is not HTTP/1.1 this server can read (a malformed request line or header)",
        ),
        _ => ("http-error", "the request could not be read"),
    };
    let body = format!("{}\n", json!({"error": {"code": code, "message": message}}));
    let mut out = String::with_capacity(text.len() + body.len() + 40);
    out.push_str(&text[..at]);
    out.push_str(&format!(
        "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    ));
    out.push_str(&text[at + "\r\ncontent-length: 0\r\n".len()..]);
    out.push_str(&body);
    Some(out.into_bytes())
}

impl AsyncRead for ErrorBodies {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ErrorBodies {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        ready!(me.poll_pending(cx))?;
        if buf.len() < 1024
            && let Some(out) = with_error_body(buf)
        {
            me.pending = out;
            me.at = 0;
            // Written by the next flush at the latest; hyper flushes after every answer.
            let _ = me.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        let r = Pin::new(&mut me.inner).poll_write(cx, buf);
        me.progressed(r, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        ready!(me.poll_pending(cx))?;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total < 1024 && bufs.iter().filter(|b| !b.is_empty()).count() == 1 {
            let one = bufs.iter().find(|b| !b.is_empty()).expect("one");
            if let Some(out) = with_error_body(one) {
                me.pending = out;
                me.at = 0;
                let _ = me.poll_pending(cx)?;
                return Poll::Ready(Ok(total));
            }
        }
        let r = Pin::new(&mut me.inner).poll_write_vectored(cx, bufs);
        me.progressed(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        ready!(me.poll_pending(cx))?;
        let r = Pin::new(&mut me.inner).poll_flush(cx);
        me.progressed(r, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        ready!(me.poll_pending(cx))?;
        Pin::new(&mut me.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::with_error_body;

    #[test]
    fn hypers_bodiless_errors_get_a_json_body() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sun, 06 Dec 2026 21:06:52 GMT\r\n\r\n";
        let out = String::from_utf8(with_error_body(head).expect("rewritten")).unwrap();
        let (h, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(h.starts_with("HTTP/1.1 431 "));
        assert!(h.contains("connection: close") && h.contains("content-type: application/json"));
        let len: usize = h
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, body.len());
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "headers-too-large");
        // A head with a body of its own, a success, or a partial head is left alone.
        assert!(with_error_body(b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(with_error_body(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(with_error_body(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n").is_none());
    }
}
