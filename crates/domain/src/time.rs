//! Japan's clock (日本時間): JST is UTC+9 all year (Japan has no daylight saving time).

use chrono::{NaiveDate, TimeDelta, Utc};

/// Today's date in Japan.
pub fn today_in_japan() -> NaiveDate {
    (Utc::now() + TimeDelta::hours(9)).date_naive()
}
