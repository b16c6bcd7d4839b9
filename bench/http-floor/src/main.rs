//! The floor under HTTP throughput on this machine: a server that does nothing but the system
//! calls every keep-alive HTTP/1.1 server must make.
//!
//! One thread, one epoll instance, non-blocking sockets. Per readable connection: one `recv`,
//! then, for each complete request head in what was read (`\r\n\r\n`), the canned response of
//! its kind, written with one `send`. No parsing beyond finding the path, no routing table, no
//! JSON, no date, no logging, no allocation per request. A response is a fixed byte string
//! built at start-up, padded so that head and body together are exactly the size asked for:
//! the size the real server's response has, so both move the same bytes.
//!
//! `bench/compare.sh` runs it beside inplay and the reference servers (`SERVERS="... floor"`)
//! with the sizes inplay's responses had in the same round, so the table shows how far any
//! server could go here: the kernel's TCP work for one request and one response, plus the load
//! generator's.
//!
//! Usage: `http-floor PORT [SCORES_BYTES] [MARKETS_BYTES]` (defaults 493 and 153242: inplay's
//! `/api/scores/:id` and `/api/markets/football` with the demo feed). A path starting with
//! `/api/markets/` gets the markets response, anything else the scores one. Binds 127.0.0.1
//! only. Stops on SIGTERM or SIGINT (the default action).

use std::{
    collections::VecDeque,
    io,
    net::{Ipv4Addr, SocketAddrV4, TcpListener},
    os::fd::{AsRawFd, RawFd},
};

/// Bytes read per `recv`: many request heads (wrk's are ~100 bytes).
const READ: usize = 16 * 1024;

/// Largest request head kept while waiting for its end; past it the connection is closed.
const MAX_HEAD: usize = 64 * 1024;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 256;

/// The listener's epoll token (connections use their descriptor).
const LISTENER: u64 = u64::MAX;

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = match args.next().map(|p| p.parse()) {
        Some(Ok(p)) => p,
        _ => {
            eprintln!("usage: http-floor PORT [SCORES_BYTES] [MARKETS_BYTES]");
            std::process::exit(64);
        }
    };
    let size = |arg: Option<String>, default: usize| -> usize {
        arg.and_then(|a| a.parse().ok()).unwrap_or(default)
    };
    let scores = response(size(args.next(), 493));
    let markets = response(size(args.next(), 153_242));
    if let Err(e) = serve(port, &scores, &markets) {
        eprintln!("http-floor: {e}");
        std::process::exit(1);
    }
}

/// A `200` whose head and body together are `total` bytes (at least the head's own size).
fn response(total: usize) -> Vec<u8> {
    let head_for = |body: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body}\r\n\r\n")
    };
    // The head's length depends on the body's digits: settle it in two steps.
    let mut body = total.saturating_sub(head_for(total).len());
    body = total.saturating_sub(head_for(body).len()).max(2);
    let mut out = head_for(body).into_bytes();
    out.push(b'"');
    out.resize(out.len() + body - 2, b'x');
    out.push(b'"');
    out
}

/// One connection: the bytes of an unfinished request head, and what is left to send.
#[derive(Default)]
struct Conn {
    head: Vec<u8>,
    /// Responses owed, in order: (markets or not, bytes of it already sent).
    owed: VecDeque<(bool, usize)>,
    /// Whether epoll also reports writability (only while a response is stuck).
    polling_out: bool,
}

fn serve(port: u16, scores: &[u8], markets: &[u8]) -> io::Result<()> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
    listener.set_nonblocking(true)?;
    // SAFETY: plain epoll and socket calls on descriptors this function owns; buffers passed
    // to the kernel outlive each call.
    let ep = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    add(ep, listener.as_raw_fd(), libc::EPOLLIN as u32, LISTENER)?;
    eprintln!(
        "http-floor on 127.0.0.1:{port}: scores {} B, markets {} B per response",
        scores.len(),
        markets.len()
    );
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];
    let mut buf = vec![0u8; READ];
    loop {
        let k = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), EVENTS as i32, -1) };
        if k < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for e in &events[..k as usize] {
            if e.u64 == LISTENER {
                accept_all(ep, &listener, &mut conns);
                continue;
            }
            let fd = e.u64 as RawFd;
            let Some(Some(conn)) = conns.get_mut(fd as usize) else {
                continue;
            };
            let open = (e.events & libc::EPOLLIN as u32 == 0 || read(fd, conn, &mut buf))
                && write(fd, conn, scores, markets);
            if !open {
                conns[fd as usize] = None;
                unsafe { libc::close(fd) };
            } else if conn.polling_out == conn.owed.is_empty() {
                // A response got stuck, or the stuck one went out: change what epoll reports.
                conn.polling_out = !conn.owed.is_empty();
                let out = if conn.polling_out {
                    libc::EPOLLOUT as u32
                } else {
                    0
                };
                let mut ev = libc::epoll_event {
                    events: libc::EPOLLIN as u32 | out,
                    u64: fd as u64,
                };
                unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_MOD, fd, &mut ev) };
            }
        }
    }
}

fn accept_all(ep: RawFd, listener: &TcpListener, conns: &mut Vec<Option<Conn>>) {
    loop {
        let fd = unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if fd < 0 {
            return; // EAGAIN, or a failed accept: wait for the next readiness
        }
        let one: libc::c_int = 1;
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if add(ep, fd, libc::EPOLLIN as u32, fd as u64).is_err() {
            unsafe { libc::close(fd) };
            continue;
        }
        let i = fd as usize;
        if conns.len() <= i {
            conns.resize_with(i + 1, || None);
        }
        conns[i] = Some(Conn::default());
    }
}

/// One `recv`; every complete request head in it owes a response. `false`: close.
fn read(fd: RawFd, conn: &mut Conn, buf: &mut [u8]) -> bool {
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == 0 {
        return false;
    }
    if n < 0 {
        return io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock;
    }
    let got = &buf[..n as usize];
    let Conn { head, owed, .. } = conn;
    if head.is_empty() {
        // The common case: whole heads in this read, nothing to copy.
        let used = heads(got, owed);
        head.extend_from_slice(&got[used..]);
    } else {
        head.extend_from_slice(got);
        let used = heads(head, owed);
        head.drain(..used);
    }
    head.len() <= MAX_HEAD
}

/// Queues a response for each complete head in `data`; returns the bytes they span.
fn heads(data: &[u8], owed: &mut VecDeque<(bool, usize)>) -> usize {
    let mut start = 0;
    while let Some(end) = find(&data[start..], b"\r\n\r\n") {
        owed.push_back((is_markets(&data[start..start + end]), 0));
        start += end + 4;
    }
    start
}

/// Sends what is owed until done or the socket is full. `false`: close.
fn write(fd: RawFd, conn: &mut Conn, scores: &[u8], markets: &[u8]) -> bool {
    while let Some(&mut (m, ref mut sent)) = conn.owed.front_mut() {
        let bytes = if m { markets } else { scores };
        let left = &bytes[*sent..];
        let n = unsafe { libc::send(fd, left.as_ptr().cast(), left.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            return io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock;
        }
        *sent += n as usize;
        if *sent < bytes.len() {
            return true;
        }
        conn.owed.pop_front();
    }
    true
}

fn is_markets(head: &[u8]) -> bool {
    let path = head.splitn(3, |&b| b == b' ').nth(1).unwrap_or_default();
    path.starts_with(b"/api/markets/")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn add(ep: RawFd, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events, u64: token };
    check(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) }).map(drop)
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}
