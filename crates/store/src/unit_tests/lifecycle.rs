//! The database part of the case lifecycle (`lifecycle/mod.rs`): [`apply`] and each
//! command's work, on a real database. The end-to-end tests (`tests/tests/lifecycle.rs`,
//! `actions.rs`, the concurrency tests) reach the same lines through the pages and the
//! API; these pin them down at seconds per mutant.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, Set};
use uketsuke_domain::{Founder, PhoneNumber, PostalCode, RequestForm, RequestKind};
use uketsuke_rules::calendar::Calendar;
use uketsuke_rules::eligibility::EligibilityPolicy;
use uketsuke_rules::numbering::NumberingPolicy;

use super::{BUREAU, TestDb};
use crate::audit::Actor;
use crate::bureaus::BureauRules;
use crate::entities::{council_session, facility, issued_number, office, reception_request};
use crate::issuance::{self, District, IssueOptions};
use crate::lifecycle::{
    self, Caller, CaseStatus as S, Command, Correction, Decision, NumberStatus, Scope, apply,
};
use crate::users::Role;
use crate::{Error, intake};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const TODAY: (i32, u32, u32) = (2026, 12, 1);
const TOKYO: &str = "東京都新宿区西新宿二丁目8番1号";
const GUNMA: &str = "群馬県前橋市大手町一丁目1番1号";

fn today() -> NaiveDate {
    d(TODAY.0, TODAY.1, TODAY.2)
}

fn rules() -> BureauRules {
    BureauRules {
        id: BUREAU.into(),
        name: "関東信越厚生局".into(),
        prefectures: vec!["10".into(), "13".into()],
        calendar: Calendar::default(),
        deadlines: uketsuke_rules::deadlines::default_deadline_config_for_id(BUREAU).unwrap(),
        export: uketsuke_export::ListLayout::default(),
        council_dates: Default::default(),
    }
}

fn form(kind: RequestKind, name: &str, address: &str) -> RequestForm {
    RequestForm {
        kind,
        facility_name: name.into(),
        facility_postal_code: Some(PostalCode::parse("160-0023").unwrap()),
        facility_address: address.into(),
        designation_date: d(2027, 4, 1),
        request_date: Some(today()),
        addressed_bureau: Some("関東信越厚生局".into()),
        founder: Founder::Person {
            name: "佐藤太郎".into(),
        },
        founder_registration: None,
        contact_phone: PhoneNumber::parse("03-1234-5678").unwrap(),
        reply_postal_code: None,
        reply_address: None,
        reply_name: None,
    }
}

/// The test database with its people: a clerk, two approvers, a viewer.
struct World {
    t: TestDb,
    clerk: Caller,
    approver: Caller,
    other_approver: Caller,
    viewer: Caller,
}

fn caller(user: &crate::entities::user::Model, role: Role, office_id: Option<i32>) -> Caller {
    Caller {
        actor: Actor::user(user.id, &user.username),
        role,
        scope: Scope {
            bureau_id: BUREAU.into(),
            office_id,
        },
    }
}

impl World {
    async fn new() -> Self {
        let t = TestDb::new().await;
        let clerk = t.user("clerk", Role::Clerk).await;
        let approver = t.user("approver", Role::Approver).await;
        let other = t.user("approver2", Role::Approver).await;
        let viewer = t.user("viewer", Role::Viewer).await;
        World {
            clerk: caller(&clerk, Role::Clerk, None),
            approver: caller(&approver, Role::Approver, None),
            other_approver: caller(&other, Role::Approver, None),
            viewer: caller(&viewer, Role::Viewer, None),
            t,
        }
    }

    async fn office(&self, code: &str) -> i32 {
        office::Entity::find()
            .all(&self.t.db)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.code == code)
            .unwrap()
            .id
    }

    /// A new case at 受付済, saved as the intake saves it.
    async fn case(&self, kind: RequestKind, name: &str, address: &str) -> reception_request::Model {
        let rules = rules();
        let policy = EligibilityPolicy::default();
        let f = form(kind, name, address);
        let saved = intake::save_forms(
            &self.t.db,
            &intake::Intake {
                bureau: &rules,
                policy: &policy,
                office_id: None,
                received: today(),
                retroactive: false,
                retroactive_forms: &[],
            },
            &[&f],
            &Actor::system("test"),
        )
        .await
        .unwrap();
        self.get(saved.created[0]).await
    }

    async fn get(&self, id: i32) -> reception_request::Model {
        reception_request::Entity::find_by_id(id)
            .one(&self.t.db)
            .await
            .unwrap()
            .unwrap()
    }

    /// Sets fields of a case directly (a state the steps before would have made).
    async fn set(
        &self,
        id: i32,
        change: impl FnOnce(&mut reception_request::ActiveModel),
    ) -> reception_request::Model {
        let mut a: reception_request::ActiveModel = self.get(id).await.into();
        change(&mut a);
        a.update(&self.t.db).await.unwrap()
    }

    /// An approved number in 東京都's district 01 for case `id`, given outside the
    /// lifecycle (as an older data import could leave one).
    async fn give_number(&self, id: i32, fee_schedule: uketsuke_domain::FeeSchedule) {
        let txn = sea_orm::TransactionTrait::begin(&self.t.db).await.unwrap();
        issuance::issue_in(
            &txn,
            District {
                prefecture: uketsuke_domain::Prefecture::from_code(13).unwrap(),
                fee_schedule,
                number: 1,
            },
            &NumberingPolicy::default(),
            &IssueOptions {
                request_id: Some(id),
                status: NumberStatus::Approved,
            },
            &Actor::system("test"),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }

    async fn numbers(&self, id: i32) -> Vec<issued_number::Model> {
        lifecycle::numbers_of(&self.t.db, id).await.unwrap()
    }

    async fn run(
        &self,
        who: &Caller,
        id: i32,
        command: Command,
    ) -> crate::Result<reception_request::Model> {
        apply(&self.t.db, who, id, None, &command).await
    }

    async fn ok(&self, who: &Caller, id: i32, command: Command) -> reception_request::Model {
        let before = self.get(id).await.lock_version;
        let after = self.run(who, id, command).await.unwrap();
        assert_eq!(after.lock_version, before + 1, "one change, one version");
        assert_eq!(
            after,
            self.get(id).await,
            "what apply returns is what is stored"
        );
        after
    }

    async fn propose(&self, id: i32) -> reception_request::Model {
        self.ok(&self.clerk, id, propose(1)).await
    }

    async fn issued(&self, id: i32) -> reception_request::Model {
        self.propose(id).await;
        self.ok(&self.approver, id, Command::Approve).await
    }

    async fn answered(&self, id: i32) -> reception_request::Model {
        self.issued(id).await;
        self.ok(&self.clerk, id, Command::Answer { on: d(2026, 12, 3) })
            .await
    }

    /// A council session of `prefecture` in `bureau`.
    async fn session(&self, bureau: &str, prefecture: &str) -> i32 {
        if bureau != BUREAU {
            crate::bureaus::sync(
                &self.t.db,
                &[crate::bureaus::BureauSeed {
                    id: bureau.into(),
                    name: "近畿厚生局".into(),
                    offices: vec![],
                }],
            )
            .await
            .unwrap();
        }
        council_session::ActiveModel {
            bureau_id: Set(bureau.into()),
            prefecture: Set(prefecture.into()),
            held_on: Set(d(2027, 3, 10)),
            name: Set("地医協".into()),
            notes: Set(None),
            created_at: Set(Utc::now()),
            version: Set(0),
            ..Default::default()
        }
        .insert(&self.t.db)
        .await
        .unwrap()
        .id
    }

    async fn audit_count(&self, action: &str) -> usize {
        self.t.audit(action).await.len()
    }
}

