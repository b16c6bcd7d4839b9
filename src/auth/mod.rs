//! Bearer-token authentication and role checks.
//!
//! # Design
//!
//! A route declares who may call it ([`Access`], next to the route table in `api::routes`);
//! the request gate asks [`Auth::authorize`] before the handler runs. Tokens are JWTs
//! ([`jwt`]): the accepted algorithms are pinned by `auth.algorithms`, HS* tokens are checked
//! with `auth.jwt_secret` and public-key tokens with `auth.public_key_file`; `exp` is required,
//! `exp`/`nbf` are checked with `auth.leeway_ms`, and `iss`/`aud` when configured. The claims
//! inplay reads are `sub` and `roles` (an array of role names, see [`Role`]).
//!
//! Refusals follow RFC 6750: 401 with `WWW-Authenticate: Bearer realm="inplay"` when the
//! request has no token (and, as the RFC asks, no error code then), with `error="invalid_token"`
//! and an `error_description` when a token is wrong or cannot be checked (no key configured),
//! and with `error="invalid_request"` when `Authorization` is not a bearer token; 403 with
//! `error="insufficient_scope"` for a valid token without the route's role. The JSON body
//! repeats the description: `{"error": "...", "statusCode": 401}`.
//!
//! Verification is pure and `Send + Sync` (built once, shared by every shard); time is passed
//! in, so tests pin it.

mod jwt;
mod roles;

use std::fmt;

pub(crate) use jwt::Verifier;
pub(crate) use roles::{Access, Role};

use crate::{
    config::AuthConfig,
    http::{query_pairs, Response, Status},
};

/// Why a request was not let through.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    /// No token at all.
    #[error("missing bearer token: send Authorization: Bearer <token>")]
    Missing,
    /// `Authorization` with another scheme.
    #[error("Authorization must use the Bearer scheme")]
    NotBearer,
    /// No key to check this kind of token with.
    #[error("no verification key configured")]
    NoKey,
    /// Not three base64url parts with a JSON header naming a known algorithm.
    #[error("malformed token")]
    Malformed,
    /// Signed with an algorithm `auth.algorithms` does not pin.
    #[error("token algorithm {0} is not accepted")]
    AlgorithmNotAccepted(String),
    /// The signature does not match.
    #[error("invalid signature")]
    BadSignature,
    /// The claims are not the shape inplay reads (`roles` not an array of strings, ...).
    #[error("invalid claims")]
    BadClaims,
    /// No `exp`: a token that never expires is refused.
    #[error("token has no exp claim")]
    NoExpiry,
    /// `exp` (plus leeway) has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` (minus leeway) is still ahead.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` differs from `auth.issuer`.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not include `auth.audience`.
    #[error("wrong audience")]
    WrongAudience,
    /// A valid token without the route's role.
    #[error("requires role {}", .0.name())]
    Forbidden(Role),
}

/// What a request was granted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Grant {
    /// For a stream opened with a token: when the token stops being valid (unix ms), and so
    /// when the session must end.
    pub valid_until_ms: Option<i64>,
}

/// The configured authentication: the verifier and which routes need it.
pub(crate) struct Auth {
    verifier: Verifier,
    /// `auth.protect_reads`.
    protect_reads: bool,
    /// `websocket.require_auth`.
    ws_require_auth: bool,
}

// === impl Auth ===

impl Auth {
    /// Builds the authentication of `[auth]` and `websocket.require_auth`.
    ///
    /// # Errors
    /// A message naming the key file or algorithm at fault.
    pub fn try_new(config: &AuthConfig, ws_require_auth: bool) -> Result<Self, String> {
        Ok(Self {
            verifier: Verifier::try_new(config)?,
            protect_reads: config.protect_reads,
            ws_require_auth,
        })
    }

    /// Whether any key is configured.
    pub fn has_keys(&self) -> bool {
        self.verifier.has_keys()
    }

