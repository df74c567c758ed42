//! What the printed letters say about their sender, from configuration: the letterhead
//! (文書番号, 局長名, 担当・連絡先, 問い合わせ先) of each bureau and, where an office
//! differs, of that office; the guidance enclosure (案内, seed 002 第3 / 別紙3) printed
//! after each 回答書; and the note under the public schedule (日程表).
//!
//! In a bureau's file (`config/bureaus/{id}.toml`; every key optional, unknown keys are
//! errors):
//!
//! ```toml
//! [letters]
//! document_number = "関厚発{year}第{seq}号"   # {seq} {case_id} {year}
//! director = "関東信越厚生局長"
//! department = "保険課"
//! phone = "048-740-0711"
//! inquiry = "関東信越厚生局 保険課（平日 8:30～17:15）"
//! schedule_note = "提出先は、医療機関等の所在地を管轄する事務所です。"
//!
//! [letters.offices.tokyo]       # an office's own values, key by key
//! document_number = "関厚東発{year}第{seq}号"
//! department = "東京事務所"
//! phone = "03-6692-5119"
//!
//! [letters.guidance]            # overrides [letters.guidance] of config/default.toml
//! title = "…"
//! intro = "…"
//! steps = ["…", "…"]
//! closing = "…"
//! ```
//!
//! **Document numbers are derived, not stored**: `{seq}` and `{case_id}` are the case's
//! number (its ID, fixed when the request is entered and never reused) and `{year}` the
//! 令和 year of the day it was entered (Japan time; not the 受付日, which a correction
//! may move). Both are fixed for the life of the case, so it prints the same number
//! every time, on every machine, with nothing to record.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

/// The placeholders a document number may use.
pub const DOCUMENT_NUMBER_KEYS: [&str; 3] = ["seq", "case_id", "year"];

/// The placeholders the guidance enclosure may use.
pub const GUIDANCE_KEYS: [&str; 7] = [
    "facility_name",
    "kind",
    "code",
    "designation",
    "implementing_body_due",
    "answer_date",
    "bureau",
];

/// Letterhead values: in `[letters]` for the bureau, in `[letters.offices.{code}]` for
/// an office (an office's value wins; one it leaves out is the bureau's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterheadFields {
    /// 文書番号の形式, e.g. `関厚発{seq}号`.
    pub document_number: Option<String>,
    /// 発信者 (局長名), e.g. `関東信越厚生局長　厚生 太郎`.
    pub director: Option<String>,
    /// 担当部署.
    pub department: Option<String>,
    /// 担当の電話番号.
    pub phone: Option<String>,
    /// 問い合わせ先 (a line printed at the foot of each letter).
    pub inquiry: Option<String>,
}

/// A bureau's `[letters]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BureauLetters {
    #[serde(default)]
    pub document_number: Option<String>,
    #[serde(default)]
    pub director: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub inquiry: Option<String>,
    /// Printed under the public schedule (e.g. where to submit).
    #[serde(default)]
    pub schedule_note: Option<String>,
    /// Offices whose letters differ, by office code.
    #[serde(default)]
    pub offices: BTreeMap<String, LetterheadFields>,
    /// The guidance enclosure in this bureau's words (else the default).
    #[serde(default)]
    pub guidance: Option<Guidance>,
}

/// `[letters]` of `config/default.toml`: what a bureau that says nothing prints.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterDefaults {
    /// The guidance enclosure. None: no enclosure is printed.
    #[serde(default)]
    pub guidance: Option<Guidance>,
}

/// The guidance enclosure (案内): a title, a paragraph, numbered steps and a closing
/// paragraph, each of which may use the placeholders of [`GUIDANCE_KEYS`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guidance {
    pub title: String,
    #[serde(default)]
    pub intro: String,
    pub steps: Vec<String>,
    #[serde(default)]
    pub closing: String,
}

/// The guidance with this facility's values filled in.
#[derive(Debug, Clone)]
pub struct FilledGuidance {
    pub title: String,
    pub intro: String,
    pub steps: Vec<String>,
    pub closing: String,
}

/// The values the guidance is filled with.
pub struct GuidanceValues<'a> {
    pub facility_name: &'a str,
    pub kind: &'a str,
    pub code: &'a str,
    pub designation: &'a str,
    pub implementing_body_due: &'a str,
    pub answer_date: &'a str,
    pub bureau: &'a str,
}

