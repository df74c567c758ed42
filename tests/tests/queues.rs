//! Work queues and bulk work (issue #14): the dashboard's queue tiles link to filtered
//! lists whose lengths equal the counts; the list's checkboxes drive bulk 決裁, bulk
//! 回答済 and a bulk download — every case through its own guarded change, reported
//! per case on a result page (成功 / 他の職員が先に処理 / 権限なし / 状態が違う /
//! 見つかりません); ten approvals are one page and three requests.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uketsuke_store::entities::{audit_log, reception_request};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_tests::{TestApp, assert_refused, refusal};

const BUREAU: &str = "kanto-shinetsu";

/// Enters a 医科 request named `name` through the form; returns its id.
async fn enter(app: &TestApp, name: &str) -> i32 {
    app.enter_request(&[("facility_name", name)]).await
}

/// `n` requests entered and proposed by the clerk `tanto`.
async fn proposed(app: &TestApp, prefix: &str, n: usize) -> Vec<i32> {
    app.switch_to("tanto", "clerk", BUREAU).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let id = enter(app, &format!("{prefix}クリニック{i}")).await;
        let response = app
            .post_signed(&format!("/cases/{id}/propose"), &[("district", "04")])
            .await;
        assert_eq!(response.status(), 303, "proposal of {id}");
        ids.push(id);
    }
    ids
}

/// The `<input>` elements of `html` as (type, name, value, checked).
fn inputs(html: &str) -> Vec<(String, String, String, bool)> {
    let attr = |tag: &str, name: &str| -> String {
        let marker = format!(" {name}=\"");
        tag.find(&marker)
            .map(|i| &tag[i + marker.len()..])
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .replace("&amp;", "&")
            .replace("&#x3d;", "=")
            .replace("&#61;", "=")
    };
    html.split("<input")
        .skip(1)
        .map(|rest| {
            let tag = rest.split('>').next().unwrap_or_default();
            (
                attr(tag, "type"),
                attr(tag, "name"),
                attr(tag, "value"),
                tag.contains(" checked"),
            )
        })
        .collect()
}

/// What the list's bulk form sends: the checked boxes and every hidden field, as a
/// browser would, with `action`.
fn bulk_fields(list_html: &str, action: &str) -> Vec<(String, String)> {
    let form = &list_html[list_html
        .find("id=\"bulk-form\"")
        .expect("the list has the bulk form")..];
    let form = &form[..form.find("</form>").unwrap()];
    let mut fields: Vec<(String, String)> = inputs(form)
        .into_iter()
        .filter(|(t, _, _, checked)| t == "hidden" || (t == "checkbox" && *checked))
        .map(|(_, n, v, _)| (n, v))
        .collect();
    fields.push(("action".to_owned(), action.to_owned()));
    fields
}

/// The hidden fields of the confirmation page's form.
fn confirm_fields(html: &str) -> Vec<(String, String)> {
    let form = &html[html
        .find("<form method=\"post\" action=\"/cases/bulk\"")
        .unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    inputs(form)
        .into_iter()
        .filter(|(t, ..)| t == "hidden")
        .map(|(_, n, v, _)| (n, v))
        .collect()
}

async fn post_fields(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    client
        .post(format!("{}{path}", app.base_url))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn get_text(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let response = client
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// The outcome id of case `id` on a result page.
fn outcome(html: &str, id: i32) -> String {
    let marker = format!("data-id=\"{id}\" data-outcome=\"");
    html.find(&marker)
        .map(|i| &html[i + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("case {id} on the result page: {html}"))
        .to_owned()
}

async fn status(app: &TestApp, id: i32) -> CaseStatus {
    app.request(id).await.status
}

/// How many times case `id` was approved (its audit entries).
async fn approvals(app: &TestApp, id: i32) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("reception_request"))
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .filter(audit_log::Column::Action.eq("request.approve"))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn ten_approvals_take_the_queue_page_and_three_requests() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "十件", 10).await;
    app.switch_to("kessai", "approver", BUREAU).await;

    // 1: the 決裁待ち queue, every row checked (「このページの案件をすべて選択」).
    let list = get_text(&app.client, &app, "/cases?queue=approval&select=all").await;
    assert!(list.contains("<h1>決裁待ち"), "{list}");
    assert!(list.contains("10 件"), "{list}");
    let fields = bulk_fields(&list, "approve");
    assert_eq!(fields.iter().filter(|(n, _)| n == "ids").count(), 10);

    // 2: 決裁する → the confirmation, nothing changed yet.
    let confirm = post_fields(&app.client, &app, "/cases/bulk", &fields).await;
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains("10 件について「決裁」を確定"), "{confirm}");
    assert!(confirm.contains("まだ処理していません"));
    for id in &ids {
        assert_eq!(status(&app, *id).await, CaseStatus::Proposed);
    }

    // 3: 確定 → every case approved, each reported.
    let result = post_fields(&app.client, &app, "/cases/bulk", &confirm_fields(&confirm)).await;
    assert_eq!(result.status(), 200);
    let result = result.text().await.unwrap();
    assert!(
        result.contains("10 件のうち 10 件を処理しました"),
        "{result}"
    );
    for id in &ids {
        assert_eq!(outcome(&result, *id), "done");
        assert_eq!(status(&app, *id).await, CaseStatus::Issued);
        assert_eq!(approvals(&app, *id).await, 1);
    }
    // The queue is empty now, and the 回答待ち queue holds the ten.
    let list = get_text(&app.client, &app, "/cases?queue=approval").await;
    assert!(list.contains("条件に合う案件はありません"), "{list}");
    let list = get_text(&app.client, &app, "/cases?queue=answer").await;
    assert!(list.contains("10 件"), "{list}");
}

