//! One shard: a glommio executor pinned to a core that accepts connections on the shared port,
//! owns a slice of the matches and polling tasks, and holds a full read view.
//!
//! Everything here is single-threaded (`Rc`, `RefCell`, `Cell`): other shards are reached only
//! through their inboxes.

mod accept;
pub(crate) mod bets;
mod demo;
pub(crate) mod history;
mod hot;
mod inbox;
mod io_out;
mod lists;
mod msg;
mod outbox;
mod owner;
mod poll;
mod routing;
mod set;
mod slice;

use std::{
    cell::{Cell, RefCell},
    net::SocketAddr,
    rc::Rc,
    sync::Arc,
    time::Duration,
};

use futures_channel::oneshot;
use glommio::{spawn_local, timer::sleep};
use inplay_core::{aggregate::Weights, identity::AliasTable, Observation};
use tracing::info;

pub(crate) use msg::{Answer, MatchEvents, Query, Replica, ShardMsg};
pub(crate) use set::start_shards;

use crate::{
    clock,
    http::{ConnConfig, Tracker},
    polling::{PollTask, TaskStatus},
    view::ViewStore,
};
use outbox::Outbox;
use owner::Owned;

/// What every shard is configured with (`Send`, built once by `main`).
#[derive(Debug, Clone)]
pub(crate) struct ShardConfig {
    pub addr: SocketAddr,
    /// `[tls]`: the certificate and settings when the port speaks HTTPS/WSS only.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub conn: ConnConfig,
    pub max_connections: usize,
    /// Deepest JSON nesting a request body may have (`http.max_json_depth`).
    pub max_json_depth: usize,
    pub shutdown_grace: Duration,
    pub io_memory: usize,
    pub demo: Option<demo::DemoSetup>,
    pub min_interval: Duration,
    pub start_window_ms: i64,
    pub retain_finished: Duration,
    pub markets_default_limit: usize,
    pub markets_max_limit: usize,
    /// `http.gzip`: list bodies go gzip-compressed to clients that accept it.
    pub gzip: bool,
    pub aliases: Arc<AliasTable>,
    pub weights: Arc<Weights>,
    /// The polling configuration as `/api/polling/status` shows it.
    pub polling_config: Arc<serde_json::Value>,
    pub started_at: inplay_core::Timestamp,
    /// WebSocket limits and timers.
    pub ws: crate::ws::WsConfig,
    /// WebSocket connections and subscriptions per client address, shared by every shard.
    pub ws_caps: Arc<crate::ws::caps::IpCaps>,
    /// CORS, rate limits and authentication, shared read-only by every shard.
    pub gate: Arc<crate::api::GateConfig>,
    /// WebSocket sessions per shard (owners ship events only where there are some).
    pub ws_sessions: Arc<[std::sync::atomic::AtomicUsize]>,
    /// The way to the I/O thread (Redis, PostgreSQL) and the polling leases.
    pub io: crate::io::IoHandle,
    /// Every provider's health, breaker and quota (shared by all shards).
    pub board: Arc<crate::providers::Board>,
    /// The configured providers' polling tasks (each shard runs its share).
    pub feeds: Arc<[crate::providers::FeedSpec]>,
    /// Polling intervals (resolution per task, pre-match interval).
    pub polling: Arc<crate::config::PollingConfig>,
    /// Where bet journals live (`<storage.data_dir>/bets`).
    pub bets_dir: std::path::PathBuf,
    /// Stake limits and price tolerance of bet validation.
    pub bet_limits: crate::bets::BetLimits,
    /// Shards still draining connections. A shard keeps answering its peers until this is 0,
    /// because a peer's in-flight request may still need it (a routed query).
    pub draining_shards: Arc<std::sync::atomic::AtomicUsize>,
}

pub(crate) use demo::DemoSetup;

/// One shard's state.
pub(crate) struct Shard {
    pub id: usize,
    pub nr_shards: usize,
    pub config: ShardConfig,
    /// Every shard's inbox, indexed by shard id (this one's included).
    pub inboxes: Vec<async_channel::Sender<ShardMsg>>,
    pub view: RefCell<ViewStore>,
    owned: RefCell<Owned>,
    outbox: Rc<Outbox>,
    /// Cache writes, publishes and history records for the I/O thread.
    io_out: Rc<io_out::IoOut>,
    /// Bets on markets of the matches this shard owns.
    bets: RefCell<crate::bets::BetBook>,
    bet_journal: RefCell<Option<Rc<crate::bets::BetJournal>>>,
    /// Serialises bet recording (duplicate check + durable write + insert).
    bet_lock: glommio::sync::Semaphore,
    /// Settled markets whose bets await grading, and the grading task's wake-up.
    pending_grades: RefCell<Vec<String>>,
    grade_wake: (async_channel::Sender<()>, async_channel::Receiver<()>),
    pub tasks: RefCell<Vec<Rc<PollTask>>>,
    pub tracker: Rc<Tracker>,
    /// This shard's WebSocket sessions.
    pub hub: Rc<crate::ws::Hub>,
    /// Request counters and latency histogram.
    pub metrics: crate::metrics::ShardMetrics,
    draining: Cell<bool>,
    /// (provider, provider event id) → owner shard, so routing skips name normalisation for
    /// events seen before. Bounded by [`routing::OWNER_CACHE_MAX`].
    owner_cache: RefCell<routing::OwnerCache>,
    /// This shard itself, for tasks started from `&self` (set when it starts running).
    me: std::cell::OnceCell<std::rc::Weak<Shard>>,
}

