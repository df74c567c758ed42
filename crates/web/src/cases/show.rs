//! The case page (案件詳細, `GET /cases/{id}`): every field of 別紙1, the deadlines,
//! the verdict, the numbers, the sibling, the council session, the history and what the
//! user may do now; with a notice on top after an action.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::Value;
use uketsuke_domain::{format_wareki, today_in_japan};
use uketsuke_store::cases::CaseDetail;
use uketsuke_store::dashboard::effective_answer_due;
use uketsuke_store::entities::reception_request;
use uketsuke_store::lifecycle::{CaseStatus, Decision, FounderKind, NumberStatus};

use super::history::{HistoryLine, history_lines};
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::view::{JpDate, jst};

/// A number issued for the case.
pub struct NumberLine {
    pub code: String,
    pub status: &'static str,
    pub live: bool,
    pub proposed: bool,
    pub status_label: &'static str,
    pub combined_dental: bool,
    pub created: String,
    pub approved: String,
    pub voided: String,
    pub void_reason: String,
    /// 指定確認: the date (和暦) of the latest published list that holds the number, and
    /// its file; empty when none does.
    pub confirmed: String,
    pub confirmed_source: String,
}

/// The 医科/歯科 sibling.
pub struct SiblingLink {
    pub id: i32,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
pub struct CasePage {
    layout: Layout,
    r: reception_request::Model,
    kind_label: &'static str,
    status_label: &'static str,
    bureau_name: String,
    office_name: String,
    designation: JpDate,
    request_date: Option<JpDate>,
    received: JpDate,
    submission_deadline: JpDate,
    /// Where the 提出期限 comes from: published by the bureau, or assumed.
    deadline_basis: String,
    answer_due: JpDate,
    answer_due_override: Option<JpDate>,
    effective_due: JpDate,
    overdue: bool,
    implementing_body_due: JpDate,
    answered: Option<JpDate>,
    returned: Option<JpDate>,
    withdrawn: Option<JpDate>,
    designated: Option<JpDate>,
    founder_corporation: bool,
    judged_return: bool,
    decision_label: &'static str,
    reasons: Vec<String>,
    warnings: Vec<String>,
    numbers: Vec<NumberLine>,
    sibling: Option<SiblingLink>,
    council: Option<(String, JpDate)>,
    facility_phone: String,
    history: Vec<HistoryLine>,
    actions: crate::actions::Panel,
    plan: super::plan::PlanSection,
    notice: Option<Notice>,
    /// The case's memos, oldest first.
    memos: Vec<MemoLine>,
    /// The attached scanned request, newest version first.
    attachments: Vec<AttachmentLine>,
    /// The latest attachment version shown (0: none), sent back when attaching.
    attachment_version: i32,
    /// Whether the user may write memos and attach (担当 or above).
    may_write: bool,
    /// The size limit of an attachment, in words.
    attachment_limit: String,
}

/// A memo on the case page.
pub struct MemoLine {
    pub author: String,
    pub at: String,
    pub body: String,
}

/// A version of the attached scanned request.
pub struct AttachmentLine {
    pub id: i32,
    pub seq: i32,
    pub file_name: String,
    pub kind: &'static str,
    pub size: String,
    pub uploaded_by: String,
    pub at: String,
    /// The latest version (the others are kept as history).
    pub current: bool,
}

/// A size in words (KB below a megabyte).
fn size_words(n: i64) -> String {
    if n < 1024 * 1024 {
        format!("{} KB", (n + 1023) / 1024)
    } else {
        format!(
            "{}.{} MB",
            n / (1024 * 1024),
            (n % (1024 * 1024)) * 10 / (1024 * 1024)
        )
    }
}

/// A JSON array of texts as stored in `reasons` / `warnings`.
pub(super) fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        Value::String(s) => serde_json::from_str::<Vec<String>>(s).unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub(super) fn number_status_label(s: NumberStatus) -> &'static str {
    match s {
        NumberStatus::Proposed => "起案中（決裁待ち）",
        other => other.label(),
    }
}

/// A message at the top of the case page: what was just done, or why it was not.
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

impl Notice {
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            error: true,
        }
    }

    /// The word for an action just done (`?done=approve`).
    fn done(action: &str) -> Option<Self> {
        let text = match action {
            "unlink" => Some("医科・歯科の併設の関連付けを解除しました。"),
            "answer-due" => Some("回答期限を変更しました。"),
            "edit" => Some("訂正を保存しました。期限と判定は訂正後の内容で計算し直しています。"),
            "plan" => Some(
                "導入計画書を受け付けました。点検の結果は「導入計画書（別紙2）」欄のとおりです。",
            ),
            "plan-confirm" => Some("導入計画書を確認済にしました。"),
            "transitional" => Some("経過措置の届出を記録しました。導入計画書は不要です。"),
            "transitional-clear" => Some("経過措置の届出の記録を取り消しました。"),
            "memo" => Some("メモを追加しました。"),
            "attach" => Some("依頼書のファイルを添付しました。"),
            _ => None,
        };
        if let Some(text) = text {
            return Some(Self {
                text: text.to_owned(),
                error: false,
            });
        }
        use uketsuke_store::lifecycle::Action;
        let action = Action::parse(action)?;
        let next = match action {
            Action::Propose => {
                "決裁者（起案した職員とは別の職員）の決裁を待ちます（決裁待ち）。併設として関連付けた依頼があれば、その番号も同時に起案しています。"
            }
            Action::Approve => {
                "受付番号が確定しました。回答書を印刷して送付し、「回答済」にしてください（回答待ち）。"
            }
            Action::Answer => "地方社会保険医療協議会の答申を待ちます。",
            Action::Return => "返戻の通知を印刷して送付してください。",
            Action::Withdraw => {
                "起案・決裁済みの番号は無効になりました（回答後の取下げは「8. 未指定」）。"
            }
            Action::Void => "無効にした番号は二度と使われません。",
            _ => "",
        };
        Some(Self {
            text: format!("「{}」を記録しました。{next}", action.label()),
            error: false,
        })
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

/// `GET /cases/{id}`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Query(query): Query<ShowQuery>,
) -> Result<CasePage, Error> {
    case_page(&state, &user, id, Notice::done(&query.done)).await
}

