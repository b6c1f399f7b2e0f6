//! Given/when/then tests of approvals and the gates on stages 3 and 14.

mod common;

use common::*;
use domain::commands::{Actor, ActorRole};
use domain::OpportunityEvent as Ev;
use domain::{ApprovalDecision, ApprovalRole, OpportunityCommand as Cmd, OpportunityError as E};
use uuid::Uuid;

const APPROVER: &str = "carol@agency.test";

fn approval(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn requested(id: u128, s: u8, role: ApprovalRole) -> Ev {
    Ev::ApprovalRequested {
        approval_id: approval(id),
        stage: stage(s),
        role,
        approver_email: APPROVER.into(),
        token_digest: format!("digest-{id}"),
        requested_by: editor().email,
        supersedes: None,
        at: at(2),
    }
}

fn decided(id: u128, s: u8, decision: ApprovalDecision) -> Ev {
    Ev::ApprovalDecided {
        approval_id: approval(id),
        stage: stage(s),
        decision,
        notes: None,
        decided_by: APPROVER.into(),
        at: at(3),
    }
}

fn request(id: u128, s: u8, role: ApprovalRole) -> Cmd {
    Cmd::RequestApproval {
        approval_id: approval(id),
        stage: stage(s),
        role,
        approver_email: APPROVER.into(),
        token_digest: format!("digest-{id}"),
        actor: editor(),
        at: at(2),
    }
}

fn decide(id: u128, decision: ApprovalDecision, actor: Actor) -> Cmd {
    Cmd::DecideApproval { approval_id: approval(id), decision, notes: None, actor, at: at(3) }
}

fn complete(n: u8) -> Cmd {
    Cmd::CompleteStage { stage: stage(n), actor: editor(), at: at(5) }
}

fn at_gate(n: u8, mut extra: Vec<Ev>) -> Vec<Ev> {
    let mut events = completed_through(n - 1);
    events.append(&mut extra);
    events
}

#[tokio::test]
async fn gated_stages_refuse_to_close_without_approvals() {
    for s in [3, 14] {
        given()
            .given(at_gate(s, vec![]))
            .when_async(complete(s))
            .await
            .then_expect_error(E::ApprovalsMissing(s));
    }
}

#[tokio::test]
async fn gated_stages_refuse_to_close_with_a_pending_approval() {
    let history = at_gate(
        3,
        vec![
            requested(1, 3, ApprovalRole::Commercial),
            requested(2, 3, ApprovalRole::Delivery),
            decided(1, 3, ApprovalDecision::Approve),
        ],
    );
    given()
        .given(history)
        .when_async(complete(3))
        .await
        .then_expect_error(E::ApprovalsPending { stage: 3, count: 1 });
}

#[tokio::test]
async fn gated_stages_refuse_to_close_with_a_rejected_approval() {
    let history = at_gate(
        14,
        vec![
            requested(1, 14, ApprovalRole::Commercial),
            requested(2, 14, ApprovalRole::DealDesk),
            decided(1, 14, ApprovalDecision::Approve),
            decided(2, 14, ApprovalDecision::Reject),
        ],
    );
    given()
        .given(history)
        .when_async(complete(14))
        .await
        .then_expect_error(E::ApprovalsRejected { stage: 14, count: 1 });
}

#[tokio::test]
async fn gated_stages_close_when_every_approval_is_approved() {
    let history = at_gate(
        3,
        vec![
            requested(1, 3, ApprovalRole::Commercial),
            requested(2, 3, ApprovalRole::Regional),
            decided(1, 3, ApprovalDecision::Approve),
            decided(2, 3, ApprovalDecision::Approve),
        ],
    );
    given().given(history).when_async(complete(3)).await.then_expect_events(vec![
        Ev::StageCompleted { stage: stage(3), completed_by: editor().email, at: at(5) },
        Ev::StageStarted { stage: stage(4), at: at(5) },
    ]);
}

#[tokio::test]
async fn approvals_of_another_stage_do_not_open_a_gate() {
    let history = at_gate(
        14,
        vec![requested(1, 3, ApprovalRole::Commercial), decided(1, 3, ApprovalDecision::Approve)],
    );
    given().given(history).when_async(complete(14)).await.then_expect_error(E::ApprovalsMissing(14));
}

#[tokio::test]
async fn approvals_are_only_for_gated_stages() {
    given()
        .given(created())
        .when_async(request(1, 4, ApprovalRole::Commercial))
        .await
        .then_expect_error(E::StageNotGated(4));
}

#[tokio::test]
async fn requesting_records_the_digest_and_requester() {
    given()
        .given(created())
        .when_async(request(1, 3, ApprovalRole::Solution))
        .await
        .then_expect_events(vec![requested(1, 3, ApprovalRole::Solution)]);
}

#[tokio::test]
async fn a_second_pending_request_for_the_same_role_is_refused() {
    given()
        .given([created(), vec![requested(1, 3, ApprovalRole::Delivery)]].concat())
        .when_async(request(2, 3, ApprovalRole::Delivery))
        .await
        .then_expect_error(E::ApprovalAlreadyPending { stage: 3, role: "delivery" });
}

#[tokio::test]
async fn a_fresh_request_supersedes_a_rejected_one_and_reopens_the_gate() {
    let history =
        at_gate(3, vec![requested(1, 3, ApprovalRole::Delivery), decided(1, 3, ApprovalDecision::Reject)]);
    let mut expected = requested(2, 3, ApprovalRole::Delivery);
    if let Ev::ApprovalRequested { supersedes, .. } = &mut expected {
        *supersedes = Some(approval(1));
    }
    given()
        .given(history.clone())
        .when_async(request(2, 3, ApprovalRole::Delivery))
        .await
        .then_expect_events(vec![expected.clone()]);

    let history = [history, vec![expected, decided(2, 3, ApprovalDecision::Approve)]].concat();
    given().given(history).when_async(complete(3)).await.inspect_result().expect("gate should open");
}

#[tokio::test]
async fn the_named_approver_decides() {
    let approver = Actor::new(APPROVER, ActorRole::Editor);
    given()
        .given([created(), vec![requested(1, 3, ApprovalRole::Commercial)]].concat())
        .when_async(decide(1, ApprovalDecision::Approve, approver))
        .await
        .then_expect_events(vec![decided(1, 3, ApprovalDecision::Approve)]);
}

#[tokio::test]
async fn an_admin_may_decide_for_the_approver() {
    let result = given()
        .given([created(), vec![requested(1, 3, ApprovalRole::Commercial)]].concat())
        .when_async(decide(1, ApprovalDecision::Reject, admin()))
        .await
        .inspect_result()
        .unwrap();
    assert!(
        matches!(&result[..], [Ev::ApprovalDecided { decided_by, decision: ApprovalDecision::Reject, .. }] if decided_by == "root@agency.test")
    );
}

#[tokio::test]
async fn anyone_else_may_not_decide() {
    let bystander = Actor::new("frank@agency.test", ActorRole::Editor);
    given()
        .given([created(), vec![requested(1, 3, ApprovalRole::Commercial)]].concat())
        .when_async(decide(1, ApprovalDecision::Approve, bystander))
        .await
        .then_expect_error(E::NotTheApprover);
}

#[tokio::test]
async fn an_approval_is_decided_once() {
    let approver = Actor::new(APPROVER, ActorRole::Editor);
    given()
        .given(
            [
                created(),
                vec![requested(1, 3, ApprovalRole::Commercial), decided(1, 3, ApprovalDecision::Approve)],
            ]
            .concat(),
        )
        .when_async(decide(1, ApprovalDecision::Reject, approver))
        .await
        .then_expect_error(E::ApprovalAlreadyDecided(approval(1)));
}

#[tokio::test]
async fn an_unknown_approval_is_not_found() {
    given()
        .given(created())
        .when_async(decide(9, ApprovalDecision::Approve, admin()))
        .await
        .then_expect_error(E::ApprovalNotFound(approval(9)));
}
