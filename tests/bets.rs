//! The betting platform's contract against the real server and the demo feed: bet validation,
//! market settlement, bet records (idempotent, durable across SIGKILL) and their grades.

mod common;

use std::{path::PathBuf, time::Duration};

use common::{token_with_roles, wait_for_matches, Resp, TestServer};
use serde_json::{json, Value};

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inplay-bets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn start(dir: &std::path::Path) -> TestServer {
    TestServer::start(&[("INPLAY_STORAGE_DATA_DIR", dir.to_str().expect("utf-8"))])
}

fn service(server: &TestServer, method: &str, path: &str, body: Option<&Value>) -> Resp {
    let auth = format!("Bearer {}", token_with_roles(&["service"]));
    let body = body.map(Value::to_string);
    server.request_with(method, path, body.as_deref(), &[("Authorization", &auth)])
}

/// Markets of matches with `status`, with their bodies, waiting up to 30 s for one that
/// satisfies `pred`.
fn find_market(server: &TestServer, status: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..60 {
        let list = server.get_json(&format!("/api/matches?status={status}"));
        for m in list.as_array().into_iter().flatten().take(60) {
            let id = m["matchId"].as_str().unwrap_or_default();
            let detail = server.get_json(&format!("/api/matches/{id}"));
            for market in detail["markets"].as_array().into_iter().flatten() {
                if pred(market) {
                    return market.clone();
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("no {status} market matched");
}

fn priced(m: &Value) -> Option<(String, f64)> {
    let s = m["selections"]
        .as_array()?
        .iter()
        .find(|s| s["bestOdds"].is_number())?;
    Some((s["selection"].as_str()?.to_owned(), s["bestOdds"].as_f64()?))
}

fn validate(server: &TestServer, market: &str, sel: &str, odds: f64, stake: f64) -> Value {
    let body = json!({"marketId": market, "selection": sel, "odds": odds, "stake": stake});
    let r = service(server, "POST", "/api/bets/validate", Some(&body));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The current best price of a selection, as validation sees it.
fn current(server: &TestServer, market: &str, sel: &str) -> f64 {
    validate(server, market, sel, 1000.0, 10.0)["currentOdds"]
        .as_f64()
        .expect("a price")
}

#[test]
fn validation_follows_the_live_market() {
    let dir = data_dir("validate");
    let server = start(&dir);
    wait_for_matches(&server, 200);
    let market = find_market(&server, "live", |m| {
        m["status"] == "active" && priced(m).is_some()
    });
    let id = market["marketId"].as_str().unwrap().to_owned();
    let (sel, _) = priced(&market).unwrap();

    // The current price is good (retry if it moves between the two calls).
    let valid = (0..20).any(|_| {
        let price = current(&server, &id, &sel);
        let v = validate(&server, &id, &sel, price, 10.0);
        v["valid"] == true && v["reason"].is_null() && v["currentOdds"] == json!(price)
    });
    assert!(valid, "the current price validates");
    let price = current(&server, &id, &sel);
    let v = validate(&server, &id, &sel, price + 1.0, 10.0);
    assert_eq!(
        (v["valid"].clone(), v["reason"].clone()),
        (json!(false), json!("odds_changed"))
    );
    let v = validate(&server, &id, &sel, (price * 0.5).max(1.01), 10.0);
    assert_eq!(v["reason"], "odds_changed", "far below the price: re-quote");
    let reason = |stake: f64| {
        (0..20)
            .map(|_| validate(&server, &id, &sel, current(&server, &id, &sel), stake))
            .find(|v| v["reason"] != "odds_changed")
            .map(|v| v["reason"].clone())
    };
    assert_eq!(reason(0.5), Some(json!("stake_too_low")));
    assert_eq!(reason(1e9), Some(json!("stake_too_high")));
    let v = validate(&server, "0000beef-x:moneyline", "home", 2.0, 10.0);
    assert_eq!(v["reason"], "unknown_market");
    assert_eq!(
        validate(&server, &id, "nobody", 2.0, 10.0)["reason"],
        "unknown_selection"
    );

    // Bodies are checked field by field, and the route needs the service role.
    let bad = json!({"marketId": id, "selection": sel, "odds": "2", "stake": 10});
    let r = service(&server, "POST", "/api/bets/validate", Some(&bad));
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("odds")));
    let body = json!({"marketId": id, "selection": sel, "odds": 2.0, "stake": 10}).to_string();
    assert_eq!(
        server
            .request("POST", "/api/bets/validate", Some(&body))
            .status,
        401
    );
    assert_eq!(
        server
            .admin_request("POST", "/api/bets/validate", Some(&body))
            .status,
        403
    );
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn suspended_and_settled_markets_are_refused_and_settlements_explained() {
    let dir = data_dir("settled");
    let server = start(&dir);
    wait_for_matches(&server, 200);
    let settled = find_market(&server, "finished", |m| m["status"] == "settled");
    let id = settled["marketId"].as_str().unwrap().to_owned();
    let sel = settled["settlement"]["results"][0][0]
        .as_str()
        .unwrap()
        .to_owned();
    let v = validate(&server, &id, &sel, 2.0, 10.0);
    assert_eq!(
        (v["valid"].clone(), v["reason"].clone()),
        (json!(false), json!("market_settled"))
    );

    let r = service(
        &server,
        "GET",
        &format!("/api/markets/{id}/settlement"),
        None,
    );
    assert_eq!(r.status, 200);
    let s = r.json();
    assert_eq!(s["settled"], true);
    let result = s["settlementStatus"][&sel]
        .as_str()
        .expect("a result per selection");
    assert!(["won", "lost", "void", "push"].contains(&result));
    assert!(s["providerSettlements"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));
    assert!(s["confidence"].as_f64().is_some_and(|c| c > 0.0));
    assert!(s["conflicts"].is_array());
    let r = service(
        &server,
        "GET",
        "/api/markets/0000beef-x:moneyline/settlement",
        None,
    );
    assert_eq!(r.status, 404);

    let suspended = find_market(&server, "live", |m| m["status"] == "suspended");
    let id = suspended["marketId"].as_str().unwrap();
    let sel = suspended["selections"][0]["selection"].as_str().unwrap();
    let v = validate(&server, id, sel, 2.0, 10.0);
    // It may have resumed since; if it is still suspended, it is refused as such.
    if v["marketSuspended"] == true {
        assert_eq!(
            (v["valid"].clone(), v["reason"].clone()),
            (json!(false), json!("market_suspended"))
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

fn bet(id: &str, market: &str, sel: &str, odds: f64, stake: f64) -> Value {
    json!({"betId": id, "userId": "user-1", "marketId": market, "selection": sel,
           "odds": odds, "stake": stake})
}

#[test]
fn bets_are_recorded_once_and_graded_when_their_market_settles() {
    let dir = data_dir("record");
    let server = start(&dir);
    wait_for_matches(&server, 200);
    let live = find_market(&server, "live", |m| {
        m["status"] == "active" && priced(m).is_some()
    });
    let (id, (sel, price)) = (
        live["marketId"].as_str().unwrap().to_owned(),
        priced(&live).unwrap(),
    );

    let b = bet("bet-live-1", &id, &sel, price, 10.0);
    let first = service(&server, "POST", "/api/bets", Some(&b));
    assert_eq!(first.status, 201, "{}", first.text());
    let again = service(&server, "POST", "/api/bets", Some(&b));
    assert_eq!(
        (again.status, again.json()),
        (201, first.json()),
        "idempotent"
    );
    let other = bet("bet-live-1", &id, &sel, price, 99.0);
    let r = service(&server, "POST", "/api/bets", Some(&other));
    assert_eq!((r.status, r.json()["field"].clone()), (409, json!("betId")));
    let s = service(&server, "GET", "/api/bets/bet-live-1/settlement", None).json();
    assert_eq!(
        (s["status"].clone(), s["result"].clone()),
        (json!("pending"), Value::Null)
    );
    let r = service(
        &server,
        "POST",
        "/api/bets",
        Some(&bet("x", "0000beef-x:moneyline", "home", 2.0, 1.0)),
    );
    assert_eq!(r.status, 404);
    let r = service(&server, "POST", "/api/bets", Some(&json!({"betId": "y"})));
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("userId"))
    );
    assert_eq!(
        service(&server, "GET", "/api/bets/nope/settlement", None).status,
        404
    );

    // Bets on a settled market are graded from the agreed result of their selection.
    let settled = find_market(&server, "finished", |m| m["status"] == "settled");
    let id = settled["marketId"].as_str().unwrap();
    let results = service(
        &server,
        "GET",
        &format!("/api/markets/{id}/settlement"),
        None,
    )
    .json();
    for (n, s) in settled["settlement"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let sel = s[0].as_str().unwrap();
        let bet_id = format!("bet-settled-{n}");
        let r = service(
            &server,
            "POST",
            "/api/bets",
            Some(&bet(&bet_id, id, sel, 2.5, 10.0)),
        );
        assert_eq!(r.status, 201);
        let path = format!("/api/bets/{bet_id}/settlement");
        let g = (0..100)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(50));
                service(&server, "GET", &path, None).json()
            })
            .find(|g| g["status"] == "settled")
            .expect("graded within 5 s");
        let expected = &results["settlementStatus"][sel];
        assert_eq!(&g["result"], expected, "{g}");
        let payout = match expected.as_str() {
            Some("won") => 25.0,
            Some("lost") => 0.0,
            _ => 10.0,
        };
        assert_eq!(g["payout"], json!(payout));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_recorded_bet_survives_sigkill() {
    let dir = data_dir("durable");
    let mut server = start(&dir);
    wait_for_matches(&server, 200);
    let live = find_market(&server, "live", |m| priced(m).is_some());
    let (id, (sel, price)) = (
        live["marketId"].as_str().unwrap().to_owned(),
        priced(&live).unwrap(),
    );
    let b = bet("bet-durable-1", &id, &sel, price, 5.0);
    let first = service(&server, "POST", "/api/bets", Some(&b));
    assert_eq!(first.status, 201, "{}", first.text());
    server.child.kill().expect("SIGKILL"); // no drain, no flush: only what was synced survives
    let _ = server.child.wait();

    let server = start(&dir);
    let s = service(&server, "GET", "/api/bets/bet-durable-1/settlement", None);
    assert_eq!(s.status, 200, "{}", s.text());
    assert_eq!(s.json()["marketId"], id.as_str());
    let again = service(&server, "POST", "/api/bets", Some(&b));
    assert_eq!(
        (again.status, again.json()),
        (201, first.json()),
        "same answer after restart"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
