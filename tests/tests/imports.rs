//! Large uploads, saved as a background job: a file of many requests is saved whole even
//! when the browser gives up waiting; its page follows the progress and keeps the result
//! to come back to; a job interrupted by a stop saved nothing and can be run again; a
//! file with problems is refused by its job, whose page offers the valid requests only.

use std::time::Duration;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uketsuke_store::entities::import_job::ImportStatus;
use uketsuke_store::entities::{audit_log, import_job, reception_request, upload};
use uketsuke_tests::TestApp;

/// A bureau's monthly list (月ごとの一覧表) of `n` requests, written by an independent
/// writer, in the layout of the ingest tests' `monthly_list.xlsx`; with `bad_rows`, that
/// many rows carry no facility name.
fn monthly_list(n: usize, bad_rows: usize) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("令和8年11月受付").unwrap();
    sheet
        .write_string(0, 0, "受付番号情報提供依頼 受付一覧（令和8年11月）")
        .unwrap();
    let header = [
        "項番",
        "施設名",
        "区分",
        "〒",
        "住所",
        "指定日",
        "提出日",
        "開設者名",
        "保険医登録番号",
        "担当者電話",
        "送付先郵便番号",
        "送付先住所",
        "送付先氏名",
    ];
    for (col, h) in header.iter().enumerate() {
        sheet.write_string(2, col as u16, *h).unwrap();
    }
    let kinds = ["医科", "歯科", "薬局"];
    for i in 0..n {
        let row = 3 + i as u32;
        let name = if i < bad_rows {
            String::new()
        } else {
            format!("取込テスト{}クリニック{i}", kinds[i % 3])
        };
        let values = [
            (i + 1).to_string(),
            name,
            kinds[i % 3].to_owned(),
            "160-0023".to_owned(),
            format!("東京都新宿区西新宿2-8-{}", i % 90 + 1),
            format!("令和9年{}月1日", i % 12 + 1),
            "令和8年11月2日".to_owned(),
            format!("資格 太郎{i}"),
            String::new(),
            "03-5321-1111".to_owned(),
            String::new(),
            String::new(),
            String::new(),
        ];
        for (col, v) in values.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(row, col as u16, v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn clerk(app: &TestApp) {
    let password = app.create_user("torikomi", "clerk", "kanto-shinetsu").await;
    app.login("torikomi", &password).await;
}

/// Uploads `bytes` and returns the preview page.
async fn preview(app: &TestApp, bytes: Vec<u8>) -> String {
    let csrf = app.csrf("/requests/upload").await;
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("ichiran.xlsx"),
    );
    let response = app
        .client
        .post(format!("{}/requests/upload", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn confirm_action(html: &str) -> String {
    let marker = "action=\"/requests/upload/";
    let start = html.find(marker).expect("a confirm form") + "action=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The job pages linked from the upload page's 「最近の取込」, newest first.
async fn recent_jobs(app: &TestApp) -> Vec<String> {
    let html = app.get("/requests/upload").await.text().await.unwrap();
    html.split("href=\"/requests/upload/jobs/")
        .skip(1)
        .map(|s| format!("/requests/upload/jobs/{}", s.split('"').next().unwrap()))
        .collect()
}

/// Polls a job's page until it no longer says it is saving.
async fn finished_page(app: &TestApp, path: &str) -> String {
    for _ in 0..600 {
        let html = app.get(path).await.text().await.unwrap();
        if !html.contains("登録中です") {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job at {path} did not finish in a minute");
}

async fn requests(app: &TestApp) -> u64 {
    reception_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_is_saved_whole_although_the_browser_gave_up() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(1500, 0)).await;
    assert!(html.contains("読み取った依頼（1500件）"), "{html}");
    assert!(
        html.contains("最初の500件を表示しています"),
        "the preview shows a bounded part"
    );
    assert_eq!(html.matches("<tr><td>").count(), 500, "500 rows shown");
    assert!(html.contains("1500件を登録する"));

    // The browser gives up long before the save is done.
    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    let gave_up = app
        .client
        .post(format!("{}{action}", app.base_url))
        .form(&[("csrf", csrf.as_str()), ("scope", "all")])
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(
        gave_up.is_err(),
        "the confirmation outlasts the browser's patience"
    );

    // The clerk comes back later: the job is listed, and saved every request once.
    let jobs = recent_jobs(&app).await;
    assert_eq!(jobs.len(), 1, "one job listed");
    let html = finished_page(&app, &jobs[0]).await;
    assert!(html.contains("1500件を登録しました"), "{html}");
    assert!(
        html.contains("ほか1300件"),
        "200 listed by name, the rest counted"
    );
    assert_eq!(requests(&app).await, 1500);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["facility.create", "request.create"]))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 3000, "each facility and request audited");
    assert_eq!(
        upload::Entity::find().count(&app.db).await.unwrap(),
        0,
        "the upload is dropped with the save"
    );
    let upload_page = app.get("/requests/upload").await.text().await.unwrap();
    assert!(upload_page.contains("最近の取込") && upload_page.contains("登録済"));

    // Confirming it again (a retry after the timeout) saves nothing more.
    let again = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    assert_eq!(again.headers()["location"], jobs[0].as_str());
    assert_eq!(requests(&app).await, 1500);
}

#[tokio::test]
async fn a_file_with_problems_is_refused_by_its_job_which_offers_the_valid_requests() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(5, 2)).await;
    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    // As if the clerk forced the whole file (the preview offers only the valid rows).
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    let html = app.follow(response).await.text().await.unwrap();
    assert!(
        html.contains("問題のあるファイルは登録しませんでした"),
        "{html}"
    );
    assert_eq!(requests(&app).await, 0, "nothing saved");
    assert!(html.contains("問題のない依頼だけを登録する"));

    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "valid")])
        .await;
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("3件を登録しました"), "{html}");
    assert_eq!(requests(&app).await, 3);
}

