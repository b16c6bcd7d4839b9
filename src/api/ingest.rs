//! `POST /api/ingest/:providerId` (role `service`): a configured provider pushes a payload in
//! its own format, read exactly like one of its polled responses: parsed on this shard, routed
//! to the owners of its matches, and counted in the provider's health.
//!
//! Which of a provider's formats a push is: The Odds API `?endpoint=odds|scores` (without it, a
//! body naming `"bookmakers"` is odds, anything else scores); ESPN `?feed=sport/league` (the
//! scoreboard's URL path, which the payload does not repeat); API-Football fixtures; native.

use std::{rc::Rc, time::Instant};

use serde_json::json;

use crate::{
    clock,
    config::ProviderKind,
    http::{query_pairs, Response, Status},
    providers::{interpret, Endpoint, Verdict},
    shard::Shard,
};

/// Warnings quoted back to the pusher.
const MAX_WARNINGS: usize = 10;

fn error(status: Status, message: &str, field: &str) -> Response {
    let mut r = Response::json_value(&json!({"error": message, "field": field}));
    r.status = status;
    r
}

/// Handles one push.
pub(crate) async fn ingest(
    shard: Rc<Shard>,
    provider: String,
    query: String,
    body: Vec<u8>,
) -> Response {
    let board = shard.config.board.clone();
    let Some(index) = board.index(&provider) else {
        let msg = format!("no enabled provider {provider:?} is configured");
        return error(Status::NOT_FOUND, &msg, "providerId");
    };
    let Some(source) = board.entry(index).source.as_ref() else {
        return error(
            Status::BAD_REQUEST,
            "the built-in demo providers take no pushes",
            "providerId",
        );
    };
    let mut endpoint_param = None;
    let mut feed_param = None;
    for (k, v) in query_pairs(&query) {
        match k.as_str() {
            "endpoint" => endpoint_param = Some(v),
            "feed" => feed_param = Some(v),
            _ => {}
        }
    }
    let endpoint = match (source.config.kind, endpoint_param.as_deref()) {
        (ProviderKind::TheOddsApi, Some("odds")) => Endpoint::OddsApiOdds,
        (ProviderKind::TheOddsApi, Some("scores")) => Endpoint::OddsApiScores,
        (ProviderKind::TheOddsApi, Some(_)) => {
            return error(
                Status::BAD_REQUEST,
                "endpoint must be \"odds\" or \"scores\"",
                "endpoint",
            );
        }
        (ProviderKind::TheOddsApi, None) if contains(&body, b"\"bookmakers\"") => {
            Endpoint::OddsApiOdds
        }
        (ProviderKind::TheOddsApi, None) => Endpoint::OddsApiScores,
        (ProviderKind::Espn, _) => Endpoint::EspnScoreboard,
        (ProviderKind::ApiFootball, _) => Endpoint::ApiFootballFixtures,
        (ProviderKind::Native, _) => Endpoint::Native,
        (ProviderKind::Demo, _) => {
            let msg = "the built-in demo providers take no pushes";
            return error(Status::BAD_REQUEST, msg, "providerId");
        }
    };
    let started = Instant::now();
    let now = clock::now();
    let mut ctx = source.context(None, now);
    if endpoint == Endpoint::EspnScoreboard {
        let Some((sport, league)) = feed_param.as_deref().and_then(|f| f.split_once('/')) else {
            return error(
                Status::BAD_REQUEST,
                "feed must be the scoreboard's \"sport/league\", e.g. football/nfl",
                "feed",
            );
        };
        ctx = ctx.with_sport(sport, league);
    }
    let reading = interpret::parse(endpoint, &body, &ctx);
    let latency_ms = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
    board.record(
        index,
        reading.verdict,
        latency_ms,
        now,
        reading.error.clone(),
    );
    let Some(report) = reading.report.filter(|_| reading.verdict == Verdict::Ok) else {
        let msg = reading.error.unwrap_or_else(|| "payload refused".into());
        return error(Status::BAD_REQUEST, &msg, "body");
    };
    let accepted = report.observations.len();
    let warnings: Vec<&String> = report.warnings.iter().take(MAX_WARNINGS).collect();
    let body = json!({
        "provider": provider,
        "accepted": accepted,
        "rejected": report.rejected,
        "warnings": warnings,
    });
    shard.route(report.observations).await;
    let mut r = Response::json_value(&body);
    r.status = Status::ACCEPTED;
    r
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