impl Guidance {
    /// Checks the text: a title, at least one step, known placeholders only.
    pub fn validate(&self) -> Result<(), String> {
        if self.title.trim().is_empty() {
            return Err("guidance.title が空です".to_owned());
        }
        if self.steps.is_empty() {
            return Err("guidance.steps に手順が1つもありません".to_owned());
        }
        let dummy = GuidanceValues {
            facility_name: "",
            kind: "",
            code: "",
            designation: "",
            implementing_body_due: "",
            answer_date: "",
            bureau: "",
        };
        self.fill(&dummy).map(|_| ())
    }

    /// The text with `v` filled in.
    pub fn fill(&self, v: &GuidanceValues<'_>) -> Result<FilledGuidance, String> {
        let values = [
            ("facility_name", v.facility_name),
            ("kind", v.kind),
            ("code", v.code),
            ("designation", v.designation),
            ("implementing_body_due", v.implementing_body_due),
            ("answer_date", v.answer_date),
            ("bureau", v.bureau),
        ];
        let f =
            |key: &str, text: &str| fill(text, &values).map_err(|e| format!("guidance.{key}: {e}"));
        Ok(FilledGuidance {
            title: f("title", &self.title)?,
            intro: f("intro", &self.intro)?,
            steps: self
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| f(&format!("steps[{}]", i + 1), s))
                .collect::<Result<_, _>>()?,
            closing: f("closing", &self.closing)?,
        })
    }
}

/// A letterhead resolved for one office (or the bureau as a whole).
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    pub document_number: Option<String>,
    pub director: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub inquiry: Option<String>,
}

impl Letterhead {
    /// The document number of case `case_id` entered on `entered_on` (Japan time), if
    /// the bureau configured a pattern.
    pub fn document_number(&self, case_id: i32, entered_on: NaiveDate) -> Option<String> {
        let pattern = self.document_number.as_deref()?;
        let id = case_id.to_string();
        let year = reiwa_year(entered_on);
        fill(
            pattern,
            &[("seq", &id), ("case_id", &id), ("year", year.as_str())],
        )
        .ok()
    }

