//! Fixtures shared by the domain's given/when/then tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use domain::commands::{Actor, ActorRole};
use domain::{InputError, Opportunity, OpportunityDetails, OpportunityError, OpportunityEvent, StageNumber};
use uuid::Uuid;

pub type Given = TestFramework<Opportunity>;

pub fn given() -> Given {
    TestFramework::with(())
}

pub fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, minute, 0).unwrap()
}

pub fn stage(n: u8) -> StageNumber {
    StageNumber::new(n).unwrap()
}

pub fn opp_id() -> Uuid {
    Uuid::from_u128(0xA11CE)
}

pub fn editor() -> Actor {
    Actor::new("eve@agency.test", ActorRole::Editor)
}

pub fn admin() -> Actor {
    Actor::new("root@agency.test", ActorRole::Admin)
}

/// The refusal of a number outside `min..=max`, naming its field.
pub fn out_of_range(
    field: &str,
    min: impl ToString,
    max: impl ToString,
    value: impl ToString,
) -> OpportunityError {
    OpportunityError::Invalid(InputError::OutOfRange {
        field: field.into(),
        min: min.to_string(),
        max: max.to_string(),
        value: value.to_string(),
    })
}

pub fn details() -> OpportunityDetails {
    OpportunityDetails {
        name: "Halvorsen EMEA content".into(),
        owner_email: "eve@agency.test".into(),
        ..Default::default()
    }
}

pub fn created() -> Vec<OpportunityEvent> {
    vec![
        OpportunityEvent::OpportunityCreated {
            opportunity_id: opp_id(),
            details: details(),
            created_by: editor().email,
            at: at(0),
        },
        OpportunityEvent::StageStarted { stage: stage(1), at: at(0) },
    ]
}

/// The events of an opportunity whose stages 1..=n are completed (gates ignored: facts, not commands).
pub fn completed_through(n: u8) -> Vec<OpportunityEvent> {
    let mut events = created();
    for s in 1..=n {
        events.push(OpportunityEvent::StageCompleted {
            stage: stage(s),
            completed_by: editor().email,
            at: at(1),
        });
        if let Some(next) = stage(s).next() {
            events.push(OpportunityEvent::StageStarted { stage: next, at: at(1) });
        }
    }
    events
}
