//! The registries of codes already taken, as the bureaus publish them, so that
//! issuance never gives a number twice. Two layouts are recognised per sheet:
//!
//! - **届出受理医療機関名簿**: a header row (row 4 in the published files) with
//!   項番, 都道府県コード, 都道府県名, 区分, 医療機関番号, …, 医療機関名称,
//!   医療機関所在地（郵便番号）, 医療機関所在地（住所）, 電話番号, …, 市町村名; one row per
//!   accepted 施設基準 notification, so a facility repeats on many rows.
//! - **コード内容別医療機関一覧表**: title rows giving the prefecture (`[福井県]`) and
//!   the kind (`[令和 8年 7月 1日現在 薬局 現存/休止]`), a header row with 項番,
//!   医療機関番号, 医療機関名称, 医療機関所在地, 電話番号, …, then one block of 2–6 rows
//!   per facility, starting at the row whose 項番 is a number. Codes are printed
//!   `01-40055`, `01,1047,8` or `01.1857.5`; the address cell holds `〒…` and the
//!   address (one cell or the next rows of the block); the phone is the first
//!   phone number in the block's 電話番号 column (the others are 常勤・非常勤 counts).
//!
//! One entry per (prefecture, 点数表, 医療機関番号): repeats are merged, the first
//! row wins. Only the code must be valid (its 検証番号 checked with the prefecture's
//! rule; 区分 医科 → 1, 歯科 → 3, 薬局 → 4); a postal code or phone that does not
//! parse is left out rather than refusing the facility. The municipality is the
//! 市町村名 column when filled, else derived from the address.

use std::collections::HashSet;

use serde::Serialize;
use uketsuke_domain::{
    FeeSchedule, InstitutionCode, MedicalCode7, PhoneNumber, PostalCode, Prefecture,
};
use uketsuke_rules::numbering::municipality_of;

use crate::book;
use crate::error::Result;
use crate::grid::{Cell, Grid, Value};
use crate::limits::Limits;
use crate::problem::{Located, Outcome, Problem};
use crate::text::{base, clean, key, split_postal};
use crate::values::Sink;

/// A facility whose code is taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryEntry {
    /// The 医療機関等コード: prefecture + 点数表 + the 7-digit 医療機関コード.
    pub code: InstitutionCode,
    pub name: Option<String>,
    pub postal_code: Option<PostalCode>,
    /// As published (usually without the prefecture).
    pub address: Option<String>,
    /// 市町村名 (`鳥取市`, `日野郡江府町`).
    pub municipality: Option<String>,
    /// As published, half-width.
    pub phone: Option<String>,
    /// The 併設医療機関番号 of a 名簿 row: the code of the same facility's other kind
    /// (a 医科 row names its 歯科 number, and the reverse), itself a taken code.
    pub combined: Option<InstitutionCode>,
}

/// Reads a registry workbook (each sheet in either layout; other sheets are
/// skipped) into one entry per (prefecture, 点数表, 医療機関番号).
pub fn read_registry(file: &str, bytes: &[u8], limits: &Limits) -> Result<Outcome<RegistryEntry>> {
    Ok(read_registry_list(file, bytes, limits)?.outcome)
}

/// A registry workbook read whole: its entries and the day it describes.
#[derive(Debug, Default)]
pub struct RegistryList {
    pub outcome: Outcome<RegistryEntry>,
    /// The list's date (「[令和６年７月１日 現在 ]」 in a 名簿's title row,
    /// 「[令和 8年 7月 1日現在 薬局 現存/休止]」 in a コード内容別医療機関一覧表): the first
    /// sheet's that gives one; `None` when no title row says 「…現在」.
    pub as_of: Option<chrono::NaiveDate>,
}

