//! Where a projector's time goes: read and decode, each projection, commit. The benchmark reads
//! it to say which part of a rebuild is the bottleneck.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Time spent per part, since the projector started.
#[derive(Default)]
pub struct TimeSpent(Mutex<BTreeMap<&'static str, Duration>>);

impl TimeSpent {
    pub fn add(&self, part: &'static str, spent: Duration) {
        if let Ok(mut parts) = self.0.lock() {
            *parts.entry(part).or_default() += spent;
        }
    }

    /// Every part so far, longest first.
    pub fn parts(&self) -> Vec<(&'static str, Duration)> {
        let mut parts: Vec<_> =
            self.0.lock().map(|p| p.iter().map(|(k, v)| (*k, *v)).collect()).unwrap_or_default();
        parts.sort_by_key(|(_, spent)| std::cmp::Reverse(*spent));
        parts
    }
}
