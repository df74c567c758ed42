//! Finding cases (案件一覧) and the case page (案件詳細), both read-only.
//!
//! - `GET /cases`: the signed-in user's bureau's requests (only their office's, if the
//!   account is limited to one), filtered by status, office, kind, designation month,
//!   "answer due within N open days" and overdue; searched by facility name (width,
//!   kana and spaces folded, as [`search_key`] does), by 受付番号 (or its prefix) and by
//!   phone (digits only); sorted and paged in SQL, 50 to a page.
//! - `GET /cases.xlsx` and `GET /cases.csv?encoding=utf8|sjis`: the same view, every
//!   page, as a workbook or as CSV (UTF-8 with a BOM, or Shift_JIS as Windows-31J).
//! - `GET /cases/{id}`: every field of 別紙1, the computed deadlines, the verdict, the
//!   numbers issued, the 医科/歯科 sibling, the council session and the audit trail.
//!
//! Every query carries the user's bureau on the server; another bureau's case is a 404.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, LikeExpr, Query as SqlQuery, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use serde::Deserialize;
use serde_json::Value;
use uketsuke_domain::{RequestKind, format_wareki, normalize_width, search_key};
use uketsuke_store::entities::{
    audit_log, bureau, council_session, facility, issued_number, office, reception_request, user,
};
use uketsuke_store::lifecycle::{CaseStatus, Decision, FounderKind, NumberStatus};

use crate::auth::CurrentUser;
use crate::dashboard::{effective_answer_due, kind_label};
use crate::error::Error;
use crate::layout::Layout;
use crate::routes::today_in_japan;
use crate::state::AppState;

/// Cases on one page of the list.
pub const PAGE_SIZE: u64 = 50;

/// The list counts and pages through at most this many cases of a view (20 pages);
/// beyond it the page says 「1,000件以上」 and asks for a narrower search. Counting
/// a bureau's ten years (58,000 cases at national scale) on every page view cost more
/// than the rest of the page (BENCHMARKS.md); the downloads still hold every row.
pub const LIST_LIMIT: u64 = 1_000;

/// The most rows one download holds (a bureau's whole history fits many times over).
pub const MAX_EXPORT_ROWS: u64 = 100_000;

/// The statuses in which an answer is still owed.
const AWAITING_ANSWER: [CaseStatus; 3] = CaseStatus::AWAITING_ANSWER;

/// The largest N of "answer due within N open days".
const MAX_DUE_WITHIN: u32 = 250;

// ───────────────────────────── the list's query ─────────────────────────────

/// The list's query string, as the GET form sends it (every field may be empty).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListParams {
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
    /// 受付番号, whole or its beginning.
    pub code: String,
    /// 電話番号 (digits compared).
    pub phone: String,
    /// received | designation | due | name
    pub sort: String,
    /// asc | desc
    pub order: String,
    pub page: String,
    /// For the CSV: utf8 | sjis.
    pub encoding: String,
}

/// What the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Received,
    Designation,
    Due,
    Name,
}

impl SortKey {
    const ALL: [SortKey; 4] = [
        SortKey::Received,
        SortKey::Designation,
        SortKey::Due,
        SortKey::Name,
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == s)
    }

    fn id(self) -> &'static str {
        match self {
            SortKey::Received => "received",
            SortKey::Designation => "designation",
            SortKey::Due => "due",
            SortKey::Name => "name",
        }
    }

    fn label(self) -> &'static str {
        match self {
            SortKey::Received => "受付日",
            SortKey::Designation => "指定希望日",
            SortKey::Due => "回答期限",
            SortKey::Name => "名称",
        }
    }

    /// The natural direction: newest first for 受付日, soonest first otherwise.
    fn default_descending(self) -> bool {
        self == SortKey::Received
    }
}

/// The filters, parsed; with a message for each field that could not be read (that
/// filter is then not applied).
#[derive(Debug, Clone)]
struct Filters {
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
    fn parse(p: &ListParams, offices: &[office::Model]) -> Self {
        let mut errors = BTreeMap::new();
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
            status,
            office,
            kind,
            month,
            due_within,
            overdue,
            name_key,
            name_raw: p.name.trim().to_owned(),
            code,
            phone,
            sort,
            descending,
            page,
            errors,
        }
    }

    /// The query string of this view (without the page), for links and downloads.
    fn query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
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
        if let Some(c) = &self.code {
            pairs.push(("code", c.clone()));
        }
        if let Some(p) = &self.phone {
            pairs.push(("phone", p.clone()));
        }
        pairs.push(("sort", self.sort.id().to_owned()));
        pairs.push((
            "order",
            if self.descending { "desc" } else { "asc" }.to_owned(),
        ));
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The conditions in words, for the download's second line.
    fn describe(&self, offices: &[office::Model]) -> String {
        let mut parts = Vec::new();
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

/// Percent-encodes everything but unreserved ASCII (RFC 3986).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `LIKE` pattern text with `\`, `%` and `_` escaped (the pattern uses `ESCAPE '\'`).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `column` with the separators people type in phone numbers removed (nested
/// `REPLACE`, which SQLite and PostgreSQL both have; the separators are bound values).
fn phone_digits_expr(column: Expr) -> Expr {
    let mut expr = Expr::from(Func::coalesce([column, Expr::val("")]));
    for sep in ["-", " ", "(", ")", "－", "ー", "‐", "−", "（", "）", "　"] {
        expr = Expr::from(
            Func::cust("REPLACE")
                .arg(expr)
                .arg(Expr::val(sep))
                .arg(Expr::val("")),
        );
    }
    expr
}

/// 回答期限 in force: the override if staff set one, else the computed one.
fn effective_due_expr() -> Expr {
    Expr::from(Func::coalesce([
        Expr::col((
            reception_request::Entity,
            reception_request::Column::AnswerDueOverride,
        )),
        Expr::col((
            reception_request::Entity,
            reception_request::Column::AnswerDue,
        )),
    ]))
}

/// The ids of the bureau's facilities matching `condition`.
fn facility_ids(bureau: &str, condition: Expr) -> SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    SqlQuery::select()
        .column((facility::Entity, facility::Column::Id))
        .from(facility::Entity)
        .and_where(Expr::col((facility::Entity, facility::Column::BureauId)).eq(bureau))
        .and_where(condition)
        .to_owned()
}

