//! Contact details on the forms: 郵便番号 (postal code) and 電話番号 (phone number).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::width::{is_dash, normalize_width};

/// Splits `s` into runs of ASCII digits separated by spaces, dashes of any
/// width, or (when `parens`) parentheses; the offending character otherwise.
fn digit_groups(s: &str, parens: bool) -> std::result::Result<Vec<String>, char> {
    let mut groups: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            current.push(c);
        } else if c.is_whitespace() || is_dash(c) || (parens && matches!(c, '(' | ')')) {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
        } else {
            return Err(c);
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    Ok(groups)
}

/// A 郵便番号: 7 digits, displayed `123-4567`.
///
/// Serialised as `"123-4567"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostalCode {
    digits: String,
}

impl PostalCode {
    /// Reads `123-4567`, `1234567`, `〒123-4567`, `〒１２３－４５６７`, `〒 123 4567`.
    pub fn parse(input: &str) -> Result<Self> {
        let err = |reason: &str| Error::PostalCode {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let normalized = normalize_width(input);
        let s = normalized.trim();
        let s = s.strip_prefix('〒').unwrap_or(s);
        let groups = digit_groups(s, false).map_err(|c| {
            err(&format!(
                "「{c}」は郵便番号に使えない文字です（数字とハイフンのみ、例: 123-4567）。"
            ))
        })?;
        let digits = match groups.as_slice() {
            [all] if all.len() == 7 => all.clone(),
            [head, tail] if head.len() == 3 && tail.len() == 4 => format!("{head}{tail}"),
            [] => return Err(err("郵便番号が入力されていません。")),
            _ => {
                return Err(err("郵便番号は7桁の数字です（3桁-4桁、例: 123-4567）。"));
            }
        };
        Ok(Self { digits })
    }

    /// The 7 digits without hyphen: `1234567`.
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, tail) = self.digits.split_at(3);
        write!(f, "{head}-{tail}")
    }
}

impl FromStr for PostalCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for PostalCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PostalCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A 電話番号: 10 or 11 digits starting with 0. Displayed with the writer's
/// grouping, half-width and joined by `-` (`03(1234)5678` → `03-1234-5678`);
/// digits given without separators stay ungrouped.
///
/// Serialised as the displayed form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    digits: String,
    display: String,
}

impl PhoneNumber {
    /// Reads `03-1234-5678`, `03(1234)5678`, `０３－１２３４－５６７８`,
    /// `090 1234 5678`, `0312345678`.
    pub fn parse(input: &str) -> Result<Self> {
        let err = |reason: String| Error::PhoneNumber {
            input: input.to_owned(),
            reason,
        };
        let normalized = normalize_width(input);
        let groups = digit_groups(normalized.trim(), true).map_err(|c| {
            err(format!(
                "「{c}」は電話番号に使えない文字です（数字・ハイフン・括弧・空白のみ）。"
            ))
        })?;
        let digits: String = groups.concat();
        if digits.is_empty() {
            return Err(err("電話番号が入力されていません。".to_owned()));
        }
        if !digits.starts_with('0') {
            return Err(err(
                "電話番号は0から始まります（市外局番から入力してください）。".to_owned(),
            ));
        }
        if !(10..=11).contains(&digits.len()) {
            return Err(err(format!(
                "電話番号は0から始まる10桁または11桁の数字ですが、{}桁です。",
                digits.len()
            )));
        }
        Ok(Self {
            display: groups.join("-"),
            digits,
        })
    }

    /// The digits only: `0312345678`.
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl FromStr for PhoneNumber {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.display)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_code_accepts_the_usual_forms() {
        for input in [
            "123-4567",
            "1234567",
            "〒123-4567",
            "〒１２３－４５６７",
            "〒 123 4567",
            "１２３ー４５６７",
            " 123‐4567 ",
        ] {
            let p = PostalCode::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.to_string(), "123-4567", "{input}");
            assert_eq!(p.digits(), "1234567");
        }
    }

    #[test]
    fn postal_code_rejects_wrong_shapes() {
        for (input, hint) in [
            ("", "入力されていません"),
            ("〒", "入力されていません"),
            ("123456", "7桁"),
            ("12345678", "7桁"),
            ("1234-567", "7桁"),
            ("12-34567", "7桁"),
            // Three digits before the hyphen are not enough without four after it.
            ("123-456", "7桁"),
            ("12-4567", "7桁"),
            ("123-45-67", "7桁"),
            ("123_4567", "「_」"),
            ("〒123-4567 東京都", "「東」"),
        ] {
            let err = PostalCode::parse(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("「{input}」は郵便番号として読み取れません")),
                "{msg}"
            );
            assert!(msg.contains(hint), "{input}: {msg}");
        }
    }

    #[test]
    fn phone_number_keeps_the_grouping_in_half_width() {
        for (input, display) in [
            ("03-1234-5678", "03-1234-5678"),
            ("03(1234)5678", "03-1234-5678"),
            ("(03)1234-5678", "03-1234-5678"),
            ("０３－１２３４－５６７８", "03-1234-5678"),
            ("０３（１２３４）５６７８", "03-1234-5678"),
            ("03ー1234ー5678", "03-1234-5678"),
            ("090 1234 5678", "090-1234-5678"),
            ("0312345678", "0312345678"),
            ("09012345678", "09012345678"),
            ("0120-123-456", "0120-123-456"),
        ] {
            let p = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.to_string(), display, "{input}");
            assert_eq!(p.digits(), display.replace('-', ""));
        }
    }

    #[test]
    fn phone_number_rejects_wrong_lengths_prefixes_and_letters() {
        for (input, hint) in [
            ("", "入力されていません"),
            ("03-1234-567", "9桁です"),
            ("090-1234-56789", "12桁です"),
            ("3-1234-5678", "0から始まります"),
            ("+81-3-1234-5678", "「+」"),
            ("03-1234-5678 内線12", "「内」"),
        ] {
            let err = PhoneNumber::parse(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("「{input}」は電話番号として読み取れません")),
                "{msg}"
            );
            assert!(msg.contains(hint), "{input}: {msg}");
        }
    }

    #[test]
    fn contact_values_serialise_as_strings() {
        let p = PostalCode::parse("1234567").expect("valid");
        assert_eq!(serde_json::to_string(&p).ok(), Some("\"123-4567\"".into()));
        assert_eq!(
            serde_json::from_str::<PostalCode>("\"123-4567\"").ok(),
            Some(p)
        );
        let t = PhoneNumber::parse("03(1234)5678").expect("valid");
        assert_eq!(
            serde_json::to_string(&t).ok(),
            Some("\"03-1234-5678\"".into())
        );
        assert_eq!(
            serde_json::from_str::<PhoneNumber>("\"03-1234-5678\"").ok(),
            Some(t)
        );
        assert!(serde_json::from_str::<PhoneNumber>("\"12\"").is_err());
    }
}
