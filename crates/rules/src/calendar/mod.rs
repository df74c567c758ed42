//! The bureau's calendar of open days (開庁日).
//!
//! A day is closed (閉庁日) when it is a Saturday, a Sunday, a national holiday
//! (国民の祝日, 振替休日, 国民の休日: see [`holiday_name`]) or in the year-end break
//! 12/29–1/3 (年末年始). A bureau may add closed days (with the reason to quote in a
//! letter) or open days in its configuration ([`CalendarConfig`]), so that a holiday
//! enacted next year, or a day the office opens exceptionally, needs no new release.
//!
//! The walking functions step one day at a time; a real walk is a few days long. At
//! the very ends of `chrono`'s range of dates (around the years ±262,000) they stop at
//! the boundary instead of failing.

mod holidays;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

pub use holidays::{
    CITIZENS_HOLIDAY, SUBSTITUTE_HOLIDAY, autumnal_equinox_day, holiday_name, vernal_equinox_day,
};

use crate::config_date::ConfigDate;
use crate::{Error, Result};

/// The reason given for 12/29–1/3.
pub const YEAR_END_BREAK: &str = "年末年始";
/// The reason given for a Saturday.
pub const SATURDAY: &str = "土曜日";
/// The reason given for a Sunday.
pub const SUNDAY: &str = "日曜日";

/// A bureau's additions to the standard calendar, as written in its configuration:
///
/// ```toml
/// [calendar]
/// extra_open = ["2027-12-28"]
///
/// [[calendar.extra_closed]]
/// date = "2027-05-06"
/// reason = "臨時閉庁日"
/// ```
///
/// Dates may be quoted or bare TOML dates. Unknown keys are refused. A configuration
/// becomes a [`Calendar`] through [`Calendar::new`], which checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawCalendarConfig")]
pub struct CalendarConfig {
    /// Days closed besides the standard ones, each with the reason to quote.
    pub extra_closed: Vec<ExtraClosedDay>,
    /// Days open although the standard rules close them. They win over everything,
    /// including `extra_closed` (which [`Calendar::new`] refuses anyway).
    pub extra_open: Vec<NaiveDate>,
}

