//! `/live/:matchId` and `/markets/:sport`: one fixed topic per connection, the original
//! service's endpoints. Clients may only ping; after a coalesced overflow they get a `resync`
//! message and a snapshot of each match they follow.

use std::rc::Rc;

use async_tungstenite::tungstenite::Utf8Bytes;

use super::{
    caps::Permit,
    hub::Topic,
    outbox::Outbox,
    session::{error_frame, pong, Handler},
    snapshot::snapshot,
};
use crate::shard::Shard;

/// A session on one topic.
pub(crate) struct OneTopic {
    shard: Rc<Shard>,
    topic: Topic,
    id: u64,
    /// Its filter is only used after a resync: changes its snapshots covered are skipped.
    out: Rc<Outbox>,
    /// This session's claim on its client's caps: one connection, one subscription.
    _permit: Permit,
}

impl OneTopic {
    /// Joins `topic` with `out`.
    pub fn join(shard: Rc<Shard>, topic: Topic, out: Rc<Outbox>, permit: Permit) -> Self {
        let id = shard.hub.join(&topic, out.clone());
        Self {
            shard,
            topic,
            id,
            out,
            _permit: permit,
        }
    }
}

impl Handler for OneTopic {
    async fn on_text(&mut self, text: &str, replies: &mut Vec<Utf8Bytes>) {
        replies.push(match inplay_wire::client_msg::parse_ping(text) {
            Ok(()) => pong(),
            Err(message) => error_frame(&message),
        });
    }

    fn resync(&mut self, replies: &mut Vec<Utf8Bytes>) {
        let view = self.shard.view.borrow();
        let ids = match &self.topic {
            Topic::Match(id) => vec![id.clone()],
            Topic::Sport { sport, league } => {
                let limit = self.shard.config.markets_max_limit;
                view.open_matches(sport, league.as_deref(), limit)
            }
        };
        for id in ids {
            let (frame, at) = snapshot(&view, &id, None);
            replies.push(frame);
            if let Some((epoch, seq)) = at {
                self.out.filter.borrow_mut().reset(&id, &epoch, seq);
            }
        }
    }

    fn leave(&mut self) {
        self.shard.hub.leave(&self.topic, self.id);
    }
}

impl Drop for OneTopic {
    fn drop(&mut self) {
        self.leave();
    }
}
