//! The aggregates this process decided on last, so the next command on one of them skips the load.
//!
//! Only a success may come from here: an append from a stale state meets the next sequence already
//! taken and conflicts (the store then forgets the entry and the bus retries on a fresh load), and
//! any other outcome decided on a remembered state is decided again on a fresh one. So another
//! process writing the same opportunity costs a retry, never a wrong answer.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use domain::Opportunity;
use lru::LruCache;

/// How many aggregates are remembered: the opportunities in play at once, with room to spare.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(4_096).unwrap();

pub(super) struct Recent(Mutex<LruCache<String, (Opportunity, usize)>>);

impl Default for Recent {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(CAPACITY)))
    }
}

impl Recent {
    /// The state and version last recorded for `id`.
    pub(super) fn get(&self, id: &str) -> Option<(Opportunity, usize)> {
        self.0.lock().ok()?.get(id).cloned()
    }

    pub(super) fn put(&self, id: &str, state: Opportunity, version: usize) {
        if let Ok(mut recent) = self.0.lock() {
            recent.put(id.to_string(), (state, version));
        }
    }

    pub(super) fn forget(&self, id: &str) {
        if let Ok(mut recent) = self.0.lock() {
            recent.pop(id);
        }
    }
}
