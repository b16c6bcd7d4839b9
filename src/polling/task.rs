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
    /// Whether another node holds this task's lease, so this node does not poll it now.
    pub standby: Cell<bool>,
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
    pub shard: usize,
}

impl PollTask {
    /// A task that first runs at once.
    pub fn new(provider: &str, sport: &str, league: &str, interval: Duration) -> Self {
        let (wake_tx, wake_rx) = async_channel::bounded(1);
        Self {
            id: format!("{provider}:{sport}:{league}"),
            provider: provider.to_owned(),
            sport: sport.to_owned(),
            league: league.to_owned(),
            interval: Cell::new(interval),
            last_run: Cell::new(None),
            next_run: Cell::new(None),
            running: Cell::new(false),
            standby: Cell::new(false),
            wake_tx,
            wake_rx,
        }
    }

    /// Changes the interval and wakes the task so it reschedules now.
    pub fn set_interval(&self, interval: Duration) {
        self.interval.set(interval);
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
            standby: self.standby.get(),
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
