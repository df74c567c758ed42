//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers and
//! types themselves (utoipa), so it cannot drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{actions, bulk, cases, council, memos, plan, registry};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "uketsuke API",
        description = "受付番号の事務（依頼・起案・決裁・回答・返戻・取下げ・無効化・未指定・地医協）を、画面と同じ規則で扱う API。トークンは `uketsuke token create USERNAME` で作成します。"
    ),
    paths(
        cases::create,
        cases::list,
        cases::show,
        cases::correct,
        actions::act,
        bulk::bulk,
        plan::show,
        plan::submit,
        memos::list,
        memos::add,
        council::create,
        council::add_approvals,
        council::show,
        council::list_xlsx,
        council::sent_list,
        council::deliveries,
        registry::unconfirmed,
    ),
    components(schemas(super::ErrorBody, super::ErrorDetail, super::FieldError)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document (no token needed: it describes, it does not reveal).
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
