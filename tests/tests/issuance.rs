//! Number issuance and the case rules that need the database, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, Set, TransactionTrait};
use uketsuke_domain::{CheckRule, FeeSchedule, InstitutionCode, Prefecture, RequestKind};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{audit_log, issued_number, reception_request, registry_code};
use uketsuke_store::issuance::{self, District, IssueOptions};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_store::requests::{self, DuplicateProbe, NewFacility};
use uketsuke_tests::TestApp;

fn tokyo() -> Prefecture {
    Prefecture::from_code(13).unwrap()
}

fn district(prefecture: Prefecture, fee: FeeSchedule, number: u8) -> District {
    District {
        prefecture,
        fee_schedule: fee,
        number,
    }
}

fn approved() -> IssueOptions {
    IssueOptions {
        request_id: None,
        status: uketsuke_store::lifecycle::NumberStatus::Approved,
    }
}

fn actor() -> Actor {
    Actor::system("test")
}

async fn add_registry(
    app: &TestApp,
    prefecture: Prefecture,
    fee: FeeSchedule,
    d: u8,
    serial: u16,
    address: &str,
) {
    let code = InstitutionCode::build(prefecture, fee, d, serial, false).unwrap();
    registry_code::ActiveModel {
        prefecture: Set(prefecture.code_str()),
        fee_schedule: Set(fee.digit().to_string()),
        district: Set(i16::from(d)),
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
    .insert(&app.db)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_issuances_in_one_district_give_fifty_distinct_valid_numbers() {
    let app = TestApp::spawn().await;
    let d = district(tokyo(), FeeSchedule::Medical, 10);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let db = app.db.clone();
        let policy = app.settings.numbering;
        tasks.push(tokio::spawn(async move {
            issuance::issue(&db, d, &policy, &approved(), &actor()).await
        }));
    }
    let mut codes = BTreeSet::new();
    for task in tasks {
        let row = task
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("an issuance failed: {e}"));
        let code = InstitutionCode::parse(&row.code).unwrap();
        assert_eq!(
            code.rule(),
            CheckRule::SixDigit,
            "東京 uses the 6-digit rule"
        );
        assert_eq!(code.district(), 10);
        codes.insert(row.code);
    }
    assert_eq!(codes.len(), 50, "50 distinct numbers");
    assert_eq!(
        issued_number::Entity::find().count(&app.db).await.unwrap(),
        50
    );
    // The numbers are the first 50 usable ones: nothing skipped, nothing doubled.
    let serials: Vec<u16> = codes
        .iter()
        .map(|c| InstitutionCode::parse(c).unwrap().serial())
        .collect();
    let expected: Vec<u16> = (1000..)
        .filter(|s| {
            uketsuke_rules::numbering::is_usable_new_serial(
                FeeSchedule::Medical,
                *s,
                &app.settings.numbering,
            )
        })
        .take(50)
        .collect();
    assert_eq!(serials, expected);
}

#[tokio::test]
async fn issuance_skips_numbers_taken_in_the_registry() {
    let app = TestApp::spawn().await;
    let pref = Prefecture::from_code(34).unwrap();
    add_registry(
        &app,
        pref,
        FeeSchedule::Medical,
        7,
        1000,
        "広島県広島市中区基町10番52号",
    )
    .await;
    add_registry(
        &app,
        pref,
        FeeSchedule::Medical,
        7,
        1001,
        "広島県広島市中区基町10番52号",
    )
    .await;
    let row = issuance::issue(
        &app.db,
        district(pref, FeeSchedule::Medical, 7),
        &app.settings.numbering,
        &approved(),
        &actor(),
    )
    .await
    .unwrap();
    assert_eq!(
        row.code,
        InstitutionCode::build(pref, FeeSchedule::Medical, 7, 1002, false)
            .unwrap()
            .to_string()
    );
    assert_eq!(
        InstitutionCode::parse(&row.code).unwrap().rule(),
        CheckRule::NineDigit
    );
}

