//! Start-up errors: each one a single line telling the operator what to change.

use thiserror::Error;

/// Why the server could not start.
#[derive(Debug, Error)]
pub(crate) enum StartError {
    /// Bad command line.
    #[error("{0}\nusage: inplay [--config FILE] [--pretty] [--help] [--version]")]
    Usage(String),
    /// Invalid configuration (file or environment).
    #[error("configuration error: {0}")]
    Config(String),
    /// Locked memory below what io_uring needs.
    #[error(
        "RLIMIT_MEMLOCK is {have_kib} KiB but io_uring needs at least {need_kib} KiB: \
         run `ulimit -l {need_kib}` (or higher) before starting inplay, or set `LimitMEMLOCK=` \
         in its systemd unit / `memlock` in /etc/security/limits.conf"
    )]
    MemLock { have_kib: u64, need_kib: u64 },
    /// The port is taken (often by a stale inplay: SO_REUSEPORT would silently share it).
    #[error("cannot listen on {addr}: {reason}; stop whatever holds it or set PORT / server.port")]
    Port { addr: String, reason: String },
    /// A shard could not bind.
    #[error("{0}")]
    Bind(String),
    /// An executor could not start.
    #[error(
        "a shard's executor failed to start ({0}); io_uring must be available \
         (Linux ≥ 5.8, not disabled by sysctl kernel.io_uring_disabled or a seccomp profile) \
         and RLIMIT_MEMLOCK must allow server.io_memory_kib"
    )]
    Executor(String),
}

impl StartError {
    /// Process exit code: 64 (EX_USAGE) for usage/config errors, 69 (EX_UNAVAILABLE) otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) | Self::Config(_) => 64,
            _ => 69,
        }
    }
}
