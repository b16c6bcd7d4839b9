//! A subscriber's WebSocket connection: the socket, the bytes received and not yet parsed,
//! and the masks of the frames it sends.

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tungstenite::handshake::client::generate_key;

use crate::ws_client::{client_frame, upgrade_answer, upgrade_request, Message, Reader};
use inplay_wire::ws::opcode;

/// Bytes asked of each `read`: frames are a few hundred bytes, so one read takes all a
/// server wrote to this connection since the last one.
const READ_CHUNK: usize = 4096;

/// One client connection (after [`upgrade`](Connection::upgrade), a WebSocket).
pub struct Connection {
    stream: TcpStream,
    /// Received bytes, parsed into messages.
    pub reader: Reader,
    mask: u32,
}

impl Connection {
    /// A connection over `stream`; `seed` varies its frame masks from other connections'.
    pub fn new(stream: TcpStream, seed: u32) -> Self {
        Self {
            stream,
            reader: Reader::default(),
            mask: seed ^ 0x9e37_79b9,
        }
    }

    /// Sends the upgrade request and checks the answer; bytes after it stay in the reader.
    pub async fn upgrade(&mut self, host: &str, port: u16, path: &str) -> Result<(), String> {
        let key = generate_key();
        let request = upgrade_request(host, port, path, &key);
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = Vec::with_capacity(256);
        let mut chunk = [0u8; 1024];
        loop {
            self.stream.readable().await.map_err(|e| e.to_string())?;
            let n = match self.stream.try_read(&mut chunk) {
                Ok(0) => return Err("closed during the upgrade".into()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.to_string()),
            };
            head.extend_from_slice(&chunk[..n]);
            if let Some(len) = upgrade_answer(&head, &key)? {
                self.reader.push(&head[len..]);
                return Ok(());
            }
        }
    }

    /// Reads what is there into the reader (waiting for something); 0 at the end of the stream.
    ///
    /// One `recv` per wake-up: a read that fills less than it asked for tells tokio the socket
    /// is drained, so the next call waits for readiness instead of trying a `recv` that would
    /// only say `WouldBlock` (half the generator's syscalls per message, when it read with
    /// `try_read`). Cancel-safe: dropped before it completes, it has read nothing.
    pub async fn read(&mut self) -> std::io::Result<usize> {
        let n = self.stream.read(self.reader.spare(READ_CHUNK)).await?;
        self.reader.filled(n);
        Ok(n)
    }

    /// Sends one client frame (masked, as a client must).
    pub async fn send(&mut self, op: u8, payload: &[u8]) -> std::io::Result<()> {
        // xorshift: masks differ frame to frame; they need not be secret here.
        self.mask ^= self.mask << 13;
        self.mask ^= self.mask >> 17;
        self.mask ^= self.mask << 5;
        let frame = client_frame(true, op, payload, self.mask.to_be_bytes());
        self.stream.write_all(&frame).await
    }

    /// Answers a server ping with its payload.
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), String> {
        self.send(opcode::PONG, payload)
            .await
            .map_err(|e| format!("pong: {e}"))
    }

    /// Says goodbye (1000) and waits for the server's close or the end of the stream, so
    /// neither side is left with unread bytes (a reset).
    pub async fn close(&mut self) {
        if self
            .send(opcode::CLOSE, &1000u16.to_be_bytes())
            .await
            .is_err()
        {
            return;
        }
        loop {
            loop {
                match self.reader.message() {
                    Ok(Some(Message::Close(_))) | Err(_) => return,
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                }
            }
            if !matches!(self.read().await, Ok(n) if n > 0) {
                return;
            }
        }
    }
}
