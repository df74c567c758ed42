//! The 「新規指定医療機関一覧表」 as an .xlsx workbook, in the house style of the
//! lists the bureaus' own system produces (届出受理医療機関名簿): Arial 10, the date
//! line `[令和６年７月１日 現在]` on row 2, the header on row 4, data from row 5.
//!
//! On top of that house style the list is made to be used: the title on row 1,
//! an optional subtitle (the 地医協 session, the bureau) on row 3, codes stored as
//! text so leading zeros survive, dates stored as Excel dates and shown in 和暦,
//! a shaded bold header and thin borders round the data, rows 1–4 frozen, an
//! autofilter on the header, column widths fitted to the text (全角 = 2), and A4
//! landscape printing one page wide with the header row repeated on every page,
//! the title and date at the foot and `page / pages` in the middle.
//!
//! The sheet is written in rust_xlsxwriter's constant-memory mode: rows go to a
//! temporary file (in `TMPDIR`) as they are written, so memory stays small for
//! large lists.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    ConditionalFormatFormula, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder,
    Workbook, Worksheet,
};
use uketsuke_domain::{format_wareki, to_excel_serial};

use crate::error::{Error, Result};
use crate::layout::{Column, ListLayout};
use crate::row::{ListRow, Value};
use crate::text::{as_of_line, display_width};

/// The MIME type of an .xlsx file, for the mail attachment.
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The number format of dates: 和暦 with the era name (`令和6年7月1日`). `[$-411]`
/// is the Japanese locale, `ggg` the era name and `e` the era year; Excel,
/// LibreOffice and openpyxl all keep it as written.
pub const WAREKI_DATE_FORMAT: &str = r#"[$-411]ggge"年"m"月"d"日""#;

/// The font of the bureaus' lists.
const FONT_NAME: &str = "Arial";
const FONT_SIZE: f64 = 10.0;
/// Default row height and column width in pixels for Arial 10.
const DEFAULT_ROW_PX: u32 = 17;
const DEFAULT_COL_PX: u32 = 64;
/// The height of one line of text in a row, in points.
const LINE_HEIGHT_PT: f64 = 12.75;

/// Row indices (0-based) of the fixed rows.
const TITLE_ROW: u32 = 0;
const AS_OF_ROW: u32 = 1;
const SUBTITLE_ROW: u32 = 2;
const HEADER_ROW: u32 = 3;
const FIRST_DATA_ROW: u32 = 4;

/// Column widths, in characters of a half-width digit.
const MIN_WIDTH: usize = 4;
const MAX_WIDTH: usize = 80;
const PADDING: f64 = 2.0;

/// Writes the 「新規指定医療機関一覧表」.
///
/// - row 1: `layout.title`; row 2: `[令和６年７月１日 現在]` for `as_of`;
///   row 3: `subtitle` (e.g. the 地医協 session), or empty; row 4: the headers;
///   from row 5: one row per facility, in the order given, numbered by 項番.
/// - Codes, postal codes and phone numbers are text cells (`@`); 項番 is a
///   number; 指定年月日 and 答申日 are Excel dates shown as `令和6年7月1日`.
///
/// The same layout, date and rows always give the same bytes (the workbook's
/// creation date is `as_of`, not the clock), so a regenerated list can be
/// compared with the one already sent.
///
/// # Errors
///
/// An invalid layout ([`ListLayout::validate`]), a date Excel cannot hold, or
/// an error from rust_xlsxwriter (more rows than Excel holds, or no writable
/// temporary directory).
pub fn list_xlsx(
    layout: &ListLayout,
    as_of: NaiveDate,
    subtitle: Option<&str>,
    rows: &[ListRow],
) -> Result<Vec<u8>> {
    layout.validate()?;
    let styles = Styles::new();

    let mut workbook = Workbook::new();
    let base = Format::new()
        .set_font_name(FONT_NAME)
        .set_font_size(FONT_SIZE);
    workbook.set_default_format(&base, DEFAULT_ROW_PX, DEFAULT_COL_PX)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(&layout.title)
            .set_creation_datetime(&excel_date(as_of)?),
    );

    // Deflate level 3 instead of 6: 50,000 rows in ~0.4 s instead of ~0.6 s,
    // for a file ~20% larger (5.7 MB instead of 4.8 MB; a list of a few hundred
    // facilities stays a few tens of kB either way).
    workbook.set_zip_compression_level(3);
    // Rows stream to a temporary file as they are written (inline strings, no
    // shared string table): 50,000 rows take ~55 MB instead of ~230 MB. Rows
    // must then be written top to bottom, which they are.
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(sheet_name(&layout.title))?;

    let widths = column_widths(layout, rows);
    for ((col, width), spec) in (0u16..).zip(&widths).zip(&layout.columns) {
        sheet.set_column_width(col, *width)?;
        sheet.set_column_format(col, styles.column(spec.column))?;
    }

    write_heading(sheet, layout, as_of, subtitle, &styles)?;
    write_rows(sheet, layout, rows, &styles)?;

    let last_col = u16::try_from(layout.columns.len() - 1).unwrap_or(u16::MAX);
    let last_row = HEADER_ROW + u32::try_from(rows.len()).unwrap_or(u32::MAX - HEADER_ROW);
    if !rows.is_empty() {
        // Borders on the data cells: one rule for the whole table costs
        // nothing, a bordered format on each cell costs a third of the time.
        let grid = ConditionalFormatFormula::new()
            .set_rule("=TRUE")
            .set_format(Format::new().set_border(FormatBorder::Thin));
        sheet.add_conditional_format(FIRST_DATA_ROW, 0, last_row, last_col, &grid)?;
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 0)?;
    sheet.autofilter(HEADER_ROW, 0, last_row, last_col)?;
    set_print_setup(sheet, layout, as_of)?;

    Ok(workbook.save_to_buffer()?)
}

