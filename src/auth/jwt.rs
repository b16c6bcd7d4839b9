//! Verifying a JWT: pinned algorithms, one key per key type, then our own claim checks.
//!
//! jsonwebtoken checks the header's `alg` against the pinned list and the signature with the
//! key of that algorithm's type; everything about time, issuer and audience is checked here,
//! with millisecond leeway and messages of our own. The shared secret (HS*) and the public key
//! (RS*/PS*/ES*/EdDSA) are separate keys chosen by the algorithm's type, so a token signed with
//! HMAC over the public key's bytes (RS256 → HS256 key confusion) is checked against the
//! secret, or refused outright when no HS* algorithm is pinned. `alg: none` is not an algorithm
//! jsonwebtoken parses: such a token is malformed.

use std::{fs, str::FromStr};

use jsonwebtoken::{decode, decode_header, errors::ErrorKind, Algorithm, AlgorithmFamily};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;

use super::{roles::RoleSet, AuthError};
use crate::config::AuthConfig;

/// Verifies tokens against the configured keys and claims.
pub(crate) struct Verifier {
    /// The pinned algorithms.
    algorithms: Vec<Algorithm>,
    /// Key for HS*, if a secret is configured.
    secret: Option<Keyed>,
    /// The public key, if a key file is configured.
    public: Option<Keyed>,
    /// Clock skew allowed on `exp` and `nbf`, in milliseconds.
    leeway_ms: i64,
    /// Required `iss`, if any.
    issuer: Option<String>,
    /// Required `aud`, if any.
    audience: Option<String>,
}

/// A key and the signature-only validation of its algorithms: jsonwebtoken checks `alg` and
/// the signature, no claims. (It insists that every algorithm of a validation is of the key's
/// type, hence one per key.)
struct Keyed {
    family: AlgorithmFamily,
    key: DecodingKey,
    validation: Validation,
}

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    /// `sub`, if present.
    pub sub: Option<String>,
    /// The known roles of `roles`.
    pub roles: RoleSet,
    /// When the token stops being accepted (`exp` plus the leeway), unix milliseconds.
    pub valid_until_ms: i64,
}

/// The claims as sent; every field optional so a missing one gets our own message.
#[derive(Deserialize)]
struct RawClaims {
    sub: Option<String>,
    roles: Option<Vec<String>>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iss: Option<String>,
    aud: Option<Audience>,
}

/// `aud` is one string or an array of them (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

// === impl Verifier ===

impl Verifier {
    /// Builds the verifier of `[auth]`, reading the public key file if one is named.
    ///
    /// # Errors
    /// A message naming the key file or algorithm at fault.
    pub fn try_new(config: &AuthConfig) -> Result<Self, String> {
        let algorithms = config
            .algorithms
            .iter()
            .map(|a| Algorithm::from_str(a).map_err(|_| format!("unknown JWT algorithm {a:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        let hmac = algorithms
            .iter()
            .any(|a| a.family() == AlgorithmFamily::Hmac);
        let secret = (hmac && !config.jwt_secret.is_empty()).then(|| {
            let key = DecodingKey::from_secret(config.jwt_secret.as_bytes());
            Keyed::new(AlgorithmFamily::Hmac, key, &algorithms)
        });
        let public = match algorithms
            .iter()
            .find(|a| a.family() != AlgorithmFamily::Hmac)
        {
            Some(alg) if !config.public_key_file.is_empty() => {
                let family = alg.family();
                let key = read_public_key(&config.public_key_file, family)?;
                Some(Keyed::new(family, key, &algorithms))
            }
            _ => None,
        };
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(Self {
            algorithms,
            secret,
            public,
            leeway_ms: i64::try_from(config.leeway.as_millis()).unwrap_or(i64::MAX),
            issuer: nonempty(&config.issuer),
            audience: nonempty(&config.audience),
        })
    }

    /// Whether any key is configured; without one no token can be accepted.
    pub fn has_keys(&self) -> bool {
        self.secret.is_some() || self.public.is_some()
    }

    /// Verifies `token` at `now_ms` (unix milliseconds).
    ///
    /// # Errors
    /// The [`AuthError`] saying what is wrong with the token.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAccepted(format!("{:?}", header.alg)));
        }
        let family = header.alg.family();
        let keyed = [&self.secret, &self.public]
            .into_iter()
            .flatten()
            .find(|k| k.family == family)
            .ok_or(AuthError::NoKey)?;
        let raw = decode::<RawClaims>(token, &keyed.key, &keyed.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::Json(_) => AuthError::BadClaims,
                _ => AuthError::Malformed,
            })?
            .claims;
        self.check_claims(raw, now_ms)
    }

    /// The checks jsonwebtoken was told to skip: time, issuer, audience.
    fn check_claims(&self, raw: RawClaims, now_ms: i64) -> Result<Claims, AuthError> {
        let exp_ms = raw.exp.map(secs_to_ms).ok_or(AuthError::NoExpiry)?;
        let valid_until_ms = exp_ms.saturating_add(self.leeway_ms);
        if now_ms >= valid_until_ms {
            return Err(AuthError::Expired);
        }
        if raw
            .nbf
            .is_some_and(|nbf| now_ms.saturating_add(self.leeway_ms) < secs_to_ms(nbf))
        {
            return Err(AuthError::NotYetValid);
        }
        if let Some(issuer) = &self.issuer {
            if raw.iss.as_deref() != Some(issuer) {
                return Err(AuthError::WrongIssuer);
            }
        }
        if let Some(audience) = &self.audience {
            let ok = match &raw.aud {
                Some(Audience::One(a)) => a == audience,
                Some(Audience::Many(all)) => all.iter().any(|a| a == audience),
                None => false,
            };
            if !ok {
                return Err(AuthError::WrongAudience);
            }
        }
        let roles = raw.roles.unwrap_or_default();
        Ok(Claims {
            sub: raw.sub,
            roles: RoleSet::from_names(roles.iter().map(String::as_str)),
            valid_until_ms,
        })
    }
}

// === impl Keyed ===

impl Keyed {
    /// `key` for the algorithms of `family` among the pinned `algorithms`.
    fn new(family: AlgorithmFamily, key: DecodingKey, algorithms: &[Algorithm]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = algorithms
            .iter()
            .copied()
            .filter(|a| a.family() == family)
            .collect();
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        Self {
            family,
            key,
            validation,
        }
    }
}

/// A NumericDate (seconds, maybe fractional) as milliseconds; saturating, never panicking.
fn secs_to_ms(secs: f64) -> i64 {
    // `as` saturates at the i64 range and maps NaN to 0; JSON has no NaN anyway.
    (secs * 1000.0) as i64
}

/// Reads the PEM public key for algorithms of `family`.
fn read_public_key(path: &str, family: AlgorithmFamily) -> Result<DecodingKey, String> {
    let pem =
        fs::read(path).map_err(|e| format!("cannot read auth.public_key_file {path:?}: {e}"))?;
    let key = match family {
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(&pem),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(&pem),
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(&pem),
        AlgorithmFamily::Hmac => {
            return Err("HS* algorithms use auth.jwt_secret, not a key file".into())
        }
    };
    let kind = match family {
        AlgorithmFamily::Rsa => "an RSA",
        AlgorithmFamily::Ec => "an EC",
        _ => "an Ed25519",
    };
    key.map_err(|e| {
        format!(
            "auth.public_key_file {path:?} is not {kind} public key in PEM form, \
             as auth.algorithms needs ({e})"
        )
    })
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
