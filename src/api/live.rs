//! The WebSocket endpoints' handshakes: validate the upgrade, then hand the connection to a
//! session on this shard.

use std::{
    future::Future,
    pin::Pin,
    rc::Rc,
    time::{Duration, Instant},
};

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use inplay_core::MatchId;
pub(crate) use inplay_wire::valid_name;

use crate::{
    auth::Grant,
    clock,
    http::{query_pairs, Reply, Request, Response, Status},
    shard::Shard,
    ws::{mux::Mux, one_topic::OneTopic, session, Topic},
};
use glommio::net::TcpStream;

/// A WebSocket session, started once the handshake is answered.
type SessionFuture = Pin<Box<dyn Future<Output = ()>>>;

/// `WS /live/:matchId`: every change of one match. Any well-formed id may be watched, as in
/// the original service (a match may appear after its subscribers).
pub(crate) fn live(shard: &Rc<Shard>, req: &Request<'_>, match_id: &str, grant: Grant) -> Reply {
    if !valid_name(match_id) {
        return Reply::Ready(Response::invalid("matchId", INVALID_NAME));
    }
    upgrade(shard, req, Topic::Match(MatchId::new(match_id)), grant)
}

/// `WS /markets/:sport[?league=]`: market changes of a sport.
pub(crate) fn markets(shard: &Rc<Shard>, req: &Request<'_>, sport: &str, grant: Grant) -> Reply {
    let league = query_pairs(req.query)
        .find(|(k, v)| k == "league" && !v.is_empty())
        .map(|(_, v)| v);
    if !valid_name(sport) {
        return Reply::Ready(Response::invalid("sport", INVALID_NAME));
    }
    if league.as_deref().is_some_and(|l| !valid_name(l)) {
        return Reply::Ready(Response::invalid("league", INVALID_NAME));
    }
    let topic = Topic::Sport {
        sport: sport.into(),
        league: league.map(Into::into),
    };
    upgrade(shard, req, topic, grant)
}

/// `WS /ws`: many subscriptions on one connection, with snapshots and recovery.
pub(crate) fn mux(shard: &Rc<Shard>, req: &Request<'_>, grant: Grant) -> Reply {
    let shard = shard.clone();
    upgrade_with(req, grant, move |stream, expires_at| {
        Box::pin(async move {
            let config = shard.config.ws;
            let (queue, queue_rx) = session::queue(&config);
            let handler = Mux::new(shard.clone(), queue);
            let draining = || shard.draining();
            session::run(stream, handler, queue_rx, config, expires_at, draining).await;
        })
    })
}

/// What a path or query name that is not a [`valid_name`] gets told.
const INVALID_NAME: &str =
    "invalid name: 1 to 128 letters, digits, or - _ . : (e.g. premier-league)";

/// Longest a token can keep a session open (a year): far-future `exp` values stay far from
/// `Instant` overflow.
const MAX_SESSION_MS: u64 = 365 * 24 * 3600 * 1000;

fn upgrade(shard: &Rc<Shard>, req: &Request<'_>, topic: Topic, grant: Grant) -> Reply {
    let shard = shard.clone();
    upgrade_with(req, grant, move |stream, expires_at| {
        Box::pin(async move {
            let config = shard.config.ws;
            let (queue, queue_rx) = session::queue(&config);
            let handler = OneTopic::join(shard.clone(), topic, queue);
            let draining = || shard.draining();
            session::run(stream, handler, queue_rx, config, expires_at, draining).await;
        })
    })
}

/// Validates the handshake and hands the upgraded stream to `session`. A session opened with a
/// token ends when the token does (`grant.valid_until_ms`), with close code 4001.
fn upgrade_with(
    req: &Request<'_>,
    grant: Grant,
    session: impl FnOnce(TcpStream, Option<Instant>) -> SessionFuture + 'static,
) -> Reply {
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
        return Reply::Ready(Response::invalid(
            "Sec-WebSocket-Key",
            "missing or invalid Sec-WebSocket-Key",
        ));
    };
    let expires_at = grant.valid_until_ms.map(|until| {
        let left = u64::try_from(until.saturating_sub(clock::now().0)).unwrap_or(0);
        Instant::now() + Duration::from_millis(left.min(MAX_SESSION_MS))
    });
    Reply::Upgrade {
        accept: derive_accept_key(key),
        session: Box::new(move |stream| session(stream, expires_at)),
    }
}
