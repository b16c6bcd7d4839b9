//! Reads of match data, answered from this shard's read view without a lock or a hop.

use inplay_core::MatchStatus;

use crate::{
    http::{query_pairs, Body, CacheState, Coding, Response, Status},
    shard::Shard,
    view::{ListKey, ViewStore},
};

/// Longest id or name accepted in a path or query parameter.
const MAX_PARAM: usize = 128;

/// 400 naming `name` if `value` is too long or holds control characters.
pub(crate) fn bad_param(name: &str, value: &str) -> Option<Response> {
    if value.len() > MAX_PARAM || value.bytes().any(|b| b.is_ascii_control()) {
        let msg = format!("invalid {name}: at most {MAX_PARAM} characters, no control characters");
        return Some(Response::invalid(name, &msg));
    }
    None
}

/// `GET /api/scores/:matchId`.
pub(crate) fn score(shard: &Shard, match_id: &str) -> Response {
    if let Some(r) = bad_param("matchId", match_id) {
        return r;
    }
    match shard.view.borrow().get(match_id) {
        Some(m) => Response::json(Body::Shared(m.score.clone())),
        None => Response::error(Status::NOT_FOUND, "Match not found"),
    }
}

/// `GET /api/matches/:matchId`: score and every market.
pub(crate) fn match_detail(shard: &Shard, match_id: &str) -> Response {
    if let Some(r) = bad_param("matchId", match_id) {
        return r;
    }
    match shard.view.borrow().get(match_id) {
        Some(m) => Response::json(Body::Owned(m.detail())),
        None => Response::error(Status::NOT_FOUND, "Match not found"),
    }
}

/// `GET /api/markets/:marketId/odds`.
pub(crate) fn market_odds(shard: &Shard, market_id: &str) -> Response {
    if let Some(r) = bad_param("marketId", market_id) {
        return r;
    }
    match shard.view.borrow().market(market_id) {
        Some(body) => Response::json(Body::SharedAcrossShards(body.clone())),
        None => Response::error(Status::NOT_FOUND, "Market not found"),
    }
}

/// `GET /api/markets/:sport?league=&limit=`; `accept_gzip` from the request's `Accept-Encoding`.
pub(crate) fn markets(shard: &Shard, sport: &str, query: &str, accept_gzip: bool) -> Response {
    if let Some(r) = bad_param("sport", sport) {
        return r;
    }
    let mut league = None;
    let mut limit = shard.config.markets_default_limit;
    for (k, v) in query_pairs(query) {
        match k.as_str() {
            "league" if !v.is_empty() => league = Some(v),
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=shard.config.markets_max_limit).contains(&n) => limit = n,
                _ => {
                    let max = shard.config.markets_max_limit;
                    let msg = format!("limit must be an integer from 1 to {max}");
                    return Response::invalid("limit", &msg);
                }
            },
            _ => {}
        }
    }
    if let Some(r) = league.as_deref().and_then(|l| bad_param("league", l)) {
        return r;
    }
    let view = shard.view.borrow();
    if !view.has_sport(sport) {
        return Response::error(Status::NOT_FOUND, &format!("Unknown sport: {sport}"));
    }
    let key = ListKey::Markets {
        sport: sport.into(),
        league: league.map(Into::into),
        limit,
    };
    list_response(shard, &view, key, accept_gzip)
}

/// `GET /api/matches?sport=&league=&status=`; `accept_gzip` as for [`markets`].
pub(crate) fn matches(shard: &Shard, query: &str, accept_gzip: bool) -> Response {
    let (mut sport, mut league, mut status) = (None, None, None);
    for (k, v) in query_pairs(query) {
        let name = match k.as_str() {
            name @ ("sport" | "league" | "status") if !v.is_empty() => name,
            _ => continue, // unknown and empty parameters are ignored
        };
        if let Some(r) = bad_param(name, &v) {
            return r;
        }
        match name {
            "sport" => sport = Some(v.into_boxed_str()),
            "league" => league = Some(v.into_boxed_str()),
            _ => match MatchStatus::parse(&v) {
                Some(s) => status = Some(s),
                None => {
                    return Response::invalid(
                        "status",
                        "status must be one of scheduled, live, halftime, finished, postponed, cancelled",
                    )
                }
            },
        }
    }
    let key = ListKey::Matches {
        sport,
        league,
        status,
    };
    list_response(shard, &shard.view.borrow(), key, accept_gzip)
}

/// A cached list as a response: `X-Cache`, and gzip-compressed when the client accepts it and
/// `http.gzip` is on (then the body depends on `Accept-Encoding`, which `Vary` says).
fn list_response(shard: &Shard, view: &ViewStore, key: ListKey, accept_gzip: bool) -> Response {
    let negotiable = shard.config.gzip;
    let list = view.list(key, negotiable && accept_gzip);
    let coding = match (negotiable, list.gzip) {
        (false, _) => Coding::Fixed,
        (true, false) => Coding::Identity,
        (true, true) => Coding::Gzip,
    };
    let cache = if list.hit {
        CacheState::Hit
    } else {
        CacheState::Miss
    };
    Response::json(Body::Shared(list.body))
        .cached(cache)
        .coded(coding)
}
