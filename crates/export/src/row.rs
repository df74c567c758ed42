//! [`ListRow`]: one approved facility as the list shows it, and [`Value`], what a
//! column reads from a row. Both writers ([`crate::list`], [`crate::csv`]) go
//! through [`ListRow::value`], so the xlsx and the CSV always agree.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uketsuke_domain::{InstitutionCode, Prefecture, RequestKind};

use crate::layout::Column;

/// One facility on the 「新規指定医療機関一覧表」. Codes are text: leading zeros
/// are part of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// 都道府県.
    pub prefecture: Prefecture,
    /// 区分: 医科・歯科・薬局.
    pub kind: RequestKind,
    /// 医療機関等コード (10 digits).
    pub institution_code: InstitutionCode,
    /// 受付番号 as answered (normally the same 10 digits as the code).
    pub reception_number: String,
    /// 医療機関番号: the 7-digit 医療機関コード (`0110750`), kept as text.
    pub medical_code: String,
    /// 併設医療機関番号: the other number of a 医科歯科併設 facility.
    pub combined_code: Option<String>,
    /// 医療機関名称.
    pub facility_name: String,
    /// 郵便番号 (`680-0862`).
    pub postal_code: Option<String>,
    /// 所在地.
    pub address: String,
    /// 電話番号.
    pub phone: Option<String>,
    /// 開設者 (a person, or 法人名 and its representative).
    pub founder: String,
    /// 指定年月日.
    pub designation_date: NaiveDate,
    /// 答申日: the date of the 地医協's recommendation.
    pub council_date: Option<NaiveDate>,
    /// 備考.
    pub note: Option<String>,
}

/// What one cell of the list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// Text, written as text even when it is all digits.
    Text(Cow<'a, str>),
    /// A whole number (項番).
    Number(u32),
    /// A date.
    Date(NaiveDate),
    /// Nothing.
    Empty,
}

impl<'a> Value<'a> {
    fn text(s: &'a str) -> Self {
        Value::Text(Cow::Borrowed(s))
    }

    fn optional_text(s: Option<&'a str>) -> Self {
        match s {
            Some(s) if !s.is_empty() => Value::text(s),
            _ => Value::Empty,
        }
    }
}

impl ListRow {
    /// The value `column` shows for this row; `item_no` is its 1-based position.
    pub fn value(&self, column: Column, item_no: u32) -> Value<'_> {
        match column {
            Column::ItemNo => Value::Number(item_no),
            Column::PrefectureCode => Value::Text(Cow::Owned(self.prefecture.code_str())),
            Column::PrefectureName => Value::text(self.prefecture.name()),
            Column::Kind => Value::text(self.kind.label()),
            Column::InstitutionCode => Value::text(self.institution_code.as_str()),
            Column::ReceptionNumber => Value::text(&self.reception_number),
            Column::MedicalCode => Value::text(&self.medical_code),
            Column::CombinedCode => Value::optional_text(self.combined_code.as_deref()),
            Column::FacilityName => Value::text(&self.facility_name),
            Column::PostalCode => Value::optional_text(self.postal_code.as_deref()),
            Column::Address => Value::text(&self.address),
            Column::Phone => Value::optional_text(self.phone.as_deref()),
            Column::Founder => Value::text(&self.founder),
            Column::DesignationDate => Value::Date(self.designation_date),
            Column::CouncilDate => self.council_date.map_or(Value::Empty, Value::Date),
            Column::Note => Value::optional_text(self.note.as_deref()),
        }
    }
}
