//! Given/when/then tests of details, archive, files and deal status.

mod common;

use common::*;
use domain::OpportunityEvent as Ev;
use domain::{DealStatus, DetailsChanges, FileMeta, OpportunityCommand as Cmd, OpportunityError as E};
use uuid::Uuid;

fn file(n: u128) -> FileMeta {
    FileMeta {
        file_id: Uuid::from_u128(n),
        filename: "brief.md".into(),
        media_type: "text/markdown".into(),
        size_bytes: 42,
        sha256: "ab".repeat(32),
        text_chars: 40,
        uploaded_by: editor().email,
        uploaded_at: at(4),
    }
}

#[tokio::test]
async fn updating_records_only_what_changed() {
    let changes = DetailsChanges {
        name: Some(details().name),
        client_name: Some(Some("Halvorsen".into())),
        brands: Some(vec!["Nordlys".into()]),
        ..Default::default()
    };
    let recorded = DetailsChanges {
        client_name: Some(Some("Halvorsen".into())),
        brands: Some(vec!["Nordlys".into()]),
        ..Default::default()
    };
    given()
        .given(created())
        .when_async(Cmd::UpdateDetails { changes, at: at(9) })
        .await
        .then_expect_events(vec![Ev::OpportunityDetailsUpdated { changes: recorded, at: at(9) }]);
}

#[tokio::test]
async fn an_update_that_changes_nothing_records_nothing() {
    let changes = DetailsChanges { name: Some(details().name), ..Default::default() };
    given()
        .given(created())
        .when_async(Cmd::UpdateDetails { changes, at: at(9) })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn archived_opportunities_no_longer_change() {
    let history = [created(), vec![Ev::OpportunityArchived { at: at(7) }]].concat();
    given()
        .given(history.clone())
        .when_async(Cmd::UpdateDetails { changes: DetailsChanges::default(), at: at(9) })
        .await
        .then_expect_error(E::Archived);
    given()
        .given(history)
        .when_async(Cmd::ArchiveOpportunity { at: at(9) })
        .await
        .then_expect_error(E::Archived);
}

#[tokio::test]
async fn files_are_recorded_once_and_removed_once() {
    given()
        .given(created())
        .when_async(Cmd::RecordFileUpload { file: file(1) })
        .await
        .then_expect_events(vec![Ev::FileUploaded { file: file(1) }]);
    let with_file = [created(), vec![Ev::FileUploaded { file: file(1) }]].concat();
    given()
        .given(with_file.clone())
        .when_async(Cmd::RecordFileUpload { file: file(1) })
        .await
        .then_expect_error(E::FileAlreadyRecorded(Uuid::from_u128(1)));
    given()
        .given(with_file.clone())
        .when_async(Cmd::RemoveFile { file_id: Uuid::from_u128(1), at: at(8) })
        .await
        .then_expect_events(vec![Ev::FileRemoved { file_id: Uuid::from_u128(1), at: at(8) }]);
    let removed = [with_file, vec![Ev::FileRemoved { file_id: Uuid::from_u128(1), at: at(8) }]].concat();
    given()
        .given(removed)
        .when_async(Cmd::RemoveFile { file_id: Uuid::from_u128(1), at: at(9) })
        .await
        .then_expect_error(E::FileNotFound(Uuid::from_u128(1)));
}

#[tokio::test]
async fn deal_status_changes_carry_from_and_lessons() {
    let lessons = Some("Priced above the incumbent".to_string());
    given()
        .given(created())
        .when_async(Cmd::SetDealStatus {
            status: Some(DealStatus::Lost),
            lessons_learned: Some(lessons.clone()),
            at: at(9),
        })
        .await
        .then_expect_events(vec![Ev::DealStatusChanged {
            from: DealStatus::Active,
            to: DealStatus::Lost,
            lessons_learned: lessons,
            at: at(9),
        }]);
}

#[tokio::test]
async fn setting_the_same_deal_status_records_nothing() {
    given()
        .given(created())
        .when_async(Cmd::SetDealStatus { status: Some(DealStatus::Active), lessons_learned: None, at: at(9) })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn lessons_can_change_without_the_status() {
    let lost = Ev::DealStatusChanged {
        from: DealStatus::Active,
        to: DealStatus::Lost,
        lessons_learned: None,
        at: at(8),
    };
    given()
        .given([created(), vec![lost]].concat())
        .when_async(Cmd::SetDealStatus {
            status: None,
            lessons_learned: Some(Some("Too slow".into())),
            at: at(9),
        })
        .await
        .then_expect_events(vec![Ev::DealStatusChanged {
            from: DealStatus::Lost,
            to: DealStatus::Lost,
            lessons_learned: Some("Too slow".into()),
            at: at(9),
        }]);
}

#[test]
fn a_cleared_field_survives_the_trip_through_the_store() {
    let event = Ev::OpportunityDetailsUpdated {
        changes: DetailsChanges {
            client_name: Some(None),
            region: Some(Some("EMEA".into())),
            ..Default::default()
        },
        at: at(9),
    };
    let stored = serde_json::to_value(&event).unwrap();
    let read: Ev = serde_json::from_value(stored).unwrap();
    assert_eq!(read, event);
}
