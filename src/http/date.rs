//! The `Date` header value, formatted once per second per shard instead of once per response.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// (unix second it was formatted for, IMF-fixdate bytes).
    static CACHED: RefCell<(u64, [u8; 29])> = const { RefCell::new((u64::MAX, [b' '; 29])) };
}

/// Calls `f` with the current IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn with_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    CACHED.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != now {
            *c = (now, format_imf(now));
        }
        f(&c.1)
    })
}

fn format_imf(secs: u64) -> [u8; 29] {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = inplay_core::Timestamp(secs as i64 * 1000).to_iso(); // 2024-01-01T12:00:00.000Z
    let month: usize = iso[5..7].parse().unwrap_or(1);
    let text = format!(
        "{}, {} {} {} {} GMT",
        DAYS[(secs / 86_400 % 7) as usize],
        &iso[8..10],
        MONTHS[month - 1],
        &iso[0..4],
        &iso[11..19]
    );
    let mut out = [b' '; 29];
    let n = text.len().min(29);
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_imf_fixdate() {
        let d = super::format_imf(784_111_777);
        assert_eq!(&d, b"Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
