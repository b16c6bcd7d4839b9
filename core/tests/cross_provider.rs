//! The whole core pipeline from fixture bytes: parse → `Registry::resolve` →
//! `MatchState::apply`, proving what the service inplay replaces got wrong is right.

mod support;

use inplay_core::{
    aggregate::view::{ChangeKind, MarketView, SelectionView},
    feeds::{api_football, espn, odds_api, ParseReport},
    odds::{OddsFormat, Price},
    MarketType, MatchId, MatchStatus, Selection,
};
use support::{at, ctx, espn as espn_ctx, fixture, key, odds_api as odds_ctx, Pipeline};

/// The match id of the first observation of `report` about `home` v `away` (as spelled there).
fn id_of(pipe_ids: &[MatchId], report: &ParseReport, home: &str, away: &str) -> MatchId {
    let i = report
        .observations
        .iter()
        .position(|o| o.event.home == home && o.event.away == away)
        .unwrap_or_else(|| panic!("no {home} v {away} in report"));
    pipe_ids[i].clone()
}

fn selection<'a>(market: &'a MarketView, s: &Selection) -> &'a SelectionView {
    market
        .selections
        .iter()
        .find(|v| v.selection == *s)
        .unwrap_or_else(|| panic!("no {s:?} in {}", market.key.suffix()))
}

/// Parses and feeds the NFL odds fixture; returns the pipeline and the Buccaneers and Falcons
/// match ids.
fn nfl_odds() -> (Pipeline, MatchId, MatchId) {
    let mut pipe = Pipeline::new();
    let body = fixture("odds_api/odds_nfl_american.json");
    let report = odds_api::parse_odds(&body, &odds_ctx(OddsFormat::American)).unwrap();
    let ids = pipe.feed(&report);
    let bucs = id_of(&ids, &report, "Tampa Bay Buccaneers", "Kansas City Chiefs");
    let falcons = id_of(&ids, &report, "Atlanta Falcons", "Cleveland Browns");
    (pipe, bucs, falcons)
}

#[test]
fn one_premier_league_match_across_odds_api_api_football_and_espn() {
    let mut pipe = Pipeline::new();
    let odds_body = fixture("odds_api/odds_epl_decimal.json");
    let odds = odds_api::parse_odds(&odds_body, &odds_ctx(OddsFormat::Decimal)).unwrap();
    let odds_ids = pipe.feed(&odds);
    let scores = odds_api::parse_scores(&fixture("odds_api/scores_epl.json"), &ctx("odds-api"));
    let scores = scores.unwrap();
    let score_ids = pipe.feed(&scores);
    let live_body = fixture("api_football/live.json");
    let live = api_football::parse_fixtures(&live_body, &ctx("api-football")).unwrap();
    let live_ids = pipe.feed(&live);
    let espn_body = fixture("espn/soccer_eng1_halftime.json");
    let board = espn::parse_scoreboard(&espn_body, &espn_ctx("soccer", "eng.1")).unwrap();
    let board_ids = pipe.feed(&board);

    let (mu, tot) = ("Manchester United", "Tottenham Hotspur");
    let id = id_of(&odds_ids, &odds, mu, tot);
    assert_eq!(id_of(&score_ids, &scores, mu, tot), id);
    assert_eq!(id_of(&live_ids, &live, mu, "Tottenham"), id);
    assert_eq!(id_of(&board_ids, &board, mu, tot), id);
    // Every bookmaker's observation of that event went to the same match too.
    let event_id = "a1e6c0b4f0d54b7c9e2f3a4b5c6d7e8f";
    for (obs, obs_id) in odds.observations.iter().zip(&odds_ids) {
        if obs.event.provider_event_id == event_id {
            assert_eq!(*obs_id, id, "{}", obs.provider);
        }
    }
    // The providers' start times were minutes apart.
    let espn_start = board.observations[0].event.start_time;
    let scores_start = scores.observations[0].event.start_time;
    assert_eq!(espn_start, at("2024-09-29T15:30:00Z"));
    assert_eq!(scores_start.millis() - espn_start.millis(), 107_000);

    // "Man Utd" in API-Football's finished feed lands on the same match, which it finishes.
    let ft_body = fixture("api_football/finished.json");
    let ft = api_football::parse_fixtures(&ft_body, &ctx("api-football")).unwrap();
    let ft_ids = pipe.feed(&ft);
    assert_eq!(id_of(&ft_ids, &ft, "Man Utd", "Tottenham"), id);
    let state = pipe.state(&id);
    assert_eq!(state.status(), MatchStatus::Finished);
    let published = state.score().expect("a score was reported");
    assert_eq!((published.home, published.away), (0, 3));
    assert!(
        pipe.registry.near_misses().is_empty(),
        "{:?}",
        pipe.registry.near_misses()
    );
    // One moneyline market for the match, from both bookmakers that price it.
    let ml = state.market(&key(MarketType::Moneyline, None)).unwrap();
    assert_eq!(selection(ml, &Selection::Draw).prices.len(), 2);
}

