//! The case list page (案件一覧, `GET /cases`): the filter form, one page of rows, the
//! page links and the sortable column headers.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::NaiveDate;
use uketsuke_domain::{RequestKind, today_in_japan};
use uketsuke_store::cases::{ListRow, SortKey};
use uketsuke_store::dashboard::effective_answer_due;
use uketsuke_store::lifecycle::{CaseStatus, NumberStatus};

use super::{Filters, ListParams, PAGE_SIZE, offices_of};
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::view::JpDate;

/// One row of the list.
pub struct CaseRow {
    pub id: i32,
    /// The version shown, sent back with a bulk action (each case's own check).
    pub version: i32,
    /// Comes checked (「このページをすべて選択」).
    pub checked: bool,
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
    /// 遡及指定 was asked for.
    pub retroactive: bool,
    /// Linked with the other kind's case (医科・歯科併設).
    pub paired: bool,
    /// 導入計画書 (別紙2): id and label (未提出 … 経過措置).
    pub plan_status: &'static str,
    pub plan_label: &'static str,
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
    pub asc_href: String,
    pub desc_href: String,
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
    /// The work queue shown: its name and what it holds.
    queue: Option<(&'static str, String)>,
    /// The page with every row checked, and without.
    select_all_href: String,
    select_none_href: String,
    /// Which bulk actions the role allows.
    can_bulk_approve: bool,
    can_bulk_answer: bool,
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

fn row_of(row: &ListRow, offices: &HashMap<i32, String>, today: NaiveDate) -> CaseRow {
    let r = &row.request;
    let due = effective_answer_due(r);
    let number = row.number.as_ref();
    CaseRow {
        retroactive: r.retroactive,
        paired: r.sibling_id.is_some(),
        plan_status: uketsuke_store::lifecycle::plan_label(
            r.plan_status,
            r.transitional_filed_on.is_some(),
        )
        .0,
        plan_label: uketsuke_store::lifecycle::plan_label(
            r.plan_status,
            r.transitional_filed_on.is_some(),
        )
        .1,
        id: r.id,
        version: r.lock_version,
        checked: false,
        received: JpDate::new(r.received_on),
        facility_name: r.facility_name.clone(),
        kind_label: r.kind.label(),
        status: r.status.as_str(),
        status_label: uketsuke_store::council::status_label(r, today),
        designation: JpDate::new(r.designation_date),
        due: JpDate::new(due),
        due_overridden: r.answer_due_override.is_some(),
        overdue: uketsuke_store::dashboard::is_overdue(r, today),
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

/// The cookie that remembers the list's last conditions for the session (a session
/// cookie scoped to `/cases`; its value is the list's own query string).
const REMEMBERED: &str = "uketsuke_cases_view";

/// Whether `query` is a query string the list itself writes (only the characters of
/// percent-encoded pairs), so that a remembered view cannot carry anything else.
fn is_plain_query(query: &str) -> bool {
    !query.is_empty()
        && query
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "%&=_.-+".contains(c))
}

/// `GET /cases`. The conditions of each search are remembered for the session:
/// `?restore=1` (the menu's link) goes back to them, `?clear=1` (「条件をクリア」) forgets
/// them; a plain `/cases` shows every case.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Query(params): Query<ListParams>,
) -> Result<Response, Error> {
    let forget = || {
        Cookie::build((REMEMBERED, ""))
            .path("/cases")
            .http_only(true)
            .same_site(SameSite::Lax)
            .build()
    };
    if params.clear.trim() == "1" {
        let page = list_page(&state, &user, ListParams::default(), None).await?;
        return Ok((jar.remove(forget()), page).into_response());
    }
    if params.restore.trim() == "1" {
        if let Some(query) = jar
            .get(REMEMBERED)
            .and_then(|c| unhex(c.value()))
            .filter(|q| is_plain_query(q))
        {
            return Ok(Redirect::to(&format!("/cases?{query}")).into_response());
        }
        let page = list_page(&state, &user, ListParams::default(), None).await?;
        return Ok(page.into_response());
    }
    let page = list_page(&state, &user, params, None).await?;
    // Hex, so that no text of the query (even percent-encoded) shows in the header.
    let remembered = Cookie::build((REMEMBERED, hex(&page.query)))
        .path("/cases")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    Ok((jar.add(remembered), page).into_response())
}

pub(super) async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    params: ListParams,
    notice: Option<String>,
) -> Result<CasesPage, Error> {
    let today = today_in_japan();
    let offices = offices_of(state, user).await?;
    let f = Filters::parse(&params, &offices);
    let found = uketsuke_store::cases::list(
        &state.db,
        &user.scope(),
        &f.store_query(state, user, today).await?,
        today,
        f.page,
        PAGE_SIZE,
    )
    .await?;
    let (total, capped, page, pages) = (found.total, found.capped, found.page, found.pages);
    let office_names: HashMap<i32, String> =
        offices.iter().map(|o| (o.id, o.name.clone())).collect();
    let select_all = params.select.trim() == "all";
    let rows: Vec<CaseRow> = found
        .rows
        .iter()
        .map(|r| CaseRow {
            checked: select_all,
            ..row_of(r, &office_names, today)
        })
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
    let office_fixed = user.user.office_id.map(|id| {
        office_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("事務所 {id}"))
    });
    let shown = rows.len() as u64;
    let may = |a: uketsuke_store::lifecycle::Action| user.role >= a.rule().role;
    Ok(CasesPage {
        queue: f.queue().map(|q| (q.label(), q.description())),
        select_all_href: format!("{}&select=all#results", href(page)),
        select_none_href: format!("{}#results", href(page)),
        can_bulk_approve: may(uketsuke_store::lifecycle::Action::Approve),
        can_bulk_answer: may(uketsuke_store::lifecycle::Action::Answer),
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
                value: k.as_str().to_owned(),
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
    /// The list's column headers in display order; each links to the list sorted by it
    /// (a second click reverses the order), with explicit 昇順・降順 links beside it.
    fn all(f: &Filters) -> Vec<SortHeader> {
        SortKey::ALL
            .into_iter()
            .map(|key| {
                let current = f.sort == key;
                let link = |descending: bool| {
                    let mut link = f.clone();
                    link.sort = key;
                    link.descending = descending;
                    format!("/cases?{}#results", link.query_string())
                };
                SortHeader {
                    label: key.label(),
                    href: link(if current {
                        !f.descending
                    } else {
                        key.default_descending()
                    }),
                    asc_href: link(false),
                    desc_href: link(true),
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

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_window_keeps_the_ends_and_the_neighbourhood() {
        assert_eq!(page_window(1, 1), vec![1]);
        assert_eq!(page_window(1, 3), vec![1, 2, 3]);
        assert_eq!(page_window(6, 12), vec![1, 0, 4, 5, 6, 7, 8, 0, 12]);
    }

    #[test]
    fn the_remembered_query_goes_into_its_cookie_as_hex_and_back() {
        let query = "name=%E5%86%85%E7%A7%91%0d%0aX&sort=received";
        let stored = hex(query);
        assert!(stored.chars().all(|c| c.is_ascii_hexdigit()), "{stored}");
        assert_eq!(unhex(&stored).as_deref(), Some(query));
        assert_eq!(unhex("6e616d"), Some("nam".to_owned()));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("6"), None, "an odd length is not hex");
    }
}