/// How a name key is looked up (names are matched as substrings of the normalised
/// search key, with the indexes of migration 6).
enum NameLookup {
    /// SQLite, 3+ characters: the FTS5 trigram mirror of the facilities' names, as a
    /// phrase query (a substring match on the index).
    SqliteFts { phrase: String },
    /// PostgreSQL: the facility's search key copied onto each request, under a trigram
    /// index that leads with the bureau.
    RequestKey { pattern: LikeExpr },
    /// SQLite, 1–2 characters: a scan of the facilities' names.
    FacilityScan { pattern: LikeExpr },
}

impl NameLookup {
    fn new(backend: DbBackend, key: &str) -> Self {
        let pattern = LikeExpr::new(format!("%{}%", like_escape(key))).escape('\\');
        match backend {
            DbBackend::Postgres => Self::RequestKey { pattern },
            _ if key.chars().count() >= 3 => Self::SqliteFts {
                phrase: format!("\"{}\"", key.replace('"', "\"\"")),
            },
            _ => Self::FacilityScan { pattern },
        }
    }

    /// The condition on `reception_requests` for the user's bureau.
    fn condition(self, bureau: &str) -> Condition {
        use sea_orm::sea_query::ExprTrait;
        let facility_id = Expr::col((
            reception_request::Entity,
            reception_request::Column::FacilityId,
        ));
        let expr = match self {
            // The FTS rowid is the facility id; the request's own bureau condition
            // already keeps other bureaus' facilities out.
            Self::SqliteFts { phrase } => facility_id.in_subquery(
                SqlQuery::select()
                    .expr(Expr::col(Alias::new("rowid")))
                    .from(Alias::new("facilities_name_fts"))
                    .and_where(Expr::cust_with_values(
                        "facilities_name_fts MATCH ?",
                        [phrase],
                    ))
                    .to_owned(),
            ),
            Self::RequestKey { pattern } => {
                Expr::col((reception_request::Entity, Alias::new("name_search"))).like(pattern)
            }
            Self::FacilityScan { pattern } => facility_id.in_subquery(facility_ids(
                bureau,
                Expr::col((facility::Entity, facility::Column::NameSearch)).like(pattern),
            )),
        };
        Condition::all().add(expr)
    }
}

/// The office the user is limited to, if any.
fn user_office(user: &CurrentUser) -> Option<i32> {
    user.user.office_id
}

/// The requests of this view, in order, without paging.
fn select_cases(
    user: &CurrentUser,
    f: &Filters,
    today: NaiveDate,
    state: &AppState,
) -> Select<reception_request::Entity> {
    use reception_request::Column as C;
    use sea_orm::sea_query::ExprTrait;
    let bureau = user.user.bureau_id.as_str();
    let lookup = f
        .name_key
        .as_deref()
        .map(|key| NameLookup::new(state.db.get_database_backend(), key));
    let mut cond = if matches!(lookup, Some(NameLookup::SqliteFts { .. })) {
        // Unary + keeps SQLite's planner off the bureau's indexes, which it would
        // otherwise walk in full (58,000 rows at national scale) to probe the few
        // matching facilities; it starts from the matches instead (BENCHMARKS.md).
        Condition::all().add(Expr::cust_with_values(
            "+\"reception_requests\".\"bureau_id\" = ?",
            [bureau],
        ))
    } else {
        Condition::all().add(C::BureauId.eq(bureau))
    };
    if let Some(office) = user_office(user).or(f.office) {
        cond = cond.add(C::OfficeId.eq(office));
    }
    if let Some(s) = f.status {
        cond = cond.add(C::Status.eq(s));
    }
    if let Some(k) = f.kind {
        cond = cond.add(C::Kind.eq(k));
    }
    if let Some(first) = f.month {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        cond = cond
            .add(C::DesignationDate.gte(first))
            .add(C::DesignationDate.lt(next));
    }
    if let Some(n) = f.due_within {
        let limit = state.calendar(bureau).add_open_days(today, n);
        cond = cond
            .add(C::Status.is_in(AWAITING_ANSWER))
            .add(effective_due_expr().gte(Expr::val(today)))
            .add(effective_due_expr().lte(Expr::val(limit)));
    }
    if f.overdue {
        cond = cond
            .add(C::Status.is_in(AWAITING_ANSWER))
            .add(effective_due_expr().lt(Expr::val(today)));
    }
    if let Some(lookup) = lookup {
        cond = cond.add(lookup.condition(bureau));
    }
    if let Some(code) = &f.code {
        let numbers = SqlQuery::select()
            .column((issued_number::Entity, issued_number::Column::RequestId))
            .from(issued_number::Entity)
            .and_where(
                Expr::col((issued_number::Entity, issued_number::Column::RequestId)).is_not_null(),
            )
            .and_where(
                Expr::col((issued_number::Entity, issued_number::Column::Code))
                    .like(LikeExpr::new(format!("{code}%"))),
            )
            .to_owned();
        cond = cond.add(Expr::col((reception_request::Entity, C::Id)).in_subquery(numbers));
    }
    if let Some(phone) = &f.phone {
        let pattern = format!("%{phone}%");
        let own = phone_digits_expr(Expr::col((reception_request::Entity, C::ContactPhone)))
            .like(LikeExpr::new(pattern.clone()));
        let facility_phone = facility_ids(
            bureau,
            phone_digits_expr(Expr::col((facility::Entity, facility::Column::Phone)))
                .like(LikeExpr::new(pattern)),
        );
        cond = cond.add(Condition::any().add(own).add(
            Expr::col((reception_request::Entity, C::FacilityId)).in_subquery(facility_phone),
        ));
    }
    let order = if f.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let select = reception_request::Entity::find().filter(cond);
    let select = match f.sort {
        SortKey::Received => select.order_by(C::ReceivedOn, order.clone()),
        SortKey::Designation => select.order_by(C::DesignationDate, order.clone()),
        SortKey::Due => select.order_by(effective_due_expr(), order.clone()),
        SortKey::Name => select.order_by(C::FacilityName, order.clone()),
    };
    select.order_by(C::Id, order)
}

