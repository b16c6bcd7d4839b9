//! Real provider adapters against a fake provider (real HTTP on 127.0.0.1): fixtures in the
//! providers' exact formats, pushes, intervals, hot matches, demo entries. Faults, health,
//! circuit breaker, failover and quota are in `provider_faults.rs`.

mod common;

use std::time::Duration;

use common::{
    fake_provider::{fixture, FakeProvider, Script},
    providers::{config_polling, provider, task, wait_task, ESPN_NFL},
    token_with_roles, TestServer,
};

/// A server fed only by `providers` (see `common::providers::config`).
fn start(name: &str, providers: &str) -> TestServer {
    common::providers::start(&format!("providers-{name}"), providers)
}

#[test]
fn polls_the_odds_api_and_espn_into_merged_matches() {
    let fake = FakeProvider::start();
    let quota = vec![
        ("x-requests-remaining".to_owned(), "487".to_owned()),
        ("x-requests-used".to_owned(), "13".to_owned()),
        ("x-requests-last".to_owned(), "3".to_owned()),
    ];
    fake.set(
        "/v4/sports/americanfootball_nfl/odds",
        Script::Reply(
            200,
            quota.clone(),
            fixture("odds_api/odds_nfl_american.json"),
        ),
    );
    fake.set(
        "/v4/sports/americanfootball_nfl/scores",
        Script::Reply(200, quota, fixture("odds_api/scores_nfl.json")),
    );
    fake.set(ESPN_NFL, Script::json(fixture("espn/nfl_live.json")));
    let url = fake.url();
    let server = start(
        "merge",
        &format!(
            "[[providers]]\nid = \"odds\"\nkind = \"the-odds-api\"\nbase_url = \"{url}\"\napi_key_env = \"TEST_ODDS_KEY\"\n\
             odds_format = \"american\"\nfeeds = [\"americanfootball_nfl\"]\n\n\
             [[providers]]\nid = \"espn\"\nkind = \"espn\"\nbase_url = \"{url}\"\nfeeds = [\"football/nfl\"]\n"
        )
        .replace("api_key_env = \"TEST_ODDS_KEY\"", "api_key = \"k-123\""),
    );
    server.wait_for("/api/matches", Duration::from_secs(15), |v| {
        let t = v.to_string();
        t.contains("Washington Commanders") && t.contains("Tampa Bay Buccaneers")
    });
    // The key goes as the documented parameter; the odds request asks for the configured format.
    let q = fake
        .last_query("/v4/sports/americanfootball_nfl/odds")
        .unwrap();
    assert!(
        q.contains("apiKey=k-123") && q.contains("oddsFormat=american"),
        "{q}"
    );
    let health = server.get_json("/api/providers/health");
    let odds = provider(&health, "odds");
    assert_eq!(odds["status"], "healthy", "{odds}");
    assert_eq!(odds["quota"]["remaining"], 487, "{odds}");
    assert_eq!(odds["kind"], "the-odds-api");
    // ESPN feeds scores only; The Odds API both.
    let scores: Vec<&str> = health["liveScoreProviders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["providerId"].as_str().unwrap())
        .collect();
    let markets: Vec<&str> = health["marketProviders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["providerId"].as_str().unwrap())
        .collect();
    assert!(
        scores.contains(&"espn") && scores.contains(&"odds"),
        "{scores:?}"
    );
    assert_eq!(markets, vec!["odds"]);
    // Both feeds' tasks run; the odds prices became markets with a best price.
    let t = task(&server, "odds:football:nfl:odds");
    assert_eq!(t["state"], "polling", "{t}");
    let markets = server.get_json("/api/markets/football?league=nfl");
    assert!(
        markets.as_array().is_some_and(|m| !m.is_empty()),
        "{markets}"
    );
}

#[test]
fn pushes_are_read_like_polls() {
    let fake = FakeProvider::start();
    let server = start(
        "ingest",
        &format!(
            "[[providers]]\nid = \"feed\"\nkind = \"native\"\nbase_url = \"{}\"\nfeeds = [\"x/y\"]\npriority = 5\n\n\
             [[providers]]\nid = \"espn\"\nkind = \"espn\"\nbase_url = \"{}\"\nfeeds = [\"football/nfl\"]\nenabled = false\n",
            fake.url(),
            fake.url()
        ),
    );
    let service = format!("Bearer {}", token_with_roles(&["service"]));
    let body = String::from_utf8(fixture("native/example.json")).unwrap();
    let push = |path: &str, auth: Option<&str>, body: &str| {
        let headers: Vec<(&str, &str)> =
            auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        server.request_with("POST", path, Some(body), &headers)
    };
    let r = push("/api/ingest/feed", Some(&service), &body);
    assert_eq!(r.status, 202, "{}", r.text());
    let v = r.json();
    assert!(v["accepted"].as_u64() > Some(0), "{v}");
    server.wait_for("/api/matches", Duration::from_secs(5), |v| {
        v.to_string().contains("Tottenham")
    });
    // Garbage: 400 naming the body, counted as the provider's failure.
    let r = push("/api/ingest/feed", Some(&service), "{\"events\":[{");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["field"], "body");
    let health = server.get_json("/api/providers/health");
    assert_eq!(
        provider(&health, "feed")["failures"]
            .as_u64()
            .map(|f| f >= 1),
        Some(true),
        "{health}"
    );
    // Unknown or disabled provider, no token, wrong role.
    let r = push("/api/ingest/espn", Some(&service), &body);
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (404, "providerId".into())
    );
    assert_eq!(push("/api/ingest/feed", None, &body).status, 401);
    let admin = format!("Bearer {}", token_with_roles(&["admin"]));
    assert_eq!(push("/api/ingest/feed", Some(&admin), &body).status, 403);
}

