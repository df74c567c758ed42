//! Filled 別紙1 forms (「受付番号情報提供依頼書兼回答書」), in whatever layout a
//! facility or bureau made of it: every field is found by its printed label,
//! never by a fixed cell.
//!
//! ## How a value is found
//! The labels are compared without spaces, 全角/半角 alike, and mostly without
//! their bracketed parts (`指定希望日（予定）` = `指定希望日`). Recognised:
//! 名称 (医療機関名称, 医療機関等の名称, 施設名, 薬局名, …); 所在地 (医療機関所在地, …);
//! 指定希望日 (指定予定日, 指定日, 指定年月日); 「上記のとおり依頼します。」 or 依頼日
//! (提出日); `… 御中`; 開設者 (and `(氏名)※法人の場合は…`); 保険医又は保険薬剤師の
//! 登録の記号及び番号 (登録記号番号, 保険医登録番号, …); 担当者の連絡先 (電話番号, TEL);
//! `(住所)`/`(氏名)` above the facility part, or 送付先住所/送付先氏名; 種別 (区分).
//!
//! For each label the value is, in this order:
//! 1. in the label's own cell after a colon: `名称：オン資クリニック`;
//! 2. in the cells to its right on the same row, up to the next label (blank and
//!    merged cells skipped; notes starting with ※ or ← skipped). Split values are
//!    joined: `〒|123|-|4567|東京都…`, `令和|6|年|4|月|1|日`;
//! 3. otherwise on the next non-blank row below (within 3 rows), from the label's
//!    column rightwards, unless that row starts with another label.
//!
//! Addresses and the 開設者 may go on over the next row(s) (a 法人 name on one line
//! and `理事長 資格 花子` on the next). The request date is the date after
//! 「上記のとおり依頼します。」; the bureau is the text before 「御中」. Everything
//! from 「上記の依頼について、受付番号を回答します。」 down (the answer half: 受付番号,
//! 回答日) is ignored. A sheet called or showing 「記載例」 is skipped.
//!
//! ## The kind (医科・歯科・薬局)
//! Read, in any combination (two different kinds found is an error):
//! - a mark touching the word in the printed `医科・歯科・薬局` cell:
//!   ○ ◯ ● ◎ ■ ◆ ★ ✓ ✔ ☑ ☒ ✅ 〇 レ before or after it (`○医科`, `歯科✓`), or the
//!   word alone in brackets (`医科・（歯科）・薬局`); `□`/`☐` are empty boxes;
//! - the words in cells of their own, with a mark in the same cell or in the cell
//!   just left (or right) of the word;
//! - a cell holding one kind (typed, or chosen from a dropdown) next to a `種別`
//!   label or below/right of the printed `医科・歯科・薬局`;
//! - only one of the words left on the form (the others deleted);
//! - in .xlsx, with the words in cells of their own: the others struck through
//!   (strike-through is a cell font property), or the chosen one filled.
//!
//! Not readable, and reported as "no kind marked": a circle drawn as a shape over
//! the word, and strike-through or colour applied to part of a cell's text.

use std::borrow::Cow;

use uketsuke_domain::RequestKind;

use crate::book::{self, Book};
use crate::error::Result;
use crate::grid::{Cell, Grid, Value};
use crate::limits::Limits;
use crate::problem::{Located, Outcome, Problem};
use crate::request::{Draft, RequestForm};
use crate::text::{MARKS, base, clean, key, kind_text, parse_founder, parse_kind};
use crate::values::{Sink, joined, read_date, read_phone, read_postal_address};

/// Reads every sheet that looks like a 別紙1 form; each gives one request.
/// Other sheets are skipped. A form left blank gives no request; a file with no
/// filled form gives a problem saying so.
pub fn read_request_forms(
    file: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Outcome<RequestForm>> {
    let mut book = book::open(file, bytes, limits)?;
    let mut outcome = Outcome::default();
    let mut reader = FormReader::new(file);
    let sheets = std::mem::take(&mut book.sheets);
    let mut any = false;
    for grid in &sheets {
        let sheet = Sheet::new(grid);
        if sheet.looks_like_form() {
            any = true;
            reader.read_sheet(&mut book, &sheet, &mut outcome);
        }
    }
    reader.finish(&mut outcome);
    if !any {
        outcome.problems.push(Problem::new(
            file,
            None,
            "依頼書（別紙1「受付番号情報提供依頼書兼回答書」）が見つかりませんでした。\
             「名称」「所在地」「指定希望日（予定）」「開設者」などの欄のある様式で提出してください。",
        ));
    }
    Ok(outcome)
}

/// What a cell is on a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Title,
    ReplyAddress,
    ReplyName,
    /// `住所` alone: the reply address when above the facility part.
    GenericAddress,
    /// `氏名` alone: the reply name, or the 開設者 when just below its label.
    GenericName,
    Name,
    Location,
    Designation,
    /// 「上記のとおり依頼します。」
    RequestAnchor,
    RequestDate,
    /// `… 御中`
    Bureau,
    Founder,
    Registration,
    Phone,
    /// `種別`, `区分`
    Kind,
    /// The printed `医科・歯科・薬局` (possibly marked).
    KindChoices,
    /// One kind word in a cell of its own (possibly marked).
    KindWord(RequestKind),
    /// 「上記の依頼について、受付番号を回答します。」
    AnswerAnchor,
    /// Printed words that are not values: 受付番号, 別紙1, 様, 記載例, …
    Stop,
    /// Instructions: ※…, ←…, long sentences.
    Note,
}

