//! 別紙1 forms: the 記載例 in several layouts and writers, the kind markings, and
//! every problem named.

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Formula, Workbook};
use uketsuke_domain::{PhoneNumber, PostalCode, RequestKind};
use uketsuke_ingest::{Founder, Limits, RequestForm, filled_form_xlsx, read_request_forms};

use crate::common::{EXAMPLE_CELLS, data, example_form, example_json, forms, put, xlsx};

#[test]
fn the_three_independently_written_layouts_of_the_example_give_the_same_json() {
    for name in [
        "form_official.xlsx",
        "form_compact.xlsx",
        "form_shifted.xlsx",
    ] {
        let (name, bytes) = data(name);
        let outcome = forms(&name, &bytes);
        assert!(
            outcome.problems.is_empty(),
            "{name}: {:?}",
            outcome.problems
        );
        assert_eq!(outcome.items.len(), 1, "{name}");
        assert_eq!(outcome.items[0].value.to_json(), example_json(), "{name}");
    }
}

#[test]
fn the_compact_layout_reads_the_same_from_xls_and_ods() {
    for name in ["form_compact.xls", "form_compact.ods"] {
        let (name, bytes) = data(name);
        let outcome = forms(&name, &bytes);
        assert!(
            outcome.problems.is_empty(),
            "{name}: {:?}",
            outcome.problems
        );
        assert_eq!(outcome.items.len(), 1, "{name}");
        assert_eq!(outcome.items[0].value.to_json(), example_json(), "{name}");
    }
}

#[test]
fn the_example_written_by_our_own_code_gives_the_same_json() {
    let outcome = forms("example.xlsx", &example_form(|_| {}));
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.items[0].value.to_json(), example_json());
    assert_eq!(outcome.items[0].sheet, "別紙1");
    assert_eq!(outcome.items[0].cell_or_row, "C6");
}

#[test]
fn the_official_layout_finds_values_below_their_labels_and_ignores_the_answer_half() {
    let (name, bytes) = data("form_official.xlsx");
    let form = &forms(&name, &bytes).items[0].value;
    assert_eq!(
        form.founder,
        Founder::Person {
            name: "資格 花子".into()
        }
    );
    assert_eq!(
        form.addressed_bureau, None,
        "〇〇 is the printed placeholder"
    );
}

#[test]
fn the_bureau_is_the_text_before_onchu() {
    let (name, bytes) = data("form_compact.xlsx");
    let form = &forms(&name, &bytes).items[0].value;
    assert_eq!(form.addressed_bureau.as_deref(), Some("関東信越厚生局"));
}

fn request(kind: RequestKind, founder: Founder) -> RequestForm {
    RequestForm {
        kind,
        facility_name: "さくら歯科クリニック".into(),
        facility_postal_code: PostalCode::parse("680-0862").ok(),
        facility_address: "鳥取県鳥取市雲山57 さくらビル2階".into(),
        designation_date: NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
        request_date: NaiveDate::from_ymd_opt(2025, 7, 31),
        addressed_bureau: Some("中国四国厚生局".into()),
        founder,
        founder_registration: Some("歯 第98765号".into()),
        contact_phone: PhoneNumber::parse("0857-22-2346").expect("phone"),
        reply_postal_code: PostalCode::parse("100-0013").ok(),
        reply_address: Some("東京都千代田区霞が関1-2-2 中央合同庁舎".into()),
        reply_name: Some("医療法人さくら会 事務長 鳥取 一郎".into()),
    }
}

#[test]
fn our_filled_form_reads_back_as_the_request_it_was_made_from() {
    let corporation = Founder::Corporation {
        name: "医療法人社団さくら会".into(),
        representative_title: Some("理事長".into()),
        representative_name: Some("鳥取 花子".into()),
    };
    let person = Founder::Person {
        name: "鳥取 太郎".into(),
    };
    for (kind, founder) in [
        (RequestKind::Dental, corporation),
        (RequestKind::Medical, person.clone()),
        (RequestKind::Pharmacy, person),
    ] {
        let original = request(kind, founder);
        let bytes = filled_form_xlsx(&original).expect("form");
        let outcome = forms("filled.xlsx", &bytes);
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert_eq!(outcome.items.len(), 1);
        assert_eq!(outcome.items[0].value, original);
    }
}

