//! The answer (回答書): the 「受付番号 情報提供依頼書 兼 回答書」 of 別紙1, filled in,
//! as a one-page A4 portrait .xlsx to print and post to the address on the form.
//!
//! The sheet follows the form from top to bottom: 回答書の送付先 (〒, 住所, 氏名 様),
//! the title, the request (kind ■/□, 名称, 所在地, 指定希望日(予定), 依頼日 and the
//! bureau 御中, 開設者, 保険医等の登録の記号及び番号, 担当者の連絡先), then the answer
//! half: 「上記の依頼について、受付番号を回答します。」, the 受付番号 in large type,
//! the warning that it is not a designation, the 実施機関への提出期限 (the 15th of
//! the month two months before designation) with what to do by then, and the
//! 回答日, the bureau and （公印省略）.
//!
//! Dates are written as 和暦 text (`令和6年2月13日`), not as date cells: this is a
//! form to print, and text prints the same in every spreadsheet program.

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use serde::{Deserialize, Serialize};
use uketsuke_domain::{ReceptionNumber, RequestKind, format_wareki};

use crate::error::Result;
use crate::text::display_width;

/// Everything the answer prints. Strings are printed as given; postal codes
/// may come with or without a leading `〒`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerSheet {
    /// 回答書の送付先: 郵便番号.
    pub recipient_postal_code: Option<String>,
    /// 回答書の送付先: 住所.
    pub recipient_address: String,
    /// 回答書の送付先: 氏名 (printed with 様).
    pub recipient_name: String,
    /// 医科・歯科・薬局: the one marked on the form.
    pub kind: RequestKind,
    /// 名称 of the facility.
    pub facility_name: String,
    /// 所在地: 郵便番号.
    pub facility_postal_code: Option<String>,
    /// 所在地: address.
    pub facility_address: String,
    /// 指定希望日(予定).
    pub desired_designation_date: NaiveDate,
    /// 依頼日: the date on the request.
    pub request_date: NaiveDate,
    /// The bureau or office the request is addressed to and that answers
    /// (`関東信越厚生局 東京事務所`).
    pub bureau_name: String,
    /// 開設者: 氏名, or 法人の名称 and 代表者の職・氏名.
    pub founder: String,
    /// 保険医又は保険薬剤師の登録の記号及び番号 (only when the founder is one).
    pub registration_number: Option<String>,
    /// 担当者の連絡先 (電話番号).
    pub contact_phone: Option<String>,
    /// 受付番号 (10 digits).
    pub reception_number: ReceptionNumber,
    /// 回答日.
    pub answer_date: NaiveDate,
    /// 実施機関への提出期限: the 15th of the month two months before designation
    /// (computed by `uketsuke_rules`).
    pub submission_deadline: NaiveDate,
}

/// The notice printed under the number, word for word from 別紙1.
pub const NOT_A_DESIGNATION: &str = "※当該回答は保険医療機関・保険薬局としての指定ではありません。\
受付番号はオンライン資格確認の準備にのみ利用し、適切に管理してください。";

const FONT_NAME: &str = "ＭＳ 明朝";
const FONT_SIZE: f64 = 11.0;
const JAPANESE_CHARSET: u8 = 128;
/// Default row height and column width in pixels for an 11-point Japanese font.
const DEFAULT_ROW_PX: u32 = 18;
const DEFAULT_COL_PX: u32 = 72;
/// Columns A–H, each this many digit widths.
const COLUMNS: u16 = 8;
const COLUMN_WIDTH: f64 = 11.0;
const LAST_COL: u16 = COLUMNS - 1;
/// Height of one line of 11-point text, in points.
const LINE_PT: f64 = 15.0;
/// Height of a plain row, in points.
const ROW_PT: f64 = 22.0;

/// Writes the answer as a one-page A4 portrait workbook (sheet 「回答書」).
///
/// # Errors
///
/// An error from rust_xlsxwriter.
pub fn answer_xlsx(answer: &AnswerSheet) -> Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    workbook.set_default_format(&font(FONT_SIZE), DEFAULT_ROW_PX, DEFAULT_COL_PX)?;
    let sheet = workbook.add_worksheet();
    sheet.set_name("回答書")?;
    for col in 0..COLUMNS {
        sheet.set_column_width(col, COLUMN_WIDTH)?;
    }
    Sheet::new(sheet).write(answer)?;
    Ok(workbook.save_to_buffer()?)
}

fn font(size: f64) -> Format {
    Format::new()
        .set_font_name(FONT_NAME)
        .set_font_size(size)
        .set_font_charset(JAPANESE_CHARSET)
        .set_align(FormatAlign::VerticalCenter)
}

/// The worksheet and its formats.
struct Sheet<'a> {
    ws: &'a mut Worksheet,
    plain: Format,
    wrap: Format,
    right: Format,
    small_right: Format,
    title: Format,
    label: Format,
    label_wrap: Format,
    value: Format,
    value_wrap: Format,
    number_label: Format,
    number: Format,
    bold: Format,
}