/// Classifies a cell's text: the label and, for `label：value`, the value.
/// `None` for a plain value.
pub(crate) fn classify(text: &str) -> Option<(Label, Option<String>)> {
    let k = key(text);
    if k.is_empty() {
        return None;
    }
    if k.contains("上記の依頼について") || k.contains("受付番号を回答します") {
        return Some((Label::AnswerAnchor, None));
    }
    if let Some(at) = k.find("上記のとおり依頼します") {
        let rest = k[at + "上記のとおり依頼します".len()..].trim_start_matches(['。', '.']);
        return Some((
            Label::RequestAnchor,
            (!rest.is_empty()).then(|| rest.to_owned()),
        ));
    }
    if let Some(at) = k.find("御中") {
        let before = clean(&text.replace("御中", " "));
        let _ = at;
        return Some((Label::Bureau, (!before.is_empty()).then_some(before)));
    }
    if k.starts_with(['※', '←', '→', '*', '＊', '☆'])
        || k.starts_with("(注")
        || k.starts_with("注)")
    {
        return Some((Label::Note, None));
    }
    // `label：value`: the key up to the first colon, the value after it.
    let (hk, inline) = match (k.find(':'), text.find([':', '：'])) {
        (Some(kpos), Some(tpos)) => {
            let colon = text[tpos..].chars().next().map_or(1, char::len_utf8);
            let value = clean(&text[tpos + colon..]);
            (&k[..kpos], (!value.is_empty()).then_some(value))
        }
        _ => (k.as_str(), None),
    };
    let b: Cow<'_, str> = if hk.contains(['(', '[', '【', '〔', '「', '『', '<', '《', '〈'])
    {
        Cow::Owned(base(hk))
    } else {
        Cow::Borrowed(hk)
    };
    let b = b.as_ref();
    let is = |names: &[&str]| names.contains(&b);
    let label = if hk.contains("情報提供依頼書") {
        Label::Title
    } else if hk.contains("情報提供を希望") {
        Label::Stop
    } else if b.contains("登録の記号")
        || is(&[
            "登録記号番号",
            "保険医登録番号",
            "保険薬剤師登録番号",
            "登録番号",
            "登録記号及び番号",
            "保険医等登録番号",
            "登録記号・番号",
        ])
    {
        Label::Registration
    } else if b.contains("指定希望日")
        || b.contains("指定予定日")
        || is(&["指定日", "指定年月日", "指定希望年月日"])
    {
        Label::Designation
    } else if is(&["依頼日", "提出日", "依頼年月日", "提出年月日", "申請日"]) {
        Label::RequestDate
    } else if b.starts_with("開設者") || b.contains("法人の場合") {
        Label::Founder
    } else if b.contains("連絡先")
        || is(&[
            "電話番号",
            "電話",
            "TEL",
            "Tel",
            "tel",
            "担当者電話番号",
            "担当者電話",
            "担当者の電話番号",
            "連絡先電話番号",
        ])
    {
        Label::Phone
    } else if is(&[
        "名称",
        "医療機関名称",
        "医療機関等名称",
        "医療機関等の名称",
        "医療機関・薬局の名称",
        "医療機関名",
        "施設名",
        "施設名称",
        "薬局名",
        "薬局名称",
        "医療機関・薬局名",
        "保険医療機関名",
    ]) {
        Label::Name
    } else if is(&[
        "所在地",
        "医療機関所在地",
        "医療機関等所在地",
        "医療機関等の所在地",
        "施設所在地",
        "所在地住所",
    ]) {
        Label::Location
    } else if is(&[
        "送付先住所",
        "回答書送付先住所",
        "回答書の送付先住所",
        "送付先の住所",
        "回答送付先住所",
    ]) {
        Label::ReplyAddress
    } else if is(&[
        "送付先氏名",
        "回答書送付先氏名",
        "回答書の送付先氏名",
        "送付先の氏名",
        "宛名",
        "送付先宛名",
        "回答送付先氏名",
    ]) {
        Label::ReplyName
    } else if is(&["住所"]) {
        Label::GenericAddress
    } else if is(&["氏名", "名前"]) {
        Label::GenericName
    } else if is(&[
        "種別",
        "区分",
        "種類",
        "医療機関等の種別",
        "施設種別",
        "医科歯科薬局の別",
        "医科・歯科・薬局の別",
    ]) {
        Label::Kind
    } else if is(&[
        "受付番号",
        "別紙1",
        "別紙",
        "記載例",
        "記入例",
        "見本",
        "様",
        "殿",
        "公印省略",
        "回答日",
        "回答書の送付先",
        "回答書送付先",
        "回答書の送付先を記載してください",
    ]) {
        Label::Stop
    } else if k.ends_with('。') && k.chars().count() > 15 {
        Label::Note
    } else if !["医科", "歯科", "薬局", "調剤"]
        .iter()
        .any(|w| k.contains(w))
    {
        return None;
    } else {
        let kt = kind_text(&k);
        if !kt.only_kinds {
            return None;
        }
        if kt.named.len() >= 2 {
            return Some((Label::KindChoices, None));
        }
        return kt.named.first().map(|&kind| (Label::KindWord(kind), None));
    };
    Some((label, inline))
}

/// Reads form sheets one by one and remembers the blank ones.
pub(crate) struct FormReader<'f> {
    file: &'f str,
    blank_sheets: Vec<String>,
    filled: usize,
}

/// A label found on the sheet.
#[derive(Debug, Clone)]
struct Found<'g> {
    cell: &'g Cell,
    label: Label,
    inline: Option<String>,
}

