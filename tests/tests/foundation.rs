//! The foundation end to end: the app starts on its own database, answers `/healthz`,
//! shows the Japanese start page with security headers, loads demo data, and every
//! migration can be reverted and re-applied.

use sea_orm::{EntityTrait, PaginatorTrait};
use uketsuke_store::entities::{audit_log, issued_number, reception_request};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_tests::{TestApp, TestDatabase};

#[tokio::test]
async fn healthz_reports_the_database_as_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["database"]["pending_migrations"], 0);
    let expected = if app.database.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"]["backend"], expected);
}

#[tokio::test]
async fn start_page_is_in_japanese_with_security_headers() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"ja\">"));
    assert!(html.contains("受付番号管理システム"));
    assert!(html.contains("関東信越厚生局"));
    // Today's date is shown in 和暦 (令和…年…月…日) with the 西暦 beside it.
    assert!(html.contains("令和"), "start page must show today in 和暦");
}

#[tokio::test]
async fn stylesheet_is_served() {
    let app = TestApp::spawn().await;
    let response = app.get("/static/site.css").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn demo_data_holds_requests_in_every_state_and_loads_once() {
    let app = TestApp::spawn_with(true).await;
    let requests = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    for s in CaseStatus::ALL {
        assert!(
            requests.iter().any(|r| r.status == s),
            "demo data lacks a request in status {s}"
        );
    }
    let numbers = issued_number::Entity::find().all(&app.db).await.unwrap();
    assert!(!numbers.is_empty());
    for n in &numbers {
        uketsuke_domain::InstitutionCode::parse(&n.code).unwrap();
    }
    assert!(
        audit_log::Entity::find().count(&app.db).await.unwrap() > 0,
        "demo changes are audited"
    );

    uketsuke::demo::load(&app.db, &app.settings).await.unwrap();
    let again = reception_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        again,
        requests.len() as u64,
        "a second load must not duplicate the demo"
    );

    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("デモデータ"));
}

#[tokio::test]
async fn every_migration_reverts_and_reapplies() {
    let database = TestDatabase::create().await;
    let db = uketsuke_store::db::connect(&database.url, 1).await.unwrap();
    uketsuke_store::db::migrate_up(&db).await.unwrap();
    let applied = uketsuke_store::db::migration_status(&db).await.unwrap();
    assert!(applied.len() >= 4 && applied.iter().all(|m| m.applied));

    // All the way down, one step at a time, then up again.
    for _ in 0..applied.len() {
        uketsuke_store::db::migrate_down(&db, Some(1))
            .await
            .unwrap();
    }
    let reverted = uketsuke_store::db::migration_status(&db).await.unwrap();
    assert_eq!(
        reverted.len(),
        applied.len(),
        "every migration is still listed"
    );
    assert!(reverted.iter().all(|m| !m.applied));
    uketsuke_store::db::migrate_up(&db).await.unwrap();
    let reapplied = uketsuke_store::db::migration_status(&db).await.unwrap();
    assert_eq!(reapplied.len(), applied.len());
    assert!(reapplied.iter().all(|m| m.applied));
    // The schema is whole again: a query on the newest tables works.
    assert_eq!(
        reception_request::Entity::find().count(&db).await.unwrap(),
        0
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_schema_lets_bound_text_use_the_indexes() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let database = TestDatabase::create().await;
    let db = uketsuke_store::db::connect(&database.url, 1).await.unwrap();
    uketsuke_store::db::migrate_up(&db).await.unwrap();
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // No char(n) left: compared with a bound text value, such a column is cast
            // and its indexes go unused.
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT table_name || '.' || column_name AS c FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND data_type = 'character'",
                ))
                .await
                .unwrap();
            let columns: Vec<String> = rows
                .iter()
                .map(|r| r.try_get::<String>("", "c").unwrap())
                .collect();
            assert!(columns.is_empty(), "char(n) columns: {columns:?}");
            let plan = db
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "EXPLAIN SELECT district FROM registry_codes \
                     WHERE prefecture = $1 AND municipality = $2",
                    ["13".into(), "世田谷区".into()],
                ))
                .await
                .unwrap();
            let plan: Vec<String> = plan
                .iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect();
            assert!(
                plan.iter()
                    .any(|l| l.contains("registry_codes_municipality_district")),
                "{plan:?}"
            );
        }
        _ => {
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT name FROM sqlite_master WHERE name = 'facilities_name_fts'",
                ))
                .await
                .unwrap();
            assert_eq!(rows.len(), 1, "the trigram index of facility names");
        }
    }
    db.close().await.unwrap();
}

/// Three instances starting at once on one empty database: each migrates (once, in
/// turn) and mirrors the bureaus without tripping over the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_start_together_on_one_empty_database() {
    let database = TestDatabase::create().await;
    let mut settings = uketsuke_tests::settings();
    settings.database.url = database.url.clone();
    settings.database.max_connections = 4;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(3));
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let (settings, barrier) = (settings.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                uketsuke::startup::prepare_database(&settings).await
            })
        })
        .collect();
    let mut dbs = Vec::new();
    for start in starts {
        match start.await.unwrap() {
            Ok(db) => dbs.push(db),
            Err(e) => panic!("an instance failed to start: {e:#}"),
        }
    }
    let status = uketsuke_store::db::migration_status(&dbs[0]).await.unwrap();
    assert!(!status.is_empty() && status.iter().all(|m| m.applied));
    let bureaus = uketsuke_store::entities::bureau::Entity::find()
        .count(&dbs[0])
        .await
        .unwrap();
    assert_eq!(bureaus, 8, "each bureau once");
}
