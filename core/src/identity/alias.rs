//! Alias tables: the names providers use for a team that normalisation alone cannot reconcile
//! ("Man Utd" for "Manchester United", "Spurs" for "Tottenham Hotspur").
//!
//! Aliases are per sport because the same short name means different teams in different sports
//! ("Rangers" in soccer, "NY Rangers" in hockey). The built-in table is compiled in from
//! `core/data/aliases.toml`; the server can add more at start-up. Every mapping is explicit:
//! nothing here guesses.

use std::collections::HashMap;

use thiserror::Error;

use super::normalise::normalise_team;

/// The aliases shipped with inplay.
const BUILTIN: &str = include_str!("../../data/aliases.toml");

/// A line of an alias file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("alias file line {line}: {reason}")]
pub struct AliasParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Per sport: normalised alias → normalised canonical name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AliasTable {
    /// Keyed by lower-case sport, then by normalised alias.
    by_sport: HashMap<String, HashMap<String, String>>,
}

// === impl AliasTable ===

impl AliasTable {
    /// The built-in aliases from `core/data/aliases.toml`. Parses the text on every call: build
    /// it once at start-up and share it.
    pub fn builtin() -> Self {
        // The file is compiled in and a unit test parses it, so an error here cannot reach a
        // release; an empty table is the harmless fallback if it ever did.
        Self::parse(BUILTIN).unwrap_or_default()
    }

    /// A table with no aliases: names only meet after normalisation.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads the alias format: `[sport]` section headers and `"alias" = "canonical"` lines;
    /// blank lines and `#` comments are ignored. Strings have no escapes (team names need none).
    ///
    /// # Errors
    /// [`AliasParseError`] for the first line that is neither of those, or an alias line
    /// before any section.
    pub fn parse(text: &str) -> Result<Self, AliasParseError> {
        let mut table = Self::empty();
        let mut sport: Option<&str> = None;
        for (i, raw) in text.lines().enumerate() {
            let err = |reason| AliasParseError {
                line: i + 1,
                reason,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let name = name.trim();
                if name.is_empty() {
                    return Err(err("empty section name"));
                }
                sport = Some(name);
                continue;
            }
            let (alias, canonical) =
                parse_pair(line).ok_or_else(|| err("expected \"a\" = \"b\""))?;
            let sport = sport.ok_or_else(|| err("alias before any [sport] section"))?;
            table.add(sport, alias, canonical);
        }
        Ok(table)
    }

    /// Adds `alias` → `canonical` for `sport`; both names are normalised on insert, so any
    /// spelling of either works. A later alias for the same name replaces the earlier one.
    pub fn add(&mut self, sport: &str, alias: &str, canonical: &str) {
        let (alias, canonical) = (normalise_team(alias), normalise_team(canonical));
        if alias.is_empty() || alias == canonical {
            return;
        }
        self.by_sport
            .entry(sport_key(sport))
            .or_default()
            .insert(alias, canonical);
    }

    /// The canonical name of `name` in `sport`: its normalised form, mapped through the alias
    /// table if it is an alias (one step: aliases point at canonical names, not at aliases).
    pub fn canonical(&self, sport: &str, name: &str) -> String {
        let normal = normalise_team(name);
        self.by_sport
            .get(sport_key(sport).as_str())
            .and_then(|aliases| aliases.get(&normal))
            .cloned()
            .unwrap_or(normal)
    }

    /// Number of aliases over all sports.
    pub fn len(&self) -> usize {
        self.by_sport.values().map(HashMap::len).sum()
    }

    /// Whether the table has no aliases.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sports are compared by trimmed lower-case name.
pub(super) fn sport_key(sport: &str) -> String {
    sport.trim().to_lowercase()
}

/// Parses `"alias" = "canonical"` (a trailing `# comment` is allowed).
fn parse_pair(line: &str) -> Option<(&str, &str)> {
    let (alias, rest) = quoted(line)?;
    let rest = rest.trim_start().strip_prefix('=')?;
    let (canonical, rest) = quoted(rest.trim_start())?;
    let rest = rest.trim();
    (rest.is_empty() || rest.starts_with('#')).then_some((alias, canonical))
}

/// Splits a leading `"..."` off `s`: (contents, remainder).
fn quoted(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_prefix('"')?;
    let end = body.find('"')?;
    Some((&body[..end], &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_file_parses_and_maps_real_names() {
        AliasTable::parse(BUILTIN).expect("core/data/aliases.toml is valid");
        let t = AliasTable::builtin();
        assert!(t.len() > 60, "{}", t.len());
        assert_eq!(
            t.canonical("soccer", "Man Utd"),
            t.canonical("soccer", "Manchester United")
        );
        assert_eq!(t.canonical("soccer", "Tottenham"), "tottenham hotspur");
        assert_eq!(t.canonical("Soccer ", "Spurs"), "tottenham hotspur");
        assert_eq!(t.canonical("basketball", "LA Lakers"), "los angeles lakers");
        assert_eq!(t.canonical("hockey", "NY Rangers"), "new york rangers");
        assert_eq!(t.canonical("football", "NY Giants"), "new york giants");
        // Per sport: a soccer alias does not leak into basketball.
        assert_eq!(t.canonical("basketball", "Spurs"), "spurs");
    }

    #[test]
    fn every_builtin_alias_points_at_a_canonical_name() {
        let t = AliasTable::builtin();
        for (sport, aliases) in &t.by_sport {
            for (alias, canonical) in aliases {
                assert!(
                    !aliases.contains_key(canonical),
                    "{sport}: {alias} -> alias {canonical}"
                );
            }
        }
    }

    #[test]
    fn parse_reports_bad_lines() {
        let bad = |text: &str| AliasTable::parse(text).unwrap_err().line;
        assert_eq!(bad("\"a\" = \"b\""), 1);
        assert_eq!(bad("[soccer]\n\n\"a\" = b"), 3);
        assert_eq!(bad("[soccer]\n\"a\" = \"b\" junk"), 2);
        assert_eq!(bad("[]"), 1);
        let t = AliasTable::parse("# c\n[soccer]\n  \"Man Utd\" = \"Manchester United\" # ok\n");
        assert_eq!(
            t.unwrap().canonical("soccer", "man utd"),
            "manchester united"
        );
    }

    #[test]
    fn add_normalises_both_sides() {
        let mut t = AliasTable::empty();
        assert!(t.is_empty());
        t.add("soccer", "Atlético", "Club Atlético de Madrid");
        t.add("soccer", "FC", "FC");
        assert_eq!(t.len(), 1);
        assert_eq!(t.canonical("soccer", "ATLETICO"), "atletico de madrid");
    }
}
