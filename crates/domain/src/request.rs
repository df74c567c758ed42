//! A 受付番号情報提供依頼 (the request of 別紙1) as read from a form, a list row or the
//! entry page: one facility, one kind. The readers (ingest), the entry page (web) and
//! intake (store) all use this one type.

use crate::{PhoneNumber, PostalCode, RequestKind};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value as Json, json};

/// The 開設者 (opener) of the facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Founder {
    /// A person: 保険医 or 保険薬剤師, or another individual.
    Person { name: String },
    /// A 法人 (or a local government, …) with its representative (代表者の職・氏名).
    Corporation {
        name: String,
        representative_title: Option<String>,
        representative_name: Option<String>,
    },
}

impl Founder {
    /// The person's name, or `法人名 代表者の職 氏名` joined by spaces.
    pub fn display_name(&self) -> String {
        match self {
            Founder::Person { name } => name.clone(),
            Founder::Corporation {
                name,
                representative_title,
                representative_name,
            } => [
                Some(name.as_str()),
                representative_title.as_deref(),
                representative_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        }
    }
}

/// One 別紙1 「受付番号情報提供依頼書兼回答書」: one facility and one kind.
///
/// Text fields are normalised (全角 ASCII half-width, whitespace runs one space);
/// the answer half of the form (受付番号, 回答日) is never read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestForm {
    pub kind: RequestKind,
    /// 名称
    pub facility_name: String,
    /// 所在地の郵便番号
    pub facility_postal_code: Option<PostalCode>,
    /// 所在地 (without the postal code)
    pub facility_address: String,
    /// 指定希望日（予定）
    pub designation_date: NaiveDate,
    /// The date under 「上記のとおり依頼します。」
    pub request_date: Option<NaiveDate>,
    /// The bureau addressed (「関東信越厚生局 御中」 → `関東信越厚生局`); `None` when
    /// left as the printed 〇〇.
    pub addressed_bureau: Option<String>,
    /// 開設者
    pub founder: Founder,
    /// 保険医又は保険薬剤師の登録の記号及び番号 (only when the opener is one).
    pub founder_registration: Option<String>,
    /// 担当者の連絡先（電話番号）
    pub contact_phone: PhoneNumber,
    /// 回答書の送付先: 〒
    pub reply_postal_code: Option<PostalCode>,
    /// 回答書の送付先: 住所
    pub reply_address: Option<String>,
    /// 回答書の送付先: 氏名 (without 様)
    pub reply_name: Option<String>,
}

impl RequestForm {
    /// The 開設者 as one string: the person's name, or `法人名 代表者の職 氏名`.
    pub fn founder_name(&self) -> String {
        self.founder.display_name()
    }

    /// The request as the CLI's `--json` prints it (issue 4): exactly the keys
    /// `kind` (`medical`/`dental`/`pharmacy`), `facility_name`,
    /// `facility_postal_code` (`123-4567`), `facility_address`, `designation_date`
    /// and `request_date` (`YYYY-MM-DD`), `founder_name`, `founder_registration`,
    /// `contact_phone`, `reply_postal_code`, `reply_address`, `reply_name`; a value
    /// left blank is `null`.
    pub fn to_json(&self) -> Json {
        let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        json!({
            "kind": self.kind.as_str(),
            "facility_name": self.facility_name,
            "facility_postal_code": self.facility_postal_code.as_ref().map(ToString::to_string),
            "facility_address": self.facility_address,
            "designation_date": date(self.designation_date),
            "request_date": self.request_date.map(date),
            "founder_name": self.founder_name(),
            "founder_registration": self.founder_registration,
            "contact_phone": self.contact_phone.to_string(),
            "reply_postal_code": self.reply_postal_code.as_ref().map(ToString::to_string),
            "reply_address": self.reply_address,
            "reply_name": self.reply_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> RequestForm {
        RequestForm {
            kind: RequestKind::Medical,
            facility_name: "オン資クリニック".into(),
            facility_postal_code: PostalCode::parse("123-4567").ok(),
            facility_address: "東京都千代田区霞が関1-2-2".into(),
            designation_date: NaiveDate::from_ymd_opt(2024, 4, 1).unwrap_or_default(),
            request_date: None,
            addressed_bureau: None,
            founder: Founder::Corporation {
                name: "医療法人社団オン資会".into(),
                representative_title: Some("理事長".into()),
                representative_name: Some("資格 花子".into()),
            },
            founder_registration: None,
            contact_phone: PhoneNumber::parse("03-1234-5678").expect("phone"),
            reply_postal_code: None,
            reply_address: None,
            reply_name: None,
        }
    }

    #[test]
    fn the_json_has_exactly_the_keys_of_the_cli_with_nulls_for_blanks() {
        let v = example().to_json();
        let keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "kind",
                "facility_name",
                "facility_postal_code",
                "facility_address",
                "designation_date",
                "request_date",
                "founder_name",
                "founder_registration",
                "contact_phone",
                "reply_postal_code",
                "reply_address",
                "reply_name"
            ]
        );
        assert_eq!(v["kind"], "medical");
        assert_eq!(v["facility_postal_code"], "123-4567");
        assert_eq!(v["designation_date"], "2024-04-01");
        assert_eq!(v["request_date"], Json::Null);
        assert_eq!(v["founder_name"], "医療法人社団オン資会 理事長 資格 花子");
        assert_eq!(v["contact_phone"], "03-1234-5678");
    }
}
