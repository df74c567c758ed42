//! The router and the pages: the start page (はじめに), `/healthz`, and the stylesheet
//! (`/metrics` is [`crate::metrics`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Session;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::{account, actions, admin, cases, dashboard, deliveries, entry, new_request};

/// The largest upload accepted (the ingest limits then apply to the file itself).
pub const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// Builds the application's router.
pub fn router(state: AppState) -> Router {
    let trusted_proxies = std::sync::Arc::new(state.auth.trusted_proxies.clone());
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ];
    let mut router = Router::new()
        .route("/", get(index))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route(
            "/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/dashboard", get(dashboard::dashboard))
        .route("/cases", get(cases::list))
        .route("/cases.xlsx", get(cases::xlsx))
        .route("/cases.csv", get(cases::csv_download))
        .route("/cases/bulk", post(cases::bulk))
        .route("/cases/{id}", get(cases::show))
        .route("/cases/{id}/propose", post(actions::propose))
        .route("/cases/{id}/approve", post(actions::approve))
        .route(
            "/cases/{id}/answer",
            get(actions::answer_page).post(actions::answer),
        )
        .route("/cases/{id}/answer.xlsx", get(actions::answer_xlsx))
        .route("/cases/{id}/return", post(actions::return_request))
        .route("/cases/{id}/return-letter", get(actions::return_letter))
        .route("/cases/{id}/withdraw", post(actions::withdraw))
        .route("/cases/{id}/answer-due", post(actions::override_answer_due))
        .route(
            "/cases/{id}/edit",
            get(new_request::edit_form).post(new_request::correct),
        )
        .route("/cases/{id}/link", post(actions::link))
        .route("/cases/{id}/unlink", post(actions::unlink))
        .route("/cases/{id}/void-number", post(actions::void_number))
        .route("/cases/{id}/memos", post(crate::case_notes::add_memo))
        .route(
            "/cases/{id}/attachments",
            post(crate::case_notes::attach).layer(axum::extract::DefaultBodyLimit::max(
                crate::case_notes::body_limit(&state.attachment_limits),
            )),
        )
        .route(
            "/cases/{id}/attachments/{aid}",
            get(crate::case_notes::download),
        )
        .route("/calendar", get(crate::calendar::page))
        .route("/reports/monthly", get(crate::reports::monthly))
        .route("/reports/monthly.xlsx", get(crate::reports::monthly_xlsx))
        .route(
            "/admin/council-dates",
            get(crate::council_dates::list).post(crate::council_dates::add),
        )
        .route(
            "/admin/council-dates/{id}",
            post(crate::council_dates::edit),
        )
        .route(
            "/admin/council-dates/{id}/delete",
            post(crate::council_dates::delete),
        )
        .route(
            "/cases/{id}/plan",
            get(cases::plan::edit_form).post(cases::plan::submit_form),
        )
        .route(
            "/cases/{id}/plan/upload",
            post(cases::plan::upload).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/cases/{id}/plan/confirm", post(cases::plan::confirm))
        .route(
            "/cases/{id}/plan/correction",
            get(cases::plan::correction_letter),
        )
        .route(
            "/cases/{id}/transitional",
            post(cases::plan::record_transitional),
        )
        .route(
            "/cases/{id}/transitional/clear",
            post(cases::plan::clear_transitional),
        )
        .route(
            "/council",
            get(actions::council).post(actions::record_council),
        )
        .route("/council/{id}", get(crate::council::session))
        .route(
            "/council/{id}/approvals",
            post(crate::council::add_approvals),
        )
        .route(
            "/council/{id}/preview.xlsx",
            get(crate::council::preview_xlsx),
        )
        .route("/council/{id}/lists/{seq}", get(crate::council::sent_list))
        .route("/admin/users", get(admin::list).post(admin::create))
        .route("/admin/users/{id}/unlock", post(admin::unlock))
        .route("/deliveries", get(deliveries::list))
        .route(
            "/deliveries/{id}/attachment",
            get(crate::council::delivery_attachment),
        )
        .route("/deliveries/{id}/resend", post(deliveries::resend))
        .route("/deliveries/{id}/send-now", post(deliveries::send_now))
        .route("/not-designated", get(deliveries::proposals))
        .route("/not-designated/{id}", post(deliveries::confirm))
        .route(
            "/not-designated/{id}/reflected",
            post(deliveries::reflected),
        )
        .route(
            "/not-designated/reflection.xlsx",
            get(deliveries::reflection_xlsx),
        )
        .route(
            "/not-designated/reflection.csv",
            get(deliveries::reflection_csv),
        )
        .route("/registry", get(crate::registry::page))
        .route("/forms/blank.xlsx", get(entry::blank_form))
        .route("/forms/plan.xlsx", get(entry::blank_plan))
        .route(
            "/requests/new",
            get(new_request::form).post(new_request::create),
        )
        .route(
            "/requests/upload",
            get(entry::upload_form)
                .post(entry::upload)
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/requests/upload/{token}", post(entry::confirm))
        .route(
            "/requests/upload/{token}/rows/{index}",
            get(entry::open_row),
        )
        .route(
            "/requests/upload/{token}/rejected/{index}",
            get(entry::open_rejected),
        )
        .route("/requests/upload/jobs/{id}", get(crate::imports::page))
        .route("/letters/answers", post(crate::letters::answers))
        .route("/schedule/{bureau}/{year}", get(crate::schedule::page))
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::scrape))
        .route("/static/site.css", get(stylesheet))
        .route("/static/print.js", get(print_script))
        .merge(crate::api::router())
        .layer(axum::middleware::from_fn(crate::guard::reject_nul))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(axum::middleware::from_fn(crate::access_log::log))
        .layer(axum::middleware::from_fn_with_state(
            trusted_proxies,
            crate::access_log::client_address,
        ))
        .with_state(state);
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// The start page (はじめに).
#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    layout: Layout,
    bureau_count: usize,
    today_wareki: String,
    today_iso: String,
    requests: u64,
    numbers: u64,
    demo: bool,
}

