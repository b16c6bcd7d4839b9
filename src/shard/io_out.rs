//! What a shard hands the I/O thread: per batch of changes, the cache entries, publishes and
//! history records they mean, collected here and shipped by one sender task per shard.
//!
//! Nothing here waits on Redis or PostgreSQL. Cache entries are coalesced per key (only the
//! latest value matters); publishes and records keep their order. A Redis batch that does not
//! fit the I/O thread's queue is dropped and counted (best-effort by nature); records are
//! awaited into the queue, and kept here meanwhile up to [`MAX_PENDING_RECORDS`].

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    hash::{Hash, Hasher},
    rc::Rc,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use glommio::timer::sleep;
use inplay_core::{
    aggregate::{view::ChangeKind, MatchState},
    MarketKey, Timestamp,
};
use serde_json::json;
use tracing::warn;

use crate::{
    io::{redis_relay, CacheSet, IoHandle, ProviderQuote, Record, RedisBatch, SelectionPrice},
    view::MatchRender,
    ws::Event,
};

/// Records kept on the shard while the I/O thread's queue is full, before the oldest are
/// dropped (and counted). The PostgreSQL writer's own queue and journal are far larger.
pub(crate) const MAX_PENDING_RECORDS: usize = 1_000_000;
/// How long a flush waits for more changes to batch with.
const FLUSH_DELAY: Duration = Duration::from_millis(5);
/// Provider event ids remembered to skip repeated id-map upserts (cleared when full).
const SEEN_MAX: usize = 200_000;

#[derive(Debug, Default)]
struct Pending {
    sets: HashMap<String, CacheSet>,
    publishes: Vec<(String, Vec<u8>)>,
    records: Vec<Record>,
}

/// One shard's outbox to the I/O thread.
#[derive(Debug)]
pub(crate) struct IoOut {
    handle: IoHandle,
    /// `,"origin":"<node>"}`: ends every message this node publishes.
    origin: String,
    pending: RefCell<Pending>,
    wake: async_channel::Sender<()>,
    wake_rx: async_channel::Receiver<()>,
    /// Hashes of (provider, provider event id) already written to the id map.
    seen: RefCell<HashSet<u64>>,
}

impl IoOut {
    pub fn new(handle: IoHandle) -> Self {
        let (wake, wake_rx) = async_channel::bounded(1);
        Self {
            origin: redis_relay::origin_suffix(&handle.node_id),
            handle,
            pending: RefCell::default(),
            wake,
            wake_rx,
            seen: RefCell::default(),
        }
    }

    fn redis(&self) -> bool {
        self.handle.redis.is_some()
    }

    fn history(&self) -> bool {
        self.handle.records.is_some()
    }

    /// The handle this outbox ships through.
    pub fn handle(&self) -> &IoHandle {
        &self.handle
    }