#[tokio::test]
async fn a_voided_number_is_never_issued_again() {
    let app = TestApp::spawn().await;
    let d = district(tokyo(), FeeSchedule::Dental, 3);
    let first = issuance::issue(&app.db, d, &app.settings.numbering, &approved(), &actor())
        .await
        .unwrap();
    let voided = issuance::void(&app.db, first.id, "記載誤りのため", &actor())
        .await
        .unwrap();
    assert_eq!(voided.status, uketsuke_store::lifecycle::NumberStatus::Void);
    let next = issuance::issue(&app.db, d, &app.settings.numbering, &approved(), &actor())
        .await
        .unwrap();
    assert_ne!(next.code, first.code);
    assert_eq!(next.serial, first.serial + 1);
    // Voiding twice is refused; the void is in the audit trail.
    assert!(
        issuance::void(&app.db, first.id, "再度", &actor())
            .await
            .is_err()
    );
    let audits = audit_log::Entity::find().all(&app.db).await.unwrap();
    assert!(
        audits
            .iter()
            .any(|a| a.action == "number.void" && a.entity_id == first.id.to_string())
    );
}

#[tokio::test]
async fn issuance_skips_numbers_with_90_in_the_middle_or_at_the_end() {
    let app = TestApp::spawn().await;
    let pref = Prefecture::from_code(1).unwrap();
    for serial in 4000..4090 {
        add_registry(
            &app,
            pref,
            FeeSchedule::Pharmacy,
            1,
            serial,
            "北海道札幌市中央区北1条西2丁目",
        )
        .await;
    }
    let row = issuance::issue(
        &app.db,
        district(pref, FeeSchedule::Pharmacy, 1),
        &app.settings.numbering,
        &approved(),
        &actor(),
    )
    .await
    .unwrap();
    assert_eq!(row.serial, 4091, "4090 ends in 90 and is not used");
}

