//! The 医療機関等コード (also the 受付番号 issued before designation), the 7-digit
//! 医療機関コード inside it, and the 検証番号 (check digit) rules.
//!
//! Layout `PP T DD NNNN C`: 都道府県 2 + 点数表 1 + 郡市区番号 2 + 医療機関番号 4 +
//! 検証番号 1. The check digit is Luhn over a payload: the 9 digits before it, or
//! in 埼玉・千葉・東京・神奈川 only the 6 digits 郡市区番号 + 医療機関番号. A 医科
//! code of a 医科歯科併設 facility carries the check digit computed with 点数表 3.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::kind::FeeSchedule;
use crate::prefecture::Prefecture;
use crate::width::{is_dash, normalize_width};

/// 受付番号: the 医療機関等コード a facility will get when designated.
pub type ReceptionNumber = InstitutionCode;

/// Which rule a 検証番号 follows.
///
/// Serialised as `"9-digit"`, `"6-digit"` or `"combined-dental"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckRule {
    /// Luhn over 都道府県 + 点数表 + 郡市区番号 + 医療機関番号 (9 digits).
    #[serde(rename = "9-digit")]
    NineDigit,
    /// Luhn over 郡市区番号 + 医療機関番号 (6 digits): prefectures 11–14.
    #[serde(rename = "6-digit")]
    SixDigit,
    /// 医科歯科併設: a 医科 code whose check digit is computed with 点数表 3.
    #[serde(rename = "combined-dental")]
    CombinedDental,
}

impl CheckRule {
    /// `"9-digit"`, `"6-digit"` or `"combined-dental"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckRule::NineDigit => "9-digit",
            CheckRule::SixDigit => "6-digit",
            CheckRule::CombinedDental => "combined-dental",
        }
    }

    /// A Japanese label for screens: `9桁方式`, `6桁方式`, `医科歯科併設`.
    pub fn label(self) -> &'static str {
        match self {
            CheckRule::NineDigit => "9桁方式",
            CheckRule::SixDigit => "6桁方式",
            CheckRule::CombinedDental => "医科歯科併設",
        }
    }

    /// The rule a code of `prefecture` follows unless it is 医科歯科併設.
    pub fn standard_for(prefecture: Prefecture) -> Self {
        if prefecture.uses_six_digit_check() {
            CheckRule::SixDigit
        } else {
            CheckRule::NineDigit
        }
    }
}

impl fmt::Display for CheckRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Luhn check digit of `payload` (digits 0–9, most significant first): weights
/// 2,1,2,… from the rightmost digit, products ≥ 10 count as their digit sum,
/// check = (10 − total mod 10) mod 10.
fn luhn(payload: &[u8]) -> u8 {
    let total: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let p = u32::from(d) * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    // `total % 10` is below 10, so the result fits in a u8.
    ((10 - total % 10) % 10) as u8
}

/// The 検証番号 (check digit) of a code.
///
/// `combined_dental` computes it with 点数表 3, as for the 医科 code of a
/// 医科歯科併設 facility; it changes nothing in prefectures 11–14, whose payload
/// is only 郡市区番号 + 医療機関番号. `district` should be 0–99 and `serial`
/// 0–9999: only their last 2 and 4 decimal digits are used.
pub fn check_digit(
    prefecture: Prefecture,
    fee: FeeSchedule,
    district: u8,
    serial: u16,
    combined_dental: bool,
) -> u8 {
    let fee_digit = if combined_dental {
        FeeSchedule::Dental.digit()
    } else {
        fee.digit()
    };
    let serial_digits = [
        (serial / 1000 % 10) as u8,
        (serial / 100 % 10) as u8,
        (serial / 10 % 10) as u8,
        (serial % 10) as u8,
    ];
    let district_digits = [district / 10 % 10, district % 10];
    let mut payload = Vec::with_capacity(9);
    if !prefecture.uses_six_digit_check() {
        payload.extend([prefecture.code() / 10, prefecture.code() % 10, fee_digit]);
    }
    payload.extend(district_digits);
    payload.extend(serial_digits);
    luhn(&payload)
}

