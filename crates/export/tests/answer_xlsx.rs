//! The 回答書 .xlsx read back by calamine and by openpyxl.

mod common;

use calamine::Data;
use common::{calamine_sheet, date, python};
use serde_json::json;
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture, RequestKind};
use uketsuke_export::answer::NOT_A_DESIGNATION;
use uketsuke_export::{AnswerSheet, answer_xlsx};

fn answer() -> AnswerSheet {
    AnswerSheet {
        recipient_postal_code: Some("〒123-4567".to_owned()),
        recipient_address: "東京都千代田区霞が関1-2-2".to_owned(),
        recipient_name: "資格 太郎".to_owned(),
        kind: RequestKind::Pharmacy,
        facility_name: "オン資薬局".to_owned(),
        facility_postal_code: Some("730-0012".to_owned()),
        facility_address: "広島市中区上八丁堀6番30号".to_owned(),
        desired_designation_date: date(2024, 4, 1),
        request_date: date(2024, 2, 1),
        bureau_name: "中国四国厚生局".to_owned(),
        founder: "株式会社オン資　代表取締役　資格　花子".to_owned(),
        registration_number: None,
        contact_phone: Some("082-223-0000".to_owned()),
        // 北海道 (01), 調剤 (4): a leading zero to keep.
        reception_number: InstitutionCode::build(
            Prefecture::from_code(1).unwrap(),
            FeeSchedule::Pharmacy,
            1,
            4012,
            false,
        )
        .unwrap(),
        answer_date: date(2024, 2, 13),
        submission_deadline: date(2024, 2, 15),
    }
}

/// Every non-empty text of the sheet, top to bottom, left to right.
fn texts(range: &calamine::Range<Data>) -> Vec<String> {
    range
        .rows()
        .flat_map(|row| row.iter())
        .filter_map(|cell| match cell {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_answer_carries_the_number_the_dates_in_wareki_and_the_notices() {
    let sheet = answer();
    let bytes = answer_xlsx(&sheet).unwrap();
    let (_, name, range) = calamine_sheet(&bytes);
    assert_eq!(name, "回答書");
    let texts = texts(&range);
    let has = |s: &str| texts.iter().any(|t| t == s);

    let number = sheet.reception_number.as_str();
    assert!(number.starts_with("014"), "{number}");
    assert!(has(number), "the 10-digit number, as text: {texts:?}");
    for expected in [
        "〒123-4567 東京都千代田区霞が関1-2-2",
        "資格 太郎　様",
        "受付番号 情報提供依頼書 兼 回答書",
        "□医科　□歯科　■薬局",
        "オン資薬局",
        "〒730-0012 広島市中区上八丁堀6番30号",
        "令和6年4月1日",
        "令和6年2月1日",
        "中国四国厚生局　御中",
        "株式会社オン資　代表取締役　資格　花子",
        "082-223-0000",
        "上記の依頼について、受付番号を回答します。",
        "受付番号",
        NOT_A_DESIGNATION,
        "実施機関への提出期限: 令和6年2月15日",
        "令和6年2月13日",
        "中国四国厚生局",
        "（公印省略）",
    ] {
        assert!(has(expected), "{expected:?} missing from {texts:?}");
    }
    // The request comes before the answer, the answer date before the seal line.
    let at = |s: &str| texts.iter().position(|t| t == s).unwrap();
    assert!(at("オン資薬局") < at(number));
    assert!(at(number) < at(NOT_A_DESIGNATION));
    assert!(at("令和6年2月13日") < at("（公印省略）"));
}

const OPENPYXL_ANSWER: &str = r#"
import io, json, sys, openpyxl
wb = openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read()))
ws = wb.worksheets[0]
ps = ws.page_setup
number = next(c for r in ws.iter_rows() for c in r
              if isinstance(c.value, str) and c.value.isdigit() and len(c.value) == 10)
print(json.dumps({
    "sheets": wb.sheetnames,
    "number": number.value,
    "number_cell": number.coordinate,
    "number_size": number.font.sz,
    "number_bold": number.font.b,
    "number_type": number.data_type,
    "merged": sorted(str(m) for m in ws.merged_cells.ranges),
    "orientation": ps.orientation,
    "paper": int(ps.paperSize),
    "fit_to_page": ws.sheet_properties.pageSetUpPr.fitToPage,
    "fit_width": 1 if ps.fitToWidth is None else ps.fitToWidth,
    "fit_height": 1 if ps.fitToHeight is None else ps.fitToHeight,
    "print_area": ws.print_area,
    "font": ws["A5"].font.name,
}, ensure_ascii=False))
"#;

#[test]
fn openpyxl_sees_a_one_page_a4_portrait_form_with_a_large_number() {
    let sheet = answer();
    let seen = python(OPENPYXL_ANSWER, &answer_xlsx(&sheet).unwrap());
    assert_eq!(seen["sheets"], json!(["回答書"]));
    assert_eq!(seen["number"], sheet.reception_number.as_str());
    assert_eq!(seen["number_cell"], "D22");
    assert_eq!(seen["number_size"], 24.0);
    assert_eq!(seen["number_bold"], true);
    assert_eq!(seen["number_type"], "s");
    let merged = seen["merged"].as_array().unwrap();
    assert!(merged.contains(&json!("D22:H22")), "{merged:?}");
    assert!(merged.contains(&json!("A5:H5")), "the title spans the page");
    assert_eq!(seen["orientation"], "portrait");
    assert_eq!(seen["paper"], 9, "A4");
    assert_eq!(seen["fit_to_page"], true);
    assert_eq!(seen["fit_width"], 1);
    assert_eq!(seen["fit_height"], 1);
    assert_eq!(seen["print_area"], "'回答書'!$A$1:$H$30");
    assert_eq!(seen["font"], "ＭＳ 明朝");
}

#[test]
fn a_founder_who_is_a_doctor_has_the_registration_number_printed() {
    let mut sheet = answer();
    sheet.kind = RequestKind::Medical;
    sheet.registration_number = Some("広医 第12345号".to_owned());
    sheet.recipient_postal_code = None;
    let (_, _, range) = calamine_sheet(&answer_xlsx(&sheet).unwrap());
    let texts = texts(&range);
    assert!(texts.contains(&"広医 第12345号".to_owned()), "{texts:?}");
    assert!(texts.contains(&"■医科　□歯科　□薬局".to_owned()));
    assert!(texts.contains(&"東京都千代田区霞が関1-2-2".to_owned()));
}

/// The height openpyxl reads for each row of the sheet (1-based), where one is set.
const OPENPYXL_HEIGHTS: &str = r#"
import io, json, sys, openpyxl
ws = openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read())).worksheets[0]
heights = {str(r): ws.row_dimensions[r].height for r in range(1, 31)
           if ws.row_dimensions[r].height is not None}
