//! Given/when/then tests of who may be asked for an approval and who may decide it (four eyes):
//! never the requester nor the opportunity's owner, whatever their role; the named approver when
//! an editor or admin; another admin on the approver's behalf.

mod common;

use common::*;
use domain::commands::{Actor, ActorRole};
use domain::details::DetailsChanges;
use domain::OpportunityEvent as Ev;
use domain::{
    ApprovalDecision, ApprovalRole, OpportunityCommand as Cmd, OpportunityDetails, OpportunityError as E,
};
use uuid::Uuid;

/// The owner of `created()` and the usual requester (an editor).
const OWNER: &str = "eve@agency.test";
const APPROVER: &str = "carol@agency.test";

fn approval() -> Uuid {
    Uuid::from_u128(1)
}

fn person(email: &str, role: ActorRole) -> Actor {
    Actor::new(email, role)
}

fn request_of(approver: &str, actor: Actor) -> Cmd {
    Cmd::RequestApproval {
        approval_id: approval(),
        stage: stage(3),
        role: ApprovalRole::Commercial,
        approver_email: approver.into(),
        token_digest: "digest".into(),
        actor,
        at: at(2),
    }
}

fn requested_by(requester: &str) -> Ev {
    Ev::ApprovalRequested {
        approval_id: approval(),
        stage: stage(3),
        role: ApprovalRole::Commercial,
        approver_email: APPROVER.into(),
        token_digest: "digest".into(),
        requested_by: requester.into(),
        supersedes: None,
        at: at(2),
    }
}

fn decide_as(actor: Actor) -> Cmd {
    Cmd::DecideApproval {
        approval_id: approval(),
        decision: ApprovalDecision::Approve,
        notes: None,
        actor,
        at: at(3),
    }
}

/// An opportunity owned by `owner` (created by the editor).
fn owned_by(owner: &str) -> Vec<Ev> {
    vec![
        Ev::OpportunityCreated {
            opportunity_id: opp_id(),
            details: OpportunityDetails { owner_email: owner.into(), ..details() },
            created_by: editor().email,
            at: at(0),
        },
        Ev::StageStarted { stage: stage(1), at: at(0) },
    ]
}

#[tokio::test]
async fn naming_yourself_as_approver_is_refused_whatever_the_case_or_role() {
    for requester in [editor(), admin()] {
        let me = requester.email.to_uppercase();
        given()
            .given(created())
            .when_async(request_of(&me, requester))
            .await
            .then_expect_error(E::ApproverIsRequester);
    }
}

#[tokio::test]
async fn naming_the_owner_as_approver_is_refused() {
    let colleague = person("frank@agency.test", ActorRole::Editor);
    given()
        .given(created())
        .when_async(request_of("Eve@Agency.test", colleague))
        .await
        .then_expect_error(E::ApproverIsOwner { owner: OWNER.into() });
}

#[tokio::test]
async fn the_requester_may_not_decide_even_as_an_admin() {
    given()
        .given([created(), vec![requested_by(&admin().email)]].concat())
        .when_async(decide_as(admin()))
        .await
        .then_expect_error(E::RequesterMayNotDecide);
}

#[tokio::test]
async fn the_requester_may_not_decide_when_also_named_approver_in_another_case() {
    // A request naming the requester is refused; this history could only come from before the rule.
    let history = [created(), vec![requested_by("CAROL@agency.test")]].concat();
    given()
        .given(history)
        .when_async(decide_as(person(APPROVER, ActorRole::Editor)))
        .await
        .then_expect_error(E::RequesterMayNotDecide);
}

#[tokio::test]
async fn the_owner_may_not_decide_even_as_an_admin() {
    given()
        .given([owned_by(&admin().email), vec![requested_by(OWNER)]].concat())
        .when_async(decide_as(admin()))
        .await
        .then_expect_error(E::OwnerMayNotDecide);
}

#[tokio::test]
async fn an_approver_who_became_the_owner_may_no_longer_decide() {
    let handed_over = Ev::OpportunityDetailsUpdated {
        changes: DetailsChanges { owner_email: Some(APPROVER.into()), ..Default::default() },
        at: at(2),
    };
    given()
        .given([created(), vec![requested_by(OWNER), handed_over]].concat())
        .when_async(decide_as(person(APPROVER, ActorRole::Editor)))
        .await
        .then_expect_error(E::OwnerMayNotDecide);
}

#[tokio::test]
async fn a_viewer_named_as_approver_may_not_decide() {
    given()
        .given([created(), vec![requested_by(OWNER)]].concat())
        .when_async(decide_as(person(APPROVER, ActorRole::Viewer)))
        .await
        .then_expect_error(E::ApproverRoleTooLow { role: "viewer" });
}

#[tokio::test]
async fn the_named_approver_decides_as_an_editor_or_an_admin() {
    for role in [ActorRole::Editor, ActorRole::Admin] {
        let result = given()
            .given([created(), vec![requested_by(OWNER)]].concat())
            .when_async(decide_as(person("Carol@Agency.test", role)))
            .await
            .inspect_result();
        assert!(
            matches!(
                &result.as_deref(),
                Ok([Ev::ApprovalDecided { decision: ApprovalDecision::Approve, .. }])
            ),
            "{role:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn another_admin_decides_on_the_approvers_behalf_but_another_editor_does_not() {
    let history = [created(), vec![requested_by(OWNER)]].concat();
    given()
        .given(history.clone())
        .when_async(decide_as(person("frank@agency.test", ActorRole::Editor)))
        .await
        .then_expect_error(E::NotTheApprover);
    given()
        .given(history)
        .when_async(decide_as(admin()))
        .await
        .inspect_result()
        .expect("an admin who neither requested nor owns decides");
}

#[tokio::test]
async fn a_request_by_the_owner_naming_someone_else_is_recorded() {
    given()
        .given(created())
        .when_async(request_of(APPROVER, editor()))
        .await
        .then_expect_events(vec![requested_by(OWNER)]);
}
