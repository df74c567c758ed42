//! Reading cases (案件の検索と詳細): the case list's query (filters, name search, sort,
//! paging and the capped count), the rows of a download, the case page's lookups and a
//! case's audit trail. Read-only, for the staff pages and any other reader (a JSON API).
//!
//! Every query is confined to a [`Scope`] (the user's bureau, and their office when the
//! account is limited to one). The query text and the indexes it relies on were tuned
//! for national scale (BENCHMARKS.md, migration 6): keep them as they are.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, Func, LikeExpr, Query as SqlQuery, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};
use uketsuke_domain::RequestKind;

use crate::Result;
use crate::entities::{
    audit_log, bureau, council_session, facility, issued_number, office, reception_request, user,
};
use crate::lifecycle::{CaseStatus, NumberStatus, Scope};

/// The list counts and pages through at most this many cases of a view (20 pages of
/// 50); beyond it the page says 「1,000件以上」 and asks for a narrower search. Counting
/// a bureau's ten years (58,000 cases at national scale) on every page view cost more
/// than the rest of the page (BENCHMARKS.md); the downloads still hold every row.
pub const LIST_LIMIT: u64 = 1_000;

/// What the list is sorted by: every column of the list. The keys are a fixed set (a
/// query string names one, [`SortKey::parse`]); no SQL ever comes from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// 受付日
    #[default]
    Received,
    /// 名称
    Name,
    /// 種別
    Kind,
    /// 状態 (in the order a case moves)
    Status,
    /// 指定希望日
    Designation,
    /// 回答期限 (the one in force)
    Due,
    /// 受付番号 (the live one)
    Code,
    /// 事務所 (by office code)
    Office,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        SortKey::Received,
        SortKey::Name,
        SortKey::Kind,
        SortKey::Status,
        SortKey::Designation,
        SortKey::Due,
        SortKey::Code,
        SortKey::Office,
    ];

    /// The key as a query string writes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Received => "received",
            SortKey::Name => "name",
            SortKey::Kind => "kind",
            SortKey::Status => "status",
            SortKey::Designation => "designation",
            SortKey::Due => "due",
            SortKey::Code => "code",
            SortKey::Office => "office",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Received => "受付日",
            SortKey::Name => "名称",
            SortKey::Kind => "種別",
            SortKey::Status => "状態",
            SortKey::Designation => "指定希望日",
            SortKey::Due => "回答期限",
            SortKey::Code => "受付番号",
            SortKey::Office => "事務所",
        }
    }

    /// The natural direction: newest first for 受付日, soonest (or first) otherwise.
    pub fn default_descending(self) -> bool {
        self == SortKey::Received
    }
}

/// The status's place in the order a case moves, as SQL (a fixed text built from
/// [`CaseStatus::ALL`], never from input).
fn status_order_expr() -> Expr {
    let mut sql = String::from("(CASE \"reception_requests\".\"status\"");
    for (i, s) in CaseStatus::ALL.iter().enumerate() {
        sql.push_str(&format!(" WHEN '{}' THEN {i}", s.as_str()));
    }
    sql.push_str(" ELSE 99 END)");
    Expr::cust(sql)
}

/// The case's live 受付番号 (the smallest, '' when none), as SQL.
fn code_order_expr() -> Expr {
    Expr::cust(
        "COALESCE((SELECT MIN(\"issued_numbers\".\"code\") FROM \"issued_numbers\" \
         WHERE \"issued_numbers\".\"request_id\" = \"reception_requests\".\"id\" \
         AND \"issued_numbers\".\"status\" <> 'void'), '')",
    )
}

/// The case's office code ('' when none), as SQL.
fn office_order_expr() -> Expr {
    Expr::cust(
        "COALESCE((SELECT \"offices\".\"code\" FROM \"offices\" \
         WHERE \"offices\".\"id\" = \"reception_requests\".\"office_id\"), '')",
    )
}

