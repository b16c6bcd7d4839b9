//! Real provider adapters against a fake provider (real HTTP on 127.0.0.1): fixtures in the
//! providers' exact formats, scripted faults, health, circuit breaker, failover, quota, pushes.

mod common;

use std::time::Duration;

use common::{
    fake_provider::{fixture, FakeProvider, Script},
    token_with_roles, TestServer,
};
use serde_json::Value;

const ESPN_NFL: &str = "/apis/site/v2/sports/football/nfl/scoreboard";

/// As `common::providers::config`, with league tasks polling every `default_ms`.
fn config_polling(name: &str, default_ms: u64, providers: &str) -> std::path::PathBuf {
    let path = common::providers::config(&format!("providers-{name}"), providers);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "default_interval_ms = 1000",
        &format!("default_interval_ms = {default_ms}"),
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A server fed only by `providers` (see `common::providers::config`).
fn start(name: &str, providers: &str) -> TestServer {
    common::providers::start(&format!("providers-{name}"), providers)
}

/// The provider `id` in `/api/providers/health`'s `liveScoreProviders` or `marketProviders`.
fn provider(health: &Value, id: &str) -> Value {
    for list in ["liveScoreProviders", "marketProviders"] {
        if let Some(p) = health[list]
            .as_array()
            .and_then(|l| l.iter().find(|p| p["providerId"] == id))
        {
            return p.clone();
        }
    }
    Value::Null
}

fn task(server: &TestServer, id: &str) -> Value {
    let status = server.get_json("/api/polling/status");
    status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

fn wait_task(
    server: &TestServer,
    id: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    server.wait_for("/api/polling/status", timeout, |v| {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id && pred(t))
    });
    task(server, id)
}

fn matches_text(server: &TestServer) -> String {
    server.get("/api/matches").text()
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
fn a_failing_provider_opens_its_circuit_and_never_stops_the_others() {
    let bad = FakeProvider::start();
    let good = FakeProvider::start();
    bad.set("/soccer/premier-league", Script::status(500, "oops"));
    good.set(ESPN_NFL, Script::json(fixture("espn/nfl_live.json")));
    let server = start(
        "breaker",
        &format!(
            "[[providers]]\nid = \"flaky\"\nkind = \"native\"\nbase_url = \"{}\"\nfeeds = [\"soccer/premier-league\"]\n\
             max_retries = 1\nretry_delay_ms = 10\nbreaker_failures = 2\nbreaker_cooldown_ms = 3000\n\n\
             [[providers]]\nid = \"espn\"\nkind = \"espn\"\nbase_url = \"{}\"\nfeeds = [\"football/nfl\"]\n",
            bad.url(),
            good.url()
        ),
    );
    let health = server.wait_for("/api/providers/health", Duration::from_secs(15), |v| {
        provider(v, "flaky")["circuit"]["state"] == "open"
    });
    let flaky = provider(&health, "flaky");
    assert_eq!(flaky["status"], "down", "{flaky}");
    assert!(
        flaky["lastError"].as_str().unwrap().contains("500"),
        "{flaky}"
    );
    // Retries happened: each failed poll made 2 requests.
    assert!(
        bad.hits("/soccer/premier-league") >= 4,
        "{}",
        bad.hits("/soccer/premier-league")
    );
    // While open, no requests go out.
    let before = bad.hits("/soccer/premier-league");
    let t = task(&server, "flaky:soccer:premier-league:scores");
    assert_eq!(
        t["state"], "circuit_open",
        "the task says why it waits: {t}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        bad.hits("/soccer/premier-league"),
        before,
        "no polls while the circuit is open"
    );
    // The healthy provider went on.
    assert!(matches_text(&server).contains("Washington Commanders"));
    assert_eq!(
        provider(&server.get_json("/api/providers/health"), "espn")["status"],
        "healthy"
    );
    // Garbage, truncated and slow answers fail the same way, never the server. The half-open
    // probe after the cooldown gets garbage and reopens the circuit for longer.
    bad.set("/soccer/premier-league", Script::json("{\"events\": [tru"));
    let health = server.wait_for("/api/providers/health", Duration::from_secs(15), |v| {
        provider(v, "flaky")["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("JSON"))
    });
    assert_eq!(
        provider(&health, "flaky")["circuit"]["opened"],
        2,
        "{health}"
    );
    // Recovery: a good answer to the next probe closes the circuit and the data flows.
    bad.set(
        "/soccer/premier-league",
        Script::json(fixture("native/example.json")),
    );
    server.wait_for("/api/providers/health", Duration::from_secs(20), |v| {
        provider(v, "flaky")["circuit"]["state"] == "closed"
    });
    server.wait_for("/api/matches", Duration::from_secs(5), |v| {
        v.to_string().contains("Tottenham")
    });
}

#[test]
fn timeouts_truncated_and_slow_bodies_are_failures_with_reasons() {
    let fake = FakeProvider::start();
    fake.set(
        "/a/b",
        Script::Delay(
            Duration::from_secs(3),
            Box::new(Script::json(fixture("native/example.json"))),
        ),
    );
    fake.set("/c/d", Script::Truncated(fixture("native/example.json")));
    fake.set(
        "/e/f",
        Script::Slow(Duration::from_millis(100), fixture("native/example.json")),
    );
    let server = start(
        "faults",
        &format!(
            "[[providers]]\nid = \"slow\"\nkind = \"native\"\nbase_url = \"{url}\"\nfeeds = [\"a/b\"]\n\
             timeout_ms = 300\nmax_retries = 0\n\n\
             [[providers]]\nid = \"cut\"\nkind = \"native\"\nbase_url = \"{url}\"\nfeeds = [\"c/d\"]\nmax_retries = 0\n\n\
             [[providers]]\nid = \"drip\"\nkind = \"native\"\nbase_url = \"{url}\"\nfeeds = [\"e/f\"]\n\
             timeout_ms = 500\nmax_retries = 0\n",
            url = fake.url()
        ),
    );
    let health = server.wait_for("/api/providers/health", Duration::from_secs(15), |v| {
        ["slow", "cut", "drip"]
            .iter()
            .all(|id| provider(v, id)["failures"].as_u64() >= Some(1))
    });
    let err = |id: &str| {
        provider(&health, id)["lastError"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(err("slow").contains("timed out"), "{}", err("slow"));
    assert!(!err("cut").is_empty(), "truncated body is a failure");
    assert!(err("drip").contains("timed out"), "{}", err("drip"));
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn failover_to_the_backup_and_back() {
    let primary = FakeProvider::start();
    let backup = FakeProvider::start();
    primary.set(ESPN_NFL, Script::json(fixture("espn/nfl_live.json")));
    backup.set(ESPN_NFL, Script::json(fixture("espn/nfl_live.json")));
    let server = start(
        "failover",
        &format!(
            "[[providers]]\nid = \"main\"\nkind = \"espn\"\nbase_url = \"{}\"\npriority = 10\nfeeds = [\"football/nfl\"]\n\
             max_retries = 0\nbreaker_failures = 2\nbreaker_cooldown_ms = 2000\n\n\
             [[providers]]\nid = \"spare\"\nkind = \"espn\"\nbase_url = \"{}\"\npriority = 20\nfeeds = [\"football/nfl\"]\n",
            primary.url(),
            backup.url()
        ),
    );
    let spare = "spare:football:nfl:scores";
    let t = wait_task(&server, spare, Duration::from_secs(10), |t| {
        t["state"] == "backup"
    });
    assert_eq!(t["backupOf"], "main", "{t}");
    server.wait_for("/api/matches", Duration::from_secs(10), |v| {
        v.to_string().contains("Buffalo Bills")
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        backup.hits(ESPN_NFL),
        0,
        "a backup does not poll while the preferred one serves"
    );
    // The preferred provider goes down: the backup takes over.
    primary.set(ESPN_NFL, Script::status(503, "down"));
    wait_task(&server, spare, Duration::from_secs(15), |t| {
        t["state"] == "polling"
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while backup.hits(ESPN_NFL) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the backup never polled"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // It recovers: after the half-open probe succeeds, the backup stands by again.
    primary.set(ESPN_NFL, Script::json(fixture("espn/nfl_live.json")));
    wait_task(&server, spare, Duration::from_secs(20), |t| {
        t["state"] == "backup"
    });
    let health = server.get_json("/api/providers/health");
    assert_eq!(provider(&health, "main")["circuit"]["state"], "closed");
}

#[test]
fn quota_exhaustion_pauses_and_rate_limits_slow_down() {
    let fake = FakeProvider::start();
    fake.set(
        "/v4/sports/soccer_epl/odds",
        Script::status(401, fixture("odds_api/error_out_of_usage_credits.json")),
    );
    fake.set(
        "/v4/sports/soccer_epl/scores",
        Script::status(401, fixture("odds_api/error_out_of_usage_credits.json")),
    );
    fake.set(
        "/fixtures",
        Script::status(429, fixture("api_football/error_rate_limit.json")),
    );
    let server = start(
        "quota",
        &format!(
            "[[providers]]\nid = \"odds\"\nkind = \"the-odds-api\"\nbase_url = \"{url}\"\napi_key = \"x\"\nfeeds = [\"soccer_epl\"]\n\n\
             [[providers]]\nid = \"apif\"\nkind = \"api-football\"\nbase_url = \"{url}\"\napi_key = \"secret-key\"\nfeeds = [\"all\"]\nmax_retries = 0\n",
            url = fake.url()
        ),
    );
    let health = server.wait_for("/api/providers/health", Duration::from_secs(10), |v| {
        provider(v, "odds")["quota"]["exhaustedUntil"].is_string()
            && provider(v, "apif")["slowdown"].as_u64() >= Some(2)
    });
    let odds = provider(&health, "odds");
    assert_eq!(odds["status"], "down", "{odds}");
    assert_eq!(odds["quota"]["remaining"], 0, "{odds}");
    assert_eq!(
        odds["circuit"]["state"], "closed",
        "a used-up quota is not a broken provider: {odds}"
    );
    wait_task(
        &server,
        "odds:soccer:premier-league:odds",
        Duration::from_secs(5),
        |t| t["state"] == "quota_exhausted",
    );
    let before = fake.hits("/v4/sports/soccer_epl/odds");
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(
        fake.hits("/v4/sports/soccer_epl/odds"),
        before,
        "no polls until the quota resets"
    );
    // API-Football: key in its header, a 429 doubles the interval.
    assert_eq!(
        fake.last_header("/fixtures", "x-apisports-key").as_deref(),
        Some("secret-key")
    );
    assert_eq!(fake.last_query("/fixtures").as_deref(), Some("live=all"));
    let t = task(&server, "apif:soccer:*:scores");
    assert!(t["effectiveInterval"].as_u64() >= Some(2000), "{t}");
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

#[test]
fn a_flapping_provider_is_degraded_and_its_good_answers_still_count() {
    let fake = FakeProvider::start();
    let good = Script::json(fixture("espn/nfl_live.json"));
    fake.set(
        ESPN_NFL,
        Script::Cycle(vec![
            good,
            Script::status(502, "bad gateway"),
            Script::Hangup,
        ]),
    );
    let server = start(
        "flap",
        &format!(
            "[[providers]]\nid = \"espn\"\nkind = \"espn\"\nbase_url = \"{}\"\nfeeds = [\"football/nfl\"]\n\
             max_retries = 0\nbreaker_failures = 3\n",
            fake.url()
        ),
    );
    let health = server.wait_for("/api/providers/health", Duration::from_secs(15), |v| {
        provider(v, "espn")["polls"].as_u64() >= Some(6)
    });
    let espn = provider(&health, "espn");
    // Two failures in a row never reach the breaker's three: degraded, not down.
    assert_eq!(espn["status"], "degraded", "{espn}");
    assert_eq!(espn["circuit"]["state"], "closed", "{espn}");
    assert!(espn["errorRate"].as_f64().unwrap() > 0.5, "{espn}");
    assert!(
        matches_text(&server).contains("Kansas City Chiefs"),
        "the good answers were used"
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
