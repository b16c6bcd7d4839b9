//! Waiting on the main thread for the signals that stop the server (SIGINT, SIGTERM).
//!
//! Not signal-hook's iterator: it panics on any read error but EINTR, and a debugger or tracer
//! attaching to the process (`gdb -p`, `strace -p`) makes the blocked read return the kernel's
//! internal restart code (errno 512), so attaching gdb to a live server killed it. Here the
//! handler records the signal's number and then wakes a socket pair; a failed read is retried.

use std::{
    io::{self, Read},
    os::unix::net::UnixStream,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use signal_hook::consts::signal::{SIGINT, SIGTERM};
use tracing::warn;

/// The stop signals, installed; [`StopSignals::wait`] blocks until one arrives.
#[derive(Debug)]
pub(crate) struct StopSignals {
    /// The last stop signal's number, 0 once taken.
    last: Arc<AtomicUsize>,
    read: UnixStream,
}

impl StopSignals {
    /// Installs the handlers.
    ///
    /// # Errors
    /// The socket pair or a handler could not be set up.
    pub fn install() -> io::Result<Self> {
        let (read, write) = UnixStream::pair()?;
        let last = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            // Registration order is the order the actions run in: the number is stored before
            // the wake-up byte is written.
            signal_hook::flag::register_usize(sig, last.clone(), sig as usize)?;
            signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
        }
        Ok(Self { last, read })
    }

    /// Blocks until a stop signal arrives and returns its number.
    pub fn wait(&mut self) -> i32 {
        wait_on(&mut self.read, &self.last)
    }
}

/// Reads wake-up bytes from `read` until `last` holds a signal; any read error is retried
/// (after a pause once it repeats, so a persistent error cannot spin a core).
fn wait_on(read: &mut impl Read, last: &AtomicUsize) -> i32 {
    let mut buf = [0u8; 16];
    let mut failures = 0u32;
    loop {
        let sig = last.swap(0, Ordering::SeqCst);
        if sig != 0 {
            return i32::try_from(sig).unwrap_or(SIGTERM);
        }
        match read.read(&mut buf) {
            Ok(0) => {
                // Cannot happen while the handlers hold the write end; never spin on it.
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(_) => failures = 0,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    warn!(error = %e, "reading the signal pipe failed; retrying");
                }
                if failures > 1 {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that fails as a traced process's blocked read does, then wakes.
    struct Flaky {
        errors: Vec<io::Error>,
        last: Arc<AtomicUsize>,
        signal: usize,
        reads: usize,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            if let Some(e) = self.errors.pop() {
                return Err(e);
            }
            self.last.store(self.signal, Ordering::SeqCst);
            buf[0] = 1;
            Ok(1)
        }
    }

    #[test]
    fn read_errors_are_retried_not_fatal() {
        let last = Arc::new(AtomicUsize::new(0));
        let mut r = Flaky {
            errors: vec![
                io::Error::from_raw_os_error(512), // ERESTARTSYS, seen under gdb -p
                io::Error::from(io::ErrorKind::Interrupted),
                io::Error::from_raw_os_error(libc::EBADF),
            ],
            last: last.clone(),
            signal: SIGINT as usize,
            reads: 0,
        };
        assert_eq!(wait_on(&mut r, &last), SIGINT);
        assert_eq!(r.reads, 4);
        assert_eq!(last.load(Ordering::SeqCst), 0, "the signal is taken");
    }

    #[test]
    fn a_raised_signal_is_returned() {
        let mut signals = StopSignals::install().expect("install");
        signal_hook::low_level::raise(SIGTERM).expect("raise");
        assert_eq!(signals.wait(), SIGTERM);
    }
}
