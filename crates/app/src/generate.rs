//! Scale data (規模試験用データ): `uketsuke demo generate` fills the database with
//! realistic, valid data at national scale — registry codes with correct check digits
//! for every prefecture, facilities with Japanese names and addresses, and requests in
//! every status spread over ten years — deterministically from a seed, in batches.

use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde::Serialize;
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture, RequestKind, search_key};
use uketsuke_store::audit::{self, Actor};
use uketsuke_store::entities::{
    audit_log, facility, issued_number, reception_request, registry_code,
};
use uketsuke_store::lifecycle::{CaseStatus, Decision, FounderKind, NumberStatus};

use crate::settings::Settings;

/// SplitMix64: a small, well-known deterministic generator, enough to vary test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const FIRST: [&str; 16] = [
    "さくら",
    "ひまわり",
    "あおば",
    "みなと",
    "こもれび",
    "つばさ",
    "かえで",
    "すずらん",
    "みどり",
    "あさひ",
    "ひかり",
    "やまびこ",
    "なごみ",
    "いずみ",
    "はるか",
    "そよかぜ",
];
const MEDICAL: [&str; 8] = [
    "内科クリニック",
    "小児科",
    "整形外科",
    "眼科",
    "皮ふ科",
    "耳鼻咽喉科",
    "内科医院",
    "病院",
];
const DENTAL: [&str; 3] = ["歯科医院", "歯科クリニック", "デンタルオフィス"];
const PHARMACY: [&str; 3] = ["薬局", "調剤薬局", "ファーマシー"];
const TOWNS: [&str; 8] = [
    "本町", "中央", "駅前", "緑町", "旭町", "栄町", "新町", "桜台",
];
const SURNAMES: [&str; 10] = [
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
];
const STAFF: [&str; 6] = ["yamada", "kimura", "inoue", "hayashi", "shimizu", "mori"];
const GIVEN: [&str; 8] = [
    "太郎", "花子", "一郎", "優子", "健一", "美咲", "大輔", "陽子",
];

/// Population of each prefecture in units of 10,000 (2020 census, rounded), by code
/// 01–47: facilities and requests are spread in proportion, so that 関東信越 carries
/// about 40 % of the nation's requests, as it does in reality.
const POPULATION: [u32; 47] = [
    522, 124, 121, 230, 96, 107, 183, 287, 193, 194, 734, 628, 1405, 924, 220, 103, 113, 77, 81,
    205, 198, 363, 754, 177, 141, 258, 884, 547, 132, 92, 55, 67, 189, 280, 134, 72, 95, 133, 69,
    514, 81, 131, 174, 112, 107, 159, 147,
];

/// Picks a prefecture with probability proportional to its population.
struct PrefecturePicker {
    cumulative: Vec<(u32, Prefecture)>,
}

