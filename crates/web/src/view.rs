//! View helpers shared by the pages, one of each: Japan time in words, percent-encoding
//! for links, and file downloads with a Japanese file name.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use uketsuke_domain::{format_wareki, today_in_japan};

/// Everything but RFC 3986's unreserved characters is encoded.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes everything but unreserved ASCII (RFC 3986), as UTF-8.
pub fn percent(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Japan time, to the second, in 和暦 with the 西暦 beside.
pub fn jst(t: DateTime<Utc>) -> String {
    let local = t + TimeDelta::hours(9);
    format!(
        "{} {}（{}）",
        format_wareki(local.date_naive()),
        local.format("%H:%M:%S"),
        local.format("%Y-%m-%d")
    )
}

/// Japan time, to the minute, in 西暦 (for logs).
pub fn jst_minute(t: DateTime<Utc>) -> String {
    (t + TimeDelta::hours(9))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A date in 和暦 with its 西暦.
#[derive(Debug, Clone)]
pub struct JpDate {
    pub wareki: String,
    pub iso: String,
}

impl JpDate {
    pub fn new(d: NaiveDate) -> Self {
        Self {
            wareki: format_wareki(d),
            iso: d.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn opt(d: Option<NaiveDate>) -> Option<Self> {
        d.map(Self::new)
    }
}

/// `attachment` with an ASCII fallback name and the Japanese name (RFC 5987/6266).
pub fn content_disposition(ascii_name: &str, japanese_name: &str) -> HeaderValue {
    let value = format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        percent(japanese_name)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A download named `name` (ASCII fallback `ascii_name`), not to be cached.
pub fn download_as(bytes: Vec<u8>, mime: &str, ascii_name: &str, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(mime)
                    .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
            ),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(ascii_name, name),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// A download named `{stem}_{YYYYMMDD}.{ext}` (today in Japan; ASCII fallback
/// `cases-{YYYYMMDD}.{ext}`), not to be cached.
pub fn download(bytes: Vec<u8>, mime: &'static str, stem: &str, ext: &str) -> Response {
    let stamp = today_in_japan().format("%Y%m%d");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(
                    &format!("cases-{stamp}.{ext}"),
                    &format!("{stem}_{stamp}.{ext}"),
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_carries_the_japanese_name_percent_encoded() {
        let v = content_disposition("cases.csv", "案件一覧.csv");
        let s = v.to_str().unwrap_or_default();
        assert!(s.contains("filename=\"cases.csv\""));
        assert!(s.contains("filename*=UTF-8''%E6%A1%88%E4%BB%B6%E4%B8%80%E8%A6%A7.csv"));
    }

    #[test]
    fn percent_keeps_only_unreserved_characters() {
        assert_eq!(percent("a-b_c.d~e f/g"), "a-b_c.d~e%20f%2Fg");
        assert_eq!(percent("名"), "%E5%90%8D");
    }
}
