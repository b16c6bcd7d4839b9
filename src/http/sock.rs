//! The readiness loop's socket calls: none of them waits (`MSG_DONTWAIT`), so a connection
//! that would make the loop wait is handed to its own task instead.

use std::{
    io::{self, IoSlice},
    os::fd::{AsFd, AsRawFd, OwnedFd},
};

use socket2::{SockRef, Socket};

use super::answer::encode_busy;

/// Reads what is there: `Ok(0)` at end of stream, `WouldBlock` if nothing.
pub(super) fn recv(socket: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is writable for its length; the descriptor is open.
    let n = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// How a write that does not wait went.
pub(super) enum Sent {
    /// All of it.
    All,
    /// The socket's buffer filled: these bytes are still owed to the client, in order.
    Short(Vec<u8>),
    /// The connection is broken (reset, closed for writing): nothing more can reach it.
    Failed,
}

/// Writes all of `out` without waiting, and clears it.
pub(super) fn send_all(socket: &OwnedFd, out: &mut Vec<u8>) -> Sent {
    send_pair(socket, out, &[])
}

/// Writes `head` then `body` without waiting, in one `sendmsg` while the socket takes them, and
/// clears `head`.
pub(super) fn send_pair(socket: &OwnedFd, head: &mut Vec<u8>, body: &[u8]) -> Sent {
    let total = head.len() + body.len();
    let mut sent = 0;
    let outcome = loop {
        if sent == total {
            break Sent::All;
        }
        let slices = if sent < head.len() {
            [IoSlice::new(&head[sent..]), IoSlice::new(body)]
        } else {
            [IoSlice::new(&body[sent - head.len()..]), IoSlice::new(&[])]
        };
        match SockRef::from(socket).send_vectored_with_flags(&slices, libc::MSG_DONTWAIT) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut rest = Vec::with_capacity(total - sent);
                for slice in &slices {
                    rest.extend_from_slice(slice);
                }
                break Sent::Short(rest);
            }
            Err(_) => break Sent::Failed,
        }
    };
    head.clear();
    outcome
}

/// Tells a connection over the limit why it is closed (a new socket's send buffer is empty,
/// so the short answer goes out at once).
pub(super) fn refuse(socket: &Socket) {
    let mut out = Vec::new();
    encode_busy(&mut out);
    let _ = socket.send_with_flags(&out, libc::MSG_DONTWAIT);
}

pub(super) fn is_again(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Shuts the write side: the client reads what was written, then the end of the stream.
pub(super) fn shut_write(socket: &impl AsFd) -> io::Result<()> {
    SockRef::from(socket).shutdown(std::net::Shutdown::Write)
}
