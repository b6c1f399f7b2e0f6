//! Given/when/then tests of the stage machine rules (seed: "Stage-machine rules (exact)").

mod common;

use common::*;
use domain::{Opportunity, OpportunityCommand as Cmd, OpportunityError as E, OpportunityEvent as Ev};
use domain::{StageStatus, STAGE_COUNT};

fn complete(n: u8) -> Cmd {
    Cmd::CompleteStage { stage: stage(n), actor: editor(), at: at(5) }
}

#[tokio::test]
async fn creating_starts_stage_one_and_leaves_the_rest_not_started() {
    given()
        .given_no_previous_events()
        .when_async(Cmd::CreateOpportunity {
            opportunity_id: opp_id(),
            details: details(),
            actor: editor(),
            at: at(0),
        })
        .await
        .then_expect_events(created());

    let mut o = Opportunity::default();
    created().into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    let statuses: Vec<_> = o.stages.iter().map(|(_, s)| s.status).collect();
    assert_eq!(statuses.len(), usize::from(STAGE_COUNT));
    assert_eq!(statuses[0], StageStatus::InProgress);
    assert!(statuses[1..].iter().all(|s| *s == StageStatus::NotStarted));
    assert_eq!(o.current_stage().get(), 1);
}

#[tokio::test]
async fn creating_twice_is_refused() {
    given()
        .given(created())
        .when_async(Cmd::CreateOpportunity {
            opportunity_id: opp_id(),
            details: details(),
            actor: editor(),
            at: at(0),
        })
        .await
        .then_expect_error(E::AlreadyExists);
}

#[tokio::test]
async fn completing_the_current_stage_starts_the_next() {
    given().given(created()).when_async(complete(1)).await.then_expect_events(vec![
        Ev::StageCompleted { stage: stage(1), completed_by: editor().email, at: at(5) },
        Ev::StageStarted { stage: stage(2), at: at(5) },
    ]);
}

#[tokio::test]
async fn completing_a_completed_stage_is_refused() {
    given()
        .given(completed_through(1))
        .when_async(complete(1))
        .await
        .then_expect_error(E::StageAlreadyCompleted(1));
}

#[tokio::test]
async fn completing_out_of_order_is_refused() {
    given().given(created()).when_async(complete(2)).await.then_expect_error(E::StageNotStarted(2));
    given()
        .given(completed_through(4))
        .when_async(complete(17))
        .await
        .then_expect_error(E::StageNotStarted(17));
}

#[tokio::test]
async fn ungated_stages_close_without_approvals() {
    given().given(completed_through(3)).when_async(complete(4)).await.then_expect_events(vec![
        Ev::StageCompleted { stage: stage(4), completed_by: editor().email, at: at(5) },
        Ev::StageStarted { stage: stage(5), at: at(5) },
    ]);
}

#[tokio::test]
async fn closing_the_last_stage_starts_nothing_more() {
    given().given(completed_through(16)).when_async(complete(17)).await.then_expect_events(vec![
        Ev::StageCompleted { stage: stage(17), completed_by: editor().email, at: at(5) },
    ]);
}

#[tokio::test]
async fn closing_stage_16_on_a_won_deal_hands_the_opportunity_off() {
    let won = Ev::DealStatusChanged {
        from: domain::DealStatus::Active,
        to: domain::DealStatus::Won,
        lessons_learned: None,
        at: at(2),
    };
    let history = [completed_through(15), vec![won]].concat();
    let events = given().given(history).when_async(complete(16)).await.inspect_result().unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[1], Ev::StageStarted { stage: s, .. } if s.get() == 17));
    let Ev::OpportunityHandedOff { summary, .. } = &events[2] else { panic!("no hand-off: {events:?}") };
    assert_eq!(summary.opportunity_name, details().name);
    assert_eq!(summary.owner_email, details().owner_email);
}

#[tokio::test]
async fn closing_stage_16_without_a_win_hands_nothing_off() {
    let events =
        given().given(completed_through(15)).when_async(complete(16)).await.inspect_result().unwrap();
    assert!(events.iter().all(|e| !matches!(e, Ev::OpportunityHandedOff { .. })), "{events:?}");
}

#[tokio::test]
async fn current_stage_follows_completion() {
    let mut o = Opportunity::default();
    completed_through(5).into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    assert_eq!(o.current_stage().get(), 6);
    assert_eq!(o.stages.get(stage(5)).status, StageStatus::Completed);
    assert_eq!(o.stages.get(stage(5)).completed_at, Some(at(1)));
    assert_eq!(o.stages.get(stage(6)).status, StageStatus::InProgress);
}

#[tokio::test]
async fn commands_on_an_unknown_opportunity_are_refused() {
    given().given_no_previous_events().when_async(complete(1)).await.then_expect_error(E::NotFound);
}

#[test]
fn stage_numbers_outside_one_to_seventeen_do_not_exist() {
    assert!(domain::StageNumber::new(0).is_none());
    assert!(domain::StageNumber::new(18).is_none());
    assert!(serde_json::from_str::<domain::StageNumber>("18").is_err());
    assert_eq!(serde_json::from_str::<domain::StageNumber>("17").unwrap().get(), 17);
}