fn propose(district: u8) -> Command {
    Command::Propose {
        district,
        acknowledge_return: true,
        policy: NumberingPolicy::default(),
    }
}

fn message(e: Error) -> String {
    match e {
        Error::Field { message, .. } | Error::NotAllowed(message) | Error::Forbidden(message) => {
            message
        }
        other => panic!("expected a refusal with a message, got {other:?}"),
    }
}

fn field(e: Error) -> (&'static str, String) {
    match e {
        Error::Field { field, message } => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

// --- apply: scope, role, version, claim ---

#[tokio::test]
async fn a_case_goes_from_received_to_designated_one_version_a_step() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    assert_eq!(case.status, S::Received);
    assert_eq!(case.lock_version, 0);

    let proposed = w.propose(case.id).await;
    assert_eq!(proposed.status, S::Proposed);
    let numbers = w.numbers(case.id).await;
    assert_eq!(numbers.len(), 1);
    assert_eq!(numbers[0].status, NumberStatus::Proposed);
    assert_eq!(numbers[0].district, 1);
    assert_eq!(numbers[0].prefecture, "13");
    assert_eq!(numbers[0].fee_schedule, "1");
    assert_eq!(numbers[0].proposed_by, w.clerk.actor.user_id);
    assert_eq!(w.audit_count("request.propose").await, 1);

    let issued = w.ok(&w.approver, case.id, Command::Approve).await;
    assert_eq!(issued.status, S::Issued);
    assert_eq!(w.numbers(case.id).await[0].status, NumberStatus::Approved);
    assert_eq!(w.audit_count("request.approve").await, 1);

    let answered = w
        .ok(&w.clerk, case.id, Command::Answer { on: d(2026, 12, 3) })
        .await;
    assert_eq!(answered.status, S::Answered);
    assert_eq!(answered.answered_on, Some(d(2026, 12, 3)));
    assert_eq!(w.audit_count("request.answer").await, 1);

    let session = w.session(BUREAU, "13").await;
    let designated = w
        .ok(
            &w.approver,
            case.id,
            Command::Designate {
                session_id: session,
                designation_date: None,
            },
        )
        .await;
    assert_eq!(designated.status, S::Designated);
    assert_eq!(designated.council_session_id, Some(session));
    assert_eq!(designated.designated_on, Some(case.designation_date));
    assert_eq!(designated.lock_version, 4);
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_the_version_seen_goes_through() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let stale = apply(
        &w.t.db,
        &w.clerk,
        case.id,
        Some(case.lock_version + 1),
        &propose(1),
    )
    .await;
    assert!(matches!(stale, Err(Error::Conflict)), "{stale:?}");
    assert_eq!(w.get(case.id).await, case, "nothing changed");
    assert!(w.numbers(case.id).await.is_empty());

    let done = apply(
        &w.t.db,
        &w.clerk,
        case.id,
        Some(case.lock_version),
        &propose(1),
    )
    .await
    .unwrap();
    assert_eq!(done.status, S::Proposed);
}

#[tokio::test]
async fn a_role_too_low_is_told_so_before_the_version_or_the_status() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    // A viewer with a stale version hears about the role, not a conflict.
    let e = apply(&w.t.db, &w.viewer, case.id, Some(99), &propose(1))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    // A clerk approving a case at 受付済: the role, not the status.
    let e = w
        .run(&w.clerk, case.id, Command::Approve)
        .await
        .unwrap_err();
    assert_eq!(message(e), "「決裁」には「決裁」以上の権限が必要です");
    // The right role at the wrong status: the status.
    let e = w
        .run(&w.approver, case.id, Command::Approve)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotAllowed(_)), "{e:?}");
    // The right role, the wrong status and a stale version: the version first.
    let e = apply(&w.t.db, &w.approver, case.id, Some(99), &Command::Approve)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict), "{e:?}");
    assert_eq!(w.get(case.id).await, case);
}

#[tokio::test]
async fn another_bureaus_or_offices_case_is_not_found() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let tokyo = w.office("tokyo").await;
    let gunma = w.office("gunma").await;
    assert_eq!(case.office_id, Some(tokyo), "the office of the prefecture");
    let mut elsewhere = w.clerk.clone();
    elsewhere.scope.bureau_id = "kinki".into();
    assert!(matches!(
        w.run(&elsewhere, case.id, propose(1)).await,
        Err(Error::NotFound)
    ));
    let mut at_gunma = w.clerk.clone();
    at_gunma.scope.office_id = Some(gunma);
    assert!(matches!(
        w.run(&at_gunma, case.id, propose(1)).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        w.run(&w.clerk, case.id + 1000, propose(1)).await,
        Err(Error::NotFound)
    ));
    let mut at_tokyo = w.clerk.clone();
    at_tokyo.scope.office_id = Some(tokyo);
    assert_eq!(
        w.ok(&at_tokyo, case.id, propose(1)).await.status,
        S::Proposed
    );
}

