//! Dates: 和暦 (Japanese era calendar) and the other ways dates reach us —
//! 西暦 text, `20240401`, and Excel serial numbers — all read by [`parse_date`]
//! into a [`chrono::NaiveDate`], and written back as 和暦.
//!
//! Only dates from 明治6年1月1日 (1873-01-01), when Japan adopted the Gregorian
//! calendar, are accepted as 和暦: before that day 明治 dates were lunisolar and
//! do not map onto the Gregorian calendar by simple arithmetic.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate};

use crate::error::{Error, Result};
use crate::width::normalize_width;

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid constant date"),
    }
}

/// The first date accepted as 和暦: 明治6年1月1日, when the Gregorian calendar began.
pub const EARLIEST_WAREKI_DATE: NaiveDate = ymd(1873, 1, 1);
const TAISHO_START: NaiveDate = ymd(1912, 7, 30);
const SHOWA_START: NaiveDate = ymd(1926, 12, 25);
const HEISEI_START: NaiveDate = ymd(1989, 1, 8);
const REIWA_START: NaiveDate = ymd(2019, 5, 1);

/// Excel's 1900 date system counts serial 1 as 1900-01-01 and has a fictitious
/// 1900-02-29 as serial 60.
const EXCEL_EPOCH: NaiveDate = ymd(1899, 12, 31);
const EXCEL_FIRST: NaiveDate = ymd(1900, 1, 1);
const EXCEL_AFTER_FAKE_LEAP_DAY: NaiveDate = ymd(1900, 3, 1);
const EXCEL_MAX_SERIAL: u32 = 2_958_465; // 9999-12-31

/// A 元号 (era).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    /// 明治: began 1868-01-25 (慶応4年1月1日); accepted here from 1873-01-01.
    Meiji,
    /// 大正: 1912-07-30 – 1926-12-24
    Taisho,
    /// 昭和: 1926-12-25 – 1989-01-07
    Showa,
    /// 平成: 1989-01-08 – 2019-04-30
    Heisei,
    /// 令和: from 2019-05-01
    Reiwa,
}

