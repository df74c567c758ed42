//! Pure rules of uketsuke, the system a 地方厚生(支)局 uses to give 受付番号 to
//! clinics and pharmacies before their designation. No I/O: functions over domain
//! types (`uketsuke-domain`) and a calendar, so every rule is tested exhaustively.
//! Every message meant for people (reasons, warnings, errors) is Japanese, written
//! to be pasted into a return letter (返戻) or read by staff.
//!
//! A guided tour:
//! - [`calendar`]: the bureau's open days (開庁日): weekends, national holidays
//!   computed from the law (振替休日 and 国民の休日 included), 年末年始, and the days a
//!   bureau adds in its configuration.
//! - [`deadlines`]: from a designation date (指定日), the 提出期限 (per bureau: a rule
//!   or a published table), the 回答期限 and the 実施機関への提出期限.
//! - [`eligibility`]: whether a request is answered or returned, with the reasons.
//! - [`numbering`]: which 医療機関番号 a new facility may get (ranges, no "90"), one
//!   number for a 医科歯科併設 pair, and the 郡市区番号 its address suggests.
//! - [`plan`]: the check of an 「オンライン資格確認の導入計画書」 (別紙2): every required
//!   item filled, dates in order and before the 指定希望日, ① matching the case.
//! - [`Error`]: the crate's one error type (invalid configuration or arguments).

pub mod calendar;
mod config_date;
pub mod deadlines;
pub mod eligibility;
mod error;
pub mod numbering;
pub mod plan;

pub use config_date::ConfigDate;
pub use error::{Error, Result};