impl<'a> Sheet<'a> {
    fn new(ws: &'a mut Worksheet) -> Self {
        let plain = font(FONT_SIZE);
        let boxed = plain.clone().set_border(FormatBorder::Thin);
        let label = boxed
            .clone()
            .set_background_color(0x00F2_F2F2)
            .set_align(FormatAlign::Center);
        Self {
            ws,
            wrap: plain.clone().set_text_wrap().set_align(FormatAlign::Top),
            right: plain.clone().set_align(FormatAlign::Right),
            small_right: font(9.0).set_align(FormatAlign::Right),
            title: font(16.0).set_bold().set_align(FormatAlign::Center),
            label_wrap: label.clone().set_text_wrap(),
            label,
            value_wrap: boxed.clone().set_text_wrap(),
            value: boxed,
            number_label: font(FONT_SIZE)
                .set_bold()
                .set_border(FormatBorder::Medium)
                .set_background_color(0x00F2_F2F2)
                .set_align(FormatAlign::Center),
            number: font(24.0)
                .set_bold()
                .set_num_format("@")
                .set_border(FormatBorder::Medium)
                .set_align(FormatAlign::Center),
            bold: plain.clone().set_bold(),
            plain,
        }
    }

    fn write(mut self, a: &AnswerSheet) -> Result<()> {
        // Roomier than the default, so the form fills the page as the paper one does.
        self.ws.set_default_row_height(ROW_PT);
        // 回答書の送付先
        self.text(0, 0, LAST_COL, "別紙1", Style::SmallRight)?;
        self.text(1, 0, 0, "（住所）", Style::Plain)?;
        self.text(
            1,
            1,
            LAST_COL,
            &with_postal(a.recipient_postal_code.as_deref(), &a.recipient_address),
            Style::Plain,
        )?;
        self.text(2, 0, 0, "（氏名）", Style::Plain)?;
        self.text(
            2,
            1,
            LAST_COL,
            &format!("{}　様", a.recipient_name),
            Style::Plain,
        )?;

        self.ws.set_row_height(4, 30)?;
        self.text(
            4,
            0,
            LAST_COL,
            "受付番号 情報提供依頼書 兼 回答書",
            Style::Title,
        )?;
        self.paragraph(
            6,
            "オンライン資格確認システムの導入のため、受付番号（保険医療機関等として指定された後に\
             付与予定の医療機関等コード）の情報提供を希望します。",
            Style::Wrap,
        )?;
        self.text(
            7,
            0,
            LAST_COL,
            "（情報提供を希望する医療機関・薬局）",
            Style::Plain,
        )?;

        // The request: kind, name, address, date.
        self.ws
            .merge_range(8, 0, 9, 1, &kind_marks(a.kind), &self.label)?;
        self.boxed_row(8, 2, 2, "名称", &a.facility_name)?;
        self.boxed_row(
            9,
            2,
            2,
            "所在地",
            &with_postal(a.facility_postal_code.as_deref(), &a.facility_address),
        )?;
        self.boxed_row(
            10,
            0,
            2,
            "指定希望日（予定）",
            &format_wareki(a.desired_designation_date),
        )?;
        self.text(12, 0, LAST_COL, "上記のとおり依頼します。", Style::Plain)?;
        self.text(13, 0, 3, &format_wareki(a.request_date), Style::Plain)?;
        self.text(
            14,
            0,
            LAST_COL,
            &format!("{}　御中", a.bureau_name),
            Style::Plain,
        )?;

        // The founder and contact.
        self.boxed_row(
            16,
            0,
            2,
            "開設者（氏名）\n※法人の場合は、名称、代表者の職・氏名",
            &a.founder,
        )?;
        self.boxed_row(
            17,
            0,
            2,
            "保険医又は保険薬剤師の\n登録の記号及び番号",
            a.registration_number.as_deref().unwrap_or(""),
        )?;
        self.boxed_row(
            18,
            0,
            2,
            "担当者の連絡先（電話番号）",
            a.contact_phone.as_deref().unwrap_or(""),
        )?;

        // The answer.
        self.text(
            20,
            0,
            LAST_COL,
            "上記の依頼について、受付番号を回答します。",
            Style::Bold,
        )?;
        self.ws.set_row_height(21, 40)?;
        self.ws
            .merge_range(21, 0, 21, 2, "受付番号", &self.number_label)?;
        self.ws.merge_range(
            21,
            3,
            21,
            LAST_COL,
            a.reception_number.as_str(),
            &self.number,
        )?;
        self.paragraph(23, NOT_A_DESIGNATION, Style::Wrap)?;
        self.text(
            24,
            0,
            LAST_COL,
            &format!(
                "実施機関への提出期限: {}",
                format_wareki(a.submission_deadline)
            ),
            Style::Bold,
        )?;
        self.paragraph(
            25,
            &format!(
                "診療開始月の月初からオンライン資格確認を導入するには、{}までに、医療機関等向け\
                 総合ポータルサイトから受付番号の提示及び利用申請等の手続きを行い、実施機関に\
                 所要の情報（受付番号を含む。）を提出してください。",
                format_wareki(a.submission_deadline)
            ),
            Style::Wrap,
        )?;

        // Date, bureau, seal omitted.
        self.text(27, 4, LAST_COL, &format_wareki(a.answer_date), Style::Right)?;
        self.text(28, 4, LAST_COL, &a.bureau_name, Style::Right)?;
        self.text(29, 4, LAST_COL, "（公印省略）", Style::Right)?;

        self.print_setup()
    }

