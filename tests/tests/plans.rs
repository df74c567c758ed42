//! The 「オンライン資格確認の導入計画書」 (別紙2) of a case (issue #16): a clerk receives a
//! 指定申請 with its 別紙2, uploads it on the case page, sees what is missing, prints the
//! 補正 request, later records the corrected plan and marks it 確認済. The workbooks are
//! the seed's form typed by openpyxl in two layouts (tests/data/plan_workbooks.py). Every
//! change (submit, 確認済, 経過措置 届出 and its clearing) fired twice at once: exactly one
//! wins. Viewers cannot submit, another office's clerk gets 404, a POST without the
//! session's CSRF token is refused.

use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};
use uketsuke_store::audit::Actor;
use uketsuke_tests::{TestApp, csrf_of};

const BUREAU: &str = "kanto-shinetsu";

/// The 1st of the month four months from today in Japan.
fn designation() -> NaiveDate {
    let today = uketsuke_domain::today_in_japan();
    NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap() + Months::new(4)
}

/// complete.xlsx and deficient.xlsx, written by openpyxl, as bytes.
fn workbooks(designation: NaiveDate) -> (Vec<u8>, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("uketsuke-plan-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/data/plan_workbooks.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&dir)
        .arg(designation.to_string())
        .output()
        .expect("python3 with openpyxl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| std::fs::read(Path::new(&dir).join(name)).unwrap();
    let books = (read("complete.xlsx"), read("deficient.xlsx"));
    let _ = std::fs::remove_dir_all(&dir);
    books
}

async fn token(app: &TestApp, username: &str, role: &str, office: Option<&str>) -> String {
    use uketsuke_store::users::{NewUser, Role};
    let office_id = match office {
        Some(code) => uketsuke_store::bureaus::office_id(&app.db, BUREAU, code)
            .await
            .unwrap(),
        None => None,
    };
    let new = NewUser {
        username: username.into(),
        display_name: format!("{username} さん"),
        password_hash: uketsuke_store::users::hash_password(&format!("pw-{username}-0123456789")),
        role: Role::parse(role).unwrap(),
        bureau_id: BUREAU.into(),
        office_id,
    };
    uketsuke_store::users::create(&app.db, &new, &Actor::system("test"))
        .await
        .unwrap();
    uketsuke_store::tokens::create(&app.db, username, "test", &Actor::system("test"))
        .await
        .unwrap()
        .0
}

/// A 医科 case of オン資クリニック in 東京都 (the facility the workbooks name).
async fn case(app: &TestApp, clerk: &str, name: &str) -> (i32, i32) {
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/requests",
            clerk,
            Some(json!({
                "kind": "医科",
                "facility_name": name,
                "facility_postal_code": "100-0013",
                "facility_address": "東京都千代田区霞が関1-2-2",
                "designation_date": designation().to_string(),
                "founder_name": "資格 花子",
                "contact_phone": "03-1234-5678",
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    (
        created["id"].as_i64().unwrap() as i32,
        created["version"].as_i64().unwrap() as i32,
    )
}

/// Uploads a workbook on the case page as the signed-in user.
async fn upload(app: &TestApp, id: i32, file: &str, bytes: Vec<u8>) -> reqwest::Response {
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    let version = app.request(id).await.lock_version.to_string();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&page))
        .text("version", version)
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()),
        );
    app.client
        .post(format!("{}/cases/{id}/plan/upload", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The texts of the page's findings list (補正が必要な事項).
fn findings(html: &str) -> Vec<String> {
    let Some(start) = html.find("<ul class=\"warnings plan-findings\"") else {
        return Vec::new();
    };
    let end = start + html[start..].find("</ul>").unwrap();
    html[start..end]
        .split("<li>")
        .skip(1)
        .map(|li| li.trim_end_matches("</li>").to_owned())
        .collect()
}

fn item_numbers(findings: &[String]) -> Vec<char> {
    findings.iter().filter_map(|f| f.chars().next()).collect()
}

#[tokio::test]
async fn a_clerk_uploads_a_deficient_plan_prints_the_correction_and_confirms_the_corrected_one() {
    let app = TestApp::spawn().await;
    let d = designation();
    let (complete, deficient) = workbooks(d);
    let clerk = token(&app, "api-tanto", "clerk", None).await;
    let (id, _) = case(&app, &clerk, "オン資クリニック").await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("計画書: <strong class=\"plan-status plan-none\">未提出</strong>"));

    // The 別紙2 with missing and contradictory items.
    let response = upload(&app, id, "deficient.xlsx", deficient).await;
    assert_eq!(response.status(), 303);
    let page = app.follow(response).await.text().await.unwrap();
    assert!(page.contains("plan-deficient\">不備あり"), "{page}");
    let found = findings(&page);
    assert_eq!(
        item_numbers(&found),
        vec!['②', '④', '⑤', '⑥', '⑪', '⑫', '⑬'],
        "{found:#?}"
    );
    assert!(found[1].contains("受付番号をまだ回答していません"));
    assert!(found[6].contains("指定希望日"));
    assert!(found[6].contains(&uketsuke_domain::format_wareki(d)));
    // 確認済 is refused while there are findings, and its button is not offered.
    assert!(!page.contains("/plan/confirm"));
    let version = app.request(id).await.lock_version.to_string();
    let refused = app
        .post_signed(
            &format!("/cases/{id}/plan/confirm"),
            &[("version", version.as_str())],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("不備があるため確認済にできません")
    );

    // The printable 補正 request lists every finding.
    let letter = app.get(&format!("/cases/{id}/plan/correction")).await;
    assert_eq!(letter.status(), 200);
    let letter = letter.text().await.unwrap();
    assert!(letter.contains("オンライン資格確認の導入計画書の補正について"));
    for f in &found {
        assert!(letter.contains(f.as_str()), "{f}");
    }

    // The corrected plan replaces it; the first is kept in the history.
    let response = upload(&app, id, "complete.xlsx", complete).await;
    assert_eq!(response.status(), 303);
    let page = app.follow(response).await.text().await.unwrap();
    assert!(page.contains("plan-submitted\">確認待ち"), "{page}");
    assert!(findings(&page).is_empty());
    assert!(page.contains("deficient.xlsx") && page.contains("complete.xlsx"));
    assert!(page.contains("カードリーダー製作所"));
    let version = app.request(id).await.lock_version.to_string();
    let response = app
        .post_signed(
            &format!("/cases/{id}/plan/confirm"),
            &[("version", version.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app.follow(response).await.text().await.unwrap();
    assert!(page.contains("plan-confirmed\">確認済"));
    assert!(page.contains("導入計画書を確認済にした"), "in the history");
    assert!(
        app.get(&format!("/cases/{id}/plan/correction"))
            .await
            .status()
            .is_client_error(),
        "no 補正 without findings"
    );

    // The list and the API say so too.
    let list = app.get("/cases").await.text().await.unwrap();
    assert!(list.contains("計画書: 確認済"));
    let (status, plan) = app
        .api(
            Method::GET,
            &format!("/api/v1/requests/{id}/plan"),
            &clerk,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(plan["plan_status"], "confirmed");
    assert_eq!(plan["findings"], json!([]));
    assert_eq!(plan["items"]["9"], "ip_vpn");
    let sources: Vec<&str> = plan["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["complete.xlsx", "deficient.xlsx"]);
    let (_, case) = app
        .api(Method::GET, &format!("/api/v1/requests/{id}"), &clerk, None)
        .await;
    assert_eq!(case["plan_status"], "confirmed");
}

#[tokio::test]
async fn the_form_and_the_api_take_items_and_refuse_what_cannot_be_read() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "api-tanto", "clerk", None).await;
    let (id, version) = case(&app, &clerk, "オン資クリニック").await;
    let path = format!("/api/v1/requests/{id}/plan");
    // Unreadable items: each named, nothing stored.
    let (status, body) = app
        .api(
            Method::POST,
            &path,
            &clerk,
            Some(json!({"version": version, "items": {"3": "たぶん", "9": "光回線", "13": "令和9年13月1日"}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["items.3", "items.9", "items.13"]);
    assert_eq!(app.request(id).await.lock_version, version);

    // A partial plan is stored with its findings; the version is required.
    let (status, _) = app
        .api(
            Method::POST,
            &path,
            &clerk,
            Some(json!({"items": {"3": "済み"}})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, plan) = app
        .api(
            Method::POST,
            &path,
            &clerk,
            Some(json!({"version": version, "items": {
                "1": {"name": "別のクリニック", "address": "東京都千代田区霞が関１－２－２"},
                "3": "済み", "5": "イ 契約済み（５月整備予定）", "9": "IP-VPN", "13": "令和9年1月1日"}})),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["plan_status"], "deficient");
    assert_eq!(
        plan["items"]["5"],
        json!({"status": "contracted", "month": 5})
    );
    let items: Vec<i64> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["item"].as_i64().unwrap())
        .collect();
    // ① name does not match the case; the address matches once width is folded.
    assert!(items.contains(&1) && items.contains(&2) && items.contains(&4));
    assert!(!items.contains(&3) && !items.contains(&9));
    let name = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["item"] == 1)
        .count();
    assert_eq!(name, 1, "only the name differs: {plan}");

    // The page's form: what was entered comes back for correction.
    app.switch_to("tanto", "clerk", BUREAU).await;
    let form = app.get(&format!("/cases/{id}/plan")).await;
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(html.contains("value=\"別のクリニック\""));
    let csrf = csrf_of(&html);
    let version = app.request(id).await.lock_version.to_string();
    let response = app
        .post_form(
            &format!("/cases/{id}/plan"),
            &[
                ("csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("facility_name", "オン資クリニック"),
                ("facility_address", "東京都千代田区霞が関1-2-2"),
                ("network_type", "ipsec_ike"),
                ("practice_start", "令和9年13月1日"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("⑬ 診療・調剤開始（予定）日："), "{html}");
    assert!(html.contains("value=\"オン資クリニック\""), "kept as typed");
    let response = app
        .post_form(
            &format!("/cases/{id}/plan"),
            &[
                ("csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("facility_name", "オン資クリニック"),
                ("facility_address", "東京都千代田区霞が関1-2-2"),
                ("network_type", "ipsec_ike"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app.follow(response).await.text().await.unwrap();
    let found = findings(&page);
    assert!(!found.iter().any(|f| f.starts_with('①')), "{found:#?}");
    assert!(found.iter().any(|f| f.starts_with('③')));

    // 経過措置: no plan needed, shown everywhere; a plan is then refused.
    let version = app.request(id).await.lock_version.to_string();
    let response = app
        .post_signed(
            &format!("/cases/{id}/transitional"),
            &[
                ("version", version.as_str()),
                ("filed_on", "令和8年11月1日"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app.follow(response).await.text().await.unwrap();
    assert!(page.contains("plan-transitional\">経過措置"));
    assert!(page.contains("令和8年11月1日"));
    assert!(
        app.get("/cases")
            .await
            .text()
            .await
            .unwrap()
            .contains("計画書: 経過措置")
    );
    let (_, case) = app
        .api(Method::GET, &format!("/api/v1/requests/{id}"), &clerk, None)
        .await;
    assert_eq!(case["plan_status"], "transitional");
    assert_eq!(case["transitional_filed_on"], "2026-11-01");
    let (status, body) = app
        .api(
            Method::POST,
            &path,
            &clerk,
            Some(json!({"version": case["version"], "items": {"3": "済み"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body.to_string()
            .contains("経過措置の届出が記録されているため")
    );
    // A filing date in the future is refused.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/requests/{id}/clear-transitional"),
            &clerk,
            Some(json!({"version": case["version"]})),
        )
        .await;
    assert_eq!(status, 200);
    let version = app.request(id).await.lock_version;
    let tomorrow = (uketsuke_domain::today_in_japan() + chrono::Days::new(1)).to_string();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/requests/{id}/transitional"),
            &clerk,
            Some(json!({"version": version, "filed_on": tomorrow})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("今日より後"));
}

/// Two clerks do the same plan change on the same version at once: one 200, one 409
/// 「他の職員が先に処理しました」, the change made once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_plan_change_fired_twice_at_once_is_made_once() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        token(&app, "api-tanto-a", "clerk", None).await,
        token(&app, "api-tanto-b", "clerk", None).await,
    );
    let d = designation();
    let complete = json!({
        "1": {"name": "オン資クリニック", "postal_code": "100-0013", "address": "東京都千代田区霞が関1-2-2"},
        "2": {"name": "資格 花子", "address": "東京都千代田区霞が関1-2-2", "phone": "03-1234-5678"},
        "3": "済み", "4": "未実施", "5": "ア", "6": "メーカーA", "7": "ウ", "9": "IP-VPN",
        "10": (d - chrono::Days::new(40)).to_string(), "11": "システムB",
        "12": (d - chrono::Days::new(10)).to_string(), "13": d.to_string(),
    });
    for round in 0..3 {
        let (id, version) = case(&app, &a, &format!("オン資クリニック{round}")).await;
        // ① is the case's own facility for this round.
        let mut items = complete.clone();
        items["1"]["name"] = json!(format!("オン資クリニック{round}"));
        let plan = format!("/api/v1/requests/{id}/plan");
        let act = |action: &str| format!("/api/v1/requests/{id}/{action}");
        let steps: [(String, Value); 4] = [
            (plan.clone(), json!({"items": items})),
            (act("confirm-plan"), json!({})),
            (act("transitional"), json!({})),
            (act("clear-transitional"), json!({})),
        ];
        let mut version = version;
        for (path, body) in steps {
            let mut body = body;
            body["version"] = json!(version);
            let (x, y) = tokio::join!(
                app.api(Method::POST, &path, &a, Some(body.clone())),
                app.api(Method::POST, &path, &b, Some(body.clone())),
            );
            let mut statuses = [x.0, y.0];
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409], "{path}: {x:?} {y:?}");
            let loser = if x.0 == 409 { &x.1 } else { &y.1 };
            assert!(
                loser.to_string().contains("他の職員が先に処理しました"),
                "{loser}"
            );
            let after = app.request(id).await;
            assert_eq!(after.lock_version, version + 1, "{path}: changed once");
            version = after.lock_version;
        }
        let (_, plan) = app.api(Method::GET, &plan, &a, None).await;
        assert_eq!(
            plan["submissions"].as_array().unwrap().len(),
            1,
            "one submission"
        );
        assert_eq!(plan["plan_status"], "confirmed");
    }
}

#[tokio::test]
async fn a_viewer_cannot_touch_the_plan_another_office_gets_404_and_csrf_is_required() {
    let app = TestApp::spawn().await;
    let (complete, _) = workbooks(designation());
    let clerk = token(&app, "api-tanto", "clerk", None).await;
    let (id, version) = case(&app, &clerk, "オン資クリニック").await;

    // A viewer: 403 on the API and on every page action.
    let viewer = token(&app, "api-etsuran", "viewer", None).await;
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/requests/{id}/plan"),
            &viewer,
            Some(json!({"version": version, "items": {"3": "済み"}})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    app.switch_to("etsuran", "viewer", BUREAU).await;
    assert_eq!(
        upload(&app, id, "complete.xlsx", complete.clone())
            .await
            .status(),
        403
    );
    let v = version.to_string();
    for action in ["plan", "plan/confirm", "transitional", "transitional/clear"] {
        let response = app
            .post_signed(&format!("/cases/{id}/{action}"), &[("version", v.as_str())])
            .await;
        assert_eq!(response.status(), 403, "viewer POST {action}");
    }

    // A clerk of 神奈川事務所: the 東京 case does not exist for them.
    let kanagawa = token(&app, "api-kanagawa", "clerk", Some("kanagawa")).await;
    for method in [Method::GET, Method::POST] {
        let (status, _) = app
            .api(
                method.clone(),
                &format!("/api/v1/requests/{id}/plan"),
                &kanagawa,
                Some(json!({"version": version, "items": {}})),
            )
            .await;
        assert_eq!(status, 404, "{method} plan");
    }
    for action in ["confirm-plan", "transitional", "clear-transitional"] {
        let (status, _) = app
            .api(
                Method::POST,
                &format!("/api/v1/requests/{id}/{action}"),
                &kanagawa,
                Some(json!({"version": version})),
            )
            .await;
        assert_eq!(status, 404, "{action}");
    }

    // The session's CSRF token is required on every form.
    app.switch_to("tanto", "clerk", BUREAU).await;
    for action in ["plan", "plan/confirm", "transitional", "transitional/clear"] {
        let response = app
            .post_form(
                &format!("/cases/{id}/{action}"),
                &[("csrf", "forged"), ("version", v.as_str())],
            )
            .await;
        assert_eq!(response.status(), 403, "forged CSRF on {action}");
    }
    let form = reqwest::multipart::Form::new()
        .text("csrf", "forged")
        .text("version", v.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(complete).file_name("complete.xlsx"),
        );
    let response = app
        .client
        .post(format!("{}/cases/{id}/plan/upload", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "forged CSRF on the upload");
    let case = app.request(id).await;
    assert_eq!(case.lock_version, version, "nothing changed");
    assert_eq!(
        case.plan_status,
        uketsuke_store::lifecycle::PlanStatus::None
    );
}
