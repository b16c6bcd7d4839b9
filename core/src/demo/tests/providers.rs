//! What the two providers report: valid prices, consistent settlements, realistic
//! disagreement.

use super::{instants, poll_all, scores, world, HOUR};
use crate::{
    demo::{DemoConfig, World},
    model::{MarketStatus, MarketType, MatchStatus, Selection, Settlement, Timestamp},
    observation::{Observation, ObservationBody},
};
use std::collections::BTreeMap;

#[test]
fn prices_are_valid_and_carry_a_margin() {
    let w = world();
    let now = instants().nth(1).unwrap();
    let (mut active, mut suspended) = (0, 0);
    for o in poll_all(&w, 1, now) {
        let ObservationBody::Prices {
            market,
            prices,
            status,
        } = &o.body
        else {
            continue;
        };
        assert!(prices.iter().all(|(_, p)| p.decimal() > 1.0));
        assert_eq!(market.market_type.has_line(), market.line.is_some());
        let want = match (&market.market_type, o.event.sport.as_str()) {
            (MarketType::Moneyline, "soccer") => 3,
            _ => 2,
        };
        assert_eq!(prices.len(), want, "{market:?}");
        if *status == MarketStatus::Active {
            active += 1;
            let book: f64 = prices.iter().map(|(_, p)| 1.0 / p.decimal()).sum();
            assert!((1.0..1.2).contains(&book), "overround {book} in {market:?}");
        } else {
            suspended += 1;
        }
    }
    assert!(
        suspended > 0 && active > suspended * 5,
        "{active} active, {suspended} suspended"
    );
}

/// A moneyline selection wins or loses, never pushes.
fn sign(won: bool) -> f64 {
    if won {
        1.0
    } else {
        -1.0
    }
}

#[test]
fn settlements_match_final_scores() {
    let w = world();
    let (mut checked, mut pushes) = (0, 0);
    for now in instants() {
        for p in 0..2 {
            let obs = poll_all(&w, p, now);
            let finals = scores(&obs);
            for o in &obs {
                let ObservationBody::Settled { market, results } = &o.body else {
                    continue;
                };
                let key = (
                    o.event.league.clone(),
                    o.event.home.clone(),
                    o.event.away.clone(),
                );
                let (h, a, status, _) = finals[&key];
                if status != MatchStatus::Finished {
                    assert!(
                        results.iter().all(|r| r.1 == Settlement::Void),
                        "{status:?}"
                    );
                    continue;
                }
                checked += 1;
                let (h, a) = (f64::from(h), f64::from(a));
                let line = market.line.map_or(0.0, |l| l.as_f64());
                for (sel, res) in results {
                    let margin = match (&market.market_type, sel) {
                        (MarketType::Moneyline, Selection::Home) => sign(h > a),
                        (MarketType::Moneyline, Selection::Away) => sign(a > h),
                        (MarketType::Moneyline, Selection::Draw) => sign(h == a),
                        (MarketType::Spread, Selection::Home) => h - a + line,
                        (MarketType::Spread, Selection::Away) => a - h - line,
                        (MarketType::Total, Selection::Over) => h + a - line,
                        (MarketType::Total, Selection::Under) => line - h - a,
                        other => panic!("unexpected {other:?}"),
                    };
                    let want = match margin {
                        m if m > 0.0 => Settlement::Won,
                        m if m < 0.0 => Settlement::Lost,
                        _ => Settlement::Push,
                    };
                    assert_eq!(*res, want, "{market:?} {sel:?} at {h}-{a}");
                    pushes += usize::from(*res == Settlement::Push);
                }
            }
        }
    }
    assert!(checked > 1_000, "{checked}");
    assert!(pushes > 0, "no push in {checked} settlements");
}

#[test]
fn providers_mostly_agree_and_sometimes_not() {
    let w = world();
    let (mut same, mut differ, mut late_start) = (0, 0, 0);
    for now in instants() {
        let alpha = scores(&poll_all(&w, 0, now));
        let beta = scores(&poll_all(&w, 1, now));
        for (key, a) in &alpha {
            let Some(b) = beta.get(key) else { continue };
            assert!(
                (a.3 - b.3).abs() <= 5 * 60_000,
                "{key:?}: {} vs {}",
                a.3,
                b.3
            );
            late_start += usize::from(a.3 != b.3);
            if a.2.in_play() || b.2.in_play() {
                if (a.0, a.1, a.2) == (b.0, b.1, b.2) {
                    same += 1;
                } else {
                    differ += 1;
                }
            }
        }
    }
    assert!(
        differ > 0 && same > differ * 4,
        "{same} agree, {differ} differ"
    );
    assert!(late_start > 100, "{late_start}");
}

