//! Builders shared by the aggregation tests.

use super::{view::MatchInfo, MatchState, Weights};
use crate::{
    model::{Line, MarketKey, MarketStatus, MarketType, MatchId, MatchStatus, ProviderId},
    model::{Selection, Settlement, Timestamp},
    observation::{EventRef, Observation, ObservationBody},
    odds::Price,
};

/// A fresh state for a fixed test match.
pub(super) fn state() -> MatchState {
    MatchState::new(MatchInfo {
        id: MatchId::new("nfl-test-1"),
        sport: "football".into(),
        league: "nfl".into(),
        home_team: "Home".into(),
        away_team: "Away".into(),
        start_time: Timestamp(0),
    })
}

/// Providers `a` (weight 3, priority 0) and `b` (weight 1, priority 1); others weigh 1.
pub(super) fn weights() -> Weights {
    let mut w = Weights::new(1.0);
    w.set(ProviderId::new("a"), 0, 3.0);
    w.set(ProviderId::new("b"), 1, 1.0);
    w
}

pub(super) fn moneyline() -> MarketKey {
    MarketKey {
        market_type: MarketType::Moneyline,
        line: None,
    }
}

pub(super) fn spread(line: f64) -> MarketKey {
    MarketKey {
        market_type: MarketType::Spread,
        line: Line::from_f64(line),
    }
}

pub(super) fn total(line: f64) -> MarketKey {
    MarketKey {
        market_type: MarketType::Total,
        line: Line::from_f64(line),
    }
}

fn observation(provider: &str, t: i64, body: ObservationBody) -> Observation {
    Observation {
        provider: ProviderId::new(provider),
        event: EventRef {
            provider_event_id: format!("{provider}-1"),
            sport: "football".into(),
            league: "nfl".into(),
            home: "Home".into(),
            away: "Away".into(),
            start_time: Timestamp(0),
        }
        .into(),
        observed_at: Timestamp(t),
        body,
    }
}

/// A price packet; decimal prices must be valid.
pub(super) fn prices(
    provider: &str,
    t: i64,
    market: MarketKey,
    quotes: &[(Selection, f64)],
    status: MarketStatus,
) -> Observation {
    let prices = quotes
        .iter()
        .map(|(s, d)| {
            (
                s.clone(),
                Price::from_decimal(*d).expect("test prices are valid"),
            )
        })
        .collect();
    observation(
        provider,
        t,
        ObservationBody::Prices {
            market,
            prices,
            status,
        },
    )
}

/// An active two-way moneyline packet.
pub(super) fn ml(provider: &str, t: i64, home: f64, away: f64) -> Observation {
    let q = [(Selection::Home, home), (Selection::Away, away)];
    prices(provider, t, moneyline(), &q, MarketStatus::Active)
}

pub(super) fn score(provider: &str, t: i64, home: u32, away: u32) -> Observation {
    let body = ObservationBody::Score {
        home,
        away,
        period: "Q2".into(),
        status: MatchStatus::Live,
        clock: None,
    };
    observation(provider, t, body)
}

pub(super) fn settled(
    provider: &str,
    t: i64,
    market: MarketKey,
    results: &[(Selection, Settlement)],
) -> Observation {
    observation(
        provider,
        t,
        ObservationBody::Settled {
            market,
            results: results.to_vec(),
        },
    )
}
