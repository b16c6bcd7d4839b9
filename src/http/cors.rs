//! CORS: which browser origins may call the API, and the headers that tell the browser so.
//!
//! The policy is the original service's (`ALLOWED_ORIGINS`, credentials allowed). Because
//! credentials are allowed, the allowed origin is always echoed back, never a literal `*`
//! (browsers refuse `*` with credentials); `*` in the list means "echo any origin". `Vary:
//! Origin` goes on every response while CORS is configured, so a shared cache never serves
//! one origin's answer to another. A request from an origin that is not allowed gets no CORS
//! headers at all (the browser then hides the response from the page), and its preflight is
//! refused with 403 and a JSON body saying why.

use crate::config::CorsConfig;

/// Methods a preflight may ask for.
const ALLOW_METHODS: &[u8] = b"GET, HEAD, POST, OPTIONS";
/// Request headers a preflight may ask for.
const ALLOW_HEADERS: &[u8] = b"Authorization, Content-Type";
/// Response headers a page may read besides the CORS-safelisted ones.
const EXPOSE_HEADERS: &[u8] = b"X-Cache, X-RateLimit-Limit, X-RateLimit-Remaining, \
X-RateLimit-Reset, Retry-After, WWW-Authenticate";
/// Longest origin echoed (`scheme://host:port` is far shorter).
const MAX_ORIGIN: usize = 512;

/// The configured CORS policy.
#[derive(Debug, Clone)]
pub(crate) struct Cors {
    /// Allowed origins, lower-cased, without a trailing `/`.
    origins: Vec<Box<str>>,
    /// `*` was listed: any origin (except `null`) is allowed.
    any: bool,
    /// `Access-Control-Max-Age` in seconds.
    max_age_secs: u64,
}

/// What the policy says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CorsVerdict {
    /// CORS is not configured: no headers.
    Off,
    /// No `Origin`: not a cross-origin request; only `Vary: Origin`.
    SameOrigin,
    /// An allowed origin, as the browser sent it.
    Allowed(Box<str>),
    /// An origin that is not allowed.
    Denied,
}

/// The CORS headers of one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CorsHeaders {
    /// Only `Vary: Origin`.
    Vary,
    /// An actual request from an allowed origin.
    Allow(Box<str>),
    /// A preflight from an allowed origin, with its max age in seconds.
    Preflight(Box<str>, u64),
}

// === impl Cors ===

impl Cors {
    /// The policy of `[cors]`.
    pub fn new(config: &CorsConfig) -> Self {
        let mut origins = Vec::new();
        let mut any = false;
        for origin in &config.allowed_origins {
            let origin = origin.trim().trim_end_matches('/');
            if origin == "*" {
                any = true;
            } else if !origin.is_empty() {
                origins.push(origin.to_ascii_lowercase().into_boxed_str());
            }
        }
        Self {
            origins,
            any,
            max_age_secs: config.max_age.as_secs(),
        }
    }

    /// Judges a request's `Origin` header.
    pub fn check(&self, origin: Option<&[u8]>) -> CorsVerdict {
        if self.origins.is_empty() && !self.any {
            return CorsVerdict::Off;
        }
        let Some(origin) = origin else {
            return CorsVerdict::SameOrigin;
        };
        // Echoed into a header: printable ASCII without spaces or commas only.
        let Some(text) = std::str::from_utf8(origin).ok().filter(|t| {
            t.len() <= MAX_ORIGIN && t.bytes().all(|b| b.is_ascii_graphic() && b != b',')
        }) else {
            return CorsVerdict::Denied;
        };
        let listed = self.origins.iter().any(|o| o.eq_ignore_ascii_case(text));
        // `null` (sandboxed frames, file: pages) only when listed by name.
        if listed || (self.any && text != "null") {
            CorsVerdict::Allowed(text.into())
        } else {
            CorsVerdict::Denied
        }
    }

