//! Monthly lists: one request per row, for bureaus that keep the month's paper
//! requests in a spreadsheet. The header may be on any of the first 20 rows and
//! its columns in any order; each column is recognised by one of the names in
//! [`LIST_HEADERS`] (compared without spaces, 全角/半角 alike, and — when nothing
//! matches as written — without a bracketed part such as `（予定）`).

use uketsuke_domain::PostalCode;

use crate::book;
use crate::error::Result;
use crate::grid::{Cell, Grid};
use crate::limits::Limits;
use crate::problem::{Located, Outcome, Problem, field_label};
use crate::request::{Draft, Founder, RequestForm};
use crate::text::{base, clean, key, parse_founder, parse_kind};
use crate::values::{Sink, joined, read_date, read_phone, read_postal, read_postal_address};

/// The columns of a monthly list and the header names each accepts: (field,
/// names). Besides the request's fields, a 法人 opener may be given in three
/// columns (`corporation_name`, `representative_title`, `representative_name`),
/// and `ignored` columns (項番, 受付番号, 備考, …) are allowed without effect.
pub const LIST_HEADERS: &[(&str, &[&str])] = &[
    (
        "facility_name",
        &[
            "名称",
            "医療機関名",
            "医療機関名称",
            "施設名",
            "施設名称",
            "医療機関等名称",
            "医療機関等の名称",
            "薬局名",
            "医療機関・薬局名",
            "医療機関・薬局の名称",
            "保険医療機関名",
        ],
    ),
    (
        "facility_postal_code",
        &[
            "郵便番号",
            "〒",
            "所在地郵便番号",
            "所在地の郵便番号",
            "医療機関所在地(郵便番号)",
            "所在地(郵便番号)",
        ],
    ),
    (
        "facility_address",
        &[
            "所在地",
            "住所",
            "医療機関所在地",
            "医療機関所在地(住所)",
            "所在地(住所)",
            "施設所在地",
            "医療機関等所在地",
            "所在地住所",
        ],
    ),
    (
        "kind",
        &[
            "種別",
            "区分",
            "医科歯科薬局",
            "医科・歯科・薬局",
            "医科/歯科/薬局",
            "種類",
            "医科・歯科・薬局の別",
        ],
    ),
    (
        "designation_date",
        &[
            "指定希望日",
            "指定日",
            "指定予定日",
            "指定希望年月日",
            "指定年月日",
            "指定希望日(予定)",
        ],
    ),
    (
        "request_date",
        &["依頼日", "提出日", "依頼年月日", "提出年月日"],
    ),
    (
        "founder_name",
        &[
            "開設者",
            "開設者氏名",
            "開設者名",
            "開設者名称",
            "開設者の氏名",
            "開設者氏名又は名称",
        ],
    ),
    ("corporation_name", &["法人名", "開設者法人名", "法人名称"]),
    (
        "representative_title",
        &["代表者職", "代表者の職", "代表者役職", "代表者の役職"],
    ),
    (
        "representative_name",
        &["代表者氏名", "代表者名", "代表者", "代表者の氏名"],
    ),
    (
        "founder_registration",
        &[
            "登録記号番号",
            "保険医登録番号",
            "保険薬剤師登録番号",
            "登録の記号及び番号",
            "保険医又は保険薬剤師の登録の記号及び番号",
            "登録番号",
            "保険医等登録番号",
        ],
    ),
    (
        "contact_phone",
        &[
            "電話番号",
            "担当者電話",
            "担当者電話番号",
            "連絡先",
            "連絡先電話番号",
            "担当者の連絡先",
            "担当者連絡先",
            "担当者の連絡先(電話番号)",
            "TEL",
            "電話",
        ],
    ),
    (
        "reply_postal_code",
        &[
            "送付先郵便番号",
            "送付先〒",
            "回答書送付先郵便番号",
            "回答書の送付先郵便番号",
        ],
    ),
    (
        "reply_address",
        &[
            "送付先住所",
            "回答書送付先住所",
            "回答書の送付先住所",
            "送付先",
        ],
    ),
    (
        "reply_name",
        &[
            "送付先氏名",
            "送付先宛名",
            "回答書送付先氏名",
            "回答書の送付先氏名",
            "宛名",
        ],
    ),
    ("addressed_bureau", &["提出先", "宛先", "提出先厚生局"]),
    (
        "ignored",
        &[
            "項番",
            "No",
            "No.",
            "NO",
            "番号",
            "連番",
            "受付番号",
            "備考",
            "受付日",
            "回答日",
            "状態",
            "処理状況",
        ],
    ),
];