/// Page `page` of `select` with the number of all its rows; the count is `None` when
/// the page is empty (past the end, or nothing matches). The first query finds, sorts
/// and counts the matches by id alone (from an index where one covers the view, see
/// migration 6); the second reads the page's rows.
async fn page_with_count(
    db: &sea_orm::DatabaseConnection,
    select: &Select<reception_request::Entity>,
    page: u64,
) -> Result<(Vec<reception_request::Model>, Option<u64>), Error> {
    use sea_orm::QueryTrait;
    let query = select
        .clone()
        .select_only()
        .column(reception_request::Column::Id)
        .column_as(Expr::cust("COUNT(*) OVER ()"), "matching_total")
        .offset((page.max(1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .into_query();
    let mut total = None;
    let mut ids = Vec::new();
    for result in db.query_all(&query).await? {
        let n: i64 = result.try_get("", "matching_total")?;
        total = Some(u64::try_from(n).unwrap_or(0));
        ids.push(result.try_get::<i32>("", "id")?);
    }
    if ids.is_empty() {
        return Ok((Vec::new(), total));
    }
    let mut rows: HashMap<i32, reception_request::Model> = reception_request::Entity::find()
        .filter(reception_request::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let rows = ids.iter().filter_map(|id| rows.remove(id)).collect();
    Ok((rows, total))
}

/// How many rows `select` gives, counting no further than `limit`: one row comes back
/// from the database, however many match.
async fn count_up_to(
    db: &sea_orm::DatabaseConnection,
    select: &Select<reception_request::Entity>,
    limit: u64,
) -> Result<u64, Error> {
    use sea_orm::QueryTrait;
    let matching = select
        .clone()
        .select_only()
        .column(reception_request::Column::Id)
        .limit(limit)
        .into_query()
        .clear_order_by()
        .to_owned();
    let count = SqlQuery::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(matching, Alias::new("matching"))
        .to_owned();
    let n: i64 = match db.query_one(&count).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The bureau's offices (only the user's own, if the account is limited to one).
async fn offices_of(state: &AppState, user: &CurrentUser) -> Result<Vec<office::Model>, Error> {
    let mut q = office::Entity::find().filter(office::Column::BureauId.eq(&user.user.bureau_id));
    if let Some(id) = user_office(user) {
        q = q.filter(office::Column::Id.eq(id));
    }
    Ok(q.order_by_asc(office::Column::Code).all(&state.db).await?)
}

/// The number shown for each request: its approved number, else its proposal, else a
/// void one (so a case is never shown without the numbers it had).
async fn codes_of<C: ConnectionTrait>(
    db: &C,
    ids: &[i32],
) -> Result<HashMap<i32, issued_number::Model>, Error> {
    let rank = |s: &NumberStatus| match s {
        NumberStatus::Approved => 0,
        NumberStatus::Proposed => 1,
        NumberStatus::Void => 2,
    };
    let mut best: HashMap<i32, issued_number::Model> = HashMap::new();
    for chunk in ids.chunks(1000) {
        let rows = issued_number::Entity::find()
            .filter(issued_number::Column::RequestId.is_in(chunk.iter().copied()))
            .order_by_asc(issued_number::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            let Some(request) = row.request_id else {
                continue;
            };
            let better = best
                .get(&request)
                .is_none_or(|old| rank(&row.status) < rank(&old.status));
            if better {
                best.insert(request, row);
            }
        }
    }
    Ok(best)
}

// ───────────────────────────── the list page ─────────────────────────────

/// A date in 和暦 with its 西暦.
#[derive(Debug, Clone)]
pub struct JpDate {
    pub wareki: String,
    pub iso: String,
}

impl JpDate {
    fn new(d: NaiveDate) -> Self {
        Self {
            wareki: format_wareki(d),
            iso: d.format("%Y-%m-%d").to_string(),
        }
    }

    fn opt(d: Option<NaiveDate>) -> Option<Self> {
        d.map(Self::new)
    }
}

/// One row of the list.
pub struct CaseRow {
    pub id: i32,
    pub received: JpDate,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub designation: JpDate,
    pub due: JpDate,
    pub due_overridden: bool,
    pub overdue: bool,
    pub code: String,
    pub code_note: &'static str,
    pub office: String,
}

/// One `<option>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A link to a page of the list.
pub struct PageLink {
    pub number: u64,
    pub href: String,
    pub current: bool,
}

/// A sortable column header.
pub struct SortHeader {
    pub label: &'static str,
    pub href: String,
    /// `ascending` / `descending` when the list is sorted by it (for `aria-sort`).
    pub aria_sort: &'static str,
    pub arrow: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases.html")]
pub struct CasesPage {
    layout: Layout,
    params: ListParams,
    errors: BTreeMap<&'static str, String>,
    notice: Option<String>,
    statuses: Vec<Choice>,
    offices: Vec<Choice>,
    office_fixed: Option<String>,
    kinds: Vec<Choice>,
    sorts: Vec<Choice>,
    descending: bool,
    overdue: bool,
    rows: Vec<CaseRow>,
    total: u64,
    /// More than [`LIST_LIMIT`] cases match: `total` is the limit.
    capped: bool,
    first_shown: u64,
    last_shown: u64,
    page: u64,
    pages: u64,
    page_links: Vec<PageLink>,
    prev_href: Option<String>,
    next_href: Option<String>,
    headers: Vec<SortHeader>,
    query: String,
    today: JpDate,
}

impl CasesPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

/// The page numbers to link: the first, the last and two either side of the current,
/// with `0` standing for a gap (…).
fn page_window(page: u64, pages: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for n in 1..=pages {
        if n == 1 || n == pages || n.abs_diff(page) <= 2 {
            out.push(n);
        } else if out.last().is_some_and(|&l| l != 0) {
            out.push(0);
        }
    }
    out
}

fn row_of(
    r: &reception_request::Model,
    numbers: &HashMap<i32, issued_number::Model>,
    offices: &HashMap<i32, String>,
    today: NaiveDate,
) -> CaseRow {
    let due = effective_answer_due(r);
    let number = numbers.get(&r.id);
    CaseRow {
        id: r.id,
        received: JpDate::new(r.received_on),
        facility_name: r.facility_name.clone(),
        kind_label: r.kind.label(),
        status: r.status.as_str(),
        status_label: r.status.label(),
        designation: JpDate::new(r.designation_date),
        due: JpDate::new(due),
        due_overridden: r.answer_due_override.is_some(),
        overdue: due < today && AWAITING_ANSWER.contains(&r.status),
        code: number.map(|n| n.code.clone()).unwrap_or_default(),
        code_note: match number.map(|n| n.status) {
            Some(NumberStatus::Proposed) => "（起案中）",
            Some(NumberStatus::Void) => "（無効）",
            _ => "",
        },
        office: r
            .office_id
            .and_then(|id| offices.get(&id).cloned())
            .unwrap_or_default(),
    }
}

/// `GET /cases`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<CasesPage, Error> {
    list_page(&state, &user, params, None).await
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    params: ListParams,
    notice: Option<String>,
) -> Result<CasesPage, Error> {
    let today = today_in_japan();
    let offices = offices_of(state, user).await?;
    let f = Filters::parse(&params, &offices);
    let select = select_cases(user, &f, today, state);
    // A name search cannot be read off a sort index: the database visits every match to
    // sort them, so the same pass counts them (a window count). Otherwise the first
    // page comes off the index and a capped count is cheap.
    let db = &state.db;
    let (mut rows, counted) = if f.name_key.is_some() {
        page_with_count(db, &select, f.page).await?
    } else {
        (Vec::new(), None)
    };
    let matching = match counted {
        Some(n) => n,
        None => count_up_to(db, &select, LIST_LIMIT + 1).await?,
    };
    let capped = matching > LIST_LIMIT;
    let total = matching.min(LIST_LIMIT);
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = f.page.min(pages);
    if counted.is_none() || page != f.page {
        rows = select
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
            .all(db)
            .await?;
    }
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let numbers = codes_of(&state.db, &ids).await?;
    let office_names: HashMap<i32, String> =
        offices.iter().map(|o| (o.id, o.name.clone())).collect();
    let rows: Vec<CaseRow> = rows
        .iter()
        .map(|r| row_of(r, &numbers, &office_names, today))
        .collect();

    let query = f.query_string();
    let href = |n: u64| format!("/cases?{query}&page={n}");
    let page_links = page_window(page, pages)
        .into_iter()
        .map(|n| PageLink {
            number: n,
            href: if n == 0 { String::new() } else { href(n) },
            current: n == page,
        })
        .collect();
    let headers = SortHeader::all(&f);
    let office_fixed = user_office(user).map(|id| {
        office_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("事務所 {id}"))
    });
    let shown = rows.len() as u64;
    Ok(CasesPage {
        layout: Layout::signed_in(state, user),
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.label().to_owned(),
                selected: f.status == Some(*s),
            })
            .collect(),
        offices: offices
            .iter()
            .map(|o| Choice {
                value: o.id.to_string(),
                label: o.name.clone(),
                selected: f.office == Some(o.id),
            })
            .collect(),
        office_fixed,
        kinds: RequestKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str().to_owned(),
                label: k.label().to_owned(),
                selected: f.kind == Some(*k),
            })
            .collect(),
        sorts: SortKey::ALL
            .iter()
            .map(|k| Choice {
                value: k.id().to_owned(),
                label: k.label().to_owned(),
                selected: f.sort == *k,
            })
            .collect(),
        descending: f.descending,
        overdue: f.overdue,
        rows,
        total,
        capped,
        first_shown: if shown == 0 {
            0
        } else {
            (page - 1) * PAGE_SIZE + 1
        },
        last_shown: (page - 1) * PAGE_SIZE + shown,
        page,
        pages,
        page_links,
        prev_href: (page > 1).then(|| href(page - 1)),
        next_href: (page < pages).then(|| href(page + 1)),
        headers,
        query,
        today: JpDate::new(today),
        errors: f.errors,
        notice,
        params,
    })
}