#[test]
fn a_repeat_fixture_a_week_later_is_a_different_match() {
    let mut pipe = Pipeline::new();
    let body = fixture("odds_api/odds_epl_decimal.json");
    let report = odds_api::parse_odds(&body, &odds_ctx(OddsFormat::Decimal)).unwrap();
    let ids = pipe.feed(&report);
    let first = ids[0].clone();
    let repeat = report
        .observations
        .iter()
        .position(|o| o.event.provider_event_id == "c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4")
        .map(|i| ids[i].clone())
        .unwrap();
    assert_ne!(first, repeat);
    assert!(first.as_str().ends_with("-20240929"), "{first}");
    assert!(repeat.as_str().ends_with("-20241006"), "{repeat}");
    // Same pairing, so the same key hash: both live on the same owner shard.
    assert_eq!(first.as_str()[..8], repeat.as_str()[..8]);
    assert_eq!(pipe.states.len(), 3);
}

#[test]
fn bookmakers_merge_into_one_market_and_lines_stay_apart() {
    let (pipe, bucs, _) = nfl_odds();
    let state = pipe.state(&bucs);
    let keys: Vec<String> = state.markets().map(|m| m.key.suffix()).collect();
    assert_eq!(
        keys,
        ["moneyline", "spread:-4", "spread:-3.5", "total:45.5"]
    );
    let ml = state.market(&key(MarketType::Moneyline, None)).unwrap();
    let providers = |s: &SelectionView| -> Vec<String> {
        let mut p: Vec<String> = s.prices.iter().map(|p| p.provider.to_string()).collect();
        p.sort();
        p
    };
    assert_eq!(
        providers(selection(ml, &Selection::Away)),
        ["odds-api/betmgm", "odds-api/draftkings", "odds-api/fanduel"]
    );
    let total = state.market(&key(MarketType::Total, Some(45.5))).unwrap();
    assert_eq!(selection(total, &Selection::Over).prices.len(), 2);
    let narrow = state.market(&key(MarketType::Spread, Some(-3.5))).unwrap();
    assert_eq!(
        providers(selection(narrow, &Selection::Home)),
        ["odds-api/fanduel"]
    );
    let wide = state.market(&key(MarketType::Spread, Some(-4.0))).unwrap();
    assert_eq!(
        providers(selection(wide, &Selection::Home)),
        ["odds-api/draftkings"]
    );
}

#[test]
fn best_price_in_american_odds_is_the_bettors_best() {
    let (pipe, bucs, falcons) = nfl_odds();
    let ml = key(MarketType::Moneyline, None);
    let bucs_ml = pipe.state(&bucs).market(&ml).unwrap();
    let home = selection(bucs_ml, &Selection::Home);
    // -110 (draftkings) beats -120 (fanduel).
    assert_eq!(home.best.map(Price::american), Some(-110.0));
    assert_eq!(
        home.best_provider.as_ref().unwrap().as_str(),
        "odds-api/draftkings"
    );
    let falcons_ml = pipe.state(&falcons).market(&ml).unwrap();
    let away = selection(falcons_ml, &Selection::Away);
    // +150 (fanduel) beats +140 (draftkings).
    assert_eq!(away.best.map(Price::american), Some(150.0));
    assert_eq!(
        away.best_provider.as_ref().unwrap().as_str(),
        "odds-api/fanduel"
    );
    let home = selection(falcons_ml, &Selection::Home);
    // -165 beats -175 (and a plain max of the raw numbers would agree only by accident).
    assert_eq!(home.best.map(Price::american), Some(-165.0));
}

