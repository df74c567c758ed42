//! The letters ready to mail and the published schedule: the 回答書 and the 返戻 letter
//! carry the configured letterhead (the office's own where it has one), a stable
//! 文書番号 and an inquiry number; each 回答書 is followed by the guidance enclosure with
//! the facility's dates; `POST /letters/answers` prints many at once (CSRF checked,
//! other offices' and unanswerable cases skipped with a message, never printed); the
//! public schedule needs no login, leaks nothing else and matches the rules.

use chrono::Datelike;
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::reception_request;
use uketsuke_store::users::{self, NewUser, Role};
use uketsuke_tests::{TestApp, refusal};

const BUREAU: &str = "kanto-shinetsu";

/// The app with a letterhead for 関東信越厚生局 and one of its own for 東京事務所.
async fn app() -> TestApp {
    TestApp::spawn_configured(false, |settings| {
        let kanto = settings
            .bureaus
            .iter_mut()
            .find(|b| b.id == BUREAU)
            .expect("kanto-shinetsu is configured");
        let letters = &mut kanto.letters;
        letters.document_number = Some("関厚発{year}第{seq}号".into());
        letters.director = Some("関東信越厚生局長　厚生 一郎".into());
        letters.department = Some("保険課".into());
        letters.phone = Some("048-000-0001".into());
        letters.inquiry = Some("関東信越厚生局 保険課（平日 8:30～17:15）".into());
        letters.schedule_note = Some("提出先は、所在地を管轄する事務所です。".into());
        letters.offices.insert(
            "tokyo".into(),
            uketsuke_web::letterhead::LetterheadFields {
                document_number: Some("関厚東発{year}第{case_id}号".into()),
                department: Some("東京事務所 受付番号担当".into()),
                phone: Some("03-0000-0002".into()),
                ..Default::default()
            },
        );
    })
    .await
}

async fn switch_to(app: &TestApp, username: &str, role: &str) {
    app.switch_to(username, role, BUREAU).await;
}

/// A user limited to office `code`, signed in.
async fn office_user(app: &TestApp, username: &str, role: Role, code: &str) {
    let office = uketsuke_store::bureaus::office_id(&app.db, BUREAU, code)
        .await
        .unwrap()
        .unwrap();
    if users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .is_none()
    {
        users::create(
            &app.db,
            &NewUser {
                username: username.into(),
                display_name: format!("{username} さん"),
                password_hash: users::hash_password(&format!("pw-{username}-0123456789")),
                role,
                bureau_id: BUREAU.into(),
                office_id: Some(office),
            },
            &Actor::system("test"),
        )
        .await
        .unwrap();
    }
    let csrf = app.csrf("/dashboard").await;
    if !csrf.is_empty() {
        app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    }
    app.login(username, &format!("pw-{username}-0123456789"))
        .await;
}

/// Enters a request (as whoever is signed in) at `address`; returns its id.
async fn enter(app: &TestApp, name: &str, address: &str, reply_name: &str) -> i32 {
    app.enter_request(&[
        ("facility_name", name),
        ("facility_address", address),
        ("reply_address", address),
        ("reply_name", reply_name),
        ("kind", "医科"),
    ])
    .await
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_signed(path, fields).await
}

