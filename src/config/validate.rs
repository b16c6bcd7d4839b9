//! Checks that span several keys (cpus vs shards, intervals vs the minimum, limits).
//!
//! Single keys are checked against the schema before deserialising; what is left are rules that
//! relate keys to each other, checked on the typed config.

use std::{collections::BTreeSet, time::Duration};

use super::{error::Bad, sections::Intervals, security::PLACEHOLDER_SECRET, Config};

// === impl Config ===

impl Config {
    /// Checks the rules that relate keys to each other; the error names the key to change.
    pub(super) fn check_relations(&self) -> Result<(), Bad> {
        self.check_cpus()?;
        self.check_intervals()?;
        self.check_auth()?;
        self.check_tls()?;
        if self.bets.min_stake_cents > self.bets.max_stake_cents {
            return Err(Bad::new(
                "bets.min_stake_cents",
                self.bets.min_stake_cents.to_string(),
                format!(
                    "at most bets.max_stake_cents ({})",
                    self.bets.max_stake_cents
                ),
            ));
        }
        let markets = &self.markets;
        if markets.default_limit > markets.max_limit {
            return Err(Bad::new(
                "markets.default_limit",
                markets.default_limit.to_string(),
                format!("at most markets.max_limit ({})", markets.max_limit),
            ));
        }
        Ok(())
    }

    /// `cpus`: distinct, and one per shard when both are set.
    fn check_cpus(&self) -> Result<(), Bad> {
        let server = &self.server;
        let cpus = &server.cpus;
        let render = || format!("{cpus:?}");
        let mut seen = BTreeSet::new();
        if let Some(dup) = cpus.iter().find(|&&cpu| !seen.insert(cpu)) {
            let expected = format!("distinct cpu ids ({dup} appears more than once)");
            return Err(Bad::new("server.cpus", render(), expected));
        }
        if !cpus.is_empty() && cpus.len() < server.shards {
            let expected = format!(
                "at least server.shards ({}) cpus, one per shard, or an empty list",
                server.shards
            );
            return Err(Bad::new("server.cpus", render(), expected));
        }
        Ok(())
    }

    /// Every polling interval is at least `min_interval`.
    fn check_intervals(&self) -> Result<(), Bad> {
        let polling = &self.polling;
        let min = polling.min_interval;
        let at_least = || format!("at least polling.min_interval_ms ({} ms)", min.as_millis());
        let single = [
            ("polling.default_interval_ms", polling.default_interval),
            ("polling.demo_interval_ms", polling.demo_interval),
        ];
        for (key, interval) in single {
            if interval < min {
                return Err(Bad::new(key, ms(interval), at_least()));
            }
        }
        let tables: [(&str, &Intervals); 4] = [
            ("sport_intervals", &polling.sport_intervals),
            ("league_intervals", &polling.league_intervals),
            ("match_intervals", &polling.match_intervals),
            ("provider_intervals", &polling.provider_intervals),
        ];
        for (table, intervals) in tables {
            if let Some((name, interval)) = intervals.iter().find(|(_, &d)| d < min) {
                let key = format!("polling.{table}.{name}");
                return Err(Bad::new(key, ms(*interval), at_least()));
            }
        }
        Ok(())
    }
}

impl Config {
    /// `[auth]`: no published placeholder secret outside dev mode, and a public key file only
    /// with algorithms of one public-key family that use it.
    fn check_auth(&self) -> Result<(), Bad> {
        let auth = &self.auth;
        if auth.jwt_secret == PLACEHOLDER_SECRET && !self.server.dev_mode {
            return Err(Bad::new(
                "auth.jwt_secret",
                "(the original service's published placeholder)",
                "a real secret: anyone can mint tokens with the placeholder \
                 (set server.dev_mode = true to allow it on a development machine)",
            ));
        }
        let mut families = auth.public_key_algorithms().map(family);
        let first = families.next();
        if first.is_some_and(|f| families.any(|g| g != f)) {
            return Err(Bad::new(
                "auth.algorithms",
                format!("{:?}", auth.algorithms),
                "public-key algorithms of one key type only (RS*/PS*, ES* or EdDSA): \
                 auth.public_key_file holds one key",
            ));
        }
        if !auth.public_key_file.is_empty() && first.is_none() {
            return Err(Bad::new(
                "auth.public_key_file",
                format!("{:?}", auth.public_key_file),
                "no file unless auth.algorithms pins a public-key algorithm \
                 (RS256, ES256, ...) that uses it",
            ));
        }
        Ok(())
    }
}

impl Config {
    /// `[tls]`: both files or neither; one alone is most likely a typo in the other's name.
    fn check_tls(&self) -> Result<(), Bad> {
        let tls = &self.tls;
        let missing = match (tls.cert_file.is_empty(), tls.key_file.is_empty()) {
            (true, false) => ("tls.cert_file", "tls.key_file"),
            (false, true) => ("tls.key_file", "tls.cert_file"),
            _ => return Ok(()),
        };
        Err(Bad::new(
            missing.0,
            "\"\"",
            format!(
                "a PEM file, since {} is set (TLS needs both files; leave both empty for plain HTTP)",
                missing.1
            ),
        ))
    }
}

/// The key type a public-key algorithm needs: RSA for RS*/PS*, else its own prefix.
fn family(alg: &str) -> &str {
    match alg.get(..2) {
        Some("RS" | "PS") => "RSA",
        Some(prefix) => prefix,
        None => alg,
    }
}

/// Whole milliseconds, for messages.
fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}