    /// 「担当　保険課　電話 048-…」, when a department or a phone is configured.
    pub fn contact(&self) -> Option<String> {
        let parts: Vec<String> = [
            self.department.clone(),
            self.phone.as_ref().map(|p| format!("電話 {p}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| format!("担当　{}", parts.join("　")))
    }
}

impl BureauLetters {
    /// Checks the patterns and that every office named exists (`office_codes`).
    pub fn validate(&self, office_codes: &[&str]) -> Result<(), String> {
        let check_number = |at: &str, p: &Option<String>| -> Result<(), String> {
            if let Some(p) = p {
                fill(p, &DOCUMENT_NUMBER_KEYS.map(|k| (k, "1")))
                    .map_err(|e| format!("{at}document_number: {e}"))?;
            }
            Ok(())
        };
        check_number("", &self.document_number)?;
        for (code, office) in &self.offices {
            if !office_codes.contains(&code.as_str()) {
                return Err(format!(
                    "offices.{code}: 事務所コード '{code}' は [[offices]] にありません（{}）",
                    office_codes.join(", ")
                ));
            }
            check_number(&format!("offices.{code}."), &office.document_number)?;
        }
        if let Some(g) = &self.guidance {
            g.validate()?;
        }
        Ok(())
    }

    /// The letterhead of office `office_code` (or the bureau's when `None` or when the
    /// office has no values of its own).
    pub fn letterhead(&self, office_code: Option<&str>) -> Letterhead {
        let office = office_code.and_then(|c| self.offices.get(c));
        let pick = |own: Option<&Option<String>>, bureau: &Option<String>| {
            own.and_then(Clone::clone)
                .or_else(|| bureau.clone())
                .filter(|s| !s.trim().is_empty())
        };
        Letterhead {
            document_number: pick(office.map(|o| &o.document_number), &self.document_number),
            director: pick(office.map(|o| &o.director), &self.director),
            department: pick(office.map(|o| &o.department), &self.department),
            phone: pick(office.map(|o| &o.phone), &self.phone),
            inquiry: pick(office.map(|o| &o.inquiry), &self.inquiry),
        }
    }
}

/// Every bureau's letters and the defaults, as the pages use them.
#[derive(Debug, Clone, Default)]
pub struct LetterSettings {
    pub bureaus: BTreeMap<String, BureauLetters>,
    pub defaults: LetterDefaults,
}

impl LetterSettings {
    /// The letterhead of `bureau_id`'s office `office_code`.
    pub fn letterhead(&self, bureau_id: &str, office_code: Option<&str>) -> Letterhead {
        self.bureaus
            .get(bureau_id)
            .map(|b| b.letterhead(office_code))
            .unwrap_or_default()
    }

    /// The guidance enclosure of `bureau_id`: its own, else the default, else none.
    pub fn guidance(&self, bureau_id: &str) -> Option<&Guidance> {
        self.bureaus
            .get(bureau_id)
            .and_then(|b| b.guidance.as_ref())
            .or(self.defaults.guidance.as_ref())
    }

    /// The note under `bureau_id`'s public schedule.
    pub fn schedule_note(&self, bureau_id: &str) -> Option<&str> {
        self.bureaus
            .get(bureau_id)
            .and_then(|b| b.schedule_note.as_deref())
            .filter(|s| !s.trim().is_empty())
    }
}

/// The 令和 year of `d` as digits (`"8"` for 2026), or the 西暦 year before 令和.
fn reiwa_year(d: NaiveDate) -> String {
    use chrono::Datelike;
    if d >= NaiveDate::from_ymd_opt(2019, 5, 1).unwrap_or(NaiveDate::MIN) {
        (d.year() - 2018).to_string()
    } else {
        d.year().to_string()
    }
}

/// `text` with each `{key}` replaced by its value; an unknown `{key}` or an unclosed
/// brace is an error naming it. `{{` and `}}` stand for the braces themselves.
pub fn fill(text: &str, values: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(body) = tail.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(format!("「{{」が閉じられていません: {text}"));
            };
            let key = &body[..end];
            let Some((_, value)) = values.iter().find(|(k, _)| *k == key) else {
                let known: Vec<String> = values.iter().map(|(k, _)| format!("{{{k}}}")).collect();
                return Err(format!(
                    "{{{key}}} は使えません（使えるのは {}）",
                    known.join(" ")
                ));
            };
            out.push_str(value);
            rest = &body[end + 1..];
        } else {
            return Err(format!("対応する「{{」のない「}}」があります: {text}"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_keys_and_names_an_unknown_one() {
        assert_eq!(
            fill("関厚発{year}第{seq}号", &[("year", "8"), ("seq", "12")]).unwrap(),
            "関厚発8第12号"
        );
        assert_eq!(fill("{{x}}", &[]).unwrap(), "{x}");
        let e = fill("第{sequence}号", &[("seq", "1")]).unwrap_err();
        assert!(
            e.contains("{sequence} は使えません") && e.contains("{seq}"),
            "{e}"
        );
        assert!(fill("第{seq号", &[("seq", "1")]).is_err());
        assert!(fill("第seq}号", &[("seq", "1")]).is_err());
    }

    #[test]
    fn an_office_value_wins_and_a_missing_one_is_the_bureaus() {
        let letters: BureauLetters = toml_like(
            "関厚発{seq}号",
            "関東信越厚生局長",
            Some(("tokyo", "東京事務所")),
        );
        let tokyo = letters.letterhead(Some("tokyo"));
        assert_eq!(tokyo.department.as_deref(), Some("東京事務所"));
        assert_eq!(tokyo.director.as_deref(), Some("関東信越厚生局長"));
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(tokyo.document_number(7, d).as_deref(), Some("関厚発7号"));
        assert_eq!(
            letters.letterhead(Some("chiba")).department.as_deref(),
            Some("保険課")
        );
        assert!(letters.validate(&["tokyo"]).is_ok());
        assert!(letters.validate(&["chiba"]).unwrap_err().contains("tokyo"));
    }

    fn toml_like(number: &str, director: &str, office: Option<(&str, &str)>) -> BureauLetters {
        BureauLetters {
            document_number: Some(number.into()),
            director: Some(director.into()),
            department: Some("保険課".into()),
            offices: office
                .map(|(code, dept)| {
                    BTreeMap::from([(
                        code.to_owned(),
                        LetterheadFields {
                            department: Some(dept.into()),
                            ..Default::default()
                        },
                    )])
                })
                .unwrap_or_default(),
            ..Default::default()
        }
    }
}
