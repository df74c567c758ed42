//! Bulk work from the case list (一括処理, `POST /cases/bulk`): the list's checkboxes
//! send the chosen cases (`ids`, each with the version shown as `v{id}`) and the
//! button pressed (`action`):
//!
//! - `download`: the chosen cases as a workbook, at once;
//! - `approve` (決裁) and `answer` (回答済): first a page naming the cases and what will
//!   happen (nothing is changed), whose button sends the same cases and versions back
//!   with `confirm=1`; then each case goes through the lifecycle's guarded change on
//!   its own, with its own version check ([`uketsuke_store::bulk`]), and a page reports
//!   per case 成功 / 他の職員が先に処理 / 権限なし / 状態が違う / 見つかりません.
//!
//! Ten approvals in the 決裁待ち queue are three clicks: 「すべて選択」, 「決裁する」, 「決裁を確定」.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uketsuke_domain::today_in_japan;
use uketsuke_store::bulk::{self, Item, MAX_BULK};
use uketsuke_store::lifecycle::{Action, Command};

use super::export::export_row;
use super::offices_of;
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::view::download;

/// A bulk action that changes cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BulkAction {
    Approve,
    Answer,
}

impl BulkAction {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Self::Approve),
            "answer" => Some(Self::Answer),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Answer => "answer",
        }
    }

    fn action(self) -> Action {
        match self {
            Self::Approve => Action::Approve,
            Self::Answer => Action::Answer,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Approve => "決裁",
            Self::Answer => "回答済にする",
        }
    }

    /// What confirming does, in a sentence.
    fn consequence(self) -> &'static str {
        match self {
            Self::Approve => {
                "起案された受付番号を決裁し、確定します（決裁した番号は取り消せず、無効化しても再び使われません）。併設の相手方の番号も同時に決裁されます。"
            }
            Self::Answer => {
                "本日付けで回答書を送付したものとして記録します（回答済）。回答書の印刷はこの処理とは別です。"
            }
        }
    }

    fn command(self) -> Command {
        match self {
            Self::Approve => Command::Approve,
            Self::Answer => Command::Answer {
                on: today_in_japan(),
            },
        }
    }
}

/// The form as sent: every field, in order (`ids` repeats).
struct BulkForm {
    csrf: String,
    action: String,
    confirm: bool,
    back: String,
    items: Vec<Item>,
}

impl BulkForm {
    fn read(fields: Vec<(String, String)>) -> Result<Self, Error> {
        let mut form = BulkForm {
            csrf: String::new(),
            action: String::new(),
            confirm: false,
            back: String::new(),
            items: Vec::new(),
        };
        let mut ids = Vec::new();
        let mut versions: HashMap<i32, i32> = HashMap::new();
        for (name, value) in fields {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "action" => form.action = value,
                "confirm" => form.confirm = value == "1",
                "back" => form.back = value,
                "ids" => {
                    let id = value.trim().parse::<i32>().map_err(|_| {
                        Error::Unprocessable(format!(
                            "選んだ案件の受付ID「{value}」を読み取れません（一覧から選び直してください）"
                        ))
                    })?;
                    ids.push(id);
                }
                other => {
                    if let Some(id) = other.strip_prefix('v').and_then(|i| i.parse::<i32>().ok())
                        && let Ok(v) = value.trim().parse::<i32>()
                    {
                        versions.insert(id, v);
                    }
                }
            }
        }
        form.items = ids
            .into_iter()
            .map(|id| Item {
                id,
                version: versions.get(&id).copied(),
            })
            .collect();
        form.items = bulk::dedupe(&form.items);
        Ok(form)
    }

    /// The list's query string to go back to (only the characters a query string of
    /// ours holds; anything else is dropped).
    fn back_href(&self) -> String {
        let ok = self
            .back
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "%&=_.-+".contains(c));
        if ok && !self.back.is_empty() {
            format!("/cases?{}", self.back)
        } else {
            "/cases".to_owned()
        }
    }
}