/// The value found for a label: the cells, grouped by row.
#[derive(Debug, Default)]
struct Span<'g> {
    lines: Vec<Vec<&'g Cell>>,
    inline: Option<String>,
}

impl<'g> Span<'g> {
    fn is_empty(&self) -> bool {
        self.inline.is_none() && self.lines.iter().all(|l| l.iter().all(|c| c.is_blank()))
    }

    /// Holds more than the printed parts of a value (〒, —, 令和・年・月・日, 様).
    fn is_filled(&self) -> bool {
        self.text()
            .chars()
            .any(|c| !c.is_whitespace() && !"〒-—－ー−‐令和年月日様殿()（）".contains(c))
    }

    fn cells(&self) -> Vec<&'g Cell> {
        self.lines.iter().flatten().copied().collect()
    }

    /// One text per line written: per row, and per line break inside a cell.
    fn line_texts(&self) -> Vec<String> {
        let mut out: Vec<String> = self.inline.iter().cloned().collect();
        for line in &self.lines {
            let raw: Vec<String> = line.iter().map(|c| c.text().into_owned()).collect();
            out.extend(
                raw.join(" ")
                    .split('\n')
                    .map(clean)
                    .filter(|l| !l.is_empty()),
            );
        }
        out
    }

    fn text(&self) -> String {
        clean(&self.line_texts().join(" "))
    }

    fn first_a1(&self) -> Option<String> {
        self.lines.iter().flatten().next().map(|c| c.a1())
    }
}

/// One sheet with its cells classified.
pub(crate) struct Sheet<'g> {
    grid: &'g Grid,
    /// The label of each cell of `grid.cells()`, by index.
    labels: Vec<Option<(Label, Option<String>)>>,
    found: Vec<Found<'g>>,
    /// Rows from here down are the answer half.
    answer_row: u32,
}

impl<'g> Sheet<'g> {
    pub(crate) fn new(grid: &'g Grid) -> Self {
        let labels: Vec<Option<(Label, Option<String>)>> = grid
            .cells()
            .iter()
            .map(|cell| match &cell.value {
                Value::Text(t) if t.len() <= 1200 => classify(t),
                _ => None,
            })
            .collect();
        let answer_row = grid
            .cells()
            .iter()
            .zip(&labels)
            .filter(|(_, l)| matches!(l, Some((Label::AnswerAnchor, _))))
            .map(|(c, _)| c.row)
            .min()
            .unwrap_or(u32::MAX);
        let mut found: Vec<Found<'g>> = grid
            .cells()
            .iter()
            .zip(&labels)
            .filter(|(c, _)| c.row < answer_row)
            .filter_map(|(c, l)| {
                l.as_ref().map(|(label, inline)| Found {
                    cell: c,
                    label: *label,
                    inline: inline.clone(),
                })
            })
            .collect();
        resolve_generic_labels(&mut found);
        Self {
            grid,
            labels,
            found,
            answer_row,
        }
    }

    /// Whether the sheet is a 別紙1: its title, or at least three of its labels
    /// on more than one row (a list's header has its labels on one row).
    pub(crate) fn looks_like_form(&self) -> bool {
        let mut seen: Vec<Label> = Vec::new();
        let mut rows: Vec<u32> = Vec::new();
        let labelled = self.grid.cells().iter().zip(&self.labels);
        for (cell, (label, _)) in labelled.filter_map(|(c, l)| l.as_ref().map(|l| (c, l))) {
            let row = cell.row;
            match label {
                Label::Title => return true,
                Label::Name
                | Label::Location
                | Label::Designation
                | Label::Founder
                | Label::Phone
                | Label::RequestAnchor
                | Label::KindChoices
                | Label::Registration => {
                    if !seen.contains(label) {
                        seen.push(*label);
                    }
                    if !rows.contains(&row) {
                        rows.push(row);
                    }
                }
                _ => {}
            }
        }
        seen.len() >= 3 && rows.len() >= 2
    }