impl SortHeader {
    /// The list's column headers in display order; a sortable one links to the list
    /// sorted by it (a second click reverses the order).
    fn all(f: &Filters) -> Vec<SortHeader> {
        let columns = [
            ("受付日", Some(SortKey::Received)),
            ("名称", Some(SortKey::Name)),
            ("種別", None),
            ("状態", None),
            ("指定希望日", Some(SortKey::Designation)),
            ("回答期限", Some(SortKey::Due)),
            ("受付番号", None),
            ("事務所", None),
        ];
        columns
            .into_iter()
            .map(|(label, key)| {
                let Some(key) = key else {
                    return SortHeader {
                        label,
                        href: String::new(),
                        aria_sort: "",
                        arrow: "",
                    };
                };
                let current = f.sort == key;
                let mut link = f.clone();
                link.sort = key;
                link.descending = if current {
                    !f.descending
                } else {
                    key.default_descending()
                };
                SortHeader {
                    label,
                    href: format!("/cases?{}", link.query_string()),
                    aria_sort: match (current, f.descending) {
                        (false, _) => "",
                        (true, false) => "ascending",
                        (true, true) => "descending",
                    },
                    arrow: match (current, f.descending) {
                        (false, _) => "",
                        (true, false) => "▲",
                        (true, true) => "▼",
                    },
                }
            })
            .collect()
    }
}

// ───────────────────────────── downloads ─────────────────────────────

/// The rows of a download, in the list's order (every page).
async fn export_rows(
    state: &AppState,
    user: &CurrentUser,
    params: &ListParams,
) -> Result<(Vec<ExportRow>, String), Error> {
    let today = today_in_japan();
    let offices = offices_of(state, user).await?;
    let f = Filters::parse(params, &offices);
    let rows = select_cases(user, &f, today, state)
        .limit(MAX_EXPORT_ROWS)
        .all(&state.db)
        .await?;
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let numbers = codes_of(&state.db, &ids).await?;
    let office_names: HashMap<i32, String> =
        offices.iter().map(|o| (o.id, o.name.clone())).collect();
    let out = rows
        .iter()
        .map(|r| ExportRow {
            received: r.received_on,
            facility_name: r.facility_name.clone(),
            kind: r.kind.label(),
            status: r.status.label(),
            designation: r.designation_date,
            due: effective_answer_due(r),
            code: numbers
                .get(&r.id)
                .filter(|n| n.status.is_live())
                .map(|n| n.code.clone())
                .unwrap_or_default(),
            office: r
                .office_id
                .and_then(|id| office_names.get(&id).cloned())
                .unwrap_or_default(),
            address: r.facility_address.clone(),
            phone: r.contact_phone.clone(),
        })
        .collect();
    Ok((out, f.describe(&offices)))
}

