//! Taking connections: the shard's listening socket, and the loop that accepts from it.

use std::{
    os::fd::{FromRawFd, IntoRawFd},
    rc::Rc,
    time::Duration,
};

use futures_channel::oneshot;
use futures_lite::future;
use futures_rustls::TlsAcceptor;
use glommio::{net::TcpListener, spawn_local, timer::sleep};
use tracing::{debug, warn};

use super::Shard;
use crate::{
    api::Api,
    http::{serve, FastPath},
};

impl Shard {
    /// Takes connections until `stop` fires (the drain): plain ones through the readiness loop
    /// (`http.epoll`), which then serves the connections it holds until they close; otherwise
    /// one task each.
    pub(super) async fn accept_loop(
        self: Rc<Self>,
        mut listener: std::net::TcpListener,
        stop: oneshot::Receiver<()>,
    ) {
        let api = Rc::new(Api::new(self.clone()));
        if self.config.conn.epoll && self.config.tls.is_none() {
            let fast = FastPath::new(
                listener,
                api.clone(),
                self.config.conn,
                self.tracker.clone(),
                self.config.max_connections,
            );
            match fast {
                Ok(fast) => return fast.run(stop).await,
                Err((e, back)) => {
                    warn!(shard = self.id, error = %e, "No readiness loop; one task per connection");
                    listener = back;
                }
            }
        }
        // SAFETY: the listener's descriptor moves to glommio's listener, which owns it now.
        let listener = unsafe { TcpListener::from_raw_fd(listener.into_raw_fd()) };
        // Dropping the listener when the drain begins makes the kernel stop routing here.
        future::or(self.accept_tasks(listener, api), async {
            let _ = stop.await;
        })
        .await;
    }

    /// Accepts forever, one task per connection.
    async fn accept_tasks(&self, listener: TcpListener, api: Rc<Api>) {
        let tls = self
            .config
            .tls
            .clone()
            .map(|c| Rc::new(TlsAcceptor::from(c)));
        loop {
            let stream = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    warn!(shard = self.id, error = %e, "Accept failed");
                    sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if self.tracker.open() >= self.config.max_connections {
                debug!(shard = self.id, "Connection limit reached; refusing");
                // A plaintext 503 means nothing to a TLS client: just close.
                if tls.is_none() {
                    spawn_local(crate::api::refuse_busy(stream)).detach();
                }
                continue;
            }
            let (api, tracker, conn) = (api.clone(), self.tracker.clone(), self.config.conn);
            let tls = tls.clone();
            spawn_local(async move {
                if let Err(e) = serve(stream, tls, api, conn, tracker).await {
                    debug!(error = %e, "Connection ended with an error");
                }
            })
            .detach();
        }
    }
}

/// The shard's own listening socket: `SO_REUSEPORT`, so every shard binds the same address and
/// the kernel spreads connections over them (as glommio's `TcpListener::bind` does; the
/// readiness loop needs the socket itself, which glommio's listener does not give out).
///
/// # Errors
/// The address is taken or not this machine's.
pub(super) fn bind(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}
