//! The JSON API (`/api/v1`) as a second door onto the same lifecycle: a case driven from
//! entry to designation with bearer tokens, every endpoint refusing without a token,
//! with a revoked one and across bureaus and offices, conflicts and bad input answered
//! plainly, and an OpenAPI 3.1 document that names every endpoint.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Barrier;
use uketsuke_store::audit::Actor;
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

async fn token(app: &TestApp, username: &str, role: &str, bureau: &str) -> String {
    if uketsuke_store::users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .is_none()
    {
        app.create_user(username, role, bureau).await;
    }
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
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base_url));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, Some(token), None).await
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    call(app, reqwest::Method::POST, path, Some(token), Some(body)).await
}

fn new_request(name: &str) -> Value {
    json!({
        "kind": "医科",
        "facility_name": name,
        "facility_postal_code": "１６０－００２３",
        "facility_address": "東京都新宿区西新宿2-8-1",
        "designation_date": "令和9年4月1日",
        "request_date": "2026-11-20",
        "founder_name": "厚生 太郎",
        "contact_phone": "０３－５３２１－１１１１",
        "reply_address": "東京都新宿区西新宿2-8-1",
        "reply_name": "開設準備室",
        "received_on": "R8.11.25",
    })
}

#[tokio::test]
async fn a_case_goes_from_entry_to_designation_through_the_api() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU).await;
    let approver = token(&app, "kessai", "approver", BUREAU).await;

    let (status, created) = post(&app, "/api/v1/requests", &clerk, new_request("API内科")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "received");
    assert_eq!(created["kind"], "medical");
    assert_eq!(created["designation_date"], "2027-04-01");
    assert_eq!(created["received_on"], "2026-11-25", "受付日 as given");
    assert_eq!(created["facility"]["prefecture"], "13");
    assert_eq!(created["facility"]["postal_code"], "160-0023");
    assert_eq!(created["deadlines"]["implementing_body_due"], "2027-02-15");
    assert_eq!(created["verdict"]["decision"], "accept");
    assert!(created["number"].is_null());
    assert_eq!(created["history"][0]["action"], "request.create");
    assert!(
        created["history"][0]["actor"]
            .as_str()
            .unwrap()
            .contains("API: test"),
        "the audit trail names the token: {}",
        created["history"][0]
    );

    let v = created["version"].clone();
    let (status, proposed) = post(
        &app,
        &format!("/api/v1/requests/{id}/propose"),
        &clerk,
        json!({"version": v, "district": "０１"}),
    )
    .await;
    assert_eq!(status, 200, "{proposed}");
    assert_eq!(proposed["status"], "proposed");
    let code = proposed["number"].as_str().unwrap().to_owned();
    assert!(code.starts_with("13101"), "{code}");

    let (status, issued) = post(
        &app,
        &format!("/api/v1/requests/{id}/approve"),
        &approver,
        json!({"version": proposed["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["status"], "issued");
    assert_eq!(issued["numbers"][0]["status"], "approved");

    let (status, answered) = post(
        &app,
        &format!("/api/v1/requests/{id}/answer"),
        &clerk,
        json!({"version": issued["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["status"], "answered");

    let (status, session) = post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": "令和9年2月20日", "request_ids": [id]}),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["approved"], json!([id]));
    let session_id = session["id"].as_i64().unwrap();
    let (status, read) = get(
        &app,
        &format!("/api/v1/council-sessions/{session_id}"),
        &clerk,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["name"], "東京地方社会保険医療協議会");

    let (status, case) = get(&app, &format!("/api/v1/requests/{id}"), &clerk).await;
    assert_eq!(status, 200);
    assert_eq!(case["status"], "designated");
    assert_eq!(case["council_session_id"], session_id);
    assert_eq!(case["designated_on"], "2027-04-01");

    let xlsx = app
        .client
        .get(format!(
            "{}/api/v1/council-sessions/{session_id}/list.xlsx",
            app.base_url
        ))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx (zip) file");
    let path = std::env::temp_dir().join(format!("api-list-{session_id}-{}.xlsx", uuid()));
    std::fs::write(&path, &bytes).unwrap();
    let read_back = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).active\nprint('\\n'.join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&read_back.stdout);
    assert!(
        text.contains("API内科"),
        "openpyxl reads the facility: {text}"
    );
    assert!(text.contains(&code), "and its number");

    let (status, list) = get(&app, "/api/v1/requests?status=designated", &clerk).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["capped"], false);
    let (_, by_name) = get(&app, "/api/v1/requests?name=ＡＰＩ", &clerk).await;
    assert_eq!(
        by_name["total"], 1,
        "the name search folds width: {by_name}"
    );
    let (_, other) = get(&app, "/api/v1/requests?status=received", &clerk).await;
    assert_eq!(other["total"], 0);
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["items"][0]["number"], code.as_str());
    let (status, deliveries) = get(&app, "/api/v1/deliveries", &clerk).await;
    assert_eq!(status, 200);
    assert!(deliveries.is_array());
}

fn uuid() -> String {
    format!("{}", std::process::id())
        + &chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or(0)
            .to_string()
}

#[tokio::test]
async fn bad_input_stale_versions_roles_and_statuses_are_answered_plainly() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU).await;
    let viewer = token(&app, "etsuran", "viewer", BUREAU).await;

    let (status, body) = post(
        &app,
        "/api/v1/requests",
        &clerk,
        json!({"kind": "眼科", "facility_name": "", "designation_date": "いつか", "contact_phone": "03"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["kind", "facility_name", "designation_date", "founder_name"] {
        assert!(fields.contains(&f), "{f} is named: {body}");
    }

    let (status, body) = get(&app, "/api/v1/requests?month=いつか&due_within=x", &clerk).await;
    assert_eq!(status, 422, "{body}");
    let named: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        named.contains(&"month") && named.contains(&"due_within"),
        "{body}"
    );

    let (status, body) = post(&app, "/api/v1/requests", &viewer, new_request("閲覧医院")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("担当"));

    let (_, created) = post(&app, "/api/v1/requests", &clerk, new_request("版数医院")).await;
    let id = created["id"].as_i64().unwrap();
    let v = created["version"].as_i64().unwrap();
    let (status, again) = post(&app, "/api/v1/requests", &clerk, new_request("版数医院")).await;
    assert_eq!(status, 409, "the same request twice: {again}");

    let path = format!("/api/v1/requests/{id}/propose");
    let (status, body) = post(&app, &path, &clerk, json!({"district": "1"})).await;
    assert_eq!(status, 422, "the version is required: {body}");
    assert_eq!(body["error"]["fields"][0]["field"], "version");
    let (status, _) = post(&app, &path, &clerk, json!({"version": v, "district": "1"})).await;
    assert_eq!(status, 200);
    let (status, body) = post(&app, &path, &clerk, json!({"version": v, "district": "1"})).await;
    assert_eq!(status, 409, "a stale version: {body}");
    assert_eq!(
        body["error"]["message"],
        "他の職員が先に処理しました。最新の内容を確認してください"
    );
    let (status, body) = post(
        &app,
        &format!("/api/v1/requests/{id}/answer"),
        &clerk,
        json!({"version": v + 1}),
    )
    .await;
    assert_eq!(status, 422, "not allowed from 番号起案中: {body}");
    let (status, body) = post(
        &app,
        &format!("/api/v1/requests/{id}/approve"),
        &clerk,
        json!({"version": v + 1}),
    )
    .await;
    assert_eq!(status, 403, "a clerk cannot approve: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("「決裁」以上の権限が必要です"),
        "{body}"
    );
    let (status, _) = post(
        &app,
        &format!("/api/v1/requests/{id}/designate"),
        &clerk,
        json!({"version": v + 1}),
    )
    .await;
    assert_eq!(
        status, 404,
        "designation is recorded through council sessions"
    );
}

#[tokio::test]
async fn every_endpoint_refuses_without_a_token_with_a_revoked_one_and_across_bureaus() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU).await;
    let (_, created) = post(&app, "/api/v1/requests", &clerk, new_request("境界医院")).await;
    let id = created["id"].as_i64().unwrap();
    let approver = token(&app, "kessai", "approver", BUREAU).await;
    let (_, session) = post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": "2027-02-20"}),
    )
    .await;
    let session_id = session["id"].as_i64().unwrap();

    let endpoints: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, "/api/v1/requests".into(), None),
        (
            reqwest::Method::POST,
            "/api/v1/requests".into(),
            Some(new_request("x")),
        ),
        (reqwest::Method::GET, format!("/api/v1/requests/{id}"), None),
        (
            reqwest::Method::POST,
            format!("/api/v1/requests/{id}/propose"),
            Some(json!({"version": 0, "district": "1"})),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/council-sessions".into(),
            Some(json!({"prefecture": "13", "held_on": "2027-02-20"})),
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/council-sessions/{session_id}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/council-sessions/{session_id}/list.xlsx"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/council-sessions/{session_id}/approvals"),
            Some(json!({"approvals": [{"request_id": id}]})),
        ),
        (reqwest::Method::GET, "/api/v1/deliveries".into(), None),
    ];
    // Revoked: the clerk's second token.
    let (revoked, row) =
        uketsuke_store::tokens::create(&app.db, "tanto", "old", &Actor::system("test"))
            .await
            .unwrap();
    uketsuke_store::tokens::revoke(&app.db, row.id, &Actor::system("test"))
        .await
        .unwrap();
    for (method, path, body) in &endpoints {
        for bad in [None, Some("uk_not-a-token"), Some(revoked.as_str())] {
            let (status, answer) = call(&app, method.clone(), path, bad, body.clone()).await;
            assert_eq!(status, 401, "{method} {path} with {bad:?}: {answer}");
            assert!(answer["error"]["message"].is_string());
        }
        // A session cookie is no API credential either.
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.base_url))
            .header("cookie", "uketsuke_session=whatever")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path} with a cookie");
    }

    // Another bureau sees none of it: 404 for the case and the session.
    let kinki = token(&app, "kinki-kessai", "approver", "kinki").await;
    for path in [
        format!("/api/v1/requests/{id}"),
        format!("/api/v1/council-sessions/{session_id}"),
        format!("/api/v1/council-sessions/{session_id}/list.xlsx"),
    ] {
        let (status, _) = get(&app, &path, &kinki).await;
        assert_eq!(status, 404, "{path} from 近畿");
    }
    let (status, body) = post(
        &app,
        &format!("/api/v1/requests/{id}/propose"),
        &kinki,
        json!({"version": 0, "district": "1"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let approvals = format!("/api/v1/council-sessions/{session_id}/approvals");
    let (status, body) = post(
        &app,
        &approvals,
        &kinki,
        json!({"approvals": [{"request_id": id}]}),
    )
    .await;
    assert_eq!(status, 404, "another bureau's session: {body}");
    // A clerk does not record 答申; a date that cannot be read refuses the whole body.
    let (status, body) = post(
        &app,
        &approvals,
        &clerk,
        json!({"approvals": [{"request_id": id}]}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(
        &app,
        &approvals,
        &approver,
        json!({"approvals": [{"request_id": id, "designation_date": "いつか"}]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["field"],
        "approvals[0].designation_date"
    );
    let (_, session) = get(
        &app,
        &format!("/api/v1/council-sessions/{session_id}"),
        &approver,
    )
    .await;
    assert_eq!(session["approved"], json!([]), "nothing written");
    let (_, list) = get(&app, "/api/v1/requests", &kinki).await;
    assert_eq!(list["total"], 0, "近畿's list is empty");
    let (status, body) = post(
        &app,
        "/api/v1/council-sessions",
        &kinki,
        json!({"prefecture": "13", "held_on": "2027-02-20", "request_ids": [id]}),
    )
    .await;
    assert_eq!(status, 422, "東京 is not 近畿's: {body}");

    // An account limited to another office of the same bureau: 404 as well.
    let other_office = uketsuke_store::bureaus::office_id(&app.db, BUREAU, "chiba")
        .await
        .unwrap()
        .expect("関東信越 has a 千葉 office");
    let case_office = created["office_id"].as_i64();
    assert_ne!(case_office, Some(i64::from(other_office)));
    let chiba = uketsuke_store::users::NewUser {
        username: "chiba-tanto".into(),
        display_name: "千葉 担当".into(),
        password_hash: uketsuke_store::users::find_by_username(&app.db, "tanto")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        role: uketsuke_store::users::Role::Approver,
        bureau_id: BUREAU.into(),
        office_id: Some(other_office),
    };
    uketsuke_store::users::create(&app.db, &chiba, &Actor::system("test"))
        .await
        .unwrap();
    let chiba = token(&app, "chiba-tanto", "approver", BUREAU).await;
    let (status, _) = get(&app, &format!("/api/v1/requests/{id}"), &chiba).await;
    assert_eq!(status, 404, "another office's case");
    let (status, _) = post(
        &app,
        &format!("/api/v1/requests/{id}/withdraw"),
        &chiba,
        json!({"version": created["version"]}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_approvals_of_one_version_through_the_api_one_wins() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU).await;
    let approvers = [
        token(&app, "kessai-a", "approver", BUREAU).await,
        token(&app, "kessai-b", "approver", BUREAU).await,
    ];
    for round in 0..5 {
        let (_, created) = post(
            &app,
            "/api/v1/requests",
            &clerk,
            new_request(&format!("同時決裁医院{round}")),
        )
        .await;
        let id = created["id"].as_i64().unwrap();
        let (_, proposed) = post(
            &app,
            &format!("/api/v1/requests/{id}/propose"),
            &clerk,
            json!({"version": created["version"], "district": "1"}),
        )
        .await;
        let barrier = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = approvers
            .iter()
            .map(|t| {
                let (client, url, t, barrier) = (
                    app.client.clone(),
                    format!("{}/api/v1/requests/{id}/approve", app.base_url),
                    t.clone(),
                    barrier.clone(),
                );
                let body = json!({"version": proposed["version"]});
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = client
                        .post(url)
                        .bearer_auth(t)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    r.status().as_u16()
                })
            })
            .collect();
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "round {round}");
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_names_every_endpoint_and_schema() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/requests", "get"),
        ("/api/v1/requests", "post"),
        ("/api/v1/requests/{id}", "get"),
        ("/api/v1/requests/{id}/{action}", "post"),
        ("/api/v1/council-sessions", "post"),
        ("/api/v1/council-sessions/{id}", "get"),
        ("/api/v1/council-sessions/{id}/approvals", "post"),
        ("/api/v1/council-sessions/{id}/lists/{seq}", "get"),
        ("/api/v1/council-sessions/{id}/list.xlsx", "get"),
        ("/api/v1/deliveries", "get"),
        ("/api/v1/registry/unconfirmed", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Case",
        "NewRequest",
        "ActionBody",
        "CaseList",
        "Session",
        "NewSession",
        "NewApprovals",
        "ApprovalInput",
        "ApprovalResult",
        "Delivery",
        "ErrorBody",
        "UnconfirmedList",
        "UnconfirmedNumber",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema}");
    }
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // Valid by an independent validator (Python's openapi-spec-validator).
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))\nprint('valid')",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test installs openapi-spec-validator)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "valid",
        "openapi-spec-validator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_retroactive_request_is_recorded_and_judged_for_return() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU).await;
    let mut body = new_request("遡及希望医院");
    body["retroactive"] = json!(true);
    let (status, created) = post(&app, "/api/v1/requests", &clerk, body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["verdict"]["decision"], "return");
    let reasons = created["verdict"]["reasons"].to_string();
    assert!(reasons.contains("遡及"), "{reasons}");
}

/// A bureau never handles another bureau's prefecture, and a council session records
/// only its own prefecture's facilities.
#[tokio::test]
async fn jurisdiction_is_checked_at_entry_and_at_the_council() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", "clerk", BUREAU).await;
    let approver = token(&app, "kessai", "approver", BUREAU).await;

    let mut osaka = new_request("大阪の医院");
    osaka["facility_address"] = json!("大阪府大阪市中央区大手前1-1");
    let (status, body) = post(&app, "/api/v1/requests", &clerk, osaka).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "facility_address");
    let message = body["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("大阪府") && message.contains("管轄ではありません"),
        "{message}"
    );

    // A 神奈川 facility (関東信越's) answered, then offered to a 東京 session.
    let mut kanagawa = new_request("横浜の医院");
    kanagawa["facility_address"] = json!("神奈川県横浜市中区日本大通1");
    let (status, created) = post(&app, "/api/v1/requests", &clerk, kanagawa).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, proposed) = post(
        &app,
        &format!("/api/v1/requests/{id}/propose"),
        &clerk,
        json!({"version": created["version"], "district": "1"}),
    )
    .await;
    let (status, issued) = post(
        &app,
        &format!("/api/v1/requests/{id}/approve"),
        &approver,
        json!({"version": proposed["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let (status, session) = post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": "2027-02-20", "request_ids": [id]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(session["approved"], json!([]));
    assert_eq!(session["refused"][0]["id"], id);
    assert!(
        session["refused"][0]["message"]
            .as_str()
            .unwrap()
            .contains("東京都の地医協では、神奈川県の医療機関")
    );
    let (_, case) = get(&app, &format!("/api/v1/requests/{id}"), &clerk).await;
    assert_eq!(case["status"], "issued", "not designated");
    // Its own prefecture's session records it.
    let (_, session) = post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "14", "held_on": "2027-02-20", "request_ids": [id]}),
    )
    .await;
    assert_eq!(session["approved"], json!([id]));
}

