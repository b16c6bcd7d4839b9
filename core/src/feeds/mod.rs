//! Provider payload parsers: the bytes a provider sent in, normalised [`Observation`]s out.
//!
//! Each vendor has one module with pure functions of (payload bytes, [`FeedContext`]). They do
//! no I/O and read no clock: the server fetches, stamps the response with
//! [`FeedContext::received_at`] and hands the body over. What comes out is only inplay's own
//! vocabulary ([`Observation`], [`MarketKey`](crate::MarketKey), [`MatchStatus`]); vendor
//! shapes never leave these modules.
//!
//! # Bad items versus bad payloads
//! A payload that is not JSON, or not the JSON the endpoint documents (an object where an
//! array of events belongs), is a [`FeedError`]: the caller keeps its previous data and logs
//! it. A bad *item* inside a good payload (an event without `home_team`, a price that is not a
//! number or is ≤ 1.0, a spread whose two sides disagree on the line) is skipped, counted in
//! [`ParseReport::rejected`] and described in [`ParseReport::warnings`]; the rest of the
//! payload still counts. Error envelopes that a provider serves with HTTP 200 become
//! [`FeedError::Provider`].
//!
//! # Period labels
//! The score consensus groups readings by (score, status, period label), so every parser writes
//! the states that mean the same thing everywhere with the same label: `PRE` before the start,
//! `HT` at half time, `FT` once finished (after extra time or penalties too), `PST` when
//! postponed and `CANC` when cancelled or abandoned. Live periods are the provider's own
//! (`Q3`, `P2`, `2nd Half`; `LIVE` when a feed does not say which).
//!
//! # Layout
//! * `context`: [`FeedContext`], [`SportLeague`] and the built-in sport/league table.
//! * `error`: [`FeedError`], [`ProviderError`].
//! * `json`: path-aware helpers over `serde_json::Value` shared by the parsers.
//! * [`odds_api`]: The Odds API v4 odds, scores, error bodies and quota headers.
//! * [`espn`]: ESPN's public scoreboard.
//! * [`api_football`]: API-Football v3 fixtures.
//! * [`native`]: inplay's own documented feed format.

mod context;
mod error;
mod json;

pub mod api_football;
pub mod espn;
pub mod native;
pub mod odds_api;

pub use context::{FeedContext, SportLeague};
pub use error::{FeedError, ProviderError, ProviderErrorKind};

use crate::{model::MatchStatus, observation::Observation};

/// At most this many warnings are kept per payload: a garbage payload must not become a
/// garbage log. [`ParseReport::rejected`] still counts every rejected item.
const MAX_WARNINGS: usize = 64;

/// At most this many characters of a provider's text are quoted in a warning.
const MAX_QUOTE: usize = 80;

/// What a parser made of one payload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParseReport {
    /// Everything the payload said, in payload order.
    pub observations: Vec<Observation>,
    /// How many items (events, markets, outcomes) were skipped as malformed.
    pub rejected: usize,
    /// Why items were skipped, and other oddities worth a log line (at most 64, each naming
    /// the JSON path of the item).
    pub warnings: Vec<String>,
}

// === impl ParseReport ===

impl ParseReport {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one skipped item and says why.
    pub(crate) fn reject(&mut self, why: impl Into<String>) {
        self.rejected = self.rejected.saturating_add(1);
        self.warn(why);
    }

    /// Records an oddity that did not cost an item.
    pub(crate) fn warn(&mut self, why: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(why.into());
        }
    }
}

/// The shared period label of a status whose label does not depend on the provider (see the
/// module docs); `None` for [`MatchStatus::Live`], whose label is the provider's own.
pub(crate) fn status_label(status: MatchStatus) -> Option<&'static str> {
    match status {
        MatchStatus::Scheduled => Some("PRE"),
        MatchStatus::Live => None,
        MatchStatus::Halftime => Some("HT"),
        MatchStatus::Finished => Some("FT"),
        MatchStatus::Postponed => Some("PST"),
        MatchStatus::Cancelled => Some("CANC"),
    }
}

/// The first [`MAX_QUOTE`] characters of a provider's text, quoted, for a warning.
pub(crate) fn quote(s: &str) -> String {
    let clipped: String = s.chars().take(MAX_QUOTE).collect();
    format!("{clipped:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_bounded_but_rejections_are_counted() {
        let mut r = ParseReport::new();
        for i in 0..200 {
            r.reject(format!("item {i}"));
        }
        assert_eq!(r.rejected, 200);
        assert_eq!(r.warnings.len(), MAX_WARNINGS);
    }

    #[test]
    fn quotes_are_clipped() {
        assert_eq!(quote(&"x".repeat(500)).len(), MAX_QUOTE + 2);
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
