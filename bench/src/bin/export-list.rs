//! The export benchmark's two halves, so that uketsuke and the Python writers get the
//! very same rows:
//!
//! ```sh
//! export-list make rows.json 50000     # the rows, as JSON (what each cell shows)
//! export-list write rows.json out.xlsx # the 一覧表 by uketsuke-export, from that JSON
//! ```
//!
//! `bench/xlsxwriter_list.py` and `bench/openpyxl_list.py` write the same rows with the
//! same formats; `bench/measure.py` times all three and reads their peak memory.

use std::io::Write as _;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uketsuke_domain::{InstitutionCode, Prefecture, RequestKind};
use uketsuke_export::{ListLayout, ListRow, list_xlsx};

/// One row as every writer reads it: the text of each cell, dates as ISO dates.
#[derive(Debug, Serialize, Deserialize)]
struct FlatRow {
    prefecture_code: String,
    prefecture_name: String,
    kind: String,
    institution_code: String,
    reception_number: String,
    medical_code: String,
    combined_code: Option<String>,
    facility_name: String,
    postal_code: Option<String>,
    address: String,
    phone: Option<String>,
    founder: String,
    designation_date: NaiveDate,
    council_date: Option<NaiveDate>,
    note: Option<String>,
}

fn make(count: usize) -> anyhow::Result<Vec<FlatRow>> {
    let designation = NaiveDate::from_ymd_opt(2024, 7, 1).context("date")?;
    let council = NaiveDate::from_ymd_opt(2024, 6, 20).context("date")?;
    (0..count)
        .map(|i| {
            let prefecture = Prefecture::from_code(u8::try_from(i % 47 + 1)?)?;
            let kind = RequestKind::ALL[i % 3];
            let district = u8::try_from(i / 10_000 % 100)?;
            let serial = u16::try_from(i % 10_000)?;
            let code =
                InstitutionCode::build(prefecture, kind.fee_schedule(), district, serial, false)?;
            Ok(FlatRow {
                prefecture_code: prefecture.code_str(),
                prefecture_name: prefecture.name().to_owned(),
                kind: kind.label().to_owned(),
                institution_code: code.as_str().to_owned(),
                reception_number: code.as_str().to_owned(),
                medical_code: code.medical_code().as_str().to_owned(),
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

fn to_list_row(row: FlatRow) -> anyhow::Result<ListRow> {
    let kind = RequestKind::ALL
        .into_iter()
        .find(|k| k.label() == row.kind)
        .with_context(|| format!("unknown kind {}", row.kind))?;
    Ok(ListRow {
        prefecture: Prefecture::parse(&row.prefecture_code)?,
        kind,
        institution_code: InstitutionCode::parse(&row.institution_code)?,
        reception_number: row.reception_number,
        medical_code: row.medical_code,
        combined_code: row.combined_code,
        facility_name: row.facility_name,
        postal_code: row.postal_code,
        address: row.address,
        phone: row.phone,
        founder: row.founder,
        designation_date: row.designation_date,
        council_date: row.council_date,
        note: row.note,
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["make", path, count] => {
            let rows = make(count.parse()?)?;
            let file = std::io::BufWriter::new(std::fs::File::create(path)?);
            serde_json::to_writer(file, &rows)?;
        }
        ["write", input, output] => {
            let text = std::fs::read(input)?;
            let flat: Vec<FlatRow> = serde_json::from_slice(&text)?;
            drop(text);
            let rows = flat
                .into_iter()
                .map(to_list_row)
                .collect::<anyhow::Result<Vec<_>>>()?;
            let as_of = NaiveDate::from_ymd_opt(2024, 7, 1).context("date")?;
            let bytes = list_xlsx(&ListLayout::default(), as_of, Some("性能測定"), &rows)?;
            std::fs::write(output, &bytes)?;
            writeln!(std::io::stdout().lock(), "{}", rows.len())?;
        }
        _ => bail!("usage: export-list make ROWS.json N | export-list write ROWS.json OUT.xlsx"),
    }
    Ok(())
}