impl Era {
    /// All five, oldest first.
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// `明治`, `大正`, `昭和`, `平成`, `令和`.
    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The letter used in short dates: `M`, `T`, `S`, `H`, `R`.
    pub fn letter(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The first date accepted in this era. For 明治 this is 1873-01-01 (see
    /// [`EARLIEST_WAREKI_DATE`]), not the era's historical start 1868-01-25.
    pub fn start(self) -> NaiveDate {
        match self {
            Era::Meiji => EARLIEST_WAREKI_DATE,
            Era::Taisho => TAISHO_START,
            Era::Showa => SHOWA_START,
            Era::Heisei => HEISEI_START,
            Era::Reiwa => REIWA_START,
        }
    }

    /// The last day of the era (the day before the next began); `None` for 令和.
    pub fn end(self) -> Option<NaiveDate> {
        let next = match self {
            Era::Meiji => TAISHO_START,
            Era::Taisho => SHOWA_START,
            Era::Showa => HEISEI_START,
            Era::Heisei => REIWA_START,
            Era::Reiwa => return None,
        };
        next.pred_opt()
    }

    /// The 西暦 year of 元年 (year 1 of the era).
    fn first_year(self) -> i32 {
        match self {
            Era::Meiji => 1868,
            Era::Taisho => 1912,
            Era::Showa => 1926,
            Era::Heisei => 1989,
            Era::Reiwa => 2019,
        }
    }

    /// The era `date` falls in, if it is not before [`EARLIEST_WAREKI_DATE`].
    pub fn of(date: NaiveDate) -> Option<Era> {
        Self::ALL.into_iter().rev().find(|era| era.start() <= date)
    }

    /// Reads a name (`令和`), its first kanji (`令`) or its letter (`R`, `r`).
    fn strip_prefix(s: &str) -> Option<(Era, &str)> {
        Self::ALL.into_iter().find_map(|era| {
            let name = era.name();
            let first_kanji = name.chars().next()?;
            let rest = s
                .strip_prefix(name)
                .or_else(|| s.strip_prefix(first_kanji))
                .or_else(|| s.strip_prefix(era.letter()))
                .or_else(|| s.strip_prefix(era.letter().to_ascii_lowercase()))?;
            Some((era, rest))
        })
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A date in 和暦: era, era year (1 = 元年), month, day. Always a real date
/// inside its era, from 明治6年1月1日 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Wareki {
    // Ordering follows the date.
    date: NaiveDate,
    era: Era,
    year: u32,
    month: u32,
    day: u32,
}

impl Wareki {
    /// The 和暦 date of `era` `year`年 `month`月 `day`日, if it exists and lies inside the era.
    pub fn new(era: Era, year: u32, month: u32, day: u32) -> Result<Self> {
        wareki_to_date(era, year, month, day)
            .map(|date| Self {
                date,
                era,
                year,
                month,
                day,
            })
            .map_err(|reason| Error::Date {
                input: wareki_text(era, year, month, day),
                reason,
            })
    }

    /// The 和暦 of a date from 1873-01-01 on.
    pub fn from_date(date: NaiveDate) -> Result<Self> {
        let era = Era::of(date).ok_or_else(|| Error::Date {
            input: seireki_iso(date),
            reason: before_meiji_reason(),
        })?;
        Ok(Self {
            date,
            era,
            // `Era::of` guarantees date.year() >= era.first_year().
            year: (date.year() - era.first_year() + 1).unsigned_abs(),
            month: date.month(),
            day: date.day(),
        })
    }

    /// Reads any date [`parse_date`] accepts and gives it in 和暦.
    pub fn parse(input: &str) -> Result<Self> {
        let date = parse_date(input)?;
        Self::from_date(date).map_err(|e| match e {
            Error::Date { reason, .. } => Error::Date {
                input: input.to_owned(),
                reason,
            },
            other => other,
        })
    }

    /// The 元号.
    pub fn era(&self) -> Era {
        self.era
    }

    /// The era year (1 = 元年).
    pub fn year(&self) -> u32 {
        self.year
    }

    /// Month, 1–12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// Day of the month.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The same day in the Gregorian calendar.
    pub fn to_date(&self) -> NaiveDate {
        self.date
    }

    /// `R6.4.1`.
    pub fn to_short_string(&self) -> String {
        format!(
            "{}{}.{}.{}",
            self.era.letter(),
            self.year,
            self.month,
            self.day
        )
    }
}

impl fmt::Display for Wareki {
    /// `令和6年4月1日`, `令和元年5月1日`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&wareki_text(self.era, self.year, self.month, self.day))
    }
}

impl FromStr for Wareki {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

fn wareki_text(era: Era, year: u32, month: u32, day: u32) -> String {
    if year == 1 {
        format!("{}元年{month}月{day}日", era.name())
    } else {
        format!("{}{year}年{month}月{day}日", era.name())
    }
}

fn seireki_iso(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

fn seireki_text(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

fn before_meiji_reason() -> String {
    "明治6年1月1日（1873-01-01）より前の日付は扱えません（太陽暦の採用前のため）。".to_owned()
}

/// `令和6年4月1日`; dates before 1873-01-01 as 西暦 (`1872年12月31日`).
pub fn format_wareki(date: NaiveDate) -> String {
    Wareki::from_date(date).map_or_else(|_| seireki_text(date), |w| w.to_string())
}

/// `令和6年4月1日（2024-04-01）`.
pub fn format_wareki_with_seireki(date: NaiveDate) -> String {
    format!("{}（{}）", format_wareki(date), seireki_iso(date))
}

/// `R6.4.1`; dates before 1873-01-01 as `1872-12-31`.
pub fn format_wareki_short(date: NaiveDate) -> String {
    Wareki::from_date(date).map_or_else(|_| seireki_iso(date), |w| w.to_short_string())
}

/// The Gregorian date of a 和暦 date, or why there is none.
fn wareki_to_date(
    era: Era,
    year: u32,
    month: u32,
    day: u32,
) -> std::result::Result<NaiveDate, String> {
    let text = wareki_text(era, year, month, day);
    if year == 0 {
        return Err(format!(
            "{}0年はありません（元号の年は元年＝1年から数えます）。",
            era.name()
        ));
    }
    let date = i32::try_from(year)
        .ok()
        .and_then(|y| y.checked_add(era.first_year() - 1))
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .ok_or_else(|| format!("{text}は存在しない日付です。"))?;
    if date < EARLIEST_WAREKI_DATE {
        return Err(before_meiji_reason());
    }
    let after_end = era.end().is_some_and(|end| date > end);
    if date < era.start() || after_end {
        let span = match era.end() {
            Some(end) => format!(
                "{}から{}まで",
                format_wareki_with_seireki(era.start()),
                format_wareki_with_seireki(end)
            ),
            None => format!("{}から", format_wareki_with_seireki(era.start())),
        };
        let actual = format_wareki(date);
        return Err(format!(
            "{text}は{}の期間外です（{}は{span}。この日は{actual}です）。",
            era.name(),
            era.name()
        ));
    }
    Ok(date)
}

/// The date of Excel serial number `serial` in the 1900 date system
/// (1 = 1900-01-01, 61 = 1900-03-01, 45383 = 2024-04-01). A fractional part
/// (the time of day) is ignored. Serial 60, Excel's fictitious 1900-02-29, and
/// anything outside 1–2958465 (9999-12-31) are refused.
pub fn from_excel_serial(serial: f64) -> Result<NaiveDate> {
    excel_serial_to_date(serial).map_err(|reason| Error::Date {
        input: serial.to_string(),
        reason,
    })
}

fn excel_serial_to_date(serial: f64) -> std::result::Result<NaiveDate, String> {
    let out_of_range = || {
        format!(
            "Excel の日付シリアル値は 1（1900-01-01）〜{EXCEL_MAX_SERIAL}（9999-12-31）の範囲で指定してください。"
        )
    };
    if !serial.is_finite() || serial < 1.0 || serial >= f64::from(EXCEL_MAX_SERIAL) + 1.0 {
        return Err(out_of_range());
    }
    // In range 1..=2958465 after the checks above, so the cast is exact.
    let whole = serial.floor() as u64;
    let date = match whole {
        60 => {
            return Err(
                "Excel の日付シリアル値 60 は、実在しない 1900年2月29日 を表します。".to_owned(),
            );
        }
        n if n < 60 => EXCEL_EPOCH.checked_add_days(Days::new(n)),
        n => EXCEL_EPOCH.checked_add_days(Days::new(n - 1)),
    };
    date.ok_or_else(out_of_range)
}

/// The Excel serial number (1900 date system) of a date from 1900-01-01 to 9999-12-31.
pub fn to_excel_serial(date: NaiveDate) -> Result<u32> {
    let days = (date - EXCEL_EPOCH).num_days();
    let serial = if date >= EXCEL_AFTER_FAKE_LEAP_DAY {
        days + 1
    } else {
        days
    };
    u32::try_from(serial)
        .ok()
        .filter(|s| date >= EXCEL_FIRST && *s <= EXCEL_MAX_SERIAL)
        .ok_or_else(|| Error::Date {
            input: seireki_iso(date),
            reason:
                "Excel の日付シリアル値にできるのは 1900-01-01 から 9999-12-31 までの日付です。"
                    .to_owned(),
        })
}

/// Reads a date as people and spreadsheets write them:
///
/// - 和暦: `令和6年4月1日`, `令和元年5月1日`, `昭和38年5月1日`, `昭38. 5. 1`,
///   `R6.4.1`, `R06.04.01`, `r6/4/1`, `H31-4-30` (era name, its first kanji or
///   its letter; `年月日` or one of `.` `/` `-` between the numbers);
/// - 西暦: `2024/4/1`, `2024-04-01`, `2024.4.1`, `2024年4月1日`, `20240401`;
/// - Excel serial numbers: `45383`, `45383.5` (see [`from_excel_serial`]).
///
/// 全角 digits and punctuation and spaces between the parts are accepted
/// anywhere. A 和暦 date must exist and lie inside its era.
pub fn parse_date(input: &str) -> Result<NaiveDate> {
    read_date(input).map_err(|reason| Error::Date {
        input: input.to_owned(),
        reason,
    })
}

fn read_date(input: &str) -> std::result::Result<NaiveDate, String> {
    let normalized = normalize_width(input);
    let s = normalized.trim();
    if s.is_empty() {
        return Err("日付が入力されていません。".to_owned());
    }
    if let Some(date) = read_number_date(s) {
        return date;
    }
    match Era::strip_prefix(s) {
        Some((era, rest)) => {
            let (year, month, day) = read_parts(rest, true)?;
            // A year of 3+ digits can never be inside an era here.
            if year.len() > 2 {
                return Err(format!("{}{}年という年はありません。", era.name(), year));
            }
            wareki_to_date(era, value(&year), value(&month), value(&day))
        }
        None => {
            let (year, month, day) = read_parts(s, false)?;
            if year.len() != 4 {
                return Err(
                    "元号（令和・平成など）がないため西暦として読みましたが、西暦の年は4桁で書いてください（例: 2024/4/1、令和6年4月1日）。"
                        .to_owned(),
                );
            }
            let (y, m, d) = (value(&year), value(&month), value(&day));
            i32::try_from(y)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
                .ok_or_else(|| format!("{y}年{m}月{d}日は存在しない日付です。"))
        }
    }
}

/// `20240401` or an Excel serial (`45383`, `45383.5`); `None` if `s` is not a
/// plain number.
fn read_number_date(s: &str) -> Option<std::result::Result<NaiveDate, String>> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if s.contains('.') && fraction.is_empty() {
        return None;
    }
    if fraction.is_empty() && whole.len() == 8 {
        let (y, m, d) = (
            value(&whole[0..4]),
            value(&whole[4..6]),
            value(&whole[6..8]),
        );
        return Some(
            i32::try_from(y)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
                .ok_or_else(|| {
                    format!("8桁の数字は西暦の年月日として読みましたが、{y}年{m}月{d}日は存在しない日付です。")
                }),
        );
    }
    let serial: f64 = s.parse().unwrap_or(f64::INFINITY);
    Some(excel_serial_to_date(serial).map_err(|reason| {
        format!("数字だけの日付は Excel の日付シリアル値として読みました。{reason}")
    }))
}

#[derive(Debug, PartialEq)]
enum Token {
    Number(String),
    Separator(char),
}

/// Splits `year sep month sep day [日]` into its three numbers (as digit
/// strings; `元` becomes `"1"` when `era` is true). Spaces are ignored.
fn read_parts(s: &str, era: bool) -> std::result::Result<(String, String, String), String> {
    let mut tokens: Vec<Token> = Vec::new();
    for c in s.chars() {
        match c {
            '0'..='9' => match tokens.last_mut() {
                Some(Token::Number(n)) => n.push(c),
                _ => tokens.push(Token::Number(c.to_string())),
            },
            '元' if era && tokens.is_empty() => tokens.push(Token::Number("1".to_owned())),
            '年' | '月' | '日' | '.' | '/' | '-' => tokens.push(Token::Separator(c)),
            c if c.is_whitespace() => {
                // Spaces separate nothing on their own: `昭38. 5. 1`.
                if let Some(Token::Number(_)) = tokens.last() {
                    tokens.push(Token::Separator(' '));
                }
            }
            _ => return Err(format!("「{c}」は日付に使えない文字です。")),
        }
    }
    // Drop the space markers that sit next to a real separator.
    let mut cleaned: Vec<Token> = Vec::with_capacity(tokens.len());
    for t in tokens {
        match (&t, cleaned.last()) {
            (Token::Separator(' '), _) => cleaned.push(t),
            (Token::Separator(_), Some(Token::Separator(' '))) => {
                cleaned.pop();
                cleaned.push(t);
            }
            _ => cleaned.push(t),
        }
    }
    while let Some(Token::Separator(' ')) = cleaned.last() {
        cleaned.pop();
    }
    let shape_error = || {
        "年・月・日の3つの数字が読み取れません（例: 令和6年4月1日、R6.4.1、2024/4/1）。".to_owned()
    };
    match cleaned.as_slice() {
        [
            Token::Number(y),
            Token::Separator(a),
            Token::Number(m),
            Token::Separator(b),
            Token::Number(d),
            rest @ ..,
        ] => {
            let fits = match (a, b, rest) {
                ('年', '月', []) | ('年', '月', [Token::Separator('日')]) => true,
                ('.' | '/' | '-', b, []) => a == b,
                _ => false,
            };
            if !fits || m.len() > 2 || d.len() > 2 {
                return Err(shape_error());
            }
            Ok((y.clone(), m.clone(), d.clone()))
        }
        _ => Err(shape_error()),
    }
}

fn value(digits: &str) -> u32 {
    digits.bytes().fold(0u32, |acc, b| {
        acc.saturating_mul(10)
            .saturating_add(u32::from(b.wrapping_sub(b'0')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn parsed(input: &str) -> NaiveDate {
        parse_date(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn era_boundaries_are_the_day_before_the_next_era() {
        assert_eq!(Era::Meiji.end(), Some(date(1912, 7, 29)));
        assert_eq!(Era::Taisho.start(), date(1912, 7, 30));
        assert_eq!(Era::Taisho.end(), Some(date(1926, 12, 24)));
        assert_eq!(Era::Showa.start(), date(1926, 12, 25));
        assert_eq!(Era::Showa.end(), Some(date(1989, 1, 7)));
        assert_eq!(Era::Heisei.start(), date(1989, 1, 8));
        assert_eq!(Era::Heisei.end(), Some(date(2019, 4, 30)));
        assert_eq!(Era::Reiwa.start(), date(2019, 5, 1));
        assert_eq!(Era::Reiwa.end(), None);
        assert_eq!(Era::Meiji.start(), date(1873, 1, 1));
        assert_eq!(Era::Reiwa.name(), "令和");
        assert_eq!(Era::Reiwa.letter(), 'R');
    }

    #[test]
    fn parse_date_accepts_wareki_forms() {
        let d = date(2024, 4, 1);
        for input in [
            "令和6年4月1日",
            "R6.4.1",
            "R06.04.01",
            "r6/4/1",
            "R6-4-1",
            "令6.4.1",
            "令和 6年 4月 1日",
            "令和６年４月１日",
            "Ｒ６．４．１",
            "ｒ６／４／１",
            "令和6年4月1",
            "R6年4月1日",
            "  令和6年4月1日  ",
        ] {
            assert_eq!(parsed(input), d, "{input}");
        }
        assert_eq!(parsed("令和元年5月1日"), date(2019, 5, 1));
        assert_eq!(parsed("R元.5.1"), date(2019, 5, 1));
        assert_eq!(parsed("H31.4.30"), date(2019, 4, 30));
        assert_eq!(parsed("S38.5.1"), date(1963, 5, 1));
        assert_eq!(parsed("昭38. 5. 1"), date(1963, 5, 1));
        assert_eq!(parsed("昭38 . 5 . 1"), date(1963, 5, 1));
        assert_eq!(parsed("昭和38年5月1日"), date(1963, 5, 1));
        assert_eq!(parsed("平成元年1月8日"), date(1989, 1, 8));
        assert_eq!(parsed("昭和64年1月7日"), date(1989, 1, 7));
        assert_eq!(parsed("大正元年7月30日"), date(1912, 7, 30));
        assert_eq!(parsed("T15.12.24"), date(1926, 12, 24));
        assert_eq!(parsed("明治6年1月1日"), date(1873, 1, 1));
        assert_eq!(parsed("M45.7.29"), date(1912, 7, 29));
        assert_eq!(parsed("令和6年2月29日"), date(2024, 2, 29));
    }

    #[test]
    fn parse_date_accepts_seireki_forms() {
        let d = date(2024, 4, 1);
        for input in [
            "2024/4/1",
            "2024-04-01",
            "2024.4.1",
            "2024年4月1日",
            "2024年04月01日",
            "20240401",
            "２０２４／４／１",
            "２０２４年４月１日",
            "２０２４－０４－０１",
            "2024ー04ー01",
        ] {
            assert_eq!(parsed(input), d, "{input}");
        }
    }

    #[test]
    fn parse_date_reads_plain_numbers_as_excel_serials() {
        assert_eq!(parsed("45383"), date(2024, 4, 1));
        assert_eq!(parsed("45383.75"), date(2024, 4, 1));
        assert_eq!(parsed("４５３８３"), date(2024, 4, 1));
        assert_eq!(parsed("1"), date(1900, 1, 1));
        assert_eq!(parsed("2958465"), date(9999, 12, 31));
        for input in ["0", "2958466", "60", "45383.", ".5", "99999999"] {
            assert!(parse_date(input).is_err(), "{input}");
        }
    }

    #[test]
    fn parse_date_rejects_dates_outside_their_era() {
        for (input, hint) in [
            ("平成31年5月1日", "平成の期間外"),
            ("令和元年4月30日", "令和の期間外"),
            ("昭和64年1月8日", "昭和の期間外"),
            ("大正15年12月25日", "大正の期間外"),
            ("明治45年7月30日", "明治の期間外"),
            ("H31.5.1", "平成の期間外"),
            ("明治5年12月31日", "1873-01-01"),
            ("明治元年1月1日", "1873-01-01"),
        ] {
            let err = parse_date(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("日付「{input}」を読み取れません")),
                "{msg}"
            );
            assert!(msg.contains(hint), "{input}: {msg}");
        }
        let msg = parse_date("平成31年5月1日")
            .expect_err("out of era")
            .to_string();
        assert!(msg.contains("令和元年5月1日です"), "{msg}");
    }

    #[test]
    fn parse_date_rejects_impossible_days_year_zero_and_garbage() {
        for (input, hint) in [
            ("令和6年2月30日", "存在しない日付"),
            ("令和5年2月29日", "存在しない日付"),
            ("令和6年13月1日", "存在しない日付"),
            ("2024/2/30", "存在しない日付"),
            ("20240230", "存在しない日付"),
            ("令和0年4月1日", "0年はありません"),
            ("R0.4.1", "0年はありません"),
            ("令和100年1月1日", "令和100年という年はありません"),
            ("", "入力されていません"),
            ("   ", "入力されていません"),
            ("あした", "「あ」は日付に使えない文字"),
            ("令和6年4月", "3つの数字"),
            ("R6.4/1", "3つの数字"),
            ("令和6年4.1", "3つの数字"),
            ("6/4/1", "4桁"),
            ("24-04-01", "4桁"),
            ("2024/4/1日", "3つの数字"),
            ("2024/004/1", "3つの数字"),
            ("元年5月1日", "「元」は日付に使えない文字"),
        ] {
            let err = parse_date(input).expect_err(input);
            let msg = err.to_string();
            assert!(msg.contains(&format!("「{input}」")), "{msg}");
            assert!(msg.contains(hint), "{input}: {msg}");
        }
    }

    #[test]
    fn excel_serials_follow_the_1900_date_system() {
        assert_eq!(from_excel_serial(1.0), Ok(date(1900, 1, 1)));
        assert_eq!(from_excel_serial(59.0), Ok(date(1900, 2, 28)));
        assert_eq!(from_excel_serial(61.0), Ok(date(1900, 3, 1)));
        assert_eq!(from_excel_serial(45383.0), Ok(date(2024, 4, 1)));
        assert_eq!(from_excel_serial(45383.999), Ok(date(2024, 4, 1)));
        assert_eq!(from_excel_serial(2_958_465.0), Ok(date(9999, 12, 31)));
        let msg = from_excel_serial(60.0).expect_err("fictitious").to_string();
        assert!(msg.contains("1900年2月29日"), "{msg}");
        for bad in [0.0, 0.5, -1.0, 2_958_466.0, f64::NAN, f64::INFINITY] {
            let msg = from_excel_serial(bad)
                .expect_err("out of range")
                .to_string();
            assert!(msg.contains("Excel の日付シリアル値"), "{msg}");
        }
        assert_eq!(to_excel_serial(date(2024, 4, 1)), Ok(45383));
        assert_eq!(to_excel_serial(date(1900, 3, 1)), Ok(61));
        assert_eq!(to_excel_serial(date(1900, 2, 28)), Ok(59));
        assert!(to_excel_serial(date(1899, 12, 31)).is_err());
    }

    #[test]
    fn wareki_displays_gannen_and_formats() {
        assert_eq!(Era::Reiwa.to_string(), "令和");
        assert_eq!(Era::Showa.to_string(), Era::Showa.name());
        assert_eq!(format_wareki(date(2024, 4, 1)), "令和6年4月1日");
        assert_eq!(format_wareki(date(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(format_wareki(date(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(format_wareki(date(1989, 1, 7)), "昭和64年1月7日");
        assert_eq!(format_wareki(date(1872, 12, 31)), "1872年12月31日");
        assert_eq!(
            format_wareki_with_seireki(date(2024, 4, 1)),
            "令和6年4月1日（2024-04-01）"
        );
        assert_eq!(format_wareki_short(date(2024, 4, 1)), "R6.4.1");
        assert_eq!(format_wareki_short(date(2019, 5, 1)), "R1.5.1");
        assert_eq!(format_wareki_short(date(1963, 5, 1)), "S38.5.1");
    }

    #[test]
    fn wareki_value_round_trips_and_rejects_out_of_era() {
        let w = Wareki::parse("令和6年4月1日").expect("valid");
        assert_eq!(
            (w.era(), w.year(), w.month(), w.day()),
            (Era::Reiwa, 6, 4, 1)
        );
        assert_eq!(w.to_date(), date(2024, 4, 1));
        assert_eq!(w.to_string(), "令和6年4月1日");
        // The parts of a day that is not the first of anything.
        let w = Wareki::from_date(date(1995, 11, 23)).unwrap();
        assert_eq!(
            (w.era(), w.year(), w.month(), w.day()),
            (Era::Heisei, 7, 11, 23)
        );
        let w = Wareki::parse("令和6年4月1日").expect("valid");
        assert_eq!(Wareki::from_date(date(2024, 4, 1)), Ok(w));
        assert_eq!(Wareki::new(Era::Reiwa, 6, 4, 1), Ok(w));
        assert!(Wareki::new(Era::Heisei, 31, 5, 1).is_err());
        assert!(Wareki::new(Era::Reiwa, 0, 5, 1).is_err());
        let msg = Wareki::from_date(date(1872, 12, 31))
            .expect_err("too early")
            .to_string();
        assert!(
            msg.contains("1872-12-31") && msg.contains("1873-01-01"),
            "{msg}"
        );
        let msg = Wareki::parse("1872/12/31")
            .expect_err("too early")
            .to_string();
        assert!(msg.contains("「1872/12/31」"), "{msg}");
    }

    #[test]
    fn every_date_from_1873_to_2100_round_trips_through_each_format() {
        let mut d = date(1873, 1, 1);
        let last = date(2100, 12, 31);
        while d <= last {
            assert_eq!(parse_date(&format_wareki(d)), Ok(d));
            assert_eq!(parse_date(&format_wareki_short(d)), Ok(d));
            assert_eq!(Wareki::from_date(d).map(|w| w.to_date()), Ok(d));
            let Some(next) = d.succ_opt() else { break };
            d = next;
        }
    }
}
