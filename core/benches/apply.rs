//! `MatchState::apply` on the hot path: a match with 3 markets quoted by 2 providers receiving
//! price packets, both when a price moves (the change path) and when a packet repeats what is
//! already known (the no-change path, the most common case when polling).
//!
//! Run with `cargo bench -p inplay-core --bench apply`; criterion reports observations/s as
//! "elem/s".

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use inplay_core::{
    aggregate::{view::MatchInfo, MatchState, Weights},
    odds::Price,
    EventRef, Line, MarketKey, MarketStatus, MarketType, MatchId, Observation, ObservationBody,
    ProviderId, Selection, Timestamp,
};

fn key(market_type: MarketType, line: Option<f64>) -> MarketKey {
    MarketKey {
        market_type,
        line: line.and_then(Line::from_f64),
    }
}

fn packet(provider: &str, market: MarketKey, quotes: [(Selection, f64); 2]) -> Observation {
    Observation {
        provider: ProviderId::new(provider),
        event: EventRef {
            provider_event_id: "evt-1".into(),
            sport: "football".into(),
            league: "nfl".into(),
            home: "Home".into(),
            away: "Away".into(),
            start_time: Timestamp(0),
        }
        .into(),
        observed_at: Timestamp(1_000),
        body: ObservationBody::Prices {
            market,
            prices: quotes
                .into_iter()
                .map(|(s, d)| (s, Price::from_decimal(d).expect("bench prices are valid")))
                .collect(),
            status: MarketStatus::Active,
        },
    }
}

/// A match with moneyline, spread -3.5 and total 44.5, each quoted by two providers.
fn setup() -> (MatchState, Weights, Observation, Observation) {
    use Selection::{Away, Home, Over, Under};
    let mut weights = Weights::new(1.0);
    weights.set(ProviderId::new("alpha"), 0, 2.0);
    weights.set(ProviderId::new("beta"), 1, 1.0);
    let mut state = MatchState::new(MatchInfo {
        id: MatchId::new("nfl-bench-1"),
        sport: "football".into(),
        league: "nfl".into(),
        home_team: "Home".into(),
        away_team: "Away".into(),
        start_time: Timestamp(0),
    });
    let ml = key(MarketType::Moneyline, None);
    for (p, shift) in [("alpha", 0.0), ("beta", 0.05)] {
        for obs in [
            packet(p, ml.clone(), [(Home, 1.80 + shift), (Away, 2.10 - shift)]),
            packet(
                p,
                key(MarketType::Spread, Some(-3.5)),
                [(Home, 1.91 + shift), (Away, 1.91)],
            ),
            packet(
                p,
                key(MarketType::Total, Some(44.5)),
                [(Over, 1.87), (Under, 1.95 + shift)],
            ),
        ] {
            state.apply(&obs, &weights, Timestamp(1_000));
        }
    }
    let a = packet("alpha", ml.clone(), [(Home, 1.80), (Away, 2.10)]);
    let b = packet("alpha", ml, [(Home, 1.83), (Away, 2.05)]);
    (state, weights, a, b)
}

fn apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    group.throughput(Throughput::Elements(1));

    let (mut state, weights, a, b) = setup();
    let mut flip = false;
    group.bench_function("price_change", |bench| {
        bench.iter(|| {
            flip = !flip;
            let obs = if flip { &b } else { &a };
            black_box(state.apply(black_box(obs), &weights, Timestamp(2_000)))
        })
    });

    let (mut state, weights, a, _) = setup();
    group.bench_function("price_repeat", |bench| {
        bench.iter(|| black_box(state.apply(black_box(&a), &weights, Timestamp(2_000))))
    });
    group.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