#[tokio::test]
async fn an_interrupted_job_saved_nothing_and_runs_again_when_confirmed() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(3, 0)).await;
    let action = confirm_action(&html);
    let token = action.rsplit('/').next().unwrap().to_owned();
    let user_id = uketsuke_store::entities::user::Entity::find()
        .filter(uketsuke_store::entities::user::Column::Username.eq("torikomi"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    // A job that a server was running when it was killed: running, its heartbeat stopped
    // two minutes ago, and no process of this server running it.
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::minutes(2);
    let job = import_job::ActiveModel {
        upload_id: Set(token.clone()),
        user_id: Set(user_id),
        bureau_id: Set("kanto-shinetsu".to_owned()),
        file_name: Set("ichiran.xlsx".to_owned()),
        scope: Set(import_job::ImportScope::All),
        received_on: Set(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()),
        total: Set(3),
        status: Set(ImportStatus::Running),
        created: Set(0),
        already_present: Set(0),
        started_at: Set(long_ago),
        heartbeat_at: Set(long_ago),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let page = format!("/requests/upload/jobs/{}", job.id);
    let html = app.get(&page).await.text().await.unwrap();
    assert!(html.contains("中断しました"), "{html}");
    assert!(html.contains("もう一度登録する"));
    assert_eq!(requests(&app).await, 0);

    let csrf = app.csrf("/requests/upload").await;
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    assert_eq!(
        response.headers()["location"],
        page.as_str(),
        "the same job, restarted"
    );
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("3件を登録しました"), "{html}");
    assert_eq!(requests(&app).await, 3);
}

#[tokio::test]
async fn a_job_is_shown_to_its_uploader_only() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(2, 0)).await;
    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    let page = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(app.get(&page).await.status(), 200);

    let other = app
        .create_user("betsu-tanto", "clerk", "kanto-shinetsu")
        .await;
    let client = app.browser_signed_in("betsu-tanto", &other).await;
    let seen = client
        .get(format!("{}{page}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 404, "another clerk's job is not found");
    let listed = client
        .get(format!("{}/requests/upload", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains("/requests/upload/jobs/"), "nor listed");
}

#[tokio::test]
async fn jobs_left_running_by_a_stopped_server_are_marked_failed_at_start_up() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let user_id = uketsuke_store::entities::user::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let now = chrono::Utc::now();
    let stale = now - chrono::TimeDelta::minutes(5);
    for (upload_id, beat) in [("stale", stale), ("fresh", now)] {
        import_job::ActiveModel {
            upload_id: Set(upload_id.to_owned()),
            user_id: Set(user_id),
            bureau_id: Set("kanto-shinetsu".to_owned()),
            file_name: Set("x.xlsx".to_owned()),
            scope: Set(import_job::ImportScope::All),
            received_on: Set(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()),
            total: Set(1),
            status: Set(ImportStatus::Running),
            created: Set(0),
            already_present: Set(0),
            started_at: Set(beat),
            heartbeat_at: Set(beat),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let swept = uketsuke_store::imports::sweep_interrupted(&app.db)
        .await
        .unwrap();
    let status = |id: &'static str| {
        let db = app.db.clone();
        async move {
            import_job::Entity::find()
                .filter(import_job::Column::UploadId.eq(id))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    assert_eq!(status("stale").await, ImportStatus::Failed);
    if app.database.is_postgres() {
        // Several instances may share PostgreSQL: a job that still beats is running.
        assert_eq!(swept, 1);
        assert_eq!(status("fresh").await, ImportStatus::Running);
    } else {
        // One process serves SQLite: at its start, no job of it is running.
        assert_eq!(swept, 2);
        assert_eq!(status("fresh").await, ImportStatus::Failed);
    }
}

#[tokio::test]
async fn an_upload_is_saved_with_the_day_its_paper_arrived_never_a_future_one() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(2, 0)).await;
    assert!(html.contains("受付日（書類が届いた日）"));
    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    let future = app
        .post_form(
            &action,
            &[
                ("csrf", csrf.as_str()),
                ("scope", "all"),
                ("received_on", "令和20年1月1日"),
            ],
        )
        .await;
    assert_eq!(future.status(), 422);
    assert!(future.text().await.unwrap().contains("未来の日付"));
    assert_eq!(requests(&app).await, 0);
    assert!(recent_jobs(&app).await.is_empty(), "no job started");

    let response = app
        .post_form(
            &action,
            &[
                ("csrf", csrf.as_str()),
                ("scope", "all"),
                ("received_on", "令和８年１１月２日"),
            ],
        )
        .await;
    let html = app.follow(response).await.text().await.unwrap();
    assert!(
        html.contains("2件を登録しました") && html.contains("受付日 令和8年11月2日"),
        "{html}"
    );
    let saved = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        saved
            .iter()
            .all(|r| r.received_on == chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()),
        "{saved:?}"
    );
    assert_eq!(saved.len(), 2);
}

/// 遡及指定 marked on the preview, row by row: only the marked requests are saved as
/// 遡及 (返戻相当, with the reason), and the case list shows them so.
#[tokio::test]
async fn requests_marked_retroactive_on_the_preview_are_saved_as_such() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(4, 0)).await;
    for index in 0..4 {
        assert!(
            html.contains(&format!("name=\"retro_{index}\"")),
            "each row can be marked 遡及"
        );
    }
    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    let response = app
        .post_form(
            &action,
            &[
                ("csrf", csrf.as_str()),
                ("scope", "all"),
                ("retro_1", "1"),
                ("retro_3", "1"),
                ("retro_99", "1"),
            ],
        )
        .await;
    let html = app.follow(response).await.text().await.unwrap();
    let html = if html.contains("登録中です") {
        let path = response_path(&app).await;
        finished_page(&app, &path).await
    } else {
        html
    };
    assert!(html.contains("4件"), "{html}");
    let saved = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(saved.len(), 4);
    for r in &saved {
        let marked = r.facility_name.ends_with('1') || r.facility_name.ends_with('3');
        assert_eq!(r.retroactive, marked, "{}", r.facility_name);
        if marked {
            assert_eq!(r.decision, uketsuke_store::lifecycle::Decision::Return);
            assert!(r.reasons.to_string().contains("遡及"), "{}", r.reasons);
        }
    }
    let list = app.get("/cases").await.text().await.unwrap();
    assert_eq!(
        list.matches("<span class=\"tag warn\">遡及</span>").count(),
        2
    );
}

