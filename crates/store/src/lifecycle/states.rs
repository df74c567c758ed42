//! The typed states of a case and its numbers, stored through sea-orm's `ActiveEnum`
//! as the same short English strings as before.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// 案件の状態: where a case (one 依頼書) stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 受付済: entered and checked, awaiting a number.
    #[sea_orm(string_value = "received")]
    Received,
    /// 番号起案中: a clerk proposed a number; awaiting approval (決裁).
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// 番号交付済: the number is approved; the answer is not yet sent.
    #[sea_orm(string_value = "issued")]
    Issued,
    /// 回答済: the answer (回答書) was sent.
    #[sea_orm(string_value = "answered")]
    Answered,
    /// 指定済: the council recommended designation (答申).
    #[sea_orm(string_value = "designated")]
    Designated,
    /// 8. 未指定: got a number but was not designated.
    #[sea_orm(string_value = "not_designated")]
    NotDesignated,
    /// 返戻: returned to the facility with reasons.
    #[sea_orm(string_value = "returned")]
    Returned,
    /// 取下げ: withdrawn by the facility.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

impl CaseStatus {
    /// Every status, in the order a case moves.
    pub const ALL: [CaseStatus; 8] = [
        CaseStatus::Received,
        CaseStatus::Proposed,
        CaseStatus::Issued,
        CaseStatus::Answered,
        CaseStatus::Designated,
        CaseStatus::NotDesignated,
        CaseStatus::Returned,
        CaseStatus::Withdrawn,
    ];

    /// A case that still owes the facility an answer (回答待ち): counted against the
    /// 回答期限 on the dashboard, in the list and by the digest job.
    pub const AWAITING_ANSWER: [CaseStatus; 3] = [
        CaseStatus::Received,
        CaseStatus::Proposed,
        CaseStatus::Issued,
    ];

    /// A case whose number is final and that awaits the council (答申待ち).
    pub const AWAITING_COUNCIL: [CaseStatus; 2] = [CaseStatus::Issued, CaseStatus::Answered];

    /// A case that has ended without a number in use (返戻・取下げ).
    pub const CLOSED_WITHOUT_NUMBER: [CaseStatus; 2] =
        [CaseStatus::Returned, CaseStatus::Withdrawn];

    /// The stored and API id (`received`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::Proposed => "proposed",
            CaseStatus::Issued => "issued",
            CaseStatus::Answered => "answered",
            CaseStatus::Designated => "designated",
            CaseStatus::NotDesignated => "not_designated",
            CaseStatus::Returned => "returned",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    /// The label staff read.
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Received => "受付済",
            CaseStatus::Proposed => "番号起案中",
            CaseStatus::Issued => "番号交付済",
            CaseStatus::Answered => "回答済",
            CaseStatus::Designated => "指定済",
            CaseStatus::NotDesignated => "8. 未指定",
            CaseStatus::Returned => "返戻",
            CaseStatus::Withdrawn => "取下げ",
        }
    }

    /// Reads an id (`received`, …); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// 受付番号の状態: a number is proposed (起案), approved (決裁済) or void (無効).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum NumberStatus {
    /// 起案中: proposed by a clerk, awaiting approval.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// 決裁済: final.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// 無効: kept so that the number is never given again.
    #[sea_orm(string_value = "void")]
    Void,
}

impl NumberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberStatus::Proposed => "proposed",
            NumberStatus::Approved => "approved",
            NumberStatus::Void => "void",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NumberStatus::Proposed => "起案中",
            NumberStatus::Approved => "決裁済",
            NumberStatus::Void => "無効",
        }
    }

    /// A number still in use (起案中 or 決裁済).
    pub fn is_live(self) -> bool {
        self != NumberStatus::Void
    }
}

/// 判定: what the rules say of a request at entry.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 受付可: a number may be issued.
    #[sea_orm(string_value = "accept")]
    Accept,
    /// 返戻相当: a rule says return it.
    #[sea_orm(string_value = "return")]
    Return,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Return => "return",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Accept => "受付可（受付番号を交付できる）",
            Decision::Return => "返戻相当（返戻の理由あり）",
        }
    }
}

impl From<uketsuke_rules::eligibility::Decision> for Decision {
    fn from(d: uketsuke_rules::eligibility::Decision) -> Self {
        match d {
            uketsuke_rules::eligibility::Decision::Accept => Decision::Accept,
            uketsuke_rules::eligibility::Decision::Return => Decision::Return,
        }
    }
}

/// 開設者の区分: a person, or a 法人 with its representative.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum FounderKind {
    /// 個人
    #[sea_orm(string_value = "person")]
    Person,
    /// 法人
    #[sea_orm(string_value = "corporation")]
    Corporation,
}

impl FounderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FounderKind::Person => "person",
            FounderKind::Corporation => "corporation",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FounderKind::Person => "個人",
            FounderKind::Corporation => "法人",
        }
    }
}

/// 計画書 (「オンライン資格確認の導入計画書」, 別紙2) of a case, as stored. What the pages
/// show is [`plan_label`]: a case marked 経過措置 shows that instead.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// 未提出
    #[sea_orm(string_value = "none")]
    None,
    /// 不備あり: the latest plan has findings (補正を求める).
    #[sea_orm(string_value = "deficient")]
    Deficient,
    /// 確認待ち: the latest plan has no findings and awaits a clerk's 確認済.
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// 確認済
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::None => "none",
            PlanStatus::Deficient => "deficient",
            PlanStatus::Submitted => "submitted",
            PlanStatus::Confirmed => "confirmed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::None => "未提出",
            PlanStatus::Deficient => "不備あり",
            PlanStatus::Submitted => "確認待ち",
            PlanStatus::Confirmed => "確認済",
        }
    }
}

/// The plan status a case shows, as (API id, label): 経過措置 (`transitional`) when the
/// 経過措置 届出 is recorded, else the stored status.
pub fn plan_label(status: PlanStatus, transitional: bool) -> (&'static str, &'static str) {
    if transitional {
        ("transitional", "経過措置")
    } else {
        (status.as_str(), status.label())
    }
}