/// The conditions of a view of the case list, already parsed (every `None` is "any").
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub status: Option<CaseStatus>,
    /// An office of the bureau (ignored when the scope fixes the office).
    pub office: Option<i32>,
    pub kind: Option<RequestKind>,
    /// The first day of the designation month (指定希望月).
    pub month: Option<NaiveDate>,
    /// Answers still owed and due from today up to this day (回答期限まで N 開庁日以内,
    /// the day counted on the bureau's calendar by the caller).
    pub due_within_limit: Option<NaiveDate>,
    /// Answers still owed and past their due date.
    pub overdue: bool,
    /// The facility name's search key ([`uketsuke_domain::search_key`]), a substring.
    pub name_key: Option<String>,
    /// 開設者 (the founder, or the 法人 and its representative), a substring of the
    /// names as written, spaces ignored ([`founder_key`]).
    pub founder: Option<String>,
    /// 受付番号, its leading digits (up to 10).
    pub code: Option<String>,
    /// Phone digits, a substring of the contact's or the facility's number.
    pub phone: Option<String>,
    /// Any of these statuses (empty: any); with `status`, both must hold (a queue).
    pub statuses: Vec<CaseStatus>,
    /// Only these cases (a queue computed outside SQL, or a selection).
    pub ids: Option<Vec<i32>>,
    /// 8. 未指定 cases not yet recorded as set in the 管理システム (反映待ち).
    pub unreflected: bool,
    pub sort: SortKey,
    pub descending: bool,
}

/// A request with the number shown for it.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub request: reception_request::Model,
    /// Its approved number, else its proposal, else a void one.
    pub number: Option<issued_number::Model>,
}

/// One page of the list.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub rows: Vec<ListRow>,
    /// The matching cases, counted up to [`LIST_LIMIT`].
    pub total: u64,
    /// More than [`LIST_LIMIT`] cases match (`total` is the limit).
    pub capped: bool,
    /// The page shown (the one asked for, or the last when it was past the end).
    pub page: u64,
    /// The number of pages (at least 1).
    pub pages: u64,
}

/// The statuses in which an answer is still owed.
const AWAITING_ANSWER: [CaseStatus; 3] = CaseStatus::AWAITING_ANSWER;

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

