//! Record → row mapping, without a database (the writer tests run the statements for real).

use super::{check::BadRecord, *};
use crate::io::record::SelectionPrice;

fn price(selection: &str, best: Option<f64>) -> SelectionPrice {
    SelectionPrice {
        selection: selection.into(),
        best,
        best_provider: best.map(|_| "demo-alpha".into()),
        prices: Vec::new(),
    }
}

fn market(status: &str, line: Option<f64>, selections: Vec<SelectionPrice>, seq: u64) -> Record {
    Record::Market {
        match_id: "m1".into(),
        market_id: "m1:spread:-3.5".into(),
        sport: "football".into(),
        event: "Lakers vs Celtics".into(),
        market_type: "spread".into(),
        line,
        status: status.into(),
        selections,
        seq,
        at_ms: 1_000 + seq as i64,
    }
}

fn score(match_id: &str, home: u32, seq: u64) -> Record {
    Record::Score {
        match_id: match_id.into(),
        home,
        away: 0,
        period: "Q1".into(),
        status: "live".into(),
        seq,
        at_ms: 5_000,
    }
}

#[test]
fn scores_keep_their_order_and_columns() {
    let records = [score("m1", 1, 1), score("m2", 0, 1), score("m1", 2, 2)];
    let rows = Rows::build(&records);
    assert_eq!(rows.scores.match_id, ["m1", "m2", "m1"]);
    assert_eq!(rows.scores.home, [1, 0, 2]);
    assert_eq!(rows.scores.seq, [1, 1, 2]);
    assert_eq!(rows.scores.at, [5_000; 3]);
}

#[test]
fn a_market_is_one_history_row_and_one_markets_row_per_selection() {
    let records = [market(
        "active",
        Some(-3.5),
        vec![price("home", Some(1.905)), price("away", Some(1.95))],
        7,
    )];
    let rows = Rows::build(&records);
    assert_eq!(rows.history.market_id, ["m1:spread:-3.5"]);
    assert_eq!(rows.history.line, [Some(-3.5)]);
    let selections: serde_json::Value =
        serde_json::from_str(&rows.history.selections[0]).expect("selections are JSON");
    assert_eq!(selections[0]["selection"], "home");
    assert_eq!(selections[0]["best"], 1.905);
    assert_eq!(selections[1]["best_provider"], "demo-alpha");

    let keys: Vec<&str> = rows.markets.keys().map(String::as_str).collect();
    assert_eq!(keys, ["m1:spread:-3.5:away", "m1:spread:-3.5:home"]);
    let home = &rows.markets["m1:spread:-3.5:home"];
    assert_eq!(home.event, "Lakers vs Celtics spread -3.5 home");
    assert_eq!(
        (home.sport, home.odds, home.active),
        ("football", Some(1.905), true)
    );
    assert_eq!(home.at, 1_007);
}

#[test]
fn unpriced_or_suspended_selections_are_inactive() {
    let records = [market(
        "active",
        None,
        vec![
            price("home", None),
            price("away", Some(f64::NAN)),
            price("draw", Some(1e9)),
            price("over", Some(2.0)),
        ],
        1,
    )];
    let rows = Rows::build(&records);
    let m = &rows.markets;
    assert_eq!(
        m["m1:spread:-3.5:home"].event,
        "Lakers vs Celtics spread home"
    );
    for key in ["home", "away", "draw"] {
        let row = &m[&format!("m1:spread:-3.5:{key}")];
        assert_eq!((row.odds, row.active), (None, false), "{key}");
    }
    assert!(m["m1:spread:-3.5:over"].active);

    let records = [market("suspended", None, vec![price("home", Some(2.0))], 2)];
    let row = &Rows::build(&records).markets["m1:spread:-3.5:home"];
    assert_eq!((row.odds, row.active), (Some(2.0), false));
}

#[test]
fn upserts_keep_the_last_state_of_each_key_history_keeps_all() {
    let records = [
        market("active", None, vec![price("home", Some(1.8))], 1),
        market("active", None, vec![price("home", Some(1.9))], 2),
        Record::ProviderEvent {
            provider: "p".into(),
            provider_event_id: "e1".into(),
            match_id: "old".into(),
            at_ms: 1,
        },
        Record::ProviderEvent {
            provider: "p".into(),
            provider_event_id: "e1".into(),
            match_id: "new".into(),
            at_ms: 2,
        },
    ];
    let rows = Rows::build(&records);
    assert_eq!(rows.history.seq, [1, 2]);
    assert_eq!(rows.markets.len(), 1);
    assert_eq!(rows.markets["m1:spread:-3.5:home"].odds, Some(1.9));
    assert_eq!(rows.provider_events[&("p", "e1")], ("new", 2));
}

#[test]
fn matches_and_settlements_map_to_their_columns() {
    let records = [
        Record::Match {
            id: "m1".into(),
            sport: "soccer".into(),
            league: "mls".into(),
            home: "A".into(),
            away: "B".into(),
            start_ms: 10,
            status: "scheduled".into(),
            at_ms: 11,
        },
        Record::Settlement {
            match_id: "m1".into(),
            market_id: "m1:moneyline".into(),
            results: vec![
                ("home".into(), "won".into()),
                ("away".into(), "lost".into()),
            ],
            confidence: 0.9,
            conflicts: vec!["draw".into()],
            seq: 9,
            at_ms: 12,
        },
    ];
    let rows = Rows::build(&records);
    let m = &rows.matches["m1"];
    assert_eq!(
        (m.league, m.start, m.status, m.at),
        ("mls", 10, "scheduled", 11)
    );
    let s = &rows.settlements;
    let results: serde_json::Value = serde_json::from_str(&s.results[0]).expect("JSON");
    assert_eq!(results, serde_json::json!({"home": "won", "away": "lost"}));
    assert_eq!(s.conflicts, [r#"["draw"]"#]);
    assert_eq!((s.confidence[0], s.seq[0], s.at[0]), (0.9, 9, 12));
}

#[test]
fn check_rejects_what_postgres_cannot_store() {
    assert_eq!(check(&score("m1", 3, 1)), Ok(()));
    assert!(matches!(
        check(&score("m1", u32::MAX, 1)),
        Err(BadRecord::OutOfRange { field: "home", .. })
    ));
    assert!(matches!(
        check(&score("m1", 0, u64::MAX)),
        Err(BadRecord::OutOfRange { field: "seq", .. })
    ));
    assert_eq!(check(&score("m\0", 0, 1)), Err(BadRecord::Nul));
    assert_eq!(
        check(&score(&"x".repeat(101), 0, 1)),
        Err(BadRecord::LongMatchId(101))
    );
    let nul_selection = market("active", None, vec![price("ho\0me", Some(2.0))], 1);
    assert_eq!(check(&nul_selection), Err(BadRecord::Nul));
    let message = check(&score("m1", u32::MAX, 1))
        .expect_err("bad")
        .to_string();
    assert!(
        message.contains("home") && message.contains("integer"),
        "{message}"
    );
}
