//! Builds the provider board and the polling feeds from the configuration.

use inplay_core::demo::World;

use super::{Board, Coverage, Entry, FeedSpec, Policy, Source};
use crate::config::Config;

/// Priority of the built-in demo providers: peers of a configured provider left at the default.
const DEMO_PRIORITY: u32 = 100;

/// The board (demo providers first, then every enabled configured one) and the feeds to poll.
/// `env` reads the variables that `api_key_env` names.
pub(crate) fn build(
    config: &Config,
    demo: Option<&World>,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Board, Vec<FeedSpec>) {
    let mut entries = Vec::new();
    if let Some(world) = demo {
        for p in world.providers() {
            let mut e = Entry::new(
                p.id.as_str(),
                "demo",
                DEMO_PRIORITY,
                Policy::default(),
                None,
            );
            e.coverage = world
                .leagues()
                .iter()
                .map(|l| Coverage {
                    sport: l.sport.to_owned(),
                    league: l.league.to_owned(),
                    scores: true,
                    markets: true,
                })
                .collect();
            entries.push(e);
        }
    }
    let mut feeds = Vec::new();
    for c in config.providers.iter().filter(|p| p.enabled) {
        let source = Source {
            key: c.key(env),
            config: c.clone(),
        };
        let index = entries.len();
        let own = source.feeds(index);
        let policy = Policy {
            breaker_failures: c.breaker_failures,
            breaker_cooldown_ms: c.breaker_cooldown.as_millis() as i64,
            quota_backoff_ms: c.quota_backoff.as_millis() as i64,
        };
        let mut e = Entry::new(&c.id, c.kind.as_str(), c.priority, policy, Some(source));
        e.coverage = own
            .iter()
            .map(|f| {
                let (scores, markets) = f.endpoint.kinds();
                Coverage {
                    sport: f.sport.clone(),
                    league: f.league.clone(),
                    scores,
                    markets,
                }
            })
            .collect();
        entries.push(e);
        feeds.extend(own);
    }
    (Board::new(entries), feeds)
}
