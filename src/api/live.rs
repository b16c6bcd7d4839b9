//! The WebSocket endpoints' handshakes: validate the upgrade, claim the client's share of the
//! per-address caps, then hand the connection to a session on this shard.

use std::{
    rc::Rc,
    time::{Duration, Instant},
};

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use inplay_core::MatchId;
pub(crate) use inplay_wire::valid_name;

use crate::{
    auth::Grant,
    clock,
    http::{query_pairs, Method, Reply, Request, Response, Status},
    ratelimit::UNKNOWN_PEER,
    shard::Shard,
    ws::{
        caps::Permit,
        mux::Mux,
        one_topic::OneTopic,
        outbox::Outbox,
        session::{self, Handler},
        Topic,
    },
};

/// `WS /live/:matchId`: every change of one match. Any well-formed id may be watched, as in
/// the original service (a match may appear after its subscribers).
pub(crate) fn live(shard: &Rc<Shard>, req: &Request<'_>, match_id: &str, grant: Grant) -> Reply {
    if !valid_name(match_id) {
        return Reply::Ready(Response::invalid("matchId", INVALID_NAME));
    }
    one_topic(shard, req, Topic::Match(MatchId::new(match_id)), grant)
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
    one_topic(shard, req, topic, grant)
}

/// `WS /ws`: many subscriptions on one connection, with snapshots and recovery. It starts with
/// none; each subscribe claims one from the client's cap.
pub(crate) fn mux(shard: &Rc<Shard>, req: &Request<'_>, grant: Grant) -> Reply {
    upgrade(shard, req, grant, false, Mux::new)
}

/// `/live` and `/markets`: the session's one topic counts as one subscription of its client.
fn one_topic(shard: &Rc<Shard>, req: &Request<'_>, topic: Topic, grant: Grant) -> Reply {
    upgrade(shard, req, grant, true, move |shard, out, permit| {
        OneTopic::join(shard, topic, out, permit)
    })
}

/// What a path or query name that is not a [`valid_name`] gets told.
const INVALID_NAME: &str =
    "invalid name: 1 to 128 letters, digits, or - _ . : (e.g. premier-league)";

/// Longest a token can keep a session open (a year): far-future `exp` values stay far from
/// `Instant` overflow.
const MAX_SESSION_MS: u64 = 365 * 24 * 3600 * 1000;

/// Validates the handshake, claims a connection (and, with `subscribed`, one subscription) of
/// the client's caps, and hands the upgraded stream to a session with the handler `handler`
/// builds. Over a cap: 429. A session opened with a token ends when the token does
/// (`grant.valid_until_ms`), with close code 4001.
fn upgrade<H: Handler + 'static>(
    shard: &Rc<Shard>,
    req: &Request<'_>,
    grant: Grant,
    subscribed: bool,
    handler: impl FnOnce(Rc<Shard>, Rc<Outbox>, Permit) -> H + 'static,
) -> Reply {
    let key = match handshake_key(req) {
        Ok(key) => key,
        Err(refusal) => return Reply::Ready(*refusal),
    };
    let peer = req.peer.unwrap_or(UNKNOWN_PEER);
    let client = shard.config.gate.trusted.client_ip(peer, req.forwarded_for);
    let claimed = shard.config.ws_caps.connect(client).and_then(|permit| {
        if subscribed {
            permit.subscribe()?;
        }
        Ok(permit)
    });
    let permit = match claimed {
        Ok(permit) => permit,
        Err(over) => {
            let refusal = Response::refusal(Status::TOO_MANY_REQUESTS, &over.to_string());
            return Reply::Ready(refusal);
        }
    };
    let expires_at = grant.valid_until_ms.map(|until| {
        let left = u64::try_from(until.saturating_sub(clock::now().0)).unwrap_or(0);
        Instant::now() + Duration::from_millis(left.min(MAX_SESSION_MS))
    });
    let shard = shard.clone();
    Reply::Upgrade {
        accept: derive_accept_key(key),
        // Dropped unrun if the upgrade fails: the permit goes back with it.
        session: Box::new(move |stream| {
            Box::pin(async move {
                let config = shard.config.ws;
                let out = Rc::new(Outbox::new(
                    &stream,
                    config.send_queue,
                    config.send_queue_bytes,
                ));
                // Before the handler: a drain must reach the session whether or not it ever
                // subscribes.
                let _open = shard.hub.open(&out);
                let handler = handler(shard.clone(), out.clone(), permit);
                let draining = || shard.draining();
                session::run(stream, handler, out, config, expires_at, draining).await;
            })
        }),
    }
}

/// The `Sec-WebSocket-Key` of a well-formed upgrade request, or the refusal (boxed: the
/// error path is rare, the value large).
fn handshake_key<'r>(req: &Request<'r>) -> Result<&'r [u8], Box<Response>> {
    if !req.upgrade_websocket {
        let msg = "this endpoint speaks WebSocket: send Upgrade: websocket";
        return Err(Box::new(
            Response::error(Status::UPGRADE_REQUIRED, msg).header("Upgrade: websocket".into()),
        ));
    }
    if req.ws_version != Some(b"13".as_slice()) {
        let msg = "unsupported WebSocket version; use 13";
        return Err(Box::new(
            Response::error(Status::UPGRADE_REQUIRED, msg)
                .header("Sec-WebSocket-Version: 13".into()),
        ));
    }
    // RFC 6455 §4.2.1: a GET, with `Connection: Upgrade`, and a key that is 16 bytes in base64.
    if req.method != Method::Get {
        let msg = "a WebSocket handshake is a GET request";
        return Err(Box::new(Response::error(Status::BAD_REQUEST, msg)));
    }
    if !req.connection_upgrade {
        let msg = "a WebSocket handshake needs Connection: Upgrade";
        return Err(Box::new(Response::error(Status::BAD_REQUEST, msg)));
    }
    req.ws_key.filter(|k| is_ws_key(k)).ok_or_else(|| {
        Box::new(Response::invalid(
            "Sec-WebSocket-Key",
            "missing or invalid Sec-WebSocket-Key: 16 bytes in base64",
        ))
    })
}

/// 16 bytes in base64: 22 characters of the alphabet, the last one holding only two bits, then
/// `==`.
fn is_ws_key(key: &[u8]) -> bool {
    let is_b64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    key.len() == 24
        && key[..22].iter().all(is_b64)
        && matches!(key[21], b'A' | b'Q' | b'g' | b'w')
        && &key[22..] == b"=="
}
