//! The dates that hang off a designation date (指定日), per bureau.
//!
//! All three are counted from the month two months before the designation month
//! (前々月; for a designation on 2024-04-01 that is February 2024):
//!
//! - **提出期限** (submission deadline for the request form): each bureau sets and
//!   publishes its own, "about two months before designation". It is configured per
//!   bureau ([`DeadlineConfig`]): a published table of designation date → deadline,
//!   and a [`SubmissionRule`] for the designation dates the table does not list.
//! - **回答期限** (answer due): the bureau answers by the 10th of that month; if the
//!   10th is closed, the next open day (the procedure says 「閉庁日の場合は原則翌開庁日」).
//!   Staff may set another date with a recorded reason: see [`AnswerDue`].
//! - **実施機関への提出期限**: the facility passes the number to the 実施機関 by the 15th
//!   of that month. This is the 実施機関's date, printed on the answer as guidance, so
//!   it is **not** moved to an open day of the bureau.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uketsuke_domain::{Bureau, format_wareki};

use crate::calendar::Calendar;
use crate::config_date::ConfigDate;
use crate::{Error, Result};

/// The day of the month of the answer due date before shifting (前々月の10日).
pub const ANSWER_DUE_DAY: u32 = 10;
/// The day of the month by which the facility passes the number to the 実施機関.
pub const IMPLEMENTING_BODY_DUE_DAY: u32 = 15;

/// How a bureau derives the 提出期限 from the designation date when its table does
/// not list that date. Written in configuration in kebab-case:
///
/// - `"previous-open-day-from-first-of-month-two-before"`: the 1st of the month two
///   months before the designation month; if that day is closed, the previous open
///   day (東海北陸厚生局's published rule, and the default).
/// - `"first-open-day-of-month-two-before"`: the first open day of the month two
///   months before the designation month (四国厚生支局).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubmissionRule {
    /// The 1st of the month two before, or the previous open day if it is closed.
    #[default]
    PreviousOpenDayFromFirstOfMonthTwoBefore,
    /// The first open day of the month two before.
    FirstOpenDayOfMonthTwoBefore,
}

impl SubmissionRule {
    /// The rule in the words staff read.
    pub fn label(self) -> &'static str {
        match self {
            SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore => {
                "指定月の前々月1日（閉庁日の場合は前の開庁日）まで"
            }
            SubmissionRule::FirstOpenDayOfMonthTwoBefore => "指定月の前々月の最初の開庁日まで",
        }
    }

    /// The deadline this rule gives for `designation`.
    pub fn deadline(self, cal: &Calendar, designation: NaiveDate) -> NaiveDate {
        let first = first_of_month_two_before(designation);
        match self {
            SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore => {
                cal.previous_open_on_or_before(first)
            }
            SubmissionRule::FirstOpenDayOfMonthTwoBefore => cal.next_open_on_or_after(first),
        }
    }
}

/// A bureau's 提出期限 configuration:
///
/// ```toml
/// [deadlines]
/// rule = "previous-open-day-from-first-of-month-two-before"
///
/// [deadlines.table]   # 指定日 = 提出期限, as published
/// "2024-04-01" = "2024-02-01"
/// "2024-05-01" = 2024-03-01   # a bare TOML date is fine as a value
/// ```
///
/// The keys are strings in TOML, so they are quoted. Both fields may be left out (the default rule, an empty table). Deserialising
/// refuses a table entry whose deadline is not before its designation date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDeadlineConfig")]
pub struct DeadlineConfig {
    /// The rule for designation dates the table does not list.
    pub rule: SubmissionRule,
    /// The published table: designation date → submission deadline. An entry
    /// overrides the rule for its designation date (see [`DeadlineConfig::submission_deadline`]).
    pub table: BTreeMap<NaiveDate, NaiveDate>,
    /// The bureau's own published wording of its 提出期限 (公表), when it published one;
    /// `None` when the rule is this system's assumption until the bureau publishes.
    pub published: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadlineConfig {
    #[serde(default)]
    rule: SubmissionRule,
    #[serde(default)]
    table: BTreeMap<ConfigDate, ConfigDate>,
    #[serde(default)]
    published: Option<String>,
}

impl TryFrom<RawDeadlineConfig> for DeadlineConfig {
    type Error = Error;

