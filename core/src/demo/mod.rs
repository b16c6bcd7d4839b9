//! The built-in demo feed: a deterministic simulated world and two providers observing it.
//!
//! `cargo run` with no external service must still serve moving, realistic data, and the
//! aggregator needs two feeds that sometimes disagree to have something to merge. The world is
//! a pure function of (seed, epoch, now): [`World`] is immutable after [`World::new`], every
//! query computes the state at `now` from scratch, and so any shard may poll any
//! (provider, league) at any time without shared mutable state.
//!
//! # Layout
//! * `rng`: splitmix64 hashing, the only source of "randomness".
//! * `rules`: compressed periods, breaks, scoring and overtime per sport.
//! * `catalog`: leagues and teams ([`LeagueDef`]).
//! * `world`: slots, rolling fixtures, pairings ([`World`], [`DemoConfig`]).
//! * `timeline`: the true state of a fixture at an instant.
//! * `outlook`, `markets`: fair probabilities, lines, settlement.
//! * `profile`: the providers ([`ProviderProfile`]) and poll outcomes ([`PollOutcome`]).
//! * `report`: what a provider says in one poll (lag, staleness, margin, noise, line shifts).

mod catalog;
mod markets;
mod outlook;
mod profile;
mod report;
mod rng;
mod rules;
mod timeline;
mod world;

#[cfg(test)]
mod tests;

pub use catalog::LeagueDef;
pub use profile::{PollOutcome, ProviderProfile};
pub use world::{DemoConfig, World, MAX_SLOTS};