#[tokio::test]
async fn the_claim_takes_the_version_read_and_only_that() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let txn = sea_orm::TransactionTrait::begin(&w.t.db).await.unwrap();
    lifecycle::claim(&txn, &case).await.unwrap();
    // The same version again: another writer has taken it meanwhile.
    assert!(matches!(
        lifecycle::claim(&txn, &case).await,
        Err(Error::Conflict)
    ));
    txn.commit().await.unwrap();
    assert_eq!(w.get(case.id).await.lock_version, case.lock_version + 1);
}

// --- 起案 and 決裁 ---

#[tokio::test]
async fn propose_asks_for_the_acknowledgement_a_valid_district_and_no_live_number() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.set(case.id, |r| r.decision = Set(Decision::Return)).await;
    let unacknowledged = Command::Propose {
        district: 1,
        acknowledge_return: false,
        policy: NumberingPolicy::default(),
    };
    let (f, _) = field(
        w.run(&w.clerk, case.id, unacknowledged.clone())
            .await
            .unwrap_err(),
    );
    assert_eq!(f, "acknowledge");
    let (f, m) = field(w.run(&w.clerk, case.id, propose(100)).await.unwrap_err());
    assert_eq!(
        (f, m.as_str()),
        ("district", "郡市区番号は 00〜99 の数字です（100）")
    );
    assert_eq!(
        w.ok(&w.clerk, case.id, propose(99)).await.status,
        S::Proposed
    );
    assert_eq!(w.numbers(case.id).await[0].district, 99);

    // An accepted case needs no acknowledgement.
    let accepted = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    assert_eq!(accepted.decision, Decision::Accept);
    w.ok(&w.clerk, accepted.id, unacknowledged).await;

    // A case at 受付済 that somehow holds a live number gets no second one.
    let third = w.case(RequestKind::Medical, "もみじ内科", TOKYO).await;
    w.give_number(third.id, uketsuke_domain::FeeSchedule::Medical)
        .await;
    let e = w.run(&w.clerk, third.id, propose(1)).await.unwrap_err();
    assert_eq!(message(e), "この案件には有効な受付番号が既にあります");
    assert_eq!(w.numbers(third.id).await.len(), 1);
}

#[tokio::test]
async fn a_sibling_at_received_is_proposed_and_approved_with_its_pair() {
    let w = World::new().await;
    let medical = w.case(RequestKind::Medical, "さくら医院", TOKYO).await;
    let dental = w.case(RequestKind::Dental, "さくら医院", TOKYO).await;
    w.ok(
        &w.clerk,
        medical.id,
        Command::Link {
            sibling_id: dental.id,
        },
    )
    .await;

    w.propose(medical.id).await;
    let dental_now = w.get(dental.id).await;
    assert_eq!(dental_now.status, S::Proposed, "proposed with its pair");
    let (m, dn) = (w.numbers(medical.id).await, w.numbers(dental.id).await);
    assert_eq!((m.len(), dn.len()), (1, 1));
    assert_eq!(m[0].fee_schedule, "1");
    assert_eq!(
        dn[0].fee_schedule, "3",
        "the dental number from the dental range"
    );
    assert_eq!(w.audit_count("request.propose").await, 2);

    w.ok(&w.approver, medical.id, Command::Approve).await;
    assert_eq!(
        w.get(dental.id).await.status,
        S::Issued,
        "approved with its pair"
    );
    assert_eq!(w.numbers(dental.id).await[0].status, NumberStatus::Approved);
    assert_eq!(w.audit_count("request.approve").await, 2);
}

#[tokio::test]
async fn a_sibling_not_at_received_or_out_of_scope_or_numbered_stays_as_it_is() {
    let w = World::new().await;
    // Already proposed on its own.
    let medical = w.case(RequestKind::Medical, "さくら医院", TOKYO).await;
    let dental = w.case(RequestKind::Dental, "さくら医院", TOKYO).await;
    w.ok(
        &w.clerk,
        medical.id,
        Command::Link {
            sibling_id: dental.id,
        },
    )
    .await;
    // (Set directly: proposing it would propose its pair too.)
    let dental_before = w.set(dental.id, |r| r.status = Set(S::Issued)).await;
    w.propose(medical.id).await;
    assert_eq!(w.get(dental.id).await, dental_before);
    assert!(
        w.numbers(dental.id).await.is_empty(),
        "no number for a pair past 受付済"
    );

    // Out of the caller's office.
    let m2 = w.case(RequestKind::Medical, "つばき医院", TOKYO).await;
    let d2 = w.case(RequestKind::Dental, "つばき医院", TOKYO).await;
    w.ok(&w.clerk, m2.id, Command::Link { sibling_id: d2.id })
        .await;
    let tokyo = w.office("tokyo").await;
    let gunma = w.office("gunma").await;
    w.set(d2.id, |r| r.office_id = Set(Some(gunma))).await;
    let mut at_tokyo = w.clerk.clone();
    at_tokyo.scope.office_id = Some(tokyo);
    w.ok(&at_tokyo, m2.id, propose(1)).await;
    assert_eq!(w.get(d2.id).await.status, S::Received);
    assert!(w.numbers(d2.id).await.is_empty());

    // At 受付済 but holding a live number.
    let m3 = w.case(RequestKind::Medical, "もみじ医院", TOKYO).await;
    let d3 = w.case(RequestKind::Dental, "もみじ医院", TOKYO).await;
    w.ok(&w.clerk, m3.id, Command::Link { sibling_id: d3.id })
        .await;
    w.give_number(d3.id, uketsuke_domain::FeeSchedule::Dental)
        .await;
    w.propose(m3.id).await;
    assert_eq!(w.get(d3.id).await.status, S::Received);
    assert_eq!(w.numbers(d3.id).await.len(), 1);

    // A pharmacy's sibling id (never linked by the pages) proposes nothing else.
    let p = w.case(RequestKind::Pharmacy, "さくら薬局", TOKYO).await;
    let d4 = w.case(RequestKind::Dental, "さくら薬局", TOKYO).await;
    w.set(p.id, |r| r.sibling_id = Set(Some(d4.id))).await;
    w.propose(p.id).await;
    assert_eq!(w.get(d4.id).await.status, S::Received);
}

