//! The published schedule (日程表) of one bureau and year as a workbook: for each
//! designation date, the 提出期限, the 回答書の発送 (回答期限) and the 実施機関への提出期限,
//! as Excel dates shown in 和暦, under the bureau's wording of its rule. Printable on
//! one A4 page.

use chrono::{Datelike, NaiveDate};

/// One designation date of the schedule.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleRow {
    /// 指定日.
    pub designation: NaiveDate,
    /// 提出期限 (受付番号情報提供依頼書).
    pub submission_deadline: NaiveDate,
    /// 回答書の発送 (回答期限).
    pub answer_due: NaiveDate,
    /// 実施機関への提出期限.
    pub implementing_body_due: NaiveDate,
}

/// The columns, in order.
pub const SCHEDULE_HEADERS: [&str; 4] = [
    "指定日",
    "提出期限（依頼書の提出）",
    "回答書の発送（回答期限）",
    "実施機関への提出期限",
];

/// The schedule as a workbook: `title` on the first row, `notes` (the bureau's wording
/// of its rule, one line each) below it, then the table under a frozen header.
pub fn schedule_xlsx(
    title: &str,
    notes: &[String],
    rows: &[ScheduleRow],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("日程表")?;
    let bold = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_background_color("#E8E8EE")
        .set_border(FormatBorder::Thin);
    let date = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format(crate::list::WAREKI_DATE_FORMAT);
    sheet.write_with_format(0, 0, title, &bold)?;
    let mut r = 1u32;
    for note in notes {
        sheet.write(r, 0, note.as_str())?;
        r += 1;
    }
    let header_row = r + 1;
    for (c, h) in (0u16..).zip(SCHEDULE_HEADERS) {
        sheet.write_with_format(header_row, c, h, &head)?;
    }
    let excel = |d: NaiveDate| {
        ExcelDateTime::from_ymd(
            u16::try_from(d.year()).unwrap_or(1900),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    for (r, row) in (header_row + 1..).zip(rows) {
        for (c, d) in (0u16..).zip([
            row.designation,
            row.submission_deadline,
            row.answer_due,
            row.implementing_body_due,
        ]) {
            sheet.write_with_format(r, c, &excel(d)?, &date)?;
        }
    }
    for c in 0..4u16 {
        sheet.set_column_width(c, 26.0)?;
    }
    sheet.set_freeze_panes(header_row + 1, 0)?;
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 1);
    book.save_to_buffer()
}
