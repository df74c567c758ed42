//! Mirrors the configured bureaus (地方厚生(支)局) and their offices (事務所・分室) into
//! the database at start-up, so rows elsewhere can refer to them. Offices removed from
//! the configuration are kept (old cases still point at them).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::Result;
use crate::entities::{bureau, office};

/// What the pages and intake need of one bureau's configuration.
#[derive(Debug, Clone)]
pub struct BureauRules {
    pub id: String,
    pub name: String,
    /// Two-digit prefecture codes under its jurisdiction.
    pub prefectures: Vec<String>,
    pub calendar: uketsuke_rules::calendar::Calendar,
    pub deadlines: uketsuke_rules::deadlines::DeadlineConfig,
    /// The columns of its 新規指定医療機関一覧表.
    pub export: uketsuke_export::ListLayout,
    /// 地医協の開催予定日 from its configuration, by prefecture code.
    pub council_dates: std::collections::BTreeMap<String, Vec<chrono::NaiveDate>>,
}

impl BureauRules {
    /// The next planned 地医協 date of each prefecture on or after `today`, soonest
    /// first (prefectures with no date ahead are left out).
    pub fn next_council_dates(&self, today: chrono::NaiveDate) -> Vec<(String, chrono::NaiveDate)> {
        let mut next: Vec<(String, chrono::NaiveDate)> = self
            .council_dates
            .iter()
            .filter_map(|(prefecture, dates)| {
                dates
                    .iter()
                    .filter(|d| **d >= today)
                    .min()
                    .map(|d| (prefecture.clone(), *d))
            })
            .collect();
        next.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        next
    }
}

/// A bureau as configured.
#[derive(Debug, Clone)]
pub struct BureauSeed {
    pub id: String,
    pub name: String,
    pub offices: Vec<OfficeSeed>,
}

/// An office as configured.
#[derive(Debug, Clone)]
pub struct OfficeSeed {
    pub code: String,
    pub name: String,
    /// Two-digit prefecture codes.
    pub prefectures: Vec<String>,
}

/// Inserts or updates every bureau and office, in one transaction.
pub async fn sync(db: &DatabaseConnection, seeds: &[BureauSeed]) -> Result<()> {
    let txn = db.begin().await?;
    let now = Utc::now();
    for seed in seeds {
        match bureau::Entity::find_by_id(seed.id.clone())
            .one(&txn)
            .await?
        {
            Some(existing) => {
                let mut row: bureau::ActiveModel = existing.into();
                row.name = Set(seed.name.clone());
                row.updated_at = Set(now);
                row.update(&txn).await?;
            }
            None => {
                bureau::ActiveModel {
                    id: Set(seed.id.clone()),
                    name: Set(seed.name.clone()),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }

        for o in &seed.offices {
            let existing = office::Entity::find()
                .filter(office::Column::BureauId.eq(&seed.id))
                .filter(office::Column::Code.eq(&o.code))
                .one(&txn)
                .await?;
            let mut row: office::ActiveModel = match existing {
                Some(m) => m.into(),
                None => office::ActiveModel {
                    bureau_id: Set(seed.id.clone()),
                    code: Set(o.code.clone()),
                    ..Default::default()
                },
            };
            row.name = Set(o.name.clone());
            row.prefectures = Set(o.prefectures.join(","));
            row.updated_at = Set(now);
            row.save(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// The id of office `code` of bureau `bureau_id`, if configured.
pub async fn office_id(
    db: &DatabaseConnection,
    bureau_id: &str,
    code: &str,
) -> Result<Option<i32>> {
    Ok(office::Entity::find()
        .filter(office::Column::BureauId.eq(bureau_id))
        .filter(office::Column::Code.eq(code))
        .one(db)
        .await?
        .map(|o| o.id))
}

/// The bureau's offices, by id.
pub async fn offices_of<C: sea_orm::ConnectionTrait>(
    db: &C,
    bureau_id: &str,
) -> Result<Vec<office::Model>> {
    use sea_orm::QueryOrder;
    Ok(office::Entity::find()
        .filter(office::Column::BureauId.eq(bureau_id))
        .order_by_asc(office::Column::Id)
        .all(db)
        .await?)
}

/// The office with this id.
pub async fn find_office<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<Option<office::Model>> {
    Ok(office::Entity::find_by_id(id).one(db).await?)
}
