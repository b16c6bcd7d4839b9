//! HTTP status codes with their reason phrases: what the server answers, and what the request
//! parser refuses with.

/// An HTTP status code with its reason phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub u16, pub &'static str);

#[allow(missing_docs)] // each constant is its own documentation
impl Status {
    pub const OK: Self = Self(200, "OK");
    pub const CREATED: Self = Self(201, "Created");
    pub const ACCEPTED: Self = Self(202, "Accepted");
    pub const NO_CONTENT: Self = Self(204, "No Content");
    pub const BAD_REQUEST: Self = Self(400, "Bad Request");
    pub const UNAUTHORIZED: Self = Self(401, "Unauthorized");
    pub const FORBIDDEN: Self = Self(403, "Forbidden");
    pub const NOT_FOUND: Self = Self(404, "Not Found");
    pub const CONFLICT: Self = Self(409, "Conflict");
    pub const METHOD_NOT_ALLOWED: Self = Self(405, "Method Not Allowed");
    pub const REQUEST_TIMEOUT: Self = Self(408, "Request Timeout");
    pub const UPGRADE_REQUIRED: Self = Self(426, "Upgrade Required");
    pub const PAYLOAD_TOO_LARGE: Self = Self(413, "Payload Too Large");
    pub const UNSUPPORTED_MEDIA_TYPE: Self = Self(415, "Unsupported Media Type");
    pub const TOO_MANY_REQUESTS: Self = Self(429, "Too Many Requests");
    pub const HEADERS_TOO_LARGE: Self = Self(431, "Request Header Fields Too Large");
    pub const INTERNAL: Self = Self(500, "Internal Server Error");
    pub const NOT_IMPLEMENTED: Self = Self(501, "Not Implemented");
    pub const UNAVAILABLE: Self = Self(503, "Service Unavailable");
}