    fn label_at(&self, cell: &Cell) -> Option<Label> {
        let i = self.grid.index_of(cell.row, cell.col)?;
        self.labels.get(i)?.as_ref().map(|(l, _)| *l)
    }

    fn of(&self, label: Label) -> Vec<Found<'g>> {
        self.found
            .iter()
            .filter(|f| f.label == label)
            .cloned()
            .collect()
    }

    /// The non-blank cells right of `col` on `row`, up to the next label (notes
    /// skipped).
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

    /// The first non-blank row within 3 rows below `row`, from `min_col`
    /// rightwards, unless it starts with a label.
    fn below(&self, row: u32, min_col: u32) -> Option<(u32, Vec<&'g Cell>)> {
        for (r, cells) in self.grid.rows_after(row) {
            if r > row.saturating_add(3) || r >= self.answer_row {
                return None;
            }
            let mut first = None;
            for c in cells {
                if c.is_blank() || self.label_at(c) == Some(Label::Note) {
                    continue;
                }
                if c.col < min_col {
                    if self.label_at(c).is_some() {
                        return None;
                    }
                    continue;
                }
                first = Some(c);
                break;
            }
            let Some(first) = first else {
                continue;
            };
            if self.label_at(first).is_some() {
                return None;
            }
            let mut out = vec![first];
            out.extend(self.right(r, first.col));
            return Some((r, out));
        }
        None
    }

    /// Rows that go on a value started at (`row`, `col`): the next rows whose
    /// cells are all at or right of `col` and none is a label.
    fn continuation(&self, row: u32, col: u32, max: usize) -> Vec<Vec<&'g Cell>> {
        let mut out = Vec::new();
        for (expected, (r, cells)) in (u64::from(row) + 1..).zip(self.grid.rows_after(row)) {
            if u64::from(r) != expected || r >= self.answer_row || out.len() >= max {
                break;
            }
            let cells: Vec<&Cell> = cells.iter().filter(|c| !c.is_blank()).collect();
            if cells.is_empty()
                || cells
                    .iter()
                    .any(|c| c.col < col || self.label_at(c).is_some())
            {
                break;
            }
            out.push(cells);
        }
        out
    }

    /// The value of one label (see the module doc).
    fn value(&self, f: &Found<'g>, continues: usize) -> Span<'g> {
        if let Some(inline) = &f.inline {
            return Span {
                lines: Vec::new(),
                inline: Some(inline.clone()),
            };
        }
        let right = self.right(f.cell.row, f.cell.col);
        let (row, cells) = if !right.is_empty() {
            (f.cell.row, right)
        } else {
            match self.below(f.cell.row, f.cell.col) {
                Some(found) => found,
                None => return Span::default(),
            }
        };
        let start_col = cells.first().map_or(0, |c| c.col);
        let mut lines = vec![cells];
        if continues > 0 {
            lines.extend(self.continuation(row, start_col, continues));
        }
        Span {
            lines,
            inline: None,
        }
    }

    /// The value of the first label of `label` that has one, with that label's
    /// cell; or the first label's cell and an empty span.
    fn field(&self, label: Label, continues: usize) -> (Option<&'g Cell>, Span<'g>) {
        let candidates = self.of(label);
        for f in &candidates {
            let span = self.value(f, continues);
            if !span.is_empty() {
                return (Some(f.cell), span);
            }
        }
        (candidates.first().map(|f| f.cell), Span::default())
    }
}

