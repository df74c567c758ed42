//! Entering requests by upload, end to end: the blank form downloads; an upload shows a
//! preview with every problem before anything is saved; confirming saves the file whole,
//! a file with problems only when the clerk chooses its valid requests; a viewer may not.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uketsuke_store::entities::reception_request;
use uketsuke_tests::{TestApp, assert_refused, refusal};

fn form_file(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../crates/ingest/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn upload(app: &TestApp, file_name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let csrf = app.csrf("/requests/upload").await;
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
    );
    app.client
        .post(format!("{}/requests/upload", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The confirm form's action (`/requests/upload/{token}`) in a preview page.
fn confirm_action(html: &str) -> String {
    let marker = "action=\"/requests/upload/";
    let start = html.find(marker).expect("a confirm form") + "action=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn clerk(app: &TestApp) {
    let password = app
        .create_user("uketsuke-tanto", "clerk", "kanto-shinetsu")
        .await;
    app.login("uketsuke-tanto", &password).await;
}

#[tokio::test]
async fn the_blank_form_downloads_as_xlsx_with_a_japanese_file_name() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let response = app.get("/forms/blank.xlsx").await;
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    assert!(response.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test]
async fn an_upload_is_previewed_and_saved_only_when_confirmed() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let response = upload(&app, "form_official.xlsx", form_file("form_official.xlsx")).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("まだ登録していません"));
    assert!(html.contains("オン資クリニック"));
    assert!(
        html.contains("令和6年4月1日"),
        "the designation date in 和暦"
    );
    assert!(html.contains("問題はありません"));
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "nothing saved yet"
    );

    let action = confirm_action(&html);
    let csrf = app.csrf("/requests/upload").await;
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    let response_location = response.headers()["location"].clone();
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("1件を登録しました"), "{html}");
    let saved = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].facility_name, "オン資クリニック");
    assert_eq!(saved[0].kind, uketsuke_domain::RequestKind::Medical);
    // Confirming the same upload again saves nothing more: it shows the one job's result.
    let again = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    assert_eq!(again.status(), 303);
    assert_eq!(
        again.headers()["location"],
        response_location,
        "the same job as the first confirmation"
    );
    assert!(
        app.follow(again)
            .await
            .text()
            .await
            .unwrap()
            .contains("1件を登録しました")
    );
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    // Uploading the file again finds its request present.
    let html = upload(&app, "form_official.xlsx", form_file("form_official.xlsx"))
        .await
        .text()
        .await
        .unwrap();
    let action = confirm_action(&html);
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("重複のため登録しませんでした"), "{html}");
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_broken_file_is_named_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let html = upload(&app, "broken.xlsx", b"PK\x03\x04 not a workbook".to_vec())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("broken.xlsx"),
        "the message names the file: {html}"
    );
    assert!(html.contains("class=\"error\""));
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_viewer_cannot_upload() {
    let app = TestApp::spawn().await;
    let password = app
        .create_user("etsuran-only", "viewer", "kanto-shinetsu")
        .await;
    app.login("etsuran-only", &password).await;
    assert_refused(app.get("/requests/upload").await, &refusal::role("担当")).await;

    // Posting the file anyway is refused for the role, and nothing waits to be confirmed.
    let response = upload(&app, "form_official.xlsx", form_file("form_official.xlsx")).await;
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("「担当」以上の権限")
    );

    // A clerk's upload cannot be confirmed by the viewer either; the clerk still can.
    let clerk_password = app.create_user("tanto", "clerk", "kanto-shinetsu").await;
    let clerk = app.browser_signed_in("tanto", &clerk_password).await;
    let page = clerk
        .get(format!("{}/requests/upload", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf", uketsuke_tests::csrf_of(&page))
        .part(
            "file",
            reqwest::multipart::Part::bytes(form_file("form_official.xlsx"))
                .file_name("form_official.xlsx"),
        );
    let preview = clerk
        .post(format!("{}/requests/upload", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = confirm_action(&preview);
    let viewer_csrf = app.csrf("/dashboard").await;
    let refused = app
        .post_form(&action, &[("csrf", viewer_csrf.as_str()), ("scope", "all")])
        .await;
    assert_refused(refused, &refusal::role("担当")).await;
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    let clerk_csrf = uketsuke_tests::csrf_of(&preview);
    let confirmed = clerk
        .post(format!("{}{action}", app.base_url))
        .form(&[("csrf", clerk_csrf.as_str()), ("scope", "all")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        confirmed.status(),
        303,
        "the clerk is sent to the job's page"
    );
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

fn entry_fields<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("reply_postal_code", "〒１００－８９１６"),
        ("reply_address", "東京都千代田区霞が関１－２－２"),
        ("reply_name", "資格 太郎"),
        ("kind", "dental"),
        ("facility_name", "オン資歯科クリニック"),
        ("facility_postal_code", "１００－８９１６"),
        ("facility_address", "東京都千代田区霞が関1-2-2"),
        ("designation_date", "令和９年４月１日"),
        ("request_date", "R8.11.20"),
        ("founder_kind", "person"),
        ("founder_name", "資格 花子"),
        ("founder_registration", "歯 第123456号"),
        ("contact_phone", "０３－５２５３－１１１１"),
    ];
    for (k, v) in changes {
        if let Some(f) = fields.iter_mut().find(|(name, _)| name == k) {
            f.1 = v;
        }
    }
    fields
}

#[tokio::test]
async fn the_entry_form_shows_each_problem_beside_its_field_and_saves_nothing() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let csrf = app.csrf("/requests/new").await;
    let fields = entry_fields(
        &csrf,
        &[
            ("designation_date", "令和6年2月30日"),
            ("facility_postal_code", "12-34"),
            ("facility_name", ""),
        ],
    );
    let response = app.post_form("/requests/new", &fields).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    for field in ["designation_date", "facility_postal_code", "facility_name"] {
        let marker = format!("id=\"{field}-error\">");
        let start = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no error slot for {field}"))
            + marker.len();
        assert!(
            !html[start..].starts_with("</p>"),
            "{field} has a message beside it"
        );
    }
    assert!(html.contains("名称を入力してください"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("value=\"令和6年2月30日\""),
        "what was typed is kept"
    );
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_entry_form_reads_fullwidth_and_wareki_and_shows_the_case_with_its_deadlines() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form("/requests/new", &entry_fields(&csrf, &[]))
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/cases/"));
    let saved = reception_request::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.kind, uketsuke_domain::RequestKind::Dental);
    assert_eq!(saved.facility_postal_code.as_deref(), Some("100-8916"));
    assert_eq!(saved.contact_phone, "03-5253-1111");
    assert_eq!(saved.designation_date.to_string(), "2027-04-01");
    assert_eq!(
        saved.answer_due.to_string(),
        "2027-02-10",
        "前々月10日 (an open day)"
    );
    let html = app.get(&location).await.text().await.unwrap();
    assert!(html.contains("オン資歯科クリニック"));
    assert!(
        html.contains("令和9年2月10日"),
        "the answer due in 和暦 on the case page"
    );

    // The same facility, kind and date again is a duplicate, named on the form.
    let csrf = app.csrf("/requests/new").await;
    let html = app
        .post_form("/requests/new", &entry_fields(&csrf, &[]))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("重複"));
    assert_eq!(
        reception_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_request_entered_by_form_records_the_office_that_received_it() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let tokyo = uketsuke_store::bureaus::office_id(&app.db, "kanto-shinetsu", "tokyo")
        .await
        .unwrap()
        .unwrap();
    let html = app.get("/requests/new").await.text().await.unwrap();
    assert!(html.contains("東京事務所"), "the office is offered");
    let csrf = app.csrf("/requests/new").await;
    let office = tokyo.to_string();
    let mut fields = entry_fields(&csrf, &[]);
    fields.push(("office_id", office.as_str()));
    assert_eq!(app.post_form("/requests/new", &fields).await.status(), 303);
    let saved = reception_request::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.office_id, Some(tokyo));
}

/// The day the paper arrived, typed in 和暦, is the 受付日 the deadlines are judged on;
/// a bad one is named beside its field; 遡及 marked at intake is judged for return.
#[tokio::test]
async fn the_entry_form_takes_the_day_the_paper_arrived_and_a_retroactive_mark() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", "kanto-shinetsu").await;
    app.login("tanto", "pw-tanto-0123456789").await;
    let post = |received: &'static str, retroactive: &'static str, name: &'static str| {
        let app = &app;
        async move {
            let csrf = app.csrf("/requests/new").await;
            app.post_form(
                "/requests/new",
                &[
                    ("csrf", csrf.as_str()),
                    ("received_on", received),
                    ("retroactive", retroactive),
                    ("kind", "medical"),
                    ("facility_name", name),
                    ("facility_address", "東京都新宿区西新宿2-8-1"),
                    ("designation_date", "令和9年4月1日"),
                    ("founder_kind", "person"),
                    ("founder_name", "厚生 太郎"),
                    ("contact_phone", "03-5321-1111"),
                ],
            )
            .await
        }
    };
    let response = post("令和8年11月2日", "", "受付日医院").await;
    assert_eq!(response.status(), 303);
    let id: i32 = response.headers()["location"].to_str().unwrap()[7..]
        .parse()
        .unwrap();
    let saved = uketsuke_store::entities::reception_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        saved.received_on,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
    );
    assert!(!saved.retroactive);

    let response = post("いつか", "", "受付日誤り医院").await;
    assert_eq!(response.status(), 200, "the form again");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("id=\"received_on-error\">")
            && !html.contains("id=\"received_on-error\"></p>")
    );

    let response = post("", "1", "遡及医院").await;
    assert_eq!(response.status(), 303);
    let id: i32 = response.headers()["location"].to_str().unwrap()[7..]
        .parse()
        .unwrap();
    let saved = uketsuke_store::entities::reception_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(saved.retroactive);
    assert_eq!(saved.decision, uketsuke_store::lifecycle::Decision::Return);
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("遡及"), "the mark is shown on the case");

    // Its return letter does not ask for the request again: 遡及 is never eligible.
    let approver = app
        .create_user("kessai", "approver", "kanto-shinetsu")
        .await;
    let csrf = app.csrf("/dashboard").await;
    app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    app.login("kessai", &approver).await;
    let csrf = app.csrf("/dashboard").await;
    let returned = app
        .post_form(
            &format!("/cases/{id}/return"),
            &[("csrf", csrf.as_str()), ("reason", "遡及指定のため対象外")],
        )
        .await;
    assert_eq!(returned.status(), 303);
    let letter = app
        .get(&format!("/cases/{id}/return-letter"))
        .await
        .text()
        .await
        .unwrap();
    assert!(letter.contains("事前の付番の対象外"), "{letter}");
    assert!(!letter.contains("改めて提出してください"), "{letter}");
}

