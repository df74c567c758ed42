//! The registry of existing codes (既存コード台帳): what the bureaus' published lists
//! say is taken. Importing is one transaction — a file goes in whole or not at all — and
//! idempotent: a code already present is left as it is, so importing the same file
//! again adds nothing.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, Set, TransactionTrait};
use uketsuke_domain::InstitutionCode;

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
    let before = registry_code::Entity::find().count(&txn).await?;
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
            .exec(&txn)
            .await?;
    }
    let after = registry_code::Entity::find().count(&txn).await?;
    let added = after - before;
    let counts = ImportCounts {
        added,
        already_present: entries.len() as u64 - added,
    };
    audit::record(
        &txn,
        actor,
        "registry.import",
        "registry_code",
        source,
        None,
        Some(serde_json::json!({ "source": source, "entries": entries.len(), "added": counts.added })),
    )
    .await?;
    txn.commit().await?;
    Ok(counts)
}
