//! Connections going back to the readiness loop.
//!
//! A plain connection the loop handed to a task of its own (an answer from another shard, a
//! request split over reads, a slow reader) goes back to the loop once it is idle again: its
//! task would otherwise keep a future and a read buffer (8 KB measured) for a connection that
//! is now asking for what the loop answers in place. A load balancer polling `/health` on a
//! kept-alive connection, say, makes one short trip per poll instead of moving its connection
//! out for good.
//!
//! The task cannot hand glommio's stream back as a descriptor (glommio does not give one out),
//! so it duplicates the descriptor and drops the stream; the socket stays open through the
//! duplicate, which the loop adopts. The loop is woken through an eventfd in its epoll set.

use std::{
    cell::{Cell, RefCell},
    io,
    net::IpAddr,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    rc::Rc,
};

use glommio::net::TcpStream;

use super::tracker::{ConnGuard, Tracker};

/// A plain connection with nothing buffered: held by the readiness loop, or on its way back.
pub(crate) struct PlainConn {
    // Declared before the socket, so it unregisters while the descriptor is still open.
    pub guard: ConnGuard,
    pub socket: OwnedFd,
    pub peer: Option<IpAddr>,
    /// Done with, until this deadline: its write side is shut, and what its client still
    /// sends is read and dropped until the client closes too or the deadline passes, so the
    /// client never gets a reset that would cost it the end of our last response.
    pub closing: Option<std::time::Instant>,
}

/// The loop's inbox of returning connections.
pub(crate) struct Returns {
    event: OwnedFd,
    queue: RefCell<Vec<PlainConn>>,
    /// Cleared when the loop ends (the shard drains); later returns are closed instead.
    open: Cell<bool>,
}

// === impl Returns ===

impl Returns {
    /// An empty inbox with its eventfd.
    ///
    /// # Errors
    /// `eventfd`'s (the descriptor limit).
    pub fn new() -> io::Result<Self> {
        // SAFETY: no pointers; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            // SAFETY: `fd` was just created and is owned by nothing else.
            event: unsafe { OwnedFd::from_raw_fd(fd) },
            queue: RefCell::new(Vec::new()),
            open: Cell::new(true),
        })
    }

    /// The eventfd, readable while connections wait.
    pub fn fd(&self) -> RawFd {
        self.event.as_raw_fd()
    }

    /// Sends `tcp`, idle with nothing buffered, back to the loop; its tracker entry moves to
    /// the duplicate descriptor.
    ///
    /// # Errors
    /// The connection and its guard, back, if the loop takes no more (it ended: a drain) or no
    /// descriptor is left to duplicate: the caller closes it.
    pub fn give(
        &self,
        tcp: TcpStream,
        guard: ConnGuard,
        peer: Option<IpAddr>,
        tracker: &Rc<Tracker>,
    ) -> Result<(), Box<(TcpStream, ConnGuard)>> {
        if !self.open.get() {
            return Err(Box::new((tcp, guard)));
        }
        // SAFETY: duplicating the stream's open descriptor; the duplicate is owned below.
        let dup = unsafe { libc::fcntl(tcp.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(Box::new((tcp, guard)));
        }
        // The tracker must never name a closed descriptor: unregister, close, register again,
        // with no await in between.
        drop(guard);
        drop(tcp);
        // SAFETY: `dup` is a fresh descriptor nothing else owns.
        let socket = unsafe { OwnedFd::from_raw_fd(dup) };
        let guard = tracker.register(socket.as_raw_fd());
        self.queue.borrow_mut().push(PlainConn {
            guard,
            socket,
            peer,
            closing: None,
        });
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 bytes from a live buffer. A full counter (never, at 2^64 - 1) would
        // only fail to wake: the loop drains the queue at every wake anyway.
        unsafe { libc::write(self.fd(), one.as_ptr().cast(), one.len()) };
        Ok(())
    }

    /// The connections that came back since the last call.
    pub fn take(&self) -> Vec<PlainConn> {
        let mut count = [0u8; 8];
        // SAFETY: reads up to 8 bytes into a live buffer; EAGAIN when nothing was written.
        unsafe { libc::read(self.fd(), count.as_mut_ptr().cast(), count.len()) };
        std::mem::take(&mut *self.queue.borrow_mut())
    }

    /// The loop ends: connections still queued close, and later ones are not taken.
    pub fn close(&self) {
        self.open.set(false);
        self.queue.borrow_mut().clear();
    }
}
