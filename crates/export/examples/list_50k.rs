//! Times [`list_xlsx`] and [`list_csv`] on a large list (50,000 rows unless told):
//!
//! ```sh
//! cargo run --release -p uketsuke-export --example list_50k -- 50000 /tmp/list.xlsx
//! /usr/bin/time -v target/release/examples/list_50k 50000   # peak memory
//! ```

use std::io::Write as _;
use std::time::Instant;

use chrono::NaiveDate;
use uketsuke_domain::{InstitutionCode, Prefecture, RequestKind};
use uketsuke_export::{CsvEncoding, ListLayout, ListRow, list_csv, list_xlsx};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(50_000), |s| s.parse())?;
    let out = args.next();

    let start = Instant::now();
    let rows = rows(count)?;
    let built = start.elapsed();

    let as_of = NaiveDate::from_ymd_opt(2024, 7, 1).ok_or("date")?;
    let start = Instant::now();
    let xlsx = list_xlsx(&ListLayout::default(), as_of, Some("性能測定"), &rows)?;
    let xlsx_time = start.elapsed();

    let start = Instant::now();
    let utf8 = list_csv(&ListLayout::default(), &rows, CsvEncoding::Utf8Bom)?;
    let utf8_time = start.elapsed();

    let start = Instant::now();
    let csv = list_csv(&ListLayout::default(), &rows, CsvEncoding::ShiftJis)?;
    let csv_time = start.elapsed();

    writeln!(
        std::io::stdout().lock(),
        "{count} rows (made in {built:.2?}): xlsx {xlsx_time:.2?} ({} bytes), \
         UTF-8 csv {utf8_time:.2?} ({} bytes), Shift_JIS csv {csv_time:.2?} ({} bytes)",
        xlsx.len(),
        utf8.len(),
        csv.len()
    )?;
    if let Some(path) = out {
        std::fs::write(path, xlsx)?;
    }
    Ok(())
}

fn rows(count: usize) -> Result<Vec<ListRow>, Box<dyn std::error::Error>> {
    let designation = NaiveDate::from_ymd_opt(2024, 7, 1).ok_or("date")?;
    let council = NaiveDate::from_ymd_opt(2024, 6, 20).ok_or("date")?;
    (0..count)
        .map(|i| {
            let prefecture = Prefecture::from_code(u8::try_from(i % 47 + 1)?)?;
            let kind = RequestKind::ALL[i % 3];
            let district = u8::try_from(i / 10_000 % 100)?;
            let serial = u16::try_from(i % 10_000)?;
            let code =
                InstitutionCode::build(prefecture, kind.fee_schedule(), district, serial, false)?;
            Ok(ListRow {
                prefecture,
                kind,
                reception_number: code.as_str().to_owned(),
                medical_code: code.medical_code().as_str().to_owned(),
                institution_code: code,
                combined_code: (i % 7 == 0).then(|| format!("{:07}", i % 10_000_000)),
                facility_name: format!("医療法人社団うけつけ会 第{i}クリニック"),
                postal_code: Some(format!("{:03}-{:04}", i % 1000, i % 10_000)),
                address: format!(
                    "{}中央区本町{}丁目{}番{}号",
                    prefecture.name(),
                    i % 9 + 1,
                    i % 30 + 1,
                    i % 20 + 1
                ),
                phone: (i % 5 != 0)
                    .then(|| format!("03-{:04}-{:04}", i % 10_000, (i * 7) % 10_000)),
                founder: format!("医療法人社団うけつけ会 理事長 資格 太郎{}", i % 100),
                designation_date: designation,
                council_date: Some(council),
                note: (i % 11 == 0).then(|| "開設者変更".to_owned()),
            })
        })
        .collect()
}
