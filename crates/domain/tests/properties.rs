//! Property tests: the 検証番号 catches the errors it is meant to catch, and
//! every date format round-trips.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use uketsuke_domain::{
    CheckRule, Error, FeeSchedule, InstitutionCode, Prefecture, format_wareki, format_wareki_short,
    format_wareki_with_seireki, from_excel_serial, parse_date, to_excel_serial,
};

fn code_parts() -> impl Strategy<Value = (Prefecture, FeeSchedule, u8, u16)> {
    (
        1u8..=47,
        prop::sample::select(FeeSchedule::ALL.to_vec()),
        0u8..=99,
        0u16..=9999,
    )
        .prop_map(|(p, f, d, s)| (Prefecture::from_code(p).expect("1..=47"), f, d, s))
}

/// A mutated code must fail with a check-digit error, except that a 医科 code
/// may pass under the other of the two 9-digit rules (plain / 医科歯科併設).
fn assert_caught(original: &InstitutionCode, mutated: &str) -> Result<(), TestCaseError> {
    match InstitutionCode::parse(mutated) {
        Err(Error::CheckDigit { .. }) => Ok(()),
        Ok(accepted) => {
            prop_assert_eq!(
                original.fee_schedule(),
                FeeSchedule::Medical,
                "{} accepted as {}",
                mutated,
                original
            );
            let other_rule = if original.rule() == CheckRule::CombinedDental {
                CheckRule::NineDigit
            } else {
                CheckRule::CombinedDental
            };
            prop_assert_eq!(
                original.rule() != CheckRule::SixDigit,
                true,
                "{} accepted",
                mutated
            );
            prop_assert_eq!(accepted.rule(), other_rule, "{} accepted", mutated);
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "{mutated}: unexpected {other:?}"
        ))),
    }
}

fn substitutions(code: &str) -> Vec<String> {
    let digits: Vec<u8> = code.bytes().collect();
    let mut out = Vec::new();
    // Positions 3..10 are the 7-digit 医療機関コード, check digit included.
    for pos in 3..10 {
        for v in b'0'..=b'9' {
            if v != digits[pos] {
                let mut m = digits.clone();
                m[pos] = v;
                out.push(String::from_utf8(m).expect("ascii"));
            }
        }
    }
    out
}

fn transpositions(code: &str) -> Vec<String> {
    let digits: Vec<u8> = code.bytes().collect();
    let mut out = Vec::new();
    for pos in 3..9 {
        let (a, b) = (digits[pos], digits[pos + 1]);
        let zero_nine = (a == b'0' && b == b'9') || (a == b'9' && b == b'0');
        if a != b && !zero_nine {
            let mut m = digits.clone();
            m.swap(pos, pos + 1);
            out.push(String::from_utf8(m).expect("ascii"));
        }
    }
    out
}

fn dates() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1873, 1, 1).expect("date");
    let last = NaiveDate::from_ymd_opt(2100, 12, 31).expect("date");
    let span = u64::try_from((last - first).num_days()).expect("positive");
    (0..=span).prop_map(move |n| first + Days::new(n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn built_codes_parse_back_to_themselves((p, f, d, s) in code_parts(), combined in any::<bool>()) {
        prop_assume!(!combined || matches!(f, FeeSchedule::Medical | FeeSchedule::Dental));
        let code = InstitutionCode::build(p, f, d, s, combined)?;
        let parsed = InstitutionCode::parse(code.as_str())?;
        prop_assert_eq!(&parsed, &code);
        prop_assert_eq!((parsed.prefecture(), parsed.fee_schedule(), parsed.district(), parsed.serial()), (p, f, d, s));
        let expected_rule = if p.uses_six_digit_check() {
            CheckRule::SixDigit
        } else if combined && f == FeeSchedule::Medical {
            CheckRule::CombinedDental
        } else {
            CheckRule::NineDigit
        };
        prop_assert_eq!(parsed.rule(), expected_rule);
        let rebuilt = InstitutionCode::from_parts(p, f, &code.medical_code())?;
        prop_assert_eq!(rebuilt, code);
    }

    #[test]
    fn check_digit_rejects_every_single_digit_substitution((p, f, d, s) in code_parts()) {
        let code = InstitutionCode::build(p, f, d, s, false)?;
        for mutated in substitutions(code.as_str()) {
            assert_caught(&code, &mutated)?;
        }
    }

    #[test]
    fn check_digit_rejects_every_adjacent_transposition_except_zero_nine((p, f, d, s) in code_parts()) {
        let code = InstitutionCode::build(p, f, d, s, false)?;
        for mutated in transpositions(code.as_str()) {
            assert_caught(&code, &mutated)?;
        }
    }

    #[test]
    fn combined_dental_codes_catch_substitutions_and_transpositions(
        (p, d, s) in (1u8..=47, 0u8..=99, 0u16..=9999)
    ) {
        let p = Prefecture::from_code(p)?;
        let code = InstitutionCode::build(p, FeeSchedule::Medical, d, s, true)?;
        for mutated in substitutions(code.as_str()).into_iter().chain(transpositions(code.as_str())) {
            assert_caught(&code, &mutated)?;
        }
    }

    #[test]
    fn fullwidth_and_separated_codes_parse_like_plain_ones((p, f, d, s) in code_parts()) {
        let code = InstitutionCode::build(p, f, d, s, false)?;
        let digits = code.as_str();
        let fullwidth: String = digits
            .chars()
            .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
            .collect();
        let separated = format!("{}-{}-{}", &digits[..2], &digits[2..3], &digits[3..]);
        prop_assert_eq!(InstitutionCode::parse(&fullwidth)?, code.clone());
        prop_assert_eq!(InstitutionCode::parse(&separated)?, code);
    }

    #[test]
    fn format_wareki_round_trips(date in dates()) {
        prop_assert_eq!(parse_date(&format_wareki(date))?, date);
    }

    #[test]
    fn format_wareki_short_round_trips(date in dates()) {
        prop_assert_eq!(parse_date(&format_wareki_short(date))?, date);
    }

    #[test]
    fn format_wareki_with_seireki_shows_both_calendars(date in dates()) {
        let text = format_wareki_with_seireki(date);
        let (wareki, rest) = text.split_once('（').expect("opening paren");
        let seireki = rest.strip_suffix('）').expect("closing paren");
        prop_assert_eq!(parse_date(wareki)?, date);
        prop_assert_eq!(parse_date(seireki)?, date);
    }

    #[test]
    fn excel_serials_round_trip(serial in 1u32..=2_958_465) {
        prop_assume!(serial != 60);
        let date = from_excel_serial(f64::from(serial))?;
        prop_assert_eq!(to_excel_serial(date)?, serial);
        prop_assert_eq!(parse_date(&serial.to_string())?, date);
        prop_assert_eq!(from_excel_serial(f64::from(serial) + 0.5)?, date);
    }
}
