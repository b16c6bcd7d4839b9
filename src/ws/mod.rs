//! WebSocket endpoints: `/live/:matchId` and `/markets/:sport`, compatible with the original
//! service's clients.
//!
//! A change is serialised once by its match's owner ([`event`]), shipped once to each shard that
//! has sessions, and written there to every subscribed session ([`hub`], [`session`]).

pub(crate) mod backlog;
pub(crate) mod caps;
pub(crate) mod event;
pub(crate) mod hub;
pub(crate) mod mux;
pub(crate) mod one_topic;
pub(crate) mod outbox;
pub(crate) mod queue;
pub(crate) mod send_ring;
pub(crate) mod session;
pub(crate) mod snapshot;

pub(crate) use event::{Event, Missed};
pub(crate) use hub::{Hub, Topic};
pub(crate) use session::WsConfig;
