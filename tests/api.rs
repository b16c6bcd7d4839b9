//! The REST API against the real server (2 shards, demo feed): every endpoint, the original
//! service's field names, and the error statuses.

mod common;

use std::time::Duration;

use common::{wait_for_matches, TestServer};
use serde_json::Value;

fn first_with_status(matches: &Value, status: &str) -> String {
    matches
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == status)
        .unwrap_or_else(|| panic!("no {status} match in the demo feed"))["matchId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn demo_feed_serves_a_thousand_matches_in_every_state() {
    let server = TestServer::start(&[]);
    wait_for_matches(&server, 1000);
    // The demo tasks' first polls are spread over one interval: wait (bounded) for every
    // league's, not just for the first thousand matches.
    let leagues = [
        ("football", "nfl"),
        ("basketball", "nba"),
        ("soccer", "premier-league"),
        ("hockey", "nhl"),
        ("tennis", "atp"),
    ];
    let has = |list: &serde_json::Value, sport: &str, league: &str| {
        list.as_array().is_some_and(|l| {
            l.iter()
                .any(|m| m["sport"] == sport && m["league"] == league)
        })
    };
    let matches = server.wait_for("/api/matches", std::time::Duration::from_secs(10), |v| {
        leagues.iter().all(|(s, l)| has(v, s, l))
    });
    let list = matches.as_array().unwrap();
    for status in ["scheduled", "live", "finished"] {
        assert!(
            list.iter().any(|m| m["status"] == status),
            "no {status} match"
        );
    }
    let live = server.get_json("/api/matches?status=live");
    assert!(live
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["status"] == "live"));
    let nfl = server.get_json("/api/matches?sport=football&league=nfl");
    assert!(!nfl.as_array().unwrap().is_empty());
    assert!(nfl.as_array().unwrap().iter().all(|m| m["league"] == "nfl"));
    let bad = server.get("/api/matches?status=paused");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("status"));
}

#[test]
fn scores_have_the_original_fields_and_move() {
    let server = TestServer::start(&[]);
    let matches = wait_for_matches(&server, 1000);
    let id = first_with_status(&matches, "live");
    let score = server.get_json(&format!("/api/scores/{id}"));
    for field in [
        "matchId",
        "sport",
        "league",
        "homeTeam",
        "awayTeam",
        "homeScore",
        "awayScore",
        "period",
        "status",
        "startTime",
        "timestamp",
        "sources",
        "confidence",
    ] {
        assert!(!score[field].is_null(), "missing {field} in {score}");
    }
    assert_eq!(score["matchId"], id.as_str());
    let confidence = score["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    assert!(!score["sources"].as_array().unwrap().is_empty());

    // Data moves: within a few seconds some match's sequence number advances.
    let before: u64 = matches
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .sum();
    server.wait_for("/api/matches", Duration::from_secs(15), |v| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap_or(0))
            .sum::<u64>()
            > before
    });

    let missing = server.get("/api/scores/no-such-match");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        serde_json::json!({"error": "Match not found"})
    );
    assert_eq!(
        server
            .get(&format!("/api/scores/{}", "x".repeat(300)))
            .status,
        400
    );
}

