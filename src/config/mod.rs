//! The server's configuration: a TOML file, overridden by environment variables.
//!
//! `inplay --config FILE` reads `FILE` (default `config/default.toml`, which documents every key
//! and runs as is: demo data, no Redis, no PostgreSQL). Then `INPLAY_<SECTION>_<KEY>` variables
//! override single keys (`INPLAY_SERVER_SHARDS=2`, `INPLAY_RATE_LIMIT_ENABLED=false`), and the
//! original service's variables (`PORT`, `HOST`, `LOG_LEVEL`, `REDIS_URL`, `DB_*`, `JWT_SECRET`,
//! `ALLOWED_ORIGINS`, `POLLING_DEFAULT_INTERVAL`) keep working; `INPLAY_*` wins when both are set.
//!
//! Loading is strict so that mistakes surface at start-up, not in production traffic: unknown
//! keys and unknown `INPLAY_*` variables are errors, and every error names the key, the value,
//! where it was set and what is allowed. The pipeline is: parse the file to a TOML table, write
//! the overrides into it, check every key against the [schema], deserialise into
//! [`Config`], then check the rules between keys.

mod env;
mod error;
mod keys;
mod ms;
mod providers;
mod schema;
mod secrets;
mod sections;
mod security;
mod storage;
mod validate;

#[cfg(test)]
mod env_tests;
#[cfg(test)]
mod providers_tests;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;

use std::{fs, path::Path};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

pub use env::{check_env_names, inplay_var_names, process_env};
pub use error::{ConfigError, Origin};
pub use providers::{ProviderConfig, ProviderKind};
pub use sections::{
    DemoConfig, HttpConfig, IdentityConfig, LogConfig, LogFormat, MarketsConfig, PollingConfig,
    ServerConfig, WebSocketConfig,
};
pub use security::{AuthConfig, CorsConfig, RateLimitConfig, TlsConfig};
pub use storage::{BetsConfig, PostgresConfig, RedisConfig, StorageConfig};

use env::Overrides;
use schema::{Problem, MAX_SHARDS};

/// The whole server configuration, one field per TOML section.
///
/// `Config::default()` equals `config/default.toml` (a test keeps them in step).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`: socket, shards, cpus, shutdown.
    pub server: ServerConfig,
    /// `[http]`: HTTP limits and timeouts.
    pub http: HttpConfig,
    /// `[websocket]`: WebSocket limits and timers.
    pub websocket: WebSocketConfig,
    /// `[log]`: level and format.
    pub log: LogConfig,
    /// `[demo]`: the built-in simulated providers.
    pub demo: DemoConfig,
    /// `[polling]`: polling intervals.
    pub polling: PollingConfig,
    /// `[identity]`: match identity and team aliases.
    pub identity: IdentityConfig,
    /// `[markets]`: market list limits.
    pub markets: MarketsConfig,
    /// `[redis]`: optional Redis.
    pub redis: RedisConfig,
    /// `[postgres]`: optional PostgreSQL.
    pub postgres: PostgresConfig,
    /// `[storage]`: local data directory and the PostgreSQL journal's bound.
    pub storage: StorageConfig,
    /// `[bets]`: bet validation limits.
    pub bets: BetsConfig,
    /// `[auth]`: bearer tokens: keys, pinned algorithms, claims checked.
    pub auth: AuthConfig,
    /// `[cors]`: allowed origins.
    pub cors: CorsConfig,
    /// `[rate_limit]`: per-client-IP request limits.
    pub rate_limit: RateLimitConfig,
    /// `[tls]`: native TLS (off by default).
    pub tls: TlsConfig,
    /// `[[providers]]`: real sports-data providers (none by default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderConfig>,
}

// === impl Config ===

