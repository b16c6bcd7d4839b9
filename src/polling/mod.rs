//! Polling: which tasks exist, where they run, how often, and how their providers are doing.

mod health;
mod task;

pub(crate) use health::{merge_health, ProviderStats};
pub(crate) use task::{task_shard, PollTask, TaskStatus};