/// [`read_registry`], with the list's date ([`RegistryList::as_of`]).
pub fn read_registry_list(file: &str, bytes: &[u8], limits: &Limits) -> Result<RegistryList> {
    let book = book::open(file, bytes, limits)?;
    let mut as_of = None;
    let mut outcome = Outcome::default();
    let mut seen = HashSet::new();
    let mut any = false;
    for grid in &book.sheets {
        let mut reader = SheetReader {
            sink: Sink::new(file, &grid.name),
            grid,
            seen: &mut seen,
            reported: HashSet::new(),
            items: Vec::new(),
        };
        let header_row = if let Some(cols) = meibo_header(grid) {
            any = true;
            reader.meibo(&cols);
            cols.header_row
        } else if let Some(cols) = code_list_header(grid) {
            any = true;
            reader.code_list(&cols);
            cols.header_row
        } else {
            continue;
        };
        as_of = as_of.or_else(|| title_date(grid, header_row));
        let SheetReader { sink, items, .. } = reader;
        outcome.items.extend(items);
        outcome.problems.extend(sink.problems);
    }
    if !any {
        outcome.problems.push(Problem::new(
            file,
            None,
            "届出受理医療機関名簿・コード内容別医療機関一覧表のどちらの形式でもありません。\
             「医療機関番号」「医療機関名称」などの見出し行のある、厚生（支）局が公表した一覧を指定してください。",
        ));
    }
    Ok(RegistryList { outcome, as_of })
}

/// The date a title row above `header_row` gives as 「…現在」: the date written just
/// before 現在 (和暦 or 西暦, 全角 or not, with or without a bracket).
fn title_date(grid: &Grid, header_row: u32) -> Option<chrono::NaiveDate> {
    grid.rows()
        .take_while(|(r, _)| *r < header_row)
        .flat_map(|(_, cells)| cells.iter())
        .find_map(|c| date_before_genzai(&c.text()))
}

/// `[令和６年７月１日 現在 ]令和６年７月２３日作成` → 2024-07-01.
fn date_before_genzai(text: &str) -> Option<chrono::NaiveDate> {
    let text = uketsuke_domain::normalize_width(text);
    let before = &text[..text.find("現在")?];
    let before = before.trim_end();
    // The date is the last run that parses: try each start after a bracket or space.
    let starts = std::iter::once(0).chain(
        before
            .char_indices()
            .filter(|(_, c)| matches!(c, '[' | '【' | '(' | ']' | '】' | ')'))
            .map(|(i, c)| i + c.len_utf8()),
    );
    starts.filter_map(|i| before.get(i..)).find_map(|tail| {
        let tail = tail.trim_matches(|c: char| c.is_whitespace() || "[]【】()".contains(c));
        uketsuke_domain::parse_date(tail).ok()
    })
}

/// Columns of a registry sheet.
#[derive(Debug, Default)]
struct Columns {
    header_row: u32,
    number: Option<u32>,
    prefecture_code: Option<u32>,
    prefecture_name: Option<u32>,
    kind: Option<u32>,
    code: u32,
    name: Option<u32>,
    postal: Option<u32>,
    address: Option<u32>,
    phone: Option<u32>,
    municipality: Option<u32>,
    remarks: Option<u32>,
    combined: Option<u32>,
}

fn columns_of(row: u32, cells: &[Cell]) -> Option<Columns> {
    let mut cols = Columns {
        header_row: row,
        ..Columns::default()
    };
    let mut code = None;
    for c in cells {
        let k = key(&c.text());
        let b = base(&k);
        let slot = match k.as_str() {
            "項番" => &mut cols.number,
            "都道府県コード" => &mut cols.prefecture_code,
            "都道府県名" => &mut cols.prefecture_name,
            "区分" => &mut cols.kind,
            "医療機関番号" | "医療機関コード" => &mut code,
            "併設医療機関番号" => &mut cols.combined,
            "医療機関名称" | "医療機関名" | "名称" => &mut cols.name,
            "医療機関所在地(郵便番号)" | "郵便番号" => &mut cols.postal,
            "医療機関所在地(住所)" | "医療機関所在地" | "所在地" | "住所" => {
                &mut cols.address
            }
            "電話番号" => &mut cols.phone,
            "市町村名" => &mut cols.municipality,
            _ if b == "備考" || b == "種別" => &mut cols.remarks,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(c.col);
        }
    }
    cols.code = code?;
    Some(cols)
}

