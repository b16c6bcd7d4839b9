//! inplay's small HTTP/1.1 layer over `httparse`, the way ARCHITECTURE.md describes it:
//! keep-alive, pipelining answered in one batched write, strict limits, timeouts. The request
//! parser itself lives in `inplay-wire` (`wire/`), where it is fuzzed.

mod answer;
mod conn;
mod cors;
mod date;
mod epoll;
mod fast;
pub(crate) mod gzip;
mod response;
mod returns;
mod sock;
mod stream;
pub(crate) mod tls;
mod tracker;

pub(crate) use answer::encode_busy;
pub(crate) use conn::{serve, ConnConfig, Reply, Service};
pub(crate) use fast::FastPath;
pub(crate) use inplay_wire::{
    request::{query_pairs, Limits, Method, Request},
    Status,
};

pub(crate) use cors::{Cors, CorsHeaders, CorsVerdict};
pub(crate) use response::{Body, CacheState, Coding, Persist, RateLimitHeaders, Response};
pub(crate) use stream::Stream;
pub(crate) use tracker::Tracker;
