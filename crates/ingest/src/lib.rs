//! Ingest (取込): reads filled 別紙1 request forms, the monthly request lists and the
//! bureaus' published registries (届出受理医療機関名簿, コード内容別医療機関一覧表) from
//! Excel with calamine, and returns domain values plus every problem found, named by
//! file, sheet and cell. It never writes the database and never touches the network.
//!
//! Every reader takes the file's name (for messages) and its bytes, as the web
//! upload and the CLI both have them:
//!
//! | function | reads | one item per |
//! |---|---|---|
//! | [`read_request_forms`] | filled 別紙1 forms, any layout | sheet that looks like a form |
//! | [`read_monthly_list`] | a bureau's list of the month's requests | row |
//! | [`read_requests`] | either, decided sheet by sheet | form sheet or list row |
//! | [`read_plans`] | filled 別紙2 「オンライン資格確認の導入計画書」, any layout | sheet that looks like a 別紙2 |
//! | [`read_registry`] | 届出受理医療機関名簿 or コード内容別医療機関一覧表 | facility and 点数表 |
//!
//! and [`blank_form_xlsx`] / [`filled_form_xlsx`] write our own 別紙1, [`blank_plan_xlsx`]
//! our own 別紙2.
//!
//! A guided tour:
//! - `book` (private): opens .xlsx/.xlsm/.xls/.ods from bytes
//!   under the [`Limits`], refusing zip bombs, encrypted and corrupt files.
//! - [`form`]: finds each field of a form by its printed label.
//! - [`list`]: a monthly list with Japanese headers in any order.
//! - [`plan`]: the 別紙2 導入計画書, items ①–⑬ by their printed labels.
//! - [`registry`]: the registries of codes already taken.
//! - [`blank`]: our blank form.
//! - [`request`]: [`RequestForm`] and its JSON.
//! - [`problem`]: [`Problem`], [`Located`], [`Outcome`].
//! - [`error`]: [`Error`], the refusal of a whole file.
//! - [`limits`]: [`Limits`], configurable.
//! - `grid`, `text`, `values` (private): sparse sheets, text normalisation (全角,
//!   〒, kind marks, 法人 openers), and turning cells into fields with problems.
//!
//! ```
//! use uketsuke_ingest::{Limits, blank_form_xlsx, read_request_forms};
//!
//! let blank = blank_form_xlsx()?;
//! let outcome = read_request_forms("blank.xlsx", &blank, &Limits::default())?;
//! assert!(outcome.items.is_empty());
//! assert!(outcome.problems[0].message.contains("記入"));
//! # Ok::<(), uketsuke_ingest::Error>(())
//! ```

pub mod blank;
mod book;
pub mod error;
pub mod form;
mod grid;
pub mod limits;
pub mod list;
pub mod plan;
pub mod problem;
pub mod registry;
pub mod request;
mod text;
mod values;

pub use blank::{blank_form_xlsx, blank_plan_xlsx, filled_form_xlsx};
pub use error::{Error, Result};
pub use form::read_request_forms;
pub use limits::Limits;
pub use list::{LIST_HEADERS, read_monthly_list};
pub use plan::{PlanRead, is_plan_workbook, read_plans};
pub use problem::{Located, Outcome, Problem, field_label};
pub use registry::{RegistryEntry, RegistryList, read_registry, read_registry_list};
pub use request::{Founder, RequestForm};

/// Reads requests from a workbook whose sheets may be forms or lists: each sheet
/// with a list header (see [`read_monthly_list`]) is read as a list, each other
/// sheet that looks like a 別紙1 as a form, and other sheets are skipped.
pub fn read_requests(file: &str, bytes: &[u8], limits: &Limits) -> Result<Outcome<RequestForm>> {
    let mut book = book::open(file, bytes, limits)?;
    let mut outcome = Outcome::default();
    let mut forms = form::FormReader::new(file);
    let sheets = std::mem::take(&mut book.sheets);
    let mut found = false;
    for grid in &sheets {
        if let Some(header) = list::find_header(grid) {
            found = true;
            list::read_sheet(file, grid, &header, &mut outcome);
        } else {
            let sheet = form::Sheet::new(grid);
            if sheet.looks_like_form() {
                found = true;
                forms.read_sheet(&mut book, &sheet, &mut outcome);
            }
        }
    }
    forms.finish(&mut outcome);
    if !found {
        outcome.problems.push(Problem::new(
            file,
            None,
            "依頼書（別紙1）も、見出し行のある依頼の一覧も見つかりませんでした。\
             「受付番号情報提供依頼書兼回答書」、または「名称」「所在地」「指定希望日」などの見出しのある一覧を提出してください。",
        ));
    }
    Ok(outcome)
}
