//! Every provider fixture through its parser: what comes out, what is rejected and why.

mod support;

use inplay_core::{
    feeds::{api_football, espn, native, odds_api, FeedError, ParseReport, ProviderErrorKind},
    odds::OddsFormat,
    MarketType, MatchStatus, Observation, ObservationBody, Selection,
};
use support::{at, ctx, espn as espn_ctx, fixture, odds_api as odds_ctx};

/// (home, away, status, period, clock) of a score observation.
fn score(obs: &Observation) -> (u32, u32, MatchStatus, &str, Option<&str>) {
    match &obs.body {
        ObservationBody::Score {
            home,
            away,
            status,
            period,
            clock,
        } => (*home, *away, *status, period, clock.as_deref()),
        other => panic!("score expected, got {other:?}"),
    }
}

/// (market suffix, selections with decimal prices) of a prices observation.
fn prices(obs: &Observation) -> (String, Vec<(Selection, f64)>) {
    match &obs.body {
        ObservationBody::Prices { market, prices, .. } => (
            market.suffix(),
            prices
                .iter()
                .map(|(s, p)| (s.clone(), p.decimal()))
                .collect(),
        ),
        other => panic!("prices expected, got {other:?}"),
    }
}

fn odds(path: &str, format: OddsFormat) -> ParseReport {
    odds_api::parse_odds(&fixture(path), &odds_ctx(format)).expect("fixture parses")
}

#[test]
fn odds_api_american_nfl_skips_bad_items_only() {
    let r = odds("odds_api/odds_nfl_american.json", OddsFormat::American);
    // betmgm's "EVEN" price, betmgm's -3.5/+4.0 spread, the event without home_team.
    assert_eq!(r.rejected, 3, "{:#?}", r.warnings);
    assert_eq!(r.observations.len(), 11);
    assert!(r.warnings.iter().any(|w| w.contains("home_team")));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("home point -3.5 but away point 4")));
    let first = &r.observations[0];
    assert_eq!(first.provider.as_str(), "odds-api/fanduel");
    assert_eq!(
        (first.event.sport.as_str(), first.event.league.as_str()),
        ("football", "nfl")
    );
    assert_eq!(first.event.home, "Tampa Bay Buccaneers");
    assert_eq!(first.observed_at, at("2022-10-02T16:41:07Z"));
    let (market, quotes) = prices(first);
    assert_eq!(market, "moneyline");
    assert_eq!(quotes[0], (Selection::Away, 2.0));
    let spreads: Vec<String> = r
        .observations
        .iter()
        .map(|o| prices(o).0)
        .filter(|m| m.starts_with("spread"))
        .collect();
    assert_eq!(spreads, ["spread:-3.5", "spread:-4", "spread:-3.5"]);
    // betmgm's moneyline keeps the one valid outcome.
    let betmgm = r
        .observations
        .iter()
        .find(|o| o.provider.as_str() == "odds-api/betmgm");
    assert_eq!(prices(betmgm.expect("betmgm h2h")).1.len(), 1);
}

#[test]
fn odds_api_american_mlb_recorded_shape() {
    let r = odds("odds_api/odds_mlb_american.json", OddsFormat::American);
    assert_eq!((r.observations.len(), r.rejected), (3, 0));
    assert_eq!(r.observations[0].event.league, "mlb");
    let (_, quotes) = prices(&r.observations[0]);
    assert_eq!(quotes[0].0, Selection::Away);
    assert!((quotes[0].1 - (1.0 + 100.0 / 164.0)).abs() < 1e-9);
    assert_eq!(quotes[1], (Selection::Home, 2.38));
}

#[test]
fn odds_api_decimal_spreads_totals_and_three_way() {
    let nba = odds("odds_api/odds_nba_decimal.json", OddsFormat::Decimal);
    let markets: Vec<String> = nba.observations.iter().map(|o| prices(o).0).collect();
    assert_eq!(
        markets,
        [
            "moneyline",
            "spread:-7.5",
            "total:208.5",
            "moneyline",
            "spread:-8",
            "total:208.5"
        ]
    );
    let epl = odds("odds_api/odds_epl_decimal.json", OddsFormat::Decimal);
    assert_eq!(
        (epl.observations.len(), epl.rejected),
        (8, 1),
        "{:?}",
        epl.warnings
    );
    assert_eq!(epl.observations[0].event.league, "premier-league");
    let (_, three_way) = prices(&epl.observations[0]);
    let selections: Vec<Selection> = three_way.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(
        selections,
        [Selection::Home, Selection::Away, Selection::Draw]
    );
    assert_eq!(prices(&epl.observations[4]).0, "spread:0.5");
    assert!(
        epl.warnings[0].contains("bad decimal price"),
        "{:?}",
        epl.warnings
    );
}

