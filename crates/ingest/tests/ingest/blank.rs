//! Our own blank 別紙1: print setup, protection, dropdown and labels.

use std::io::Cursor;

use calamine::{Reader, Xlsx};

use crate::common::unzip;

fn blank_xml(part: &str) -> String {
    let blank = uketsuke_ingest::blank_form_xlsx().expect("blank");
    let (_, data) = unzip(&blank)
        .into_iter()
        .find(|(n, _)| n == part)
        .unwrap_or_else(|| panic!("{part} missing"));
    String::from_utf8(data).expect("utf8")
}

#[test]
fn the_blank_form_is_one_protected_a4_portrait_page_with_unlocked_inputs_and_a_kind_dropdown() {
    let sheet = blank_xml("xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<sheetProtection"), "protected");
    assert!(!sheet.contains("password="), "no password");
    assert!(sheet.contains(r#"paperSize="9""#), "A4");
    assert!(sheet.contains(r#"orientation="portrait""#), "portrait");
    assert!(sheet.contains(r#"fitToPage="1""#), "fit to page");
    assert!(
        !sheet.contains(r#"fitToHeight="0""#) && !sheet.contains(r#"fitToWidth="2""#),
        "one page"
    );
    assert!(sheet.contains("<pageMargins"), "margins");
    assert!(sheet.contains(r#"<dataValidation type="list""#), "dropdown");
    assert!(sheet.contains("\"医科,歯科,薬局\""), "dropdown values");
    let styles = blank_xml("xl/styles.xml");
    assert!(styles.contains(r#"locked="0""#), "unlocked input cells");
    let workbook = blank_xml("xl/workbook.xml");
    assert!(workbook.contains("_xlnm.Print_Area"), "print area");
}

#[test]
fn the_blank_form_prints_the_official_labels_and_the_answer_half() {
    let blank = uketsuke_ingest::blank_form_xlsx().expect("blank");
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(blank)).expect("xlsx");
    let range = wb.worksheet_range("別紙1").expect("sheet");
    let texts: Vec<String> = range.used_cells().map(|(_, _, v)| v.to_string()).collect();
    for label in [
        "別紙1",
        "(住所)",
        "(氏名)",
        "様",
        "受付番号 情報提供依頼書 兼 回答書",
        "医科・歯科・薬局",
        "名称",
        "所在地",
        "指定希望日(予定)",
        "上記のとおり依頼します。",
        "御中",
        "(保険医又は保険薬剤師の登録の記号及び番号)\n※保険医又は保険薬剤師の場合は記入ください。",
        "担当者の連絡先(電話番号)",
        "上記の依頼について、受付番号を回答します。",
        "受付番号",
        "(公印省略)",
    ] {
        assert!(texts.iter().any(|t| t == label), "missing {label:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with("※当該回答は保険医療機関・保険薬局としての指定ではありません。")));
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("開設者\n(氏名)※法人の場合は、名称、代表者の職・氏名"))
    );
}
