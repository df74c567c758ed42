//! Number issuance (`issuance.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionTrait};
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture};
use uketsuke_rules::numbering::{NumberingPolicy, SerialRange};

use super::TestDb;
use crate::audit::Actor;
use crate::entities::{issued_number, registry_code};
use crate::issuance::{self, District, IssueOptions, NumberStatus};
use crate::{Error, users::Role};

fn pref(code: u8) -> Prefecture {
    Prefecture::from_code(code).unwrap()
}

fn district(prefecture: u8, fee_schedule: FeeSchedule, number: u8) -> District {
    District {
        prefecture: pref(prefecture),
        fee_schedule,
        number,
    }
}

fn proposed() -> IssueOptions {
    IssueOptions {
        request_id: None,
        status: NumberStatus::Proposed,
    }
}

fn approved() -> IssueOptions {
    IssueOptions {
        request_id: None,
        status: NumberStatus::Approved,
    }
}

/// A policy whose 医科 range is `first..=last`.
fn medical_range(first: u16, last: u16) -> NumberingPolicy {
    NumberingPolicy {
        medical: SerialRange::new(first, last).unwrap(),
        ..NumberingPolicy::default()
    }
}

async fn add_registry<C: ConnectionTrait>(db: &C, d: District, serial: u16, address: &str) {
    let code =
        InstitutionCode::build(d.prefecture, d.fee_schedule, d.number, serial, false).unwrap();
    registry_code::ActiveModel {
        prefecture: Set(d.prefecture.code_str()),
        fee_schedule: Set(d.fee_schedule.digit().to_string()),
        district: Set(i16::from(d.number)),
        serial: Set(i16::try_from(serial).unwrap()),
        check_digit: Set(i16::from(code.check_digit())),
        code: Set(code.to_string()),
        name: Set(Some("既存".into())),
        address: Set(Some(address.into())),
        municipality: Set(uketsuke_rules::numbering::municipality_of(address)),
        source: Set("test".into()),
        imported_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn taken_serials_are_the_registrys_and_the_issued_of_that_district_only() {
    let t = TestDb::new().await;
    let here = district(13, FeeSchedule::Medical, 1);
    add_registry(&t.db, here, 1000, "東京都千代田区").await;
    add_registry(
        &t.db,
        district(13, FeeSchedule::Medical, 2),
        1001,
        "東京都港区",
    )
    .await;
    add_registry(
        &t.db,
        district(13, FeeSchedule::Dental, 1),
        3000,
        "東京都港区",
    )
    .await;
    add_registry(
        &t.db,
        district(14, FeeSchedule::Medical, 1),
        1002,
        "神奈川県",
    )
    .await;
    let policy = NumberingPolicy::default();
    let actor = Actor::system("test");
    issuance::issue(
        &t.db,
        district(13, FeeSchedule::Medical, 3),
        &policy,
        &approved(),
        &actor,
    )
    .await
    .unwrap();
    assert_eq!(
        issuance::taken_serials(&t.db, here).await.unwrap(),
        [1000].into()
    );
    let issued = issuance::issue(&t.db, here, &policy, &approved(), &actor)
        .await
        .unwrap();
    assert_eq!(issued.serial, 1001, "1000 is the registry's");
    assert_eq!(
        issuance::taken_serials(&t.db, here).await.unwrap(),
        [1000, 1001].into()
    );
}

#[tokio::test]
async fn peek_shows_the_next_number_without_taking_it() {
    let t = TestDb::new().await;
    let here = district(13, FeeSchedule::Medical, 1);
    add_registry(&t.db, here, 1000, "東京都千代田区").await;
    let policy = NumberingPolicy::default();
    let peeked = issuance::peek_next(&t.db, here, &policy).await.unwrap();
    let expected = InstitutionCode::build(pref(13), FeeSchedule::Medical, 1, 1001, false).unwrap();
    assert_eq!(peeked, expected);
    assert_eq!(
        issuance::peek_next(&t.db, here, &policy).await.unwrap(),
        expected
    );
    let issued = issuance::issue(&t.db, here, &policy, &proposed(), &Actor::system("t"))
        .await
        .unwrap();
    assert_eq!(issued.code, expected.to_string());
    let exhausted = issuance::peek_next(&t.db, here, &medical_range(1000, 1001))
        .await
        .unwrap_err();
    assert!(
        matches!(
            exhausted,
            Error::NumbersExhausted { ref prefecture, fee_schedule: 1, district: 1 }
                if prefecture == "東京都"
        ),
        "{exhausted:?}"
    );
}

#[tokio::test]
async fn an_issued_number_records_its_parts_status_and_who() {
    let t = TestDb::new().await;
    let clerk = t.user("tanto", Role::Clerk).await;
    let actor = Actor::user(clerk.id, "tanto");
    let policy = NumberingPolicy::default();
    let d = district(10, FeeSchedule::Dental, 7);
    let row = issuance::issue(&t.db, d, &policy, &proposed(), &actor)
        .await
        .unwrap();
    let code = InstitutionCode::build(pref(10), FeeSchedule::Dental, 7, 3000, false).unwrap();
    assert_eq!(row.code, code.to_string());
    assert_eq!(
        (
            row.prefecture.as_str(),
            row.fee_schedule.as_str(),
            row.district,
            row.serial
        ),
        ("10", "3", 7, 3000)
    );
    assert_eq!(row.check_digit, i16::from(code.check_digit()));
    assert!(!row.combined_dental);
    assert_eq!(row.status, NumberStatus::Proposed);
    assert_eq!(row.proposed_by, Some(clerk.id));
    assert_eq!((row.approved_by, row.approved_at), (None, None));
    let audit = t.audit("number.issue").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entity_id, row.id.to_string());
    assert_eq!(
        audit[0].after,
        Some(serde_json::json!({ "code": row.code, "status": "proposed", "request_id": null }))
    );

    let final_row = issuance::issue(&t.db, d, &policy, &approved(), &actor)
        .await
        .unwrap();
    assert_eq!(final_row.serial, 3001);
    assert_eq!(final_row.status, NumberStatus::Approved);
    assert_eq!(final_row.approved_by, Some(clerk.id));
    assert!(final_row.approved_at.is_some());
    assert_eq!(
        issued_number::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn approving_makes_a_proposed_number_final_once() {
    let t = TestDb::new().await;
    let approver = t.user("kessai", Role::Approver).await;
    let actor = Actor::user(approver.id, "kessai");
    let row = issuance::issue(
        &t.db,
        district(13, FeeSchedule::Medical, 1),
        &NumberingPolicy::default(),
        &proposed(),
        &Actor::system("t"),
    )
    .await
    .unwrap();
    let txn = t.db.begin().await.unwrap();
    let done = issuance::approve_in(&txn, row.clone(), &actor)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(done.status, NumberStatus::Approved);
    assert_eq!(done.approved_by, Some(approver.id));
    assert!(done.approved_at.is_some());
    let stored = issued_number::Entity::find_by_id(row.id)
        .one(&t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, NumberStatus::Approved);
    let audit = t.audit("number.approve").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].before.as_ref().unwrap()["status"], "proposed");
    assert_eq!(audit[0].after.as_ref().unwrap()["status"], "approved");

    let txn = t.db.begin().await.unwrap();
    let again = issuance::approve_in(&txn, stored, &actor)
        .await
        .unwrap_err();
    txn.rollback().await.unwrap();
    assert!(
        matches!(&again, Error::NotAllowed(m) if m.contains("は起案中ではありません")),
        "{again:?}"
    );
    assert_eq!(t.audit("number.approve").await.len(), 1);
}

#[tokio::test]
async fn a_voided_number_stays_taken_and_is_voided_once() {
    let t = TestDb::new().await;
    let here = district(13, FeeSchedule::Medical, 1);
    let policy = NumberingPolicy::default();
    let actor = Actor::system("t");
    let row = issuance::issue(&t.db, here, &policy, &approved(), &actor)
        .await
        .unwrap();
    let voided = issuance::void(&t.db, row.id, "誤交付", &actor)
        .await
        .unwrap();
    assert_eq!(voided.status, NumberStatus::Void);
    assert_eq!(voided.void_reason.as_deref(), Some("誤交付"));
    assert!(voided.voided_at.is_some());
    let audit = t.audit("number.void").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].after.as_ref().unwrap()["status"], "void");
    let next = issuance::issue(&t.db, here, &policy, &approved(), &actor)
        .await
        .unwrap();
    assert_eq!(
        next.serial,
        row.serial + 1,
        "a void number is never given again"
    );

    let again = issuance::void(&t.db, row.id, "x", &actor)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("は既に無効です"), "{again}");
    let unknown = issuance::void(&t.db, next.id + 1, "x", &actor)
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("が見つかりません"),
        "{unknown}"
    );
    assert_eq!(t.audit("number.void").await.len(), 1);
}

