//! Settlement through provider pushes (two `native` providers, no demo feed): won, lost, void
//! and push results, their consensus and conflicts, the `settlement` WebSocket message, and the
//! grades and payouts of bets recorded before and after. See `common::pushed` for the setup.
//!
//! The conflict rule (core/src/aggregate/settle.rs, src/bets/check.rs): per selection the result
//! with the most provider weight is published, a tie going to the preferred provider (every
//! configured provider weighs 1, so: the lower `priority`, then the id); every selection the
//! providers disagree on is listed in `conflicts`; `confidence` is the lowest share of weight
//! agreeing with a published result. The market counts as settled as soon as any provider
//! settles it (no more prices, validation answers `market_settled`), but a bet on a conflicting
//! selection is not graded until the providers agree.

mod common;

use std::time::Duration;

use common::{
    pushed::{bet, Feed},
    wsclient::{connect, next_matching},
};
use serde_json::{json, Value};
use tungstenite::Message;

/// The fixed match's markets, as both providers price them.
fn markets() -> Value {
    json!([
        {"type": "moneyline", "prices": {"home": 2.1, "draw": 3.4, "away": 3.6}},
        {"type": "spread", "line": -1, "prices": {"home": 2.6, "away": 1.5}},
        {"type": "total", "line": 1, "prices": {"over": 1.25, "under": 3.75}},
        {"type": "total", "line": 3.5, "prices": {"over": 3.2, "under": 1.33}}
    ])
}

/// Final score 1-0: home wins the moneyline, lands exactly on the -1 spread and on the total
/// of 1 (push), and the 3.5 total was voided.
fn results_1_0() -> Value {
    json!([
        {"type": "moneyline", "results": {"home": "won", "draw": "lost", "away": "lost"}},
        {"type": "spread", "line": -1, "results": {"home": "push", "away": "push"}},
        {"type": "total", "line": 1, "results": {"over": "push", "under": "push"}},
        {"type": "total", "line": 3.5, "results": {"over": "void", "under": "void"}}
    ])
}

fn moneyline_results(home: &str, draw: &str, away: &str) -> Value {
    json!([{"type": "moneyline", "results": {"home": home, "draw": draw, "away": away}}])
}

/// `providerSettlements` of a settlement body, as (provider, results) pairs.
fn by_provider(s: &Value) -> Vec<(Value, Value)> {
    s["providerSettlements"]
        .as_array()
        .expect("providerSettlements")
        .iter()
        .map(|p| (p["provider"].clone(), p["settlementStatus"].clone()))
        .collect()
}

