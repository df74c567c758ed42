//! The delivery log (送信記録) and the 未指定 review (未指定の確認): what the mailer sent
//! or could not send, when a queued message is next tried, with 再送 for an approver and
//! 今すぐ送信 for an administrator; and the requests whose designation date has passed
//! with no approval, which an approver confirms as 「8. 未指定」 one by one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;
use uketsuke_domain::{format_wareki, today_in_japan};
use uketsuke_store::lifecycle::{self, Command};
use uketsuke_store::outbox;
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::view::jst as jst_wareki;
use crate::view::{jst_minute as jst, percent};

/// One message in the log.
pub struct Delivery {
    pub id: i64,
    pub created: String,
    pub subject: String,
    pub recipients: String,
    pub attachment: String,
    pub status_label: &'static str,
    pub status: String,
    pub attempts: i32,
    pub last_error: String,
    pub sent: String,
    /// 次回の送信予定 (a queued message only), in 和暦 with the time.
    pub next_attempt: String,
    pub can_resend: bool,
    /// A queued message an administrator may send now (今すぐ送信).
    pub can_send_now: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "deliveries.html")]
pub struct DeliveriesPage {
    layout: Layout,
    deliveries: Vec<Delivery>,
    approver: bool,
    admin: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    now: Option<i64>,
}

/// `GET /deliveries`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<NoticeQuery>,
) -> Result<DeliveriesPage, Error> {
    let rows = outbox::recent(&state.db, &user.user.bureau_id, 200).await?;
    let approver = user.role >= Role::Approver;
    let admin = user.role >= Role::Admin;
    let deliveries = rows
        .into_iter()
        .map(|r| {
            let recipients: Vec<String> =
                serde_json::from_value(r.recipients.clone()).unwrap_or_default();
            Delivery {
                id: r.id,
                created: jst(r.created_at),
                subject: r.subject,
                recipients: recipients.join(", "),
                attachment: r.attachment_name.unwrap_or_default(),
                status_label: outbox::status::label(&r.status),
                can_resend: approver
                    && (r.status == outbox::status::SENT || r.status == outbox::status::DEAD),
                can_send_now: admin && r.status == outbox::status::QUEUED,
                next_attempt: if r.status == outbox::status::QUEUED {
                    jst_wareki(r.next_attempt_at)
                } else {
                    String::new()
                },
                status: r.status,
                attempts: r.attempts,
                last_error: r.last_error.unwrap_or_default(),
                sent: r.sent_at.map(jst).unwrap_or_default(),
            }
        })
        .collect();
    Ok(DeliveriesPage {
        layout: Layout::signed_in(&state, &user),
        deliveries,
        approver,
        admin,
        notice: query.now.map(|id| {
            format!(
                "メール（ID {id}）を送信の対象にしました。次の送信処理（通常1分以内）で送信します。"
            )
        }),
    })
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /deliveries/{id}/resend` (決裁).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, outbox_id = id))]
pub async fn resend(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Approver)?;
    let row = outbox::find(&state.db, id).await?.ok_or(Error::NotFound)?;
    user.require_bureau(row.bureau_id.as_deref().unwrap_or_default())?;
    outbox::resend(&state.db, &row, &user.actor()).await?;
    Ok(Redirect::to("/deliveries"))
}

/// `POST /deliveries/{id}/send-now` (管理): makes a queued message due now, audited.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, outbox_id = id))]
pub async fn send_now(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let row = outbox::find(&state.db, id).await?.ok_or(Error::NotFound)?;
    user.require_bureau(row.bureau_id.as_deref().unwrap_or_default())?;
    outbox::send_now(&state.db, &row, &user.actor()).await?;
    Ok(Redirect::to(&format!("/deliveries?now={id}")))
}

/// A request to confirm as 未指定.
pub struct Proposal {
    pub id: i32,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
    pub designation_wareki: String,
    pub designation_iso: String,
}

/// A case to set to 8. 未指定 in the 管理システム (反映待ち).
pub struct ToReflect {
    pub id: i32,
    pub version: i32,
    pub code: String,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "not_designated.html")]
pub struct NotDesignatedPage {
    layout: Layout,
    proposals: Vec<Proposal>,
    approver: bool,
    done: Option<String>,
    to_reflect: Vec<ToReflect>,
    clerk: bool,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /not-designated`: requests whose designation date has passed with no approval.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn proposals(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<DoneQuery>,
) -> Result<NotDesignatedPage, Error> {
    let today = today_in_japan();
    let rows = uketsuke_store::dashboard::past_designation(&state.db, &user.scope(), today).await?;
    let proposals = rows
        .iter()
        .map(|r| Proposal {
            id: r.id,
            facility_name: r.facility_name.clone(),
            kind_label: r.kind.label(),
            status_label: r.status.label(),
            designation_wareki: format_wareki(r.designation_date),
            designation_iso: r.designation_date.format("%Y-%m-%d").to_string(),
        })
        .collect();
    let to_reflect = uketsuke_store::reflection::pending(&state.db, &user.scope())
        .await?
        .into_iter()
        .map(|p| ToReflect {
            id: p.request.id,
            version: p.request.lock_version,
            code: p.code.unwrap_or_default(),
            facility_name: p.request.facility_name,
            kind_label: p.request.kind.label(),
            reason: p.request.not_designated_reason.unwrap_or_default(),
        })
        .collect();
    Ok(NotDesignatedPage {
        layout: Layout::signed_in(&state, &user),
        proposals,
        approver: user.role >= Role::Approver,
        done: query.done,
        to_reflect,
        clerk: user.role >= Role::Clerk,
    })
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    reason: String,
}

/// `POST /not-designated/{id}`: an approver confirms one request as 「8. 未指定」.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ConfirmForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    let command = Command::NotDesignated {
        reason: form.reason,
    };
    let case = lifecycle::apply(&state.db, &user.caller(), id, form.version, &command).await?;
    Ok(Redirect::to(&format!(
        "/not-designated?done={}",
        percent(&format!("{} を「8. 未指定」として", case.facility_name))
    )))
}