#[tokio::test]
async fn approve_needs_a_proposed_number_and_another_person() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    // Proposed by an approver: that approver may not approve it.
    w.ok(&w.approver, case.id, propose(1)).await;
    let e = w
        .run(&w.approver, case.id, Command::Approve)
        .await
        .unwrap_err();
    assert_eq!(message(e), "起案した職員は、同じ番号を決裁できません");
    assert_eq!(w.get(case.id).await.status, S::Proposed);
    let done = w.ok(&w.other_approver, case.id, Command::Approve).await;
    let n = &w.numbers(case.id).await[0];
    assert_eq!(n.approved_by, w.other_approver.actor.user_id);
    assert_eq!(done.status, S::Issued);

    // A case at 起案済 with no proposed number.
    let bare = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    w.set(bare.id, |r| r.status = Set(S::Proposed)).await;
    let e = w
        .run(&w.approver, bare.id, Command::Approve)
        .await
        .unwrap_err();
    assert_eq!(message(e), "決裁を待つ番号がありません");

    // The system (no user) may approve what a clerk proposed.
    let third = w.case(RequestKind::Medical, "もみじ内科", TOKYO).await;
    w.propose(third.id).await;
    let system = Caller {
        actor: Actor::system("job"),
        ..w.approver.clone()
    };
    assert_eq!(
        w.ok(&system, third.id, Command::Approve).await.status,
        S::Issued
    );
}

#[tokio::test]
async fn a_sibling_proposed_by_the_approver_is_not_approved_with_its_pair() {
    let w = World::new().await;
    let medical = w.case(RequestKind::Medical, "さくら医院", TOKYO).await;
    let dental = w.case(RequestKind::Dental, "さくら医院", TOKYO).await;
    // Each proposed on its own (medical by the clerk, dental by the approver), then linked.
    w.ok(&w.clerk, medical.id, propose(1)).await;
    w.ok(&w.approver, dental.id, propose(1)).await;
    w.ok(
        &w.clerk,
        medical.id,
        Command::Link {
            sibling_id: dental.id,
        },
    )
    .await;
    w.ok(&w.approver, medical.id, Command::Approve).await;
    assert_eq!(w.get(dental.id).await.status, S::Proposed);
    assert_eq!(w.numbers(dental.id).await[0].status, NumberStatus::Proposed);

    // Out of scope: the pair stays.
    let m2 = w.case(RequestKind::Medical, "つばき医院", TOKYO).await;
    let d2 = w.case(RequestKind::Dental, "つばき医院", TOKYO).await;
    w.ok(&w.clerk, m2.id, Command::Link { sibling_id: d2.id })
        .await;
    w.propose(m2.id).await;
    assert_eq!(w.get(d2.id).await.status, S::Proposed);
    let gunma = w.office("gunma").await;
    let tokyo = w.office("tokyo").await;
    w.set(d2.id, |r| r.office_id = Set(Some(gunma))).await;
    let mut at_tokyo = w.approver.clone();
    at_tokyo.scope.office_id = Some(tokyo);
    w.ok(&at_tokyo, m2.id, Command::Approve).await;
    assert_eq!(w.get(d2.id).await.status, S::Proposed);
}

// --- 返戻, 取下げ, 無効化, 未指定 ---