/// A case on the confirmation page.
pub struct ConfirmRow {
    pub id: i32,
    pub version: Option<i32>,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
    pub code: String,
    /// The action is possible from its status now (else it will be reported).
    pub ready: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_confirm.html")]
pub struct ConfirmPage {
    layout: Layout,
    action: &'static str,
    action_label: &'static str,
    consequence: &'static str,
    rows: Vec<ConfirmRow>,
    /// Ids named but not found within the user's bureau and office.
    missing: Vec<i32>,
    ready: usize,
    back: String,
    back_href: String,
}

/// A case on the result page.
pub struct ResultRow {
    pub id: i32,
    pub facility_name: String,
    pub outcome: &'static str,
    pub outcome_label: &'static str,
    pub success: bool,
    pub message: String,
    pub status_label: &'static str,
    /// The case can be opened (the user may see it).
    pub visible: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_result.html")]
pub struct ResultPage {
    layout: Layout,
    action_label: &'static str,
    rows: Vec<ResultRow>,
    /// (label, count) of each outcome that occurred.
    tally: Vec<(&'static str, usize)>,
    succeeded: usize,
    back_href: String,
}

/// `POST /cases/bulk`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn bulk(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let form = BulkForm::read(fields)?;
    user.check_csrf(&form.csrf)?;
    if form.items.is_empty() {
        return Err(Error::Unprocessable(
            "処理する案件が選ばれていません。一覧の左端のチェックボックスで案件を選んでから、ボタンを押してください".to_owned(),
        ));
    }
    if form.items.len() > MAX_BULK {
        return Err(Error::Unprocessable(format!(
            "一度に処理できるのは{MAX_BULK}件までです（{}件選ばれています）",
            form.items.len()
        )));
    }
    if form.action == "download" {
        return selection_xlsx(&state, &user, &form).await;
    }
    let action = BulkAction::parse(&form.action).ok_or_else(|| {
        Error::Unprocessable(format!(
            "「{}」という一括処理はありません（決裁・回答済・ダウンロードのいずれかです）",
            form.action
        ))
    })?;
    user.require(action.action().rule().role)?;
    if form.confirm {
        run(&state, &user, &form, action).await
    } else {
        confirm(&state, &user, &form, action).await
    }
}

/// The chosen cases as a workbook (those the user may see; in the order chosen).
async fn selection_xlsx(
    state: &AppState,
    user: &CurrentUser,
    form: &BulkForm,
) -> Result<Response, Error> {
    let today = today_in_japan();
    let ids: Vec<i32> = form.items.iter().map(|i| i.id).collect();
    let found = uketsuke_store::cases::selected(&state.db, &user.scope(), &ids).await?;
    if found.is_empty() {
        return Err(Error::NotFound);
    }
    let offices = offices_of(state, user).await?;
    let names: HashMap<i32, String> = offices.iter().map(|o| (o.id, o.name.clone())).collect();
    let rows: Vec<_> = found
        .iter()
        .map(|row| export_row(row, &names, today))
        .collect();
    let conditions = format!("一覧で選んだ {} 件", rows.len());
    let bytes =
        tokio::task::spawn_blocking(move || uketsuke_export::case_list_xlsx(&rows, &conditions))
            .await
            .map_err(|e| Error::Internal(format!("xlsx task failed: {e}")))?
            .map_err(|e| Error::Internal(format!("xlsx: {e}")))?;
    Ok(download(
        bytes,
        uketsuke_export::XLSX_MIME,
        "選択した案件",
        "xlsx",
    ))
}

/// The confirmation page: nothing changes yet.
async fn confirm(
    state: &AppState,
    user: &CurrentUser,
    form: &BulkForm,
    action: BulkAction,
) -> Result<Response, Error> {
    let today = today_in_japan();
    let ids: Vec<i32> = form.items.iter().map(|i| i.id).collect();
    let found = uketsuke_store::cases::selected(&state.db, &user.scope(), &ids).await?;
    let versions: HashMap<i32, Option<i32>> =
        form.items.iter().map(|i| (i.id, i.version)).collect();
    let rule = action.action().rule();
    let rows: Vec<ConfirmRow> = found
        .iter()
        .map(|row| {
            let r = &row.request;
            ConfirmRow {
                id: r.id,
                version: versions.get(&r.id).copied().flatten(),
                facility_name: r.facility_name.clone(),
                kind_label: r.kind.label(),
                status_label: uketsuke_store::council::status_label(r, today),
                code: row
                    .number
                    .as_ref()
                    .filter(|n| n.status.is_live())
                    .map(|n| n.code.clone())
                    .unwrap_or_default(),
                ready: rule.permits(r.status, user.role),
            }
        })
        .collect();
    let missing = ids
        .iter()
        .copied()
        .filter(|id| !rows.iter().any(|r| r.id == *id))
        .collect();
    let ready = rows.iter().filter(|r| r.ready).count();
    Ok(ConfirmPage {
        layout: Layout::signed_in(state, user),
        action: action.as_str(),
        action_label: action.label(),
        consequence: action.consequence(),
        rows,
        missing,
        ready,
        back: form.back.clone(),
        back_href: form.back_href(),
    }
    .into_response())
}

/// Runs the action on each case and reports.
async fn run(
    state: &AppState,
    user: &CurrentUser,
    form: &BulkForm,
    action: BulkAction,
) -> Result<Response, Error> {
    let today = today_in_japan();
    let results =
        bulk::apply_each(&state.db, &user.caller(), &form.items, &action.command()).await?;
    tracing::info!(
        action = action.as_str(),
        cases = results.len(),
        succeeded = results.iter().filter(|r| r.outcome.is_success()).count(),
        "bulk action"
    );
    let mut tally: Vec<(&'static str, usize)> = Vec::new();
    for r in &results {
        let label = r.outcome.label();
        match tally.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => tally.push((label, 1)),
        }
    }
    let rows: Vec<ResultRow> = results
        .iter()
        .map(|r| ResultRow {
            id: r.id,
            facility_name: r
                .case
                .as_ref()
                .map(|c| c.facility_name.clone())
                .unwrap_or_default(),
            outcome: r.outcome.as_str(),
            outcome_label: r.outcome.label(),
            success: r.outcome.is_success(),
            message: r.message.clone(),
            status_label: r
                .case
                .as_ref()
                .map_or("", |c| uketsuke_store::council::status_label(c, today)),
            visible: r.case.is_some(),
        })
        .collect();
    let succeeded = rows.iter().filter(|r| r.success).count();
    Ok(ResultPage {
        layout: Layout::signed_in(state, user),
        action_label: action.label(),
        rows,
        tally,
        succeeded,
        back_href: form.back_href(),
    }
    .into_response())
}