/// One row of a download.
struct ExportRow {
    received: NaiveDate,
    facility_name: String,
    kind: &'static str,
    status: &'static str,
    designation: NaiveDate,
    due: NaiveDate,
    code: String,
    office: String,
    address: String,
    phone: String,
}

/// The download's columns.
const EXPORT_HEADERS: [&str; 10] = [
    "受付日",
    "名称",
    "種別",
    "状態",
    "指定希望日",
    "回答期限",
    "受付番号",
    "事務所",
    "所在地",
    "担当者電話番号",
];

/// `attachment` with an ASCII fallback name and the Japanese name (RFC 5987/6266).
fn content_disposition(ascii_name: &str, japanese_name: &str) -> HeaderValue {
    let value = format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        urlencode(japanese_name)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn download(bytes: Vec<u8>, mime: &'static str, stem: &str, ext: &str) -> Response {
    let stamp = today_in_japan().format("%Y%m%d");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(
                    &format!("cases-{stamp}.{ext}"),
                    &format!("{stem}_{stamp}.{ext}"),
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /cases.xlsx`: the view as a workbook (dates as Excel dates shown in 和暦).
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<Response, Error> {
    let (rows, conditions) = export_rows(&state, &user, &params).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook(&rows, &conditions))
        .await
        .map_err(|e| Error::Internal(format!("xlsx task failed: {e}")))?
        .map_err(|e| Error::Internal(format!("xlsx: {e}")))?;
    Ok(download(
        bytes,
        uketsuke_export::XLSX_MIME,
        "案件一覧",
        "xlsx",
    ))
}

fn workbook(rows: &[ExportRow], conditions: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook};
    const HEADER_ROW: u32 = 3;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("案件一覧")?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8E8EE")
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let text = cell.clone().set_num_format("@");
    let date = cell
        .clone()
        .set_num_format(uketsuke_export::list::WAREKI_DATE_FORMAT);
    sheet.write_with_format(0, 0, "案件一覧", &title)?;
    let now = Utc::now() + TimeDelta::hours(9);
    sheet.write(
        1,
        0,
        format!(
            "条件: {conditions}　／　{} 件　／　出力 {} {}",
            rows.len(),
            format_wareki(now.date_naive()),
            now.format("%H:%M")
        ),
    )?;
    for (c, h) in (0u16..).zip(EXPORT_HEADERS) {
        sheet.write_with_format(HEADER_ROW, c, h, &head)?;
    }
    let excel_date = |d: NaiveDate| {
        ExcelDateTime::from_ymd(
            u16::try_from(d.year()).unwrap_or(1900),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    for (r, row) in (HEADER_ROW + 1..).zip(rows) {
        sheet.write_with_format(r, 0, &excel_date(row.received)?, &date)?;
        sheet.write_with_format(r, 1, &row.facility_name, &cell)?;
        sheet.write_with_format(r, 2, row.kind, &cell)?;
        sheet.write_with_format(r, 3, row.status, &cell)?;
        sheet.write_with_format(r, 4, &excel_date(row.designation)?, &date)?;
        sheet.write_with_format(r, 5, &excel_date(row.due)?, &date)?;
        sheet.write_with_format(r, 6, &row.code, &text)?;
        sheet.write_with_format(r, 7, &row.office, &cell)?;
        sheet.write_with_format(r, 8, &row.address, &cell)?;
        sheet.write_with_format(r, 9, &row.phone, &text)?;
    }
    for (c, width) in (0u16..).zip([16.0, 36.0, 6.0, 12.0, 16.0, 16.0, 13.0, 16.0, 44.0, 16.0]) {
        sheet.set_column_width(c, width)?;
    }
    let last = HEADER_ROW + u32::try_from(rows.len()).unwrap_or(u32::MAX - HEADER_ROW - 1);
    sheet.autofilter(HEADER_ROW, 0, last, 9)?;
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    book.save_to_buffer()
}

/// The CSV's byte encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8Bom,
    ShiftJis,
}

/// A character Shift_JIS cannot hold, and where it is.
struct Unencodable {
    row: usize,
    facility: String,
    column: &'static str,
    character: char,
}

/// The code point Windows-31J uses for a JIS X 0208 character that Unicode's JIS
/// mapping puts elsewhere (as the export crate does): `〜` → `～` and five more.
fn windows_31j_form(c: char) -> char {
    match c {
        '\u{301C}' => '\u{FF5E}',
        '\u{2016}' => '\u{2225}',
        '\u{2014}' => '\u{2015}',
        '\u{00A2}' => '\u{FFE0}',
        '\u{00A3}' => '\u{FFE1}',
        '\u{00AC}' => '\u{FFE2}',
        c => c,
    }
}

/// RFC 4180 CSV: CRLF, fields quoted when they hold `,` `"` CR or LF; dates ISO 8601.
fn csv(rows: &[ExportRow], encoding: Encoding) -> Result<Vec<u8>, Unencodable> {
    fn field(out: &mut String, s: &str) {
        if s.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(s);
        }
    }
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let mut records: Vec<[String; 10]> = Vec::with_capacity(rows.len() + 1);
    records.push(EXPORT_HEADERS.map(str::to_owned));
    for r in rows {
        records.push([
            iso(r.received),
            r.facility_name.clone(),
            r.kind.to_owned(),
            r.status.to_owned(),
            iso(r.designation),
            iso(r.due),
            r.code.clone(),
            r.office.clone(),
            r.address.clone(),
            r.phone.clone(),
        ]);
    }
    let mut out = match encoding {
        Encoding::Utf8Bom => b"\xEF\xBB\xBF".to_vec(),
        Encoding::ShiftJis => Vec::new(),
    };
    let mut line = String::new();
    for (i, record) in records.iter().enumerate() {
        line.clear();
        for (j, value) in record.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            field(&mut line, value);
        }
        line.push_str("\r\n");
        match encoding {
            Encoding::Utf8Bom => out.extend_from_slice(line.as_bytes()),
            Encoding::ShiftJis => {
                let text: String = line.chars().map(windows_31j_form).collect();
                let (bytes, _, failed) = encoding_rs::SHIFT_JIS.encode(&text);
                if failed {
                    let (column, character) = record
                        .iter()
                        .zip(EXPORT_HEADERS)
                        .find_map(|(value, header)| {
                            value
                                .chars()
                                .find(|&c| {
                                    let mut buf = [0u8; 4];
                                    let c = windows_31j_form(c);
                                    encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2
                                })
                                .map(|c| (header, c))
                        })
                        .unwrap_or(("", char::REPLACEMENT_CHARACTER));
                    return Err(Unencodable {
                        row: i,
                        facility: record[1].clone(),
                        column,
                        character,
                    });
                }
                out.extend_from_slice(&bytes);
            }
        }
    }
    Ok(out)
}

/// `GET /cases.csv?encoding=utf8|sjis`: the view as CSV. A character Shift_JIS cannot
/// hold is never replaced silently: the list comes back (422) saying which and where.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn csv_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ListParams>,
) -> Result<Response, Error> {
    let encoding = match params.encoding.trim().to_ascii_lowercase().as_str() {
        "sjis" | "shift_jis" | "shift-jis" | "cp932" | "windows-31j" => Encoding::ShiftJis,
        _ => Encoding::Utf8Bom,
    };
    let (rows, _) = export_rows(&state, &user, &params).await?;
    match csv(&rows, encoding) {
        Ok(bytes) => Ok(download(
            bytes,
            match encoding {
                Encoding::Utf8Bom => "text/csv; charset=utf-8",
                Encoding::ShiftJis => "text/csv; charset=Shift_JIS",
            },
            "案件一覧",
            "csv",
        )),
        Err(e) => {
            let notice = format!(
                "Shift_JIS で表せない文字「{}」が {} 件目（{}）の「{}」にあるため、Shift_JIS の CSV を作れませんでした。UTF-8 の CSV か Excel 形式でダウンロードしてください。",
                e.character, e.row, e.facility, e.column
            );
            let page = list_page(&state, &user, params, Some(notice)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

// ───────────────────────────── the case page ─────────────────────────────

/// A number issued for the case.
pub struct NumberLine {
    pub code: String,
    pub status: &'static str,
    pub live: bool,
    pub proposed: bool,
    pub status_label: &'static str,
    pub combined_dental: bool,
    pub created: String,
    pub approved: String,
    pub voided: String,
    pub void_reason: String,
}

/// The 医科/歯科 sibling.
pub struct SiblingLink {
    pub id: i32,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
}

/// One changed field in the history.
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One entry of the history.
pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: &'static str,
    pub note: String,
    pub changes: Vec<Change>,
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
pub struct CasePage {
    layout: Layout,
    r: reception_request::Model,
    kind_label: &'static str,
    status_label: &'static str,
    bureau_name: String,
    office_name: String,
    designation: JpDate,
    request_date: Option<JpDate>,
    received: JpDate,
    submission_deadline: JpDate,
    answer_due: JpDate,
    answer_due_override: Option<JpDate>,
    effective_due: JpDate,
    overdue: bool,
    implementing_body_due: JpDate,
    answered: Option<JpDate>,
    returned: Option<JpDate>,
    withdrawn: Option<JpDate>,
    designated: Option<JpDate>,
    founder_corporation: bool,
    judged_return: bool,
    decision_label: &'static str,
    reasons: Vec<String>,
    warnings: Vec<String>,
    numbers: Vec<NumberLine>,
    sibling: Option<SiblingLink>,
    council: Option<(String, JpDate)>,
    facility_phone: String,
    history: Vec<HistoryLine>,
    actions: crate::actions::Panel,
    notice: Option<Notice>,
}

/// A JSON array of texts as stored in `reasons` / `warnings`.
fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        Value::String(s) => serde_json::from_str::<Vec<String>>(s).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Japan time, to the second, in 和暦 with the 西暦 beside.
fn jst(t: DateTime<Utc>) -> String {
    let local = t + TimeDelta::hours(9);
    format!(
        "{} {}（{}）",
        format_wareki(local.date_naive()),
        local.format("%H:%M:%S"),
        local.format("%Y-%m-%d")
    )
}

fn number_status_label(s: NumberStatus) -> &'static str {
    match s {
        NumberStatus::Proposed => "起案中（決裁待ち）",
        other => other.label(),
    }
}

/// A message at the top of the case page: what was just done, or why it was not.
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

impl Notice {
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            error: true,
        }
    }

    /// The word for an action just done (`?done=approve`).
    fn done(action: &str) -> Option<Self> {
        let action = uketsuke_store::lifecycle::Action::parse(action)?;
        Some(Self {
            text: format!("「{}」を記録しました。", action.label()),
            error: false,
        })
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

/// `GET /cases/{id}`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Query(query): Query<ShowQuery>,
) -> Result<CasePage, Error> {
    case_page(&state, &user, id, Notice::done(&query.done)).await
}

/// The case page, with a notice on top if any.
pub async fn case_page(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    notice: Option<Notice>,
) -> Result<CasePage, Error> {
    let r = reception_request::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|r| user.scope().permits(r))
        .ok_or(Error::NotFound)?;
    let db = &state.db;
    let today = today_in_japan();

    let bureau_name = bureau::Entity::find_by_id(r.bureau_id.clone())
        .one(db)
        .await?
        .map_or_else(|| r.bureau_id.clone(), |b| b.name);
    let office_name = match r.office_id {
        Some(o) => office::Entity::find_by_id(o)
            .one(db)
            .await?
            .map(|o| o.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let facility = facility::Entity::find_by_id(r.facility_id).one(db).await?;
    let numbers = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(r.id))
        .order_by_asc(issued_number::Column::Id)
        .all(db)
        .await?;
    let sibling = match r.sibling_id {
        Some(s) => reception_request::Entity::find_by_id(s)
            .filter(reception_request::Column::BureauId.eq(&r.bureau_id))
            .one(db)
            .await?
            .map(|s| SiblingLink {
                id: s.id,
                facility_name: s.facility_name,
                kind_label: s.kind.label(),
                status_label: s.status.label(),
            }),
        None => None,
    };
    let council = match r.council_session_id {
        Some(c) => council_session::Entity::find_by_id(c)
            .one(db)
            .await?
            .map(|c| (c.name, JpDate::new(c.held_on))),
        None => None,
    };
    let history = history_of(db, &r, &numbers).await?;

    let due = effective_answer_due(&r);
    let actions = crate::actions::panel(state, user, &r).await?;
    Ok(CasePage {
        actions,
        notice,
        layout: Layout::signed_in(state, user),
        kind_label: r.kind.label(),
        status_label: r.status.label(),
        bureau_name,
        office_name,
        designation: JpDate::new(r.designation_date),
        request_date: JpDate::opt(r.request_date),
        received: JpDate::new(r.received_on),
        submission_deadline: JpDate::new(r.submission_deadline),
        answer_due: JpDate::new(r.answer_due),
        answer_due_override: JpDate::opt(r.answer_due_override),
        effective_due: JpDate::new(due),
        overdue: due < today && AWAITING_ANSWER.contains(&r.status),
        implementing_body_due: JpDate::new(r.implementing_body_due),
        answered: JpDate::opt(r.answered_on),
        returned: JpDate::opt(r.returned_on),
        withdrawn: JpDate::opt(r.withdrawn_on),
        designated: JpDate::opt(r.designated_on),
        founder_corporation: r.founder_kind == FounderKind::Corporation,
        judged_return: r.decision == Decision::Return,
        decision_label: r.decision.label(),
        reasons: texts(&r.reasons),
        warnings: texts(&r.warnings),
        numbers: numbers
            .iter()
            .map(|n| NumberLine {
                code: n.code.clone(),
                status: n.status.as_str(),
                live: n.status.is_live(),
                proposed: n.status == NumberStatus::Proposed,
                status_label: number_status_label(n.status),
                combined_dental: n.combined_dental,
                created: jst(n.created_at),
                approved: n.approved_at.map(jst).unwrap_or_default(),
                voided: n.voided_at.map(jst).unwrap_or_default(),
                void_reason: n.void_reason.clone().unwrap_or_default(),
            })
            .collect(),
        sibling,
        council,
        facility_phone: facility.and_then(|f| f.phone).unwrap_or_default(),
        history,
        r,
    })
}

// ───────────────────────────── the history ─────────────────────────────

/// The audit entries of the request, its facility and its numbers, oldest first.
async fn history_of<C: ConnectionTrait>(
    db: &C,
    r: &reception_request::Model,
    numbers: &[issued_number::Model],
) -> Result<Vec<HistoryLine>, Error> {
    let mut cond = Condition::any()
        .add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("reception_request"))
                .add(audit_log::Column::EntityId.eq(r.id.to_string())),
        )
        .add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("facility"))
                .add(audit_log::Column::EntityId.eq(r.facility_id.to_string())),
        );
    if !numbers.is_empty() {
        cond = cond.add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("issued_number"))
                .add(audit_log::Column::EntityId.is_in(numbers.iter().map(|n| n.id.to_string()))),
        );
    }
    let entries = audit_log::Entity::find()
        .filter(cond)
        .order_by_asc(audit_log::Column::At)
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await?;
    let user_ids: Vec<i32> = entries.iter().filter_map(|e| e.actor_user_id).collect();
    let names: HashMap<i32, String> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(user_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    };
    Ok(entries
        .iter()
        .map(|e| {
            let actor = match e.actor_user_id.and_then(|id| names.get(&id)) {
                Some(name) => format!("{name}（{}）", e.actor),
                None if e.actor_user_id.is_none() => format!("{}（システム）", e.actor),
                None => e.actor.clone(),
            };
            let (note, changes) = diff(&e.entity, e.before.as_ref(), e.after.as_ref());
            HistoryLine {
                at: jst(e.at),
                actor,
                action: action_label(&e.action),
                target: match e.entity.as_str() {
                    "reception_request" => "依頼",
                    "facility" => "医療機関",
                    "issued_number" => "受付番号",
                    _ => "その他",
                },
                note,
                changes,
            }
        })
        .collect())
}