/// The 開設者 search's key for what was typed: widths folded as intake folds them
/// ([`uketsuke_domain::normalize_width`]), every space removed (the names are compared
/// without their spaces, so 「佐藤太郎」 finds 「佐藤 太郎」).
pub fn founder_key(typed: &str) -> String {
    uketsuke_domain::normalize_width(typed)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The condition of the 開設者 search (indexes of migration 16): on SQLite, 3+
/// characters through the FTS5 trigram table keyed by request id; on PostgreSQL the
/// same expression as the trigram index, so that the planner uses it; otherwise (two
/// characters or fewer on SQLite) a scan of the bureau's requests.
fn founder_condition(backend: DbBackend, key: &str) -> Expr {
    use sea_orm::sea_query::ExprTrait;
    if backend == DbBackend::Sqlite && key.chars().count() >= 3 {
        return Expr::col((reception_request::Entity, reception_request::Column::Id)).in_subquery(
            SqlQuery::select()
                .expr(Expr::col(Alias::new("rowid")))
                .from(Alias::new("reception_requests_founder_fts"))
                .and_where(Expr::cust_with_values(
                    "reception_requests_founder_fts MATCH ?",
                    [format!("\"{}\"", key.replace('"', "\"\""))],
                ))
                .to_owned(),
        );
    }
    Expr::cust(format!("({})", migration::founder_text("")))
        .like(LikeExpr::new(format!("%{}%", like_escape(key))).escape('\\'))
}

/// `code BETWEEN lo AND hi` for the codes starting with `prefix` (all codes have 10
/// digits): a range the index of migration 16 serves, where `LIKE 'prefix%'` is not
/// served by a B-tree on PostgreSQL (collation) nor on SQLite (case-insensitive LIKE).
fn code_range(prefix: &str) -> (String, String) {
    let width = 10usize.saturating_sub(prefix.len());
    (
        format!("{prefix}{}", "0".repeat(width)),
        format!("{prefix}{}", "9".repeat(width)),
    )
}

/// A 受付番号 prefix of five digits or more (prefecture, 点数表 and district) names at
/// most one district's numbers: few enough that the search starts from them (and sorts
/// and counts them) instead of walking the bureau's requests in order and probing each
/// against them — SQLite chose the latter and read a bureau's 58,000 requests to find
/// 70 (11 ms of CPU per request at national scale).
fn code_is_narrow(prefix: &str) -> bool {
    prefix.len() >= 5
}

/// The requests of this view, in order, without paging.
fn select_cases(
    backend: DbBackend,
    scope: &Scope,
    q: &CaseQuery,
    today: NaiveDate,
) -> Select<reception_request::Entity> {
    use reception_request::Column as C;
    use sea_orm::sea_query::ExprTrait;
    let bureau = scope.bureau_id.as_str();
    let lookup = q
        .name_key
        .as_deref()
        .map(|key| NameLookup::new(backend, key));
    let founder_fts = backend == DbBackend::Sqlite
        && q.founder.as_deref().is_some_and(|k| k.chars().count() >= 3);
    let code_first = backend == DbBackend::Sqlite && q.code.as_deref().is_some_and(code_is_narrow);
    let mut cond =
        if matches!(lookup, Some(NameLookup::SqliteFts { .. })) || founder_fts || code_first {
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
    if let Some(office) = scope.office_id.or(q.office) {
        cond = cond.add(C::OfficeId.eq(office));
    }
    if let Some(s) = q.status {
        cond = cond.add(C::Status.eq(s));
    }
    if let Some(k) = q.kind {
        cond = cond.add(C::Kind.eq(k));
    }
    if !q.statuses.is_empty() {
        cond = cond.add(C::Status.is_in(q.statuses.iter().copied()));
    }
    if let Some(ids) = &q.ids {
        cond = cond.add(C::Id.is_in(ids.iter().copied()));
    }
    if q.unreflected {
        cond = cond.add(C::ReflectedAt.is_null());
    }
    if let Some(first) = q.month {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        cond = cond
            .add(C::DesignationDate.gte(first))
            .add(C::DesignationDate.lt(next));
    }
    if let Some(limit) = q.due_within_limit {
        cond = cond
            .add(C::Status.is_in(AWAITING_ANSWER))
            .add(effective_due_expr().gte(Expr::val(today)))
            .add(effective_due_expr().lte(Expr::val(limit)));
    }
    if q.overdue {
        // As [`crate::dashboard::is_overdue`]: received on or before the 回答期限.
        cond = cond
            .add(C::Status.is_in(AWAITING_ANSWER))
            .add(effective_due_expr().lt(Expr::val(today)))
            .add(Expr::col((reception_request::Entity, C::ReceivedOn)).lte(effective_due_expr()));
    }
    if let Some(lookup) = lookup {
        cond = cond.add(lookup.condition(bureau));
    }
    if let Some(founder) = &q.founder {
        cond = cond.add(founder_condition(backend, founder));
    }
    if let Some(code) = &q.code {
        let (lo, hi) = code_range(code);
        let numbers = SqlQuery::select()
            .column((issued_number::Entity, issued_number::Column::RequestId))
            .from(issued_number::Entity)
            .and_where(
                Expr::col((issued_number::Entity, issued_number::Column::Code)).between(lo, hi),
            )
            .and_where(
                Expr::col((issued_number::Entity, issued_number::Column::RequestId)).is_not_null(),
            )
            .to_owned();
        cond = cond.add(Expr::col((reception_request::Entity, C::Id)).in_subquery(numbers));
    }
    if let Some(phone) = &q.phone {
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
    let order = if q.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let select = reception_request::Entity::find().filter(cond);
    let select = match q.sort {
        SortKey::Received => select.order_by(C::ReceivedOn, order.clone()),
        SortKey::Designation => select.order_by(C::DesignationDate, order.clone()),
        SortKey::Due => select.order_by(effective_due_expr(), order.clone()),
        SortKey::Name => select.order_by(C::FacilityName, order.clone()),
        SortKey::Kind => select.order_by(C::Kind, order.clone()),
        SortKey::Status => select.order_by(status_order_expr(), order.clone()),
        SortKey::Code => select.order_by(code_order_expr(), order.clone()),
        SortKey::Office => select.order_by(office_order_expr(), order.clone()),
    };
    select.order_by(C::Id, order)
}

/// Page `page` of `select` with the number of all its rows; the count is `None` when
/// the page is empty (past the end, or nothing matches). The first query finds, sorts
/// and counts the matches by id alone (from an index where one covers the view, see
/// migration 6); the second reads the page's rows.
async fn page_with_count<C: ConnectionTrait>(
    db: &C,
    select: &Select<reception_request::Entity>,
    page: u64,
    page_size: u64,
) -> Result<(Vec<reception_request::Model>, Option<u64>)> {
    let query = select
        .clone()
        .select_only()
        .column(reception_request::Column::Id)
        .column_as(Expr::cust("COUNT(*) OVER ()"), "matching_total")
        .offset((page.max(1) - 1) * page_size)
        .limit(page_size)
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
async fn count_up_to<C: ConnectionTrait>(
    db: &C,
    select: &Select<reception_request::Entity>,
    limit: u64,
) -> Result<u64> {
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

/// The number shown for each request: its approved number, else its proposal, else a
/// void one (so a case is never shown without the numbers it had).
pub async fn codes_of<C: ConnectionTrait>(
    db: &C,
    ids: &[i32],
) -> Result<HashMap<i32, issued_number::Model>> {
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

/// The requests with the number shown for each, in their order.
async fn with_numbers<C: ConnectionTrait>(
    db: &C,
    rows: Vec<reception_request::Model>,
) -> Result<Vec<ListRow>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let mut numbers = codes_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|request| ListRow {
            number: numbers.remove(&request.id),
            request,
        })
        .collect())
}

/// The offices of the scope's bureau (only its office, if it is limited to one), by code.
pub async fn offices<C: ConnectionTrait>(db: &C, scope: &Scope) -> Result<Vec<office::Model>> {
    let mut q = office::Entity::find().filter(office::Column::BureauId.eq(&scope.bureau_id));
    if let Some(id) = scope.office_id {
        q = q.filter(office::Column::Id.eq(id));
    }
    Ok(q.order_by_asc(office::Column::Code).all(db).await?)
}

/// Page `page` (from 1; past the end gives the last) of the cases matching `q`, with
/// their count up to [`LIST_LIMIT`].
pub async fn list<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    q: &CaseQuery,
    today: NaiveDate,
    page: u64,
    page_size: u64,
) -> Result<ListPage> {
    let page = page.max(1);
    let select = select_cases(db.get_database_backend(), scope, q, today);
    // A name, 開設者 or narrow 受付番号 search cannot be read off a sort index: the
    // database visits every match to sort them, so the same pass counts them (a window
    // count). Otherwise the first
    // page comes off the index and a capped count is cheap.
    let searched = q.name_key.is_some()
        || q.founder.is_some()
        || q.code.as_deref().is_some_and(code_is_narrow);
    let (mut rows, counted) = if searched {
        page_with_count(db, &select, page, page_size).await?
    } else {
        (Vec::new(), None)
    };
    let matching = match counted {
        Some(n) => n,
        None => count_up_to(db, &select, LIST_LIMIT + 1).await?,
    };
    let capped = matching > LIST_LIMIT;
    let total = matching.min(LIST_LIMIT);
    let pages = total.div_ceil(page_size).max(1);
    let shown = page.min(pages);
    if counted.is_none() || shown != page {
        rows = select
            .offset((shown - 1) * page_size)
            .limit(page_size)
            .all(db)
            .await?;
    }
    Ok(ListPage {
        rows: with_numbers(db, rows).await?,
        total,
        capped,
        page: shown,
        pages,
    })
}

/// How many cases match `q`, all counted (the queues' counts: the same query as their
/// lists).
pub async fn count<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    q: &CaseQuery,
    today: NaiveDate,
) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    if q.ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(0);
    }
    let select = select_cases(db.get_database_backend(), scope, q, today);
    Ok(select.count(db).await?)
}

