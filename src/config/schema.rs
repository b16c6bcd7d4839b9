//! The key schema: every config key, its type, its allowed range and the variables that set it.
//!
//! One table drives the unknown-key check, the type and range checks (with messages that name the
//! key) and the environment overrides. Checking a `toml::Value` against it before deserialising
//! means serde never has to report an error, so every message is ours and names the key.

use toml::Value;

use super::error::Bad;
pub(super) use super::keys::{Key, ENV_PREFIX, KEYS};
use crate::ratelimit::IpNet;

/// Longest duration any `_ms` key accepts: 7 days. Longer waits are certainly typos, and the cap
/// keeps `Instant + duration` far from overflow.
pub(super) const MAX_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Most shards a server may run.
pub(super) const MAX_SHARDS: i64 = 1024;

/// What a key holds, and what it accepts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// `true` or `false`.
    Bool,
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// A whole number of milliseconds in `min..=MAX_MS`.
    Ms { min: i64 },
    /// Any string.
    Str,
    /// A string with at least one non-blank character.
    NonEmpty,
    /// An IPv4 or IPv6 address (no host names: the listener binds an address).
    IpAddr,
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
    /// A `tracing` level or filter directive.
    LogLevel,
    /// Empty (off) or a Redis URL.
    RedisUrl,
    /// A list of strings; a comma list in the environment.
    StrList,
    /// A non-empty list of words from a fixed set; a comma list in the environment.
    WordList(&'static [&'static str]),
    /// A list of IP addresses or CIDR ranges (`10.0.0.0/8`); a comma list in the environment.
    NetList,
    /// A list of integers in `0..=max`; a comma list in the environment.
    IntList { max: i64 },
    /// A table of name → milliseconds; `name=ms,name=ms` in the environment.
    MsTable,
    /// A table of sport → table of alias → canonical name. File only.
    AliasTable,
}

// === impl Kind ===

impl Kind {
    /// What this kind accepts, for error messages.
    pub fn expected(self) -> String {
        match self {
            Kind::Bool => "true or false".into(),
            Kind::Int {
                min: 0,
                max: i64::MAX,
            } => "a non-negative integer".into(),
            Kind::Int { min: 0, max } => format!("a non-negative integer up to {max}"),
            Kind::Int { min, max } => format!("an integer in {min}..={max}"),
            Kind::Ms { min } => format!("a whole number of milliseconds in {min}..={MAX_MS}"),
            Kind::Str => "a string".into(),
            Kind::NonEmpty => "a non-empty string".into(),
            Kind::IpAddr => "an IP address such as 0.0.0.0, 127.0.0.1 or ::".into(),
            Kind::OneOf(words) => format!("one of: {}", words.join(", ")),
            Kind::LogLevel => "trace, debug, info, warn, error, off, or a tracing filter \
                               directive such as \"info,inplay=debug\""
                .into(),
            Kind::RedisUrl => "\"\" (off) or a URL starting with redis://, rediss://, \
                               redis+unix:// or unix://"
                .into(),
            Kind::StrList => "a list of strings (a comma list in the environment)".into(),
            Kind::WordList(words) => format!(
                "a non-empty list of: {} (a comma list in the environment)",
                words.join(", ")
            ),
            Kind::NetList => "a list of IP addresses or CIDR ranges such as 10.0.0.0/8 \
                              (a comma list in the environment)"
                .into(),
            Kind::IntList { max } => {
                format!("a list of integers in 0..={max} (a comma list in the environment)")
            }
            Kind::MsTable => format!(
                "a table of name = milliseconds in 0..={MAX_MS} \
                 (name=ms,name=ms in the environment)"
            ),
            Kind::AliasTable => "a table of sport → table of alias = \"canonical name\"".into(),
        }
    }

