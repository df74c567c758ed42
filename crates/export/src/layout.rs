//! The columns of the 「新規指定医療機関一覧表」 and how a bureau configures them.
//!
//! Nothing public shows the layout the 実施機関 expects, so the default follows the
//! bureaus' own 届出受理医療機関名簿 (項番, 都道府県コード, 都道府県名, 区分, …) and a
//! bureau can rename, drop or reorder columns in its configuration:
//!
//! ```toml
//! [export.list]
//! title = "新規指定医療機関一覧表"
//! columns = [
//!   "item_no",
//!   "institution_code",
//!   { column = "facility_name", header = "保険医療機関名称" },
//!   "address",
//!   "designation_date",
//! ]
//! ```
//!
//! A column is its id alone or a table with `column` and an optional `header`.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The default title of the list.
pub const DEFAULT_TITLE: &str = "新規指定医療機関一覧表";

/// A column the list can show. Serialised as its snake_case id (`facility_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// 項番: 1, 2, 3… in list order.
    ItemNo,
    /// 都道府県コード: `31`.
    PrefectureCode,
    /// 都道府県名: `鳥取県`.
    PrefectureName,
    /// 区分: 医科・歯科・薬局.
    Kind,
    /// 医療機関等コード: the 10-digit code.
    InstitutionCode,
    /// 受付番号 as answered.
    ReceptionNumber,
    /// 医療機関番号: the 7-digit 医療機関コード.
    MedicalCode,
    /// 併設医療機関番号: the 医科 or 歯科 number of a 医科歯科併設 facility.
    CombinedCode,
    /// 医療機関名称.
    FacilityName,
    /// 郵便番号.
    PostalCode,
    /// 所在地.
    Address,
    /// 電話番号.
    Phone,
    /// 開設者.
    Founder,
    /// 指定年月日.
    DesignationDate,
    /// 答申日: the 地医協's recommendation.
    CouncilDate,
    /// 備考.
    Note,
}

impl Column {
    /// Every column, in the default order.
    pub const ALL: [Column; 16] = [
        Column::ItemNo,
        Column::PrefectureCode,
        Column::PrefectureName,
        Column::Kind,
        Column::InstitutionCode,
        Column::ReceptionNumber,
        Column::MedicalCode,
        Column::CombinedCode,
        Column::FacilityName,
        Column::PostalCode,
        Column::Address,
        Column::Phone,
        Column::Founder,
        Column::DesignationDate,
        Column::CouncilDate,
        Column::Note,
    ];

    /// The id used in configuration (`facility_name`).
    pub fn id(self) -> &'static str {
        match self {
            Column::ItemNo => "item_no",
            Column::PrefectureCode => "prefecture_code",
            Column::PrefectureName => "prefecture_name",
            Column::Kind => "kind",
            Column::InstitutionCode => "institution_code",
            Column::ReceptionNumber => "reception_number",
            Column::MedicalCode => "medical_code",
            Column::CombinedCode => "combined_code",
            Column::FacilityName => "facility_name",
            Column::PostalCode => "postal_code",
            Column::Address => "address",
            Column::Phone => "phone",
            Column::Founder => "founder",
            Column::DesignationDate => "designation_date",
            Column::CouncilDate => "council_date",
            Column::Note => "note",
        }
    }

    /// The header printed when the configuration does not rename the column.
    pub fn default_header(self) -> &'static str {
        match self {
            Column::ItemNo => "項番",
            Column::PrefectureCode => "都道府県コード",
            Column::PrefectureName => "都道府県名",
            Column::Kind => "区分",
            Column::InstitutionCode => "医療機関等コード",
            Column::ReceptionNumber => "受付番号",
            Column::MedicalCode => "医療機関番号",
            Column::CombinedCode => "併設医療機関番号",
            Column::FacilityName => "医療機関名称",
            Column::PostalCode => "郵便番号",
            Column::Address => "所在地",
            Column::Phone => "電話番号",
            Column::Founder => "開設者",
            Column::DesignationDate => "指定年月日",
            Column::CouncilDate => "答申日",
            Column::Note => "備考",
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One column of a layout: which [`Column`], and its header if renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnSpec {
    /// The column.
    pub column: Column,
    /// The header to print instead of [`Column::default_header`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl ColumnSpec {
    /// The column under its default header.
    pub fn new(column: Column) -> Self {
        Self {
            column,
            header: None,
        }
    }

    /// The column under `header`.
    pub fn renamed(column: Column, header: impl Into<String>) -> Self {
        Self {
            column,
            header: Some(header.into()),
        }
    }

    /// The header as printed.
    pub fn header(&self) -> &str {
        self.header
            .as_deref()
            .unwrap_or_else(|| self.column.default_header())
    }
}

impl From<Column> for ColumnSpec {
    fn from(column: Column) -> Self {
        Self::new(column)
    }
}

/// The full form of a [`ColumnSpec`] in configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnSpecTable {
    column: Column,
    #[serde(default)]
    header: Option<String>,
}