    fn try_from(raw: RawDeadlineConfig) -> Result<Self> {
        let config = DeadlineConfig {
            rule: raw.rule,
            table: raw.table.into_iter().map(|(k, v)| (k.0, v.0)).collect(),
            published: raw.published.filter(|p| !p.trim().is_empty()),
        };
        config.validate()?;
        Ok(config)
    }
}

impl DeadlineConfig {
    /// Where the 提出期限 comes from, for staff: the bureau's published wording, or the
    /// rule this system assumes until the bureau publishes one.
    pub fn basis(&self) -> String {
        match &self.published {
            Some(wording) => format!("局の公表:「{wording}」"),
            None => format!(
                "想定（局の公表がないため、{}として計算しています）",
                self.rule.label()
            ),
        }
    }

    /// A configuration with `rule` and no table.
    pub fn with_rule(rule: SubmissionRule) -> Self {
        DeadlineConfig {
            rule,
            table: BTreeMap::new(),
            published: None,
        }
    }

    /// Checks that every table deadline is before its designation date.
    pub fn validate(&self) -> Result<()> {
        match self
            .table
            .iter()
            .find(|&(designation, deadline)| deadline >= designation)
        {
            Some((&designation, &deadline)) => Err(Error::DeadlineNotBeforeDesignation {
                designation,
                deadline,
            }),
            None => Ok(()),
        }
    }

    /// The 提出期限 for `designation`: the table's entry for that date; else, for a
    /// designation on another day than the 1st, the entry for the 1st of its month
    /// (tables list the usual 1st-of-month designations, and the rule depends on the
    /// month only); else the rule.
    pub fn submission_deadline(&self, cal: &Calendar, designation: NaiveDate) -> NaiveDate {
        self.table
            .get(&designation)
            .or_else(|| self.table.get(&first_of_month(designation)))
            .copied()
            .unwrap_or_else(|| self.rule.deadline(cal, designation))
    }
}

/// The built-in configuration of a bureau, before its own configuration file adds
/// a table: 四国厚生支局 uses [`SubmissionRule::FirstOpenDayOfMonthTwoBefore`]; every
/// other bureau [`SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore`], which is
/// 東海北陸厚生局's published rule and the documented default for bureaus whose
/// table is not filled in yet (関東信越厚生局 publishes a table per designation date:
/// put it in its configuration).
pub fn default_deadline_config(bureau: Bureau) -> DeadlineConfig {
    let rule = match bureau {
        Bureau::Shikoku => SubmissionRule::FirstOpenDayOfMonthTwoBefore,
        Bureau::Hokkaido
        | Bureau::Tohoku
        | Bureau::KantoShinetsu
        | Bureau::TokaiHokuriku
        | Bureau::Kinki
        | Bureau::ChugokuShikoku
        | Bureau::Kyushu => SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore,
    };
    DeadlineConfig::with_rule(rule)
}

/// [`default_deadline_config`] for a bureau id (`"tokai-hokuriku"`), as written in
/// configuration.
pub fn default_deadline_config_for_id(bureau_id: &str) -> Result<DeadlineConfig> {
    let bureau =
        Bureau::from_id(bureau_id).map_err(|_| Error::UnknownBureau(bureau_id.to_owned()))?;
    Ok(default_deadline_config(bureau))
}

/// The dates of one designation date. Serialised with dates as `"YYYY-MM-DD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadlines {
    /// 指定日 (指定希望日).
    pub designation: NaiveDate,
    /// 提出期限: the last day the bureau accepts the request form.
    pub submission_deadline: NaiveDate,
    /// 回答期限: the bureau answers by this day (computed; see [`AnswerDue`] for a
    /// staff override).
    pub answer_due: NaiveDate,
    /// 実施機関への提出期限: the facility passes the number to the 実施機関 by this day.
    pub implementing_body_due: NaiveDate,
}

/// The dates for `designation` under `cfg`, in the bureau's calendar `cal`.
pub fn deadlines(cal: &Calendar, cfg: &DeadlineConfig, designation: NaiveDate) -> Deadlines {
    Deadlines {
        designation,
        submission_deadline: cfg.submission_deadline(cal, designation),
        answer_due: answer_due(cal, designation),
        implementing_body_due: implementing_body_due(designation),
    }
}

/// The years [`schedule`] covers: from 2024, the first year of designations under the
/// 受付番号 procedure (seed 002: numbers given from February 2024), to 2099, the last
/// year the 春分・秋分 formula of the holiday calendar is published for (1980–2099).
pub const SCHEDULE_YEARS: std::ops::RangeInclusive<i32> = 2024..=2099;

