//! The 一覧表 .xlsx read back by two independent readers: calamine (Rust) and
//! openpyxl (Python, run as a subprocess; the test fails if it is missing).

mod common;

use calamine::{Data, Reader};
use common::{calamine_sheet, cell, date, python, sample_rows};
use serde_json::json;
use uketsuke_export::list::WAREKI_DATE_FORMAT;
use uketsuke_export::{Column, ColumnSpec, ListLayout, list_xlsx};

fn text(s: &str) -> Data {
    Data::String(s.to_owned())
}

#[test]
fn the_list_reads_back_in_calamine_with_text_codes_and_real_dates() {
    let rows = sample_rows();
    let bytes = list_xlsx(
        &ListLayout::default(),
        date(2024, 7, 1),
        Some("第123回 鳥取県地方社会保険医療協議会 答申分"),
        &rows,
    )
    .unwrap();
    let (book, name, range) = calamine_sheet(&bytes);

    assert_eq!(name, "新規指定医療機関一覧表");
    assert_eq!(cell(&range, 1, "A"), text("新規指定医療機関一覧表"));
    assert_eq!(cell(&range, 2, "A"), text("[令和６年７月１日 現在]"));
    assert_eq!(
        cell(&range, 3, "A"),
        text("第123回 鳥取県地方社会保険医療協議会 答申分")
    );
    let headers: Vec<Data> = ('A'..='P')
        .map(|c| cell(&range, 4, &c.to_string()))
        .collect();
    assert_eq!(
        headers,
        [
            "項番",
            "都道府県コード",
            "都道府県名",
            "区分",
            "医療機関等コード",
            "受付番号",
            "医療機関番号",
            "併設医療機関番号",
            "医療機関名称",
            "郵便番号",
            "所在地",
            "電話番号",
            "開設者",
            "指定年月日",
            "答申日",
            "備考",
        ]
        .map(text)
    );

    // Row 5: the 北海道 clinic. Codes are strings with their leading zeros.
    assert_eq!(cell(&range, 5, "A"), Data::Float(1.0));
    assert_eq!(cell(&range, 5, "B"), text("01"));
    assert_eq!(cell(&range, 5, "C"), text("北海道"));
    assert_eq!(cell(&range, 5, "D"), text("医科"));
    let code = rows[0].institution_code.as_str();
    assert!(code.starts_with("0110112"), "{code}");
    assert_eq!(cell(&range, 5, "E"), text(code));
    assert_eq!(cell(&range, 5, "F"), text(code));
    assert_eq!(cell(&range, 5, "G"), text(&code[3..]));
    assert_eq!(cell(&range, 5, "H"), Data::Empty);
    assert_eq!(cell(&range, 5, "I"), text("愛全クリニック"));
    assert_eq!(cell(&range, 5, "J"), text("680-0862"));
    assert_eq!(cell(&range, 5, "L"), text("0857-22-2346"));

    // Dates come back as dates.
    let designation = cell(&range, 5, "N");
    let council = cell(&range, 5, "O");
    match (&designation, &council) {
        (Data::DateTime(d), Data::DateTime(c)) => {
            assert_eq!(d.as_datetime().unwrap().date(), date(2024, 7, 1));
            assert_eq!(c.as_datetime().unwrap().date(), date(2024, 6, 20));
        }
        other => panic!("dates expected, got {other:?}"),
    }

    // Row 6: the dental clinic with its 併設 number and no 答申日.
    assert_eq!(cell(&range, 6, "D"), text("歯科"));
    assert_eq!(
        cell(&range, 6, "H"),
        text(rows[1].combined_code.as_deref().unwrap())
    );
    assert_eq!(cell(&range, 6, "I"), text("歯科\"スマイル\", 本院"));
    assert_eq!(cell(&range, 6, "O"), Data::Empty);

    // Row 7: the pharmacy: no phone, a two-line note.
    assert_eq!(cell(&range, 7, "A"), Data::Float(3.0));
    assert_eq!(cell(&range, 7, "L"), Data::Empty);
    assert_eq!(
        cell(&range, 7, "P"),
        text("開設者変更あり\n（旧：資格 花子）")
    );
    assert_eq!(range.end(), Some((6, 15)));

    // The autofilter and the repeated header row are workbook names.
    let names = book.defined_names();
    assert!(
        names.contains(&(
            "_xlnm._FilterDatabase".to_owned(),
            "新規指定医療機関一覧表!$A$4:$P$7".to_owned()
        )),
        "{names:?}"
    );
    assert!(
        names.contains(&(
            "_xlnm.Print_Titles".to_owned(),
            "新規指定医療機関一覧表!$4:$4".to_owned()
        )),
        "{names:?}"
    );
}

