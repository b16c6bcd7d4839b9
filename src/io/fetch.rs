//! Provider HTTP(S) fetches on the I/O thread.
//!
//! A polling task on a shard sends a [`FetchRequest`] with a oneshot for the answer and awaits
//! it; the shard keeps serving meanwhile. Here one reqwest client (rustls on ring, connections
//! kept alive and reused per host) runs every fetch as its own task, at most
//! [`MAX_CONCURRENT`] at a time. A fetch is retried on connection errors, timeouts and 5xx with
//! jittered exponential backoff; the bytes go back to the shard, which parses them.

use std::{
    cell::Cell,
    rc::Rc,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_channel::oneshot;
use tokio::sync::{mpsc, Semaphore};
use tracing::{debug, warn};

/// Fetches in flight at once.
const MAX_CONCURRENT: usize = 64;
/// Fetch requests waiting for the I/O thread.
pub(crate) const FETCH_QUEUE: usize = 1024;
/// Response headers handed back to the shard (quota and rate-limit counters).
const KEPT_HEADERS: &[&str] = &[
    "x-requests-remaining",
    "x-requests-used",
    "x-requests-last",
    "x-ratelimit-requests-remaining",
    "retry-after",
];

/// One fetch.
#[derive(Debug)]
pub(crate) struct FetchRequest {
    /// Full URL; may hold an API key, so it is never logged.
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// Per attempt, body included.
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_delay: Duration,
    /// Bodies above this are refused.
    pub max_body: usize,
    /// What to call it in logs (the task id).
    pub label: String,
}

/// A fetch and where its answer goes.
pub(crate) type FetchJob = (FetchRequest, oneshot::Sender<FetchResponse>);

/// A response that arrived (any status).
#[derive(Debug)]
pub(crate) struct Fetched {
    pub status: u16,
    /// The [`KEPT_HEADERS`] present, lower-case names.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Fetched {
    /// A kept header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

/// The answer to a [`FetchRequest`].
#[derive(Debug)]
pub(crate) struct FetchResponse {
    /// The last attempt's response, or why there was none.
    pub result: Result<Fetched, String>,
    /// Wall time of the whole fetch, retries included.
    pub elapsed: Duration,
    pub attempts: u32,
}

/// Builds the shared client. `install_default` of the ring provider must have run (`main`).
fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("inplay/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(16)
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .build()
}

/// Runs fetches until every sender is gone or `stop` fires.
pub(crate) async fn run(
    mut rx: mpsc::Receiver<FetchJob>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    stats: Arc<super::IoStats>,
) {
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "Cannot build the provider HTTP client; provider polls will fail");
            while let Some((_, reply)) = rx.recv().await {
                let _ = reply.send(FetchResponse {
                    result: Err(format!("no HTTP client: {e}")),
                    elapsed: Duration::ZERO,
                    attempts: 0,
                });
            }
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_CONCURRENT));
    let seed = Rc::new(Cell::new(jitter_seed()));
    loop {
        let job = tokio::select! {
            job = rx.recv() => job,
            _ = stop.changed() => None,
        };
        let Some((req, reply)) = job else { return };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (client, seed, stats) = (client.clone(), seed.clone(), stats.clone());
        tokio::task::spawn_local(async move {
            let answer = fetch(&client, req, &seed).await;
            stats.fetches.fetch_add(
                u64::from(answer.attempts),
                std::sync::atomic::Ordering::Relaxed,
            );
            if answer.result.is_err() {
                stats
                    .fetch_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let _ = reply.send(answer);
            drop(permit);
        });
    }
}

/// One fetch with its retries.
async fn fetch(client: &reqwest::Client, req: FetchRequest, seed: &Cell<u64>) -> FetchResponse {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = attempt(client, &req).await;
        let retry = match &result {
            Ok(f) => f.status >= 500,
            Err(_) => true,
        };
        if !retry || attempts > req.max_retries {
            if let Err(e) = &result {
                debug!(task = %req.label, attempts, error = %e, "Fetch failed");
            }
            return FetchResponse {
                result,
                elapsed: started.elapsed(),
                attempts,
            };
        }
        let delay = backoff(req.retry_delay, attempts, seed);
        debug!(task = %req.label, attempt = attempts, delay_ms = delay.as_millis() as u64, "Retrying fetch");
        tokio::time::sleep(delay).await;
    }
}

/// One HTTP exchange, the body read in chunks up to `max_body`.
async fn attempt(client: &reqwest::Client, req: &FetchRequest) -> Result<Fetched, String> {
    let mut builder = client.get(&req.url).timeout(req.timeout);
    for (name, value) in &req.headers {
        builder = builder.header(*name, value);
    }
    let mut resp = builder.send().await.map_err(describe)?;
    let status = resp.status().as_u16();
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|&n| {
            let v = resp.headers().get(n)?.to_str().ok()?;
            Some((n, v.to_owned()))
        })
        .collect();
    if resp
        .content_length()
        .is_some_and(|n| n > req.max_body as u64)
    {
        return Err(format!("body too large (over {} bytes)", req.max_body));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > req.max_body {
            return Err(format!("body too large (over {} bytes)", req.max_body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        headers,
        body,
    })
}

/// A reqwest error without its URL (which may hold a key).
fn describe(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body read failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(&e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

/// `base × 2^(attempt-1)`, times a factor in `[0.5, 1.5)`.
fn backoff(base: Duration, attempt: u32, seed: &Cell<u64>) -> Duration {
    // xorshift64: jitter needs no cryptography, only spread.
    let mut x = seed.get();
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    seed.set(x);
    let factor = 0.5 + (x >> 11) as f64 / (1u64 << 53) as f64;
    base.saturating_mul(1 << (attempt - 1).min(16))
        .mul_f64(factor)
}

fn jitter_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter() {
        let seed = Cell::new(12345);
        for attempt in 1..6 {
            let d = backoff(Duration::from_millis(100), attempt, &seed);
            let nominal = 100.0 * f64::from(1u32 << (attempt - 1));
            let ms = d.as_secs_f64() * 1000.0;
            assert!(
                ms >= nominal * 0.5 && ms < nominal * 1.5,
                "attempt {attempt}: {ms}"
            );
        }
    }
}
