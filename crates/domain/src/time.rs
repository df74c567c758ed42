//! Japan's clock (日本時間): JST is UTC+9 all year (Japan has no daylight saving time).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// Today's date in Japan.
pub fn today_in_japan() -> NaiveDate {
    date_in_japan(Utc::now())
}

/// The date in Japan at the instant `at`.
pub fn date_in_japan(at: DateTime<Utc>) -> NaiveDate {
    (at + TimeDelta::hours(9)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_japanese_day_starts_at_15_00_utc() {
        assert_eq!(date_in_japan(at("2024-03-31T14:59:59Z")), ymd(2024, 3, 31));
        assert_eq!(date_in_japan(at("2024-03-31T15:00:00Z")), ymd(2024, 4, 1));
        assert_eq!(date_in_japan(at("2024-04-01T12:00:00Z")), ymd(2024, 4, 1));
        assert_eq!(date_in_japan(at("2024-04-01T00:00:00Z")), ymd(2024, 4, 1));
    }

    #[test]
    fn today_is_the_date_at_utc_plus_9_now() {
        let jst = FixedOffset::east_opt(9 * 3600).unwrap();
        let before = Utc::now().with_timezone(&jst).date_naive();
        let today = today_in_japan();
        let after = Utc::now().with_timezone(&jst).date_naive();
        assert!(today == before || today == after, "{today}");
    }
}
