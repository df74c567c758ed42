//! Filled 別紙2 「オンライン資格確認の導入計画書」, in whatever layout: like the 別紙1
//! reader ([`crate::form`]), every item is found by its printed label, never by a
//! fixed cell.
//!
//! ## Labels
//! Compared without spaces, 全角/半角 alike and without bracketed parts
//! (`⑤ 調達状況 (ア～ウから選択)` = `調達状況`). A leading ①–⑬ names the item even
//! when the words differ. Recognised: ① 名称 (`(フリガナ) 名称`, 医療機関名称, …) and
//! 所在地; ② 氏名, 保険医又は保険薬剤師の登録の記号及び番号, 住所, 電話番号, Email;
//! ③ アカウント作成; ④ 利用申請 / 電子証明書; ⑤ 調達状況; ⑥ メーカー名; ⑦ 整備状況;
//! ⑧ ネットワーク導入事業者名; ⑨ ネットワーク種類; ⑩ 導入作業開始; ⑪ システム導入事業者名;
//! ⑫ 運用開始; ⑬ 診療・調剤開始.
//!
//! ## Values
//! As for 別紙1: the cells right of the label on its row up to the next label (notes
//! starting with ※ skipped; split values joined: `〒|100|-|0013|東京都…`,
//! `西暦|2026|年|4|月|1|日`), else the first row below (within 2 rows) from the
//! label's column rightwards that does not start with a label. ⑤ and ⑦ may instead
//! be marked on the printed choices below them: `〔 ア 整備済み ○イ 契約済み（5月整備予定） ウ 見積もり中 〕`.
//! Dates: date cells, Excel serials, 西暦 or 和暦 text, 全角 digits.
//!
//! Only values that cannot be read are problems here; an item left blank is the
//! check's finding (`uketsuke_rules::plan`), placed by [`PlanRead::cells`].

use std::collections::BTreeMap;

use uketsuke_domain::{
    Done, NetworkType, Plan, PostalCode, Readiness, parse_plan_date, plan_item_label, plan_text,
};

use crate::book;
use crate::error::Result;
use crate::grid::{Cell, Grid, Value};
use crate::limits::Limits;
use crate::problem::{Located, Outcome, Problem};
use crate::text::{MARKS, clean, key, split_postal, strip_groups};

/// One plan read from a sheet, and where each item was (item → `B7`: its value's
/// first cell, or its label's when blank).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanRead {
    pub plan: Plan,
    pub cells: BTreeMap<u8, String>,
    /// Where each part of ① and ② is (`"2.address"` → `B7`), as [`PlanRead::cells`].
    pub part_cells: BTreeMap<String, String>,
}

impl PlanRead {
    /// The cell of item `item` (its `part`, for ① and ②, when known).
    pub fn cell_of(&self, item: u8, part: Option<&str>) -> Option<&String> {
        part.and_then(|p| self.part_cells.get(&format!("{item}.{p}")))
            .or_else(|| self.cells.get(&item))
    }
}

/// The part of ① or ② a label names.
fn part_of(label: Label) -> Option<(u8, &'static str)> {
    match label {
        Label::FacilityName => Some((1, "name")),
        Label::FacilityAddress => Some((1, "address")),
        Label::FounderName => Some((2, "name")),
        Label::Registration => Some((2, "registration")),
        Label::FounderAddress => Some((2, "address")),
        Label::Phone => Some((2, "phone")),
        Label::Email => Some((2, "email")),
        _ => None,
    }
}

/// What a cell is on a 別紙2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Title,
    Item(u8),
    FacilityName,
    FacilityAddress,
    FounderName,
    Registration,
    FounderAddress,
    Phone,
    Email,
    /// The printed choices `〔 ア 整備済み イ 契約済み（ 月整備予定） ウ 見積もり中 〕`.
    Choices,
    /// Section headings and printed words that are not values.
    Stop,
    /// ※ notes and sentences.
    Note,
}

const CIRCLED: [char; 13] = [
    '①', '②', '③', '④', '⑤', '⑥', '⑦', '⑧', '⑨', '⑩', '⑪', '⑫', '⑬',
];

