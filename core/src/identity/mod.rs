//! Match identity: which provider events are the same match, and which shard owns it.
//!
//! Providers never share ids, so identity is derived from what they do share: the sport and the
//! two teams, reconciled by [`normalise_team`] and an [`AliasTable`]. That gives the
//! [`IdentityKey`], which has no time and no league in it, so every fixture of a pairing hashes
//! to the same owner shard. The owner's [`Registry`] then tells fixtures of one pairing apart by
//! start time (within a tolerance window) and league, and assigns the stable [`MatchId`]
//! `"{hash:08x}-{yyyymmdd}"`. The hash in the id lets any shard find the owner from the id
//! alone ([`owner_of_match_id`]).

mod alias;
mod normalise;
mod registry;

pub use alias::{AliasParseError, AliasTable};
pub use normalise::normalise_team;
pub use registry::{NearMiss, Registry, Resolution};

use crate::{model::MatchId, observation::EventRef};

/// The canonical identity of a pairing: sport plus canonical home and away names.
///
/// Deliberately without start time or league: those only separate fixtures of one pairing,
/// which the owner's [`Registry`] does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdentityKey {
    /// Trimmed lower-case sport (`soccer`, `football`, ...).
    pub sport: String,
    /// Canonical home team name (normalised, aliases applied).
    pub home: String,
    /// Canonical away team name (normalised, aliases applied).
    pub away: String,
}

// === impl IdentityKey ===

impl IdentityKey {
    /// The key of a provider's event under `aliases`.
    pub fn of(event: &EventRef, aliases: &AliasTable) -> Self {
        Self {
            sport: alias::sport_key(&event.sport),
            home: aliases.canonical(&event.sport, &event.home),
            away: aliases.canonical(&event.sport, &event.away),
        }
    }

    /// A hash of the key that is stable across runs, builds and platforms (FNV-1a over the
    /// fields with a separator byte that UTF-8 never contains, then a 64-bit finaliser so the
    /// low bits used for sharding are well mixed). Match ids and owner shards derive from it,
    /// so changing it changes every id.
    pub fn hash64(&self) -> u64 {
        const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
        // 0xff never occurs in UTF-8, so ("ab", "c") and ("a", "bc") cannot collide by layout.
        const SEPARATOR: u8 = 0xff;
        let step = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        let mut h = FNV_OFFSET;
        for (i, field) in [&self.sport, &self.home, &self.away]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                h = step(h, SEPARATOR);
            }
            h = field.bytes().fold(h, step);
        }
        fmix64(h)
    }

    /// The low 32 bits of [`IdentityKey::hash64`]: the part written into match ids and used
    /// for ownership.
    pub fn hash32(&self) -> u32 {
        // Truncation is the point: ids carry 8 hex digits.
        self.hash64() as u32
    }
}

/// MurmurHash3's 64-bit finaliser: FNV-1a's low bits depend only on the low bits of its
/// state, which would shard poorly; this spreads every input bit over every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The shard that owns matches whose key hashes to `key_hash`: the low 32 bits of the hash
/// modulo `nr_shards` (only the low 32 bits, because that is what a match id carries). Returns
/// 0 when `nr_shards` is 0 rather than panicking.
pub fn owner_shard(key_hash: u64, nr_shards: usize) -> usize {
    if nr_shards == 0 {
        return 0;
    }
    let low = u64::from(key_hash as u32);
    // The remainder is below nr_shards, so it fits in usize.
    (low % nr_shards as u64) as usize
}

/// The owner shard of a match from its id alone: parses the 8 hex digits that open every id
/// the [`Registry`] assigns. `None` for ids in any other form.
pub fn owner_of_match_id(id: &MatchId, nr_shards: usize) -> Option<usize> {
    let s = id.as_str();
    let hex = s.get(..8)?;
    let rest = &s[8..];
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || !(rest.is_empty() || rest.starts_with('-')) {
        return None;
    }
    let hash = u32::from_str_radix(hex, 16).ok()?;
    Some(owner_shard(u64::from(hash), nr_shards))
}

#[cfg(test)]
mod tests;
