//! Test data and independent readers shared by the export tests: sample rows
//! (fictitious facilities with valid codes), calamine for .xlsx, and Python
//! (openpyxl, the `csv` module, the `cp932` codec) run as a subprocess.

#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::process::{Command, Stdio};

use calamine::{Data, Range, Reader, Xlsx};
use chrono::NaiveDate;
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture, RequestKind};
use uketsuke_export::ListRow;

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A row for a facility in `prefecture` with 郡市区 `district`, 医療機関番号 `serial`.
pub fn row(prefecture: u8, kind: RequestKind, district: u8, serial: u16, name: &str) -> ListRow {
    let prefecture = Prefecture::from_code(prefecture).unwrap();
    let code =
        InstitutionCode::build(prefecture, kind.fee_schedule(), district, serial, false).unwrap();
    ListRow {
        prefecture,
        kind,
        reception_number: code.as_str().to_owned(),
        medical_code: code.medical_code().as_str().to_owned(),
        institution_code: code,
        combined_code: None,
        facility_name: name.to_owned(),
        postal_code: Some("680-0862".to_owned()),
        address: "鳥取市雲山５７".to_owned(),
        phone: Some("0857-22-2346".to_owned()),
        founder: "医療法人　受付会　理事長　資格　太郎".to_owned(),
        designation_date: date(2024, 7, 1),
        council_date: Some(date(2024, 6, 20)),
        note: None,
    }
}

/// Three facilities: a 北海道 clinic (leading zero), a 医科歯科併設 dental clinic
/// in 大阪 with a comma and quotes in its name, a pharmacy with no phone and a
/// two-line note.
pub fn sample_rows() -> Vec<ListRow> {
    let hokkaido = row(1, RequestKind::Medical, 1, 1248, "愛全クリニック");
    let mut dental = row(27, RequestKind::Dental, 3, 3024, "歯科\"スマイル\", 本院");
    let medical_twin = InstitutionCode::build(
        Prefecture::from_code(27).unwrap(),
        FeeSchedule::Medical,
        3,
        3024,
        true,
    )
    .unwrap();
    dental.combined_code = Some(medical_twin.medical_code().as_str().to_owned());
    dental.postal_code = Some("530-0001".to_owned());
    dental.address = "大阪市北区梅田一丁目1番1号".to_owned();
    dental.council_date = None;
    let mut pharmacy = row(31, RequestKind::Pharmacy, 1, 4012, "うけつけ薬局");
    pharmacy.phone = None;
    pharmacy.note = Some("開設者変更あり\n（旧：資格 花子）".to_owned());
    pharmacy.designation_date = date(2024, 8, 1);
    vec![hokkaido, dental, pharmacy]
}

/// The first worksheet of an .xlsx, read by calamine.
pub fn calamine_sheet(bytes: &[u8]) -> (Xlsx<Cursor<Vec<u8>>>, String, Range<Data>) {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .expect("calamine opens the workbook");
    let name = book.sheet_names()[0].clone();
    let range = book
        .worksheet_range(&name)
        .expect("calamine reads the sheet");
    (book, name, range)
}

/// The cell at 1-based `row` and column letter `col` (`"A"`), or Empty.
pub fn cell(range: &Range<Data>, row: u32, col: &str) -> Data {
    let col = col
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1))
        - 1;
    range
        .get_value((row - 1, col))
        .cloned()
        .unwrap_or(Data::Empty)
}

/// Runs a Python 3 `script` with `input` on its standard input and parses what
/// it prints as JSON. Panics — the test fails, it is not skipped — when python3
/// or a module it imports (openpyxl) is missing: CI installs them
/// (`pip install openpyxl`).
pub fn python(script: &str, input: &[u8]) -> serde_json::Value {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is needed for this test (install Python 3 and `pip install openpyxl`): {e}"
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input)
        .expect("write to python3");
    let output = child.wait_with_output().expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python3 failed (is openpyxl installed? `pip install openpyxl`):\n{stderr}"
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "python3 printed no JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
