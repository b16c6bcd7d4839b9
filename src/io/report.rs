//! The I/O thread's state as `/health` and `/metrics` show it.

use std::{fmt::Write, sync::atomic::Ordering};

use serde_json::{json, Value};

use super::IoHandle;

impl IoHandle {
    /// Whether a configured service is unreachable (the server then reports `degraded`).
    pub fn degraded(&self) -> bool {
        (self.redis.is_some() && !self.stats.redis_connected.load(Ordering::Relaxed))
            || (self.records.is_some() && !self.pg_stats.connected.load(Ordering::Relaxed))
    }

    /// The `redis` and `leases` parts of `GET /health`.
    pub fn health(&self) -> Value {
        let s = &self.stats;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        let redis = if self.redis.is_none() {
            json!({ "status": "off" })
        } else {
            let up = s.redis_connected.load(Ordering::Relaxed);
            json!({
                "status": if up { "up" } else { "down" },
                "subscribed": s.redis_subscribed.load(Ordering::Relaxed),
                "queue": s.redis_queue.load(Ordering::Relaxed),
                "commands": load(&s.redis_commands),
                "errors": load(&s.redis_errors),
                "droppedBatches": load(&s.redis_dropped),
                "relayed": load(&s.redis_relayed),
                "badMessages": load(&s.redis_bad_messages),
            })
        };
        let postgres = if self.records.is_none() {
            json!({ "status": "off" })
        } else {
            let snap = self.pg_stats.snapshot();
            let mut v = serde_json::to_value(&snap).unwrap_or(Value::Null);
            v["status"] = if snap.connected { "up" } else { "down" }.into();
            v
        };
        json!({
            "node": &*self.node_id,
            "redis": redis,
            "postgres": postgres,
            "leases": {
                "coordinated": self.leases.coordinated(),
                "held": self.leases.held(),
                "total": self.leases.total(),
            },
            "recordsDropped": load(&s.records_dropped),
        })
    }

    /// Prometheus lines for the I/O thread.
    pub fn write_metrics(&self, out: &mut String) {
        let s = &self.stats;
        let redis_on = self.redis.is_some();
        let rows: [(&str, &str, &str, f64); 9] = [
            (
                "inplay_redis_up",
                "gauge",
                "1 if the Redis command connection works (0 if down or off).",
                f64::from(u8::from(
                    redis_on && s.redis_connected.load(Ordering::Relaxed),
                )),
            ),
            (
                "inplay_redis_subscribed",
                "gauge",
                "1 if the Redis subscription (match:*, markets:*) is up.",
                f64::from(u8::from(s.redis_subscribed.load(Ordering::Relaxed))),
            ),
            (
                "inplay_redis_commands_total",
                "counter",
                "Redis commands sent.",
                s.redis_commands.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_redis_errors_total",
                "counter",
                "Failed Redis round trips.",
                s.redis_errors.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_redis_dropped_batches_total",
                "counter",
                "Cache/publish batches dropped (queue full or Redis down).",
                s.redis_dropped.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_redis_relayed_total",
                "counter",
                "Messages from Redis relayed to WebSocket sessions.",
                s.redis_relayed.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_io_redis_queue",
                "gauge",
                "Redis batches waiting for the I/O thread.",
                s.redis_queue.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_io_records_dropped_total",
                "counter",
                "History records dropped on a shard because the I/O thread fell behind.",
                s.records_dropped.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_polling_leases_held",
                "gauge",
                "Feed groups (sport:league) this node polls.",
                self.leases.held() as f64,
            ),
        ];
        let pg = self.pg_stats.snapshot();
        let pg_on = self.records.is_some();
        let pg_rows: [(&str, &str, &str, f64); 8] = [
            (
                "inplay_pg_up",
                "gauge",
                "1 if the last PostgreSQL attempt succeeded (0 if down or off).",
                f64::from(u8::from(pg_on && pg.connected)),
            ),
            (
                "inplay_pg_written_total",
                "counter",
                "History records committed to PostgreSQL.",
                pg.written as f64,
            ),
            (
                "inplay_pg_queued",
                "gauge",
                "History records waiting in memory.",
                pg.queued as f64,
            ),
            (
                "inplay_pg_journal_records",
                "gauge",
                "History records waiting in the on-disk journal.",
                pg.journal_records as f64,
            ),
            (
                "inplay_pg_journal_bytes",
                "gauge",
                "Size of the on-disk journal.",
                pg.journal_bytes as f64,
            ),
            (
                "inplay_pg_write_errors_total",
                "counter",
                "Failed PostgreSQL attempts (each retried).",
                pg.write_errors as f64,
            ),
            (
                "inplay_pg_rejected_total",
                "counter",
                "History records PostgreSQL refused for good.",
                pg.rejected as f64,
            ),
            (
                "inplay_pg_dropped_total",
                "counter",
                "History records lost: memory queue and journal full.",
                pg.dropped as f64,
            ),
        ];
        for (name, kind, help, value) in rows.into_iter().chain(pg_rows) {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }
}
