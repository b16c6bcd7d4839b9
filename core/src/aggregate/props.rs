//! Property tests of the aggregation invariants: best is the best active price, average the
//! true mean, sequence numbers strictly increase, and the final view does not depend on the
//! order in which the latest observations arrived.

use proptest::prelude::*;

use super::{testkit::*, view::ChangeKind, MatchState};
use crate::{
    model::{MarketKey, MarketStatus, Selection, Settlement, Timestamp},
    observation::Observation,
};

const PROVIDERS: [&str; 3] = ["a", "b", "c"];

fn market(i: usize) -> MarketKey {
    match i % 4 {
        0 => moneyline(),
        1 => spread(-3.5),
        2 => spread(-4.0),
        _ => total(44.5),
    }
}

fn sides(key: &MarketKey) -> [Selection; 2] {
    if key == &total(44.5) {
        [Selection::Over, Selection::Under]
    } else {
        [Selection::Home, Selection::Away]
    }
}

/// (provider, market, first price or none, second price or none, active?)
type Packet = (usize, usize, Option<f64>, Option<f64>, bool);

fn packet() -> impl Strategy<Value = Packet> {
    let price = prop::option::weighted(0.9, 1.01f64..10.0);
    (
        0..3usize,
        0..4usize,
        price.clone(),
        price,
        prop::bool::weighted(0.8),
    )
}

fn to_observation((p, m, x, y, active): Packet, t: i64) -> Observation {
    let key = market(m);
    let [s0, s1] = sides(&key);
    let quotes: Vec<_> = [(s0, x), (s1, y)]
        .into_iter()
        .filter_map(|(s, d)| Some((s, d?)))
        .collect();
    let status = if active {
        MarketStatus::Active
    } else {
        MarketStatus::Suspended
    };
    prices(PROVIDERS[p], t, key, &quotes, status)
}

/// Any observation: prices, scores (possibly late or backwards) or settlements.
fn any_observation() -> impl Strategy<Value = (u8, Packet, u32, u32, i64)> {
    (0..10u8, packet(), 0..4u32, 0..4u32, 0..50i64)
}

/// The published, order-independent part of every market.
fn snapshot(s: &MatchState) -> Vec<String> {
    s.markets()
        .map(|m| {
            let sels: Vec<_> = m
                .selections
                .iter()
                .map(|v| {
                    let prices: Vec<_> = v
                        .prices
                        .iter()
                        .map(|p| (p.provider.as_str(), p.price, p.status))
                        .collect();
                    format!(
                        "{:?} {prices:?} {:?} {:?} {:?} {}",
                        v.selection, v.best, v.best_provider, v.average, v.confidence
                    )
                })
                .collect();
            format!(
                "{:?} {:?} {sels:?} {:?} {:?}",
                m.key, m.status, m.best_overround, m.provider_overround
            )
        })
        .collect()
}

proptest! {
    #[test]
    fn best_is_the_best_active_price_and_average_the_mean(packets in prop::collection::vec(packet(), 1..40)) {
        let (mut s, w) = (state(), weights());
        for (i, p) in packets.iter().enumerate() {
            s.apply(&to_observation(*p, i as i64), &w, Timestamp(i as i64));
        }
        for m in s.markets() {
            for v in &m.selections {
                let active: Vec<f64> = v.prices.iter()
                    .filter(|p| p.status == MarketStatus::Active)
                    .map(|p| p.price.decimal())
                    .collect();
                let max = active.iter().copied().fold(None, |a: Option<f64>, d| Some(a.map_or(d, |a| a.max(d))));
                prop_assert_eq!(v.best.map(|b| b.decimal()), max);
                if let Some(bp) = &v.best_provider {
                    let offer = v.prices.iter().find(|p| &p.provider == bp).unwrap();
                    prop_assert_eq!(offer.status, MarketStatus::Active);
                    prop_assert_eq!(Some(offer.price), v.best);
                }
                let mean = (!active.is_empty()).then(|| active.iter().sum::<f64>() / active.len() as f64);
                match (v.average, mean) {
                    (Some(a), Some(m)) => prop_assert!((a.decimal() - m).abs() < 1e-9),
                    (a, m) => prop_assert_eq!(a.map(|a| a.decimal()), m),
                }
                prop_assert!((0.0..=1.0).contains(&v.confidence));
            }
        }
    }

    #[test]
    fn seq_strictly_increases(obs in prop::collection::vec(any_observation(), 1..60)) {
        let (mut s, w) = (state(), weights());
        let mut last = 0;
        for (i, (kind, p, home, away, t)) in obs.into_iter().enumerate() {
            let o = match kind {
                0..=5 => to_observation(p, t),
                6..=8 => score(PROVIDERS[p.0], t, home, away),
                _ => settled(PROVIDERS[p.0], t, market(p.1), &[(Selection::Home, Settlement::Won)]),
            };
            let changes = s.apply(&o, &w, Timestamp(i as i64));
            for c in &changes {
                prop_assert!(c.seq > last);
                last = c.seq;
            }
            prop_assert_eq!(s.seq(), last);
            let mut seen: Vec<&ChangeKind> = Vec::new();
            for c in &changes {
                prop_assert!(!seen.contains(&&c.kind), "duplicate change {:?}", c.kind);
                seen.push(&c.kind);
            }
        }
    }

    #[test]
    fn final_view_is_order_independent(
        (packets, shuffled) in prop::collection::vec((packet(), 0..20i64), 1..30)
            .prop_flat_map(|v| {
                // Distinct timestamps per packet, so "latest" is well defined.
                let v: Vec<_> = v.into_iter().enumerate().map(|(i, (p, t))| (p, t * 100 + i as i64)).collect();
                (Just(v.clone()), Just(v).prop_shuffle())
            })
    ) {
        let w = weights();
        let mut x = state();
        for (p, t) in &packets {
            x.apply(&to_observation(*p, *t), &w, Timestamp(*t));
        }
        let mut y = state();
        for (p, t) in &shuffled {
            y.apply(&to_observation(*p, *t), &w, Timestamp(*t));
        }
        prop_assert_eq!(snapshot(&x), snapshot(&y));
    }
}
