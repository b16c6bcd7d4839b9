//! Polling tasks of configured providers: fetch on the I/O thread, parse here, route the
//! observations to their owners.
//!
//! Each feed of each provider is one task, run by the shard `task_shard(task id)` picks. Before
//! each poll a task checks, in order: the league's lease (several nodes), failover (a preferred
//! provider serving the same data), and the provider's circuit breaker and quota. A bad
//! provider only ever costs its own tasks a poll: errors are recorded and the task sleeps on.

use std::{rc::Rc, time::Duration};

use glommio::spawn_local;
use inplay_core::{feeds::ParseReport, MatchStatus, Observation, ObservationBody};
use tracing::{debug, info, warn};

use super::Shard;
use crate::{
    clock,
    io::fetch::FetchRequest,
    polling::{effective, resolve, task_shard, PollTask},
    providers::{interpret, Admit, Endpoint, FeedSpec, Source, Verdict},
};

/// Starts this shard's share of the configured providers' tasks.
pub(crate) fn spawn_tasks(shard: &Rc<Shard>) {
    let feeds = shard.config.feeds.clone();
    let total = feeds.len().max(1) as f64;
    for (i, feed) in feeds.iter().enumerate() {
        if task_shard(&feed.task_id, shard.nr_shards) != shard.id {
            continue;
        }
        let provider = &shard.config.board.entry(feed.provider).id;
        let (interval, source) = resolve(&shard.config.polling, &feed.sport, &feed.league);
        let task = Rc::new(PollTask::with_id(
            feed.task_id.clone(),
            provider,
            &feed.sport,
            &feed.league,
            interval,
            source,
        ));
        shard.tasks.borrow_mut().push(task.clone());
        // Spread first polls over a second, so a restart does not fire every task at once.
        let phase = Duration::from_millis((1000.0 * i as f64 / total) as u64);
        spawn_local(run(shard.clone(), feed.clone(), task, phase)).detach();
    }
}

/// Whether a task may poll now; sets its state when not. `kinds` = (scores, markets).
pub(crate) fn may_poll(
    shard: &Shard,
    task: &PollTask,
    provider: usize,
    kinds: (bool, bool),
) -> Option<Admit> {
    let group = crate::io::Leases::group(&task.sport, &task.league);
    if !shard.config.io.leases.holds(&group) {
        task.set_state("lease", None);
        return None;
    }
    let board = &shard.config.board;
    let now = clock::now();
    if let Some(preferred) =
        board.preferred(provider, &task.sport, &task.league, kinds.0, kinds.1, now)
    {
        if task.state.get() != "backup" {
            info!(task = %task.id, preferred, "Standing by: a preferred provider serves this feed");
        }
        task.set_state("backup", Some(preferred));
        return None;
    }
    match board.admit(provider, now) {
        Admit::Skip(why) => {
            task.set_state(why, None);
            None
        }
        admit => {
            if task.state.get() == "backup" {
                info!(task = %task.id, "Failing over: no preferred provider serves this feed");
            }
            task.set_state("polling", None);
            Some(admit)
        }
    }
}

async fn run(shard: Rc<Shard>, feed: FeedSpec, task: Rc<PollTask>, phase: Duration) {
    glommio::timer::sleep(phase).await;
    let board = shard.config.board.clone();
    let Some(source) = board.entry(feed.provider).source.clone() else {
        return;
    };
    let floor = source.floor(
        shard
            .config
            .polling
            .provider_intervals
            .get(&source.config.id)
            .copied(),
    );
    let prematch = shard.config.polling.prematch_interval;
    let mut live = true;
    let wait = |live: bool| {
        effective(
            task.interval.get(),
            floor,
            board.slowdown(feed.provider),
            live,
            prematch,
        )
    };
    task.effective.set(wait(true));
    while !shard.draining() {
        let Some(admit) = may_poll(&shard, &task, feed.provider, feed.endpoint.kinds()) else {
            task.effective.set(wait(true));
            task.wait(wait(true)).await;
            continue;
        };
        let started = clock::now();
        task.running.set(true);
        task.last_run.set(Some(started));
        let request = source.request(&feed);
        if let Some(report) = fetch_feed(&shard, &task, &feed, &source, request, admit).await {
            live = any_live(&report.observations, clock::now().millis());
            shard.route(report.observations).await;
        }
        task.running.set(false);
        let d = wait(live);
        task.effective.set(d);
        task.next_run
            .set(Some(started.add_millis(d.as_millis() as i64)));
        let elapsed =
            Duration::from_millis((clock::now().millis() - started.millis()).max(0) as u64);
        task.wait(d.saturating_sub(elapsed)).await;
    }
}

