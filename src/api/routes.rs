//! The route table: every path the server answers, in one place, so `/openapi.json` can be
//! checked against it by a test; and, next to it, who may call each route and which
//! rate-limit bucket it draws from ([`Route::policy`]).

use crate::{
    auth::{Access, Role},
    http::Method,
    ratelimit::Class,
};

/// A route of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    ProvidersHealth,
    PollingStatus,
    PollingUpdate,
    Score,
    MarketsBySport,
    MarketOdds,
    Matches,
    Match,
    OpenApi,
    LiveWs,
    MarketsWs,
    MuxWs,
    BetValidate,
    BetRecord,
    BetSettlement,
    MarketSettlement,
    Ingest,
    Metrics,
}

/// (method, OpenAPI path template, route). Path segments in braces are parameters.
pub(crate) const ROUTES: &[(Method, &str, Route)] = &[
    (Method::Get, "/health", Route::Health),
    (Method::Get, "/api/providers/health", Route::ProvidersHealth),
    (Method::Get, "/api/polling/status", Route::PollingStatus),
    (Method::Post, "/api/polling/update", Route::PollingUpdate),
    (Method::Get, "/api/scores/{matchId}", Route::Score),
    (Method::Get, "/api/markets/{sport}", Route::MarketsBySport),
    (
        Method::Get,
        "/api/markets/{marketId}/odds",
        Route::MarketOdds,
    ),
    (Method::Get, "/api/matches", Route::Matches),
    (Method::Get, "/api/matches/{matchId}", Route::Match),
    (Method::Get, "/openapi.json", Route::OpenApi),
    (Method::Get, "/live/{matchId}", Route::LiveWs),
    (Method::Get, "/markets/{sport}", Route::MarketsWs),
    (Method::Get, "/ws", Route::MuxWs),
    (Method::Post, "/api/bets/validate", Route::BetValidate),
    (Method::Post, "/api/bets", Route::BetRecord),
    (
        Method::Get,
        "/api/bets/{betId}/settlement",
        Route::BetSettlement,
    ),
    (
        Method::Get,
        "/api/markets/{marketId}/settlement",
        Route::MarketSettlement,
    ),
    (Method::Post, "/api/ingest/{providerId}", Route::Ingest),
    (Method::Get, "/metrics", Route::Metrics),
];

/// Who may call a route and which bucket it draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Authentication and role.
    pub access: Access,
    /// Rate-limit class.
    pub class: Class,
}

impl Policy {
    /// Requests that match no route (404/405) and preflights: public reads.
    pub const UNMATCHED: Self = Self {
        access: Access::Public,
        class: Class::Read,
    };
}

// === impl Route ===

impl Route {
    /// Who may call the route and which rate-limit bucket it draws from. An exhaustive match,
    /// so a new route cannot be added without deciding both. Management routes need `admin`;
    /// the betting platform's routes (bet validation, settlement) and provider pushes
    /// (`/api/ingest/:provider`) will need `service` and the `Write` class.
    pub(crate) const fn policy(self) -> Policy {
        let (access, class) = match self {
            Route::Health | Route::Metrics => (Access::Public, Class::Exempt),
            Route::OpenApi => (Access::Public, Class::Read),
            Route::PollingUpdate => (Access::Role(Role::Admin), Class::Write),
            Route::ProvidersHealth
            | Route::PollingStatus
            | Route::Score
            | Route::MarketsBySport
            | Route::MarketOdds
            | Route::Matches
            | Route::Match => (Access::Read, Class::Read),
            Route::LiveWs | Route::MarketsWs | Route::MuxWs => (Access::Stream, Class::Read),
            // The betting platform: authenticated, and not limited per IP (one platform IP
            // makes every call; a per-IP minute budget would throttle the whole book).
            Route::BetValidate
            | Route::BetRecord
            | Route::BetSettlement
            | Route::MarketSettlement
            | Route::Ingest => (Access::Role(Role::Service), Class::Exempt),
        };
        Policy { access, class }
    }
}

/// The route template a request matched (`/api/scores/{matchId}`), as a metrics label.
pub(crate) fn route_label(method: Method, path: &str) -> &'static str {
    let method = if method == Method::Head {
        Method::Get
    } else {
        method
    };
    ROUTES
        .iter()
        .zip(&SPLITS)
        .find(|((m, _, _), split)| *m == method && split.matches(path).is_some())
        .map_or("unmatched", |((_, template, _), _)| template)
}

