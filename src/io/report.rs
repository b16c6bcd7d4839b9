//! The I/O thread's state as `/health` and `/metrics` show it.

use std::{fmt::Write, sync::atomic::Ordering};

use serde_json::{json, Value};

use super::IoHandle;

impl IoHandle {
    /// The `redis`, `postgres` and `leases` parts of `GET /health` (a configured service whose
    /// `status` is `"down"` makes the server report `degraded`).
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
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed) as f64;
        let flag = |b: bool| f64::from(u8::from(b));
        let pg = self.pg_stats.snapshot();
        let (c, g) = ("counter", "gauge");
        let rows: [(&str, &str, &str, f64); 19] = [
            (
                "inplay_redis_up",
                g,
                "1 if the Redis command connection works (0 if down or off).",
                flag(self.redis.is_some() && s.redis_connected.load(Ordering::Relaxed)),
            ),
            (
                "inplay_redis_subscribed",
                g,
                "1 if the Redis subscription (match:*, markets:*) is up.",
                flag(s.redis_subscribed.load(Ordering::Relaxed)),
            ),
            (
                "inplay_redis_commands_total",
                c,
                "Redis commands sent.",
                n(&s.redis_commands),
            ),
            (
                "inplay_redis_errors_total",
                c,
                "Failed Redis round trips.",
                n(&s.redis_errors),
            ),
            (
                "inplay_redis_dropped_batches_total",
                c,
                "Cache/publish batches dropped (queue full or Redis down).",
                n(&s.redis_dropped),
            ),
            (
                "inplay_redis_relayed_total",
                c,
                "Messages from Redis relayed to WebSocket sessions.",
                n(&s.redis_relayed),
            ),
            (
                "inplay_io_redis_queue",
                g,
                "Redis batches waiting for the I/O thread.",
                s.redis_queue.load(Ordering::Relaxed) as f64,
            ),
            (
                "inplay_io_records_dropped_total",
                c,
                "History records dropped on a shard because the I/O thread fell behind.",
                n(&s.records_dropped),
            ),
            (
                "inplay_io_provider_fetches_total",
                c,
                "Provider HTTP requests made by the I/O thread, retries included.",
                n(&s.fetches),
            ),
            (
                "inplay_io_provider_fetch_errors_total",
                c,
                "Provider fetches that got no response (network errors, timeouts, body limit).",
                n(&s.fetch_errors),
            ),
            (
                "inplay_polling_leases_held",
                g,
                "Feed groups (sport:league) this node polls.",
                self.leases.held() as f64,
            ),
            (
                "inplay_pg_up",
                g,
                "1 if the last PostgreSQL attempt succeeded (0 if down or off).",
                flag(self.records.is_some() && pg.connected),
            ),
            (
                "inplay_pg_written_total",
                c,
                "History records committed to PostgreSQL.",
                pg.written as f64,
            ),
            (
                "inplay_pg_queued",
                g,
                "History records waiting in memory.",
                pg.queued as f64,
            ),
            (
                "inplay_pg_journal_records",
                g,
                "History records waiting in the on-disk journal.",
                pg.journal_records as f64,
            ),
            (
                "inplay_pg_journal_bytes",
                g,
                "Size of the on-disk journal.",
                pg.journal_bytes as f64,
            ),
            (
                "inplay_pg_write_errors_total",
                c,
                "Failed PostgreSQL attempts (each retried).",
                pg.write_errors as f64,
            ),
            (
                "inplay_pg_rejected_total",
                c,
                "History records PostgreSQL refused for good.",
                pg.rejected as f64,
            ),
            (
                "inplay_pg_dropped_total",
                c,
                "History records lost: memory queue and journal full.",
                pg.dropped as f64,
            ),
        ];
        for (name, kind, help, value) in rows {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }
}
