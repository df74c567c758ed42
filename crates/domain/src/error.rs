//! The crate's one error type. Every message is Japanese and meant to be shown
//! to bureau staff as is: it quotes what was found and says what was expected.

use crate::kind::FeeSchedule;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while parsing or building a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input cannot be a 医療機関等コード at all (length, characters,
    /// 都道府県コード or 点数表コード). Distinct from [`Error::CheckDigit`].
    #[error("「{input}」は医療機関等コードとして読み取れません。{reason}")]
    CodeFormat { input: String, reason: String },

    /// A well-formed 10-digit code whose 検証番号 (last digit) is wrong.
    #[error(
        "医療機関等コード「{code}」の検証番号（末尾の1桁）が正しくありません。\
         末尾は「{found}」ですが、正しくは「{expected}」です。番号の写し間違いがないか確認してください。"
    )]
    CheckDigit {
        code: String,
        expected: u8,
        found: u8,
    },

    /// The input cannot be a 7-digit 医療機関コード.
    #[error("「{input}」は医療機関コード（7桁）として読み取れません。{reason}")]
    MedicalCodeFormat { input: String, reason: String },

    /// A number given to build a code is out of range.
    #[error("{part}は {min}〜{max} の範囲で指定してください（指定された値: {found}）。")]
    CodePart {
        part: &'static str,
        found: u32,
        min: u32,
        max: u32,
    },

    /// 医科歯科併設 was asked for a 点数表 other than 医科 or 歯科.
    #[error(
        "医科歯科併設の検証番号は医科（点数表コード 1）の医療機関等コードにだけ使えます\
         （指定された点数表: {fee}）。"
    )]
    CombinedDentalNotMedical { fee: FeeSchedule },

    /// Not a 都道府県 (code 01–47 or name).
    #[error(
        "「{input}」は都道府県として認識できません。\
         01〜47 の都道府県コード、または「東京都」「東京」のような都道府県名を指定してください。"
    )]
    Prefecture { input: String },

    /// Not one of the 8 地方厚生(支)局.
    #[error(
        "「{input}」は地方厚生（支）局として認識できません。\
         hokkaido, tohoku, kanto-shinetsu, tokai-hokuriku, kinki, chugoku-shikoku, shikoku, kyushu \
         のいずれか、または「関東信越厚生局」のような局名を指定してください。"
    )]
    Bureau { input: String },

    /// Not a 点数表 (1, 3, 4, 6 or its name).
    #[error(
        "「{input}」は点数表として認識できません。\
         1（医科）、3（歯科）、4（調剤）、6（訪問看護）のいずれかを指定してください。"
    )]
    FeeSchedule { input: String },

    /// Not a kind of request (医科・歯科・薬局).
    #[error(
        "「{input}」は依頼の種別として認識できません。医科、歯科、薬局のいずれかを指定してください。"
    )]
    RequestKind { input: String },

    /// Not a date, or a 和暦 date outside its era.
    #[error("日付「{input}」を読み取れません。{reason}")]
    Date { input: String, reason: String },

    /// Not a 郵便番号.
    #[error("「{input}」は郵便番号として読み取れません。{reason}")]
    PostalCode { input: String, reason: String },

    /// Not a 電話番号.
    #[error("「{input}」は電話番号として読み取れません。{reason}")]
    PhoneNumber { input: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One example of every variant; the `match` fails to compile when a
    /// variant is added without an example here.
    fn one_of_each() -> Vec<Error> {
        let all = vec![
            Error::CodeFormat {
                input: "13-1".into(),
                reason: "10桁の数字が必要ですが、3桁です。".into(),
            },
            Error::CheckDigit {
                code: "3410712363".into(),
                expected: 2,
                found: 3,
            },
            Error::MedicalCodeFormat {
                input: "01-4005".into(),
                reason: "7桁の数字が必要ですが、6桁です。".into(),
            },
            Error::CodePart {
                part: "郡市区番号",
                found: 100,
                min: 0,
                max: 99,
            },
            Error::CombinedDentalNotMedical {
                fee: FeeSchedule::Pharmacy,
            },
            Error::Prefecture { input: "48".into() },
            Error::Bureau {
                input: "kanto".into(),
            },
            Error::FeeSchedule { input: "2".into() },
            Error::RequestKind {
                input: "hospital".into(),
            },
            Error::Date {
                input: "平成31年5月1日".into(),
                reason: "平成の期間外です。".into(),
            },
            Error::PostalCode {
                input: "123".into(),
                reason: "郵便番号は7桁の数字です。".into(),
            },
            Error::PhoneNumber {
                input: "03".into(),
                reason: "電話番号は10桁または11桁です。".into(),
            },
        ];
        for e in &all {
            match e {
                Error::CodeFormat { .. }
                | Error::CheckDigit { .. }
                | Error::MedicalCodeFormat { .. }
                | Error::CodePart { .. }
                | Error::CombinedDentalNotMedical { .. }
                | Error::Prefecture { .. }
                | Error::Bureau { .. }
                | Error::FeeSchedule { .. }
                | Error::RequestKind { .. }
                | Error::Date { .. }
                | Error::PostalCode { .. }
                | Error::PhoneNumber { .. } => {}
            }
        }
        all
    }

    fn is_japanese(c: char) -> bool {
        matches!(c, '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}')
    }

    #[test]
    fn every_error_message_is_japanese_and_quotes_what_was_found() {
        for e in one_of_each() {
            let msg = e.to_string();
            let japanese = msg.chars().filter(|&c| is_japanese(c)).count();
            assert!(japanese >= 10, "not Japanese enough: {msg}");
            assert!(msg.ends_with('。'), "a message is a sentence: {msg}");
            let found = match &e {
                Error::CodeFormat { input, .. }
                | Error::MedicalCodeFormat { input, .. }
                | Error::Prefecture { input }
                | Error::Bureau { input }
                | Error::FeeSchedule { input }
                | Error::RequestKind { input }
                | Error::Date { input, .. }
                | Error::PostalCode { input, .. }
                | Error::PhoneNumber { input, .. } => format!("「{input}」"),
                Error::CheckDigit { code, .. } => format!("「{code}」"),
                Error::CodePart { found, .. } => found.to_string(),
                Error::CombinedDentalNotMedical { fee } => fee.name().to_owned(),
            };
            assert!(msg.contains(&found), "{msg} should quote {found}");
        }
    }
}
