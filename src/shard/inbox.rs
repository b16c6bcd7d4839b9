//! A shard's inbox: what its peers send it (observations it owns, replicas of their matches,
//! change events for its WebSocket sessions, queries), handled in arrival order.

use std::rc::Rc;

use glommio::spawn_local;

use super::{slice::Slice, Replica, Shard, ShardMsg};

// === impl Shard ===

impl Shard {
    /// Handles peers' messages in arrival order, pausing once a time slice is spent so that
    /// requests run between batches (a batch is at most `routing::APPLY_CHUNK` observations).
    pub(super) async fn inbox_loop(self: Rc<Self>, inbox: async_channel::Receiver<ShardMsg>) {
        let mut slice = Slice::start();
        loop {
            let msg = match inbox.try_recv() {
                Ok(msg) => msg,
                Err(async_channel::TryRecvError::Closed) => return,
                Err(async_channel::TryRecvError::Empty) => match inbox.recv().await {
                    // Waiting was not work: the slice starts with this message.
                    Ok(msg) => {
                        slice = Slice::start();
                        msg
                    }
                    Err(_) => return,
                },
            };
            self.handle(msg);
            slice.yield_if_spent().await;
        }
    }

    fn handle(self: &Rc<Self>, msg: ShardMsg) {
        match msg {
            ShardMsg::RecordBet(bet, reply) => {
                let me = self.clone();
                spawn_local(async move {
                    let _ = reply.send(me.record_bet(bet).await);
                })
                .detach();
            }
            ShardMsg::Observations(batch) => self.apply(&batch),
            ShardMsg::Replicate(batch) => {
                let mut view = self.view.borrow_mut();
                for r in batch {
                    match r {
                        Replica::Upsert(render) => view.upsert(&render),
                        Replica::Remove(id) => view.remove(&id),
                    }
                }
            }
            ShardMsg::Events(events) => self.hub.publish(&events),
            ShardMsg::Missed(missed) => self.hub.missed(&missed),
            ShardMsg::Query(q, reply) => {
                let _ = reply.send(self.answer(q));
            }
        }
    }
}