/// The action in words (an action this page does not know is shown as recorded).
fn action_label(action: &str) -> String {
    let label = match action {
        "request.create" => "依頼を登録",
        "facility.create" => "医療機関を登録",
        "facility.update" => "医療機関の情報を変更",
        "request.update" => "依頼の内容を変更",
        "request.status" => "状態を変更",
        "request.link_sibling" => "医科・歯科の併設を関連付け",
        "request.override_answer_due" => "回答期限を変更",
        "request.not_designated" => "8. 未指定として記録",
        "request.return" => "返戻",
        "request.withdraw" => "取下げ",
        "request.answer" => "回答",
        "request.designate" | "request.council_approval" => "答申（指定）を記録",
        "number.issue" => "受付番号を採番",
        "number.propose" => "受付番号を起案",
        "number.approve" => "受付番号を決裁",
        "number.void" => "受付番号を無効化",
        _ => "",
    };
    if label.is_empty() {
        action.to_owned()
    } else {
        label.to_owned()
    }
}

/// The Japanese name of a stored field.
fn field_label(field: &str) -> &str {
    match field {
        "status" => "状態",
        "kind" => "種別",
        "office_id" => "事務所",
        "facility_id" => "医療機関",
        "sibling_id" => "医科・歯科の併設先",
        "designation_date" => "指定希望日",
        "request_date" => "依頼日",
        "received_on" => "受付日",
        "reply_postal_code" => "回答書の送付先 郵便番号",
        "reply_address" => "回答書の送付先 住所",
        "reply_name" => "回答書の送付先 氏名",
        "facility_name" | "name" => "名称",
        "facility_postal_code" | "postal_code" => "所在地 郵便番号",
        "facility_address" | "address" => "所在地",
        "municipality" => "市区町村",
        "phone" => "電話番号",
        "prefecture" => "都道府県",
        "founder_kind" => "開設者の区分",
        "founder_name" => "開設者 氏名",
        "corporation_name" => "開設者 法人名",
        "representative_title" => "代表者 職",
        "representative_name" => "代表者 氏名",
        "registration_number" => "登録の記号及び番号",
        "contact_name" => "担当者 氏名",
        "contact_phone" => "担当者 電話番号",
        "retroactive" => "遡及指定",
        "submission_deadline" => "提出期限",
        "answer_due" => "回答期限（計算）",
        "answer_due_override" => "回答期限（変更後）",
        "answer_due_override_reason" => "回答期限の変更理由",
        "implementing_body_due" => "実施機関への提出期限",
        "decision" => "判定",
        "reasons" => "返戻の理由",
        "warnings" => "確認事項",
        "answered_on" => "回答日",
        "returned_on" => "返戻日",
        "return_reason" => "返戻の理由",
        "withdrawn_on" => "取下げ日",
        "council_session_id" => "地方社会保険医療協議会",
        "designated_on" => "指定日",
        "not_designated_reason" => "未指定の理由",
        "code" => "受付番号",
        "request_id" => "依頼",
        "combined_dental" => "医科歯科併設",
        "proposed_by" => "起案者",
        "approved_by" => "決裁者",
        "approved_at" => "決裁日時",
        "voided_at" => "無効化日時",
        "void_reason" => "無効化の理由",
        other => other,
    }
}