/// Cases of 東京 entered and proposed by a clerk, then approved by an approver (the
/// approver stays signed in).
async fn approved_cases(app: &TestApp, names: &[&str]) -> Vec<i32> {
    switch_to(app, "tanto", "clerk").await;
    let mut ids = Vec::new();
    for name in names {
        let id = enter(app, name, "東京都新宿区西新宿2-8-1", "開設準備室").await;
        let r = post(app, &format!("/cases/{id}/propose"), &[("district", "4")]).await;
        assert_eq!(r.status(), 303, "propose {name}");
        ids.push(id);
    }
    switch_to(app, "kessai", "approver").await;
    for id in &ids {
        let r = post(app, &format!("/cases/{id}/approve"), &[]).await;
        assert_eq!(r.status(), 303, "approve {id}");
    }
    ids
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// The 文書番号 of a case: the prefix, the 令和 year of the day it was entered (Japan
/// time) and its 受付ID.
fn expected_number(prefix: &str, case: &reception_request::Model) -> String {
    let entered = (case.created_at + chrono::TimeDelta::hours(9)).date_naive();
    format!("{prefix}{}第{}号", entered.year() - 2018, case.id)
}

#[tokio::test]
async fn the_answer_prints_the_offices_letterhead_a_stable_number_and_the_guidance() {
    let app = app().await;
    let ids = approved_cases(&app, &["レターヘッド内科"]).await;
    let id = ids[0];
    let case = app.request(id).await;
    let tokyo = uketsuke_store::bureaus::office_id(&app.db, BUREAU, "tokyo")
        .await
        .unwrap();
    assert_eq!(case.office_id, tokyo, "a 東京 facility is 東京事務所's");

    let html = app
        .get(&format!("/cases/{id}/answer"))
        .await
        .text()
        .await
        .unwrap();
    let number = expected_number("関厚東発", &case);
    assert!(
        html.contains(&number),
        "the office's 文書番号 {number}: {html}"
    );
    assert!(
        html.contains("関東信越厚生局長　厚生 一郎"),
        "the bureau's 局長名"
    );
    assert!(html.contains("（公印省略）"));
    assert!(
        html.contains("担当　東京事務所 受付番号担当　電話 03-0000-0002"),
        "the office's own 担当・連絡先"
    );
    assert!(
        html.contains("お問い合わせ先　関東信越厚生局 保険課（平日 8:30～17:15）"),
        "the bureau's 問い合わせ先 where the office has none"
    );
    assert!(html.contains(&format!("お問い合わせ番号（受付ID）　{id}")));
    assert!(
        html.contains("data-print") && html.contains("/static/print.js"),
        "a print button"
    );
    // The enclosure: the guidance of config/default.toml with this facility's dates.
    let due = uketsuke_domain::format_wareki(case.implementing_body_due);
    assert_eq!(count(&html, "class=\"sheet enclosure\""), 1);
    assert!(html.contains("オンライン資格確認の導入に向けたお手続きのご案内"));
    assert!(
        html.contains(&format!("{due}までにオンライン資格確認の実施機関")),
        "the 15th-of-the-month deadline filled in: {due}"
    );
    assert!(html.contains("https://iryohokenjyoho.service-now.com/csm"));
    assert!(html.contains("レターヘッド内科（医科）"));
    assert!(!html.contains('{'), "no placeholder left unfilled");

    // Answered (the case changes state and gets its 回答日), then printed again: the
    // same number.
    assert_eq!(
        post(&app, &format!("/cases/{id}/answer"), &[])
            .await
            .status(),
        303
    );
    let again = app
        .get(&format!("/cases/{id}/answer"))
        .await
        .text()
        .await
        .unwrap();
    assert!(again.contains(&number), "the 文書番号 is stable");

    // The print script is served under the pages' CSP (script-src 'self').
    let js = app.get("/static/print.js").await;
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("window.print()"));
}

#[tokio::test]
async fn the_return_letter_has_ki_numbered_reasons_and_an_inquiry_number() {
    let app = app().await;
    switch_to(&app, "tanto", "clerk").await;
    // A 千葉 facility: 千葉事務所 has no letterhead of its own, so the bureau's applies.
    let id = enter(
        &app,
        "返戻される医院",
        "千葉県千葉市中央区千葉港1-1",
        "開設準備室",
    )
    .await;
    switch_to(&app, "kessai", "approver").await;
    let r = post(
        &app,
        &format!("/cases/{id}/return"),
        &[(
            "reason",
            "指定希望日の記載がありません\n開設者の氏名の記載がありません",
        )],
    )
    .await;
    assert_eq!(r.status(), 303);
    let case = app.request(id).await;
    let html = app
        .get(&format!("/cases/{id}/return-letter"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<p class=\"ki\">記</p>"), "「記」");
    assert!(
        html.contains(
            "<ol class=\"reasons\"><li>指定希望日の記載がありません</li><li>開設者の氏名の記載がありません</li></ol>"
        ),
        "each reason numbered: {html}"
    );
    assert!(html.contains("以上"));
    assert!(html.contains(&expected_number("関厚発", &case)));
    assert!(html.contains("担当　保険課　電話 048-000-0001"));
    assert!(html.contains(&format!("お問い合わせ番号（受付ID）　{id}")));
    assert!(html.contains("関東信越厚生局長　厚生 一郎"));
    assert!(html.contains("data-print"));
}

