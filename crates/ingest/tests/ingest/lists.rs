//! Monthly lists, and forms and lists mixed in one workbook.

use rust_xlsxwriter::Workbook;
use uketsuke_domain::RequestKind;
use uketsuke_ingest::{Limits, read_monthly_list, read_requests};

use crate::common::{EXAMPLE_CELLS, data, example_json, put, xlsx};

#[test]
fn a_monthly_list_gives_one_request_per_row_with_headers_in_any_order() {
    let (name, bytes) = data("monthly_list.xlsx");
    let outcome = read_monthly_list(&name, &bytes, &Limits::default()).expect("list");
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let rows: Vec<&str> = outcome
        .items
        .iter()
        .map(|i| i.cell_or_row.as_str())
        .collect();
    assert_eq!(rows, ["row 4", "row 6", "row 7"]);
    assert_eq!(outcome.items[0].value.to_json(), example_json());
    let dental = &outcome.items[1].value;
    assert_eq!(dental.kind, RequestKind::Dental);
    assert_eq!(
        dental.founder_name(),
        "医療法人社団オン資会 理事長 資格 花子"
    );
    assert_eq!(dental.designation_date.to_string(), "2024-05-01");
    assert_eq!(
        dental
            .reply_postal_code
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("123-4567")
    );
    assert_eq!(
        dental.reply_name.as_deref(),
        Some("医療法人社団オン資会 事務長")
    );
    let pharmacy = outcome.items[2].value.to_json();
    assert_eq!(pharmacy["kind"], "pharmacy");
    assert_eq!(pharmacy["contact_phone"], "03-1234-5680");
    assert_eq!(pharmacy["facility_postal_code"], "123-4567");
    assert!(pharmacy["request_date"].is_null());
}

const HEADER: &[(&str, &str)] = &[
    ("A2", "医療機関等名称"),
    ("B2", "種別"),
    ("C2", "所在地"),
    ("D2", "指定予定日"),
    ("E2", "開設者氏名"),
    ("F2", "電話番号"),
    ("G2", "備考"),
];

#[test]
fn a_list_row_with_problems_names_each_cell_and_the_other_rows_still_read() {
    let bytes = xlsx(|ws| {
        put(ws, &[("A1", "月次一覧")]);
        put(ws, HEADER);
        put(
            ws,
            &[
                ("A3", "良いクリニック"),
                ("B3", "医科"),
                ("C3", "〒680-0862 鳥取市雲山57"),
                ("D3", "R7.10.1"),
                ("E3", "鳥取 太郎"),
                ("F3", "0857-22-2346"),
            ],
        );
        put(
            ws,
            &[
                ("A4", "悪いクリニック"),
                ("B4", "医科・歯科"),
                ("C4", "鳥取市雲山58"),
                ("D4", "令和7年13月1日"),
                ("E4", "鳥取 次郎"),
            ],
        );
        put(
            ws,
            &[
                ("A6", "もう一つ"),
                ("B6", "dental"),
                ("C6", "鳥取市雲山59"),
                ("D6", "2025/10/1"),
                ("E6", "鳥取 三郎"),
                ("F6", "0857222347"),
            ],
        );
    });
    let outcome = read_monthly_list("list.xlsx", &bytes, &Limits::default()).expect("list");
    let names: Vec<&str> = outcome
        .items
        .iter()
        .map(|i| i.value.facility_name.as_str())
        .collect();
    assert_eq!(names, ["良いクリニック", "もう一つ"]);
    let problems: Vec<(Option<&str>, Option<&str>)> = outcome
        .problems
        .iter()
        .map(|p| (p.cell.as_deref(), p.field.as_deref()))
        .collect();
    assert_eq!(
        problems,
        [
            (Some("B4"), Some("kind")),
            (Some("D4"), Some("designation_date")),
            (Some("F4"), Some("contact_phone"))
        ]
    );
    assert!(outcome.problems[0].message.contains("「医科・歯科」"));
    assert!(outcome.problems[2].message.contains("記入されていません"));
}

