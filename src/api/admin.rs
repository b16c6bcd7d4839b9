//! Operational endpoints: health, provider health, polling status and interval changes.
//! Each gathers from every shard, because each shard knows only the tasks it runs.

use std::{rc::Rc, time::Duration};

use serde_json::json;

use crate::{
    clock,
    http::{Response, Status},
    polling::task_shard,
    shard::{Answer, Query, Shard, ShardMsg},
};

/// Longest accepted polling interval.
const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// `GET /health`.
pub(crate) async fn health(shard: Rc<Shard>) -> Response {
    let now = clock::now();
    let board = &shard.config.board;
    let statuses = board.statuses(now);
    let tasks = shard.all_tasks().await;
    let down = statuses.iter().filter(|(_, s)| *s == "down").count();
    // One read of the I/O thread's state, after the await: the overall status and the `io`
    // part of the answer must agree (Redis may go down while the shards answer).
    let io = shard.config.io.health();
    let io_down = ["redis", "postgres"]
        .iter()
        .any(|k| io[k]["status"] == "down");
    let status = if (statuses.is_empty() || down < statuses.len()) && !io_down {
        "ok"
    } else {
        "degraded"
    };
    let providers = board.all_json(now);
    Response::json_value(&json!({
        "status": status,
        "timestamp": now.to_iso(),
        "uptime": (now.millis() - shard.config.started_at.millis()) / 1000,
        "shards": shard.nr_shards,
        "matches": shard.view.borrow().len(),
        "providers": providers,
        "polling": tasks,
        "io": io,
    }))
}

/// `GET /metrics`: Prometheus text format, every shard's counters merged.
pub(crate) async fn metrics(shard: Rc<Shard>) -> Response {
    let mut snapshots: Vec<(usize, crate::metrics::MetricsSnapshot)> = shard
        .gather(|| Query::Metrics)
        .await
        .into_iter()
        .filter_map(|a| match a {
            Answer::Metrics(id, m) => Some((id, *m)),
            _ => None,
        })
        .collect();
    snapshots.sort_by_key(|(id, _)| *id);
    let shards: Vec<_> = snapshots.into_iter().map(|(_, m)| m).collect();
    let mut text = crate::metrics::render(&shards);
    shard.config.io.write_metrics(&mut text);
    shard.config.board.write_metrics(&mut text, clock::now());
    let mut r = Response::with_status(Status::OK, crate::http::Body::Owned(text.into_bytes()));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r
}

/// `GET /api/providers/health`: providers of scores and of markets, preferred first, with
/// breaker, quota and response-time percentiles.
pub(crate) async fn providers(shard: Rc<Shard>) -> Response {
    Response::json_value(&shard.config.board.by_kind_json(clock::now()))
}

/// `GET /api/polling/status`.
pub(crate) async fn polling_status(shard: Rc<Shard>) -> Response {
    let tasks = shard.all_tasks().await;
    Response::json_value(&json!({ "tasks": tasks, "config": &*shard.config.polling_config }))
}

/// Validates a `POST /api/polling/update` body: `{"taskId": "...", "interval": ms}`.
///
/// # Errors
/// The 400 response naming what is wrong (boxed: the error path is rare, the value large).
pub(crate) fn parse_update(
    body: &[u8],
    shard: &Shard,
) -> Result<(String, Duration), Box<Response>> {
    let bad = |field: &str, msg: &str| Box::new(Response::invalid(field, msg));
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| bad("body", "body must be a JSON object"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("body", "body must be a JSON object"))?;
    let task_id = match obj.get("taskId") {
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 200 => s.clone(),
        _ => {
            let msg = "taskId must be a non-empty string of at most 200 characters";
            return Err(bad("taskId", msg));
        }
    };
    let min = shard.config.min_interval.as_millis() as u64;
    let too_low = || bad("interval", &format!("Interval must be at least {min}ms"));
    let interval = match obj.get("interval").and_then(serde_json::Value::as_u64) {
        Some(ms) if ms < min => return Err(too_low()),
        Some(ms) if ms > MAX_INTERVAL.as_millis() as u64 => {
            let max = MAX_INTERVAL.as_millis();
            return Err(bad(
                "interval",
                &format!("Interval must be at most {max}ms"),
            ));
        }
        Some(ms) => Duration::from_millis(ms),
        None if obj
            .get("interval")
            .is_some_and(|v| v.as_i64().is_some_and(|i| i < 0)) =>
        {
            return Err(too_low())
        }
        None => {
            let msg = "interval must be an integer number of milliseconds";
            return Err(bad("interval", msg));
        }
    };
    Ok((task_id, interval))
}

/// `POST /api/polling/update`, routed to the shard that runs the task.
pub(crate) async fn polling_update(
    shard: Rc<Shard>,
    task_id: String,
    interval: Duration,
) -> Response {
    let owner = task_shard(&task_id, shard.nr_shards);
    let query = Query::SetInterval {
        task_id: task_id.clone(),
        interval,
    };
    let answer = if owner == shard.id {
        Some(shard.answer(query))
    } else {
        let (tx, rx) = futures_channel::oneshot::channel();
        match shard.inboxes[owner].send(ShardMsg::Query(query, tx)).await {
            Ok(()) => rx.await.ok(),
            Err(_) => None,
        }
    };
    match answer {
        Some(Answer::IntervalSet(Some(_))) => Response::json_value(&json!({
            "success": true,
            "taskId": task_id,
            "newInterval": interval.as_millis() as u64,
        })),
        Some(_) => Response::error(Status::NOT_FOUND, &format!("Task not found: {task_id}")),
        None => Response::error(Status::UNAVAILABLE, "shutting down"),
    }
}
