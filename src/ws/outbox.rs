//! A session's outgoing frames, shared by the hub (which offers change frames) and the session
//! (which writes them and its own replies).
//!
//! # Design
//!
//! The expensive part of fan-out is one `send` per subscriber per change, so nothing else may
//! cost much per frame. A change reaches a session as the same pre-framed bytes every session
//! gets ([`bytes::Bytes`], shared). On a plain TCP connection with nothing queued, the hub writes
//! them to the socket at once (a non-blocking `send`): no task wake-up, no copy, no allocation.
//! Only what the socket does not take (a full send buffer: a slow client) is queued, and the
//! session's task is woken to write it when the socket drains. Over TLS every frame is queued,
//! since only the session holds the TLS state.
//!
//! While the session answers a client message ([`Outbox::hold`]), frames queue instead, so its
//! replies (a snapshot) go out before the changes that follow them. Whether a change goes out at
//! all is decided when it is written ([`SeqFilter`]): a change its snapshot or recovery already
//! covered is skipped.
//!
//! The queue is bounded in frames and bytes of changes; a change that does not fit is refused
//! ([`Offer::Overflow`]) and the hub applies `websocket.slow_consumer`. The session's own frames
//! are not counted: its answers are bounded by its not reading a client whose backlog is full,
//! a resync by what it subscribed to. A resync ([`Outbox::discard`]) drops the changes queued
//! and an earlier resync, never an answer owed to the client. The queue allocates only while
//! frames wait, so an idle session costs a few words here.

use std::{
    cell::{Cell, RefCell},
    io,
    os::fd::RawFd,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use bytes::Bytes;
use futures_lite::AsyncWrite;
use inplay_core::MatchId;
use inplay_wire::ws;

use super::{
    backlog::{Backlog, ChangeAt, Item, Kind},
    queue::SeqFilter,
};
use crate::http::Stream;

/// What became of an offered change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Written, queued, or not needed (filtered, session gone, coalescing).
    Taken,
    /// The queue is full: the session is a slow consumer.
    Overflow,
    /// Write the frame to this socket now, then report with [`Outbox::sent`]: the session is
    /// idle, so nothing queued can go before it. ([`Outbox::claim`] only.)
    Write(RawFd),
}

/// One session's outgoing frames. See the module docs.
#[derive(Debug)]
pub(crate) struct Outbox {
    /// The socket, for the hub's direct writes: plain TCP only, and `None` once the session ended
    /// (the descriptor may then be reused by another connection).
    fd: Cell<Option<RawFd>>,
    backlog: RefCell<Backlog>,
    max_frames: usize,
    max_bytes: usize,
    /// While held ([`Outbox::hold`]): how many frames were queued when the hold began (the
    /// replies go after them).
    hold: Cell<Option<usize>>,
    overflowed: Cell<bool>,
    /// Between [`Offer::Write`] and [`Outbox::sent`]: the frame is on its way to the socket.
    claimed: Cell<bool>,
    closed: Cell<bool>,
    /// The pending resync or close is for changes that never reached this shard, not for a
    /// slow client.
    lagged: Cell<bool>,
    failed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// Per match, the last change sent.
    pub filter: RefCell<SeqFilter>,
}

impl Outbox {
    /// The outbox of a session on `stream`, queueing at most `max_frames` frames and
    /// `max_bytes` bytes (a lone frame always fits an empty queue).
    pub fn new(stream: &Stream, max_frames: usize, max_bytes: usize) -> Self {
        let fd = match stream {
            Stream::Plain(tcp) => Some(std::os::fd::AsRawFd::as_raw_fd(tcp)),
            Stream::Tls(_) => None,
        };
        Self {
            fd: Cell::new(fd),
            backlog: RefCell::default(),
            max_frames: max_frames.max(1),
            max_bytes,
            hold: Cell::new(None),
            overflowed: Cell::new(false),
            claimed: Cell::new(false),
            closed: Cell::new(false),
            lagged: Cell::new(false),
            failed: Cell::new(false),
            waker: RefCell::default(),
            filter: RefCell::default(),
        }
    }

