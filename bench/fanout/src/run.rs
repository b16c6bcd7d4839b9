//! One run, phase by phase: connect N subscribers, read the server's memory with them idle,
//! publish, wait for the last deliveries, and account.
//!
//! Every phase is bounded by `--max-secs` from the start; a run cut short says so and counts
//! only what was published.

use std::{
    collections::BTreeMap,
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use tokio::{sync::watch, task::JoinHandle, time::sleep};

use crate::{
    config::Config,
    probe::{self, Sample, TICKS_PER_SEC},
    publisher::{self, Plan, Published},
    report::{close_codes, Report},
    subscriber::{self, Ended, Outcome, Shared},
    tally::Counts,
};

/// Runs `config` to completion on a fresh runtime.
pub fn run(config: &Config) -> Result<Report, String> {
    // One thread: a current-thread runtime, whose wake-ups cost less than a one-worker
    // multi-thread runtime's (the generator usually has one cpu, next to Redis).
    let runtime = if config.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(drive(config.clone()))
}

/// Progress lines on stderr, unless only JSON was asked for.
fn progress(config: &Config, line: &str) {
    if !config.json_only {
        eprintln!("fanout: {line}");
    }
}

async fn drive(config: Config) -> Result<Report, String> {
    let started = Instant::now();
    let deadline = started + config.max_time;
    let server = tokio::net::lookup_host((config.host.as_str(), config.port))
        .await
        .map_err(|e| format!("resolve {}: {e}", config.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", config.host))?;
    let redis_url = config.redis_url.clone();
    let mut conn = tokio::task::spawn_blocking(move || publisher::connect(&redis_url))
        .await
        .map_err(|e| format!("publisher: {e}"))??;
    let pid = config.pid;
    let before = pid.and_then(probe::sample);
    if pid.is_some() && before.is_none() {
        return Err(format!("cannot read /proc/{} (--pid)", pid.unwrap_or(0)));
    }

    let shared = Arc::new(Shared::new(config.clone(), server)?);
    let (stop_tx, stop_rx) = watch::channel(false);
    progress(
        &config,
        &format!(
            "connecting {} subscribers to {}",
            config.subscribers,
            config.url(&config.match_id(0))
        ),
    );
    let connect_started = Instant::now();
    let tasks: Vec<JoinHandle<Outcome>> = (0..config.subscribers)
        .map(|i| tokio::spawn(subscriber::run(i, shared.clone(), stop_rx.clone())))
        .collect();
    while settled(&shared) < config.subscribers && Instant::now() < deadline {
        sleep(Duration::from_millis(20)).await;
    }
    let connect_s = connect_started.elapsed().as_secs_f64();
    let connected = shared.connected.load(Ordering::Relaxed);
    progress(
        &config,
        &format!(
            "{connected} connected, {} failed in {connect_s:.1} s",
            shared.failed.load(Ordering::Relaxed)
        ),
    );
    sleep(
        config
            .settle
            .min(deadline.saturating_duration_since(Instant::now())),
    )
    .await;
    let idle = pid.and_then(probe::sample);

    // Warm-up (uncounted), then the measured publishing, on a blocking thread.
    let plan = Plan {
        ids: (0..config.matches).map(|k| config.match_id(k)).collect(),
        rate: config.rate,
        count: config.count,
    };
    let url = config.redis_url.clone();
    let publish = tokio::task::spawn_blocking(move || {
        let receivers = publisher::warm_up(&mut conn, &plan.ids);
        std::thread::sleep(Duration::from_millis(300));
        let cpu = (
            pid.and_then(probe::sample),
            probe::own_cpu_ticks(),
            probe::machine_busy_ticks(),
        );
        let published = publisher::run(&mut conn, &url, &plan, deadline);
        (receivers, cpu, published)
    });
    let (warm, cpu0, published) = publish.await.map_err(|e| format!("publisher: {e}"))?;
    if let Err(e) = warm {
        progress(&config, &format!("warm-up: {e}"));
    }

    // Wait for the stragglers.
    let expected = expected(&shared, &published);
    let drain_until = deadline.min(Instant::now() + config.grace);
    while shared.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_until {
        sleep(Duration::from_millis(10)).await;
    }
    let window_end = crate::clock::unix_micros();
    let cpu1 = (
        pid.and_then(probe::sample),
        probe::own_cpu_ticks(),
        probe::machine_busy_ticks(),
    );
    let end = pid.and_then(probe::sample);

    let _ = stop_tx.send(true);
    let mut outcomes = Vec::with_capacity(tasks.len());
    let collect_until = Instant::now() + Duration::from_secs(10);
    for task in tasks {
        let left = collect_until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, task).await {
            Ok(Ok(outcome)) => outcomes.push(outcome),
            Ok(Err(e)) => return Err(format!("a subscriber task failed: {e}")),
            Err(_) => return Err("subscribers did not stop within 10 s".into()),
        }
    }

    let mut report = Report {
        label: config.label.clone(),
        endpoint: config.endpoint.to_string(),
        url: config.url(&config.match_id(0)),
        subscribers: config.subscribers,
        matches: config.matches,
        rate: config.rate,
        count: config.count,
        connected,
        failed: shared.failed.load(Ordering::Relaxed),
        connect_s,
        published: published.total(),
        publish_errors: published.errors(),
        redis_receivers_min: published.receivers_min,
        publisher_behind_max_ms: published.behind_max.as_secs_f64() * 1000.0,
        cut_short: published.cut_short,
        expected,
        elapsed_s: started.elapsed().as_secs_f64(),
        ..Report::default()
    };
    account(&mut report, &outcomes, &published);
    latency(&mut report, &shared, &published)?;
    memory(&mut report, before, idle, end);
    let window_s = published
        .first_us
        .map_or(0.0, |first| window_end.saturating_sub(first) as f64 / 1e6);
    cpu(&mut report, cpu0, cpu1, window_s);
    report.ok = report.delivered > 0;
    Ok(report)
}

fn settled(shared: &Shared) -> usize {
    shared.connected.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed)
}

/// Σ over connected subscribers of the updates of their match that went out: what the drain
/// waits for (the final figure comes from the outcomes, in [`account`]).
fn expected(shared: &Shared, published: &Published) -> u64 {
    (0..published.per_match.len())
        .map(|j| shared.connected_on(j) as u64 * published.ok_of(j))
        .sum()
}

/// Losses, anomalies and how connections ended, from every subscriber's outcome.
fn account(report: &mut Report, outcomes: &[Outcome], published: &Published) {
    let mut counts = Counts::default();
    let mut codes = BTreeMap::new();
    let mut expected = 0;
    for o in outcomes {
        counts.add(&o.tally.counts);
        match &o.ended {
            Ended::NotConnected(e) => {
                report.connect_error.get_or_insert_with(|| e.clone());
                continue;
            }
            Ended::Stopped => {}
            Ended::ClosedByServer(code) => {
                report.closed_early += 1;
                let code = code.map_or("none".to_owned(), |c| c.to_string());
                *codes.entry(code).or_insert(0) += 1;
            }
            Ended::Failed(_) => {
                report.closed_early += 1;
                *codes.entry("error".to_owned()).or_insert(0) += 1;
            }
        }
        let j = o.match_index;
        let (gaps, tail) = o.tally.missing(published.per_match[j]);
        // Updates whose PUBLISH failed were never going to arrive: take them off the tail
        // first (the likelier place), then off the gaps.
        let failed = published.failed_per_match[j];
        let (gaps, tail) = (
            gaps.saturating_sub(failed.saturating_sub(tail)),
            tail.saturating_sub(failed),
        );
        expected += published.ok_of(j);
        report.lost += gaps;
        report.undelivered += tail;
        if gaps > 0 {
            report.subscribers_with_loss += 1;
        }
        if tail > 0 {
            report.subscribers_behind += 1;
        }
    }
    report.expected = expected;
    report.delivered = counts.delivered;
    report.out_of_order = counts.out_of_order;
    report.duplicates = counts.duplicates;
    report.unexpected = counts.unexpected;
    report.malformed = counts.malformed;
    report.other_frames = counts.other;
    report.close_codes = close_codes(&codes);
}

fn latency(report: &mut Report, shared: &Shared, published: &Published) -> Result<(), String> {
    let h = shared.latency()?;
    if h.is_empty() {
        return Ok(());
    }
    report.latency_p50_us = Some(h.value_at_quantile(0.50));
    report.latency_p90_us = Some(h.value_at_quantile(0.90));
    report.latency_p99_us = Some(h.value_at_quantile(0.99));
    report.latency_p999_us = Some(h.value_at_quantile(0.999));
    report.latency_max_us = Some(h.max());
    report.latency_mean_us = Some((h.mean() * 10.0).round() / 10.0);
    let last = shared.last_receive_us.load(Ordering::Relaxed);
    if let Some(first) = published.first_us {
        let secs = last.saturating_sub(first) as f64 / 1e6;
        if secs > 0.0 {
            report.delivered_per_s = (report.delivered as f64 / secs).round();
        }
    }
    Ok(())
}

fn memory(report: &mut Report, before: Option<Sample>, idle: Option<Sample>, end: Option<Sample>) {
    report.rss_before_kib = before.map(|s| s.rss_kib);
    report.rss_connected_kib = idle.map(|s| s.rss_kib);
    report.rss_end_kib = end.map(|s| s.rss_kib);
    report.rss_peak_kib = end.map(|s| s.hwm_kib);
    if let (Some(b), Some(i)) = (before, idle) {
        if report.connected > 0 {
            let grown = (i.rss_kib as i64 - b.rss_kib as i64) * 1024;
            report.rss_per_session_bytes = Some(grown / report.connected as i64);
        }
    }
}

type CpuMark = (Option<Sample>, u64, u64);

fn cpu(report: &mut Report, start: CpuMark, end: CpuMark, window_s: f64) {
    report.window_s = (window_s * 100.0).round() / 100.0;
    if window_s <= 0.0 {
        return;
    }
    let pct = |ticks: u64| (ticks as f64 / TICKS_PER_SEC / window_s * 1000.0).round() / 10.0;
    let client = end.1.saturating_sub(start.1);
    report.client_cpu_pct = pct(client);
    let machine = end.2.saturating_sub(start.2);
    let server = match (start.0, end.0) {
        (Some(a), Some(b)) => Some(b.cpu_ticks.saturating_sub(a.cpu_ticks)),
        _ => None,
    };
    report.server_cpu_s = server.map(|t| t as f64 / TICKS_PER_SEC);
    report.server_cpu_pct = server.map(pct);
    report.other_cpu_pct = server.map(|s| pct(machine.saturating_sub(s + client)));
    if report.delivered > 0 {
        let per_msg = |ticks: u64| {
            (ticks as f64 / TICKS_PER_SEC * 1e6 / report.delivered as f64 * 100.0).round() / 100.0
        };
        report.server_cpu_us_per_msg = server.map(per_msg);
        report.client_cpu_us_per_msg = Some(per_msg(client));
    }
}