    /// `text` in columns `first..=last` of `row` (merged when more than one).
    fn text(&mut self, row: u32, first: u16, last: u16, text: &str, style: Style) -> Result<()> {
        let format = match style {
            Style::Plain => &self.plain,
            Style::Wrap => &self.wrap,
            Style::Right => &self.right,
            Style::SmallRight => &self.small_right,
            Style::Title => &self.title,
            Style::Bold => &self.bold,
        };
        if first == last {
            self.ws.write_string_with_format(row, first, text, format)?;
        } else {
            self.ws.merge_range(row, first, row, last, text, format)?;
        }
        Ok(())
    }

    /// A wrapped paragraph across the page, its row tall enough for the text.
    fn paragraph(&mut self, row: u32, text: &str, style: Style) -> Result<()> {
        let lines = lines_needed(text, f64::from(COLUMNS) * COLUMN_WIDTH);
        self.ws.set_row_height(row, LINE_PT * lines as f64 + 4.0)?;
        self.text(row, 0, LAST_COL, text, style)
    }

    /// A boxed label in columns `first..=label_last` and its value up to H.
    fn boxed_row(
        &mut self,
        row: u32,
        first: u16,
        label_last: u16,
        label: &str,
        value: &str,
    ) -> Result<()> {
        let label_width = f64::from(label_last - first + 1) * COLUMN_WIDTH;
        let value_width = f64::from(LAST_COL - label_last) * COLUMN_WIDTH;
        let lines = lines_needed(label, label_width).max(lines_needed(value, value_width));
        self.ws
            .set_row_height(row, (LINE_PT * lines as f64 + 8.0).max(24.0))?;
        let (label_format, value_format) = if lines > 1 {
            (&self.label_wrap, &self.value_wrap)
        } else {
            (&self.label, &self.value)
        };
        if first == label_last {
            self.ws
                .write_string_with_format(row, first, label, label_format)?;
        } else {
            self.ws
                .merge_range(row, first, row, label_last, label, label_format)?;
        }
        self.ws
            .merge_range(row, label_last + 1, row, LAST_COL, value, value_format)?;
        Ok(())
    }

    fn print_setup(&mut self) -> Result<()> {
        const A4: u8 = 9;
        self.ws
            .set_paper_size(A4)
            .set_portrait()
            .set_print_fit_to_pages(1, 1)
            .set_print_center_horizontally(true)
            .set_margins(0.6, 0.6, 0.7, 0.7, 0.3, 0.3);
        self.ws.set_print_area(0, 0, 29, LAST_COL)?;
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Style {
    Plain,
    Wrap,
    Right,
    SmallRight,
    Title,
    Bold,
}

/// `■医科　□歯科　□薬局` with the requested kind marked.
fn kind_marks(kind: RequestKind) -> String {
    RequestKind::ALL
        .iter()
        .map(|k| format!("{}{}", if *k == kind { '■' } else { '□' }, k.label()))
        .collect::<Vec<_>>()
        .join("　")
}

/// `〒123-4567 address`, or the address alone.
fn with_postal(postal: Option<&str>, address: &str) -> String {
    match postal.map(|p| p.trim().trim_start_matches('〒').trim()) {
        Some(p) if !p.is_empty() => format!("〒{p} {address}"),
        _ => address.to_owned(),
    }
}

/// How many lines `text` takes in a cell `width` digit widths wide.
fn lines_needed(text: &str, width: f64) -> usize {
    let usable = (width - 2.0).max(1.0);
    text.lines()
        .map(|line| ((display_width(line) as f64) / usable).ceil().max(1.0) as usize)
        .sum::<usize>()
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requested_kind_is_marked() {
        assert_eq!(kind_marks(RequestKind::Dental), "□医科　■歯科　□薬局");
    }

    #[test]
    fn postal_codes_get_one_mark() {
        assert_eq!(
            with_postal(Some("〒123-4567"), "東京都"),
            "〒123-4567 東京都"
        );
        assert_eq!(with_postal(Some("123-4567"), "東京都"), "〒123-4567 東京都");
        assert_eq!(with_postal(None, "東京都"), "東京都");
        assert_eq!(with_postal(Some(" "), "東京都"), "東京都");
    }

    #[test]
    fn long_text_needs_more_lines() {
        assert_eq!(lines_needed("短い", 20.0), 1);
        assert_eq!(lines_needed(&"長".repeat(20), 22.0), 2);
        assert_eq!(lines_needed("a\nb", 20.0), 2);
        // A line holds the width less 2.
        assert_eq!(lines_needed(&"a".repeat(18), 20.0), 1);
        assert_eq!(lines_needed(&"a".repeat(19), 20.0), 2);
    }
}