impl PrefecturePicker {
    fn new() -> Self {
        let mut total = 0;
        let cumulative = Prefecture::all()
            .map(|p| {
                total += POPULATION[usize::from(p.code()) - 1];
                (total, p)
            })
            .collect();
        Self { cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> Prefecture {
        let total = self.cumulative.last().map_or(1, |(t, _)| *t);
        let x = u32::try_from(rng.next() % u64::from(total)).unwrap_or(0);
        let i = self.cumulative.partition_point(|(t, _)| *t <= x);
        self.cumulative[i.min(self.cumulative.len() - 1)].1
    }
}

/// What was generated, and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub registry_codes: usize,
    pub requests: usize,
    pub issued_numbers: usize,
    pub audit_entries: usize,
    pub seconds: f64,
}

fn city(p: Prefecture, district: u8) -> String {
    format!("{}第{}市", p.short_name(), district)
}

/// Fills the database: `facilities` registry codes (spread over the 47 prefectures) and
/// `requests` requests with their facilities and numbers. Refuses a database that
/// already holds requests.
pub async fn generate(
    db: &DatabaseConnection,
    settings: &Settings,
    facilities: usize,
    requests: usize,
    seed: u64,
) -> anyhow::Result<Generated> {
    use sea_orm::PaginatorTrait;
    if reception_request::Entity::find().count(db).await? > 0 {
        anyhow::bail!(
            "依頼が既にあるデータベースには生成しません（空のデータベースで実行してください）"
        );
    }
    let started = std::time::Instant::now();
    let mut rng = Rng(seed);
    let prefectures = PrefecturePicker::new();
    let now = Utc::now();

    // Registry: for each code, a (prefecture, 点数表, district) and the next serial there.
    let mut next_serial = std::collections::HashMap::<(u8, u8, u8), u16>::new();
    let mut rows = Vec::with_capacity(1000);
    let mut written = 0;
    for i in 0..facilities {
        let p = prefectures.pick(&mut rng);
        let fee = *rng.pick(&[
            FeeSchedule::Medical,
            FeeSchedule::Medical,
            FeeSchedule::Dental,
            FeeSchedule::Pharmacy,
        ]);
        let district = u8::try_from(1 + rng.below(20)).unwrap_or(1);
        let serial = next_serial
            .entry((p.code(), fee.digit(), district))
            .or_insert(100);
        *serial += 1;
        if *serial > 9999 {
            continue;
        }
        let code = InstitutionCode::build(p, fee, district, *serial, false)?;
        let town = rng.pick(&TOWNS);
        rows.push(registry_code::ActiveModel {
            prefecture: Set(p.code_str()),
            fee_schedule: Set(fee.digit().to_string()),
            district: Set(i16::from(district)),
            serial: Set(i16::try_from(*serial)?),
            check_digit: Set(i16::from(code.check_digit())),
            code: Set(code.to_string()),
            name: Set(Some(format!(
                "{}{}{}",
                rng.pick(&FIRST),
                rng.pick(&MEDICAL),
                i
            ))),
            address: Set(Some(format!(
                "{}{}{}{}丁目",
                p.name(),
                city(p, district),
                town,
                1 + rng.below(9)
            ))),
            municipality: Set(Some(city(p, district))),
            source: Set("generated".to_owned()),
            imported_at: Set(now),
            ..Default::default()
        });
        if rows.len() == 1000 {
            written += flush_registry(db, &mut rows).await?;
        }
    }
    written += flush_registry(db, &mut rows).await?;

    // Requests over ten years, with facilities and, past 受付, numbers.
    let bureau_of = |p: Prefecture| {
        settings
            .bureaus
            .iter()
            .find(|b| b.prefectures.contains(&p.code_str()))
            .ok_or_else(|| anyhow::anyhow!("{} を管轄する厚生局の設定がありません", p.name()))
    };
    let calendars = settings
        .bureaus
        .iter()
        .map(|b| Ok((b.id.clone(), b.calendar()?)))
        .collect::<anyhow::Result<std::collections::HashMap<_, _>>>()?;
    let statuses = [
        CaseStatus::Received,
        CaseStatus::Proposed,
        CaseStatus::Issued,
        CaseStatus::Answered,
        CaseStatus::Designated,
        CaseStatus::Designated,
        CaseStatus::Designated,
        CaseStatus::NotDesignated,
        CaseStatus::Returned,
        CaseStatus::Withdrawn,
    ];
    let start = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap_or_default();
    let mut issued = 0;
    let mut audit = 0;
    let mut request_count = 0;
    let mut serial_for_requests = std::collections::HashMap::<(u8, u8, u8), u16>::new();
    for chunk_start in (0..requests).step_by(500) {
        let txn = db.begin().await?;
        let mut facility_rows = Vec::new();
        let mut planned = Vec::new();
        for i in chunk_start..(chunk_start + 500).min(requests) {
            let p = prefectures.pick(&mut rng);
            let bureau = bureau_of(p)?;
            let kind = *rng.pick(&[
                RequestKind::Medical,
                RequestKind::Medical,
                RequestKind::Dental,
                RequestKind::Pharmacy,
            ]);
            let suffix = match kind {
                RequestKind::Medical => rng.pick(&MEDICAL),
                RequestKind::Dental => rng.pick(&DENTAL),
                RequestKind::Pharmacy => rng.pick(&PHARMACY),
            };
            let name = format!("{}{}{}", rng.pick(&FIRST), suffix, i);
            let district = u8::try_from(1 + rng.below(20)).unwrap_or(1);
            let address = format!(
                "{}{}{}{}-{}",
                p.name(),
                city(p, district),
                rng.pick(&TOWNS),
                1 + rng.below(9),
                1 + rng.below(30)
            );
            let designation = start + TimeDelta::days(i64::try_from(rng.below(3650)).unwrap_or(0));
            let designation = NaiveDate::from_ymd_opt(designation.year(), designation.month(), 1)
                .unwrap_or(designation);
            facility_rows.push(facility::ActiveModel {
                bureau_id: Set(bureau.id.clone()),
                prefecture: Set(p.code_str()),
                name: Set(name.clone()),
                name_search: Set(search_key(&name)),
                postal_code: Set(Some(format!(
                    "{:03}-{:04}",
                    rng.below(1000),
                    rng.below(10000)
                ))),
                address: Set(address.clone()),
                municipality: Set(Some(city(p, district))),
                phone: Set(Some(format!(
                    "0{}-{:04}-{:04}",
                    3 + rng.below(6),
                    rng.below(10000),
                    rng.below(10000)
                ))),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
            planned.push((
                bureau,
                p,
                kind,
                name,
                district,
                address,
                designation,
                *rng.pick(&statuses),
            ));
        }
        let facility_ids = facility::Entity::insert_many(facility_rows)
            .exec_with_returning_keys(&txn)
            .await?;
        let mut request_rows = Vec::new();
        for (offset, (bureau, _p, kind, name, _district, address, designation, st)) in
            planned.iter().enumerate()
        {
            let calendar = &calendars[&bureau.id];
            let d = uketsuke_rules::deadlines::deadlines(calendar, &bureau.deadlines, *designation);
            let received =
                d.submission_deadline - TimeDelta::days(i64::try_from(rng.below(40)).unwrap_or(0));
            let person = format!("{} {}", rng.pick(&SURNAMES), rng.pick(&GIVEN));
            request_rows.push(reception_request::ActiveModel {
                bureau_id: Set(bureau.id.clone()),
                facility_id: Set(facility_ids[offset]),
                kind: Set(*kind),
                status: Set(*st),
                designation_date: Set(*designation),
                request_date: Set(Some(received)),
                received_on: Set(received),
                reply_address: Set(address.clone()),
                reply_name: Set(format!("{name} 開設準備室")),
                facility_name: Set(name.clone()),
                facility_address: Set(address.clone()),
                dedupe_key: Set(Some(uketsuke_store::requests::dedupe_key(name, address))),
                founder_kind: Set(FounderKind::Person),
                founder_name: Set(Some(person)),
                contact_phone: Set("03-5253-1111".to_owned()),
                retroactive: Set(false),
                submission_deadline: Set(d.submission_deadline),
                answer_due: Set(d.answer_due),
                implementing_body_due: Set(d.implementing_body_due),
                decision: Set(if *st == CaseStatus::Returned {
                    Decision::Return
                } else {
                    Decision::Accept
                }),
                reasons: Set(serde_json::json!([])),
                warnings: Set(serde_json::json!([])),
                answered_on: Set(matches!(
                    *st,
                    CaseStatus::Answered | CaseStatus::Designated | CaseStatus::NotDesignated
                )
                .then_some(d.answer_due)),
                designated_on: Set((*st == CaseStatus::Designated).then_some(*designation)),
                lock_version: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
        let request_ids = reception_request::Entity::insert_many(request_rows)
            .exec_with_returning_keys(&txn)
            .await?;
        let mut number_rows = Vec::new();
        // For each planned request, the status of the number it got, if any.
        let mut numbered: Vec<Option<NumberStatus>> = vec![None; planned.len()];
        for (offset, (_bureau, p, kind, _name, district, _address, _designation, st)) in
            planned.iter().enumerate()
        {
            let number_status = match *st {
                CaseStatus::Proposed => Some(NumberStatus::Proposed),
                CaseStatus::Issued
                | CaseStatus::Answered
                | CaseStatus::Designated
                | CaseStatus::NotDesignated => Some(NumberStatus::Approved),
                _ => None,
            };
            let Some(number_status) = number_status else {
                continue;
            };
            numbered[offset] = Some(number_status);
            let fee = kind.fee_schedule();
            let range_start = match fee {
                FeeSchedule::Medical => 1000,
                FeeSchedule::Dental => 3000,
                _ => 4000,
            };
            let serial = serial_for_requests
                .entry((p.code(), fee.digit(), *district))
                .or_insert(range_start);
            while uketsuke_rules::numbering::has_90(*serial) {
                *serial += 1;
            }
            let code = InstitutionCode::build(*p, fee, *district, *serial, false)?;
            number_rows.push(issued_number::ActiveModel {
                request_id: Set(Some(request_ids[offset])),
                prefecture: Set(p.code_str()),
                fee_schedule: Set(fee.digit().to_string()),
                district: Set(i16::from(*district)),
                serial: Set(i16::try_from(*serial)?),
                check_digit: Set(i16::from(code.check_digit())),
                code: Set(code.to_string()),
                combined_dental: Set(false),
                status: Set(number_status),
                created_at: Set(now),
                ..Default::default()
            });
            *serial += 1;
        }
        issued += number_rows.len();
        let number_ids = if number_rows.is_empty() {
            Vec::new()
        } else {
            issued_number::Entity::insert_many(number_rows)
                .exec_with_returning_keys(&txn)
                .await?
        };
        // The audit trail each request would have left behind (監査記録).
        let mut numbers = number_ids.into_iter();
        let mut audit_rows = Vec::new();
        for (offset, (_b, _p, kind, name, _d, _a, designation, st)) in planned.iter().enumerate() {
            let request_id = request_ids[offset];
            let mut entry = |action: &str, entity: &str, id: i32, after: serde_json::Value| {
                let staff: &&str = rng.pick(&STAFF);
                let staff = Actor::system(staff);
                audit_rows.push(audit::entry(
                    now,
                    &staff,
                    action,
                    entity,
                    id,
                    None,
                    Some(after),
                ));
            };
            entry(
                "facility.create",
                "facility",
                facility_ids[offset],
                serde_json::json!({ "name": name }),
            );
            entry(
                "request.create",
                "reception_request",
                request_id,
                serde_json::json!({
                    "kind": kind.as_str(),
                    "facility_name": name,
                    "designation_date": designation,
                    "status": CaseStatus::Received,
                }),
            );
            if let Some(number_status) = numbered[offset]
                && let Some(number_id) = numbers.next()
            {
                let proposed = serde_json::json!({ "status": "proposed" });
                entry("number.propose", "issued_number", number_id, proposed);
                if number_status == NumberStatus::Approved {
                    let approved = serde_json::json!({ "status": "approved" });
                    entry("number.approve", "issued_number", number_id, approved);
                }
            }
            let last = match *st {
                CaseStatus::Answered => Some("request.answer"),
                CaseStatus::Designated | CaseStatus::NotDesignated => {
                    let answered = serde_json::json!({ "status": CaseStatus::Answered });
                    entry("request.answer", "reception_request", request_id, answered);
                    Some(if *st == CaseStatus::Designated {
                        "request.designate"
                    } else {
                        "request.not_designated"
                    })
                }
                CaseStatus::Returned => Some("request.return"),
                CaseStatus::Withdrawn => Some("request.withdraw"),
                _ => None,
            };
            if let Some(action) = last {
                let after = serde_json::json!({ "status": st });
                entry(action, "reception_request", request_id, after);
            }
        }
        audit += audit_rows.len();
        for batch in audit_rows.chunks(1000) {
            audit_log::Entity::insert_many(batch.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        request_count += planned.len();
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // What autovacuum does some minutes after a bulk load, done now: fresh planner
        // statistics and a visibility map, so index-only scans work from the start.
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    Ok(Generated {
        registry_codes: written,
        requests: request_count,
        issued_numbers: issued,
        audit_entries: audit,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn flush_registry(
    db: &DatabaseConnection,
    rows: &mut Vec<registry_code::ActiveModel>,
) -> anyhow::Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len();
    registry_code::Entity::insert_many(std::mem::take(rows))
        .exec(db)
        .await?;
    Ok(n)
}