#[tokio::test]
async fn return_takes_the_typed_reason_or_the_verdicts_and_voids_the_numbers() {
    let w = World::new().await;
    let on = d(2026, 12, 2);
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.set(case.id, |r| r.reasons = Set(serde_json::json!([])))
        .await;
    let e = w
        .run(
            &w.approver,
            case.id,
            Command::Return {
                reason: "  ".into(),
                on,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        field(e),
        ("reason", "返戻の理由を入力してください".to_owned())
    );

    w.set(case.id, |r| {
        r.reasons = Set(serde_json::json!(["期限を過ぎています", "遡及指定です"]))
    })
    .await;
    w.propose(case.id).await;
    let returned = w
        .ok(
            &w.approver,
            case.id,
            Command::Return {
                reason: "".into(),
                on,
            },
        )
        .await;
    assert_eq!(returned.status, S::Returned);
    assert_eq!(returned.returned_on, Some(on));
    assert_eq!(
        returned.return_reason.as_deref(),
        Some("期限を過ぎています\n遡及指定です")
    );
    let n = &w.numbers(case.id).await[0];
    assert_eq!(n.status, NumberStatus::Void);
    assert_eq!(n.void_reason.as_deref(), Some("返戻のため"));

    let typed = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    let returned = w
        .ok(
            &w.approver,
            typed.id,
            Command::Return {
                reason: " 書類の不備 ".into(),
                on,
            },
        )
        .await;
    assert_eq!(returned.return_reason.as_deref(), Some("書類の不備"));
}

#[tokio::test]
async fn withdraw_before_the_answer_voids_the_numbers() {
    let w = World::new().await;
    let on = d(2026, 12, 4);
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.issued(case.id).await;
    let done = w
        .ok(
            &w.clerk,
            case.id,
            Command::Withdraw {
                on,
                reason: " 開設中止 ".into(),
            },
        )
        .await;
    assert_eq!(done.status, S::Withdrawn);
    assert_eq!(done.withdrawn_on, Some(on));
    assert_eq!(done.withdraw_reason.as_deref(), Some("開設中止"));
    let n = &w.numbers(case.id).await[0];
    assert_eq!(n.status, NumberStatus::Void);
    assert_eq!(n.void_reason.as_deref(), Some("取下げのため"));
    assert_eq!(w.audit_count("request.withdraw").await, 1);

    let blank = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    let done = w
        .ok(
            &w.clerk,
            blank.id,
            Command::Withdraw {
                on,
                reason: "  ".into(),
            },
        )
        .await;
    assert_eq!(done.withdraw_reason, None);
}

#[tokio::test]
async fn withdraw_after_the_answer_keeps_the_number_and_ends_as_not_designated() {
    let w = World::new().await;
    let on = d(2026, 12, 4);
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.answered(case.id).await;
    let done = w
        .ok(
            &w.clerk,
            case.id,
            Command::Withdraw {
                on,
                reason: " 開設中止 ".into(),
            },
        )
        .await;
    assert_eq!(done.status, S::NotDesignated);
    assert_eq!(done.withdrawn_on, Some(on));
    assert_eq!(done.withdraw_reason.as_deref(), Some("開設中止"));
    assert_eq!(
        done.not_designated_reason.as_deref(),
        Some("取下げ（令和8年12月4日、回答後）: 開設中止")
    );
    assert_eq!(w.numbers(case.id).await[0].status, NumberStatus::Approved);
    assert_eq!(w.audit_count("request.withdraw_after_answer").await, 1);
    assert_eq!(w.audit_count("request.withdraw").await, 0);

    let blank = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    w.answered(blank.id).await;
    let done = w
        .ok(
            &w.clerk,
            blank.id,
            Command::Withdraw {
                on,
                reason: "".into(),
            },
        )
        .await;
    assert_eq!(done.withdraw_reason, None);
    assert_eq!(
        done.not_designated_reason.as_deref(),
        Some("取下げ（令和8年12月4日、回答後）")
    );
}

#[tokio::test]
async fn void_takes_the_cases_live_number_and_sends_it_back_when_none_is_left() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let other = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    w.issued(case.id).await;
    w.issued(other.id).await;
    let theirs = w.numbers(other.id).await[0].id;
    assert!(matches!(
        w.run(
            &w.approver,
            case.id,
            Command::Void {
                number_id: theirs,
                reason: "x".into()
            }
        )
        .await,
        Err(Error::NotFound)
    ));

    // A second live number (as an older data import could leave): voiding one keeps
    // the case where it is.
    w.give_number(case.id, uketsuke_domain::FeeSchedule::Medical)
        .await;
    let numbers = w.numbers(case.id).await;
    assert_eq!(numbers.len(), 2);
    let kept = w
        .ok(
            &w.approver,
            case.id,
            Command::Void {
                number_id: numbers[0].id,
                reason: "  ".into(),
            },
        )
        .await;
    assert_eq!(kept.status, S::Issued, "a live number is left");
    let first = &w.numbers(case.id).await[0];
    assert_eq!(first.status, NumberStatus::Void);
    assert_eq!(first.void_reason.as_deref(), Some("記載誤り等のため"));

    let e = w
        .run(
            &w.approver,
            case.id,
            Command::Void {
                number_id: numbers[0].id,
                reason: "x".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        format!("受付番号 {} は既に無効です", numbers[0].code)
    );

    let back = w
        .ok(
            &w.approver,
            case.id,
            Command::Void {
                number_id: numbers[1].id,
                reason: " 重複交付 ".into(),
            },
        )
        .await;
    assert_eq!(back.status, S::Received, "no live number left");
    assert_eq!(
        w.numbers(case.id).await[1].void_reason.as_deref(),
        Some("重複交付")
    );

    // From 回答済 and from 起案済 too.
    let answered = w.case(RequestKind::Medical, "もみじ内科", TOKYO).await;
    w.answered(answered.id).await;
    let n = w.numbers(answered.id).await[0].id;
    let back = w
        .ok(
            &w.approver,
            answered.id,
            Command::Void {
                number_id: n,
                reason: "x".into(),
            },
        )
        .await;
    assert_eq!(back.status, S::Received);
    let proposed = w.case(RequestKind::Medical, "かえで内科", TOKYO).await;
    w.propose(proposed.id).await;
    let n = w.numbers(proposed.id).await[0].id;
    let back = w
        .ok(
            &w.approver,
            proposed.id,
            Command::Void {
                number_id: n,
                reason: "x".into(),
            },
        )
        .await;
    assert_eq!(back.status, S::Received);
}

#[tokio::test]
async fn not_designated_needs_a_reason() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.issued(case.id).await;
    let e = w
        .run(
            &w.approver,
            case.id,
            Command::NotDesignated { reason: " ".into() },
        )
        .await
        .unwrap_err();
    assert_eq!(field(e).0, "reason");
    let done = w
        .ok(
            &w.approver,
            case.id,
            Command::NotDesignated {
                reason: " 開設されず ".into(),
            },
        )
        .await;
    assert_eq!(done.status, S::NotDesignated);
    assert_eq!(done.not_designated_reason.as_deref(), Some("開設されず"));
}

#[tokio::test]
async fn designate_needs_the_bureaus_session_of_the_facilitys_prefecture() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.issued(case.id).await;
    let kinki = w.session("kinki", "27").await;
    let gunma = w.session(BUREAU, "10").await;
    let tokyo = w.session(BUREAU, "13").await;
    let designate = |session_id, date| Command::Designate {
        session_id,
        designation_date: date,
    };
    assert!(matches!(
        w.run(&w.approver, case.id, designate(kinki, None)).await,
        Err(Error::NotFound)
    ));
    let e = w
        .run(&w.approver, case.id, designate(gunma, None))
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        "群馬県の地医協では、東京都の医療機関（さくら内科）の答申は記録できません"
    );
    let done = w
        .ok(&w.approver, case.id, designate(tokyo, Some(d(2027, 5, 1))))
        .await;
    assert_eq!(done.designated_on, Some(d(2027, 5, 1)));
    assert_eq!(done.council_session_id, Some(tokyo));
}

// --- 回答期限の変更 ---

#[tokio::test]
async fn moving_the_answer_due_is_the_approvers_and_needs_a_reason() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let command = |reason: &str| Command::OverrideAnswerDue {
        date: d(2027, 2, 1),
        reason: reason.into(),
        calendar: Calendar::default(),
    };
    let e = w
        .run(&w.clerk, case.id, command("早めに"))
        .await
        .unwrap_err();
    assert_eq!(message(e), "回答期限の変更は「決裁」の権限で行います");
    let (f, _) = field(w.run(&w.approver, case.id, command(" ")).await.unwrap_err());
    assert_eq!(f, "answer_due");
    let done = w.ok(&w.approver, case.id, command(" 早めに ")).await;
    assert_eq!(done.answer_due_override, Some(d(2027, 2, 1)));
    assert_eq!(done.answer_due_override_reason.as_deref(), Some("早めに"));
}

// --- 訂正 ---

fn correction(form: RequestForm, reason: &str) -> Command {
    Command::Correct(Box::new(Correction {
        form,
        received_on: today(),
        retroactive: false,
        office_id: None,
        reason: reason.into(),
        bureau: rules(),
        policy: EligibilityPolicy::default(),
        today: today(),
    }))
}

fn with(command: Command, change: impl FnOnce(&mut Correction)) -> Command {
    match command {
        Command::Correct(mut c) => {
            change(&mut c);
            Command::Correct(c)
        }
        other => other,
    }
}

