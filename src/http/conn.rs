//! One HTTP/1.1 connection: read, parse, answer, repeat.
//!
//! Keep-alive and pipelining: every complete request already in the buffer (up to
//! `max_pipeline`) is answered before the next write, and their responses go out together: in
//! one write, or, where a large body comes, one write up to the end of that body. Timeouts: a
//! request head must arrive within `header_read_timeout` of its first byte (slowloris), and an
//! idle keep-alive connection is closed after `idle_timeout`. Errors end this connection only.
//! With `[tls]` on, the same loop runs over the decrypted stream after the handshake (see
//! [`super::Stream`]).

use std::{
    future::Future,
    io,
    os::fd::AsRawFd,
    pin::Pin,
    rc::Rc,
    time::{Duration, Instant},
};

use futures_rustls::TlsAcceptor;
use glommio::net::TcpStream;
use tracing::{debug, warn};

use inplay_wire::request::{parse, Limits, Parse, Request};

use super::{
    answer::{append, switching_protocols, Carried, Pending, DIRECT_BODY},
    returns::Returns,
    tls,
    tracker::{ConnGuard, Tracker},
    Response, Status, Stream,
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

    /// Observes a connection leaving the readiness loop for a task of its own (metrics).
    fn handed_over(&self) {}
}

/// Connection settings, from `[http]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnConfig {
    pub limits: Limits,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_pipeline: usize,
    /// Serve plain HTTP connections from the shard's readiness loop ([`super::fast`]).
    pub epoll: bool,
}

/// A connection's first read buffer. Requests are a few hundred bytes; the buffer doubles for
/// a larger head or body (up to the parse limits), so this bounds only the idle cost: 100
/// keep-alive connections at 16 KiB held 1.2 MB more than at 4 KiB.
const READ_CHUNK: usize = 4 * 1024;

/// The most a connection's response buffer keeps between reads: one response whose body is
/// copied (under [`DIRECT_BODY`]) and a generous head. A burst of pipelined responses may grow
/// it further; it shrinks back to this afterwards.
const OUT_MAX: usize = DIRECT_BODY + 1024;

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
    let stream = match tls {
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
    let shared = Shared {
        service,
        config,
        tracker,
        home: None,
    };
    serve_stream(stream, guard, peer, Carried::default(), shared).await
}

/// What serving a connection needs from its shard.
pub(crate) struct Shared<S> {
    pub service: Rc<S>,
    pub config: ConnConfig,
    pub tracker: Rc<Tracker>,
    /// The readiness loop a plain connection goes back to once idle (see [`super::returns`]);
    /// `None`: it stays on its task until it closes.
    pub home: Option<Rc<Returns>>,
}

/// Serves a connection that is set up: the rest of [`serve`], and where a plain connection the
/// shard's readiness loop ([`super::fast`]) hands over continues, with what it had read and
/// not yet answered or written.
pub(crate) async fn serve_stream<S: Service>(
    stream: Stream,
    guard: ConnGuard,
    peer: Option<std::net::IpAddr>,
    carried: Carried,
    shared: Shared<S>,
) -> io::Result<()> {
    let conn = Conn {
        peer,
        service: &*shared.service,
        config: shared.config,
        tracker: &shared.tracker,
        guard: &guard,
        may_return: shared.home.is_some() && matches!(stream, Stream::Plain(_)),
    };
    // `run` owns the stream, so the socket closes before `guard` unregisters it.
    let back = conn.run(stream, carried).await?;
    if let (Some(Stream::Plain(tcp)), Some(home)) = (back, &shared.home) {
        if let Err(refused) = home.give(tcp, guard, peer, &shared.tracker) {
            let (tcp, guard) = *refused;
            // The loop has ended (a drain) or no descriptor is left to move it there.
            let mut stream = Stream::Plain(tcp);
            stream.finish(shared.config.header_read_timeout).await;
            drop(stream); // before its guard unregisters it
            drop(guard);
        }
    }
    Ok(())
}

/// How a connection's conversation ended.
enum End {
    /// Close the connection.
    Close,
    /// A request upgraded it: the session takes it over.
    Upgrade(Upgrade),
    /// It is idle with nothing buffered, and may go back to the readiness loop.
    Idle,
}

/// One connection's settings and shard state, borrowed for as long as it is served.
struct Conn<'a, S> {
    peer: Option<std::net::IpAddr>,
    service: &'a S,
    config: ConnConfig,
    tracker: &'a Tracker,
    guard: &'a ConnGuard,
    /// Idle, it goes back to the readiness loop instead of waiting here.
    may_return: bool,
}

