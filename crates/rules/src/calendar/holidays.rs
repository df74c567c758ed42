//! National holidays of Japan (国民の祝日・休日), computed from the rules of
//! 「国民の祝日に関する法律」 (昭和23年法律第178号) and the special laws that added
//! one-off days off.
//!
//! What is computed, for any date from the law's start (1948-07-20):
//! - the 国民の祝日 with their historical changes (dates moved to Mondays by the
//!   "Happy Monday" amendments, renamed days, 天皇誕生日 following the reign, the 2020
//!   and 2021 Olympic moves);
//! - 春分の日 and 秋分の日 from the well-known approximation of the equinoxes
//!   (`int(20.8431 + 0.242194 × (y − 1980)) − int((y − 1980) / 4)` for 春分 and the
//!   same with 23.2488 for 秋分 in 1980–2099; the 1900–1979 and 2100–2150 constants
//!   too). The official days are fixed each February in the 官報 for the next year
//!   only, so for future years these are forecasts; outside 1900–2150 no equinox
//!   holiday is returned;
//! - 振替休日: from 1973-04-12 the Monday after a 祝日 falling on a Sunday; from 2007
//!   the nearest following day that is not a 祝日;
//! - 国民の休日: from 1985-12-27 a day whose previous and next days are both 祝日
//!   (until 2006 not on a Sunday nor on a 振替休日);
//! - the days off made by special laws: 1959-04-10, 1989-02-24, 1990-11-12,
//!   1993-06-09, 2019-05-01 and 2019-10-22 (the two 2019 days count as 祝日 for the
//!   rules above, as their law says, which makes 2019-04-30 and 2019-05-02 国民の休日).
//!
//! Names are those of the law and the Cabinet Office's list; a substitute holiday is
//! named 「振替休日」 and a sandwiched day 「国民の休日」 (the Cabinet Office's CSV
//! calls both just 「休日」: the specific name reads better in a return letter).

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// 振替休日.
pub const SUBSTITUTE_HOLIDAY: &str = "振替休日";
/// 国民の休日 (a day between two 祝日).
pub const CITIZENS_HOLIDAY: &str = "国民の休日";

/// The name of the national holiday on `d` (国民の祝日, 振替休日, 国民の休日 or a day
/// made a holiday by a special law), or `None` if `d` is not one.
///
/// ```
/// use chrono::NaiveDate;
/// use uketsuke_rules::calendar::holiday_name;
/// let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// assert_eq!(holiday_name(d(2024, 2, 12)), Some("振替休日"));
/// assert_eq!(holiday_name(d(2019, 4, 30)), Some("国民の休日"));
/// assert_eq!(holiday_name(d(2020, 7, 24)), Some("スポーツの日"));
/// assert_eq!(holiday_name(d(2024, 2, 13)), None);
/// ```
pub fn holiday_name(d: NaiveDate) -> Option<&'static str> {
    if let Some(name) = shukujitsu(d) {
        return Some(name);
    }
    if is_substitute_holiday(d) {
        return Some(SUBSTITUTE_HOLIDAY);
    }
    if is_citizens_holiday(d) {
        return Some(CITIZENS_HOLIDAY);
    }
    None
}

/// The law in force from 1948-07-20.
fn law_start() -> NaiveDate {
    ymd(1948, 7, 20)
}

/// 振替休日 exist from this day (昭和48年法律第10号).
fn substitute_start() -> NaiveDate {
    ymd(1973, 4, 12)
}

/// 国民の休日 exist from this day (昭和60年法律第103号).
fn citizens_holiday_start() -> NaiveDate {
    ymd(1985, 12, 27)
}

/// The 2005 amendment (平成17年法律第43号), in force 2007-01-01: 振替休日 may fall on
/// a later day than Monday, and a Sunday may be a 国民の休日.
fn amendment_2007() -> NaiveDate {
    ymd(2007, 1, 1)
}

