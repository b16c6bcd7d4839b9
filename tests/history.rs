//! PostgreSQL history against a real, throwaway PostgreSQL: the demo feed's changes land in the
//! original's and inplay's tables, and a 10 s outage during live updates loses nothing.

mod common;

use std::time::{Duration, Instant};

use common::{pg::Pg, wait_for_matches, TestServer};
use serde_json::Value;

fn server_on(pg: &Pg, data_dir: &std::path::Path) -> TestServer {
    let port = pg.port().to_string();
    TestServer::start(&[
        ("INPLAY_POSTGRES_ENABLED", "true"),
        ("DB_HOST", "127.0.0.1"),
        ("DB_PORT", &port),
        ("DB_NAME", "inplay"),
        ("DB_USER", "postgres"),
        (
            "INPLAY_STORAGE_DATA_DIR",
            data_dir.to_str().expect("utf-8 path"),
        ),
    ])
}

fn postgres(server: &TestServer, pred: impl Fn(&Value) -> bool) -> Value {
    server.wait_for("/health", Duration::from_secs(30), |h| {
        pred(&h["io"]["postgres"])
    })["io"]["postgres"]
        .clone()
}

fn data_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("inplay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The "I/O thread stopped" log line of a server that was terminated.
fn stop_report(server: &mut TestServer) -> Value {
    server.terminate();
    assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Ok(line) = server.logs.recv_timeout(deadline - Instant::now()) {
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v["message"] == "I/O thread stopped" {
                return v;
            }
        }
    }
    panic!("no I/O thread report in the log");
}

#[test]
fn changes_land_in_the_original_and_inplay_tables() {
    let pg = Pg::start();
    let dir = data_dir("history");
    let server = server_on(&pg, &dir);
    wait_for_matches(&server, 200);
    postgres(&server, |p| {
        p["status"] == "up" && p["written"].as_u64() > Some(1000)
    });
    assert!(pg.count("SELECT count(*) FROM matches") >= 100);
    assert!(pg.count("SELECT count(*) FROM provider_events") >= 100);
    assert!(pg.count("SELECT count(*) FROM live_scores") > 0);
    assert!(pg.count("SELECT count(*) FROM market_history") > 0);
    // Each provider's own price is kept with the best one.
    let quoted = "SELECT count(*) FROM market_history, jsonb_array_elements(selections) s \
                  WHERE jsonb_array_length(s->'prices') > 0";
    assert!(pg.count(quoted) > 0, "provider prices in market_history");
    // The original's markets table, as its queries read it.
    assert!(pg.count("SELECT count(*) FROM markets WHERE sport = 'football' AND active") > 0);
    let id = pg.query("SELECT match_id FROM live_scores LIMIT 1");
    let id = id.trim();
    assert_eq!(
        pg.count(&format!("SELECT count(*) FROM matches WHERE id = '{id}'")),
        1,
        "score history refers to a known match"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_ten_second_outage_loses_no_update() {
    let mut pg = Pg::start();
    let dir = data_dir("outage");
    let mut server = server_on(&pg, &dir);
    wait_for_matches(&server, 200);
    postgres(&server, |p| {
        p["status"] == "up" && p["written"].as_u64() > Some(0)
    });

    pg.stop();
    let h = server.wait_for("/health", Duration::from_secs(30), |h| {
        h["io"]["postgres"]["status"] == "down"
    });
    assert_eq!(h["status"], "degraded");
    std::thread::sleep(Duration::from_secs(10)); // live updates keep coming meanwhile
    let during = postgres(&server, |_| true);
    assert!(
        during["queued"].as_u64() > Some(0) || during["journalRecords"].as_u64() > Some(0),
        "updates were held while PostgreSQL was away: {during}"
    );
    pg.start_again();
    postgres(&server, |p| p["status"] == "up" && p["journalRecords"] == 0);

    let report = stop_report(&mut server);
    assert_eq!(report["pg_dropped"], 0, "{report}");
    assert_eq!(
        report["pg_journal_records"], 0,
        "all written before exit: {report}"
    );
    let count = |table: &str| pg.count(&format!("SELECT count(*) FROM {table}")) as u64;
    assert_eq!(report["sent_scores"].as_u64(), Some(count("live_scores")));
    assert_eq!(
        report["sent_markets"].as_u64(),
        Some(count("market_history"))
    );
    assert_eq!(
        report["sent_settlements"].as_u64(),
        Some(count("settlements"))
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recorded_bets_and_their_grades_reach_postgres() {
    let pg = Pg::start();
    let dir = data_dir("bets-pg");
    let server = server_on(&pg, &dir);
    wait_for_matches(&server, 200);
    postgres(&server, |p| p["status"] == "up");
    // A settled market: its bets are graded at once.
    let mut settled = None;
    for _ in 0..60 {
        let list = server.get_json("/api/matches?status=finished");
        settled = list.as_array().into_iter().flatten().find_map(|m| {
            let id = m["matchId"].as_str()?;
            let detail = server.get_json(&format!("/api/matches/{id}"));
            let markets = detail["markets"].as_array()?;
            markets.iter().find(|k| k["status"] == "settled").cloned()
        });
        if settled.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let market = settled.expect("a settled market");
    let market_id = market["marketId"].as_str().expect("id");
    let selection = market["settlement"]["results"][0][0]
        .as_str()
        .expect("selection");
    let auth = format!("Bearer {}", common::token_with_roles(&["service"]));
    let body = serde_json::json!({"betId": "pg-bet-1", "userId": "u-9", "marketId": market_id,
        "selection": selection, "odds": 2.0, "stake": 12.5})
    .to_string();
    let r = server.request_with(
        "POST",
        "/api/bets",
        Some(&body),
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(20);
    let graded =
        "SELECT count(*) FROM bet_records WHERE bet_id = 'pg-bet-1' AND result IS NOT NULL";
    while pg.count(graded) == 0 {
        assert!(Instant::now() < deadline, "bet not graded in PostgreSQL");
        std::thread::sleep(Duration::from_millis(200));
    }
    let original = "SELECT count(*) FROM bets WHERE user_id = 'u-9' AND amount = 12.50";
    assert_eq!(pg.count(original), 1, "the original bets table has it too");
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