    /// Offers change `seq` of `id` as the pre-framed `frame`, writing it at once if the
    /// session is idle. (The hub batches writes with [`Outbox::claim`]; the tests offer.)
    #[cfg(test)]
    pub fn offer(&self, frame: &Bytes, id: &MatchId, epoch: &Arc<str>, seq: u64) -> Offer {
        match self.claim(frame, id, epoch, seq) {
            Offer::Write(fd) => {
                self.sent(frame, super::send_ring::send(fd, frame));
                Offer::Taken
            }
            other => other,
        }
    }

    /// Like [`Outbox::offer`], but an idle session's write is left to the caller
    /// ([`Offer::Write`]), so the hub can write one frame to many sockets in one submission.
    /// The caller must report it with [`Outbox::sent`] before it offers this outbox another
    /// frame. Until then the same frame offered again (a `/ws` session subscribed to a match
    /// and to its sport, or an external publish, which carries no seq to filter on) is taken as
    /// already on its way: one socket is never written twice in one batch.
    pub fn claim(&self, frame: &Bytes, id: &MatchId, epoch: &Arc<str>, seq: u64) -> Offer {
        if self.closed.get() || self.failed.get() || self.overflowed.get() || self.claimed.get() {
            // Ending; coalescing (the session resyncs to the latest state); or this very frame
            // is being written already.
            return Offer::Taken;
        }
        let idle = self.backlog.borrow().is_empty() && self.hold.get().is_none();
        if let (true, Some(fd)) = (idle, self.fd.get()) {
            if !self.filter.borrow_mut().admit(id, epoch, seq) {
                return Offer::Taken;
            }
            self.claimed.set(true);
            return Offer::Write(fd);
        }
        let (frames, queued) = self.backlog.borrow().changes();
        let full =
            frames >= self.max_frames || (queued > 0 && queued + frame.len() > self.max_bytes);
        if full {
            return Offer::Overflow;
        }
        self.enqueue(
            frame.clone(),
            Some((id.clone(), epoch.clone(), seq)),
            Kind::Change,
            0,
        );
        Offer::Taken
    }

    /// What writing `frame` straight to the socket did ([`Offer::Write`]): the rest of a short
    /// write, or all of a refused one, is queued for the session to finish; an error ends it.
    pub fn sent(&self, frame: &Bytes, result: io::Result<usize>) {
        self.claimed.set(false);
        match result {
            Ok(n) if n == frame.len() => {}
            Ok(n) => self.enqueue(frame.clone(), None, Kind::Change, n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.enqueue(frame.clone(), None, Kind::Change, 0)
            }
            Err(_) => {
                self.failed.set(true);
                self.wake();
            }
        }
    }

    fn enqueue(&self, frame: Bytes, change: Option<ChangeAt>, kind: Kind, written: usize) {
        let item = Item {
            frame,
            change,
            kind,
        };
        self.backlog.borrow_mut().push(item, written);
        self.wake();
    }

    /// Queues one of the session's own frames (a reply, a ping) after everything queued.
    pub fn push(&self, frame: Bytes) {
        self.enqueue(frame, None, Kind::Reply, 0);
    }

    /// Queues a resync (its message, then the latest state) after what [`Outbox::discard`]
    /// kept: the session's answers still owed, which are older than this state.
    pub fn push_resync(&self, frames: impl Iterator<Item = Bytes>) {
        for frame in frames {
            self.enqueue(frame, None, Kind::Resync, 0);
        }
    }

    /// Until [`Outbox::release`], every change queues: the session is answering a client
    /// message, and its replies must precede the changes that follow them.
    pub fn hold(&self) {
        self.hold.set(Some(self.backlog.borrow().len()));
    }

    /// Ends a hold: `replies` go after what was queued before it (nothing of that was written
    /// meanwhile) and before the changes queued during it (a snapshot before its changes).
    pub fn release(&self, replies: impl DoubleEndedIterator<Item = Bytes>) {
        let mark = self.hold.take().unwrap_or(0);
        self.backlog.borrow_mut().insert(mark, replies);
    }

