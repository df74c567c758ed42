//! Finding cases (案件一覧) and the case page (案件詳細), both read-only. The queries
//! are the store's ([`uketsuke_store::cases`]); this module reads the list's query
//! string and its submodules turn the results into pages and downloads:
//!
//! - [`list`] — `GET /cases`: the signed-in user's bureau's requests (only their
//!   office's, if the account is limited to one), filtered by status, office, kind,
//!   designation month, "answer due within N open days" and overdue; searched by
//!   facility name (width, kana and spaces folded, as [`search_key`] does), by 開設者
//!   (width and spaces folded), by 受付番号 (or its prefix) and by phone (digits only);
//!   sorted and paged, 50 to a page.
//! - [`export`] — `GET /cases.xlsx` and `GET /cases.csv?encoding=utf8|sjis`: the same
//!   view, every page, as a workbook or as CSV (UTF-8 with a BOM, or Shift_JIS as
//!   Windows-31J).
//! - [`show`] — `GET /cases/{id}`: every field of 別紙1, the computed deadlines, the
//!   verdict, the numbers issued, the 医科/歯科 sibling, the council session and the
//!   audit trail ([`history`]).
//! - [`plan`] — the 導入計画書 (別紙2) of a case: its section of the case page, the
//!   upload, the entry form, 確認済, the 経過措置 届出 and the printable 補正 request.
//!
//! Every query carries the user's bureau on the server; another bureau's case is a 404.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use uketsuke_domain::{RequestKind, normalize_width, search_key};
use uketsuke_store::cases::{CaseQuery, SortKey};
use uketsuke_store::entities::office;
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_store::queues::Queue;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::state::AppState;
use crate::view::percent;

mod bulk;
mod export;
mod history;
mod list;
pub mod plan;
mod show;

pub use bulk::bulk;
pub use export::{csv_download, xlsx};
pub use list::list;
pub use show::{Notice, case_page, show};

/// Cases on one page of the list.
pub const PAGE_SIZE: u64 = 50;

/// The list counts and pages through at most this many cases of a view.
pub const LIST_LIMIT: u64 = uketsuke_store::cases::LIST_LIMIT;

/// The most rows one download holds (a bureau's whole history fits many times over).
pub const MAX_EXPORT_ROWS: u64 = 100_000;

/// The largest N of "answer due within N open days".
const MAX_DUE_WITHIN: u32 = 250;

// ───────────────────────────── the list's query ─────────────────────────────

/// The list's query string, as the GET form sends it (every field may be empty). The
/// JSON API's list takes the same parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A work queue: approval | answer | due-soon | registry | reflection.
    pub queue: String,
    /// received | proposed | issued | answered | designated | not_designated | returned | withdrawn
    pub status: String,
    pub office: String,
    pub kind: String,
    /// 指定希望月 `YYYY-MM`.
    pub month: String,
    /// 回答期限まで N 開庁日以内.
    pub due_within: String,
    /// `1`: 回答期限を過ぎたもの.
    pub overdue: String,
    /// 名称 (any width, kana, spacing).
    pub name: String,
    /// 開設者 (a person, or the 法人 and its representative; spaces ignored).
    pub founder: String,
    /// 受付番号, whole or its beginning.
    pub code: String,
    /// 電話番号 (digits compared).
    pub phone: String,
    /// received | name | kind | status | designation | due | code | office
    pub sort: String,
    /// asc | desc
    pub order: String,
    pub page: String,
    /// For the CSV: utf8 | sjis.
    pub encoding: String,
    /// `all`: every case of the page comes checked (select-all without JavaScript).
    pub select: String,
    /// `1`: back to the conditions last used in this session (the menu's link).
    pub restore: String,
    /// `1`: forget the remembered conditions (「条件をクリア」).
    pub clear: String,
}

/// The filters, parsed; with a message for each field that could not be read (that
/// filter is then not applied).
#[derive(Debug, Clone)]
pub struct Filters {
    queue: Option<Queue>,
    status: Option<CaseStatus>,
    office: Option<i32>,
    kind: Option<RequestKind>,
    /// The first day of the designation month.
    month: Option<NaiveDate>,
    due_within: Option<u32>,
    overdue: bool,
    name_key: Option<String>,
    /// The name as typed, for links.
    name_raw: String,
    founder: Option<String>,
    /// The 開設者 as typed, for links.
    founder_raw: String,
    code: Option<String>,
    phone: Option<String>,
    sort: SortKey,
    descending: bool,
    page: u64,
    errors: BTreeMap<&'static str, String>,
}

