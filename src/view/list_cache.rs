//! A shard's cached list bodies (`/api/markets/:sport`, `/api/matches`), one per query, bounded
//! in count and in bytes: arbitrary query strings (a new `limit` each time, say) cannot grow the
//! cache without limit, nor hold hundreds of large lists.

use std::{collections::HashMap, rc::Rc};

use super::store::{ListBody, ListKey, Shared};

/// Most list bodies cached at once.
const MAX_LISTS: usize = 1024;
/// Most bytes of cached bodies (JSON and gzip) at once, per shard. A full markets list is
/// ~150 KB: this holds a few hundred, far more than the queries clients actually repeat.
const MAX_BYTES: usize = 64 << 20;

/// A list body as built at one generation, and its gzip form once a client asked for it.
#[derive(Debug)]
struct CachedList {
    generation: u64,
    json: Shared,
    gzip: Option<Shared>,
}

impl CachedList {
    fn bytes(&self) -> usize {
        self.json.len() + self.gzip.as_ref().map_or(0, |g| g.len())
    }
}

/// The cache. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct ListCache {
    lists: HashMap<ListKey, CachedList>,
    /// Bytes of every cached body.
    bytes: usize,
}

impl ListCache {
    /// The body for `key`: the cached one if it was built at `fresh_since` or later, otherwise
    /// one `build` makes at `generation`; with `gzip`, its compressed form (made once per
    /// build, unless the body is too short to gain).
    pub fn get(
        &mut self,
        key: ListKey,
        fresh_since: u64,
        generation: u64,
        build: impl FnOnce(&ListKey) -> Vec<u8>,
        gzip: bool,
    ) -> ListBody {
        let mut hit = true;
        let cached = self.lists.get(&key).filter(|c| c.generation >= fresh_since);
        if cached.is_none() {
            hit = false;
            let fresh = CachedList {
                generation,
                json: Rc::from(build(&key).as_slice()),
                gzip: None,
            };
            self.bytes += fresh.bytes();
            let old = self.lists.insert(key.clone(), fresh);
            self.bytes -= old.as_ref().map_or(0, CachedList::bytes);
        }
        let Some(entry) = self.lists.get_mut(&key) else {
            unreachable!("just inserted");
        };
        if gzip && entry.gzip.is_none() {
            if let Some(compressed) = crate::http::gzip::compress(&entry.json) {
                self.bytes += compressed.len();
                entry.gzip = Some(Rc::from(compressed.as_slice()));
                hit = false;
            }
        }
        let compressed = entry.gzip.as_ref().filter(|_| gzip);
        let body = ListBody {
            body: compressed.unwrap_or(&entry.json).clone(),
            hit,
            gzip: compressed.is_some(),
        };
        if !hit {
            self.trim(&key);
        }
        body
    }

    /// Bytes of every cached body.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Lists cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether `key` is cached.
    #[cfg(test)]
    fn contains(&self, key: &ListKey) -> bool {
        self.lists.contains_key(key)
    }

    /// Drops other lists (whichever the hash order gives) until the cache is within its
    /// bounds, so a client cycling through query strings costs one rebuild per request, not
    /// every hot list's. `keep`, just built, stays (the request is answering with it).
    fn trim(&mut self, keep: &ListKey) {
        while self.lists.len() > MAX_LISTS || self.bytes > MAX_BYTES {
            let Some(victim) = self.lists.keys().find(|k| *k != keep).cloned() else {
                return;
            };
            if let Some(gone) = self.lists.remove(&victim) {
                self.bytes -= gone.bytes();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(limit: usize) -> ListKey {
        ListKey::Markets {
            sport: "soccer".into(),
            league: None,
            limit,
        }
    }

    #[test]
    fn a_fresh_body_is_a_hit_and_a_stale_one_is_rebuilt() {
        let mut cache = ListCache::default();
        let built = cache.get(key(1), 0, 5, |_| b"[1]".to_vec(), false);
        assert!(!built.hit);
        let again = cache.get(key(1), 5, 6, |_| unreachable!("cached"), false);
        assert!(again.hit && &*again.body == b"[1]");
        let rebuilt = cache.get(key(1), 6, 6, |_| b"[2]".to_vec(), false);
        assert!(!rebuilt.hit && &*rebuilt.body == b"[2]");
        assert_eq!(cache.bytes(), 3, "the old body is no longer counted");
    }

    #[test]
    fn a_full_cache_makes_room_one_entry_at_a_time() {
        let mut cache = ListCache::default();
        for limit in 0..MAX_LISTS {
            cache.get(key(limit), 0, 1, |_| b"[]".to_vec(), false);
        }
        assert_eq!(cache.len(), MAX_LISTS);
        assert!(
            !cache
                .get(key(MAX_LISTS), 0, 1, |_| b"[]".to_vec(), false)
                .hit
        );
        assert_eq!(cache.len(), MAX_LISTS, "bounded");
        assert_eq!(cache.bytes(), 2 * MAX_LISTS);
        let still = (0..MAX_LISTS).filter(|&l| cache.contains(&key(l))).count();
        assert_eq!(still, MAX_LISTS - 1, "one entry evicted, not all");
    }

    #[test]
    fn large_bodies_stay_within_the_byte_bound() {
        let mut cache = ListCache::default();
        let body = vec![b' '; 1 << 20];
        for limit in 0..100 {
            let got = cache.get(key(limit), 0, 1, |_| body.clone(), false);
            assert_eq!(
                got.body.len(),
                1 << 20,
                "the request gets its body either way"
            );
            assert!(cache.bytes() <= MAX_BYTES);
        }
        assert_eq!(cache.len(), MAX_BYTES >> 20);
        let last = cache.get(key(99), 0, 1, |_| unreachable!("the newest stays"), false);
        assert!(last.hit);
    }

    #[test]
    fn a_gzip_form_counts_too() {
        let mut cache = ListCache::default();
        let json = br#"{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#.repeat(200);
        cache.get(key(1), 0, 1, |_| json.clone(), false);
        let zipped = cache.get(key(1), 0, 1, |_| unreachable!("cached"), true);
        assert!(zipped.gzip && !zipped.hit);
        assert_eq!(cache.bytes(), json.len() + zipped.body.len());
    }
}
