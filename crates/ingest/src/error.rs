//! The crate's one error type: a whole file refused (too large, a zip bomb,
//! encrypted, corrupt, not a spreadsheet, too many sheets, rows or cells). Problems
//! inside a readable file are [`Problem`]s instead, collected all.
//!
//! Every message is Japanese, names the file and says what to do.

use crate::problem::Problem;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A whole file refused before or while opening it. Nothing from such a file is
/// imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is larger than [`Limits::max_file_bytes`](crate::Limits).
    #[error(
        "「{file}」はファイルサイズが{}で、上限の{}を超えているため読み込みません。\
         不要なシートや画像を削除するか、ファイルを分けて提出してください。",
        bytes_text(*size),
        bytes_text(*limit)
    )]
    TooLarge { file: String, size: u64, limit: u64 },

    /// A zip-based workbook whose contents expand beyond the limits.
    #[error(
        "「{file}」は展開すると{}（圧縮率{ratio}倍）になり、上限（{}、{max_ratio}倍）を超えるため読み込みません。\
         通常のExcelファイルではない可能性があります。Excelで開いて保存し直してください。",
        bytes_text(*uncompressed),
        bytes_text(*limit)
    )]
    ZipBomb {
        file: String,
        uncompressed: u64,
        ratio: u64,
        limit: u64,
        max_ratio: u64,
    },

    /// A password-protected (encrypted) workbook.
    #[error(
        "「{file}」はパスワードで保護（暗号化）されているため読み込めません。\
         パスワードを解除して保存し直してください。"
    )]
    Encrypted { file: String },

    /// Looks like a spreadsheet but cannot be read. `detail` is Japanese;
    /// `technical` is the reader's own message, for logs only.
    #[error(
        "「{file}」は壊れているため読み込めません（{detail}）。\
         Excelで開けるか確かめ、保存し直してから提出してください。"
    )]
    Corrupt {
        file: String,
        detail: String,
        technical: String,
    },

    /// Not a spreadsheet this crate reads; `found` says what it is (Japanese).
    #[error(
        "「{file}」は{found}のため読み込めません。\
         Excel形式（.xlsx・.xlsm・.xls）またはOpenDocument形式（.ods）のファイルを提出してください。"
    )]
    UnsupportedFormat { file: String, found: String },

    /// More sheets than [`Limits::max_sheets`](crate::Limits).
    #[error(
        "「{file}」にはシートが{count}枚あり、上限の{limit}枚を超えているため読み込みません。\
         不要なシートを削除するか、ファイルを分けて提出してください。"
    )]
    TooManySheets {
        file: String,
        count: usize,
        limit: usize,
    },

    /// A sheet with more rows than [`Limits::max_rows`](crate::Limits).
    #[error(
        "「{file}」のシート「{sheet}」は行数が上限の{limit}行を超えているため読み込みません。\
         ファイルを分けて提出してください。"
    )]
    TooManyRows {
        file: String,
        sheet: String,
        limit: usize,
    },

    /// More filled cells (or a larger used area) than
    /// [`Limits::max_cells`](crate::Limits).
    #[error(
        "「{file}」はデータの入ったセル（または使われている範囲）が上限の{limit}個を超えているため読み込みません。\
         ファイルを分けて提出してください。"
    )]
    TooManyCells { file: String, limit: usize },

    /// A cell longer than [`Limits::max_cell_chars`](crate::Limits).
    #[error(
        "「{file}」のシート「{sheet}」のセル{cell}は文字数が上限の{limit}字を超えているため読み込みません。\
         内容を確認してください。"
    )]
    CellTooLong {
        file: String,
        sheet: String,
        cell: String,
        limit: usize,
    },

    /// Our own workbook (the blank form) could not be written.
    #[error("様式（別紙1）のExcelファイルを作成できませんでした（{detail}）。")]
    Write { detail: String },
}

impl Error {
    /// The file the error is about (empty for [`Error::Write`]).
    pub fn file(&self) -> &str {
        match self {
            Error::TooLarge { file, .. }
            | Error::ZipBomb { file, .. }
            | Error::Encrypted { file }
            | Error::Corrupt { file, .. }
            | Error::UnsupportedFormat { file, .. }
            | Error::TooManySheets { file, .. }
            | Error::TooManyRows { file, .. }
            | Error::TooManyCells { file, .. }
            | Error::CellTooLong { file, .. } => file,
            Error::Write { .. } => "",
        }
    }

