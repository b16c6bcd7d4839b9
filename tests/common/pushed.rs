//! One fixed match fed by two `native` providers that push (no demo feed), and the betting
//! platform's calls against it: every price, suspension and settlement is one the test wrote.
//!
//! The providers are `zeta` (priority 10) and `alpha` (priority 20). Every configured provider
//! weighs the same in a consensus, so a tie between them goes to the lower priority: `zeta`,
//! although `alpha` sorts first by id. They poll different leagues of the fake provider (which
//! answers an empty feed), so neither stands by as the other's backup; pushes are read whatever
//! the feed.

use std::time::Duration;

use serde_json::{json, Value};

use super::{
    fake_provider::{FakeProvider, Script},
    providers, token_with_roles, Resp, TestServer,
};

/// The match every document is about.
pub const HOME: &str = "Manchester United";
pub const AWAY: &str = "Tottenham Hotspur";
const START: &str = "2025-03-16T15:30:00Z";

/// Bet limits of the test config: 2 % tolerance, stakes 1.00 ..= 500.00.
const BETS: &str =
    "[bets]\nodds_tolerance_bp = 200\nmin_stake_cents = 100\nmax_stake_cents = 50000\n\n";

/// How long a pushed document may take to reach the match's owner shard.
const APPLIED: Duration = Duration::from_secs(5);

/// A server with the two pushing providers.
pub struct Feed {
    pub server: TestServer,
    /// Answers the providers' polls with an empty feed; kept alive for the server's lifetime.
    _fake: FakeProvider,
}

impl Feed {
    /// Starts the server for test `name`.
    pub fn start(name: &str) -> Self {
        let fake = FakeProvider::start();
        for path in ["/soccer/premier-league", "/soccer/la-liga"] {
            fake.set(path, Script::json(r#"{"version":1,"events":[]}"#));
        }
        let url = fake.url();
        let extra = format!(
            "{BETS}{}{}",
            providers::native("zeta", &url, "soccer/premier-league", 10),
            providers::native("alpha", &url, "soccer/la-liga", 20),
        );
        let server = providers::start(&format!("pushed-{name}"), &extra);
        Self {
            server,
            _fake: fake,
        }
    }

    /// Pushes the fixed match with `markets` and `settlements` (native JSON arrays) as
    /// `provider`; every part of it must be accepted.
    pub fn push(&self, provider: &str, markets: Value, settlements: Value) {
        let doc = json!({"version": 1, "events": [{
            "id": "mun-tot", "sport": "soccer", "league": "premier-league",
            "home": HOME, "away": AWAY, "startTime": START,
            "markets": markets, "settlements": settlements,
        }]});
        let r = providers::push(&self.server, provider, &doc.to_string());
        assert_eq!(r.status, 202, "{}", r.text());
        let v = r.json();
        assert_eq!(
            (v["rejected"].as_u64(), &v["warnings"]),
            (Some(0), &json!([])),
            "{v}"
        );
    }

    /// The match's id, once the first push has reached its owner.
    pub fn match_id(&self) -> String {
        let list = self.server.wait_for("/api/matches", APPLIED, |v| {
            v.as_array().is_some_and(|a| !a.is_empty())
        });
        assert_eq!(list.as_array().map(Vec::len), Some(1), "one match: {list}");
        assert!(list.to_string().contains(AWAY), "{list}");
        list[0]["matchId"].as_str().expect("matchId").to_owned()
    }

    /// `GET /api/markets/:id/odds` once `pred` holds on it.
    pub fn market_when(&self, market_id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.server
            .wait_for(&format!("/api/markets/{market_id}/odds"), APPLIED, pred)
    }

    /// A request as the betting platform (role `service`).
    pub fn service(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let auth = format!("Bearer {}", token_with_roles(&["service"]));
        let body = body.map(Value::to_string);
        self.server
            .request_with(method, path, body.as_deref(), &[("Authorization", &auth)])
    }

    /// `POST /api/bets/validate`, answered 200.
    pub fn validate(&self, market_id: &str, sel: &str, odds: f64, stake: f64) -> Value {
        let body = json!({"marketId": market_id, "selection": sel, "odds": odds, "stake": stake});
        let r = self.service("POST", "/api/bets/validate", Some(&body));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// `GET /api/markets/:id/settlement` once the market is settled and `pred` holds on it.
    pub fn settlement_when(&self, market_id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let path = format!("/api/markets/{market_id}/settlement");
        let deadline = std::time::Instant::now() + APPLIED;
        loop {
            let r = self.service("GET", &path, None);
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            let v = r.json();
            if v["settled"] == true && pred(&v) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "{path}: {v}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `POST /api/bets` of a bet by `user-1`, answered 201; returns the answer's body.
    pub fn record(&self, bet_id: &str, market_id: &str, sel: &str, odds: f64, stake: f64) -> Value {
        let r = self.service(
            "POST",
            "/api/bets",
            Some(&bet(bet_id, market_id, sel, odds, stake)),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()
    }

    /// `GET /api/bets/:id/settlement`, answered 200.
    pub fn grade(&self, bet_id: &str) -> Value {
        let r = self.service("GET", &format!("/api/bets/{bet_id}/settlement"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// The bet's grade once it is `settled`.
    pub fn graded(&self, bet_id: &str) -> Value {
        let deadline = std::time::Instant::now() + APPLIED;
        loop {
            let g = self.grade(bet_id);
            if g["status"] == "settled" {
                return g;
            }
            assert!(std::time::Instant::now() < deadline, "not graded: {g}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A `POST /api/bets` body by `user-1`.
pub fn bet(bet_id: &str, market_id: &str, sel: &str, odds: f64, stake: f64) -> Value {
    json!({"betId": bet_id, "userId": "user-1", "marketId": market_id, "selection": sel,
           "odds": odds, "stake": stake})
}
