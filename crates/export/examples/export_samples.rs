//! Writes a sample list (.xlsx and CSV) and a sample answer into a directory,
//! to open in Excel or LibreOffice and look at:
//!
//! ```sh
//! cargo run -p uketsuke-export --example export_samples -- /tmp/samples
//! ```

use std::path::PathBuf;

use chrono::NaiveDate;
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture, RequestKind};
use uketsuke_export::{
    AnswerSheet, CsvEncoding, ListLayout, ListRow, answer_xlsx, list_csv, list_xlsx,
};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BoxResult<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "samples".to_owned()),
    );
    std::fs::create_dir_all(&dir)?;
    let as_of = date(2024, 7, 1)?;
    let rows = rows()?;
    let layout = ListLayout::default();
    std::fs::write(
        dir.join("新規指定医療機関一覧表_令和6年7月1日.xlsx"),
        list_xlsx(
            &layout,
            as_of,
            Some("第123回 鳥取県地方社会保険医療協議会（令和6年6月20日）答申分"),
            &rows,
        )?,
    )?;
    std::fs::write(
        dir.join("list_utf8.csv"),
        list_csv(&layout, &rows, CsvEncoding::Utf8Bom)?,
    )?;
    std::fs::write(
        dir.join("list_sjis.csv"),
        list_csv(&layout, &rows, CsvEncoding::ShiftJis)?,
    )?;
    std::fs::write(dir.join("回答書_3410712362.xlsx"), answer_xlsx(&answer()?)?)?;
    Ok(())
}

fn date(y: i32, m: u32, d: u32) -> BoxResult<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| "bad date".into())
}

fn rows() -> BoxResult<Vec<ListRow>> {
    let facilities = [
        (
            31,
            RequestKind::Medical,
            1,
            1236,
            "うけつけ内科クリニック",
            "680-0862",
            "鳥取市雲山５７番地",
            "0857-22-0001",
            "資格　太郎",
        ),
        (
            31,
            RequestKind::Dental,
            1,
            3021,
            "医療法人社団　白歯会　うけつけ歯科医院",
            "680-0011",
            "鳥取市東町一丁目２２０番地　うけつけビル２階",
            "0857-22-0002",
            "医療法人社団　白歯会　理事長　歯科　一郎",
        ),
        (
            31,
            RequestKind::Pharmacy,
            2,
            4008,
            "うけつけ薬局　米子駅前店",
            "683-0043",
            "米子市末広町１００番地",
            "0859-22-0003",
            "株式会社うけつけファーマシー　代表取締役　薬剤　花子",
        ),
        (
            1,
            RequestKind::Medical,
            1,
            1248,
            "さっぽろ在宅クリニック",
            "060-0001",
            "札幌市中央区北一条西２丁目",
            "011-222-0004",
            "医療法人　北光会　理事長　北海　次郎",
        ),
    ];
    facilities
        .into_iter()
        .enumerate()
        .map(
            |(i, (pref, kind, district, serial, name, postal, address, phone, founder))| {
                let prefecture = Prefecture::from_code(pref)?;
                let code = InstitutionCode::build(
                    prefecture,
                    kind.fee_schedule(),
                    district,
                    serial,
                    false,
                )?;
                let combined_code = if kind == RequestKind::Dental {
                    let twin = InstitutionCode::build(
                        prefecture,
                        FeeSchedule::Medical,
                        district,
                        serial,
                        true,
                    )?;
                    Some(twin.medical_code().as_str().to_owned())
                } else {
                    None
                };
                Ok(ListRow {
                    prefecture,
                    kind,
                    reception_number: code.as_str().to_owned(),
                    medical_code: code.medical_code().as_str().to_owned(),
                    institution_code: code,
                    combined_code,
                    facility_name: name.to_owned(),
                    postal_code: Some(postal.to_owned()),
                    address: address.to_owned(),
                    phone: Some(phone.to_owned()),
                    founder: founder.to_owned(),
                    designation_date: date(2024, 7, 1)?,
                    council_date: Some(date(2024, 6, 20)?),
                    note: (i == 2).then(|| "開設者変更あり\n（旧：薬剤 一郎）".to_owned()),
                })
            },
        )
        .collect()
}

fn answer() -> BoxResult<AnswerSheet> {
    Ok(AnswerSheet {
        recipient_postal_code: Some("123-4567".to_owned()),
        recipient_address: "東京都千代田区霞が関1-2-2".to_owned(),
        recipient_name: "資格 太郎".to_owned(),
        kind: RequestKind::Medical,
        facility_name: "オン資クリニック".to_owned(),
        facility_postal_code: Some("〒730-0012".to_owned()),
        facility_address: "広島市中区上八丁堀6番30号".to_owned(),
        desired_designation_date: date(2024, 4, 1)?,
        request_date: date(2024, 2, 1)?,
        bureau_name: "中国四国厚生局".to_owned(),
        founder: "医療法人社団　オン資会　理事長　資格　花子".to_owned(),
        registration_number: Some("広医 第12345号".to_owned()),
        contact_phone: Some("082-223-0000".to_owned()),
        reception_number: InstitutionCode::parse("3410712362")?,
        answer_date: date(2024, 2, 13)?,
        submission_deadline: date(2024, 2, 15)?,
    })
}