#[tokio::test]
async fn a_case_changed_by_someone_else_in_between_is_reported_and_the_others_succeed() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "途中変更", 3).await;
    app.switch_to("kessai", "approver", BUREAU).await;
    let list = get_text(&app.client, &app, "/cases?queue=approval&select=all").await;
    let confirm = post_fields(
        &app.client,
        &app,
        "/cases/bulk",
        &bulk_fields(&list, "approve"),
    )
    .await
    .text()
    .await
    .unwrap();

    // Meanwhile another approver approves the second case on its page.
    let password = app.create_user("kessai2", "approver", BUREAU).await;
    let other = app.browser_signed_in("kessai2", &password).await;
    let page = get_text(&other, &app, &format!("/cases/{}", ids[1])).await;
    let csrf = uketsuke_tests::csrf_of(&page);
    let version = app.request(ids[1]).await.lock_version.to_string();
    let done = post_fields(
        &other,
        &app,
        &format!("/cases/{}/approve", ids[1]),
        &[("csrf".into(), csrf), ("version".into(), version)],
    )
    .await;
    assert_eq!(done.status(), 303);

    let result = post_fields(&app.client, &app, "/cases/bulk", &confirm_fields(&confirm))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(outcome(&result, ids[0]), "done");
    assert_eq!(outcome(&result, ids[1]), "conflict");
    assert_eq!(outcome(&result, ids[2]), "done");
    assert!(result.contains("他の職員が先に処理"), "{result}");
    assert!(result.contains("3 件のうち 2 件を処理しました"), "{result}");
    for id in &ids {
        assert_eq!(status(&app, *id).await, CaseStatus::Issued);
        assert_eq!(approvals(&app, *id).await, 1, "case {id} approved once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bulk_approval_fired_by_two_approvers_at_once_approves_each_case_once() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "同時", 6).await;
    let mut confirmations = Vec::new();
    let mut clients = Vec::new();
    for name in ["kessai-a", "kessai-b"] {
        let password = app.create_user(name, "approver", BUREAU).await;
        let client = app.browser_signed_in(name, &password).await;
        let list = get_text(&client, &app, "/cases?queue=approval&select=all").await;
        let confirm = post_fields(&client, &app, "/cases/bulk", &bulk_fields(&list, "approve"))
            .await
            .text()
            .await
            .unwrap();
        confirmations.push(confirm_fields(&confirm));
        clients.push(client);
    }
    let url = format!("{}/cases/bulk", app.base_url);
    let tasks: Vec<_> = clients
        .into_iter()
        .zip(confirmations)
        .map(|(client, fields)| {
            let url = url.clone();
            tokio::spawn(async move {
                let response = client.post(url).form(&fields).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.text().await.unwrap()
            })
        })
        .collect();
    let mut pages = Vec::new();
    for t in tasks {
        pages.push(t.await.unwrap());
    }
    for id in &ids {
        let outcomes: Vec<String> = pages.iter().map(|p| outcome(p, *id)).collect();
        assert_eq!(
            outcomes.iter().filter(|o| *o == "done").count(),
            1,
            "case {id}: exactly one approver wins ({outcomes:?})"
        );
        assert_eq!(
            outcomes.iter().filter(|o| *o == "conflict").count(),
            1,
            "case {id}: the other is told ({outcomes:?})"
        );
        assert_eq!(status(&app, *id).await, CaseStatus::Issued);
        assert_eq!(approvals(&app, *id).await, 1, "case {id} approved once");
    }
    assert!(pages.iter().any(|p| p.contains("他の職員が先に処理")));
}

#[tokio::test]
async fn self_approval_in_a_bulk_is_refused_for_that_case_only() {
    let app = TestApp::spawn().await;
    let theirs = proposed(&app, "他人起案", 1).await[0];
    // An approver proposes one case themselves.
    app.switch_to("kessai", "approver", BUREAU).await;
    let own = enter(&app, "自己起案クリニック").await;
    let response = app
        .post_signed(&format!("/cases/{own}/propose"), &[("district", "04")])
        .await;
    assert_eq!(response.status(), 303);

    let list = get_text(&app.client, &app, "/cases?queue=approval&select=all").await;
    let confirm = post_fields(
        &app.client,
        &app,
        "/cases/bulk",
        &bulk_fields(&list, "approve"),
    )
    .await
    .text()
    .await
    .unwrap();
    let result = post_fields(&app.client, &app, "/cases/bulk", &confirm_fields(&confirm))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(outcome(&result, theirs), "done");
    assert_eq!(outcome(&result, own), "forbidden");
    assert!(result.contains("権限なし"), "{result}");
    assert!(result.contains("起案した職員は、同じ番号を決裁できません"));
    assert_eq!(status(&app, theirs).await, CaseStatus::Issued);
    assert_eq!(status(&app, own).await, CaseStatus::Proposed);
}

#[tokio::test]
async fn a_case_in_the_wrong_state_is_reported_and_bulk_answer_records_the_rest() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "回答", 2).await;
    let waiting = enter(&app, "未起案クリニック").await;
    app.switch_to("kessai", "approver", BUREAU).await;
    for id in &ids {
        let v = app.request(*id).await.lock_version.to_string();
        let r = app
            .post_signed(&format!("/cases/{id}/approve"), &[("version", &v)])
            .await;
        assert_eq!(r.status(), 303);
    }
    app.switch_to("tanto", "clerk", BUREAU).await;
    let list = get_text(&app.client, &app, "/cases?select=all").await;
    let confirm = post_fields(
        &app.client,
        &app,
        "/cases/bulk",
        &bulk_fields(&list, "answer"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(confirm.contains("回答済にする"), "{confirm}");
    let result = post_fields(&app.client, &app, "/cases/bulk", &confirm_fields(&confirm))
        .await
        .text()
        .await
        .unwrap();
    for id in &ids {
        assert_eq!(outcome(&result, *id), "done");
        let r = app.request(*id).await;
        assert_eq!(r.status, CaseStatus::Answered);
        assert_eq!(r.answered_on, Some(uketsuke_domain::today_in_japan()));
    }
    assert_eq!(outcome(&result, waiting), "wrong_state");
    assert!(result.contains("状態が違う"));
    assert_eq!(status(&app, waiting).await, CaseStatus::Received);
}

#[tokio::test]
async fn bulk_work_refuses_a_viewer_a_forged_form_and_another_bureaus_cases() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "拒否", 2).await;
    let id = ids[0].to_string();

    // A viewer may not approve (nor answer).
    app.switch_to("etsuran", "viewer", BUREAU).await;
    for action in ["approve", "answer"] {
        let r = app
            .post_signed(
                "/cases/bulk",
                &[("action", action), ("ids", &id), ("confirm", "1")],
            )
            .await;
        let need = if action == "approve" {
            "決裁"
        } else {
            "担当"
        };
        assert_refused(r, &refusal::role(need)).await;
    }

    // No CSRF token, or another one: refused, nothing done.
    app.switch_to("kessai", "approver", BUREAU).await;
    let r = app
        .post_form(
            "/cases/bulk",
            &[
                ("csrf", "forged"),
                ("action", "approve"),
                ("ids", &id),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_refused(r, refusal::CSRF).await;
    assert_eq!(status(&app, ids[0]).await, CaseStatus::Proposed);

    // An approver of another bureau: the cases are not found, and stay as they were.
    app.switch_to("kinki-kessai", "approver", "kinki").await;
    let result = app
        .post_signed(
            "/cases/bulk",
            &[
                ("action", "approve"),
                ("ids", &id),
                ("ids", &ids[1].to_string()),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(result.status(), 200);
    let result = result.text().await.unwrap();
    assert_eq!(outcome(&result, ids[0]), "not_found");
    assert_eq!(outcome(&result, ids[1]), "not_found");
    assert!(
        !result.contains("拒否クリニック"),
        "no name leaks: {result}"
    );
    // Nor can it download them.
    let r = app
        .post_signed("/cases/bulk", &[("action", "download"), ("ids", &id)])
        .await;
    assert_eq!(r.status(), 404);
    for id in &ids {
        assert_eq!(status(&app, *id).await, CaseStatus::Proposed);
    }
    // Nothing chosen: told so.
    let r = app
        .post_signed("/cases/bulk", &[("action", "approve")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("処理する案件が選ばれていません")
    );
}

#[tokio::test]
async fn an_office_account_cannot_bulk_approve_another_offices_case() {
    let app = TestApp::spawn().await;
    let tokyo_case = proposed(&app, "東京", 1).await[0];
    let kanagawa = uketsuke_store::bureaus::office_id(&app.db, BUREAU, "kanagawa")
        .await
        .unwrap()
        .expect("the kanagawa office");
    let new = uketsuke_store::users::NewUser {
        username: "kanagawa-kessai".into(),
        display_name: "神奈川 決裁".into(),
        password_hash: uketsuke_store::users::hash_password("pw-kanagawa-kessai-0123456789"),
        role: uketsuke_store::users::Role::Approver,
        bureau_id: BUREAU.into(),
        office_id: Some(kanagawa),
    };
    uketsuke_store::users::create(&app.db, &new, &uketsuke_store::audit::Actor::system("test"))
        .await
        .unwrap();
    app.switch_to("kanagawa-kessai", "approver", BUREAU).await;
    let list = get_text(&app.client, &app, "/cases?queue=approval").await;
    assert!(!list.contains("東京クリニック"), "{list}");
    let result = app
        .post_signed(
            "/cases/bulk",
            &[
                ("action", "approve"),
                ("ids", &tokyo_case.to_string()),
                ("confirm", "1"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(outcome(&result, tokyo_case), "not_found");
    assert_eq!(status(&app, tokyo_case).await, CaseStatus::Proposed);
}

#[tokio::test]
async fn the_selected_cases_download_as_a_workbook_openpyxl_reads() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "選択DL", 3).await;
    let response = app
        .post_signed(
            "/cases/bulk",
            &[
                ("action", "download"),
                ("ids", &ids[2].to_string()),
                ("ids", &ids[0].to_string()),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let path = std::env::temp_dir().join(format!(
        "uketsuke-selected-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, response.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, openpyxl\n\
             ws = openpyxl.load_workbook(sys.argv[1]).active\n\
             for r in ws.iter_rows(values_only=True):\n    print('|'.join('' if v is None else str(v) for v in r))",
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
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("一覧で選んだ 2 件"), "{text}");
    assert!(text.contains("選択DLクリニック2") && text.contains("選択DLクリニック0"));
    assert!(!text.contains("選択DLクリニック1"), "{text}");
}

/// The count the dashboard shows on a queue's tile.
fn tile_count(dashboard: &str, queue: &str) -> u64 {
    let tile = &dashboard[dashboard
        .find(&format!("id=\"queue-{queue}\""))
        .unwrap_or_else(|| panic!("tile {queue}"))..];
    let marker = "<span class=\"count\">";
    let at = tile.find(marker).unwrap() + marker.len();
    tile[at..]
        .split('<')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The number of cases a list page says it holds.
fn list_total(list: &str) -> u64 {
    if list.contains("条件に合う案件はありません") {
        return 0;
    }
    let marker = "<p class=\"result-summary\">";
    let at = list.find(marker).unwrap() + marker.len();
    list[at..]
        .split(' ')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_queue_count_on_the_dashboard_equals_its_list() {
    let app = TestApp::spawn_with(true).await;
    app.switch_to("kessai", "approver", BUREAU).await;
    let dashboard = get_text(&app.client, &app, "/dashboard").await;
    let mut nonzero = 0;
    for queue in uketsuke_store::queues::Queue::ALL {
        let id = queue.as_str();
        let count = tile_count(&dashboard, id);
        assert!(
            dashboard.contains(&format!("href=\"/cases?queue={id}\"")),
            "the tile links to its list"
        );
        let list = get_text(&app.client, &app, &format!("/cases?queue={id}")).await;
        assert_eq!(list_total(&list), count, "queue {id}");
        assert!(list.contains(&format!("<h1>{}", queue.label())));
        if count > 0 {
            nonzero += 1;
        }
    }
    assert!(nonzero >= 2, "the demo data fills some queues: {dashboard}");
    // The counts by status are links too.
    assert!(dashboard.contains("href=\"/cases?status=proposed\""));
}

#[tokio::test]
async fn the_dashboard_says_recommended_for_a_case_designated_later() {
    let app = TestApp::spawn_with(true).await;
    app.switch_to("kessai", "approver", BUREAU).await;
    let today = uketsuke_domain::today_in_japan();
    let designated: Vec<reception_request::Model> = reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .all(&app.db)
        .await
        .unwrap();
    let later = designated
        .iter()
        .filter(|r| r.designated_on.is_some_and(|d| d > today))
        .count();
    let dashboard = get_text(&app.client, &app, "/dashboard").await;
    let count_of = |status: &str| -> usize {
        let at = dashboard
            .find(&format!("id=\"status-{status}\""))
            .unwrap_or_else(|| panic!("{status}: {dashboard}"));
        let tile = &dashboard[at..];
        let marker = "<span class=\"count\">";
        let at = tile.find(marker).unwrap() + marker.len();
        tile[at..]
            .split('<')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(count_of("recommended"), later);
    assert_eq!(count_of("designated"), designated.len() - later);
}

async fn token_of(app: &TestApp, username: &str) -> String {
    let (token, _) = uketsuke_store::tokens::create(
        &app.db,
        username,
        "test",
        &uketsuke_store::audit::Actor::system("test"),
    )
    .await
    .unwrap();
    token
}

#[tokio::test]
async fn the_api_bulk_approves_each_case_with_its_own_version_and_reports_per_case() {
    let app = TestApp::spawn().await;
    let ids = proposed(&app, "API一括", 3).await;
    app.create_user("kessai", "approver", BUREAU).await;
    let approver = token_of(&app, "kessai").await;
    let clerk = token_of(&app, "tanto").await;
    let v = |r: &reception_request::Model| r.lock_version;
    let (a, b, c) = (
        app.request(ids[0]).await,
        app.request(ids[1]).await,
        app.request(ids[2]).await,
    );
    let body = serde_json::json!({
        "action": "approve",
        "ids": [
            {"id": a.id, "version": v(&a)},
            {"id": b.id, "version": v(&b) + 7},
            {"id": c.id, "version": v(&c)},
            {"id": 999_999, "version": 0},
        ],
    });
    // A clerk may not approve; the tanto token is refused as a whole.
    let (code, _) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/requests/bulk",
            &clerk,
            Some(body.clone()),
        )
        .await;
    assert_eq!(code, 403);
    let (code, answer) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/requests/bulk",
            &approver,
            Some(body),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["succeeded"], 2);
    let results = answer["results"].as_array().unwrap();
    let of = |id: i32| {
        results
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {answer}"))["result"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(of(a.id), "done");
    assert_eq!(of(b.id), "conflict");
    assert_eq!(of(c.id), "done");
    assert_eq!(of(999_999), "not_found");
    assert_eq!(status(&app, a.id).await, CaseStatus::Issued);
    assert_eq!(status(&app, b.id).await, CaseStatus::Proposed);
    // A version is required for each case.
    let (code, answer) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/requests/bulk",
            &approver,
            Some(serde_json::json!({"action": "approve", "ids": [{"id": b.id}]})),
        )
        .await;
    assert_eq!(code, 422, "{answer}");
}
