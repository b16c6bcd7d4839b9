//! Tests of [`Health`]: the breaker, quota back-off and what `/health` shows.

use super::*;

fn policy() -> Policy {
    Policy {
        breaker_failures: 3,
        breaker_cooldown_ms: 1000,
        quota_backoff_ms: 5000,
    }
}

fn fail(h: &mut Health, at: i64) {
    h.record(Verdict::Failed, 0, Timestamp(at), Some("HTTP 500".into()));
}

#[test]
fn a_long_error_text_is_clipped() {
    let mut h = Health::new(policy());
    let huge = "é".repeat(1 << 20);
    h.record(Verdict::Failed, 0, Timestamp(0), Some(huge));
    let kept = h.to_json("p", 0)["lastError"].as_str().unwrap().to_owned();
    assert_eq!(kept.chars().count(), MAX_ERROR_CHARS + 1);
    assert!(kept.ends_with("é…"));
    h.record(Verdict::Failed, 0, Timestamp(1), Some("HTTP 500".into()));
    assert_eq!(h.to_json("p", 1)["lastError"], "HTTP 500");
}

#[test]
fn breaker_opens_probes_and_closes() {
    let mut h = Health::new(policy());
    h.record(Verdict::Ok, 10, Timestamp(0), None);
    assert_eq!(h.status(0), "healthy");
    fail(&mut h, 1);
    fail(&mut h, 2);
    assert_eq!(h.status(2), "degraded");
    assert_eq!(h.admit(2), Admit::Go);
    fail(&mut h, 3);
    assert_eq!(h.status(3), "down");
    assert_eq!(h.admit(500), Admit::Skip("circuit_open"));
    assert_eq!(h.admit(1003), Admit::Probe);
    assert_eq!(h.admit(1004), Admit::Skip("circuit_half_open"));
    // A failed probe reopens for twice as long.
    fail(&mut h, 1005);
    assert_eq!(h.admit(2500), Admit::Skip("circuit_open"));
    assert_eq!(h.admit(3005), Admit::Probe);
    h.record(Verdict::Ok, 12, Timestamp(3006), None);
    assert_eq!(h.admit(3007), Admit::Go);
    assert_ne!(h.status(3007), "down");
    assert_eq!(h.to_json("p", 3007)["circuit"]["opened"], 2);
}

#[test]
fn quota_exhaustion_pauses_until_the_backoff_ends() {
    let mut h = Health::new(policy());
    h.record(
        Verdict::QuotaExhausted,
        5,
        Timestamp(100),
        Some("quota".into()),
    );
    assert_eq!(h.admit(200), Admit::Skip("quota_exhausted"));
    assert_eq!(h.status(200), "down");
    assert_eq!(h.to_json("p", 200)["quota"]["remaining"], 0);
    assert_eq!(h.admit(5100), Admit::Go);
}

#[test]
fn rate_limits_slow_down_then_recover() {
    let mut h = Health::new(policy());
    h.record(Verdict::RateLimited, 5, Timestamp(1), None);
    h.record(Verdict::RateLimited, 5, Timestamp(2), None);
    assert_eq!(h.slowdown(), 4);
    assert_eq!(h.status(2), "degraded");
    for t in 0..RECOVER_AFTER {
        h.record(Verdict::Ok, 5, Timestamp(10 + i64::from(t)), None);
    }
    assert_eq!(h.slowdown(), 2);
}

#[test]
fn percentiles_of_successes() {
    let mut h = Health::new(Policy::default());
    for l in 1..=100 {
        h.record(Verdict::Ok, l, Timestamp(1), None);
    }
    assert_eq!(h.percentiles(), Some((51, 95, 99)));
}
