//! The scanned paper request of a case (PDF, PNG or JPEG), one row per version: `seq` 1
//! is the first file, a replacement the next number; the older versions are kept.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "case_attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub request_id: i32,
    /// The version within the case, from 1 (unique per case).
    pub seq: i32,
    pub file_name: String,
    /// `application/pdf`, `image/png` or `image/jpeg`, from the file's first bytes.
    pub content_type: String,
    pub size_bytes: i64,
    #[serde(skip)]
    pub data: Vec<u8>,
    pub uploaded_by_user_id: Option<i32>,
    pub uploaded_by: String,
    pub uploaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
