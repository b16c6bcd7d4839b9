//! Tests of the score consensus (a child module of `score`, kept apart for file size).

use super::*;

fn weights() -> Weights {
    let mut w = Weights::new(1.0);
    w.set(ProviderId::new("a"), 0, 3.0);
    w.set(ProviderId::new("b"), 1, 2.0);
    w.set(ProviderId::new("c"), 2, 2.0);
    w
}

fn live(home: u32, away: u32) -> ScoreReading<'static> {
    ScoreReading {
        home,
        away,
        period: "2H",
        status: MatchStatus::Live,
        clock: None,
    }
}

/// Applies `r` from provider `p` at time `t` (also used as `now`).
fn put(b: &mut ScoreBook, p: &str, r: ScoreReading<'_>, t: i64) -> bool {
    b.apply(
        &ProviderId::new(p),
        r,
        Timestamp(t),
        &weights(),
        Timestamp(t),
    )
}

fn score(b: &ScoreBook) -> (u32, u32) {
    let v = b.published().expect("a score was reported");
    (v.home, v.away)
}

#[test]
fn repeat_and_late_packets_change_nothing() {
    let mut b = ScoreBook::default();
    assert!(put(&mut b, "a", live(1, 0), 10));
    assert!(!put(&mut b, "a", live(1, 0), 11));
    assert!(!put(&mut b, "a", live(2, 0), 5)); // older than 11: late
    assert_eq!(score(&b), (1, 0));
}

#[test]
fn disagreement_goes_to_the_heavier_side_with_partial_confidence() {
    let mut b = ScoreBook::default();
    put(&mut b, "a", live(1, 0), 1);
    put(&mut b, "b", live(1, 1), 2);
    put(&mut b, "c", live(1, 1), 3);
    let v = b.published().unwrap();
    assert_eq!((v.home, v.away), (1, 1)); // b + c = 4 > a = 3
    assert!(v.confidence < 1.0 && v.confidence > 0.5, "{}", v.confidence);
    // b disagreed with the published 1-0 when it reported first (reliability 0.95 → vote
    // 1.9), so c (2.0) is listed first.
    assert_eq!(v.sources, vec![ProviderId::new("c"), ProviderId::new("b")]);
}

#[test]
fn equal_weight_tie_goes_to_the_freshest() {
    let mut b = ScoreBook::default();
    put(&mut b, "b", live(0, 0), 1);
    put(&mut b, "c", live(1, 0), 2);
    assert_eq!(score(&b), (1, 0));
    assert_eq!(b.published().unwrap().confidence, 0.5);
}

#[test]
fn score_never_goes_backwards_on_one_word() {
    let mut b = ScoreBook::default();
    put(&mut b, "a", live(2, 1), 1);
    put(&mut b, "b", live(2, 1), 2);
    put(&mut b, "a", live(1, 1), 3); // a is heaviest, but b still says 2-1
    assert_eq!(score(&b), (2, 1));
    assert!(b.published().unwrap().confidence < 1.0);
}

#[test]
fn corrected_goal_is_accepted_when_all_agree() {
    let mut b = ScoreBook::default();
    put(&mut b, "a", live(2, 1), 1);
    put(&mut b, "b", live(2, 1), 2);
    put(&mut b, "a", live(1, 1), 3);
    assert!(put(&mut b, "b", live(1, 1), 4));
    assert_eq!(score(&b), (1, 1));
    assert_eq!(b.published().unwrap().confidence, 1.0);
}

#[test]
fn finished_does_not_regress_to_live_on_one_word() {
    let mut b = ScoreBook::default();
    let ft = ScoreReading {
        period: "FT",
        status: MatchStatus::Finished,
        ..live(2, 1)
    };
    put(&mut b, "a", ft, 1);
    put(&mut b, "b", ft, 2);
    put(&mut b, "a", live(2, 1), 3);
    assert_eq!(b.published().unwrap().status, MatchStatus::Finished);
}

#[test]
fn clock_change_alone_is_published() {
    let mut b = ScoreBook::default();
    put(
        &mut b,
        "a",
        ScoreReading {
            clock: Some("10:00"),
            ..live(0, 0)
        },
        1,
    );
    assert!(put(
        &mut b,
        "a",
        ScoreReading {
            clock: Some("10:01"),
            ..live(0, 0)
        },
        2
    ));
    assert_eq!(b.published().unwrap().clock.as_deref(), Some("10:01"));
    assert_eq!(b.published().unwrap().updated_at, Timestamp(2));
}

#[test]
fn dissenting_provider_loses_reliability_but_stays_above_floor() {
    let mut b = ScoreBook::default();
    put(&mut b, "a", live(0, 0), 0);
    for t in 1..100 {
        put(&mut b, "b", live(t as u32 % 2, 5), t); // always disagrees with a (heavier)
    }
    let r = b
        .readings
        .iter()
        .find(|r| r.provider.as_str() == "b")
        .unwrap();
    assert!(
        (RELIABILITY_FLOOR..1.0).contains(&r.reliability),
        "{}",
        r.reliability
    );
}

#[test]
fn zero_weights_never_divide_by_zero() {
    let mut b = ScoreBook::default();
    let w = Weights::new(0.0);
    b.apply(
        &ProviderId::new("z"),
        live(1, 0),
        Timestamp(1),
        &w,
        Timestamp(1),
    );
    assert_eq!(b.published().unwrap().confidence, 0.0);
}

#[test]
fn generic_and_specific_period_labels_agree_and_the_specific_one_is_shown() {
    // The heaviest provider only knows "LIVE" (The Odds API style); another says "Q3".
    let mut b = ScoreBook::default();
    let generic = ScoreReading {
        period: "LIVE",
        ..live(14, 10)
    };
    let specific = ScoreReading {
        period: "Q3",
        ..live(14, 10)
    };
    put(&mut b, "a", generic, 1);
    put(&mut b, "b", specific, 2);
    let v = b.published().unwrap();
    assert_eq!((v.home, v.away, v.period.as_str()), (14, 10, "Q3"));
    assert_eq!(
        v.confidence, 1.0,
        "same score and status from both: full agreement"
    );
    assert_eq!(v.sources.len(), 2);
    // Two specific labels that differ: the preferred provider's wins, agreement still full.
    put(
        &mut b,
        "a",
        ScoreReading {
            period: "Q4",
            ..live(14, 10)
        },
        3,
    );
    let v = b.published().unwrap();
    assert_eq!((v.period.as_str(), v.confidence), ("Q4", 1.0));
}
