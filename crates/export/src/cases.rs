//! The case list (案件一覧) as the staff download it from the list page: the view's
//! rows with their conditions, as a workbook ([`case_list_xlsx`]) or as CSV
//! ([`case_list_csv`], UTF-8 with a BOM or Shift_JIS as Windows-31J, refusing — never
//! replacing — a character Shift_JIS cannot hold).

use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use uketsuke_domain::format_wareki;

use crate::csv::{CsvEncoding, windows_31j_form};

/// One case of the list as downloaded.
pub struct CaseListRow {
    pub received: NaiveDate,
    pub facility_name: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub designation: NaiveDate,
    pub due: NaiveDate,
    pub code: String,
    pub office: String,
    pub address: String,
    pub phone: String,
}

/// The download's columns.
pub const CASE_LIST_HEADERS: [&str; 10] = [
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

/// The case list as a workbook: a title, the conditions with the count and the time it
/// was made (Japan time), then the rows under a filtered, frozen header; dates are Excel
/// dates shown in 和暦; printed landscape on A4, one page wide.
pub fn case_list_xlsx(
    rows: &[CaseListRow],
    conditions: &str,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
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
    let date = cell.clone().set_num_format(crate::list::WAREKI_DATE_FORMAT);
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
    for (c, h) in (0u16..).zip(CASE_LIST_HEADERS) {
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

/// A character Shift_JIS cannot hold, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unencodable {
    /// The record (1 is the first case; 0 the header).
    pub row: usize,
    pub facility: String,
    pub column: &'static str,
    pub character: char,
}

/// The case list as RFC 4180 CSV: CRLF, fields quoted when they hold `,` `"` CR or LF,
/// formula-like fields neutralised (see [`crate::csv`]); dates ISO 8601.
pub fn case_list_csv(rows: &[CaseListRow], encoding: CsvEncoding) -> Result<Vec<u8>, Unencodable> {
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let mut records: Vec<[String; 10]> = Vec::with_capacity(rows.len() + 1);
    records.push(CASE_LIST_HEADERS.map(str::to_owned));
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
        CsvEncoding::Utf8Bom => b"\xEF\xBB\xBF".to_vec(),
        CsvEncoding::ShiftJis => Vec::new(),
    };
    let mut line = String::new();
    for (i, record) in records.iter().enumerate() {
        crate::csv::write_record(&mut line, record.iter().map(String::as_str));
        match encoding {
            CsvEncoding::Utf8Bom => out.extend_from_slice(line.as_bytes()),
            CsvEncoding::ShiftJis => {
                let text: String = line.chars().map(windows_31j_form).collect();
                let (bytes, _, failed) = encoding_rs::SHIFT_JIS.encode(&text);
                if failed {
                    let (column, character) = record
                        .iter()
                        .zip(CASE_LIST_HEADERS)
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