    /// The headers for an actual (non-preflight) response.
    pub fn headers(verdict: &CorsVerdict) -> Option<CorsHeaders> {
        match verdict {
            CorsVerdict::Off => None,
            CorsVerdict::SameOrigin | CorsVerdict::Denied => Some(CorsHeaders::Vary),
            CorsVerdict::Allowed(origin) => Some(CorsHeaders::Allow(origin.clone())),
        }
    }

    /// The headers answering a preflight from an allowed `origin`.
    pub fn preflight(&self, origin: &str) -> CorsHeaders {
        CorsHeaders::Preflight(origin.into(), self.max_age_secs)
    }
}

// === impl CorsHeaders ===

impl CorsHeaders {
    /// Appends the header lines, each preceded by CRLF; all but `Vary: Origin`, which the
    /// response writes in its one `Vary` line (with `Accept-Encoding` where that applies).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let origin = match self {
            CorsHeaders::Vary => None,
            CorsHeaders::Allow(origin) | CorsHeaders::Preflight(origin, _) => Some(origin),
        };
        if let Some(origin) = origin {
            out.extend_from_slice(b"\r\nAccess-Control-Allow-Origin: ");
            out.extend_from_slice(origin.as_bytes());
            out.extend_from_slice(b"\r\nAccess-Control-Allow-Credentials: true");
        }
        match self {
            CorsHeaders::Vary => {}
            CorsHeaders::Allow(_) => {
                out.extend_from_slice(b"\r\nAccess-Control-Expose-Headers: ");
                out.extend_from_slice(EXPOSE_HEADERS);
            }
            CorsHeaders::Preflight(_, max_age) => {
                out.extend_from_slice(b"\r\nAccess-Control-Allow-Methods: ");
                out.extend_from_slice(ALLOW_METHODS);
                out.extend_from_slice(b"\r\nAccess-Control-Allow-Headers: ");
                out.extend_from_slice(ALLOW_HEADERS);
                out.extend_from_slice(b"\r\nAccess-Control-Max-Age: ");
                out.extend_from_slice(itoa::Buffer::new().format(*max_age).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cors(origins: &[&str]) -> Cors {
        Cors::new(&CorsConfig {
            allowed_origins: origins.iter().map(|&o| o.to_owned()).collect(),
            max_age: Duration::from_secs(600),
        })
    }

    #[test]
    fn listed_origins_are_echoed_and_others_denied() {
        let c = cors(&["https://app.example.com/"]);
        assert_eq!(
            c.check(Some(b"https://app.example.com")),
            CorsVerdict::Allowed("https://app.example.com".into())
        );
        assert_eq!(c.check(Some(b"https://evil.example")), CorsVerdict::Denied);
        assert_eq!(c.check(None), CorsVerdict::SameOrigin);
        assert_eq!(cors(&[]).check(Some(b"https://a")), CorsVerdict::Off);
    }

    #[test]
    fn star_echoes_any_origin_but_null_and_garbage() {
        let c = cors(&["*"]);
        assert_eq!(
            c.check(Some(b"http://x:8080")),
            CorsVerdict::Allowed("http://x:8080".into())
        );
        assert_eq!(c.check(Some(b"null")), CorsVerdict::Denied);
        assert_eq!(c.check(Some(b"a b")), CorsVerdict::Denied);
        assert_eq!(c.check(Some(b"http://a, http://b")), CorsVerdict::Denied);
        assert_eq!(
            cors(&["*", "null"]).check(Some(b"null")),
            CorsVerdict::Allowed("null".into())
        );
    }

    #[test]
    fn headers_encode() {
        let mut out = Vec::new();
        cors(&["*"]).preflight("http://x").encode(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\r\nAccess-Control-Allow-Origin: http://x\r\n"),
            "{text}"
        );
        assert!(text.contains("Access-Control-Allow-Headers: Authorization, Content-Type"));
        assert!(text.contains("Access-Control-Max-Age: 600") && !text.contains("Vary"));
        let mut out = Vec::new();
        CorsHeaders::Vary.encode(&mut out);
        assert_eq!(out, b"", "Vary: Origin is the response's to write");
    }
}
