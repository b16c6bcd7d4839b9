//! Parsing one HTTP/1.1 request from the front of a connection's read buffer.
//!
//! Strict on purpose: the head must fit in the configured limit, bodies need `Content-Length`
//! (no chunked uploads: nothing in the API needs them), and every refusal maps to the status a
//! client can act on. Parsing borrows from the buffer; nothing is copied on the hot path.

use std::net::IpAddr;

use crate::{accept_encoding::AcceptEncoding, Status};

/// Limits applied while parsing, from `[http]` in the config.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest request head (request line + headers), in bytes.
    pub max_header_bytes: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most header lines accepted (at most [`MAX_HEADERS`]).
    pub max_headers: usize,
}

/// The request methods the API distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: answered as `GET`, without the body.
    Head,
    /// `POST`.
    Post,
    /// `OPTIONS`: CORS preflights.
    Options,
    /// Anything else (answered 405 or 404).
    Other,
}

/// A parsed request, borrowing from the read buffer.
#[derive(Debug)]
pub struct Request<'b> {
    /// The method, as far as the API tells methods apart.
    pub method: Method,
    /// The method token as sent (for logs and 405 messages).
    pub method_str: &'b str,
    /// Path without the query string.
    pub path: &'b str,
    /// Raw query string (after `?`), empty if none.
    pub query: &'b str,
    /// Whether the connection stays open after this response.
    pub keep_alive: bool,
    /// An HTTP/1.0 request: it stays open only if asked (`Connection: keep-alive`), and the
    /// response must say it does.
    pub http10: bool,
    /// `Upgrade: websocket` was asked for.
    pub upgrade_websocket: bool,
    /// A `Connection` line names `upgrade` (a WebSocket handshake must).
    pub connection_upgrade: bool,
    /// `Sec-WebSocket-Key`, for the handshake.
    pub ws_key: Option<&'b [u8]>,
    /// `Sec-WebSocket-Version`.
    pub ws_version: Option<&'b [u8]>,
    /// `Authorization` (the last one, if several).
    pub authorization: Option<&'b [u8]>,
    /// `Origin`, for CORS.
    pub origin: Option<&'b [u8]>,
    /// The last `X-Forwarded-For` line (its rightmost entry is the nearest hop).
    pub forwarded_for: Option<&'b [u8]>,
    /// `Accept-Encoding` allows a gzip-compressed body.
    pub accept_gzip: bool,
    /// The connection's peer address; set by the connection, not by [`parse`].
    pub peer: Option<IpAddr>,
    /// The body (exactly `Content-Length` bytes).
    pub body: &'b [u8],
}

/// Outcome of trying to parse the front of the buffer.
#[derive(Debug)]
pub enum Parse<'b> {
    /// A whole request; `consumed` bytes (head + body) can be dropped from the buffer.
    Complete(Request<'b>, usize),
    /// More bytes are needed (the head, or the rest of the body).
    Partial,
    /// The request is malformed or over a limit: answer with this status and close.
    Invalid(Status, &'static str),
}

/// Header slots available to httparse; more headers than `Limits::max_headers` is a 431.
pub const MAX_HEADERS: usize = 64;

/// Parses one request from the start of `buf`.
pub fn parse(buf: &[u8], limits: Limits) -> Parse<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let slots = limits.max_headers.clamp(1, MAX_HEADERS);
    let mut req = httparse::Request::new(&mut headers[..slots]);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() > limits.max_header_bytes {
                return Parse::Invalid(Status::HEADERS_TOO_LARGE, "request head too large");
            }
            return Parse::Partial;
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Parse::Invalid(Status::HEADERS_TOO_LARGE, "too many headers")
        }
        Err(_) => return Parse::Invalid(Status::BAD_REQUEST, "malformed HTTP request"),
    };
    if head_len > limits.max_header_bytes {
        return Parse::Invalid(Status::HEADERS_TOO_LARGE, "request head too large");
    }
    // httparse guarantees these are present on Complete.
    let method_str = req.method.unwrap_or("");
    let target = req.path.unwrap_or("/");
    let version = req.version.unwrap_or(1);

    let mut content_length: Option<usize> = None;
    let mut keep_alive = version == 1;
    let mut connection_close = false;
    let (mut upgrade_websocket, mut connection_upgrade) = (false, false);
    let (mut ws_key, mut ws_version) = (None, None);
    let (mut authorization, mut origin, mut forwarded_for) = (None, None, None);
    let mut accept_encoding = AcceptEncoding::default();
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            // `1*DIGIT` (RFC 9110 §8.6): no sign, which `parse` would take and a proxy in
            // front might not, so the two would disagree about where the request ends.
            let parsed = decimal(h.value.trim_ascii());
            match (parsed, content_length) {
                (None, _) => return Parse::Invalid(Status::BAD_REQUEST, "invalid Content-Length"),
                // Two differing lengths is a request-smuggling attempt.
                (Some(n), Some(prev)) if n != prev => {
                    return Parse::Invalid(Status::BAD_REQUEST, "conflicting Content-Length")
                }
                (Some(n), _) => content_length = Some(n),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parse::Invalid(
                Status::NOT_IMPLEMENTED,
                "Transfer-Encoding is not supported; send Content-Length",
            );
        } else if name.eq_ignore_ascii_case("connection") {
            connection_upgrade |= contains_token(h.value, b"upgrade");
            // `close` in any Connection line wins over `keep-alive` in another.
            if contains_token(h.value, b"close") {
                connection_close = true;
            } else if contains_token(h.value, b"keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("upgrade") {
            upgrade_websocket = contains_token(h.value, b"websocket");
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            ws_key = Some(h.value.trim_ascii());
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            ws_version = Some(h.value.trim_ascii());
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(h.value.trim_ascii());
        } else if name.eq_ignore_ascii_case("origin") {
            origin = Some(h.value.trim_ascii());
        } else if name.eq_ignore_ascii_case("x-forwarded-for") {
            forwarded_for = Some(h.value);
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            accept_encoding.add(h.value);
        }
    }
    let body_len = content_length.unwrap_or(0);
    if body_len > limits.max_body_bytes {
        return Parse::Invalid(Status::PAYLOAD_TOO_LARGE, "request body too large");
    }
    let total = head_len + body_len;
    if buf.len() < total {
        return Parse::Partial;
    }
    let (path, query) = match target.find('?') {
        Some(i) => (&target[..i], &target[i + 1..]),
        None => (target, ""),
    };
    let method = match method_str {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "OPTIONS" => Method::Options,
        _ => Method::Other,
    };
    Parse::Complete(
        Request {
            method,
            method_str,
            path,
            query,
            keep_alive: keep_alive && !connection_close,
            http10: version == 0,
            upgrade_websocket,
            connection_upgrade,
            ws_key,
            ws_version,
            authorization,
            origin,
            forwarded_for,
            accept_gzip: accept_encoding.gzip(),
            peer: None,
            body: &buf[head_len..total],
        },
        total,
    )
}

/// Case-insensitive search for a token in a comma-separated header value.
fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

/// Iterates `key=value` pairs of a query string, percent-decoded.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

/// `1*DIGIT` as a number: `None` for anything else (empty, a sign, inner spaces, overflow).
fn decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then_some(())?;
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

/// The value of one hex digit (`0-9a-fA-F`).
fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// Decodes `%XX` escapes and `+` (as space). Invalid escapes are kept literally.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    if !b.iter().any(|&c| c == b'%' || c == b'+') {
        return s.to_owned();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                // Two hex digits exactly (`from_str_radix` would also take `%+1`).
                match (hex_digit(b[i + 1]), hex_digit(b[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
