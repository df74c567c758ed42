//! Our own 別紙1 「受付番号情報提供依頼書兼回答書」 as an .xlsx (rust_xlsxwriter):
//! the labels as printed on the official form, print-ready on one A4 portrait
//! page, every input cell unlocked and the sheet protected (no password), the kind
//! chosen from a dropdown (医科・歯科・薬局), and the answer half (受付番号, the
//! warning that the answer is not a designation, 回答日, 公印省略) below.
//!
//! [`filled_form_xlsx`] writes the same form with a request's values in its input
//! cells (for tests, demos and benchmarks); [`read_request_forms`] reads both back.
//!
//! [`read_request_forms`]: crate::read_request_forms

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DataValidation, Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use uketsuke_domain::Wareki;

use crate::error::Result;
use crate::request::{Founder, RequestForm};

/// The sheet's name.
pub const SHEET_NAME: &str = "別紙1";

const FONT: &str = "ＭＳ 明朝";
const LAST_COL: u16 = 11; // A..L

/// The blank form, ready to download.
pub fn blank_form_xlsx() -> Result<Vec<u8>> {
    build(None)
}

/// The form with `form`'s values typed into its input cells. A date outside
/// 令和 is written with its own era.
pub fn filled_form_xlsx(form: &RequestForm) -> Result<Vec<u8>> {
    build(Some(form))
}

struct Formats {
    label: Format,
    label_center: Format,
    small: Format,
    title: Format,
    paragraph: Format,
    input: Format,
    input_text: Format,
    input_center: Format,
    answer_box: Format,
    plain: Format,
    right: Format,
}

fn formats() -> Formats {
    let base = Format::new().set_font_name(FONT).set_font_size(10.5);
    let boxed = base
        .clone()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter);
    Formats {
        label: boxed.clone().set_text_wrap(),
        label_center: boxed.clone().set_align(FormatAlign::Center).set_text_wrap(),
        small: base
            .clone()
            .set_font_size(8.5)
            .set_text_wrap()
            .set_align(FormatAlign::VerticalCenter),
        title: base
            .clone()
            .set_font_size(15)
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        paragraph: base.clone().set_text_wrap().set_align(FormatAlign::Top),
        input: boxed.clone().set_unlocked().set_shrink(),
        input_text: boxed
            .clone()
            .set_unlocked()
            .set_num_format("@")
            .set_shrink(),
        input_center: boxed.clone().set_unlocked().set_align(FormatAlign::Center),
        answer_box: boxed.clone(),
        plain: base.clone().set_align(FormatAlign::VerticalCenter),
        right: base
            .set_align(FormatAlign::Right)
            .set_align(FormatAlign::VerticalCenter),
    }
}

/// Writes `value` over a merged range, or a blank merged range.
fn merge(ws: &mut Worksheet, r: (u32, u16, u32, u16), value: &str, f: &Format) -> Result<()> {
    if r.0 == r.2 && r.1 == r.3 {
        ws.write_string_with_format(r.0, r.1, value, f)?;
    } else {
        ws.merge_range(r.0, r.1, r.2, r.3, value, f)?;
    }
    Ok(())
}

/// Writes the era, year, month, day of `date` at (row, era col), with the
/// printed 年・月・日 in between (`令和|6|年|4|月|1|日`).
fn date_cells(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    date: Option<NaiveDate>,
    fm: &Formats,
) -> Result<()> {
    let wareki = date.and_then(|d| Wareki::from_date(d).ok());
    let era = wareki.as_ref().map_or("令和", |w| w.era().name());
    ws.write_string_with_format(row, col, era, &fm.plain)?;
    let parts = [
        (wareki.as_ref().map(|w| w.year()), "年"),
        (date.map(|d| d.month()), "月"),
        (date.map(|d| d.day()), "日"),
    ];
    for (i, (value, unit)) in parts.into_iter().enumerate() {
        let c = col + 1 + 2 * i as u16;
        match value {
            Some(v) => {
                ws.write_number_with_format(row, c, f64::from(v), &fm.input_center)?;
            }
            None => {
                ws.write_blank(row, c, &fm.input_center)?;
            }
        }
        ws.write_string_with_format(row, c + 1, unit, &fm.plain)?;
    }
    Ok(())
}

