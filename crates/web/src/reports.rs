//! The monthly report (月報, `GET /reports/monthly?month=2026-12` and the same as
//! `.xlsx`): the requests received (受付日) in the month, counted by office and kind, one
//! column per current status, with totals. Within the user's scope like every list:
//! their bureau, and only their office when the account is limited to one.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Response;
use uketsuke_domain::RequestKind;
use uketsuke_store::lifecycle::CaseStatus;

use crate::auth::CurrentUser;
use crate::calendar::{MonthQuery, last_day, month_of, wareki_month};
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// One row: an office and a kind with a count per status ([`CaseStatus::ALL`]'s order).
pub struct Row {
    pub office: String,
    pub kind: &'static str,
    pub counts: Vec<u64>,
    pub total: u64,
}

/// The report's figures.
pub struct Report {
    /// 令和8年12月.
    pub heading: String,
    pub month_iso: String,
    pub statuses: Vec<&'static str>,
    pub rows: Vec<Row>,
    /// Per status, then the grand total.
    pub totals: Vec<u64>,
    pub total: u64,
    pub scope_label: String,
}

async fn report(state: &AppState, user: &CurrentUser, month: &str) -> Result<Report, Error> {
    let first = month_of(month)?;
    let last = last_day(first);
    let scope = user.scope();
    let counts = uketsuke_store::reports::counts(&state.db, &scope, first, last).await?;
    let offices = uketsuke_store::reports::offices(&state.db, &scope.bureau_id).await?;
    // Offices in the bureau's order (no office last), kinds in their order.
    let mut office_ids: Vec<Option<i32>> = offices.iter().map(|o| Some(o.id)).collect();
    office_ids.push(None);
    let mut rows = Vec::new();
    for office in &office_ids {
        for kind in RequestKind::ALL {
            let of = |s: &CaseStatus| {
                counts
                    .iter()
                    .filter(|c| c.office_id == *office && c.kind == kind && c.status == *s)
                    .map(|c| c.count)
                    .sum::<u64>()
            };
            let per_status: Vec<u64> = CaseStatus::ALL.iter().map(of).collect();
            let total: u64 = per_status.iter().sum();
            if total == 0 {
                continue;
            }
            rows.push(Row {
                office: match office {
                    Some(id) => offices
                        .iter()
                        .find(|o| o.id == *id)
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                    None => "（事務所の指定なし）".to_owned(),
                },
                kind: kind.label(),
                counts: per_status,
                total,
            });
        }
    }
    let totals: Vec<u64> = (0..CaseStatus::ALL.len())
        .map(|i| rows.iter().map(|r| r.counts[i]).sum())
        .collect();
    let scope_label = match user.user.office_id {
        Some(id) => offices
            .iter()
            .find(|o| o.id == id)
            .map(|o| format!("{}（担当の事務所のみ）", o.name))
            .unwrap_or_default(),
        None => format!("{}（局全体）", state.site.bureau_name),
    };
    Ok(Report {
        heading: wareki_month(first),
        month_iso: first.format("%Y-%m").to_string(),
        statuses: CaseStatus::ALL.iter().map(|s| s.label()).collect(),
        total: totals.iter().sum(),
        totals,
        rows,
        scope_label,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "report_monthly.html")]
pub struct ReportPage {
    layout: Layout,
    r: Report,
}

/// `GET /reports/monthly?month=YYYY-MM`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn monthly(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MonthQuery>,
) -> Result<ReportPage, Error> {
    let r = report(&state, &user, query.month()).await?;
    Ok(ReportPage {
        layout: Layout::signed_in(&state, &user),
        r,
    })
}

/// `GET /reports/monthly.xlsx?month=YYYY-MM`: the same figures as a workbook.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn monthly_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MonthQuery>,
) -> Result<Response, Error> {
    let r = report(&state, &user, query.month()).await?;
    let mut counts: Vec<&str> = r.statuses.clone();
    counts.push("計");
    let rows: Vec<uketsuke_export::ReportRow> = r
        .rows
        .iter()
        .map(|row| uketsuke_export::ReportRow {
            labels: vec![row.office.clone(), row.kind.to_owned()],
            counts: row
                .counts
                .iter()
                .copied()
                .chain(std::iter::once(row.total))
                .collect(),
        })
        .collect();
    let bytes = uketsuke_export::report_xlsx(
        &format!("月報 {}（受付日による）", r.heading),
        &format!("{} ／ 状態は出力時点", r.scope_label),
        &["事務所", "種別"],
        &counts,
        &rows,
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(crate::view::download_as(
        bytes,
        uketsuke_export::XLSX_MIME,
        &format!("monthly-{}.xlsx", r.month_iso),
        &format!("月報_{}.xlsx", r.heading),
    ))
}
