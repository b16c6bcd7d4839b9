//! A throwaway PostgreSQL per test, started through `scripts/pg.sh` on a free port with its own
//! data directory under the temp dir, so tests never touch a server the machine already runs.
//!
//! Also compiled into the server's own unit tests (`src/io/pg/tests.rs` includes this file with
//! `#[path]`), so it uses nothing but std.
#![allow(dead_code)] // each test binary uses a different subset

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// The database every throwaway server gets.
pub const DB: &str = "inplay";

/// A running throwaway PostgreSQL; stopped and deleted on drop.
pub struct Pg {
    dir: PathBuf,
    port: u16,
    running: bool,
}

impl Pg {
    /// Starts a fresh server on a free port (retrying on another port if one is taken between
    /// choosing and binding it).
    pub fn start() -> Pg {
        let dir = temp_dir();
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            match run_script(&["start", &path_str(&dir), &port.to_string(), DB]) {
                Ok(()) => {
                    return Pg {
                        dir,
                        port,
                        running: true,
                    }
                }
                // Usually the port was taken between choosing and binding it: try another.
                Err(e) => last = e,
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("throwaway PostgreSQL did not start: {last}");
    }

    /// The TCP port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its directory (data, socket and log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server (fast shutdown); the data stays for [`Pg::start_again`].
    pub fn stop(&mut self) {
        if self.running {
            run_script(&["stop", &path_str(&self.dir)])
                .unwrap_or_else(|e| panic!("stop PostgreSQL: {e}"));
            self.running = false;
        }
    }

    /// Starts the stopped server again, same directory and port.
    pub fn start_again(&mut self) {
        if !self.running {
            let (dir, port) = (path_str(&self.dir), self.port.to_string());
            run_script(&["start", &dir, &port, DB])
                .unwrap_or_else(|e| panic!("restart PostgreSQL: {e}"));
            self.running = true;
        }
    }

    /// Runs `sql` with psql and returns its unaligned output (`|` between columns, one row a
    /// line), trimmed. Panics if psql fails.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new(psql())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", DB, "-qAtX", "-v", "ON_ERROR_STOP=1"])
            .args(["-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `query` for a single integer (e.g. `SELECT count(*) ...`).
    pub fn count(&self, sql: &str) -> i64 {
        let text = self.query(sql);
        text.parse()
            .unwrap_or_else(|_| panic!("{sql:?} returned {text:?}, not an integer"))
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.running {
            let _ = run_script(&["stop", &path_str(&self.dir)]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `scripts/pg.sh` with `args`; its stderr is the error.
fn run_script(args: &[&str]) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| format!("run scripts/pg.sh: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/pg.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port")
}

/// A fresh, not yet existing directory under /tmp (the script creates it). Not `$TMPDIR`: the
/// `postgres` user must be able to reach it, and the socket path in it must stay short (unix
/// socket paths are limited to about 107 bytes).
fn temp_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = Path::new("/tmp");
    let base = if base.is_dir() {
        base.to_owned()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("inplay-pg-{}-{n}-{nanos}", std::process::id()))
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_owned()
}

/// psql from PATH, else the newest Debian server package's.
fn psql() -> PathBuf {
    let in_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("psql").is_file()))
        .unwrap_or(false);
    if in_path {
        return PathBuf::from("psql");
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/psql"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from("psql"))
}