fn build(form: Option<&RequestForm>) -> Result<Vec<u8>> {
    let fm = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_NAME)?;
    for c in 0..=LAST_COL {
        ws.set_column_width(c, 7.3)?;
    }
    ws.set_default_row_height(19.5);

    let v = |f: &dyn Fn(&RequestForm) -> Option<String>| form.and_then(f).unwrap_or_default();

    // 回答書の送付先
    ws.write_string_with_format(0, LAST_COL, "別紙1", &fm.right)?;
    ws.write_string_with_format(1, 0, "(住所)", &fm.plain)?;
    ws.write_string_with_format(1, 1, "〒", &fm.right)?;
    merge(
        ws,
        (1, 2, 1, 3),
        &v(&|f| f.reply_postal_code.as_ref().map(ToString::to_string)),
        &fm.input_text,
    )?;
    merge(
        ws,
        (1, 4, 1, LAST_COL),
        &v(&|f| f.reply_address.clone()),
        &fm.input,
    )?;
    ws.write_string_with_format(2, 0, "(氏名)", &fm.plain)?;
    merge(ws, (2, 1, 2, 7), &v(&|f| f.reply_name.clone()), &fm.input)?;
    ws.write_string_with_format(2, 8, "様", &fm.plain)?;
    merge(
        ws,
        (2, 9, 2, LAST_COL),
        "←回答書の送付先を記載してください。",
        &fm.small,
    )?;

    // 表題
    ws.set_row_height(4, 27)?;
    merge(
        ws,
        (4, 0, 4, LAST_COL),
        "受付番号 情報提供依頼書 兼 回答書",
        &fm.title,
    )?;
    merge(
        ws,
        (5, 0, 6, LAST_COL),
        "オンライン資格確認システムの導入のため、受付番号(保険医療機関等として指定された後に付与予定の医療機関等コード)の情報提供を希望します。",
        &fm.paragraph,
    )?;
    merge(
        ws,
        (8, 0, 8, LAST_COL),
        "(情報提供を希望する医療機関・薬局)",
        &fm.plain,
    )?;

    // 種別・名称・所在地
    merge(ws, (9, 0, 9, 1), "医科・歯科・薬局", &fm.label_center)?;
    merge(
        ws,
        (10, 0, 11, 1),
        &v(&|f| Some(f.kind.label().to_owned())),
        &fm.input_center,
    )?;
    let kinds = DataValidation::new()
        .allow_list_strings(&["医科", "歯科", "薬局"])?
        .set_input_title("種別")?
        .set_input_message("医科・歯科・薬局から1つ選んでください。医科・歯科併設の場合は、医科分と歯科分を別々に提出してください。")?
        .set_error_title("種別")?
        .set_error_message("医科・歯科・薬局のいずれか1つを選んでください。")?;
    ws.add_data_validation(10, 0, 11, 1, &kinds)?;
    ws.write_string_with_format(9, 2, "名称", &fm.label_center)?;
    merge(
        ws,
        (9, 3, 9, LAST_COL),
        &v(&|f| Some(f.facility_name.clone())),
        &fm.input,
    )?;
    merge(ws, (10, 2, 11, 2), "所在地", &fm.label_center)?;
    ws.write_string_with_format(10, 3, "〒", &fm.label_center)?;
    merge(
        ws,
        (10, 4, 10, 5),
        &v(&|f| f.facility_postal_code.as_ref().map(ToString::to_string)),
        &fm.input_text,
    )?;
    merge(ws, (10, 6, 10, LAST_COL), "", &fm.answer_box)?;
    merge(
        ws,
        (11, 3, 11, LAST_COL),
        &v(&|f| Some(f.facility_address.clone())),
        &fm.input,
    )?;

    // 指定希望日（予定）
    merge(ws, (12, 0, 12, 2), "指定希望日(予定)", &fm.label_center)?;
    date_cells(ws, 12, 3, form.map(|f| f.designation_date), &fm)?;

    // 依頼
    merge(
        ws,
        (14, 0, 14, LAST_COL),
        "上記のとおり依頼します。",
        &fm.plain,
    )?;
    date_cells(ws, 15, 5, form.and_then(|f| f.request_date), &fm)?;
    merge(
        ws,
        (16, 0, 16, 4),
        &v(&|f| f.addressed_bureau.clone()),
        &fm.input,
    )?;
    ws.write_string_with_format(16, 5, "御中", &fm.plain)?;
    let bureau = DataValidation::new()
        .allow_any_value()
        .set_input_title("提出先")?
        .set_input_message("提出先の地方厚生（支）局（例: 関東信越厚生局）を記入してください。")?;
    ws.add_data_validation(16, 0, 16, 4, &bureau)?;

    // 開設者
    let (founder1, founder2) = match form.map(|f| &f.founder) {
        Some(Founder::Person { name }) => (name.clone(), String::new()),
        Some(Founder::Corporation {
            name,
            representative_title,
            representative_name,
        }) => (
            name.clone(),
            [
                representative_title.as_deref(),
                representative_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        ),
        None => (String::new(), String::new()),
    };
    ws.set_row_height(18, 24)?;
    ws.set_row_height(19, 24)?;
    merge(
        ws,
        (18, 0, 19, 2),
        "開設者\n(氏名)※法人の場合は、名称、代表者の職・氏名",
        &fm.label,
    )?;
    merge(ws, (18, 3, 18, LAST_COL), &founder1, &fm.input)?;
    merge(ws, (19, 3, 19, LAST_COL), &founder2, &fm.input)?;

    ws.set_row_height(21, 24)?;
    ws.set_row_height(22, 24)?;
    merge(
        ws,
        (21, 0, 22, 2),
        "(保険医又は保険薬剤師の登録の記号及び番号)\n※保険医又は保険薬剤師の場合は記入ください。",
        &fm.label,
    )?;
    merge(
        ws,
        (21, 3, 22, LAST_COL),
        &v(&|f| f.founder_registration.clone()),
        &fm.input,
    )?;

    merge(ws, (24, 0, 24, 2), "担当者の連絡先(電話番号)", &fm.label)?;
    merge(
        ws,
        (24, 3, 24, 7),
        &v(&|f| Some(f.contact_phone.to_string())),
        &fm.input_text,
    )?;

    // 回答（局が記入）
    merge(
        ws,
        (26, 0, 26, LAST_COL),
        "上記の依頼について、受付番号を回答します。",
        &fm.plain,
    )?;
    merge(ws, (27, 0, 27, 2), "受付番号", &fm.label_center)?;
    merge(ws, (27, 3, 27, 7), "", &fm.answer_box)?;
    merge(
        ws,
        (28, 0, 29, LAST_COL),
        "※当該回答は保険医療機関・保険薬局としての指定ではありません。受付番号はオンライン資格確認の準備にのみ利用し、適切に管理してください。",
        &fm.paragraph,
    )?;
    for (col, text) in [(5, "令和"), (7, "年"), (9, "月"), (11, "日")] {
        ws.write_string_with_format(30, col, text, &fm.plain)?;
    }
    merge(ws, (31, 5, 31, LAST_COL), "〇〇 厚生(支)局", &fm.plain)?;
    merge(ws, (32, 5, 32, LAST_COL), "(公印省略)", &fm.plain)?;

    // Printing and protection.
    ws.set_paper_size(9); // A4
    ws.set_portrait();
    ws.set_margins(0.7, 0.7, 0.75, 0.75, 0.3, 0.3);
    ws.set_print_center_horizontally(true);
    ws.set_print_fit_to_pages(1, 1);
    ws.set_print_area(0, 0, 32, LAST_COL)?;
    ws.set_screen_gridlines(false);
    ws.protect();

    Ok(wb.save_to_buffer()?)
}

