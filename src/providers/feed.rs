//! A provider's feeds: what each polling task fetches, from where, and how its answer is read.

use std::time::Duration;

use inplay_core::{
    feeds::{FeedContext, SportLeague},
    odds::OddsFormat,
    ProviderId, Timestamp,
};

use crate::config::{ProviderConfig, ProviderKind};

/// Which parser reads a feed's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The Odds API `/v4/sports/{key}/odds`.
    OddsApiOdds,
    /// The Odds API `/v4/sports/{key}/scores`.
    OddsApiScores,
    /// ESPN `/apis/site/v2/sports/{sport}/{league}/scoreboard`.
    EspnScoreboard,
    /// API-Football `/fixtures?live=...`.
    ApiFootballFixtures,
    /// inplay native document at `{base_url}/{sport}/{league}`.
    Native,
}

impl Endpoint {
    /// (scores, markets): the data kinds its payloads carry.
    pub fn kinds(self) -> (bool, bool) {
        match self {
            Self::OddsApiOdds => (false, true),
            Self::OddsApiScores | Self::EspnScoreboard | Self::ApiFootballFixtures => (true, false),
            Self::Native => (true, true),
        }
    }

    /// The suffix of its task id.
    fn suffix(self) -> &'static str {
        match self {
            Self::OddsApiOdds => "odds",
            _ => "scores",
        }
    }
}

/// One polling task's fetch: a provider's endpoint for one sport/league.
#[derive(Debug, Clone)]
pub(crate) struct FeedSpec {
    /// `provider:sport:league:kind`, e.g. `odds:football:nfl:odds`.
    pub task_id: String,
    /// Index of the provider on the board.
    pub provider: usize,
    pub endpoint: Endpoint,
    /// inplay's sport and league (`*` for every league of the sport).
    pub sport: String,
    pub league: String,
    /// The provider's own key for it (`americanfootball_nfl`, `football/nfl`, `39-140`).
    pub feed: String,
}

/// A configured provider, resolved for polling.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub config: ProviderConfig,
    /// The API key (from `api_key` or `api_key_env`); empty if none.
    pub key: String,
}

impl Source {
    /// The feeds of this provider, as tasks (`provider` is its board index).
    pub fn feeds(&self, provider: usize) -> Vec<FeedSpec> {
        let c = &self.config;
        let ctx = FeedContext::new(ProviderId::new(&c.id), Timestamp(0));
        let mut out = Vec::new();
        for feed in &c.feeds {
            let (names, endpoints): (SportLeague, &[Endpoint]) = match c.kind {
                ProviderKind::TheOddsApi => (
                    ctx.map_sport_key(feed)
                        .unwrap_or_else(|| FeedContext::derive_sport_key(feed)),
                    &[Endpoint::OddsApiOdds, Endpoint::OddsApiScores],
                ),
                ProviderKind::Espn => {
                    let (sport, league) = feed.split_once('/').unwrap_or((feed, ""));
                    (
                        ctx.map_league(&[feed.as_str()])
                            .unwrap_or_else(|| SportLeague::new(sport, league)),
                        &[Endpoint::EspnScoreboard],
                    )
                }
                ProviderKind::ApiFootball => {
                    let league = if feed == "all" {
                        "*".to_owned()
                    } else {
                        format!("league-{feed}")
                    };
                    (
                        SportLeague::new("soccer", league),
                        &[Endpoint::ApiFootballFixtures],
                    )
                }
                ProviderKind::Native => {
                    let (sport, league) = feed.split_once('/').unwrap_or((feed, ""));
                    (SportLeague::new(sport, league), &[Endpoint::Native])
                }
                ProviderKind::Demo => continue,
            };
            for &endpoint in endpoints {
                out.push(FeedSpec {
                    task_id: format!(
                        "{}:{}:{}:{}",
                        c.id,
                        names.sport,
                        names.league,
                        endpoint.suffix()
                    ),
                    provider,
                    endpoint,
                    sport: names.sport.clone(),
                    league: names.league.clone(),
                    feed: feed.clone(),
                });
            }
        }
        out
    }

