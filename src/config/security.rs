//! The security sections: `[auth]` (bearer tokens), `[cors]`, `[rate_limit]` and `[tls]`.
//!
//! Kept apart from the other sections because they are read together by the request gate
//! (`api::gate`) and because `[auth]` holds secrets, which never show in `Debug`. `[tls]` names
//! files only; `http::tls` reads them at start-up.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

use super::{ms, storage::redacted};

/// The original service's published placeholder secret. Start-up refuses it outside dev mode:
/// anyone can mint tokens with it.
pub const PLACEHOLDER_SECRET: &str = "your-secret-key-change-in-production";

/// JWT algorithms `auth.algorithms` accepts (the names of the JOSE `alg` header).
pub const ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// `[auth]`: bearer tokens (JWT) for protected routes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Shared secret for the HS* algorithms; empty = none configured (redacted in `Debug`).
    pub jwt_secret: String,
    /// File holding the shared secret instead (read at start-up, trailing line ends trimmed);
    /// empty = none.
    pub jwt_secret_file: String,
    /// PEM file with the public key for the RS*/PS*/ES*/EdDSA algorithms; empty = none.
    pub public_key_file: String,
    /// The only algorithms a token may be signed with. A token whose `alg` is not listed is
    /// refused before any key is touched, which rules out `alg: none` and key confusion.
    pub algorithms: Vec<String>,
    /// Clock skew allowed when checking `exp` and `nbf`.
    #[serde(rename = "leeway_ms", with = "ms")]
    pub leeway: Duration,
    /// Required `iss` claim; empty = not checked.
    pub issuer: String,
    /// Required `aud` claim (one of the token's audiences); empty = not checked.
    pub audience: String,
    /// Whether reads (scores, markets, matches, polling status) need a valid token too.
    pub protect_reads: bool,
}

/// `[cors]`: cross-origin requests from browsers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins allowed to call the API with credentials; `*` allows any origin (echoed back,
    /// never a literal `*`, since credentials are allowed). Empty = no CORS headers.
    pub allowed_origins: Vec<String>,
    /// How long a browser may cache a preflight answer (`Access-Control-Max-Age`, whole
    /// seconds on the wire).
    #[serde(rename = "max_age_ms", with = "ms")]
    pub max_age: Duration,
}

/// `[rate_limit]`: per-client-IP request limits (GCRA), per route class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Whether requests are limited.
    pub enabled: bool,
    /// Sustained reads one client may make per minute, over all shards.
    pub requests_per_minute: u32,
    /// Reads one client may make at once (the bucket size), over all shards.
    pub burst: u32,
    /// Sustained writes (POST routes) one client may make per minute, over all shards.
    pub write_requests_per_minute: u32,
    /// Writes one client may make at once, over all shards.
    pub write_burst: u32,
    /// Proxies (IPs or CIDR ranges) whose `X-Forwarded-For` is believed; for any other peer the
    /// connection's address is the client.
    pub trusted_proxies: Vec<String>,
    /// Clients one shard tracks at most; beyond it idle clients are forgotten first.
    pub max_clients_per_shard: usize,
}

/// TLS protocol versions `tls.min_version` accepts.
pub const TLS_VERSIONS: &[&str] = &["1.2", "1.3"];

/// `[tls]`: native TLS on the listening port (both files empty = off, plain HTTP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first; empty = TLS off.
    pub cert_file: String,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1); empty = TLS off.
    pub key_file: String,
    /// Oldest protocol version offered: `"1.2"` or `"1.3"`.
    pub min_version: String,
}

// === impl Default ===

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: String::new(),
            jwt_secret_file: String::new(),
            public_key_file: String::new(),
            algorithms: vec!["HS256".into()],
            leeway: Duration::from_secs(30),
            issuer: String::new(),
            audience: String::new(),
            protect_reads: false,
        }
    }
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            max_age: Duration::from_secs(600),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            requests_per_minute: 100,
            burst: 100,
            write_requests_per_minute: 30,
            write_burst: 10,
            trusted_proxies: Vec::new(),
            max_clients_per_shard: 65_536,
        }
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert_file: String::new(),
            key_file: String::new(),
            min_version: "1.2".into(),
        }
    }
}

// === impl TlsConfig ===

impl TlsConfig {
    /// Whether the listening port speaks TLS (both files named; the config check refuses one
    /// without the other).
    pub fn enabled(&self) -> bool {
        !self.cert_file.is_empty() && !self.key_file.is_empty()
    }
}

// === impl AuthConfig ===

impl AuthConfig {
    /// Whether a pinned algorithm needs the shared secret (HS*).
    pub fn wants_secret(&self) -> bool {
        self.algorithms.iter().any(|a| a.starts_with("HS"))
    }

    /// The pinned algorithms that need the public key (everything but HS*).
    pub fn public_key_algorithms(&self) -> impl Iterator<Item = &str> {
        self.algorithms
            .iter()
            .map(String::as_str)
            .filter(|a| !a.starts_with("HS"))
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("jwt_secret", &redacted(&self.jwt_secret))
            .field("jwt_secret_file", &self.jwt_secret_file)
            .field("public_key_file", &self.public_key_file)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("protect_reads", &self.protect_reads)
            .finish()
    }
}
