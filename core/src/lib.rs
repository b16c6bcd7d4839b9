//! inplay-core: the pure domain of inplay.
//!
//! Provider payloads come in as normalised [`Observation`]s; the aggregator turns them into one
//! truth per match and emits only real changes. Nothing here does I/O, spawns tasks or reads a
//! clock: time is always passed in as a [`Timestamp`], so every function is deterministic and
//! testable.
//!
//! # Layout
//! * `model`: ids, sports, teams, statuses, market keys, timestamps (the vocabulary).
//! * `odds`: price formats (decimal, American, fractional), implied probability, margins.
//! * `identity`: team-name normalisation, alias tables, the canonical match key and the
//!   registry that maps provider events to stable match ids within a start-time window.
//! * `observation`: what a provider said about one event at one moment.
//! * `feeds`: provider payloads (The Odds API, ESPN, API-Football, inplay native) parsed into
//!   observations.
//! * `aggregate`: per-match state; `apply(observation, now) -> changes`.
//! * `demo`: a deterministic simulated world and two simulated providers observing it.
#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms)]

pub mod aggregate;
pub mod demo;
pub mod feeds;
pub mod identity;
pub mod model;
pub mod observation;
pub mod odds;

pub use model::*;
pub use observation::{EventRef, Observation, ObservationBody};
