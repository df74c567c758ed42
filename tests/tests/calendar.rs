//! Issue #14 items 4–7: the 地医協 dates an administrator keeps (admin only, CSRF, add /
//! move / delete rules, audited, one of two at once wins, shown on the dashboard); the
//! month calendar of deadlines (office-scoped, closed days shaded); the monthly report
//! (equal to a hand count, and the .xlsx read back by openpyxl the same); a case's memos
//! (two users at once: both kept, in a stable order) and its attached scanned request
//! (two at once: one wins; hostile files refused with nothing stored; another office's
//! clerk can read neither). Run on SQLite, and on PostgreSQL with TEST_DATABASE_URL.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uketsuke_store::audit::Actor;
use uketsuke_store::council_dates::{self, PlannedDate};
use uketsuke_store::entities::{
    audit_log, case_attachment, case_memo, council_date_removal, council_session, office,
    reception_request,
};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_store::users::{self, NewUser, Role};
use uketsuke_tests::{TestApp, assert_refused, csrf_of, refusal};

const BUREAU: &str = "kanto-shinetsu";

fn today() -> NaiveDate {
    uketsuke_domain::today_in_japan()
}

async fn office_id(app: &TestApp, code: &str) -> i32 {
    uketsuke_store::bureaus::office_id(&app.db, BUREAU, code)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("office {code}"))
}

