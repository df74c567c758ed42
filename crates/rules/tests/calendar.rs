//! Behaviour of the bureau calendar: closed days, their reasons, the walking
//! functions and the configured extras.

use chrono::{Datelike, NaiveDate, Weekday};
use proptest::prelude::*;
use uketsuke_rules::Error;
use uketsuke_rules::calendar::{Calendar, CalendarConfig, ExtraClosedDay};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn calendar_with(extra_closed: &[(NaiveDate, &str)], extra_open: &[NaiveDate]) -> Calendar {
    Calendar::new(CalendarConfig {
        extra_closed: extra_closed
            .iter()
            .map(|&(date, reason)| ExtraClosedDay {
                date,
                reason: reason.to_owned(),
            })
            .collect(),
        extra_open: extra_open.to_vec(),
    })
    .unwrap()
}

#[test]
fn weekdays_that_are_not_holidays_are_open() {
    let cal = Calendar::default();
    assert!(cal.is_open(d(2024, 2, 13)));
    assert_eq!(cal.closed_reason(d(2024, 2, 13)), None);
}

#[test]
fn saturdays_and_sundays_are_closed_and_named() {
    let cal = Calendar::default();
    assert_eq!(cal.closed_reason(d(2024, 2, 10)).as_deref(), Some("土曜日"));
    assert_eq!(cal.closed_reason(d(2024, 2, 18)).as_deref(), Some("日曜日"));
}

#[test]
fn a_holiday_on_a_sunday_is_closed_for_the_holiday() {
    let cal = Calendar::default();
    assert_eq!(
        cal.closed_reason(d(2024, 2, 11)).as_deref(),
        Some("建国記念の日")
    );
    assert_eq!(
        cal.closed_reason(d(2024, 2, 12)).as_deref(),
        Some("振替休日")
    );
}

#[test]
fn year_end_break_closes_december_29_to_january_3() {
    let cal = Calendar::default();
    for day in [
        d(2024, 12, 30),
        d(2024, 12, 31),
        d(2025, 1, 2),
        d(2025, 1, 3),
    ] {
        assert_eq!(cal.closed_reason(day).as_deref(), Some("年末年始"), "{day}");
    }
    // 2025-01-01 is 元日: the holiday's name comes first.
    assert_eq!(cal.closed_reason(d(2025, 1, 1)).as_deref(), Some("元日"));
    // 2025-12-29 is a Monday: still closed.
    assert_eq!(
        cal.closed_reason(d(2025, 12, 29)).as_deref(),
        Some("年末年始")
    );
    assert!(cal.is_open(d(2024, 12, 27)));
    assert!(cal.is_open(d(2025, 1, 6)));
}

#[test]
fn extra_closed_day_gives_its_configured_reason_before_anything_else() {
    let cal = calendar_with(
        &[(d(2027, 2, 11), "臨時閉庁日"), (d(2027, 6, 1), "庁舎停電")],
        &[],
    );
    assert_eq!(
        cal.closed_reason(d(2027, 6, 1)).as_deref(),
        Some("庁舎停電")
    );
    assert_eq!(
        cal.closed_reason(d(2027, 2, 11)).as_deref(),
        Some("臨時閉庁日")
    );
}

#[test]
fn extra_open_day_wins_over_weekends_holidays_and_year_end() {
    let cal = calendar_with(&[], &[d(2024, 12, 28), d(2024, 12, 30), d(2024, 2, 12)]);
    assert!(cal.is_open(d(2024, 12, 28)));
    assert!(cal.is_open(d(2024, 12, 30)));
    assert!(cal.is_open(d(2024, 2, 12)));
    assert_eq!(cal.next_open_on_or_after(d(2024, 2, 10)), d(2024, 2, 12));
}

