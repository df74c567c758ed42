//! The registry of existing codes (既存コード台帳): what the bureaus' published lists
//! say is taken. Importing is one transaction — a file goes in whole or not at all — and
//! idempotent: a code already present is left as it is, so importing the same file
//! again adds nothing.
//!
//! Reconciliation (公表名簿との照合): a list imported with its date ([`import_list`])
//! also marks each of our approved numbers found in it as confirmed (指定確認,
//! `designation_confirmed_on` = the list's date; a later list moves the date forward,
//! never back), and records which prefectures and 点数表 the list covers, so that
//! [`unconfirmed`] can name the numbers whose 指定年月日 has passed and that the latest
//! list of their prefecture and 点数表 does not hold — candidates for 「8. 未指定」.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use uketsuke_domain::{InstitutionCode, RequestKind};

use crate::entities::{issued_number, office, reception_request, registry_list};
use crate::lifecycle::{CaseStatus, NumberStatus, Scope};

use crate::Result;
use crate::audit::{self, Actor};
use crate::entities::registry_code;

/// One existing facility's code, as a list gives it.
#[derive(Debug, Clone)]
pub struct NewRegistryEntry {
    pub code: InstitutionCode,
    pub name: Option<String>,
    pub address: Option<String>,
    pub municipality: Option<String>,
    /// The same facility's code of the other kind (併設医療機関番号).
    pub combined: Option<InstitutionCode>,
}

impl NewRegistryEntry {
    /// The entries a list's entry stands for: its own code and, when the list names
    /// one, its 併設 code of the other kind — taken as well, each linked to the other.
    pub fn with_combined(self) -> Vec<Self> {
        match self.combined.clone() {
            Some(other) => vec![
                Self {
                    code: other,
                    combined: Some(self.code.clone()),
                    ..self.clone()
                },
                self,
            ],
            None => vec![self],
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// Codes new to the registry.
    pub added: u64,
    /// Codes it already held.
    pub already_present: u64,
}

/// Adds `entries` from `source` (e.g. the file name) in one transaction.
pub async fn import(
    db: &DatabaseConnection,
    source: &str,
    entries: &[NewRegistryEntry],
    actor: &Actor,
) -> Result<ImportCounts> {
    let txn = db.begin().await?;
    let counts = import_in(&txn, source, entries, actor).await?;
    txn.commit().await?;
    Ok(counts)
}

/// [`import`] inside the caller's transaction. A 併設 link that a list gives for a code
/// already present without one is added to it.
async fn import_in<C: ConnectionTrait>(
    txn: &C,
    source: &str,
    entries: &[NewRegistryEntry],
    actor: &Actor,
) -> Result<ImportCounts> {
    let before = registry_code::Entity::find().count(txn).await?;
    let now = Utc::now();
    for chunk in entries.chunks(500) {
        let rows = chunk.iter().map(|e| registry_code::ActiveModel {
            prefecture: Set(e.code.prefecture().code_str()),
            fee_schedule: Set(e.code.fee_schedule().digit().to_string()),
            district: Set(i16::from(e.code.district())),
            serial: Set(i16::try_from(e.code.serial()).unwrap_or(i16::MAX)),
            check_digit: Set(i16::from(e.code.check_digit())),
            code: Set(e.code.to_string()),
            name: Set(e.name.clone()),
            address: Set(e.address.clone()),
            municipality: Set(e.municipality.clone()),
            combined_code: Set(e.combined.as_ref().map(ToString::to_string)),
            source: Set(source.to_owned()),
            imported_at: Set(now),
            ..Default::default()
        });
        registry_code::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    registry_code::Column::Prefecture,
                    registry_code::Column::FeeSchedule,
                    registry_code::Column::District,
                    registry_code::Column::Serial,
                ])
                .do_nothing()
                .to_owned(),
            )
            .try_insert()
            .exec(txn)
            .await?;
    }
    for e in entries {
        if let Some(other) = &e.combined {
            registry_code::Entity::update_many()
                .col_expr(
                    registry_code::Column::CombinedCode,
                    Expr::value(Some(other.to_string())),
                )
                .filter(registry_code::Column::Code.eq(e.code.to_string()))
                .filter(registry_code::Column::CombinedCode.is_null())
                .exec(txn)
                .await?;
        }
    }
    let after = registry_code::Entity::find().count(txn).await?;
    let added = after - before;
    let counts = ImportCounts {
        added,
        already_present: entries.len() as u64 - added,
    };
    audit::record(
        txn,
        actor,
        "registry.import",
        "registry_code",
        source,
        None,
        Some(serde_json::json!({ "source": source, "entries": entries.len(), "added": counts.added })),
    )
    .await?;
    Ok(counts)
}

