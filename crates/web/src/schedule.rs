//! The published schedule (日程表, seed 002 第3: the bureau publishes its deadlines):
//! for one bureau and year, each designation date (the 1st of every month) with its
//! 提出期限, 回答書の発送 (回答期限) and 実施機関への提出期限, computed by the same rules as
//! the cases ([`uketsuke_rules::deadlines::schedule`]).
//!
//! `GET /schedule/{bureau}/{year}` is public: no login, no session read, no database —
//! only the bureau's configuration — and nothing on it but the table, the bureau's
//! wording of its rule and its note. `GET /schedule/{bureau}/{year}.xlsx` is the same
//! table as a workbook. The command `uketsuke schedule` prints the same table (JSON,
//! .xlsx or this HTML) through [`ScheduleTable`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use uketsuke_domain::format_wareki;
use uketsuke_rules::deadlines::{Deadlines, schedule};

use crate::letterhead::LetterSettings;
use crate::state::{AppState, BureauRules};
use crate::view::content_disposition;

/// One bureau's schedule of one year.
#[derive(Debug, Clone)]
pub struct ScheduleTable {
    pub bureau_id: String,
    pub bureau_name: String,
    pub year: i32,
    /// The bureau's wording of its 提出期限 rule.
    pub rule: String,
    /// The bureau's note (where to submit, …), if configured.
    pub note: Option<String>,
    /// 問い合わせ先, if configured.
    pub inquiry: Option<String>,
    pub rows: Vec<Deadlines>,
}

impl ScheduleTable {
    /// The schedule of `year` for `bureau`; a year outside [`SCHEDULE_YEARS`] is refused
    /// with a message saying which years can be made.
    pub fn new(
        bureau: &BureauRules,
        letters: &LetterSettings,
        year: i32,
    ) -> Result<Self, uketsuke_rules::Error> {
        let rows = schedule(&bureau.calendar, &bureau.deadlines, year)?;
        let rule = match &bureau.deadlines.published {
            Some(wording) => wording.clone(),
            None => bureau.deadlines.rule.label().to_owned(),
        };
        Ok(ScheduleTable {
            bureau_id: bureau.id.clone(),
            bureau_name: bureau.name.clone(),
            year,
            rule,
            note: letters.schedule_note(&bureau.id).map(str::to_owned),
            inquiry: letters.letterhead(&bureau.id, None).inquiry,
            rows,
        })
    }

    /// 「令和9年（2027年）」.
    pub fn year_label(&self) -> String {
        let wareki = format_wareki(
            chrono::NaiveDate::from_ymd_opt(self.year, 12, 31).unwrap_or(chrono::NaiveDate::MIN),
        );
        let era_year = wareki.split_once('年').map_or(wareki.as_str(), |(y, _)| y);
        format!("{era_year}年（{}年）", self.year)
    }

    /// The title of the page and the workbook.
    pub fn title(&self) -> String {
        format!(
            "{} 受付番号情報提供依頼書の提出期限等の日程表 {}",
            self.bureau_name,
            self.year_label()
        )
    }

