//! Starting the shards: one pinned glommio executor per configured cpu, each binding the
//! shared port (SO_REUSEPORT) and running its [`Shard`].

use std::{net::SocketAddr, rc::Rc, sync::mpsc, time::Duration};

use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use tracing::info;

use super::{Shard, ShardConfig};
use crate::error::StartError;

/// Inbox capacity per shard, in messages (each message is a batch).
const INBOX_CAPACITY: usize = 1024;

/// The running shards.
pub(crate) struct ShardSetHandle {
    /// Where the shards listen (the real port when 0 was asked for).
    pub addr: SocketAddr,
    drain_txs: Vec<async_channel::Sender<()>>,
    inboxes: Vec<async_channel::Sender<super::ShardMsg>>,
    handles: Vec<ExecutorJoinHandle<()>>,
}

/// Starts one shard per entry of `cpus` (`None` = unpinned) and waits until every shard is
/// listening on `config.addr`.
///
/// # Errors
/// [`StartError`] if an executor cannot start (io_uring, locked memory) or a shard cannot bind.
pub(crate) fn start_shards(
    config: ShardConfig,
    cpus: &[Option<usize>],
) -> Result<ShardSetHandle, StartError> {
    let nr_shards = cpus.len();
    let (inbox_txs, inbox_rxs): (Vec<_>, Vec<_>) = (0..nr_shards)
        .map(|_| async_channel::bounded(INBOX_CAPACITY))
        .unzip();
    let (drain_txs, drain_rxs): (Vec<_>, Vec<_>) =
        (0..nr_shards).map(|_| async_channel::bounded(1)).unzip();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
    let mut handles = Vec::with_capacity(nr_shards);
    for (shard_id, ((inbox_rx, drain_rx), cpu)) in inbox_rxs
        .into_iter()
        .zip(drain_rxs)
        .zip(cpus.iter().copied())
        .enumerate()
    {
        let placement = cpu.map_or(Placement::Unbound, Placement::Fixed);
        let (config, inboxes, ready_tx) = (config.clone(), inbox_txs.clone(), ready_tx.clone());
        let builder = LocalExecutorBuilder::new(placement)
            .name(&format!("shard-{shard_id}"))
            .io_memory(config.io_memory)
            .preempt_timer(Duration::from_millis(50));
        let handle = builder
            .spawn(move || async move {
                let listener = match super::accept::bind(config.addr) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!(
                            "shard {shard_id} cannot bind {}: {e}",
                            config.addr
                        )));
                        return;
                    }
                };
                info!(shard = shard_id, cpu = ?cpu, "Shard started");
                let _ = ready_tx.send(Ok(shard_id));
                let shard = Rc::new(Shard::new(shard_id, config, inboxes));
                shard.run(listener, inbox_rx, drain_rx).await;
            })
            .map_err(|e| StartError::Executor(e.to_string()))?;
        handles.push(handle);
    }
    drop(ready_tx);
    for _ in 0..nr_shards {
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(_)) => {}
            Ok(Err(msg)) => return Err(StartError::Bind(msg)),
            Err(_) => return Err(StartError::Executor("a shard did not start".into())),
        }
    }
    Ok(ShardSetHandle {
        addr: config.addr,
        drain_txs,
        inboxes: inbox_txs,
        handles,
    })
}

impl ShardSetHandle {
    /// Every shard's inbox, indexed by shard id.
    pub fn inboxes(&self) -> Vec<async_channel::Sender<super::ShardMsg>> {
        self.inboxes.clone()
    }

    /// Asks every shard to drain, then waits for them all to stop.
    pub fn drain_and_join(self) {
        for tx in &self.drain_txs {
            let _ = tx.send_blocking(());
        }
        for h in self.handles {
            let _ = h.join();
        }
    }
}
