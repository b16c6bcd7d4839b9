//! The WebSocket endpoints' handshakes: validate the upgrade, then hand the connection to a
//! session on this shard.

use std::rc::Rc;

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use inplay_core::MatchId;

use crate::{
    http::{query_pairs, Reply, Request, Response, Status},
    shard::Shard,
    ws::{session, Topic},
};

/// `WS /live/:matchId`: every change of one match. Any well-formed id may be watched, as in
/// the original service (a match may appear after its subscribers).
pub(crate) fn live(shard: &Rc<Shard>, req: &Request<'_>, match_id: &str) -> Reply {
    if !valid_name(match_id) {
        return Reply::Ready(Response::error(Status::BAD_REQUEST, "invalid matchId"));
    }
    upgrade(shard, req, Topic::Match(MatchId::new(match_id)))
}

/// `WS /markets/:sport[?league=]`: market changes of a sport.
pub(crate) fn markets(shard: &Rc<Shard>, req: &Request<'_>, sport: &str) -> Reply {
    let league = query_pairs(req.query)
        .find(|(k, v)| k == "league" && !v.is_empty())
        .map(|(_, v)| v);
    if !valid_name(sport) || league.as_deref().is_some_and(|l| !valid_name(l)) {
        return Reply::Ready(Response::error(
            Status::BAD_REQUEST,
            "invalid sport or league",
        ));
    }
    let topic = Topic::Sport {
        sport: sport.into(),
        league: league.map(Into::into),
    };
    upgrade(shard, req, topic)
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn upgrade(shard: &Rc<Shard>, req: &Request<'_>, topic: Topic) -> Reply {
    if !req.upgrade_websocket {
        let msg = "this endpoint speaks WebSocket: send Upgrade: websocket";
        return Reply::Ready(
            Response::error(Status::UPGRADE_REQUIRED, msg).header("Upgrade: websocket".into()),
        );
    }
    if req.ws_version != Some(b"13".as_slice()) {
        return Reply::Ready(
            Response::error(
                Status::UPGRADE_REQUIRED,
                "unsupported WebSocket version; use 13",
            )
            .header("Sec-WebSocket-Version: 13".into()),
        );
    }
    let Some(key) = req.ws_key.filter(|k| k.len() == 24) else {
        return Reply::Ready(Response::error(
            Status::BAD_REQUEST,
            "missing or invalid Sec-WebSocket-Key",
        ));
    };
    let accept = derive_accept_key(key);
    let shard = shard.clone();
    Reply::Upgrade {
        accept,
        session: Box::new(move |stream| {
            Box::pin(async move {
                let hub = shard.hub.clone();
                let config = shard.config.ws;
                session::run(stream, topic, hub, config, || shard.draining()).await;
            })
        }),
    }
}
