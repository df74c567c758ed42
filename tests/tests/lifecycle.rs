//! The case lifecycle under concurrency, on SQLite and PostgreSQL alike: every change
//! of a case goes through one guarded transition, so of two people acting on the same
//! version at once exactly one wins and the other is told 「他の職員が先に処理しました」.
//! Each race runs on a multi-threaded runtime, both sides released by one barrier, and
//! is repeated so that an interleaving that breaks it has many chances to show.

use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::Barrier;
use uketsuke_store::Error as StoreError;
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{issued_number, reception_request};
use uketsuke_store::lifecycle::{self, Caller, CaseStatus, Command, NumberStatus, Scope};
use uketsuke_store::users::{self, Role};
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";
const ROUNDS: usize = 6;

async fn caller(app: &TestApp, username: &str, role: &str) -> Caller {
    if users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .is_none()
    {
        app.create_user(username, role, BUREAU).await;
    }
    let user = users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .unwrap();
    Caller {
        actor: Actor::user(user.id, &user.username),
        role: Role::parse(&user.role).unwrap(),
        scope: Scope {
            bureau_id: user.bureau_id,
            office_id: user.office_id,
        },
    }
}

/// Enters a 医科 request through the entry form as `clerk` (signed in on the app's client).
async fn enter(app: &TestApp, name: &str) -> i32 {
    enter_kind(app, name, "medical").await
}

/// Enters a request of `kind` (`medical`, `dental`, `pharmacy`).
async fn enter_kind(app: &TestApp, name: &str, kind: &str) -> i32 {
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("reply_address", "東京都新宿区西新宿2-8-1"),
                ("reply_name", "開設準備室"),
                ("kind", kind),
                ("facility_name", name),
                ("facility_address", "東京都新宿区西新宿2-8-1"),
                ("designation_date", "令和9年4月1日"),
                ("founder_kind", "person"),
                ("founder_name", "厚生 太郎"),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "entry of {name}");
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap()
}

async fn case(app: &TestApp, id: i32) -> reception_request::Model {
    reception_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn numbers(app: &TestApp, id: i32) -> Vec<issued_number::Model> {
    issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
}

fn propose(app: &TestApp) -> Command {
    Command::Propose {
        district: 1,
        acknowledge_return: false,
        policy: app.settings.numbering,
    }
}

/// Runs `a` and `b` on case `id` at once, both having seen version `seen`.
async fn race(
    app: &TestApp,
    id: i32,
    seen: Option<i32>,
    a: (Caller, Command),
    b: (Caller, Command),
) -> [Result<reception_request::Model, StoreError>; 2] {
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |(who, command): (Caller, Command)| {
        let (db, barrier) = (app.db.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            lifecycle::apply(&db, &who, id, seen, &command).await
        })
    };
    let (first, second) = (spawn(a), spawn(b));
    [first.await.unwrap(), second.await.unwrap()]
}

