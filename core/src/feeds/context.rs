//! What a parser needs to know besides the bytes: who fetched them, when, and how the provider's
//! sport and league names map onto inplay's.
//!
//! Identity compares sport and league as inplay names them (`soccer`/`premier-league`), so the
//! same league reported as `soccer_epl` (The Odds API), `eng.1` (ESPN) or "England / Premier
//! League" (API-Football) must come out of the parsers under one name. A built-in table covers
//! the common leagues; the server adds or overrides entries from its configuration.

use std::collections::HashMap;

use crate::{
    model::{ProviderId, Timestamp},
    odds::OddsFormat,
};

/// A sport and league as inplay names them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SportLeague {
    /// `football`, `basketball`, `soccer`, `hockey`, `baseball`, `tennis`, ...
    pub sport: String,
    /// `nfl`, `nba`, `premier-league`, `atp`, ...
    pub league: String,
}

// === impl SportLeague ===

impl SportLeague {
    /// A sport and league.
    pub fn new(sport: impl Into<String>, league: impl Into<String>) -> Self {
        Self {
            sport: sport.into(),
            league: league.into(),
        }
    }
}

/// The Odds API sport keys inplay knows: key → (sport, league).
const ODDS_API_KEYS: &[(&str, &str, &str)] = &[
    ("americanfootball_nfl", "football", "nfl"),
    ("americanfootball_ncaaf", "football", "ncaaf"),
    ("basketball_nba", "basketball", "nba"),
    ("basketball_wnba", "basketball", "wnba"),
    ("basketball_ncaab", "basketball", "ncaab"),
    ("icehockey_nhl", "hockey", "nhl"),
    ("baseball_mlb", "baseball", "mlb"),
    ("soccer_epl", "soccer", "premier-league"),
    ("soccer_efl_champ", "soccer", "championship"),
    ("soccer_spain_la_liga", "soccer", "la-liga"),
    ("soccer_italy_serie_a", "soccer", "serie-a"),
    ("soccer_germany_bundesliga", "soccer", "bundesliga"),
    ("soccer_france_ligue_one", "soccer", "ligue-1"),
    ("soccer_usa_mls", "soccer", "mls"),
    ("soccer_uefa_champs_league", "soccer", "champions-league"),
];

/// Sport-key prefixes whose whole family is one inplay league (tournament keys such as
/// `tennis_atp_us_open`).
const ODDS_API_PREFIXES: &[(&str, &str, &str)] = &[
    ("tennis_atp_", "tennis", "atp"),
    ("tennis_wta_", "tennis", "wta"),
];

/// The Odds API's sport groups whose inplay name differs.
const ODDS_API_SPORTS: &[(&str, &str)] = &[
    ("americanfootball", "football"),
    ("icehockey", "hockey"),
    ("aussierules", "aussie-rules"),
];

/// League names of other providers (lower case): ESPN `sport/league` path slugs and
/// API-Football `country/name`.
const LEAGUES: &[(&str, &str, &str)] = &[
    ("football/nfl", "football", "nfl"),
    ("football/college-football", "football", "ncaaf"),
    ("basketball/nba", "basketball", "nba"),
    ("basketball/wnba", "basketball", "wnba"),
    ("hockey/nhl", "hockey", "nhl"),
    ("baseball/mlb", "baseball", "mlb"),
    ("soccer/eng.1", "soccer", "premier-league"),
    ("soccer/eng.2", "soccer", "championship"),
    ("soccer/esp.1", "soccer", "la-liga"),
    ("soccer/ita.1", "soccer", "serie-a"),
    ("soccer/ger.1", "soccer", "bundesliga"),
    ("soccer/fra.1", "soccer", "ligue-1"),
    ("soccer/usa.1", "soccer", "mls"),
    ("soccer/uefa.champions", "soccer", "champions-league"),
    ("england/premier league", "soccer", "premier-league"),
    ("england/championship", "soccer", "championship"),
    ("spain/la liga", "soccer", "la-liga"),
    ("italy/serie a", "soccer", "serie-a"),
    ("germany/bundesliga", "soccer", "bundesliga"),
    ("france/ligue 1", "soccer", "ligue-1"),
    ("usa/major league soccer", "soccer", "mls"),
    ("world/uefa champions league", "soccer", "champions-league"),
];

/// Everything a parser needs besides the payload.
#[derive(Clone, Debug)]
pub struct FeedContext {
    /// The configured provider that fetched the payload (`odds-api`, `espn`). Multi-bookmaker
    /// feeds report each bookmaker as `"{provider}/{bookmaker}"`.
    pub provider: ProviderId,
    /// The sport the request was for, where the payload does not say (ESPN's URL path:
    /// `football`, `soccer`). May be empty for feeds that name it per event.
    pub sport: String,
    /// The league the request was for, where the payload does not say (ESPN's `nfl`,
    /// `eng.1`); mapped through the league table.
    pub league: String,
    /// How prices are written in the payload (the `oddsFormat` the request asked for).
    pub odds_format: OddsFormat,
    /// When the response arrived: the `observed_at` of anything the payload does not stamp.
    pub received_at: Timestamp,
    /// Overrides and additions for The Odds API sport keys (`soccer_epl`), by exact key.
    pub sport_key_map: HashMap<String, SportLeague>,
    /// Overrides and additions for other providers' league names, by lower-case key: ESPN
    /// `sport/league` slugs (`soccer/eng.1`), API-Football league ids (`39`), `country/name`
    /// (`england/premier league`) or bare names.
    pub league_map: HashMap<String, SportLeague>,
}