#[tokio::test]
async fn bulk_printing_renders_one_answer_and_one_enclosure_per_answerable_case() {
    let app = app().await;
    let ids = approved_cases(&app, &["一括一内科", "一括二内科", "一括三内科"]).await;
    // One more, entered but never approved: no number to answer with.
    switch_to(&app, "tanto", "clerk").await;
    let unapproved = enter(&app, "未決裁の医院", "東京都新宿区西新宿2-8-1", "準備室").await;
    // A viewer may print, as with a single letter.
    switch_to(&app, "etsuran", "viewer").await;
    let csrf = app.csrf("/dashboard").await;
    let mut fields: Vec<(&str, String)> = vec![("csrf", csrf.clone())];
    for id in ids.iter().chain([&unapproved]) {
        fields.push(("ids", id.to_string()));
    }
    fields.push(("ids", ids[0].to_string())); // twice: printed once
    fields.push(("ids", "999999".into()));
    fields.push(("ids", "abc".into()));
    let response = app
        .client
        .post(format!("{}/letters/answers", app.base_url))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert_eq!(count(&html, "class=\"sheet letter\""), 3, "three answers");
    assert_eq!(
        count(&html, "class=\"sheet enclosure\""),
        3,
        "three enclosures"
    );
    for (id, name) in ids.iter().zip(["一括一内科", "一括二内科", "一括三内科"]) {
        let case = app.request(*id).await;
        assert!(html.contains(&expected_number("関厚東発", &case)));
        assert!(html.contains(name));
    }
    assert!(html.contains("次の 3 件は印刷しません"), "{html}");
    assert!(html.contains(&format!(
        "受付ID {unapproved}: 未決裁の医院（医科）: 決裁済みの受付番号がないため"
    )));
    assert!(html.contains("受付ID 999999: 表示できる案件ではありません"));
    assert!(html.contains("受付ID abc: 受付IDが数字ではありません"));
    assert!(
        html.contains("@media print") || html.contains("/static/site.css"),
        "printed with the sheet styles"
    );

    // Without the CSRF token: refused, nothing printed.
    let response = app
        .client
        .post(format!("{}/letters/answers", app.base_url))
        .form(&[("ids", ids[0].to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains(refusal::CSRF));
    assert!(!page.contains("一括一内科"));

    // Nothing chosen: told so.
    let response = app
        .post_form("/letters/answers", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("印刷する案件が選ばれていません")
    );

    // Signed out: to the login page.
    let other = TestApp::client_for(&app);
    let response = other
        .post(format!("{}/letters/answers", app.base_url))
        .form(&[("csrf", csrf.as_str()), ("ids", &ids[0].to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn bulk_printing_never_prints_another_offices_or_another_bureaus_case() {
    let app = app().await;
    let tokyo_ids = approved_cases(&app, &["東京の内科"]).await;
    // A 千葉 case, answerable too.
    switch_to(&app, "tanto", "clerk").await;
    let chiba = enter(&app, "千葉の内科", "千葉県千葉市中央区千葉港1-1", "準備室").await;
    post(
        &app,
        &format!("/cases/{chiba}/propose"),
        &[("district", "1")],
    )
    .await;
    switch_to(&app, "kessai", "approver").await;
    assert_eq!(
        post(&app, &format!("/cases/{chiba}/approve"), &[])
            .await
            .status(),
        303
    );

    // A clerk of 東京事務所 asks for both.
    office_user(&app, "tokyo-tanto", Role::Clerk, "tokyo").await;
    let csrf = app.csrf("/dashboard").await;
    let html = app
        .post_form(
            "/letters/answers",
            &[
                ("csrf", csrf.as_str()),
                ("ids", &tokyo_ids[0].to_string()),
                ("ids", &chiba.to_string()),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count(&html, "class=\"sheet letter\""), 1);
    assert!(html.contains("東京の内科"));
    assert!(
        !html.contains("千葉の内科"),
        "another office's case is never printed"
    );
    assert!(html.contains(&format!(
        "受付ID {chiba}: 表示できる案件ではありません（存在しないか、担当外の案件です）"
    )));

    // Another bureau's staff: neither is printed.
    app.switch_to("kinki-tanto", "clerk", "kinki").await;
    let csrf = app.csrf("/dashboard").await;
    let html = app
        .post_form(
            "/letters/answers",
            &[
                ("csrf", csrf.as_str()),
                ("ids", &tokyo_ids[0].to_string()),
                ("ids", &chiba.to_string()),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count(&html, "class=\"sheet letter\""), 0);
    assert!(!html.contains("東京の内科") && !html.contains("千葉の内科"));
    assert!(html.contains("印刷できる回答書はありません"));
}

#[tokio::test]
async fn the_public_schedule_needs_no_login_matches_the_rules_and_leaks_nothing() {
    let app = app().await;
    // Some data that must not appear.
    approved_cases(&app, &["非公開の内科"]).await;
    let anonymous = TestApp::client_for(&app);
    let response = anonymous
        .get(format!("{}/schedule/{BUREAU}/2027", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no session is started"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains(
            "関東信越厚生局 受付番号情報提供依頼書の提出期限等の日程表 令和9年（2027年）"
        )
    );
    assert!(
        html.contains("指定月の前々月1日（閉庁日の場合は前の開庁日）まで"),
        "the rule"
    );
    assert!(
        html.contains("提出先は、所在地を管轄する事務所です。"),
        "the bureau's note"
    );
    assert!(!html.contains("<a "), "no links at all");
    assert!(!html.contains("非公開の内科") && !html.contains("ログイン") && !html.contains("csrf"));

    let rules = uketsuke::startup::bureau_rules(&app.settings).unwrap();
    let kanto = &rules[BUREAU];
    let rows =
        uketsuke_rules::deadlines::schedule(&kanto.calendar, &kanto.deadlines, 2027).unwrap();
    assert_eq!(count(&html, "<tr><th scope=\"row\">"), 12);
    for d in &rows {
        for date in [
            d.designation,
            d.submission_deadline,
            d.answer_due,
            d.implementing_body_due,
        ] {
            assert!(
                html.contains(&format!(
                    "<time datetime=\"{}\">{}",
                    date.format("%Y-%m-%d"),
                    uketsuke_domain::format_wareki(date)
                )),
                "{date} in 和暦 with 西暦 at hand"
            );
        }
    }

    // The workbook, read back with openpyxl.
    let response = anonymous
        .get(format!("{}/schedule/{BUREAU}/2027.xlsx", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.unwrap();
    let path = std::env::temp_dir().join(format!(
        "uketsuke-schedule-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, json, datetime, openpyxl\n\
             ws = openpyxl.load_workbook(sys.argv[1]).active\n\
             rows = [r for r in ws.iter_rows(values_only=True)]\n\
             head = next(i for i, r in enumerate(rows) if r[0] == '指定日')\n\
             print(json.dumps({'title': rows[0][0], 'header': list(rows[head]),\n\
               'rows': [[v.strftime('%Y-%m-%d') for v in r[:4]] for r in rows[head + 1:] if isinstance(r[0], datetime.datetime)]},\n\
               ensure_ascii=False))",
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
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        read["title"],
        "関東信越厚生局 受付番号情報提供依頼書の提出期限等の日程表 令和9年（2027年）"
    );
    assert_eq!(
        read["header"],
        serde_json::json!([
            "指定日",
            "提出期限（依頼書の提出）",
            "回答書の発送（回答期限）",
            "実施機関への提出期限"
        ])
    );
    let expected: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            [
                d.designation,
                d.submission_deadline,
                d.answer_due,
                d.implementing_body_due,
            ]
            .iter()
            .map(|x| x.format("%Y-%m-%d").to_string())
            .collect()
        })
        .collect();
    assert_eq!(read["rows"], serde_json::json!(expected));

    // An unknown bureau, a year outside the calendar, a year that is not a number.
    for (path, says) in [
        (
            "/schedule/nowhere/2027",
            "指定された地方厚生（支）局の日程表はありません",
        ),
        (
            "/schedule/nowhere/2027.xlsx",
            "指定された地方厚生（支）局の日程表はありません",
        ),
        (
            "/schedule/kanto-shinetsu/2200",
            "2200年の日程表は作成できません（作成できるのは2024年から2099年までです）",
        ),
        (
            "/schedule/kanto-shinetsu/2200.xlsx",
            "2200年の日程表は作成できません",
        ),
        (
            "/schedule/kanto-shinetsu/R9",
            "年は西暦の数字で指定してください",
        ),
        (
            "/schedule/kanto-shinetsu/%3Cscript%3E",
            "年は西暦の数字で指定してください",
        ),
    ] {
        let response = anonymous
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains(says), "{path}: {page}");
        assert!(!page.contains("<script>"), "{path}: nothing reflected");
    }
}

#[tokio::test]
async fn a_misspelt_letterhead_key_or_placeholder_stops_start_up_naming_it() {
    let dir = std::env::temp_dir().join(format!(
        "uketsuke-letters-config-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let source = uketsuke_tests::config_dir();
    std::fs::create_dir_all(dir.join("bureaus")).unwrap();
    std::fs::copy(source.join("default.toml"), dir.join("default.toml")).unwrap();
    let kanto = std::fs::read_to_string(source.join("bureaus/kanto-shinetsu.toml")).unwrap();
    let write = |text: &str| {
        std::fs::write(dir.join("bureaus/kanto-shinetsu.toml"), text).unwrap();
    };
    for (from, to, says) in [
        ("director = ", "directer = ", "directer"),
        (
            "document_number = \"関厚発{year}第{seq}号\"",
            "document_number = \"関厚発{nen}第{seq}号\"",
            "{nen} は使えません",
        ),
        (
            "# [letters.offices.ibaraki]\n# department = \"…\"",
            "[letters.offices.ibaragi]\ndepartment = \"…\"",
            "ibaragi",
        ),
    ] {
        assert!(kanto.contains(from), "{from}");
        write(&kanto.replacen(from, to, 1));
        let error = uketsuke::settings::Settings::load_with_local(&dir, None)
            .map(|_| ())
            .unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains(says), "{says}: {message}");
        assert!(
            message.contains("kanto-shinetsu"),
            "names the file: {message}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