/// One extra closed day and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawExtraClosedDay")]
pub struct ExtraClosedDay {
    /// The day.
    pub date: NaiveDate,
    /// The reason, in Japanese, as it should read in a letter (e.g. 「臨時閉庁日」).
    pub reason: String,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawCalendarConfig {
    extra_closed: Vec<ExtraClosedDay>,
    extra_open: Vec<ConfigDate>,
}

impl From<RawCalendarConfig> for CalendarConfig {
    fn from(raw: RawCalendarConfig) -> Self {
        CalendarConfig {
            extra_closed: raw.extra_closed,
            extra_open: raw.extra_open.into_iter().map(|d| d.0).collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtraClosedDay {
    date: ConfigDate,
    reason: String,
}

impl From<RawExtraClosedDay> for ExtraClosedDay {
    fn from(raw: RawExtraClosedDay) -> Self {
        ExtraClosedDay {
            date: raw.date.0,
            reason: raw.reason,
        }
    }
}

/// The bureau's calendar: the standard closed days plus the configured extras.
/// `Calendar::default()` has no extras. It deserialises from a [`CalendarConfig`]
/// and refuses, at that point, one that contradicts itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CalendarConfig")]
pub struct Calendar {
    extra_closed: BTreeMap<NaiveDate, String>,
    extra_open: BTreeSet<NaiveDate>,
}

impl TryFrom<CalendarConfig> for Calendar {
    type Error = Error;

    fn try_from(config: CalendarConfig) -> Result<Self> {
        Calendar::new(config)
    }
}

impl Calendar {
    /// Builds the calendar, refusing a configuration that contradicts itself: a day
    /// both closed and open, a closed day listed twice, or a closed day without a
    /// reason.
    pub fn new(config: CalendarConfig) -> Result<Self> {
        let extra_open: BTreeSet<NaiveDate> = config.extra_open.into_iter().collect();
        let mut extra_closed = BTreeMap::new();
        for ExtraClosedDay { date, reason } in config.extra_closed {
            let reason = reason.trim().to_owned();
            if reason.is_empty() {
                return Err(Error::EmptyClosedReason { date });
            }
            if extra_open.contains(&date) {
                return Err(Error::OpenAndClosed { date });
            }
            if extra_closed.insert(date, reason).is_some() {
                return Err(Error::DuplicateClosedDay { date });
            }
        }
        Ok(Calendar {
            extra_closed,
            extra_open,
        })
    }

    /// Why `d` is closed, or `None` if it is open. In order of priority: an extra
    /// open day is open; an extra closed day gives its configured reason; then the
    /// holiday's name (「振替休日」「国民の休日」 included); 「年末年始」 for
    /// 12/29–1/3; 「土曜日」; 「日曜日」.
    pub fn closed_reason(&self, d: NaiveDate) -> Option<String> {
        self.reason(d).map(str::to_owned)
    }

    fn reason(&self, d: NaiveDate) -> Option<&str> {
        if self.extra_open.contains(&d) {
            return None;
        }
        if let Some(reason) = self.extra_closed.get(&d) {
            return Some(reason);
        }
        if let Some(name) = holiday_name(d) {
            return Some(name);
        }
        if is_year_end_break(d) {
            return Some(YEAR_END_BREAK);
        }
        match d.weekday() {
            Weekday::Sat => Some(SATURDAY),
            Weekday::Sun => Some(SUNDAY),
            _ => None,
        }
    }

    /// Whether the bureau is open on `d` (開庁日).
    pub fn is_open(&self, d: NaiveDate) -> bool {
        self.reason(d).is_none()
    }

    /// `d` if open, else the first open day after it.
    pub fn next_open_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        while !self.is_open(day) {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => break,
            }
        }
        day
    }

    /// `d` if open, else the last open day before it.
    pub fn previous_open_on_or_before(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        while !self.is_open(day) {
            match day.checked_sub_days(Days::new(1)) {
                Some(previous) => day = previous,
                None => break,
            }
        }
        day
    }

    /// The first open day of the month (e.g. 2025-01-06 for January 2025).
    pub fn first_open_day_of_month(&self, year: i32, month: u32) -> Result<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)
            .ok_or(Error::InvalidYearMonth { year, month })?;
        Ok(self.next_open_on_or_after(first))
    }

    /// The number of open days in the half-open interval (`from`, `to`]: the days
    /// after `from` up to and including `to`, i.e. how many open days have passed
    /// when `to` ends, counted from the end of `from`. Zero when `from == to`;
    /// negative (the count over (`to`, `from`]) when `to` is before `from`.
    pub fn open_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.open_days_between(to, from);
        }
        from.iter_days()
            .skip(1)
            .take_while(|&d| d <= to)
            .filter(|&d| self.is_open(d))
            .fold(0, |count, _| count + 1)
    }

    /// The `n`-th open day after `d` (`d` itself when `n` is 0), so that
    /// `open_days_between(d, add_open_days(d, n)) == n`.
    pub fn add_open_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut day = d;
        for _ in 0..n {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = self.next_open_on_or_after(next),
                None => break,
            }
        }
        day
    }

    /// Every closed day from `from` to `to`, both included, with its reason (empty
    /// when `to` is before `from`).
    pub fn closed_days(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, String)> {
        from.iter_days()
            .take_while(|&d| d <= to)
            .filter_map(|d| self.closed_reason(d).map(|reason| (d, reason)))
            .collect()
    }
}

/// 12/29–1/3.
fn is_year_end_break(d: NaiveDate) -> bool {
    matches!((d.month(), d.day()), (12, 29..=31) | (1, 1..=3))
}
