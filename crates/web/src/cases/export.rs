//! The case list's downloads: `GET /cases.xlsx` (a workbook, dates as Excel dates shown
//! in 和暦) and `GET /cases.csv?encoding=utf8|sjis` (RFC 4180; UTF-8 with a BOM, or
//! Shift_JIS as Windows-31J, refusing a character it cannot hold).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use uketsuke_domain::{format_wareki, today_in_japan};
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
) -> Result<(Vec<ExportRow>, String), Error> {
    let today = today_in_japan();
    let offices = offices_of(state, user).await?;
    let f = Filters::parse(params, &offices);
    let rows = uketsuke_store::cases::export_rows(
        &state.db,
        &user.scope(),
        &f.query(state, user, today),
        today,
        MAX_EXPORT_ROWS,
    )
    .await?;
    let office_names: HashMap<i32, String> =
        offices.iter().map(|o| (o.id, o.name.clone())).collect();
    let out = rows
        .iter()
        .map(|row| {
            let r = &row.request;
            ExportRow {
                received: r.received_on,
                facility_name: r.facility_name.clone(),
                kind: r.kind.label(),
                status: r.status.label(),
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
        })
        .collect();
    Ok((out, f.describe(&offices)))
}

/// One row of a download.
struct ExportRow {
    received: NaiveDate,
    facility_name: String,
    kind: &'static str,
    status: &'static str,
    designation: NaiveDate,
    due: NaiveDate,
    code: String,
    office: String,
    address: String,
    phone: String,
}

/// The download's columns.
const EXPORT_HEADERS: [&str; 10] = [
    "受付日",
    "名称",
    "種別",
    "状態",
    "指定希望日",
    "回答期限",
    "受付番号",
    "事務所",
    "所在地",
    "担当者電話番号",
];

/// `GET /cases.xlsx`: the view as a workbook (dates as Excel dates shown in 和暦).
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<Response, Error> {
    let (rows, conditions) = export_rows(&state, &user, &params).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook(&rows, &conditions))
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

fn workbook(rows: &[ExportRow], conditions: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook};
    const HEADER_ROW: u32 = 3;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("案件一覧")?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8E8EE")
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let text = cell.clone().set_num_format("@");
    let date = cell
        .clone()
        .set_num_format(uketsuke_export::list::WAREKI_DATE_FORMAT);
    sheet.write_with_format(0, 0, "案件一覧", &title)?;
    let now = Utc::now() + TimeDelta::hours(9);
    sheet.write(
        1,
        0,
        format!(
            "条件: {conditions}　／　{} 件　／　出力 {} {}",
            rows.len(),
            format_wareki(now.date_naive()),
            now.format("%H:%M")
        ),
    )?;
    for (c, h) in (0u16..).zip(EXPORT_HEADERS) {
        sheet.write_with_format(HEADER_ROW, c, h, &head)?;
    }
    let excel_date = |d: NaiveDate| {
        ExcelDateTime::from_ymd(
            u16::try_from(d.year()).unwrap_or(1900),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    for (r, row) in (HEADER_ROW + 1..).zip(rows) {
        sheet.write_with_format(r, 0, &excel_date(row.received)?, &date)?;
        sheet.write_with_format(r, 1, &row.facility_name, &cell)?;
        sheet.write_with_format(r, 2, row.kind, &cell)?;
        sheet.write_with_format(r, 3, row.status, &cell)?;
        sheet.write_with_format(r, 4, &excel_date(row.designation)?, &date)?;
        sheet.write_with_format(r, 5, &excel_date(row.due)?, &date)?;
        sheet.write_with_format(r, 6, &row.code, &text)?;
        sheet.write_with_format(r, 7, &row.office, &cell)?;
        sheet.write_with_format(r, 8, &row.address, &cell)?;
        sheet.write_with_format(r, 9, &row.phone, &text)?;
    }
    for (c, width) in (0u16..).zip([16.0, 36.0, 6.0, 12.0, 16.0, 16.0, 13.0, 16.0, 44.0, 16.0]) {
        sheet.set_column_width(c, width)?;
    }
    let last = HEADER_ROW + u32::try_from(rows.len()).unwrap_or(u32::MAX - HEADER_ROW - 1);
    sheet.autofilter(HEADER_ROW, 0, last, 9)?;
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    book.save_to_buffer()
}

/// The CSV's byte encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8Bom,
    ShiftJis,
}

/// A character Shift_JIS cannot hold, and where it is.
struct Unencodable {
    row: usize,
    facility: String,
    column: &'static str,
    character: char,
}

/// The code point Windows-31J uses for a JIS X 0208 character that Unicode's JIS
/// mapping puts elsewhere (as the export crate does): `〜` → `～` and five more.
fn windows_31j_form(c: char) -> char {
    match c {
        '\u{301C}' => '\u{FF5E}',
        '\u{2016}' => '\u{2225}',
        '\u{2014}' => '\u{2015}',
        '\u{00A2}' => '\u{FFE0}',
        '\u{00A3}' => '\u{FFE1}',
        '\u{00AC}' => '\u{FFE2}',
        c => c,
    }
}

/// RFC 4180 CSV: CRLF, fields quoted when they hold `,` `"` CR or LF; dates ISO 8601.
fn csv(rows: &[ExportRow], encoding: Encoding) -> Result<Vec<u8>, Unencodable> {
    fn field(out: &mut String, s: &str) {
        if s.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(s);
        }
    }
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let mut records: Vec<[String; 10]> = Vec::with_capacity(rows.len() + 1);
    records.push(EXPORT_HEADERS.map(str::to_owned));
    for r in rows {
        records.push([
            iso(r.received),
            r.facility_name.clone(),
            r.kind.to_owned(),
            r.status.to_owned(),
            iso(r.designation),
            iso(r.due),
            r.code.clone(),
            r.office.clone(),
            r.address.clone(),
            r.phone.clone(),
        ]);
    }
    let mut out = match encoding {
        Encoding::Utf8Bom => b"\xEF\xBB\xBF".to_vec(),
        Encoding::ShiftJis => Vec::new(),
    };
    let mut line = String::new();
    for (i, record) in records.iter().enumerate() {
        line.clear();
        for (j, value) in record.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            field(&mut line, value);
        }
        line.push_str("\r\n");
        match encoding {
            Encoding::Utf8Bom => out.extend_from_slice(line.as_bytes()),
            Encoding::ShiftJis => {
                let text: String = line.chars().map(windows_31j_form).collect();
                let (bytes, _, failed) = encoding_rs::SHIFT_JIS.encode(&text);
                if failed {
                    let (column, character) = record
                        .iter()
                        .zip(EXPORT_HEADERS)
                        .find_map(|(value, header)| {
                            value
                                .chars()
                                .find(|&c| {
                                    let mut buf = [0u8; 4];
                                    let c = windows_31j_form(c);
                                    encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2
                                })
                                .map(|c| (header, c))
                        })
                        .unwrap_or(("", char::REPLACEMENT_CHARACTER));
                    return Err(Unencodable {
                        row: i,
                        facility: record[1].clone(),
                        column,
                        character,
                    });
                }
                out.extend_from_slice(&bytes);
            }
        }
    }
    Ok(out)
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
        "sjis" | "shift_jis" | "shift-jis" | "cp932" | "windows-31j" => Encoding::ShiftJis,
        _ => Encoding::Utf8Bom,
    };
    let (rows, _) = export_rows(&state, &user, &params).await?;
    match csv(&rows, encoding) {
        Ok(bytes) => Ok(download(
            bytes,
            match encoding {
                Encoding::Utf8Bom => "text/csv; charset=utf-8",
                Encoding::ShiftJis => "text/csv; charset=Shift_JIS",
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
