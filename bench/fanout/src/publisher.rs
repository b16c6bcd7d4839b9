//! The publisher: `PUBLISH match:<id> <update>` at a steady rate from one blocking Redis
//! connection, on a plain thread of its own.
//!
//! Update `n` of match `j` is due at `start + (n·M + j) / (rate·M)` seconds, so the M·rate
//! messages of each second are spread evenly rather than sent in bursts. Each message's `sentAt`
//! is read just before its `PUBLISH`, from the same clock the subscribers read, so lateness of
//! the publisher itself never counts as delivery latency. If the publisher falls behind (a busy
//! cpu), it publishes as fast as it can until it is back on schedule and reports how far behind
//! it was.

use std::time::{Duration, Instant};

use crate::{
    clock::unix_micros,
    frame::{update_payload, WARMUP_PAYLOAD},
};

/// What to publish.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Match ids, M of them.
    pub ids: Vec<String>,
    /// Updates per second per match.
    pub rate: f64,
    /// Updates per match.
    pub count: u64,
}

/// What was published.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Updates tried per match: numbers `0..per_match[j]` of match `j` were due and sent.
    pub per_match: Vec<u64>,
    /// Of those, the ones whose `PUBLISH` failed, per match (never expected to arrive).
    pub failed_per_match: Vec<u64>,
    /// Fewest Redis subscribers any `PUBLISH` reached (0: the server is not subscribed).
    pub receivers_min: Option<i64>,
    /// When the first and the last update went out, unix µs.
    pub first_us: Option<u64>,
    pub last_us: Option<u64>,
    /// Furthest the publisher fell behind its schedule.
    pub behind_max: Duration,
    /// Publishing stopped at the deadline, before every update went out.
    pub cut_short: bool,
}

impl Published {
    /// Updates that went out, over all matches.
    pub fn total(&self) -> u64 {
        self.per_match.iter().sum::<u64>() - self.errors()
    }

    /// `PUBLISH` commands that failed.
    pub fn errors(&self) -> u64 {
        self.failed_per_match.iter().sum()
    }

    /// Updates of match `j` that went out.
    pub fn ok_of(&self, j: usize) -> u64 {
        self.per_match[j] - self.failed_per_match[j]
    }
}

/// A blocking connection to `url`, with short timeouts.
pub fn connect(url: &str) -> Result<redis::Connection, String> {
    let client = redis::Client::open(url).map_err(|e| format!("redis url {url:?}: {e}"))?;
    let conn = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .map_err(|e| format!("cannot connect to redis at {url}: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .and_then(|()| conn.set_write_timeout(Some(Duration::from_secs(5))))
        .map_err(|e| format!("redis timeouts: {e}"))?;
    Ok(conn)
}

/// Publishes the (uncounted) warm-up message to every match; returns the fewest receivers.
pub fn warm_up(conn: &mut redis::Connection, ids: &[String]) -> Result<i64, String> {
    let mut fewest = i64::MAX;
    for id in ids {
        let n = publish(conn, id, WARMUP_PAYLOAD).map_err(|e| format!("PUBLISH failed: {e}"))?;
        fewest = fewest.min(n);
    }
    Ok(if ids.is_empty() { 0 } else { fewest })
}

/// Publishes `plan` on schedule until done or `deadline`.
pub fn run(conn: &mut redis::Connection, url: &str, plan: &Plan, deadline: Instant) -> Published {
    let m = plan.ids.len();
    let mut out = Published {
        per_match: vec![0; m],
        failed_per_match: vec![0; m],
        ..Published::default()
    };
    if m == 0 {
        return out;
    }
    let step = Duration::from_secs_f64(1.0 / (plan.rate * m as f64));
    let start = Instant::now() + Duration::from_millis(20);
    let total = plan.count * m as u64;
    for i in 0..total {
        let due = start + step.mul_f64(i as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            out.behind_max = out.behind_max.max(now - due);
        }
        if Instant::now() >= deadline {
            out.cut_short = true;
            break;
        }
        let (n, j) = (i / m as u64, (i % m as u64) as usize);
        let sent = unix_micros();
        let payload = update_payload(n, sent);
        out.per_match[j] += 1;
        match publish(conn, &plan.ids[j], &payload) {
            Ok(receivers) => {
                out.receivers_min = Some(out.receivers_min.map_or(receivers, |r| r.min(receivers)));
                out.first_us.get_or_insert(sent);
                out.last_us = Some(sent);
            }
            Err(e) => {
                out.failed_per_match[j] += 1;
                if e.is_io_error() || e.is_connection_dropped() {
                    // A later update may still go out on a fresh connection.
                    if let Ok(fresh) = connect(url) {
                        *conn = fresh;
                    }
                }
            }
        }
    }
    out
}

fn publish(conn: &mut redis::Connection, id: &str, payload: &str) -> redis::RedisResult<i64> {
    redis::cmd("PUBLISH")
        .arg(format!("match:{id}"))
        .arg(payload)
        .query(conn)
}
