//! The shard's open connections, so a drain can stop accepting, close idle keep-alive
//! connections at once and wait for busy ones to finish their in-flight requests, and so one
//! sweeper per shard can close keep-alive connections idle past `http.idle_timeout`.
//!
//! The sweeper replaces a timer per idle read: arming and cancelling a glommio read timeout
//! around every wait for the next request cost ~3 % of a shard's cpu at 90k requests/s (a
//! B-tree insert and remove each time). Here going idle is a store of the sweeper's tick, and
//! the sweeper shuts the read side of a connection idle for long enough, which its pending read
//! sees as end-of-stream: the same path a drain uses.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    os::fd::RawFd,
    rc::Rc,
    time::Duration,
};

/// The sweeper looks this many times per idle timeout, so an idle connection is closed between
/// `idle_timeout` and `idle_timeout × (SWEEPS + 1) / SWEEPS` after its last response.
const SWEEPS: u32 = 8;
/// It never looks more often than this (a tiny timeout in a test).
const MIN_SWEEP: Duration = Duration::from_millis(5);

/// Per-shard registry of open connections.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    /// Set once when the shard starts draining; connections check it after every batch.
    draining: Cell<bool>,
    next_id: Cell<u64>,
    /// Sweeps so far: the clock idle connections are timed by.
    tick: Cell<u32>,
    /// Connection id → (socket fd, the tick it went idle at if it waits for a new request).
    conns: RefCell<HashMap<u64, (RawFd, Option<u32>)>>,
    /// How many of them the readiness loop holds (the rest have a task each).
    in_loop: Cell<usize>,
}

/// Unregisters a connection when dropped. Declare it *after* the stream, so it drops first and
/// the fd it names is still open while registered.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    tracker: Rc<Tracker>,
    id: u64,
}

impl Tracker {
    /// Registers a connection's socket.
    pub fn register(self: &Rc<Self>, fd: RawFd) -> ConnGuard {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.conns.borrow_mut().insert(id, (fd, None));
        ConnGuard {
            tracker: self.clone(),
            id,
        }
    }

    /// Whether the shard is draining.
    pub fn draining(&self) -> bool {
        self.draining.get()
    }

    /// Number of open connections.
    pub fn open(&self) -> usize {
        self.conns.borrow().len()
    }

    /// Number of open connections the readiness loop holds.
    pub fn in_loop(&self) -> usize {
        self.in_loop.get()
    }

    /// Set by the readiness loop as it takes and lets go of connections.
    pub fn set_in_loop(&self, n: usize) {
        self.in_loop.set(n);
    }

    /// Starts the drain: from now on connections close after their current request, and idle
    /// ones are woken (their pending read sees end-of-stream) so they close at once.
    pub fn start_drain(&self) {
        self.draining.set(true);
        for (fd, idle) in self.conns.borrow().values() {
            if idle.is_some() {
                shutdown_read(*fd);
            }
        }
    }

    /// Closes keep-alive connections idle for `idle_timeout` or more, until the process ends.
    pub async fn sweep_idle(self: Rc<Self>, idle_timeout: Duration) {
        let period = (idle_timeout / SWEEPS).max(MIN_SWEEP);
        // Whole periods of idleness that guarantee `idle_timeout`: a connection goes idle
        // anywhere inside a period, so one more than the timeout spans.
        let periods = (idle_timeout.as_nanos() / period.as_nanos()) as u32 + 1;
        loop {
            glommio::timer::sleep(period).await;
            self.sweep(periods);
        }
    }

    /// Advances the tick and shuts the read side of every connection idle for `periods` ticks.
    fn sweep(&self, periods: u32) -> usize {
        let now = self.tick.get().wrapping_add(1);
        self.tick.set(now);
        let mut closed = 0;
        for (fd, idle) in self.conns.borrow_mut().values_mut() {
            if idle.is_some_and(|since| now.wrapping_sub(since) >= periods) {
                shutdown_read(*fd);
                *idle = None; // once is enough: its read sees end-of-stream
                closed += 1;
            }
        }
        closed
    }
}

impl ConnGuard {
    /// Marks the connection as waiting for a new request (idle: the sweeper may close it, and
    /// so may a drain) or busy.
    pub fn set_idle(&self, idle: bool) {
        let since = idle.then(|| self.tracker.tick.get());
        if let Some(e) = self.tracker.conns.borrow_mut().get_mut(&self.id) {
            e.1 = since;
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.tracker.conns.borrow_mut().remove(&self.id);
    }
}

fn shutdown_read(fd: RawFd) {
    // SAFETY: `fd` belongs to a connection that is still registered, and a connection
    // unregisters (ConnGuard drops) before its stream closes the fd, so the fd is open and is
    // the connection's socket. shutdown(2) only changes socket state; a failure is harmless.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RD);
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::Read,
        os::{fd::AsRawFd, unix::net::UnixStream},
    };

    use super::*;

    #[test]
    fn the_sweeper_closes_only_connections_idle_long_enough() {
        let tracker = Rc::new(Tracker::default());
        let (idle, mut idle_peer) = UnixStream::pair().unwrap();
        let (busy, mut busy_peer) = UnixStream::pair().unwrap();
        let idle_guard = tracker.register(idle_peer.as_raw_fd());
        let busy_guard = tracker.register(busy_peer.as_raw_fd());
        busy_peer.set_nonblocking(true).unwrap();

        idle_guard.set_idle(true);
        busy_guard.set_idle(false);
        assert_eq!(tracker.sweep(2), 0, "one tick of idleness is not two");
        assert_eq!(tracker.sweep(2), 1);
        // Its read side is shut: a read sees end-of-stream although the peer is still open.
        let mut byte = [0u8; 1];
        assert_eq!(idle_peer.read(&mut byte).unwrap(), 0);
        // Shut once only, and the busy one never.
        assert_eq!(tracker.sweep(2), 0);
        assert!(
            busy_peer.read(&mut byte).is_err(),
            "still open, nothing to read"
        );

        // Going busy and idle again restarts the count.
        busy_guard.set_idle(true);
        tracker.sweep(2);
        busy_guard.set_idle(false);
        busy_guard.set_idle(true);
        assert_eq!(tracker.sweep(2), 0);
        assert_eq!(tracker.sweep(2), 1);
        drop((idle, busy, idle_guard, busy_guard));
        assert_eq!(tracker.open(), 0);
    }
}