    /// The URL and headers of one fetch of `feed`. The URL may hold the key (The Odds API
    /// takes it as a parameter): never log it.
    pub fn request(&self, feed: &FeedSpec) -> (String, Vec<(&'static str, String)>) {
        let c = &self.config;
        let base = c.base_url.trim_end_matches('/');
        let mut headers = Vec::new();
        let url = match feed.endpoint {
            Endpoint::OddsApiOdds => format!(
                "{base}/v4/sports/{}/odds?apiKey={}&regions={}&markets={}&oddsFormat={}&dateFormat=iso",
                feed.feed, self.key, c.regions, c.markets, c.odds_format
            ),
            Endpoint::OddsApiScores => format!(
                "{base}/v4/sports/{}/scores?apiKey={}&daysFrom=1&dateFormat=iso",
                feed.feed, self.key
            ),
            Endpoint::EspnScoreboard => {
                format!("{base}/apis/site/v2/sports/{}/scoreboard", feed.feed)
            }
            Endpoint::ApiFootballFixtures => {
                if !self.key.is_empty() {
                    headers.push(("x-apisports-key", self.key.clone()));
                }
                format!("{base}/fixtures?live={}", feed.feed)
            }
            Endpoint::Native => {
                if !self.key.is_empty() {
                    headers.push(("authorization", format!("Bearer {}", self.key)));
                }
                format!("{base}/{}", feed.feed)
            }
        };
        (url, headers)
    }

    /// The URL and headers of a fetch of one event of `feed` (a hot match), if the endpoint has
    /// a per-event form: The Odds API `/events/{id}/odds` (one event object, not an array) and
    /// `/scores?eventIds={id}`, API-Football `/fixtures?id={id}`, native
    /// `{base_url}/{sport}/{league}/{id}`. ESPN's scoreboard has none (its league task serves).
    pub fn event_request(
        &self,
        feed: &FeedSpec,
        event: &str,
    ) -> Option<(String, Vec<(&'static str, String)>)> {
        let url_safe = !event.is_empty()
            && event.len() <= 128
            && event
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !url_safe {
            return None;
        }
        let c = &self.config;
        let base = c.base_url.trim_end_matches('/');
        let (league_url, headers) = self.request(feed);
        let url = match feed.endpoint {
            Endpoint::OddsApiOdds => format!(
                "{base}/v4/sports/{}/events/{event}/odds?apiKey={}&regions={}&markets={}&oddsFormat={}&dateFormat=iso",
                feed.feed, self.key, c.regions, c.markets, c.odds_format
            ),
            Endpoint::OddsApiScores => format!("{league_url}&eventIds={event}"),
            Endpoint::ApiFootballFixtures => format!("{base}/fixtures?id={event}"),
            Endpoint::Native => format!("{league_url}/{event}"),
            Endpoint::EspnScoreboard => return None,
        };
        Some((url, headers))
    }

    /// The parser context for a payload of `feed` received at `at`.
    pub fn context(&self, feed: Option<&FeedSpec>, at: Timestamp) -> FeedContext {
        let mut ctx = FeedContext::new(ProviderId::new(&self.config.id), at);
        if self.config.odds_format == "american" {
            ctx = ctx.with_odds_format(OddsFormat::American);
        }
        if let Some(feed) = feed.filter(|f| f.endpoint == Endpoint::EspnScoreboard) {
            let (sport, league) = feed.feed.split_once('/').unwrap_or((&feed.feed, ""));
            ctx = ctx.with_sport(sport, league);
        }
        ctx
    }

    /// The provider's floor: `min_interval_ms`, or `polling.provider_intervals`, the larger.
    pub fn floor(&self, configured: Option<Duration>) -> Duration {
        self.config.min_interval.max(configured.unwrap_or_default())
    }
}