#[test]
fn markets_by_sport_odds_and_match_detail() {
    let server = TestServer::start(&[]);
    wait_for_matches(&server, 1000);
    let first = server.get("/api/markets/football");
    assert_eq!(first.status, 200);
    assert!(first
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(matches!(first.header("x-cache"), Some("HIT" | "MISS")));
    let entries = first.json();
    let entries = entries.as_array().unwrap();
    assert!(!entries.is_empty());
    let e = &entries[0];
    for field in [
        "id",
        "marketId",
        "matchId",
        "sport",
        "eventId",
        "eventName",
        "marketType",
        "selection",
        "odds",
        "oddsFormat",
        "status",
        "updatedAt",
        "sources",
        "bestOdds",
        "averageOdds",
        "confidence",
    ] {
        assert!(e.get(field).is_some(), "missing {field} in {e}");
    }
    assert!(entries.iter().all(|e| e["sport"] == "football"));
    assert!(entries
        .iter()
        .any(|e| e["marketType"] == "spread" && e["line"].is_number()));
    // Average is a real average: never above the best price.
    for e in entries.iter().filter(|e| e["bestOdds"].is_number()) {
        assert!(e["averageOdds"].as_f64().unwrap() <= e["bestOdds"].as_f64().unwrap() + 1e-9);
    }

    // The same list again, unchanged in between or not, is well-formed; league filter works.
    let nfl = server.get_json("/api/markets/football?league=nfl&limit=5");
    let nfl = nfl.as_array().unwrap();
    assert!(nfl.iter().all(|e| e["league"] == "nfl"));
    let distinct: std::collections::BTreeSet<&str> =
        nfl.iter().map(|e| e["matchId"].as_str().unwrap()).collect();
    assert!(distinct.len() <= 5);
    assert_eq!(server.get("/api/markets/curling").status, 404);
    assert_eq!(server.get("/api/markets/football?limit=0").status, 400);
    assert_eq!(server.get("/api/markets/football?limit=abc").status, 400);

    let market_id = e["marketId"].as_str().unwrap();
    let odds = server.get_json(&format!("/api/markets/{market_id}/odds"));
    assert_eq!(odds["marketId"], market_id);
    let sel = &odds["selections"][0];
    assert!(
        sel["prices"].as_array().is_some_and(|p| !p.is_empty()),
        "{odds}"
    );
    assert_eq!(server.get("/api/markets/nope:moneyline/odds").status, 404);

    let match_id = e["matchId"].as_str().unwrap();
    let detail = server.get_json(&format!("/api/matches/{match_id}"));
    assert_eq!(detail["score"]["matchId"], match_id);
    assert!(!detail["markets"].as_array().unwrap().is_empty());
    assert_eq!(server.get("/api/matches/nope").status, 404);
}

#[test]
fn health_providers_polling_and_interval_updates() {
    let server = TestServer::start(&[]);
    wait_for_matches(&server, 1000);
    let health = server.get_json("/health");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["shards"], 2);
    assert!(health["timestamp"].is_string());
    assert!(health["polling"].as_array().is_some_and(|t| !t.is_empty()));

    let providers = server.wait_for("/api/providers/health", Duration::from_secs(10), |v| {
        v["liveScoreProviders"]
            .as_array()
            .is_some_and(|p| p.len() == 2)
    });
    let p = &providers["liveScoreProviders"][0];
    for field in ["providerId", "status", "consecutiveFailures", "errorRate"] {
        assert!(!p[field].is_null(), "missing {field} in {p}");
    }
    assert!(["healthy", "degraded", "down"].contains(&p["status"].as_str().unwrap()));

    let status = server.get_json("/api/polling/status");
    let tasks = status["tasks"].as_array().unwrap();
    assert!(tasks.len() >= 10);
    assert!(tasks.iter().any(|t| t["shard"] == 0) && tasks.iter().any(|t| t["shard"] == 1));
    for field in ["id", "interval", "running"] {
        assert!(!tasks[0][field].is_null(), "missing {field}");
    }
    assert!(status["config"].is_object());

    // Update every task once so both shards' routing is exercised.
    for task in tasks {
        let id = task["id"].as_str().unwrap();
        let body = format!(r#"{{"taskId":"{id}","interval":2500}}"#);
        let r = server.admin_request("POST", "/api/polling/update", Some(&body));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.json(),
            serde_json::json!({"success": true, "taskId": id, "newInterval": 2500})
        );
    }
    let status = server.get_json("/api/polling/status");
    assert!(status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["interval"] == 2500));

    let id = tasks[0]["id"].as_str().unwrap();
    let low = server.admin_request(
        "POST",
        "/api/polling/update",
        Some(&format!(r#"{{"taskId":"{id}","interval":500}}"#)),
    );
    assert_eq!(low.status, 400);
    assert_eq!(
        low.json(),
        serde_json::json!({"error": "Interval must be at least 1000ms", "field": "interval"})
    );
    let unknown = server.admin_request(
        "POST",
        "/api/polling/update",
        Some(r#"{"taskId":"nope","interval":5000}"#),
    );
    assert_eq!(unknown.status, 404);
    for bad in [
        "{",
        "[]",
        r#"{"taskId":5,"interval":5000}"#,
        r#"{"taskId":"x","interval":"fast"}"#,
    ] {
        let r = server.admin_request("POST", "/api/polling/update", Some(bad));
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn errors_are_json_with_the_right_status() {
    let server = TestServer::start(&[]);
    let r = server.get("/nope");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = server.request("DELETE", "/health", None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert!(r.json()["error"].is_string());
    let r = server.get("/api/polling/update");
    assert_eq!(r.status, 405);
    assert!(r.header("date").is_some());

    let doc = server.get_json("/openapi.json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/scores/{matchId}"].is_object());
}

#[test]
fn demo_disabled_serves_nothing_but_answers() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.get_json("/api/matches"), serde_json::json!([]));
    assert_eq!(
        server.get_json("/api/polling/status")["tasks"],
        serde_json::json!([])
    );
    assert_eq!(server.get_json("/health")["status"], "ok");
    assert_eq!(server.get("/api/markets/football").status, 404);
}