// === impl FeedContext ===

impl FeedContext {
    /// A context with no sport or league, decimal prices and empty override tables.
    pub fn new(provider: ProviderId, received_at: Timestamp) -> Self {
        Self {
            provider,
            sport: String::new(),
            league: String::new(),
            odds_format: OddsFormat::Decimal,
            received_at,
            sport_key_map: HashMap::new(),
            league_map: HashMap::new(),
        }
    }

    /// The same context for a request about `sport`/`league`.
    pub fn with_sport(mut self, sport: impl Into<String>, league: impl Into<String>) -> Self {
        self.sport = sport.into();
        self.league = league.into();
        self
    }

    /// The same context for prices written in `format`.
    pub fn with_odds_format(mut self, format: OddsFormat) -> Self {
        self.odds_format = format;
        self
    }

    /// inplay's sport and league for a The Odds API sport key: the override table, then the
    /// built-in table, then the tournament families (`tennis_atp_*` → tennis/atp). `None` for
    /// an unknown key (see [`FeedContext::derive_sport_key`]).
    pub fn map_sport_key(&self, key: &str) -> Option<SportLeague> {
        if let Some(found) = self.sport_key_map.get(key) {
            return Some(found.clone());
        }
        let builtin = ODDS_API_KEYS
            .iter()
            .find(|(k, _, _)| *k == key)
            .or_else(|| {
                ODDS_API_PREFIXES
                    .iter()
                    .find(|(p, _, _)| key.starts_with(p))
            });
        builtin.map(|(_, sport, league)| SportLeague::new(*sport, *league))
    }

    /// A best guess for an unknown sport key: the group before the first `_` (renamed where
    /// inplay's name differs) and the rest with `-` for `_`; `soccer_korea_kleague1` →
    /// soccer/korea-kleague1. Callers warn when they use it.
    pub fn derive_sport_key(key: &str) -> SportLeague {
        let (group, rest) = key.split_once('_').unwrap_or((key, ""));
        let sport = ODDS_API_SPORTS
            .iter()
            .find(|(g, _)| *g == group)
            .map_or(group, |(_, s)| *s);
        SportLeague::new(sport, rest.replace('_', "-"))
    }

    /// inplay's sport and league for the first of `keys` (compared in lower case) found in the
    /// override table, then the first found in the built-in table.
    pub fn map_league(&self, keys: &[&str]) -> Option<SportLeague> {
        let keys: Vec<String> = keys.iter().map(|k| k.trim().to_lowercase()).collect();
        if let Some(found) = keys.iter().find_map(|k| self.league_map.get(k)) {
            return Some(found.clone());
        }
        keys.iter().find_map(|k| {
            LEAGUES
                .iter()
                .find(|(name, _, _)| name == k)
                .map(|(_, sport, league)| SportLeague::new(*sport, *league))
        })
    }
}

/// A league name as a slug: lower case, runs of anything but letters and digits as one `-`
/// ("Botola Pro" → `botola-pro`).
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FeedContext {
        FeedContext::new(ProviderId::new("odds-api"), Timestamp(0))
    }

    #[test]
    fn builtin_sport_keys() {
        let c = ctx();
        let map = |k: &str| c.map_sport_key(k).map(|s| (s.sport, s.league));
        let pair = |s: &str, l: &str| Some((s.to_owned(), l.to_owned()));
        assert_eq!(map("americanfootball_nfl"), pair("football", "nfl"));
        assert_eq!(map("basketball_nba"), pair("basketball", "nba"));
        assert_eq!(map("soccer_epl"), pair("soccer", "premier-league"));
        assert_eq!(map("icehockey_nhl"), pair("hockey", "nhl"));
        assert_eq!(map("baseball_mlb"), pair("baseball", "mlb"));
        assert_eq!(map("tennis_atp_us_open"), pair("tennis", "atp"));
        assert_eq!(map("soccer_korea_kleague1"), None);
    }

    #[test]
    fn overrides_win_and_unknown_keys_are_derived() {
        let mut c = ctx();
        c.sport_key_map
            .insert("soccer_epl".into(), SportLeague::new("soccer", "epl"));
        assert_eq!(c.map_sport_key("soccer_epl").unwrap().league, "epl");
        let d = FeedContext::derive_sport_key("icehockey_sweden_hockey_league");
        assert_eq!(
            (d.sport.as_str(), d.league.as_str()),
            ("hockey", "sweden-hockey-league")
        );
        assert_eq!(FeedContext::derive_sport_key("golf").league, "");
    }

    #[test]
    fn leagues_by_any_key() {
        let mut c = ctx();
        let epl = c.map_league(&["39", "England/Premier League", "Premier League"]);
        assert_eq!(epl.unwrap().league, "premier-league");
        assert_eq!(
            c.map_league(&["soccer/ENG.1"]).unwrap().league,
            "premier-league"
        );
        c.league_map
            .insert("200".into(), SportLeague::new("soccer", "botola"));
        assert_eq!(
            c.map_league(&["200", "morocco/botola pro"]).unwrap().league,
            "botola"
        );
        assert_eq!(c.map_league(&["nowhere"]), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug(" Botola Pro "), "botola-pro");
        assert_eq!(slug("Serie A (Women)"), "serie-a-women");
        assert_eq!(slug("--"), "");
    }
}
