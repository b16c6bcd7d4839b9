//! Why a payload could not be used at all, and what a provider's own error body said.
//!
//! [`FeedError`] is the one error type of every parser. [`ProviderError`] is the classified
//! error body of a provider (HTTP status plus its code), so the poller can react per kind:
//! back off on a rate limit, stop polling on an exhausted quota, alert on a bad key.

use thiserror::Error;

/// A payload that could not be parsed as a whole. Bad items inside a good payload are not
/// errors; they are counted in [`ParseReport`](super::ParseReport).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FeedError {
    /// The bytes are not JSON (the message is serde_json's, with line and column).
    #[error("payload is not JSON: {0}")]
    Json(String),
    /// The JSON is not the shape the endpoint documents; the message names the JSON path
    /// (`$.response: expected an array`).
    #[error("unexpected payload shape: {0}")]
    Shape(String),
    /// The provider answered with an error body instead of data.
    #[error("provider error {code}: {message}")]
    Provider {
        /// The provider's error code (`OUT_OF_USAGE_CREDITS`, `token`, ...).
        code: String,
        /// The provider's message.
        message: String,
    },
}

/// How the poller should treat a provider error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderErrorKind {
    /// The key is wrong or revoked: polling again will not help.
    Auth,
    /// The usage quota is used up (even when served as HTTP 401): wait for the reset.
    Quota,
    /// Too many requests too fast: back off and retry.
    RateLimited,
    /// Anything else (unknown sport, unknown event, server trouble).
    Other,
}

/// A provider's error response, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    /// How to react to it.
    pub kind: ProviderErrorKind,
    /// The HTTP status it came with.
    pub status: u16,
    /// The provider's error code, empty if it sent none.
    pub code: String,
    /// The provider's message, empty if it sent none.
    pub message: String,
    /// Where the provider documents the error, if it said.
    pub details_url: Option<String>,
}

impl From<ProviderError> for FeedError {
    fn from(e: ProviderError) -> Self {
        Self::Provider {
            code: e.code,
            message: e.message,
        }
    }
}

/// The serde_json error as a [`FeedError::Json`] (its message has line and column, no input).
impl From<serde_json::Error> for FeedError {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(e.to_string())
    }
}
