//! The case page and the list after issue #14: the steps that cannot be undone (返戻,
//! 取下げ, 無効化) need a typed reason (the boxes start empty) and are refused without
//! one; each action ends with a message saying what happened; the history names people
//! and offices instead of ids; error pages sit in the site's frame with ways back; the
//! list sorts by every column on both databases and remembers its conditions.

use uketsuke_domain::today_in_japan;
use uketsuke_store::cases::{self, CaseQuery, SortKey};
use uketsuke_store::lifecycle::{CaseStatus, NumberStatus, Scope};
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

async fn enter(app: &TestApp, name: &str) -> i32 {
    app.enter_request(&[("facility_name", name)]).await
}

async fn page(app: &TestApp, path: &str) -> String {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn withdrawing_needs_a_reason_the_box_starts_empty_and_the_reason_is_kept() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "取下げ確認クリニック").await;
    let html = page(&app, &format!("/cases/{id}")).await;
    // Behind a <details> that names the consequence, apart from the primary buttons.
    assert!(html.contains("<summary>取下げにする…</summary>"), "{html}");
    assert!(html.contains("二度と使われません"));
    assert!(
        html.contains(
            "<input id=\"withdraw-reason\" name=\"reason\" type=\"text\" size=\"60\" required>"
        ),
        "the reason starts empty and is required: {html}"
    );
    assert!(
        html.find("id=\"actions\"") < html.find("id=\"form\""),
        "actions on top"
    );

    // Without a reason (a POST that skips the form's checks): refused, nothing changes.
    let v = app.request(id).await.lock_version.to_string();
    let refused = app
        .post_signed(&format!("/cases/{id}/withdraw"), &[("version", &v)])
        .await;
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("「取下げ」の理由を入力してください"),
        "{text}"
    );
    assert_eq!(app.request(id).await.status, CaseStatus::Received);
    let blank = app
        .post_signed(
            &format!("/cases/{id}/withdraw"),
            &[("version", &v), ("reason", "　 ")],
        )
        .await;
    assert_eq!(blank.status(), 422);

    // With one: withdrawn, the reason kept and in the history, and a message.
    let done = app
        .post_signed(
            &format!("/cases/{id}/withdraw"),
            &[("version", &v), ("reason", "開設計画の中止")],
        )
        .await;
    let html = app.follow(done).await.text().await.unwrap();
    assert!(html.contains("「取下げ」を記録しました"), "{html}");
    let r = app.request(id).await;
    assert_eq!(r.status, CaseStatus::Withdrawn);
    assert_eq!(r.withdraw_reason.as_deref(), Some("開設計画の中止"));
    assert!(html.contains("取下げの理由"));
    // A closed case offers nothing and says so.
    assert!(html.contains("「取下げ」で終わっています"), "{html}");
}

#[tokio::test]
async fn returning_needs_a_typed_reason_and_the_box_is_not_prefilled() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "返戻確認クリニック").await;
    app.switch_to("kessai", "approver", BUREAU).await;
    let html = page(&app, &format!("/cases/{id}")).await;
    assert!(
        html.contains(
            "<textarea id=\"return-reason\" name=\"reason\" rows=\"3\" cols=\"60\" required></textarea>"
        ),
        "{html}"
    );
    let v = app.request(id).await.lock_version.to_string();
    let refused = app
        .post_signed(&format!("/cases/{id}/return"), &[("version", &v)])
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("「返戻」の理由を入力してください")
    );
    assert_eq!(app.request(id).await.status, CaseStatus::Received);
    let done = app
        .post_signed(
            &format!("/cases/{id}/return"),
            &[("version", &v), ("reason", "提出期限後の受付")],
        )
        .await;
    let html = app.follow(done).await.text().await.unwrap();
    assert!(
        html.contains("返戻の通知を印刷して送付してください"),
        "{html}"
    );
    let r = app.request(id).await;
    assert_eq!(r.return_reason.as_deref(), Some("提出期限後の受付"));
    // Returned: no advice to an approver to do what the role already may do.
    assert!(!html.contains("「決裁」の権限で行います"), "{html}");
    assert!(html.contains("「返戻」で終わっています"));
}

