//! The shard's readiness loop: plain HTTP/1.1 connections served from one epoll set, in one
//! task, with one `recv` and one `send` per batch of requests (`http.epoll = true`, the
//! default).
//!
//! Most requests are answered from the shard's read view, synchronously: there is nothing to
//! wait for between reading a request and writing its response. A task per connection pays for
//! generality it does not use there: a future per connection, a read buffer per connection,
//! and an io_uring poll per request whose completion interrupts the shard (see
//! [`super::epoll`]). Here a connection is a socket, its tracker entry and its peer address;
//! the read and write buffers are the loop's, shared by all of them, because a connection
//! between batches holds no bytes.
//!
//! Whatever does need waiting leaves the loop for good, with what it had read and encoded
//! ([`Carried`]), and is served by [`super::conn`] as every TLS connection is:
//! - a request answered by another shard, or a WebSocket upgrade;
//! - an incomplete request (its head-read timeout needs a timer; a request split over reads
//!   is rare from real clients);
//! - a response the socket would not take at once (a slow reader, or a body larger than the
//!   send buffer).
//!
//! Idle keep-alive connections are closed by the shard's sweeper as before (it shuts the read
//! side; the loop reads end-of-stream). On a drain the shard shuts every idle connection the
//! same way and then tells the loop to stop: it closes its listener, answers what its
//! connections had already sent (with `Connection: close`), and ends when it holds none.
//!
//! While connections keep the set ready, the loop yields between batches, and at least every
//! [`REACTOR_TURN`] it waits on the shard's ring instead: glommio reaps other tasks' I/O and
//! fires timers only when its task queue runs dry, and a loop that only re-queued itself would
//! keep that from happening for up to the preemption period (50 ms). Measured with
//! `bench/stall-probe.py` on a handed-over connection (`/health`) next to 100 wrk connections
//! on scores, one core: yielding only, p99 4.3 ms and max 53 ms; a turn after every batch, max
//! 6.8 ms but 1.33× the requests per cpu second of one task per connection (`bench/ab.sh`)
//! instead of 1.42×; a turn every millisecond, max 5.8 ms at 1.39×.

use std::{
    io, mem,
    net::{IpAddr, SocketAddr, TcpListener},
    os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd},
    rc::Rc,
    time::{Duration, Instant},
};

use futures_channel::oneshot;
use futures_lite::future;
use glommio::{net::TcpStream, spawn_local, timer::sleep};
use socket2::{SockAddr, SockRef, Socket};
use tracing::{debug, warn};

use inplay_wire::request::{parse, Parse};

use super::{
    answer::{append, switching_protocols, Carried, Pending},
    conn::serve_stream,
    epoll::Epoll,
    sock::{is_again, recv, refuse, send_all, send_pair, Sent},
    tracker::{ConnGuard, Tracker},
    ConnConfig, Reply, Response, Service, Stream,
};

/// Events taken per look at the set.
const EVENTS: usize = 256;
/// Bytes read per `recv`: many pipelined request heads (wrk's are ~100 bytes).
const READ: usize = 16 * 1024;
/// New connections taken per listener event, so a connection storm does not starve the
/// connections already open.
const ACCEPTS: usize = 64;
/// Wake-ups in a row that find nothing ready before the loop suspects its wait no longer
/// waits (see [`Epoll::readable`]) and naps between looks instead of spinning.
const EMPTY_WAKES: u32 = 64;
/// The listener's token; connections use their slot.
const LISTENER: u64 = u64::MAX;
/// While connections keep the set ready, the loop yields between batches but waits on the
/// shard's ring (a turn of glommio's reactor, which reaps other tasks' I/O and fires timers)
/// at least this often; see the module notes.
const REACTOR_TURN: Duration = Duration::from_millis(1);
/// How long the listener rests after an accept fails for want of descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// One connection the loop holds: idle, with no bytes of its own.
struct Conn {
    // Declared before the socket, so it unregisters while the descriptor is still open.
    guard: ConnGuard,
    socket: OwnedFd,
    peer: Option<IpAddr>,
}

