//! Provider faults against a fake provider (real HTTP on 127.0.0.1): scripted failures,
//! timeouts and bad bodies, health, circuit breaker, failover, quota and rate limits.

mod common;

use std::time::Duration;

use common::{
    fake_provider::{fixture, FakeProvider, Script},
    providers::{matches_text, provider, task, wait_task, ESPN_NFL},
    TestServer,
};

/// A server fed only by `providers` (see `common::providers::config`).
fn start(name: &str, providers: &str) -> TestServer {
    common::providers::start(&format!("faults-{name}"), providers)
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