/// Removes the separators bureaus print inside numbers (spaces, hyphens of any
/// width, commas, periods) after width normalisation; the reason on failure.
fn digits_of(input: &str) -> std::result::Result<String, String> {
    let mut digits = String::new();
    for c in normalize_width(input).chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !(c.is_whitespace() || is_dash(c) || c == ',' || c == '.') {
            return Err(format!(
                "数字と区切り（空白・ハイフン・カンマ・ピリオド）のほかに「{c}」が含まれています。"
            ));
        }
    }
    if digits.is_empty() {
        return Err("数字が含まれていません。".to_owned());
    }
    Ok(digits)
}

/// The value of a run of ASCII digits.
fn value(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

/// The result of [`InstitutionCode::inspect`]: what a 10-digit string is and
/// whether its 検証番号 is right.
///
/// Serialised (field order as declared) as e.g.
/// `{"code":"1310110049","valid":true,"prefecture":"13","fee_schedule":"1","expected_check_digit":9,"rule":"6-digit"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CodeInspection {
    /// The canonical 10 digits.
    pub code: String,
    /// Whether the 検証番号 is right under some rule.
    pub valid: bool,
    pub prefecture: Prefecture,
    pub fee_schedule: FeeSchedule,
    /// The check digit under `rule`.
    pub expected_check_digit: u8,
    /// The rule the code follows; when invalid, the prefecture's standard rule.
    pub rule: CheckRule,
}

/// A 医療機関等コード with a correct 検証番号 (also used as 受付番号), 10 digits.
///
/// Serialised and displayed as the canonical 10 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstitutionCode {
    // Ordering and equality come from `digits` first; the other fields are
    // derived from it.
    digits: String,
    prefecture: Prefecture,
    fee: FeeSchedule,
    district: u8,
    serial: u16,
    check: u8,
    rule: CheckRule,
}

impl InstitutionCode {
    /// Reads a code the way bureaus print it (`1310110049`, `13-1-0110049`,
    /// `１３１０１１００４９`, with spaces, hyphens of any width, commas or
    /// periods) and reports on it. Fails with [`Error::CodeFormat`] only when the
    /// input cannot be a code at all; a wrong check digit is reported with
    /// `valid: false`.
    pub fn inspect(input: &str) -> Result<CodeInspection> {
        Self::read(input).map(|(inspection, _)| inspection)
    }

    /// Reads a code (as [`InstitutionCode::inspect`]) and requires its 検証番号
    /// to be right: [`Error::CheckDigit`] otherwise.
    pub fn parse(input: &str) -> Result<Self> {
        let (inspection, code) = Self::read(input)?;
        code.ok_or(Error::CheckDigit {
            found: code_check_digit(&inspection.code),
            code: inspection.code,
            expected: inspection.expected_check_digit,
        })
    }