/// A 届出受理医療機関名簿 header: 医療機関番号, 区分 and the prefecture.
fn meibo_header(grid: &Grid) -> Option<Columns> {
    grid.rows().take(20).find_map(|(row, cells)| {
        columns_of(row, cells).filter(|c| {
            c.kind.is_some() && (c.prefecture_code.is_some() || c.prefecture_name.is_some())
        })
    })
}

/// A コード内容別医療機関一覧表 header: 項番, 医療機関番号 and a name column.
fn code_list_header(grid: &Grid) -> Option<Columns> {
    grid.rows().take(20).find_map(|(row, cells)| {
        columns_of(row, cells).filter(|c| c.number.is_some() && c.name.is_some())
    })
}

struct SheetReader<'a, 'g> {
    sink: Sink<'a>,
    grid: &'g Grid,
    seen: &'a mut HashSet<(u8, u8, String)>,
    /// Keys already reported (a bad code repeats on many rows).
    reported: HashSet<String>,
    items: Vec<Located<RegistryEntry>>,
}

/// What a row or block gives.
struct Raw<'g> {
    row: u32,
    code_cell: &'g Cell,
    name: Option<String>,
    postal: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    municipality: Option<String>,
    combined: Option<String>,
}

impl<'g> SheetReader<'_, 'g> {
    fn text(&self, row: u32, col: Option<u32>) -> Option<String> {
        let cell = self.grid.get(row, col?)?;
        let t = clean(&cell.text());
        (!t.is_empty()).then_some(t)
    }

    fn meibo(&mut self, cols: &Columns) {
        let rows: Vec<u32> = self
            .grid
            .rows_after(cols.header_row)
            .map(|(r, _)| r)
            .collect();
        for row in rows {
            let Some(code_cell) = self.grid.get(row, cols.code).filter(|c| !c.is_blank()) else {
                continue;
            };
            let prefecture = self
                .text(row, cols.prefecture_code)
                .or_else(|| self.text(row, cols.prefecture_name));
            let prefecture = match prefecture.as_deref().map(Prefecture::parse) {
                Some(Ok(p)) => p,
                other => {
                    let found = prefecture.unwrap_or_default();
                    let message = match other {
                        Some(Err(e)) => e.to_string(),
                        _ => "都道府県コードが空欄です。".to_owned(),
                    };
                    let col = cols.prefecture_code.or(cols.prefecture_name).unwrap_or(0);
                    self.once(
                        format!("pref:{found}"),
                        Some(crate::grid::a1(row, col)),
                        "prefecture",
                        message,
                    );
                    continue;
                }
            };
            let kind_text = self.text(row, cols.kind).unwrap_or_default();
            let fee = match FeeSchedule::parse(&kind_text) {
                Ok(f) => f,
                Err(e) => {
                    let col = cols.kind.unwrap_or(0);
                    self.once(
                        format!("kind:{kind_text}"),
                        Some(crate::grid::a1(row, col)),
                        "fee_schedule",
                        e.to_string(),
                    );
                    continue;
                }
            };
            let postal = self.text(row, cols.postal);
            let address = self.text(row, cols.address);
            let raw = Raw {
                row,
                code_cell,
                name: self.text(row, cols.name),
                postal,
                address,
                phone: self.text(row, cols.phone),
                municipality: self.text(row, cols.municipality),
                combined: self.text(row, cols.combined),
            };
            self.add(prefecture, fee, raw);
        }
    }

    fn code_list(&mut self, cols: &Columns) {
        let (prefecture, kinds) = self.title(cols.header_row);
        let Some(prefecture) = prefecture else {
            self.sink.report(
                None,
                "prefecture",
                "この一覧の都道府県が分かりません。表題の行（例:「[福井県]」）を消さずに提出してください。",
            );
            return;
        };
        if kinds.is_empty() {
            self.sink.report(
                None,
                "fee_schedule",
                "この一覧の種別（医科・歯科・薬局）が分かりません。表題の行（例:「[令和 8年 7月 1日現在 薬局 現存/休止]」）を消さずに提出してください。",
            );
            return;
        }
        let Some(number_col) = cols.number else {
            return;
        };
        // Block starts: 項番 is a number and there is a code.
        let starts: Vec<u32> = self
            .grid
            .rows_after(cols.header_row)
            .filter(|(r, _)| {
                self.grid.get(*r, number_col).is_some_and(is_number)
                    && self.grid.get(*r, cols.code).is_some_and(|c| !c.is_blank())
            })
            .map(|(r, _)| r)
            .collect();
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(u32::MAX);
            let block: Vec<u32> = std::iter::once(start)
                .chain(
                    self.grid
                        .rows_after(start)
                        .map(|(r, _)| r)
                        .take_while(|&r| r < end)
                        .take(9),
                )
                .collect();
            let Some(code_cell) = self.grid.get(start, cols.code) else {
                continue;
            };
            let column = |col: Option<u32>| -> Vec<String> {
                block.iter().filter_map(|&r| self.text(r, col)).collect()
            };
            let address_lines = column(cols.address);
            let (postal, address) = split_postal(&address_lines.join(" "));
            let phone = column(cols.phone)
                .into_iter()
                .find_map(|t| PhoneNumber::parse(&t).ok().map(|p| p.to_string()));
            let fee = if kinds.len() == 1 {
                kinds[0]
            } else if column(cols.remarks).iter().any(|t| t.contains("歯科")) {
                FeeSchedule::Dental
            } else {
                FeeSchedule::Medical
            };
            let raw = Raw {
                row: start,
                code_cell,
                name: self.text(start, cols.name),
                postal,
                address: (!address.is_empty()).then_some(address),
                phone,
                municipality: None,
                combined: None,
            };
            self.add(prefecture, fee, raw);
        }
    }

    /// The prefecture (`[福井県]`) and kinds (`… 現在 薬局 現存/休止`) in the rows
    /// above the header.
    fn title(&self, header_row: u32) -> (Option<Prefecture>, Vec<FeeSchedule>) {
        let mut prefecture = None;
        let mut kinds = Vec::new();
        for (_, cells) in self.grid.rows().take_while(|(r, _)| *r < header_row) {
            for c in cells {
                let k = key(&c.text());
                let inner: String = k.chars().filter(|ch| !"[]【】()".contains(*ch)).collect();
                if prefecture.is_none() {
                    prefecture = Prefecture::parse(&inner).ok();
                }
                if k.contains("現在") || k.contains("医療機関一覧") && !k.contains("コード内容別")
                {
                    for (word, fee) in [
                        ("医科", FeeSchedule::Medical),
                        ("歯科", FeeSchedule::Dental),
                        ("薬局", FeeSchedule::Pharmacy),
                        ("調剤", FeeSchedule::Pharmacy),
                    ] {
                        if k.contains(word) && !kinds.contains(&fee) {
                            kinds.push(fee);
                        }
                    }
                }
            }
        }
        (prefecture, kinds)
    }

    fn once(&mut self, key: String, cell: Option<String>, field: &str, message: String) {
        if self.reported.insert(key) {
            self.sink.report(cell, field, message);
        }
    }

    fn add(&mut self, prefecture: Prefecture, fee: FeeSchedule, raw: Raw<'g>) {
        let written = raw.code_cell.text();
        let first_line = clean(written.lines().next().unwrap_or_default());
        let written = clean(&written);
        let medical = MedicalCode7::parse(&first_line).or_else(|e| {
            code_prefix(&first_line)
                .map_or(Err(e.clone()), |p| MedicalCode7::parse(&p).map_err(|_| e))
        });
        let at = Some(raw.code_cell.a1());
        let label = format!("{}・{}", prefecture.name(), fee.name());
        let medical = match medical {
            Ok(m) => m,
            Err(e) => {
                self.once(
                    format!("code:{}:{}:{written}", prefecture.code(), fee.digit()),
                    at,
                    "code",
                    format!("医療機関番号（{label}）を読み取れません。{e}"),
                );
                return;
            }
        };
        let dedupe = (prefecture.code(), fee.digit(), medical.as_str().to_owned());
        if self.seen.contains(&dedupe) {
            return;
        }
        let code = match InstitutionCode::from_parts(prefecture, fee, &medical) {
            Ok(c) => c,
            Err(e) => {
                self.once(
                    format!("code:{}:{}:{}", prefecture.code(), fee.digit(), medical.as_str()),
                    at,
                    "code",
                    format!("医療機関番号「{}」（{label}）は医療機関等コードとして正しくありません。{e}", medical.as_str()),
                );
                return;
            }
        };
        self.seen.insert(dedupe);
        let combined = raw
            .combined
            .as_deref()
            .and_then(|text| self.combined(prefecture, fee, text, raw.code_cell));
        let postal_code = raw
            .postal
            .as_deref()
            .and_then(|p| PostalCode::parse(p).ok());
        let municipality = raw
            .municipality
            .clone()
            .or_else(|| raw.address.as_deref().and_then(municipality_of));
        self.items.push(Located {
            sheet: self.grid.name.clone(),
            cell_or_row: format!("row {}", u64::from(raw.row) + 1),
            value: RegistryEntry {
                code,
                name: raw.name,
                postal_code,
                address: raw.address,
                municipality,
                phone: raw.phone,
                combined,
            },
        });
    }

    /// The code a 併設医療機関番号 stands for: the other kind's (医科 ↔ 歯科), in the same
    /// prefecture, with its own 検証番号 checked; a number that is not one is reported.
    fn combined(
        &mut self,
        prefecture: Prefecture,
        fee: FeeSchedule,
        text: &str,
        at: &Cell,
    ) -> Option<InstitutionCode> {
        let other = match fee {
            FeeSchedule::Medical => FeeSchedule::Dental,
            FeeSchedule::Dental => FeeSchedule::Medical,
            _ => return None,
        };
        let parsed = MedicalCode7::parse(text)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                InstitutionCode::from_parts(prefecture, other, &m).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(code) => Some(code),
            Err(e) => {
                self.once(
                    format!("combined:{}:{text}", prefecture.code()),
                    Some(at.a1()),
                    "combined",
                    format!(
                        "併設医療機関番号「{text}」（{}・{}）は医療機関等コードとして正しくありません。{e}",
                        prefecture.name(),
                        other.name()
                    ),
                );
                None
            }
        }
    }
}