/// Double clicks and retries save once: the entry form posted twice at once, and one
/// upload confirmed twice at once, each save one request (the database's unique index
/// stops the racing insert; the upload is taken by one confirmation only).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_form_or_an_upload_submitted_twice_at_once_saves_once() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    for round in 0..4 {
        let name = format!("二重送信医院{round}");
        let csrf = app.csrf("/requests/new").await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (client, url, csrf, name, barrier) = (
                    app.client.clone(),
                    format!("{}/requests/new", app.base_url),
                    csrf.clone(),
                    name.clone(),
                    barrier.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    client
                        .post(url)
                        .form(&[
                            ("csrf", csrf.as_str()),
                            ("kind", "medical"),
                            ("facility_name", name.as_str()),
                            ("facility_address", "東京都新宿区西新宿2-8-1"),
                            ("designation_date", "令和9年4月1日"),
                            ("founder_kind", "person"),
                            ("founder_name", "厚生 太郎"),
                            ("contact_phone", "03-5321-1111"),
                        ])
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert!(statuses.contains(&303), "one saves: {statuses:?}");
        let saved = reception_request::Entity::find()
            .filter(reception_request::Column::FacilityName.eq(name.as_str()))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(saved, 1, "round {round}: saved once");
    }

    let before = reception_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let response = upload(&app, "form_official.xlsx", form_file("form_official.xlsx")).await;
    let action = confirm_action(&response.text().await.unwrap());
    let csrf = app.csrf("/requests/upload").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (client, url, csrf, barrier) = (
                app.client.clone(),
                format!("{}{action}", app.base_url),
                csrf.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let response = client
                    .post(url)
                    .form(&[("csrf", csrf.as_str()), ("scope", "all")])
                    .send()
                    .await
                    .unwrap();
                let location = response
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap_or_default().to_owned())
                    .unwrap_or_default();
                (response.status().as_u16(), location)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(
        answers[0].1.starts_with("/requests/upload/jobs/") && answers[0] == answers[1],
        "both confirmations are sent to the one job that saved the file: {answers:?}"
    );
    assert_eq!(answers[0].0, 303);
    let after = reception_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before + 1, "the upload's request is saved once");
}