    fn read(input: &str) -> Result<(CodeInspection, Option<Self>)> {
        let format_error = |reason: String| Error::CodeFormat {
            input: input.to_owned(),
            reason,
        };
        let digits = digits_of(input).map_err(format_error)?;
        if digits.len() != 10 {
            let mut reason = format!(
                "10桁の数字（都道府県2桁・点数表1桁・医療機関コード7桁）が必要ですが、{}桁です。",
                digits.chars().count()
            );
            match digits.len() {
                7 => reason.push_str(
                    "7桁の医療機関コードだけでは足りません。前に都道府県コード（2桁）と点数表コード（1桁）を付けてください。",
                ),
                9 => reason.push_str("点数表コード（3桁目）が抜けていないか確認してください。"),
                _ => {}
            }
            return Err(format_error(reason));
        }
        let prefecture = Prefecture::from_code(value(&digits[0..2]) as u8).map_err(|_| {
            format_error(format!(
                "先頭2桁の都道府県コード「{}」は 01〜47 のいずれでもありません。",
                &digits[0..2]
            ))
        })?;
        let fee = FeeSchedule::from_digit(value(&digits[2..3]) as u8).map_err(|_| {
            format_error(format!(
                "3桁目の点数表コード「{}」は 1（医科）・3（歯科）・4（調剤）・6（訪問看護）のいずれでもありません。",
                &digits[2..3]
            ))
        })?;
        let district = value(&digits[3..5]) as u8;
        let serial = value(&digits[5..9]) as u16;
        let found = code_check_digit(&digits);

        let standard_rule = CheckRule::standard_for(prefecture);
        let standard = check_digit(prefecture, fee, district, serial, false);
        let combined = (fee == FeeSchedule::Medical && standard_rule == CheckRule::NineDigit)
            .then(|| check_digit(prefecture, fee, district, serial, true));
        let (valid, expected, rule) = if found == standard {
            (true, standard, standard_rule)
        } else if combined == Some(found) {
            (true, found, CheckRule::CombinedDental)
        } else {
            (false, standard, standard_rule)
        };
        let code = valid.then(|| Self {
            digits: digits.clone(),
            prefecture,
            fee,
            district,
            serial,
            check: found,
            rule,
        });
        let inspection = CodeInspection {
            code: digits,
            valid,
            prefecture,
            fee_schedule: fee,
            expected_check_digit: expected,
            rule,
        };
        Ok((inspection, code))
    }

    /// Builds the code with its 検証番号. `district` (郡市区番号) must be 0–99 and
    /// `serial` (医療機関番号) 0–9999. `combined_dental` (医科歯科併設) computes the
    /// check digit with 点数表 3; it is allowed for 医科 and 歯科 (where it changes
    /// nothing) and refused for 調剤 and 訪問看護.
    pub fn build(
        prefecture: Prefecture,
        fee: FeeSchedule,
        district: u8,
        serial: u16,
        combined_dental: bool,
    ) -> Result<Self> {
        if district > 99 {
            return Err(Error::CodePart {
                part: "郡市区番号",
                found: u32::from(district),
                min: 0,
                max: 99,
            });
        }
        if serial > 9999 {
            return Err(Error::CodePart {
                part: "医療機関番号",
                found: u32::from(serial),
                min: 0,
                max: 9999,
            });
        }
        if combined_dental && !matches!(fee, FeeSchedule::Medical | FeeSchedule::Dental) {
            return Err(Error::CombinedDentalNotMedical { fee });
        }
        let check = check_digit(prefecture, fee, district, serial, combined_dental);
        let rule = if prefecture.uses_six_digit_check() {
            CheckRule::SixDigit
        } else if combined_dental && fee == FeeSchedule::Medical {
            CheckRule::CombinedDental
        } else {
            CheckRule::NineDigit
        };
        Ok(Self {
            digits: format!(
                "{:02}{}{district:02}{serial:04}{check}",
                prefecture.code(),
                fee.digit()
            ),
            prefecture,
            fee,
            district,
            serial,
            check,
            rule,
        })
    }

    /// The code made of a prefecture, a 点数表 and a 7-digit 医療機関コード, whose
    /// check digit must be right for them (for 医科, the 医科歯科併設 rule is
    /// accepted too): [`Error::CheckDigit`] otherwise.
    pub fn from_parts(
        prefecture: Prefecture,
        fee: FeeSchedule,
        medical_code: &MedicalCode7,
    ) -> Result<Self> {
        Self::parse(&format!(
            "{}{}{}",
            prefecture.code_str(),
            fee.digit(),
            medical_code.as_str()
        ))
    }

    /// 都道府県 (digits 1–2).
    pub fn prefecture(&self) -> Prefecture {
        self.prefecture
    }

    /// 点数表 (digit 3).
    pub fn fee_schedule(&self) -> FeeSchedule {
        self.fee
    }

