//! Polling: which tasks exist, where they run and how often.

mod interval;
mod task;

pub(crate) use interval::{effective, resolve};
pub(crate) use task::{task_shard, PollTask, TaskStatus};
