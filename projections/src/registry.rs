//! Every read model, in the order a catch-up feeds them: a new projection is registered here.

use crate::projection::Projection;

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