/// A request entered without an office goes to the office of its facility's prefecture
/// (千葉県 → 千葉事務所); an office may be chosen only among those that cover the
/// facility's prefecture (a 千葉 facility at 東京事務所 is refused, naming 千葉事務所).
#[tokio::test]
async fn the_office_follows_from_the_facility_s_prefecture_unless_one_is_chosen() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let office = |code: &'static str| {
        let db = app.db.clone();
        async move {
            uketsuke_store::bureaus::office_id(&db, "kanto-shinetsu", code)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let csrf = app.csrf("/requests/new").await;
    let mut fields = entry_fields(
        &csrf,
        &[("facility_address", "千葉県千葉市中央区市場町1-1")],
    );
    fields.retain(|(k, _)| *k != "office_id");
    assert_eq!(app.post_form("/requests/new", &fields).await.status(), 303);
    let saved = reception_request::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.office_id, Some(office("chiba").await));

    let csrf = app.csrf("/requests/new").await;
    let tokyo = office("tokyo").await.to_string();
    let mut fields = entry_fields(
        &csrf,
        &[
            ("facility_address", "千葉県船橋市湊町2-10-25"),
            ("facility_name", "船橋の医院"),
        ],
    );
    fields.push(("office_id", tokyo.as_str()));
    let refused = app.post_form("/requests/new", &fields).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("東京事務所の管轄ではありません")
            && page.contains("千葉事務所で受け付けてください"),
        "{page}"
    );
    let chiba = office("chiba").await.to_string();
    let csrf = app.csrf("/requests/new").await;
    let mut fields = entry_fields(
        &csrf,
        &[
            ("facility_address", "千葉県船橋市湊町2-10-25"),
            ("facility_name", "船橋の医院"),
        ],
    );
    fields.retain(|(k, _)| *k != "office_id");
    fields.push(("office_id", chiba.as_str()));
    assert_eq!(app.post_form("/requests/new", &fields).await.status(), 303);
    let chosen = reception_request::Entity::find()
        .filter(reception_request::Column::FacilityName.eq("船橋の医院"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        chosen.office_id,
        Some(office("chiba").await),
        "the office chosen"
    );
}
