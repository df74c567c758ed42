//! The list as CSV, for systems rather than people (people get the .xlsx):
//!
//! - one header row with the layout's headers, then one record per facility —
//!   no title or date lines, so any CSV reader takes it as a plain table;
//! - RFC 4180: CRLF line ends, fields with `,` `"` CR or LF quoted, `"` doubled;
//!   a line break inside a field is kept as written;
//! - codes as their digits (`0110750`; leading zeros are in the file — a reader
//!   that guesses numbers, as Excel does on a double click, may drop them);
//! - dates as ISO 8601 `YYYY-MM-DD` (`2024-07-01`): unambiguous for programs and
//!   recognised as dates by Excel and LibreOffice; 和暦 is for the .xlsx;
//! - UTF-8 with a BOM (so Excel detects it), or Shift_JIS as Windows-31J
//!   (with the NEC and IBM extensions, e.g. `①` `髙` `﨑`). Six characters that
//!   JIS X 0208 and Windows-31J map to different Unicode code points are written
//!   as the Windows-31J byte of the same JIS character: `〜` U+301C (as `～`),
//!   `‖` U+2016, `—` U+2014, `¢` `£` `¬` (and U+2212 `−` as `－`, which
//!   encoding_rs does itself); text typed on a Mac or on Linux is full of them.
//!   Any other character Shift_JIS lacks (`𠮷`, emoji) is an error naming the row,
//!   the column and the character — never a silent `?`;
//! - no formulas: a field that a spreadsheet would run as one (it starts with `=`,
//!   `+`, `-`, `@`, a tab or a carriage return — `=HYPERLINK(…)`, `+cmd|…`) is written
//!   with a leading `'` and quoted, as OWASP advises against CSV injection, so Excel
//!   and LibreOffice show the text as typed instead of evaluating it.

use std::borrow::Cow;
use std::fmt::Write as _;

use encoding_rs::SHIFT_JIS;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::ListLayout;
use crate::row::{ListRow, Value};

/// The byte encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvEncoding {
    /// UTF-8 with a byte order mark (`utf8_bom`).
    #[default]
    Utf8Bom,
    /// Shift_JIS as Windows-31J (`shift_jis`).
    ShiftJis,
}

impl CsvEncoding {
    /// The MIME type of a file in this encoding.
    pub fn mime(self) -> &'static str {
        match self {
            CsvEncoding::Utf8Bom => "text/csv; charset=utf-8",
            CsvEncoding::ShiftJis => "text/csv; charset=Shift_JIS",
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes the list as CSV with the layout's columns (see the module docs).
///
/// # Errors
///
/// An invalid layout ([`ListLayout::validate`]), or, for
/// [`CsvEncoding::ShiftJis`], a character Shift_JIS cannot hold
/// ([`Error::Unencodable`]).
pub fn list_csv(layout: &ListLayout, rows: &[ListRow], encoding: CsvEncoding) -> Result<Vec<u8>> {
    layout.validate()?;
    let mut out = match encoding {
        CsvEncoding::Utf8Bom => BOM.to_vec(),
        CsvEncoding::ShiftJis => Vec::new(),
    };
    let mut record = String::new();

    let headers: Vec<&str> = layout.columns.iter().map(|spec| spec.header()).collect();
    write_record(&mut record, headers.iter().copied());
    push_record(&mut out, &record, encoding, || {
        find_unencodable(layout, &headers, 0, "")
    })?;

    for (item_no, row) in (1u32..).zip(rows) {
        let fields: Vec<String> = layout
            .columns
            .iter()
            .map(|spec| field_text(row.value(spec.column, item_no)))
            .collect();
        write_record(&mut record, fields.iter().map(String::as_str));
        push_record(&mut out, &record, encoding, || {
            find_unencodable(layout, &fields, item_no as usize, &row.facility_name)
        })?;
    }
    Ok(out)
}

/// The text of one field.
fn field_text(value: Value<'_>) -> String {
    match value {
        Value::Text(text) => text.into_owned(),
        Value::Number(n) => n.to_string(),
        Value::Date(date) => date.format("%Y-%m-%d").to_string(),
        Value::Empty => String::new(),
    }
}

/// A field as a spreadsheet must not evaluate it: text that starts like a formula
/// (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`; anything else is unchanged.
pub fn neutralize_formula(field: &str) -> Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    }
}

/// Replaces `record` with the fields joined by `,`, quoted where needed, and CRLF;
/// formula-like fields are neutralised ([`neutralize_formula`]) and quoted.
pub fn write_record<'a>(record: &mut String, fields: impl Iterator<Item = &'a str>) {
    record.clear();
    for (i, field) in fields.enumerate() {
        if i > 0 {
            record.push(',');
        }
        let neutral = neutralize_formula(field);
        let field = neutral.as_ref();
        if matches!(neutral, Cow::Owned(_)) || field.contains([',', '"', '\r', '\n']) {
            record.push('"');
            // Writing to a String cannot fail.
            let _ = write!(record, "{}", field.replace('"', "\"\""));
            record.push('"');
        } else {
            record.push_str(field);
        }
    }
    record.push_str("\r\n");
}