/// The formats, made once per workbook. Data cells take their column's format
/// (set once per column), not one of their own: rust_xlsxwriter hashes a cell's
/// format on every write, which costs more than the rest of the write. Their
/// borders come from one conditional format over the table.
struct Styles {
    title: Format,
    plain: Format,
    header: Format,
    text: Format,
    code: Format,
    number: Format,
    date: Format,
    /// A multi-line text cell: wrapped, aligned to the top.
    wrap: Format,
}

impl Styles {
    fn new() -> Self {
        let plain = Format::new()
            .set_font_name(FONT_NAME)
            .set_font_size(FONT_SIZE);
        let cell = plain.clone().set_align(FormatAlign::VerticalCenter);
        let text = cell.clone().set_num_format("@");
        Self {
            title: plain.clone().set_font_size(14).set_bold(),
            header: cell
                .clone()
                .set_bold()
                .set_border(FormatBorder::Thin)
                .set_background_color(0x00D9_E1F2)
                .set_align(FormatAlign::Center),
            wrap: text.clone().set_text_wrap().set_align(FormatAlign::Top),
            code: text.clone().set_align(FormatAlign::Center),
            text,
            number: cell.clone().set_num_format("0"),
            date: cell
                .set_num_format(WAREKI_DATE_FORMAT)
                .set_align(FormatAlign::Center),
            plain,
        }
    }

    /// The format of the cells of `column`.
    fn column(&self, column: Column) -> &Format {
        match column {
            Column::ItemNo => &self.number,
            Column::DesignationDate | Column::CouncilDate => &self.date,
            Column::PrefectureCode
            | Column::Kind
            | Column::InstitutionCode
            | Column::ReceptionNumber
            | Column::MedicalCode
            | Column::CombinedCode
            | Column::PostalCode
            | Column::Phone => &self.code,
            Column::PrefectureName
            | Column::FacilityName
            | Column::Address
            | Column::Founder
            | Column::Note => &self.text,
        }
    }
}

fn write_heading(
    sheet: &mut Worksheet,
    layout: &ListLayout,
    as_of: NaiveDate,
    subtitle: Option<&str>,
    styles: &Styles,
) -> Result<()> {
    sheet.set_row_height(TITLE_ROW, 21)?;
    sheet.write_string_with_format(TITLE_ROW, 0, &layout.title, &styles.title)?;
    sheet.write_string_with_format(AS_OF_ROW, 0, as_of_line(as_of), &styles.plain)?;
    if let Some(subtitle) = subtitle.filter(|s| !s.is_empty()) {
        sheet.write_string_with_format(SUBTITLE_ROW, 0, subtitle, &styles.plain)?;
    }
    sheet.set_row_height(HEADER_ROW, 18)?;
    for (col, spec) in (0u16..).zip(&layout.columns) {
        sheet.write_string_with_format(HEADER_ROW, col, spec.header(), &styles.header)?;
    }
    Ok(())
}