/// A cell holding a whole number (項番).
fn is_number(c: &Cell) -> bool {
    match &c.value {
        Value::Number(n) => n.fract() == 0.0 && *n >= 0.0,
        Value::Text(t) => {
            let t = clean(t);
            !t.is_empty() && t.chars().all(|ch| ch.is_ascii_digit())
        }
        _ => false,
    }
}

/// The leading part of `text` holding the first 7 digits with their separators
/// (`01,1047,8 (旧)` → `01,1047,8`).
fn code_prefix(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut digits = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            out.push(c);
            if digits == 7 {
                return Some(out);
            }
        } else if matches!(c, '-' | ',' | '.' | ' ' | '・') {
            out.push(c);
        } else {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_gives_the_lists_date() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(
            date_before_genzai("[令和６年７月１日 現在 ]令和６年７月２３日作成"),
            d(2024, 7, 1)
        );
        assert_eq!(
            date_before_genzai("[令和 8年 7月 1日現在 薬局 現存/休止]"),
            d(2026, 7, 1)
        );
        assert_eq!(date_before_genzai("2025年8月1日現在"), d(2025, 8, 1));
        assert_eq!(date_before_genzai("届出受理医療機関名簿"), None);
        assert_eq!(date_before_genzai("現在"), None);
    }

    #[test]
    fn a_code_prefix_stops_after_seven_digits() {
        assert_eq!(code_prefix("01,1047,8 (旧)"), Some("01,1047,8".into()));
        assert_eq!(code_prefix("01-40055"), Some("01-40055".into()));
        assert_eq!(code_prefix("01-4005"), None);
    }
}
