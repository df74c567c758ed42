//! The calendar (カレンダー, `GET /calendar?month=2026-12`): a month in 和暦 with, on
//! each day, the cases whose 提出期限, 回答期限 or 実施機関への提出期限 falls then (links
//! to the cases; only the user's office's when the account is limited to one) and the
//! bureau's 地医協 sessions; the bureau's closed days (土日祝・年末年始) shaded and named.
//! Plain links to the previous and next month: no script needed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{Datelike, Months, NaiveDate};
use serde::Deserialize;
use uketsuke_domain::{Prefecture, format_wareki, today_in_japan};
use uketsuke_store::calendar::DueKind;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// One line in a day.
pub struct Entry {
    /// The CSS class (what kind of date).
    pub class: &'static str,
    pub label: &'static str,
    pub href: String,
    pub text: String,
}

/// One day of the grid (`day` 0: a blank before the 1st or after the last day).
pub struct Day {
    pub day: u32,
    pub iso: String,
    pub closed: Option<String>,
    pub today: bool,
    pub entries: Vec<Entry>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    layout: Layout,
    /// 令和8年12月.
    heading: String,
    /// 2026-12.
    month_iso: String,
    prev: String,
    next: String,
    weeks: Vec<Vec<Day>>,
    /// How many dates are shown in the month.
    total: usize,
    office_only: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
}

impl MonthQuery {
    /// The `month` parameter as sent (may be empty).
    pub fn month(&self) -> &str {
        &self.month
    }
}

/// The first day of `YYYY-MM` (also `YYYY/MM`), or the reason it cannot be read.
pub fn parse_month(s: &str) -> Result<NaiveDate, String> {
    let s = uketsuke_domain::normalize_width(s.trim());
    let (y, m) = s
        .split_once(['-', '/'])
        .ok_or_else(|| format!("月「{s}」は 2026-12 の形で指定してください"))?;
    let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
        return Err(format!("月「{s}」は 2026-12 の形で指定してください"));
    };
    if !(1900..=2200).contains(&y) {
        return Err(format!("月「{s}」の年は 1900〜2200 にしてください"));
    }
    NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(|| format!("月「{s}」の月は 1〜12 にしてください"))
}

/// The month asked for (this month in Japan when none), as its first day.
pub fn month_of(query: &str) -> Result<NaiveDate, Error> {
    if query.trim().is_empty() {
        let today = today_in_japan();
        return Ok(today.with_day(1).unwrap_or(today));
    }
    parse_month(query).map_err(Error::Unprocessable)
}

/// 令和8年12月 (the 和暦 of the month's first day without the day).
pub fn wareki_month(first: NaiveDate) -> String {
    let w = format_wareki(first);
    match w.find('月') {
        Some(i) => w[..i + '月'.len_utf8()].to_owned(),
        None => w,
    }
}

/// The last day of the month that starts on `first`.
pub fn last_day(first: NaiveDate) -> NaiveDate {
    (first + Months::new(1)).pred_opt().unwrap_or(first)
}

/// The prefectures of the user's office, when the account is limited to one.
pub async fn office_prefectures(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Option<Vec<String>>, Error> {
    Ok(match user.user.office_id {
        Some(id) => Some(
            uketsuke_store::bureaus::find_office(&state.db, id)
                .await?
                .map(|o| o.prefectures.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        ),
        None => None,
    })
}

/// `GET /calendar?month=YYYY-MM`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MonthQuery>,
) -> Result<CalendarPage, Error> {
    let first = month_of(&query.month)?;
    let last = last_day(first);
    let today = today_in_japan();
    let bureau = &user.user.bureau_id;
    let calendar = state.calendar(bureau);
    let dues = uketsuke_store::calendar::dues(&state.db, &user.scope(), first, last).await?;
    let prefectures = office_prefectures(&state, &user).await?;
    let sessions =
        uketsuke_store::calendar::sessions(&state.db, bureau, prefectures.as_deref(), first, last)
            .await?;
    let mut days: Vec<Day> = (1..=last.day())
        .filter_map(|d| first.with_day(d))
        .map(|d| Day {
            day: d.day(),
            iso: d.format("%Y-%m-%d").to_string(),
            closed: calendar.closed_reason(d),
            today: d == today,
            entries: Vec::new(),
        })
        .collect();
    let mut total = 0;
    for s in &sessions {
        if let Some(day) = days.get_mut(s.held_on.day0() as usize) {
            day.entries.push(Entry {
                class: "council",
                label: "地医協",
                href: format!("/council/{}", s.id),
                text: format!(
                    "{}（{}）",
                    s.name,
                    Prefecture::parse(&s.prefecture).map_or(String::new(), |p| p.name().to_owned())
                ),
            });
            total += 1;
        }
    }
    for due in &dues {
        if let Some(day) = days.get_mut(due.on.day0() as usize) {
            day.entries.push(Entry {
                class: due.kind.class(),
                label: due.kind.label(),
                href: format!("/cases/{}", due.case.id),
                text: format!(
                    "{}（{}{}）",
                    due.case.facility_name,
                    due.case.kind.label(),
                    if due.kind == DueKind::Answer {
                        format!("・{}", due.case.status.label())
                    } else {
                        String::new()
                    }
                ),
            });
            total += 1;
        }
    }
    // Weeks from Sunday: blanks before the 1st and after the last day.
    let lead = first.weekday().num_days_from_sunday() as usize;
    let blank = || Day {
        day: 0,
        iso: String::new(),
        closed: None,
        today: false,
        entries: Vec::new(),
    };
    let mut cells: Vec<Day> = (0..lead).map(|_| blank()).collect();
    cells.extend(days);
    while !cells.len().is_multiple_of(7) {
        cells.push(blank());
    }
    let mut weeks = Vec::new();
    let mut cells = cells.into_iter().peekable();
    while cells.peek().is_some() {
        weeks.push(cells.by_ref().take(7).collect());
    }
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    Ok(CalendarPage {
        layout: Layout::signed_in(&state, &user),
        heading: wareki_month(first),
        month_iso: month(first),
        prev: month(first - Months::new(1)),
        next: month(first + Months::new(1)),
        weeks,
        total,
        office_only: user.user.office_id.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_reads_in_either_notation_and_names_a_bad_one() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        assert_eq!(parse_month("2026-12"), Ok(d(2026, 12)));
        assert_eq!(parse_month("２０２７／０１"), Ok(d(2027, 1)));
        assert!(parse_month("2026-13").unwrap_err().contains("1〜12"));
        assert!(parse_month("12月").unwrap_err().contains("2026-12 の形"));
        assert_eq!(wareki_month(d(2026, 12)), "令和8年12月");
        assert_eq!(
            last_day(d(2028, 2)),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
    }
}
