//! Domain types of uketsuke, the system that issues 受付番号 (the future
//! 医療機関等コード of a facility about to be designated). No I/O: every type
//! here is parsed at the boundary and always valid afterwards.
//!
//! A guided tour:
//! - [`width`]: 全角/半角 normalisation every parser runs first.
//! - [`prefecture`]: 都道府県 and the 8 地方厚生(支)局 with their jurisdictions.
//! - [`kind`]: 点数表 (the code's 3rd digit) and 依頼の種別 (医科・歯科・薬局).
//! - [`code`]: 医療機関等コード / 受付番号, 医療機関コード (7 digits), 検証番号 rules.
//! - [`wareki`]: 和暦 and the other date forms (西暦, Excel serials).
//! - [`contact`]: 郵便番号 and 電話番号; [`postal`]: which prefecture a 郵便番号 belongs to.
//! - [`plan`]: 「オンライン資格確認の導入計画書」 (別紙2), items ①–⑬, and their JSON.
//! - [`error`]: the one error type, with messages in Japanese.
//!
//! ```
//! use uketsuke_domain::{CheckRule, InstitutionCode, format_wareki, parse_date};
//!
//! let code = InstitutionCode::parse("13-1-0110049")?;
//! assert_eq!((code.as_str(), code.rule()), ("1310110049", CheckRule::SixDigit));
//! assert!(InstitutionCode::parse("3410712363").is_err()); // 検証番号 should be 2
//!
//! let date = parse_date("昭38. 5. 1")?;
//! assert_eq!(format_wareki(date), "昭和38年5月1日");
//! # Ok::<(), uketsuke_domain::Error>(())
//! ```

pub mod code;
pub mod contact;
pub mod error;
#[doc(hidden)]
pub mod fixtures;
pub mod kind;
pub mod plan;
pub mod postal;
pub mod prefecture;
pub mod request;
pub mod time;
pub mod wareki;
pub mod width;

pub use code::{
    CheckRule, CodeInspection, InstitutionCode, MedicalCode7, ReceptionNumber, check_digit,
};
pub use contact::{PhoneNumber, PostalCode};
pub use error::{Error, Result};
pub use kind::{FeeSchedule, RequestKind};
pub use plan::{
    Done, NetworkType, Plan, PlanError, PlanFacility, PlanFounder, Readiness, parse_plan_date,
    plan_item_label, plan_text,
};
pub use prefecture::{Bureau, Prefecture};
pub use request::{Founder, RequestForm};
pub use time::today_in_japan;
pub use wareki::{
    EARLIEST_WAREKI_DATE, Era, Wareki, format_wareki, format_wareki_short,
    format_wareki_with_seireki, from_excel_serial, parse_date, to_excel_serial,
};
pub use width::{normalize_width, search_key, to_halfwidth_ascii};
