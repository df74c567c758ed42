//! Writes N filled 別紙1 forms (our own layout, varied names, kinds and dates) into a
//! folder: `make-forms DIR N`.

use anyhow::Context;
use chrono::NaiveDate;
use uketsuke_domain::{PhoneNumber, PostalCode, RequestKind};
use uketsuke_ingest::{Founder, RequestForm, filled_form_xlsx};

const NAMES: [&str; 8] = [
    "さくら",
    "ひまわり",
    "あおば",
    "みなと",
    "こもれび",
    "つばさ",
    "かえで",
    "すずらん",
];
const SUFFIX: [(&str, RequestKind); 3] = [
    ("内科クリニック", RequestKind::Medical),
    ("歯科医院", RequestKind::Dental),
    ("薬局", RequestKind::Pharmacy),
];

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().context("usage: make-forms DIR N")?;
    let n: usize = args.next().context("usage: make-forms DIR N")?.parse()?;
    std::fs::create_dir_all(&dir)?;
    for i in 0..n {
        let (suffix, kind) = SUFFIX[i % SUFFIX.len()];
        let month = u32::try_from(i % 12).unwrap_or(0) + 1;
        let form = RequestForm {
            kind,
            facility_name: format!("{}{}{}", NAMES[i % NAMES.len()], suffix, i),
            facility_postal_code: Some(PostalCode::parse("100-8916")?),
            facility_address: format!("東京都千代田区霞が関1-2-{}", i % 50 + 1),
            designation_date: NaiveDate::from_ymd_opt(2027, month, 1).context("date")?,
            request_date: NaiveDate::from_ymd_opt(2026, 11, 2),
            addressed_bureau: Some("関東信越厚生局".to_owned()),
            founder: Founder::Person {
                name: format!("厚生 太郎{i}"),
            },
            founder_registration: Some(format!("医 第{:06}号", 100_000 + i)),
            contact_phone: PhoneNumber::parse("03-5253-1111")?,
            reply_postal_code: Some(PostalCode::parse("100-8916")?),
            reply_address: Some("東京都千代田区霞が関1-2-2".to_owned()),
            reply_name: Some(format!("開設準備室 {i}")),
        };
        std::fs::write(format!("{dir}/form-{i:04}.xlsx"), filled_form_xlsx(&form)?)?;
    }
    Ok(())
}
