//! # inplay-fanout: a WebSocket fan-out load generator
//!
//! Opens N subscribers spread over M matches (`WS /live/<id>`, or `WS /ws` with a subscribe
//! message), publishes updates to each match through Redis (`PUBLISH match:<id> {…,"n":k,
//! "sentAt":µs}`) at a fixed rate from its own connection, and measures what arrives: delivered
//! messages per second, publish → receive latency (HDR histogram), losses, reorderings and
//! duplicates per subscriber, and the server's RSS (idle and busy) and CPU time. Both inplay and
//! the original service relay `match:<id>` publishes to their `/live/<id>` subscribers, so the
//! same run measures either.
//!
//! # Layout
//! * [`config`]: the command line.
//! * [`subscriber`]: one subscriber and what it receives.
//! * [`connection`]: its WebSocket connection (upgrade, reads, pongs, close).
//! * [`frame`]: what a received frame means; the published message.
//! * [`ws_client`]: the WebSocket client wire format (upgrade, frames) the subscribers speak.
//! * [`tally`]: one subscriber's account of update numbers (loss, order, duplicates).
//! * [`publisher`]: the paced Redis publisher (a plain thread, blocking connection).
//! * [`probe`]: RSS and CPU time from `/proc`.
//! * [`run`]: the phases of a run.
//! * [`report`]: the JSON line and the table.

pub mod clock;
pub mod config;
pub mod connection;
pub mod frame;
pub mod probe;
pub mod publisher;
pub mod report;
pub mod run;
pub mod subscriber;
pub mod tally;
pub mod ws_client;

pub use config::{Config, Endpoint, USAGE};
pub use report::Report;
pub use run::run;