#[tokio::test]
async fn a_correction_needs_a_reason_a_past_received_day_and_an_address_of_the_bureau() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let base = form(RequestKind::Medical, "さくら内科クリニック", TOKYO);
    assert_eq!(
        field(
            w.run(&w.clerk, case.id, correction(base.clone(), " "))
                .await
                .unwrap_err()
        )
        .0,
        "reason"
    );
    let tomorrow = with(correction(base.clone(), "誤記"), |c| {
        c.received_on = d(2026, 12, 2)
    });
    assert_eq!(
        field(w.run(&w.clerk, case.id, tomorrow).await.unwrap_err()).0,
        "received_on"
    );
    let osaka = form(
        RequestKind::Medical,
        "さくら内科",
        "大阪府大阪市北区梅田1-1",
    );
    assert_eq!(
        field(
            w.run(&w.clerk, case.id, correction(osaka, "誤記"))
                .await
                .unwrap_err()
        )
        .0,
        "facility_address"
    );
    assert_eq!(w.get(case.id).await, case, "nothing written");

    let done = w
        .ok(&w.clerk, case.id, correction(base, " 名称の誤記 "))
        .await;
    assert_eq!(done.facility_name, "さくら内科クリニック");
    assert_eq!(done.correction_reason.as_deref(), Some("名称の誤記"));
    let f = facility::Entity::find_by_id(case.facility_id)
        .one(&w.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.name, "さくら内科クリニック");
    assert_eq!(
        f.name_search,
        uketsuke_domain::search_key("さくら内科クリニック")
    );
    assert_eq!(w.audit_count("facility.correct").await, 1);
    assert_eq!(w.audit_count("request.correct").await, 1);
}

#[tokio::test]
async fn a_correction_that_changes_nothing_is_refused_and_one_of_the_request_only_leaves_the_facility()
 {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let same = form(RequestKind::Medical, "さくら内科", TOKYO);
    let e = w
        .run(&w.clerk, case.id, correction(same.clone(), "確認"))
        .await
        .unwrap_err();
    assert!(message(e).starts_with("訂正前と同じ内容です"));
    assert_eq!(w.audit_count("request.correct").await, 0);

    let mut later = same;
    later.designation_date = d(2027, 5, 1);
    let done = w
        .ok(&w.clerk, case.id, correction(later, "日付の誤記"))
        .await;
    assert_eq!(done.designation_date, d(2027, 5, 1));
    assert_ne!(done.answer_due, case.answer_due, "deadlines computed again");
    assert_ne!(done.submission_deadline, case.submission_deadline);
    assert_eq!(w.audit_count("facility.correct").await, 0);
}

#[tokio::test]
async fn an_override_stays_with_its_designation_date_only() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let override_ = Command::OverrideAnswerDue {
        date: d(2027, 2, 1),
        reason: "早めに".into(),
        calendar: Calendar::default(),
    };
    w.ok(&w.approver, case.id, override_.clone()).await;
    let renamed = form(RequestKind::Medical, "さくら内科クリニック", TOKYO);
    let kept = w
        .ok(&w.clerk, case.id, correction(renamed.clone(), "誤記"))
        .await;
    assert_eq!(kept.answer_due_override, Some(d(2027, 2, 1)));
    assert_eq!(kept.answer_due_override_reason.as_deref(), Some("早めに"));
    let mut later = renamed;
    later.designation_date = d(2027, 5, 1);
    let cleared = w
        .ok(&w.clerk, case.id, correction(later, "日付の誤記"))
        .await;
    assert_eq!(cleared.answer_due_override, None);
    assert_eq!(cleared.answer_due_override_reason, None);
}

#[tokio::test]
async fn a_numbered_case_keeps_its_kind_and_prefecture() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    w.issued(case.id).await;
    let code = w.numbers(case.id).await[0].code.clone();
    let dental = form(RequestKind::Dental, "さくら内科", TOKYO);
    let e = w
        .run(&w.clerk, case.id, correction(dental, "誤記"))
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        format!(
            "種別を変えると受付番号 {code} が使えなくなります。先にその番号を無効化してから訂正してください"
        )
    );
    let moved = form(RequestKind::Medical, "さくら内科", GUNMA);
    let e = w
        .run(&w.clerk, case.id, correction(moved, "誤記"))
        .await
        .unwrap_err();
    assert!(message(e).starts_with("所在地の都道府県を変えると受付番号"));
    // A later 指定希望日 keeps the number.
    let mut later = form(RequestKind::Medical, "さくら内科", TOKYO);
    later.designation_date = d(2027, 5, 1);
    w.ok(&w.clerk, case.id, correction(later, "日付")).await;
    assert_eq!(w.numbers(case.id).await[0].status, NumberStatus::Approved);
}

