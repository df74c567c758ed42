//! Dates in bureau configuration files, written `"2024-04-01"` or, in TOML, as a bare
//! `2024-04-01` (which TOML readers hand over as a date value rather than a string).

use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// A `YYYY-MM-DD` date from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigDate(pub NaiveDate);

impl<'de> de::Deserialize<'de> for ConfigDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ConfigDateVisitor)
    }
}

struct ConfigDateVisitor;

fn parse<E: de::Error>(s: &str) -> Result<ConfigDate, E> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(ConfigDate)
        .map_err(|_| {
            E::custom(format!(
                "日付「{s}」が読めません。2024-04-01 の形で書いてください。"
            ))
        })
}

impl<'de> Visitor<'de> for ConfigDateVisitor {
    type Value = ConfigDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date written 2024-04-01")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<ConfigDate, E> {
        parse(s)
    }

    /// A TOML date value arrives as a one-entry map holding its text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ConfigDate, A::Error> {
        let Some((_, text)) = map.next_entry::<String, String>()? else {
            return Err(de::Error::custom(
                "日付が空です。2024-04-01 の形で書いてください。",
            ));
        };
        if map.next_entry::<String, de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "日付は 2024-04-01 の形で書いてください。",
            ));
        }
        parse(&text)
    }
}
