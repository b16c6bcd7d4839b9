//! The read view: pre-serialised JSON of every match, replicated on every shard.

mod list_cache;
mod market_json;
mod render;
mod store;

pub(crate) use render::{render, MatchRender};
pub(crate) use store::{ListKey, ViewStore};
