//! Builds the provider board and the polling feeds from the configuration.

use inplay_core::demo::World;

use super::{Board, Coverage, Entry, FeedSpec, Policy, Source};
use crate::config::{Config, ProviderConfig, ProviderKind};

/// Priority of the built-in demo providers: peers of a configured provider left at the default.
const DEMO_PRIORITY: u32 = 100;

/// The breaker and quota policy of a configured provider.
fn policy(c: &ProviderConfig) -> Policy {
    Policy {
        breaker_failures: c.breaker_failures,
        breaker_cooldown_ms: c.breaker_cooldown.as_millis() as i64,
        quota_backoff_ms: c.quota_backoff.as_millis() as i64,
    }
}

/// The board (demo providers first, then every enabled configured one) and the feeds to poll.
/// `env` reads the variables that `api_key_env` names. A `kind = "demo"` entry sets a demo
/// provider's priority and breaker, or (`enabled = false`) leaves it out.
///
/// # Errors
/// A message naming a `kind = "demo"` entry whose id is no demo provider.
pub(crate) fn build(
    config: &Config,
    demo: Option<&World>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Board, Vec<FeedSpec>), String> {
    let mut entries = Vec::new();
    let demo_entries: Vec<&ProviderConfig> = config
        .providers
        .iter()
        .filter(|p| p.kind == ProviderKind::Demo)
        .collect();
    if let Some(world) = demo {
        let known: Vec<&str> = world.providers().iter().map(|p| p.id.as_str()).collect();
        if let Some(stray) = demo_entries
            .iter()
            .find(|c| !known.contains(&c.id.as_str()))
        {
            return Err(format!(
                "[[providers]] id {:?} (kind demo) is no demo provider: they are {known:?}",
                stray.id
            ));
        }
        for p in world.providers() {
            let own = demo_entries.iter().find(|c| c.id == p.id.as_str());
            if own.is_some_and(|c| !c.enabled) {
                continue;
            }
            let priority = own.map_or(DEMO_PRIORITY, |c| c.priority);
            let policy = own.map_or_else(Policy::default, |c| policy(c));
            let mut e = Entry::new(p.id.as_str(), "demo", priority, policy, None);
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
    for c in config
        .providers
        .iter()
        .filter(|p| p.enabled && p.kind != ProviderKind::Demo)
    {
        let source = Source {
            key: c.key(env),
            config: c.clone(),
        };
        let index = entries.len();
        let own = source.feeds(index);
        let mut e = Entry::new(&c.id, c.kind.as_str(), c.priority, policy(c), Some(source));
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
    Ok((Board::new(entries), feeds))
}
