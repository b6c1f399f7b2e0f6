//! Whether what a request's commands recorded is visible in the read models yet. The command bus
//! notes it when they are behind (a slow or stopped projection); the request's answer is then 202
//! with the opportunity's `Location` rather than a read that would contradict what was stored.

use std::cell::Cell;
use std::future::Future;

use uuid::Uuid;

tokio::task_local! {
    static BEHIND: Cell<Option<Uuid>>;
}

/// Runs a request's handling, noting whether its writes are visible.
pub async fn scope<F: Future>(work: F) -> (F::Output, Option<Uuid>) {
    BEHIND
        .scope(Cell::new(None), async {
            let output = work.await;
            (output, BEHIND.with(Cell::get))
        })
        .await
}

/// Notes that a command recorded events on `opportunity` the read models do not show yet. Outside
/// a request (an agent worker recording its run) there is nobody to answer, so nothing is noted.
pub fn mark_behind(opportunity: Uuid) {
    let _ = BEHIND.try_with(|cell| cell.set(Some(opportunity)));
}