#[tokio::test]
async fn peek_next_shows_the_number_without_issuing_it() {
    let app = TestApp::spawn().await;
    let d = district(tokyo(), FeeSchedule::Medical, 1);
    let peeked = issuance::peek_next(&app.db, d, &app.settings.numbering)
        .await
        .unwrap();
    assert_eq!(
        issued_number::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    let issued = issuance::issue(&app.db, d, &app.settings.numbering, &approved(), &actor())
        .await
        .unwrap();
    assert_eq!(issued.code, peeked.to_string());
}

#[tokio::test]
async fn the_district_is_suggested_from_registry_facilities_of_the_same_municipality() {
    let app = TestApp::spawn().await;
    let pref = Prefecture::from_code(31).unwrap();
    add_registry(
        &app,
        pref,
        FeeSchedule::Medical,
        1,
        1000,
        "鳥取県鳥取市東町一丁目220",
    )
    .await;
    add_registry(
        &app,
        pref,
        FeeSchedule::Medical,
        1,
        1001,
        "鳥取県鳥取市富安2丁目",
    )
    .await;
    add_registry(
        &app,
        pref,
        FeeSchedule::Medical,
        2,
        1000,
        "鳥取県米子市加茂町1丁目",
    )
    .await;
    let suggested = issuance::suggest_district(&app.db, pref, "鳥取県鳥取市扇町1番地")
        .await
        .unwrap();
    assert_eq!(suggested, Some(1));
    let suggested = issuance::suggest_district(&app.db, pref, "鳥取県米子市東福原")
        .await
        .unwrap();
    assert_eq!(suggested, Some(2));
    let none = issuance::suggest_district(&app.db, pref, "鳥取県倉吉市葵町")
        .await
        .unwrap();
    assert_eq!(
        none, None,
        "no facility of 倉吉市 in the registry: staff choose"
    );
    // ... from the prefecture's districts as the registry knows them.
    let districts = issuance::districts_of(&app.db, pref).await.unwrap();
    assert_eq!(
        districts,
        vec![
            (1, vec!["鳥取市".to_owned()]),
            (2, vec!["米子市".to_owned()])
        ]
    );
    assert!(
        issuance::districts_of(&app.db, Prefecture::from_code(32).unwrap())
            .await
            .unwrap()
            .is_empty(),
        "another prefecture's registry is not offered"
    );
}

async fn new_request(
    app: &TestApp,
    name: &str,
    address: &str,
    kind: RequestKind,
    designation: NaiveDate,
) -> reception_request::Model {
    let bureau = app.settings.bureau("kanto-shinetsu").unwrap();
    let d = uketsuke_rules::deadlines::deadlines(
        &bureau.calendar().unwrap(),
        &bureau.deadlines,
        designation,
    );
    let txn = app.db.begin().await.unwrap();
    let facility = requests::insert_facility(
        &txn,
        &NewFacility {
            bureau_id: "kanto-shinetsu".into(),
            prefecture: "13".into(),
            name: name.into(),
            name_search: uketsuke_domain::search_key(name),
            postal_code: None,
            address: address.into(),
            municipality: None,
            phone: None,
        },
        &actor(),
    )
    .await
    .unwrap();
    let row = requests::insert_request(
        &txn,
        reception_request::ActiveModel {
            bureau_id: Set("kanto-shinetsu".into()),
            facility_id: Set(facility.id),
            kind: Set(kind),
            status: Set(CaseStatus::Received),
            designation_date: Set(designation),
            received_on: Set(d.submission_deadline),
            reply_address: Set(address.into()),
            reply_name: Set(name.into()),
            facility_name: Set(name.into()),
            facility_address: Set(address.into()),
            founder_kind: Set(uketsuke_store::lifecycle::FounderKind::Person),
            contact_phone: Set("03-1234-5678".into()),
            retroactive: Set(false),
            submission_deadline: Set(d.submission_deadline),
            answer_due: Set(d.answer_due),
            implementing_body_due: Set(d.implementing_body_due),
            decision: Set(uketsuke_store::lifecycle::Decision::Accept),
            reasons: Set(serde_json::json!([])),
            warnings: Set(serde_json::json!([])),
            ..Default::default()
        },
        &actor(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    row
}

#[tokio::test]
async fn the_same_facility_and_kind_for_one_designation_date_is_found_as_a_duplicate() {
    let app = TestApp::spawn().await;
    let date = NaiveDate::from_ymd_opt(2027, 4, 1).unwrap();
    let first = new_request(
        &app,
        "さくらクリニック",
        "東京都新宿区西新宿2-8-1",
        RequestKind::Medical,
        date,
    )
    .await;
    let probe = |name: &'static str, kind, designation| DuplicateProbe {
        bureau_id: "kanto-shinetsu",
        facility_name: name,
        facility_address: "東京都新宿区西新宿２－８－１",
        kind,
        designation,
        exclude_id: None,
    };
    // Width, kana and spaces do not make it another facility.
    let found = requests::find_duplicate(
        &app.db,
        &probe("サクラ クリニック", RequestKind::Medical, date),
    )
    .await
    .unwrap();
    assert_eq!(found.map(|r| r.id), Some(first.id));
    // Another kind, or another date, is no duplicate.
    assert!(
        requests::find_duplicate(
            &app.db,
            &probe("さくらクリニック", RequestKind::Dental, date)
        )
        .await
        .unwrap()
        .is_none()
    );
    let other_date = NaiveDate::from_ymd_opt(2027, 5, 1).unwrap();
    assert!(
        requests::find_duplicate(
            &app.db,
            &probe("さくらクリニック", RequestKind::Medical, other_date)
        )
        .await
        .unwrap()
        .is_none()
    );
    // The request itself is not its own duplicate.
    let mut own = probe("さくらクリニック", RequestKind::Medical, date);
    own.exclude_id = Some(first.id);
    assert!(
        requests::find_duplicate(&app.db, &own)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_answer_due_override_is_kept_with_its_reason_and_audited() {
    let app = TestApp::spawn().await;
    let bureau = app.settings.bureau("kanto-shinetsu").unwrap();
    let calendar = bureau.calendar().unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 4, 1).unwrap();
    let request = new_request(
        &app,
        "ひかり眼科",
        "東京都千代田区丸の内1-9-1",
        RequestKind::Medical,
        date,
    )
    .await;
    assert_eq!(
        request.answer_due,
        NaiveDate::from_ymd_opt(2024, 2, 13).unwrap()
    );

    let empty = requests::override_answer_due(
        &app.db,
        request.clone(),
        NaiveDate::from_ymd_opt(2024, 2, 16).unwrap(),
        "  ",
        &calendar,
        &actor(),
    )
    .await;
    assert!(empty.is_err(), "an override needs a reason");

    let new_due = NaiveDate::from_ymd_opt(2024, 2, 16).unwrap();
    let (row, _warnings) = requests::override_answer_due(
        &app.db,
        request,
        new_due,
        "依頼書の補正待ちのため",
        &calendar,
        &actor(),
    )
    .await
    .unwrap();
    assert_eq!(row.answer_due_override, Some(new_due));
    assert_eq!(
        row.answer_due_override_reason.as_deref(),
        Some("依頼書の補正待ちのため")
    );
    assert_eq!(
        row.answer_due,
        NaiveDate::from_ymd_opt(2024, 2, 13).unwrap(),
        "the computed date is kept"
    );
    let audits = audit_log::Entity::find().all(&app.db).await.unwrap();
    let entry = audits
        .iter()
        .find(|a| a.action == "request.override_answer_due")
        .unwrap();
    assert_eq!(
        entry.after.as_ref().unwrap()["answer_due_override_reason"],
        "依頼書の補正待ちのため"
    );
    assert!(entry.before.as_ref().unwrap()["answer_due_override"].is_null());
}

#[tokio::test]
async fn the_database_itself_refuses_a_number_issued_twice() {
    let app = TestApp::spawn().await;
    let d = district(tokyo(), FeeSchedule::Medical, 20);
    let row = issuance::issue(&app.db, d, &app.settings.numbering, &approved(), &actor())
        .await
        .unwrap();
    let again = issued_number::ActiveModel {
        prefecture: Set(row.prefecture.clone()),
        fee_schedule: Set(row.fee_schedule.clone()),
        district: Set(row.district),
        serial: Set(row.serial),
        check_digit: Set(row.check_digit),
        code: Set(format!("{}x", &row.code[..9])),
        combined_dental: Set(false),
        status: Set(uketsuke_store::lifecycle::NumberStatus::Approved),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await;
    let err = uketsuke_store::Error::from(again.unwrap_err());
    assert!(err.is_unique_violation(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_period_runs_once_however_many_instances_claim_it() {
    use std::sync::Arc;
    use uketsuke_store::jobs;
    let app = TestApp::spawn().await;
    // Eight instances, each with a connection pool of its own, claim the same period at
    // the same moment: exactly one gets it.
    const INSTANCES: usize = 8;
    let barrier = Arc::new(tokio::sync::Barrier::new(INSTANCES));
    let mut claims = Vec::new();
    for _ in 0..INSTANCES {
        let db = uketsuke_store::db::connect(&app.database.url, 1)
            .await
            .unwrap();
        let barrier = barrier.clone();
        claims.push(tokio::spawn(async move {
            barrier.wait().await;
            let claimed = jobs::claim(&db, "council-export", "session-1")
                .await
                .unwrap();
            let _ = db.close().await;
            claimed
        }));
    }
    let mut won = Vec::new();
    for claim in claims {
        won.extend(claim.await.unwrap());
    }
    assert_eq!(
        won.len(),
        1,
        "one instance of {INSTANCES} claims it: {won:?}"
    );
    let first = won.pop();
    assert!(
        jobs::claim(&app.db, "council-export", "session-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        jobs::claim(&app.db, "council-export", "session-2")
            .await
            .unwrap()
            .is_some()
    );
    // A failed run may be released and tried again; a done one may not.
    jobs::finish(&app.db, first.unwrap(), false, "SMTP 停止")
        .await
        .unwrap();
    assert!(
        jobs::release_failed(&app.db, "council-export", "session-1")
            .await
            .unwrap()
    );
    let again = jobs::claim(&app.db, "council-export", "session-1")
        .await
        .unwrap()
        .unwrap();
    jobs::finish(&app.db, again, true, "ok").await.unwrap();
    assert!(
        !jobs::release_failed(&app.db, "council-export", "session-1")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn importing_a_real_registry_twice_adds_its_codes_once() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let Some(tottori) =
        uketsuke_domain::fixtures::real(root, "31_tottori_todokede_juri_meibo_r0607.xlsx")
    else {
        return;
    };
    let tottori = tottori.to_string_lossy().into_owned();
    let app = TestApp::spawn().await;
    let config = app.cli_config(0);
    let codes = || async { registry_code::Entity::find().count(&app.db).await.unwrap() };
    let imports = || async {
        audit_log::Entity::find()
            .order_by_asc(audit_log::Column::Id)
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "registry.import")
            .map(|a| a.after.unwrap_or_default()["added"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes().await, 0);
    let status = config
        .run(&["import", "--registry", "--json", &tottori])
        .await
        .unwrap();
    assert_eq!(status, std::process::ExitCode::SUCCESS);
    // One code per facility and kind, and the 14 歯科 numbers of 医科歯科併設 rows.
    assert_eq!(codes().await, 932);
    let status = config
        .run(&["import", "--registry", "--json", &tottori])
        .await
        .unwrap();
    assert_eq!(status, std::process::ExitCode::SUCCESS);
    assert_eq!(codes().await, 932, "the second import adds nothing");
    assert_eq!(
        imports().await,
        [932, 0],
        "each import is audited with what it added"
    );
}
