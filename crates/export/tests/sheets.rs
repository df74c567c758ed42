//! The smaller workbooks and CSV files, read back by openpyxl and byte by byte: the
//! 管理システムへの反映リスト (「8. 未指定」 to set), the 月報 and the published 日程表.

mod common;

use chrono::{TimeDelta, Utc};
use common::{date, python};
use serde_json::json;
use uketsuke_export::reflection::REFLECTION_HEADERS;
use uketsuke_export::{
    ReflectionRow, ReportRow, SCHEDULE_HEADERS, ScheduleRow, reflection_csv, reflection_xlsx,
    report_xlsx, schedule_xlsx,
};

/// Every row of the first sheet from row `from` (1-based), dates as ISO text, with the
/// sheet's name, frozen cell, print setup and the formats of the cells named in `cells`.
const OPENPYXL_SHEET: &str = r#"
import io, json, sys, openpyxl
wb = openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read()))
ws = wb.worksheets[0]
ps = ws.page_setup
# Column widths, by column number: openpyxl keeps a run of equal columns as one.
widths = [None] * 8
for dim in ws.column_dimensions.values():
    for i in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
        if i <= 7:
            widths[i - 1] = dim.width
widths = widths[:7]
def value(c):
    v = c.value
    return v.isoformat() if hasattr(v, "isoformat") else v
print(json.dumps({
    "sheets": wb.sheetnames,
    "rows": [[value(c) for c in r] for r in ws.iter_rows(min_row=1, max_row=ws.max_row)],
    "bold": {c: bool(ws[c].font.b) for c in ["A1", "A2", "A3", "A4", "B7"]},
    "formats": {c: ws[c].number_format for c in ["A4", "A5", "B5", "C5", "D5", "E4", "E5"]},
    "freeze": ws.freeze_panes,
    "orientation": ps.orientation,
    "paper": None if ps.paperSize is None else int(ps.paperSize),
    "fit_to_page": ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None,
    "fit_width": 1 if ps.fitToWidth is None else ps.fitToWidth,
    "fit_height": 1 if ps.fitToHeight is None else ps.fitToHeight,
    "widths": widths,
}, ensure_ascii=False))
"#;

fn reflection_rows() -> Vec<ReflectionRow> {
    vec![
        ReflectionRow {
            code: "0110012345".into(),
            facility_name: "さくら内科".into(),
            kind: "医科",
            address: "北海道札幌市中央区北1条西1丁目".into(),
            designation: date(2026, 4, 1),
            reason: "開設中止".into(),
        },
        ReflectionRow {
            code: "1330012346".into(),
            facility_name: "=HYPERLINK(\"x\")".into(),
            kind: "歯科",
            address: "東京都新宿区西新宿2-8-1".into(),
            designation: date(2026, 5, 1),
            reason: "取下げ, 回答後".into(),
        },
    ]
}