#[tokio::test]
async fn a_linked_case_keeps_its_kind_and_a_duplicate_is_refused() {
    let w = World::new().await;
    let medical = w.case(RequestKind::Medical, "さくら医院", TOKYO).await;
    let dental = w.case(RequestKind::Dental, "さくら医院", TOKYO).await;
    w.ok(
        &w.clerk,
        medical.id,
        Command::Link {
            sibling_id: dental.id,
        },
    )
    .await;
    let e = w
        .run(
            &w.clerk,
            medical.id,
            correction(form(RequestKind::Pharmacy, "さくら医院", TOKYO), "誤記"),
        )
        .await
        .unwrap_err();
    assert!(message(e).starts_with("医科・歯科の併設として関連付けられた依頼です"));

    let other = w.case(RequestKind::Medical, "つばき内科", TOKYO).await;
    let e = w
        .run(
            &w.clerk,
            other.id,
            correction(form(RequestKind::Medical, "さくら医院", TOKYO), "誤記"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        field(e),
        (
            "facility_name",
            format!(
                "訂正後の内容（同じ医療機関・種別・指定希望日）の依頼が既にあります（受付ID {}）",
                medical.id
            )
        )
    );
    // An unlinked case may change its kind.
    let done = w
        .ok(
            &w.clerk,
            other.id,
            correction(form(RequestKind::Dental, "つばき内科", TOKYO), "誤記"),
        )
        .await;
    assert_eq!(done.kind, RequestKind::Dental);
}

#[tokio::test]
async fn a_corrected_prefecture_moves_the_case_to_the_office_that_covers_it() {
    let w = World::new().await;
    let tokyo = w.office("tokyo").await;
    let gunma = w.office("gunma").await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    assert_eq!(case.office_id, Some(tokyo));
    let moved = w
        .ok(
            &w.clerk,
            case.id,
            correction(
                form(RequestKind::Medical, "さくら内科", GUNMA),
                "所在地の誤記",
            ),
        )
        .await;
    assert_eq!(moved.office_id, Some(gunma));
    let f = facility::Entity::find_by_id(case.facility_id)
        .one(&w.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.prefecture, "10");

    // Without a new prefecture, the office stays.
    let kept = w
        .ok(
            &w.clerk,
            case.id,
            correction(form(RequestKind::Medical, "さくら内科医院", GUNMA), "名称"),
        )
        .await;
    assert_eq!(kept.office_id, Some(gunma));
    // Nor is an office chosen for a case that has none, while its prefecture stays.
    w.set(case.id, |r| r.office_id = Set(None)).await;
    let none = w
        .ok(
            &w.clerk,
            case.id,
            correction(form(RequestKind::Medical, "さくら内科", GUNMA), "名称"),
        )
        .await;
    assert_eq!(none.office_id, None);

    // When two offices cover the new prefecture, the choice is left open.
    office::Entity::update_many()
        .col_expr(
            office::Column::Prefectures,
            sea_orm::sea_query::Expr::value("13,10"),
        )
        .filter(sea_orm::ColumnTrait::eq(&office::Column::Id, tokyo))
        .exec(&w.t.db)
        .await
        .unwrap();
    let other = w.case(RequestKind::Medical, "つばき内科", GUNMA).await;
    let back = w
        .ok(
            &w.clerk,
            other.id,
            correction(
                form(RequestKind::Medical, "つばき内科", TOKYO),
                "所在地の誤記",
            ),
        )
        .await;
    assert_eq!(back.office_id, Some(tokyo), "tokyo alone covers 13");
    let again = w
        .ok(
            &w.clerk,
            other.id,
            correction(
                form(RequestKind::Medical, "つばき内科", GUNMA),
                "所在地の誤記",
            ),
        )
        .await;
    assert_eq!(again.office_id, None, "two offices cover 10");
}

#[tokio::test]
async fn a_chosen_office_must_be_the_bureaus_and_cover_the_prefecture_and_be_ones_own() {
    let w = World::new().await;
    let tokyo = w.office("tokyo").await;
    let gunma = w.office("gunma").await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    let renamed = || correction(form(RequestKind::Medical, "さくら内科医院", TOKYO), "名称");
    let e = w
        .run(
            &w.clerk,
            case.id,
            with(renamed(), |c| c.office_id = Some(gunma + tokyo + 100)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        field(e),
        (
            "office_id",
            "選んだ事務所はこの局の事務所ではありません".to_owned()
        )
    );
    let e = w
        .run(
            &w.clerk,
            case.id,
            with(renamed(), |c| c.office_id = Some(gunma)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        field(e),
        (
            "office_id",
            "群馬事務所は東京都を担当していません。所在地の都道府県を担当する事務所を選んでください"
                .to_owned()
        )
    );
    let done = w
        .ok(
            &w.clerk,
            case.id,
            with(renamed(), |c| c.office_id = Some(tokyo)),
        )
        .await;
    assert_eq!(done.office_id, Some(tokyo));

    // A clerk of the Tokyo office cannot send a case to the Gunma office.
    let mut at_tokyo = w.clerk.clone();
    at_tokyo.scope.office_id = Some(tokyo);
    let e = w
        .run(
            &at_tokyo,
            case.id,
            correction(form(RequestKind::Medical, "さくら内科", GUNMA), "所在地"),
        )
        .await
        .unwrap_err();
    assert_eq!(field(e).0, "office_id");
    assert_eq!(w.get(case.id).await.office_id, Some(tokyo));
    // Within the office, the same clerk may correct.
    w.ok(
        &at_tokyo,
        case.id,
        correction(form(RequestKind::Medical, "さくら内科", TOKYO), "名称"),
    )
    .await;
}

// --- 併設の関連付け ---

#[tokio::test]
async fn link_joins_a_medical_and_a_dental_case_of_one_prefecture_both_ways() {
    let w = World::new().await;
    let medical = w.case(RequestKind::Medical, "さくら医院", TOKYO).await;
    let dental = w.case(RequestKind::Dental, "さくら医院", TOKYO).await;
    let link = |sibling_id| Command::Link { sibling_id };

    let (f, m) = field(
        w.run(&w.clerk, medical.id, link(medical.id))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (f, m.as_str()),
        ("sibling_id", "同じ依頼どうしは関連付けられません")
    );
    let (f, m) = field(
        w.run(&w.clerk, medical.id, link(dental.id + 100))
            .await
            .unwrap_err(),
    );
    assert_eq!(f, "sibling_id");
    assert_eq!(
        m,
        format!(
            "関連付ける依頼（受付ID {}）が見つかりません",
            dental.id + 100
        )
    );
    let pharmacy = w.case(RequestKind::Pharmacy, "さくら医院", TOKYO).await;
    let (_, m) = field(
        w.run(&w.clerk, medical.id, link(pharmacy.id))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        m,
        "併設として関連付けられるのは、医科と歯科の依頼の組だけです"
    );
    let medical2 = w.case(RequestKind::Medical, "さくら第二医院", TOKYO).await;
    let (_, m) = field(
        w.run(&w.clerk, medical.id, link(medical2.id))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        m,
        "併設として関連付けられるのは、医科と歯科の依頼の組だけです"
    );
    let far = w.case(RequestKind::Dental, "さくら医院", GUNMA).await;
    let (_, m) = field(w.run(&w.clerk, medical.id, link(far.id)).await.unwrap_err());
    assert_eq!(
        m,
        "所在地の都道府県が異なる依頼は併設として関連付けられません"
    );
    let returned = w.case(RequestKind::Dental, "もみじ医院", TOKYO).await;
    w.ok(
        &w.approver,
        returned.id,
        Command::Return {
            reason: "不備".into(),
            on: today(),
        },
    )
    .await;
    let e = w
        .run(&w.clerk, medical.id, link(returned.id))
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        format!(
            "関連付ける依頼（受付ID {}）は「返戻」のため関連付けられません",
            returned.id
        )
    );
    // Out of the caller's office: as if it did not exist.
    let gunma = w.office("gunma").await;
    let tokyo = w.office("tokyo").await;
    let hidden = w.case(RequestKind::Dental, "かえで医院", TOKYO).await;
    w.set(hidden.id, |r| r.office_id = Set(Some(gunma))).await;
    let mut at_tokyo = w.clerk.clone();
    at_tokyo.scope.office_id = Some(tokyo);
    let (f, _) = field(
        w.run(&at_tokyo, medical.id, link(hidden.id))
            .await
            .unwrap_err(),
    );
    assert_eq!(f, "sibling_id");

    let dental_before = w.get(dental.id).await;
    let linked = w.ok(&w.clerk, medical.id, link(dental.id)).await;
    assert_eq!(linked.sibling_id, Some(dental.id));
    let other_side = w.get(dental.id).await;
    assert_eq!(other_side.sibling_id, Some(medical.id));
    assert_eq!(other_side.lock_version, dental_before.lock_version + 1);
    assert_eq!(w.audit_count("request.link_sibling").await, 2);

    // Again, from either side: already linked.
    let e = w
        .run(&w.clerk, dental.id, link(medical.id))
        .await
        .unwrap_err();
    assert_eq!(message(e), "この2件は既に併設として関連付けられています");
    let e = w
        .run(&w.clerk, medical.id, link(dental.id))
        .await
        .unwrap_err();
    assert_eq!(message(e), "この2件は既に併設として関連付けられています");
    // A third case cannot take either of them.
    let dental2 = w.case(RequestKind::Dental, "さくら第二医院", TOKYO).await;
    let e = w
        .run(&w.clerk, medical.id, link(dental2.id))
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        format!(
            "受付ID {} は既に別の依頼（受付ID {}）と関連付けられています。先に解除してください",
            medical.id, dental.id
        )
    );
    let e = w
        .run(&w.clerk, medical2.id, link(dental.id))
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        format!(
            "受付ID {} は既に別の依頼（受付ID {}）と関連付けられています。先に解除してください",
            dental.id, medical.id
        )
    );
}

