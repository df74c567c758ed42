//! The case list download (案件一覧): the workbook read back by openpyxl, the CSV read
//! back byte by byte, in both encodings.

mod common;

use chrono::{TimeDelta, Utc};
use common::{date, python};
use serde_json::json;
use uketsuke_export::{
    CASE_LIST_HEADERS, CaseListRow, CsvEncoding, Unencodable, case_list_csv, case_list_xlsx,
};

fn rows() -> Vec<CaseListRow> {
    vec![
        CaseListRow {
            received: date(2026, 11, 2),
            facility_name: "さくら内科".into(),
            kind: "医科",
            status: "受付済",
            designation: date(2027, 4, 1),
            due: date(2027, 2, 26),
            code: "1310012345".into(),
            office: "東京事務所".into(),
            address: "東京都新宿区西新宿2-8-1".into(),
            phone: "03-1234-5678".into(),
        },
        CaseListRow {
            received: date(2026, 11, 5),
            facility_name: "=つばき, \"歯科\"".into(),
            kind: "歯科",
            status: "番号交付済",
            designation: date(2027, 5, 1),
            due: date(2027, 3, 31),
            code: "0130034567".into(),
            office: "群馬事務所".into(),
            address: "群馬県前橋市大手町1-1-1".into(),
            phone: "027-000-0000".into(),
        },
    ]
}

const OPENPYXL_CASE_LIST: &str = r#"
import io, json, sys, openpyxl
wb = openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read()))
ws = wb.worksheets[0]
ps = ws.page_setup
def value(c):
    v = c.value
    return v.isoformat() if hasattr(v, "isoformat") else v
print(json.dumps({
    "sheets": wb.sheetnames,
    "title": ws["A1"].value,
    "title_bold": ws["A1"].font.b,
    "conditions": ws["A2"].value,
    "rows": [[value(c) for c in r] for r in ws.iter_rows(min_row=4, max_row=ws.max_row)],
    "max_row": ws.max_row,
    "date_format": ws["A5"].number_format,
    "code_format": ws["G5"].number_format,
    "phone_format": ws["J5"].number_format,
    "autofilter": ws.auto_filter.ref,
    "freeze": ws.freeze_panes,
    "orientation": ps.orientation,
    "paper": int(ps.paperSize),
    "fit_to_page": ws.sheet_properties.pageSetUpPr.fitToPage,
    "fit_width": 1 if ps.fitToWidth is None else ps.fitToWidth,
    "fit_height": 1 if ps.fitToHeight is None else ps.fitToHeight,
    "print_titles": ws.print_title_rows,
    "widths": [ws.column_dimensions[c].width for c in "ABCDEFGHIJ"],
}, ensure_ascii=False))
"#;