#[test]
fn calendar_config_reads_from_json_with_defaults_and_rejects_unknown_fields() {
    let cfg: CalendarConfig =
        serde_json::from_str(r#"{"extra_closed": [{"date": "2027-06-01", "reason": "庁舎停電"}]}"#)
            .unwrap();
    assert_eq!(cfg.extra_open, Vec::<NaiveDate>::new());
    assert_eq!(cfg.extra_closed[0].date, d(2027, 6, 1));
    let empty: CalendarConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, CalendarConfig::default());
    assert!(serde_json::from_str::<CalendarConfig>(r#"{"extra_closd": []}"#).is_err());
    assert!(
        serde_json::from_str::<CalendarConfig>(
            r#"{"extra_closed": [{"date": "2027-06-01", "reason": "x", "note": "y"}]}"#
        )
        .is_err()
    );
}

#[test]
fn a_configured_date_that_is_not_text_or_not_a_date_says_how_to_write_it() {
    let err = serde_json::from_str::<CalendarConfig>(r#"{"extra_open": [20270601]}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a date written 2024-04-01"),
        "{err}"
    );
    let err =
        serde_json::from_str::<CalendarConfig>(r#"{"extra_open": ["2027/06/01"]}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("日付「2027/06/01」が読めません。2024-04-01 の形で書いてください。"),
        "{err}"
    );
}

#[test]
fn calendar_refuses_a_day_both_closed_and_open() {
    let err = Calendar::new(CalendarConfig {
        extra_closed: vec![ExtraClosedDay {
            date: d(2027, 6, 1),
            reason: "庁舎停電".into(),
        }],
        extra_open: vec![d(2027, 6, 1)],
    })
    .unwrap_err();
    assert_eq!(
        err,
        Error::OpenAndClosed {
            date: d(2027, 6, 1)
        }
    );
    assert!(err.to_string().contains("両方"));
}

#[test]
fn calendar_refuses_a_closed_day_without_reason_or_listed_twice() {
    let closed = |reason: &str| ExtraClosedDay {
        date: d(2027, 6, 1),
        reason: reason.into(),
    };
    let blank = Calendar::new(CalendarConfig {
        extra_closed: vec![closed("  ")],
        extra_open: vec![],
    });
    assert_eq!(
        blank,
        Err(Error::EmptyClosedReason {
            date: d(2027, 6, 1)
        })
    );
    let twice = Calendar::new(CalendarConfig {
        extra_closed: vec![closed("a"), closed("b")],
        extra_open: vec![],
    });
    assert_eq!(
        twice,
        Err(Error::DuplicateClosedDay {
            date: d(2027, 6, 1)
        })
    );
}

#[test]
fn next_open_day_skips_weekend_and_substitute_holiday() {
    let cal = Calendar::default();
    assert_eq!(cal.next_open_on_or_after(d(2024, 2, 10)), d(2024, 2, 13));
    assert_eq!(cal.next_open_on_or_after(d(2024, 2, 13)), d(2024, 2, 13));
}

#[test]
fn next_open_day_skips_golden_week() {
    let cal = Calendar::default();
    // 2025: 5-3 Sat 憲法記念日, 5-4 Sun みどりの日, 5-5 Mon こどもの日, 5-6 振替休日.
    assert_eq!(cal.next_open_on_or_after(d(2025, 5, 3)), d(2025, 5, 7));
}

#[test]
fn previous_open_day_moves_back_over_the_year_end_break() {
    let cal = Calendar::default();
    assert_eq!(
        cal.previous_open_on_or_before(d(2025, 1, 1)),
        d(2024, 12, 27)
    );
    assert_eq!(
        cal.previous_open_on_or_before(d(2024, 12, 27)),
        d(2024, 12, 27)
    );
}

#[test]
fn first_open_day_of_january_is_after_the_new_year_break() {
    let cal = Calendar::default();
    assert_eq!(cal.first_open_day_of_month(2025, 1), Ok(d(2025, 1, 6)));
    assert_eq!(cal.first_open_day_of_month(2024, 4), Ok(d(2024, 4, 1)));
    assert_eq!(
        cal.first_open_day_of_month(2024, 13),
        Err(Error::InvalidYearMonth {
            year: 2024,
            month: 13
        })
    );
}

#[test]
fn open_days_between_counts_the_days_after_from_up_to_and_including_to() {
    let cal = Calendar::default();
    // (2024-02-09 Fri, 2024-02-13 Tue]: 10 Sat, 11 Sun, 12 振替休日, 13 open.
    assert_eq!(cal.open_days_between(d(2024, 2, 9), d(2024, 2, 13)), 1);
    assert_eq!(cal.open_days_between(d(2024, 2, 13), d(2024, 2, 13)), 0);
    // A full ordinary week.
    assert_eq!(cal.open_days_between(d(2024, 3, 3), d(2024, 3, 10)), 5);
    // Reversed: negative.
    assert_eq!(cal.open_days_between(d(2024, 3, 10), d(2024, 3, 3)), -5);
}

#[test]
fn add_open_days_steps_over_closed_days() {
    let cal = Calendar::default();
    assert_eq!(cal.add_open_days(d(2024, 2, 9), 1), d(2024, 2, 13));
    assert_eq!(cal.add_open_days(d(2024, 2, 9), 0), d(2024, 2, 9));
    assert_eq!(cal.add_open_days(d(2024, 12, 26), 2), d(2025, 1, 6));
}

#[test]
fn closed_days_lists_each_closed_day_with_its_reason() {
    let cal = Calendar::default();
    let got = cal.closed_days(d(2024, 2, 9), d(2024, 2, 13));
    assert_eq!(
        got,
        vec![
            (d(2024, 2, 10), "土曜日".to_owned()),
            (d(2024, 2, 11), "建国記念の日".to_owned()),
            (d(2024, 2, 12), "振替休日".to_owned()),
        ]
    );
    assert!(cal.closed_days(d(2024, 2, 13), d(2024, 2, 9)).is_empty());
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0i64..365 * 80).prop_map(|n| d(1980, 1, 1) + chrono::Days::new(n as u64))
}

fn any_calendar() -> impl Strategy<Value = Calendar> {
    (
        prop::collection::btree_set(any_date(), 0..20),
        prop::collection::btree_set(any_date(), 0..20),
    )
        .prop_map(|(closed, open)| {
            let closed: Vec<_> = closed
                .difference(&open)
                .map(|&c| (c, "臨時閉庁日"))
                .collect();
            let open: Vec<_> = open.into_iter().collect();
            calendar_with(&closed, &open)
        })
}

proptest! {
    #[test]
    fn next_open_day_is_open_not_before_input_and_skips_no_open_day(
        cal in any_calendar(), day in any_date()
    ) {
        let next = cal.next_open_on_or_after(day);
        prop_assert!(next >= day);
        prop_assert!(cal.is_open(next));
        prop_assert!(day.iter_days().take_while(|&x| x < next).all(|x| !cal.is_open(x)));
    }

    #[test]
    fn previous_open_day_is_open_not_after_input_and_skips_no_open_day(
        cal in any_calendar(), day in any_date()
    ) {
        let previous = cal.previous_open_on_or_before(day);
        prop_assert!(previous <= day);
        prop_assert!(cal.is_open(previous));
        prop_assert!(previous.iter_days().skip(1).take_while(|&x| x <= day).all(|x| !cal.is_open(x)));
    }

    #[test]
    fn add_open_days_lands_on_an_open_day_exactly_n_open_days_later(
        cal in any_calendar(), day in any_date(), n in 0u32..40
    ) {
        let later = cal.add_open_days(day, n);
        prop_assert_eq!(cal.open_days_between(day, later), i64::from(n));
        if n > 0 {
            prop_assert!(cal.is_open(later));
        }
    }

    #[test]
    fn open_and_closed_days_partition_every_range(
        cal in any_calendar(), from in any_date(), len in 0u64..60
    ) {
        let to = from + chrono::Days::new(len);
        let closed_after_from = cal
            .closed_days(from, to)
            .iter()
            .filter(|(x, _)| *x > from)
            .count() as i64;
        prop_assert_eq!(cal.open_days_between(from, to) + closed_after_from, len as i64);
        prop_assert_eq!(cal.open_days_between(to, from), -cal.open_days_between(from, to));
    }

    #[test]
    fn weekends_are_closed_unless_configured_open(day in any_date()) {
        let cal = Calendar::default();
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            prop_assert!(!cal.is_open(day));
        }
    }
}