#[tokio::test]
async fn unlink_frees_both_cases_and_not_another_offices() {
    let w = World::new().await;
    let medical = w.case(RequestKind::Medical, "さくら医院", TOKYO).await;
    let dental = w.case(RequestKind::Dental, "さくら医院", TOKYO).await;
    let e = w
        .run(&w.clerk, medical.id, Command::Unlink)
        .await
        .unwrap_err();
    assert_eq!(message(e), "この依頼は併設として関連付けられていません");
    w.ok(
        &w.clerk,
        medical.id,
        Command::Link {
            sibling_id: dental.id,
        },
    )
    .await;

    let gunma = w.office("gunma").await;
    let tokyo = w.office("tokyo").await;
    w.set(dental.id, |r| r.office_id = Set(Some(gunma))).await;
    let mut at_tokyo = w.clerk.clone();
    at_tokyo.scope.office_id = Some(tokyo);
    let e = w
        .run(&at_tokyo, medical.id, Command::Unlink)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    assert_eq!(w.get(medical.id).await.sibling_id, Some(dental.id));

    let dental_before = w.get(dental.id).await;
    let freed = w.ok(&w.clerk, medical.id, Command::Unlink).await;
    assert_eq!(freed.sibling_id, None);
    let other = w.get(dental.id).await;
    assert_eq!(other.sibling_id, None);
    assert_eq!(other.lock_version, dental_before.lock_version + 1);
    assert_eq!(w.audit_count("request.unlink_sibling").await, 2);

    // A one-sided link (the other case points elsewhere): only this side is freed.
    let third = w.case(RequestKind::Medical, "つばき医院", TOKYO).await;
    w.set(third.id, |r| r.sibling_id = Set(Some(dental.id)))
        .await;
    w.set(dental.id, |r| r.sibling_id = Set(Some(medical.id)))
        .await;
    let dental_before = w.get(dental.id).await;
    w.ok(&w.clerk, third.id, Command::Unlink).await;
    assert_eq!(
        w.get(dental.id).await,
        dental_before,
        "the other side untouched"
    );
}

// --- apply's retries ---

/// An error the database raises on every change of a case (a trigger).
async fn refuse_every_update(w: &World, message: &str) {
    use sea_orm::ConnectionTrait;
    if w.t.is_postgres() {
        w.t.db
            .execute_unprepared(&format!(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse BEFORE UPDATE ON reception_requests \
                 FOR EACH ROW EXECUTE FUNCTION refuse();"
            ))
            .await
            .unwrap();
    } else {
        w.t.db
            .execute_unprepared(&format!(
                "CREATE TRIGGER refuse BEFORE UPDATE ON reception_requests \
                 BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_error_that_is_no_collision_is_returned_at_once() {
    let w = World::new().await;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    refuse_every_update(&w, "refused by a test trigger").await;
    let started = std::time::Instant::now();
    let e = w.run(&w.clerk, case.id, propose(1)).await.unwrap_err();
    assert!(
        matches!(&e, Error::Db(db) if db.to_string().contains("refused by a test trigger")),
        "the database's error, not a conflict after retries: {e:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "no retries: {:?}",
        started.elapsed()
    );
    assert!(w.numbers(case.id).await.is_empty(), "rolled back");
}

#[tokio::test]
async fn a_collision_is_retried_until_the_change_goes_through() {
    let w = World::new().await;
    if !w.t.is_postgres() {
        // SQLite keeps no state across a rolled-back attempt to fail only the first
        // ones; the in-memory database has one connection, so nothing collides.
        eprintln!("SKIPPED on SQLite: needs TEST_DATABASE_URL (a PostgreSQL sequence)");
        return;
    }
    use sea_orm::ConnectionTrait;
    let case = w.case(RequestKind::Medical, "さくら内科", TOKYO).await;
    // The first two attempts collide (a sequence is not rolled back with them).
    w.t.db
        .execute_unprepared(
            "CREATE SEQUENCE collisions; \
             CREATE FUNCTION collide() RETURNS trigger AS $$ BEGIN \
             IF nextval('collisions') <= 2 THEN \
             RAISE EXCEPTION 'could not serialize access (a test trigger)'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER collide BEFORE UPDATE ON reception_requests \
             FOR EACH ROW EXECUTE FUNCTION collide();",
        )
        .await
        .unwrap();
    let done = w.run(&w.clerk, case.id, propose(1)).await.unwrap();
    assert_eq!(done.status, S::Proposed);
    assert_eq!(w.numbers(case.id).await.len(), 1, "one number, not three");
}
