//! A closed-loop load generator: N clients each repeat one operation until a deadline, and the
//! latencies, retries and failures they saw.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a single operation may take before it counts as failed, so a stuck call cannot hold
/// the benchmark past its deadline.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// What one load run measured.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Sorted, one per successful operation.
    latencies: Vec<Duration>,
    pub elapsed: Duration,
    /// Extra attempts the operations needed (lost optimistic-concurrency races).
    pub retries: usize,
    pub failures: usize,
}

impl Sample {
    pub fn ops(&self) -> usize {
        self.latencies.len()
    }

    pub fn per_second(&self) -> f64 {
        self.ops() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The `q`-quantile latency (nearest rank); zero when nothing succeeded.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1]
    }

    pub fn p50(&self) -> Duration {
        self.quantile(0.50)
    }

    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }
}

/// Runs `clients` concurrent loops of `op(client, iteration)` for `duration`. `op` answers how many
/// attempts it took (1 when it went through first time) or an error.
pub async fn drive<F, Fut>(clients: usize, duration: Duration, op: F) -> Sample
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<usize, String>> + Send + 'static,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut sample = Sample::default();
                let mut iteration = 0;
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    match tokio::time::timeout(OPERATION_TIMEOUT, op(client, iteration)).await {
                        Ok(Ok(attempts)) => {
                            sample.latencies.push(begun.elapsed());
                            sample.retries += attempts.saturating_sub(1);
                        }
                        Ok(Err(e)) => {
                            if sample.failures == 0 {
                                tracing::warn!(client, error = %e, "benchmark operation failed");
                            }
                            sample.failures += 1;
                        }
                        Err(_) => sample.failures += 1,
                    }
                    iteration += 1;
                }
                sample
            })
        })
        .collect();
    let mut total = Sample::default();
    for task in tasks {
        let s = task.await.unwrap_or_else(|_| Sample { failures: 1, ..Sample::default() });
        total.latencies.extend(s.latencies);
        total.retries += s.retries;
        total.failures += s.failures;
    }
    total.elapsed = started.elapsed();
    total.latencies.sort_unstable();
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let sample = Sample {
            latencies: (1..=100).map(Duration::from_millis).collect(),
            elapsed: Duration::from_secs(2),
            ..Sample::default()
        };
        assert_eq!(sample.p50(), Duration::from_millis(50));
        assert_eq!(sample.p99(), Duration::from_millis(99));
        assert_eq!(sample.quantile(1.0), Duration::from_millis(100));
        assert_eq!(sample.per_second(), 50.0);
        assert_eq!(Sample::default().p99(), Duration::ZERO);
    }
}
