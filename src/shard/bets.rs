//! The owner's side of the betting platform's contract: validation and settlement answered from
//! the authoritative match state, bets recorded durably, and grades written as markets settle.

use std::rc::Rc;

use inplay_core::Settlement;
use serde_json::{json, Value};
use tracing::{error, warn};

use super::Shard;
use crate::{
    bets::{
        check::{check, find_market, has_selection, result_of, settlement_json},
        split_market_id, Bet, BetCheck, BetJournal, ValidateRequest,
    },
    clock,
    io::Record,
};

/// The outcome of recording a bet: HTTP status and body.
pub(crate) type Recorded = (u16, Value);

impl Shard {
    /// Checks a bet against the market as this owner sees it now.
    pub(crate) fn validate_bet(&self, req: &ValidateRequest) -> BetCheck {
        let owned = self.owned.borrow();
        let market = split_market_id(&req.market_id)
            .and_then(|(m, suffix)| owned.state(m).and_then(|s| find_market(s, suffix)));
        check(
            &req.market_id,
            market,
            &req.selection,
            req.odds,
            req.stake,
            &self.config.bet_limits,
        )
    }

    /// A market's settlement, if this owner knows the market.
    pub(crate) fn market_settlement(&self, market_id: &str) -> Option<Value> {
        let owned = self.owned.borrow();
        let (m, suffix) = split_market_id(market_id)?;
        let market = owned.state(m).and_then(|s| find_market(s, suffix))?;
        Some(settlement_json(market_id, market))
    }

    /// Records a bet: durable in the journal before it is acknowledged; the same bet id again
    /// answers the same, a different bet under a used id is a conflict.
    pub(crate) async fn record_bet(self: Rc<Self>, bet: Bet) -> Recorded {
        // One recording at a time per shard: the duplicate check and the insert stay atomic
        // across the journal write.
        let Ok(_permit) = self.bet_lock.acquire_permit(1).await else {
            return unavailable("shutting down");
        };
        if let Some(existing) = self.bets.borrow().get(&bet.bet_id) {
            return if existing.same_as(&bet) {
                (201, bet_json(existing))
            } else {
                let msg = "betId already recorded with different details";
                (409, json!({"error": msg, "field": "betId"}))
            };
        }
        let known = {
            let owned = self.owned.borrow();
            let market = split_market_id(&bet.market_id)
                .and_then(|(m, suffix)| owned.state(m).and_then(|s| find_market(s, suffix)));
            match market {
                None => Some((
                    404,
                    json!({"error": "Market not found", "field": "marketId"}),
                )),
                Some(m) => (!has_selection(m, &bet.selection)).then(|| {
                    let msg = "no such selection in this market";
                    (400, json!({"error": msg, "field": "selection"}))
                }),
            }
        };
        if let Some(refused) = known {
            return refused;
        }
        let Some(journal) = self.bet_journal.borrow().clone() else {
            return unavailable("the bet journal is not available (see the server log)");
        };
        if let Err(e) = journal.append_bet(&bet).await {
            error!(error = %e, bet = %bet.bet_id, "Bet journal write failed; bet not recorded");
            return unavailable("the bet could not be stored; retry");
        }
        let body = bet_json(&bet);
        let market_id = bet.market_id.clone();
        self.io_out.record(Record::bet(&bet, clock::now().millis()));
        self.bets.borrow_mut().insert(bet);
        // A bet on a market that has already settled is graded at once.
        self.settled_since(vec![market_id]);
        (201, body)
    }

    /// Markets settled (or re-settled): their bets are graded by [`Shard::grade_loop`].
    pub(crate) fn settled_since(&self, markets: Vec<String>) {
        if markets.is_empty() || self.bets.borrow().len() == 0 {
            return;
        }
        self.pending_grades.borrow_mut().extend(markets);
        let _ = self.grade_wake.0.try_send(());
    }

    /// Grades bets as their markets settle, until the shard stops.
    pub(crate) async fn grade_loop(self: Rc<Self>) {
        while self.grade_wake.1.recv().await.is_ok() {
            let markets = std::mem::take(&mut *self.pending_grades.borrow_mut());
            self.grade(markets).await;
        }
    }

    /// Grades the bets on freshly settled `markets`, journaling each grade before noting it.
    async fn grade(&self, markets: Vec<String>) {
        let mut grades: Vec<(String, Settlement)> = Vec::new();
        {
            let owned = self.owned.borrow();
            let book = self.bets.borrow();
            for market_id in &markets {
                let Some((m, suffix)) = split_market_id(market_id) else {
                    continue;
                };
                let Some(market) = owned.state(m).and_then(|s| find_market(s, suffix)) else {
                    continue;
                };
                grades.extend(book.regrade(market_id, |sel| result_of(market, sel)));
            }
        }
        if grades.is_empty() {
            return;
        }
        let Some(journal) = self.bet_journal.borrow().clone() else {
            warn!("Bets settled but the bet journal is unavailable: grades kept in memory only");
            let at = clock::now().to_iso();
            for (id, result) in grades {
                self.bets.borrow_mut().set_grade(&id, result, at.clone());
            }
            return;
        };
        for (id, result) in grades {
            let at = clock::now().to_iso();
            if let Err(e) = journal.append_grade(&id, result, &at).await {
                error!(error = %e, bet = %id, "Bet grade not journaled; re-derived at the next settlement change");
            }
            self.io_out.record(Record::BetGrade {
                bet_id: id.clone(),
                result: result.as_str().into(),
                at_ms: clock::now().millis(),
            });
            self.bets.borrow_mut().set_grade(&id, result, at);
        }
    }

    /// Opens this shard's bet journal (at start-up).
    pub(crate) async fn open_bet_journal(&self) {
        match BetJournal::open(&self.config.bets_dir, self.id).await {
            Ok(j) => *self.bet_journal.borrow_mut() = Some(Rc::new(j)),
            Err(e) => error!(
                error = %e,
                dir = %self.config.bets_dir.display(),
                "Cannot open the bet journal: POST /api/bets answers 503 until restarted"
            ),
        }
    }
}

fn bet_json(bet: &Bet) -> Value {
    let mut v = serde_json::to_value(bet).unwrap_or(Value::Null);
    v["status"] = "recorded".into();
    v
}

fn unavailable(msg: &str) -> Recorded {
    (503, json!({ "error": msg }))
}
