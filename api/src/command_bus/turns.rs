//! Commands on one opportunity take turns within this process. Deciding on a state while another
//! command on it is between its decision and its append can only lose the race; waiting instead
//! means the next command decides on the state the last one recorded and appends first time.
//! Races with other processes are still settled by the event store's unique key.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

/// Locks shared out by hash: bounded memory whatever the number of opportunities; two unrelated
/// opportunities share one rarely, and then only wait a turn.
const STRIPES: usize = 1024;

pub(super) struct Turns(Vec<Mutex<()>>);

impl Default for Turns {
    fn default() -> Self {
        Self((0..STRIPES).map(|_| Mutex::new(())).collect())
    }
}

impl Turns {
    /// Waits for `aggregate_id`'s turn; it lasts as long as the guard.
    pub async fn take(&self, aggregate_id: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        aggregate_id.hash(&mut hasher);
        self.0[(hasher.finish() % STRIPES as u64) as usize].lock().await
    }
}