fn classify(text: &str) -> Option<Label> {
    let k = key(text);
    if k.is_empty() {
        return None;
    }
    if k.contains("導入計画書") {
        return Some(Label::Title);
    }
    if k.starts_with(['※', '*', '＊']) || (k.ends_with('。') && k.chars().count() > 20) {
        return Some(Label::Note);
    }
    if k.contains("見積もり中") && k.contains("契約済") {
        return Some(Label::Choices);
    }
    let number = k
        .chars()
        .next()
        .and_then(|c| CIRCLED.iter().position(|&x| x == c))
        .map(|i| i as u8 + 1);
    let rest: String = k.chars().skip(usize::from(number.is_some())).collect();
    let b = strip_groups(&rest);
    let b = b.trim_end_matches('〒');
    let has = |w: &str| b.contains(w);
    let item = if has("アカウント作成") {
        Some(3)
    } else if has("利用申請") || has("電子証明書") {
        Some(4)
    } else if has("調達状況") {
        Some(5)
    } else if has("メーカー") {
        Some(6)
    } else if has("整備状況") {
        Some(7)
    } else if has("ネットワーク導入事業者") || has("ネットワーク事業者") {
        Some(8)
    } else if has("ネットワーク種類") || has("ネットワークの種類") {
        Some(9)
    } else if has("導入作業開始") {
        Some(10)
    } else if has("システム導入事業者") || has("システム事業者") {
        Some(11)
    } else if has("運用開始") {
        Some(12)
    } else if has("診療・調剤開始") || has("診療開始") || has("調剤開始") {
        Some(13)
    } else {
        None
    };
    if let Some(n) = item {
        return Some(Label::Item(n));
    }
    let label = if b.contains("登録の記号") || b == "登録番号" {
        Label::Registration
    } else if b.ends_with("名称") || b == "医療機関名" || b == "薬局名" {
        Label::FacilityName
    } else if b.ends_with("所在地") {
        Label::FacilityAddress
    } else if b.ends_with("氏名") {
        Label::FounderName
    } else if b == "住所" || b == "開設者住所" || b == "開設者の住所" {
        Label::FounderAddress
    } else if b.contains("電話番号") || b == "電話" || b.eq_ignore_ascii_case("tel") {
        Label::Phone
    } else if b.to_ascii_lowercase().contains("email")
        || b.to_ascii_lowercase().contains("e-mail")
        || b.contains("メール")
    {
        Label::Email
    } else if number.is_some()
        || b.starts_with("開設者")
        || [
            "医療機関・薬局",
            "医療機関",
            "薬局",
            "フリガナ",
            "ふりがな",
            "ポータルサイト関係手続",
            "カードリーダー",
            "ネットワーク整備",
            "導入作業等",
            "医療機関・薬局の基本情報",
            "届出内容",
            "別紙2",
            "記載例",
            "記入例",
        ]
        .contains(&b)
    {
        match number {
            Some(n @ 3..=13) => Label::Item(n),
            _ => Label::Stop,
        }
    } else {
        return None;
    };
    Some(label)
}

struct Sheet<'g> {
    grid: &'g Grid,
    labels: Vec<Option<Label>>,
}

impl<'g> Sheet<'g> {
    fn new(grid: &'g Grid) -> Self {
        let labels = grid
            .cells()
            .iter()
            .map(|c| match &c.value {
                Value::Text(t) if t.len() <= 1200 => classify(t),
                _ => None,
            })
            .collect();
        Self { grid, labels }
    }

    fn label_at(&self, cell: &Cell) -> Option<Label> {
        let i = self.grid.index_of(cell.row, cell.col)?;
        self.labels.get(i).copied().flatten()
    }

    fn found(&self) -> impl Iterator<Item = (&'g Cell, Label)> + '_ {
        self.grid
            .cells()
            .iter()
            .zip(&self.labels)
            .filter_map(|(c, l)| l.map(|l| (c, l)))
    }

    /// A 別紙2: its title, or four items' labels.
    fn looks_like_plan(&self) -> bool {
        let mut items: Vec<u8> = Vec::new();
        for (_, l) in self.found() {
            match l {
                Label::Title => return true,
                Label::Item(n) if !items.contains(&n) => items.push(n),
                _ => {}
            }
        }
        items.len() >= 4
    }

    fn first(&self, label: Label) -> Option<&'g Cell> {
        self.found().find(|(_, l)| *l == label).map(|(c, _)| c)
    }

