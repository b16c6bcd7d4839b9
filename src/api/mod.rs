//! The HTTP API: routing a request to its handler.
//!
//! Reads of match data are answered from this shard's read view on the spot. Endpoints that
//! need state only some shard has (polling tasks, provider statistics) are deferred: the shard
//! asks the others and answers when they reply.

mod admin;
mod bets;
mod gate;
mod ingest;
mod live;
mod openapi;
mod reads;
mod routes;

use std::rc::Rc;

use futures_lite::AsyncWriteExt;
use glommio::net::TcpStream;
use inplay_wire::json_depth::check_depth;

pub(crate) use live::valid_name;
#[cfg(test)]
pub(crate) use routes::ROUTES;

pub(crate) use gate::GateConfig;

use crate::{
    auth::Grant,
    http::{Method, Reply, Request, Response, Service, Status},
    shard::Shard,
};
use gate::{Admission, Gate};
use routes::{match_route, Matched, Policy, Route};

/// The API as served by one shard.
pub(crate) struct Api {
    shard: Rc<Shard>,
    /// CORS, rate limit and authentication, before any handler.
    gate: Gate,
}

impl Api {
    /// The API on `shard`.
    pub fn new(shard: Rc<Shard>) -> Self {
        let gate = Gate::new(shard.config.gate.clone(), shard.nr_shards);
        Self { shard, gate }
    }
}

impl Service for Api {
    fn record(&self, req: &Request<'_>, status: u16, elapsed: std::time::Duration) {
        let route = routes::route_label(req.method, req.path);
        self.shard.metrics.record(route, status, elapsed);
    }

    fn handshake_failed(&self) {
        self.shard.metrics.handshake_failed();
    }

    fn handed_over(&self) {
        self.shard.metrics.handed_over();
    }

    fn call(&self, req: &Request<'_>) -> Reply {
        let matched = match_route(req.method, req.path);
        let policy = match matched {
            Matched::Found(route, _) => route.policy(),
            _ => Policy::UNMATCHED,
        };
        match self.gate.admit(req, policy) {
            Admission::Answer(response) => Reply::Ready(response),
            Admission::Pass(decor, grant) => decor.apply_to(self.dispatch(req, matched, grant)),
        }
    }
}

// === impl Api ===

impl Api {
    /// Runs the handler of a request the gate let through.
    fn dispatch(&self, req: &Request<'_>, matched: Matched<'_>, grant: Grant) -> Reply {
        let (route, param) = match matched {
            Matched::Found(route, param) => (route, param),
            Matched::WrongMethod(allow) => {
                let msg = format!("method {} not allowed on {}", req.method_str, req.path);
                return Reply::Ready(
                    Response::error(Status::METHOD_NOT_ALLOWED, &msg)
                        .header(format!("Allow: {allow}")),
                );
            }
            Matched::NotFound => {
                let msg = format!("no route for {} {}", req.method_str, req.path);
                return Reply::Ready(Response::error(Status::NOT_FOUND, &msg));
            }
        };
        let shard = &self.shard;
        if req.method == Method::Post {
            // Before any parser runs: a deep body costs a byte scan, never a deep recursion.
            if let Err(too_deep) = check_depth(req.body, shard.config.max_json_depth) {
                return Reply::Ready(Response::invalid("body", &too_deep.to_string()));
            }
        }
        match route {
            Route::Score => Reply::Ready(reads::score(shard, param)),
            Route::Match => Reply::Ready(reads::match_detail(shard, param)),
            Route::Matches => Reply::Ready(reads::matches(shard, req.query, req.accept_gzip)),
            Route::MarketsBySport => {
                Reply::Ready(reads::markets(shard, param, req.query, req.accept_gzip))
            }
            Route::MarketOdds => Reply::Ready(reads::market_odds(shard, param)),
            Route::OpenApi => Reply::Ready(openapi::response()),
            Route::Metrics => Reply::Deferred(Box::pin(admin::metrics(shard.clone()))),
            Route::LiveWs => live::live(shard, req, param, grant),
            Route::MarketsWs => live::markets(shard, req, param, grant),
            Route::MuxWs => live::mux(shard, req, grant),
            Route::BetValidate => match crate::bets::ValidateRequest::parse(req.body) {
                Ok(v) => Reply::Deferred(Box::pin(bets::validate(shard.clone(), v))),
                Err(e) => Reply::Ready(bets::bad_field(&e)),
            },
            Route::BetRecord => {
                Reply::Deferred(Box::pin(bets::record(shard.clone(), req.body.to_vec())))
            }
            Route::BetSettlement => match reads::bad_param("betId", param) {
                Some(r) => Reply::Ready(r),
                None => Reply::Deferred(Box::pin(bets::bet_settlement(
                    shard.clone(),
                    param.to_owned(),
                ))),
            },
            Route::MarketSettlement => match reads::bad_param("marketId", param) {
                Some(r) => Reply::Ready(r),
                None => Reply::Deferred(Box::pin(bets::market_settlement(
                    shard.clone(),
                    param.to_owned(),
                ))),
            },
            Route::Ingest => Reply::Deferred(Box::pin(ingest::ingest(
                shard.clone(),
                param.to_owned(),
                req.query.to_owned(),
                req.body.to_vec(),
            ))),
            Route::Health => Reply::Deferred(Box::pin(admin::health(shard.clone()))),
            Route::ProvidersHealth => Reply::Deferred(Box::pin(admin::providers(shard.clone()))),
            Route::PollingStatus => Reply::Deferred(Box::pin(admin::polling_status(shard.clone()))),
            Route::PollingUpdate => match admin::parse_update(req.body, shard) {
                Ok((task_id, interval)) => Reply::Deferred(Box::pin(admin::polling_update(
                    shard.clone(),
                    task_id,
                    interval,
                ))),
                Err(r) => Reply::Ready(*r),
            },
        }
    }
}

/// Answers a connection over the per-shard limit with 503 and closes it.
pub(crate) async fn refuse_busy(mut stream: TcpStream) {
    let mut out = Vec::new();
    crate::http::encode_busy(&mut out);
    let _ = stream.write_all(&out).await;
}
