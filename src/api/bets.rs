//! The betting platform's routes (role `service`): `POST /api/bets/validate`,
//! `GET /api/markets/:marketId/settlement`, `POST /api/bets`, `GET /api/bets/:betId/settlement`.
//!
//! Each question about a market is routed to the owner shard of its match and answered from
//! the authoritative state there (one in-memory hop at most; a validation takes microseconds).

use std::rc::Rc;

use inplay_core::{identity::owner_of_match_id, MatchId};
use serde_json::{json, Value};

use crate::{
    bets::{self, check::check, split_market_id, FieldError, ValidateRequest},
    clock,
    http::{Response, Status},
    shard::{Answer, Query, Shard, ShardMsg},
};

/// 400 `{"error", "field"}`.
pub(crate) fn bad_field(e: &FieldError) -> Response {
    Response::invalid(e.field, &e.message)
}

fn json_status(status: Status, v: &Value) -> Response {
    let mut r = Response::json_value(v);
    r.status = status;
    r
}

/// The shard that owns the market's match (`None`: not an id inplay assigns, so unknown).
fn owner(shard: &Shard, market_id: &str) -> Option<usize> {
    let (match_id, _) = split_market_id(market_id)?;
    owner_of_match_id(&MatchId::new(match_id), shard.nr_shards)
}

/// `POST /api/bets/validate`: `{marketId, selection, odds, stake}` →
/// `{valid, currentOdds, marketSuspended, reason, …}`.
pub(crate) async fn validate(shard: Rc<Shard>, req: ValidateRequest) -> Response {
    let answer = match owner(&shard, &req.market_id) {
        Some(o) => shard.ask(o, Query::ValidateBet(req.clone())).await,
        None => None,
    };
    let checked = match answer {
        Some(Answer::BetCheck(c)) => c,
        _ => check(
            &req.market_id,
            None,
            &req.selection,
            req.odds,
            req.stake,
            &shard.config.bet_limits,
        ),
    };
    Response::json_value(&checked)
}

/// `GET /api/markets/:marketId/settlement`.
pub(crate) async fn market_settlement(shard: Rc<Shard>, market_id: String) -> Response {
    let answer = match owner(&shard, &market_id) {
        Some(o) => shard.ask(o, Query::MarketSettlement(market_id)).await,
        None => None,
    };
    match answer {
        Some(Answer::Json(Some(v))) => Response::json_value(&v),
        _ => Response::error(Status::NOT_FOUND, "Market not found"),
    }
}

/// `POST /api/bets`: 201 once the bet is durable; the same bet again answers the same.
pub(crate) async fn record(shard: Rc<Shard>, body: Vec<u8>) -> Response {
    let bet = match bets::parse_bet(&body, &clock::now().to_iso()) {
        Ok(b) => b,
        Err(e) => return bad_field(&e),
    };
    let Some(o) = owner(&shard, &bet.market_id) else {
        let v = json!({"error": "Market not found", "field": "marketId"});
        return json_status(Status::NOT_FOUND, &v);
    };
    let recorded = if o == shard.id {
        Some(shard.clone().record_bet(bet).await)
    } else {
        let (tx, rx) = futures_channel::oneshot::channel();
        let sent = shard.inboxes[o].send(ShardMsg::RecordBet(bet, tx)).await;
        match sent {
            Ok(()) => rx.await.ok(),
            Err(_) => None,
        }
    };
    match recorded {
        Some((code, v)) => json_status(status_of(code), &v),
        None => Response::error(Status::UNAVAILABLE, "shutting down"),
    }
}

/// `GET /api/bets/:betId/settlement`: the bet and its grade once its market settles.
pub(crate) async fn bet_settlement(shard: Rc<Shard>, bet_id: String) -> Response {
    let found = shard
        .gather(|| Query::BetSettlement(bet_id.clone()))
        .await
        .into_iter()
        .find_map(|a| match a {
            Answer::Json(Some(v)) => Some(v),
            _ => None,
        });
    match found {
        Some(v) => Response::json_value(&v),
        None => Response::error(Status::NOT_FOUND, "Bet not found"),
    }
}

fn status_of(code: u16) -> Status {
    match code {
        201 => Status::CREATED,
        400 => Status::BAD_REQUEST,
        404 => Status::NOT_FOUND,
        409 => Status::CONFLICT,
        503 => Status::UNAVAILABLE,
        _ => Status::INTERNAL,
    }
}
