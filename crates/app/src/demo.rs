//! Demo data (デモデータ): one bureau (関東信越厚生局, 東京事務所) with requests in every
//! state, dated relative to today so that deadlines look alive. Loaded by
//! `serve --demo` only into a database that has no requests yet; never by migrations.

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
    TransactionTrait,
};
use uketsuke_domain::{Prefecture, RequestKind};
use uketsuke_rules::eligibility::{self, RequestFacts};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{council_session, reception_request, registry_code};
use uketsuke_store::issuance::{self, District, IssueOptions};
use uketsuke_store::lifecycle::{CaseStatus, Decision, FounderKind, NumberStatus};
use uketsuke_store::requests::{self, NewFacility};

use crate::settings::Settings;

const BUREAU: &str = "kanto-shinetsu";

/// One demo case.
struct Case {
    name: &'static str,
    kind: RequestKind,
    address: &'static str,
    postal: &'static str,
    phone: &'static str,
    /// Months from this month to the designation month.
    months_ahead: i32,
    /// Days before today the request arrived.
    received_days_ago: i64,
    status: CaseStatus,
}

const CASES: &[Case] = &[
    Case {
        name: "やまなみ内科クリニック",
        kind: RequestKind::Medical,
        address: "東京都新宿区西新宿二丁目8番1号",
        postal: "163-8001",
        phone: "03-5321-1111",
        months_ahead: 3,
        received_days_ago: 2,
        status: CaseStatus::Received,
    },
    Case {
        name: "ひだまり小児科",
        kind: RequestKind::Medical,
        address: "東京都千代田区霞が関一丁目2番2号",
        postal: "100-8916",
        phone: "03-5253-1111",
        // Overdue on any day of the month: designated next month, so its 回答期限 (the
        // 10th of last month) has passed; received in time, before its 提出期限.
        months_ahead: 1,
        received_days_ago: 65,
        status: CaseStatus::Received,
    },
    Case {
        name: "さくら薬局 新宿御苑前店",
        kind: RequestKind::Pharmacy,
        address: "東京都新宿区新宿一丁目10番3号",
        postal: "160-0022",
        phone: "03-3350-0000",
        months_ahead: 3,
        received_days_ago: 4,
        status: CaseStatus::Proposed,
    },
    Case {
        name: "みなと歯科医院",
        kind: RequestKind::Dental,
        address: "東京都港区芝公園四丁目2番8号",
        postal: "105-0011",
        phone: "03-3433-5111",
        months_ahead: 2,
        received_days_ago: 30,
        status: CaseStatus::Issued,
    },
    Case {
        name: "ひかり眼科",
        kind: RequestKind::Medical,
        address: "東京都千代田区丸の内一丁目9番1号",
        postal: "100-0005",
        phone: "03-3211-0000",
        months_ahead: 2,
        received_days_ago: 1,
        status: CaseStatus::Returned,
    },
    Case {
        name: "かえで皮ふ科クリニック",
        kind: RequestKind::Medical,
        address: "東京都渋谷区道玄坂一丁目2番3号",
        postal: "150-0043",
        phone: "03-3464-0000",
        months_ahead: 4,
        received_days_ago: 12,
        status: CaseStatus::Withdrawn,
    },
    Case {
        name: "こもれび内科",
        kind: RequestKind::Medical,
        address: "東京都新宿区高田馬場一丁目1番1号",
        postal: "169-0075",
        phone: "03-3200-0000",
        months_ahead: 0,
        received_days_ago: 90,
        status: CaseStatus::Designated,
    },
    Case {
        name: "つばさ薬局",
        kind: RequestKind::Pharmacy,
        address: "東京都港区六本木六丁目10番1号",
        postal: "106-6108",
        phone: "03-6406-0000",
        months_ahead: 0,
        received_days_ago: 88,
        status: CaseStatus::NotDesignated,
    },
    Case {
        name: "すずらん整形外科",
        kind: RequestKind::Medical,
        address: "東京都渋谷区神南一丁目1番1号",
        postal: "150-0041",
        phone: "03-3463-0000",
        months_ahead: 1,
        received_days_ago: 40,
        status: CaseStatus::Answered,
    },
];

