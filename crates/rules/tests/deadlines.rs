//! 提出期限, 回答期限 and 実施機関への提出期限 per bureau.

use chrono::{Datelike, NaiveDate};
use figment::Figment;
use figment::providers::{Format, Toml};
use proptest::prelude::*;
use uketsuke_domain::Bureau;
use uketsuke_rules::Error;
use uketsuke_rules::calendar::{Calendar, CalendarConfig, ExtraClosedDay};
use uketsuke_rules::deadlines::{
    AnswerDue, DeadlineConfig, Deadlines, SubmissionRule, answer_due, deadlines,
    default_deadline_config, default_deadline_config_for_id, implementing_body_due,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn kanto_shinetsu_designation_2024_04_01_gives_the_published_dates() {
    let cal = Calendar::default();
    let cfg = default_deadline_config(Bureau::KantoShinetsu);
    let got = deadlines(&cal, &cfg, d(2024, 4, 1));
    assert_eq!(
        got,
        Deadlines {
            designation: d(2024, 4, 1),
            submission_deadline: d(2024, 2, 1),
            answer_due: d(2024, 2, 13),
            implementing_body_due: d(2024, 2, 15),
        }
    );
}

#[test]
fn answer_due_moves_to_next_open_day_after_substitute_holiday() {
    // 2024-02-10 Sat, 2-11 Sun (建国記念の日), 2-12 振替休日.
    assert_eq!(
        answer_due(&Calendar::default(), d(2024, 4, 1)),
        d(2024, 2, 13)
    );
}

#[test]
fn answer_due_stays_on_the_tenth_when_open() {
    // 2025-01-10 is a Friday.
    assert_eq!(
        answer_due(&Calendar::default(), d(2025, 3, 1)),
        d(2025, 1, 10)
    );
}

#[test]
fn answer_due_follows_an_extra_closed_day_of_the_bureau() {
    let cal = Calendar::new(CalendarConfig {
        extra_closed: vec![ExtraClosedDay {
            date: d(2025, 1, 10),
            reason: "臨時閉庁日".into(),
        }],
        extra_open: vec![],
    })
    .unwrap();
    assert_eq!(answer_due(&cal, d(2025, 3, 1)), d(2025, 1, 14));
}

#[test]
fn tokai_hokuriku_submission_deadline_moves_back_over_new_year() {
    let cfg = default_deadline_config(Bureau::TokaiHokuriku);
    assert_eq!(
        cfg.rule,
        SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore
    );
    let got = deadlines(&Calendar::default(), &cfg, d(2025, 3, 1));
    assert_eq!(got.submission_deadline, d(2024, 12, 27));
}

#[test]
fn shikoku_submission_deadline_is_the_first_open_day_after_new_year() {
    let cfg = default_deadline_config(Bureau::Shikoku);
    assert_eq!(cfg.rule, SubmissionRule::FirstOpenDayOfMonthTwoBefore);
    let got = deadlines(&Calendar::default(), &cfg, d(2025, 3, 1));
    assert_eq!(got.submission_deadline, d(2025, 1, 6));
}

#[test]
fn bureaus_without_a_published_rule_default_to_the_previous_open_day_rule() {
    for bureau in Bureau::ALL {
        let expected = if bureau == Bureau::Shikoku {
            SubmissionRule::FirstOpenDayOfMonthTwoBefore
        } else {
            SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore
        };
        assert_eq!(
            default_deadline_config(bureau).rule,
            expected,
            "{}",
            bureau.id()
        );
        assert!(default_deadline_config(bureau).table.is_empty());
        assert_eq!(
            default_deadline_config_for_id(bureau.id()),
            Ok(default_deadline_config(bureau))
        );
    }
}

#[test]
fn unknown_bureau_id_is_refused() {
    assert_eq!(
        default_deadline_config_for_id("kanto"),
        Err(Error::UnknownBureau("kanto".into()))
    );
}

#[test]
fn table_entry_overrides_the_rule() {
    let mut cfg = default_deadline_config(Bureau::KantoShinetsu);
    cfg.table.insert(d(2025, 3, 1), d(2025, 1, 8));
    let got = deadlines(&Calendar::default(), &cfg, d(2025, 3, 1));
    assert_eq!(got.submission_deadline, d(2025, 1, 8));
    // Other designation dates still follow the rule.
    let other = deadlines(&Calendar::default(), &cfg, d(2025, 4, 1));
    assert_eq!(other.submission_deadline, d(2025, 1, 31));
}

#[test]
fn table_entry_for_the_first_applies_to_a_mid_month_designation() {
    let mut cfg = DeadlineConfig::default();
    cfg.table.insert(d(2025, 3, 1), d(2025, 1, 8));
    let got = deadlines(&Calendar::default(), &cfg, d(2025, 3, 15));
    assert_eq!(got.submission_deadline, d(2025, 1, 8));
}

#[test]
fn implementing_body_due_is_the_fifteenth_even_on_a_closed_day() {
    // 2025-06-15 is a Sunday: not moved.
    assert_eq!(implementing_body_due(d(2025, 8, 1)), d(2025, 6, 15));
    // Crossing a year.
    assert_eq!(implementing_body_due(d(2025, 1, 1)), d(2024, 11, 15));
}

#[test]
fn deadlines_serialise_with_iso_dates() {
    let got = deadlines(
        &Calendar::default(),
        &default_deadline_config(Bureau::KantoShinetsu),
        d(2024, 4, 1),
    );
    assert_eq!(
        serde_json::to_value(got).unwrap(),
        serde_json::json!({
            "designation": "2024-04-01",
            "submission_deadline": "2024-02-01",
            "answer_due": "2024-02-13",
            "implementing_body_due": "2024-02-15",
        })
    );
}

#[test]
fn deadline_config_reads_from_toml_with_the_table_keyed_by_date_strings() {
    let cfg: DeadlineConfig = Figment::from(Toml::string(
        r#"
        rule = "first-open-day-of-month-two-before"
        [table]
        "2024-04-01" = "2024-02-01"
        "2024-05-01" = "2024-03-01"
        "#,
    ))
    .extract()
    .unwrap();
    assert_eq!(cfg.rule, SubmissionRule::FirstOpenDayOfMonthTwoBefore);
    assert_eq!(cfg.table.get(&d(2024, 5, 1)), Some(&d(2024, 3, 1)));
}

#[test]
fn deadline_config_defaults_to_the_previous_open_day_rule_and_an_empty_table() {
    let cfg: DeadlineConfig = Figment::from(Toml::string("")).extract().unwrap();
    assert_eq!(cfg, DeadlineConfig::default());
    assert_eq!(
        cfg.rule,
        SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore
    );
}

#[test]
fn deadline_config_rejects_unknown_fields_and_rules() {
    let misspelt = Figment::from(Toml::string(
        r#"rules = "first-open-day-of-month-two-before""#,
    ))
    .extract::<DeadlineConfig>();
    assert!(misspelt.is_err());
    let unknown_rule =
        Figment::from(Toml::string(r#"rule = "last-open-day""#)).extract::<DeadlineConfig>();
    assert!(unknown_rule.is_err());
}

#[test]
fn deadline_config_rejects_a_deadline_not_before_its_designation() {
    let err = serde_json::from_str::<DeadlineConfig>(r#"{"table": {"2024-04-01": "2024-04-01"}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("指定日より前"), "{err}");
}

#[test]
fn answer_due_override_needs_a_reason() {
    let due = AnswerDue::computed(&Calendar::default(), d(2024, 4, 1));
    assert_eq!(due.effective(), d(2024, 2, 13));
    assert_eq!(
        due.clone().with_override(d(2024, 2, 14), "  "),
        Err(Error::EmptyOverrideReason)
    );
    let moved = due
        .with_override(d(2024, 2, 9), "審査体制のため前倒し")
        .unwrap();
    assert_eq!(moved.effective(), d(2024, 2, 9));
    assert_eq!(
        moved.overridden.as_ref().unwrap().reason,
        "審査体制のため前倒し"
    );
    assert!(moved.warnings(&Calendar::default()).is_empty());
}

#[test]
fn answer_due_override_on_a_closed_later_day_warns() {
    let due = AnswerDue::computed(&Calendar::default(), d(2024, 4, 1))
        .with_override(d(2024, 2, 17), "担当者不在")
        .unwrap();
    let warnings = due.warnings(&Calendar::default());
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("令和6年2月17日") && warnings[0].contains("土曜日"));
    assert!(warnings[1].contains("令和6年2月13日"));
}

#[test]
fn an_override_on_the_computed_open_day_itself_does_not_warn() {
    let cal = Calendar::default();
    let due = AnswerDue::computed(&cal, d(2024, 4, 1));
    assert_eq!(due.computed, d(2024, 2, 13));
    let same = due.with_override(d(2024, 2, 13), "確認のため").unwrap();
    assert_eq!(same.warnings(&cal), Vec::<String>::new());
    let later = same.with_override(d(2024, 2, 14), "確認のため").unwrap();
    assert_eq!(later.warnings(&cal).len(), 1, "one day later is later");
}

fn any_designation() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2050, 1u32..=12, 1u32..=28).prop_map(|(y, m, day)| d(y, m, day))
}

proptest! {
    #[test]
    fn every_deadline_falls_in_the_month_two_before_or_just_before_it(
        designation in any_designation()
    ) {
        let cal = Calendar::default();
        let months = designation.year() * 12 + designation.month0() as i32 - 2;
        let month_two_before = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
        for rule in [
            SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore,
            SubmissionRule::FirstOpenDayOfMonthTwoBefore,
        ] {
            let got = deadlines(&cal, &DeadlineConfig::with_rule(rule), designation);
            prop_assert!(cal.is_open(got.submission_deadline));
            prop_assert!(cal.is_open(got.answer_due));
            prop_assert!(got.submission_deadline < got.answer_due);
            prop_assert!(got.answer_due < designation);
            prop_assert_eq!(
                (got.implementing_body_due.year(), got.implementing_body_due.month()),
                month_two_before
            );
            prop_assert_eq!(got.implementing_body_due.day(), 15);
            prop_assert!(got.submission_deadline <= d(month_two_before.0, month_two_before.1, 10));
        }
    }
}

#[test]
fn deadline_config_accepts_bare_toml_dates_as_values() {
    let cfg: DeadlineConfig = Figment::from(Toml::string("[table]\n\"2024-04-01\" = 2024-02-01\n"))
        .extract()
        .unwrap();
    assert_eq!(cfg.table.get(&d(2024, 4, 1)), Some(&d(2024, 2, 1)));
}

#[test]
fn deadline_config_explains_an_unreadable_date_in_japanese() {
    let err = Figment::from(Toml::string("[table]\n\"2024-04-01\" = \"R6.2.1\"\n"))
        .extract::<DeadlineConfig>()
        .unwrap_err();
    assert!(err.to_string().contains("2024-04-01 の形で"), "{err}");
}

#[test]
fn each_submission_rule_has_its_wording_and_the_basis_says_whether_it_is_published() {
    assert_eq!(
        SubmissionRule::PreviousOpenDayFromFirstOfMonthTwoBefore.label(),
        "指定月の前々月1日（閉庁日の場合は前の開庁日）まで"
    );
    assert_eq!(
        SubmissionRule::FirstOpenDayOfMonthTwoBefore.label(),
        "指定月の前々月の最初の開庁日まで"
    );
    let assumed = DeadlineConfig::with_rule(SubmissionRule::FirstOpenDayOfMonthTwoBefore);
    assert_eq!(
        assumed.basis(),
        "想定（局の公表がないため、指定月の前々月の最初の開庁日までとして計算しています）"
    );
    let published = DeadlineConfig {
        published: Some("前々月の1日まで".into()),
        ..DeadlineConfig::default()
    };
    assert_eq!(published.basis(), "局の公表:「前々月の1日まで」");
}

#[test]
fn a_published_wording_is_kept_and_a_blank_one_is_none() {
    let read = |toml: &str| -> DeadlineConfig {
        serde_json::from_value(
            Figment::from(Toml::string(toml))
                .extract::<serde_json::Value>()
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        read("published = \"前々月の1日まで\"").published.as_deref(),
        Some("前々月の1日まで")
    );
    assert_eq!(read("published = \"  \"").published, None);
    assert_eq!(read("").published, None);
}

#[test]
fn the_schedule_of_a_year_has_its_twelve_designation_dates_and_refuses_other_years() {
    let cal = Calendar::default();
    let rows = uketsuke_rules::deadlines::schedule(&cal, &DeadlineConfig::default(), 2024).unwrap();
    assert_eq!(rows.len(), 12);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.designation,
            NaiveDate::from_ymd_opt(2024, i as u32 + 1, 1).unwrap()
        );
        assert_eq!(
            row,
            &deadlines(&cal, &DeadlineConfig::default(), row.designation)
        );
    }
    assert_eq!(
        rows[3].answer_due,
        NaiveDate::from_ymd_opt(2024, 2, 13).unwrap()
    );
    for year in [2023, 2100] {
        assert!(matches!(
            uketsuke_rules::deadlines::schedule(&cal, &DeadlineConfig::default(), year),
            Err(Error::ScheduleYearOutOfRange { .. })
        ));
    }
    assert_eq!(
        uketsuke_rules::deadlines::schedule(&cal, &DeadlineConfig::default(), 2099)
            .unwrap()
            .len(),
        12
    );
}
