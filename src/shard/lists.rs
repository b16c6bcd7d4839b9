//! The market lists in the Redis cache: `markets:<sport>` and `markets:<sport>:<league>` hold
//! the `/api/markets/:sport[?league=]` body (default limit), as the original service cached it.
//!
//! Shard 0 re-writes them at most every `redis.markets_refresh`, and only after something
//! changed; each write carries `redis.markets_ttl`, so they stay fresh while matches move.

use std::{rc::Rc, sync::Arc};

use glommio::timer::sleep;

use super::Shard;
use crate::view::ListKey;

/// Re-caches changed market lists until the shard drains (no-op without Redis).
pub(crate) async fn cache_loop(shard: Rc<Shard>) {
    let handle = shard.io_out.handle().clone();
    if handle.redis.is_none() {
        return;
    }
    let mut written_at = u64::MAX;
    while !shard.draining() {
        sleep(handle.markets_refresh).await;
        let view = shard.view.borrow();
        if view.generation() == written_at {
            continue;
        }
        written_at = view.generation();
        let limit = shard.config.markets_default_limit;
        let mut sport_done: Option<Box<str>> = None;
        for (sport, league) in view.open_leagues() {
            if sport_done.as_ref() != Some(&sport) {
                let list = view.list(
                    ListKey::Markets {
                        sport: sport.clone(),
                        league: None,
                        limit,
                    },
                    false,
                );
                shard.io_out.set(
                    format!("markets:{sport}"),
                    Arc::from(&*list.body),
                    handle.ttls.markets,
                );
                sport_done = Some(sport.clone());
            }
            let list = view.list(
                ListKey::Markets {
                    sport: sport.clone(),
                    league: Some(league.clone()),
                    limit,
                },
                false,
            );
            shard.io_out.set(
                format!("markets:{sport}:{league}"),
                Arc::from(&*list.body),
                handle.ttls.markets,
            );
        }
    }
}