#[test]
fn calamine_sees_text_formats_on_codes_and_the_wareki_format_on_dates() {
    let bytes = list_xlsx(
        &ListLayout::default(),
        date(2024, 7, 1),
        None,
        &sample_rows(),
    )
    .unwrap();
    let (mut book, name, _) = calamine_sheet(&bytes);
    let styles = book.worksheet_style(&name).unwrap();
    let format_of = |row: u32, col: u32| {
        styles
            .get((row, col))
            .and_then(|s| s.number_format.as_ref())
            .map(|f| f.format_code.clone())
    };
    assert_eq!(format_of(4, 4).as_deref(), Some("@"), "医療機関等コード");
    assert_eq!(format_of(4, 13).as_deref(), Some(WAREKI_DATE_FORMAT));
    let header_font = styles.get((3, 0)).and_then(|s| s.font.clone()).unwrap();
    assert!(header_font.is_bold());
    assert_eq!(header_font.name.as_deref(), Some("Arial"));
}

#[test]
fn a_bureau_can_rename_drop_and_reorder_columns() {
    let layout: ListLayout = serde_json::from_value(json!({
        "title": "保険医療機関等新規指定一覧",
        "columns": [
            "institution_code",
            {"column": "facility_name", "header": "保険医療機関名称"},
            "item_no",
            {"column": "designation_date"}
        ]
    }))
    .unwrap();
    let bytes = list_xlsx(&layout, date(2024, 7, 1), None, &sample_rows()).unwrap();
    let (_, name, range) = calamine_sheet(&bytes);

    assert_eq!(name, "保険医療機関等新規指定一覧");
    assert_eq!(cell(&range, 1, "A"), text("保険医療機関等新規指定一覧"));
    assert_eq!(cell(&range, 3, "A"), Data::Empty, "no subtitle");
    assert_eq!(
        [
            cell(&range, 4, "A"),
            cell(&range, 4, "B"),
            cell(&range, 4, "C"),
            cell(&range, 4, "D")
        ],
        ["医療機関等コード", "保険医療機関名称", "項番", "指定年月日"].map(text)
    );
    assert_eq!(cell(&range, 6, "B"), text("歯科\"スマイル\", 本院"));
    assert_eq!(cell(&range, 6, "C"), Data::Float(2.0));
    assert!(matches!(cell(&range, 7, "D"), Data::DateTime(_)));
    assert_eq!(range.end(), Some((6, 3)), "only four columns");
}

#[test]
fn an_empty_list_still_has_its_title_date_and_headers() {
    let bytes = list_xlsx(&ListLayout::default(), date(2025, 1, 6), None, &[]).unwrap();
    let (book, _, range) = calamine_sheet(&bytes);
    assert_eq!(cell(&range, 2, "A"), text("[令和７年１月６日 現在]"));
    assert_eq!(cell(&range, 4, "P"), text("備考"));
    assert_eq!(range.end(), Some((3, 15)));
    assert!(
        book.defined_names()
            .iter()
            .any(|(n, r)| n == "_xlnm._FilterDatabase" && r.ends_with("$A$4:$P$4"))
    );
}

#[test]
fn an_invalid_layout_is_refused() {
    let layout = ListLayout {
        columns: vec![ColumnSpec::new(Column::Note), ColumnSpec::new(Column::Note)],
        ..ListLayout::default()
    };
    let err = list_xlsx(&layout, date(2024, 7, 1), None, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "一覧表の列「note」が2回以上指定されています。"
    );
}