/// Exactly one side won; the loser was told that someone else was first (or, when it
/// came second without a version, that the action no longer fits the status).
fn one_winner(results: &[Result<reception_request::Model, StoreError>; 2]) -> usize {
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "exactly one wins: {results:?}");
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        matches!(loser, StoreError::Conflict | StoreError::NotAllowed(_)),
        "the loser is told plainly, got {loser:?}"
    );
    results.iter().position(|r| r.is_ok()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proposing_twice_at_once_gives_one_live_number() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let (one, two) = (
        caller(&app, "tanto", "clerk").await,
        caller(&app, "tanto2", "clerk").await,
    );
    for round in 0..ROUNDS {
        let id = enter(&app, &format!("起案競合クリニック{round}")).await;
        let version = case(&app, id).await.lock_version;
        let seen = Some(version);
        // The same clerk clicking twice, then two clerks: both with the version they saw.
        let second = if round % 2 == 0 { &one } else { &two };
        let results = race(
            &app,
            id,
            seen,
            (one.clone(), propose(&app)),
            (second.clone(), propose(&app)),
        )
        .await;
        one_winner(&results);
        let live: Vec<_> = numbers(&app, id)
            .await
            .into_iter()
            .filter(|n| n.status.is_live())
            .collect();
        assert_eq!(
            live.len(),
            1,
            "round {round}: one live number, got {live:?}"
        );
        let after = case(&app, id).await;
        assert_eq!(after.status, CaseStatus::Proposed);
        assert_eq!(after.lock_version, version + 1, "one change, one version");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_approvers_approving_the_same_version_at_once_exactly_one_wins() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let clerk = caller(&app, "tanto", "clerk").await;
    let (a, b) = (
        caller(&app, "kessai-a", "approver").await,
        caller(&app, "kessai-b", "approver").await,
    );
    for round in 0..ROUNDS {
        let id = enter(&app, &format!("決裁競合歯科{round}")).await;
        lifecycle::apply(&app.db, &clerk, id, None, &propose(&app))
            .await
            .unwrap();
        let seen = Some(case(&app, id).await.lock_version);
        let results = race(
            &app,
            id,
            seen,
            (a.clone(), Command::Approve),
            (b.clone(), Command::Approve),
        )
        .await;
        let winner = one_winner(&results);
        let loser = &results[1 - winner];
        assert!(
            matches!(loser, Err(StoreError::Conflict)),
            "with the version seen, the loser gets a conflict: {loser:?}"
        );
        let approved: Vec<_> = numbers(&app, id)
            .await
            .into_iter()
            .filter(|n| n.status == NumberStatus::Approved)
            .collect();
        assert_eq!(approved.len(), 1);
        let approver = [&a, &b][winner].actor.user_id;
        assert_eq!(approved[0].approved_by, approver, "the winner's approval");
        assert_eq!(case(&app, id).await.status, CaseStatus::Issued);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approve_against_return_at_once_leaves_a_consistent_case() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let clerk = caller(&app, "tanto", "clerk").await;
    let (a, b) = (
        caller(&app, "kessai-a", "approver").await,
        caller(&app, "kessai-b", "approver").await,
    );
    let today = chrono::Utc::now().date_naive();
    let mut outcomes = [0, 0];
    for round in 0..ROUNDS {
        let id = enter(&app, &format!("返戻競合薬局{round}")).await;
        lifecycle::apply(&app.db, &clerk, id, None, &propose(&app))
            .await
            .unwrap();
        // Without a version (as a retry or an old page would post): the status decides.
        let results = race(
            &app,
            id,
            None,
            (a.clone(), Command::Approve),
            (
                b.clone(),
                Command::Return {
                    reason: "書類に不備があるため".into(),
                    on: today,
                },
            ),
        )
        .await;
        let winner = one_winner(&results);
        outcomes[winner] += 1;
        let after = case(&app, id).await;
        let numbers = numbers(&app, id).await;
        assert_eq!(
            numbers.len(),
            1,
            "the proposed number, approved or void: {numbers:?}"
        );
        match after.status {
            CaseStatus::Issued => {
                assert_eq!(winner, 0);
                assert!(numbers.iter().all(|n| n.status == NumberStatus::Approved));
            }
            CaseStatus::Returned => {
                assert_eq!(winner, 1);
                assert!(
                    numbers.iter().all(|n| n.status == NumberStatus::Void),
                    "a returned case holds no live number: {numbers:?}"
                );
            }
            other => panic!("round {round}: unexpected status {other:?}"),
        }
    }
    assert_eq!(outcomes.iter().sum::<usize>(), ROUNDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_version_is_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let clerk = caller(&app, "tanto", "clerk").await;
    let id = enter(&app, "版数確認クリニック").await;
    let seen = case(&app, id).await.lock_version;
    lifecycle::apply(&app.db, &clerk, id, Some(seen), &propose(&app))
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let stale = lifecycle::apply(
        &app.db,
        &clerk,
        id,
        Some(seen),
        &Command::Withdraw {
            on: today,
            reason: String::new(),
        },
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
    let after = case(&app, id).await;
    assert_eq!(
        after.status,
        CaseStatus::Proposed,
        "the withdrawal did not happen"
    );
    assert_eq!(after.lock_version, seen + 1);
    assert_eq!(
        StoreError::Conflict.to_string(),
        "他の職員が先に処理しました。最新の内容を確認してください"
    );
}

#[tokio::test]
async fn role_status_and_scope_are_checked_in_the_store() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let clerk = caller(&app, "tanto", "clerk").await;
    let viewer = caller(&app, "etsuran", "viewer").await;
    let id = enter(&app, "権限確認クリニック").await;

    let refused = lifecycle::apply(&app.db, &viewer, id, None, &propose(&app)).await;
    assert!(
        matches!(&refused, Err(StoreError::Forbidden(m)) if m.contains("担当")),
        "{refused:?}"
    );
    let refused = lifecycle::apply(&app.db, &clerk, id, None, &Command::Approve).await;
    assert!(
        matches!(refused, Err(StoreError::Forbidden(_))),
        "{refused:?}"
    );
    let today = chrono::Utc::now().date_naive();
    let refused = lifecycle::apply(&app.db, &clerk, id, None, &Command::Answer { on: today }).await;
    assert!(
        matches!(&refused, Err(StoreError::NotAllowed(m)) if m.contains("受付済")),
        "answering a received case: {refused:?}"
    );

    // Another bureau, and another office of the same bureau, see nothing.
    let mut elsewhere = clerk.clone();
    elsewhere.scope.bureau_id = "kinki".into();
    let refused = lifecycle::apply(&app.db, &elsewhere, id, None, &propose(&app)).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    let office = case(&app, id).await.office_id;
    let mut other_office = clerk.clone();
    other_office.scope.office_id = Some(office.unwrap_or(0) + 1000);
    let refused = lifecycle::apply(&app.db, &other_office, id, None, &propose(&app)).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");

    // The proposer cannot approve their own number.
    lifecycle::apply(&app.db, &clerk, id, None, &propose(&app))
        .await
        .unwrap();
    let mut self_approver = clerk.clone();
    self_approver.role = Role::Approver;
    let refused = lifecycle::apply(&app.db, &self_approver, id, None, &Command::Approve).await;
    assert!(
        matches!(&refused, Err(StoreError::NotAllowed(m)) if m.contains("起案した職員")),
        "{refused:?}"
    );
    assert_eq!(case(&app, id).await.status, CaseStatus::Proposed);
}

#[tokio::test]
async fn voiding_the_only_number_returns_the_case_to_received() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let clerk = caller(&app, "tanto", "clerk").await;
    let approver = caller(&app, "kessai", "approver").await;
    let id = enter(&app, "無効化確認クリニック").await;
    lifecycle::apply(&app.db, &clerk, id, None, &propose(&app))
        .await
        .unwrap();
    let number = numbers(&app, id).await.remove(0);
    let after = lifecycle::apply(
        &app.db,
        &approver,
        id,
        None,
        &Command::Void {
            number_id: number.id,
            reason: "郡市区番号の誤り".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(after.status, CaseStatus::Received, "ready for a new number");
    // A new proposal gets another number: the void one is never given again.
    lifecycle::apply(&app.db, &clerk, id, None, &propose(&app))
        .await
        .unwrap();
    let all = numbers(&app, id).await;
    assert_eq!(all.len(), 2);
    assert_ne!(all[0].code, all[1].code);
}

/// Through the pages: two approvers in two browsers press 決裁 on the same page at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_approvers_in_two_browsers_one_is_told_someone_was_first() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let clerk = caller(&app, "tanto", "clerk").await;
    for name in ["kessai-a", "kessai-b"] {
        app.create_user(name, "approver", BUREAU).await;
    }
    let mut browsers = Vec::new();
    for name in ["kessai-a", "kessai-b"] {
        let password = format!("pw-{name}-0123456789");
        let client = app.browser_signed_in(name, &password).await;
        browsers.push(client);
    }
    for round in 0..ROUNDS {
        let id = enter(&app, &format!("画面競合クリニック{round}")).await;
        lifecycle::apply(&app.db, &clerk, id, None, &propose(&app))
            .await
            .unwrap();
        // Both open the case page, then both press the button.
        let mut forms = Vec::new();
        for client in &browsers {
            let page = client
                .get(format!("{}/cases/{id}", app.base_url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let version = case(&app, id).await.lock_version.to_string();
            assert!(page.contains(&format!("name=\"version\" value=\"{version}\"")));
            forms.push((uketsuke_tests::csrf_of(&page), version));
        }
        let barrier = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = browsers
            .iter()
            .cloned()
            .zip(forms)
            .map(|(client, (csrf, version))| {
                let url = format!("{}/cases/{id}/approve", app.base_url);
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let response = client
                        .post(url)
                        .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
                        .send()
                        .await
                        .unwrap();
                    (response.status().as_u16(), response.text().await.unwrap())
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        results.sort();
        assert_eq!(results[0].0, 303, "one approval goes through: {results:?}");
        assert_eq!(results[1].0, 409, "the other is a conflict");
        assert!(
            results[1].1.contains("他の職員が先に処理しました"),
            "the page says so"
        );
        assert!(
            results[1].1.contains("番号交付済"),
            "and shows the case as it is now"
        );
    }
}

/// Every other action of the lifecycle, fired twice at once on the version both callers
/// saw (two different users): exactly one wins and the other gets a conflict, and the
/// case changed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_fired_twice_at_once_changes_the_case_once() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", BUREAU).await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let (clerk, clerk2) = (
        caller(&app, "tanto", "clerk").await,
        caller(&app, "tanto2", "clerk").await,
    );
    let (a, b) = (
        caller(&app, "kessai-a", "approver").await,
        caller(&app, "kessai-b", "approver").await,
    );
    let today = chrono::Utc::now().date_naive();
    let session = uketsuke_store::council::find_or_create(
        &app.db,
        uketsuke_store::council::NewSession {
            bureau_id: BUREAU.into(),
            prefecture: "13".into(),
            held_on: today,
            name: "東京地方社会保険医療協議会".into(),
        },
        &a.actor,
    )
    .await
    .unwrap();
    for (round, action) in [
        "answer",
        "return",
        "withdraw",
        "void",
        "not-designated",
        "designate",
        "withdraw-after-answer",
        "void-answered",
        "override-answer-due",
        "correct",
        "link",
        "unlink",
    ]
    .into_iter()
    .enumerate()
    {
        let id = enter(&app, &format!("同時処理医院{round}")).await;
        let (first, second, command) = match action {
            "answer" => {
                to_issued(&app, id).await;
                (clerk.clone(), clerk2.clone(), Command::Answer { on: today })
            }
            "return" => (
                a.clone(),
                b.clone(),
                Command::Return {
                    reason: "書類に不備があるため".into(),
                    on: today,
                },
            ),
            "withdraw" => {
                to_issued(&app, id).await;
                (
                    clerk.clone(),
                    clerk2.clone(),
                    Command::Withdraw {
                        on: today,
                        reason: String::new(),
                    },
                )
            }
            "void" => {
                to_issued(&app, id).await;
                let number = numbers(&app, id).await.remove(0);
                (
                    a.clone(),
                    b.clone(),
                    Command::Void {
                        number_id: number.id,
                        reason: "試験".into(),
                    },
                )
            }
            "not-designated" => {
                to_issued(&app, id).await;
                (
                    a.clone(),
                    b.clone(),
                    Command::NotDesignated {
                        reason: "開設中止".into(),
                    },
                )
            }
            "withdraw-after-answer" => {
                to_answered(&app, id, today).await;
                (
                    clerk.clone(),
                    clerk2.clone(),
                    Command::Withdraw {
                        on: today,
                        reason: String::new(),
                    },
                )
            }
            "void-answered" => {
                to_answered(&app, id, today).await;
                let number = numbers(&app, id).await.remove(0);
                (
                    a.clone(),
                    b.clone(),
                    Command::Void {
                        number_id: number.id,
                        reason: "試験".into(),
                    },
                )
            }
            "override-answer-due" => (
                a.clone(),
                b.clone(),
                Command::OverrideAnswerDue {
                    date: case(&app, id).await.answer_due + chrono::TimeDelta::days(7),
                    reason: "書類の到着待ち".into(),
                    calendar: uketsuke_rules::calendar::Calendar::default(),
                },
            ),
            "correct" => {
                to_issued(&app, id).await;
                let rules = uketsuke::startup::bureau_rules(&app.settings).unwrap();
                let current = case(&app, id).await;
                let form = uketsuke_domain::RequestForm {
                    kind: current.kind,
                    facility_name: format!("{}（訂正）", current.facility_name),
                    facility_postal_code: None,
                    facility_address: current.facility_address.clone(),
                    designation_date: current.designation_date + chrono::Months::new(1),
                    request_date: None,
                    addressed_bureau: None,
                    founder: uketsuke_domain::Founder::Person {
                        name: "厚生 太郎".into(),
                    },
                    founder_registration: None,
                    contact_phone: uketsuke_domain::PhoneNumber::parse("03-5321-1111").unwrap(),
                    reply_postal_code: None,
                    reply_address: None,
                    reply_name: None,
                };
                let correction = lifecycle::Correction {
                    form,
                    received_on: current.received_on,
                    retroactive: false,
                    office_id: None,
                    reason: "指定希望日の変更".into(),
                    bureau: rules[BUREAU].clone(),
                    policy: uketsuke_rules::eligibility::EligibilityPolicy::default(),
                    today: uketsuke_domain::today_in_japan(),
                };
                (
                    clerk.clone(),
                    clerk2.clone(),
                    Command::Correct(Box::new(correction)),
                )
            }
            "link" | "unlink" => {
                let dental = enter_kind(&app, &format!("同時処理医院{round}"), "dental").await;
                if action == "unlink" {
                    lifecycle::apply(
                        &app.db,
                        &clerk,
                        id,
                        None,
                        &Command::Link { sibling_id: dental },
                    )
                    .await
                    .unwrap();
                    (clerk.clone(), clerk2.clone(), Command::Unlink)
                } else {
                    (
                        clerk.clone(),
                        clerk2.clone(),
                        Command::Link { sibling_id: dental },
                    )
                }
            }
            _ => {
                to_issued(&app, id).await;
                (
                    a.clone(),
                    b.clone(),
                    Command::Designate {
                        session_id: session.id,
                        designation_date: None,
                    },
                )
            }
        };
        let version = case(&app, id).await.lock_version;
        let results = race(
            &app,
            id,
            Some(version),
            (first, command.clone()),
            (second, command),
        )
        .await;
        let winner = one_winner(&results);
        assert!(
            matches!(results[1 - winner], Err(StoreError::Conflict)),
            "{action}: the loser is told someone was first: {results:?}"
        );
        assert_eq!(
            case(&app, id).await.lock_version,
            version + 1,
            "{action}: the case changed once"
        );
    }
}

/// Proposes, approves and answers a case's number (回答済).
async fn to_answered(app: &TestApp, id: i32, today: chrono::NaiveDate) {
    to_issued(app, id).await;
    let clerk = caller(app, "tanto", "clerk").await;
    lifecycle::apply(&app.db, &clerk, id, None, &Command::Answer { on: today })
        .await
        .unwrap();
}

/// Proposes and approves a case's number (番号交付済).
async fn to_issued(app: &TestApp, id: i32) {
    let clerk = caller(app, "tanto", "clerk").await;
    let approver = caller(app, "kessai-a", "approver").await;
    lifecycle::apply(&app.db, &clerk, id, None, &propose(app))
        .await
        .unwrap();
    lifecycle::apply(&app.db, &approver, id, None, &Command::Approve)
        .await
        .unwrap();
}