/// What to do with a connection after its batch.
enum Next {
    Keep,
    Close,
    HandOver(Carried),
}

/// What ended a wait.
enum Wake {
    /// The set may have something ready.
    Ready,
    /// The shard drains: stop accepting.
    Stop,
    /// The listener's rest after a failed accept is over.
    Resume,
}

/// The loop's state, owned by its task.
pub(crate) struct FastPath<S> {
    epoll: Epoll,
    /// `None` once the shard drains.
    listener: Option<TcpListener>,
    /// Set while the listener rests after a failed accept (it is out of the set meanwhile).
    resume_accepting: Option<Instant>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    service: Rc<S>,
    config: ConnConfig,
    tracker: Rc<Tracker>,
    max_connections: usize,
    input: Vec<u8>,
    out: Vec<u8>,
}

// === impl FastPath ===

impl<S: Service + 'static> FastPath<S> {
    /// A loop over `listener` (made non-blocking here).
    ///
    /// # Errors
    /// The epoll set cannot be made or the listener not registered; the listener comes back,
    /// still blocking, for the shard to serve another way.
    pub fn new(
        listener: TcpListener,
        service: Rc<S>,
        config: ConnConfig,
        tracker: Rc<Tracker>,
        max_connections: usize,
    ) -> Result<Self, (io::Error, TcpListener)> {
        let epoll = match Epoll::new().and_then(|e| {
            e.add(listener.as_raw_fd(), LISTENER)?;
            listener.set_nonblocking(true)?;
            Ok(e)
        }) {
            Ok(epoll) => epoll,
            Err(e) => {
                let _ = listener.set_nonblocking(false);
                return Err((e, listener));
            }
        };
        Ok(Self {
            epoll,
            listener: Some(listener),
            resume_accepting: None,
            conns: Vec::new(),
            free: Vec::new(),
            service,
            config,
            tracker,
            max_connections,
            input: vec![0; READ],
            out: Vec::with_capacity(READ),
        })
    }

    /// Serves until `stop` fires (or its sender is dropped) and every connection it holds has
    /// closed.
    pub async fn run(mut self, stop: oneshot::Receiver<()>) {
        let mut stop = Some(stop);
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        let mut empty = 0u32;
        let mut last_turn = Instant::now();
        let mut busy = false;
        loop {
            if busy && last_turn.elapsed() < REACTOR_TURN {
                // Other tasks that are ready run; the set is looked at again right after.
                future::yield_now().await;
            } else {
                match wait(&self.epoll, self.resume_accepting, &mut stop).await {
                    Wake::Ready => {}
                    Wake::Stop => self.stop_accepting(),
                    Wake::Resume => self.resume(),
                }
                last_turn = Instant::now();
            }
            if self.listener.is_none() && self.conns.len() == self.free.len() {
                return; // drained
            }
            let n = self.epoll.ready(&mut events);
            busy = n > 0;
            if n == 0 {
                empty += 1;
                if empty == EMPTY_WAKES {
                    warn!("epoll wake-ups keep finding nothing ready; napping between looks");
                }
                if empty >= EMPTY_WAKES {
                    sleep(Duration::from_millis(1)).await;
                }
                continue;
            }
            empty = 0;
            for event in &events[..n] {
                match event.u64 {
                    LISTENER => self.accept(),
                    slot => self.serve(slot as usize),
                }
                if glommio::executor().need_preempt() {
                    break; // the rest are level-triggered: the next look reports them again
                }
            }
        }
    }

    /// Takes new connections.
    fn accept(&mut self) {
        for _ in 0..ACCEPTS {
            let Some(listener) = &self.listener else {
                return;
            };
            let (socket, addr) = match SockRef::from(listener).accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: the listener stays readable, so it rests out of the
                    // set for a while instead of being looked at in a spin.
                    warn!(error = %e, "Accept failed; pausing accepts");
                    self.epoll.remove(listener.as_raw_fd());
                    self.resume_accepting = Some(Instant::now() + ACCEPT_BACKOFF);
                    return;
                }
            };
            if self.tracker.open() >= self.max_connections {
                debug!("Connection limit reached; refusing");
                refuse(&socket);
                continue;
            }
            self.adopt(socket, &addr);
        }
    }

    fn resume(&mut self) {
        self.resume_accepting = None;
        if let Some(listener) = &self.listener {
            if let Err(e) = self.epoll.add(listener.as_raw_fd(), LISTENER) {
                warn!(error = %e, "Cannot watch the listener again; retrying");
                self.resume_accepting = Some(Instant::now() + ACCEPT_BACKOFF);
            }
        }
    }

    /// The drain: no new connections (closing the listener makes the kernel stop routing
    /// them here). The connections held go on until they close.
    fn stop_accepting(&mut self) {
        if let Some(listener) = self.listener.take() {
            self.epoll.remove(listener.as_raw_fd());
        }
        self.resume_accepting = None;
    }

    fn adopt(&mut self, socket: Socket, addr: &SockAddr) {
        let _ = socket.set_nodelay(true);
        let socket = OwnedFd::from(socket);
        let guard = self.tracker.register(socket.as_raw_fd());
        guard.set_idle(true);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = self.epoll.add(socket.as_raw_fd(), slot as u64) {
            warn!(error = %e, "Cannot watch a new connection; closing it");
            self.free.push(slot);
            return;
        }
        let peer = addr.as_socket().as_ref().map(SocketAddr::ip);
        self.conns[slot] = Some(Conn {
            guard,
            socket,
            peer,
        });
    }

    /// Reads what a connection sent, answers every complete request in it, and writes the
    /// answers.
    fn serve(&mut self, slot: usize) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return; // closed or handed over earlier in this batch
        };
        let next = match recv(&conn.socket, &mut self.input) {
            Ok(0) => Next::Close,
            Ok(filled) => self.answer(slot, filled),
            Err(e) if is_again(&e) => Next::Keep,
            Err(_) => Next::Close,
        };
        match next {
            Next::Keep => {
                if let Some(conn) = &self.conns[slot] {
                    conn.guard.set_idle(true); // idle from now, for the sweeper
                }
            }
            Next::Close => drop(self.release(slot)),
            Next::HandOver(carried) => {
                if let Some(conn) = self.release(slot) {
                    self.epoll.remove(conn.socket.as_raw_fd());
                    self.hand_over(conn, carried);
                }
            }
        }
    }

    /// Answers the requests in `input[..filled]`.
    fn answer(&mut self, slot: usize, filled: usize) -> Next {
        let Some(conn) = &self.conns[slot] else {
            return Next::Close;
        };
        let (config, tracker, service) = (self.config, &*self.tracker, &*self.service);
        let (input, out) = (&self.input[..filled], &mut self.out);
        out.clear();
        let mut start = 0;
        let mut served = 0;
        let mut close = false;
        loop {
            match parse(&input[start..], config.limits) {
                Parse::Complete(mut req, used) => {
                    req.peer = conn.peer;
                    let keep_alive = req.keep_alive && !tracker.draining();
                    let received_at = Instant::now();
                    match service.call(&req) {
                        Reply::Ready(response) => {
                            service.record(&req, response.status.0, received_at.elapsed());
                            if let Some(body) = append(out, &response, &req, keep_alive) {
                                match send_pair(&conn.socket, out, body) {
                                    Sent::All => {}
                                    Sent::Short(rest) => {
                                        let input = &input[start + used..];
                                        return carry(rest, input, None, !keep_alive);
                                    }
                                    Sent::Failed => return Next::Close,
                                }
                            }
                        }
                        Reply::Deferred(response) => {
                            let pending = Pending::Deferred {
                                request: input[start..start + used].to_vec(),
                                response,
                                received_at,
                            };
                            let out = mem::replace(out, Vec::with_capacity(READ));
                            return carry(out, &input[start + used..], Some(pending), false);
                        }
                        Reply::Upgrade { accept, session } => {
                            service.record(&req, 101, received_at.elapsed());
                            switching_protocols(out, &accept);
                            let pending = Pending::Upgrade(session);
                            let out = mem::replace(out, Vec::with_capacity(READ));
                            return carry(out, &input[start + used..], Some(pending), false);
                        }
                    }
                    start += used;
                    served += 1;
                    if !keep_alive {
                        close = true;
                        break;
                    }
                    if served % config.max_pipeline == 0 {
                        // As many answers as one batch may hold: write them before going on.
                        match send_all(&conn.socket, out) {
                            Sent::All => {}
                            Sent::Short(rest) => return carry(rest, &input[start..], None, false),
                            Sent::Failed => return Next::Close,
                        }
                    }
                }
                Parse::Partial => break,
                Parse::Invalid(status, message) => {
                    Response::error(status, message).encode_last(out);
                    close = true;
                    break;
                }
            }
        }
        let close = close || tracker.draining();
        match send_all(&conn.socket, out) {
            Sent::All if close => Next::Close,
            // The start of a request: its head-read timeout needs the timer.
            Sent::All if start < input.len() => carry(Vec::new(), &input[start..], None, false),
            Sent::All => Next::Keep,
            // The client is slower than its socket: the rest is written by a task that can wait.
            Sent::Short(rest) => carry(rest, &input[start..], None, close),
            Sent::Failed => Next::Close,
        }
    }

    fn release(&mut self, slot: usize) -> Option<Conn> {
        let conn = self.conns.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(conn)
    }

    fn hand_over(&self, conn: Conn, carried: Carried) {
        let Conn {
            guard,
            socket,
            peer,
        } = conn;
        self.service.handed_over();
        // Busy until its task says otherwise: it is in the middle of a request, and a drain or
        // the sweeper must not close it as idle.
        guard.set_idle(false);
        // SAFETY: `socket` is an open TCP socket this loop owned until now; the stream owns it
        // from here.
        let tcp = unsafe { TcpStream::from_raw_fd(socket.into_raw_fd()) };
        let (service, config, tracker) = (self.service.clone(), self.config, self.tracker.clone());
        spawn_local(async move {
            if let Err(e) = serve_stream(
                Stream::Plain(tcp),
                guard,
                peer,
                carried,
                service,
                config,
                tracker,
            )
            .await
            {
                debug!(error = %e, "Connection ended with an error");
            }
        })
        .detach();
    }
}

