//! Hot-match polling tasks: `match:<matchId>` polls one match's events at the match's own
//! interval, on top of the league tasks.
//!
//! A task exists for every `polling.match_intervals` entry, and `POST /api/polling/update` with
//! `taskId: "match:<matchId>"` creates one at runtime (or changes its interval). Each round it
//! asks the match's owner which provider events make up the match, then fetches each event
//! from every configured provider that has a per-event endpoint (see
//! [`Source::event_request`](crate::providers::Source::event_request)), under the same rules as
//! league tasks: failover, circuit breaker, quota, and the provider's floor. It ends when the
//! match is over.

use std::{collections::HashMap, rc::Rc, time::Duration};

use glommio::spawn_local;
use inplay_core::{identity::owner_of_match_id, MatchId, Timestamp};
use tracing::info;

use super::{poll::fetch_feed, Answer, MatchEvents, Query, Shard};
use crate::{
    clock,
    polling::{task_shard, PollTask, TaskStatus},
    providers::Admit,
};

/// Task ids of hot-match tasks start with this.
pub(crate) const PREFIX: &str = "match:";

/// Starts this shard's share of the configured hot-match tasks.
pub(crate) fn spawn_configured(shard: &Rc<Shard>) {
    for (id, &interval) in &shard.config.polling.match_intervals {
        let task_id = format!("{PREFIX}{id}");
        if task_shard(&task_id, shard.nr_shards) == shard.id {
            start(shard, &task_id, interval);
        }
    }
}

/// Starts the task `match:<matchId>` on this shard; `None` if `task_id` is not one, or no
/// configured provider could serve it.
pub(crate) fn start(shard: &Shard, task_id: &str, interval: Duration) -> Option<TaskStatus> {
    let match_id = task_id.strip_prefix(PREFIX)?;
    if !crate::api::valid_name(match_id) || shard.config.feeds.is_empty() {
        return None;
    }
    let me = shard.rc()?;
    let task = Rc::new(PollTask::with_id(
        task_id.to_owned(),
        "*",
        "",
        "",
        interval,
        "match",
    ));
    shard.tasks.borrow_mut().push(task.clone());
    info!(
        task = task_id,
        interval_ms = interval.as_millis() as u64,
        "Hot-match polling task started"
    );
    spawn_local(run(me, MatchId::new(match_id), task.clone())).detach();
    Some(task.status(shard.id))
}

async fn run(shard: Rc<Shard>, id: MatchId, task: Rc<PollTask>) {
    let mut last_poll: HashMap<usize, Timestamp> = HashMap::new();
    while !shard.draining() {
        let answer = match owner_of_match_id(&id, shard.nr_shards) {
            Some(owner) => shard.ask(owner, Query::MatchEvents(id.clone())).await,
            None => None,
        };
        let Some(Answer::Events(Some(events))) = answer else {
            // Not (yet) known: a configured match id may appear later.
            task.set_state("unknown_match", None);
            task.wait(task.interval.get()).await;
            continue;
        };
        if events.over {
            task.set_state("finished", None);
            break;
        }
        let started = clock::now();
        task.running.set(true);
        task.last_run.set(Some(started));
        let polled = poll_round(&shard, &task, &events, &mut last_poll).await;
        task.running.set(false);
        if polled == 0 && task.state.get() == "polling" {
            task.set_state("no_event_feed", None);
        }
        let interval = task.interval.get();
        task.effective.set(interval);
        task.next_run
            .set(Some(started.add_millis(interval.as_millis() as i64)));
        task.wait(interval).await;
    }
    shard.tasks.borrow_mut().retain(|t| !Rc::ptr_eq(t, &task));
    info!(task = %task.id, "Hot-match polling task ended");
}

/// Fetches the match's events from every provider that may poll now; returns how many fetches
/// went out.
async fn poll_round(
    shard: &Shard,
    task: &PollTask,
    events: &MatchEvents,
    last_poll: &mut HashMap<usize, Timestamp>,
) -> usize {
    let board = shard.config.board.clone();
    let mut polled = 0;
    task.set_state("polling", None);
    for feed in shard.config.feeds.iter() {
        if feed.sport != events.sport || (feed.league != events.league && feed.league != "*") {
            continue;
        }
        let entry = board.entry(feed.provider);
        let Some(source) = entry.source.as_ref() else {
            continue;
        };
        let prefix = format!("{}/", entry.id);
        let Some((_, event)) = events
            .events
            .iter()
            .find(|(p, _)| *p == entry.id || p.starts_with(&prefix))
        else {
            continue;
        };
        let Some((url, headers)) = source.event_request(feed, event) else {
            continue;
        };
        let now = clock::now();
        let (scores, markets) = feed.endpoint.kinds();
        if let Some(preferred) = board.preferred(
            feed.provider,
            &feed.sport,
            &feed.league,
            scores,
            markets,
            now,
        ) {
            task.set_state("backup", Some(preferred));
            continue;
        }
        let floor = source.floor(
            shard
                .config
                .polling
                .provider_intervals
                .get(&entry.id)
                .copied(),
        );
        if last_poll
            .get(&feed.provider)
            .is_some_and(|t| now.millis() - t.millis() < floor.as_millis() as i64)
        {
            continue;
        }
        let admit = board.admit(feed.provider, now);
        if let Admit::Skip(why) = admit {
            task.set_state(why, None);
            continue;
        }
        last_poll.insert(feed.provider, now);
        polled += 1;
        if let Some(report) = fetch_feed(shard, task, feed, source, (url, headers), admit).await {
            shard.route(report.observations).await;
        }
    }
    polled
}
