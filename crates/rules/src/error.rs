//! The crate's one error type. Messages are Japanese, written for staff reading a
//! configuration error or a rejected input.

use chrono::NaiveDate;

/// What can go wrong in `uketsuke-rules`: invalid configuration (calendar extras,
/// deadline tables, number ranges) or an invalid argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A day is both an extra closed day and an extra open day.
    #[error(
        "{date} が追加の閉庁日と追加の開庁日の両方に設定されています。どちらか一方にしてください。"
    )]
    OpenAndClosed { date: NaiveDate },

    /// The same extra closed day is listed twice.
    #[error("追加の閉庁日 {date} が重複して設定されています。")]
    DuplicateClosedDay { date: NaiveDate },

    /// An extra closed day has no reason.
    #[error("追加の閉庁日 {date} の理由が空です。返戻の理由に記載できる理由を設定してください。")]
    EmptyClosedReason { date: NaiveDate },

    /// No such month.
    #[error("{year}年{month}月 は存在しない年月です。")]
    InvalidYearMonth { year: i32, month: u32 },

    /// A date computation left the supported range of dates.
    #[error("{date} を基準とする日付が計算できる範囲を超えています。")]
    DateOutOfRange { date: NaiveDate },

    /// A deadline table entry whose deadline is not before its designation date.
    #[error(
        "提出期限の表で、指定日 {designation} の提出期限 {deadline} が指定日より前になっていません。"
    )]
    DeadlineNotBeforeDesignation {
        designation: NaiveDate,
        deadline: NaiveDate,
    },

    /// An answer-due override without its reason.
    #[error("回答期限を変更する場合は、その理由を記録してください。")]
    EmptyOverrideReason,

    /// A serial-number range that is empty or not four digits.
    #[error(
        "医療機関番号の範囲 {first}～{last} が正しくありません（0000～9999 の範囲で、始まりが終わり以下であること）。"
    )]
    InvalidSerialRange { first: u16, last: u16 },

    /// A schedule asked for a year the calendar does not cover.
    #[error("{year}年の日程表は作成できません（作成できるのは{first}年から{last}年までです）。")]
    ScheduleYearOutOfRange { year: i32, first: i32, last: i32 },

    /// A bureau id this crate does not know.
    #[error("地方厚生（支）局の識別子「{0}」は存在しません。")]
    UnknownBureau(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
