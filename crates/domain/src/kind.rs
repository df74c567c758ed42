//! Kinds: the 点数表 digit of a code and the kind of facility a request is for
//! (医科・歯科・薬局).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::width::to_halfwidth_ascii;

/// A 点数表 (fee schedule): the 3rd digit of a 医療機関等コード.
///
/// Serialised as its digit string (`"1"`); displayed as its name (`医科`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeeSchedule {
    /// 医科 (1)
    Medical,
    /// 歯科 (3)
    Dental,
    /// 調剤 (4): 保険薬局
    Pharmacy,
    /// 訪問看護 (6): 指定訪問看護ステーション
    VisitingNursing,
}

impl FeeSchedule {
    /// All four, in digit order.
    pub const ALL: [FeeSchedule; 4] = [
        FeeSchedule::Medical,
        FeeSchedule::Dental,
        FeeSchedule::Pharmacy,
        FeeSchedule::VisitingNursing,
    ];

    /// The 点数表コード: 1, 3, 4 or 6.
    pub fn digit(self) -> u8 {
        match self {
            FeeSchedule::Medical => 1,
            FeeSchedule::Dental => 3,
            FeeSchedule::Pharmacy => 4,
            FeeSchedule::VisitingNursing => 6,
        }
    }

    /// The fee schedule with 点数表コード `digit`.
    pub fn from_digit(digit: u8) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.digit() == digit)
            .ok_or_else(|| Error::FeeSchedule {
                input: digit.to_string(),
            })
    }

    /// The name: `医科`, `歯科`, `調剤`, `訪問看護`.
    pub fn name(self) -> &'static str {
        match self {
            FeeSchedule::Medical => "医科",
            FeeSchedule::Dental => "歯科",
            FeeSchedule::Pharmacy => "調剤",
            FeeSchedule::VisitingNursing => "訪問看護",
        }
    }

    /// Reads a digit (`1`, `１`) or a name (`医科`; `薬局` also means 調剤).
    pub fn parse(input: &str) -> Result<Self> {
        let s = to_halfwidth_ascii(input);
        let s = s.trim();
        let found = match s {
            "1" | "医科" => Some(FeeSchedule::Medical),
            "3" | "歯科" => Some(FeeSchedule::Dental),
            "4" | "調剤" | "薬局" => Some(FeeSchedule::Pharmacy),
            "6" | "訪問看護" => Some(FeeSchedule::VisitingNursing),
            _ => None,
        };
        found.ok_or_else(|| Error::FeeSchedule {
            input: input.to_owned(),
        })
    }
}

impl fmt::Display for FeeSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeeSchedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for FeeSchedule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.digit().to_string())
    }
}

impl<'de> Deserialize<'de> for FeeSchedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "sea-orm")]
use sea_orm::sea_query::StringLen;

/// 依頼の種別: the kind marked on a 受付番号情報提供依頼書 (exactly one per form).
///
/// Serialised as its English id (`"pharmacy"`); displayed as its label (`薬局`).
/// With the `sea-orm` feature it is also a column type, stored as its English id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum),
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// 医科
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "medical"))]
    Medical,
    /// 歯科
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "dental"))]
    Dental,
    /// 薬局
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pharmacy"))]
    Pharmacy,
}