/// The cases `ids` that are within `scope`, in the order of `ids`, each with its shown
/// number (a selection of the list: a bulk download, a bulk action's confirmation).
pub async fn selected<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    ids: &[i32],
) -> Result<Vec<ListRow>> {
    let mut found: HashMap<i32, reception_request::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for row in reception_request::Entity::find()
            .filter(scope.condition())
            .filter(reception_request::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            found.insert(row.id, row);
        }
    }
    let rows = ids.iter().filter_map(|id| found.remove(id)).collect();
    with_numbers(db, rows).await
}

/// Every case matching `q` (up to `limit`), in the list's order, for a download.
pub async fn export_rows<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    q: &CaseQuery,
    today: NaiveDate,
    limit: u64,
) -> Result<Vec<ListRow>> {
    let rows = select_cases(db.get_database_backend(), scope, q, today)
        .limit(limit)
        .all(db)
        .await?;
    with_numbers(db, rows).await
}

/// What the case page (案件詳細) shows besides the case itself.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: reception_request::Model,
    pub facility: Option<facility::Model>,
    /// Its numbers, oldest first.
    pub numbers: Vec<issued_number::Model>,
    /// The 医科/歯科 sibling (in the same bureau).
    pub sibling: Option<reception_request::Model>,
    pub council: Option<council_session::Model>,
    /// The bureau's name (its id when the bureau is not recorded).
    pub bureau_name: String,
    /// The office's name ("" when none).
    pub office_name: String,
}