impl<S: Service> Conn<'_, S> {
    /// Serves the connection; gives the stream back if it goes back to the readiness loop.
    async fn run(&self, mut stream: Stream, carried: Carried) -> io::Result<Option<Stream>> {
        // A client that stops reading its responses holds the connection no longer than an
        // idle one: a write that cannot go on for that long ends it.
        stream.set_write_timeout(Some(self.config.idle_timeout))?;
        match self.converse(&mut stream, carried).await? {
            End::Upgrade(session) => {
                // A session bounds its own writes (its send queue and slow-consumer policy).
                let _ = stream.set_read_timeout(None);
                let _ = stream.set_write_timeout(None);
                session(stream).await;
            }
            End::Close => stream.finish(self.config.header_read_timeout).await,
            End::Idle => return Ok(Some(stream)),
        }
        Ok(None)
    }

    /// Reads, answers and writes requests until the connection should close, a request
    /// upgraded it, or it is idle and may go back to the readiness loop.
    async fn converse(&self, stream: &mut Stream, carried: Carried) -> io::Result<End> {
        let Self {
            peer,
            service,
            config,
            tracker,
            guard,
            ..
        } = *self;
        let Carried {
            input: mut buf,
            output: mut out,
            pending,
            close,
        } = carried;
        if close {
            stream.send(&out).await?;
            return Ok(End::Close);
        }
        let mut filled = buf.len(); // valid bytes in buf
        if buf.len() < READ_CHUNK {
            buf.resize(READ_CHUNK, 0);
        }
        match pending {
            None => {}
            Some(Pending::Upgrade(session)) => {
                stream.send(&out).await?;
                // Nothing may follow an upgrade request (see below).
                return Ok(if filled == 0 {
                    End::Upgrade(session)
                } else {
                    End::Close
                });
            }
            Some(Pending::Deferred {
                request,
                response,
                received_at,
            }) => {
                let response = response.await;
                let Parse::Complete(mut req, _) = parse(&request, config.limits) else {
                    // It parsed in the readiness loop with the same limits.
                    warn!("A handed-over request no longer parses; closing the connection");
                    return Ok(End::Close);
                };
                req.peer = peer;
                let keep_alive = req.keep_alive && !tracker.draining();
                self.respond(stream, &mut out, &req, &response, received_at, keep_alive)
                    .await?;
                if !keep_alive {
                    stream.send(&out).await?;
                    return Ok(End::Close);
                }
            }
        }
        // When the first byte of a not-yet-complete request arrived.
        let mut head_started: Option<Instant> = None;
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
                        let received_at = Instant::now();
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
                        self.respond(stream, &mut out, &req, &response, received_at, keep_alive)
                            .await?;
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
                // A client may not send frames before it has our 101 (RFC 6455 §4.1), so
                // nothing after the upgrade request can be in the buffer legitimately (what
                // is left of the buffer was moved to its front above).
                if filled > 0 {
                    return Ok(End::Close);
                }
                return Ok(End::Upgrade(session));
            }
            if close || tracker.draining() {
                return Ok(End::Close);
            }
            if served == config.max_pipeline {
                continue; // more complete requests may be waiting in the buffer
            }
            // Need more bytes. Decide how long we may wait for them: between requests, the
            // shard's idle sweeper bounds the wait (no timer per read); within one, the rest
            // of the header-read timeout does.
            if filled == 0 {
                if self.may_return {
                    return Ok(End::Idle); // the readiness loop waits for its next request
                }
                guard.set_idle(true);
                stream.set_read_timeout(None)?; // a store, not a timer
            } else {
                let started = *head_started.get_or_insert_with(Instant::now);
                let wait = config.header_read_timeout.saturating_sub(started.elapsed());
                if wait.is_zero() {
                    return request_timeout(stream).await;
                }
                stream.set_read_timeout(Some(wait))?;
            }
            if filled == buf.len() {
                // parse() caps heads at max_header_bytes and bodies at max_body_bytes, so
                // growth stops at their sum.
                buf.resize(buf.len() * 2, 0);
            }
            let read = stream.read_some(&mut buf[filled..]).await;
            guard.set_idle(false);
            match read {
                Ok(0) => return Ok(End::Close),
                Ok(n) => filled += n,
                Err(e) if is_timeout(&e) && filled > 0 => return request_timeout(stream).await,
                Err(e) => return Err(e),
            }
        }
    }

    /// Records one answered request and adds its response to `out`; a large body goes to the
    /// socket at once, with `out` before it.
    async fn respond(
        &self,
        stream: &mut Stream,
        out: &mut Vec<u8>,
        req: &Request<'_>,
        response: &Response,
        received_at: Instant,
        keep_alive: bool,
    ) -> io::Result<()> {
        self.service
            .record(req, response.status.0, received_at.elapsed());
        if let Some(body) = append(out, response, req, keep_alive) {
            stream.send_pair(out, body).await?;
            out.clear();
        }
        Ok(())
    }
}

async fn request_timeout(stream: &mut Stream) -> io::Result<End> {
    let mut out = Vec::new();
    Response::error(Status::REQUEST_TIMEOUT, "request not received in time").encode_last(&mut out);
    stream.send(&out).await.map(|()| End::Close)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
