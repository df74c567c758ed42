//! The case list's downloads: `GET /cases.xlsx` (a workbook, dates as Excel dates shown
//! in 和暦) and `GET /cases.csv?encoding=utf8|sjis` (RFC 4180; UTF-8 with a BOM, or
//! Shift_JIS as Windows-31J, refusing a character it cannot hold). The bytes are
//! written by the export crate ([`uketsuke_export::case_list_xlsx`],
//! [`uketsuke_export::case_list_csv`]).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uketsuke_domain::today_in_japan;
use uketsuke_export::{CaseListRow, CsvEncoding, case_list_csv, case_list_xlsx};
use uketsuke_store::dashboard::effective_answer_due;

use super::list::list_page;
use super::{Filters, ListParams, MAX_EXPORT_ROWS, offices_of};
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::state::AppState;
use crate::view::download;

/// The rows of a download, in the list's order (every page), with the conditions in
/// words.
async fn export_rows(
    state: &AppState,
    user: &CurrentUser,
    params: &ListParams,
) -> Result<(Vec<CaseListRow>, String), Error> {
    let today = today_in_japan();
    let offices = offices_of(state, user).await?;
    let f = Filters::parse(params, &offices);
    let rows = uketsuke_store::cases::export_rows(
        &state.db,
        &user.scope(),
        &f.store_query(state, user, today).await?,
        today,
        MAX_EXPORT_ROWS,
    )
    .await?;
    let office_names: HashMap<i32, String> =
        offices.iter().map(|o| (o.id, o.name.clone())).collect();
    let out = rows
        .iter()
        .map(|row| export_row(row, &office_names, today))
        .collect();
    Ok((out, f.describe(&offices)))
}

/// One row of a download.
pub(super) fn export_row(
    row: &uketsuke_store::cases::ListRow,
    office_names: &HashMap<i32, String>,
    today: chrono::NaiveDate,
) -> CaseListRow {
    let r = &row.request;
    CaseListRow {
        received: r.received_on,
        facility_name: r.facility_name.clone(),
        kind: r.kind.label(),
        status: uketsuke_store::council::status_label(r, today),
        designation: r.designation_date,
        due: effective_answer_due(r),
        code: row
            .number
            .as_ref()
            .filter(|n| n.status.is_live())
            .map(|n| n.code.clone())
            .unwrap_or_default(),
        office: r
            .office_id
            .and_then(|id| office_names.get(&id).cloned())
            .unwrap_or_default(),
        address: r.facility_address.clone(),
        phone: r.contact_phone.clone(),
    }
}

/// `GET /cases.xlsx`: the view as a workbook (dates as Excel dates shown in 和暦).
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<Response, Error> {
    let (rows, conditions) = export_rows(&state, &user, &params).await?;
    let bytes = tokio::task::spawn_blocking(move || case_list_xlsx(&rows, &conditions))
        .await
        .map_err(|e| Error::Internal(format!("xlsx task failed: {e}")))?
        .map_err(|e| Error::Internal(format!("xlsx: {e}")))?;
    Ok(download(
        bytes,
        uketsuke_export::XLSX_MIME,
        "案件一覧",
        "xlsx",
    ))
}

/// `GET /cases.csv?encoding=utf8|sjis`: the view as CSV. A character Shift_JIS cannot
/// hold is never replaced silently: the list comes back (422) saying which and where.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn csv_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<Response, Error> {
    let encoding = match params.encoding.trim().to_ascii_lowercase().as_str() {
        "sjis" | "shift_jis" | "shift-jis" | "cp932" | "windows-31j" => CsvEncoding::ShiftJis,
        _ => CsvEncoding::Utf8Bom,
    };
    let (rows, _) = export_rows(&state, &user, &params).await?;
    match case_list_csv(&rows, encoding) {
        Ok(bytes) => Ok(download(
            bytes,
            match encoding {
                CsvEncoding::Utf8Bom => "text/csv; charset=utf-8",
                CsvEncoding::ShiftJis => "text/csv; charset=Shift_JIS",
            },
            "案件一覧",
            "csv",
        )),
        Err(e) => {
            let notice = format!(
                "Shift_JIS で表せない文字「{}」が {} 件目（{}）の「{}」にあるため、Shift_JIS の CSV を作れませんでした。UTF-8 の CSV か Excel 形式でダウンロードしてください。",
                e.character, e.row, e.facility, e.column
            );
            let page = list_page(&state, &user, params, Some(notice)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
