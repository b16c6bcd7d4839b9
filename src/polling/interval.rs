//! How often a provider task polls: most specific setting first.
//!
//! A task's base interval is `match_intervals[matchId]` (match tasks), else
//! `league_intervals[league]`, else `sport_intervals[sport]`, else `default_interval`; an
//! interval set at runtime (`POST /api/polling/update`) replaces it. The provider's floor
//! (`polling.provider_intervals[provider]` or its own `min_interval_ms`, the larger) is never
//! undercut, a rate-limited provider polls `slowdown` times less often, and a task whose last
//! answer held no live match waits at least `prematch_interval`.

use std::time::Duration;

use crate::config::PollingConfig;

/// The base interval of a league task, and the setting it came from.
pub(crate) fn resolve(
    polling: &PollingConfig,
    sport: &str,
    league: &str,
) -> (Duration, &'static str) {
    if let Some(&d) = polling.league_intervals.get(league) {
        (d, "league")
    } else if let Some(&d) = polling.sport_intervals.get(sport) {
        (d, "sport")
    } else {
        (polling.default_interval, "default")
    }
}

/// The wait before the next poll: `base` raised to `floor`, times `slowdown`, and at least
/// `prematch` when no match was live.
pub(crate) fn effective(
    base: Duration,
    floor: Duration,
    slowdown: u32,
    live: bool,
    prematch: Duration,
) -> Duration {
    let d = base.max(floor).saturating_mul(slowdown.max(1));
    if live {
        d
    } else {
        d.max(prematch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_wins() {
        let p = PollingConfig::default();
        assert_eq!(
            resolve(&p, "football", "nfl"),
            (Duration::from_secs(5), "league")
        );
        assert_eq!(
            resolve(&p, "football", "cfl"),
            (Duration::from_secs(10), "sport")
        );
        assert_eq!(
            resolve(&p, "curling", "x"),
            (Duration::from_secs(30), "default")
        );
    }

    #[test]
    fn floor_slowdown_and_prematch() {
        let s = Duration::from_secs;
        assert_eq!(effective(s(5), s(60), 1, true, s(0)), s(60));
        assert_eq!(effective(s(5), s(0), 4, true, s(0)), s(20));
        assert_eq!(effective(s(5), s(0), 1, false, s(60)), s(60));
        assert_eq!(effective(s(5), s(0), 1, true, s(60)), s(5));
    }
}
