//! Serde adapters between `Duration` and whole milliseconds, the unit of every `*_ms` key.
//!
//! Serialising saturates at `i64::MAX` (TOML integers are `i64`), so an oversized duration built in
//! code is reported by the schema check with the key's name rather than by the TOML serialiser.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Whole milliseconds of `d`, saturating at `i64::MAX`.
pub(super) fn to_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Serialises a `Duration` as whole milliseconds.
pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(to_ms(d))
}

/// Deserialises whole milliseconds into a `Duration`.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

/// A name → `Duration` table as name → whole milliseconds.
pub(super) mod map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{to_ms, Duration};

    /// Serialises each duration as whole milliseconds.
    pub(in crate::config) fn serialize<S: Serializer>(
        map: &BTreeMap<String, Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(map.iter().map(|(name, d)| (name, to_ms(d))))
    }

    /// Deserialises name → whole milliseconds.
    pub(in crate::config) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Duration>, D::Error> {
        let raw = BTreeMap::<String, u64>::deserialize(d)?;
        Ok(raw
            .into_iter()
            .map(|(name, ms)| (name, Duration::from_millis(ms)))
            .collect())
    }
}