    /// A provider reported an event of `match_id`: remembered in the id map once.
    pub fn observed(&self, provider: &str, event_id: &str, match_id: &str, now: Timestamp) {
        if !self.history() {
            return;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (provider, event_id).hash(&mut h);
        let mut seen = self.seen.borrow_mut();
        if seen.len() >= SEEN_MAX {
            seen.clear();
        }
        if seen.insert(h.finish()) {
            self.push_record(Record::ProviderEvent {
                provider: provider.into(),
                provider_event_id: event_id.into(),
                match_id: match_id.into(),
                at_ms: now.millis(),
            });
        }
    }

    /// A match changed: `kinds` are its changes with their seq, `events` the frames built for
    /// them (this match's only, in the same order, without the ones that could not be built).
    pub fn changed(
        &self,
        state: &MatchState,
        render: &MatchRender,
        kinds: &[(u64, ChangeKind)],
        events: &[Event],
        created: bool,
        now: Timestamp,
    ) {
        if !self.redis() && !self.history() {
            return;
        }
        if self.history() && (created || kinds.iter().any(|(_, k)| *k == ChangeKind::Score)) {
            self.push_record(match_record(state, now));
        }
        for (seq, kind) in kinds {
            match kind {
                ChangeKind::Score => self.score(state, render, *seq, now),
                ChangeKind::Odds(key)
                | ChangeKind::MarketSuspended(key)
                | ChangeKind::MarketResumed(key) => self.market(state, render, key, *seq, now),
                ChangeKind::Settled(key) => {
                    self.market(state, render, key, *seq, now);
                    self.settlement(state, render, key, *seq, now);
                }
            }
        }
        if self.redis() {
            let channel = format!("markets:{}:{}", render.sport, render.league);
            let mut p = self.pending.borrow_mut();
            for e in events.iter().filter(|e| e.market) {
                let message = redis_relay::with_origin(e.frame.as_bytes(), &self.origin);
                p.publishes.push((channel.clone(), message));
            }
        }
        let _ = self.wake.try_send(());
    }

    fn score(&self, state: &MatchState, render: &MatchRender, seq: u64, now: Timestamp) {
        let Some(score) = state.score() else {
            return;
        };
        let id = state.info().id.as_str();
        let status = state.status().as_str();
        if self.redis() {
            let message = json!({
                "homeScore": score.home,
                "awayScore": score.away,
                "period": score.period,
                "status": status,
                "clock": score.clock,
                "confidence": (score.confidence * 1000.0).round() / 1000.0,
                "matchId": id,
                "seq": seq,
                "timestamp": now.to_iso(),
            });
            let message = redis_relay::with_origin(message.to_string().as_bytes(), &self.origin);
            self.set(
                format!("score:{id}"),
                render.score.as_slice().into(),
                self.handle.ttls.score,
            );
            self.pending
                .borrow_mut()
                .publishes
                .push((format!("match:{id}"), message));
        }
        if self.history() {
            self.push_record(Record::Score {
                match_id: id.into(),
                home: score.home,
                away: score.away,
                period: score.period.clone(),
                status: status.into(),
                seq,
                at_ms: now.millis(),
            });
        }
    }

    fn market(
        &self,
        state: &MatchState,
        render: &MatchRender,
        key: &MarketKey,
        seq: u64,
        now: Timestamp,
    ) {
        let info = state.info();
        let market_id = format!("{}:{}", info.id, key.suffix());
        self.cache_market("market", &market_id, render, self.handle.ttls.market);
        let Some(market) = state.market(key).filter(|_| self.history()) else {
            return;
        };
        self.push_record(Record::Market {
            match_id: info.id.to_string(),
            sport: info.sport.clone(),
            event: format!("{} vs {}", info.home_team, info.away_team),
            market_type: key.market_type.as_str().into(),
            line: key.line.map(|l| l.as_f64()),
            status: market.status.as_str().into(),
            selections: market
                .selections
                .iter()
                .map(|s| SelectionPrice {
                    selection: s.selection.as_str().into(),
                    best: s.best.map(|p| p.decimal()),
                    best_provider: s.best_provider.as_ref().map(|p| p.to_string()),
                    prices: s
                        .prices
                        .iter()
                        .map(|p| ProviderQuote {
                            provider: p.provider.to_string(),
                            odds: p.price.decimal(),
                            status: p.status.as_str().into(),
                        })
                        .collect(),
                })
                .collect(),
            market_id,
            seq,
            at_ms: now.millis(),
        });
    }

    fn settlement(
        &self,
        state: &MatchState,
        render: &MatchRender,
        key: &MarketKey,
        seq: u64,
        now: Timestamp,
    ) {
        let market_id = format!("{}:{}", state.info().id, key.suffix());
        self.cache_market(
            "settlement",
            &market_id,
            render,
            self.handle.ttls.settlement,
        );
        let Some(settled) = state
            .market(key)
            .and_then(|m| m.settlement.as_ref())
            .filter(|_| self.history())
        else {
            return;
        };
        self.push_record(Record::Settlement {
            match_id: state.info().id.to_string(),
            market_id,
            results: settled
                .results
                .iter()
                .map(|(s, r)| (s.as_str().to_owned(), r.as_str().to_owned()))
                .collect(),
            confidence: settled.confidence,
            conflicts: settled
                .conflicts
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            seq,
            at_ms: now.millis(),
        });
    }

    /// Caches a market's body as `<prefix>:<marketId>`.
    fn cache_market(&self, prefix: &str, market_id: &str, render: &MatchRender, ttl: Duration) {
        if !self.redis() {
            return;
        }
        if let Some(piece) = render.markets.iter().find(|p| *p.id == *market_id) {
            self.set(format!("{prefix}:{market_id}"), piece.body.clone(), ttl);
        }
    }

    /// Queues a cache write (the latest value per key wins).
    pub fn set(&self, key: String, value: Arc<[u8]>, ttl: Duration) {
        if !self.redis() {
            return;
        }
        let set = CacheSet {
            key: key.clone(),
            value,
            ttl,
        };
        self.pending.borrow_mut().sets.insert(key, set);
        let _ = self.wake.try_send(());
    }

    /// Queues one history record for PostgreSQL (no-op when it is off).
    pub fn record(&self, record: Record) {
        if self.history() {
            self.push_record(record);
            let _ = self.wake.try_send(());
        }
    }

    fn push_record(&self, record: Record) {
        let mut p = self.pending.borrow_mut();
        p.records.push(record);
        let excess = p.records.len().saturating_sub(MAX_PENDING_RECORDS);
        if excess > 0 {
            p.records.drain(..excess);
            let stats = &self.handle.stats;
            stats
                .records_dropped
                .fetch_add(excess as u64, Ordering::Relaxed);
            warn!(
                dropped = excess,
                "I/O thread behind: oldest history records dropped"
            );
        }
    }

    /// Ships pending work to the I/O thread whenever there is some, until it is gone.
    pub async fn run_sender(self: Rc<Self>) {
        while self.wake_rx.recv().await.is_ok() {
            sleep(FLUSH_DELAY).await; // let a burst of changes share one batch
            if !self.flush().await {
                return;
            }
        }
    }

    /// Hands everything pending to the I/O thread now. `false` once the I/O thread is gone.
    pub async fn flush(&self) -> bool {
        let Pending {
            sets,
            publishes,
            records,
        } = std::mem::take(&mut *self.pending.borrow_mut());
        let stats = &self.handle.stats;
        if let Some(tx) = &self.handle.redis {
            let batch = RedisBatch {
                sets: sets.into_values().collect(),
                publishes,
            };
            if !batch.is_empty() && tx.try_send(batch).is_err() {
                stats.redis_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        match &self.handle.records {
            Some(tx) if !records.is_empty() => {
                let (mut scores, mut markets, mut settlements) = (0, 0, 0);
                for r in &records {
                    match r {
                        Record::Score { .. } => scores += 1,
                        Record::Market { .. } => markets += 1,
                        Record::Settlement { .. } => settlements += 1,
                        _ => {}
                    }
                }
                let sent = tx.send(records).await.is_ok();
                if sent {
                    stats.sent_scores.fetch_add(scores, Ordering::Relaxed);
                    stats.sent_markets.fetch_add(markets, Ordering::Relaxed);
                    stats
                        .sent_settlements
                        .fetch_add(settlements, Ordering::Relaxed);
                }
                sent
            }
            _ => true,
        }
    }
}

fn match_record(state: &MatchState, now: Timestamp) -> Record {
    let info = state.info();
    Record::Match {
        id: info.id.to_string(),
        sport: info.sport.clone(),
        league: info.league.clone(),
        home: info.home_team.clone(),
        away: info.away_team.clone(),
        start_ms: info.start_time.millis(),
        status: state.status().as_str().into(),
        at_ms: now.millis(),
    }
}