#[tokio::test]
async fn the_district_is_suggested_by_the_most_facilities_of_the_municipality() {
    let t = TestDb::new().await;
    let tottori = |n| district(31, FeeSchedule::Medical, n);
    add_registry(&t.db, tottori(1), 1000, "鳥取県鳥取市東町一丁目220").await;
    add_registry(&t.db, tottori(1), 1001, "鳥取県鳥取市富安2丁目").await;
    add_registry(&t.db, tottori(4), 1000, "鳥取県鳥取市湖山町").await;
    add_registry(&t.db, tottori(2), 1000, "鳥取県米子市加茂町1丁目").await;
    // The same city name in another prefecture does not count.
    add_registry(
        &t.db,
        district(32, FeeSchedule::Medical, 9),
        1000,
        "鳥取県鳥取市吉方",
    )
    .await;
    add_registry(
        &t.db,
        district(32, FeeSchedule::Medical, 9),
        1001,
        "鳥取県鳥取市吉方",
    )
    .await;
    add_registry(
        &t.db,
        district(32, FeeSchedule::Medical, 9),
        1002,
        "鳥取県鳥取市吉方",
    )
    .await;
    let suggest = |address: &'static str| {
        let db = t.db.clone();
        async move {
            issuance::suggest_district(&db, pref(31), address)
                .await
                .unwrap()
        }
    };
    assert_eq!(suggest("鳥取県鳥取市扇町1番地").await, Some(1));
    assert_eq!(suggest("鳥取県米子市東福原").await, Some(2));
    assert_eq!(suggest("鳥取県倉吉市葵町").await, None);
    assert_eq!(suggest("").await, None);
}

