//! A shard's epoll set of plain HTTP connections, waited on through glommio's ring.
//!
//! Why: glommio waits for a socket by arming one io_uring poll per read (and arms it early,
//! right after each read that did not fill the buffer). Every poll that fires comes back as
//! task work with a reschedule interrupt on the shard's cpu: ~0.15 interrupts per request at
//! 100k requests/s, measured in `/proc/interrupts`. One epoll set per shard turns that into one
//! poll per *batch*: while the shard is busy, connections that become readable only join the
//! set's ready list, and the next [`Epoll::ready`] takes them all in one system call, the way
//! `bench/http-floor` does.
//!
//! Waiting when nothing is ready: glommio has no public "wait until this descriptor is
//! readable", but every stream it wraps starts with exactly that poll armed. [`Epoll::readable`]
//! wraps a duplicate of the epoll descriptor in a glommio `TcpStream` and reads from it once:
//! the read waits for the armed poll, then fails (`ENOTSOCK`), and the epoll set has events.
//! `tests` below checks that it still waits, so a glommio release that stops arming the poll
//! fails a test instead of spinning a shard; the loop in [`super::fast`] also backs off if
//! wake-ups keep finding nothing.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
};

use futures_lite::AsyncReadExt;

/// The events a connection or listener is registered for: readable, or the peer hung up.
/// Level-triggered, so a descriptor with bytes left after one `recv` is reported again.
const INTEREST: u32 = (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;

/// One epoll instance.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

// === impl Epoll ===

impl Epoll {
    /// A new, empty set.
    ///
    /// # Errors
    /// `epoll_create1`'s (the descriptor limit).
    pub fn new() -> io::Result<Self> {
        // SAFETY: no pointers; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Adds `fd`, reported with `token`.
    ///
    /// # Errors
    /// `epoll_ctl`'s.
    pub fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: INTEREST,
            u64: token,
        };
        // SAFETY: `event` is a valid epoll_event for the duration of the call.
        let rc =
            unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Removes `fd` (before it is handed to another owner; a closed descriptor leaves the set
    /// by itself).
    pub fn remove(&self, fd: RawFd) {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL since Linux 2.6.9.
        unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    /// Fills `events` with what is ready now, without waiting; returns how many.
    pub fn ready(&self, events: &mut [libc::epoll_event]) -> usize {
        let max = i32::try_from(events.len()).unwrap_or(i32::MAX);
        // SAFETY: `events` is writable for `max` entries.
        let n = unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, 0) };
        usize::try_from(n).unwrap_or(0) // EINTR: nothing this time
    }

    /// Waits (on the shard's ring, so other tasks run meanwhile) until the set has something
    /// ready. May return early; callers look with [`Self::ready`] and wait again.
    pub async fn readable(&self) {
        // SAFETY: duplicating a descriptor we own; the duplicate is owned by `waiter` below.
        let dup = unsafe { libc::fcntl(self.fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            // Out of descriptors: nap instead, the listener is failing too.
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
            return;
        }
        // SAFETY: `dup` is a fresh descriptor nothing else owns; the stream closes it on drop.
        // It is never used as a socket: glommio arms a POLLIN poll on it at construction, the
        // read below waits for that poll and then fails with ENOTSOCK.
        let mut waiter = unsafe { glommio::net::TcpStream::from_raw_fd(dup) };
        let mut byte = [0u8; 1];
        let _ = waiter.read(&mut byte).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{cell::Cell, io::Write, os::unix::net::UnixStream, rc::Rc, time::Duration};

    /// `readable` must wait for an event, not return at once: the fast path's idle cpu depends
    /// on it (and on glommio arming a poll on every stream it wraps).
    #[test]
    fn readable_waits_for_an_event() {
        glommio::LocalExecutorBuilder::default()
            .spawn(|| async {
                let epoll = Rc::new(Epoll::new().unwrap());
                let (mut a, b) = UnixStream::pair().unwrap();
                epoll.add(b.as_raw_fd(), 7).unwrap();
                let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
                assert_eq!(epoll.ready(&mut events), 0);

                let woke = Rc::new(Cell::new(false));
                let waiter = glommio::spawn_local({
                    let (epoll, woke) = (epoll.clone(), woke.clone());
                    async move {
                        epoll.readable().await;
                        woke.set(true);
                    }
                });
                glommio::timer::sleep(Duration::from_millis(100)).await;
                assert!(!woke.get(), "readable returned with nothing ready");

                a.write_all(b"x").unwrap();
                glommio::timer::timeout(Duration::from_secs(5), async {
                    waiter.await;
                    Ok(())
                })
                .await
                .expect("readable did not wake on an event");
                assert_eq!(epoll.ready(&mut events), 1);
                assert_eq!({ events[0].u64 }, 7);

                epoll.remove(b.as_raw_fd());
                assert_eq!(epoll.ready(&mut events), 0);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