#[test]
fn odds_api_scores_null_live_completed() {
    let r = odds_api::parse_scores(&fixture("odds_api/scores_nfl.json"), &ctx("odds-api")).unwrap();
    assert_eq!((r.observations.len(), r.rejected), (3, 0));
    assert_eq!(
        score(&r.observations[0]),
        (17, 31, MatchStatus::Live, "LIVE", None)
    );
    assert_eq!(
        score(&r.observations[1]),
        (23, 20, MatchStatus::Finished, "FT", None)
    );
    assert_eq!(
        score(&r.observations[2]),
        (0, 0, MatchStatus::Scheduled, "PRE", None)
    );
    assert_eq!(r.observations[0].observed_at, at("2022-10-03T02:26:27Z"));
    assert_eq!(r.observations[2].observed_at, at("2024-01-01T00:00:00Z"));
    assert_eq!(r.observations[0].provider.as_str(), "odds-api");
    let epl = odds_api::parse_scores(&fixture("odds_api/scores_epl.json"), &ctx("odds-api"));
    let epl = epl.unwrap();
    // The array lists Tottenham first; scores are matched by name.
    assert_eq!(
        score(&epl.observations[0]),
        (0, 3, MatchStatus::Finished, "FT", None)
    );
}

#[test]
fn odds_api_error_bodies() {
    let cases = [
        (
            "error_out_of_usage_credits.json",
            401,
            ProviderErrorKind::Quota,
        ),
        ("error_invalid_key.json", 401, ProviderErrorKind::Auth),
        (
            "error_exceeded_freq_limit.json",
            429,
            ProviderErrorKind::RateLimited,
        ),
        ("error_unknown_sport.json", 404, ProviderErrorKind::Other),
    ];
    for (file, status, kind) in cases {
        let body = fixture(&format!("odds_api/{file}"));
        let e = odds_api::parse_error(status, &body);
        assert_eq!((e.kind, e.status), (kind, status), "{file}");
        assert!(!e.message.is_empty() && e.details_url.is_some(), "{file}");
        let parsed = odds_api::parse_odds(&body, &odds_ctx(OddsFormat::Decimal));
        assert!(
            matches!(parsed, Err(FeedError::Provider { ref code, .. }) if *code == e.code),
            "{file}"
        );
    }
}

#[test]
fn espn_nfl_scheduled_live_final_postponed() {
    let parse = |file: &str| {
        let r = espn::parse_scoreboard(
            &fixture(&format!("espn/{file}")),
            &espn_ctx("football", "nfl"),
        );
        r.expect("fixture parses")
    };
    let pre = parse("nfl_scheduled.json");
    assert_eq!((pre.observations.len(), pre.rejected), (2, 0));
    let first = &pre.observations[0];
    assert_eq!(first.event.start_time, at("2024-11-10T18:00:00Z"));
    assert_eq!(first.event.provider_event_id, "401671641");
    assert_eq!(
        (first.event.home.as_str(), first.event.away.as_str()),
        ("Washington Commanders", "Pittsburgh Steelers")
    );
    assert_eq!(score(first), (0, 0, MatchStatus::Scheduled, "PRE", None));
    let live = parse("nfl_live.json");
    assert_eq!(
        score(&live.observations[0]),
        (0, 7, MatchStatus::Live, "Q1", Some("5:32"))
    );
    assert_eq!(
        score(&live.observations[1]),
        (20, 17, MatchStatus::Live, "Q3", Some("8:14"))
    );
    let fin = parse("nfl_final.json");
    assert_eq!(
        score(&fin.observations[0]),
        (27, 28, MatchStatus::Finished, "FT", None)
    );
    let pst = parse("nfl_postponed.json");
    assert_eq!(
        score(&pst.observations[0]),
        (0, 0, MatchStatus::Postponed, "PST", None)
    );
    assert!(pst.warnings.is_empty(), "{:?}", pst.warnings);
}