/// What reconciling a list did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    /// Our numbers found in the list and marked confirmed with its date (or moved to it
    /// from an earlier list's).
    pub confirmed: u64,
    /// Our numbers found in the list that were already confirmed with this date or a
    /// later one.
    pub already_confirmed: u64,
    /// The (prefecture, 点数表) the list covers, newly recorded.
    pub lists: u64,
}

/// Imports a published list dated `as_of` in one transaction: its codes and their 併設
/// codes into the registry ([`import`]), and the reconciliation — the (prefecture,
/// 点数表) the list covers (`listed`: the list's own codes) recorded with its date, and
/// each approved number of ours among `listed` marked confirmed with `as_of` (audited
/// per number, from the earlier date if any). Importing the same list again changes
/// nothing; a later list moves the date forward, an earlier one never back.
pub async fn import_list(
    db: &DatabaseConnection,
    source: &str,
    as_of: NaiveDate,
    entries: &[NewRegistryEntry],
    listed: &[InstitutionCode],
    actor: &Actor,
) -> Result<(ImportCounts, Reconciled)> {
    crate::issuance::retrying(|| async {
        let txn = db.begin().await?;
        let counts = import_in(&txn, source, entries, actor).await?;
        let reconciled = reconcile_in(&txn, source, as_of, listed, actor).await?;
        txn.commit().await?;
        Ok((counts, reconciled))
    })
    .await
}

async fn reconcile_in<C: ConnectionTrait>(
    txn: &C,
    source: &str,
    as_of: NaiveDate,
    listed: &[InstitutionCode],
    actor: &Actor,
) -> Result<Reconciled> {
    let mut reconciled = Reconciled::default();
    let mut coverage: BTreeMap<(String, String), i32> = BTreeMap::new();
    for code in listed {
        *coverage
            .entry((
                code.prefecture().code_str(),
                code.fee_schedule().digit().to_string(),
            ))
            .or_default() += 1;
    }
    let now = Utc::now();
    for ((prefecture, fee_schedule), entries) in &coverage {
        let result = registry_list::Entity::insert(registry_list::ActiveModel {
            source: Set(source.to_owned()),
            prefecture: Set(prefecture.clone()),
            fee_schedule: Set(fee_schedule.clone()),
            as_of: Set(as_of),
            entries: Set(*entries),
            imported_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                registry_list::Column::Prefecture,
                registry_list::Column::FeeSchedule,
                registry_list::Column::AsOf,
                registry_list::Column::Source,
            ])
            .do_nothing()
            .to_owned(),
        )
        .try_insert()
        .exec(txn)
        .await?;
        if matches!(result, sea_orm::TryInsertResult::Inserted(_)) {
            reconciled.lists += 1;
        }
    }
    let codes: Vec<String> = listed.iter().map(ToString::to_string).collect();
    for chunk in codes.chunks(500) {
        let found = issued_number::Entity::find()
            .filter(issued_number::Column::Code.is_in(chunk.iter().cloned()))
            .filter(issued_number::Column::Status.eq(NumberStatus::Approved))
            .all(txn)
            .await?;
        for number in found {
            if number.designation_confirmed_on.is_some_and(|d| d >= as_of) {
                reconciled.already_confirmed += 1;
                continue;
            }
            // Guarded: a concurrent import of a later list is not moved back.
            let moved = issued_number::Entity::update_many()
                .col_expr(
                    issued_number::Column::DesignationConfirmedOn,
                    Expr::value(Some(as_of)),
                )
                .col_expr(
                    issued_number::Column::DesignationConfirmedSource,
                    Expr::value(Some(source.to_owned())),
                )
                .filter(issued_number::Column::Id.eq(number.id))
                .filter(
                    sea_orm::Condition::any()
                        .add(issued_number::Column::DesignationConfirmedOn.is_null())
                        .add(issued_number::Column::DesignationConfirmedOn.lt(as_of)),
                )
                .exec(txn)
                .await?
                .rows_affected;
            if moved == 0 {
                reconciled.already_confirmed += 1;
                continue;
            }
            reconciled.confirmed += 1;
            audit::record(
                txn,
                actor,
                "number.designation_confirmed",
                "issued_number",
                number.id,
                Some(serde_json::json!({
                    "code": number.code,
                    "designation_confirmed_on": number.designation_confirmed_on,
                    "designation_confirmed_source": number.designation_confirmed_source,
                })),
                Some(serde_json::json!({
                    "code": number.code,
                    "designation_confirmed_on": as_of,
                    "designation_confirmed_source": source,
                })),
            )
            .await?;
        }
    }
    Ok(reconciled)
}