#[tokio::test]
async fn voiding_needs_a_reason_and_the_history_names_people_not_ids() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "履歴確認クリニック").await;
    let r = app
        .post_signed(&format!("/cases/{id}/propose"), &[("district", "04")])
        .await;
    assert_eq!(r.status(), 303);
    app.switch_to("kessai", "approver", BUREAU).await;
    let v = app.request(id).await.lock_version.to_string();
    let done = app
        .post_signed(&format!("/cases/{id}/approve"), &[("version", &v)])
        .await;
    let html = app.follow(done).await.text().await.unwrap();
    assert!(html.contains("受付番号が確定しました"), "{html}");
    let history = &html[html.find("id=\"history\"").unwrap()..];
    assert!(history.contains("決裁者"), "{history}");
    assert!(history.contains("kessai さん"), "{history}");
    assert!(history.contains("tanto さん"));
    let users: Vec<i32> = {
        use sea_orm::EntityTrait;
        uketsuke_store::entities::user::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect()
    };
    for uid in users {
        assert!(
            !history.contains(&format!("<td>{uid}</td>")),
            "no bare user id {uid} in the history: {history}"
        );
    }

    let number = uketsuke_store::lifecycle::numbers_of(&app.db, id)
        .await
        .unwrap()
        .remove(0);
    let v = app.request(id).await.lock_version.to_string();
    let n = number.id.to_string();
    let refused = app
        .post_signed(
            &format!("/cases/{id}/void-number"),
            &[("version", &v), ("number_id", &n)],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let still = uketsuke_store::lifecycle::numbers_of(&app.db, id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(still.status, NumberStatus::Approved);
}

#[tokio::test]
async fn error_pages_are_in_the_site_frame_with_ways_back() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let r = app.get("/cases/987654").await;
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"site-header\""), "{html}");
    assert!(html.contains("href=\"/cases\"") && html.contains("案件一覧に戻る"));
    // Self-approval is refused on the case page itself, with the case at hand.
    app.switch_to("kessai", "approver", BUREAU).await;
    let id = enter(&app, "自己決裁クリニック").await;
    app.post_signed(&format!("/cases/{id}/propose"), &[("district", "04")])
        .await;
    let v = app.request(id).await.lock_version.to_string();
    let r = app
        .post_signed(&format!("/cases/{id}/approve"), &[("version", &v)])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("起案した職員は、同じ番号を決裁できません"));
    assert!(html.contains("自己決裁クリニック") && html.contains("class=\"site-nav\""));
}

#[tokio::test]
async fn the_list_sorts_by_every_column_both_ways() {
    let app = TestApp::spawn_with(true).await;
    let scope = Scope {
        bureau_id: BUREAU.into(),
        office_id: None,
    };
    let today = today_in_japan();
    app.switch_to("etsuran", "viewer", BUREAU).await;
    let offices = cases::offices(&app.db, &scope).await.unwrap();
    // Each case's smallest live 受付番号.
    let mut live: std::collections::HashMap<i32, String> = std::collections::HashMap::new();
    {
        use sea_orm::EntityTrait;
        for n in uketsuke_store::entities::issued_number::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
        {
            if let (Some(req), true) = (n.request_id, n.status.is_live()) {
                let e = live.entry(req).or_insert_with(|| n.code.clone());
                if n.code < *e {
                    *e = n.code.clone();
                }
            }
        }
    }
    let office_code = |id: Option<i32>| {
        id.and_then(|i| offices.iter().find(|o| o.id == i))
            .map(|o| o.code.clone())
            .unwrap_or_default()
    };
    for key in SortKey::ALL {
        for descending in [false, true] {
            let q = CaseQuery {
                sort: key,
                descending,
                ..CaseQuery::default()
            };
            let found = cases::list(&app.db, &scope, &q, today, 1, 500)
                .await
                .unwrap();
            assert!(found.rows.len() > 5, "demo data");
            let keys: Vec<String> = found
                .rows
                .iter()
                .map(|row| {
                    let r = &row.request;
                    match key {
                        SortKey::Received => r.received_on.to_string(),
                        SortKey::Name => r.facility_name.clone(),
                        SortKey::Kind => r.kind.as_str().to_owned(),
                        SortKey::Status => format!(
                            "{}",
                            CaseStatus::ALL.iter().position(|s| *s == r.status).unwrap()
                        ),
                        SortKey::Designation => r.designation_date.to_string(),
                        SortKey::Due => r.answer_due_override.unwrap_or(r.answer_due).to_string(),
                        SortKey::Code => live.get(&r.id).cloned().unwrap_or_default(),
                        SortKey::Office => office_code(r.office_id),
                    }
                })
                .collect();
            // Names compare as the database collates them; the rest as text.
            if key != SortKey::Name {
                let mut sorted = keys.clone();
                sorted.sort();
                if descending {
                    sorted.reverse();
                }
                assert_eq!(keys, sorted, "{key:?} descending={descending}");
            }
            // And the page sorts by it, with links to both directions.
            let order = if descending { "desc" } else { "asc" };
            let html = page(&app, &format!("/cases?sort={}&order={order}", key.as_str())).await;
            assert!(html.contains(&format!("aria-label=\"{}の昇順\"", key.label())));
        }
    }
}

#[tokio::test]
async fn the_list_remembers_its_conditions_for_the_session_until_cleared() {
    let app = TestApp::spawn_with(true).await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let html = page(&app, "/cases?status=proposed&sort=name&order=asc").await;
    assert!(
        html.contains("href=\"/cases?restore=1\""),
        "the menu restores"
    );
    // The menu's link goes back to those conditions.
    let back = app.get("/cases?restore=1").await;
    assert_eq!(back.status(), 303);
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("status=proposed"), "{location}");
    assert!(location.contains("sort=name") && location.contains("order=asc"));
    // 「条件をクリア」 forgets them.
    let cleared = app.get("/cases?clear=1").await;
    assert_eq!(cleared.status(), 200);
    let back = app.get("/cases?restore=1").await;
    assert_eq!(back.status(), 200, "nothing remembered: every case");
    // Another browser (session) remembers nothing of this one.
    let password = app.create_user("tanto2", "clerk", BUREAU).await;
    let other = app.browser_signed_in("tanto2", &password).await;
    app.get("/cases?status=returned").await;
    let r = other
        .get(format!("{}/cases?restore=1", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