    /// Decides whether a request for a route of `access` may go on; `now_ms` (unix ms) is
    /// asked only when a token has to be checked.
    ///
    /// # Errors
    /// The [`AuthError`] to answer with ([`refusal`] turns it into the response).
    pub fn authorize(
        &self,
        access: Access,
        authorization: Option<&[u8]>,
        query: &str,
        now_ms: impl FnOnce() -> i64,
    ) -> Result<Grant, AuthError> {
        let needed = match access {
            Access::Public => false,
            Access::Read => self.protect_reads,
            Access::Stream => self.ws_require_auth || self.protect_reads,
            Access::Role(_) => true,
        };
        if !needed {
            return Ok(Grant::default());
        }
        if !self.verifier.has_keys() {
            return Err(AuthError::NoKey);
        }
        let token = match (bearer(authorization)?, access) {
            (Some(token), _) => token.to_owned(),
            (None, Access::Stream) => query_pairs(query)
                .find(|(k, v)| k == "token" && !v.is_empty())
                .map(|(_, v)| v)
                .ok_or(AuthError::Missing)?,
            (None, _) => return Err(AuthError::Missing),
        };
        let claims = self.verifier.verify(&token, now_ms())?;
        match access {
            Access::Role(role) if !claims.roles.contains(role) => Err(AuthError::Forbidden(role)),
            Access::Stream => Ok(Grant {
                valid_until_ms: Some(claims.valid_until_ms),
            }),
            _ => Ok(Grant::default()),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("has_keys", &self.has_keys())
            .field("protect_reads", &self.protect_reads)
            .field("ws_require_auth", &self.ws_require_auth)
            .finish_non_exhaustive()
    }
}

/// The token of an `Authorization: Bearer <token>` header; `None` without the header.
///
/// # Errors
/// [`AuthError::NotBearer`] for another scheme or an empty token.
fn bearer(authorization: Option<&[u8]>) -> Result<Option<&str>, AuthError> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let text = std::str::from_utf8(value).map_err(|_| AuthError::NotBearer)?;
    let (scheme, token) = text.split_once(' ').ok_or(AuthError::NotBearer)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(Some(token))
}

/// The response refusing a request for `err`: 401 or 403, `WWW-Authenticate` (RFC 6750) and
/// `{"error": description, "statusCode": n}`.
pub(crate) fn refusal(err: &AuthError) -> Response {
    let description = err.to_string();
    let (status, challenge) = match err {
        AuthError::Missing => (Status::UNAUTHORIZED, r#"Bearer realm="inplay""#.to_owned()),
        AuthError::NotBearer => (
            Status::UNAUTHORIZED,
            challenge("invalid_request", &description),
        ),
        AuthError::Forbidden(_) => (
            Status::FORBIDDEN,
            challenge("insufficient_scope", &description),
        ),
        _ => (
            Status::UNAUTHORIZED,
            challenge("invalid_token", &description),
        ),
    };
    Response::refusal(status, &description).header(format!("WWW-Authenticate: {challenge}"))
}

/// A `Bearer` challenge with an error code and description. Descriptions are our own fixed
/// texts (plus an algorithm name); quotes and backslashes are dropped all the same.
fn challenge(code: &str, description: &str) -> String {
    let safe: String = description
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect();
    format!(r#"Bearer realm="inplay", error="{code}", error_description="{safe}""#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer(None), Ok(None));
        assert_eq!(bearer(Some(b"Bearer abc.def.ghi")), Ok(Some("abc.def.ghi")));
        assert_eq!(bearer(Some(b"bearer   x ")), Ok(Some("x")));
        assert_eq!(bearer(Some(b"Basic dXNlcg==")), Err(AuthError::NotBearer));
        assert_eq!(bearer(Some(b"Bearer")), Err(AuthError::NotBearer));
        assert_eq!(bearer(Some(b"Bearer \xff")), Err(AuthError::NotBearer));
    }

    #[test]
    fn refusals_follow_rfc_6750() {
        let r = refusal(&AuthError::Missing);
        assert_eq!(r.status, Status::UNAUTHORIZED);
        assert_eq!(
            r.extra_headers,
            [r#"WWW-Authenticate: Bearer realm="inplay""#]
        );
        let r = refusal(&AuthError::Expired);
        assert!(r.extra_headers[0]
            .contains(r#"error="invalid_token", error_description="token expired""#));
        let body: serde_json::Value = serde_json::from_slice(r.body_bytes()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": "token expired", "statusCode": 401})
        );
        let r = refusal(&AuthError::Forbidden(Role::Admin));
        assert_eq!(r.status, Status::FORBIDDEN);
        assert!(r.extra_headers[0].contains("insufficient_scope"));
        assert_eq!(
            challenge("x", "a\"b\\c\n"),
            r#"Bearer realm="inplay", error="x", error_description="abc""#
        );
    }
}
