//! Limits that keep a hostile or accidental file from exhausting memory or time.
//! Configurable (e.g. an `[ingest]` section of the application's configuration).

use serde::Deserialize;

/// What a file may be at most. Every check happens before the data is held in
/// memory: the byte length first, then the zip central directory (or the OLE
/// container of an .xls), then the cells while they stream in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Size of the file itself (default 20 MiB).
    pub max_file_bytes: u64,
    /// Total size of a zip-based workbook's contents once expanded (default 200 MiB).
    pub max_uncompressed_bytes: u64,
    /// Expanded size ÷ compressed size above which a zip is a bomb (default 100),
    /// checked for archives and entries that expand to more than 1 MiB.
    pub max_compression_ratio: u64,
    /// Sheets in one workbook (default 50).
    pub max_sheets: usize,
    /// Rows holding data in one sheet (default 100,000).
    pub max_rows: usize,
    /// Cells holding data in one workbook, and the used area of an .xls/.ods sheet
    /// (default 2,000,000).
    pub max_cells: usize,
    /// Characters in one cell (default 32,767, Excel's own limit): a longer text is
    /// hostile, and would be copied into every place that shows it.
    pub max_cell_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 20 * 1024 * 1024,
            max_uncompressed_bytes: 200 * 1024 * 1024,
            max_compression_ratio: 100,
            max_sheets: 50,
            max_rows: 100_000,
            max_cells: 2_000_000,
            max_cell_chars: 32_767,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_deserialize_with_defaults_and_refuse_unknown_keys() {
        let l: Limits = serde_json::from_str(r#"{"max_rows": 10}"#).expect("valid");
        assert_eq!(l.max_rows, 10);
        assert_eq!(l.max_file_bytes, Limits::default().max_file_bytes);
        assert!(serde_json::from_str::<Limits>(r#"{"max_row": 10}"#).is_err());
    }
}