/// Two approvers record the same council session at once: one session, both told its
/// id; a token revoked twice at once is revoked once (the second is told).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_recorded_twice_and_a_token_revoked_twice_at_once_happen_once() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let approvers = [
        token(&app, "kessai-a", "approver", BUREAU).await,
        token(&app, "kessai-b", "approver", BUREAU).await,
    ];
    for round in 0..4 {
        let held_on = format!("2027-03-{:02}", round + 1);
        let barrier = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = approvers
            .iter()
            .map(|t| {
                let (client, url, t, barrier) = (
                    app.client.clone(),
                    format!("{}/api/v1/council-sessions", app.base_url),
                    t.clone(),
                    barrier.clone(),
                );
                let body = json!({"prefecture": "13", "held_on": held_on});
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = client
                        .post(url)
                        .bearer_auth(t)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().await.unwrap())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
        assert_eq!(answers[0].1["id"], answers[1].1["id"], "one session");
    }
    let sessions = uketsuke_store::entities::council_session::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 4);

    let (_, row) = uketsuke_store::tokens::create(&app.db, "kessai-a", "x", &Actor::system("test"))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (db, barrier) = (app.db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                uketsuke_store::tokens::revoke(&db, row.id, &Actor::system("test"))
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap());
    }
    assert_eq!(ok, 1, "revoked once");
}
