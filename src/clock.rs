//! The server's only wall-clock reads; core receives time as a value.

use std::time::{SystemTime, UNIX_EPOCH};

use inplay_core::Timestamp;

/// Now, as unix milliseconds.
pub(crate) fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Timestamp(ms)
}
