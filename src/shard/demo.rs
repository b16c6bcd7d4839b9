//! The built-in demo feed: two simulated providers polled like real ones.
//!
//! Each (provider, league) is a polling task run by the shard `task_shard(id)` picks. A poll
//! takes the simulated response time (an async sleep, never blocking), may fail the way the
//! world says it does, and otherwise routes its observations to their owners exactly as a real
//! provider's would be. Building and applying a league's report is done in time slices
//! ([`Slice`]), so a poll never holds the shard for much more than a millisecond.

use std::{rc::Rc, sync::Arc, time::Duration};

use glommio::{spawn_local, timer::sleep};
use inplay_core::{
    demo::{LeagueDef, ProviderProfile, World},
    Observation, Timestamp,
};

use super::{poll::may_poll, slice::Slice, Shard};
use crate::{
    clock,
    polling::{task_shard, PollTask},
    providers::Verdict,
};

/// The demo world shared (immutably) by every shard, and how often it is polled.
#[derive(Debug, Clone)]
pub(crate) struct DemoSetup {
    pub world: Arc<World>,
    pub interval: Duration,
}

/// Starts this shard's share of the demo polling tasks.
pub(crate) fn spawn_tasks(shard: &Rc<Shard>) {
    let Some(demo) = shard.config.demo.clone() else {
        return;
    };
    for (pi, provider) in demo.world.providers().iter().enumerate() {
        if shard.config.board.index(provider.id.as_str()).is_none() {
            continue; // switched off by a `kind = "demo"` entry
        }
        for (li, league) in demo.world.leagues().iter().enumerate() {
            let task = PollTask::new(
                provider.id.as_str(),
                league.sport,
                league.league,
                demo.interval,
            );
            if task_shard(&task.id, shard.nr_shards) != shard.id {
                continue;
            }
            let task = Rc::new(task);
            shard.tasks.borrow_mut().push(task.clone());
            let total = (demo.world.providers().len() * demo.world.leagues().len()) as f64;
            let phase = (pi * demo.world.leagues().len() + li) as f64 / total;
            spawn_local(run(shard.clone(), demo.world.clone(), pi, li, task, phase)).detach();
        }
    }
}

/// `phase` in `0.0..1.0`: where in the interval this task's polls fall.
async fn run(
    shard: Rc<Shard>,
    world: Arc<World>,
    provider: usize,
    league: usize,
    task: Rc<PollTask>,
    phase: f64,
) {
    let profile: &ProviderProfile = &world.providers()[provider];
    let league: &LeagueDef = &world.leagues()[league];
    // Spread the tasks' first runs evenly over one interval, so they do not all poll in the
    // same instant every interval (one burst of every league's work at once).
    sleep(task.interval.get().mul_f64(phase)).await;
    let Some(index) = shard.config.board.index(profile.id.as_str()) else {
        return;
    };
    while !shard.draining() {
        // Another node's lease, a preferred provider, or an open circuit: check next interval.
        if may_poll(&shard, &task, index, (true, true)).is_none() {
            task.wait(task.interval.get()).await;
            continue;
        }
        let started = clock::now();
        task.running.set(true);
        task.last_run.set(Some(started));
        let outcome = world.poll_outcome(profile, league, started);
        sleep(Duration::from_millis(u64::from(outcome.latency_ms))).await;
        let board = &shard.config.board;
        if outcome.failed {
            let error = Some("simulated upstream failure".to_owned());
            board.record(
                index,
                Verdict::Failed,
                outcome.latency_ms,
                clock::now(),
                error,
            );
        } else {
            let mut slice = Slice::start();
            let observations = poll_sliced(&world, profile, league, started, &mut slice).await;
            board.record(index, Verdict::Ok, outcome.latency_ms, clock::now(), None);
            shard.route_sliced(observations, &mut slice).await;
        }
        task.running.set(false);
        let interval = task.interval.get();
        task.next_run
            .set(Some(started.add_millis(interval.as_millis() as i64)));
        let elapsed =
            Duration::from_millis((clock::now().millis() - started.millis()).max(0) as u64);
        // Sleep out the interval, or wake early when it is changed at runtime.
        task.wait(interval.saturating_sub(elapsed)).await;
    }
}

/// Slots of a league reported at once: about 60 observations, 50–100 µs of work.
const SLOTS_PER_PIECE: usize = 10;

/// [`World::poll`], built in pieces with pauses in between once `slice` is spent (a whole
/// league takes up to a millisecond). The same observations in the same order.
async fn poll_sliced(
    world: &World,
    profile: &ProviderProfile,
    league: &LeagueDef,
    now: Timestamp,
    slice: &mut Slice,
) -> Vec<Observation> {
    let mut out = Vec::new();
    for start in (0..world.slots()).step_by(SLOTS_PER_PIECE) {
        out.extend(world.poll_slots(profile, league, start..start + SLOTS_PER_PIECE, now));
        slice.yield_if_spent().await;
    }
    out
}