/// A number of ours that the latest published list does not hold although its
/// 指定年月日 has passed (a candidate for 「8. 未指定」).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unconfirmed {
    pub request_id: i32,
    pub code: String,
    pub facility_name: String,
    pub kind: RequestKind,
    pub status: CaseStatus,
    pub designation_date: NaiveDate,
    pub office: Option<String>,
    /// The latest list of the number's prefecture and 点数表 (the one it is absent from).
    pub latest_list_on: NaiveDate,
    pub latest_list_source: String,
    /// An earlier list's date, if one held the number.
    pub designation_confirmed_on: Option<NaiveDate>,
}

/// The approved numbers of cases in `scope` (with a number in force: 番号交付済, 回答済,
/// 指定済) whose 指定年月日 is before `today` and on or before the date of the latest
/// imported list of their prefecture and 点数表, and that this list does not hold (never
/// confirmed, or confirmed only by an earlier list). A number whose prefecture and
/// 点数表 no list covers yet is not named: nothing can be said of it. Earliest 指定年月日
/// first.
pub async fn unconfirmed<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<Unconfirmed>> {
    let mut latest: HashMap<(String, String), (NaiveDate, String)> = HashMap::new();
    for list in registry_list::Entity::find()
        .order_by_asc(registry_list::Column::AsOf)
        .order_by_asc(registry_list::Column::Id)
        .all(db)
        .await?
    {
        latest.insert(
            (list.prefecture, list.fee_schedule),
            (list.as_of, list.source),
        );
    }
    if latest.is_empty() {
        return Ok(Vec::new());
    }
    let cases = reception_request::Entity::find()
        .filter(scope.condition())
        .filter(reception_request::Column::Status.is_in([
            CaseStatus::Issued,
            CaseStatus::Answered,
            CaseStatus::Designated,
        ]))
        .filter(reception_request::Column::DesignationDate.lt(today))
        .order_by_asc(reception_request::Column::DesignationDate)
        .order_by_asc(reception_request::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i32> = cases.iter().map(|c| c.id).collect();
    let numbers = crate::views::numbers_by_case(db, &ids).await?;
    let offices: HashMap<i32, String> = office::Entity::find()
        .filter(office::Column::BureauId.eq(scope.bureau_id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut out = Vec::new();
    for case in cases {
        for number in numbers.get(&case.id).into_iter().flatten() {
            if number.status != NumberStatus::Approved {
                continue;
            }
            let key = (number.prefecture.clone(), number.fee_schedule.clone());
            let Some((list_on, list_source)) = latest.get(&key) else {
                continue;
            };
            let held = number
                .designation_confirmed_on
                .is_some_and(|d| d >= *list_on);
            if case.designation_date > *list_on || held {
                continue;
            }
            out.push(Unconfirmed {
                request_id: case.id,
                code: number.code.clone(),
                facility_name: case.facility_name.clone(),
                kind: case.kind,
                status: case.status,
                designation_date: case.designation_date,
                office: case.office_id.and_then(|o| offices.get(&o).cloned()),
                latest_list_on: *list_on,
                latest_list_source: list_source.clone(),
                designation_confirmed_on: number.designation_confirmed_on,
            });
        }
    }
    Ok(out)
}

/// The latest imported list of each prefecture and 点数表 among `prefectures` (two-digit
/// codes), by prefecture then 点数表.
pub async fn latest_lists<C: ConnectionTrait>(
    db: &C,
    prefectures: &[String],
) -> Result<Vec<registry_list::Model>> {
    let mut latest: BTreeMap<(String, String), registry_list::Model> = BTreeMap::new();
    for list in registry_list::Entity::find()
        .filter(registry_list::Column::Prefecture.is_in(prefectures.iter().cloned()))
        .order_by_asc(registry_list::Column::AsOf)
        .order_by_asc(registry_list::Column::Id)
        .all(db)
        .await?
    {
        latest.insert((list.prefecture.clone(), list.fee_schedule.clone()), list);
    }
    Ok(latest.into_values().collect())
}