/// Bookkeeping fields a reader does not need to see change.
const UNINTERESTING: [&str; 5] = [
    "id",
    "created_at",
    "updated_at",
    "lock_version",
    "name_search",
];

/// A stored value in words.
fn show_value(entity: &str, field: &str, v: &Value) -> String {
    match v {
        Value::Null => "（なし）".to_owned(),
        Value::Bool(b) => if *b { "はい" } else { "いいえ" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) => {
            let items = texts(v);
            if items.is_empty() {
                "（なし）".to_owned()
            } else {
                items.join(" ／ ")
            }
        }
        Value::Object(_) => v.to_string(),
        Value::String(s) => {
            if field == "status" {
                let label = if entity == "issued_number" {
                    serde_json::from_value(Value::String(s.clone()))
                        .map(number_status_label)
                        .ok()
                } else {
                    CaseStatus::parse(s).map(CaseStatus::label)
                };
                return label.unwrap_or("不明").to_owned();
            }
            match field {
                "kind" => return kind_label(s).to_owned(),
                "decision" => {
                    return serde_json::from_value::<Decision>(Value::String(s.clone()))
                        .map_or("未判定", Decision::label)
                        .to_owned();
                }
                "founder_kind" => {
                    return match serde_json::from_value::<FounderKind>(Value::String(s.clone())) {
                        Ok(k) => k.label(),
                        Err(_) => s.as_str(),
                    }
                    .to_owned();
                }
                _ => {}
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return format!("{}（{s}）", format_wareki(d));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return jst(t.with_timezone(&Utc));
            }
            if s.is_empty() {
                "（空欄）".to_owned()
            } else {
                s.clone()
            }
        }
    }
}

