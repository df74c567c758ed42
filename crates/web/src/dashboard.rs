//! The dashboard (ダッシュボード): what needs doing in the signed-in user's bureau —
//! counts by status, answers due within five open days, overdue answers, the next
//! council session and what awaits it, and facilities past their designation date with
//! no approval.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono::NaiveDate;
use uketsuke_domain::{format_wareki, today_in_japan};
use uketsuke_store::dashboard::effective_answer_due;
use uketsuke_store::entities::reception_request;
use uketsuke_store::lifecycle::CaseStatus;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// How many planned council sessions the dashboard lists.
const PLANNED_SHOWN: usize = 12;

/// Answers due within this many open days count as "due soon" (the 期限が近い queue's).
const DUE_SOON_OPEN_DAYS: u32 = uketsuke_store::queues::DUE_SOON_OPEN_DAYS;

/// One line of a list on the dashboard.
pub struct CaseLine {
    pub id: i32,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
    pub date_wareki: String,
    pub date_iso: String,
}

/// A planned 地医協 (開催予定): a session ahead with no 答申 recorded yet — entered on
/// the council page or from the bureau's published `[council_dates]`.
pub struct PlannedCouncil {
    pub id: i32,
    pub name: String,
    pub prefecture: String,
    pub date_wareki: String,
    pub date_iso: String,
}

pub struct StatusCount {
    pub status: &'static str,
    pub label: &'static str,
    pub count: usize,
    /// The list of these cases.
    pub href: String,
}

/// A work queue's tile: its name, what it holds, how many, and its list.
pub struct QueueTile {
    pub id: &'static str,
    pub label: &'static str,
    pub description: String,
    pub count: u64,
    pub href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    today_wareki: String,
    queues: Vec<QueueTile>,
    counts: Vec<StatusCount>,
    due_soon: Vec<CaseLine>,
    overdue: Vec<CaseLine>,
    next_council: Option<String>,
    /// The next planned 地医協 sessions (of the office's prefectures for an office account).
    planned_councils: Vec<PlannedCouncil>,
    awaiting_council: usize,
    past_designation: Vec<CaseLine>,
    /// Approved facilities of past sessions not yet in a list sent to the 実施機関.
    unsent: u64,
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

    let summary =
        uketsuke_store::dashboard::summary(&state.db, &user.scope(), today, soon_limit).await?;
    // An account limited to one office sees its office's prefectures only.
    let office_prefectures: Option<Vec<String>> = match user.user.office_id {
        Some(id) => uketsuke_store::bureaus::find_office(&state.db, id)
            .await?
            .map(|o| o.prefectures.split(',').map(str::to_owned).collect()),
        None => None,
    };
    let planned_councils = uketsuke_store::council::planned(&state.db, &bureau, today)
        .await?
        .into_iter()
        .filter(|s| {
            office_prefectures
                .as_ref()
                .is_none_or(|p| p.contains(&s.prefecture))
        })
        .take(PLANNED_SHOWN)
        .map(|s| PlannedCouncil {
            id: s.id,
            name: s.name,
            prefecture: uketsuke_domain::Prefecture::parse(&s.prefecture)
                .map_or(s.prefecture, |p| p.name().to_owned()),
            date_wareki: format_wareki(s.held_on),
            date_iso: s.held_on.format("%Y-%m-%d").to_string(),
        })
        .collect();
    let unsent = uketsuke_store::council::unlisted_count(&state.db, &user.scope(), today).await?;
    let queues = uketsuke_store::queues::counts(&state.db, &user.scope(), today, soon_limit)
        .await?
        .into_iter()
        .map(|(q, count)| QueueTile {
            id: q.as_str(),
            label: q.label(),
            description: q.description(),
            count,
            href: format!("/cases?queue={}", q.as_str()),
        })
        .collect();
    // 指定済 counts the cases recommended (答申) whose 指定年月日 is still ahead
    // apart, as 答申済, the word the list and the case page use for them.
    let pending = summary.recommended_not_yet_designated;
    let mut counts = Vec::new();
    for (s, n) in &summary.counts {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let href = format!("/cases?status={}", s.as_str());
        if *s == CaseStatus::Designated {
            counts.push(StatusCount {
                status: "recommended",
                label: "答申済",
                count: count(pending),
                href: href.clone(),
            });
            counts.push(StatusCount {
                status: s.as_str(),
                label: s.label(),
                count: count(n.saturating_sub(pending)),
                href,
            });
        } else {
            counts.push(StatusCount {
                status: s.as_str(),
                label: s.label(),
                count: count(*n),
                href,
            });
        }
    }
    Ok(DashboardPage {
        layout: Layout::signed_in(&state, &user),
        today_wareki: format_wareki(today),
        queues,
        counts,
        due_soon: summary
            .due_soon
            .iter()
            .map(|r| line(r, effective_answer_due(r)))
            .collect(),
        overdue: summary
            .overdue
            .iter()
            .map(|r| line(r, effective_answer_due(r)))
            .collect(),
        next_council: summary
            .next_council
            .map(|c| format!("{}（{}）", format_wareki(c.held_on), c.name)),
        planned_councils,
        awaiting_council: summary.awaiting_council,
        past_designation: summary
            .past_designation
            .iter()
            .map(|r| line(r, r.designation_date))
            .collect(),
        unsent,
    })
}