    /// The error as one [`Problem`] of `file` (no cell, no field), for lists of
    /// problems shown per file.
    pub fn to_problem(&self, file: &str) -> Problem {
        let (sheet, cell) = match self {
            Error::TooManyRows { sheet, .. } => (Some(sheet.clone()), None),
            Error::CellTooLong { sheet, cell, .. } => (Some(sheet.clone()), Some(cell.clone())),
            _ => (None, None),
        };
        Problem {
            file: file.to_owned(),
            sheet,
            cell,
            field: None,
            message: self.to_string(),
        }
    }

    pub(crate) fn corrupt(file: &str, detail: &str, technical: impl ToString) -> Self {
        Error::Corrupt {
            file: file.to_owned(),
            detail: detail.to_owned(),
            technical: technical.to_string(),
        }
    }

    pub(crate) fn unsupported(file: &str, found: &str) -> Self {
        Error::UnsupportedFormat {
            file: file.to_owned(),
            found: found.to_owned(),
        }
    }
}

impl From<rust_xlsxwriter::XlsxError> for Error {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        Error::Write {
            detail: e.to_string(),
        }
    }
}

/// `20 MB`, `512 KB`, `300 バイト` (binary units, one decimal when small).
pub(crate) fn bytes_text(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if n >= MIB {
        if n.is_multiple_of(MIB) || n >= 100 * MIB {
            format!("{} MB", n / MIB)
        } else {
            format!("{:.1} MB", n as f64 / MIB as f64)
        }
    } else if n >= KIB {
        format!("{} KB", n / KIB)
    } else {
        format!("{n} バイト")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Error> {
        let file = "依頼書.xlsx".to_owned();
        vec![
            Error::TooLarge {
                file: file.clone(),
                size: 25 * 1024 * 1024,
                limit: 20 * 1024 * 1024,
            },
            Error::ZipBomb {
                file: file.clone(),
                uncompressed: 4 * 1024 * 1024 * 1024,
                ratio: 1000,
                limit: 200 * 1024 * 1024,
                max_ratio: 100,
            },
            Error::Encrypted { file: file.clone() },
            Error::corrupt(&file, "ZIPの構造が壊れています", "invalid Zip archive"),
            Error::unsupported(&file, "PDFファイル"),
            Error::TooManySheets {
                file: file.clone(),
                count: 51,
                limit: 50,
            },
            Error::TooManyRows {
                file: file.clone(),
                sheet: "一覧".into(),
                limit: 100_000,
            },
            Error::TooManyCells {
                file: file.clone(),
                limit: 2_000_000,
            },
            Error::CellTooLong {
                file: file.clone(),
                sheet: "一覧".into(),
                cell: "B3".into(),
                limit: 32_767,
            },
        ]
    }

    #[test]
    fn every_whole_file_error_names_the_file_in_japanese() {
        for e in one_of_each() {
            let msg = e.to_string();
            assert!(msg.contains("「依頼書.xlsx」"), "{msg}");
            assert!(msg.ends_with('。'), "{msg}");
            assert!(
                !msg.contains("invalid Zip"),
                "technical detail leaked: {msg}"
            );
            let p = e.to_problem("依頼書.xlsx");
            assert_eq!(p.message, msg);
            assert_eq!(p.file, "依頼書.xlsx");
        }
    }

    #[test]
    fn an_encrypted_workbook_is_asked_to_be_saved_without_password() {
        let msg = Error::Encrypted {
            file: "a.xlsx".into(),
        }
        .to_string();
        assert!(
            msg.contains("パスワードを解除して保存し直してください"),
            "{msg}"
        );
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes_text(20 * 1024 * 1024), "20 MB");
        assert_eq!(bytes_text(1536 * 1024), "1.5 MB");
        assert_eq!(bytes_text(2048), "2 KB");
        assert_eq!(bytes_text(12), "12 バイト");
    }
}
