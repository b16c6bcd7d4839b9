//! The vocabulary shared by every part of inplay: ids, sports, statuses, market keys, time.
//!
//! Only these types cross module boundaries; vendor types stay inside their adapters.

mod ids;
mod market;
mod status;
mod time;

pub use ids::{MarketId, MatchId, ProviderId};
pub use market::{Line, MarketKey, MarketType, Selection};
pub use status::{MarketStatus, MatchStatus, Settlement};
pub use time::Timestamp;