/// Loads the demo data unless the database already holds requests.
pub async fn load(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    if reception_request::Entity::find().count(db).await? > 0 {
        tracing::info!("database already holds requests; demo data not loaded");
        return Ok(());
    }
    let bureau = settings.bureau(BUREAU)?;
    let calendar = bureau.calendar()?;
    let actor = Actor::system("demo");
    let today = uketsuke_domain::today_in_japan();
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).context("today")?;
    let tokyo = Prefecture::from_code(13)?;
    let tokyo_office = office_id(db, "tokyo").await?;

    let txn = db.begin().await?;
    // A few existing codes, so the district suggestion and "taken" numbers show.
    for (district, serial, name, address) in [
        (
            4_i16,
            1000_i16,
            "既存 新宿中央クリニック",
            "東京都新宿区西新宿一丁目1番1号",
        ),
        (4, 1001, "既存 新宿駅前内科", "東京都新宿区新宿三丁目1番1号"),
        (3, 1000, "既存 港みなと病院", "東京都港区芝一丁目1番1号"),
    ] {
        let code = uketsuke_domain::InstitutionCode::build(
            tokyo,
            uketsuke_domain::FeeSchedule::Medical,
            u8::try_from(district)?,
            u16::try_from(serial)?,
            false,
        )?;
        registry_code::ActiveModel {
            prefecture: Set("13".into()),
            fee_schedule: Set("1".into()),
            district: Set(district),
            serial: Set(serial),
            check_digit: Set(i16::from(code.check_digit())),
            code: Set(code.to_string()),
            name: Set(Some(name.into())),
            address: Set(Some(address.into())),
            municipality: Set(uketsuke_rules::numbering::municipality_of(address)),
            source: Set("demo".into()),
            imported_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let council = council_session::ActiveModel {
        bureau_id: Set(BUREAU.into()),
        prefecture: Set("13".into()),
        held_on: Set(this_month - TimeDelta::days(10)),
        name: Set("東京地方社会保険医療協議会".into()),
        notes: Set(Some("デモ".into())),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    let council = council.insert(&txn).await?;
    txn.commit().await?;

    for case in CASES {
        let designation = add_months(this_month, case.months_ahead)?;
        let received = today - TimeDelta::days(case.received_days_ago);
        let deadlines =
            uketsuke_rules::deadlines::deadlines(&calendar, &bureau.deadlines, designation);
        let assessment = eligibility::assess(
            &RequestFacts {
                kinds: vec![case.kind],
                designation,
                received,
                retroactive: false,
                duplicate_of: None,
            },
            &deadlines,
            &settings.eligibility,
        );
        let txn = db.begin().await?;
        let facility = requests::insert_facility(
            &txn,
            &NewFacility {
                bureau_id: BUREAU.into(),
                prefecture: "13".into(),
                name: case.name.into(),
                name_search: uketsuke_domain::search_key(case.name),
                postal_code: Some(case.postal.into()),
                address: case.address.into(),
                municipality: uketsuke_rules::numbering::municipality_of(case.address),
                phone: Some(case.phone.into()),
            },
            &actor,
        )
        .await?;
        let request = reception_request::ActiveModel {
            bureau_id: Set(BUREAU.into()),
            office_id: Set(Some(tokyo_office)),
            facility_id: Set(facility.id),
            kind: Set(case.kind),
            status: Set(case.status),
            designation_date: Set(designation),
            request_date: Set(Some(received - TimeDelta::days(2))),
            received_on: Set(received),
            reply_postal_code: Set(Some(case.postal.into())),
            reply_address: Set(case.address.into()),
            reply_name: Set(format!("{} 開設準備室", case.name)),
            facility_name: Set(case.name.into()),
            facility_postal_code: Set(Some(case.postal.into())),
            facility_address: Set(case.address.into()),
            founder_kind: Set(FounderKind::Person),
            founder_name: Set(Some("厚生 太郎".into())),
            registration_number: Set(Some("医 第123456号".into())),
            contact_name: Set(Some("開設 花子".into())),
            contact_phone: Set(case.phone.into()),
            retroactive: Set(false),
            submission_deadline: Set(deadlines.submission_deadline),
            answer_due: Set(deadlines.answer_due),
            implementing_body_due: Set(deadlines.implementing_body_due),
            decision: Set(Decision::from(assessment.decision)),
            reasons: Set(requests::texts(&assessment.reasons)),
            warnings: Set(requests::texts(&assessment.warnings)),
            returned_on: Set((case.status == CaseStatus::Returned).then_some(today)),
            return_reason: Set(
                (case.status == CaseStatus::Returned).then(|| assessment.reasons.join("\n"))
            ),
            withdrawn_on: Set((case.status == CaseStatus::Withdrawn).then_some(today)),
            answered_on: Set(matches!(
                case.status,
                CaseStatus::Answered | CaseStatus::Designated | CaseStatus::NotDesignated
            )
            .then_some(received + TimeDelta::days(7))),
            council_session_id: Set((case.status == CaseStatus::Designated).then_some(council.id)),
            designated_on: Set((case.status == CaseStatus::Designated).then_some(designation)),
            not_designated_reason: Set((case.status == CaseStatus::NotDesignated)
                .then(|| "開設が延期され、指定申請が行われなかったため".to_owned())),
            ..Default::default()
        };
        let request = requests::insert_request(&txn, request, &actor).await?;
        txn.commit().await?;

        let number_status = match case.status {
            CaseStatus::Proposed => Some(NumberStatus::Proposed),
            CaseStatus::Issued
            | CaseStatus::Answered
            | CaseStatus::Designated
            | CaseStatus::NotDesignated => Some(NumberStatus::Approved),
            _ => None,
        };
        if let Some(number_status) = number_status {
            let district = District {
                prefecture: tokyo,
                fee_schedule: case.kind.fee_schedule(),
                number: issuance::suggest_district(db, tokyo, case.address)
                    .await?
                    .unwrap_or(1),
            };
            let options = IssueOptions {
                request_id: Some(request.id),
                status: number_status,
            };
            issuance::issue(db, district, &settings.numbering, &options, &actor).await?;
        }
    }
    tracing::info!(cases = CASES.len(), "demo data loaded");
    Ok(())
}

async fn office_id(db: &DatabaseConnection, code: &str) -> anyhow::Result<i32> {
    use sea_orm::{ColumnTrait, QueryFilter};
    use uketsuke_store::entities::office;
    let row = office::Entity::find()
        .filter(office::Column::BureauId.eq(BUREAU))
        .filter(office::Column::Code.eq(code))
        .one(db)
        .await?
        .with_context(|| format!("事務所 {code} が設定にありません"))?;
    Ok(row.id)
}

fn add_months(d: NaiveDate, months: i32) -> anyhow::Result<NaiveDate> {
    let m = Months::new(months.unsigned_abs());
    if months >= 0 {
        d.checked_add_months(m)
    } else {
        d.checked_sub_months(m)
    }
    .context("日付の計算が範囲外です")
}
