//! Responses and their encoding into a connection's write buffer.
//!
//! Bodies are usually pre-serialised bytes shared with the read view (`Rc<[u8]>`), so answering
//! a GET is a header write plus one copy of the body into the batch buffer.

use std::{rc::Rc, sync::Arc};

use super::{cors::CorsHeaders, date::with_date, Status};

/// A response body.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// Nothing (e.g. 204).
    Empty,
    /// Shared pre-serialised bytes from this shard's read view.
    Shared(Rc<[u8]>),
    /// Pre-serialised bytes shared by every shard.
    SharedAcrossShards(Arc<[u8]>),
    /// Bytes built for this response.
    Owned(Vec<u8>),
    /// A static string.
    Static(&'static [u8]),
}

impl Body {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty => b"",
            Body::Shared(b) => b,
            Body::SharedAcrossShards(b) => b,
            Body::Owned(b) => b,
            Body::Static(b) => b,
        }
    }
}

/// Whether a response was served from a ready cache (`X-Cache: HIT`) or rebuilt (`MISS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheState {
    Hit,
    Miss,
}

/// Whether the body depends on the request's `Accept-Encoding`, and how it is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    /// The same for every client: no `Vary`.
    Fixed,
    /// Negotiable, sent as it is (`Vary: Accept-Encoding`).
    Identity,
    /// Negotiable, sent gzip-compressed (`Content-Encoding: gzip`, `Vary: Accept-Encoding`).
    Gzip,
}

/// One response.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    pub status: Status,
    pub body: Body,
    pub content_type: &'static str,
    pub cache: Option<CacheState>,
    pub coding: Coding,
    /// Extra header lines, each without the trailing CRLF (`Allow: GET`).
    pub extra_headers: Vec<String>,
    /// `X-RateLimit-*` and `Retry-After`, encoded without allocating.
    pub rate_limit: Option<RateLimitHeaders>,
    /// CORS headers for the request's origin.
    pub cors: Option<CorsHeaders>,
}

/// The rate-limit headers of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateLimitHeaders {
    /// `X-RateLimit-Limit`: the configured requests per minute of the route's class.
    pub limit: u32,
    /// `X-RateLimit-Remaining`: requests this connection's shard would still admit right now.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: seconds until the bucket is full again.
    pub reset_secs: u64,
    /// `Retry-After` (429 only): seconds until one more request would be admitted.
    pub retry_after_secs: Option<u64>,
}

const JSON: &str = "application/json; charset=utf-8";

impl Response {
    /// 200 with a JSON body.
    pub fn json(body: Body) -> Self {
        Self::with_status(Status::OK, body)
    }

    /// A JSON body with any status.
    pub fn with_status(status: Status, body: Body) -> Self {
        Self {
            status,
            body,
            content_type: JSON,
            cache: None,
            coding: Coding::Fixed,
            extra_headers: Vec::new(),
            rate_limit: None,
            cors: None,
        }
    }

    /// `{"error": message}` with the given status, the API's one error shape.
    pub fn error(status: Status, message: &str) -> Self {
        let body = serde_json::to_vec(&serde_json::json!({ "error": message }))
            .unwrap_or_else(|_| b"{\"error\":\"internal error\"}".to_vec());
        Self::with_status(status, Body::Owned(body))
    }

    /// 400 `{"error": message, "field": field}`: a request body field, path or query parameter
    /// that is missing or wrong, named so the client knows what to fix.
    pub fn invalid(field: &str, message: &str) -> Self {
        let body = serde_json::json!({ "error": message, "field": field });
        let body = serde_json::to_vec(&body)
            .unwrap_or_else(|_| b"{\"error\":\"internal error\"}".to_vec());
        Self::with_status(Status::BAD_REQUEST, Body::Owned(body))
    }

