//! Properties of the demo world: determinism, volume, realism of the true world; what the two
//! providers report is checked in `providers`.

mod providers;

use super::{timeline::State, DemoConfig, LeagueDef, World};
use crate::{
    model::{MatchStatus, Timestamp},
    observation::{Observation, ObservationBody},
};
use proptest::prelude::*;
use std::collections::BTreeMap;

const HOUR: i64 = 3_600_000;

fn world() -> World {
    World::new(DemoConfig::default())
}

/// A few instants spread over two days after the default epoch.
fn instants() -> impl Iterator<Item = Timestamp> {
    let epoch = DemoConfig::default().epoch.millis();
    (0..12).map(move |i| Timestamp(epoch + 3 * HOUR + i * 4 * HOUR + i * 7_919))
}

/// The true state of every visible fixture at `t`, with its league.
fn true_states(w: &World, t: i64) -> Vec<(&LeagueDef, State)> {
    let mut out = Vec::new();
    for league in w.leagues() {
        for slot in 0..w.slots {
            for &k in w.visible(league, slot, t).ks() {
                if let Some(fx) = w.fixture(league, slot, k) {
                    out.push((league, fx.state_at(league, t)));
                }
            }
        }
    }
    out
}

fn poll_all(w: &World, provider: usize, now: Timestamp) -> Vec<Observation> {
    let p = &w.providers()[provider];
    w.leagues().iter().flat_map(|l| w.poll(p, l, now)).collect()
}

/// (league, home, away) → (home, away, status, start time) of a Score observation.
type Scores = BTreeMap<(String, String, String), (u32, u32, MatchStatus, i64)>;