/// Result of matching a path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Matched<'p> {
    /// The route and its one path parameter (empty if none).
    Found(Route, &'p str),
    /// The path exists but not for this method; lists the allowed methods.
    WrongMethod(&'static str),
    NotFound,
}

/// Matches `method` + `path` against [`ROUTES`]. HEAD is served as GET.
pub(crate) fn match_route(method: Method, path: &str) -> Matched<'_> {
    let method = if method == Method::Head {
        Method::Get
    } else {
        method
    };
    let mut allowed: Option<&'static str> = None;
    for (&(m, _, route), split) in ROUTES.iter().zip(&SPLITS) {
        if let Some(param) = split.matches(path) {
            if m == method {
                return Matched::Found(route, param);
            }
            allowed = Some(match m {
                Method::Post => "POST",
                _ => "GET, HEAD",
            });
        }
    }
    allowed.map_or(Matched::NotFound, Matched::WrongMethod)
}

/// A template split around its parameter, `prefix{param}suffix` (`suffix` is `None` for a
/// fixed path). Every request is matched against the table (and again for its metrics label),
/// so the split is done once, at compile time, and matching compares a prefix and a suffix.
#[derive(Clone, Copy, Debug)]
struct Split {
    prefix: &'static str,
    suffix: Option<&'static str>,
}

/// [`ROUTES`]' templates, split.
const SPLITS: [Split; ROUTES.len()] = {
    let mut out = [Split {
        prefix: "",
        suffix: None,
    }; ROUTES.len()];
    let mut i = 0;
    while i < ROUTES.len() {
        out[i] = Split::of(ROUTES[i].1);
        i += 1;
    }
    out
};

impl Split {
    /// Splits `template` at its first `{…}` segment.
    const fn of(template: &'static str) -> Self {
        let bytes = template.as_bytes();
        let mut open = 0;
        while open < bytes.len() && bytes[open] != b'{' {
            open += 1;
        }
        if open == bytes.len() {
            return Self {
                prefix: template,
                suffix: None,
            };
        }
        let mut close = open;
        while close < bytes.len() && bytes[close] != b'}' {
            close += 1;
        }
        let suffix = if close < bytes.len() {
            template.split_at(close + 1).1
        } else {
            ""
        };
        Self {
            prefix: template.split_at(open).0,
            suffix: Some(suffix),
        }
    }

    /// The parameter's value if `path` matches (empty for a fixed path). A trailing `/` is
    /// ignored; a parameter is one non-empty segment.
    fn matches<'p>(&self, path: &'p str) -> Option<&'p str> {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let Some(suffix) = self.suffix else {
            return (self.prefix == path).then_some("");
        };
        let param = path.strip_prefix(self.prefix)?.strip_suffix(suffix)?;
        (!param.is_empty() && !param.contains('/')).then_some(param)
    }
}

/// Matches one template (at most one `{param}` segment); returns the parameter's value.
#[cfg(test)]
fn match_template<'p>(template: &'static str, path: &'p str) -> Option<&'p str> {
    Split::of(template).matches(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The segment-by-segment matcher `match_template` replaced: the oracle it must agree with.
    fn by_segments<'p>(template: &str, path: &'p str) -> Option<&'p str> {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let (mut t, mut p) = (template.split('/'), path.split('/'));
        let mut param = "";
        loop {
            match (t.next(), p.next()) {
                (None, None) => return Some(param),
                (Some(ts), Some(ps)) if ts.starts_with('{') => {
                    if ps.is_empty() {
                        return None;
                    }
                    param = ps;
                }
                (Some(ts), Some(ps)) if ts == ps => {}
                _ => return None,
            }
        }
    }

    proptest! {
        #[test]
        fn template_matching_agrees_with_the_segment_walk(
            parts in proptest::collection::vec(
                prop_oneof!["api", "scores", "markets", "odds", "x", "", "health", "ws", "a:b"],
                0..6,
            ),
            trailing in any::<bool>(),
        ) {
            let mut path = format!("/{}", parts.join("/"));
            if trailing {
                path.push('/');
            }
            for (_, template, _) in ROUTES {
                prop_assert_eq!(match_template(template, &path), by_segments(template, &path));
            }
        }
    }

    #[test]
    fn matches_params_and_methods() {
        assert_eq!(
            match_route(Method::Get, "/api/scores/abc"),
            Matched::Found(Route::Score, "abc")
        );
        assert_eq!(
            match_route(Method::Get, "/api/markets/m:spread:-3.5/odds"),
            Matched::Found(Route::MarketOdds, "m:spread:-3.5")
        );
        assert_eq!(
            match_route(Method::Head, "/api/markets/football"),
            Matched::Found(Route::MarketsBySport, "football")
        );
        assert_eq!(
            match_route(Method::Post, "/health"),
            Matched::WrongMethod("GET, HEAD")
        );
        assert_eq!(
            match_route(Method::Get, "/api/polling/update"),
            Matched::WrongMethod("POST")
        );
        assert_eq!(match_route(Method::Get, "/api/scores/"), Matched::NotFound);
        assert_eq!(match_route(Method::Get, "/nope"), Matched::NotFound);
        assert_eq!(
            match_route(Method::Get, "/health/"),
            Matched::Found(Route::Health, "")
        );
    }
}
