//! The request gate: what every request passes before its handler runs.
//!
//! In order: the CORS verdict for its `Origin` (computed first so that every answer, refusals
//! included, carries the right CORS headers), the rate limit of its route's class (before
//! authentication, so guessing tokens costs budget too), a CORS preflight answered on the
//! spot, then the route's access rule. What passes gets [`Decor`], the headers to add to the
//! handler's response.
//!
//! One gate per shard: the rate-limit table is this shard's own (`RefCell`, no lock); the
//! verifier and policies are shared read-only by all shards.

use std::{cell::RefCell, sync::Arc};

use tracing::debug;

use super::routes::Policy;
use crate::{
    auth::{self, Auth, Grant},
    clock,
    config::{Config, RateLimitConfig},
    http::{Body, Cors, CorsHeaders, CorsVerdict, Method, RateLimitHeaders, Reply, Request},
    http::{Response, Status},
    ratelimit::{RateLimiter, TrustedProxies, UNKNOWN_PEER},
};

/// What every shard's gate is built from (`Send + Sync`, built once by `main`).
#[derive(Debug)]
pub(crate) struct GateConfig {
    /// Token verification and which routes need it.
    pub auth: Auth,
    /// The CORS policy.
    pub cors: Cors,
    /// `[rate_limit]` when enabled.
    pub rate_limit: Option<RateLimitConfig>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted: TrustedProxies,
}

/// One shard's gate.
pub(crate) struct Gate {
    config: Arc<GateConfig>,
    /// This shard's share of the limits; `None` when rate limiting is off.
    limiter: Option<RefCell<RateLimiter>>,
}

/// Headers the gate adds to the response of a request it let through.
#[derive(Debug, Default)]
pub(crate) struct Decor {
    cors: Option<CorsHeaders>,
    rate: Option<RateLimitHeaders>,
}

/// The gate's verdict.
pub(crate) enum Admission {
    /// Go on to the handler; decorate its response.
    Pass(Decor, Grant),
    /// Answered by the gate (429, 401, 403, a preflight): send this.
    Answer(Response),
}

// === impl GateConfig ===

impl GateConfig {
    /// The gate configuration of `config`.
    ///
    /// # Errors
    /// A message naming the `[auth]` key at fault (unreadable key file, ...).
    pub fn try_new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            auth: Auth::try_new(&config.auth, config.websocket.require_auth)?,
            cors: Cors::new(&config.cors),
            rate_limit: config.rate_limit.enabled.then(|| config.rate_limit.clone()),
            trusted: TrustedProxies::new(&config.rate_limit.trusted_proxies),
        })
    }
}

// === impl Gate ===

impl Gate {
    /// The gate of one of `nr_shards` shards.
    pub fn new(config: Arc<GateConfig>, nr_shards: usize) -> Self {
        let limiter = config
            .rate_limit
            .as_ref()
            .map(|rl| RefCell::new(RateLimiter::new(rl, nr_shards)));
        Self { config, limiter }
    }

    /// Judges one request for a route with `policy`.
    pub fn admit(&self, req: &Request<'_>, policy: Policy) -> Admission {
        let cors = self.config.cors.check(req.origin);
        let mut decor = Decor {
            cors: Cors::headers(&cors),
            rate: None,
        };
        if let Some(limiter) = &self.limiter {
            let peer = req.peer.unwrap_or(UNKNOWN_PEER);
            let client = self.config.trusted.client_ip(peer, req.forwarded_for);
            if let Some(verdict) = limiter.borrow_mut().check(client, policy.class) {
                decor.rate = Some(verdict.headers);
                if !verdict.allowed {
                    debug!(client = %client, path = req.path, "Rate limited");
                    let secs = verdict.headers.retry_after_secs.unwrap_or(1);
                    let msg = format!("rate limit exceeded: retry in {secs} s");
                    return Admission::Answer(
                        decor.apply(Response::refusal(Status::TOO_MANY_REQUESTS, &msg)),
                    );
                }
            }
        }
        if req.method == Method::Options {
            return Admission::Answer(self.options(cors, decor));
        }
        let now_ms = || clock::now().0;
        match self
            .config
            .auth
            .authorize(policy.access, req.authorization, req.query, now_ms)
        {
            Ok(grant) => Admission::Pass(decor, grant),
            Err(e) => {
                debug!(reason = %e, path = req.path, "Refused");
                Admission::Answer(decor.apply(auth::refusal(&e)))
            }
        }
    }

    /// `OPTIONS`: a CORS preflight from an allowed origin gets the preflight headers, one
    /// from another origin 403; a plain `OPTIONS` lists the methods.
    fn options(&self, cors: CorsVerdict, decor: Decor) -> Response {
        match cors {
            CorsVerdict::Allowed(origin) => {
                let r = Response::with_status(Status::NO_CONTENT, Body::Empty);
                Decor {
                    cors: Some(self.config.cors.preflight(&origin)),
                    ..decor
                }
                .apply(r)
            }
            CorsVerdict::Denied => decor.apply(Response::refusal(
                Status::FORBIDDEN,
                "origin not allowed by the CORS policy (cors.allowed_origins)",
            )),
            CorsVerdict::Off | CorsVerdict::SameOrigin => decor.apply(
                Response::with_status(Status::NO_CONTENT, Body::Empty)
                    .header("Allow: GET, HEAD, POST, OPTIONS".into()),
            ),
        }
    }
}

// === impl Decor ===

impl Decor {
    /// Adds the headers to `response`.
    pub fn apply(self, mut response: Response) -> Response {
        if self.cors.is_some() {
            response.cors = self.cors;
        }
        if self.rate.is_some() {
            response.rate_limit = self.rate;
        }
        response
    }

    /// Adds the headers to a handler's reply; a deferred reply is wrapped only when there is
    /// something to add.
    pub fn apply_to(self, reply: Reply) -> Reply {
        match reply {
            Reply::Ready(r) => Reply::Ready(self.apply(r)),
            Reply::Deferred(f) if self.cors.is_some() || self.rate.is_some() => {
                Reply::Deferred(Box::pin(async move { self.apply(f.await) }))
            }
            other => other,
        }
    }
}