/// A connection leaves the loop with these bytes still to write and these still to parse (or,
/// with `close`, none: the connection closes once `output` is written).
fn carry(output: Vec<u8>, input: &[u8], pending: Option<Pending>, close: bool) -> Next {
    Next::HandOver(Carried {
        input: if close { Vec::new() } else { input.to_vec() },
        output,
        pending,
        close,
    })
}

/// Waits until the set may have something ready, the drain begins, or the listener's rest is
/// over, on the shard's ring: other tasks run meanwhile.
async fn wait(
    epoll: &Epoll,
    resume_accepting: Option<Instant>,
    stop: &mut Option<oneshot::Receiver<()>>,
) -> Wake {
    let ready = async {
        epoll.readable().await;
        Wake::Ready
    };
    let resume = async {
        match resume_accepting {
            Some(at) => sleep(at.saturating_duration_since(Instant::now())).await,
            None => future::pending().await,
        }
        Wake::Resume
    };
    let stopped = async {
        match stop {
            Some(rx) => {
                let _ = rx.await; // sent, or the sender is gone: stop either way
            }
            None => future::pending().await,
        }
        Wake::Stop
    };
    let wake = future::or(ready, future::or(resume, stopped)).await;
    if matches!(wake, Wake::Stop) {
        *stop = None;
    }
    wake
}