/// `2026-07`, `2026/7`, `２０２６年７月` → the first of that month.
fn parse_month(input: &str) -> Option<NaiveDate> {
    let s = normalize_width(input)
        .trim()
        .trim_end_matches('月')
        .replace(['/', '年', '.'], "-");
    let (y, m) = s.split_once('-')?;
    let (y, m) = (y.trim().parse::<i32>().ok()?, m.trim().parse::<u32>().ok()?);
    NaiveDate::from_ymd_opt(y, m, 1)
}

/// The digits of `input` after width folding (`０３－１２３４` → `031234`).
fn digits(input: &str) -> String {
    normalize_width(input)
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

impl Filters {
    /// Reads the query. `offices` are the bureau's offices the user may pick from.
    pub(crate) fn parse(p: &ListParams, offices: &[office::Model]) -> Self {
        let mut errors = BTreeMap::new();
        let queue = match p.queue.trim() {
            "" => None,
            q => {
                let parsed = Queue::parse(q);
                if parsed.is_none() {
                    errors.insert(
                        "queue",
                        format!(
                            "「{q}」という作業の一覧はありません（すべての案件を表示しています）"
                        ),
                    );
                }
                parsed
            }
        };
        let status = CaseStatus::parse(p.status.trim());
        let office = p
            .office
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|id| offices.iter().any(|o| o.id == *id));
        let kind = p.kind.trim().parse::<RequestKind>().ok();
        let month = match p.month.trim() {
            "" => None,
            m => {
                let parsed = parse_month(m);
                if parsed.is_none() {
                    errors.insert(
                        "month",
                        "指定希望月は「2026-07」のように年と月で入力してください".to_owned(),
                    );
                }
                parsed
            }
        };
        let due_within = match normalize_width(&p.due_within).trim() {
            "" => None,
            n => match n.parse::<u32>() {
                Ok(n) if n <= MAX_DUE_WITHIN => Some(n),
                _ => {
                    errors.insert(
                        "due_within",
                        format!("開庁日数は0から{MAX_DUE_WITHIN}までの数字で入力してください"),
                    );
                    None
                }
            },
        };
        let overdue = !matches!(p.overdue.trim(), "" | "0" | "false");
        let name_key = Some(search_key(&p.name)).filter(|k| !k.is_empty());
        let founder =
            Some(uketsuke_store::cases::founder_key(&p.founder)).filter(|k| !k.is_empty());
        let code = match p.code.trim() {
            "" => None,
            c => {
                let d = digits(c);
                if d.is_empty() || d.len() > 10 {
                    errors.insert(
                        "code",
                        "受付番号は10桁までの数字（先頭の一部でも可）で入力してください".to_owned(),
                    );
                    None
                } else {
                    Some(d)
                }
            }
        };
        let phone = match p.phone.trim() {
            "" => None,
            t => {
                let d = digits(t);
                if d.is_empty() {
                    errors.insert("phone", "電話番号は数字で入力してください".to_owned());
                    None
                } else {
                    Some(d)
                }
            }
        };
        let sort = SortKey::parse(p.sort.trim()).unwrap_or(SortKey::Received);
        let descending = match p.order.trim() {
            "asc" => false,
            "desc" => true,
            _ => sort.default_descending(),
        };
        let page = p.page.trim().parse::<u64>().unwrap_or(1).max(1);
        Filters {
            queue,
            status,
            office,
            kind,
            month,
            due_within,
            overdue,
            name_key,
            name_raw: p.name.trim().to_owned(),
            founder,
            founder_raw: p.founder.trim().to_owned(),
            code,
            phone,
            sort,
            descending,
            page,
            errors,
        }
    }

    /// The store's query of this view; "due within N open days" is counted on the
    /// calendar of the user's bureau from `today`.
    fn query(&self, state: &AppState, user: &CurrentUser, today: NaiveDate) -> CaseQuery {
        self.query_on(&state.calendar(&user.user.bureau_id), today)
    }

    /// The store's query, "due within N open days" counted on `calendar` from `today`.
    pub(crate) fn query_on(
        &self,
        calendar: &uketsuke_rules::calendar::Calendar,
        today: NaiveDate,
    ) -> CaseQuery {
        CaseQuery {
            status: self.status,
            office: self.office,
            kind: self.kind,
            month: self.month,
            due_within_limit: self.due_within.map(|n| calendar.add_open_days(today, n)),
            overdue: self.overdue,
            name_key: self.name_key.clone(),
            founder: self.founder.clone(),
            code: self.code.clone(),
            phone: self.phone.clone(),
            sort: self.sort,
            descending: self.descending,
            ..CaseQuery::default()
        }
    }

    /// The store's query of this view with its queue's conditions (which may need the
    /// database: 未指定の確認 compares with the published lists).
    pub(crate) async fn store_query(
        &self,
        state: &AppState,
        user: &CurrentUser,
        today: NaiveDate,
    ) -> Result<CaseQuery, Error> {
        let mut q = self.query(state, user, today);
        if let Some(queue) = self.queue {
            let calendar = state.calendar(&user.user.bureau_id);
            let soon = calendar.add_open_days(today, uketsuke_store::queues::DUE_SOON_OPEN_DAYS);
            uketsuke_store::queues::narrow(&state.db, &user.scope(), queue, today, soon, &mut q)
                .await?;
        }
        Ok(q)
    }

    /// The work queue shown, if any.
    pub(crate) fn queue(&self) -> Option<Queue> {
        self.queue
    }

    /// The problems with the query, by parameter.
    pub(crate) fn errors(&self) -> &BTreeMap<&'static str, String> {
        &self.errors
    }

    /// The page asked for (from 1).
    pub(crate) fn page(&self) -> u64 {
        self.page
    }

    /// The query string of this view (without the page), for links and downloads.
    fn query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(q) = self.queue {
            pairs.push(("queue", q.as_str().to_owned()));
        }
        if let Some(s) = self.status {
            pairs.push(("status", s.as_str().to_owned()));
        }
        if let Some(o) = self.office {
            pairs.push(("office", o.to_string()));
        }
        if let Some(k) = self.kind {
            pairs.push(("kind", k.as_str().to_owned()));
        }
        if let Some(m) = self.month {
            pairs.push(("month", m.format("%Y-%m").to_string()));
        }
        if let Some(n) = self.due_within {
            pairs.push(("due_within", n.to_string()));
        }
        if self.overdue {
            pairs.push(("overdue", "1".to_owned()));
        }
        if self.name_key.is_some() {
            pairs.push(("name", self.name_raw.clone()));
        }
        if self.founder.is_some() {
            pairs.push(("founder", self.founder_raw.clone()));
        }
        if let Some(c) = &self.code {
            pairs.push(("code", c.clone()));
        }
        if let Some(p) = &self.phone {
            pairs.push(("phone", p.clone()));
        }
        pairs.push(("sort", self.sort.as_str().to_owned()));
        pairs.push((
            "order",
            if self.descending { "desc" } else { "asc" }.to_owned(),
        ));
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The conditions in words, for the download's second line.
    fn describe(&self, offices: &[office::Model]) -> String {
        let mut parts = Vec::new();
        if let Some(q) = self.queue {
            parts.push(format!("作業={}", q.label()));
        }
        if let Some(s) = self.status {
            parts.push(format!("状態={}", s.label()));
        }
        if let Some(o) = self.office {
            let name = offices
                .iter()
                .find(|x| x.id == o)
                .map_or_else(|| o.to_string(), |x| x.name.clone());
            parts.push(format!("事務所={name}"));
        }
        if let Some(k) = self.kind {
            parts.push(format!("種別={}", k.label()));
        }
        if let Some(m) = self.month {
            parts.push(format!("指定希望月={}年{}月", m.year(), m.month()));
        }
        if let Some(n) = self.due_within {
            parts.push(format!("回答期限まで{n}開庁日以内"));
        }
        if self.overdue {
            parts.push("回答期限超過".to_owned());
        }
        if self.name_key.is_some() {
            parts.push(format!("名称に「{}」", self.name_raw));
        }
        if self.founder.is_some() {
            parts.push(format!("開設者に「{}」", self.founder_raw));
        }
        if let Some(c) = &self.code {
            parts.push(format!("受付番号「{c}」から始まる"));
        }
        if let Some(p) = &self.phone {
            parts.push(format!("電話番号に「{p}」"));
        }
        if parts.is_empty() {
            "条件なし（すべての案件）".to_owned()
        } else {
            parts.join("、")
        }
    }
}

/// The bureau's offices (only the user's own, if the account is limited to one).
async fn offices_of(state: &AppState, user: &CurrentUser) -> Result<Vec<office::Model>, Error> {
    Ok(uketsuke_store::cases::offices(&state.db, &user.scope()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_reads_iso_slash_and_fullwidth_forms() {
        let july = NaiveDate::from_ymd_opt(2026, 7, 1);
        assert_eq!(parse_month("2026-07"), july);
        assert_eq!(parse_month("2026/7"), july);
        assert_eq!(parse_month("２０２６年７月"), july);
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("七月"), None);
    }
}