impl<'de> Deserialize<'de> for ColumnSpec {
    /// Accepts an id (`"facility_name"`) or a table
    /// (`{ column = "facility_name", header = "名称" }`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor;

        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = ColumnSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column id such as \"facility_name\", or a table { column, header }")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<ColumnSpec, E> {
                Column::deserialize(value.into_deserializer()).map(ColumnSpec::new)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ColumnSpec, A::Error> {
                let table =
                    ColumnSpecTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ColumnSpec {
                    column: table.column,
                    header: table.header,
                })
            }
        }

        deserializer.deserialize_any(SpecVisitor)
    }
}

/// Title and columns of the list. `Default` is every column in the order of
/// [`Column::ALL`] under the title 「新規指定医療機関一覧表」.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListLayout {
    /// The title on the first row (and in the page footer).
    pub title: String,
    /// The columns, left to right.
    pub columns: Vec<ColumnSpec>,
}

impl Default for ListLayout {
    fn default() -> Self {
        Self {
            title: DEFAULT_TITLE.to_owned(),
            columns: Column::ALL.into_iter().map(ColumnSpec::new).collect(),
        }
    }
}

impl ListLayout {
    /// Checks what serde cannot: at least one column, none twice, no empty
    /// header. The writers call it; call it at start-up too, so a bad
    /// configuration fails there and not when the list is due.
    pub fn validate(&self) -> Result<()> {
        if self.columns.is_empty() {
            return Err(Error::NoColumns);
        }
        let mut seen = HashSet::new();
        for spec in &self.columns {
            if !seen.insert(spec.column) {
                return Err(Error::DuplicateColumn {
                    column: spec.column.id(),
                });
            }
            if spec.header.as_deref().is_some_and(|h| h.trim().is_empty()) {
                return Err(Error::EmptyHeader {
                    column: spec.column.id(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_displays_as_its_id() {
        assert_eq!(Column::ItemNo.to_string(), "item_no");
        assert_eq!(Column::Kind.to_string(), "kind");
    }

    #[test]
    fn a_column_spec_of_the_wrong_shape_says_what_is_expected() {
        let e = serde_json::from_str::<ColumnSpec>("12")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "expected a column id such as \"facility_name\", or a table { column, header }"
            ),
            "{e}"
        );
        let spec: ColumnSpec = serde_json::from_str("\"kind\"").unwrap();
        assert_eq!(spec.column, Column::Kind);
    }

    #[test]
    fn the_default_layout_has_every_column_in_order() {
        let layout = ListLayout::default();
        let headers: Vec<&str> = layout.columns.iter().map(ColumnSpec::header).collect();
        assert_eq!(
            headers,
            [
                "項番",
                "都道府県コード",
                "都道府県名",
                "区分",
                "医療機関等コード",
                "受付番号",
                "医療機関番号",
                "併設医療機関番号",
                "医療機関名称",
                "郵便番号",
                "所在地",
                "電話番号",
                "開設者",
                "指定年月日",
                "答申日",
                "備考",
            ]
        );
        assert_eq!(layout.title, "新規指定医療機関一覧表");
        layout.validate().unwrap();
    }

    #[test]
    fn config_accepts_ids_and_tables_and_keeps_the_default_title() {
        let layout: ListLayout = serde_json::from_str(
            r#"{"columns": ["item_no", {"column": "facility_name", "header": "名称"}, "designation_date"]}"#,
        )
        .unwrap();
        assert_eq!(layout.title, DEFAULT_TITLE);
        assert_eq!(
            layout.columns,
            [
                ColumnSpec::new(Column::ItemNo),
                ColumnSpec::renamed(Column::FacilityName, "名称"),
                ColumnSpec::new(Column::DesignationDate),
            ]
        );
    }

    #[test]
    fn config_rejects_unknown_columns_and_fields() {
        let unknown = serde_json::from_str::<ListLayout>(r#"{"columns": ["fax"]}"#).unwrap_err();
        assert!(unknown.to_string().contains("fax"), "{unknown}");
        let field = serde_json::from_str::<ListLayout>(
            r#"{"columns": [{"column": "note", "heading": "x"}]}"#,
        )
        .unwrap_err();
        assert!(field.to_string().contains("heading"), "{field}");
        let top = serde_json::from_str::<ListLayout>(r#"{"colums": []}"#).unwrap_err();
        assert!(top.to_string().contains("colums"), "{top}");
    }

    #[test]
    fn validate_rejects_empty_duplicate_and_blank_headers() {
        let empty = ListLayout {
            columns: vec![],
            ..ListLayout::default()
        };
        assert!(matches!(empty.validate(), Err(Error::NoColumns)));

        let twice = ListLayout {
            columns: vec![Column::Note.into(), Column::Note.into()],
            ..ListLayout::default()
        };
        let err = twice.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "一覧表の列「note」が2回以上指定されています。"
        );

        let blank = ListLayout {
            columns: vec![ColumnSpec::renamed(Column::Note, " ")],
            ..ListLayout::default()
        };
        assert!(matches!(
            blank.validate(),
            Err(Error::EmptyHeader { column: "note" })
        ));
    }
}
