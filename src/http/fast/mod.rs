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
//! Whatever does need waiting leaves the loop, with what it had read and encoded ([`Carried`]),
//! and is served by [`super::conn`] as every TLS connection is, until it is idle again and
//! comes back ([`super::returns`]):
//! - a request answered by another shard, or a WebSocket upgrade;
//! - an incomplete request (its head-read timeout needs a timer; a request split over reads
//!   is rare from real clients);
//! - a response the socket would not take at once (a slow reader, or a body larger than the
//!   send buffer).
//!
//! Idle keep-alive connections are closed by the shard's sweeper as before (it shuts the read
//! side; the loop reads end-of-stream). A connection the server is done with (`Connection:
//! close`, a bad request) is not closed at once: its write side is shut and it stays in the set,
//! idle, while what its client still sends is dropped, until the client closes or the sweeper
//! ends it (see `FastPath::close`). On a drain the shard shuts every idle connection the
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

mod batch;

use std::{
    collections::VecDeque,
    io,
    net::{SocketAddr, TcpListener},
    os::fd::{AsRawFd, OwnedFd},
    rc::Rc,
    time::{Duration, Instant},
};

use futures_channel::oneshot;
use futures_lite::future;
use glommio::timer::sleep;
use socket2::{SockAddr, SockRef, Socket};
use tracing::{debug, warn};

use super::{
    answer::Carried,
    epoll::Epoll,
    returns::{PlainConn, Returns},
    sock::refuse,
    tracker::Tracker,
    ConnConfig, Service,
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
/// The token of connections coming back from their own tasks ([`Returns`]).
const RETURNS: u64 = u64::MAX - 1;
/// While connections keep the set ready, the loop yields between batches but waits on the
/// shard's ring (a turn of glommio's reactor, which reaps other tasks' I/O and fires timers)
/// at least this often; see the module notes.
const REACTOR_TURN: Duration = Duration::from_millis(1);
/// How long a connection the server closes keeps reading what its client still sends (the
/// same as a task's, [`crate::http::stream::LINGER`]).
const LINGER: Duration = crate::http::stream::LINGER;
/// How long the listener rests after an accept fails for want of descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What to do with a connection after its batch.
enum Next {
    Keep,
    /// The server is done with it: shut its write side and drop what its client still sends
    /// until the client closes ([`FastPath::close`]).
    Close,
    /// The client closed it, or it broke: close it now.
    Gone,
    HandOver(Carried),
}

/// What ended a wait.
enum Wake {
    /// The set may have something ready.
    Ready,
    /// The shard drains: stop accepting.
    Stop,
    /// A deadline passed: the listener's rest after a failed accept, or a closing
    /// connection's linger.
    Timer,
}

/// The loop's state, owned by its task.
pub(crate) struct FastPath<S> {
    epoll: Epoll,
    /// `None` once the shard drains.
    listener: Option<TcpListener>,
    /// Set while the listener rests after a failed accept (it is out of the set meanwhile).
    resume_accepting: Option<Instant>,
    /// Closing connections by when they are closed for good (their slot and deadline; a slot
    /// whose connection has another deadline, or none, was released and reused meanwhile).
    /// Every linger is [`LINGER`] long, so this is in deadline order.
    lingering: VecDeque<(Instant, usize)>,
    /// Handed-over connections come back here when idle.
    returns: Rc<Returns>,
    conns: Vec<Option<PlainConn>>,
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
        let set_up = Epoll::new().and_then(|e| {
            let returns = Returns::new()?;
            e.add(returns.fd(), RETURNS)?;
            e.add(listener.as_raw_fd(), LISTENER)?;
            listener.set_nonblocking(true)?;
            Ok((e, returns))
        });
        let (epoll, returns) = match set_up {
            Ok(set_up) => set_up,
            Err(e) => {
                let _ = listener.set_nonblocking(false);
                return Err((e, listener));
            }
        };
        Ok(Self {
            epoll,
            listener: Some(listener),
            resume_accepting: None,
            lingering: VecDeque::new(),
            returns: Rc::new(returns),
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
                match wait(&self.epoll, self.next_deadline(), &mut stop).await {
                    Wake::Ready | Wake::Timer => {}
                    Wake::Stop => self.stop_accepting(),
                }
                last_turn = Instant::now();
            }
            if self.next_deadline().is_some_and(|at| at <= Instant::now()) {
                self.on_deadlines();
            }
            if self.listener.is_none() && self.held() == 0 {
                // Connections on their way back are served out like the others first.
                for back in self.returns.take() {
                    self.watch(back);
                }
                if self.held() == 0 {
                    self.returns.close();
                    return; // drained
                }
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
                    RETURNS => {
                        for back in self.returns.take() {
                            self.watch(back);
                        }
                    }
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

    /// The earliest of the listener's rest and the lingers.
    fn next_deadline(&self) -> Option<Instant> {
        let linger = self.lingering.front().map(|&(at, _)| at);
        [self.resume_accepting, linger].into_iter().flatten().min()
    }

    /// Resumes accepting if its rest is over, and closes connections whose linger is.
    fn on_deadlines(&mut self) {
        let now = Instant::now();
        if self.resume_accepting.is_some_and(|at| at <= now) {
            self.resume();
        }
        while let Some(&(at, slot)) = self.lingering.front() {
            if at > now {
                break;
            }
            self.lingering.pop_front();
            let same = self.conns.get(slot).and_then(Option::as_ref);
            if same.is_some_and(|c| c.closing == Some(at)) {
                drop(self.release(slot));
            }
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
        let peer = addr.as_socket().as_ref().map(SocketAddr::ip);
        self.watch(PlainConn {
            guard,
            socket,
            peer,
            closing: None,
        });
    }

    /// Connections the loop holds.
    fn held(&self) -> usize {
        self.conns.len() - self.free.len()
    }

    /// Holds a connection with nothing buffered: a new one, or one back from its task.
    fn watch(&mut self, conn: PlainConn) {
        conn.guard.set_idle(true);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = self.epoll.add(conn.socket.as_raw_fd(), slot as u64) {
            warn!(error = %e, "Cannot watch a connection; closing it");
            self.free.push(slot);
            return;
        }
        self.conns[slot] = Some(conn);
        self.tracker.set_in_loop(self.held());
        if self.tracker.draining() {
            // It came back as the drain began, after the drain had shut the idle ones: what
            // its client sent already is answered now (with `Connection: close`), and then,
            // or if it sent nothing, it closes (see `serve`).
            self.serve(slot);
        }
    }
}

/// Waits until the set may have something ready, the drain begins, or the listener's rest is
/// over, on the shard's ring: other tasks run meanwhile.
async fn wait(
    epoll: &Epoll,
    deadline: Option<Instant>,
    stop: &mut Option<oneshot::Receiver<()>>,
) -> Wake {
    let ready = async {
        epoll.readable().await;
        Wake::Ready
    };
    let resume = async {
        match deadline {
            Some(at) => sleep(at.saturating_duration_since(Instant::now())).await,
            None => future::pending().await,
        }
        Wake::Timer
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
