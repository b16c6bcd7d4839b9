//! The writer against a real PostgreSQL: a throwaway server per test, started by
//! `scripts/pg.sh` through the harness the integration tests use (`tests/common/pg.rs`).
//!
//! Each test runs the writer the way the I/O thread will: on its own thread with a tokio
//! `current_thread` runtime, fed through the channel, while the test body checks rows with psql
//! and stops or restarts the database.

mod support;

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use super::{journal::Journal, PgSettings};
use support::*;

/// The writer's future can run anywhere: on a `current_thread` runtime, a `LocalSet`, or
/// `tokio::spawn`.
#[test]
fn run_future_is_send() {
    fn send<T: Send>(_: T) {}
    let journal = TempDir::new();
    let settings = PgSettings {
        host: "127.0.0.1".into(),
        port: 1,
        dbname: "x".into(),
        user: "x".into(),
        password: String::new(),
        pool_size: 1,
        batch_max: 1,
        queue_max: 1,
        journal_dir: journal.path().to_owned(),
        journal_max_bytes: 0,
        retry_min: Duration::from_millis(1),
        retry_max: Duration::from_millis(1),
        io_timeout: Duration::from_millis(1),
    };
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    send(super::run(settings, rx, Default::default()));
}

#[test]
fn nodes_migrating_at_once_apply_each_migration_once() {
    let pg = Pg::start();
    let (j1, j2) = (TempDir::new(), TempDir::new());
    let a = Writer::start(settings(&pg, &j1));
    let b = Writer::start(settings(&pg, &j2));
    for writer in [&a, &b] {
        let stats = writer.wait("connected", |s| s.connected);
        assert_eq!(stats.write_errors, 0, "{stats:?}");
    }
    assert_eq!(
        pg.query("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"),
        crate::io::pg::migrate::MIGRATIONS
            .iter()
            .map(|m| m.version.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    drop((a, b));
    // A later start applies nothing and still connects.
    let c = Writer::start(settings(&pg, &j1));
    c.wait("connected again", |s| s.connected);
    let all = crate::io::pg::migrate::MIGRATIONS.len() as i64;
    assert_eq!(pg.count("SELECT count(*) FROM schema_migrations"), all);
}

#[test]
fn every_kind_of_record_lands_in_order_and_bad_ones_are_skipped() {
    let pg = Pg::start();
    let journal = TempDir::new();
    let writer = Writer::start(settings(&pg, &journal));
    let matched = |status: &str, at_ms| Record::Match {
        id: "m1".into(),
        sport: "soccer".into(),
        league: "premier-league".into(),
        home: "Arsenal".into(),
        away: "Chelsea".into(),
        start_ms: AT - 3_600_000,
        status: status.into(),
        at_ms,
    };
    writer.send(vec![
        matched("scheduled", AT),
        Record::ProviderEvent {
            provider: "espn".into(),
            provider_event_id: "401".into(),
            match_id: "m1".into(),
            at_ms: AT,
        },
    ]);
    // Interleaved matches in messages of uneven sizes, across several batches (batch_max 50).
    let mut sent = 2;
    for chunk in (0..240u64).collect::<Vec<_>>().chunks(17) {
        let records = chunk
            .iter()
            .map(|&i| score(["m1", "m2", "m3"][(i % 3) as usize], i))
            .collect();
        writer.send(records);
        sent += chunk.len() as u64;
    }
    let mut bad_time = score("m1", 1000);
    if let Record::Score { at_ms, .. } = &mut bad_time {
        *at_ms = i64::MAX; // out of PostgreSQL's timestamp range: refused by the server
    }
    writer.send(vec![
        market(300, "active", Some(1.914)),
        score("m1", 301),
        bad_time,
        score("m1", u64::MAX), // refused before it reaches the server
        market(302, "suspended", None),
        matched("live", AT + 1),
        Record::Settlement {
            match_id: "m1".into(),
            market_id: "m1:total:2.5".into(),
            results: vec![
                ("over".into(), "won".into()),
                ("under".into(), "lost".into()),
            ],
            confidence: 0.75,
            conflicts: vec![],
            seq: 303,
            at_ms: AT,
        },
    ]);
    sent += 5;
    let stats = writer.wait("all written", |s| s.written + s.rejected >= sent + 2);
    assert_eq!(
        (stats.written, stats.rejected, stats.dropped),
        (sent, 2, 0),
        "{stats:?}"
    );
    assert_eq!(stats.queued, 0);

    let m1: Vec<u64> = (0..240).filter(|i| i % 3 == 0).chain([301]).collect();
    assert_eq!(
        seqs_in_order(&pg, "live_scores", "m1"),
        list(m1.into_iter())
    );
    assert_eq!(
        seqs_in_order(&pg, "live_scores", "m2"),
        list((0..240).filter(|i| i % 3 == 1))
    );
    assert_eq!(pg.count("SELECT count(*) FROM live_scores"), 241);
    assert_eq!(
        pg.query("SELECT home_score, away_score, period, status, timestamp FROM live_scores WHERE seq = 30"),
        "3|0|2nd Half|live|2023-11-14 22:13:20.03"
    );
    assert_eq!(seqs_in_order(&pg, "market_history", "m1"), "300,302");
    assert_eq!(
        pg.query(
            "SELECT line, status, selections->0->>'best' FROM market_history ORDER BY id LIMIT 1"
        ),
        "2.5|active|1.914"
    );
    // The original `markets` table: one row per selection, latest state.
    assert_eq!(
        pg.query(
            "SELECT event, odds, active, updated_at FROM markets \
             WHERE id = md5('m1:total:2.5:over')::uuid"
        ),
        "Arsenal vs Chelsea total 2.5 over|1.91|f|2023-11-14 22:13:20"
    );
    assert_eq!(
        pg.query("SELECT odds, active FROM markets WHERE event LIKE '%under'"),
        "2.00|f"
    );
    assert_eq!(
        pg.query("SELECT status, start_time FROM matches"),
        "live|2023-11-14 21:13:20+00"
    );
    assert_eq!(
        pg.query("SELECT match_id FROM provider_events WHERE provider_event_id = '401'"),
        "m1"
    );
    assert_eq!(
        pg.query("SELECT results->>'over', confidence, conflicts FROM settlements"),
        "won|0.75|[]"
    );
    assert!(stats.last_error.is_some_and(|e| e.contains("rejected")));
}

#[test]
fn database_down_during_writes_loses_nothing() {
    let mut pg = Pg::start();
    let journal = TempDir::new();
    let writer = Writer::start(PgSettings {
        queue_max: 20,
        batch_max: 10,
        ..settings(&pg, &journal)
    });
    writer.send(scores("m1", 0..50));
    writer.wait("first records written", |s| s.written == 50);

    pg.stop();
    let mut next = 50;
    let down_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < down_until || next < 300 {
        writer.send(scores("m1", next..next + 7));
        next += 7;
        std::thread::sleep(Duration::from_millis(40));
    }
    let during = writer.wait("spilled to the journal", |s| {
        !s.connected && s.journal_records > 0
    });
    assert!(during.queued <= 20 + 10, "memory stays bounded: {during:?}");
    assert!(during.write_errors > 0, "{during:?}");

    pg.start_again();
    // Live updates keep coming while the backlog drains.
    writer.send(scores("m1", next..next + 30));
    next += 30;
    let after = writer.wait("everything written", |s| s.written == next);
    assert_eq!((after.dropped, after.rejected), (0, 0), "{after:?}");
    assert!(after.connected);
    writer.wait("journal drained", |s| {
        s.journal_records == 0 && s.journal_bytes == 0
    });
    assert!(journal.is_empty(), "a drained journal leaves no files");

    // Every record once, in the original order (a commit cut by the shutdown may repeat a
    // batch: at-least-once, so compare first occurrences).
    let mut seen = HashSet::new();
    let order: Vec<u64> = seqs_in_order(&pg, "live_scores", "m1")
        .split(',')
        .map(|s| s.parse().expect("seq"))
        .filter(|s| seen.insert(*s))
        .collect();
    assert_eq!(order, (0..next).collect::<Vec<_>>());
}

#[test]
fn journal_of_a_previous_run_is_replayed_first() {
    let pg = Pg::start();
    let journal = TempDir::new();
    {
        let mut left = Journal::open(journal.path(), 1 << 30).expect("journal");
        left.append(&scores("m1", 0..120));
    }
    let writer = Writer::start(settings(&pg, &journal));
    writer.send(scores("m1", 120..150));
    // `written` counts commits; the journal gauge follows once the batch is confirmed.
    writer.wait("replayed and written", |s| {
        s.written == 150 && s.journal_records == 0
    });
    assert_eq!(seqs_in_order(&pg, "live_scores", "m1"), list(0..150));
    assert!(journal.is_empty());
}

#[test]
fn unreachable_at_start_then_shutdown_keeps_memory_in_the_journal() {
    let mut pg = Pg::start();
    pg.stop();
    let journal = TempDir::new();
    let first = Writer::start(settings(&pg, &journal));
    first.send(scores("m1", 0..30));
    first.wait("retrying", |s| s.write_errors >= 2 && s.queued == 30);
    let stopped = first.stop();
    assert_eq!(
        (stopped.journal_records, stopped.queued),
        (30, 0),
        "{stopped:?}"
    );

    pg.start_again();
    let second = Writer::start(settings(&pg, &journal));
    second.send(scores("m1", 30..40));
    second.wait("written after restart", |s| s.written == 40);
    assert_eq!(seqs_in_order(&pg, "live_scores", "m1"), list(0..40));
    let all = crate::io::pg::migrate::MIGRATIONS.len() as i64;
    assert_eq!(pg.count("SELECT count(*) FROM schema_migrations"), all);
}

/// Throughput on this machine: `cargo test -p inplay io::pg::tests::throughput -- --ignored
/// --nocapture`. Not a pass/fail test.
#[test]
#[ignore = "measurement, prints records per second"]
fn throughput() {
    let pg = Pg::start();
    let journal = TempDir::new();
    let writer = Writer::start(PgSettings {
        batch_max: 1000,
        queue_max: 1_000_000,
        ..settings(&pg, &journal)
    });
    writer.wait("connected", |s| s.connected);
    let (n_scores, n_markets) = (100_000u64, 20_000u64);
    let started = Instant::now();
    for chunk in (0..n_scores).collect::<Vec<_>>().chunks(100) {
        writer.send(
            chunk
                .iter()
                .map(|&i| score(&format!("m{}", i % 500), i))
                .collect(),
        );
    }
    for chunk in (0..n_markets).collect::<Vec<_>>().chunks(100) {
        writer.send(
            chunk
                .iter()
                .map(|&i| market(i, "active", Some(1.9)))
                .collect(),
        );
    }
    let total = n_scores + n_markets;
    writer.wait("written", |s| s.written == total);
    let took = started.elapsed();
    println!(
        "{total} records ({n_scores} scores, {n_markets} markets of 2 selections) in {took:?}: \
         {:.0} records/s",
        total as f64 / took.as_secs_f64()
    );
}
