//! inplay's small HTTP/1.1 layer over `httparse`, the way ARCHITECTURE.md describes it:
//! keep-alive, pipelining answered in one batched write, strict limits, timeouts.

mod conn;
mod cors;
mod date;
pub(crate) mod request;
mod response;
mod tracker;

pub(crate) use conn::{serve, ConnConfig, Reply, Service};
pub(crate) use request::{query_pairs, Limits, Method, Request};

pub(crate) use cors::{Cors, CorsHeaders, CorsVerdict};
pub(crate) use response::{Body, CacheState, RateLimitHeaders, Response, Status};
pub(crate) use tracker::Tracker;
