//! Text helpers shared by the readers: normalising values and labels, splitting
//! `〒123-4567 東京都…` into postal code and address, reading the kind marks
//! (`○医科・歯科・薬局`), and telling a person from a 法人 with its representative.

use uketsuke_domain::{FeeSchedule, RequestKind, normalize_width};

use crate::request::Founder;

/// A value as stored: 全角 ASCII made half-width, dashes between digits made `-`,
/// every run of whitespace (newlines and U+3000 included) one space, trimmed.
pub(crate) fn clean(s: &str) -> String {
    let normalized = normalize_width(s);
    let mut out = String::with_capacity(normalized.len());
    for word in normalized.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A label as compared: half-width, no whitespace at all.
pub(crate) fn key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            other => other,
        };
        if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

const OPEN: [char; 9] = ['(', '[', '【', '〔', '「', '『', '<', '《', '〈'];
const CLOSE: [char; 9] = [')', ']', '】', '〕', '」', '』', '>', '》', '〉'];

/// `key` without its bracketed parts: `指定希望日(予定)` → `指定希望日`. A key
/// that is only a bracketed part keeps its inside: `(住所)` → `住所`; so does a
/// key that starts with one: `(氏名)※法人の場合は…` → `氏名※法人の場合は…`.
pub(crate) fn base(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.first().is_some_and(|c| OPEN.contains(c)) {
        let close = close_of(&chars, 0);
        let unwrapped: String = chars
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 0 && i != close)
            .map(|(_, c)| *c)
            .collect();
        return strip_groups(&unwrapped);
    }
    strip_groups(key)
}

/// Index of the bracket closing the one at `open` (or `usize::MAX`).
fn close_of(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in chars.iter().enumerate().skip(open) {
        if OPEN.contains(c) {
            depth += 1;
        } else if CLOSE.contains(c) {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return i;
            }
        }
    }
    usize::MAX
}

pub(crate) fn strip_groups(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        if OPEN.contains(&c) {
            depth += 1;
        } else if CLOSE.contains(&c) {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            out.push(c);
        }
    }
    if out.is_empty() { s.to_owned() } else { out }
}

/// Characters that read as a hyphen between the parts of a postal code.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '－' | 'ー' | '−' | '‐' | '‑' | '‒' | '–' | '—' | '―' | 'ｰ'
    )
}

/// Splits `〒123-4567 東京都千代田区…` (or `〒 123 - 4567 …`, `1234567 …`) into the
/// postal code as written and the rest. The postal part is `None` when there is
/// none (a lone `〒` or a template `〒 —` included); when a `〒` is followed by
/// something that is not a postal code, that text is returned so that parsing it
/// reports the error.
pub(crate) fn split_postal(text: &str) -> (Option<String>, String) {
    let t = clean(text);
    let (marked, s) = match t.strip_prefix('〒') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t.as_str()),
    };
    let chars: Vec<char> = s.chars().collect();
    let digits_at = |from: usize| -> usize {
        chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let skip_spaces = |from: usize| -> usize {
        from + chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| **c == ' ')
            .count()
    };
    let rest_from = |at: usize| -> String {
        chars[at.min(chars.len())..]
            .iter()
            .collect::<String>()
            .trim_start_matches([' ', ',', '、'])
            .trim()
            .to_owned()
    };
    let head = digits_at(0);
    if head == 3 {
        let at = skip_spaces(3);
        if chars.get(at).copied().is_some_and(is_dash) {
            let tail_at = skip_spaces(at + 1);
            let tail = digits_at(tail_at);
            if tail == 4 {
                let postal: String = chars[..3]
                    .iter()
                    .chain(&chars[tail_at..tail_at + 4])
                    .collect();
                return (Some(postal), rest_from(tail_at + 4));
            }
        }
    }
    if head == 7 {
        return (Some(chars[..7].iter().collect()), rest_from(7));
    }
    if !marked {
        return (None, t.clone());
    }
    // After 〒: the run of digits, dashes and spaces is the (bad) postal code.
    let run = chars
        .iter()
        .take_while(|c| c.is_ascii_digit() || is_dash(**c) || **c == ' ')
        .count();
    let written: String = chars[..run].iter().collect::<String>().trim().to_owned();
    let rest = rest_from(run);
    if written.chars().any(|c| c.is_ascii_digit()) {
        (Some(written), rest)
    } else {
        (None, rest)
    }
}

/// Marks that select a kind when written next to it: `○医科`, `医科✓`, `■歯科`.
pub(crate) const MARKS: [char; 14] = [
    '○', '◯', '●', '◎', '■', '◆', '★', '✓', '✔', '☑', '☒', '✅', '〇', 'レ',
];
/// Separators and blanks that may stand between the kinds: `医科・歯科／薬局`.
const SEPARATORS: [char; 8] = ['・', '･', '/', ',', '、', '|', '□', '☐'];

