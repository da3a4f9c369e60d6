//! Signature nonces seen in the replay window, in memory (SQLite serves one
//! process, `lock.rs`): a nonce costs no fsync.
//!
//! Each (access key, nonce) pair is kept as a 128-bit digest under two
//! random SipHash keys chosen at start, not as two strings: 24 bytes a
//! nonce instead of about 150, and no allocation per request. Two pairs
//! share a digest with a chance of about n/2^128 per request (n nonces in
//! the window); such a request would be refused as a replay, never let
//! through.
//!
//! Expiry is exact (a nonce is refused for [`NONCE_WINDOW_MS`] after its
//! first use, then free again) without scanning the map: nonces go into
//! `current`, which becomes `previous` once it is a window old, when the
//! old `previous` (all of it past the window) is dropped in one piece.
//!
//! Each generation is split in [`SHARDS`] maps by digest, so that a map
//! growing (which copies it, under the store's nonce lock) holds every
//! request up for a fraction of the time: at 50,000 requests a second a
//! single map reaches a million entries in 20 s, and growing it to that
//! took up to 46 ms on a busy 2-core machine (5 ms with 16 maps).

use std::{
    collections::{HashMap, hash_map::Entry},
    hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState},
};

use crate::NONCE_WINDOW_MS;

/// Maps per generation.
const SHARDS: usize = 64;

type Generation = [HashMap<u128, i64, BuildHasherDefault<Digest>>; SHARDS];

fn empty() -> Generation {
    std::array::from_fn(|_| HashMap::default())
}

pub struct NonceCache {
    keys: (RandomState, RandomState),
    /// Nonces first used since `rotated_ms`, by digest: when.
    current: Generation,
    /// Nonces first used in the window before `rotated_ms`.
    previous: Generation,
    rotated_ms: i64,
}

impl Default for NonceCache {
    fn default() -> Self {
        NonceCache {
            keys: (RandomState::new(), RandomState::new()),
            current: empty(),
            previous: empty(),
            rotated_ms: i64::MIN,
        }
    }
}

impl NonceCache {
    /// Records the nonce; `false` if it was used in the last window.
    pub fn use_nonce(&mut self, key: &str, nonce: &str, now_ms: i64) -> bool {
        if now_ms.saturating_sub(self.rotated_ms) >= NONCE_WINDOW_MS {
            // Everything in `previous` was first used before the last
            // rotation, at least a window ago.
            self.previous = std::mem::replace(&mut self.current, empty());
            self.rotated_ms = now_ms;
        }
        let high = self.keys.0.hash_one((key, nonce));
        let digest = (u128::from(high) << 64) | u128::from(self.keys.1.hash_one((key, nonce)));
        // The shard from the high half; the maps hash by the low half.
        let shard = (high >> 58) as usize % SHARDS;
        // One probe of `current` (first used since the rotation, so within
        // the window, unless the clock went back past it).
        match self.current[shard].entry(digest) {
            Entry::Occupied(mut at) => {
                if now_ms - *at.get() < NONCE_WINDOW_MS {
                    return false;
                }
                at.insert(now_ms);
                true
            }
            Entry::Vacant(slot) => match self.previous[shard].get(&digest) {
                Some(at) if now_ms - *at < NONCE_WINDOW_MS => false,
                _ => {
                    slot.insert(now_ms);
                    true
                }
            },
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.current
            .iter()
            .chain(&self.previous)
            .map(HashMap::len)
            .sum()
    }
}

/// The map's hash of a digest: its low 64 bits (already a keyed hash).
#[derive(Default)]
pub struct Digest(u64);

impl Hasher for Digest {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; anything else still hashes.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = NONCE_WINDOW_MS;

    #[test]
    fn a_nonce_is_refused_for_exactly_one_window() {
        let mut c = NonceCache::default();
        let t0 = 1_700_000_000_000;
        assert!(c.use_nonce("k", "n", t0));
        assert!(!c.use_nonce("k", "n", t0 + 1));
        // Another key, or another nonce, is another pair; so is a pair
        // whose parts only concatenate alike.
        assert!(c.use_nonce("k2", "n", t0 + 1));
        assert!(c.use_nonce("k", "n2", t0 + 1));
        assert!(c.use_nonce("kn", "", t0 + 1));
        assert!(c.use_nonce("", "kn", t0 + 1));
        // Across a rotation: still refused until the window is over.
        assert!(c.use_nonce("other", "x", t0 + W - 1));
        assert!(!c.use_nonce("other", "x", t0 + W + 5));
        assert!(!c.use_nonce("k", "n", t0 + W - 1));
        assert!(c.use_nonce("k", "n", t0 + W));
        assert!(!c.use_nonce("k", "n", t0 + W + 1));
    }

    #[test]
    fn nonces_spread_over_the_shards() {
        let mut c = NonceCache::default();
        for i in 0..6400 {
            assert!(c.use_nonce("k", &i.to_string(), 1));
        }
        for i in 0..6400 {
            assert!(!c.use_nonce("k", &i.to_string(), 2));
        }
        assert_eq!(c.len(), 6400);
        assert!(c.current.iter().all(|m| (50..200).contains(&m.len())));
    }

    #[test]
    fn old_nonces_are_dropped() {
        let mut c = NonceCache::default();
        let t0 = 1_700_000_000_000;
        for i in 0..1000 {
            assert!(c.use_nonce("k", &i.to_string(), t0 + i));
        }
        assert_eq!(c.len(), 1000);
        // Two windows on, the first thousand are gone.
        assert!(c.use_nonce("k", "late", t0 + 2 * W + 1000));
        assert!(c.use_nonce("k", "later", t0 + 3 * W + 1000));
        assert_eq!(c.len(), 2);
        assert!(c.use_nonce("k", "0", t0 + 3 * W + 1001));
    }
}