    /// `{"error": message, "statusCode": n}`: the refusals of the request gate (401, 403, 429),
    /// in the shape the original service's framework used for them.
    pub fn refusal(status: Status, message: &str) -> Self {
        let body = serde_json::json!({ "error": message, "statusCode": status.0 });
        let body = serde_json::to_vec(&body)
            .unwrap_or_else(|_| b"{\"error\":\"internal error\"}".to_vec());
        Self::with_status(status, Body::Owned(body))
    }

    /// Any serialisable value as 200 JSON.
    pub fn json_value(value: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(v) => Self::json(Body::Owned(v)),
            Err(_) => Self::error(Status::INTERNAL, "failed to encode response"),
        }
    }

    /// Marks the response with `X-Cache`.
    pub fn cached(mut self, state: CacheState) -> Self {
        self.cache = Some(state);
        self
    }

    /// Marks how the body was encoded for the request's `Accept-Encoding`.
    pub fn coded(mut self, coding: Coding) -> Self {
        self.coding = coding;
        self
    }

    /// Adds a header line.
    pub fn header(mut self, line: String) -> Self {
        self.extra_headers.push(line);
        self
    }

    /// The body bytes.
    pub fn body_bytes(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// Appends the encoded response to `out`. `date` is the cached `Date` header value; `head`
    /// omits the body (HEAD requests) but keeps its length.
    pub fn encode(&self, out: &mut Vec<u8>, date: &[u8], persist: Persist, head: bool) {
        self.encode_head(out, date, persist);
        if !head {
            out.extend_from_slice(self.body.as_bytes());
        }
    }

    /// Appends the whole response, dated now, as the connection's last (`Connection: close`):
    /// a refused or timed-out request.
    pub fn encode_last(&self, out: &mut Vec<u8>) {
        with_date(|d| self.encode(out, d, Persist::Close, false));
    }

    /// Appends status line and headers (through the blank line), without the body.
    pub fn encode_head(&self, out: &mut Vec<u8>, date: &[u8], persist: Persist) {
        let body = self.body.as_bytes();
        out.extend_from_slice(b"HTTP/1.1 ");
        let mut num = itoa::Buffer::new();
        out.extend_from_slice(num.format(self.status.0).as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.status.1.as_bytes());
        out.extend_from_slice(b"\r\nServer: inplay\r\nDate: ");
        out.extend_from_slice(date);
        if !matches!(self.body, Body::Empty) || self.status.0 != 204 {
            out.extend_from_slice(b"\r\nContent-Type: ");
            out.extend_from_slice(self.content_type.as_bytes());
        }
        out.extend_from_slice(b"\r\nContent-Length: ");
        out.extend_from_slice(num.format(body.len()).as_bytes());
        if self.coding == Coding::Gzip {
            out.extend_from_slice(b"\r\nContent-Encoding: gzip");
        }
        // One `Vary` line: the body depends on `Accept-Encoding` when it is negotiable, and
        // (while CORS is configured) the headers on `Origin`.
        out.extend_from_slice(match (self.coding != Coding::Fixed, self.cors.is_some()) {
            (true, true) => b"\r\nVary: Accept-Encoding, Origin",
            (true, false) => b"\r\nVary: Accept-Encoding",
            (false, true) => b"\r\nVary: Origin",
            (false, false) => b"",
        });
        if let Some(c) = self.cache {
            out.extend_from_slice(match c {
                CacheState::Hit => b"\r\nX-Cache: HIT",
                CacheState::Miss => b"\r\nX-Cache: MISS",
            });
        }
        if let Some(rate) = &self.rate_limit {
            rate.encode(out);
        }
        if let Some(cors) = &self.cors {
            cors.encode(out);
        }
        for h in &self.extra_headers {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(h.as_bytes());
        }
        out.extend_from_slice(match persist {
            Persist::Close => b"\r\nConnection: close".as_slice(),
            Persist::Open => b"",
            Persist::Announced => b"\r\nConnection: keep-alive",
        });
        out.extend_from_slice(b"\r\n\r\n");
    }
}

