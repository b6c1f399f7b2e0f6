//! What a read model is: a stable name, the tables it owns, and how it folds one event in.

use async_trait::async_trait;
use domain::OpportunityEvent;
use sqlx::PgConnection;

use crate::StoredEvent;

#[async_trait]
pub trait Projection: Send + Sync {
    /// Stable name: the key of its checkpoint.
    fn name(&self) -> &'static str;
    /// The tables it owns; a rebuild empties exactly these.
    fn tables(&self) -> &'static [&'static str];
    /// Folds one event in, inside the transaction that also moves the checkpoint.
    async fn apply(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &OpportunityEvent,
    ) -> Result<(), sqlx::Error>;
}

/// All read models, in the order they are caught up.
pub fn all() -> Vec<Box<dyn Projection>> {
    vec![
        Box::new(crate::opportunities::OpportunitiesProjection),
        Box::new(crate::approvals::ApprovalsProjection),
        Box::new(crate::notifications::NotificationsProjection),
        Box::new(crate::files::FilesProjection),
        Box::new(crate::qualification::QualificationProjection),
        Box::new(crate::clarifications::ClarificationsProjection),
        Box::new(crate::assets::AssetsProjection),
        Box::new(crate::efficiency::EfficiencyProjection),
        Box::new(crate::agent_runs::AgentRunsProjection),
    ]
}
