//! A reception request (受付番号情報提供依頼書, 別紙1): one facility, one kind.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use uketsuke_domain::RequestKind;

use crate::lifecycle::{CaseStatus, Decision, FounderKind, PlanStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "reception_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub bureau_id: String,
    pub office_id: Option<i32>,
    pub facility_id: i32,
    pub kind: RequestKind,
    pub sibling_id: Option<i32>,
    pub status: CaseStatus,
    pub designation_date: Date,
    pub request_date: Option<Date>,
    pub received_on: Date,
    pub reply_postal_code: Option<String>,
    pub reply_address: String,
    pub reply_name: String,
    pub facility_name: String,
    pub facility_postal_code: Option<String>,
    pub facility_address: String,
    pub founder_kind: FounderKind,
    pub founder_name: Option<String>,
    pub corporation_name: Option<String>,
    pub representative_title: Option<String>,
    pub representative_name: Option<String>,
    pub registration_number: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: String,
    pub retroactive: bool,
    pub submission_deadline: Date,
    pub answer_due: Date,
    pub answer_due_override: Option<Date>,
    pub answer_due_override_reason: Option<String>,
    pub implementing_body_due: Date,
    pub decision: Decision,
    pub reasons: Json,
    pub warnings: Json,
    pub answered_on: Option<Date>,
    pub returned_on: Option<Date>,
    pub return_reason: Option<String>,
    pub withdrawn_on: Option<Date>,
    pub council_session_id: Option<i32>,
    /// The list to the 実施機関 this approval went out in (none yet: still to send).
    pub council_list_id: Option<i32>,
    /// When 8. 未指定 was entered in the 保険医療機関等管理システム (反映), and by whom.
    pub reflected_at: Option<DateTimeUtc>,
    pub reflected_by: Option<i32>,
    pub designated_on: Option<Date>,
    pub not_designated_reason: Option<String>,
    /// Why the case was last corrected (訂正の理由).
    pub correction_reason: Option<String>,
    /// 取下げの理由 (as the case page asked for it).
    pub withdraw_reason: Option<String>,
    /// 導入計画書 (別紙2): where the latest submission stands.
    pub plan_status: PlanStatus,
    /// 経過措置 届出: the day it was filed; the case needs no plan while set.
    pub transitional_filed_on: Option<Date>,
    pub created_by: Option<i32>,
    pub lock_version: i32,
    /// SHA-256 of the facility's folded name and address: one live request per
    /// (bureau, kind, designation date, key) — see migration 8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
