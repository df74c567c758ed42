//! Scale data: `uketsuke demo generate` makes valid, realistic data deterministically.

use sea_orm::{EntityTrait, PaginatorTrait};
use uketsuke_domain::InstitutionCode;
use uketsuke_store::entities::{facility, issued_number, reception_request, registry_code};
use uketsuke_store::requests::status;
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
    for s in status::ALL {
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
    assert!(
        uketsuke::generate::generate(&app.db, &app.settings, 10, 10, 7)
            .await
            .is_err()
    );
}
