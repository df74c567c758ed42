//! What reading gives back: the valid items with where they came from
//! ([`Located`]), and every [`Problem`] found, each named by file, sheet, cell
//! and field, in Japanese.

use std::fmt;

use serde::Serialize;

/// One thing wrong in a file, with enough to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file name as uploaded or given on the command line.
    pub file: String,
    /// The sheet, when the problem is inside one.
    pub sheet: Option<String>,
    /// The cell in A1 notation (`B7`), when one cell is at fault.
    pub cell: Option<String>,
    /// The field's machine name (`designation_date`); see [`field_label`].
    pub field: Option<String>,
    /// Japanese: names the field, quotes what was found, says what was expected.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(file: &str, sheet: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            sheet: sheet.map(str::to_owned),
            cell: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, cell: Option<String>) -> Self {
        self.cell = cell;
        self
    }

    pub(crate) fn field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }
}

impl fmt::Display for Problem {
    /// One line: `依頼書.xlsx・シート「別紙1」・セルD13・項目「指定希望日（予定）」：…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, "・シート「{sheet}」")?;
        }
        if let Some(cell) = &self.cell {
            write!(f, "・セル{cell}")?;
        }
        if let Some(field) = &self.field {
            write!(f, "・項目「{}」", field_label(field))?;
        }
        let message: String = self
            .message
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        write!(f, "：{message}")
    }
}

/// The Japanese name of a field's machine name, as printed on the form;
/// unknown names are returned as they are.
pub fn field_label(field: &str) -> &str {
    match field {
        "kind" => "種別（医科・歯科・薬局）",
        "facility_name" => "名称",
        "facility_postal_code" => "所在地の郵便番号",
        "facility_address" => "所在地",
        "designation_date" => "指定希望日（予定）",
        "request_date" => "依頼日",
        "addressed_bureau" => "宛先の厚生（支）局",
        "founder_name" => "開設者",
        "founder_registration" => "保険医又は保険薬剤師の登録の記号及び番号",
        "contact_phone" => "担当者の連絡先（電話番号）",
        "reply_postal_code" => "回答書の送付先の郵便番号",
        "reply_address" => "回答書の送付先の住所",
        "reply_name" => "回答書の送付先の氏名",
        "prefecture" => "都道府県",
        "fee_schedule" => "区分（医科・歯科・薬局）",
        "code" => "医療機関番号",
        "header" => "見出し行",
        other => match other
            .strip_prefix("plan_")
            .and_then(|n| n.parse::<u8>().ok())
        {
            Some(n @ 1..=13) => uketsuke_domain::plan_item_label(n),
            _ => other,
        },
    }
}

/// A value read from a workbook and where it was: a cell (`B7`, for a form) or
/// a row (`row 12`, for a list or registry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    pub sheet: String,
    /// `B7` (a form: the cell of its 名称) or `row 12` (1-based) for one-row items.
    pub cell_or_row: String,
    pub value: T,
}

/// The result of reading one file: only the fully valid items, and every problem
/// found (not just the first). A file with problems should be imported whole or
/// not at all unless the user explicitly chooses to import the valid items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome<T> {
    pub items: Vec<Located<T>>,
    pub problems: Vec<Problem>,
    /// The rows of a list that had problems, as typed (field → text), so that a clerk
    /// can open one in the entry form and fix it there. Not part of the JSON.
    #[serde(skip)]
    pub rejected: Vec<Located<Vec<(&'static str, String)>>>,
}

impl<T> Default for Outcome<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            problems: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

impl<T> Outcome<T> {
    /// True when nothing was wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The values without their locations.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|l| &l.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_displays_as_one_japanese_line_naming_everything() {
        let p = Problem::new(
            "依頼書.xlsx",
            Some("別紙1"),
            "日付「令和6年13月1日」を\n読み取れません。",
        )
        .at(Some("D13".into()))
        .field("designation_date");
        assert_eq!(
            p.to_string(),
            "依頼書.xlsx・シート「別紙1」・セルD13・項目「指定希望日（予定）」：日付「令和6年13月1日」を 読み取れません。"
        );
        let whole = Problem::new("a.xls", None, "壊れています。");
        assert_eq!(whole.to_string(), "a.xls：壊れています。");
    }
}