/// The Score observations of one poll, by teams.
fn scores(obs: &[Observation]) -> Scores {
    obs.iter()
        .filter_map(|o| match o.body {
            ObservationBody::Score {
                home, away, status, ..
            } => Some((
                (
                    o.event.league.clone(),
                    o.event.home.clone(),
                    o.event.away.clone(),
                ),
                (home, away, status, o.event.start_time.millis()),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn same_inputs_same_output() {
    let (a, b) = (world(), world());
    for now in instants().take(3) {
        for p in 0..2 {
            assert_eq!(poll_all(&a, p, now), poll_all(&b, p, now));
        }
    }
    let other = World::new(DemoConfig {
        seed: 8,
        ..DemoConfig::default()
    });
    let now = instants().next().unwrap();
    assert_ne!(poll_all(&a, 0, now), poll_all(&other, 0, now));
}

#[test]
fn at_least_a_thousand_matches_are_visible() {
    let w = world();
    for now in instants() {
        let n = w.visible_matches(now);
        assert!((1_000..=2_200).contains(&n), "{n} at {now:?}");
        let polled = poll_all(&w, 0, now);
        let count = polled
            .iter()
            .filter(|o| matches!(o.body, ObservationBody::Score { .. }))
            .count();
        assert!(count >= 1_000, "{count}");
    }
}

#[test]
fn every_state_appears() {
    let w = world();
    let mut seen = BTreeMap::new();
    for now in instants() {
        for (_, st) in true_states(&w, now.millis()) {
            *seen.entry(st.status).or_insert(0usize) += 1;
        }
    }
    let total: usize = seen.values().sum();
    for status in [
        MatchStatus::Scheduled,
        MatchStatus::Live,
        MatchStatus::Finished,
    ] {
        assert!(
            seen.get(&status).copied().unwrap_or(0) * 10 > total,
            "{status:?}: {seen:?}"
        );
    }
    for status in [
        MatchStatus::Halftime,
        MatchStatus::Postponed,
        MatchStatus::Cancelled,
    ] {
        assert!(seen.contains_key(&status), "{status:?}: {seen:?}");
    }
}

#[test]
fn true_scores_never_decrease() {
    let w = world();
    let epoch = w.config().epoch.millis();
    for league in w.leagues() {
        for slot in 0..8 {
            let Some(fx) = w.fixture(league, slot, 3) else {
                continue;
            };
            let mut prev = (0, 0);
            let mut finished = false;
            for t in (fx.start - 60_000..fx.start + 45 * 60_000).step_by(2_000) {
                let st = fx.state_at(league, t);
                assert!(
                    st.home >= prev.0 && st.away >= prev.1,
                    "{} {st:?}",
                    league.league
                );
                assert!(!(finished && st.status != MatchStatus::Finished), "{st:?}");
                finished |= st.status == MatchStatus::Finished;
                prev = (st.home, st.away);
            }
            assert!(
                finished || fx.start < epoch,
                "{} never finished",
                league.league
            );
        }
    }
}

#[test]
fn final_scores_look_real() {
    let w = world();
    for league in w.leagues() {
        let (mut sum, mut n, mut draws) = (0.0, 0.0, 0);
        for slot in 0..w.slots {
            for k in 0..3 {
                let Some(fx) = w.fixture(league, slot, k) else {
                    continue;
                };
                let st = fx.final_state(league);
                if st.status != MatchStatus::Finished {
                    continue;
                }
                sum += f64::from(st.home + st.away);
                n += 1.0;
                draws += usize::from(st.home == st.away);
            }
        }
        let mean = sum / n;
        let (lo, hi) = match league.sport {
            "football" => (35.0, 65.0),
            "basketball" => (140.0, 240.0),
            "soccer" => (2.0, 3.5),
            "hockey" => (4.0, 7.5),
            "baseball" => (6.5, 11.0),
            _ => (2.0, 3.0),
        };
        assert!(
            (lo..=hi).contains(&mean),
            "{}: mean total {mean}",
            league.league
        );
        if !league.rules.draw_allowed {
            assert_eq!(draws, 0, "{} ended level", league.league);
        } else {
            assert!(draws > 10, "{} has no draws", league.league);
        }
    }
}

#[test]
fn concurrent_fixtures_of_a_league_pair_different_teams() {
    let w = world();
    for now in instants() {
        for league in w.leagues() {
            let mut pairs = std::collections::BTreeSet::new();
            for slot in 0..w.slots {
                for &k in w.visible(league, slot, now.millis()).ks() {
                    let fx = w.fixture(league, slot, k).unwrap();
                    assert_ne!(fx.home, fx.away);
                    assert!(
                        pairs.insert((fx.home, fx.away)),
                        "{} repeats a pairing",
                        league.league
                    );
                }
            }
        }
    }
}

#[test]
fn extreme_instants_are_harmless() {
    let w = world();
    for now in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
        for league in w.leagues() {
            for p in w.providers() {
                let obs = w.poll(p, league, Timestamp(now));
                // Beyond ±2^62 ms (146 million years) the schedule stops rather than overflow.
                assert!(now.unsigned_abs() < 1 << 62 || obs.is_empty(), "{now}");
                let _ = w.poll_outcome(p, league, Timestamp(now));
            }
        }
        let _ = w.visible_matches(Timestamp(now));
    }
}

#[test]
fn world_is_shareable_between_shards() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<World>();
}

#[test]
fn foreign_leagues_and_tiny_worlds_are_harmless() {
    let small = World::new(DemoConfig {
        slots_per_league: 0,
        ..DemoConfig::default()
    });
    let now = instants().next().unwrap();
    assert_eq!(small.visible_matches(now), 0);
    let big = world();
    let mut foreign = big.leagues()[3].clone();
    foreign.league = "not-a-league";
    assert!(big.poll(&big.providers()[0], &foreign, now).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn poll_never_panics(now in any::<i64>(), seed in any::<u64>(), epoch in any::<i64>(),
                         slots in 0usize..4, league in 0usize..11) {
        let w = World::new(DemoConfig { seed, epoch: Timestamp(epoch), slots_per_league: slots });
        let league = &w.leagues()[league];
        for p in w.providers() {
            for o in w.poll(p, league, Timestamp(now)) {
                if let ObservationBody::Prices { prices, .. } = o.body {
                    prop_assert!(prices.iter().all(|(_, p)| p.decimal() > 1.0));
                }
            }
            let _ = w.poll_outcome(p, league, Timestamp(now));
        }
        let _ = w.visible_matches(Timestamp(now));
    }
}

#[test]
fn a_poll_in_slot_ranges_is_the_whole_poll() {
    let w = world();
    let uneven = [0..7, 7..40, 40..41, 41..w.slots() + 5];
    for now in instants().take(4) {
        for p in w.providers() {
            for league in w.leagues() {
                let whole = w.poll(p, league, now);
                let pieces: Vec<Observation> = uneven
                    .iter()
                    .flat_map(|r| w.poll_slots(p, league, r.clone(), now))
                    .collect();
                assert_eq!(pieces, whole, "{} {}", p.id.as_str(), league.league);
            }
        }
    }
    let league = &w.leagues()[0];
    let p = &w.providers()[0];
    let now = instants().next().unwrap();
    assert!(w
        .poll_slots(p, league, w.slots()..w.slots() + 3, now)
        .is_empty());
}
