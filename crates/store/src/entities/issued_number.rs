//! A number issued (交付した受付番号): proposed, approved or void; never deleted.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::lifecycle::NumberStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "issued_numbers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub request_id: Option<i32>,
    pub prefecture: String,
    pub fee_schedule: String,
    pub district: i16,
    pub serial: i16,
    pub check_digit: i16,
    #[sea_orm(unique)]
    pub code: String,
    pub combined_dental: bool,
    pub status: NumberStatus,
    pub proposed_by: Option<i32>,
    pub approved_by: Option<i32>,
    pub approved_at: Option<DateTimeUtc>,
    pub voided_at: Option<DateTimeUtc>,
    pub void_reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// The date of the latest published list (名簿・コード内容別医療機関一覧表) that holds
    /// this number: proof that the facility was designated (指定確認).
    pub designation_confirmed_on: Option<Date>,
    /// The file that list was imported from.
    pub designation_confirmed_source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
