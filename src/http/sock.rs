//! The readiness loop's socket calls: none of them waits (`MSG_DONTWAIT`), so a connection
//! that would make the loop wait is handed to its own task instead.

use std::{
    io::{self, IoSlice},
    os::fd::{AsRawFd, OwnedFd},
};

use socket2::{SockRef, Socket};

use super::{Response, Status};

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

/// Writes all of `out` without waiting, and clears it; what the socket would not take comes
/// back (it is still owed to the client, in order).
pub(super) fn send_all(socket: &OwnedFd, out: &mut Vec<u8>) -> Result<(), Vec<u8>> {
    send_pair(socket, out, &[])
}

/// Writes `head` then `body` without waiting, in one `sendmsg`, and clears `head`; what the
/// socket would not take comes back as one buffer. An error other than a full buffer comes back
/// the same way: the connection's own task will meet it again and end.
pub(super) fn send_pair(socket: &OwnedFd, head: &mut Vec<u8>, body: &[u8]) -> Result<(), Vec<u8>> {
    let total = head.len() + body.len();
    let mut sent = 0;
    while sent < total {
        let slices = if sent < head.len() {
            [IoSlice::new(&head[sent..]), IoSlice::new(body)]
        } else {
            [IoSlice::new(&body[sent - head.len()..]), IoSlice::new(&[])]
        };
        match SockRef::from(socket).send_vectored_with_flags(&slices, libc::MSG_DONTWAIT) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                let mut rest = Vec::with_capacity(total - sent);
                for slice in &slices {
                    rest.extend_from_slice(slice);
                }
                head.clear();
                return Err(rest);
            }
        }
    }
    head.clear();
    Ok(())
}

/// Tells a connection over the limit why it is closed (a new socket's send buffer is empty,
/// so the short answer goes out at once).
pub(super) fn refuse(socket: &Socket) {
    let mut out = Vec::new();
    Response::error(Status::UNAVAILABLE, "server busy: connection limit reached")
        .encode_last(&mut out);
    let _ = socket.send_with_flags(&out, libc::MSG_DONTWAIT);
}

pub(super) fn is_again(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