#[test]
fn won_lost_void_and_push_settle_the_markets_and_grade_their_bets() {
    let feed = Feed::start("settle");
    feed.push("zeta", markets(), json!([]));
    feed.push("alpha", markets(), json!([]));
    let id = feed.match_id();
    let market = |suffix: &str| format!("{id}:{suffix}");
    feed.market_when(&market("total:3.5"), |m| m["status"] == "active");
    let before = feed.service(
        "GET",
        &format!("/api/markets/{id}:moneyline/settlement"),
        None,
    );
    assert_eq!(before.json()["settled"], false, "{}", before.text());

    // (bet, market, selection, odds, stake, result, payout): won pays stake × odds, void and
    // push give the stake back, lost pays nothing.
    let bets = [
        ("b-home", "moneyline", "home", 2.1, 10.0, "won", 21.0),
        ("b-draw", "moneyline", "draw", 3.4, 10.0, "lost", 0.0),
        ("b-away", "moneyline", "away", 3.6, 25.0, "lost", 0.0),
        ("b-spread", "spread:-1", "home", 2.6, 20.0, "push", 20.0),
        ("b-total", "total:1", "under", 3.75, 15.0, "push", 15.0),
        ("b-void", "total:3.5", "over", 3.2, 7.5, "void", 7.5),
    ];
    let mut recorded = Vec::new();
    for (bet_id, suffix, sel, odds, stake, _, _) in bets {
        recorded.push(feed.record(bet_id, &market(suffix), sel, odds, stake));
        let g = feed.grade(bet_id);
        assert_eq!(
            (g["status"].clone(), g["payout"].clone()),
            (json!("pending"), Value::Null)
        );
    }
    let mut ws = connect(&feed.server, &format!("/live/{id}"));
    ws.send(Message::text(r#"{"type":"ping"}"#)).expect("ping");
    let pong = next_matching(&mut ws, Duration::from_secs(5), |m| m["type"] == "pong");
    assert!(pong.is_some(), "the session is up before the settlement");

    feed.push("zeta", json!([]), results_1_0());
    feed.push("alpha", json!([]), results_1_0());
    let s = feed.settlement_when(&market("moneyline"), |s| by_provider(s).len() == 2);
    let agreed = json!({"home": "won", "draw": "lost", "away": "lost"});
    assert_eq!(s["settlementStatus"], agreed, "{s}");
    assert_eq!(
        by_provider(&s),
        [(json!("zeta"), agreed.clone()), (json!("alpha"), agreed)],
        "preferred provider first"
    );
    assert_eq!(
        (s["confidence"].clone(), s["conflicts"].clone()),
        (json!(1.0), json!([]))
    );
    for (suffix, results) in [
        ("spread:-1", json!({"home": "push", "away": "push"})),
        ("total:1", json!({"over": "push", "under": "push"})),
        ("total:3.5", json!({"over": "void", "under": "void"})),
    ] {
        let s = feed.settlement_when(&market(suffix), |s| by_provider(s).len() == 2);
        assert_eq!(s["settlementStatus"], results, "{suffix}: {s}");
        assert_eq!(
            (s["confidence"].clone(), s["conflicts"].clone()),
            (json!(1.0), json!([]))
        );
    }

    // The subscriber is told, with the market as it now is.
    let msg = next_matching(&mut ws, Duration::from_secs(5), |m| {
        m["type"] == "settlement" && m["data"]["marketId"] == market("moneyline").as_str()
    })
    .expect("a settlement message");
    assert_eq!(
        (msg["matchId"].as_str(), &msg["data"]["status"]),
        (Some(id.as_str()), &json!("settled"))
    );
    assert_eq!(
        msg["data"]["settlement"]["results"][0],
        json!(["home", "won"]),
        "{msg}"
    );

    for (bet_id, _, _, _, _, result, payout) in bets {
        let g = feed.graded(bet_id);
        assert_eq!(
            (g["result"].clone(), g["payout"].clone()),
            (json!(result), json!(payout)),
            "{g}"
        );
        assert!(g["settledAt"].is_string(), "{g}");
    }

    // A settled market takes no more bets at any price, but records are still idempotent:
    // the same bet again answers the same, other details under its id are a conflict.
    let v = feed.validate(&market("moneyline"), "home", 2.1, 10.0);
    assert_eq!(
        (v["valid"].clone(), v["reason"].clone()),
        (json!(false), json!("market_settled"))
    );
    for ((bet_id, suffix, sel, odds, stake, _, _), first) in bets.iter().zip(&recorded) {
        let again = feed.service(
            "POST",
            "/api/bets",
            Some(&bet(bet_id, &market(suffix), sel, *odds, *stake)),
        );
        assert_eq!((again.status, &again.json()), (201, first), "{bet_id}");
    }
    let other = bet("b-home", &market("moneyline"), "home", 2.1, 11.0);
    let r = feed.service("POST", "/api/bets", Some(&other));
    assert_eq!((r.status, r.json()["field"].clone()), (409, json!("betId")));
    assert_eq!(
        feed.graded("b-home")["payout"],
        json!(21.0),
        "the first bet stands"
    );

    // A bet recorded after the market settled is graded at once, and its repeat answers the same.
    let late = feed.record("b-late", &market("moneyline"), "away", 3.6, 4.0);
    assert_eq!(feed.graded("b-late")["result"], "lost");
    let again = feed.service(
        "POST",
        "/api/bets",
        Some(&bet("b-late", &market("moneyline"), "away", 3.6, 4.0)),
    );
    assert_eq!((again.status, again.json()), (201, late));
}

#[test]
fn providers_that_disagree_are_listed_and_their_selections_wait_for_agreement() {
    let feed = Feed::start("conflict");
    feed.push("zeta", markets(), json!([]));
    feed.push("alpha", markets(), json!([]));
    let ml = format!("{}:moneyline", feed.match_id());
    feed.market_when(&ml, |m| m["status"] == "active");

    // zeta (priority 10) says home won; alpha (priority 20) says away won. Equal weights: the
    // tie goes to zeta, although alpha sorts first by id.
    feed.push("zeta", json!([]), moneyline_results("won", "lost", "lost"));
    feed.push("alpha", json!([]), moneyline_results("lost", "lost", "won"));
    let s = feed.settlement_when(&ml, |s| by_provider(s).len() == 2);
    assert_eq!(
        s["settlementStatus"],
        json!({"home": "won", "draw": "lost", "away": "lost"}),
        "{s}"
    );
    assert_eq!(s["conflicts"], json!(["home", "away"]), "{s}");
    assert_eq!(
        s["confidence"],
        json!(0.5),
        "half the weight agrees with home and away"
    );
    assert_eq!(by_provider(&s)[0].0, "zeta");
    assert_eq!(
        s["status"], "settled",
        "settled while conflicting: no more prices"
    );
    let v = feed.validate(&ml, "draw", 3.4, 10.0);
    assert_eq!(v["reason"], "market_settled");

    // The agreed selection is graded; the disputed ones wait. (Each grading pass covers every
    // bet of the market, so the pass that grades c-draw, recorded last, looked at the others.)
    feed.record("c-home", &ml, "home", 2.1, 10.0);
    feed.record("c-away", &ml, "away", 3.6, 10.0);
    feed.record("c-draw", &ml, "draw", 3.4, 10.0);
    let g = feed.graded("c-draw");
    assert_eq!(
        (g["result"].clone(), g["payout"].clone()),
        (json!("lost"), json!(0.0))
    );
    for bet_id in ["c-home", "c-away"] {
        let g = feed.grade(bet_id);
        assert_eq!(
            (g["status"].clone(), g["result"].clone()),
            (json!("pending"), Value::Null),
            "{g}"
        );
    }

    // alpha corrects itself: full agreement, full confidence, every bet graded.
    feed.push("alpha", json!([]), moneyline_results("won", "lost", "lost"));
    let s = feed.settlement_when(&ml, |s| s["conflicts"] == json!([]));
    assert_eq!(s["confidence"], json!(1.0), "{s}");
    let g = feed.graded("c-home");
    assert_eq!(
        (g["result"].clone(), g["payout"].clone()),
        (json!("won"), json!(21.0))
    );
    assert_eq!(feed.graded("c-away")["result"], "lost");
}
