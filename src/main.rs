//! inplay: a thread-per-core live odds & scores server.
//!
//! `main` only wires things together: command line, configuration, logging, system checks,
//! the shards, and the signal that drains them. See ARCHITECTURE.md for the shape.

mod api;
mod auth;
mod bets;
mod clock;
mod config;
mod error;
mod http;
mod io;
mod logging;
mod metrics;
mod polling;
mod providers;
mod ratelimit;
mod shard;
mod signals;
mod system;
mod view;
mod ws;

use std::{path::PathBuf, sync::Arc};

use inplay_core::{aggregate::Weights, demo, identity::AliasTable};
use tracing::{info, warn};

use config::Config;
use error::StartError;
use http::{ConnConfig, Limits};
use shard::{DemoSetup, ShardConfig};

/// Command-line options.
struct Args {
    config: Option<PathBuf>,
    pretty: bool,
}

fn main() {
    match run() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("inplay: {e}");
            std::process::exit(e.exit_code());
        }
    }
}

fn run() -> Result<(), StartError> {
    let Some(args) = parse_args(std::env::args().skip(1))? else {
        return Ok(());
    };
    let config = Config::from_process(args.config.as_deref())
        .map_err(|e| StartError::Config(e.to_string()))?;
    logging::init(
        &config.log.level,
        args.pretty || config.log.format == config::LogFormat::Pretty,
    );
    system::check_memlock(512 * 1024)?;

    let allowed = system::allowed_cpus();
    let cpus: Vec<Option<usize>> = if config.server.cpus.is_empty() {
        let n = config.resolved_shards(allowed.len());
        (0..n)
            .map(|i| allowed.get(i % allowed.len().max(1)).copied())
            .collect()
    } else {
        let n = config.resolved_shards(config.server.cpus.len());
        config
            .server
            .cpus
            .iter()
            .take(n)
            .map(|&c| Some(c))
            .collect()
    };
    let addr = format!("{}:{}", config.server.host, config.server.port)
        .parse()
        .map_err(|_| {
            StartError::Config(format!(
                "server.host {:?} is not an IP address",
                config.server.host
            ))
        })?;
    let gate = api::GateConfig::try_new(&config).map_err(StartError::Config)?;
    let tls = http::tls::load(&config.tls).map_err(StartError::Config)?;
    let reservation = system::reserve_port(addr)?;
    warn_security(&config, &gate, cpus.len());

    // rustls on ring for provider HTTPS: installed once, before the client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started_at = clock::now();
    let (demo, mut weights) = demo_setup(&config, started_at);
    let (board, feeds) = providers::setup::build(
        &config,
        demo.as_ref().map(|d| &*d.world),
        &config::process_env,
    )
    .map_err(StartError::Config)?;
    let network = |p: &&config::ProviderConfig| p.enabled && p.kind != config::ProviderKind::Demo;
    for p in config.providers.iter().filter(network) {
        let priority = u8::try_from(p.priority).unwrap_or(u8::MAX);
        weights.set(inplay_core::ProviderId::new(&p.id), priority, 1.0);
    }
    let (io_handle, io_parts) = io_channels(&config, demo.as_ref(), &feeds);
    let parts = Parts {
        tls,
        io: io_handle,
        gate: Arc::new(gate),
        demo,
        weights: Arc::new(weights),
        board: Arc::new(board),
        feeds: feeds.into(),
    };
    let mut shard_config = shard_config(&config, reservation.addr, started_at, parts);
    shard_config.draining_shards = Arc::new(std::sync::atomic::AtomicUsize::new(cpus.len()));
    let ws_sessions: Arc<[std::sync::atomic::AtomicUsize]> =
        (0..cpus.len()).map(|_| Default::default()).collect();
    shard_config.ws_sessions = ws_sessions.clone();
    let shards = shard::start_shards(shard_config, &cpus)?;
    let io_thread = io::spawn(io_parts, shards.inboxes(), ws_sessions)?;
    drop(reservation);
    info!(addr = %shards.addr, shards = cpus.len(), cpus = ?cpus, demo = config.demo.enabled, tls = config.tls.enabled(), "Listening");

    let mut signals = signals::StopSignals::install()
        .map_err(|e| StartError::Executor(format!("cannot install signal handlers: {e}")))?;
    let sig = signals.wait();
    info!(
        signal = sig,
        grace_ms = config.server.shutdown_grace.as_millis() as u64,
        "Shutting down"
    );
    // A second signal during the drain stops at once.
    std::thread::spawn(move || {
        signals.wait();
        std::process::exit(130);
    });
    shards.drain_and_join();
    io_thread.stop_and_join();
    info!("Stopped");
    Ok(())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, StartError> {
    let mut out = Args {
        config: None,
        pretty: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                let path = args
                    .next()
                    .ok_or_else(|| StartError::Usage("--config needs a FILE".into()))?;
                out.config = Some(path.into());
            }
            "--pretty" => out.pretty = true,
            "--help" | "-h" => {
                println!("inplay {}: live odds & scores server\n\nusage: inplay [--config FILE] [--pretty]\n\n  --config FILE  configuration file (default config/default.toml)\n  --pretty       human-readable logs instead of JSON lines\n\nEvery key can be overridden by INPLAY_<SECTION>_<KEY>; see config/default.toml.", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--version" | "-V" => {
                println!("inplay {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            other => return Err(StartError::Usage(format!("unknown argument {other:?}"))),
        }
    }
    Ok(Some(out))
}

/// Says so at start-up when the security settings leave something open or unusable.
fn warn_security(config: &Config, gate: &api::GateConfig, nr_shards: usize) {
    let auth = &config.auth;
    if !gate.auth.has_keys() {
        warn!("No JWT secret or public key configured (JWT_SECRET, auth.public_key_file): protected routes answer 401");
    } else if auth.wants_secret() && !auth.jwt_secret.is_empty() && auth.jwt_secret.len() < 32 {
        warn!("auth.jwt_secret is shorter than 32 bytes: HS256 wants at least 256 bits of secret");
    }
    if config.server.dev_mode {
        warn!("server.dev_mode is on: development settings (such as the placeholder JWT secret) are allowed");
    }
    let rl = &config.rate_limit;
    if rl.enabled && (rl.burst as usize) < nr_shards {
        warn!(
            burst = rl.burst,
            shards = nr_shards,
            "rate_limit.burst is below the shard count: each shard admits 1 at once, so a client may get one per shard"
        );
    }
}

/// The channels to the I/O thread, and the polling leases (one per league polled).
fn io_channels(
    config: &Config,
    demo: Option<&DemoSetup>,
    feeds: &[providers::FeedSpec],
) -> (io::IoHandle, io::IoParts) {
    let r = &config.redis;
    let redis = (!r.url.is_empty()).then(|| io::RedisSettings {
        url: r.url.clone(),
        lease: r.lease,
    });
    let mut groups: Vec<String> = demo.map_or_else(Vec::new, |d| {
        d.world
            .leagues()
            .iter()
            .map(|l| io::Leases::group(l.sport, l.league))
            .collect()
    });
    groups.extend(feeds.iter().map(|f| io::Leases::group(&f.sport, &f.league)));
    groups.sort();
    groups.dedup();
    let ttls = io::CacheTtls {
        score: r.score_ttl,
        markets: r.markets_ttl,
        market: r.market_ttl,
        settlement: r.settlement_ttl,
    };
    let postgres = config
        .postgres
        .enabled
        .then(|| io::pg::PgSettings::from_config(&config.postgres, &config.storage));
    io::channels(
        io::IoSettings { redis, postgres },
        ttls,
        r.markets_refresh,
        io::node_id(&r.node_id),
        groups,
        !feeds.is_empty(),
    )
}

/// The demo world (when on) and the provider weights it implies.
fn demo_setup(config: &Config, started_at: inplay_core::Timestamp) -> (Option<DemoSetup>, Weights) {
    let mut weights = Weights::new(0.5);
    let demo = config.demo.enabled.then(|| {
        let world = demo::World::new(demo::DemoConfig {
            seed: config.demo.seed,
            epoch: started_at,
            slots_per_league: config.demo.slots_per_league as usize,
        });
        for p in world.providers() {
            weights.set(p.id.clone(), p.priority, p.weight);
        }
        DemoSetup {
            world: Arc::new(world),
            interval: config.polling.demo_interval,
        }
    });
    (demo, weights)
}

/// What the shards share that `main` builds before them.
struct Parts {
    tls: Option<Arc<rustls::ServerConfig>>,
    io: io::IoHandle,
    gate: Arc<api::GateConfig>,
    demo: Option<DemoSetup>,
    weights: Arc<Weights>,
    board: Arc<providers::Board>,
    feeds: Arc<[providers::FeedSpec]>,
}

fn shard_config(
    config: &Config,
    addr: std::net::SocketAddr,
    started_at: inplay_core::Timestamp,
    parts: Parts,
) -> ShardConfig {
    let Parts {
        tls,
        io,
        gate,
        demo,
        weights,
        board,
        feeds,
    } = parts;
    let mut aliases = AliasTable::builtin();
    for (sport, table) in &config.identity.aliases {
        for (alias, canonical) in table {
            aliases.add(sport, alias, canonical);
        }
    }
    let http = &config.http;
    ShardConfig {
        addr,
        tls,
        conn: ConnConfig {
            limits: Limits {
                max_header_bytes: http.max_header_bytes,
                max_body_bytes: http.max_body_bytes,
                max_headers: http.max_headers,
            },
            header_read_timeout: http.header_read_timeout,
            idle_timeout: http.idle_timeout,
            max_pipeline: http.max_pipeline,
            epoll: http.epoll,
        },
        max_connections: http.max_connections_per_shard,
        max_json_depth: http.max_json_depth,
        shutdown_grace: config.server.shutdown_grace,
        io_memory: config.server.io_memory_kib * 1024,
        demo,
        min_interval: config.polling.min_interval,
        start_window_ms: config.identity.start_window.as_millis() as i64,
        retain_finished: config.identity.retain_finished,
        markets_default_limit: config.markets.default_limit,
        markets_max_limit: config.markets.max_limit,
        gzip: http.gzip,
        aliases: Arc::new(aliases),
        weights,
        polling_config: Arc::new(config.polling.to_json()),
        started_at,
        draining_shards: Arc::default(),
        ws: ws::WsConfig {
            send_queue: config.websocket.send_queue,
            max_message_bytes: config.websocket.max_message_bytes,
            ping_interval: config.websocket.ping_interval,
            idle_timeout: config.websocket.idle_timeout,
            history_bytes: config.websocket.history_bytes,
            max_subscriptions: config.websocket.max_subscriptions,
            max_json_depth: http.max_json_depth,
            send_queue_bytes: config.websocket.send_queue_bytes,
            slow_consumer: if config.websocket.slow_consumer == "coalesce" {
                ws::queue::SlowConsumer::Coalesce
            } else {
                ws::queue::SlowConsumer::Disconnect
            },
        },
        ws_sessions: Arc::default(),
        ws_caps: Arc::new(ws::caps::IpCaps::new(
            config.websocket.max_connections_per_ip,
            config.websocket.max_subscriptions_per_ip,
        )),
        gate,
        io,
        board,
        feeds,
        polling: Arc::new(config.polling.clone()),
        bets_dir: config.storage.data_dir.join("bets"),
        bet_limits: bets::BetLimits {
            odds_tolerance: f64::from(config.bets.odds_tolerance_bp) / 10_000.0,
            min_stake: config.bets.min_stake_cents as f64 / 100.0,
            max_stake: config.bets.max_stake_cents as f64 / 100.0,
        },
    }
}