/// Builds a date known to be valid. Only called with literal dates of this module.
fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The 国民の祝日 proper on `d` (and the special-law days, which behave like them
/// here), without 振替休日 and 国民の休日.
fn shukujitsu(d: NaiveDate) -> Option<&'static str> {
    if d < law_start() {
        return None;
    }
    let y = d.year();
    let day = d.day();
    let monday = d.weekday() == Weekday::Mon;
    // The n-th Monday of the month (1-based).
    let nth_monday = |n: u32| monday && (day - 1) / 7 + 1 == n;

    match d.month() {
        1 => match day {
            1 => Some("元日"),
            15 if y <= 1999 => Some("成人の日"),
            _ if y >= 2000 && nth_monday(2) => Some("成人の日"),
            _ => None,
        },
        2 => match day {
            11 if y >= 1967 => Some("建国記念の日"),
            23 if y >= 2020 => Some("天皇誕生日"),
            24 if y == 1989 => Some("昭和天皇の大喪の礼"),
            _ => None,
        },
        3 if vernal_equinox_day(y) == Some(day) => Some("春分の日"),
        4 => match day {
            10 if y == 1959 => Some("皇太子明仁親王の結婚の儀"),
            29 if y <= 1988 => Some("天皇誕生日"),
            29 if y <= 2006 => Some("みどりの日"),
            29 => Some("昭和の日"),
            _ => None,
        },
        5 => match day {
            1 if y == 2019 => Some("天皇の即位の日"),
            3 => Some("憲法記念日"),
            4 if y >= 2007 => Some("みどりの日"),
            5 => Some("こどもの日"),
            _ => None,
        },
        6 if y == 1993 && day == 9 => Some("皇太子徳仁親王の結婚の儀"),
        7 => match (y, day) {
            (2020, 23) | (2021, 22) => Some("海の日"),
            (2020, 24) | (2021, 23) => Some("スポーツの日"),
            (2020 | 2021, _) => None,
            (1996..=2002, 20) => Some("海の日"),
            (2003.., _) if nth_monday(3) => Some("海の日"),
            _ => None,
        },
        8 => match (y, day) {
            (2020, 10) | (2021, 8) => Some("山の日"),
            (2020 | 2021, _) => None,
            (2016.., 11) => Some("山の日"),
            _ => None,
        },
        9 => {
            if autumnal_equinox_day(y) == Some(day) {
                Some("秋分の日")
            } else if (1966..=2002).contains(&y) && day == 15 || y >= 2003 && nth_monday(3) {
                Some("敬老の日")
            } else {
                None
            }
        }
        10 => match (y, day) {
            (1966..=1999, 10) => Some("体育の日"),
            (2000..=2019, _) if nth_monday(2) => Some("体育の日"),
            (2019, 22) => Some("即位礼正殿の儀の行われる日"),
            (2020 | 2021, _) => None,
            (2022.., _) if nth_monday(2) => Some("スポーツの日"),
            _ => None,
        },
        11 => match (y, day) {
            (_, 3) => Some("文化の日"),
            (1990, 12) => Some("即位礼正殿の儀"),
            (_, 23) => Some("勤労感謝の日"),
            _ => None,
        },
        12 if (1989..=2018).contains(&y) && day == 23 => Some("天皇誕生日"),
        _ => None,
    }
}

fn is_shukujitsu(d: NaiveDate) -> bool {
    shukujitsu(d).is_some()
}

/// 振替休日: `d` is not a 祝日 and follows a 祝日 on a Sunday (directly before 2007;
/// from 2007 possibly over a run of further 祝日).
fn is_substitute_holiday(d: NaiveDate) -> bool {
    if d < substitute_start() || is_shukujitsu(d) {
        return false;
    }
    if d < amendment_2007() {
        return d.weekday() == Weekday::Mon && previous_day(d).is_some_and(is_shukujitsu);
    }
    let mut day = previous_day(d);
    while let Some(k) = day.filter(|&k| is_shukujitsu(k)) {
        if k.weekday() == Weekday::Sun {
            return true;
        }
        day = previous_day(k);
    }
    false
}

/// 国民の休日: `d` is not a 祝日 but the days before and after are.
fn is_citizens_holiday(d: NaiveDate) -> bool {
    if d < citizens_holiday_start() || is_shukujitsu(d) {
        return false;
    }
    if d < amendment_2007() && (d.weekday() == Weekday::Sun || is_substitute_holiday(d)) {
        return false;
    }
    previous_day(d).is_some_and(is_shukujitsu) && next_day(d).is_some_and(is_shukujitsu)
}

fn previous_day(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(1))
}

fn next_day(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(1))
}

/// The March day of 春分の日 in year `y`, from the approximation formula; `None`
/// outside 1900–2150 where the formula is not published.
pub fn vernal_equinox_day(y: i32) -> Option<u32> {
    // Constants in millionths of a day.
    let base = match y {
        1900..=1979 => 20_835_700,
        1980..=2099 => 20_843_100,
        2100..=2150 => 21_851_000,
        _ => return None,
    };
    Some(equinox_day(y, base))
}

/// The September day of 秋分の日 in year `y`, from the approximation formula; `None`
/// outside 1900–2150.
pub fn autumnal_equinox_day(y: i32) -> Option<u32> {
    let base = match y {
        1900..=1979 => 23_258_800,
        1980..=2099 => 23_248_800,
        2100..=2150 => 24_248_800,
        _ => return None,
    };
    Some(equinox_day(y, base))
}