#[test]
fn a_list_without_a_required_column_says_which_and_how_to_name_it() {
    let bytes = xlsx(|ws| {
        put(
            ws,
            &[
                ("A1", "名称"),
                ("B1", "種別"),
                ("C1", "住所"),
                ("D1", "開設者"),
                ("E1", "電話番号"),
            ],
        );
        put(
            ws,
            &[
                ("A2", "オン資クリニック"),
                ("B2", "医科"),
                ("C2", "東京都千代田区霞が関1-2-2"),
                ("D2", "資格 花子"),
                ("E2", "03-1234-5678"),
            ],
        );
    });
    let outcome = read_monthly_list("list.xlsx", &bytes, &Limits::default()).expect("list");
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    let p = &outcome.problems[0];
    assert_eq!(p.field.as_deref(), Some("header"));
    assert!(
        p.message.contains("「指定希望日（予定）」の列がありません"),
        "{}",
        p.message
    );
    assert!(p.message.contains("指定日"), "{}", p.message);
}

#[test]
fn two_columns_for_one_field_are_reported() {
    let bytes = xlsx(|ws| {
        put(
            ws,
            &[
                ("A1", "名称"),
                ("B1", "種別"),
                ("C1", "所在地"),
                ("D1", "住所"),
                ("E1", "指定日"),
                ("F1", "開設者"),
                ("G1", "電話番号"),
            ],
        );
        put(
            ws,
            &[
                ("A2", "オン資クリニック"),
                ("B2", "医科"),
                ("C2", "東京都千代田区霞が関1-2-2"),
                ("E2", "R6.4.1"),
                ("F2", "資格 花子"),
                ("G2", "03-1234-5678"),
            ],
        );
    });
    let outcome = read_monthly_list("list.xlsx", &bytes, &Limits::default()).expect("list");
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    assert_eq!(outcome.problems[0].cell.as_deref(), Some("D1"));
    assert!(outcome.problems[0].message.contains("「住所」と「所在地」"));
}

#[test]
fn read_requests_tells_forms_from_lists_sheet_by_sheet() {
    let mut wb = Workbook::new();
    let form = wb.add_worksheet();
    form.set_name("依頼書").expect("name");
    put(form, EXAMPLE_CELLS);
    let list = wb.add_worksheet();
    list.set_name("一覧").expect("name");
    put(list, HEADER);
    put(
        list,
        &[
            ("A3", "一覧の薬局"),
            ("B3", "薬局"),
            ("C3", "鳥取市雲山57"),
            ("D3", "R7.10.1"),
            ("E3", "鳥取 太郎"),
            ("F3", "0857-22-2346"),
        ],
    );
    let other = wb.add_worksheet();
    other.set_name("メモ").expect("name");
    put(other, &[("A1", "電話メモ")]);
    let bytes = wb.save_to_buffer().expect("save");
    let outcome = read_requests("mixed.xlsx", &bytes, &Limits::default()).expect("mixed");
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let got: Vec<(&str, &str)> = outcome
        .items
        .iter()
        .map(|i| (i.sheet.as_str(), i.cell_or_row.as_str()))
        .collect();
    assert_eq!(got, [("依頼書", "C6"), ("一覧", "row 3")]);
    assert_eq!(outcome.items[0].value.to_json(), example_json());
}

#[test]
fn read_requests_reads_the_committed_forms_and_list_alike() {
    for name in [
        "form_official.xlsx",
        "form_compact.xlsx",
        "form_shifted.xlsx",
        "form_compact.xls",
        "form_compact.ods",
    ] {
        let (name, bytes) = data(name);
        let outcome = read_requests(&name, &bytes, &Limits::default()).expect("read");
        assert!(
            outcome.problems.is_empty(),
            "{name}: {:?}",
            outcome.problems
        );
        assert_eq!(outcome.items.len(), 1, "{name}");
        assert_eq!(outcome.items[0].value.to_json(), example_json(), "{name}");
    }
    let (name, bytes) = data("monthly_list.xlsx");
    assert_eq!(
        read_requests(&name, &bytes, &Limits::default())
            .expect("list")
            .items
            .len(),
        3
    );
}

#[test]
fn a_workbook_with_neither_forms_nor_lists_gives_a_problem() {
    let bytes = xlsx(|ws| put(ws, &[("A1", "売上")]));
    let outcome = read_requests("other.xlsx", &bytes, &Limits::default()).expect("readable");
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1);
}

#[test]
fn a_registry_read_as_requests_gives_no_requests_and_one_problem() {
    let Some(bytes) = crate::common::real("19_yamanashi_todokede_juri_meibo_ika_r0608.xlsx") else {
        return;
    };
    let outcome = read_requests("meibo.xlsx", &bytes, &Limits::default()).expect("readable");
    assert!(outcome.items.is_empty());
    assert_eq!(
        outcome.problems.len(),
        1,
        "{:?}",
        &outcome.problems[..outcome.problems.len().min(3)]
    );
}