/// The published schedule (日程表) of `year`: the dates of each designation date of the
/// year — the 1st of every month, January to December — by the same rules as a case
/// ([`deadlines`]). A year outside [`SCHEDULE_YEARS`] is refused.
///
/// ```
/// use uketsuke_rules::calendar::Calendar;
/// use uketsuke_rules::deadlines::{DeadlineConfig, schedule};
/// let rows = schedule(&Calendar::default(), &DeadlineConfig::default(), 2024).unwrap();
/// assert_eq!(rows.len(), 12);
/// assert_eq!(rows[3].answer_due.to_string(), "2024-02-13"); // 4月1日指定
/// assert!(schedule(&Calendar::default(), &DeadlineConfig::default(), 2200).is_err());
/// ```
pub fn schedule(cal: &Calendar, cfg: &DeadlineConfig, year: i32) -> Result<Vec<Deadlines>> {
    if !SCHEDULE_YEARS.contains(&year) {
        return Err(Error::ScheduleYearOutOfRange {
            year,
            first: *SCHEDULE_YEARS.start(),
            last: *SCHEDULE_YEARS.end(),
        });
    }
    (1..=12)
        .map(|month| {
            NaiveDate::from_ymd_opt(year, month, 1)
                .map(|designation| deadlines(cal, cfg, designation))
                .ok_or(Error::InvalidYearMonth { year, month })
        })
        .collect()
}

/// 回答期限: the 10th of the month two months before the designation month, or the
/// next open day if the 10th is closed.
pub fn answer_due(cal: &Calendar, designation: NaiveDate) -> NaiveDate {
    cal.next_open_on_or_after(day_of_month_two_before(designation, ANSWER_DUE_DAY))
}

/// 実施機関への提出期限: the 15th of the month two months before the designation
/// month, as is (not moved off closed days: it is not the bureau's deadline).
pub fn implementing_body_due(designation: NaiveDate) -> NaiveDate {
    day_of_month_two_before(designation, IMPLEMENTING_BODY_DUE_DAY)
}

/// The answer due date of one request: the computed date, and the date staff set
/// instead, with the reason they recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerDue {
    /// The date from the rule ([`answer_due`]).
    pub computed: NaiveDate,
    /// The date set by staff instead, if any.
    pub overridden: Option<AnswerDueOverride>,
}

/// A staff override of the answer due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerDueOverride {
    /// The date that applies instead of the computed one.
    pub date: NaiveDate,
    /// Why (recorded with the request).
    pub reason: String,
}

impl AnswerDue {
    /// The computed date for `designation`, not overridden.
    pub fn computed(cal: &Calendar, designation: NaiveDate) -> Self {
        AnswerDue {
            computed: answer_due(cal, designation),
            overridden: None,
        }
    }

    /// Sets another date; the reason is required (surrounding spaces are dropped).
    pub fn with_override(self, date: NaiveDate, reason: &str) -> Result<Self> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::EmptyOverrideReason);
        }
        Ok(AnswerDue {
            overridden: Some(AnswerDueOverride {
                date,
                reason: reason.to_owned(),
            }),
            ..self
        })
    }

    /// The date that applies: the override if set, else the computed date.
    pub fn effective(&self) -> NaiveDate {
        self.overridden.as_ref().map_or(self.computed, |o| o.date)
    }

    /// Points staff should look at before keeping an override: the date is a closed
    /// day, or later than the computed one (the facility then has less time before
    /// its own deadline with the 実施機関).
    pub fn warnings(&self, cal: &Calendar) -> Vec<String> {
        let Some(o) = &self.overridden else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        if let Some(why) = cal.closed_reason(o.date) {
            warnings.push(format!(
                "変更後の回答期限（{}）は閉庁日（{why}）です。",
                format_wareki(o.date)
            ));
        }
        if o.date > self.computed {
            warnings.push(format!(
                "変更後の回答期限（{}）は原則の回答期限（{}）より後です。",
                format_wareki(o.date),
                format_wareki(self.computed)
            ));
        }
        warnings
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn first_of_month_two_before(designation: NaiveDate) -> NaiveDate {
    day_of_month_two_before(designation, 1)
}

/// Day `day` (1–28) of the month two months before `designation`'s month.
fn day_of_month_two_before(designation: NaiveDate, day: u32) -> NaiveDate {
    let months = designation.year() * 12 + designation.month0() as i32 - 2;
    let (year, month0) = (months.div_euclid(12), months.rem_euclid(12));
    // Only out of range two months after chrono's first representable month.
    NaiveDate::from_ymd_opt(year, month0 as u32 + 1, day).unwrap_or(NaiveDate::MIN)
}