/// `住所`/`氏名` alone mean the reply's above the facility part; `氏名` just below
/// (or beside) the 開設者 label is the 開設者's.
fn resolve_generic_labels(found: &mut [Found<'_>]) {
    let facility_start = found
        .iter()
        .filter(|f| {
            matches!(
                f.label,
                Label::Title
                    | Label::Name
                    | Label::Location
                    | Label::KindChoices
                    | Label::Designation
            )
        })
        .map(|f| f.cell.row)
        .min()
        .unwrap_or(u32::MAX);
    let founder_rows: Vec<u32> = found
        .iter()
        .filter(|f| f.label == Label::Founder)
        .map(|f| f.cell.row)
        .collect();
    for f in found.iter_mut() {
        let row = f.cell.row;
        f.label = match f.label {
            Label::GenericName
                if founder_rows
                    .iter()
                    .any(|&r| r <= row && row <= r.saturating_add(2)) =>
            {
                Label::Founder
            }
            Label::GenericName if row < facility_start => Label::ReplyName,
            Label::GenericAddress if row < facility_start => Label::ReplyAddress,
            Label::GenericName | Label::GenericAddress => Label::Stop,
            other => other,
        };
    }
}

impl<'f> FormReader<'f> {
    pub(crate) fn new(file: &'f str) -> Self {
        Self {
            file,
            blank_sheets: Vec::new(),
            filled: 0,
        }
    }

    /// Adds the request of one form sheet (or its problems) to `outcome`.
    pub(crate) fn read_sheet(
        &mut self,
        book: &mut Book<'_>,
        sheet: &Sheet<'_>,
        outcome: &mut Outcome<RequestForm>,
    ) {
        let grid = sheet.grid;
        if is_example(grid, sheet) {
            return;
        }
        let mut sink = Sink::new(self.file, &grid.name);
        let mut draft = Draft::default();
        let mut ok = true;
        let mut anything = false;

        // 名称
        let (label, span) = sheet.field(Label::Name, 0);
        let name_at = span.first_a1().or_else(|| label.map(|c| c.a1()));
        anything |= span.is_filled();
        ok &= self.text_field(
            &mut sink,
            label,
            &span,
            "facility_name",
            true,
            "「名称」欄",
            |t| {
                draft.facility_name = Some(t);
            },
        );

        // 所在地
        let (label, span) = sheet.field(Label::Location, 2);
        anything |= span.is_filled();
        ok &= self.address_field(
            &mut sink,
            label,
            &span,
            "facility_postal_code",
            "facility_address",
            true,
            &mut draft.facility_postal_code,
            &mut draft.facility_address,
        );

        // 指定希望日（予定）
        let (label, span) = sheet.field(Label::Designation, 0);
        anything |= span.is_filled();
        match label {
            None => {
                ok = false;
                sink.report(
                    None,
                    "designation_date",
                    "「指定希望日（予定）」欄が見つかりません。別紙1の様式で提出してください。",
                );
            }
            Some(l) => {
                let owned = owned_cells(&span, l);
                let cells: Vec<&Cell> = owned.iter().collect();
                draft.designation_date =
                    read_date(&mut sink, &cells, Some(l.a1()), "designation_date", true);
                ok &= draft.designation_date.is_some();
            }
        }

        // 依頼日: after 「上記のとおり依頼します。」, or a 依頼日 label.
        let request_span = request_date_span(sheet);
        if let Some((label, span)) = request_span {
            let owned = owned_cells(&span, label);
            let cells: Vec<&Cell> = owned.iter().collect();
            let before = sink.problems.len();
            draft.request_date =
                read_date(&mut sink, &cells, Some(label.a1()), "request_date", false);
            ok &= sink.problems.len() == before;
        }

        // 宛先
        draft.addressed_bureau = bureau(sheet);

        // 開設者
        let (label, span) = sheet.field(Label::Founder, 2);
        anything |= span.is_filled();
        if label.is_none() {
            ok = false;
            sink.report(
                None,
                "founder_name",
                "「開設者」欄が見つかりません。別紙1の様式で提出してください。",
            );
        } else if span.is_empty() {
            ok = false;
            sink.missing(
                label.map(|c| c.a1()),
                "founder_name",
                "開設者の氏名（法人の場合は名称と代表者の職・氏名）を記入してください。",
            );
        } else if sink.usable(&span.cells(), "founder_name") {
            draft.founder = parse_founder(&span.line_texts());
            ok &= draft.founder.is_some();
        } else {
            ok = false;
        }

        // 登録の記号及び番号
        let (label, span) = sheet.field(Label::Registration, 0);
        ok &= self.text_field(
            &mut sink,
            label,
            &span,
            "founder_registration",
            false,
            "",
            |t| {
                draft.founder_registration = Some(t);
            },
        );

        // 担当者の連絡先
        let (label, span) = sheet.field(Label::Phone, 0);
        anything |= span.is_filled();
        match label {
            None => {
                ok = false;
                sink.report(None, "contact_phone", "「担当者の連絡先（電話番号）」欄が見つかりません。別紙1の様式で提出してください。");
            }
            Some(l) => {
                let owned = owned_cells(&span, l);
                let cells: Vec<&Cell> = owned.iter().collect();
                draft.contact_phone = read_phone(&mut sink, &cells, Some(l.a1()), "contact_phone");
                ok &= draft.contact_phone.is_some();
            }
        }

        // 回答書の送付先
        let (label, span) = sheet.field(Label::ReplyAddress, 2);
        anything |= span.is_filled();
        ok &= self.address_field(
            &mut sink,
            label,
            &span,
            "reply_postal_code",
            "reply_address",
            false,
            &mut draft.reply_postal_code,
            &mut draft.reply_address,
        );
        let (label, span) = sheet.field(Label::ReplyName, 0);
        anything |= span.is_filled();
        ok &= self.text_field(&mut sink, label, &span, "reply_name", false, "", |t| {
            let t = t.trim_end_matches(['様', '殿']).trim().to_owned();
            if !t.is_empty() {
                draft.reply_name = Some(t);
            }
        });

        if !anything {
            self.blank_sheets.push(grid.name.clone());
            return;
        }

        // 種別
        draft.kind = read_kind(book, grid, sheet, &mut sink);
        ok &= draft.kind.is_some();

        self.filled += 1;
        let problems = sink.problems;
        match draft.finish() {
            Some(form) if ok && problems.is_empty() => outcome.items.push(Located {
                sheet: grid.name.clone(),
                cell_or_row: name_at.unwrap_or_else(|| "A1".to_owned()),
                value: form,
            }),
            _ => {
                if problems.is_empty() {
                    outcome.problems.push(Problem::new(
                        self.file,
                        Some(&grid.name),
                        "依頼書の必要な欄を読み取れませんでした。別紙1の様式で記入してください。",
                    ));
                }
                outcome.problems.extend(problems);
            }
        }
    }

    /// After all sheets: a file whose forms were all blank gets a problem.
    pub(crate) fn finish(&self, outcome: &mut Outcome<RequestForm>) {
        if self.filled == 0 && !self.blank_sheets.is_empty() {
            outcome.problems.push(Problem::new(
                self.file,
                Some(&self.blank_sheets[0]),
                "依頼書（別紙1）が記入されていません。名称・所在地・指定希望日（予定）などを記入してから提出してください。",
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text_field(
        &self,
        sink: &mut Sink<'_>,
        label: Option<&Cell>,
        span: &Span<'_>,
        field: &str,
        required: bool,
        printed: &str,
        mut set: impl FnMut(String),
    ) -> bool {
        let Some(label) = label else {
            if required {
                sink.report(
                    None,
                    field,
                    format!("{printed}が見つかりません。別紙1の様式で提出してください。"),
                );
                return false;
            }
            return true;
        };
        if !sink.usable(&span.cells(), field) {
            return false;
        }
        let text = span.text();
        if text.is_empty() {
            if required {
                sink.missing(Some(label.a1()), field, "");
                return false;
            }
            return true;
        }
        set(text);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn address_field(
        &self,
        sink: &mut Sink<'_>,
        label: Option<&Cell>,
        span: &Span<'_>,
        postal_field: &str,
        address_field: &str,
        required: bool,
        postal: &mut Option<uketsuke_domain::PostalCode>,
        address: &mut Option<String>,
    ) -> bool {
        let Some(label) = label else {
            if required {
                sink.report(
                    None,
                    address_field,
                    "「所在地」欄が見つかりません。別紙1の様式で提出してください。",
                );
                return false;
            }
            return true;
        };
        if !sink.usable(&span.cells(), address_field) {
            return false;
        }
        let at = span.first_a1().or_else(|| Some(label.a1()));
        let (p, a, ok) = read_postal_address(sink, &span.text(), at.clone(), postal_field);
        *postal = p;
        if a.is_none() && required {
            sink.missing(
                at,
                address_field,
                "「東京都千代田区霞が関1-2-2」のように記入してください。",
            );
            return false;
        }
        *address = a;
        ok
    }
}

/// The span's cells, or the inline value as a cell at its label.
fn owned_cells(span: &Span<'_>, label: &Cell) -> Vec<Cell> {
    match &span.inline {
        Some(inline) => vec![Cell {
            row: label.row,
            col: label.col,
            value: Value::Text(inline.clone()),
            formula: label.formula,
        }],
        None => span.cells().into_iter().cloned().collect(),
    }
}

/// A sheet named like, or showing, 記載例 / 記入例 / 見本 (the printed example).
fn is_example(grid: &Grid, sheet: &Sheet<'_>) -> bool {
    let name = key(&grid.name);
    if ["記載例", "記入例", "見本"]
        .iter()
        .any(|w| name.contains(w))
    {
        return true;
    }
    grid.cells().iter().any(|c| {
        sheet.label_at(c) == Some(Label::Stop)
            && matches!(base(&key(&c.text())).as_str(), "記載例" | "記入例" | "見本")
    })
}

/// The request date: after 「上記のとおり依頼します。」 (its own cell, the cells to
/// its right, or the next rows up to the 御中 line), or by a 依頼日 label.
fn request_date_span<'g>(sheet: &Sheet<'g>) -> Option<(&'g Cell, Span<'g>)> {
    if let Some(anchor) = sheet.of(Label::RequestAnchor).into_iter().next() {
        if let Some(inline) = &anchor.inline {
            return Some((
                anchor.cell,
                Span {
                    lines: Vec::new(),
                    inline: Some(inline.clone()),
                },
            ));
        }
        let right = sheet.right(anchor.cell.row, anchor.cell.col);
        if !right.is_empty() {
            return Some((
                anchor.cell,
                Span {
                    lines: vec![right],
                    inline: None,
                },
            ));
        }
        for (r, cells) in sheet.grid.rows_after(anchor.cell.row) {
            if r > anchor.cell.row.saturating_add(3) || r >= sheet.answer_row {
                break;
            }
            let mut line = Vec::new();
            let mut stopped = false;
            for c in cells {
                match sheet.label_at(c) {
                    Some(Label::Note) => continue,
                    Some(_) => {
                        stopped = true;
                        break;
                    }
                    None if c.is_blank() => continue,
                    None => line.push(c),
                }
            }
            if !line.is_empty() {
                return Some((
                    anchor.cell,
                    Span {
                        lines: vec![line],
                        inline: None,
                    },
                ));
            }
            if stopped {
                break;
            }
        }
        return Some((anchor.cell, Span::default()));
    }
    let (label, span) = sheet.field(Label::RequestDate, 0);
    label.map(|l| (l, span))
}

/// The bureau before 「御中」, unless still the printed 〇〇.
fn bureau(sheet: &Sheet<'_>) -> Option<String> {
    let f = sheet.of(Label::Bureau).into_iter().next()?;
    let text = match &f.inline {
        Some(t) => t.clone(),
        None => {
            let left: Vec<&Cell> = sheet
                .grid
                .row(f.cell.row)
                .iter()
                .filter(|c| c.col < f.cell.col && !c.is_blank() && sheet.label_at(c).is_none())
                .collect();
            joined(&left)
        }
    };
    let placeholder = ["〇〇", "○○", "◯◯", "OO", "△△"]
        .iter()
        .any(|p| text.contains(p));
    let k = key(&text);
    if text.is_empty() || placeholder || matches!(k.as_str(), "厚生(支)局" | "地方厚生(支)局")
    {
        None
    } else {
        Some(text)
    }
}

/// A cell holding nothing but marks (`○`, `✓`, …).
fn is_mark_cell(c: &Cell) -> bool {
    let k = key(&c.text());
    !k.is_empty() && k.chars().all(|ch| MARKS.contains(&ch))
}

/// The kind (see the module doc), or a problem.
fn read_kind(
    book: &mut Book<'_>,
    grid: &Grid,
    sheet: &Sheet<'_>,
    sink: &mut Sink<'_>,
) -> Option<RequestKind> {
    let mut chosen: Vec<RequestKind> = Vec::new();
    let mut anchor: Option<String> = None;
    let choose = |chosen: &mut Vec<RequestKind>, k: RequestKind| {
        if !chosen.contains(&k) {
            chosen.push(k);
        }
    };
    // The printed 医科・歯科・薬局, marked, or with a chosen kind beside it.
    for f in sheet.of(Label::KindChoices) {
        anchor.get_or_insert_with(|| f.cell.a1());
        let selected = kind_text(&f.cell.text()).selected();
        if selected.is_empty() {
            // A kind typed or chosen (dropdown) just right of it or below it.
            let (row, col) = (f.cell.row, f.cell.col);
            let beside = grid.row(row).iter().find(|c| c.col > col && !c.is_blank());
            let below = grid
                .rows_after(row)
                .take_while(|(r, _)| *r <= row.saturating_add(2) && *r < sheet.answer_row)
                .find_map(|(_, cells)| cells.iter().find(|c| c.col == col && !c.is_blank()));
            for c in beside.into_iter().chain(below) {
                if let Some(Label::KindWord(k)) = sheet.label_at(c)
                    && sink.usable(&[c], "kind")
                {
                    choose(&mut chosen, k);
                }
            }
        }
        for k in selected {
            choose(&mut chosen, k);
        }
    }
    // A 種別 label with its value.
    for f in sheet.of(Label::Kind) {
        anchor.get_or_insert_with(|| f.cell.a1());
        let span = sheet.value(&f, 0);
        if span.is_empty() || !sink.usable(&span.cells(), "kind") {
            continue;
        }
        match parse_kind(&span.text()) {
            Ok(k) => choose(&mut chosen, k),
            Err(e) => {
                sink.report(span.first_a1().or_else(|| Some(f.cell.a1())), "kind", e);
                return None;
            }
        }
    }
    // The words in cells of their own.
    let words: Vec<(&Cell, RequestKind)> = sheet
        .found
        .iter()
        .filter_map(|f| match f.label {
            Label::KindWord(k) => Some((f.cell, k)),
            _ => None,
        })
        .collect();
    let mut word_marked = false;
    for &(cell, kind) in &words {
        anchor.get_or_insert_with(|| cell.a1());
        let in_cell = !kind_text(&cell.text()).selected().is_empty();
        let left = cell.col > 0 && grid.get(cell.row, cell.col - 1).is_some_and(is_mark_cell);
        let right = grid
            .get(cell.row, cell.col.saturating_add(1))
            .is_some_and(is_mark_cell)
            && !grid
                .get(cell.row, cell.col.saturating_add(2))
                .is_some_and(|c| matches!(sheet.label_at(c), Some(Label::KindWord(_))));
        if in_cell || left || right {
            word_marked = true;
            choose(&mut chosen, kind);
        }
    }
    let mut distinct_words: Vec<RequestKind> = words.iter().map(|&(_, k)| k).collect();
    distinct_words.dedup();
    if chosen.is_empty() && !word_marked && sheet.of(Label::KindChoices).is_empty() {
        if words.len() == 1 {
            // Only one kind left on the form.
            choose(&mut chosen, words[0].1);
        } else if words.len() >= 2 {
            let positions: Vec<(u32, u32)> = words.iter().map(|&(c, _)| (c.row, c.col)).collect();
            let looks = book.looks(&grid.name, &positions);
            let unstruck: Vec<RequestKind> = words
                .iter()
                .zip(&looks)
                .filter(|(_, l)| !l.struck)
                .map(|(&(_, k), _)| k)
                .collect();
            let filled: Vec<RequestKind> = words
                .iter()
                .zip(&looks)
                .filter(|(_, l)| l.filled)
                .map(|(&(_, k), _)| k)
                .collect();
            if unstruck.len() < words.len() {
                for k in unstruck {
                    choose(&mut chosen, k);
                }
            } else if filled.len() == 1 {
                choose(&mut chosen, filled[0]);
            }
        }
    }
    match chosen.as_slice() {
        [k] => Some(*k),
        [] => {
            sink.report(
                anchor,
                "kind",
                "種別（医科・歯科・薬局）が選ばれていません。依頼する種別1つに「○医科」のように○を付けるか、\
                 種別の欄で1つ選んでください（図形で描いた○や、文字の一部だけに引いた取り消し線は読み取れません）。",
            );
            None
        }
        many => {
            let names: Vec<&str> = many.iter().map(|k| k.label()).collect();
            let message = if many.contains(&RequestKind::Medical)
                && many.contains(&RequestKind::Dental)
            {
                format!(
                    "種別に{}が選ばれています。医科・歯科併設の医療機関は、医科と歯科でそれぞれ受付番号が必要となります。\
                     「受付番号情報提供依頼書兼回答書」を医科分と歯科分で別々にご提出ください。",
                    names.join("と")
                )
            } else {
                format!(
                    "種別に{}が選ばれています。1枚の依頼書で依頼できる種別は1つです。\
                     「受付番号情報提供依頼書兼回答書」を種別ごとに別々にご提出ください。",
                    names.join("と")
                )
            };
            sink.report(anchor, "kind", message);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(t: &str) -> Option<Label> {
        classify(t).map(|(l, _)| l)
    }

    #[test]
    fn printed_labels_are_recognised_in_their_usual_spellings() {
        assert_eq!(label("名　　称"), Some(Label::Name));
        assert_eq!(label("所在地"), Some(Label::Location));
        assert_eq!(label("指定希望日(予定)"), Some(Label::Designation));
        assert_eq!(label("指定希望日（予定）"), Some(Label::Designation));
        assert_eq!(
            label("上記のとおり依頼します。"),
            Some(Label::RequestAnchor)
        );
        assert_eq!(label("〇〇 厚生(支)局 御中"), Some(Label::Bureau));
        assert_eq!(label("開設者"), Some(Label::Founder));
        assert_eq!(
            label("(氏名)※法人の場合は、名称、代表者の職・氏名"),
            Some(Label::Founder)
        );
        assert_eq!(
            label("(保険医又は保険薬剤師の登録の記号及び番号)"),
            Some(Label::Registration)
        );
        assert_eq!(
            label("※保険医又は保険薬剤師の場合は記入ください。"),
            Some(Label::Note)
        );
        assert_eq!(label("担当者の連絡先(電話番号)"), Some(Label::Phone));
        assert_eq!(label("(住所)"), Some(Label::GenericAddress));
        assert_eq!(label("(氏名)"), Some(Label::GenericName));
        assert_eq!(label("医科 ・ 歯科 ・ 薬局"), Some(Label::KindChoices));
        assert_eq!(label("○歯科"), Some(Label::KindWord(RequestKind::Dental)));
        assert_eq!(
            label("受付番号 情報提供依頼書 兼 回答書"),
            Some(Label::Title)
        );
        assert_eq!(
            label("上記の依頼について、受付番号を回答します。"),
            Some(Label::AnswerAnchor)
        );
        assert_eq!(label("受付番号"), Some(Label::Stop));
        assert_eq!(label("オン資クリニック"), None);
        assert_eq!(label("東京医科歯科大学病院"), None);
        assert_eq!(label("令和"), None);
    }

    #[test]
    fn a_colon_gives_the_value_in_the_label_cell() {
        assert_eq!(
            classify("名称：オン資クリニック"),
            Some((Label::Name, Some("オン資クリニック".into())))
        );
        assert_eq!(
            classify("開設者: 資格　花子"),
            Some((Label::Founder, Some("資格 花子".into())))
        );
        assert_eq!(
            classify("関東信越厚生局　御中"),
            Some((Label::Bureau, Some("関東信越厚生局".into())))
        );
    }
}