    /// 郡市区番号 (digits 4–5), 0–99.
    pub fn district(&self) -> u8 {
        self.district
    }

    /// 医療機関番号 (digits 6–9), 0–9999.
    pub fn serial(&self) -> u16 {
        self.serial
    }

    /// 検証番号 (digit 10).
    pub fn check_digit(&self) -> u8 {
        self.check
    }

    /// The rule the check digit follows.
    pub fn rule(&self) -> CheckRule {
        self.rule
    }

    /// The 7-digit 医療機関コード (digits 4–10).
    pub fn medical_code(&self) -> MedicalCode7 {
        MedicalCode7 {
            digits: self.digits[3..].to_owned(),
            district: self.district,
            serial: self.serial,
            check: self.check,
        }
    }

    /// The canonical 10 digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }
}

/// The last digit of a string of ASCII digits.
fn code_check_digit(digits: &str) -> u8 {
    digits.bytes().last().map_or(0, |b| b.wrapping_sub(b'0'))
}

impl fmt::Display for InstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

impl FromStr for InstitutionCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl AsRef<str> for InstitutionCode {
    fn as_ref(&self) -> &str {
        &self.digits
    }
}

impl Serialize for InstitutionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.digits)
    }
}

impl<'de> Deserialize<'de> for InstitutionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A 医療機関コード: the 7 digits 郡市区番号 2 + 医療機関番号 4 + 検証番号 1, as
/// bureaus' lists print it (`01-40055`, `01,1047,8`, `01.1857.5`).
///
/// Its check digit can only be verified together with a prefecture and a
/// 点数表: see [`InstitutionCode::from_parts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MedicalCode7 {
    digits: String,
    district: u8,
    serial: u16,
    check: u8,
}

impl MedicalCode7 {
    /// Reads 7 digits, 全角 or half-width, with any of the separators bureaus
    /// print (spaces, hyphens of any width, commas, periods).
    pub fn parse(input: &str) -> Result<Self> {
        let format_error = |reason: String| Error::MedicalCodeFormat {
            input: input.to_owned(),
            reason,
        };
        let digits = digits_of(input).map_err(format_error)?;
        if digits.len() != 7 {
            let mut reason = format!(
                "7桁の数字（郡市区番号2桁・医療機関番号4桁・検証番号1桁）が必要ですが、{}桁です。",
                digits.len()
            );
            if digits.len() == 10 {
                reason.push_str("10桁の医療機関等コードなら、末尾の7桁が医療機関コードです。");
            }
            return Err(format_error(reason));
        }
        Ok(Self {
            district: value(&digits[0..2]) as u8,
            serial: value(&digits[2..6]) as u16,
            check: code_check_digit(&digits),
            digits,
        })
    }

    /// 郡市区番号, 0–99.
    pub fn district(&self) -> u8 {
        self.district
    }

    /// 医療機関番号, 0–9999.
    pub fn serial(&self) -> u16 {
        self.serial
    }

    /// 検証番号 as printed (not verified).
    pub fn check_digit(&self) -> u8 {
        self.check
    }

    /// The 7 digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }
}

impl fmt::Display for MedicalCode7 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

impl FromStr for MedicalCode7 {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for MedicalCode7 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.digits)
    }
}

