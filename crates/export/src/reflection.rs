//! The list of numbers to set to 「8. 未指定」 in the 保険医療機関等管理システム
//! (管理システムへの反映リスト): what staff enter there by hand, as a workbook or as CSV
//! (UTF-8 with a BOM; formula-like fields neutralised like every CSV we write).

use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use uketsuke_domain::format_wareki;

/// One number to set to 8. 未指定.
pub struct ReflectionRow {
    pub code: String,
    pub facility_name: String,
    pub kind: &'static str,
    pub address: String,
    pub designation: NaiveDate,
    pub reason: String,
}

/// The columns.
pub const REFLECTION_HEADERS: [&str; 7] = [
    "医療機関等コード",
    "名称",
    "種別",
    "所在地",
    "指定希望日",
    "設定する状態",
    "未指定の理由",
];

/// The state to set.
const STATE: &str = "8. 未指定";

/// The list as a workbook: a title with the time it was made (Japan time), then the rows
/// under a frozen header; codes as text, dates as Excel dates shown in 和暦.
pub fn reflection_xlsx(rows: &[ReflectionRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook};
    const HEADER_ROW: u32 = 2;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("未指定への変更")?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8E8EE")
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let text = cell.clone().set_num_format("@");
    let date = cell.clone().set_num_format(crate::list::WAREKI_DATE_FORMAT);
    let now = Utc::now() + TimeDelta::hours(9);
    sheet.write_with_format(
        0,
        0,
        "保険医療機関等管理システムで「8. 未指定」に変更する医療機関等",
        &title,
    )?;
    sheet.write(
        1,
        0,
        format!(
            "{} 件　／　出力 {} {}",
            rows.len(),
            format_wareki(now.date_naive()),
            now.format("%H:%M")
        ),
    )?;
    for (c, h) in (0u16..).zip(REFLECTION_HEADERS) {
        sheet.write_with_format(HEADER_ROW, c, h, &head)?;
    }
    for (r, row) in (HEADER_ROW + 1..).zip(rows) {
        let designation = ExcelDateTime::from_ymd(
            u16::try_from(row.designation.year()).unwrap_or(1900),
            u8::try_from(row.designation.month()).unwrap_or(1),
            u8::try_from(row.designation.day()).unwrap_or(1),
        )?;
        sheet.write_with_format(r, 0, &row.code, &text)?;
        sheet.write_with_format(r, 1, &row.facility_name, &cell)?;
        sheet.write_with_format(r, 2, row.kind, &cell)?;
        sheet.write_with_format(r, 3, &row.address, &cell)?;
        sheet.write_with_format(r, 4, &designation, &date)?;
        sheet.write_with_format(r, 5, STATE, &cell)?;
        sheet.write_with_format(r, 6, &row.reason, &cell)?;
    }
    for (c, width) in (0u16..).zip([14.0, 36.0, 6.0, 44.0, 16.0, 12.0, 36.0]) {
        sheet.set_column_width(c, width)?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    book.save_to_buffer()
}

/// The list as RFC 4180 CSV in UTF-8 with a BOM; dates ISO 8601.
pub fn reflection_csv(rows: &[ReflectionRow]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut line = String::new();
    crate::csv::write_record(&mut line, REFLECTION_HEADERS.into_iter());
    out.extend_from_slice(line.as_bytes());
    for r in rows {
        let designation = r.designation.format("%Y-%m-%d").to_string();
        let fields = [
            r.code.as_str(),
            r.facility_name.as_str(),
            r.kind,
            r.address.as_str(),
            designation.as_str(),
            STATE,
            r.reason.as_str(),
        ];
        crate::csv::write_record(&mut line, fields.into_iter());
        out.extend_from_slice(line.as_bytes());
    }
    out
}
