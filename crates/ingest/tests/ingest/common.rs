//! Helpers shared by the tests: the committed workbooks, the real 名簿, and small
//! workbooks written with rust_xlsxwriter.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use rust_xlsxwriter::{Workbook, Worksheet};
use serde_json::{Value, json};
use uketsuke_ingest::{Limits, Outcome, RequestForm, read_request_forms};

/// A committed test workbook: (name, bytes).
pub fn data(name: &str) -> (String, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (name.to_owned(), bytes)
}

/// A real file from `shared/fixtures/real/` beside the repository, or `None` (the test
/// is skipped, saying so) when it is absent and not required.
pub fn real(name: &str) -> Option<Vec<u8>> {
    let path =
        uketsuke_domain::fixtures::real(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."), name)?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The 記載例 of seed 002 as JSON (placeholders made concrete).
pub fn example_json() -> Value {
    json!({
        "kind": "medical",
        "facility_name": "オン資クリニック",
        "facility_postal_code": "123-4567",
        "facility_address": "東京都千代田区霞が関1-2-2",
        "designation_date": "2024-04-01",
        "request_date": "2024-02-01",
        "founder_name": "資格 花子",
        "founder_registration": "医 第123456号",
        "contact_phone": "03-1234-5678",
        "reply_postal_code": "123-4567",
        "reply_address": "東京都千代田区霞が関1-2-2",
        "reply_name": "資格 太郎"
    })
}

/// A workbook of one sheet written by `fill`.
pub fn xlsx(fill: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    fill(wb.add_worksheet());
    wb.save_to_buffer().expect("workbook")
}

/// Writes text cells given as (A1, text); an empty text clears the cell.
pub fn put(ws: &mut Worksheet, cells: &[(&str, &str)]) {
    for (a1, text) in cells {
        let (row, col) = parse_a1(a1);
        if text.is_empty() {
            ws.clear_cell(row, col);
        } else {
            ws.write_string(row, col, *text).expect("write");
        }
    }
}

/// `B7` → (6, 1).
pub fn parse_a1(a1: &str) -> (u32, u16) {
    let letters: String = a1.chars().take_while(char::is_ascii_alphabetic).collect();
    let digits = &a1[letters.len()..];
    let col = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1))
        - 1;
    let row: u32 = digits.parse().expect("row");
    (row - 1, col as u16)
}

/// The cells of the 記載例 in a small official-like layout (see `example_form`).
pub const EXAMPLE_CELLS: &[(&str, &str)] = &[
    ("A1", "(住所)"),
    ("B1", "〒123-4567"),
    ("C1", "東京都千代田区霞が関1-2-2"),
    ("A2", "(氏名)"),
    ("B2", "資格 太郎"),
    ("C2", "様"),
    ("A4", "受付番号 情報提供依頼書 兼 回答書"),
    ("A6", "○医科 ・ 歯科 ・ 薬局"),
    ("B6", "名称"),
    ("C6", "オン資クリニック"),
    ("B7", "所在地"),
    ("C7", "〒123-4567 東京都千代田区霞が関1-2-2"),
    ("A8", "指定希望日(予定)"),
    ("C8", "令和"),
    ("D8", "6"),
    ("E8", "年"),
    ("F8", "4"),
    ("G8", "月"),
    ("H8", "1"),
    ("I8", "日"),
    ("A10", "上記のとおり依頼します。"),
    ("C11", "令和6年2月1日"),
    ("A12", "〇〇厚生(支)局 御中"),
    ("A14", "開設者"),
    ("B14", "資格 花子"),
    ("A15", "(保険医又は保険薬剤師の登録の記号及び番号)"),
    ("B15", "医 第123456号"),
    ("A16", "担当者の連絡先(電話番号)"),
    ("B16", "03-1234-5678"),
    ("A18", "上記の依頼について、受付番号を回答します。"),
    ("A19", "受付番号"),
];

/// The 記載例 as a form written with rust_xlsxwriter, then changed by `edit`
/// (which may overwrite or blank any cell).
pub fn example_form(edit: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    xlsx(|ws| {
        ws.set_name("別紙1").expect("name");
        put(ws, EXAMPLE_CELLS);
        edit(ws);
    })
}

/// Reads forms with the default limits; panics on a whole-file error.
pub fn forms(name: &str, bytes: &[u8]) -> Outcome<RequestForm> {
    read_request_forms(name, bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The entries of a zip as (name, bytes).
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).expect("entry");
            let mut data = Vec::new();
            f.read_to_end(&mut data).expect("read");
            (f.name().expect("name").into_owned(), data)
        })
        .collect()
}

/// A zip of `entries` (deflated).
pub fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        out.start_file(name.as_str(), options).expect("start");
        out.write_all(data).expect("write");
    }
    out.finish().expect("finish").into_inner()
}
