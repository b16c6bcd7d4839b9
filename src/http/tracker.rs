//! The shard's open connections, so a drain can stop accepting, close idle keep-alive
//! connections at once and wait for busy ones to finish their in-flight requests.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    os::fd::RawFd,
    rc::Rc,
};

/// Per-shard registry of open connections.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    /// Set once when the shard starts draining; connections check it after every batch.
    draining: Cell<bool>,
    next_id: Cell<u64>,
    /// Connection id → (socket fd, waiting for a new request).
    conns: RefCell<HashMap<u64, (RawFd, bool)>>,
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
        self.conns.borrow_mut().insert(id, (fd, false));
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

    /// Starts the drain: from now on connections close after their current request, and idle
    /// ones are woken (their pending read sees end-of-stream) so they close at once.
    pub fn start_drain(&self) {
        self.draining.set(true);
        for (fd, idle) in self.conns.borrow().values() {
            if *idle {
                shutdown_read(*fd);
            }
        }
    }
}

impl ConnGuard {
    /// Marks the connection as waiting for a new request (idle) or busy.
    pub fn set_idle(&self, idle: bool) {
        if let Some(e) = self.tracker.conns.borrow_mut().get_mut(&self.id) {
            e.1 = idle;
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