#[test]
fn the_workbook_has_the_conditions_the_rows_as_dates_and_text_and_a_filtered_frozen_header() {
    let before = Utc::now() + TimeDelta::hours(9);
    let bytes = case_list_xlsx(&rows(), "受付日 令和8年11月").unwrap();
    let after = Utc::now() + TimeDelta::hours(9);
    let seen = python(OPENPYXL_CASE_LIST, &bytes);
    assert_eq!(seen["sheets"], json!(["案件一覧"]));
    assert_eq!(seen["title"], "案件一覧");
    assert_eq!(seen["title_bold"], true);
    // The time it was made, in Japan (either side of a minute boundary).
    let stamp = |t: chrono::DateTime<Utc>| {
        format!(
            "条件: 受付日 令和8年11月　／　2 件　／　出力 {} {}",
            uketsuke_domain::format_wareki(t.date_naive()),
            t.format("%H:%M")
        )
    };
    let conditions = seen["conditions"].as_str().unwrap();
    assert!(
        conditions == stamp(before) || conditions == stamp(after),
        "{conditions} (expected {})",
        stamp(before)
    );
    assert_eq!(
        seen["rows"],
        json!([
            CASE_LIST_HEADERS,
            [
                "2026-11-02T00:00:00",
                "さくら内科",
                "医科",
                "受付済",
                "2027-04-01T00:00:00",
                "2027-02-26T00:00:00",
                "1310012345",
                "東京事務所",
                "東京都新宿区西新宿2-8-1",
                "03-1234-5678"
            ],
            [
                "2026-11-05T00:00:00",
                "=つばき, \"歯科\"",
                "歯科",
                "番号交付済",
                "2027-05-01T00:00:00",
                "2027-03-31T00:00:00",
                "0130034567",
                "群馬事務所",
                "群馬県前橋市大手町1-1-1",
                "027-000-0000"
            ]
        ])
    );
    assert_eq!(seen["max_row"], 6, "two rows under the header of row 4");
    assert_eq!(seen["date_format"], r#"[$-411]ggge"年"m"月"d"日""#);
    assert_eq!(seen["code_format"], "@", "a number with its leading zero");
    assert_eq!(seen["phone_format"], "@");
    assert_eq!(seen["autofilter"], "A4:J6");
    assert_eq!(seen["freeze"], "A5");
    assert_eq!(seen["orientation"], "landscape");
    assert_eq!(seen["paper"], 9, "A4");
    assert_eq!(seen["fit_to_page"], true);
    assert_eq!(seen["fit_width"], 1);
    assert_eq!(seen["fit_height"], 0);
    assert_eq!(seen["print_titles"], "$4:$4");
    let widths: Vec<f64> = seen["widths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect();
    // Excel adds its padding to the widths set: compare the order of the columns.
    assert!(
        widths[8] > widths[1] && widths[1] > widths[0] && widths[0] > widths[2],
        "{widths:?}"
    );
}

#[test]
fn an_empty_list_has_its_header_and_a_filter_on_it_alone() {
    let seen = python(OPENPYXL_CASE_LIST, &case_list_xlsx(&[], "すべて").unwrap());
    assert_eq!(seen["rows"], json!([CASE_LIST_HEADERS]));
    assert_eq!(seen["autofilter"], "A4:J4");
    assert!(
        seen["conditions"]
            .as_str()
            .unwrap()
            .starts_with("条件: すべて　／　0 件　／　出力 令和")
    );
}

#[test]
fn the_csv_is_utf8_with_a_bom_crlf_iso_dates_and_formulas_neutralised() {
    let bytes = case_list_csv(&rows(), CsvEncoding::Utf8Bom).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines.len(),
        4,
        "header, two rows, and the empty end: {text:?}"
    );
    assert_eq!(lines[0], CASE_LIST_HEADERS.join(","));
    assert_eq!(
        lines[1],
        "2026-11-02,さくら内科,医科,受付済,2027-04-01,2027-02-26,1310012345,東京事務所,東京都新宿区西新宿2-8-1,03-1234-5678"
    );
    assert_eq!(
        lines[2],
        "2026-11-05,\"'=つばき, \"\"歯科\"\"\",歯科,番号交付済,2027-05-01,2027-03-31,0130034567,群馬事務所,群馬県前橋市大手町1-1-1,027-000-0000"
    );
    assert_eq!(lines[3], "");
}

#[test]
fn the_shift_jis_csv_holds_the_same_text_and_names_a_character_it_cannot() {
    let bytes = case_list_csv(&rows(), CsvEncoding::ShiftJis).unwrap();
    assert_ne!(&bytes[..3], b"\xEF\xBB\xBF", "no BOM in Shift_JIS");
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let utf8 = case_list_csv(&rows(), CsvEncoding::Utf8Bom).unwrap();
    assert_eq!(text, String::from_utf8(utf8[3..].to_vec()).unwrap());

    let mut hard = rows();
    hard[1].address = "群馬県前橋市𠮷野町1-1".into();
    assert_eq!(
        case_list_csv(&hard, CsvEncoding::ShiftJis).unwrap_err(),
        Unencodable {
            row: 2,
            facility: "=つばき, \"歯科\"".into(),
            column: "所在地",
            character: '𠮷',
        }
    );
    // UTF-8 holds it.
    assert!(case_list_csv(&hard, CsvEncoding::Utf8Bom).is_ok());
}

#[test]
fn each_encoding_names_its_mime_type() {
    assert_eq!(CsvEncoding::Utf8Bom.mime(), "text/csv; charset=utf-8");
    assert_eq!(CsvEncoding::ShiftJis.mime(), "text/csv; charset=Shift_JIS");
}