/// The kinds named in a text and which of them are marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KindText {
    /// Every kind named, in order, without repeats.
    pub named: Vec<RequestKind>,
    /// Kinds with a mark (`○`, `✓`, …) right before or after them.
    pub marked: Vec<RequestKind>,
    /// Kinds standing inside brackets of their own: `(歯科)`.
    pub enclosed: Vec<RequestKind>,
    /// The text is nothing but kinds, marks, brackets and separators.
    pub only_kinds: bool,
}

impl KindText {
    /// Kinds selected by marks, or by brackets unless every kind named is
    /// bracketed alike (a printed `(医科)・(歯科)・(薬局)` marks nothing).
    pub fn selected(&self) -> Vec<RequestKind> {
        let mut out = self.marked.clone();
        let all_enclosed = self.named.len() > 1 && self.enclosed.len() == self.named.len();
        if !all_enclosed {
            for k in &self.enclosed {
                if !out.contains(k) {
                    out.push(*k);
                }
            }
        }
        out
    }
}

/// Reads the kinds in `text` (see [`KindText`]).
pub(crate) fn kind_text(text: &str) -> KindText {
    let chars: Vec<char> = key(text).chars().collect();
    let words = [
        ("医科", RequestKind::Medical),
        ("歯科", RequestKind::Dental),
        ("薬局", RequestKind::Pharmacy),
        ("調剤", RequestKind::Pharmacy),
    ];
    // (start, end, kind) of every kind word.
    let mut found: Vec<(usize, usize, RequestKind)> = Vec::new();
    let mut covered = vec![false; chars.len()];
    let mut i = 0;
    while i + 1 < chars.len() {
        let pair: String = chars[i..i + 2].iter().collect();
        if let Some((_, kind)) = words.iter().find(|(w, _)| *w == pair) {
            found.push((i, i + 2, *kind));
            covered[i] = true;
            covered[i + 1] = true;
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut out = KindText::default();
    let push = |v: &mut Vec<RequestKind>, k: RequestKind| {
        if !v.contains(&k) {
            v.push(k);
        }
    };
    for &(_, _, k) in &found {
        push(&mut out.named, k);
    }
    for (i, c) in chars.iter().enumerate() {
        if !MARKS.contains(c) || covered[i] {
            continue;
        }
        if let Some(&(_, _, k)) = found.iter().find(|&&(s, _, _)| s == i + 1) {
            push(&mut out.marked, k);
        } else if let Some(&(_, _, k)) = found.iter().find(|&&(_, e, _)| e == i) {
            push(&mut out.marked, k);
        }
    }
    for &(s, e, k) in &found {
        if s > 0
            && let (Some(open), Some(close)) = (chars.get(s - 1), chars.get(e))
            && OPEN
                .iter()
                .position(|o| o == open)
                .is_some_and(|p| CLOSE.get(p) == Some(close))
        {
            push(&mut out.enclosed, k);
        }
    }
    out.only_kinds = !found.is_empty()
        && chars.iter().enumerate().all(|(i, c)| {
            covered[i]
                || MARKS.contains(c)
                || SEPARATORS.contains(c)
                || OPEN.contains(c)
                || CLOSE.contains(c)
        });
    out
}

/// A kind written in a list cell: `医科`, `dental`, `調剤`, `1`/`3`/`4`, or a
/// marked choice `○医科・歯科・薬局`.
pub(crate) fn parse_kind(text: &str) -> Result<RequestKind, String> {
    let t = clean(text);
    if let Ok(k) = t.parse::<RequestKind>() {
        return Ok(k);
    }
    if let Ok(fee) = FeeSchedule::parse(&t) {
        match fee {
            FeeSchedule::Medical => return Ok(RequestKind::Medical),
            FeeSchedule::Dental => return Ok(RequestKind::Dental),
            FeeSchedule::Pharmacy => return Ok(RequestKind::Pharmacy),
            FeeSchedule::VisitingNursing => {}
        }
    }
    let kt = kind_text(&t);
    if kt.only_kinds {
        if kt.named.len() == 1 {
            return Ok(kt.named[0]);
        }
        let selected = kt.selected();
        if selected.len() == 1 {
            return Ok(selected[0]);
        }
    }
    Err(format!(
        "種別「{t}」を読み取れません。医科、歯科、薬局のいずれか1つを記入してください。"
    ))
}

/// Words that make an opener a 法人 (or another body, not a person).
const BODY_MARKERS: [&str; 22] = [
    "法人",
    "会社",
    "組合",
    "機構",
    "(株)",
    "(有)",
    "(医)",
    "(社)",
    "(財)",
    "(学)",
    "(福)",
    "(独)",
    "㈱",
    "㈲",
    "㈳",
    "㈶",
    "事業団",
    "協会",
    "共済会",
    "連合会",
    "大学",
    "病院組合",
];

/// Titles of a representative, longest first.
const TITLES: [&str; 28] = [
    "代表取締役社長",
    "代表取締役会長",
    "代表執行役社長",
    "代表取締役",
    "代表執行役",
    "代表理事長",
    "代表理事",
    "代表社員",
    "業務執行社員",
    "事業管理者",
    "病院事業管理者",
    "理事長",
    "代表者",
    "組合長",
    "管理者",
    "学長",
    "総長",
    "会長",
    "社長",
    "理事",
    "院長",
    "市長",
    "町長",
    "村長",
    "区長",
    "知事",
    "所長",
    "長官",
];

fn is_body(s: &str) -> bool {
    let k = key(s);
    BODY_MARKERS.iter().any(|m| k.contains(m))
        || ["市", "町", "村", "県", "都", "府", "区"]
            .iter()
            .any(|suffix| {
                // A local government: 「鳥取市」「日野郡江府町」 followed by a title.
                k.ends_with(suffix) && k.chars().count() <= 10
            })
}

/// Reads the 開設者 from its lines (one per row written): a person's name, or a
/// 法人 name with the representative's title and name (`医療法人社団オン資会 理事長
/// 資格 花子`, on one line or two).
pub(crate) fn parse_founder(lines: &[String]) -> Option<Founder> {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| clean(l))
        .filter(|l| !l.is_empty())
        .collect();
    let first = lines.first()?;
    let all = lines.join(" ");
    if lines.len() >= 2 && is_body(first) {
        let rest = lines[1..].join(" ");
        let (title, name) = split_title(&rest);
        return Some(Founder::Corporation {
            name: first.clone(),
            representative_title: title,
            representative_name: name,
        });
    }
    let tokens: Vec<&str> = all.split(' ').collect();
    // A title standing as a word after the body's name.
    for (i, t) in tokens.iter().enumerate().skip(1) {
        if let Some(title) = TITLES.iter().find(|title| t.starts_with(*title)) {
            let name = tokens[..i].join(" ");
            if !is_body(&name) {
                continue;
            }
            let mut rep = t[title.len()..].to_owned();
            for more in &tokens[i + 1..] {
                if !rep.is_empty() {
                    rep.push(' ');
                }
                rep.push_str(more);
            }
            return Some(Founder::Corporation {
                name,
                representative_title: Some((*title).to_owned()),
                representative_name: (!rep.is_empty()).then_some(rep),
            });
        }
    }
    if is_body(&all) {
        // A title glued to the body's name: 「医療法人オン資会理事長資格花子」.
        let marker_end = BODY_MARKERS
            .iter()
            .filter_map(|m| all.find(m).map(|at| at + m.len()))
            .min()
            .unwrap_or(0);
        for title in TITLES {
            if let Some(at) = all[marker_end..].find(title).map(|at| at + marker_end) {
                let name = all[..at].trim().to_owned();
                let rep = all[at + title.len()..].trim().to_owned();
                if name.is_empty() {
                    continue;
                }
                return Some(Founder::Corporation {
                    name,
                    representative_title: Some(title.to_owned()),
                    representative_name: (!rep.is_empty()).then_some(rep),
                });
            }
        }
        if BODY_MARKERS.iter().any(|m| key(&all).contains(m)) {
            return Some(Founder::Corporation {
                name: all,
                representative_title: None,
                representative_name: None,
            });
        }
    }
    Some(Founder::Person { name: all })
}

/// `理事長 資格 花子` → (`理事長`, `資格 花子`); no title → (None, all).
fn split_title(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim();
    for title in TITLES {
        if let Some(rest) = s.strip_prefix(title) {
            let rest = rest.trim();
            return (
                Some(title.to_owned()),
                (!rest.is_empty()).then(|| rest.to_owned()),
            );
        }
    }
    (None, (!s.is_empty()).then(|| s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_folds_width_and_whitespace() {
        assert_eq!(clean("　資格　花子\n"), "資格 花子");
        assert_eq!(
            clean("東京都千代田区霞が関１－２－２"),
            "東京都千代田区霞が関1-2-2"
        );
        assert_eq!(clean("オン資\r\nクリニック"), "オン資 クリニック");
    }

    #[test]
    fn base_drops_bracketed_parts_of_labels() {
        assert_eq!(base(&key("指定希望日（予定）")), "指定希望日");
        assert_eq!(base(&key("（住所）")), "住所");
        assert_eq!(base(&key("担当者の連絡先(電話番号)")), "担当者の連絡先");
        assert!(
            base(&key("(氏名)※法人の場合は、名称、代表者の職・氏名"))
                .starts_with("氏名※法人の場合")
        );
        assert_eq!(base("(予定)"), "予定");
    }

    #[test]
    fn postal_codes_are_split_from_addresses_in_every_common_spelling() {
        let ok = |t: &str| split_postal(t);
        let expected = (
            Some("1234567".to_owned()),
            "東京都千代田区霞が関1-2-2".to_owned(),
        );
        assert_eq!(ok("〒123-4567 東京都千代田区霞が関1-2-2").1, expected.1);
        assert_eq!(
            ok("〒 123 - 4567 東京都千代田区霞が関1-2-2").0.as_deref(),
            Some("1234567")
        );
        assert_eq!(
            ok("〒１２３－４５６７　東京都千代田区霞が関１－２－２"),
            (Some("1234567".into()), expected.1.clone())
        );
        assert_eq!(ok("1234567 東京都千代田区霞が関1-2-2"), expected);
        assert_eq!(
            ok("〒123ー4567東京都千代田区霞が関1-2-2").0.as_deref(),
            Some("1234567")
        );
        assert_eq!(ok("東京都千代田区霞が関1-2-2"), (None, expected.1.clone()));
        assert_eq!(ok("〒 —"), (None, String::new()));
        assert_eq!(
            ok("〒12-345 東京都"),
            (Some("12-345".into()), "東京都".into())
        );
    }

    #[test]
    fn kind_marks_select_the_word_they_touch() {
        let sel = |t: &str| kind_text(t).selected();
        assert_eq!(sel("○医科 ・ 歯科 ・ 薬局"), vec![RequestKind::Medical]);
        assert_eq!(sel("医科 ・ ◯歯科 ・ 薬局"), vec![RequestKind::Dental]);
        assert_eq!(sel("医科・歯科・薬局●"), vec![RequestKind::Pharmacy]);
        assert_eq!(sel("医科・（歯科）・薬局"), vec![RequestKind::Dental]);
        assert_eq!(sel("☐医科 ☑歯科 ☐薬局"), vec![RequestKind::Dental]);
        assert_eq!(sel("(医科)・(歯科)・(薬局)"), Vec::<RequestKind>::new());
        assert_eq!(sel("医科 ・ 歯科 ・ 薬局"), Vec::<RequestKind>::new());
        assert_eq!(
            sel("○医科・○歯科・薬局"),
            vec![RequestKind::Medical, RequestKind::Dental]
        );
        assert!(kind_text("医科・歯科・薬局").only_kinds);
        assert!(!kind_text("東京医科歯科大学病院").only_kinds);
    }

    #[test]
    fn list_kinds_accept_labels_ids_digits_and_marked_choices() {
        assert_eq!(parse_kind("歯科"), Ok(RequestKind::Dental));
        assert_eq!(parse_kind("pharmacy"), Ok(RequestKind::Pharmacy));
        assert_eq!(parse_kind("１"), Ok(RequestKind::Medical));
        assert_eq!(parse_kind("医科・◯歯科・薬局"), Ok(RequestKind::Dental));
        assert!(parse_kind("訪問看護").is_err());
        assert!(parse_kind("医科・歯科").is_err());
    }

    #[test]
    fn founders_are_people_or_bodies_with_representatives() {
        let f = |lines: &[&str]| {
            parse_founder(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            f(&["資格　花子"]),
            Some(Founder::Person {
                name: "資格 花子".into()
            })
        );
        let corp = Some(Founder::Corporation {
            name: "医療法人社団オン資会".into(),
            representative_title: Some("理事長".into()),
            representative_name: Some("資格 花子".into()),
        });
        assert_eq!(f(&["医療法人社団オン資会 理事長 資格 花子"]), corp);
        assert_eq!(f(&["医療法人社団オン資会", "理事長　資格　花子"]), corp);
        assert_eq!(f(&["医療法人社団オン資会 理事長資格 花子"]), corp);
        assert_eq!(
            f(&["医療法人社団オン資会理事長資格花子"]),
            Some(Founder::Corporation {
                name: "医療法人社団オン資会".into(),
                representative_title: Some("理事長".into()),
                representative_name: Some("資格花子".into()),
            })
        );
        assert_eq!(
            f(&["株式会社オン資薬局 代表取締役 資格 一郎"]),
            Some(Founder::Corporation {
                name: "株式会社オン資薬局".into(),
                representative_title: Some("代表取締役".into()),
                representative_name: Some("資格 一郎".into()),
            })
        );
        assert_eq!(
            f(&["鳥取市 市長 資格 三郎"]),
            Some(Founder::Corporation {
                name: "鳥取市".into(),
                representative_title: Some("市長".into()),
                representative_name: Some("資格 三郎".into()),
            })
        );
        assert_eq!(
            f(&["市川 太郎"]),
            Some(Founder::Person {
                name: "市川 太郎".into()
            })
        );
        assert_eq!(f(&["", " "]), None);
    }
}