heights["wrap"] = {c: bool(ws[c].alignment.wrap_text) for c in ["C9", "D9", "A17", "D17", "A19", "D19"]}
print(json.dumps(heights))
"#;

/// A row's height as set, in points: Excel stores heights in steps of 0.75 pt (one
/// pixel), so 34 pt is kept as 33.75 and 53 pt as 53.25.
fn height(h: &serde_json::Value, row: u32) -> f64 {
    let pt = h[row.to_string()]
        .as_f64()
        .unwrap_or_else(|| panic!("row {row} has no height: {h}"));
    (pt / 0.75).round() * 0.75
}

fn assert_height(h: &serde_json::Value, row: u32, points: f64, what: &str) {
    let expected = (points / 0.75).round() * 0.75;
    assert_eq!(
        height(h, row),
        expected,
        "row {row} ({what}) is {points} pt: {h}"
    );
}

fn heights(sheet: &AnswerSheet) -> serde_json::Value {
    python(OPENPYXL_HEIGHTS, &answer_xlsx(sheet).unwrap())
}

/// A row of wrapped text is 15 pt a line, plus 4 pt (a paragraph across the page, 88
/// digit widths) or 8 pt and at least 24 pt (a boxed label and value); a line holds the
/// cell's width less 2 digit widths, a 全角 character taking two.
#[test]
fn each_row_is_as_tall_as_its_wrapped_text() {
    let sheet = answer();
    let h = heights(&sheet);
    // Paragraphs: the request (86 usable widths; 116 wide: 2 lines), the notice, the
    // guidance with its deadline.
    assert_height(&h, 7, 34.0, "{h}");
    // Boxed rows with one line of value: at least 24 pt.
    assert_height(&h, 9, 24.0, "名称");
    assert_height(&h, 10, 24.0, "所在地");
    assert_height(&h, 11, 24.0, "指定希望日");
    // The 開設者 label: 「※法人の場合は、名称、代表者の職・氏名」 is 38 wide in a
    // label of 3 columns (31 usable): 2 lines, plus its first line: 3 lines.
    assert_height(&h, 17, 53.0, "開設者");
    // 「保険医又は保険薬剤師の」 (22 wide) and 「登録の記号及び番号」 (18): 2 lines.
    assert_height(&h, 18, 38.0, "登録の記号及び番号");
    assert_height(&h, 19, 24.0, "連絡先");
    assert_height(&h, 5, 30.0, "the title");
    assert_height(&h, 22, 40.0, "the number");
    // A boxed row of several lines wraps its label and value; one of a line does not.
    assert_eq!(
        h["wrap"],
        json!({"C9": false, "D9": false, "A17": true, "D17": true, "A19": false, "D19": false})
    );

    // A name 60 wide does not fit the value's 5 columns (53 usable): two lines. It would
    // fit 9 columns; a label column of one (9 usable) holds 「所在地」 (6 wide).
    let long = AnswerSheet {
        facility_name: "医療法人社団オンライン資格確認記念会さくら内科クリニック".to_owned(),
        facility_address: "東京都千代田区霞が関一丁目二番二号中央合同庁舎第五号館別館".to_owned(),
        ..answer()
    };
    let h = heights(&long);
    assert_height(&h, 9, 38.0, "a long name wraps once");
    assert_eq!(h["wrap"]["C9"], true);
    assert_eq!(h["wrap"]["D9"], true);
    // 〒730-0012 (9) + a space + 29 全角 (58): 68 wide, 2 lines.
    assert_height(&h, 10, 38.0, "a long address wraps once");
    assert_height(&h, 11, 24.0, "指定希望日");
}
