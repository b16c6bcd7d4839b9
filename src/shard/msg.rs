//! Messages between shards.
//!
//! Each shard has one bounded inbox (`async-channel`, works from any thread). Observations go to
//! a match's owner; renders go from the owner to every other shard's replica; queries gather or
//! route what only one shard knows (a polling task's state, ingest parsing happens where the push arrives).

use std::sync::Arc;

use futures_channel::oneshot;
use inplay_core::{MatchId, Observation};

use crate::{polling::TaskStatus, view::MatchRender};

/// A message to a shard.
#[derive(Debug)]
pub(crate) enum ShardMsg {
    /// Observations whose match this shard owns.
    Observations(Vec<Observation>),
    /// Fresh renders (and evictions) from another shard's owned matches.
    Replicate(Vec<Replica>),
    /// Change events for this shard's WebSocket sessions, in order.
    Events(Vec<crate::ws::Event>),
    /// Changes dropped before they reached this shard (it fell behind): its sessions of these
    /// matches resync or close, by `websocket.slow_consumer`. Sent before the events after them.
    Missed(Vec<crate::ws::Missed>),
    /// A question only this shard can answer.
    Query(Query, oneshot::Sender<Answer>),
    /// Record a bet on a market of a match this shard owns; answered (HTTP status, body) once
    /// the bet is durable, while other messages go on.
    RecordBet(
        crate::bets::Bet,
        oneshot::Sender<crate::shard::bets::Recorded>,
    ),
}

/// What the owner knows of a match for its hot-match polling task.
#[derive(Debug, Clone)]
pub(crate) struct MatchEvents {
    pub sport: String,
    pub league: String,
    /// Finished, cancelled or postponed: nothing left to poll.
    pub over: bool,
    /// (provider or `provider/bookmaker`, the provider's event id).
    pub events: Vec<(String, String)>,
}

/// One entry of a replication batch.
#[derive(Debug, Clone)]
pub(crate) enum Replica {
    Upsert(Arc<MatchRender>),
    Remove(MatchId),
}

/// Questions between shards.
#[derive(Debug)]
pub(crate) enum Query {
    /// The polling tasks this shard runs.
    PollingTasks,
    /// This shard's metrics.
    Metrics,
    /// The changes of a match after `(epoch, after)`, from its owner's history.
    Recover {
        match_id: MatchId,
        epoch: String,
        after: u64,
    },
    /// Check a bet against the market (on the match's owner).
    ValidateBet(crate::bets::ValidateRequest),
    /// A market's settlement (on the match's owner).
    MarketSettlement(String),
    /// A bet's settlement, from whichever shard holds it.
    BetSettlement(String),
    /// A match's sport, league, state and provider events (on its owner), for hot-match polling.
    MatchEvents(MatchId),
    /// Change a task's interval, if this shard runs it (a `match:<id>` task is created if
    /// missing).
    SetInterval {
        task_id: String,
        interval: std::time::Duration,
    },
}

/// Answers to [`Query`].
#[derive(Debug)]
pub(crate) enum Answer {
    Tasks(Vec<TaskStatus>),
    /// (shard id, its metrics).
    Metrics(usize, Box<crate::metrics::MetricsSnapshot>),
    /// `Some(status)` if the task was found and updated.
    IntervalSet(Option<TaskStatus>),
    /// The answer to [`Query::ValidateBet`].
    BetCheck(crate::bets::BetCheck),
    /// A JSON body, or `None` when this shard does not know the thing asked about.
    Json(Option<serde_json::Value>),
    /// The answer to [`Query::MatchEvents`] (`None`: the match is not owned there).
    Events(Option<MatchEvents>),
    /// What the owner's history holds for a [`Query::Recover`].
    Recovered(super::history::Recovery),
}