/// The case `id` with what its page shows, if it is within `scope`.
pub async fn detail<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    id: i32,
) -> Result<Option<CaseDetail>> {
    let Some(r) = find(db, scope, id).await? else {
        return Ok(None);
    };
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
        Some(s) => {
            reception_request::Entity::find_by_id(s)
                .filter(reception_request::Column::BureauId.eq(&r.bureau_id))
                .one(db)
                .await?
        }
        None => None,
    };
    let council = match r.council_session_id {
        Some(c) => council_session::Entity::find_by_id(c).one(db).await?,
        None => None,
    };
    Ok(Some(CaseDetail {
        case: r,
        facility,
        numbers,
        sibling,
        council,
        bureau_name,
        office_name,
    }))
}

/// The open requests of the other kind (医科 for a 歯科 request, and the reverse) that
/// look like the same facility — same name, same address, or the same 開設者 for the
/// same 指定希望日 — and are not yet linked: what the case page offers as its 併設 pair.
/// None for a 薬局, a case already linked, or a closed one.
pub async fn pair_candidates<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    case: &reception_request::Model,
) -> Result<Vec<reception_request::Model>> {
    use reception_request::Column as C;
    use uketsuke_domain::RequestKind;
    let other = match case.kind {
        RequestKind::Medical => RequestKind::Dental,
        RequestKind::Dental => RequestKind::Medical,
        _ => return Ok(Vec::new()),
    };
    let open = crate::lifecycle::Action::Link.rule().from;
    if case.sibling_id.is_some() || !open.contains(&case.status) {
        return Ok(Vec::new());
    }
    let mut same = sea_orm::Condition::any()
        .add(C::FacilityAddress.eq(case.facility_address.as_str()))
        .add(C::FacilityName.eq(case.facility_name.as_str()));
    if let Some(key) = &case.dedupe_key {
        same = same.add(C::DedupeKey.eq(key.as_str()));
    }
    for (column, founder) in [
        (C::FounderName, &case.founder_name),
        (C::CorporationName, &case.corporation_name),
    ] {
        if let Some(founder) = founder {
            same = same.add(
                sea_orm::Condition::all()
                    .add(column.eq(founder.as_str()))
                    .add(C::DesignationDate.eq(case.designation_date)),
            );
        }
    }
    Ok(reception_request::Entity::find()
        .filter(scope.condition())
        .filter(C::BureauId.eq(case.bureau_id.as_str()))
        .filter(C::Kind.eq(other))
        .filter(C::SiblingId.is_null())
        .filter(C::Status.is_in(open.iter().copied()))
        .filter(C::Id.ne(case.id))
        .filter(same)
        .order_by_asc(C::Id)
        .limit(20)
        .all(db)
        .await?)
}

