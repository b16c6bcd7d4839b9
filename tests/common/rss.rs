//! The server process's resident memory, for tests that bound what a client can make it hold.

use std::time::{Duration, Instant};

use super::TestServer;

impl TestServer {
    /// The server's resident memory now, KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// The server's resident memory once it has stopped growing (the demo feed fills the world
    /// for a few seconds after start): two reads 500 ms apart within 256 KiB, bounded at 30 s.
    pub fn settled_rss_kib(&self) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = self.rss_kib();
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = self.rss_kib();
            if now.abs_diff(last) < 256 || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }
}
