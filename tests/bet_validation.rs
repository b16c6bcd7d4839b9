//! `POST /api/bets/validate` against prices the test pushed itself (two `native` providers, no
//! demo feed): the current price, tolerance, better-than-offered prices, unknown markets and
//! selections, stake limits, suspension and resumption. See `common::pushed` for the setup.

mod common;

use common::pushed::Feed;
use serde_json::{json, Value};

fn moneyline(home: f64, draw: f64, away: f64, status: &str) -> Value {
    json!([{"type": "moneyline", "status": status,
            "prices": {"home": home, "draw": draw, "away": away}}])
}

/// `(valid, reason, currentOdds)` of an answer.
fn verdict(v: &Value) -> (Value, Value, Value) {
    (
        v["valid"].clone(),
        v["reason"].clone(),
        v["currentOdds"].clone(),
    )
}

fn best(market: &Value, sel: &str) -> Value {
    market["selections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["selection"] == sel))
        .map_or(Value::Null, |s| s["bestOdds"].clone())
}

/// A server where zeta offers home 2.50, draw 3.40, away 2.90 and alpha home 2.40, draw 3.50,
/// away 2.80 on the moneyline; with the market's id.
fn both_priced(name: &str) -> (Feed, String) {
    let feed = Feed::start(name);
    feed.push("zeta", moneyline(2.5, 3.4, 2.9, "active"), json!([]));
    feed.push("alpha", moneyline(2.4, 3.5, 2.8, "active"), json!([]));
    let ml = format!("{}:moneyline", feed.match_id());
    feed.market_when(&ml, |m| best(m, "draw") == json!(3.5));
    (feed, ml)
}

#[test]
fn prices_are_checked_against_the_best_current_price() {
    let (feed, ml) = both_priced("validate");
    let ok = (json!(true), Value::Null);

    // The best price of each selection, whichever provider offers it.
    let v = feed.validate(&ml, "home", 2.5, 10.0);
    assert_eq!(verdict(&v), (json!(true), Value::Null, json!(2.5)), "{v}");
    assert_eq!(v["marketSuspended"], false);
    assert_eq!(
        verdict(&feed.validate(&ml, "draw", 3.5, 10.0)).2,
        json!(3.5)
    );

    // Tolerance (200 bp) only below the price; a better price than offered is refused.
    let reason = |sel: &str, odds: f64, stake: f64| {
        let v = feed.validate(&ml, sel, odds, stake);
        (v["valid"].clone(), v["reason"].clone())
    };
    assert_eq!(reason("home", 2.45, 10.0), ok, "2 % below: good");
    assert_eq!(
        reason("home", 2.44, 10.0),
        (json!(false), json!("odds_changed"))
    );
    assert_eq!(
        reason("home", 2.51, 10.0),
        (json!(false), json!("odds_changed"))
    );

    // Stakes from 1.00 to 500.00 inclusive.
    assert_eq!(reason("home", 2.5, 1.0), ok);
    assert_eq!(
        reason("home", 2.5, 0.99),
        (json!(false), json!("stake_too_low"))
    );
    assert_eq!(reason("home", 2.5, 500.0), ok);
    assert_eq!(
        reason("home", 2.5, 500.01),
        (json!(false), json!("stake_too_high"))
    );

    // Unknown markets (another line, another match) and selections.
    for market in [
        format!("{ml}:2.5"),
        format!("{}:total:2.5", feed.match_id()),
        "0000beef-x:moneyline".into(),
    ] {
        let v = feed.validate(&market, "home", 2.5, 10.0);
        assert_eq!(
            verdict(&v),
            (json!(false), json!("unknown_market"), Value::Null),
            "{market}"
        );
    }
    let v = feed.validate(&ml, "over", 2.5, 10.0);
    assert_eq!(
        verdict(&v),
        (json!(false), json!("unknown_selection"), Value::Null)
    );

    // The price moves: zeta drops home to 2.20, so alpha's 2.40 is the best now.
    feed.push("zeta", moneyline(2.2, 3.4, 2.9, "active"), json!([]));
    feed.market_when(&ml, |m| best(m, "home") == json!(2.4));
    let v = feed.validate(&ml, "home", 2.5, 10.0);
    assert_eq!(
        verdict(&v),
        (json!(false), json!("odds_changed"), json!(2.4)),
        "{v}"
    );
    assert_eq!(reason("home", 2.4, 10.0), ok);
}

#[test]
fn a_price_is_never_rounded_up_in_the_bettors_favour() {
    let feed = Feed::start("rounding");
    feed.push("zeta", moneyline(2.558, 3.4, 2.9, "active"), json!([]));
    let ml = format!("{}:moneyline", feed.match_id());
    let m = feed.market_when(&ml, |m| !best(m, "home").is_null());
    assert_eq!(
        best(&m, "home"),
        json!(2.558),
        "bodies show the price as pushed"
    );

    let v = feed.validate(&ml, "home", 2.558, 10.0);
    assert_eq!(verdict(&v), (json!(true), Value::Null, json!(2.558)), "{v}");
    // 2.56 is 2.558 rounded to two places, and better than what is offered.
    let v = feed.validate(&ml, "home", 2.56, 10.0);
    assert_eq!(
        verdict(&v),
        (json!(false), json!("odds_changed"), json!(2.558)),
        "{v}"
    );
}

#[test]
fn a_suspended_market_is_refused_until_it_resumes() {
    let (feed, ml) = both_priced("suspend");

    // One provider suspending leaves the market open on the other's prices.
    feed.push("zeta", moneyline(2.5, 3.4, 2.9, "suspended"), json!([]));
    feed.market_when(&ml, |m| best(m, "home") == json!(2.4));
    let v = feed.validate(&ml, "home", 2.4, 10.0);
    assert_eq!(verdict(&v), (json!(true), Value::Null, json!(2.4)), "{v}");
    assert_eq!(v["marketSuspended"], false);
    assert_eq!(
        feed.validate(&ml, "home", 2.5, 10.0)["reason"],
        "odds_changed"
    );

    // Both suspended: the market is, and no price is good.
    feed.push("alpha", moneyline(2.4, 3.5, 2.8, "suspended"), json!([]));
    feed.market_when(&ml, |m| m["status"] == "suspended");
    for odds in [2.4, 2.5] {
        let v = feed.validate(&ml, "home", odds, 10.0);
        assert_eq!(
            (
                v["valid"].clone(),
                v["marketSuspended"].clone(),
                v["reason"].clone()
            ),
            (json!(false), json!(true), json!("market_suspended")),
            "{v}"
        );
    }

    // An active push resumes it, at the new price.
    feed.push("zeta", moneyline(2.6, 3.4, 2.9, "active"), json!([]));
    feed.market_when(&ml, |m| m["status"] == "active");
    let v = feed.validate(&ml, "home", 2.6, 10.0);
    assert_eq!(verdict(&v), (json!(true), Value::Null, json!(2.6)), "{v}");
    assert_eq!(v["marketSuspended"], false);
}