#[test]
fn runtime_interval_changes_apply_to_provider_tasks_with_the_floor() {
    let fake = FakeProvider::start();
    fake.set(ESPN_NFL, Script::json(fixture("espn/nfl_live.json")));
    let server = start(
        "interval",
        &format!(
            "[[providers]]\nid = \"espn\"\nkind = \"espn\"\nbase_url = \"{}\"\nfeeds = [\"football/nfl\"]\nmin_interval_ms = 2000\n",
            fake.url()
        ),
    );
    let id = "espn:football:nfl:scores";
    let t = wait_task(&server, id, Duration::from_secs(10), |t| {
        t["lastRun"].is_string()
    });
    assert_eq!(
        (t["interval"].as_u64(), t["intervalSource"].as_str()),
        (Some(1000), Some("default")),
        "{t}"
    );
    assert_eq!(
        t["effectiveInterval"], 2000,
        "the provider's floor applies: {t}"
    );
    let r = server.admin_request(
        "POST",
        "/api/polling/update",
        Some(&format!("{{\"taskId\":\"{id}\",\"interval\":5000}}")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = wait_task(&server, id, Duration::from_secs(5), |t| {
        t["effectiveInterval"] == 5000
    });
    assert_eq!(
        (t["interval"].as_u64(), t["intervalSource"].as_str()),
        (Some(5000), Some("runtime")),
        "{t}"
    );
}

/// A native document with one Manchester United – Tottenham event, scored `home`–`away`.
fn mun_tot(home: u32, away: u32, status: &str) -> String {
    format!(
        r#"{{"version":1,"events":[{{"id":"mun-tot-2024-09-29","sport":"soccer","league":"premier-league",
        "home":"Manchester United","away":"Tottenham Hotspur","startTime":"2024-09-29T15:30:00Z",
        "score":{{"home":{home},"away":{away},"status":"{status}","period":"2nd Half"}}}}]}}"#
    )
}

#[test]
fn a_hot_match_polls_its_own_event_at_its_own_interval() {
    let fake = FakeProvider::start();
    fake.set(
        "/soccer/premier-league",
        Script::json(mun_tot(0, 1, "live")),
    );
    let event_path = "/soccer/premier-league/mun-tot-2024-09-29";
    fake.set(event_path, Script::json(mun_tot(2, 1, "live")));
    // League tasks poll once a minute here; only the hot-match task can see the 2–1.
    let providers = format!(
        "[[providers]]\nid = \"feed\"\nkind = \"native\"\nbase_url = \"{}\"\nfeeds = [\"soccer/premier-league\"]\n",
        fake.url()
    );
    let path = config_polling("hot", 60_000, &providers);
    let server = TestServer::start_with_args(&["--config", path.to_str().unwrap()], &[]);
    let matches = server.wait_for("/api/matches", Duration::from_secs(10), |v| {
        v.to_string().contains("Tottenham")
    });
    let id = matches.as_array().unwrap()[0]["matchId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fake.hits(event_path), 0);
    // Unknown ids are refused; a known match gets its task at once.
    let update = |task: &str| {
        let body = format!("{{\"taskId\":\"{task}\",\"interval\":1000}}");
        server.admin_request("POST", "/api/polling/update", Some(&body))
    };
    assert_eq!(update("match:").status, 404);
    let r = update(&format!("match:{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    server.wait_for(&format!("/api/scores/{id}"), Duration::from_secs(5), |v| {
        v["homeScore"] == 2
    });
    let t = wait_task(
        &server,
        &format!("match:{id}"),
        Duration::from_secs(5),
        |t| t["state"] == "polling",
    );
    assert_eq!(
        (t["interval"].as_u64(), t["intervalSource"].as_str()),
        (Some(1000), Some("match")),
        "{t}"
    );
    std::thread::sleep(Duration::from_millis(2200));
    assert!(
        fake.hits(event_path) >= 2,
        "polled at its own interval: {}",
        fake.hits(event_path)
    );
    assert_eq!(
        fake.hits("/soccer/premier-league"),
        1,
        "the league task keeps its minute"
    );
    // When the match is over, its task ends.
    fake.set(event_path, Script::json(mun_tot(2, 1, "finished")));
    server.wait_for("/api/polling/status", Duration::from_secs(5), |v| {
        !v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == format!("match:{id}"))
    });
}

#[test]
fn demo_providers_are_configured_by_kind_demo_entries() {
    let dir = std::env::temp_dir().join(format!("inplay-providers-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inplay.toml");
    let text = "[[providers]]\nid = \"demo-beta\"\nkind = \"demo\"\nenabled = false\n\n\
                [[providers]]\nid = \"demo-alpha\"\nkind = \"demo\"\npriority = 7\n";
    std::fs::write(&path, text).unwrap();
    let server = TestServer::start_with_args(&["--config", path.to_str().unwrap()], &[]);
    let health = server.get_json("/api/providers/health");
    let ids: Vec<&str> = health["liveScoreProviders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["providerId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["demo-alpha"], "{health}");
    assert_eq!(provider(&health, "demo-alpha")["priority"], 7);
    let status = server.get_json("/api/polling/status");
    let tasks = status["tasks"].as_array().unwrap();
    assert!(
        !tasks.is_empty() && tasks.iter().all(|t| t["provider"] == "demo-alpha"),
        "{status}"
    );
    // An entry naming no demo provider stops start-up with a message naming it.
    std::fs::write(
        &path,
        "[[providers]]\nid = \"demo-gamma\"\nkind = \"demo\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inplay"))
        .args(["--config", path.to_str().unwrap()])
        .env("INPLAY_SERVER_PORT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("demo-gamma") && err.contains("demo-alpha"),
        "{err}"
    );
}