#[test]
fn espn_soccer_halftime_and_hockey_final() {
    let body = fixture("espn/soccer_eng1_halftime.json");
    let r = espn::parse_scoreboard(&body, &espn_ctx("soccer", "eng.1")).unwrap();
    assert_eq!((r.observations.len(), r.rejected), (3, 0));
    assert_eq!(
        (
            r.observations[0].event.sport.as_str(),
            r.observations[0].event.league.as_str()
        ),
        ("soccer", "premier-league")
    );
    assert_eq!(
        score(&r.observations[0]),
        (0, 2, MatchStatus::Halftime, "HT", None)
    );
    assert_eq!(
        score(&r.observations[1]),
        (1, 2, MatchStatus::Live, "2nd Half", Some("81'"))
    );
    assert_eq!(
        score(&r.observations[2]),
        (0, 0, MatchStatus::Cancelled, "CANC", None)
    );
    let nhl = espn::parse_scoreboard(&fixture("espn/nhl_final.json"), &espn_ctx("hockey", "nhl"));
    let nhl = nhl.unwrap();
    assert_eq!(nhl.observations[0].event.league, "nhl");
    assert_eq!(
        score(&nhl.observations[0]),
        (2, 4, MatchStatus::Finished, "FT", None)
    );
}

#[test]
fn api_football_live_halftime_finished_postponed() {
    let parse = |file: &str| {
        let r = api_football::parse_fixtures(
            &fixture(&format!("api_football/{file}")),
            &ctx("api-football"),
        );
        r.expect("fixture parses")
    };
    let live = parse("live.json");
    assert_eq!((live.observations.len(), live.rejected), (2, 0));
    let mu = &live.observations[0];
    assert_eq!(
        (
            mu.event.league.as_str(),
            mu.event.provider_event_id.as_str()
        ),
        ("premier-league", "1208099")
    );
    assert_eq!(mu.event.start_time, at("2024-09-29T15:30:00Z"));
    assert_eq!(
        score(mu),
        (0, 2, MatchStatus::Live, "2nd Half", Some("67'"))
    );
    assert_eq!(live.observations[1].event.league, "la-liga");
    assert_eq!(
        score(&live.observations[1]),
        (0, 2, MatchStatus::Live, "1st Half", Some("45'+2"))
    );
    let ht = parse("halftime.json");
    let botola = &ht.observations[0];
    assert_eq!(
        (botola.event.sport.as_str(), botola.event.league.as_str()),
        ("soccer", "botola-pro")
    );
    assert_eq!(score(botola), (0, 1, MatchStatus::Halftime, "HT", None));
    let ft = parse("finished.json");
    assert_eq!(ft.observations[0].event.home, "Man Utd");
    assert_eq!(
        score(&ft.observations[0]),
        (0, 3, MatchStatus::Finished, "FT", None)
    );
    assert_eq!(
        score(&ft.observations[1]),
        (1, 1, MatchStatus::Finished, "FT", None)
    );
    let pst = parse("postponed.json");
    assert_eq!(
        score(&pst.observations[0]),
        (0, 0, MatchStatus::Postponed, "PST", None)
    );
    assert_eq!(
        score(&pst.observations[1]),
        (0, 0, MatchStatus::Cancelled, "CANC", None)
    );
}

#[test]
fn api_football_error_object_with_http_200_is_an_error() {
    for (file, code) in [
        ("error_token.json", "token"),
        ("error_rate_limit.json", "requests"),
    ] {
        let body = fixture(&format!("api_football/{file}"));
        match api_football::parse_fixtures(&body, &ctx("api-football")) {
            Err(FeedError::Provider { code: c, message }) => {
                assert_eq!(c, code);
                assert!(message.len() > 10);
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn native_example_parses_and_matches_its_documentation() {
    let body = fixture("native/example.json");
    let r = native::parse(&body, &ctx("native")).unwrap();
    assert_eq!(
        (r.observations.len(), r.rejected),
        (9, 0),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.observations[0].observed_at, at("2024-09-29T16:12:05Z"));
    assert_eq!(
        score(&r.observations[0]),
        (0, 1, MatchStatus::Live, "1st Half", Some("38'"))
    );
    let suspended = r.observations.iter().find(|o| {
        matches!(&o.body, ObservationBody::Prices { market, .. } if market.market_type == MarketType::Total)
    });
    assert!(matches!(
        suspended.map(|o| &o.body),
        Some(ObservationBody::Prices {
            status: inplay_core::MarketStatus::Suspended,
            ..
        })
    ));
    assert!(matches!(
        r.observations[4].body,
        ObservationBody::Settled { .. }
    ));
    // The example in native.md is the fixture, byte for byte.
    let doc = include_str!("../src/feeds/native.md");
    let example = doc
        .split("```json\n")
        .nth(1)
        .and_then(|s| s.split("```").next());
    assert_eq!(example.map(str::as_bytes), Some(body.as_slice()));
}