/// Appends `record` in `encoding`; `locate` names the culprit if it cannot be encoded.
fn push_record(
    out: &mut Vec<u8>,
    record: &str,
    encoding: CsvEncoding,
    locate: impl FnOnce() -> Error,
) -> Result<()> {
    match encoding {
        CsvEncoding::Utf8Bom => out.extend_from_slice(record.as_bytes()),
        CsvEncoding::ShiftJis => {
            let text = windows_31j_forms(record);
            let (bytes, _, had_errors) = SHIFT_JIS.encode(&text);
            if had_errors {
                return Err(locate());
            }
            out.extend_from_slice(&bytes);
        }
    }
    Ok(())
}

/// The first character of `fields` that Shift_JIS cannot hold, as an error.
fn find_unencodable<S: AsRef<str>>(
    layout: &ListLayout,
    fields: &[S],
    row: usize,
    facility: &str,
) -> Error {
    for (spec, field) in layout.columns.iter().zip(fields) {
        if let Some(character) = field.as_ref().chars().find(|&c| !encodable(c)) {
            return Error::Unencodable {
                row,
                facility: facility.to_owned(),
                column: spec.header().to_owned(),
                character,
            };
        }
    }
    // Unreachable: the record failed, so one of its fields has such a character.
    Error::Unencodable {
        row,
        facility: facility.to_owned(),
        column: String::new(),
        character: char::REPLACEMENT_CHARACTER,
    }
}

fn encodable(c: char) -> bool {
    let mut buf = [0u8; 4];
    !SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2 || windows_31j_form(c) != c
}

/// The code point Windows-31J uses for a JIS X 0208 character that Unicode's
/// JIS mapping puts elsewhere; any other character unchanged.
pub(crate) fn windows_31j_form(c: char) -> char {
    match c {
        '\u{301C}' => '\u{FF5E}', // 〜 WAVE DASH → ～ FULLWIDTH TILDE
        '\u{2016}' => '\u{2225}', // ‖ DOUBLE VERTICAL LINE → ∥ PARALLEL TO
        '\u{2014}' => '\u{2015}', // — EM DASH → ― HORIZONTAL BAR
        '\u{00A2}' => '\u{FFE0}', // ¢ → ￠
        '\u{00A3}' => '\u{FFE1}', // £ → ￡
        '\u{00AC}' => '\u{FFE2}', // ¬ → ￢
        c => c,
    }
}

fn windows_31j_forms(s: &str) -> Cow<'_, str> {
    if s.chars().any(|c| windows_31j_form(c) != c) {
        Cow::Owned(s.chars().map(windows_31j_form).collect())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> String {
        let mut out = String::new();
        write_record(&mut out, fields.iter().copied());
        out
    }

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted() {
        assert_eq!(record(&["a", "b"]), "a,b\r\n");
        assert_eq!(record(&["a,b", "c"]), "\"a,b\",c\r\n");
        assert_eq!(record(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(record(&["two\nlines", ""]), "\"two\nlines\",\r\n");
        assert_eq!(record(&["cr\rhere"]), "\"cr\rhere\"\r\n");
    }

    #[test]
    fn formula_like_fields_are_written_as_quoted_text() {
        assert_eq!(
            record(&["=HYPERLINK(\"http://x\",\"y\")", "ok"]),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",ok\r\n"
        );
        assert_eq!(
            record(&["+cmd|' /C calc'!A0"]),
            "\"'+cmd|' /C calc'!A0\"\r\n"
        );
        assert_eq!(record(&["-2+3", "@SUM(A1)"]), "\"'-2+3\",\"'@SUM(A1)\"\r\n");
        assert_eq!(record(&["\tx"]), "\"'\tx\"\r\n");
        assert_eq!(record(&["\r=1"]), "\"'\r=1\"\r\n");
        // Text that merely contains such characters is left alone.
        assert_eq!(
            record(&["a=b", "03-1234-5678", "2024-07-01"]),
            "a=b,03-1234-5678,2024-07-01\r\n"
        );
        assert_eq!(
            neutralize_formula("さくら内科"),
            Cow::Borrowed("さくら内科")
        );
    }

    #[test]
    fn jis_forms_are_written_as_the_windows_31j_bytes_of_the_same_character() {
        let text = windows_31j_forms("9時〜17時");
        let (wave, _, err) = SHIFT_JIS.encode(&text);
        assert!(!err);
        assert_eq!(SHIFT_JIS.decode(&wave).0, "9時～17時");
        assert!(matches!(
            windows_31j_forms("ascii only"),
            Cow::Borrowed("ascii only")
        ));
        // A text of nothing but JIS forms is mapped too.
        assert_eq!(windows_31j_forms("〜—"), "～―");
    }

    #[test]
    fn windows_31j_extensions_encode_and_rare_kanji_do_not() {
        for c in [
            '①', '㈱', '髙', '﨑', '～', '－', '〜', '−', '‖', '—', '―', '¢', '¬', 'ｱ', '¥',
        ] {
            assert!(encodable(c), "{c} U+{:04X}", u32::from(c));
        }
        for c in ['𠮷', '😀', '鿰'] {
            assert!(!encodable(c), "{c}");
        }
    }
}
