//! The registries of existing codes: the two real 名簿 and コード内容別医療機関一覧表
//! made by openpyxl and by rust_xlsxwriter.

use std::collections::{BTreeMap, HashSet};

use uketsuke_domain::{CheckRule, FeeSchedule, InstitutionCode, Prefecture};
use uketsuke_ingest::{Limits, Outcome, RegistryEntry, read_registry};

use crate::common::{data, put, real, xlsx};

const TOTTORI: &str = "31_tottori_todokede_juri_meibo_r0607.xlsx";
const YAMANASHI: &str = "19_yamanashi_todokede_juri_meibo_ika_r0608.xlsx";

fn registry(name: &str, bytes: &[u8]) -> Outcome<RegistryEntry> {
    read_registry(name, bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn per_fee(outcome: &Outcome<RegistryEntry>) -> BTreeMap<FeeSchedule, usize> {
    let mut counts = BTreeMap::new();
    for e in outcome.values() {
        *counts.entry(e.code.fee_schedule()).or_insert(0) += 1;
    }
    counts
}

fn assert_one_valid_entry_per_code(outcome: &Outcome<RegistryEntry>, prefecture: u8) {
    let mut keys = HashSet::new();
    for e in outcome.values() {
        assert_eq!(e.code.prefecture().code(), prefecture);
        assert!(
            keys.insert(e.code.as_str().to_owned()),
            "duplicate {}",
            e.code
        );
        // Valid under the prefecture's rule (or the 医科歯科併設 one).
        let reparsed = InstitutionCode::parse(e.code.as_str()).expect("valid code");
        assert!(matches!(
            reparsed.rule(),
            CheckRule::NineDigit | CheckRule::CombinedDental
        ));
        assert!(e.name.is_some() && e.address.is_some(), "{e:?}");
    }
}

#[test]
fn the_tottori_meibo_gives_one_entry_per_facility_and_kind() {
    let Some(bytes) = real(TOTTORI) else { return };
    let outcome = registry(TOTTORI, &bytes);
    assert!(
        outcome.problems.is_empty(),
        "{:?}",
        &outcome.problems[..outcome.problems.len().min(5)]
    );
    assert_eq!(outcome.items.len(), 918);
    assert_eq!(
        per_fee(&outcome),
        BTreeMap::from([
            (FeeSchedule::Medical, 398),
            (FeeSchedule::Dental, 247),
            (FeeSchedule::Pharmacy, 273)
        ])
    );
    assert_one_valid_entry_per_code(&outcome, 31);
    let first = &outcome.items[0];
    assert_eq!(first.cell_or_row, "row 5");
    assert_eq!(first.value.code.as_str(), "3110110750");
    assert_eq!(
        first.value.name.as_deref(),
        Some("医療法人メンタルリカバリーセンター 幡病院")
    );
    assert_eq!(first.value.address.as_deref(), Some("鳥取市雲山57"));
    assert_eq!(
        first
            .value
            .postal_code
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("680-0862")
    );
    assert_eq!(first.value.phone.as_deref(), Some("0857-22-2346"));
    // The 市町村名 column is empty in the file: derived from the address.
    assert_eq!(first.value.municipality.as_deref(), Some("鳥取市"));
    let with_municipality = outcome
        .values()
        .filter(|e| e.municipality.is_some())
        .count();
    assert_eq!(with_municipality, 918);
    let pharmacy = outcome
        .values()
        .find(|e| e.name.as_deref() == Some("江府総合薬局"))
        .expect("江府総合薬局");
    assert_eq!(pharmacy.code.as_str(), "3141640114");
    assert_eq!(pharmacy.municipality.as_deref(), Some("日野郡江府町"));
}

#[test]
fn the_yamanashi_meibo_gives_one_entry_per_facility() {
    let Some(bytes) = real(YAMANASHI) else { return };
    let outcome = registry(YAMANASHI, &bytes);
    assert!(
        outcome.problems.is_empty(),
        "{:?}",
        &outcome.problems[..outcome.problems.len().min(5)]
    );
    assert_eq!(outcome.items.len(), 626);
    assert_eq!(
        per_fee(&outcome),
        BTreeMap::from([(FeeSchedule::Medical, 626)])
    );
    assert_one_valid_entry_per_code(&outcome, 19);
    assert!(outcome.values().all(|e| e.municipality.is_some()));
}

#[test]
fn reading_the_same_registry_twice_gives_the_same_entries() {
    let Some(bytes) = real(YAMANASHI) else { return };
    let (first, second) = (registry(YAMANASHI, &bytes), registry(YAMANASHI, &bytes));
    assert_eq!(first.items.len(), 626, "the real rows are read");
    assert_eq!(first, second);
    // Importing them into the database twice is tested end to end in
    // tests/tests/issuance.rs and crates/app/tests/import.rs.
}

fn fukui(district: u8, serial: u16) -> String {
    let p = Prefecture::from_code(18).expect("18");
    InstitutionCode::build(p, FeeSchedule::Medical, district, serial, false)
        .expect("code")
        .as_str()
        .to_owned()
}

#[test]
fn a_code_list_with_blocks_and_printed_code_styles_gives_one_entry_per_facility() {
    let (name, bytes) = data("code_list_fukui.xlsx");
    let outcome = registry(&name, &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let codes: Vec<&str> = outcome.values().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            fukui(1, 1047),
            fukui(1, 4005),
            fukui(2, 1857),
            fukui(3, 1010)
        ]
    );
    let second = &outcome.items[1].value;
    assert_eq!(second.name.as_deref(), Some("オン資クリニック"));
    assert_eq!(
        second
            .postal_code
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("910-0002")
    );
    assert_eq!(second.address.as_deref(), Some("福井市手寄2-1-1"));
    assert_eq!(second.phone.as_deref(), Some("0776-23-4567"));
    assert_eq!(second.municipality.as_deref(), Some("福井市"));
}

/// A コード内容別医療機関一覧表 of 鳥取県 歯科 written with rust_xlsxwriter.
fn dental_code_list(rows: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    xlsx(|ws| {
        put(
            ws,
            &[
                ("A1", "コード内容別医療機関一覧表"),
                ("A2", "[鳥取県]"),
                ("A3", "[令和 6年 7月 1日現在 歯科 現存/休止]"),
            ],
        );
        put(
            ws,
            &[
                ("A9", "項番"),
                ("B9", "医療機関番号"),
                ("C9", "医療機関名称"),
                ("D9", "医療機関所在地"),
                ("E9", "電話番号"),
                ("F9", "開設者氏名"),
                ("H9", "指定年月日"),
                ("J9", "備考"),
            ],
        );
        let mut row = 11u32;
        for (i, (code, name, address, phone)) in rows.iter().enumerate() {
            ws.write_number(row, 0, (i + 1) as f64).expect("w");
            ws.write_string(row, 1, *code).expect("w");
            ws.write_string(row, 2, *name).expect("w");
            ws.write_string(row, 3, *address).expect("w");
            ws.write_string(row + 1, 4, "常　勤:    1").expect("w");
            ws.write_string(row, 4, *phone).expect("w");
            ws.write_string(row, 7, "昭38. 5. 1").expect("w");
            ws.write_string(row + 1, 7, "新規").expect("w");
            ws.write_string(row, 9, "歯科診療所").expect("w");
            ws.write_string(row + 1, 9, "現存").expect("w");
            row += 3;
        }
    })
}

#[test]
fn a_code_list_written_by_our_own_code_reads_its_title_for_prefecture_and_kind() {
    let tottori = Prefecture::from_code(31).expect("31");
    let codes: Vec<InstitutionCode> = [(1, 3001), (2, 3002), (3, 3003)]
        .iter()
        .map(|&(d, s)| {
            InstitutionCode::build(tottori, FeeSchedule::Dental, d, s, false).expect("c")
        })
        .collect();
    let m: Vec<&str> = codes.iter().map(|c| &c.as_str()[3..]).collect();
    let printed = [
        format!("{}-{}", &m[0][..2], &m[0][2..]),
        format!("{},{},{}", &m[1][..2], &m[1][2..6], &m[1][6..]),
        format!("{}.{}.{}", &m[2][..2], &m[2][2..6], &m[2][6..]),
    ];
    let bytes = dental_code_list(&[
        (
            &printed[0],
            "さくら歯科",
            "〒680-0001 鳥取市浜坂1",
            "0857-11-1111",
        ),
        (
            &printed[1],
            "うめ歯科",
            "〒682-0001\n倉吉市東町1",
            "0858-22-2222",
        ),
        (
            &printed[2],
            "もも歯科",
            "〒683-0001 米子市皆生温泉1",
            "0859-33-3333",
        ),
    ]);
    let outcome = registry("code_list.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let got: Vec<&InstitutionCode> = outcome.values().map(|e| &e.code).collect();
    assert_eq!(got, codes.iter().collect::<Vec<_>>());
    assert_eq!(
        outcome.items[1].value.municipality.as_deref(),
        Some("倉吉市")
    );
    assert_eq!(
        outcome.items[1].value.address.as_deref(),
        Some("倉吉市東町1")
    );
    assert_eq!(
        outcome.items[2].value.phone.as_deref(),
        Some("0859-33-3333")
    );
}

#[test]
fn a_wrong_check_digit_in_a_registry_is_reported_once_with_the_expected_digit() {
    let tottori = Prefecture::from_code(31).expect("31");
    let good = InstitutionCode::build(tottori, FeeSchedule::Dental, 1, 3001, false).expect("c");
    let medical = &good.as_str()[3..];
    let wrong_check = (medical.as_bytes()[6] - b'0' + 1) % 10;
    let bad = format!("{}{}", &medical[..6], wrong_check);
    let bytes = dental_code_list(&[
        (
            medical,
            "さくら歯科",
            "〒680-0001 鳥取市浜坂1",
            "0857-11-1111",
        ),
        (
            &bad,
            "まちがい歯科",
            "〒680-0001 鳥取市浜坂2",
            "0857-11-1112",
        ),
    ]);
    let outcome = registry("bad.xlsx", &bytes);
    assert_eq!(outcome.items.len(), 1);
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    let p = &outcome.problems[0];
    assert_eq!(
        (p.cell.as_deref(), p.field.as_deref()),
        (Some("B15"), Some("code"))
    );
    assert!(
        p.message
            .contains(&format!("正しくは「{}」", medical.as_bytes()[6] - b'0')),
        "{}",
        p.message
    );
}

#[test]
fn a_meibo_repeats_a_facility_on_many_rows_but_gives_one_entry() {
    let tottori = Prefecture::from_code(31).expect("31");
    let code = InstitutionCode::build(tottori, FeeSchedule::Pharmacy, 16, 4011, false).expect("c");
    let medical = &code.as_str()[3..];
    let bytes = xlsx(|ws| {
        put(ws, &[("A2", "[令和６年７月１日 現在 ]")]);
        let header = [
            "項番",
            "都道府県コード",
            "都道府県名",
            "区分",
            "医療機関番号",
            "医療機関名称",
            "医療機関所在地（郵便番号）",
            "医療機関所在地（住所）",
            "電話番号",
            "受理届出名称",
            "市町村名",
        ];
        for (c, h) in header.iter().enumerate() {
            ws.write_string(3, c as u16, *h).expect("w");
        }
        for (r, notification) in [
            "在宅患者訪問薬剤管理指導料",
            "調剤基本料１",
            "後発医薬品調剤体制加算２",
        ]
        .iter()
        .enumerate()
        {
            let row = 4 + r as u32;
            for (c, v) in [
                "1",
                "31",
                "鳥取県",
                "薬局",
                medical,
                "江府総合薬局",
                "689-4401",
                "日野郡江府町江尾１８３５",
                "0859-75-3818",
                notification,
                "",
            ]
            .iter()
            .enumerate()
            {
                ws.write_string(row, c as u16, *v).expect("w");
            }
        }
    });
    let outcome = registry("meibo.xlsx", &bytes);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.items.len(), 1);
    assert_eq!(outcome.items[0].value.code, code);
    assert_eq!(
        outcome.items[0].value.municipality.as_deref(),
        Some("日野郡江府町")
    );
    assert_eq!(
        outcome.items[0].value.address.as_deref(),
        Some("日野郡江府町江尾1835")
    );
}

#[test]
fn a_workbook_that_is_no_registry_gives_a_problem() {
    let (name, bytes) = data("form_compact.xlsx");
    let outcome = registry(&name, &bytes);
    assert!(outcome.items.is_empty());
    assert_eq!(outcome.problems.len(), 1);
    assert!(outcome.problems[0].message.contains("届出受理医療機関名簿"));
}

#[test]
fn the_tottori_meibo_names_the_dental_numbers_of_its_combined_facilities() {
    let Some(bytes) = real(TOTTORI) else { return };
    let outcome = registry(TOTTORI, &bytes);
    let combined: Vec<(String, String)> = outcome
        .values()
        .filter_map(|e| Some((e.code.to_string(), e.combined.as_ref()?.to_string())))
        .collect();
    assert_eq!(combined.len(), 14, "{combined:?}");
    for (own, other) in &combined {
        assert_eq!(&own[2..3], "1", "a 医科 row names its partner: {own}");
        assert_eq!(&other[..3], "313", "the partner is 鳥取's 歯科: {other}");
    }
    // As printed: 医科 0112418 with 併設 0131927.
    assert!(
        combined.contains(&("3110112418".to_owned(), "3130131927".to_owned())),
        "{combined:?}"
    );
    assert!(
        outcome
            .problems
            .iter()
            .all(|p| p.field.as_deref() != Some("combined")),
        "every 併設 number is a valid 歯科 code: {:?}",
        outcome.problems
    );
}
