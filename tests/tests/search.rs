//! The case list's searches as rewritten for national scale (issue 17), on SQLite and
//! PostgreSQL alike: each search returns exactly the cases a plain scan in Rust finds
//! (same rows, same order, same count, over every page), within the bureau and, for an
//! account limited to one office, within that office; and the 開設者 index follows a
//! change of founder at once.

use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uketsuke_domain::{search_key, today_in_japan};
use uketsuke_store::cases::{self, CaseQuery, SortKey, founder_key};
use uketsuke_store::entities::{issued_number, office, reception_request};
use uketsuke_store::lifecycle::Scope;
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

fn scope(office_id: Option<i32>) -> Scope {
    Scope {
        bureau_id: BUREAU.to_owned(),
        office_id,
    }
}

/// A generated national data set, small enough for a test.
async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    uketsuke::generate::generate(&app.db, &app.settings, 300, 1500, 7)
        .await
        .unwrap();
    app
}

/// The founder text as the search compares it: the three names, spaces removed.
fn founder_text(r: &reception_request::Model) -> String {
    [
        r.founder_name.as_deref(),
        r.corporation_name.as_deref(),
        r.representative_name.as_deref(),
    ]
    .map(|n| n.unwrap_or_default())
    .join("/")
    .chars()
    .filter(|c| !c.is_whitespace())
    .collect()
}

/// Every page of the list for `q` (newest first), as ids, with the total.
async fn listed(app: &TestApp, scope: &Scope, q: &CaseQuery) -> (Vec<i32>, u64) {
    let today = today_in_japan();
    let mut ids = Vec::new();
    let first = cases::list(&app.db, scope, q, today, 1, 7).await.unwrap();
    for page in 1..=first.pages {
        let found = cases::list(&app.db, scope, q, today, page, 7)
            .await
            .unwrap();
        assert_eq!(
            found.total, first.total,
            "the count is the same on every page"
        );
        assert_eq!(found.page, page);
        ids.extend(found.rows.iter().map(|r| r.request.id));
    }
    (ids, first.total)
}

/// The cases of the scope that `keep` selects, newest first (受付日, then id).
async fn expected(
    app: &TestApp,
    scope: &Scope,
    keep: impl Fn(&reception_request::Model) -> bool,
) -> Vec<i32> {
    let mut rows: Vec<_> = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(&scope.bureau_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| scope.office_id.is_none_or(|o| r.office_id == Some(o)))
        .filter(|r| keep(r))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse((r.received_on, r.id)));
    rows.into_iter().map(|r| r.id).collect()
}

fn newest_first() -> CaseQuery {
    CaseQuery {
        sort: SortKey::Received,
        descending: true,
        ..CaseQuery::default()
    }
}

#[tokio::test]
async fn the_founder_search_finds_exactly_the_cases_of_that_founder_and_follows_a_change() {
    let app = app().await;
    let all = scope(None);
    // Typed as people type: without the space, with a full-width one, two characters only.
    for typed in ["佐藤太郎", "佐藤　太郎", "鈴木 花子", "佐藤", "太郎"] {
        let key = founder_key(typed);
        let q = CaseQuery {
            founder: Some(key.clone()),
            ..newest_first()
        };
        let (ids, total) = listed(&app, &all, &q).await;
        let want = expected(&app, &all, |r| founder_text(r).contains(&key)).await;
        assert!(!want.is_empty(), "the data has founders named {typed}");
        assert_eq!(ids, want, "開設者 {typed}");
        assert_eq!(total, want.len() as u64);
    }

    // A founder renamed is found by the new name at once, and no longer by the old.
    let case = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(BUREAU))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    reception_request::Entity::update_many()
        .col_expr(
            reception_request::Column::FounderName,
            Expr::value("医療法人 改名会"),
        )
        .col_expr(
            reception_request::Column::RepresentativeName,
            Expr::value("理事長 検索"),
        )
        .filter(reception_request::Column::Id.eq(case.id))
        .exec(&app.db)
        .await
        .unwrap();
    for (typed, found) in [("改名会", true), ("長検索", true)] {
        let q = CaseQuery {
            founder: Some(founder_key(typed)),
            ..newest_first()
        };
        let (ids, _) = listed(&app, &all, &q).await;
        assert_eq!(ids.contains(&case.id), found, "{typed}");
        assert_eq!(ids.len(), 1, "{typed} names one case only");
    }
    let old = founder_key(&founder_text(&case));
    let old = old.split('/').next().unwrap().to_owned();
    let q = CaseQuery {
        founder: Some(old.clone()),
        ..newest_first()
    };
    let (ids, _) = listed(&app, &all, &q).await;
    assert!(
        !ids.contains(&case.id),
        "the old founder {old} no longer finds it"
    );

    // Another bureau's founders stay out.
    let q = CaseQuery {
        founder: Some(founder_key("佐藤太郎")),
        ..newest_first()
    };
    let other = Scope {
        bureau_id: "kinki".to_owned(),
        office_id: None,
    };
    let (ids, _) = listed(&app, &other, &q).await;
    let mine: HashSet<i32> = listed(&app, &all, &q).await.0.into_iter().collect();
    assert!(!ids.is_empty() && ids.iter().all(|id| !mine.contains(id)));
}

