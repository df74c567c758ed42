//! Character-width normalisation (全角・半角): what every parser in this crate
//! runs first, so `１３`, `〒１２３－４５６７` and `０３ー１２３４ー５６７８` read like
//! their half-width forms.

/// Dash-like characters people type as a hyphen inside numbers:
/// － ‐ ‑ ‒ – — ― ー ｰ −.
pub(crate) const DASHES: [char; 10] = [
    '\u{FF0D}', // － FULLWIDTH HYPHEN-MINUS
    '\u{2010}', // ‐ HYPHEN
    '\u{2011}', // ‑ NON-BREAKING HYPHEN
    '\u{2012}', // ‒ FIGURE DASH
    '\u{2013}', // – EN DASH
    '\u{2014}', // — EM DASH
    '\u{2015}', // ― HORIZONTAL BAR
    '\u{30FC}', // ー KATAKANA-HIRAGANA PROLONGED SOUND MARK (長音記号)
    '\u{FF70}', // ｰ HALFWIDTH KATAKANA-HIRAGANA PROLONGED SOUND MARK
    '\u{2212}', // − MINUS SIGN
];

/// Whether `c` is `-` or one of the dash-like characters in [`DASHES`].
pub(crate) fn is_dash(c: char) -> bool {
    c == '-' || DASHES.contains(&c)
}

/// Maps 全角 ASCII (U+FF01 `！` – U+FF5E `～`) to half-width ASCII and the
/// ideographic space U+3000 to `' '`. Nothing else changes.
pub fn to_halfwidth_ascii(s: &str) -> String {
    s.chars().map(halfwidth_char).collect()
}

fn halfwidth_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// [`to_halfwidth_ascii`], then every dash-like character (－ ‐ ‑ ‒ – — ― ー ｰ −)
/// that stands between two digits becomes `-`, as in phone numbers and postal
/// codes (`０３ー１２３４` → `03-1234`). A dash anywhere else is kept, so words
/// such as `センター` are untouched.
pub fn normalize_width(s: &str) -> String {
    let chars: Vec<char> = s.chars().map(halfwidth_char).collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if between_digits && DASHES.contains(&c) {
            out.push('-');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halfwidth_maps_fullwidth_ascii_and_ideographic_space() {
        assert_eq!(to_halfwidth_ascii("ＡＢＣ　１２３！～"), "ABC 123!~");
        assert_eq!(
            to_halfwidth_ascii("（０３）１２３４－５６７８"),
            "(03)1234-5678"
        );
        assert_eq!(to_halfwidth_ascii("Ｒ６．４．１"), "R6.4.1");
    }

    #[test]
    fn halfwidth_leaves_japanese_and_long_vowel_marks_alone() {
        assert_eq!(to_halfwidth_ascii("令和６年"), "令和6年");
        assert_eq!(to_halfwidth_ascii("03ー1234"), "03ー1234");
        assert_eq!(to_halfwidth_ascii("ｶﾀｶﾅ"), "ｶﾀｶﾅ");
    }

    #[test]
    fn normalize_turns_every_dash_between_digits_into_a_hyphen() {
        for dash in DASHES {
            let input = format!("03{dash}1234{dash}5678");
            assert_eq!(normalize_width(&input), "03-1234-5678", "dash {dash:?}");
        }
        assert_eq!(normalize_width("〒１２３－４５６７"), "〒123-4567");
        assert_eq!(normalize_width("０３ー１２３４ー５６７８"), "03-1234-5678");
    }

    #[test]
    fn normalize_keeps_long_vowel_marks_in_words() {
        assert_eq!(normalize_width("センター"), "センター");
        assert_eq!(normalize_width("ー1"), "ー1");
        assert_eq!(normalize_width("1ー"), "1ー");
        assert_eq!(normalize_width("1ーA"), "1ーA");
        assert_eq!(normalize_width("コーポ２０１"), "コーポ201");
    }

    #[test]
    fn normalize_is_idempotent_on_plain_ascii() {
        assert_eq!(normalize_width("13-1-0110049"), "13-1-0110049");
        assert_eq!(normalize_width(""), "");
    }
}

/// The key a name is searched by (検索キー): NFKC (so ｸﾘﾆｯｸ becomes クリニック and
/// 全角 letters half-width), katakana folded to hiragana (クリニック = くりにっく),
/// ASCII lower-cased, and every space removed. Two names that staff would call "the
/// same" get the same key.
pub fn search_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            // カタカナ ァ..ヶ → ひらがな ぁ..ゖ
            '\u{30A1}'..='\u{30F6}' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
            _ => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod search_key_tests {
    use super::search_key;

    #[test]
    fn search_key_folds_width_kana_case_and_spaces() {
        let key = search_key("くりにっく");
        assert_eq!(search_key("ｸﾘﾆｯｸ"), key);
        assert_eq!(search_key("クリニック"), key);
        assert_eq!(search_key("ガーデン"), search_key("ｶﾞｰﾃﾞﾝ"));
        assert_eq!(search_key("さくら 薬局　新宿店"), "さくら薬局新宿店");
        assert_eq!(search_key("ＡＢＣ Clinic"), "abcclinic");
    }

    #[test]
    fn search_key_keeps_different_names_apart() {
        assert_ne!(search_key("さくら薬局"), search_key("さくら歯科"));
        assert_ne!(search_key("ガーデン"), search_key("カーテン"));
    }
}