#[test]
fn average_is_the_true_mean_of_the_providers_prices() {
    let (pipe, bucs, _) = nfl_odds();
    let ml = pipe
        .state(&bucs)
        .market(&key(MarketType::Moneyline, None))
        .unwrap();
    let away = selection(ml, &Selection::Away);
    // fanduel +100, draftkings -110, betmgm -105.
    let expected = (2.0 + (1.0 + 100.0 / 110.0) + (1.0 + 100.0 / 105.0)) / 3.0;
    let average = away.average.unwrap().decimal();
    assert!((average - expected).abs() < 1e-9, "{average} vs {expected}");
    assert!(away.best.unwrap().decimal() > average);
    let home = selection(ml, &Selection::Home);
    let expected = ((1.0 + 100.0 / 120.0) + (1.0 + 100.0 / 110.0)) / 2.0;
    assert!((home.average.unwrap().decimal() - expected).abs() < 1e-9);
}

#[test]
fn final_scores_settle_nothing_but_finish_the_match() {
    let (mut pipe, bucs, falcons) = nfl_odds();
    let before = pipe.changes.len();
    let body = fixture("odds_api/scores_nfl.json");
    let scores = odds_api::parse_scores(&body, &ctx("odds-api")).unwrap();
    let ids = pipe.feed(&scores);
    assert_eq!(ids[0], bucs);
    assert_eq!(ids[1], falcons);
    let state = pipe.state(&falcons);
    assert_eq!(state.status(), MatchStatus::Finished);
    let published = state.score().unwrap();
    assert_eq!(
        (published.home, published.away, published.period.as_str()),
        (23, 20, "FT")
    );
    assert!(state.markets().count() >= 2);
    assert!(state.markets().all(|m| m.settlement.is_none()));
    let new = &pipe.changes[before..];
    assert!(
        new.iter().all(|(_, c)| c.kind == ChangeKind::Score),
        "{new:?}"
    );
    assert_eq!(pipe.state(&bucs).status(), MatchStatus::Live);
    // The 49ers game had no odds in the feed (its event lacked home_team): a new match.
    assert_eq!(pipe.states.len(), 3);
}

#[test]
fn a_repeated_payload_changes_nothing() {
    let (mut pipe, _, _) = nfl_odds();
    let before = pipe.changes.len();
    assert!(before > 0);
    let body = fixture("odds_api/odds_nfl_american.json");
    let again = odds_api::parse_odds(&body, &odds_ctx(OddsFormat::American)).unwrap();
    pipe.feed(&again);
    assert_eq!(pipe.changes.len(), before);
}

#[test]
fn espn_and_odds_api_nfl_agree_on_identity() {
    let mut pipe = Pipeline::new();
    let board = espn::parse_scoreboard(
        &fixture("espn/nfl_final.json"),
        &espn_ctx("football", "nfl"),
    );
    let board = board.unwrap();
    let espn_ids = pipe.feed(&board);
    // The same game as The Odds API would name it, kick-off seconds later.
    let odds_api_event = br#"[{"id":"7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d","sport_key":"americanfootball_nfl",
        "sport_title":"NFL","commence_time":"2024-11-10T18:02:41Z","completed":true,
        "home_team":"Washington Commanders","away_team":"Pittsburgh Steelers",
        "scores":[{"name":"Pittsburgh Steelers","score":"28"},{"name":"Washington Commanders","score":"27"}],
        "last_update":"2024-11-10T21:31:09Z"}]"#;
    let scores = odds_api::parse_scores(odds_api_event, &ctx("odds-api")).unwrap();
    let ids = pipe.feed(&scores);
    assert_eq!(ids, espn_ids);
    let state = pipe.state(&ids[0]);
    assert_eq!(state.status(), MatchStatus::Finished);
    assert_eq!(state.score().unwrap().sources.len(), 2);
}
