//! Export (出力): turns rows into bytes — the 「新規指定医療機関一覧表」 and the answers
//! (回答書) as .xlsx with rust_xlsxwriter, and the list as CSV. It never touches the
//! database: callers load the rows and hand them over.
//!
//! A guided tour:
//! - [`layout`]: the columns of the list ([`Column`], [`ColumnSpec`], [`ListLayout`]),
//!   which a bureau can rename, drop or reorder in its configuration.
//! - [`row`]: [`ListRow`], one approved facility, and how each column reads from it.
//! - [`list`]: [`list_xlsx`], the 一覧表 as an Excel workbook in the bureaus' house style.
//! - [`csv`]: [`list_csv`], the same columns as CSV (UTF-8 with BOM, or Shift_JIS).
//! - [`cases`]: [`case_list_xlsx`] and [`case_list_csv`], the staff's case list (案件一覧)
//!   as downloaded from the list page.
//! - [`answer`]: [`answer_xlsx`], the 「受付番号 情報提供依頼書 兼 回答書」 (別紙1) answer.
//! - [`schedule`]: [`schedule_xlsx`], a bureau's published schedule (日程表) of a year.
//! - [`report`]: [`report_xlsx`], the monthly report (月報) of counts.
//! - [`text`]: display widths and 全角 digits shared by the writers.
//! - [`error`]: the one error type, with messages in Japanese.
//!
//! ```
//! use chrono::NaiveDate;
//! use uketsuke_export::{ListLayout, list_xlsx};
//!
//! let as_of = NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
//! let bytes = list_xlsx(&ListLayout::default(), as_of, Some("第123回 地医協"), &[])?;
//! assert!(bytes.starts_with(b"PK")); // an .xlsx is a zip file
//! # Ok::<(), uketsuke_export::Error>(())
//! ```

pub mod answer;
pub mod cases;
pub mod csv;
pub mod error;
pub mod layout;
pub mod list;
pub mod reflection;
pub mod report;
pub mod row;
pub mod schedule;
pub mod text;

pub use answer::{AnswerSheet, answer_xlsx};
pub use cases::{CASE_LIST_HEADERS, CaseListRow, Unencodable, case_list_csv, case_list_xlsx};
pub use csv::{CsvEncoding, list_csv, neutralize_formula};
pub use error::{Error, Result};
pub use layout::{Column, ColumnSpec, ListLayout};
pub use list::{XLSX_MIME, list_xlsx};
pub use reflection::{ReflectionRow, reflection_csv, reflection_xlsx};
pub use report::{ReportRow, report_xlsx};
pub use row::ListRow;
pub use schedule::{SCHEDULE_HEADERS, ScheduleRow, schedule_xlsx};
