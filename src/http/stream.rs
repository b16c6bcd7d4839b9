//! A client connection as the HTTP layer and WebSocket sessions see it: a plain TCP socket, or
//! TLS over one (`[tls]`).
//!
//! An enum rather than a type parameter: `Reply::Upgrade` hands the connection to a boxed
//! session closure, so the connection type has to be one concrete type anyway, and an enum keeps
//! `serve`, the routes and the sessions free of a stream parameter. The plain path pays one
//! predictable branch per call and no allocation; the TLS state (a `rustls::ServerConnection`,
//! several KiB) is boxed so a plain connection's future stays as small as before.

use std::{
    io::{self, IoSlice},
    os::fd::{AsRawFd, BorrowedFd, RawFd},
    pin::Pin,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::server::TlsStream;
use glommio::net::TcpStream;
use socket2::SockRef;

/// One client connection: plain TCP or TLS.
#[derive(Debug)]
pub(crate) enum Stream {
    /// Plain HTTP and WebSocket.
    Plain(TcpStream),
    /// HTTPS and WSS, after a completed handshake.
    Tls(Box<TlsStream<TcpStream>>),
}

// === impl Stream ===

impl Stream {
    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => s.get_ref().0,
        }
    }

    /// Reads some bytes. Over TLS: decrypted bytes, as many as the records received hold.
    ///
    /// # Errors
    /// The socket's error, `TimedOut` past the read timeout, or a TLS protocol error.
    pub async fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf).await,
            Self::Tls(s) => s.read(buf).await,
        }
    }

    /// Writes all of `buf` to the socket. Over TLS the records are flushed too: rustls may
    /// hold encrypted bytes back when the socket would block, and nothing else would send them.
    ///
    /// # Errors
    /// The socket's error.
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.write_all(buf).await,
            Self::Tls(s) => {
                s.write_all(buf).await?;
                s.flush().await
            }
        }
    }

    /// Writes `head` and then `body`. Over plain TCP both go to the kernel in one `sendmsg`
    /// when the socket has room for them, so the head does not leave as a TCP segment of its
    /// own (the socket is `TCP_NODELAY`): a system call and a segment fewer per response. What
    /// that call does not take (the send buffer is full) is written as [`Self::send`] writes.
    /// Over TLS: both into the TLS stream, then one flush.
    ///
    /// # Errors
    /// The socket's error.
    pub async fn send_pair(&mut self, head: &[u8], body: &[u8]) -> io::Result<()> {
        let taken = match self {
            Self::Plain(s) => send_now(s, head, body)?,
            Self::Tls(s) => {
                s.write_all(head).await?;
                s.write_all(body).await?;
                return s.flush().await;
            }
        };
        if taken < head.len() {
            self.send(&head[taken..]).await?;
            self.send(body).await
        } else if taken < head.len() + body.len() {
            self.send(&body[taken - head.len()..]).await
        } else {
            Ok(())
        }
    }

    /// Sets the socket's read timeout (it bounds a TLS read too: the socket read inside it
    /// fails with `TimedOut`).
    ///
    /// # Errors
    /// A zero duration.
    pub fn set_read_timeout(&self, wait: Option<Duration>) -> io::Result<()> {
        self.tcp()
            .set_read_timeout(wait)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
    }

    /// Sets the socket's write timeout: a write the client does not make room for within
    /// `wait` fails with `TimedOut` (over TLS too, as for reads).
    ///
    /// # Errors
    /// A zero duration.
    pub fn set_write_timeout(&self, wait: Option<Duration>) -> io::Result<()> {
        self.tcp()
            .set_write_timeout(wait)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
    }

    /// Ends a TLS connection politely: `close_notify`, so a client reading to the end knows
    /// nothing was cut off. Bounded by `wait`, since a client that stopped reading would
    /// otherwise hold the connection open. Does nothing for plain TCP (closing the socket says
    /// it all).
    pub async fn close_tls(&mut self, wait: Duration) {
        if let Self::Tls(s) = self {
            let _ = s.get_ref().0.set_write_timeout(Some(wait));
            let _ = s.close().await;
        }
    }

    /// Ends a connection the server is done with so that its client gets everything written:
    /// over TLS a `close_notify` first ([`Stream::close_tls`]); then the write side is shut
    /// and what the client still sends is read and dropped until it closes too, for at most
    /// [`LINGER`]. Closing with unread input would make the kernel reset the connection, and a
    /// reset client loses what it had not read yet: the end of our last response.
    pub async fn finish(&mut self, wait: Duration) {
        self.close_tls(wait).await;
        let tcp = match self {
            Self::Plain(s) => s,
            Self::Tls(s) => s.get_mut().0,
        };
        // SAFETY: the descriptor is `tcp`'s open socket, borrowed for this call only.
        let fd = unsafe { BorrowedFd::borrow_raw(tcp.as_raw_fd()) };
        if super::sock::shut_write(&fd).is_err() {
            return; // not connected any more: nothing to wait for
        }
        let until = Instant::now() + LINGER;
        // On the heap: a buffer in the future would cost every connection's task its size.
        let mut scrap = vec![0u8; 2048];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match tcp.read(&mut scrap).await {
                Ok(n) if n > 0 => {}
                _ => return, // the client's end of stream, an error, or the time is up
            }
        }
    }
}

/// How long a connection the server closes keeps reading what its client still sends
/// ([`Stream::finish`]).
pub(crate) const LINGER: Duration = Duration::from_secs(2);

/// One non-blocking `sendmsg` of `head` and `body`: how many bytes the kernel took (0 when the
/// send buffer is full). glommio's own writes start the same way (`MSG_DONTWAIT`) before they
/// wait on the ring; the socket itself stays blocking for them.
fn send_now(tcp: &TcpStream, head: &[u8], body: &[u8]) -> io::Result<usize> {
    // SAFETY: the descriptor is `tcp`'s open socket, and `tcp` is borrowed for as long as the
    // `BorrowedFd` (this call).
    let fd = unsafe { BorrowedFd::borrow_raw(tcp.as_raw_fd()) };
    let slices = [IoSlice::new(head), IoSlice::new(body)];
    match SockRef::from(&fd).send_vectored_with_flags(&slices, libc::MSG_DONTWAIT) {
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        self.tcp().as_raw_fd()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_close(cx),
            Self::Tls(s) => Pin::new(s).poll_close(cx),
        }
    }
}
