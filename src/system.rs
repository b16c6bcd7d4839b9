//! What the operating system gives the server: cpus it may run on, locked-memory limit, and a
//! free port.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

use crate::error::StartError;

/// The cpus this process may run on (respects `taskset`), ascending.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set, and sched_getaffinity
    // writes at most size_of::<cpu_set_t>() bytes into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        return (0..n).collect();
    }
    // SAFETY: CPU_ISSET reads the set initialised above, for indices below CPU_SETSIZE.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Fails with a clear message unless RLIMIT_MEMLOCK allows `need` bytes.
pub(crate) fn check_memlock(need: u64) -> Result<(), StartError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return Ok(()); // unknown: let glommio decide
    }
    if lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur >= need {
        return Ok(());
    }
    Err(StartError::MemLock {
        have_kib: lim.rlim_cur / 1024,
        need_kib: need.div_ceil(1024),
    })
}

/// Whether something accepts connections on `addr` (the unspecified address probes loopback).
fn listening(addr: SocketAddr) -> bool {
    let mut target = addr;
    if target.ip().is_unspecified() {
        target.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    // A blocking connect is fine here: this runs once, on the main thread, before any shard.
    std::net::TcpStream::connect_timeout(&target, std::time::Duration::from_millis(500)).is_ok()
}

/// Holds the chosen port until every shard has bound it.
pub(crate) struct PortReservation {
    pub addr: SocketAddr,
    _socket: Option<Socket>,
}

/// Makes sure `addr` is free (a stale server would silently share it through SO_REUSEPORT) and,
/// for port 0, picks a free port and reserves it with a SO_REUSEPORT socket the shards can join.
pub(crate) fn reserve_port(addr: SocketAddr) -> Result<PortReservation, StartError> {
    let port_err = |e: std::io::Error| StartError::Port {
        addr: addr.to_string(),
        reason: e.to_string(),
    };
    if addr.port() != 0 {
        match TcpListener::bind(addr) {
            Ok(probe) => drop(probe),
            // EADDRINUSE also comes from the TIME-WAIT leftovers of a server that just stopped
            // (its sockets were SO_REUSEPORT, this probe is not). Only a listener is a reason to
            // refuse, and a listener accepts a connection.
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && !listening(addr) => {}
            Err(e) => return Err(port_err(e)),
        }
        return Ok(PortReservation {
            addr,
            _socket: None,
        });
    }
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(port_err)?;
    socket.set_reuse_port(true).map_err(port_err)?;
    socket.bind(&addr.into()).map_err(port_err)?;
    let bound = socket
        .local_addr()
        .map_err(port_err)?
        .as_socket()
        .ok_or_else(|| StartError::Port {
            addr: addr.to_string(),
            reason: "not an inet address".into(),
        })?;
    Ok(PortReservation {
        addr: bound,
        _socket: Some(socket),
    })
}
