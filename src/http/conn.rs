//! One HTTP/1.1 connection: read, parse, answer, repeat.
//!
//! Keep-alive and pipelining: every complete request already in the buffer (up to
//! `max_pipeline`) is answered before the next write, and their responses go out together: in
//! one write, or, where a large body comes, one write up to the end of that body. Timeouts: a
//! request head must arrive within `header_read_timeout` of its first byte (slowloris), and an
//! idle keep-alive connection is closed after `idle_timeout`. Errors end this connection only.
//! With `[tls]` on, the same loop runs over the decrypted stream after the handshake (see
//! [`super::Stream`]).

use std::{future::Future, io, os::fd::AsRawFd, pin::Pin, rc::Rc, time::Duration};

use futures_rustls::TlsAcceptor;
use glommio::net::TcpStream;
use tracing::debug;

use inplay_wire::request::{parse, Limits, Method, Parse, Request};

use super::{
    date::with_date,
    tls,
    tracker::{ConnGuard, Tracker},
    Persist, Response, Status, Stream,
};

/// A response that needs another shard first (routed to a match's owner, or gathered from all).
pub(crate) type Deferred = Pin<Box<dyn Future<Output = Response>>>;

/// Takes over an upgraded connection (a WebSocket session).
pub(crate) type Upgrade = Box<dyn FnOnce(Stream) -> Pin<Box<dyn Future<Output = ()>>>>;

/// What a handler returns.
pub(crate) enum Reply {
    /// Answered from this shard's read view.
    Ready(Response),
    /// Answered once another shard replies.
    Deferred(Deferred),
    /// Switch protocols: send `101` with this `Sec-WebSocket-Accept`, then hand the connection
    /// over.
    Upgrade { accept: String, session: Upgrade },
}