fn write_rows(
    sheet: &mut Worksheet,
    layout: &ListLayout,
    rows: &[ListRow],
    styles: &Styles,
) -> Result<()> {
    for ((excel_row, item_no), row) in (FIRST_DATA_ROW..).zip(1u32..).zip(rows) {
        // A row with a line break in a cell is made tall enough for it: not
        // every reader fits the height of a wrapped cell by itself.
        let lines = layout
            .columns
            .iter()
            .map(|spec| match row.value(spec.column, item_no) {
                Value::Text(text) => text.lines().count(),
                _ => 1,
            })
            .max()
            .unwrap_or(1);
        if lines > 1 {
            sheet.set_row_height(excel_row, LINE_HEIGHT_PT * lines as f64 + 2.0)?;
        }
        for (col, spec) in (0u16..).zip(&layout.columns) {
            match row.value(spec.column, item_no) {
                Value::Text(text) if text.contains('\n') => {
                    sheet.write_string_with_format(excel_row, col, text.as_ref(), &styles.wrap)?;
                }
                Value::Text(text) => {
                    sheet.write_string(excel_row, col, text.as_ref())?;
                }
                Value::Number(n) => {
                    sheet.write_number(excel_row, col, n)?;
                }
                Value::Date(date) => {
                    let serial = to_excel_serial(date).map_err(|source| Error::Date {
                        row: item_no as usize,
                        facility: row.facility_name.clone(),
                        column: spec.header().to_owned(),
                        source,
                    })?;
                    sheet.write_number(excel_row, col, serial)?;
                }
                Value::Empty => {}
            }
        }
    }
    Ok(())
}

/// A4 landscape, one page wide, the header row on every page, `title` and
/// `[… 現在]` at the bottom left and right, `page / pages` in the middle.
fn set_print_setup(sheet: &mut Worksheet, layout: &ListLayout, as_of: NaiveDate) -> Result<()> {
    const A4: u8 = 9;
    sheet
        .set_paper_size(A4)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_print_center_horizontally(true)
        .set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    sheet.set_footer(footer(&layout.title, as_of));
    Ok(())
}

/// The page footer; the title is left out if the whole would pass Excel's
/// limit of 255 characters.
fn footer(title: &str, as_of: NaiveDate) -> String {
    let pages = "&C&P / &N";
    let with_title = format!(
        "&L{}{pages}&R{}",
        title.replace('&', "&&"),
        as_of_line(as_of)
    );
    if with_title.encode_utf16().count() <= 255 {
        with_title
    } else {
        format!("{pages}&R{}", as_of_line(as_of))
    }
}

/// A worksheet name from the title: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let name: String = title
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c => c,
        })
        .take(31)
        .collect();
    let name = name.trim_matches('\'').trim();
    if name.is_empty() {
        "一覧表".to_owned()
    } else {
        name.to_owned()
    }
}

/// The width of each column: its widest cell or header, plus padding, kept
/// between [`MIN_WIDTH`] and [`MAX_WIDTH`].
fn column_widths(layout: &ListLayout, rows: &[ListRow]) -> Vec<f64> {
    let mut widths: Vec<usize> = layout
        .columns
        .iter()
        // Headers are bold: a little wider.
        .map(|spec| display_width(spec.header()) * 11 / 10 + 1)
        .collect();
    // 項番 is at most as wide as the largest number.
    let item_no_width = rows.len().max(1).to_string().len();
    for row in rows {
        for (width, spec) in widths.iter_mut().zip(&layout.columns) {
            let cell = match row.value(spec.column, 0) {
                Value::Text(text) => display_width(&text),
                Value::Number(_) => item_no_width,
                Value::Date(date) => display_width(&format_wareki(date)),
                Value::Empty => 0,
            };
            *width = (*width).max(cell);
        }
    }
    widths
        .into_iter()
        .map(|w| w.clamp(MIN_WIDTH, MAX_WIDTH) as f64 + PADDING)
        .collect()
}

/// `date` as rust_xlsxwriter's date (for the document properties).
fn excel_date(date: NaiveDate) -> Result<ExcelDateTime> {
    let year = u16::try_from(date.year()).unwrap_or(0);
    // Month and day always fit in u8.
    let month = u8::try_from(date.month()).unwrap_or(1);
    let day = u8::try_from(date.day()).unwrap_or(1);
    Ok(ExcelDateTime::from_ymd(year, month, day)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_cleaned_and_cut_to_31_characters() {
        assert_eq!(
            sheet_name("新規指定医療機関一覧表"),
            "新規指定医療機関一覧表"
        );
        assert_eq!(sheet_name("a/b[c]"), "a_b_c_");
        assert_eq!(sheet_name(&"長".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name("  "), "一覧表");
    }

    #[test]
    fn the_footer_escapes_ampersands_and_drops_a_too_long_title() {
        let date = NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
        assert_eq!(
            footer("A&B", date),
            "&LA&&B&C&P / &N&R[令和６年７月１日 現在]"
        );
        assert_eq!(
            footer(&"x".repeat(300), date),
            "&C&P / &N&R[令和６年７月１日 現在]"
        );
    }
}
