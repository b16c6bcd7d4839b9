//! One connection's batch in the readiness loop: read what it sent, answer every complete
//! request the shard's view can answer, write the answers, and hand the connection to a task of
//! its own when something has to wait.

use std::{
    mem,
    os::fd::{AsRawFd, FromRawFd, IntoRawFd},
    time::Instant,
};

use glommio::{net::TcpStream, spawn_local};
use tracing::debug;

use inplay_wire::request::{parse, Parse};

use super::{FastPath, Next, LINGER, READ};
use crate::http::{
    answer::{append, switching_protocols, Carried, Pending},
    conn::{serve_stream, Shared},
    returns::PlainConn,
    sock::{is_again, recv, send_all, send_pair, shut_write, Sent},
    Reply, Response, Service, Stream,
};

/// Reads of a closing connection's input per look at it.
const DISCARD_READS: usize = 4;

impl<S: Service + 'static> FastPath<S> {
    /// Reads what a connection sent, answers every complete request in it, and writes the
    /// answers.
    pub(super) fn serve(&mut self, slot: usize) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return; // closed or handed over earlier in this batch
        };
        if conn.closing.is_some() {
            self.discard(slot);
            return;
        }
        let next = match recv(&conn.socket, &mut self.input) {
            Ok(0) => Next::Gone,
            Ok(filled) => self.answer(slot, filled),
            Err(e) if is_again(&e) => Next::Keep,
            Err(_) => Next::Gone,
        };
        match next {
            // A drain: nothing more will be answered on it.
            Next::Keep if self.tracker.draining() => self.close(slot),
            Next::Keep => {
                if let Some(conn) = &self.conns[slot] {
                    conn.guard.set_idle(true); // idle from now, for the sweeper
                }
            }
            Next::Gone => drop(self.release(slot)),
            Next::Close => self.close(slot),
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
            return Next::Gone;
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
                                    Sent::Failed => return Next::Gone,
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
                            Sent::Failed => return Next::Gone,
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
            Sent::Failed => Next::Gone,
        }
    }

    /// The server is done with a connection (it asked to close, a drain, a bad request): its
    /// write side is shut, so the client reads every byte written and then the end, and it
    /// stays in the set while what its client still sends is dropped, until the client closes
    /// too or [`LINGER`] passes. Closing at once with unread input would make the kernel reset
    /// the connection, and a reset client loses what it had not read yet. Its read side is
    /// never shut (a socket shut both ways answers new data with a reset too), so it is not
    /// idle: neither the sweeper nor a drain's shutting of idle connections touches it.
    fn close(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if shut_write(&conn.socket).is_err() {
            drop(self.release(slot));
            return;
        }
        let until = Instant::now() + LINGER;
        conn.closing = Some(until);
        conn.guard.set_idle(false);
        self.lingering.push_back((until, slot));
        self.discard(slot);
    }

    /// Reads and drops what a closing connection's client sent; closes it at the client's end
    /// of stream. A few reads per look: the set is level-triggered, so a client that keeps
    /// sending is looked at again, alongside the others, until its linger ends.
    fn discard(&mut self, slot: usize) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let ended = (0..DISCARD_READS).find_map(|_| match recv(&conn.socket, &mut self.input) {
            Ok(0) => Some(true),
            Ok(_) => None,
            Err(e) if is_again(&e) => Some(false),
            Err(_) => Some(true),
        });
        // `None`: still sending; it is looked at again.
        if ended == Some(true) {
            drop(self.release(slot));
        }
    }

    pub(super) fn release(&mut self, slot: usize) -> Option<PlainConn> {
        let conn = self.conns.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.tracker.set_in_loop(self.held());
        Some(conn)
    }

    fn hand_over(&self, conn: PlainConn, carried: Carried) {
        let PlainConn {
            guard,
            socket,
            peer,
            ..
        } = conn;
        self.service.handed_over();
        // Busy until its task says otherwise: it is in the middle of a request, and a drain or
        // the sweeper must not close it as idle.
        guard.set_idle(false);
        // SAFETY: `socket` is an open TCP socket this loop owned until now; the stream owns it
        // from here.
        let tcp = unsafe { TcpStream::from_raw_fd(socket.into_raw_fd()) };
        let shared = Shared {
            service: self.service.clone(),
            config: self.config,
            tracker: self.tracker.clone(),
            home: Some(self.returns.clone()),
        };
        spawn_local(async move {
            if let Err(e) = serve_stream(Stream::Plain(tcp), guard, peer, carried, shared).await {
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
