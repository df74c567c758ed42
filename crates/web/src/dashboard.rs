//! The dashboard (ダッシュボード): what needs doing in the signed-in user's bureau —
//! counts by status, answers due within five open days, overdue answers, the next
//! council session and what awaits it, and facilities past their designation date with
//! no approval.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uketsuke_domain::format_wareki;
use uketsuke_store::entities::{council_session, reception_request};
use uketsuke_store::lifecycle::CaseStatus;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::routes::today_in_japan;
use crate::state::AppState;

/// Answers due within this many open days count as "due soon".
const DUE_SOON_OPEN_DAYS: u32 = 5;

/// The statuses in which an answer is still owed.
const AWAITING_ANSWER: [CaseStatus; 3] = CaseStatus::AWAITING_ANSWER;

/// One line of a list on the dashboard.
pub struct CaseLine {
    pub id: i32,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
    pub date_wareki: String,
    pub date_iso: String,
}

pub struct StatusCount {
    pub status: &'static str,
    pub label: &'static str,
    pub count: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    today_wareki: String,
    counts: Vec<StatusCount>,
    due_soon: Vec<CaseLine>,
    overdue: Vec<CaseLine>,
    next_council: Option<String>,
    awaiting_council: usize,
    past_designation: Vec<CaseLine>,
}

fn line(r: &reception_request::Model, date: NaiveDate) -> CaseLine {
    CaseLine {
        id: r.id,
        facility_name: r.facility_name.clone(),
        kind_label: r.kind.label(),
        status_label: r.status.label(),
        date_wareki: format_wareki(date),
        date_iso: date.format("%Y-%m-%d").to_string(),
    }
}

/// The Japanese label of a stored kind.
pub fn kind_label(kind: &str) -> &'static str {
    kind.parse::<uketsuke_domain::RequestKind>()
        .map(|k| k.label())
        .unwrap_or("不明")
}

/// The answer due date in force: staff's override, else the computed one.
pub fn effective_answer_due(r: &reception_request::Model) -> NaiveDate {
    r.answer_due_override.unwrap_or(r.answer_due)
}

/// `GET /dashboard`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<DashboardPage, Error> {
    let bureau = user.user.bureau_id.clone();
    let today = today_in_japan();
    let calendar = state.calendar(&bureau);
    let soon_limit = calendar.add_open_days(today, DUE_SOON_OPEN_DAYS);

    let statuses: Vec<CaseStatus> = reception_request::Entity::find()
        .select_only()
        .column(reception_request::Column::Status)
        .filter(reception_request::Column::BureauId.eq(&bureau))
        .into_tuple()
        .all(&state.db)
        .await?;
    let counts = CaseStatus::ALL
        .iter()
        .map(|s| StatusCount {
            status: s.as_str(),
            label: s.label(),
            count: statuses.iter().filter(|x| *x == s).count(),
        })
        .collect();

    let open = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(&bureau))
        .filter(reception_request::Column::Status.is_in(AWAITING_ANSWER))
        .order_by_asc(reception_request::Column::AnswerDue)
        .all(&state.db)
        .await?;
    let mut due_soon = Vec::new();
    let mut overdue = Vec::new();
    for r in &open {
        let due = effective_answer_due(r);
        if due < today {
            overdue.push(line(r, due));
        } else if due <= soon_limit {
            due_soon.push(line(r, due));
        }
    }

    let next = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(&bureau))
        .filter(council_session::Column::HeldOn.gte(today))
        .order_by_asc(council_session::Column::HeldOn)
        .one(&state.db)
        .await?;
    let answered = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(&bureau))
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_COUNCIL))
        .order_by_asc(reception_request::Column::DesignationDate)
        .all(&state.db)
        .await?;
    let past_designation = answered
        .iter()
        .filter(|r| r.designation_date < today)
        .map(|r| line(r, r.designation_date))
        .collect();

    Ok(DashboardPage {
        layout: Layout::signed_in(&state, &user),
        today_wareki: format_wareki(today),
        counts,
        due_soon,
        overdue,
        next_council: next.map(|c| format!("{}（{}）", format_wareki(c.held_on), c.name)),
        awaiting_council: answered
            .iter()
            .filter(|r| r.designation_date >= today)
            .count(),
        past_designation,
    })
}