#[test]
fn our_filled_form_keeps_blank_optional_fields_blank() {
    let mut original = request(
        RequestKind::Medical,
        Founder::Person {
            name: "鳥取 太郎".into(),
        },
    );
    original.request_date = None;
    original.addressed_bureau = None;
    original.founder_registration = None;
    original.reply_postal_code = None;
    original.reply_address = None;
    original.reply_name = None;
    original.facility_postal_code = None;
    let outcome = forms("filled.xlsx", &filled_form_xlsx(&original).expect("form"));
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.items[0].value, original);
    let json = outcome.items[0].value.to_json();
    for key in [
        "request_date",
        "founder_registration",
        "reply_postal_code",
        "reply_address",
        "reply_name",
        "facility_postal_code",
    ] {
        assert!(json[key].is_null(), "{key}");
    }
}

#[test]
fn the_blank_form_gives_no_request_and_one_problem_asking_to_fill_it() {
    let blank = uketsuke_ingest::blank_form_xlsx().expect("blank");
    let outcome = forms("blank.xlsx", &blank);
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    assert!(outcome.problems[0].message.contains("記入されていません"));
}

fn kind_of(bytes: &[u8]) -> Result<RequestKind, String> {
    let outcome = forms("kind.xlsx", bytes);
    match outcome.items.first() {
        Some(item) if outcome.problems.is_empty() => Ok(item.value.kind),
        _ => Err(outcome
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{}|{}|{}",
                    p.cell.clone().unwrap_or_default(),
                    p.field.clone().unwrap_or_default(),
                    p.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

#[test]
fn a_form_with_two_kinds_marked_is_an_error_asking_for_separate_forms() {
    let bytes = example_form(|ws| put(ws, &[("A6", "○医科 ・ ○歯科 ・ 薬局")]));
    let outcome = forms("two.xlsx", &bytes);
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    let p = &outcome.problems[0];
    assert_eq!(
        (p.cell.as_deref(), p.field.as_deref()),
        (Some("A6"), Some("kind"))
    );
    assert!(p.message.contains("医科と歯科"), "{}", p.message);
    assert!(
        p.message.contains("医科分と歯科分で別々にご提出ください"),
        "{}",
        p.message
    );
    assert!(
        p.to_string()
            .starts_with("two.xlsx・シート「別紙1」・セルA6・項目「種別（医科・歯科・薬局）」：")
    );
}

#[test]
fn two_kinds_other_than_medical_and_dental_are_asked_for_one_form_each() {
    let bytes = example_form(|ws| put(ws, &[("A6", "●医科 ・ 歯科 ・ ●薬局")]));
    let err = kind_of(&bytes).expect_err("two kinds");
    assert!(
        err.contains("医科と薬局") && err.contains("種別ごとに別々に"),
        "{err}"
    );
}

#[test]
fn a_form_with_no_kind_marked_says_how_to_mark_it() {
    let bytes = example_form(|ws| put(ws, &[("A6", "医科 ・ 歯科 ・ 薬局")]));
    let err = kind_of(&bytes).expect_err("no kind");
    assert!(
        err.starts_with("A6|kind|種別（医科・歯科・薬局）が選ばれていません"),
        "{err}"
    );
}

#[test]
fn marks_in_the_printed_kind_cell_select_the_word_they_touch() {
    for (text, kind) in [
        ("○医科 ・ 歯科 ・ 薬局", RequestKind::Medical),
        ("医科 ・ ◯歯科 ・ 薬局", RequestKind::Dental),
        ("医科・歯科・薬局●", RequestKind::Pharmacy),
        ("医科 ・ ■歯科 ・ 薬局", RequestKind::Dental),
        ("医科 ・ 歯科✓ ・ 薬局", RequestKind::Dental),
        ("☐医科 ☑歯科 ☐薬局", RequestKind::Dental),
        ("医科・（歯科）・薬局", RequestKind::Dental),
        ("医科　・　歯科　・　〇薬局", RequestKind::Pharmacy),
    ] {
        let bytes = example_form(|ws| put(ws, &[("A6", text)]));
        assert_eq!(kind_of(&bytes), Ok(kind), "{text}");
    }
}

#[test]
fn kinds_in_cells_of_their_own_are_marked_by_the_cell_beside_them() {
    // A mark left of the word, in the word's cell, or right of it (when no other
    // word follows right after the mark: `歯科|✓|薬局` marks 薬局).
    let layouts: [&[(&str, &str)]; 4] = [
        &[("J6", "医科"), ("K6", "○"), ("L6", "歯科"), ("N6", "薬局")],
        &[("J6", "医科"), ("L6", "○"), ("M6", "歯科"), ("N6", "薬局")],
        &[("J6", "医科"), ("L6", "歯科○"), ("N6", "薬局")],
        &[("J6", "医科"), ("L6", "歯科"), ("M6", "✓"), ("O6", "薬局")],
    ];
    for layout in layouts {
        let bytes = example_form(|ws| {
            put(ws, &[("A6", "")]);
            put(ws, layout);
        });
        assert_eq!(kind_of(&bytes), Ok(RequestKind::Dental), "{layout:?}");
    }
}

#[test]
fn a_kind_chosen_next_to_a_shubetsu_label_or_left_alone_is_read() {
    let labelled = example_form(|ws| put(ws, &[("A6", ""), ("J6", "種別"), ("K6", "薬局")]));
    assert_eq!(kind_of(&labelled), Ok(RequestKind::Pharmacy));
    let alone = example_form(|ws| put(ws, &[("A6", "歯科")]));
    assert_eq!(kind_of(&alone), Ok(RequestKind::Dental));
    let bad = example_form(|ws| put(ws, &[("A6", ""), ("J6", "種別"), ("K6", "訪問看護")]));
    let err = kind_of(&bad).expect_err("not a kind");
    assert!(
        err.starts_with("K6|kind|種別「訪問看護」を読み取れません"),
        "{err}"
    );
}

#[test]
fn in_xlsx_the_kinds_struck_through_or_filled_leave_the_chosen_one() {
    let struck = Format::new().set_font_strikethrough();
    let bytes = example_form(|ws| {
        put(ws, &[("A6", "")]);
        ws.write_string_with_format(5, 9, "医科", &struck)
            .expect("w");
        ws.write_string(5, 11, "歯科").expect("w");
        ws.write_string_with_format(5, 13, "薬局", &struck)
            .expect("w");
    });
    assert_eq!(kind_of(&bytes), Ok(RequestKind::Dental));

    let filled = Format::new().set_background_color(0xFFFF00);
    let bytes = example_form(|ws| {
        put(ws, &[("A6", "")]);
        ws.write_string(5, 9, "医科").expect("w");
        ws.write_string(5, 11, "歯科").expect("w");
        ws.write_string_with_format(5, 13, "薬局", &filled)
            .expect("w");
    });
    assert_eq!(kind_of(&bytes), Ok(RequestKind::Pharmacy));

    let one_struck = example_form(|ws| {
        put(ws, &[("A6", "")]);
        ws.write_string_with_format(5, 9, "医科", &struck)
            .expect("w");
        ws.write_string(5, 11, "歯科").expect("w");
        ws.write_string(5, 13, "薬局").expect("w");
    });
    let err = kind_of(&one_struck).expect_err("two left");
    assert!(err.contains("歯科と薬局"), "{err}");
}

#[test]
fn a_bad_designation_date_is_named_by_cell_and_field_with_what_was_expected() {
    let bytes = example_form(|ws| put(ws, &[("F8", "13")]));
    let outcome = forms("bad-date.xlsx", &bytes);
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    let p = &outcome.problems[0];
    assert_eq!(p.cell.as_deref(), Some("C8"));
    assert_eq!(p.field.as_deref(), Some("designation_date"));
    assert!(
        p.message
            .starts_with("指定希望日（予定）が読み取れません。"),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("「令和 6 年 13 月 1 日」"),
        "{}",
        p.message
    );
    assert!(p.message.contains("「令和6年4月1日」"), "{}", p.message);
}

#[test]
fn dates_are_read_in_every_common_notation_and_as_excel_serials() {
    for text in [
        "令和6年4月1日",
        "R6.4.1",
        "R06.04.01",
        "2024/4/1",
        "2024-04-01",
        "令和６年４月１日",
        "45383",
        "20240401",
    ] {
        let bytes = example_form(|ws| {
            put(
                ws,
                &[
                    ("C8", text),
                    ("D8", ""),
                    ("E8", ""),
                    ("F8", ""),
                    ("G8", ""),
                    ("H8", ""),
                    ("I8", ""),
                ],
            );
        });
        let outcome = forms("dates.xlsx", &bytes);
        assert!(
            outcome.problems.is_empty(),
            "{text}: {:?}",
            outcome.problems
        );
        assert_eq!(
            outcome.items[0].value.designation_date,
            NaiveDate::from_ymd_opt(2024, 4, 1).expect("d"),
            "{text}"
        );
    }
    let serial = example_form(|ws| {
        put(
            ws,
            &[
                ("C8", ""),
                ("D8", ""),
                ("E8", ""),
                ("F8", ""),
                ("G8", ""),
                ("H8", ""),
                ("I8", ""),
            ],
        );
        ws.write_number(7, 2, 45383.0).expect("n");
    });
    assert_eq!(
        forms("serial.xlsx", &serial).items[0]
            .value
            .designation_date
            .to_string(),
        "2024-04-01"
    );
}

#[test]
fn every_problem_of_a_form_is_reported_not_just_the_first() {
    let bytes = example_form(|ws| {
        put(
            ws,
            &[
                ("C6", ""),
                ("C11", "令和6年2月30日"),
                ("B16", "03-1234"),
                ("C7", "〒12-345 東京都千代田区霞が関1-2-2"),
            ],
        );
    });
    let outcome = forms("many.xlsx", &bytes);
    assert!(outcome.items.is_empty());
    let fields: Vec<&str> = outcome
        .problems
        .iter()
        .filter_map(|p| p.field.as_deref())
        .collect();
    assert_eq!(
        fields,
        [
            "facility_name",
            "facility_postal_code",
            "request_date",
            "contact_phone"
        ],
        "{:?}",
        outcome.problems
    );
    for p in &outcome.problems {
        assert_eq!(p.file, "many.xlsx");
        assert_eq!(p.sheet.as_deref(), Some("別紙1"));
        assert!(p.cell.is_some(), "{p}");
    }
    let phone = &outcome.problems[3];
    assert_eq!(phone.cell.as_deref(), Some("B16"));
    assert!(phone.message.contains("「03-1234」"), "{}", phone.message);
}

#[test]
fn a_formula_in_a_cell_that_is_read_is_a_problem_asking_for_values_only() {
    let bytes = example_form(|ws| {
        ws.write_formula(
            15,
            1,
            Formula::new("=\"03-1234-5678\"").set_result("03-1234-5678"),
        )
        .expect("formula");
    });
    let outcome = forms("formula.xlsx", &bytes);
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    let p = &outcome.problems[0];
    assert_eq!(
        (p.cell.as_deref(), p.field.as_deref()),
        (Some("B16"), Some("contact_phone"))
    );
    assert!(
        p.message.contains("数式") && p.message.contains("値"),
        "{}",
        p.message
    );
}

#[test]
fn a_formula_in_a_cell_that_is_not_read_is_no_problem() {
    let bytes = example_form(|ws| {
        ws.write_formula(25, 5, Formula::new("=TODAY()"))
            .expect("formula");
    });
    let outcome = forms("formula.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
}

#[test]
fn several_forms_as_several_sheets_give_several_requests_and_the_example_sheet_is_skipped() {
    let mut wb = Workbook::new();
    for (sheet, name, kind) in [
        ("医科", "オン資クリニック", "○医科・歯科・薬局"),
        ("歯科", "オン資歯科", "医科・○歯科・薬局"),
        ("記載例", "見本クリニック", "○医科・歯科・薬局"),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(sheet).expect("name");
        put(ws, EXAMPLE_CELLS);
        put(ws, &[("C6", name), ("A6", kind)]);
    }
    let bytes = wb.save_to_buffer().expect("save");
    let outcome = forms("two-sheets.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let got: Vec<(&str, &str, RequestKind)> = outcome
        .items
        .iter()
        .map(|i| {
            (
                i.sheet.as_str(),
                i.value.facility_name.as_str(),
                i.value.kind,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("医科", "オン資クリニック", RequestKind::Medical),
            ("歯科", "オン資歯科", RequestKind::Dental)
        ]
    );
}

#[test]
fn a_corporation_opener_on_two_lines_is_read_with_its_representative() {
    // The corporation over two rows; the registration row removed, the phone moved down.
    let bytes = example_form(|ws| {
        put(
            ws,
            &[
                ("B14", "医療法人社団オン資会"),
                ("B15", "理事長　資格　花子"),
                ("A15", ""),
                ("A16", ""),
                ("B16", ""),
                ("A17", "担当者の連絡先(電話番号)"),
                ("B17", "03-1234-5678"),
            ],
        );
    });
    let outcome = forms("corp.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let form = &outcome.items[0].value;
    assert_eq!(
        form.founder,
        Founder::Corporation {
            name: "医療法人社団オン資会".into(),
            representative_title: Some("理事長".into()),
            representative_name: Some("資格 花子".into()),
        }
    );
    assert_eq!(form.founder_name(), "医療法人社団オン資会 理事長 資格 花子");
    assert_eq!(form.founder_registration, None);
}

#[test]
fn values_in_merged_cells_and_shifted_rows_are_found_by_their_labels() {
    let bytes = xlsx(|ws| {
        let f = Format::new();
        put(ws, &[("C3", "受付番号情報提供依頼書兼回答書")]);
        ws.merge_range(6, 2, 7, 3, "名称", &f).expect("merge");
        ws.merge_range(6, 5, 7, 9, "オン資クリニック", &f)
            .expect("merge");
        put(
            ws,
            &[
                ("C10", "所在地"),
                ("F10", "〒"),
                ("G10", "123"),
                ("H10", "ー"),
                ("I10", "4567"),
            ],
        );
        put(ws, &[("F11", "東京都千代田区霞が関1-2-2")]);
        put(
            ws,
            &[("C13", "指定希望日（予定）"), ("F13", "令和6年4月1日")],
        );
        put(ws, &[("C15", "種別"), ("F15", "医科")]);
        put(ws, &[("C17", "開設者"), ("C18", "資格 花子")]);
        put(ws, &[("C20", "担当者の連絡先"), ("F21", "03-1234-5678")]);
    });
    let outcome = forms("merged.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let json = outcome.items[0].value.to_json();
    assert_eq!(json["facility_name"], "オン資クリニック");
    assert_eq!(json["facility_postal_code"], "123-4567");
    assert_eq!(json["facility_address"], "東京都千代田区霞が関1-2-2");
    assert_eq!(json["founder_name"], "資格 花子");
    assert_eq!(json["contact_phone"], "03-1234-5678");
    assert!(json["reply_address"].is_null());
}

#[test]
fn a_workbook_without_a_form_says_so() {
    let bytes = xlsx(|ws| put(ws, &[("A1", "売上"), ("B1", "100")]));
    let outcome = read_request_forms("other.xlsx", &bytes, &Limits::default()).expect("readable");
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1);
    assert!(outcome.problems[0].message.contains("見つかりませんでした"));
}

#[test]
fn missing_labels_are_reported_as_missing_fields() {
    let bytes = example_form(|ws| put(ws, &[("A16", ""), ("B16", "")]));
    let outcome = forms("no-phone.xlsx", &bytes);
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    assert_eq!(outcome.problems[0].field.as_deref(), Some("contact_phone"));
    assert!(outcome.problems[0].message.contains("見つかりません"));
}

#[test]
fn a_corporation_written_on_two_lines_of_one_cell_keeps_its_parts() {
    let bytes = example_form(|ws| {
        put(
            ws,
            &[("B14", "医療法人社団オン資会\n資格　花子"), ("B15", "")],
        )
    });
    let outcome = forms("corp.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(
        outcome.items[0].value.founder,
        Founder::Corporation {
            name: "医療法人社団オン資会".into(),
            representative_title: None,
            representative_name: Some("資格 花子".into()),
        }
    );
}

#[test]
fn the_answer_half_filled_in_by_the_bureau_changes_nothing() {
    let bytes = example_form(|ws| {
        put(
            ws,
            &[
                ("B19", "1310110049"),
                (
                    "A20",
                    "※当該回答は保険医療機関・保険薬局としての指定ではありません。",
                ),
                ("C21", "令和6年2月13日"),
                ("C22", "関東信越厚生局"),
                ("C23", "(公印省略)"),
            ],
        );
    });
    let outcome = forms("answered.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.items[0].value.to_json(), example_json());
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 5] = [
        "オン資クリニック",
        "さくら歯科医院",
        "みどり薬局 駅前店",
        "ＡＢＣ内科",
        "医療法人社団 東和会 東和病院",
    ];
    const ADDRESSES: [&str; 4] = [
        "東京都千代田区霞が関1-2-2",
        "鳥取県鳥取市雲山57",
        "山梨県甲府市湯村三丁目1-8 2階",
        "北海道札幌市中央区北1条西2丁目",
    ];
    const PEOPLE: [&str; 3] = ["資格 花子", "鳥取 太郎", "山梨 一"];
    const BODIES: [&str; 3] = [
        "医療法人社団オン資会",
        "株式会社みどり",
        "社会医療法人 東和会",
    ];
    const TITLES: [Option<&str>; 3] = [Some("理事長"), Some("代表取締役"), None];

    fn founder() -> impl Strategy<Value = Founder> {
        prop_oneof![
            (0..PEOPLE.len()).prop_map(|i| Founder::Person {
                name: PEOPLE[i].into()
            }),
            (0..BODIES.len(), 0..TITLES.len(), 0..PEOPLE.len()).prop_map(|(b, t, p)| {
                Founder::Corporation {
                    name: BODIES[b].into(),
                    representative_title: TITLES[t].map(Into::into),
                    representative_name: Some(PEOPLE[p].into()),
                }
            }),
        ]
    }

    prop_compose! {
        fn request()(
            kind in prop::sample::select(RequestKind::ALL.to_vec()),
            name in 0..NAMES.len(),
            address in 0..ADDRESSES.len(),
            postal in proptest::option::of(1_000_000u32..9_999_999),
            days in 0i64..3000,
            request_before in proptest::option::of(1i64..120),
            founder in founder(),
            registration in proptest::option::of(1u32..999_999),
            phone in 100_000_000u64..999_999_999,
            reply in any::<bool>(),
        ) -> RequestForm {
            let designation = NaiveDate::from_ymd_opt(2019, 5, 1).expect("date") + chrono::Days::new(days as u64);
            RequestForm {
                kind,
                facility_name: NAMES[name].replace('Ａ', "A").replace('Ｂ', "B").replace('Ｃ', "C"),
                facility_postal_code: postal.and_then(|p| PostalCode::parse(&p.to_string()).ok()),
                facility_address: ADDRESSES[address].into(),
                designation_date: designation,
                request_date: request_before.map(|d| designation - chrono::Days::new(d as u64)).filter(|d| *d >= NaiveDate::from_ymd_opt(2019, 5, 1).expect("date")),
                addressed_bureau: Some("関東信越厚生局".into()),
                founder,
                founder_registration: registration.map(|r| format!("医 第{r}号")),
                contact_phone: PhoneNumber::parse(&format!("0{phone}")).expect("phone"),
                reply_postal_code: if reply { PostalCode::parse("100-0013").ok() } else { None },
                reply_address: reply.then(|| "東京都千代田区霞が関1-2-2".into()),
                reply_name: reply.then(|| "資格 太郎".into()),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_request_written_on_our_form_reads_back_unchanged(original in request()) {
            let bytes = filled_form_xlsx(&original).expect("form");
            let outcome = forms("filled.xlsx", &bytes);
            prop_assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
            prop_assert_eq!(&outcome.items[0].value, &original);
        }
    }
}
