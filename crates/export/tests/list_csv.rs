//! The list as CSV, read back by Python's `csv` module and its `cp932` codec
//! (independent of the writer and of encoding_rs).

mod common;

use common::{python, row, sample_rows};
use serde_json::json;
use uketsuke_domain::RequestKind;
use uketsuke_export::{Column, ColumnSpec, CsvEncoding, Error, ListLayout, list_csv};

/// Python reads the CSV: BOM, decoded text, records, line ends.
const PY_CSV: &str = r#"
import csv, io, json, sys
data = sys.stdin.buffer.read()
encoding = sys.argv[1]
bom = data.startswith(b"\xef\xbb\xbf")
text = data.decode("utf-8-sig" if encoding == "utf8" else "cp932")
records = list(csv.reader(io.StringIO(text, newline="")))
# Line ends outside quoted fields: every record ends in CRLF.
print(json.dumps({"bom": bom, "records": records,
                  "crlf_records": text.count("\r\n"), "ends_crlf": text.endswith("\r\n")},
                 ensure_ascii=False))
"#;

fn read_back(bytes: &[u8], encoding: &str) -> serde_json::Value {
    let script = format!("import sys; sys.argv = ['', '{encoding}']\n{PY_CSV}");
    python(&script, bytes)
}

#[test]
fn utf8_csv_has_a_bom_crlf_and_quotes_commas_quotes_and_line_breaks() {
    let rows = sample_rows();
    let bytes = list_csv(&ListLayout::default(), &rows, CsvEncoding::Utf8Bom).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let seen = read_back(&bytes, "utf8");

    assert_eq!(seen["bom"], true);
    let records = seen["records"].as_array().unwrap();
    assert_eq!(records.len(), 4, "header and three rows");
    assert_eq!(records[0][0], "項番");
    assert_eq!(records[0][15], "備考");

    let code = rows[0].institution_code.as_str();
    assert_eq!(
        records[1],
        json!([
            "1",
            "01",
            "北海道",
            "医科",
            code,
            code,
            &code[3..],
            "",
            "愛全クリニック",
            "680-0862",
            "鳥取市雲山５７",
            "0857-22-2346",
            "医療法人　受付会　理事長　資格　太郎",
            "2024-07-01",
            "2024-06-20",
            ""
        ])
    );
    assert_eq!(records[2][8], "歯科\"スマイル\", 本院", "comma and quotes");
    assert_eq!(records[2][14], "", "no 答申日");
    assert_eq!(
        records[3][15], "開設者変更あり\n（旧：資格 花子）",
        "line break"
    );
    assert_eq!(seen["ends_crlf"], true);
    assert_eq!(seen["crlf_records"], 4);

    // The raw bytes: quotes doubled, the quoted field intact.
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.contains(",\"歯科\"\"スマイル\"\", 本院\","), "{text}");
}

#[test]
fn shift_jis_csv_reads_back_as_cp932_including_windows_extensions() {
    let mut rows = sample_rows();
    rows[0].founder = "医療法人　髙﨑会　理事長　①太郎".to_owned();
    rows[1].note = Some("受付 9時〜17時".to_owned()); // WAVE DASH, as typed on a Mac
    let bytes = list_csv(&ListLayout::default(), &rows, CsvEncoding::ShiftJis).unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM in Shift_JIS");
    let seen = read_back(&bytes, "sjis");
    let records = seen["records"].as_array().unwrap();
    assert_eq!(records[0][8], "医療機関名称");
    assert_eq!(records[1][12], "医療法人　髙﨑会　理事長　①太郎");
    assert_eq!(records[2][15], "受付 9時～17時", "the same JIS character");
    assert_eq!(records[2][8], "歯科\"スマイル\", 本院");
}

#[test]
fn a_character_shift_jis_lacks_is_an_error_naming_row_column_and_character() {
    let mut rows = sample_rows();
    rows[1].founder = "𠮷田　一郎".to_owned();
    let err = list_csv(&ListLayout::default(), &rows, CsvEncoding::ShiftJis).unwrap_err();
    match &err {
        Error::Unencodable {
            row,
            column,
            character,
            ..
        } => {
            assert_eq!((*row, column.as_str(), *character), (2, "開設者", '𠮷'));
        }
        other => panic!("Unencodable expected, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "2件目（歯科\"スマイル\", 本院）の「開設者」にある「𠮷」（U+20BB7）は Shift_JIS で\
         表せません。文字を置き換えるか、UTF-8（BOM付き）で出力してください。"
    );
    // UTF-8 takes it.
    let utf8 = list_csv(&ListLayout::default(), &rows, CsvEncoding::Utf8Bom).unwrap();
    assert!(String::from_utf8(utf8).unwrap().contains("𠮷田　一郎"));
}

#[test]
fn an_unencodable_renamed_header_is_reported_as_the_header_row() {
    let layout = ListLayout {
        columns: vec![ColumnSpec::renamed(Column::FacilityName, "名称😀")],
        ..ListLayout::default()
    };
    let err = list_csv(&layout, &[], CsvEncoding::ShiftJis).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unencodable {
                row: 0,
                character: '😀',
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("見出し行の「名称😀」"), "{err}");
}

#[test]
fn csv_follows_renamed_dropped_and_reordered_columns() {
    let layout = ListLayout {
        columns: vec![
            ColumnSpec::new(Column::DesignationDate),
            ColumnSpec::renamed(Column::InstitutionCode, "コード"),
            ColumnSpec::new(Column::ItemNo),
        ],
        ..ListLayout::default()
    };
    let rows = vec![row(13, RequestKind::Medical, 1, 1004, "東京の診療所")];
    let bytes = list_csv(&layout, &rows, CsvEncoding::Utf8Bom).unwrap();
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let code = rows[0].institution_code.as_str();
    assert_eq!(
        text,
        format!("指定年月日,コード,項番\r\n2024-07-01,{code},1\r\n")
    );
}

#[test]
fn an_empty_list_is_just_the_header() {
    let bytes = list_csv(&ListLayout::default(), &[], CsvEncoding::ShiftJis).unwrap();
    let seen = read_back(&bytes, "sjis");
    assert_eq!(seen["records"].as_array().unwrap().len(), 1);
    assert_eq!(seen["records"][0][0], "項番");
}

#[test]
fn formula_like_names_come_back_as_text_in_both_encodings() {
    let hostile = [
        "=HYPERLINK(\"http://example.invalid\",\"開く\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
    ];
    let rows: Vec<_> = hostile
        .iter()
        .enumerate()
        .map(|(i, name)| row(13, RequestKind::Medical, 1, 1001 + i as u16, name))
        .collect();
    let column = ListLayout::default()
        .columns
        .iter()
        .position(|c| c.column == Column::FacilityName)
        .unwrap();
    for (encoding, name) in [
        (CsvEncoding::Utf8Bom, "utf8"),
        (CsvEncoding::ShiftJis, "sjis"),
    ] {
        let bytes = list_csv(&ListLayout::default(), &rows, encoding).unwrap();
        let seen = read_back(&bytes, name);
        for (i, text) in hostile.iter().enumerate() {
            assert_eq!(
                seen["records"][i + 1][column],
                format!("'{text}"),
                "{name}: the cell starts with ' and reads as typed"
            );
        }
    }
}
