//! The store's read side as a JSON API would call it, on SQLite and PostgreSQL alike:
//! the case list (its rows, count and paging), the dashboard's counts by status, the
//! case detail confined to a scope, and recording a council session only once.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uketsuke_domain::today_in_japan;
use uketsuke_store::audit::Actor;
use uketsuke_store::cases::{self, CaseQuery, SortKey};
use uketsuke_store::council::{self, NewSession};
use uketsuke_store::entities::{audit_log, reception_request};
use uketsuke_store::lifecycle::Scope;
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

fn bureau_scope() -> Scope {
    Scope {
        bureau_id: BUREAU.to_owned(),
        office_id: None,
    }
}

#[tokio::test]
async fn the_list_pages_and_counts_what_the_dashboard_counts() {
    let app = TestApp::spawn_with(true).await;
    let today = today_in_japan();
    let all = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(BUREAU))
        .count(&app.db)
        .await
        .unwrap();
    assert!(all > 0, "the demo data has cases");

    let summary = uketsuke_store::dashboard::summary(&app.db, &bureau_scope(), today, today)
        .await
        .unwrap();
    assert_eq!(summary.counts.iter().map(|(_, n)| n).sum::<u64>(), all);

    let q = CaseQuery {
        sort: SortKey::Received,
        descending: true,
        ..CaseQuery::default()
    };
    let first = cases::list(&app.db, &bureau_scope(), &q, today, 1, 2)
        .await
        .unwrap();
    assert_eq!(first.total, all.min(cases::LIST_LIMIT));
    assert_eq!(first.pages, first.total.div_ceil(2).max(1));
    assert_eq!(first.rows.len() as u64, all.min(2));
    let received: Vec<_> = first.rows.iter().map(|r| r.request.received_on).collect();
    assert!(received.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Past the end gives the last page.
    let last = cases::list(&app.db, &bureau_scope(), &q, today, 10_000, 2)
        .await
        .unwrap();
    assert_eq!(last.page, last.pages);

    let rows = cases::export_rows(&app.db, &bureau_scope(), &q, today, 100_000)
        .await
        .unwrap();
    assert_eq!(rows.len() as u64, all);

    // Another bureau sees none of them.
    let elsewhere = Scope {
        bureau_id: "no-such-bureau".to_owned(),
        office_id: None,
    };
    let none = cases::list(&app.db, &elsewhere, &q, today, 1, 50)
        .await
        .unwrap();
    assert_eq!((none.total, none.rows.len()), (0, 0));
    let id = rows[0].request.id;
    assert!(
        cases::detail(&app.db, &elsewhere, id)
            .await
            .unwrap()
            .is_none()
    );
    let detail = cases::detail(&app.db, &bureau_scope(), id)
        .await
        .unwrap()
        .expect("the bureau sees its case");
    assert_eq!(detail.case.id, id);
    let history = cases::history(&app.db, &detail.case, &detail.numbers)
        .await
        .unwrap();
    assert!(
        history.windows(2).all(|w| w[0].entry.at <= w[1].entry.at),
        "oldest first"
    );
}

#[tokio::test]
async fn a_council_session_is_recorded_once_per_prefecture_and_day() {
    let app = TestApp::spawn().await;
    let new = NewSession {
        bureau_id: BUREAU.to_owned(),
        prefecture: "13".to_owned(),
        held_on: today_in_japan(),
        name: "東京地方社会保険医療協議会".to_owned(),
    };
    let actor = Actor::system("test");
    let first = council::find_or_create(&app.db, new.clone(), &actor)
        .await
        .unwrap();
    let again = council::find_or_create(&app.db, new, &actor).await.unwrap();
    assert_eq!(first.id, again.id);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("council.create"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let sessions = council::sessions(&app.db, BUREAU).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].approved, 0);
}
