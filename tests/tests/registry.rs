//! Reconciliation with the published registries (公表名簿との照合), through the command
//! line, the API and the pages: importing a bureau's 名簿 marks our numbers found in it
//! as confirmed (shown on the case, in the page and the API); the numbers whose
//! 指定年月日 has passed and that the latest list does not hold are listed — candidates
//! for 「8. 未指定」 — within the user's bureau and office only.

use std::process::ExitCode;

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::reception_request;
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

async fn token(
    app: &TestApp,
    username: &str,
    role: &str,
    bureau: &str,
    office: Option<&str>,
) -> String {
    let office_id = match office {
        Some(code) => uketsuke_store::bureaus::office_id(&app.db, bureau, code)
            .await
            .unwrap(),
        None => None,
    };
    let new = uketsuke_store::users::NewUser {
        username: username.into(),
        display_name: format!("{username} さん"),
        password_hash: uketsuke_store::users::hash_password("pw-0123456789-abc"),
        role: uketsuke_store::users::Role::parse(role).unwrap(),
        bureau_id: bureau.into(),
        office_id,
    };
    uketsuke_store::users::create(&app.db, &new, &Actor::system("test"))
        .await
        .unwrap();
    let (token, _) =
        uketsuke_store::tokens::create(&app.db, username, "test", &Actor::system("test"))
            .await
            .unwrap();
    token
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base_url))
        .bearer_auth(token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A case entered, proposed and approved through the API at `address`; its id and code.
async fn issued(
    app: &TestApp,
    clerk: &str,
    approver: &str,
    name: &str,
    address: &str,
) -> (i64, String) {
    let (status, created) = call(
        app,
        reqwest::Method::POST,
        "/api/v1/requests",
        clerk,
        Some(json!({
            "kind": "医科",
            "facility_name": name,
            "facility_address": address,
            "designation_date": "令和9年4月1日",
            "founder_name": "厚生 太郎",
            "contact_phone": "03-5321-1111",
            "reply_address": address,
            "reply_name": "開設準備室",
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, proposed) = call(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{id}/propose"),
        clerk,
        Some(json!({"version": created["version"], "district": "1"})),
    )
    .await;
    assert_eq!(status, 200, "{proposed}");
    let (status, approved) = call(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{id}/approve"),
        approver,
        Some(json!({"version": proposed["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    (id, approved["number"].as_str().unwrap().to_owned())
}

/// Moves a case's 指定年月日 (setting up a designation that has passed).
async fn designated_on(app: &TestApp, id: i64, date: NaiveDate) {
    let row = reception_request::Entity::find_by_id(i32::try_from(id).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: reception_request::ActiveModel = row.into();
    row.designation_date = Set(date);
    row.update(&app.db).await.unwrap();
}

/// A 名簿 of 東京都 医科 dated 令和8年11月1日 holding `codes`.
fn meibo(path: &std::path::Path, codes: &[&str]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(1, 0, "[令和８年１１月１日 現在 ]令和８年１１月２０日作成")
        .unwrap();
    for (col, h) in [
        "項番",
        "都道府県コード",
        "都道府県名",
        "区分",
        "医療機関番号",
        "医療機関名称",
    ]
    .iter()
    .enumerate()
    {
        sheet
            .write_string(3, u16::try_from(col).unwrap(), *h)
            .unwrap();
    }
    for (i, code) in codes.iter().enumerate() {
        let row = u32::try_from(i).unwrap() + 4;
        for (col, text) in [
            (i + 1).to_string(),
            "13".into(),
            "東京都".into(),
            "医科".into(),
            code[3..].to_owned(),
            format!("医院{i}"),
        ]
        .iter()
        .enumerate()
        {
            sheet
                .write_string(row, u16::try_from(col).unwrap(), text)
                .unwrap();
        }
    }
    book.save(path).unwrap();
}

#[tokio::test]
async fn numbers_absent_from_the_latest_list_are_listed_and_those_in_it_are_confirmed() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU, None).await;
    let approver = token(&app, "kessai", "approver", BUREAU, None).await;
    let (listed, listed_code) = issued(
        &app,
        &clerk,
        &approver,
        "掲載医院",
        "東京都新宿区西新宿2-8-1",
    )
    .await;
    let (absent, absent_code) = issued(
        &app,
        &clerk,
        &approver,
        "未掲載医院",
        "東京都新宿区西新宿2-8-2",
    )
    .await;
    let (future, _) = issued(
        &app,
        &clerk,
        &approver,
        "指定前医院",
        "東京都新宿区西新宿2-8-3",
    )
    .await;
    let (uncovered, _) = issued(
        &app,
        &clerk,
        &approver,
        "横浜医院",
        "神奈川県横浜市中区日本大通1",
    )
    .await;
    let past = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    for id in [listed, absent, uncovered] {
        designated_on(&app, id, past).await;
    }
    let _ = future; // 指定年月日 令和9年4月1日: not yet passed.

    // Before any list: nothing can be said.
    let (status, body) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/registry/unconfirmed",
        &clerk,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"], json!([]));

    // The 名簿 of 東京都 医科 holds one of them; imported with the command line.
    let file = std::env::temp_dir().join(format!("meibo-{}.xlsx", uuid::Uuid::new_v4().simple()));
    meibo(&file, &[&listed_code, "1310110049"]);
    let config = app.cli_config(1);
    let code = config
        .run(&["import", "--registry", file.to_str().unwrap()])
        .await
        .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let file_name = file.file_name().unwrap().to_string_lossy().into_owned();

    let (_, body) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/registry/unconfirmed",
        &clerk,
        None,
    )
    .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "only the number absent from the list: {body}"
    );
    assert_eq!(items[0]["request_id"], absent);
    assert_eq!(items[0]["code"], absent_code.as_str());
    assert_eq!(items[0]["case_url"], format!("/api/v1/requests/{absent}"));
    assert_eq!(items[0]["designation_date"], "2026-10-01");
    assert_eq!(items[0]["latest_list_on"], "2026-11-01");
    assert_eq!(items[0]["latest_list_source"], file_name.as_str());
    assert_eq!(items[0]["office"], "東京事務所");
    assert!(items[0]["designation_confirmed_on"].is_null());

    // The case shows its confirmation, with the history entry.
    let (_, case) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/requests/{listed}"),
        &clerk,
        None,
    )
    .await;
    assert_eq!(case["designation_confirmed_on"], "2026-11-01");
    assert_eq!(case["numbers"][0]["designation_confirmed_on"], "2026-11-01");
    assert!(
        case["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "number.designation_confirmed"),
        "{case}"
    );
    let (_, case) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/requests/{absent}"),
        &clerk,
        None,
    )
    .await;
    assert!(case["designation_confirmed_on"].is_null());

    // The page lists the same, linked to the case; the case page shows the date.
    let password = app.create_user("page-tanto", "viewer", BUREAU).await;
    app.login("page-tanto", &password).await;
    let response = app.get("/registry").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(&absent_code), "{html}");
    assert!(
        html.contains(&format!("href=\"/cases/{absent}\"")),
        "{html}"
    );
    assert!(
        !html.contains(&listed_code),
        "the confirmed number is not listed"
    );
    assert!(
        html.contains("令和8年11月1日現在"),
        "the list's date: {html}"
    );
    let html = app
        .get(&format!("/cases/{listed}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("令和8年11月1日現在の名簿に掲載"), "{html}");
    let html = app
        .get(&format!("/cases/{absent}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("未確認"), "{html}");

    // Another office of the bureau, and another bureau, see none of it.
    let chiba = token(&app, "chiba-tanto", "clerk", BUREAU, Some("chiba")).await;
    let (_, body) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/registry/unconfirmed",
        &chiba,
        None,
    )
    .await;
    assert_eq!(body["items"], json!([]));
    let kinki = token(&app, "kinki-tanto", "clerk", "kinki", None).await;
    let (_, body) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/registry/unconfirmed",
        &kinki,
        None,
    )
    .await;
    assert_eq!(body["items"], json!([]));
    // Without a token: 401.
    let response = app
        .client
        .get(format!("{}/api/v1/registry/unconfirmed", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let _ = std::fs::remove_file(&file);
}

/// The same list imported twice at once: one import confirms the number (and audits
/// it), the other finds it already confirmed; nothing is recorded twice.
#[tokio::test]
async fn one_list_imported_twice_at_once_confirms_once() {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    use uketsuke_store::entities::{audit_log, registry_list};
    use uketsuke_store::registry::{NewRegistryEntry, import_list};

    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU, None).await;
    let approver = token(&app, "kessai", "approver", BUREAU, None).await;
    let (_, code) = issued(
        &app,
        &clerk,
        &approver,
        "同時医院",
        "東京都新宿区西新宿2-8-1",
    )
    .await;
    let code = uketsuke_domain::InstitutionCode::parse(&code).unwrap();
    let entries = vec![NewRegistryEntry {
        code: code.clone(),
        name: Some("同時医院".into()),
        address: None,
        municipality: None,
        combined: None,
    }];
    let listed = vec![code];
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let actor = Actor::system("test");
    let (a, b) = tokio::join!(
        import_list(&app.db, "r0811.xlsx", as_of, &entries, &listed, &actor),
        import_list(&app.db, "r0811.xlsx", as_of, &entries, &listed, &actor),
    );
    let (a, b) = (a.unwrap().1, b.unwrap().1);
    assert_eq!(a.confirmed + b.confirmed, 1, "{a:?} {b:?}");
    assert_eq!(a.already_confirmed + b.already_confirmed, 1, "{a:?} {b:?}");
    assert_eq!(
        a.lists + b.lists,
        1,
        "the list is recorded once: {a:?} {b:?}"
    );
    assert_eq!(
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("number.designation_confirmed"))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        registry_list::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}