    /// Marks a coalescing overflow: nothing more is taken until [`Outbox::discard`].
    pub fn set_overflowed(&self) {
        self.overflowed.set(true);
        self.wake();
    }

    /// Whether a coalescing overflow waits for the session's resync.
    pub fn overflowed(&self) -> bool {
        self.overflowed.get()
    }

    /// Stops taking changes (slow consumer under `"disconnect"`, or the shard draining); returns
    /// whether it was open.
    pub fn close(&self) -> bool {
        let was_open = !self.closed.replace(true);
        self.wake();
        was_open
    }

    /// Changes this session should have had were dropped before they reached its shard
    /// ([`super::Hub::missed`]): it resyncs (`coalesce`) or closes. Returns whether this told
    /// it anything (not when it was closing or about to resync already).
    pub fn missed(&self, coalesce: bool) -> bool {
        if self.closed.get() || self.overflowed.get() {
            return false;
        }
        self.lagged.set(true);
        if coalesce {
            self.set_overflowed();
        } else {
            self.close();
        }
        true
    }

    /// Whether the pending resync or close is for changes that never reached this shard
    /// ([`Outbox::missed`]) rather than a slow client.
    pub fn lagged(&self) -> bool {
        self.lagged.get()
    }

    /// Whether [`Outbox::close`] was called.
    pub fn closed(&self) -> bool {
        self.closed.get()
    }

    /// Whether a direct write failed (the connection is gone).
    pub fn failed(&self) -> bool {
        self.failed.get()
    }

    /// Bytes queued now, the session's own frames too: while past the byte bound the session
    /// stops reading its client (a client that sends pings and never reads gets no more
    /// pongs queued than that).
    pub fn backlog_bytes(&self) -> usize {
        self.backlog.borrow().all_bytes()
    }

    /// Frames queued now (changes and the session's own).
    pub fn queued(&self) -> usize {
        self.backlog.borrow().len()
    }

    /// Drops the queued changes and an earlier resync, keeping the session's answers still owed
    /// and a half-written frame (which must finish, or the stream would be corrupt), and clears
    /// the overflow.
    pub fn discard(&self) {
        self.backlog.borrow_mut().discard();
        self.overflowed.set(false);
        self.lagged.set(false);
    }

    /// The session ended: no more writes to its descriptor, nothing kept.
    pub fn end(&self) {
        self.fd.set(None);
        self.closed.set(true);
        self.backlog.borrow_mut().clear();
        self.waker.borrow_mut().take();
    }

    /// Registers the session task to be woken when frames are queued.
    pub fn register(&self, waker: &Waker) {
        let mut slot = self.waker.borrow_mut();
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Writes queued frames to `stream` until none is left (`Ready(Ok)`), the socket is full
    /// (`Pending`, woken when it drains) or fails.
    pub fn poll_write(&self, cx: &mut Context<'_>, stream: &mut Stream) -> Poll<io::Result<()>> {
        loop {
            let (frame, offset) = {
                let mut backlog = self.backlog.borrow_mut();
                let Some((front, offset)) = backlog.front() else {
                    break;
                };
                if offset == 0 {
                    if let Some((id, epoch, seq)) = front.change.take() {
                        if !self.filter.borrow_mut().admit(&id, &epoch, seq) {
                            backlog.pop_front();
                            continue;
                        }
                    }
                }
                (front.frame.clone(), offset)
            };
            match Pin::new(&mut *stream).poll_write(cx, &frame[offset..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) if offset + n < frame.len() => {
                    self.backlog.borrow_mut().advance(n)
                }
                Poll::Ready(Ok(_)) => self.backlog.borrow_mut().pop_front(),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(stream).poll_flush(cx)
    }
}

/// A text message as a frame, ready for any session's socket.
pub(crate) fn text_frame(payload: &[u8]) -> Bytes {
    Bytes::from(ws::frame(ws::opcode::TEXT, payload))
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