#[test]
fn calendar_config_reads_from_toml_with_bare_or_quoted_dates() {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    let cfg: CalendarConfig = Figment::from(Toml::string(
        r#"
        extra_open = [2027-12-28, "2027-12-29"]
        [[extra_closed]]
        date = 2027-06-01
        reason = "庁舎停電"
        "#,
    ))
    .extract()
    .unwrap();
    assert_eq!(cfg.extra_open, vec![d(2027, 12, 28), d(2027, 12, 29)]);
    assert_eq!(
        cfg.extra_closed,
        vec![ExtraClosedDay {
            date: d(2027, 6, 1),
            reason: "庁舎停電".into()
        }]
    );
    let cal = Calendar::new(cfg).unwrap();
    assert!(cal.is_open(d(2027, 12, 29)));
}

#[test]
fn calendar_deserialises_from_its_configuration_and_refuses_a_contradiction() {
    let cal: Calendar =
        serde_json::from_str(r#"{"extra_closed": [{"date": "2027-06-01", "reason": "庁舎停電"}]}"#)
            .unwrap();
    assert_eq!(
        cal.closed_reason(d(2027, 6, 1)).as_deref(),
        Some("庁舎停電")
    );
    let err = serde_json::from_str::<Calendar>(
        r#"{"extra_closed": [{"date": "2027-06-01", "reason": "x"}], "extra_open": ["2027-06-01"]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("両方"), "{err}");
}