/// Routes and answers requests. Implemented by the API.
pub(crate) trait Service {
    /// Answers one request.
    fn call(&self, req: &Request<'_>) -> Reply;

    /// Observes an answered request (metrics). Called after the response is ready.
    fn record(&self, _req: &Request<'_>, _status: u16, _elapsed: Duration) {}

    /// Observes a failed TLS handshake (metrics).
    fn handshake_failed(&self) {}
}

/// Connection settings, from `[http]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnConfig {
    pub limits: Limits,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_pipeline: usize,
}

/// A connection's first read buffer. Requests are a few hundred bytes; the buffer doubles for
/// a larger head or body (up to the parse limits), so this bounds only the idle cost: 100
/// keep-alive connections at 16 KiB held 1.2 MB more than at 4 KiB.
const READ_CHUNK: usize = 4 * 1024;

/// The most a connection's response buffer keeps between reads: one response whose body is
/// copied (under [`DIRECT_BODY`]) and a generous head. A burst of pipelined responses may grow
/// it further; it shrinks back to this afterwards.
const OUT_MAX: usize = DIRECT_BODY + 1024;

/// Bodies at least this large are not copied into the response buffer: they go to the socket
/// from where they are (usually bytes shared with the read view), in the same system call as
/// the head ([`Stream::send_pair`]). Measured against copying bodies up to 32 KiB, with 100
/// connections fetching the gzip-compressed markets list (16 KB): +12 % requests/s and 2 MB
/// less peak RSS. Smaller bodies are still copied, so that pipelined responses share one write.
const DIRECT_BODY: usize = 8 * 1024;

/// Serves one connection until the client leaves, an error occurs, or the shard drains. With
/// `tls`, the connection is HTTPS/WSS: the handshake comes first, within the header-read timeout,
/// and a failed one only closes the connection (logged at debug, counted by the service).
pub(crate) async fn serve<S: Service>(
    tcp: TcpStream,
    tls: Option<Rc<TlsAcceptor>>,
    service: Rc<S>,
    config: ConnConfig,
    tracker: Rc<Tracker>,
) -> io::Result<()> {
    // Registered before any handshake, so handshakes count against the connection limit and a
    // drain waits for them. Declared before `stream`, so the socket closes first, but with no
    // await in between: no drain can observe the closed fd while it is still registered.
    let guard = tracker.register(tcp.as_raw_fd());
    let _ = tcp.set_nodelay(true);
    let peer = tcp.peer_addr().ok().map(|a| a.ip());
    let mut stream = match tls {
        None => Stream::Plain(tcp),
        Some(acceptor) => match tls::accept(&acceptor, tcp, config.header_read_timeout).await {
            Ok(stream) => stream,
            Err(reason) => {
                service.handshake_failed();
                debug!(peer = ?peer, reason, "TLS handshake failed");
                return Ok(());
            }
        },
    };
    // A client that stops reading its responses holds the connection no longer than an idle
    // one: a write that cannot go on for that long ends it.
    stream.set_write_timeout(Some(config.idle_timeout))?;
    match converse(&mut stream, peer, &*service, config, &tracker, &guard).await? {
        Some(session) => {
            // A session bounds its own writes (its send queue and slow-consumer policy).
            let _ = stream.set_read_timeout(None);
            let _ = stream.set_write_timeout(None);
            session(stream).await;
        }
        None => stream.close_tls(config.header_read_timeout).await,
    }
    Ok(())
}

/// Reads, answers and writes requests until the connection should close (`None`) or a
/// request upgraded it (the session to hand it to).
async fn converse<S: Service>(
    stream: &mut Stream,
    peer: Option<std::net::IpAddr>,
    service: &S,
    config: ConnConfig,
    tracker: &Tracker,
    guard: &ConnGuard,
) -> io::Result<Option<Upgrade>> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut filled = 0; // valid bytes in buf
    let mut out = Vec::with_capacity(READ_CHUNK);
    // When the first byte of a not-yet-complete request arrived.
    let mut head_started: Option<std::time::Instant> = None;
    loop {
        let mut start = 0;
        let mut close = false;
        let mut served = 0;
        let mut upgrade = None;
        while served < config.max_pipeline {
            match parse(&buf[start..filled], config.limits) {
                Parse::Complete(mut req, used) => {
                    req.peer = peer;
                    let keep_alive = req.keep_alive && !tracker.draining();
                    let persist = Persist::of(keep_alive, req.http10);
                    let head = req.method == Method::Head;
                    let received_at = std::time::Instant::now();
                    let response = match service.call(&req) {
                        Reply::Ready(r) => r,
                        Reply::Deferred(f) => f.await,
                        Reply::Upgrade { accept, session } => {
                            service.record(&req, 101, received_at.elapsed());
                            switching_protocols(&mut out, &accept);
                            start += used;
                            upgrade = Some(session);
                            break;
                        }
                    };
                    service.record(&req, response.status.0, received_at.elapsed());
                    let body = response.body_bytes();
                    if head || body.len() < DIRECT_BODY {
                        let first = out.is_empty();
                        with_date(|d| response.encode_head(&mut out, d, persist));
                        if !head {
                            if first {
                                // Exactly what one response needs, not the next power of two:
                                // an idle keep-alive connection keeps what its last response
                                // needed.
                                out.reserve_exact(body.len());
                            }
                            out.extend_from_slice(body);
                        }
                    } else {
                        // Large (shared) bodies go to the socket as they are, in the same
                        // call as the head: no copy into `out`, and no per-connection buffer
                        // the size of the biggest list.
                        with_date(|d| response.encode_head(&mut out, d, persist));
                        stream.send_pair(&out, body).await?;
                        out.clear();
                    }
                    start += used;
                    served += 1;
                    if !keep_alive {
                        close = true;
                        break;
                    }
                }
                Parse::Partial => break,
                Parse::Invalid(status, message) => {
                    Response::error(status, message).encode_last(&mut out);
                    close = true;
                    break;
                }
            }
        }
        if start > 0 {
            buf.copy_within(start..filled, 0);
            filled -= start;
            head_started = None;
        }
        if buf.len() > READ_CHUNK && filled <= READ_CHUNK {
            // A large request (a body) is done: between requests the connection keeps one
            // read's worth, not the largest body it was ever sent.
            buf.truncate(READ_CHUNK);
            buf.shrink_to_fit();
        }
        if !out.is_empty() {
            stream.send(&out).await?;
            out.clear();
        }
        if out.capacity() > OUT_MAX {
            // A burst of pipelined responses should not stay resident.
            out.shrink_to(OUT_MAX);
        }
        if let Some(session) = upgrade {
            // A client may not send frames before it has our 101 (RFC 6455 §4.1), so nothing
            // after the upgrade request can be in the buffer legitimately.
            if start < filled {
                return Ok(None);
            }
            return Ok(Some(session));
        }
        if close || tracker.draining() {
            return Ok(None);
        }
        if served == config.max_pipeline {
            continue; // more complete requests may be waiting in the buffer
        }
        // Need more bytes. Decide how long we may wait for them: between requests, the shard's
        // idle sweeper bounds the wait (no timer per read); within one, the rest of the
        // header-read timeout does.
        if filled == 0 {
            guard.set_idle(true);
            stream.set_read_timeout(None)?; // a store, not a timer
        } else {
            let started = *head_started.get_or_insert_with(std::time::Instant::now);
            let wait = config.header_read_timeout.saturating_sub(started.elapsed());
            if wait.is_zero() {
                return request_timeout(stream).await;
            }
            stream.set_read_timeout(Some(wait))?;
        }
        if filled == buf.len() {
            // parse() caps heads at max_header_bytes and bodies at max_body_bytes, so growth
            // stops at their sum.
            buf.resize(buf.len() * 2, 0);
        }
        let read = stream.read_some(&mut buf[filled..]).await;
        guard.set_idle(false);
        match read {
            Ok(0) => return Ok(None),
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) && filled > 0 => return request_timeout(stream).await,
            Err(e) => return Err(e),
        }
    }
}

fn switching_protocols(out: &mut Vec<u8>, accept: &str) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

async fn request_timeout(stream: &mut Stream) -> io::Result<Option<Upgrade>> {
    let mut out = Vec::new();
    Response::error(Status::REQUEST_TIMEOUT, "request not received in time").encode_last(&mut out);
    stream.send(&out).await.map(|()| None)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