/// The case page, with a notice on top if any.
pub async fn case_page(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    notice: Option<Notice>,
) -> Result<CasePage, Error> {
    let db = &state.db;
    let today = today_in_japan();
    let CaseDetail {
        case: r,
        facility,
        numbers,
        sibling,
        council,
        bureau_name,
        office_name,
    } = uketsuke_store::cases::detail(db, &user.scope(), id)
        .await?
        .ok_or(Error::NotFound)?;
    let sibling = sibling.map(|s| SiblingLink {
        id: s.id,
        facility_name: s.facility_name,
        kind_label: s.kind.label(),
        status_label: s.status.label(),
    });
    let council = council.map(|c| (c.name, JpDate::new(c.held_on)));
    let entries = uketsuke_store::cases::history(db, &r, &numbers).await?;
    let names = uketsuke_store::cases::history_names(db, &r.bureau_id, &entries).await?;
    let history = history_lines(&entries, &names);

    let memos = uketsuke_store::memos::list(db, &user.scope(), r.id)
        .await?
        .into_iter()
        .map(|m| MemoLine {
            author: m.author,
            at: jst(m.created_at),
            body: m.body,
        })
        .collect();
    let files = uketsuke_store::attachments::list(db, &user.scope(), r.id).await?;
    let attachment_version = files.first().map_or(0, |a| a.seq);
    let attachments = files
        .into_iter()
        .map(|a| AttachmentLine {
            current: a.seq == attachment_version,
            id: a.id,
            seq: a.seq,
            kind: uketsuke_store::attachments::FileKind::of_mime(&a.content_type)
                .map_or("", |k| k.label()),
            file_name: a.file_name,
            size: size_words(a.size_bytes),
            uploaded_by: a.uploaded_by,
            at: jst(a.uploaded_at),
        })
        .collect();

    let due = effective_answer_due(&r);
    let actions = crate::actions::panel(state, user, &r, &numbers, facility.as_ref()).await?;
    let plan = super::plan::section(state, user, &r).await?;
    Ok(CasePage {
        plan,
        actions,
        notice,
        memos,
        attachments,
        attachment_version,
        may_write: user.role >= uketsuke_store::users::Role::Clerk,
        attachment_limit: format!("{} MB", state.attachment_limits.max_bytes / (1024 * 1024)),
        layout: Layout::signed_in(state, user),
        kind_label: r.kind.label(),
        // 答申済 until the 指定年月日, then 指定済.
        status_label: uketsuke_store::council::status_label(&r, today),
        bureau_name,
        office_name,
        designation: JpDate::new(r.designation_date),
        request_date: JpDate::opt(r.request_date),
        received: JpDate::new(r.received_on),
        submission_deadline: JpDate::new(r.submission_deadline),
        deadline_basis: state
            .bureau(&r.bureau_id)
            .map(|b| b.deadlines.basis())
            .unwrap_or_default(),
        answer_due: JpDate::new(r.answer_due),
        answer_due_override: JpDate::opt(r.answer_due_override),
        effective_due: JpDate::new(due),
        overdue: uketsuke_store::dashboard::is_overdue(&r, today),
        implementing_body_due: JpDate::new(r.implementing_body_due),
        answered: JpDate::opt(r.answered_on),
        returned: JpDate::opt(r.returned_on),
        withdrawn: JpDate::opt(r.withdrawn_on),
        designated: JpDate::opt(r.designated_on),
        founder_corporation: r.founder_kind == FounderKind::Corporation,
        judged_return: r.decision == Decision::Return,
        decision_label: r.decision.label(),
        reasons: texts(&r.reasons),
        warnings: texts(&r.warnings),
        numbers: numbers
            .iter()
            .map(|n| NumberLine {
                code: n.code.clone(),
                status: n.status.as_str(),
                live: n.status.is_live(),
                proposed: n.status == NumberStatus::Proposed,
                status_label: number_status_label(n.status),
                combined_dental: n.combined_dental,
                created: jst(n.created_at),
                approved: n.approved_at.map(jst).unwrap_or_default(),
                voided: n.voided_at.map(jst).unwrap_or_default(),
                void_reason: n.void_reason.clone().unwrap_or_default(),
                confirmed: n
                    .designation_confirmed_on
                    .map(|d| format!("{}現在の名簿に掲載", format_wareki(d)))
                    .unwrap_or_default(),
                confirmed_source: n.designation_confirmed_source.clone().unwrap_or_default(),
            })
            .collect(),
        sibling,
        council,
        facility_phone: facility.and_then(|f| f.phone).unwrap_or_default(),
        history,
        r,
    })
}