#[tokio::test]
async fn a_prefectures_districts_come_with_their_municipalities_most_codes_first() {
    let t = TestDb::new().await;
    let tottori = |n| district(31, FeeSchedule::Medical, n);
    add_registry(&t.db, tottori(1), 1000, "鳥取県鳥取市東町一丁目220").await;
    add_registry(&t.db, tottori(1), 1001, "鳥取県鳥取市富安2丁目").await;
    add_registry(&t.db, tottori(1), 1002, "鳥取県岩美郡岩美町浦富").await;
    add_registry(&t.db, tottori(2), 1000, "鳥取県米子市加茂町1丁目").await;
    add_registry(&t.db, tottori(2), 1001, "鳥取県境港市上道町").await;
    // A code whose address names no municipality: its district is still offered.
    add_registry(&t.db, tottori(5), 1000, "").await;
    // Another prefecture's districts are not.
    add_registry(
        &t.db,
        district(32, FeeSchedule::Medical, 9),
        1000,
        "島根県松江市",
    )
    .await;
    let districts = issuance::districts_of(&t.db, pref(31)).await.unwrap();
    assert_eq!(
        districts,
        vec![
            (1, vec!["鳥取市".to_owned(), "岩美郡岩美町".to_owned()]),
            // A tie: by name.
            (2, vec!["境港市".to_owned(), "米子市".to_owned()]),
            (5, vec![]),
        ]
    );
    assert!(
        issuance::districts_of(&t.db, pref(13))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_collision_is_retried_and_any_other_error_is_returned_at_once() {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let result = issuance::retrying(|| {
        let c = c.clone();
        async move {
            if c.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(Error::Db(sea_orm::DbErr::Custom(
                    "database is locked".into(),
                )))
            } else {
                Ok(7)
            }
        }
    })
    .await
    .unwrap();
    assert_eq!((result, calls.load(Ordering::SeqCst)), (7, 4));

    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let result: crate::Result<()> = issuance::retrying(|| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            Err(Error::Invalid("no".into()))
        }
    })
    .await;
    assert!(matches!(result, Err(Error::Invalid(_))));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A database error that is no collision is not retried either.
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let result: crate::Result<()> = issuance::retrying(|| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            Err(Error::Db(sea_orm::DbErr::Custom("disk I/O error".into())))
        }
    })
    .await;
    assert!(matches!(result, Err(Error::Db(_))), "{result:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_pause_between_attempts_grows_by_5_ms_to_50_ms_with_under_5_ms_of_jitter() {
    use std::time::Duration;
    for (attempt, base) in [(1, 5), (2, 10), (10, 50), (11, 50), (40, 50)] {
        let pause = issuance::backoff(attempt);
        let base = Duration::from_millis(base);
        assert!(
            pause >= base && pause < base + Duration::from_millis(5),
            "attempt {attempt}: {pause:?}"
        );
    }
}