impl Shard {
    fn new(id: usize, config: ShardConfig, inboxes: Vec<async_channel::Sender<ShardMsg>>) -> Self {
        let nr_shards = inboxes.len();
        let sessions = config.ws_sessions.clone();
        let ws = config.ws;
        Self {
            id,
            nr_shards,
            owned: RefCell::new(Owned::new(config.start_window_ms, config.ws.history_bytes)),
            io_out: Rc::new(io_out::IoOut::new(config.io.clone())),
            bets: RefCell::new(crate::bets::BetBook::load(&config.bets_dir, id, nr_shards)),
            bet_journal: RefCell::new(None),
            bet_lock: glommio::sync::Semaphore::new(1),
            pending_grades: RefCell::default(),
            grade_wake: async_channel::bounded(1),
            config,
            outbox: Rc::new(Outbox::new(nr_shards)),
            inboxes,
            view: RefCell::default(),
            tasks: RefCell::default(),
            tracker: Rc::default(),
            hub: Rc::new(crate::ws::Hub::new(id, sessions, ws.slow_consumer)),
            metrics: Default::default(),
            draining: Cell::new(false),
            owner_cache: RefCell::default(),
            me: std::cell::OnceCell::new(),
        }
    }

    /// Runs the shard until `drain_rx` fires and the drain completes.
    async fn run(
        self: Rc<Self>,
        listener: std::net::TcpListener,
        inbox: async_channel::Receiver<ShardMsg>,
        drain_rx: async_channel::Receiver<()>,
    ) {
        let _ = self.me.set(Rc::downgrade(&self));
        for peer in (0..self.nr_shards).filter(|&p| p != self.id) {
            spawn_local(
                self.outbox
                    .clone()
                    .run_sender(peer, self.inboxes[peer].clone()),
            )
            .detach();
        }
        spawn_local(self.clone().inbox_loop(inbox)).detach();
        spawn_local(self.clone().evict_loop()).detach();
        spawn_local(
            self.tracker
                .clone()
                .sweep_idle(self.config.conn.idle_timeout),
        )
        .detach();
        spawn_local(self.io_out.clone().run_sender()).detach();
        self.open_bet_journal().await;
        spawn_local(self.clone().grade_loop()).detach();
        if self.id == 0 {
            spawn_local(lists::cache_loop(self.clone())).detach();
        }
        demo::spawn_tasks(&self);
        poll::spawn_tasks(&self);
        hot::spawn_configured(&self);
        let (stop_accepting, stop) = oneshot::channel();
        let accept = spawn_local(self.clone().accept_loop(listener, stop));

        let _ = drain_rx.recv().await;
        info!(shard = self.id, open = self.tracker.open(), "Draining");
        self.draining.set(true);
        // Idle connections see end-of-stream after what they had sent; then the listener
        // closes, and the kernel stops routing new connections here.
        self.tracker.start_drain();
        let _ = stop_accepting.send(());
        self.hub.close_all();
        let deadline = std::time::Instant::now() + self.config.shutdown_grace;
        while self.tracker.open() > 0 && std::time::Instant::now() < deadline {
            sleep(Duration::from_millis(10)).await;
        }
        accept.cancel().await; // whatever is left past the grace closes now
        info!(shard = self.id, left = self.tracker.open(), "Drained");
        self.io_out.flush().await; // history of the last changes goes out before the exit
        use std::sync::atomic::Ordering;
        self.config.draining_shards.fetch_sub(1, Ordering::AcqRel);
        let deadline = deadline + Duration::from_millis(500);
        while self.config.draining_shards.load(Ordering::Acquire) > 0
            && std::time::Instant::now() < deadline
        {
            sleep(Duration::from_millis(10)).await;
        }
    }

    /// This shard as an `Rc` (`None` before it runs or after it stopped).
    pub fn rc(&self) -> Option<Rc<Shard>> {
        self.me.get()?.upgrade()
    }

    /// Whether the shard is shutting down.
    pub fn draining(&self) -> bool {
        self.draining.get()
    }