#[test]
fn the_same_rows_give_the_same_bytes() {
    let rows = sample_rows();
    let a = list_xlsx(&ListLayout::default(), date(2024, 7, 1), None, &rows).unwrap();
    // Across a second boundary: the file's creation time comes from the list's date, not
    // the clock, so the bytes do not change with the moment of writing.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = list_xlsx(&ListLayout::default(), date(2024, 7, 1), None, &rows).unwrap();
    assert_eq!(a, b);
}

/// openpyxl reads the sheet and reports what a person opening it would see.
const OPENPYXL_LIST: &str = r#"
import io, json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read()))
ws = wb.worksheets[0]
ps = ws.page_setup
def val(v):
    if isinstance(v, datetime.datetime):
        return {"date": v.date().isoformat()}
    return v
print(json.dumps({
    "sheets": wb.sheetnames,
    "title": ws["A1"].value,
    "title_bold": ws["A1"].font.b,
    "title_size": ws["A1"].font.sz,
    "as_of": ws["A2"].value,
    "subtitle": ws["A3"].value,
    "headers": [c.value for c in ws[4]],
    "header_bold": all(c.font.b for c in ws[4]),
    "rows": [[val(c.value) for c in r] for r in ws.iter_rows(min_row=5)],
    "types": [c.data_type for c in ws[5]],
    "code_format": ws["E5"].number_format,
    "date_format": ws["N5"].number_format,
    "date_is_date": ws["N5"].is_date,
    "font": ws["E5"].font.name,
    "font_size": ws["E5"].font.sz,
    "freeze": ws.freeze_panes,
    "autofilter": ws.auto_filter.ref,
    "print_title_rows": ws.print_title_rows,
    "orientation": ps.orientation,
    "paper": int(ps.paperSize),
    "fit_to_page": ws.sheet_properties.pageSetUpPr.fitToPage,
    # An absent fitToWidth means 1, the OOXML default.
    "fit_width": 1 if ps.fitToWidth is None else ps.fitToWidth,
    "fit_height": ps.fitToHeight,
    "footer_center": ws.oddFooter.center.text,
    "footer_left": ws.oddFooter.left.text,
    "widths": {k: v.width for k, v in ws.column_dimensions.items()},
}, ensure_ascii=False))
"#;

