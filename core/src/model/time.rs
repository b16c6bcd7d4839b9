//! Wall-clock instants as unix milliseconds, passed in by the caller (core never reads a clock).

use std::fmt;

/// Milliseconds since the unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Unix milliseconds.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant shifted by `ms` milliseconds (saturating).
    pub fn add_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Writes the instant as RFC 3339 with milliseconds, e.g. `2024-01-01T12:00:00.000Z`,
    /// the format the original service's clients parse.
    pub fn write_iso(self, out: &mut String) {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        use fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        );
    }

    /// The instant as an RFC 3339 string with milliseconds.
    pub fn to_iso(self) -> String {
        let mut s = String::with_capacity(24);
        self.write_iso(&mut s);
        s
    }

    /// Parses RFC 3339 / ISO 8601 UTC-ish timestamps as providers send them:
    /// `2024-11-10T18:00Z` (no seconds, ESPN), `2022-10-03T00:22:55Z`, with optional
    /// fraction, and `+00:00`/`-05:00` offsets. Returns `None` for anything else.
    pub fn parse_iso(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(r)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(part).ok()?.parse().ok()
        };
        if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
            return None;
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi) = (num(11..13)?, num(14..16)?);
        if b[13] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
            return None;
        }
        let mut i = 16;
        let mut sec = 0;
        let mut ms = 0;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1..i + 3)?;
            i += 3;
            if sec > 60 {
                return None;
            }
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                let frac = &s[start..end.min(start + 3)];
                ms = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
                i = end;
            }
        }
        let offset_min = match b.get(i) {
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
            None => 0,
            Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
                let o = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
                if *sign == b'+' {
                    o
                } else {
                    -o
                }
            }
            _ => return None,
        };
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
        Some(Self(secs * 1000 + ms))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let t = Timestamp(1_704_110_400_000);
        assert_eq!(t.to_iso(), "2024-01-01T12:00:00.000Z");
        assert_eq!(Timestamp::parse_iso("2024-01-01T12:00:00.000Z"), Some(t));
    }

    #[test]
    fn parses_provider_variants() {
        let espn = Timestamp::parse_iso("2024-11-10T18:00Z").unwrap();
        assert_eq!(espn.to_iso(), "2024-11-10T18:00:00.000Z");
        let af = Timestamp::parse_iso("2020-02-06T14:00:00+00:00").unwrap();
        assert_eq!(af.millis(), 1_580_997_600_000);
        let est = Timestamp::parse_iso("2020-02-06T09:00:00-05:00").unwrap();
        assert_eq!(est, af);
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2024",
            "2024-13-01T00:00Z",
            "2024-01-01T25:00Z",
            "2024-01-01T12:00Zjunk",
        ] {
            assert_eq!(Timestamp::parse_iso(s), None, "{s}");
        }
    }
}