#[test]
fn providers_use_their_own_ids_and_sometimes_their_own_lines() {
    let w = world();
    let now = instants().nth(2).unwrap();
    let (a, b) = (poll_all(&w, 0, now), poll_all(&w, 1, now));
    assert!(a
        .iter()
        .all(|o| o.event.provider_event_id.starts_with("a-")));
    assert!(b
        .iter()
        .all(|o| o.event.provider_event_id.parse::<u64>().is_ok()));
    let lines = |obs: &[Observation]| -> BTreeMap<_, _> {
        obs.iter()
            .filter_map(|o| match &o.body {
                ObservationBody::Prices { market, .. } if market.line.is_some() => Some((
                    (o.event.home.clone(), market.market_type.clone()),
                    market.line,
                )),
                _ => None,
            })
            .collect()
    };
    let (la, lb) = (lines(&a), lines(&b));
    let shifted = la
        .iter()
        .filter(|(k, l)| lb.get(*k).is_some_and(|m| m != *l))
        .count();
    assert!(
        shifted > 10 && shifted * 4 < la.len(),
        "{shifted} of {}",
        la.len()
    );
}

#[test]
fn prices_move_between_buckets_and_hold_within_one() {
    let w = world();
    let now = instants().nth(3).unwrap();
    let league = &w.leagues()[2];
    let p = &w.providers()[0];
    assert_eq!(w.poll(p, league, now), w.poll(p, league, now));
    let prices = |t: Timestamp| -> Vec<_> {
        w.poll(p, league, t)
            .into_iter()
            .filter_map(|o| match o.body {
                ObservationBody::Prices { prices, .. } => Some(prices),
                _ => None,
            })
            .collect()
    };
    let (before, after) = (prices(now), prices(now.add_millis(8_000)));
    let moved = before.iter().zip(&after).filter(|(x, y)| x != y).count();
    assert!(
        moved * 2 > before.len(),
        "{moved} of {} moved",
        before.len()
    );
}

#[test]
fn poll_outcomes_fail_at_the_profile_rate() {
    let w = world();
    let league = &w.leagues()[0];
    for p in w.providers() {
        let n = 20_000;
        let failed = (0..n)
            .map(|s| w.poll_outcome(p, league, Timestamp(s * 1000)))
            .inspect(|o| {
                assert!(o.latency_ms >= p.latency_ms.0 && o.latency_ms <= 3 * p.latency_ms.1)
            })
            .filter(|o| o.failed)
            .count() as f64;
        let rate = failed / n as f64;
        assert!(
            (rate - p.error_rate).abs() < p.error_rate * 0.3,
            "{} {rate}",
            p.id
        );
    }
}

#[test]
fn every_quoted_line_is_settled() {
    let w = World::new(DemoConfig {
        slots_per_league: 4,
        ..DemoConfig::default()
    });
    let start = instants().next().unwrap();
    for p in w.providers() {
        for league in w.leagues() {
            let mut quoted = BTreeMap::new();
            let mut settled = BTreeMap::new();
            for i in 0..(2 * HOUR / 5_000) {
                for o in w.poll(p, league, start.add_millis(i * 5_000)) {
                    let id = o.event.provider_event_id.clone();
                    match o.body {
                        ObservationBody::Prices { market, .. } => {
                            quoted.entry(id).or_insert_with(Vec::new).push(market)
                        }
                        ObservationBody::Settled { market, .. } => {
                            settled.entry(id).or_insert_with(Vec::new).push(market)
                        }
                        _ => {}
                    }
                }
            }
            let mut complete = 0;
            for (id, markets) in &settled {
                let Some(q) = quoted.get(id) else { continue };
                for m in q {
                    assert!(
                        markets.contains(m),
                        "{} {id}: {m:?} quoted, not settled",
                        p.id
                    );
                }
                complete += 1;
            }
            assert!(complete >= 4, "{} {}: {complete}", p.id, league.league);
        }
    }
}