impl Config {
    /// Loads `path` (or the built-in defaults when `None`, which equal `config/default.toml`),
    /// applies the environment read through `env`, and validates the result.
    ///
    /// This cannot see which `INPLAY_*` variables exist; pair it with [`check_env_names`], or
    /// use [`Config::from_process`].
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, key or variable at fault.
    pub fn load(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Self::build(Table::new(), Origin::Inline, env);
        };
        let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, Origin::File(path.to_owned()), env)
    }

    /// Loads config text, with the environment read through `env`. Test-only: the server always
    /// loads a file (or the defaults) through [`Config::load`].
    ///
    /// # Errors
    /// As [`Config::load`].
    #[cfg(test)]
    pub fn from_toml_str(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::parse(text, Origin::Inline, env)
    }

    /// Loads `path` with the real process environment, rejecting unknown `INPLAY_*` variables
    /// first. This is what `main` calls.
    ///
    /// # Errors
    /// As [`Config::load`] and [`check_env_names`].
    pub fn from_process(path: Option<&Path>) -> Result<Self, ConfigError> {
        check_env_names(inplay_var_names())?;
        Self::load(path, &process_env)
    }

    /// Number of shards to run on a machine with `available_cores` usable cores: `shards` if set,
    /// else one per cpu in `cpus`, else one per core; always in `1..=1024`.
    pub fn resolved_shards(&self, available_cores: usize) -> usize {
        let wanted = match (self.server.shards, self.server.cpus.len()) {
            (0, 0) => available_cores,
            (0, cpus) => cpus,
            (shards, _) => shards,
        };
        // MAX_SHARDS is a small positive constant, so the cast is lossless.
        wanted.clamp(1, MAX_SHARDS as usize)
    }

    fn parse(
        text: &str,
        origin: Origin,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file: Table = text.parse().map_err(|source| ConfigError::Parse {
            origin: origin.clone(),
            source: Box::new(source),
        })?;
        Self::build(file, origin, env)
    }

    /// The pipeline: overrides, schema check, deserialise, cross-key check.
    fn build(
        file: Table,
        file_origin: Origin,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut root = file.clone();
        let overrides = env::apply(&mut root, env)?;
        let sources = Sources {
            file,
            file_origin,
            overrides,
        };
        schema::check_document(&root).map_err(|problem| {
            let origin = sources.origin_of(problem.key());
            problem.at(origin)
        })?;
        let mut config: Config = Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Shape(e.to_string()))?;
        config.read_secret_files(&sources)?;
        config
            .check_relations()
            .and_then(|()| providers::check_relations(&config.providers, env))
            .map_err(|bad| {
                let origin = config
                    .secret_origin(&bad.key)
                    .unwrap_or_else(|| sources.origin_of(&bad.key));
                bad.at(origin)
            })?;
        Ok(config)
    }
}

/// Where each key's value came from, for error messages.
struct Sources {
    /// The file as parsed, before overrides.
    file: Table,
    /// The file's origin (its path, or inline text).
    file_origin: Origin,
    /// Keys set by environment variables.
    overrides: Overrides,
}

// === impl Sources ===

impl Sources {
    /// Whether a dotted `section.name` key was set (in the file or by a variable), as opposed
    /// to left at its default.
    fn is_set(&self, key: &str) -> bool {
        self.origin_of(key) != Origin::Default
    }

    /// The origin of a dotted key. Table entries (`polling.sport_intervals.nba`) share their
    /// table's origin, because a table is replaced as a whole, never merged.
    fn origin_of(&self, key: &str) -> Origin {
        let mut parts = key.splitn(3, '.');
        let section = parts.next().unwrap_or_default();
        let name = parts.next();
        if let Some(name) = name {
            if let Some(var) = self.overrides.get(&format!("{section}.{name}")) {
                return Origin::Env(var.clone());
            }
        }
        let in_file = match (self.file.get(section), name) {
            (Some(_), None) => true,
            (Some(Value::Table(body)), Some(name)) => body.contains_key(name),
            _ => false,
        };
        if in_file {
            self.file_origin.clone()
        } else {
            Origin::Default
        }
    }
}

// === impl Problem ===

impl Problem {
    /// The dotted key at fault.
    fn key(&self) -> &str {
        match self {
            Problem::Unknown(key) => key,
            Problem::Bad(bad) => &bad.key,
        }
    }

    /// Attaches the origin and turns this into the public error.
    fn at(self, origin: Origin) -> ConfigError {
        match self {
            Problem::Unknown(key) => ConfigError::UnknownKey { key, origin },
            Problem::Bad(bad) => bad.at(origin),
        }
    }
}
