//! One HTTP/1.1 connection: read, parse, answer, repeat.
//!
//! Keep-alive and pipelining: every complete request already in the buffer (up to
//! `max_pipeline`) is answered before the next write, and all their responses go out in one
//! write. Timeouts: a request head must arrive within `header_read_timeout` of its first byte
//! (slowloris), and an idle keep-alive connection is closed after `idle_timeout`. Errors end
//! this connection only.

use std::{future::Future, io, os::fd::AsRawFd, pin::Pin, rc::Rc, time::Duration};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use inplay_wire::request::{parse, Limits, Method, Parse, Request};

use super::{date::with_date, tracker::Tracker, Response, Status};

/// A response that needs another shard first (routed to a match's owner, or gathered from all).
pub(crate) type Deferred = Pin<Box<dyn Future<Output = Response>>>;

/// Takes over an upgraded connection (a WebSocket session).
pub(crate) type Upgrade = Box<dyn FnOnce(TcpStream) -> Pin<Box<dyn Future<Output = ()>>>>;

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
}

/// Connection settings, from `[http]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnConfig {
    pub limits: Limits,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_pipeline: usize,
}

const READ_CHUNK: usize = 16 * 1024;

/// Bodies at least this large are written straight from the shared bytes.
const DIRECT_BODY: usize = 32 * 1024;

/// Serves one connection until the client leaves, an error occurs, or the shard drains.
pub(crate) async fn serve<S: Service>(
    mut stream: TcpStream,
    service: Rc<S>,
    config: ConnConfig,
    tracker: Rc<Tracker>,
) -> io::Result<()> {
    // Declared after `stream`, so it is dropped (unregistered) before the socket closes.
    let guard = tracker.register(stream.as_raw_fd());
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok().map(|a| a.ip());
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
                    if head || response.body_bytes().len() < DIRECT_BODY {
                        with_date(|d| response.encode(&mut out, d, keep_alive, head));
                    } else {
                        // Large (shared) bodies go to the socket as they are: no copy into
                        // `out`, and no per-connection buffer the size of the biggest list.
                        with_date(|d| response.encode_head(&mut out, d, keep_alive));
                        stream.write_all(&out).await?;
                        out.clear();
                        stream.write_all(response.body_bytes()).await?;
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
                    let r = Response::error(status, message);
                    with_date(|d| r.encode(&mut out, d, false, false));
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
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if out.capacity() > 4 * READ_CHUNK {
            out.shrink_to(READ_CHUNK); // a burst of pipelined responses should not stay resident
        }
        if let Some(session) = upgrade {
            // A client may not send frames before it has our 101 (RFC 6455 §4.1), so nothing
            // after the upgrade request can be in the buffer legitimately.
            if start < filled {
                return Ok(());
            }
            let _ = stream.set_read_timeout(None);
            session(stream).await;
            return Ok(());
        }
        if close || tracker.draining() {
            return Ok(());
        }
        if served == config.max_pipeline {
            continue; // more complete requests may be waiting in the buffer
        }
        // Need more bytes. Decide how long we may wait for them.
        let wait = if filled == 0 {
            guard.set_idle(true);
            config.idle_timeout
        } else {
            let started = *head_started.get_or_insert_with(std::time::Instant::now);
            config.header_read_timeout.saturating_sub(started.elapsed())
        };
        if wait.is_zero() {
            return request_timeout(&mut stream).await;
        }
        if filled == buf.len() {
            // parse() caps heads at max_header_bytes and bodies at max_body_bytes, so growth
            // stops at their sum.
            buf.resize(buf.len() * 2, 0);
        }
        stream.set_read_timeout(Some(wait))?;
        let read = stream.read(&mut buf[filled..]).await;
        guard.set_idle(false);
        match read {
            Ok(0) => return Ok(()),
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) && filled > 0 => return request_timeout(&mut stream).await,
            Err(e) if is_timeout(&e) => return Ok(()), // idle keep-alive connection: just close
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

async fn request_timeout(stream: &mut TcpStream) -> io::Result<()> {
    let mut out = Vec::new();
    let r = Response::error(Status::REQUEST_TIMEOUT, "request not received in time");
    with_date(|d| r.encode(&mut out, d, false, false));
    stream.write_all(&out).await
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