/// Fetches one request of `feed` on the I/O thread, reads the answer as the feed's payload and
/// records the outcome on the board (and the task's state if that blocks the provider). The
/// parsed payload, if usable. `admit` says whether this fetch is a half-open probe.
pub(crate) async fn fetch_feed(
    shard: &Shard,
    task: &PollTask,
    feed: &FeedSpec,
    source: &Source,
    (url, headers): (String, Vec<(&'static str, String)>),
    admit: Admit,
) -> Option<ParseReport> {
    let c = &source.config;
    let answer = shard
        .config
        .io
        .fetch(FetchRequest {
            url,
            headers,
            timeout: c.timeout,
            max_retries: c.max_retries,
            retry_delay: c.retry_delay,
            max_body: c.max_body_bytes,
            label: task.id.clone(),
        })
        .await;
    let board = &shard.config.board;
    let latency_ms = answer.elapsed.as_millis().min(u128::from(u32::MAX)) as u32;
    let now = clock::now();
    let reading = match answer.result {
        Ok(mut f) => {
            // The Odds API answers one event (a hot match) as an object; its parser reads an
            // array of them.
            let one_event = feed.endpoint == Endpoint::OddsApiOdds
                && (200..300).contains(&f.status)
                && f.body.trim_ascii_start().starts_with(b"{");
            if one_event {
                f.body.insert(0, b'[');
                f.body.push(b']');
            }
            let ctx = source.context(Some(feed), now);
            interpret::read(feed.endpoint, f.status, &|h| f.header(h), &f.body, &ctx)
        }
        Err(e) => interpret::Reading {
            verdict: Verdict::Failed,
            error: Some(e),
            report: None,
            quota: None,
        },
    };
    if let Some(q) = reading.quota {
        board.quota(feed.provider, q);
    }
    board.record(
        feed.provider,
        reading.verdict,
        latency_ms,
        now,
        reading.error.clone(),
    );
    if let Some(why) = board.blocked(feed.provider, now) {
        task.set_state(why, None);
    }
    if let Some(error) = &reading.error {
        let provider = &board.entry(feed.provider).id;
        warn!(task = %task.id, provider, probe = admit == Admit::Probe, attempts = answer.attempts, error = %error, "Provider poll failed");
    }
    let report = reading.report?;
    if report.rejected > 0 {
        debug!(task = %task.id, rejected = report.rejected, first = ?report.warnings.first(), "Provider items skipped");
    }
    Some(report)
}

/// How long after its start a match without a score feed counts as possibly in play.
const MAX_MATCH_MS: i64 = 4 * 3600 * 1000;

/// Whether a payload shows a match in play: a live score, or, in a feed without scores (odds
/// only), a match that started less than four hours ago.
fn any_live(observations: &[Observation], now: i64) -> bool {
    let mut scores = false;
    for o in observations {
        if let ObservationBody::Score { status, .. } = &o.body {
            if matches!(status, MatchStatus::Live | MatchStatus::Halftime) {
                return true;
            }
            scores = true;
        }
    }
    !scores
        && observations.iter().any(|o| {
            let start = o.event.start_time.millis();
            start <= now && now - start < MAX_MATCH_MS
        })
}