#[tokio::test]
async fn the_code_prefix_search_finds_the_cases_whose_numbers_start_so() {
    let app = app().await;
    let all = scope(None);
    let numbers = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    let mine: HashSet<i32> = expected(&app, &all, |_| true).await.into_iter().collect();
    let sample = numbers
        .iter()
        .find(|n| mine.contains(&n.request_id.unwrap()))
        .expect("the bureau has numbered cases")
        .code
        .clone();
    // The whole code, its first seven and five digits, its prefecture, one digit.
    for len in [10, 7, 5, 2, 1] {
        let prefix = &sample[..len];
        let q = CaseQuery {
            code: Some(prefix.to_owned()),
            ..newest_first()
        };
        let (ids, total) = listed(&app, &all, &q).await;
        let numbered: HashSet<i32> = numbers
            .iter()
            .filter(|n| n.code.starts_with(prefix))
            .filter_map(|n| n.request_id)
            .collect();
        let want = expected(&app, &all, |r| numbered.contains(&r.id)).await;
        assert!(!want.is_empty());
        assert_eq!(ids, want[..want.len().min(1000)], "受付番号 {prefix}");
        assert_eq!(total, want.len().min(1000) as u64);
    }
}

#[tokio::test]
async fn the_name_search_and_the_office_scope_still_hold() {
    let app = app().await;
    // Put a third of the bureau's cases in one office.
    let office = office::Entity::find()
        .filter(office::Column::BureauId.eq(BUREAU))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the bureau has an office");
    let ids = expected(&app, &scope(None), |_| true).await;
    let moved: Vec<i32> = ids.iter().copied().step_by(3).collect();
    reception_request::Entity::update_many()
        .col_expr(reception_request::Column::OfficeId, Expr::value(office.id))
        .filter(reception_request::Column::Id.is_in(moved.clone()))
        .exec(&app.db)
        .await
        .unwrap();
    // A name that is no other's substring: the generated names end in their serial, so
    // one of four digits (of 1,500) is unique.
    let rare = reception_request::Entity::find()
        .filter(reception_request::Column::Id.is_in(moved.clone()))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|r| {
            let digits = r
                .facility_name
                .chars()
                .rev()
                .take_while(char::is_ascii_digit);
            digits.count() == 4
        })
        .expect("a case in the office with a four-digit serial");
    for s in [scope(None), scope(Some(office.id))] {
        for (typed, founder) in [
            ("さくら", None),
            ("サクラ内科", None),
            (rare.facility_name.as_str(), None),
            ("さくら", Some("佐藤")),
        ] {
            let key = search_key(typed);
            let q = CaseQuery {
                name_key: Some(key.clone()),
                founder: founder.map(founder_key),
                ..newest_first()
            };
            let (got, total) = listed(&app, &s, &q).await;
            let want = expected(&app, &s, |r| {
                search_key(&r.facility_name).contains(&key)
                    && founder.is_none_or(|f| founder_text(r).contains(f))
            })
            .await;
            assert!(!want.is_empty(), "{typed} finds something");
            assert_eq!(got, want, "名称 {typed}, office {:?}", s.office_id);
            assert_eq!(total, want.len() as u64);
            if s.office_id.is_some() {
                let moved: HashSet<i32> = moved.iter().copied().collect();
                assert!(got.iter().all(|id| moved.contains(id)), "office scope");
            }
        }
        let q = CaseQuery {
            name_key: Some(search_key(&rare.facility_name)),
            ..newest_first()
        };
        assert_eq!(listed(&app, &s, &q).await.0, vec![rare.id], "the rare name");
    }
}

#[tokio::test]
async fn the_page_and_the_api_search_by_founder() {
    let app = app().await;
    let password = app.create_user("kensaku", "clerk", BUREAU).await;
    app.login("kensaku", &password).await;
    let q = CaseQuery {
        founder: Some(founder_key("佐藤太郎")),
        ..newest_first()
    };
    let (_, total) = listed(&app, &scope(None), &q).await;
    assert!(total > 0);

    let page = app
        .get("/cases?founder=%E4%BD%90%E8%97%A4%E5%A4%AA%E9%83%8E")
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"name="founder" type="search" value="佐藤太郎""#),
        "the field keeps what was typed"
    );
    assert!(
        html.contains(&format!("{total} 件中")),
        "the page counts {total} cases"
    );
    assert!(
        html.contains("founder=%E4%BD%90%E8%97%A4%E5%A4%AA%E9%83%8E"),
        "page and sort links keep the founder"
    );

    let (token, _) = uketsuke_store::tokens::create(
        &app.db,
        "kensaku",
        "test",
        &uketsuke_store::audit::Actor::system("test"),
    )
    .await
    .unwrap();
    let body: serde_json::Value = app
        .client
        .get(format!(
            "{}/api/v1/requests?founder=佐藤 太郎",
            app.base_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], total, "{body}");
}