#[test]
fn openpyxl_reads_the_list_with_frozen_header_filter_and_print_setup() {
    let rows = sample_rows();
    let bytes = list_xlsx(
        &ListLayout::default(),
        date(2024, 7, 1),
        Some("第123回 地医協"),
        &rows,
    )
    .unwrap();
    let seen = python(OPENPYXL_LIST, &bytes);

    assert_eq!(seen["sheets"], json!(["新規指定医療機関一覧表"]));
    assert_eq!(seen["title"], "新規指定医療機関一覧表");
    assert_eq!(seen["title_bold"], true);
    assert_eq!(seen["title_size"], 14.0);
    assert_eq!(seen["as_of"], "[令和６年７月１日 現在]");
    assert_eq!(seen["subtitle"], "第123回 地医協");
    assert_eq!(seen["headers"][0], "項番");
    assert_eq!(seen["headers"][15], "備考");
    assert_eq!(seen["header_bold"], true);

    let code = rows[0].institution_code.as_str();
    assert_eq!(
        seen["rows"][0],
        json!([
            1,
            "01",
            "北海道",
            "医科",
            code,
            code,
            &code[3..],
            null,
            "愛全クリニック",
            "680-0862",
            "鳥取市雲山５７",
            "0857-22-2346",
            "医療法人　受付会　理事長　資格　太郎",
            {"date": "2024-07-01"},
            {"date": "2024-06-20"},
            null
        ])
    );
    assert_eq!(seen["rows"][2][13], json!({"date": "2024-08-01"}));
    assert_eq!(seen["types"][0], "n");
    assert_eq!(seen["types"][4], "s");
    assert_eq!(seen["types"][13], "d");
    assert_eq!(seen["code_format"], "@");
    assert_eq!(seen["date_format"], WAREKI_DATE_FORMAT);
    assert_eq!(seen["date_is_date"], true);
    assert_eq!(seen["font"], "Arial");
    assert_eq!(seen["font_size"], 10.0);

    assert_eq!(seen["freeze"], "A5");
    assert_eq!(seen["autofilter"], "A4:P7");
    assert_eq!(seen["print_title_rows"], "$4:$4");
    assert_eq!(seen["orientation"], "landscape");
    assert_eq!(seen["paper"], 9, "A4");
    assert_eq!(seen["fit_to_page"], true);
    assert_eq!(seen["fit_width"], 1);
    assert_eq!(seen["fit_height"], 0);
    assert_eq!(seen["footer_center"], "&P / &N");
    assert_eq!(seen["footer_left"], "新規指定医療機関一覧表");

    // Widths follow the text (全角 = 2), headers included: 項番 is narrow, the
    // address wider, a column fits its 8-character header 「医療機関等コード」.
    let width = |col: &str| seen["widths"][col].as_f64().unwrap();
    assert!(width("A") < 10.0, "{}", seen["widths"]);
    // 項番: its header (4 wide, a tenth more rounded down, plus 1: 5) is wider than its
    // numbers; 2 of padding.
    assert!(
        (7.0..8.0).contains(&width("A")),
        "the header's width sets column A: {}",
        seen["widths"]
    );
    // 都道府県コード: its bold header (14 wide, a tenth more, plus 1: 16) is wider than
    // its values; 2 of padding.
    assert!(
        (18.0..19.0).contains(&width("B")),
        "the header's width sets column B: {}",
        seen["widths"]
    );
    assert!(width("A") < width("K"), "{}", seen["widths"]);
    assert!(
        width("E") >= 16.0 && width("E") < 24.0,
        "{}",
        seen["widths"]
    );
    assert!(
        width("M") >= 36.0,
        "開設者 is 18 全角 characters: {}",
        seen["widths"]
    );
}

#[test]
fn a_date_excel_cannot_hold_is_an_error_naming_the_row() {
    let mut rows = sample_rows();
    rows[2].council_date = Some(date(1899, 12, 31));
    let err = list_xlsx(&ListLayout::default(), date(2024, 7, 1), None, &rows).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("3件目（うけつけ薬局）の「答申日」を Excel の日付にできません"),
        "{message}"
    );
}

#[test]
fn a_row_with_a_line_break_is_tall_enough_for_both_lines() {
    const HEIGHTS: &str = r#"
import io, json, sys, openpyxl
ws = openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read())).worksheets[0]
print(json.dumps({"heights": [ws.row_dimensions[r].height for r in (5, 6, 7)],
                  "wrap": ws["P7"].alignment.wrap_text,
                  "one_line_wraps": bool(ws["I7"].alignment.wrap_text)}))
"#;
    let bytes = list_xlsx(
        &ListLayout::default(),
        date(2024, 7, 1),
        None,
        &sample_rows(),
    )
    .unwrap();
    let seen = python(HEIGHTS, &bytes);
    assert_eq!(
        seen["heights"][0],
        json!(null),
        "one line: the default height"
    );
    // Two lines of 12.75 pt, plus 2 (Excel keeps steps of 0.75 pt: 27.5 is 27.75).
    let two_lines = seen["heights"][2].as_f64().unwrap();
    assert!((27.0..=28.0).contains(&two_lines), "{seen}");
    assert_eq!(seen["wrap"], true);
    assert_eq!(
        seen["one_line_wraps"], false,
        "a cell of one line is not wrapped"
    );
}

#[test]
fn an_empty_optional_text_is_an_empty_cell() {
    use uketsuke_export::row::Value;
    let mut row = sample_rows().remove(0);
    row.phone = Some(String::new());
    row.note = None;
    assert_eq!(row.value(Column::Phone, 1), Value::Empty);
    assert_eq!(row.value(Column::Note, 1), Value::Empty);
    row.phone = Some("03-1234-5678".into());
    assert_eq!(
        row.value(Column::Phone, 1),
        Value::Text("03-1234-5678".into())
    );
}