/// Creates `username` with `role`, limited to office `office` (a code) when given;
/// returns the password.
async fn account(app: &TestApp, username: &str, role: Role, office: Option<&str>) -> String {
    let password = format!("pw-{username}-0123456789");
    let office_id = match office {
        Some(code) => Some(office_id(app, code).await),
        None => None,
    };
    users::create(
        &app.db,
        &NewUser {
            username: username.to_owned(),
            display_name: format!("{username} さん"),
            password_hash: users::hash_password(&password),
            role,
            bureau_id: BUREAU.into(),
            office_id,
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
    password
}

/// A demo case of 東京事務所 still awaiting its answer.
async fn open_case(app: &TestApp) -> reception_request::Model {
    reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Received))
        .order_by_asc(reception_request::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo has a case at 受付済")
}

async fn text(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

// ───────────────────────────── 地医協の開催予定日 ─────────────────────────────

async fn sessions_on(app: &TestApp, day: NaiveDate) -> Vec<council_session::Model> {
    council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(BUREAU))
        .filter(council_session::Column::HeldOn.eq(day))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn council_dates_are_kept_by_an_admin_only_with_csrf_and_shown_on_the_dashboard() {
    let app = TestApp::spawn_with(true).await;
    let day = today().checked_add_days(Days::new(45)).unwrap();
    let iso = day.format("%Y-%m-%d").to_string();

    // A clerk is refused the page and the form.
    app.switch_to("tanto", "clerk", BUREAU).await;
    assert_refused(
        app.get("/admin/council-dates").await,
        &refusal::role("管理"),
    )
    .await;
    let r = app
        .post_signed(
            "/admin/council-dates",
            &[("prefecture", "13"), ("held_on", &iso)],
        )
        .await;
    assert_refused(r, &refusal::role("管理")).await;
    assert!(sessions_on(&app, day).await.is_empty(), "nothing planned");

    // An administrator without the form's token is refused too.
    app.switch_to("kanri", "admin", BUREAU).await;
    let r = app
        .post_form(
            "/admin/council-dates",
            &[
                ("csrf", "forged"),
                ("prefecture", "13"),
                ("held_on", iso.as_str()),
            ],
        )
        .await;
    assert_refused(r, refusal::CSRF).await;
    assert!(sessions_on(&app, day).await.is_empty());

    // Added (in 和暦 too), audited, on the dashboard and the calendar.
    let wareki = uketsuke_domain::format_wareki(day);
    let r = app
        .post_signed(
            "/admin/council-dates",
            &[
                ("prefecture", "13"),
                ("held_on", wareki.as_str()),
                ("name", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let planned = sessions_on(&app, day).await;
    assert_eq!(planned.len(), 1);
    let s = &planned[0];
    assert_eq!(s.name, "東京地方社会保険医療協議会");
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains(&wareki) && !dashboard.contains("予定が登録されていません"),
        "the dashboard shows the next date: {dashboard}"
    );
    let month = day.format("%Y-%m").to_string();
    let calendar = app
        .get(&format!("/calendar?month={month}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        day_cell(&calendar, day).contains(&format!("/council/{}", s.id)),
        "the calendar shows the session on its day"
    );

    // The same prefecture and day twice, and a day already come, are refused plainly.
    let (status, page) = text(
        app.post_signed(
            "/admin/council-dates",
            &[("prefecture", "13"), ("held_on", &iso)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("既に登録されています"), "{page}");
    let yesterday = today().pred_opt().unwrap().format("%Y-%m-%d").to_string();
    let (status, page) = text(
        app.post_signed(
            "/admin/council-dates",
            &[("prefecture", "13"), ("held_on", &yesterday)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("明日以降の日付"), "{page}");
    let (status, page) = text(
        app.post_signed(
            "/admin/council-dates",
            &[("prefecture", "27"), ("held_on", &iso)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "大阪 is not the bureau's");
    assert!(
        page.contains("都道府県を局の管轄から選んでください"),
        "{page}"
    );

    // Moved to another day: the old day is remembered as removed.
    let moved = day.checked_add_days(Days::new(7)).unwrap();
    let moved_iso = moved.format("%Y-%m-%d").to_string();
    let path = format!("/admin/council-dates/{}", s.id);
    let r = app
        .post_signed(
            &path,
            &[
                ("version", "0"),
                ("prefecture", "13"),
                ("held_on", &moved_iso),
                ("name", "第1回"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let after = council_session::Entity::find_by_id(s.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.held_on, after.version, after.name.as_str()),
        (moved, 1, "第1回")
    );
    // A second edit at the old version is told someone was first.
    let (status, page) = text(
        app.post_signed(
            &path,
            &[("version", "0"), ("prefecture", "13"), ("held_on", &iso)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(page.contains("他の職員が先に処理しました"), "{page}");

    // Deleted at its version; the configuration's dates do not bring either day back.
    let r = app
        .post_signed(&format!("{path}/delete"), &[("version", "1")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        council_session::Entity::find_by_id(s.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    let configured = BTreeMap::from([("13".to_owned(), vec![day, moved])]);
    let added = uketsuke_store::council::plan_configured(&app.db, BUREAU, &configured, today())
        .await
        .unwrap();
    assert_eq!(added, 0, "removed dates stay removed");
    assert_eq!(
        council_date_removal::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        2
    );
    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("council_session"))
        .filter(audit_log::Column::EntityId.eq(s.id.to_string()))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["council.plan", "council.edit", "council.delete"]);

    // A session already held cannot be deleted (nor one with 答申 or lists).
    let held = uketsuke_store::council::find_or_create(
        &app.db,
        uketsuke_store::council::NewSession {
            bureau_id: BUREAU.into(),
            prefecture: "13".into(),
            held_on: today().pred_opt().unwrap(),
            name: "開催済みの回".into(),
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
    let page = app.get("/admin/council-dates").await.text().await.unwrap();
    assert!(
        page.contains("開催済み（開催日を過ぎた）ため変更できません"),
        "{page}"
    );
    let (status, page) = text(
        app.post_signed(
            &format!("/admin/council-dates/{}/delete", held.id),
            &[("version", "0")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("開催済み"), "{page}");
    assert!(
        council_session::Entity::find_by_id(held.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_some()
    );
    let with_approvals = reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .one(&app.db)
        .await
        .unwrap();
    if let Some(r) = with_approvals {
        let sid = r.council_session_id.unwrap();
        let (status, _) = text(
            app.post_signed(
                &format!("/admin/council-dates/{sid}/delete"),
                &[("version", "0")],
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "a session with 答申 stays");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_changing_the_same_planned_date_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let prefectures = vec!["13".to_owned()];
    let day = today().checked_add_days(Days::new(30)).unwrap();
    let date = |d: NaiveDate| PlannedDate {
        prefecture: "13".into(),
        held_on: d,
        name: String::new(),
    };
    for round in 0..3u64 {
        let d = day.checked_add_days(Days::new(round * 20)).unwrap();
        let s = council_dates::add(
            &app.db,
            BUREAU,
            &prefectures,
            &date(d),
            &Actor::system("a"),
            today(),
        )
        .await
        .unwrap();
        // One moves it while another deletes it (and, in the last round, both move it).
        let mut tasks = Vec::new();
        for who in 0..2u64 {
            let db = app.db.clone();
            let prefectures = prefectures.clone();
            let target = date(d.checked_add_days(Days::new(1 + who)).unwrap());
            let id = s.id;
            tasks.push(tokio::spawn(async move {
                let actor = Actor::system(&format!("admin-{who}"));
                if who == 0 || round == 2 {
                    council_dates::edit(&db, BUREAU, &prefectures, id, 0, &target, &actor, today())
                        .await
                        .map(|_| ())
                } else {
                    council_dates::delete(&db, BUREAU, &prefectures, id, 0, &actor, today())
                        .await
                        .map(|_| ())
                }
            }));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => wins += 1,
                Err(uketsuke_store::Error::Conflict) => {}
                Err(e) => panic!("the loser is told of the conflict, not {e}"),
            }
        }
        assert_eq!(wins, 1, "round {round}: exactly one wins");
        let trail = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("council_session"))
            .filter(audit_log::Column::EntityId.eq(s.id.to_string()))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(trail, 2, "the plan and the one change are audited");
    }
}

// ───────────────────────────────── カレンダー ─────────────────────────────────

/// The `<td>` of `day` in a calendar page.
fn day_cell(html: &str, day: NaiveDate) -> String {
    let marker = format!("id=\"d-{}\"", day.format("%Y-%m-%d"));
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("the calendar has {day}"));
    let rest = &html[start..];
    rest[..rest.find("</td>").unwrap_or(rest.len())].to_owned()
}

/// The `class` attribute of `day`'s cell.
fn calendar_reason(app: &TestApp, day: NaiveDate) -> String {
    let calendar = app.settings.bureau(BUREAU).unwrap().calendar().unwrap();
    calendar.closed_reason(day).expect("a closed day")
}

/// The `class` attribute of `day`'s cell.
fn cell_class(html: &str, day: NaiveDate) -> String {
    let cell = day_cell(html, day);
    cell.split("class=\"")
        .nth(1)
        .and_then(|c| c.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_calendar_shows_a_case_on_its_answer_due_day_and_not_to_another_office() {
    let app = TestApp::spawn_with(true).await;
    let case = open_case(&app).await;
    let due = case.answer_due_override.unwrap_or(case.answer_due);
    let month = due.format("%Y-%m").to_string();
    app.switch_to("tanto", "clerk", BUREAU).await;
    let (status, html) = text(app.get(&format!("/calendar?month={month}")).await).await;
    assert_eq!(status, 200);
    let first = due.with_day(1).unwrap();
    let heading = uketsuke_domain::format_wareki(first);
    let heading = &heading[..heading.find('月').unwrap() + '月'.len_utf8()];
    assert!(
        html.contains(&format!("カレンダー {heading}")),
        "和暦 heading {heading}"
    );
    let cell = day_cell(&html, due);
    assert!(
        cell.contains(&format!("/cases/{}", case.id)) && cell.contains("回答期限"),
        "the case is on its 回答期限 day: {cell}"
    );
    // Its other deadlines fall on their own days, when in this month.
    if case.implementing_body_due.format("%Y-%m").to_string() == month {
        assert!(day_cell(&html, case.implementing_body_due).contains("実施機関への提出期限"));
    }
    // Closed days are shaded and named; an open weekday is not.
    let saturday = (1..=28)
        .map(|d| first.with_day(d).unwrap())
        .find(|d| d.weekday() == Weekday::Sat)
        .unwrap();
    assert!(cell_class(&html, saturday).contains("closed"));
    let reason = calendar_reason(&app, saturday);
    assert!(
        day_cell(&html, saturday)
            .contains(&format!("<span class=\"closed-reason\">{reason}</span>")),
        "the closed day is named ({reason})"
    );
    let calendar = app.settings.bureau(BUREAU).unwrap().calendar().unwrap();
    let open = (1..=28)
        .map(|d| first.with_day(d).unwrap())
        .find(|d| calendar.is_open(*d))
        .unwrap();
    assert!(!cell_class(&html, open).contains("closed"));
    // Previous and next month by plain links.
    let prev = (first - Months::new(1)).format("%Y-%m").to_string();
    let next = (first + Months::new(1)).format("%Y-%m").to_string();
    assert!(html.contains(&format!("href=\"/calendar?month={prev}\"")));
    assert!(html.contains(&format!("href=\"/calendar?month={next}\"")));
    // A bad month is named.
    let (status, page) = text(app.get("/calendar?month=2026-13").await).await;
    assert_eq!(status, 422);
    assert!(page.contains("2026-13"), "{page}");

    // 群馬事務所's clerk sees no case of 東京事務所's.
    let password = account(&app, "gunma-tanto", Role::Clerk, Some("gunma")).await;
    app.switch_to("gunma-tanto", "clerk", BUREAU).await;
    let _ = password;
    let html = app
        .get(&format!("/calendar?month={month}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(&format!("/cases/{}\"", case.id)),
        "another office's case is not shown"
    );
    assert!(html.contains("担当の事務所の案件のみ"));
}

// ──────────────────────────────── 月報 ────────────────────────────────

/// (office name, kind label) → count per status, counted by hand from the rows.
async fn hand_count(app: &TestApp, first: NaiveDate) -> BTreeMap<(String, String), Vec<u64>> {
    let last = (first + Months::new(1)).pred_opt().unwrap();
    let offices: BTreeMap<i32, String> = office::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut out: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for r in reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
    {
        if r.bureau_id != BUREAU || r.received_on < first || r.received_on > last {
            continue;
        }
        let office = r
            .office_id
            .and_then(|o| offices.get(&o).cloned())
            .unwrap_or_else(|| "（事務所の指定なし）".to_owned());
        let i = CaseStatus::ALL.iter().position(|s| *s == r.status).unwrap();
        out.entry((office, r.kind.label().to_owned()))
            .or_insert_with(|| vec![0; CaseStatus::ALL.len()])[i] += 1;
    }
    out
}

#[tokio::test]
async fn the_monthly_report_equals_a_hand_count_and_the_xlsx_reads_back_the_same() {
    let app = TestApp::spawn_with(true).await;
    // The month in which the demo received the most requests.
    let mut by_month: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for r in reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
    {
        *by_month
            .entry(r.received_on.with_day(1).unwrap())
            .or_default() += 1;
    }
    let (first, _) = by_month.iter().max_by_key(|(_, n)| **n).unwrap();
    let first = *first;
    let month = first.format("%Y-%m").to_string();
    let expected = hand_count(&app, first).await;
    let expected_total: u64 = expected.values().flatten().sum();
    assert!(expected_total > 1, "the demo month has requests");

    app.switch_to("kessai", "approver", BUREAU).await;
    let (status, html) = text(app.get(&format!("/reports/monthly?month={month}")).await).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("id=\"report-total\">{expected_total}<")),
        "the page's total is the hand count {expected_total}"
    );
    for ((office, kind), counts) in &expected {
        let row = format!(
            "<th scope=\"row\">{office}</th><td>{kind}</td>{}",
            counts
                .iter()
                .map(|n| format!("<td class=\"count\">{n}</td>"))
                .collect::<String>()
        );
        assert!(html.contains(&row), "the row {office} {kind}: {counts:?}");
    }

    // The workbook, read back by openpyxl.
    let response = app
        .get(&format!("/reports/monthly.xlsx?month={month}"))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let path = std::env::temp_dir().join(format!(
        "uketsuke-report-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, response.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, openpyxl\n\
             ws = openpyxl.load_workbook(sys.argv[1]).active\n\
             for r in ws.iter_rows(min_row=4, values_only=True):\n    print('|'.join('' if v is None else str(v) for v in r))",
        )
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Vec<String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect();
    let header = &lines[0];
    assert_eq!(header[0], "事務所");
    assert_eq!(header[2], CaseStatus::ALL[0].label());
    assert_eq!(header.last().unwrap(), "計");
    let number = |s: &str| s.parse::<f64>().unwrap() as u64;
    let mut read: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    let mut grand = 0;
    for l in &lines[1..] {
        if l[0] == "合計" {
            grand = number(l.last().unwrap());
            continue;
        }
        let counts: Vec<u64> = l[2..2 + CaseStatus::ALL.len()]
            .iter()
            .map(|s| number(s))
            .collect();
        assert_eq!(
            number(l.last().unwrap()),
            counts.iter().sum::<u64>(),
            "row total"
        );
        read.insert((l[0].clone(), l[1].clone()), counts);
    }
    assert_eq!(read, expected, "the workbook holds the hand count");
    assert_eq!(grand, expected_total);

    // An office-limited clerk counts only its office (群馬: none of the demo's).
    account(&app, "gunma-kakari", Role::Clerk, Some("gunma")).await;
    app.switch_to("gunma-kakari", "clerk", BUREAU).await;
    let html = app
        .get(&format!("/reports/monthly?month={month}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"report-total\">0<") && html.contains("担当の事務所のみ"));
}

// ─────────────────────────────── メモ ───────────────────────────────

async fn token(app: &TestApp, username: &str) -> String {
    uketsuke_store::tokens::create(&app.db, username, "test", &Actor::system("test"))
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memos_from_two_users_at_once_are_both_kept_in_a_stable_order() {
    let app = TestApp::spawn_with(true).await;
    let case = open_case(&app).await;
    let mut browsers = Vec::new();
    for name in ["tanto-a", "tanto-b"] {
        let password = app.create_user(name, "clerk", BUREAU).await;
        browsers.push(app.browser_signed_in(name, &password).await);
    }
    let path = format!("{}/cases/{}", app.base_url, case.id);
    let mut csrfs = Vec::new();
    for b in &browsers {
        let page = b.get(&path).send().await.unwrap().text().await.unwrap();
        csrfs.push(csrf_of(&page));
    }
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let mut tasks = Vec::new();
        for (i, (b, csrf)) in browsers.iter().zip(&csrfs).enumerate() {
            let (b, csrf, url) = (b.clone(), csrf.clone(), format!("{path}/memos"));
            tasks.push(tokio::spawn(async move {
                b.post(url)
                    .form(&[
                        ("csrf", csrf),
                        ("memo", format!("電話連絡 {round}-{i}: 書類は郵送済み")),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 303, "both memos are taken");
        }
    }
    let stored = case_memo::Entity::find()
        .filter(case_memo::Column::RequestId.eq(case.id))
        .order_by_asc(case_memo::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), ROUNDS * 2, "both kept every time");
    for name in ["tanto-a", "tanto-b"] {
        assert_eq!(stored.iter().filter(|m| m.author == name).count(), ROUNDS);
    }
    // The API lists them in the stored order, and the page in the same order, twice alike.
    let t = token(&app, "tanto-a").await;
    let (status, body) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/requests/{}/memos", case.id),
            &t,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let listed: Vec<i64> = body["memos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    let ids: Vec<i64> = stored.iter().map(|m| i64::from(m.id)).collect();
    assert_eq!(listed, ids);
    let (_, again) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/requests/{}/memos", case.id),
            &t,
            None,
        )
        .await;
    assert_eq!(again, body, "a stable order");
    let page = browsers[0]
        .get(&path)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let positions: Vec<usize> = stored.iter().map(|m| page.find(&m.body).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the page lists them oldest first"
    );
    // Audited once each, without the text.
    let trail = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("request.memo"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(trail.len(), ROUNDS * 2);
    assert!(
        trail
            .iter()
            .all(|e| !e.after.as_ref().unwrap().to_string().contains("電話連絡"))
    );

    // Through the API: added; an empty memo is a 422 naming the field.
    let (status, created) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{}/memos", case.id),
            &t,
            Some(json!({"text": "APIからのメモ"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["text"], "APIからのメモ");
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{}/memos", case.id),
            &t,
            Some(json!({"text": "  "})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "text");

    // A viewer may read but not write; another office's clerk can do neither.
    app.create_user("etsuran", "viewer", BUREAU).await;
    let v = token(&app, "etsuran").await;
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{}/memos", case.id),
            &v,
            Some(json!({"text": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    account(&app, "gunma-memo", Role::Clerk, Some("gunma")).await;
    let g = token(&app, "gunma-memo").await;
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let (status, _) = app
            .api(
                method.clone(),
                &format!("/api/v1/requests/{}/memos", case.id),
                &g,
                Some(json!({"text": "x"})),
            )
            .await;
        assert_eq!(status, 404, "{method} from another office");
    }
    app.switch_to("gunma-memo", "clerk", BUREAU).await;
    assert_eq!(app.get(&format!("/cases/{}", case.id)).await.status(), 404);
    let r = app
        .post_signed(
            &format!("/cases/{}/memos", case.id),
            &[("memo", "他事務所から")],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        case_memo::Entity::find()
            .filter(case_memo::Column::RequestId.eq(case.id))
            .count(&app.db)
            .await
            .unwrap(),
        (ROUNDS * 2 + 1) as u64,
        "nothing else was stored"
    );
    // Without the form's token: refused.
    app.switch_to("tanto-a", "clerk", BUREAU).await;
    let r = app
        .post_form(
            &format!("/cases/{}/memos", case.id),
            &[("csrf", "x"), ("memo", "y")],
        )
        .await;
    assert_refused(r, refusal::CSRF).await;
}

// ─────────────────────────── 依頼書の写し（添付） ───────────────────────────

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn attach(
    client: &reqwest::Client,
    app: &TestApp,
    id: i32,
    csrf: &str,
    version: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("version", version.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    let response = client
        .post(format!("{}/cases/{id}/attachments", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    text(response).await
}

async fn attachments(app: &TestApp, id: i32) -> Vec<case_attachment::Model> {
    case_attachment::Entity::find()
        .filter(case_attachment::Column::RequestId.eq(id))
        .order_by_asc(case_attachment::Column::Seq)
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_attaching_at_once_one_wins_and_a_replacement_keeps_the_old_version() {
    let app = TestApp::spawn_with(true).await;
    let case = open_case(&app).await;
    let mut browsers = Vec::new();
    for name in ["scan-a", "scan-b"] {
        let password = app.create_user(name, "clerk", BUREAU).await;
        browsers.push(app.browser_signed_in(name, &password).await);
    }
    let page_url = format!("{}/cases/{}", app.base_url, case.id);
    let mut csrfs = Vec::new();
    for b in &browsers {
        let page = b.get(&page_url).send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains("name=\"version\" value=\"0\""),
            "the form carries the version"
        );
        csrfs.push(csrf_of(&page));
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for (i, (b, csrf)) in browsers.iter().zip(&csrfs).enumerate() {
        let (app, b, csrf, id) = (app.clone(), b.clone(), csrf.clone(), case.id);
        tasks.push(tokio::spawn(async move {
            attach(
                &b,
                &app,
                id,
                &csrf,
                "0",
                &format!("依頼書-{i}.pdf"),
                PDF.to_vec(),
            )
            .await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert!(
        statuses.contains(&303) && statuses.contains(&409),
        "exactly one wins: {statuses:?}"
    );
    let loser = &results.iter().find(|(s, _)| *s == 409).unwrap().1;
    assert!(loser.contains("他の職員が先に処理しました"), "{loser}");
    assert_eq!(attachments(&app, case.id).await.len(), 1);

    // A replacement at the version seen becomes version 2; the first stays.
    let (status, page) = attach(
        &browsers[0],
        &app,
        case.id,
        &csrfs[0],
        "1",
        "依頼書（再スキャン）.png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let (status, _) = attach(
        &browsers[1],
        &app,
        case.id,
        &csrfs[1],
        "1",
        "古い画面から.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 409, "a stale page is told");
    let stored = attachments(&app, case.id).await;
    assert_eq!(stored.iter().map(|a| a.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(stored[1].content_type, "image/png");
    let page = browsers[0]
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("第2版（最新）") && page.contains("第1版（差替え前）"),
        "{page}"
    );
    for (a, bytes, mime) in [
        (&stored[0], PDF, "application/pdf"),
        (&stored[1], PNG, "image/png"),
    ] {
        let r = browsers[1]
            .get(format!("{page_url}/attachments/{}", a.id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], mime);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), bytes);
    }
    let trail: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("reception_request"))
        .filter(audit_log::Column::EntityId.eq(case.id.to_string()))
        .filter(audit_log::Column::Action.starts_with("request.attach"))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(trail, ["request.attach", "request.attach_replace"]);
}

#[tokio::test]
async fn hostile_attachments_are_refused_plainly_and_another_office_cannot_read_one() {
    let app = TestApp::spawn_with(true).await;
    let case = open_case(&app).await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let csrf = app.csrf(&format!("/cases/{}", case.id)).await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode".to_vec();
    exe.resize(4096, 0);
    let limit = usize::try_from(app.settings.attachments.max_bytes).unwrap();
    let mut oversize = PDF.to_vec();
    oversize.resize(limit + 1, b' ');
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("setup.pdf", exe, "中身がPDFではありません"),
        ("空.pdf", Vec::new(), "空です（0バイト）"),
        ("大きい.pdf", oversize, "大きすぎます"),
        ("依頼書.docx", PDF.to_vec(), "PDF・PNG・JPEG"),
    ];
    for (name, bytes, says) in cases {
        let (status, page) = attach(&app.client, &app, case.id, &csrf, "0", name, bytes).await;
        assert_eq!(status, 422, "{name}");
        assert!(page.contains(says) && page.contains(name), "{name}: {says}");
    }
    // Over the request body limit itself: 413 with a plain message.
    let (status, page) = attach(
        &app.client,
        &app,
        case.id,
        &csrf,
        "0",
        "巨大.pdf",
        vec![b'%'; limit + 200 * 1024],
    )
    .await;
    assert_eq!(status, 413);
    assert!(page.contains("大きすぎます"), "{page}");
    // Without the form's token.
    let (status, page) = attach(
        &app.client,
        &app,
        case.id,
        "forged",
        "0",
        "a.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 403);
    assert!(page.contains(refusal::CSRF));
    assert!(
        attachments(&app, case.id).await.is_empty(),
        "nothing stored"
    );
    assert_eq!(
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.starts_with("request.attach"))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );

    // A good one, then another office's clerk can neither read nor replace it.
    let (status, _) = attach(
        &app.client,
        &app,
        case.id,
        &csrf,
        "0",
        "依頼書.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 303);
    let stored = attachments(&app, case.id).await;
    account(&app, "gunma-scan", Role::Clerk, Some("gunma")).await;
    app.switch_to("gunma-scan", "clerk", BUREAU).await;
    let r = app
        .get(&format!("/cases/{}/attachments/{}", case.id, stored[0].id))
        .await;
    assert_eq!(r.status(), 404);
    let csrf = app.csrf("/dashboard").await;
    let (status, _) = attach(
        &app.client,
        &app,
        case.id,
        &csrf,
        "1",
        "差替え.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(attachments(&app, case.id).await.len(), 1);
    // A viewer of the same office as the case may read it but not attach.
    app.switch_to("etsuran", "viewer", BUREAU).await;
    let r = app
        .get(&format!("/cases/{}/attachments/{}", case.id, stored[0].id))
        .await;
    assert_eq!(r.status(), 200);
    let csrf = app.csrf("/dashboard").await;
    let (status, page) = attach(
        &app.client,
        &app,
        case.id,
        &csrf,
        "1",
        "b.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 403, "{page}");
}
