//! Small text helpers shared by the writers: how wide a text prints in a
//! spreadsheet column (全角 = 2), 全角 digits for the date row, and the
//! `[令和６年７月１日 現在]` line itself.

use chrono::NaiveDate;
use uketsuke_domain::format_wareki;

/// Columns a character takes in a spreadsheet cell, measured in the width of a
/// half-width digit: ASCII, Latin-1 and 半角カナ take 1; kanji, kana, 全角 forms
/// and the other symbols of Japanese fonts take 2.
pub fn char_width(c: char) -> usize {
    match c {
        '\u{0}'..='\u{FF}' | '\u{FF61}'..='\u{FF9F}' | '\u{FFE8}'..='\u{FFEE}' => 1,
        _ => 2,
    }
}

/// The width of the widest line of `s` (see [`char_width`]).
pub fn display_width(s: &str) -> usize {
    s.lines()
        .map(|line| line.chars().map(char_width).sum())
        .max()
        .unwrap_or(0)
}

/// `s` with its ASCII digits as 全角 digits (`令和6年7月1日` → `令和６年７月１日`),
/// as the bureaus' own system prints dates in headings.
pub fn fullwidth_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The date line under the title: `[令和６年７月１日 現在]`.
pub fn as_of_line(as_of: NaiveDate) -> String {
    format!("[{} 現在]", fullwidth_digits(&format_wareki(as_of)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanji_count_twice_and_ascii_once() {
        assert_eq!(display_width("0110750"), 7);
        assert_eq!(display_width("鳥取県"), 6);
        assert_eq!(display_width("ｶﾅ"), 2);
        assert_eq!(display_width("第１号"), 6);
        assert_eq!(display_width("short\nlonger line"), 11);
        assert_eq!(display_width(""), 0);
    }

    #[test]
    fn the_date_line_uses_fullwidth_digits_like_the_bureaus_lists() {
        let date = NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
        assert_eq!(as_of_line(date), "[令和６年７月１日 現在]");
        let gannen = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap();
        assert_eq!(as_of_line(gannen), "[令和元年５月１日 現在]");
    }
}
