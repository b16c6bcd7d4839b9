//! A polling task: one provider × sport × league, run by one shard on its own schedule.

use std::{cell::Cell, time::Duration};

use inplay_core::Timestamp;
use serde::Serialize;

/// A task's live state, owned by the shard that runs it.
#[derive(Debug)]
pub(crate) struct PollTask {
    /// `provider:sport:league`, e.g. `demo-alpha:football:nfl`.
    pub id: String,
    pub provider: String,
    pub sport: String,
    pub league: String,
    pub interval: Cell<Duration>,
    pub last_run: Cell<Option<Timestamp>>,
    pub next_run: Cell<Option<Timestamp>>,
    pub running: Cell<bool>,
    /// What the task does now: `polling`, or why it waits: `lease` (another node polls it),
    /// `backup` (a preferred provider serves it), `circuit_open`, `circuit_half_open`,
    /// `quota_exhausted`.
    pub state: Cell<&'static str>,
    /// The preferred provider serving this task's data while it stands by as a backup.
    pub backup_of: std::cell::RefCell<Option<String>>,
    /// Where the interval comes from: `league`, `sport`, `default`, `demo` or `runtime`.
    pub source: Cell<&'static str>,
    /// The wait actually used: floor, slow-down and pre-match applied.
    pub effective: Cell<Duration>,
    /// Wakes the task's sleep when its interval changes, so a new interval applies at once.
    pub wake_tx: async_channel::Sender<()>,
    pub wake_rx: async_channel::Receiver<()>,
}

/// A task as `/api/polling/status` shows it (the original's fields plus where it runs).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskStatus {
    pub id: String,
    pub provider: String,
    pub sport: String,
    pub league: String,
    /// Milliseconds.
    pub interval: u64,
    pub last_run: Option<String>,
    pub next_run: Option<String>,
    pub running: bool,
    /// Another node holds the lease of this task's league (several nodes on one Redis).
    pub standby: bool,
    /// `polling`, `lease`, `backup`, `circuit_open`, `circuit_half_open` or `quota_exhausted`.
    pub state: &'static str,
    /// While `state` is `backup`: the preferred provider that serves this data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_of: Option<String>,
    /// Where `interval` comes from: `league`, `sport`, `default`, `demo` or `runtime`.
    pub interval_source: &'static str,
    /// Milliseconds actually waited: the provider's floor, rate-limit slow-down and the
    /// pre-match interval applied to `interval`.
    pub effective_interval: u64,
    pub shard: usize,
}

impl PollTask {
    /// A task that first runs at once, with id `provider:sport:league`.
    pub fn new(provider: &str, sport: &str, league: &str, interval: Duration) -> Self {
        Self::with_id(
            format!("{provider}:{sport}:{league}"),
            provider,
            sport,
            league,
            interval,
            "demo",
        )
    }

    /// A task with its own id; `source` says where `interval` came from.
    pub fn with_id(
        id: String,
        provider: &str,
        sport: &str,
        league: &str,
        interval: Duration,
        source: &'static str,
    ) -> Self {
        let (wake_tx, wake_rx) = async_channel::bounded(1);
        Self {
            id,
            provider: provider.to_owned(),
            sport: sport.to_owned(),
            league: league.to_owned(),
            interval: Cell::new(interval),
            last_run: Cell::new(None),
            next_run: Cell::new(None),
            running: Cell::new(false),
            state: Cell::new("polling"),
            backup_of: std::cell::RefCell::new(None),
            source: Cell::new(source),
            effective: Cell::new(interval),
            wake_tx,
            wake_rx,
        }
    }

    /// Sets what the task does now (see [`PollTask::state`]).
    pub fn set_state(&self, state: &'static str, backup_of: Option<&str>) {
        self.state.set(state);
        *self.backup_of.borrow_mut() = backup_of.map(str::to_owned);
    }

    /// Sleeps `d`, or less if the interval is changed meanwhile.
    pub async fn wait(&self, d: Duration) {
        futures_lite::future::or(glommio::timer::sleep(d), async {
            let _ = self.wake_rx.recv().await;
        })
        .await;
    }

    /// Changes the interval and wakes the task so it reschedules now.
    pub fn set_interval(&self, interval: Duration) {
        self.interval.set(interval);
        self.source.set("runtime");
        let _ = self.wake_tx.try_send(());
    }

    /// The task's status row.
    pub fn status(&self, shard: usize) -> TaskStatus {
        TaskStatus {
            id: self.id.clone(),
            provider: self.provider.clone(),
            sport: self.sport.clone(),
            league: self.league.clone(),
            interval: self.interval.get().as_millis() as u64,
            last_run: self.last_run.get().map(Timestamp::to_iso),
            next_run: self.next_run.get().map(Timestamp::to_iso),
            running: self.running.get(),
            standby: self.state.get() == "lease",
            state: self.state.get(),
            backup_of: self.backup_of.borrow().clone(),
            interval_source: self.source.get(),
            effective_interval: self.effective.get().as_millis() as u64,
            shard,
        }
    }
}

/// Stable FNV-1a hash of a task id: the shard that runs it is `hash % nr_shards`.
pub(crate) fn task_shard(task_id: &str, nr_shards: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in task_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % nr_shards.max(1) as u64) as usize
}