/// What a response says about its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Persist {
    /// `Connection: close`: the server closes after this response.
    Close,
    /// Nothing: HTTP/1.1 connections persist unless one side says otherwise.
    Open,
    /// `Connection: keep-alive`: an HTTP/1.0 client asked to keep the connection and keeps it
    /// only if told so (ApacheBench's `-k`, for one).
    Announced,
}

impl Persist {
    /// The answer to a request that may stay open (`keep_alive`), in its HTTP version.
    pub fn of(keep_alive: bool, http10: bool) -> Self {
        match (keep_alive, http10) {
            (false, _) => Self::Close,
            (true, false) => Self::Open,
            (true, true) => Self::Announced,
        }
    }
}

// === impl RateLimitHeaders ===

impl RateLimitHeaders {
    /// Appends the header lines, each preceded by CRLF.
    fn encode(&self, out: &mut Vec<u8>) {
        let mut num = itoa::Buffer::new();
        out.extend_from_slice(b"\r\nX-RateLimit-Limit: ");
        out.extend_from_slice(num.format(self.limit).as_bytes());
        out.extend_from_slice(b"\r\nX-RateLimit-Remaining: ");
        out.extend_from_slice(num.format(self.remaining).as_bytes());
        out.extend_from_slice(b"\r\nX-RateLimit-Reset: ");
        out.extend_from_slice(num.format(self.reset_secs).as_bytes());
        if let Some(secs) = self.retry_after_secs {
            out.extend_from_slice(b"\r\nRetry-After: ");
            out.extend_from_slice(num.format(secs).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_headers_and_body() {
        let mut out = Vec::new();
        Response::json(Body::Static(b"{}"))
            .cached(CacheState::Hit)
            .encode(
                &mut out,
                b"Mon, 01 Jan 2024 12:00:00 GMT",
                Persist::Open,
                false,
            );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("\r\nContent-Length: 2\r\n"));
        assert!(text.contains("\r\nX-Cache: HIT\r\n"));
        assert!(text.ends_with("\r\n\r\n{}"));
    }

    #[test]
    fn error_shape_and_close() {
        let mut out = Vec::new();
        Response::error(Status::NOT_FOUND, "Match not found").encode(
            &mut out,
            b"d",
            Persist::Close,
            false,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(text.contains("Connection: close"));
        assert!(text.ends_with(r#"{"error":"Match not found"}"#));
    }

    #[test]
    fn coding_sets_vary_and_content_encoding() {
        let head = |coding| {
            let mut out = Vec::new();
            Response::json(Body::Static(b"[]"))
                .coded(coding)
                .encode_head(&mut out, b"d", Persist::Open);
            String::from_utf8(out).unwrap()
        };
        let fixed = head(Coding::Fixed);
        assert!(!fixed.contains("Vary") && !fixed.contains("Content-Encoding"));
        let identity = head(Coding::Identity);
        assert!(identity.contains("\r\nVary: Accept-Encoding\r\n"));
        assert!(!identity.contains("Content-Encoding"));
        let gzip = head(Coding::Gzip);
        assert!(gzip.contains("\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"));
    }

    #[test]
    fn one_vary_line_names_encoding_and_origin() {
        let head = |coding, cors| {
            let mut response = Response::json(Body::Static(b"[]")).coded(coding);
            response.cors = cors;
            let mut out = Vec::new();
            response.encode_head(&mut out, b"d", Persist::Open);
            String::from_utf8(out).unwrap()
        };
        let both = head(Coding::Gzip, Some(CorsHeaders::Vary));
        assert!(
            both.contains("\r\nVary: Accept-Encoding, Origin\r\n"),
            "{both}"
        );
        assert_eq!(both.matches("Vary").count(), 1);
        let origin = head(Coding::Fixed, Some(CorsHeaders::Allow("http://x".into())));
        assert!(origin.contains("\r\nVary: Origin\r\n"), "{origin}");
        assert_eq!(origin.matches("Vary").count(), 1);
        assert!(!head(Coding::Fixed, None).contains("Vary"));
    }
}