#[test]
fn the_reflection_workbook_lists_each_number_with_the_state_to_set() {
    let before = Utc::now() + TimeDelta::hours(9);
    let bytes = reflection_xlsx(&reflection_rows()).unwrap();
    let after = Utc::now() + TimeDelta::hours(9);
    let seen = python(OPENPYXL_SHEET, &bytes);
    assert_eq!(seen["sheets"], json!(["未指定への変更"]));
    let rows = seen["rows"].as_array().unwrap();
    assert_eq!(
        rows[0][0],
        "保険医療機関等管理システムで「8. 未指定」に変更する医療機関等"
    );
    let stamp = |t: chrono::DateTime<Utc>| {
        format!(
            "2 件　／　出力 {} {}",
            uketsuke_domain::format_wareki(t.date_naive()),
            t.format("%H:%M")
        )
    };
    let made = rows[1][0].as_str().unwrap();
    assert!(made == stamp(before) || made == stamp(after), "{made}");
    assert_eq!(rows[2], json!(REFLECTION_HEADERS));
    assert_eq!(
        rows[3],
        json!([
            "0110012345",
            "さくら内科",
            "医科",
            "北海道札幌市中央区北1条西1丁目",
            "2026-04-01T00:00:00",
            "8. 未指定",
            "開設中止"
        ])
    );
    assert_eq!(
        rows[4][1], "=HYPERLINK(\"x\")",
        "kept as text, not a formula"
    );
    assert_eq!(rows[4][4], "2026-05-01T00:00:00");
    assert_eq!(rows.len(), 5);
    assert_eq!(seen["bold"]["A1"], true);
    assert_eq!(seen["bold"]["A3"], true, "the header");
    assert_eq!(seen["bold"]["A4"], false);
    assert_eq!(seen["formats"]["A4"], "@", "codes as text");
    assert_eq!(seen["formats"]["E4"], r#"[$-411]ggge"年"m"月"d"日""#);
    assert_eq!(seen["freeze"], "A4");
    assert_eq!(seen["orientation"], "landscape");
    assert_eq!(seen["paper"], 9);
    assert_eq!(seen["fit_to_page"], true);
    assert_eq!(seen["fit_width"], 1);
    assert_eq!(seen["fit_height"], 0);
}

#[test]
fn the_reflection_csv_is_utf8_with_a_bom_crlf_iso_dates_and_no_formulas() {
    let bytes = reflection_csv(&reflection_rows());
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(
        text,
        format!(
            "{}\r\n\
             0110012345,さくら内科,医科,北海道札幌市中央区北1条西1丁目,2026-04-01,8. 未指定,開設中止\r\n\
             1330012346,\"'=HYPERLINK(\"\"x\"\")\",歯科,東京都新宿区西新宿2-8-1,2026-05-01,8. 未指定,\"取下げ, 回答後\"\r\n",
            REFLECTION_HEADERS.join(",")
        )
    );
    assert_eq!(
        reflection_csv(&[]),
        format!("\u{FEFF}{}\r\n", REFLECTION_HEADERS.join(",")).into_bytes()
    );
}

#[test]
fn the_monthly_report_has_its_rows_and_a_total_of_each_count() {
    let rows = vec![
        ReportRow {
            labels: vec!["東京事務所".into(), "医科".into()],
            counts: vec![12, 3, 1_000],
        },
        ReportRow {
            labels: vec!["群馬事務所".into(), "歯科".into()],
            counts: vec![4, 0, 7],
        },
    ];
    let bytes = report_xlsx(
        "月報　令和8年11月",
        "関東信越厚生局",
        &["事務所", "種別"],
        &["受付", "返戻", "交付"],
        &rows,
    )
    .unwrap();
    let seen = python(OPENPYXL_SHEET, &bytes);
    assert_eq!(seen["sheets"], json!(["月報"]));
    assert_eq!(
        seen["rows"],
        json!([
            ["月報　令和8年11月", null, null, null, null],
            ["関東信越厚生局", null, null, null, null],
            [null, null, null, null, null],
            ["事務所", "種別", "受付", "返戻", "交付"],
            ["東京事務所", "医科", 12, 3, 1000],
            ["群馬事務所", "歯科", 4, 0, 7],
            ["合計", null, 16, 3, 1007]
        ])
    );
    assert_eq!(seen["bold"]["A4"], true, "the header");
    assert_eq!(
        seen["bold"]["B7"], true,
        "the total row is styled across its labels"
    );
    assert_eq!(seen["formats"]["C5"], "#,##0");
    assert_eq!(seen["freeze"], "A5");
    // Label columns are wider than count columns.
    let w = seen["widths"].as_array().unwrap();
    let (label, count) = (w[1].as_f64().unwrap(), w[2].as_f64().unwrap());
    assert!(label > count, "{w:?}");
    assert_eq!(w[0], w[1]);
    assert_eq!(w[2], w[4]);
}

#[test]
fn the_schedule_has_its_notes_then_the_dates_under_a_frozen_header() {
    let rows = [
        ScheduleRow {
            designation: date(2027, 4, 1),
            submission_deadline: date(2027, 2, 15),
            answer_due: date(2027, 2, 26),
            implementing_body_due: date(2027, 3, 15),
        },
        ScheduleRow {
            designation: date(2027, 5, 1),
            submission_deadline: date(2027, 3, 15),
            answer_due: date(2027, 3, 31),
            implementing_body_due: date(2027, 4, 15),
        },
    ];
    let notes = vec![
        "提出期限: 指定日の前々月15日".to_owned(),
        "回答期限: 指定日の前月の末日".to_owned(),
    ];
    let bytes = schedule_xlsx("関東信越厚生局　令和9年の日程", &notes, &rows).unwrap();
    let seen = python(OPENPYXL_SHEET, &bytes);
    assert_eq!(seen["sheets"], json!(["日程表"]));
    assert_eq!(
        seen["rows"],
        json!([
            ["関東信越厚生局　令和9年の日程", null, null, null],
            ["提出期限: 指定日の前々月15日", null, null, null],
            ["回答期限: 指定日の前月の末日", null, null, null],
            [null, null, null, null],
            SCHEDULE_HEADERS,
            [
                "2027-04-01T00:00:00",
                "2027-02-15T00:00:00",
                "2027-02-26T00:00:00",
                "2027-03-15T00:00:00"
            ],
            [
                "2027-05-01T00:00:00",
                "2027-03-15T00:00:00",
                "2027-03-31T00:00:00",
                "2027-04-15T00:00:00"
            ]
        ])
    );
    assert_eq!(seen["bold"]["A1"], true);
    assert_eq!(seen["bold"]["A2"], false);
    assert_eq!(seen["freeze"], "A6");
    assert_eq!(seen["paper"], 9);
    assert_eq!(seen["fit_to_page"], true);
    assert_eq!(
        (seen["fit_width"].clone(), seen["fit_height"].clone()),
        (json!(1), json!(1))
    );

    // Without notes the header is on row 3.
    let seen = python(OPENPYXL_SHEET, &schedule_xlsx("日程", &[], &rows).unwrap());
    assert_eq!(seen["rows"][2], json!(SCHEDULE_HEADERS));
    assert_eq!(seen["freeze"], "A4");
}
