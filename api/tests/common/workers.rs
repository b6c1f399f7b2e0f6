//! Agent workers for tests: the app's publishers and the given workers run until the returned
//! sender is dropped.

use std::sync::Arc;
use std::time::Duration;

use agent_workers::provider::Provider;
use agent_workers::worker::{RunHost, Worker};
use api::agents::host::ApiHost;
use tokio::sync::watch;

use super::TestApp;

/// A worker's provider, and its host when not the plain API host.
pub type WorkerSpec = (Arc<dyn Provider>, Option<Arc<dyn RunHost>>);

/// Starts the publishers of `app` and one worker per spec.
pub fn start(app: &TestApp, workers: Vec<WorkerSpec>) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    app.state.spawn_publishers(stopped.clone());
    for (provider, host) in workers {
        let host = host.unwrap_or_else(|| Arc::new(ApiHost::new(app.state.clone())));
        let worker = Worker::new(
            app.state.nats.clone().unwrap(),
            api::agents::workers::config(&app.state),
            provider,
            host,
        );
        let stopped = stopped.clone();
        tokio::spawn(async move {
            // The stream may not exist yet: the publisher creates it on its first pass.
            while worker.run(stopped.clone()).await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    stop
}