    fn right(&self, row: u32, col: u32) -> Vec<&'g Cell> {
        let mut out = Vec::new();
        for c in self.grid.row(row).iter().filter(|c| c.col > col) {
            match self.label_at(c) {
                Some(Label::Note) => continue,
                Some(_) => break,
                None if c.is_blank() => continue,
                None => out.push(c),
            }
        }
        out
    }

    fn below(&self, row: u32, col: u32) -> Vec<&'g Cell> {
        for (r, cells) in self.grid.rows_after(row) {
            if r > row.saturating_add(2) {
                break;
            }
            let Some(first) = cells
                .iter()
                .find(|c| !c.is_blank() && self.label_at(c) != Some(Label::Note))
            else {
                continue;
            };
            if first.col < col || self.label_at(first).is_some() {
                return Vec::new();
            }
            let mut out = vec![first];
            out.extend(self.right(r, first.col));
            return out;
        }
        Vec::new()
    }

    /// The label's cell and its value's cells (empty when blank).
    fn value(&self, label: Label) -> Option<(&'g Cell, Vec<&'g Cell>)> {
        let cell = self.first(label)?;
        let right = self.right(cell.row, cell.col);
        let cells = if right.iter().any(|c| is_filled(c)) {
            right
        } else {
            self.below(cell.row, cell.col)
        };
        let cells = if cells.iter().any(|c| is_filled(c)) {
            cells
        } else {
            Vec::new()
        };
        Some((cell, cells))
    }
}

/// Holds more than the printed parts of a value (〒, —, 西暦・年・月・日).
fn is_filled(c: &Cell) -> bool {
    if c.formula {
        return true;
    }
    let t = c.text();
    let t = t.replace("西暦", "");
    t.chars()
        .any(|ch| !ch.is_whitespace() && !"〒-—－ー−‐年月日()（）".contains(ch))
}

fn joined(cells: &[&Cell], sep: &str) -> String {
    clean(
        &cells
            .iter()
            .map(|c| c.text().into_owned())
            .collect::<Vec<_>>()
            .join(sep),
    )
}

/// Reads every sheet that looks like a 別紙2 (a sheet called 記載例 or 記入例 is
/// skipped). `None` when no sheet does: the file is something else.
pub fn read_plans(file: &str, bytes: &[u8], limits: &Limits) -> Result<Option<Outcome<PlanRead>>> {
    let book = book::open(file, bytes, limits)?;
    let mut outcome = Outcome::default();
    let mut any = false;
    for grid in &book.sheets {
        let sheet = Sheet::new(grid);
        if !sheet.looks_like_plan() {
            continue;
        }
        any = true;
        let name = key(&grid.name);
        if ["記載例", "記入例", "見本"]
            .iter()
            .any(|w| name.contains(w))
        {
            continue;
        }
        read_sheet(file, &sheet, &mut outcome);
    }
    Ok(any.then_some(outcome))
}

/// Whether a workbook holds a 別紙2 (and so is not a 別紙1 or a list).
pub fn is_plan_workbook(file: &str, bytes: &[u8], limits: &Limits) -> bool {
    matches!(read_plans(file, bytes, limits), Ok(Some(_)))
}

struct Reader<'a, 'g> {
    file: &'a str,
    sheet: &'a Sheet<'g>,
    problems: Vec<Problem>,
    cells: BTreeMap<u8, String>,
    part_cells: BTreeMap<String, String>,
}

