//! Scale data: `uketsuke demo generate` makes valid, realistic data deterministically.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uketsuke_domain::InstitutionCode;
use uketsuke_store::entities::{
    audit_log, facility, issued_number, reception_request, registry_code,
};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_tests::TestApp;

#[tokio::test]
async fn generated_data_is_valid_in_every_status_and_refuses_a_second_run() {
    let app = TestApp::spawn().await;
    let report = uketsuke::generate::generate(&app.db, &app.settings, 800, 1200, 7)
        .await
        .unwrap();
    assert_eq!(report.registry_codes, 800);
    assert_eq!(report.requests, 1200);
    assert_eq!(
        registry_code::Entity::find().count(&app.db).await.unwrap(),
        800
    );
    for code in registry_code::Entity::find().all(&app.db).await.unwrap() {
        InstitutionCode::parse(&code.code).unwrap_or_else(|e| panic!("{}: {e}", code.code));
    }
    let numbers = issued_number::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(numbers.len(), report.issued_numbers);
    for n in &numbers {
        InstitutionCode::parse(&n.code).unwrap_or_else(|e| panic!("{}: {e}", n.code));
    }
    let requests = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    for s in CaseStatus::ALL {
        assert!(requests.iter().any(|r| r.status == s), "no request in {s}");
    }
    let facilities = facility::Entity::find().all(&app.db).await.unwrap();
    for r in requests.iter().take(200) {
        let f = facilities.iter().find(|f| f.id == r.facility_id).unwrap();
        assert_eq!(
            f.name, r.facility_name,
            "each request points at its own facility"
        );
    }
    // Spread by population: 関東信越 (Tokyo, Kanagawa, Saitama, ...) carries far more
    // than 四国 (about 40 % against 3 % of the nation).
    let in_bureau = |b: &str| requests.iter().filter(|r| r.bureau_id == b).count();
    assert!(
        in_bureau("kanto-shinetsu") > 8 * in_bureau("shikoku"),
        "kanto {} shikoku {}",
        in_bureau("kanto-shinetsu"),
        in_bureau("shikoku")
    );
    // Every request has its history: created, and each step its status implies.
    assert_eq!(
        report.audit_entries as u64,
        audit_log::Entity::find().count(&app.db).await.unwrap()
    );
    for r in requests.iter().take(300) {
        let actions: Vec<String> = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("reception_request"))
            .filter(audit_log::Column::EntityId.eq(r.id.to_string()))
            .order_by_asc(audit_log::Column::Id)
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(actions[0], "request.create", "request {}", r.id);
        let expected_last = match r.status {
            CaseStatus::Designated => "request.designate",
            CaseStatus::Returned => "request.return",
            CaseStatus::Withdrawn => "request.withdraw",
            CaseStatus::NotDesignated => "request.not_designated",
            CaseStatus::Answered => "request.answer",
            _ => "request.create",
        };
        assert_eq!(actions.last().map(String::as_str), Some(expected_last));
    }
    assert!(
        uketsuke::generate::generate(&app.db, &app.settings, 10, 10, 7)
            .await
            .is_err()
    );
}