impl RequestKind {
    /// All three, in form order.
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Medical,
        RequestKind::Dental,
        RequestKind::Pharmacy,
    ];

    /// The 点数表 of the number issued for this kind (薬局 → 調剤 4).
    pub fn fee_schedule(self) -> FeeSchedule {
        match self {
            RequestKind::Medical => FeeSchedule::Medical,
            RequestKind::Dental => FeeSchedule::Dental,
            RequestKind::Pharmacy => FeeSchedule::Pharmacy,
        }
    }

    /// The label printed on the form: `医科`, `歯科`, `薬局`.
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Medical => "医科",
            RequestKind::Dental => "歯科",
            RequestKind::Pharmacy => "薬局",
        }
    }

    /// The English id: `medical`, `dental`, `pharmacy`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Medical => "medical",
            RequestKind::Dental => "dental",
            RequestKind::Pharmacy => "pharmacy",
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for RequestKind {
    type Err = Error;

    /// Accepts the English id (any case) or the Japanese label; `調剤` means 薬局.
    fn from_str(input: &str) -> Result<Self> {
        let s = to_halfwidth_ascii(input);
        let s = s.trim();
        let found = match s.to_ascii_lowercase().as_str() {
            "medical" | "医科" => Some(RequestKind::Medical),
            "dental" | "歯科" => Some(RequestKind::Dental),
            "pharmacy" | "薬局" | "調剤" => Some(RequestKind::Pharmacy),
            _ => None,
        };
        found.ok_or_else(|| Error::RequestKind {
            input: input.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_schedule_digits_round_trip() {
        for f in FeeSchedule::ALL {
            assert_eq!(FeeSchedule::from_digit(f.digit()), Ok(f));
            assert_eq!(FeeSchedule::parse(&f.digit().to_string()), Ok(f));
            assert_eq!(FeeSchedule::parse(f.name()), Ok(f));
        }
        assert_eq!(FeeSchedule::Medical.digit(), 1);
        assert_eq!(FeeSchedule::Dental.digit(), 3);
        assert_eq!(FeeSchedule::Pharmacy.digit(), 4);
        assert_eq!(FeeSchedule::VisitingNursing.digit(), 6);
    }

    #[test]
    fn fee_schedule_parse_accepts_fullwidth_digits_and_names() {
        assert_eq!(FeeSchedule::parse("１"), Ok(FeeSchedule::Medical));
        assert_eq!(FeeSchedule::parse("医科"), Ok(FeeSchedule::Medical));
        assert_eq!(FeeSchedule::parse("歯科"), Ok(FeeSchedule::Dental));
        assert_eq!(FeeSchedule::parse("調剤"), Ok(FeeSchedule::Pharmacy));
        assert_eq!(FeeSchedule::parse("薬局"), Ok(FeeSchedule::Pharmacy));
        assert_eq!(FeeSchedule::parse("６"), Ok(FeeSchedule::VisitingNursing));
        assert_eq!(
            FeeSchedule::parse("訪問看護"),
            Ok(FeeSchedule::VisitingNursing)
        );
    }

    #[test]
    fn fee_schedule_rejects_unused_digits() {
        for d in [0, 2, 5, 7, 8, 9, 10] {
            let err = FeeSchedule::from_digit(d).expect_err("unused digit");
            assert!(
                err.to_string()
                    .contains(&format!("「{d}」は点数表として認識できません"))
            );
        }
        assert!(FeeSchedule::parse("").is_err());
        assert!(FeeSchedule::parse("内科").is_err());
    }

    #[test]
    fn fee_schedule_serde_is_the_digit_string() {
        assert_eq!(
            serde_json::to_string(&FeeSchedule::Pharmacy).ok(),
            Some("\"4\"".into())
        );
        assert_eq!(
            serde_json::from_str::<FeeSchedule>("\"6\"").ok(),
            Some(FeeSchedule::VisitingNursing)
        );
        assert!(serde_json::from_str::<FeeSchedule>("\"2\"").is_err());
    }

    #[test]
    fn request_kind_maps_pharmacy_to_fee_schedule_4() {
        assert_eq!(RequestKind::Pharmacy.fee_schedule().digit(), 4);
        assert_eq!(RequestKind::Medical.fee_schedule().digit(), 1);
        assert_eq!(RequestKind::Dental.fee_schedule().digit(), 3);
    }

    #[test]
    fn request_kind_displays_its_label() {
        for k in RequestKind::ALL {
            assert_eq!(k.to_string(), k.label());
        }
        assert_eq!(RequestKind::Pharmacy.to_string(), "薬局");
    }

    #[test]
    fn request_kind_parses_ids_and_labels() {
        for k in RequestKind::ALL {
            assert_eq!(k.as_str().parse::<RequestKind>(), Ok(k));
            assert_eq!(k.label().parse::<RequestKind>(), Ok(k));
            assert_eq!(
                serde_json::to_string(&k).ok(),
                Some(format!("\"{}\"", k.as_str()))
            );
            assert_eq!(
                serde_json::from_str::<RequestKind>(&format!("\"{}\"", k.as_str())).ok(),
                Some(k)
            );
        }
        assert_eq!("調剤".parse::<RequestKind>(), Ok(RequestKind::Pharmacy));
        assert_eq!("Pharmacy".parse::<RequestKind>(), Ok(RequestKind::Pharmacy));
        assert_eq!(RequestKind::Pharmacy.label(), "薬局");
    }

    #[test]
    fn request_kind_rejects_other_kinds() {
        for input in ["", "訪問看護", "hospital", "医科歯科"] {
            let err = input.parse::<RequestKind>().expect_err(input);
            assert!(
                err.to_string().contains("依頼の種別として認識できません"),
                "{err}"
            );
        }
    }
}