impl<'g> Reader<'_, 'g> {
    fn problem(&mut self, cell: &Cell, item: u8, message: String) {
        self.problems.push(
            Problem::new(self.file, Some(&self.sheet.grid.name), message)
                .at(Some(cell.a1()))
                .field(&format!("plan_{item}")),
        );
    }

    /// The cells of `label` for item `item`, noting where it is; `None` when blank
    /// or not on the sheet. A formula or an error value is a problem.
    fn cells(&mut self, label: Label, item: u8) -> Option<Vec<&'g Cell>> {
        let (at, cells) = self.sheet.value(label)?;
        let first = cells.first().copied().unwrap_or(at);
        self.cells.entry(item).or_insert_with(|| first.a1());
        if let Some((n, part)) = part_of(label) {
            self.part_cells.insert(format!("{n}.{part}"), first.a1());
            if part == "address" {
                self.part_cells
                    .insert(format!("{n}.postal_code"), first.a1());
            }
        }
        if let Some(bad) = cells
            .iter()
            .find(|c| c.formula || matches!(c.value, Value::Error(_)))
        {
            let what = if bad.formula {
                "数式が入っています。値に変換して（値のみ貼り付けして）保存し直してください。"
                    .to_owned()
            } else {
                format!(
                    "エラー値「{}」になっています。正しい値を記入してください。",
                    bad.text()
                )
            };
            self.problem(
                bad,
                item,
                format!("{}のセル{}に{what}", plan_item_label(item), bad.a1()),
            );
            return None;
        }
        (!cells.is_empty()).then_some(cells)
    }

    fn text(&mut self, label: Label, item: u8) -> Option<String> {
        let cells = self.cells(label, item)?;
        plan_text(&joined(&cells, " "))
    }

    /// `〒100-0013 東京都…` as (postal, address).
    fn address(&mut self, label: Label, item: u8) -> (Option<String>, Option<String>) {
        let Some(cells) = self.cells(label, item) else {
            return (None, None);
        };
        let (postal, address) = split_postal(&joined(&cells, " "));
        let postal = postal.map(|p| match PostalCode::parse(&p) {
            Ok(code) => code.to_string(),
            Err(_) => p,
        });
        (postal, plan_text(&address))
    }

    fn parsed<T>(
        &mut self,
        label: Label,
        item: u8,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let cells = self.cells(label, item)?;
        let text = joined(&cells, " ");
        match parse(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(
                    cells[0],
                    item,
                    format!("{}が読み取れません。{e}", plan_item_label(item)),
                );
                None
            }
        }
    }

    fn date(&mut self, item: u8) -> Option<chrono::NaiveDate> {
        let cells = self.cells(Label::Item(item), item)?;
        if let Some(d) = cells.iter().find_map(|c| match c.value {
            Value::Date(d) => Some(d),
            _ => None,
        }) {
            return Some(d);
        }
        match parse_plan_date(&joined(&cells, " ")) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(
                    cells[0],
                    item,
                    format!("{}が読み取れません。{e}", plan_item_label(item)),
                );
                None
            }
        }
    }

    /// ⑤ / ⑦: the value beside the label, or a mark on the printed choices below it.
    fn readiness(&mut self, item: u8) -> Option<Readiness> {
        if let Some(r) = self.parsed(Label::Item(item), item, Readiness::parse) {
            return Some(r);
        }
        let label = self.sheet.first(Label::Item(item))?;
        let choices = self
            .sheet
            .grid
            .rows_after(label.row)
            .take_while(|(r, _)| *r <= label.row.saturating_add(2))
            .flat_map(|(_, cells)| cells.iter())
            .find(|c| self.sheet.label_at(c) == Some(Label::Choices))?;
        let text = key(&choices.text());
        let chars: Vec<char> = text.chars().collect();
        let mut chosen = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            if MARKS.contains(c)
                && let Some(letter) = chars[i + 1..]
                    .iter()
                    .take(2)
                    .find(|x| matches!(x, 'ア' | 'イ' | 'ウ'))
                && !chosen.contains(letter)
            {
                chosen.push(*letter);
            }
        }
        match chosen.as_slice() {
            [] => None,
            ['イ'] => {
                let after = text.split_once("契約済").map_or("", |(_, a)| a);
                let digits: String = after
                    .chars()
                    .skip_while(|c| !c.is_ascii_digit())
                    .take_while(char::is_ascii_digit)
                    .collect();
                Some(Readiness::Contracted {
                    month: digits.parse().ok().filter(|m| (1..=12).contains(m)),
                })
            }
            [one] => {
                self.cells.insert(item, choices.a1());
                Readiness::parse(&one.to_string()).ok()
            }
            _ => {
                self.problem(
                    choices,
                    item,
                    format!(
                        "{}に複数の選択肢が選ばれています。ア・イ・ウから1つ選んでください。",
                        plan_item_label(item)
                    ),
                );
                None
            }
        }
    }
}