/// The case `id`, if it is within `scope`.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    id: i32,
) -> Result<Option<reception_request::Model>> {
    Ok(reception_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| scope.permits(r)))
}

/// The facility a case is at.
pub async fn facility_of<C: ConnectionTrait>(
    db: &C,
    case: &reception_request::Model,
) -> Result<Option<facility::Model>> {
    Ok(facility::Entity::find_by_id(case.facility_id)
        .one(db)
        .await?)
}

/// One entry of a case's history, with the acting user's display name when the
/// entry names a user who still exists.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub entry: audit_log::Model,
    pub actor_name: Option<String>,
}

/// The audit entries of the case, its facility and its numbers, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    case: &reception_request::Model,
    numbers: &[issued_number::Model],
) -> Result<Vec<HistoryEntry>> {
    let mut cond = Condition::any()
        .add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("reception_request"))
                .add(audit_log::Column::EntityId.eq(case.id.to_string())),
        )
        .add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("facility"))
                .add(audit_log::Column::EntityId.eq(case.facility_id.to_string())),
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
        .into_iter()
        .map(|entry| HistoryEntry {
            actor_name: entry.actor_user_id.and_then(|id| names.get(&id).cloned()),
            entry,
        })
        .collect())
}

/// The names behind the ids a history's entries hold (起案者・決裁者 are users, 事務所
/// an office, 地医協 a council session), so that the history reads in names.
#[derive(Debug, Clone, Default)]
pub struct HistoryNames {
    pub users: HashMap<i32, String>,
    pub offices: HashMap<i32, String>,
    pub sessions: HashMap<i32, String>,
}

/// The names of the users, offices and council sessions that `entries` refer to by
/// id (in `proposed_by`, `approved_by`, `office_id`, `council_session_id`). Only the
/// case's own bureau's offices and sessions are named.
pub async fn history_names<C: ConnectionTrait>(
    db: &C,
    bureau_id: &str,
    entries: &[HistoryEntry],
) -> Result<HistoryNames> {
    let mut users = Vec::new();
    let mut offices = Vec::new();
    let mut sessions = Vec::new();
    for e in entries {
        for value in [e.entry.before.as_ref(), e.entry.after.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_object)
        {
            let id = |k: &str| {
                value
                    .get(k)
                    .and_then(serde_json::Value::as_i64)
                    .and_then(|n| i32::try_from(n).ok())
            };
            users.extend(id("proposed_by"));
            users.extend(id("approved_by"));
            offices.extend(id("office_id"));
            sessions.extend(id("council_session_id"));
        }
    }
    let mut names = HistoryNames::default();
    if !users.is_empty() {
        names.users = user::Entity::find()
            .filter(user::Column::Id.is_in(users))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
    }
    if !offices.is_empty() {
        names.offices = office::Entity::find()
            .filter(office::Column::Id.is_in(offices))
            .filter(office::Column::BureauId.eq(bureau_id))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
    }
    if !sessions.is_empty() {
        names.sessions = council_session::Entity::find()
            .filter(council_session::Column::Id.is_in(sessions))
            .filter(council_session::Column::BureauId.eq(bureau_id))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