/// On PostgreSQL, issuers of one district queue on an advisory lock; other districts
/// (another prefecture, 点数表 or 郡市区番号) do not wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuers_of_one_district_queue_and_others_do_not_wait() {
    let t = TestDb::new().await;
    if !t.is_postgres() {
        eprintln!("skipped on SQLite (one writer at a time): set TEST_DATABASE_URL");
        return;
    }
    let policy = NumberingPolicy::default();
    // Each held district, with districts whose lock keys a wrong formula would confuse
    // with it: a digit moved between the parts (13-1-11 and 14-1-10 or 13-3-9), the
    // district multiplied in (13-1-00 and 13-3-00), the prefecture added instead of
    // shifted (13-1-00 and 12-1-01), the 点数表 multiplied with the prefecture
    // (36 歯科 and 27 調剤) or into it (36 歯科 and 2 調剤).
    let cases = [
        (
            district(13, FeeSchedule::Medical, 11),
            vec![
                district(14, FeeSchedule::Medical, 11),
                district(14, FeeSchedule::Medical, 10),
                district(13, FeeSchedule::Dental, 11),
                district(13, FeeSchedule::Dental, 9),
                district(13, FeeSchedule::Medical, 12),
                district(13, FeeSchedule::Medical, 10),
            ],
        ),
        (
            district(13, FeeSchedule::Medical, 0),
            vec![
                district(14, FeeSchedule::Medical, 0),
                district(12, FeeSchedule::Medical, 1),
                district(13, FeeSchedule::Dental, 0),
            ],
        ),
        (
            district(36, FeeSchedule::Dental, 5),
            vec![
                district(2, FeeSchedule::Pharmacy, 5),
                district(27, FeeSchedule::Pharmacy, 5),
            ],
        ),
    ];
    // Serials from 2000 for 医科, so that only the lock (not the unique index) can make
    // one wait.
    let elsewhere = medical_range(2000, 2999);
    for (held, others) in cases {
        let holder = t.db.begin().await.unwrap();
        // The lock is taken by issuing in the holder's transaction.
        issuance::issue_in(&holder, held, &policy, &proposed(), &Actor::system("a"))
            .await
            .unwrap();
        for (d, free) in others.into_iter().map(|d| (d, true)).chain([(held, false)]) {
            let txn = t.db.begin().await.unwrap();
            txn.execute_unprepared("SET LOCAL lock_timeout = '300ms'")
                .await
                .unwrap();
            let result =
                issuance::issue_in(&txn, d, &elsewhere, &proposed(), &Actor::system("b")).await;
            txn.rollback().await.unwrap();
            assert_eq!(
                result.is_ok(),
                free,
                "held {held:?}, tried {d:?}: {result:?}"
            );
        }
        holder.rollback().await.unwrap();
    }
}