fn read_sheet(file: &str, sheet: &Sheet<'_>, outcome: &mut Outcome<PlanRead>) {
    let mut r = Reader {
        file,
        sheet,
        problems: Vec::new(),
        cells: BTreeMap::new(),
        part_cells: BTreeMap::new(),
    };
    let mut plan = Plan::default();
    plan.facility.name = r.text(Label::FacilityName, 1);
    let (postal, address) = r.address(Label::FacilityAddress, 1);
    plan.facility.postal_code = postal;
    plan.facility.address = address;
    plan.founder.name = r.text(Label::FounderName, 2);
    plan.founder.registration = r.text(Label::Registration, 2);
    let (postal, address) = r.address(Label::FounderAddress, 2);
    plan.founder.postal_code = postal;
    plan.founder.address = address;
    plan.founder.phone = r
        .cells(Label::Phone, 2)
        .map(|cells| joined(&cells, "").replace(' ', ""))
        .filter(|p| !p.is_empty());
    plan.founder.email = r.text(Label::Email, 2);
    plan.account = r.parsed(Label::Item(3), 3, Done::parse);
    plan.application = r.parsed(Label::Item(4), 4, Done::parse);
    plan.card_reader = r.readiness(5);
    plan.card_reader_maker = r.text(Label::Item(6), 6);
    plan.network = r.readiness(7);
    plan.network_company = r.text(Label::Item(8), 8);
    plan.network_type = r.parsed(Label::Item(9), 9, NetworkType::parse);
    plan.work_start = r.date(10);
    plan.system_company = r.text(Label::Item(11), 11);
    plan.operation_start = r.date(12);
    plan.practice_start = r.date(13);
    // Where a blank part's or item's label is, for the check's findings.
    for label in [
        Label::FacilityName,
        Label::FacilityAddress,
        Label::FounderName,
        Label::FounderAddress,
        Label::Phone,
    ] {
        if let (Some((n, part)), Some(c)) = (part_of(label), sheet.first(label)) {
            r.part_cells
                .entry(format!("{n}.{part}"))
                .or_insert_with(|| c.a1());
        }
    }
    for n in 1..=13u8 {
        let label = match n {
            1 => Label::FacilityName,
            2 => Label::FounderName,
            n => Label::Item(n),
        };
        if let Some(c) = sheet.first(label) {
            r.cells.entry(n).or_insert_with(|| c.a1());
        }
    }
    let at = r.cells.get(&1).cloned().unwrap_or_else(|| "A1".to_owned());
    outcome.problems.extend(r.problems);
    outcome.items.push(Located {
        sheet: sheet.grid.name.clone(),
        cell_or_row: at,
        value: PlanRead {
            plan,
            cells: r.cells,
            part_cells: r.part_cells,
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_blank_plan_reads_back_as_a_plan_with_nothing_filled() {
        let bytes = crate::blank_plan_xlsx().unwrap();
        let outcome = read_plans("別紙2.xlsx", &bytes, &Limits::default())
            .unwrap()
            .expect("a 別紙2");
        assert_eq!(outcome.problems, vec![]);
        assert_eq!(outcome.items.len(), 1);
        let read = &outcome.items[0].value;
        assert_eq!(read.plan, Plan::default());
        // Every item's label was found, so a blank one can be placed.
        assert_eq!(read.cells.len(), 13, "{:?}", read.cells);
        let blank_form = crate::blank_form_xlsx().unwrap();
        assert!(!is_plan_workbook(
            "別紙1.xlsx",
            &blank_form,
            &Limits::default()
        ));
    }

    #[test]
    fn printed_labels_are_recognised() {
        assert_eq!(
            classify("オンライン資格確認の導入計画書"),
            Some(Label::Title)
        );
        assert_eq!(classify("(フリガナ) 名称"), Some(Label::FacilityName));
        assert_eq!(classify("所在地"), Some(Label::FacilityAddress));
        assert_eq!(classify("(フリガナ) 氏名"), Some(Label::FounderName));
        assert_eq!(
            classify("保険医又は保険薬剤師 の登録の記号及び番号"),
            Some(Label::Registration)
        );
        assert_eq!(classify("Email(任意)"), Some(Label::Email));
        assert_eq!(
            classify("③ アカウント作成 (済み/未実施)"),
            Some(Label::Item(3))
        );
        assert_eq!(
            classify("④ 利用申請・電子証明書の発行申請 (済み/未実施)"),
            Some(Label::Item(4))
        );
        assert_eq!(
            classify("⑤ 調達状況 (ア～ウから選択)"),
            Some(Label::Item(5))
        );
        assert_eq!(
            classify("⑦ 整備状況 (ア～ウから選択)"),
            Some(Label::Item(7))
        );
        assert_eq!(
            classify("⑨ ネットワーク種類 (IP-VPN/IPsec+IKE)"),
            Some(Label::Item(9))
        );
        assert_eq!(classify("⑬ 診療・調剤開始(予定)日"), Some(Label::Item(13)));
        assert_eq!(
            classify("〔 ア 整備済み イ 契約済み ( 月整備予定) ウ 見積もり中 〕"),
            Some(Label::Choices)
        );
        assert_eq!(
            classify("② 開設者 (法人の場合 は代表者)"),
            Some(Label::Stop)
        );
        assert_eq!(classify("(2) カードリーダー"), Some(Label::Stop));
        assert_eq!(classify("NTT東日本"), None);
        assert_eq!(classify("済み"), None);
    }
}
