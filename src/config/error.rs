//! Config errors, and where a bad value came from.
//!
//! A bad configuration must stop start-up with a message an operator can act on without reading
//! the source: which key, which value, where it was set (file or environment variable) and what
//! would be accepted instead.

use std::{fmt, io, path::PathBuf};

/// Why the configuration could not be loaded. Every message names the key or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}: {source} (choose another file with --config FILE)", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The config text is not valid TOML.
    #[error("config{origin} is not valid TOML: {source}")]
    Parse {
        /// The file (or inline text) that failed to parse.
        origin: Origin,
        /// The parser's message, with line and column (boxed: it is large, and rare).
        source: Box<toml::de::Error>,
    },
    /// The file has a section or key that inplay does not know (usually a typo).
    #[error("unknown config key `{key}`{origin}: see config/default.toml for every key")]
    UnknownKey {
        /// Dotted path of the unknown key, e.g. `server.shardz`.
        key: String,
        /// Where it was written.
        origin: Origin,
    },
    /// An `INPLAY_*` environment variable that matches no key (usually a typo).
    #[error(
        "unknown environment variable {name}: it names no config key \
         (expected INPLAY_<SECTION>_<KEY>, e.g. INPLAY_SERVER_SHARDS; see config/default.toml)"
    )]
    UnknownVar {
        /// The variable's name.
        name: String,
    },
    /// An `INPLAY_*` variable names a key that only the config file can set.
    #[error("environment variable {name} is not supported: set {key} in the config file instead")]
    EnvUnsupported {
        /// The variable's name.
        name: String,
        /// The key it would have set.
        key: String,
    },
    /// A value has the wrong type or is out of range.
    #[error("invalid value {value} for {key}{origin}: expected {expected}")]
    Invalid {
        /// Dotted path of the key, e.g. `server.shards` or `polling.sport_intervals.football`.
        key: String,
        /// The value as written (strings quoted).
        value: String,
        /// Where it was set.
        origin: Origin,
        /// What would be accepted.
        expected: String,
    },
    /// A secret file a `*_file` key names cannot be used.
    #[error("cannot use {key} {}{origin}: {reason}", path.display())]
    SecretFile {
        /// The file key, e.g. `auth.jwt_secret_file`.
        key: &'static str,
        /// The file it names.
        path: PathBuf,
        /// Where the file key was set.
        origin: Origin,
        /// What is wrong (never the secret itself).
        reason: String,
    },
    /// The checked document did not fit the typed config. This is a bug in inplay: the schema
    /// check should have caught it first.
    #[error("config does not fit the expected shape (this is a bug in inplay): {0}")]
    Shape(String),
}

/// Where a config value came from; shown in error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable, by name.
    Env(String),
    /// A config file, by path.
    File(PathBuf),
    /// Config text given as a string, or a `Config` built in code.
    Inline,
    /// Not set anywhere: the built-in default.
    Default,
}

// === impl Origin ===

impl fmt::Display for Origin {
    /// Formats as a suffix for messages: ` (from INPLAY_SERVER_SHARDS)`, ` (in prod.toml)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(name) => write!(f, " (from {name})"),
            Origin::File(path) => write!(f, " (in {})", path.display()),
            Origin::Inline => Ok(()),
            Origin::Default => f.write_str(" (built-in default)"),
        }
    }
}

/// A value that failed a check, before we know where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bad {
    /// Dotted key path.
    pub key: String,
    /// The value, rendered for humans.
    pub value: String,
    /// What would be accepted.
    pub expected: String,
}

// === impl Bad ===

impl Bad {
    /// A failed check of `key`, whose value renders as `value`.
    pub fn new(
        key: impl Into<String>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// Attaches the origin and turns this into the public error.
    pub fn at(self, origin: Origin) -> ConfigError {
        ConfigError::Invalid {
            key: self.key,
            value: self.value,
            origin,
            expected: self.expected,
        }
    }
}
