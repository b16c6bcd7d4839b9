//! No parser panics on any input: arbitrary bytes, arbitrary JSON built from the providers'
//! own field names, and real fixtures with one node replaced by anything.

mod support;

use inplay_core::{
    feeds::{api_football, espn, native, odds_api, FeedContext, FeedError, ParseReport},
    odds::OddsFormat,
    ObservationBody,
};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use support::{ctx, fixture};

type Parser = fn(&[u8], &FeedContext) -> Result<ParseReport, FeedError>;

const PARSERS: [Parser; 5] = [
    odds_api::parse_odds,
    odds_api::parse_scores,
    espn::parse_scoreboard,
    api_football::parse_fixtures,
    native::parse,
];

const FIXTURES: &[&str] = &[
    "odds_api/odds_nfl_american.json",
    "odds_api/odds_epl_decimal.json",
    "odds_api/scores_nfl.json",
    "espn/nfl_live.json",
    "espn/soccer_eng1_halftime.json",
    "api_football/live.json",
    "api_football/finished.json",
    "native/example.json",
];

/// Field names the parsers look for, so random objects reach deep code paths.
const KEYS: &[&str] = &[
    "id",
    "sport_key",
    "commence_time",
    "home_team",
    "away_team",
    "bookmakers",
    "key",
    "last_update",
    "markets",
    "outcomes",
    "name",
    "price",
    "point",
    "completed",
    "scores",
    "score",
    "message",
    "error_code",
    "events",
    "competitions",
    "competitors",
    "homeAway",
    "team",
    "displayName",
    "status",
    "type",
    "state",
    "period",
    "displayClock",
    "date",
    "errors",
    "response",
    "fixture",
    "short",
    "elapsed",
    "extra",
    "teams",
    "home",
    "away",
    "goals",
    "league",
    "country",
    "version",
    "observedAt",
    "sport",
    "startTime",
    "prices",
    "line",
    "settlements",
    "results",
    "clock",
    "timestamp",
];

/// Strings the parsers give meaning to.
const WORDS: &[&str] = &[
    "h2h",
    "spreads",
    "totals",
    "Over",
    "Under",
    "Draw",
    "home",
    "away",
    "pre",
    "in",
    "post",
    "STATUS_HALFTIME",
    "STATUS_POSTPONED",
    "1H",
    "HT",
    "FT",
    "PST",
    "live",
    "won",
    "push",
    "2024-11-10T18:00Z",
    "2022-10-03T00:22:55Z",
    "17",
    "-3.5",
    "",
    "americanfootball_nfl",
    "tennis_atp_x",
    "active",
    "suspended",
    "5/2",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![-110.0, 150.0, 1.0, 1.9, 0.0, -3.5, 45.5, 1e300])
            .prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                let map: Map<String, Value> =
                    kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                Value::Object(map)
            }),
        ]
    })
}

/// Replaces the `n`-th node (pre-order, modulo the node count) of `v` with `with`.
fn replace_nth(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    if *n == 0 {
        *v = with.clone();
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(items) => items.iter_mut().any(|c| replace_nth(c, n, with)),
        Value::Object(map) => map.values_mut().any(|c| replace_nth(c, n, with)),
        _ => false,
    }
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Runs every parser (in every odds format) and checks what any successful parse promises.
fn check_all(bytes: &[u8]) {
    for format in [
        OddsFormat::Decimal,
        OddsFormat::American,
        OddsFormat::Fractional,
    ] {
        let c = ctx("p")
            .with_odds_format(format)
            .with_sport("soccer", "eng.1");
        for parse in PARSERS {
            if let Ok(report) = parse(bytes, &c) {
                assert!(report.warnings.len() <= 64);
                for obs in &report.observations {
                    if let ObservationBody::Prices { market, prices, .. } = &obs.body {
                        assert_eq!(market.market_type.has_line(), market.line.is_some());
                        assert!(prices.iter().all(|(_, p)| p.decimal() > 1.0));
                    }
                }
            }
        }
    }
    let _ = odds_api::parse_error(401, bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = odds_api::QuotaHeaders::parse(Some(&text), Some(&text), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_all(&bytes);
    }

    #[test]
    fn arbitrary_json(value in json_value()) {
        check_all(value.to_string().as_bytes());
        // The same value as every envelope the parsers expect.
        for key in ["events", "response"] {
            check_all(serde_json::json!({ key: [value.clone()] }).to_string().as_bytes());
        }
        check_all(Value::Array(vec![value]).to_string().as_bytes());
    }

    #[test]
    fn fixtures_with_one_node_replaced(
        file in prop::sample::select(FIXTURES),
        at in any::<usize>(),
        with in json_value(),
    ) {
        let mut value: Value = serde_json::from_slice(&fixture(file)).expect("fixture is JSON");
        let mut n = at % count_nodes(&value);
        replace_nth(&mut value, &mut n, &with);
        check_all(value.to_string().as_bytes());
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    let deep = "[".repeat(100_000);
    for parse in PARSERS {
        assert!(matches!(
            parse(deep.as_bytes(), &ctx("p")),
            Err(FeedError::Json(_))
        ));
    }
}