const REQUIRED: [&str; 5] = [
    "facility_name",
    "facility_address",
    "kind",
    "designation_date",
    "contact_phone",
];

/// The header row of a list and which column holds which field.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    row: u32,
    columns: Vec<(u32, &'static str)>,
    /// Columns that name a field already taken by an earlier column.
    duplicates: Vec<(Cell, &'static str, String)>,
}

impl Header {
    fn col(&self, field: &str) -> Option<u32> {
        self.columns
            .iter()
            .find(|(_, f)| *f == field)
            .map(|&(c, _)| c)
    }
}

/// The field a header names. The names in [`LIST_HEADERS`] are written as they
/// compare (half-width, no spaces), so nothing is allocated per name.
fn header_field(text: &str) -> Option<&'static str> {
    let k = key(text);
    let find = |probe: &str| {
        LIST_HEADERS
            .iter()
            .find(|(_, names)| names.contains(&probe))
            .map(|(f, _)| *f)
    };
    find(&k).or_else(|| {
        let b = base(&k);
        (b != k).then(|| find(&b)).flatten()
    })
}

/// Finds the header of a list among the first 20 rows: the row naming the most
/// fields, at least three of them including the name, with few other cells.
pub(crate) fn find_header(grid: &Grid) -> Option<Header> {
    let mut best: Option<(usize, Header)> = None;
    for (row, cells) in grid.rows().take(20) {
        let mut columns: Vec<(u32, &'static str)> = Vec::new();
        let mut duplicates = Vec::new();
        let mut known = 0usize;
        let mut filled = 0usize;
        for c in cells.iter().filter(|c| !c.is_blank()) {
            filled += 1;
            let text = c.text();
            let Some(field) = header_field(&text) else {
                continue;
            };
            known += 1;
            if field == "ignored" {
                continue;
            }
            if let Some(&(_, _)) = columns.iter().find(|(_, f)| *f == field) {
                duplicates.push((c.clone(), field, clean(&text)));
            } else {
                columns.push((c.col, field));
            }
        }
        let fields = columns.len();
        let has_name = columns.iter().any(|(_, f)| *f == "facility_name");
        if has_name
            && fields >= 3
            && known * 10 >= filled * 6
            && best.as_ref().is_none_or(|(n, _)| fields > *n)
        {
            best = Some((
                fields,
                Header {
                    row,
                    columns,
                    duplicates,
                },
            ));
        }
    }
    best.map(|(_, h)| h)
}

/// Reads a monthly list: the first sheet with a list header (see
/// [`LIST_HEADERS`]), one request per row. Blank rows are skipped; every other
/// row gives a request or its problems.
pub fn read_monthly_list(
    file: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Outcome<RequestForm>> {
    let book = book::open(file, bytes, limits)?;
    let mut outcome = Outcome::default();
    let mut any = false;
    for grid in &book.sheets {
        if let Some(header) = find_header(grid) {
            any = true;
            read_sheet(file, grid, &header, &mut outcome);
        }
    }
    if !any {
        outcome.problems.push(Problem::new(
            file,
            None,
            "依頼の一覧の見出し行が見つかりませんでした。最初の20行のうちの1行に、\
             「名称」「所在地」「種別」「指定希望日」「開設者」「電話番号」などの見出しを付けてください。",
        ));
    }
    Ok(outcome)
}

/// Reads the rows under `header`.
pub(crate) fn read_sheet(
    file: &str,
    grid: &Grid,
    header: &Header,
    outcome: &mut Outcome<RequestForm>,
) {
    let mut sink = Sink::new(file, &grid.name);
    for (cell, field, text) in &header.duplicates {
        let first = header
            .col(field)
            .and_then(|c| grid.get(header.row, c))
            .map(|c| clean(&c.text()))
            .unwrap_or_default();
        sink.report(
            Some(cell.a1()),
            "header",
            format!(
                "見出し「{text}」と「{first}」がどちらも「{}」の列として読めます。どちらか一方の見出しを変えるか、列を削除してください。",
                field_label(field)
            ),
        );
    }
    let founder_given =
        header.col("founder_name").is_some() || header.col("corporation_name").is_some();
    let mut missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|f| header.col(f).is_none())
        .collect();
    if !founder_given {
        missing.push("founder_name");
    }
    if !missing.is_empty() {
        for field in missing {
            let names = LIST_HEADERS
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, n)| n.iter().take(4).copied().collect::<Vec<_>>().join("・"))
                .unwrap_or_default();
            sink.report(
                Some(crate::grid::a1(header.row, 0)),
                "header",
                format!(
                    "一覧に「{}」の列がありません（{}行目が見出し行です）。見出しを「{names}」のいずれかにした列を加えてください。",
                    field_label(field),
                    u64::from(header.row) + 1
                ),
            );
        }
        outcome.problems.extend(sink.problems);
        return;
    }
    for (row, cells) in grid.rows_after(header.row) {
        let get = |field: &str| -> Vec<&Cell> {
            header
                .col(field)
                .and_then(|col| cells.iter().find(|c| c.col == col))
                .filter(|c| !c.is_blank())
                .into_iter()
                .collect()
        };
        let any_filled = header
            .columns
            .iter()
            .any(|&(col, _)| cells.iter().any(|c| c.col == col && !c.is_blank()));
        if !any_filled {
            continue;
        }
        let before = sink.problems.len();
        let draft = read_row(&mut sink, header, row, &get);
        let clean_row = sink.problems.len() == before;
        match draft.finish() {
            Some(form) if clean_row => outcome.items.push(located(grid, row, form)),
            _ => outcome.rejected.push(located(
                grid,
                row,
                header
                    .columns
                    .iter()
                    .filter_map(|&(col, field)| {
                        let cells: Vec<&Cell> = cells
                            .iter()
                            .filter(|c| c.col == col && !c.is_blank())
                            .collect();
                        (!cells.is_empty()).then(|| (field, joined(&cells)))
                    })
                    .collect(),
            )),
        }
    }
    outcome.problems.extend(sink.problems);
}