    /// Answers a query from this shard's own state.
    pub fn answer(&self, q: Query) -> Answer {
        match q {
            Query::PollingTasks => Answer::Tasks(
                self.tasks
                    .borrow()
                    .iter()
                    .map(|t| t.status(self.id))
                    .collect(),
            ),
            Query::Metrics => {
                let mut m = crate::metrics::MetricsSnapshot {
                    connections_open: self.tracker.open(),
                    connections_in_loop: self.tracker.in_loop(),
                    ws_sessions: self.hub.open_count(),
                    ws_slow_dropped: self.hub.slow_dropped.get(),
                    ws_slow_coalesced: self.hub.slow_coalesced.get(),
                    ws_lagged: self.hub.lagged.get(),
                    ws_queued_frames: self.hub.queued_frames(),
                    ws_offered: self.hub.stats.offered.get(),
                    ws_events: self.hub.stats.events.get(),
                    ws_lag_sum: self.hub.stats.lag_sum.get(),
                    ws_lag_max: self.hub.stats.lag_max.take(),
                    matches: self.view.borrow().len(),
                    history_bytes: self.owned.borrow().history_bytes(),
                    ..Default::default()
                };
                self.metrics.snapshot_into(&mut m);
                Answer::Metrics(self.id, Box::new(m))
            }
            Query::ValidateBet(req) => Answer::BetCheck(self.validate_bet(&req)),
            Query::MarketSettlement(id) => Answer::Json(self.market_settlement(&id)),
            Query::BetSettlement(id) => Answer::Json(self.bets.borrow().settlement_json(&id)),
            Query::Recover {
                match_id,
                epoch,
                after,
            } => Answer::Recovered(self.owned.borrow().recover(&match_id, &epoch, after)),
            Query::MatchEvents(id) => Answer::Events(self.owned.borrow().provider_events(&id)),
            Query::SetInterval { task_id, interval } => {
                if !self.tasks.borrow().iter().any(|t| t.id == task_id) {
                    return Answer::IntervalSet(hot::start(self, &task_id, interval));
                }
                let tasks = self.tasks.borrow();
                let task = tasks.iter().find(|t| t.id == task_id);
                Answer::IntervalSet(task.map(|t| {
                    t.set_interval(interval);
                    info!(task = %t.id, interval_ms = interval.as_millis() as u64, "Polling interval updated");
                    t.status(self.id)
                }))
            }
        }
    }

    /// Asks one shard (this one directly); `None` if it has stopped.
    pub async fn ask(&self, shard: usize, q: Query) -> Option<Answer> {
        if shard == self.id {
            return Some(self.answer(q));
        }
        let (tx, rx) = oneshot::channel();
        self.inboxes
            .get(shard)?
            .send(ShardMsg::Query(q, tx))
            .await
            .ok()?;
        rx.await.ok()
    }

    /// Asks every shard (this one directly) and collects the answers.
    pub async fn gather(&self, make: impl Fn() -> Query) -> Vec<Answer> {
        let mut answers = Vec::with_capacity(self.nr_shards);
        let mut pending = Vec::new();
        for peer in 0..self.nr_shards {
            if peer == self.id {
                answers.push(self.answer(make()));
                continue;
            }
            let (tx, rx) = oneshot::channel();
            if self.inboxes[peer]
                .send(ShardMsg::Query(make(), tx))
                .await
                .is_ok()
            {
                pending.push(rx);
            }
        }
        for rx in pending {
            if let Ok(a) = rx.await {
                answers.push(a);
            }
        }
        answers
    }

    /// Applies observations this shard owns and publishes the changed matches.
    fn apply(&self, batch: &[Observation]) {
        let now = clock::now();
        let cfg = &self.config;
        let (renders, events) = {
            let mut owned = self.owned.borrow_mut();
            if !owned.history_armed() && self.hub.any_sessions() {
                owned.arm_history();
            }
            owned.apply(batch, &cfg.aliases, &cfg.weights, &self.io_out, now)
        };
        let settled = self.owned.borrow_mut().take_settled();
        self.settled_since(settled);
        {
            let mut view = self.view.borrow_mut();
            for r in renders {
                view.upsert(&r);
                let id = r.id.clone();
                self.outbox.push(self.id, &id, &Replica::Upsert(r));
            }
        }
        if events.is_empty() {
            return;
        }
        self.hub.publish(&events);
        for peer in (0..self.nr_shards).filter(|&p| p != self.id) {
            if self.hub.has_sessions(peer) {
                self.outbox.push_events(peer, &events);
            }
        }
    }

    async fn evict_loop(self: Rc<Self>) {
        let retain = self.config.retain_finished.as_millis() as i64;
        while !self.draining() {
            sleep(Duration::from_secs(5)).await;
            let expired = self.owned.borrow_mut().evict(clock::now(), retain);
            let mut view = self.view.borrow_mut();
            for id in expired {
                view.remove(&id);
                self.outbox.push(self.id, &id, &Replica::Remove(id.clone()));
            }
        }
    }

    /// Statuses of every polling task on every shard.
    pub async fn all_tasks(&self) -> Vec<TaskStatus> {
        let mut tasks: Vec<TaskStatus> = self
            .gather(|| Query::PollingTasks)
            .await
            .into_iter()
            .flat_map(|a| match a {
                Answer::Tasks(t) => t,
                _ => Vec::new(),
            })
            .collect();
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        tasks
    }
}