impl<'de> Deserialize<'de> for MedicalCode7 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pref(code: u8) -> Prefecture {
        Prefecture::from_code(code).expect("valid prefecture")
    }

    #[test]
    fn check_rules_have_their_ids_labels_and_display() {
        let shown: Vec<(&str, &str, String)> = [
            CheckRule::NineDigit,
            CheckRule::SixDigit,
            CheckRule::CombinedDental,
        ]
        .iter()
        .map(|r| (r.as_str(), r.label(), r.to_string()))
        .collect();
        assert_eq!(
            shown,
            [
                ("9-digit", "9桁方式", "9-digit".to_owned()),
                ("6-digit", "6桁方式", "6-digit".to_owned()),
                (
                    "combined-dental",
                    "医科歯科併設",
                    "combined-dental".to_owned()
                ),
            ]
        );
    }

    fn parse_ok(input: &str) -> InstitutionCode {
        InstitutionCode::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn luhn_of_the_worked_example_sums_to_28() {
        // 34 1 07 1236: weights from the right 2,1,2,…
        assert_eq!(luhn(&[3, 4, 1, 0, 7, 1, 2, 3, 6]), 2);
        assert_eq!(luhn(&[]), 0);
    }

    #[test]
    fn worked_examples_are_valid() {
        let c = parse_ok("3410712362");
        assert_eq!((c.check_digit(), c.rule()), (2, CheckRule::NineDigit));
        assert_eq!(
            check_digit(pref(34), FeeSchedule::Medical, 7, 1236, false),
            2
        );

        let c = parse_ok("1310110049");
        assert_eq!(c.rule(), CheckRule::SixDigit);
        assert_eq!(c.prefecture().name(), "東京都");
        assert_eq!((c.district(), c.serial(), c.check_digit()), (1, 1004, 9));

        let c = parse_ok("0110112489");
        assert_eq!(c.rule(), CheckRule::NineDigit);

        let c = parse_ok("2730303241");
        assert_eq!(c.fee_schedule(), FeeSchedule::Dental);
        assert_eq!(c.rule(), CheckRule::NineDigit);
    }

    #[test]
    fn wrong_check_digit_is_a_check_digit_error_naming_the_expected_digit() {
        let err = InstitutionCode::parse("3410712363").expect_err("wrong check digit");
        assert_eq!(
            err,
            Error::CheckDigit {
                code: "3410712363".into(),
                expected: 2,
                found: 3
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("3410712363") && msg.contains("「2」") && msg.contains("「3」"),
            "{msg}"
        );

        let inspection = InstitutionCode::inspect("3410712363").expect("a code");
        assert!(!inspection.valid);
        assert_eq!(inspection.expected_check_digit, 2);
        assert_eq!(inspection.rule, CheckRule::NineDigit);
    }

    #[test]
    fn parse_accepts_printed_separators_and_fullwidth_digits() {
        for input in [
            "1310110049",
            "13-1-0110049",
            "13 1 0110049",
            "13-1-01-1004-9",
            "１３１０１１００４９",
            "１３－１－０１１００４９",
            "13ー1ー0110049",
            "13‐1‐0110049",
            "13,1,01,1004,9",
            "13.1.01.1004.9",
            " 13　1　0110049 ",
        ] {
            assert_eq!(parse_ok(input).as_str(), "1310110049", "{input}");
        }
    }

    #[test]
    fn parse_rejects_what_cannot_be_a_code_with_a_format_error() {
        for (input, hint) in [
            ("", "数字が含まれていません"),
            ("131011004", "9桁です"),
            (
                "131011004",
                "点数表コード（3桁目）が抜けていないか確認してください",
            ),
            ("0110055", "7桁の医療機関コードだけでは足りません"),
            ("13101100491", "11桁です"),
            ("13101l0049", "「l」"),
            ("13/1/0110049", "「/」"),
            ("4810110049", "都道府県コード「48」"),
            ("0010110049", "都道府県コード「00」"),
            ("1320110049", "点数表コード「2」"),
            ("1350110049", "点数表コード「5」"),
        ] {
            let err = InstitutionCode::parse(input).expect_err(input);
            assert!(matches!(err, Error::CodeFormat { .. }), "{input}: {err:?}");
            let msg = err.to_string();
            assert!(msg.contains(hint), "{input}: {msg}");
            assert!(msg.contains(&format!("「{input}」")), "{msg}");
            assert!(InstitutionCode::inspect(input).is_err());
        }
    }

    #[test]
    fn inspection_serialises_in_the_documented_shape() {
        let inspection = InstitutionCode::inspect("13-1-0110049").expect("a code");
        assert_eq!(
            serde_json::to_string(&inspection).expect("json"),
            r#"{"code":"1310110049","valid":true,"prefecture":"13","fee_schedule":"1","expected_check_digit":9,"rule":"6-digit"}"#
        );
    }

    #[test]
    fn combined_dental_medical_code_is_valid_only_under_that_rule() {
        let combined =
            InstitutionCode::build(pref(34), FeeSchedule::Medical, 7, 1236, true).expect("build");
        assert_eq!(combined.rule(), CheckRule::CombinedDental);
        // With 点数表 3 the example payload 34 3 07 1236 sums to 32: check 8.
        assert_eq!(combined.as_str(), "3410712368");
        let inspection = InstitutionCode::inspect("3410712368").expect("a code");
        assert!(inspection.valid);
        assert_eq!(inspection.rule, CheckRule::CombinedDental);
        assert_eq!(inspection.expected_check_digit, 8);
        assert_eq!(parse_ok("3410712368"), combined);
        // The same 7 digits are the plain dental code.
        assert_eq!(parse_ok("3430712368").rule(), CheckRule::NineDigit);
        // A 調剤 code never falls back to the combined rule.
        assert!(InstitutionCode::parse("3440712368").is_err());
    }

    #[test]
    fn combined_dental_changes_nothing_in_six_digit_prefectures() {
        for p in [11, 12, 13, 14] {
            let plain = InstitutionCode::build(pref(p), FeeSchedule::Medical, 1, 1004, false);
            let combined = InstitutionCode::build(pref(p), FeeSchedule::Medical, 1, 1004, true);
            assert_eq!(plain, combined);
            assert_eq!(plain.map(|c| c.rule()), Ok(CheckRule::SixDigit));
        }
    }

    #[test]
    fn build_refuses_out_of_range_parts_and_combined_pharmacy() {
        let err = InstitutionCode::build(pref(1), FeeSchedule::Medical, 100, 1, false)
            .expect_err("district 100");
        assert!(err.to_string().contains("郡市区番号は 0〜99"), "{err}");
        let err = InstitutionCode::build(pref(1), FeeSchedule::Medical, 1, 10000, false)
            .expect_err("serial 10000");
        assert!(err.to_string().contains("医療機関番号は 0〜9999"), "{err}");
        assert!(err.to_string().contains("10000"), "{err}");
        for fee in [FeeSchedule::Pharmacy, FeeSchedule::VisitingNursing] {
            let err = InstitutionCode::build(pref(1), fee, 1, 1, true).expect_err("combined");
            assert!(err.to_string().contains("医科歯科併設"), "{err}");
        }
        assert!(InstitutionCode::build(pref(1), FeeSchedule::Dental, 1, 1, true).is_ok());
    }

    #[test]
    fn build_then_parse_gives_the_same_parts() {
        let c =
            InstitutionCode::build(pref(1), FeeSchedule::Medical, 1, 1248, false).expect("build");
        assert_eq!(c.as_str(), "0110112489");
        assert_eq!(c.to_string(), "0110112489");
        assert_eq!(parse_ok(c.as_str()), c);
        assert_eq!(c.medical_code().as_str(), "0112489");
        assert_eq!(
            InstitutionCode::build(pref(47), FeeSchedule::VisitingNursing, 0, 0, false)
                .map(|c| c.as_str().len()),
            Ok(10)
        );
    }

    #[test]
    fn from_parts_validates_the_check_digit() {
        let mc = MedicalCode7::parse("01,1004,9").expect("7 digits");
        let c = InstitutionCode::from_parts(pref(13), FeeSchedule::Medical, &mc).expect("valid");
        assert_eq!(c.as_str(), "1310110049");
        let mc = MedicalCode7::parse("0712368").expect("7 digits");
        let c = InstitutionCode::from_parts(pref(34), FeeSchedule::Medical, &mc).expect("combined");
        assert_eq!(c.rule(), CheckRule::CombinedDental);
        let err = InstitutionCode::from_parts(pref(34), FeeSchedule::Pharmacy, &mc)
            .expect_err("wrong check digit");
        assert!(matches!(err, Error::CheckDigit { found: 8, .. }), "{err:?}");
    }

    #[test]
    fn medical_code_parses_the_printed_forms() {
        for (input, digits) in [
            ("0140055", "0140055"),
            ("01-40055", "0140055"),
            ("01,1047,8", "0110478"),
            ("01.1857.5", "0118575"),
            ("０１－４００５５", "0140055"),
            ("01 4005 5", "0140055"),
        ] {
            let mc = MedicalCode7::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(mc.as_str(), digits);
            assert_eq!(mc.to_string(), digits);
        }
        let mc = MedicalCode7::parse("01,1047,8").expect("7 digits");
        assert_eq!((mc.district(), mc.serial(), mc.check_digit()), (1, 1047, 8));
        let mc = MedicalCode7::parse("07-1236-8").expect("7 digits");
        assert_eq!((mc.district(), mc.serial(), mc.check_digit()), (7, 1236, 8));
    }

    #[test]
    fn a_code_is_its_digits_as_a_str() {
        let code = InstitutionCode::parse("13-1-0110049").expect("valid");
        let text: &str = code.as_ref();
        assert_eq!(text, "1310110049");
    }

    #[test]
    fn medical_code_rejects_wrong_lengths_and_letters() {
        for (input, hint) in [
            ("014005", "6桁です"),
            ("1310110049", "末尾の7桁"),
            ("01-4005A", "「A」"),
            ("", "数字が含まれていません"),
        ] {
            let err = MedicalCode7::parse(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains("医療機関コード（7桁）として読み取れません"),
                "{msg}"
            );
            assert!(msg.contains(hint), "{input}: {msg}");
        }
    }

    #[test]
    fn codes_serialise_as_strings_and_deserialising_validates() {
        let c = parse_ok("1310110049");
        assert_eq!(
            serde_json::to_string(&c).ok(),
            Some("\"1310110049\"".into())
        );
        assert_eq!(
            serde_json::from_str::<InstitutionCode>("\"1310110049\"").ok(),
            Some(c)
        );
        assert!(serde_json::from_str::<InstitutionCode>("\"1310110048\"").is_err());
        assert_eq!(
            serde_json::to_string(&CheckRule::CombinedDental).ok(),
            Some("\"combined-dental\"".into())
        );
        let mc = MedicalCode7::parse("01-40055").expect("7 digits");
        assert_eq!(serde_json::to_string(&mc).ok(), Some("\"0140055\"".into()));
    }

    #[test]
    fn check_digit_cannot_see_a_zero_nine_transposition() {
        // Luhn's one blind spot: 0 and 9 both contribute 9 at weight 2 and
        // differ by 9 at weight 1. 郡市区番号 09 ↔ 90 keeps the same check digit.
        let a =
            InstitutionCode::build(pref(1), FeeSchedule::Medical, 9, 1234, false).expect("build");
        let b =
            InstitutionCode::build(pref(1), FeeSchedule::Medical, 90, 1234, false).expect("build");
        assert_eq!(a.check_digit(), b.check_digit());
    }

    #[test]
    fn check_rule_strings() {
        assert_eq!(CheckRule::NineDigit.as_str(), "9-digit");
        assert_eq!(CheckRule::SixDigit.as_str(), "6-digit");
        assert_eq!(CheckRule::CombinedDental.as_str(), "combined-dental");
        for r in [
            CheckRule::NineDigit,
            CheckRule::SixDigit,
            CheckRule::CombinedDental,
        ] {
            assert_eq!(
                serde_json::to_string(&r).ok(),
                Some(format!("\"{}\"", r.as_str()))
            );
        }
    }
}