/// The cases of the user's scope to set to 8. 未指定 in the 管理システム, as rows.
async fn reflection_rows(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<uketsuke_export::ReflectionRow>, Error> {
    Ok(
        uketsuke_store::reflection::pending(&state.db, &user.scope())
            .await?
            .into_iter()
            .map(|p| uketsuke_export::ReflectionRow {
                code: p.code.unwrap_or_default(),
                facility_name: p.request.facility_name,
                kind: p.request.kind.label(),
                address: p.request.facility_address,
                designation: p.request.designation_date,
                reason: p.request.not_designated_reason.unwrap_or_default(),
            })
            .collect(),
    )
}

/// `GET /not-designated/reflection.xlsx`: the list to enter in the 管理システム.
pub async fn reflection_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<axum::response::Response, Error> {
    let rows = reflection_rows(&state, &user).await?;
    let bytes =
        uketsuke_export::reflection_xlsx(&rows).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(crate::view::download(
        bytes,
        uketsuke_export::XLSX_MIME,
        "未指定への変更一覧",
        "xlsx",
    ))
}

/// `GET /not-designated/reflection.csv`: the same list as CSV (UTF-8 with a BOM).
pub async fn reflection_csv(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<axum::response::Response, Error> {
    let rows = reflection_rows(&state, &user).await?;
    Ok(crate::view::download(
        uketsuke_export::reflection_csv(&rows),
        "text/csv; charset=utf-8",
        "未指定への変更一覧",
        "csv",
    ))
}

#[derive(Deserialize)]
pub struct ReflectedForm {
    csrf: String,
}

/// `POST /not-designated/{id}/reflected` (担当): records that the case's 8. 未指定 was
/// entered in the 管理システム. Done twice, the second is told it was done already.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn reflected(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ReflectedForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    let case = uketsuke_store::reflection::record(&state.db, &user.caller(), id).await?;
    Ok(Redirect::to(&format!(
        "/not-designated?done={}",
        percent(&format!("{} の管理システムへの反映を", case.facility_name))
    )))
}
