//! Turning the cells found for a field into a domain value, with the problem
//! worded the same way by every reader: names the field in Japanese, quotes what
//! was found and says what is expected.

use chrono::NaiveDate;
use uketsuke_domain::{PhoneNumber, PostalCode, parse_date};

use crate::grid::{Cell, Value};
use crate::problem::{Problem, field_label};
use crate::text::{clean, split_postal};

/// Where problems of one sheet go.
pub(crate) struct Sink<'a> {
    pub file: &'a str,
    pub sheet: &'a str,
    pub problems: Vec<Problem>,
}

impl<'a> Sink<'a> {
    pub fn new(file: &'a str, sheet: &'a str) -> Self {
        Self {
            file,
            sheet,
            problems: Vec::new(),
        }
    }

    pub fn report(&mut self, cell: Option<String>, field: &str, message: impl Into<String>) {
        self.problems.push(
            Problem::new(self.file, Some(self.sheet), message)
                .at(cell)
                .field(field),
        );
    }

    /// Reports formulas and error values among `cells`; true when none.
    pub fn usable(&mut self, cells: &[&Cell], field: &str) -> bool {
        let name = field_label(field);
        for c in cells {
            if c.formula {
                self.report(
                    Some(c.a1()),
                    field,
                    format!(
                        "{name}のセル{}に数式が入っています。数式の結果は保存した時点のままで古いことがあるため読み込みません。\
                         数式を値に変換して（値のみ貼り付けして）保存し直してください。",
                        c.a1()
                    ),
                );
                return false;
            }
            if let Value::Error(e) = &c.value {
                self.report(
                    Some(c.a1()),
                    field,
                    format!(
                        "{name}のセル{}がエラー値「{e}」になっています。正しい値を記入してください。",
                        c.a1()
                    ),
                );
                return false;
            }
        }
        true
    }

    /// Reports a required field left blank.
    pub fn missing(&mut self, cell: Option<String>, field: &str, example: &str) {
        self.report(
            cell,
            field,
            format!("{}が記入されていません。{example}", field_label(field)),
        );
    }
}

/// The cells' text joined by spaces, cleaned.
pub(crate) fn joined(cells: &[&Cell]) -> String {
    clean(
        &cells
            .iter()
            .map(|c| c.text().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// A date from the cells of a field: a date-formatted cell, an Excel serial, or
/// text in any notation `parse_date` reads (the parts may be split over cells:
/// `令和|6|年|4|月|1|日`). `None` when nothing but the printed 令和・年・月・日 is there.
pub(crate) fn date_of(cells: &[&Cell]) -> Option<Result<NaiveDate, String>> {
    if let Some(date) = cells.iter().find_map(|c| match c.value {
        Value::Date(d) => Some(d),
        _ => None,
    }) {
        return Some(Ok(date));
    }
    let text = joined(cells);
    if !text.chars().any(|c| c.is_ascii_digit()) && !text.contains('元') {
        return None;
    }
    Some(parse_date(&text).map_err(|e| e.to_string()))
}

/// Reads a date field, reporting a bad one; `required` reports a blank one too.
pub(crate) fn read_date(
    sink: &mut Sink<'_>,
    cells: &[&Cell],
    at: Option<String>,
    field: &str,
    required: bool,
) -> Option<NaiveDate> {
    if !sink.usable(cells, field) {
        return None;
    }
    let at = cells.first().map(|c| c.a1()).or(at);
    match date_of(cells) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            sink.report(
                at,
                field,
                format!(
                    "{}が読み取れません。{e}「令和6年4月1日」「R6.4.1」「2024/4/1」のように記入してください。",
                    field_label(field)
                ),
            );
            None
        }
        None => {
            if required {
                sink.missing(at, field, "「令和6年4月1日」のように記入してください。");
            }
            None
        }
    }
}

/// Reads a phone number (a leading `TEL`, `電話` or `℡` is allowed).
pub(crate) fn read_phone(
    sink: &mut Sink<'_>,
    cells: &[&Cell],
    at: Option<String>,
    field: &str,
) -> Option<PhoneNumber> {
    if !sink.usable(cells, field) {
        return None;
    }
    let at = cells.first().map(|c| c.a1()).or(at);
    let text = joined(cells);
    let trimmed = text
        .trim_start_matches(['T', 'E', 'L', 't', 'e', 'l', '.', ':', '℡', '☎', ' '])
        .trim_start_matches("電話番号")
        .trim_start_matches("電話")
        .trim_start_matches([':', ' ']);
    if trimmed.is_empty() {
        sink.missing(
            at,
            field,
            "「03-1234-5678」のように市外局番から記入してください。",
        );
        return None;
    }
    match PhoneNumber::parse(trimmed) {
        Ok(p) => Some(p),
        Err(e) => {
            sink.report(
                at,
                field,
                format!(
                    "{}が読み取れません。{e}「03-1234-5678」のように市外局番から記入してください。",
                    field_label(field)
                ),
            );
            None
        }
    }
}

/// Reads `〒123-4567 東京都…` (postal code optional) into (postal, address).
/// The address is `None` when blank; a bad postal code is reported under
/// `postal_field`.
pub(crate) fn read_postal_address(
    sink: &mut Sink<'_>,
    text: &str,
    at: Option<String>,
    postal_field: &str,
) -> (Option<PostalCode>, Option<String>, bool) {
    let (postal, address) = split_postal(text);
    let mut ok = true;
    let postal = postal.and_then(|p| match PostalCode::parse(&p) {
        Ok(p) => Some(p),
        Err(e) => {
            ok = false;
            sink.report(
                at.clone(),
                postal_field,
                format!("{}が読み取れません。{e}", field_label(postal_field)),
            );
            None
        }
    });
    let address = (!address.is_empty()).then_some(address);
    (postal, address, ok)
}

/// Reads a postal code written on its own.
pub(crate) fn read_postal(
    sink: &mut Sink<'_>,
    cells: &[&Cell],
    field: &str,
) -> (Option<PostalCode>, bool) {
    if !sink.usable(cells, field) {
        return (None, false);
    }
    let text = joined(cells);
    let text = text.trim_start_matches('〒').trim();
    if text.is_empty() || !text.chars().any(|c| c.is_ascii_digit()) {
        return (None, true);
    }
    match PostalCode::parse(text) {
        Ok(p) => (Some(p), true),
        Err(e) => {
            sink.report(
                cells.first().map(|c| c.a1()),
                field,
                format!("{}が読み取れません。{e}", field_label(field)),
            );
            (None, false)
        }
    }
}
