//! The one error type of the export crate, with messages in Japanese that name the
//! row, the column and the character at fault.

/// What can go wrong while writing a list or an answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The layout has no column at all.
    #[error("一覧表の列が1つも指定されていません。")]
    NoColumns,

    /// The layout names a column twice.
    #[error("一覧表の列「{column}」が2回以上指定されています。")]
    DuplicateColumn {
        /// The column's id (`facility_name`).
        column: &'static str,
    },

    /// A renamed header is empty.
    #[error("一覧表の列「{column}」の見出しが空です。")]
    EmptyHeader {
        /// The column's id.
        column: &'static str,
    },

    /// A date cannot be stored as an Excel date (before 1900 or after 9999).
    #[error("{row}件目（{facility}）の「{column}」を Excel の日付にできません: {source}")]
    Date {
        /// 1-based data row (項番).
        row: usize,
        /// The facility's name, to find the row.
        facility: String,
        /// The column's header as printed.
        column: String,
        /// Why, from the domain crate.
        #[source]
        source: uketsuke_domain::Error,
    },

    /// A character cannot be written in Shift_JIS (Windows-31J).
    #[error(
        "{}の「{column}」にある「{character}」（U+{:04X}）は Shift_JIS で表せません。\
         文字を置き換えるか、UTF-8（BOM付き）で出力してください。",
        row_label(*.row, .facility),
        u32::from(*.character)
    )]
    Unencodable {
        /// 1-based data row (項番); 0 for the header row.
        row: usize,
        /// The facility's name (empty for the header row).
        facility: String,
        /// The column's header as printed.
        column: String,
        /// The first character that has no Shift_JIS code.
        character: char,
    },

    /// rust_xlsxwriter refused something.
    #[error("Excel ファイルを作成できません: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn row_label(row: usize, facility: &str) -> String {
    if row == 0 {
        "見出し行".to_owned()
    } else {
        format!("{row}件目（{facility}）")
    }
}