    /// The lines under the title: the rule, the answer and the 実施機関 rules, the note.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = vec![
            format!("提出期限: {}", self.rule),
            "回答書の発送: 指定月の前々月の10日まで（閉庁日の場合は翌開庁日）".to_owned(),
            "実施機関への提出期限: 指定月の前々月の15日まで（受付番号の回答を受けた後、速やかに医療保険情報提供等実施機関へ提出してください）".to_owned(),
        ];
        notes.extend(self.note.clone());
        notes.extend(
            self.inquiry
                .as_ref()
                .map(|q| format!("お問い合わせ先: {q}")),
        );
        notes
    }

    /// The rows as `uketsuke due` prints one designation date (ISO dates).
    pub fn json(&self) -> serde_json::Value {
        let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        serde_json::Value::Array(
            self.rows
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "designation": iso(d.designation),
                        "bureau": self.bureau_id,
                        "submission_deadline": iso(d.submission_deadline),
                        "answer_due": iso(d.answer_due),
                        "implementing_body_due": iso(d.implementing_body_due),
                    })
                })
                .collect(),
        )
    }

    /// The workbook (an error is the writer's, as text).
    pub fn xlsx(&self) -> Result<Vec<u8>, String> {
        let rows: Vec<uketsuke_export::ScheduleRow> = self
            .rows
            .iter()
            .map(|d| uketsuke_export::ScheduleRow {
                designation: d.designation,
                submission_deadline: d.submission_deadline,
                answer_due: d.answer_due,
                implementing_body_due: d.implementing_body_due,
            })
            .collect();
        uketsuke_export::schedule_xlsx(&self.title(), &self.notes(), &rows)
            .map_err(|e| e.to_string())
    }

    /// The printable page as one file of its own (for `uketsuke schedule --format
    /// html`): the stylesheet inlined, no script.
    pub fn standalone_html(&self) -> Result<String, askama::Error> {
        Ok(self
            .html()?
            .replace(
                r#"<link rel="stylesheet" href="/static/site.css">"#,
                &format!("<style>\n{}</style>", include_str!("../static/site.css")),
            )
            .replace(r#"<script src="/static/print.js" defer></script>"#, "")
            .replace(
                r#"<p class="no-print print-bar"><button type="button" class="primary" data-print>印刷する</button>（A4 縦1枚で印刷します）</p>"#,
                "",
            ))
    }

    /// The printable page.
    pub fn html(&self) -> Result<String, askama::Error> {
        SchedulePage {
            title: self.title(),
            notes: self.notes(),
            rows: self
                .rows
                .iter()
                .map(|d| {
                    [
                        d.designation,
                        d.submission_deadline,
                        d.answer_due,
                        d.implementing_body_due,
                    ]
                    .map(|x| DateCell {
                        wareki: format_wareki(x),
                        weekday: weekday(x),
                        iso: x.format("%Y-%m-%d").to_string(),
                    })
                })
                .collect(),
        }
        .render()
    }
}

/// One date as printed: 和暦 with its weekday, and 西暦 at hand.
struct DateCell {
    wareki: String,
    weekday: &'static str,
    iso: String,
}

fn weekday(d: chrono::NaiveDate) -> &'static str {
    use chrono::Datelike;
    ["月", "火", "水", "木", "金", "土", "日"][d.weekday().num_days_from_monday() as usize]
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    title: String,
    notes: Vec<String>,
    rows: Vec<[DateCell; 4]>,
}

#[derive(Template)]
#[template(path = "schedule_missing.html")]
struct MissingPage<'a> {
    message: &'a str,
}

fn missing(message: &str) -> Response {
    let body = MissingPage { message }
        .render()
        .unwrap_or_else(|_| "ページが見つかりません".to_owned());
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

/// `GET /schedule/{bureau}/{year}` and `GET /schedule/{bureau}/{year}.xlsx`: the public
/// schedule. An unknown bureau, a year that is not a number or outside the calendar
/// this system computes: a 404 page saying which.
#[tracing::instrument(skip_all, fields(bureau = %bureau))]
pub async fn page(
    State(state): State<AppState>,
    Path((bureau, year)): Path<(String, String)>,
) -> Response {
    let (year, xlsx) = match year.strip_suffix(".xlsx") {
        Some(y) => (y, true),
        None => (year.as_str(), false),
    };
    let Some(rules) = state.bureau(&bureau) else {
        return missing("指定された地方厚生（支）局の日程表はありません。");
    };
    let Ok(year) = year.parse::<i32>() else {
        return missing("年は西暦の数字で指定してください（例: /schedule/kanto-shinetsu/2027）。");
    };
    let table = match ScheduleTable::new(rules, &state.letters, year) {
        Ok(t) => t,
        Err(e) => return missing(&e.to_string()),
    };
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if xlsx {
        match table.xlsx() {
            Ok(bytes) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(uketsuke_export::XLSX_MIME),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        content_disposition(
                            &format!("schedule-{}-{year}.xlsx", table.bureau_id),
                            &format!("日程表_{}_{year}.xlsx", table.bureau_name),
                        ),
                    ),
                    cache,
                ],
                bytes,
            )
                .into_response(),
            Err(e) => crate::error::Error::Internal(e).into_response(),
        }
    } else {
        match table.html() {
            Ok(body) => ([cache], Html(body)).into_response(),
            Err(e) => crate::error::Error::Template(e).into_response(),
        }
    }
}