/// The sheet name of our blank 別紙2.
pub const PLAN_SHEET_NAME: &str = "別紙2";

/// Our blank 別紙2 「オンライン資格確認の導入計画書」 (seed 002), items ①–⑬ with their
/// printed labels and choices, one A4 portrait page, input cells unlocked, the sheet
/// protected (no password). [`crate::read_plans`] reads it back.
pub fn blank_plan_xlsx() -> Result<Vec<u8>> {
    let fm = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(PLAN_SHEET_NAME)?;
    // A: item, B: label, C..H: values.
    ws.set_column_width(0, 16)?;
    ws.set_column_width(1, 24)?;
    for c in 2..=8u16 {
        ws.set_column_width(c, 9)?;
    }
    ws.write_string_with_format(0, 8, "別紙2", &fm.right)?;
    ws.merge_range(1, 0, 1, 8, "オンライン資格確認の導入計画書", &fm.title)?;
    ws.write_string_with_format(2, 0, "Ⅰ．医療機関・薬局の基本情報", &fm.plain)?;
    let mut row = 3u32;
    let mut line = |ws: &mut Worksheet, head: &str, label: &str| -> Result<u32> {
        let r = row;
        if !head.is_empty() {
            ws.write_string_with_format(r, 0, head, &fm.label)?;
        }
        ws.write_string_with_format(r, 1, label, &fm.label)?;
        merge(ws, (r, 2, r, 8), "", &fm.input_text)?;
        row += 1;
        Ok(r)
    };
    line(ws, "① 医療機関・薬局", "(フリガナ) 名称")?;
    line(ws, "", "所在地 〒")?;
    line(ws, "② 開設者（法人の場合は代表者）", "(フリガナ) 氏名")?;
    line(ws, "", "保険医又は保険薬剤師の登録の記号及び番号")?;
    line(ws, "", "住所 〒")?;
    line(ws, "", "電話番号")?;
    line(ws, "", "Email（任意）")?;
    ws.write_string_with_format(row, 0, "Ⅱ．届出内容", &fm.plain)?;
    row += 1;
    let choices = "〔 ア 整備済み　　イ 契約済み（　　月整備予定）　　ウ 見積もり中 〕";
    let items: [(&str, &str, bool); 14] = [
        ("(1) ポータルサイト関係手続", "", false),
        ("", "③ アカウント作成（済み/未実施）", false),
        ("", "④ 利用申請・電子証明書の発行申請（済み/未実施）", false),
        ("(2) カードリーダー", "", false),
        ("", "⑤ 調達状況（ア～ウから選択）", true),
        ("", "⑥ メーカー名", false),
        ("(3) ネットワーク整備", "", false),
        ("", "⑦ 整備状況（ア～ウから選択）", true),
        ("", "⑧ ネットワーク導入事業者名", false),
        ("", "⑨ ネットワーク種類（IP-VPN/IPsec+IKE）", false),
        ("(4) 導入作業等", "", false),
        ("", "⑩ 導入作業開始（予定）日", false),
        ("", "⑪ システム導入事業者名", false),
        ("", "⑫ 運用開始（予定）日", false),
    ];
    for (head, label, with_choices) in items {
        if !head.is_empty() {
            ws.write_string_with_format(row, 0, head, &fm.plain)?;
            row += 1;
            continue;
        }
        let is_date = label.contains("日") && label.contains("予定");
        ws.merge_range(row, 0, row, 1, label, &fm.label)?;
        if is_date {
            date_row(ws, row, &fm)?;
        } else {
            merge(ws, (row, 2, row, 8), "", &fm.input_text)?;
        }
        row += 1;
        if with_choices {
            ws.merge_range(row, 0, row, 8, choices, &fm.small)?;
            row += 1;
        }
    }
    ws.merge_range(row, 0, row, 1, "⑬ 診療・調剤開始（予定）日", &fm.label)?;
    date_row(ws, row, &fm)?;
    row += 2;
    ws.merge_range(
        row,
        0,
        row + 2,
        8,
        "※ 本計画書は、保険医療機関等の指定申請書に添付して、地方厚生（支）局に提出してください。\
         ただし、保険医療機関等の指定を受ける時点からオンライン資格確認の経過措置に該当するやむを得ない事情がある医療機関等であって、\
         指定の申請の際に併せて経過措置の届出を行ったものについては、この限りではありません。",
        &fm.paragraph,
    )?;
    ws.set_paper_size(9); // A4
    ws.set_portrait();
    ws.set_margins(0.7, 0.7, 0.75, 0.75, 0.3, 0.3);
    ws.set_print_center_horizontally(true);
    ws.set_print_fit_to_pages(1, 1);
    ws.set_print_area(0, 0, row + 2, 8)?;
    ws.protect();
    Ok(wb.save_to_buffer()?)
}

/// `西暦 | [年] | 年 | [月] | 月 | [日] | 日`: the date cells of ⑩ ⑫ ⑬.
fn date_row(ws: &mut Worksheet, row: u32, fm: &Formats) -> Result<()> {
    ws.write_string_with_format(row, 2, "西暦", &fm.plain)?;
    ws.write_blank(row, 3, &fm.input_center)?;
    ws.write_string_with_format(row, 4, "年", &fm.plain)?;
    ws.write_blank(row, 5, &fm.input_center)?;
    ws.write_string_with_format(row, 6, "月", &fm.plain)?;
    ws.write_blank(row, 7, &fm.input_center)?;
    ws.write_string_with_format(row, 8, "日", &fm.plain)?;
    Ok(())
}