/// `value` found at `row` (0-based) of `grid`.
fn located<T>(grid: &Grid, row: u32, value: T) -> Located<T> {
    Located {
        sheet: grid.name.clone(),
        cell_or_row: format!("row {}", u64::from(row) + 1),
        value,
    }
}

fn read_row<'g>(
    sink: &mut Sink<'_>,
    header: &Header,
    row: u32,
    get: &dyn Fn(&str) -> Vec<&'g Cell>,
) -> Draft {
    let at = |field: &str| header.col(field).map(|c| crate::grid::a1(row, c));
    let mut d = Draft::default();
    let text = |sink: &mut Sink<'_>, field: &str| -> Option<String> {
        let cells = get(field);
        if !sink.usable(&cells, field) {
            return None;
        }
        let t = joined(&cells);
        (!t.is_empty()).then_some(t)
    };

    d.facility_name = text(sink, "facility_name");
    if d.facility_name.is_none() && get("facility_name").is_empty() {
        sink.missing(at("facility_name"), "facility_name", "");
    }

    let kind_cells = get("kind");
    if kind_cells.is_empty() {
        sink.missing(
            at("kind"),
            "kind",
            "医科、歯科、薬局のいずれか1つを記入してください。",
        );
    } else if sink.usable(&kind_cells, "kind") {
        match parse_kind(&joined(&kind_cells)) {
            Ok(k) => d.kind = Some(k),
            Err(e) => sink.report(at("kind"), "kind", e),
        }
    }

    // 所在地 (a 〒 in the address column is split off when there is no postal column).
    let postal_cells = get("facility_postal_code");
    let (postal, _) = read_postal(sink, &postal_cells, "facility_postal_code");
    let address_cells = get("facility_address");
    if address_cells.is_empty() {
        sink.missing(
            at("facility_address"),
            "facility_address",
            "「東京都千代田区霞が関1-2-2」のように記入してください。",
        );
    } else if sink.usable(&address_cells, "facility_address") {
        let (p, a, _) = read_postal_address(
            sink,
            &joined(&address_cells),
            at("facility_address"),
            "facility_postal_code",
        );
        d.facility_postal_code = postal.or(p);
        match a {
            Some(a) => d.facility_address = Some(a),
            None => sink.missing(
                at("facility_address"),
                "facility_address",
                "郵便番号のあとに住所を記入してください。",
            ),
        }
    }

    d.designation_date = read_date(
        sink,
        &get("designation_date"),
        at("designation_date"),
        "designation_date",
        true,
    );
    d.request_date = read_date(
        sink,
        &get("request_date"),
        at("request_date"),
        "request_date",
        false,
    );

    // 開設者
    if let Some(name) = text(sink, "founder_name") {
        d.founder = parse_founder(&[name]);
    } else if let Some(corp) = text(sink, "corporation_name") {
        d.founder = Some(Founder::Corporation {
            name: corp,
            representative_title: text(sink, "representative_title"),
            representative_name: text(sink, "representative_name"),
        });
    } else {
        let at = at("founder_name").or_else(|| at("corporation_name"));
        sink.missing(
            at,
            "founder_name",
            "開設者の氏名（法人の場合は名称と代表者の職・氏名）を記入してください。",
        );
    }

    d.founder_registration = text(sink, "founder_registration");
    let phone_cells = get("contact_phone");
    d.contact_phone = read_phone(sink, &phone_cells, at("contact_phone"), "contact_phone");

    let (reply_postal, _) = read_postal(sink, &get("reply_postal_code"), "reply_postal_code");
    let reply_cells = get("reply_address");
    let mut reply_from_address: Option<PostalCode> = None;
    if !reply_cells.is_empty() && sink.usable(&reply_cells, "reply_address") {
        let (p, a, _) = read_postal_address(
            sink,
            &joined(&reply_cells),
            at("reply_address"),
            "reply_postal_code",
        );
        reply_from_address = p;
        d.reply_address = a;
    }
    d.reply_postal_code = reply_postal.or(reply_from_address);
    d.reply_name = text(sink, "reply_name")
        .map(|n| n.trim_end_matches(['様', '殿']).trim().to_owned())
        .filter(|n| !n.is_empty());
    d.addressed_bureau = text(sink, "addressed_bureau");
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_by_any_documented_name() {
        assert_eq!(header_field("医療機関名"), Some("facility_name"));
        assert_eq!(header_field("〒"), Some("facility_postal_code"));
        assert_eq!(
            header_field("医療機関所在地（郵便番号）"),
            Some("facility_postal_code")
        );
        assert_eq!(
            header_field("医療機関所在地（住所）"),
            Some("facility_address")
        );
        assert_eq!(header_field("指定希望日（予定）"), Some("designation_date"));
        assert_eq!(header_field("担当者 電話"), Some("contact_phone"));
        assert_eq!(header_field("項番"), Some("ignored"));
        assert_eq!(header_field("診療科"), None);
    }

    #[test]
    fn every_documented_name_maps_back_to_its_own_field() {
        for (field, names) in LIST_HEADERS {
            for n in *names {
                assert_eq!(key(n), *n, "{n} must be written as it compares");
                assert_eq!(header_field(n), Some(*field), "{n}");
            }
        }
    }
}