#[tracing::instrument(skip_all)]
async fn index(
    State(state): State<AppState>,
    session: Option<Session>,
) -> Result<IndexPage, Error> {
    // Only a signed-in user sees counts, and only of their own bureau (and office).
    let scope =
        session
            .as_ref()
            .and_then(|s| s.user.as_ref())
            .map(|u| uketsuke_store::lifecycle::Scope {
                bureau_id: u.bureau_id.clone(),
                office_id: u.office_id,
            });
    let (requests, numbers) = match &scope {
        Some(scope) => uketsuke_store::dashboard::totals(&state.db, scope).await?,
        None => (0, 0),
    };
    let today = today_in_japan();
    Ok(IndexPage {
        layout: Layout::public(&state, session.as_ref()),
        bureau_count: state.site.bureau_names.len(),
        today_wareki: uketsuke_domain::format_wareki(today),
        today_iso: today.format("%Y-%m-%d").to_string(),
        requests,
        numbers,
        demo: state.site.demo,
    })
}

/// `GET /healthz`: the instance's health as JSON, for load balancers and monitoring.
///
/// - `ok` (200): the database answers, no mail is dead, the scheduler ticks;
/// - `degraded` (200): the instance serves pages, but something needs a person —
///   dead letters (送信不能のメール) or a stalled scheduler; `reasons` says which. A load
///   balancer keeps sending traffic (taking the instance out would not help: the dead
///   letters are in the shared database); monitoring alerts on it;
/// - `down` (503): the database does not answer; a load balancer takes the instance out.
#[tracing::instrument(skip_all)]
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let db = uketsuke_store::db::health(&state.db).await;
    let outbox = if db.ok {
        uketsuke_store::monitor::outbox_counts(&state.db).await.ok()
    } else {
        None
    };
    let scheduler = state.metrics.scheduler.status(crate::metrics::unix_now());
    let mut reasons = Vec::new();
    if !db.ok {
        reasons.push(serde_json::json!({
            "code": "database_unreachable",
            "message": "データベースに接続できません",
        }));
    }
    if let Some(counts) = outbox.as_ref().filter(|c| c.dead > 0) {
        reasons.push(serde_json::json!({
            "code": "dead_letters",
            "message": format!(
                "送信不能のメールが {} 件あります（送信記録の画面で宛先と理由を確認し、再送してください）",
                counts.dead
            ),
        }));
    }
    if scheduler.stalled {
        reasons.push(serde_json::json!({
            "code": "scheduler_stalled",
            "message": format!(
                "定時処理が {} 秒間動いていません（{} 秒を超えると停止とみなします）",
                scheduler.seconds_since_tick.unwrap_or_default(),
                scheduler.stalled_after_secs.unwrap_or_default()
            ),
        }));
    }
    let (status, code) = if !db.ok {
        ("down", StatusCode::SERVICE_UNAVAILABLE)
    } else if reasons.is_empty() {
        ("ok", StatusCode::OK)
    } else {
        ("degraded", StatusCode::OK)
    };
    let body = serde_json::json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "database": db,
        "outbox": outbox,
        "scheduler": scheduler,
        "reasons": reasons,
    });
    (code, Json(body))
}

/// The print button's script (the only script: the pages work without it).
async fn print_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/print.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/site.css"),
    )
}

/// Today's date in Japan (one clock for the whole system).
pub use uketsuke_domain::today_in_japan;