/// `int(base + 0.242194 × (y − 1980) − int((y − leap_base) / 4))` in exact integer
/// arithmetic, where the leap correction counts from 1983 before 1980 and from 1980
/// after. `base` is in millionths. As in the published formula, the inner `int`
/// truncates toward zero (it is negative before 1983), the outer one of a positive
/// number is a floor.
fn equinox_day(y: i32, base: i64) -> u32 {
    let years = i64::from(y) - 1980;
    let leap_base = if y < 1980 { 1983 } else { 1980 };
    let drift = (base + 242_194 * years).div_euclid(1_000_000);
    let leaps = (i64::from(y) - leap_base) / 4;
    // Always between 19 and 25 for 1900–2150.
    u32::try_from(drift - leaps).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn equinox_formula_gives_the_known_days() {
        assert_eq!(vernal_equinox_day(2024), Some(20));
        assert_eq!(vernal_equinox_day(2023), Some(21));
        assert_eq!(autumnal_equinox_day(2024), Some(22));
        assert_eq!(autumnal_equinox_day(2025), Some(23));
        assert_eq!(autumnal_equinox_day(1979), Some(24));
        assert_eq!(vernal_equinox_day(1899), None);
        assert_eq!(autumnal_equinox_day(2151), None);
    }

    #[test]
    fn equinox_formula_covers_2100_to_2150_with_its_own_constants() {
        // int(21.8510 + 0.242194 × (y − 1980) − int((y − 1980) / 4)) for 春分 and
        // 24.2488 for 秋分, worked by hand: 2100 → 20.91 and 23.31; 2150 → 21.02 and 23.42.
        assert_eq!(vernal_equinox_day(2100), Some(20));
        assert_eq!(vernal_equinox_day(2150), Some(21));
        assert_eq!(autumnal_equinox_day(2100), Some(23));
        assert_eq!(autumnal_equinox_day(2150), Some(23));
        // The last year of the 1980–2099 constants: 20.66 and 23.07.
        assert_eq!(vernal_equinox_day(2099), Some(20));
        assert_eq!(autumnal_equinox_day(2099), Some(23));
        assert_eq!(vernal_equinox_day(2151), None);
    }

    #[test]
    fn substitute_holiday_before_2007_is_only_the_monday() {
        // 2006-05-03 was a Wednesday; 2001-09-15 (敬老の日) was a Saturday, no 振替.
        // 1990-09-23 (秋分の日) was a Sunday: 9-24 is the 振替休日.
        assert_eq!(holiday_name(d(1990, 9, 24)), Some(SUBSTITUTE_HOLIDAY));
        assert_eq!(holiday_name(d(2001, 9, 17)), None);
    }

    #[test]
    fn substitute_holiday_from_2007_skips_over_following_holidays() {
        // 2008-05-04 (みどりの日) Sunday → 5-5 is こどもの日 → 5-6 振替休日.
        assert_eq!(holiday_name(d(2008, 5, 6)), Some(SUBSTITUTE_HOLIDAY));
        // 2015-05-03 Sunday → 5-6 Wednesday.
        assert_eq!(holiday_name(d(2015, 5, 6)), Some(SUBSTITUTE_HOLIDAY));
    }

    #[test]
    fn citizens_holiday_is_not_a_sunday_before_2007() {
        // 1986-05-04 was a Sunday between two 祝日: not a 国民の休日.
        assert_eq!(holiday_name(d(1986, 5, 4)), None);
        // 1988-05-04, a Wednesday, was the first 国民の休日.
        assert_eq!(holiday_name(d(1988, 5, 4)), Some(CITIZENS_HOLIDAY));
        // 2015-09-22 between 敬老の日 and 秋分の日.
        assert_eq!(holiday_name(d(2015, 9, 22)), Some(CITIZENS_HOLIDAY));
    }

    #[test]
    fn substitute_holidays_start_on_1973_04_12() {
        // 1973-02-11 (建国記念の日) was a Sunday, before the amendment: no 振替休日.
        assert_eq!(holiday_name(d(1973, 2, 12)), None);
        assert_eq!(holiday_name(d(1970, 5, 4)), None);
        // 1973-04-29 (天皇誕生日), a Sunday after it: the first 振替休日.
        assert_eq!(holiday_name(d(1973, 4, 30)), Some(SUBSTITUTE_HOLIDAY));
    }

    #[test]
    fn the_special_days_before_1980_are_their_years_only() {
        assert_eq!(
            holiday_name(d(1959, 4, 10)),
            Some("皇太子明仁親王の結婚の儀")
        );
        assert_eq!(holiday_name(d(1958, 4, 10)), None);
        assert_eq!(vernal_equinox_day(1979), Some(21));
        assert_eq!(holiday_name(d(1979, 3, 21)), Some("春分の日"));
    }

    #[test]
    fn kenkoku_kinen_no_hi_exists_from_1967() {
        // 1966-02-11 was a Friday and an ordinary day.
        assert_eq!(holiday_name(d(1966, 2, 11)), None);
        assert_eq!(holiday_name(d(1967, 2, 11)), Some("建国記念の日"));
    }

    #[test]
    fn nothing_before_the_law() {
        assert_eq!(holiday_name(d(1948, 5, 3)), None);
        assert_eq!(holiday_name(d(1948, 11, 3)), Some("文化の日"));
    }
}