async fn response_path(app: &TestApp) -> String {
    recent_jobs(app).await.remove(0)
}

/// A row of an upload opens in the entry form: a valid one as read, one with problems
/// as typed with each problem beside its field; fixed and saved there, the file's own
/// save then skips it as already recorded.
#[tokio::test]
async fn a_row_of_an_upload_opens_in_the_entry_form_to_fix_it() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = preview(&app, monthly_list(3, 1)).await;
    let action = confirm_action(&html);
    let token = action.rsplit('/').next().unwrap().to_owned();
    // The valid rows open as read.
    assert!(html.contains(&format!("/requests/upload/{token}/rows/0")));
    let form = app
        .get(&format!("/requests/upload/{token}/rows/0"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("value=\"取込テスト歯科クリニック1\""),
        "{form}"
    );
    assert!(
        form.contains("4行目を開きました") || form.contains("5行目を開きました"),
        "{form}"
    );
    // The row without a name opens as typed, its problem beside the field.
    let link = format!("/requests/upload/{token}/rejected/0");
    assert!(html.contains(&link), "{html}");
    let form = app.get(&link).await.text().await.unwrap();
    assert!(form.contains("（問題のあった行）を開きました"), "{form}");
    assert!(form.contains("名称を入力してください"), "{form}");
    assert!(form.contains("value=\"東京都新宿区西新宿2-8-1\""), "{form}");
    assert!(
        form.contains("value=\"medical\" checked"),
        "the kind as typed: {form}"
    );
    // Fixed and saved from the form.
    let csrf = uketsuke_tests::csrf_of(&form);
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "medical"),
                ("facility_name", "取込テスト医科クリニック0"),
                ("facility_address", "東京都新宿区西新宿2-8-1"),
                ("designation_date", "令和9年1月1日"),
                ("founder_kind", "person"),
                ("founder_name", "資格 太郎0"),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(requests(&app).await, 1);
    // Another clerk cannot open the rows.
    let csrf = app.csrf("/dashboard").await;
    app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    let password = app
        .create_user("torikomi2", "clerk", "kanto-shinetsu")
        .await;
    app.login("torikomi2", &password).await;
    assert_eq!(app.get(&link).await.status(), 404);
    assert_eq!(
        app.get(&format!("/requests/upload/{token}/rows/0"))
            .await
            .status(),
        404
    );
}

/// An imported request whose facility matches an open request of the other kind (here:
/// the same address) is offered as its 併設 pair on the job's page.
#[tokio::test]
async fn the_job_page_offers_the_pair_of_an_imported_request() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "dental"),
                ("facility_name", "取込テスト歯科"),
                ("facility_address", "東京都新宿区西新宿2-8-1"),
                ("designation_date", "令和9年1月1日"),
                ("founder_kind", "person"),
                ("founder_name", "別の 開設者"),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    let dental: i32 = response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap();
    let html = preview(&app, monthly_list(2, 0)).await;
    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    let path = response.headers()["location"].to_str().unwrap().to_owned();
    let html = finished_page(&app, &path).await;
    assert!(
        html.contains("1件に、医科・歯科併設の相手と思われる依頼があります"),
        "{html}"
    );
    assert!(
        html.contains(&format!("併設の候補（受付ID {dental}）")),
        "{html}"
    );
}