/// A note and the changed fields between `before` and `after`. A creation lists its
/// fields when there are few (a number), else just says it was created.
fn diff(entity: &str, before: Option<&Value>, after: Option<&Value>) -> (String, Vec<Change>) {
    let empty = serde_json::Map::new();
    fn obj(v: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
        v.and_then(Value::as_object)
    }
    match (obj(before), obj(after)) {
        (None, Some(a)) if a.len() > 6 => ("新規登録".to_owned(), Vec::new()),
        (None, None) => (String::new(), Vec::new()),
        (b, a) => {
            let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.dedup();
            let mut seen = std::collections::HashSet::new();
            let changes = keys
                .into_iter()
                .filter(|k| seen.insert(k.as_str()))
                .filter(|k| !UNINTERESTING.contains(&k.as_str()))
                .filter_map(|k| {
                    let (old, new) = (
                        b.get(k).unwrap_or(&Value::Null),
                        a.get(k).unwrap_or(&Value::Null),
                    );
                    (old != new).then(|| Change {
                        field: field_label(k).to_owned(),
                        before: show_value(entity, k, old),
                        after: show_value(entity, k, new),
                    })
                })
                .collect();
            let note = if before.is_none() {
                "新規登録".to_owned()
            } else if after.is_none() {
                "削除".to_owned()
            } else {
                String::new()
            };
            (note, changes)
        }
    }
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

    #[test]
    fn page_window_keeps_the_ends_and_the_neighbourhood() {
        assert_eq!(page_window(1, 1), vec![1]);
        assert_eq!(page_window(1, 3), vec![1, 2, 3]);
        assert_eq!(page_window(6, 12), vec![1, 0, 4, 5, 6, 7, 8, 0, 12]);
    }

    #[test]
    fn phone_digits_sql_is_portable() {
        use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
        let query = SqlQuery::select()
            .expr(phone_digits_expr(Expr::col(facility::Column::Phone)))
            .from(facility::Entity)
            .to_owned();
        for sql in [
            query.to_string(PostgresQueryBuilder),
            query.to_string(SqliteQueryBuilder),
        ] {
            assert!(sql.starts_with("SELECT REPLACE(REPLACE("), "{sql}");
            assert!(sql.contains("COALESCE(\"phone\", '')"), "{sql}");
        }
    }

    #[test]
    fn like_escape_escapes_wildcards() {
        assert_eq!(like_escape("a%b_c\\"), "a\\%b\\_c\\\\");
    }

    #[test]
    fn diff_lists_changed_fields_in_words() {
        let before = serde_json::json!({"status": "issued", "updated_at": "x", "not_designated_reason": null});
        let after = serde_json::json!({"status": "not_designated", "updated_at": "y", "not_designated_reason": "延期"});
        let (note, changes) = diff("reception_request", Some(&before), Some(&after));
        assert!(note.is_empty());
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].field, "状態");
        assert_eq!(changes[0].before, "番号交付済");
        assert_eq!(changes[0].after, "8. 未指定");
        assert_eq!(changes[1].before, "（なし）");
    }

    #[test]
    fn content_disposition_carries_the_japanese_name_percent_encoded() {
        let v = content_disposition("cases.csv", "案件一覧.csv");
        let s = v.to_str().unwrap_or_default();
        assert!(s.contains("filename=\"cases.csv\""));
        assert!(s.contains("filename*=UTF-8''%E6%A1%88%E4%BB%B6%E4%B8%80%E8%A6%A7.csv"));
    }
}