    /// Checks a value of this kind at `path`.
    pub fn check(self, path: &str, value: &Value) -> Result<(), Bad> {
        let bad = || Bad::new(path, render(value), self.expected());
        let ok = match (self, value) {
            (Kind::Bool, Value::Boolean(_)) => true,
            (Kind::Int { min, max }, Value::Integer(n)) => (min..=max).contains(n),
            (Kind::Ms { min }, Value::Integer(n)) => (min..=MAX_MS).contains(n),
            (Kind::Str, Value::String(_)) => true,
            (Kind::NonEmpty, Value::String(s)) => !s.trim().is_empty(),
            (Kind::IpAddr, Value::String(s)) => s.parse::<std::net::IpAddr>().is_ok(),
            (Kind::OneOf(words), Value::String(s)) => words.contains(&s.as_str()),
            (Kind::LogLevel, Value::String(s)) => log_level_ok(s),
            (Kind::RedisUrl, Value::String(s)) => redis_url_ok(s),
            (Kind::StrList, Value::Array(items)) => items.iter().all(Value::is_str),
            (Kind::WordList(words), Value::Array(items)) => {
                !items.is_empty()
                    && items
                        .iter()
                        .all(|v| v.as_str().is_some_and(|w| words.contains(&w)))
            }
            (Kind::NetList, Value::Array(items)) => items
                .iter()
                .all(|v| v.as_str().is_some_and(|s| IpNet::parse(s).is_some())),
            (Kind::IntList { max }, Value::Array(items)) => items
                .iter()
                .all(|v| v.as_integer().is_some_and(|n| (0..=max).contains(&n))),
            (Kind::MsTable, Value::Table(t)) => {
                for (name, v) in t {
                    Kind::Ms { min: 0 }
                        .check(&format!("{path}.{name}"), v)
                        .map_err(|b| Bad {
                            expected: self.expected(),
                            ..b
                        })?;
                }
                true
            }
            (Kind::AliasTable, Value::Table(t)) => return check_aliases(path, t),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// Turns an environment variable's text into a value of this kind. Ranges are checked
    /// afterwards by [`Kind::check`], like file values. `None` for kinds only a file can set.
    pub fn parse_env(self, raw: &str) -> Option<Result<Value, String>> {
        let expected = || self.expected();
        let parsed = match self {
            Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Value::Boolean(true)),
                "false" | "0" => Ok(Value::Boolean(false)),
                _ => Err(expected()),
            },
            Kind::Int { .. } | Kind::Ms { .. } => {
                parse_int(raw).map(Value::Integer).ok_or_else(expected)
            }
            Kind::Str
            | Kind::NonEmpty
            | Kind::IpAddr
            | Kind::OneOf(_)
            | Kind::LogLevel
            | Kind::RedisUrl => Ok(Value::String(raw.to_owned())),
            Kind::StrList | Kind::WordList(_) | Kind::NetList => Ok(Value::Array(
                comma_list(raw).map(|s| Value::String(s.into())).collect(),
            )),
            Kind::IntList { .. } => comma_list(raw)
                .map(|s| parse_int(s).map(Value::Integer).ok_or_else(expected))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Kind::MsTable => comma_list(raw)
                .map(|pair| {
                    let (name, ms) = pair.split_once('=').ok_or_else(expected)?;
                    let ms = parse_int(ms).ok_or_else(expected)?;
                    Ok((name.trim().to_owned(), Value::Integer(ms)))
                })
                .collect::<Result<toml::Table, String>>()
                .map(Value::Table),
            Kind::AliasTable => return None,
        };
        Some(parsed)
    }
}

/// What [`check_document`] found wrong.
#[derive(Debug)]
pub(super) enum Problem {
    /// A section or key the schema does not have, by dotted path.
    Unknown(String),
    /// A value of the wrong type or out of range.
    Bad(Bad),
}

/// Checks a whole document against the schema: known sections, known keys, valid values.
pub(super) fn check_document(root: &toml::Table) -> Result<(), Problem> {
    for (section, body) in root {
        if section == "providers" {
            super::providers::check_raw(body)?;
            continue;
        }
        if !KEYS.iter().any(|k| k.section == section) {
            return Err(Problem::Unknown(section.clone()));
        }
        let Value::Table(body) = body else {
            let expected = format!("a table [{section}]");
            return Err(Problem::Bad(Bad::new(
                section.as_str(),
                render(body),
                expected,
            )));
        };
        for (name, value) in body {
            let path = format!("{section}.{name}");
            let Some(key) = Key::find(section, name) else {
                return Err(Problem::Unknown(path));
            };
            key.kind.check(&path, value).map_err(Problem::Bad)?;
        }
    }
    Ok(())
}

/// Renders a value for a message: strings quoted, tables summarised.
pub(super) fn render(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Table(_) => "(a table)".into(),
        other => other.to_string(),
    }
}

/// Checks `[identity.aliases]`: tables of non-empty alias = non-empty canonical name.
fn check_aliases(path: &str, sports: &toml::Table) -> Result<(), Bad> {
    let expected = Kind::AliasTable.expected();
    for (sport, aliases) in sports {
        let sport_path = format!("{path}.{sport}");
        let Value::Table(aliases) = aliases else {
            return Err(Bad::new(sport_path, render(aliases), expected));
        };
        for (alias, canonical) in aliases {
            let ok = !alias.trim().is_empty()
                && canonical.as_str().is_some_and(|c| !c.trim().is_empty());
            if !ok {
                let key = format!("{sport_path}.{alias:?}");
                return Err(Bad::new(
                    key,
                    render(canonical),
                    "non-empty alias and canonical name",
                ));
            }
        }
    }
    Ok(())
}

/// A non-negative integer written as plain digits.
fn parse_int(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    // `i64::from_str` accepts a leading `+`; we only want plain digits.
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// The trimmed, non-empty items of a comma list (so a trailing comma is harmless).
fn comma_list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A bare word must be a level (typos like `infoo` would otherwise parse as a target name);
/// anything with `=` or `,` is a full filter directive.
fn log_level_ok(s: &str) -> bool {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    if !s.contains(['=', ',']) {
        return LEVELS.contains(&s.trim().to_ascii_lowercase().as_str());
    }
    tracing_subscriber::EnvFilter::try_new(s).is_ok()
}

/// Empty (Redis off) or a URL with one of the schemes the redis client understands.
pub(super) fn redis_url_ok(s: &str) -> bool {
    const SCHEMES: [&str; 4] = ["redis://", "rediss://", "redis+unix://", "unix://"];
    s.is_empty()
        || SCHEMES
            .iter()
            .any(|scheme| s.starts_with(scheme) && s.len() > scheme.len())
}
