//! Which requests are answered and which are returned (返戻), and why.

use chrono::NaiveDate;
use figment::Figment;
use figment::providers::{Format, Toml};
use proptest::prelude::*;
use uketsuke_domain::{Bureau, RequestKind};
use uketsuke_rules::calendar::Calendar;
use uketsuke_rules::deadlines::{Deadlines, deadlines, default_deadline_config};
use uketsuke_rules::eligibility::{
    Assessment, Decision, EligibilityPolicy, RequestFacts, assess, earliest_acceptable,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// 関東信越, designation 2024-04-01: submission deadline 2024-02-01.
fn dates_for(designation: NaiveDate) -> Deadlines {
    deadlines(
        &Calendar::default(),
        &default_deadline_config(Bureau::KantoShinetsu),
        designation,
    )
}

fn facts(received: NaiveDate) -> RequestFacts {
    RequestFacts {
        kinds: vec![RequestKind::Medical],
        designation: d(2024, 4, 1),
        received,
        retroactive: false,
        duplicate_of: None,
    }
}

fn run(facts: &RequestFacts) -> Assessment {
    assess(
        facts,
        &dates_for(facts.designation),
        &EligibilityPolicy::default(),
    )
}

#[test]
fn a_request_in_time_with_one_kind_is_accepted() {
    let got = run(&facts(d(2024, 1, 15)));
    assert_eq!(
        got,
        Assessment {
            eligible: true,
            decision: Decision::Accept,
            reasons: vec![],
            warnings: vec![],
        }
    );
}

#[test]
fn a_request_received_on_the_deadline_is_in_time() {
    assert!(run(&facts(d(2024, 2, 1))).eligible);
}

#[test]
fn a_form_with_no_kind_marked_is_returned() {
    let mut f = facts(d(2024, 1, 15));
    f.kinds.clear();
    let got = run(&f);
    assert_eq!(got.decision, Decision::Return);
    assert!(!got.eligible);
    assert!(
        got.reasons[0].contains("選択されていません"),
        "{:?}",
        got.reasons
    );
}

#[test]
fn a_form_with_medical_and_dental_marked_is_returned_asking_for_two_forms() {
    let mut f = facts(d(2024, 1, 15));
    f.kinds = vec![RequestKind::Dental, RequestKind::Medical];
    let got = run(&f);
    assert_eq!(got.decision, Decision::Return);
    assert_eq!(got.reasons.len(), 1);
    assert!(
        got.reasons[0].contains("（医科・歯科）"),
        "{}",
        got.reasons[0]
    );
    assert!(
        got.reasons[0]
            .contains("医科と歯科を併設する場合は、医科・歯科それぞれ別の依頼書を提出してください")
    );
}

#[test]
fn a_form_with_medical_and_pharmacy_marked_is_returned_without_the_dental_advice() {
    let mut f = facts(d(2024, 1, 15));
    f.kinds = vec![RequestKind::Medical, RequestKind::Pharmacy];
    let got = run(&f);
    assert_eq!(got.decision, Decision::Return);
    assert!(got.reasons[0].contains("（医科・薬局）"));
    assert!(!got.reasons[0].contains("併設"));
}

#[test]
fn the_same_kind_listed_twice_counts_as_one() {
    let mut f = facts(d(2024, 1, 15));
    f.kinds = vec![RequestKind::Pharmacy, RequestKind::Pharmacy];
    assert!(run(&f).eligible);
}

#[test]
fn a_retroactive_designation_is_not_eligible_and_returned() {
    let mut f = facts(d(2024, 1, 15));
    f.retroactive = true;
    let got = run(&f);
    assert!(!got.eligible);
    assert_eq!(got.decision, Decision::Return);
    assert_eq!(got.reasons.len(), 1);
    assert!(got.reasons[0].contains("遡及指定"));
}

#[test]
fn a_request_received_after_the_deadline_is_returned_naming_both_dates_in_wareki() {
    let got = run(&facts(d(2024, 2, 5)));
    assert_eq!(got.decision, Decision::Return);
    assert_eq!(got.reasons.len(), 1);
    let reason = &got.reasons[0];
    assert!(reason.contains("提出期限（令和6年2月1日）"), "{reason}");
    assert!(reason.contains("受付日 令和6年2月5日"), "{reason}");
    assert!(reason.contains("令和6年4月1日"), "{reason}");
}

#[test]
fn a_request_received_on_or_after_the_designation_date_is_treated_as_retroactive() {
    for received in [d(2024, 4, 1), d(2024, 4, 10)] {
        let got = run(&facts(received));
        assert_eq!(got.decision, Decision::Return);
        // One reason: the designation date has passed (the deadline one would add
        // nothing).
        assert_eq!(got.reasons.len(), 1, "{:?}", got.reasons);
        assert!(got.reasons[0].contains("指定希望日（令和6年4月1日）当日以降"));
        assert!(got.reasons[0].contains("遡及指定と同様に対象外"));
    }
}

#[test]
fn a_retroactive_request_received_late_gives_only_the_retroactive_reason() {
    let mut f = facts(d(2024, 4, 10));
    f.retroactive = true;
    let got = run(&f);
    assert_eq!(got.reasons.len(), 1, "{:?}", got.reasons);
    assert!(got.reasons[0].starts_with("遡及して指定を受ける"));
}

#[test]
fn a_request_received_more_than_six_months_before_designation_is_returned_as_too_early() {
    // 6 months before 2024-04-01 is 2023-10-01.
    assert!(run(&facts(d(2023, 10, 1))).eligible);
    let got = run(&facts(d(2023, 9, 29)));
    assert_eq!(got.decision, Decision::Return);
    assert_eq!(got.reasons.len(), 1);
    assert!(
        got.reasons[0].contains("6か月前（令和5年10月1日）より前"),
        "{}",
        got.reasons[0]
    );
}

#[test]
fn the_too_early_limit_follows_the_policy_and_zero_turns_it_off() {
    let f = facts(d(2023, 12, 1));
    let strict = EligibilityPolicy {
        earliest_months_before: 3,
    };
    assert!(!assess(&f, &dates_for(f.designation), &strict).eligible);
    let off = EligibilityPolicy {
        earliest_months_before: 0,
    };
    let long_before = facts(d(2020, 1, 6));
    assert!(assess(&long_before, &dates_for(long_before.designation), &off).eligible);
    assert_eq!(earliest_acceptable(d(2024, 4, 1), &off), None);
}

#[test]
fn earliest_acceptable_clamps_to_the_end_of_a_shorter_month() {
    let policy = EligibilityPolicy::default();
    assert_eq!(
        earliest_acceptable(d(2024, 8, 31), &policy),
        Some(d(2024, 2, 29))
    );
}

#[test]
fn a_designation_not_on_the_first_of_a_month_gives_a_warning_only() {
    let mut f = facts(d(2024, 1, 15));
    f.designation = d(2024, 4, 15);
    let got = run(&f);
    assert!(got.eligible);
    assert_eq!(got.decision, Decision::Accept);
    assert_eq!(got.warnings.len(), 1);
    assert!(got.warnings[0].contains("指定希望日（令和6年4月15日）が月の初日ではありません"));
}

#[test]
fn a_duplicate_request_is_a_warning_staff_must_resolve_not_a_return() {
    let mut f = facts(d(2024, 1, 15));
    f.duplicate_of = Some("受付 2024-0012".into());
    let got = run(&f);
    assert!(got.eligible);
    assert_eq!(got.decision, Decision::Accept);
    assert_eq!(
        got.warnings,
        vec![
            "同一の医療機関・種別で同じ指定日の依頼が既にあります（受付 2024-0012）。受付番号を重複して交付しないよう、どちらの依頼を有効とするか確認し、もう一方を取り下げてください。"
                .to_owned()
        ]
    );
}

#[test]
fn deadlines_of_another_designation_date_give_a_warning() {
    let f = facts(d(2024, 1, 15));
    let got = assess(&f, &dates_for(d(2024, 5, 1)), &EligibilityPolicy::default());
    assert!(
        got.warnings.iter().any(|w| w.contains("異なります")),
        "{:?}",
        got.warnings
    );
}

#[test]
fn every_broken_rule_gives_its_own_reason() {
    let f = RequestFacts {
        kinds: vec![],
        designation: d(2024, 4, 1),
        received: d(2023, 9, 1),
        retroactive: true,
        duplicate_of: Some("No.7".into()),
    };
    let got = run(&f);
    assert_eq!(got.reasons.len(), 3, "{:?}", got.reasons);
    assert_eq!(got.warnings.len(), 1);
}

#[test]
fn assessment_serialises_as_the_agreed_json() {
    let got = run(&facts(d(2024, 2, 5)));
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["eligible"], serde_json::json!(false));
    assert_eq!(json["decision"], serde_json::json!("return"));
    assert_eq!(json["reasons"].as_array().unwrap().len(), 1);
    assert_eq!(json["warnings"], serde_json::json!([]));
    assert_eq!(json.as_object().unwrap().len(), 4);
    let accepted = serde_json::to_value(run(&facts(d(2024, 1, 5)))).unwrap();
    assert_eq!(accepted["decision"], serde_json::json!("accept"));
}

#[test]
fn eligibility_policy_reads_from_toml_with_a_default_of_six_months() {
    let p: EligibilityPolicy = Figment::from(Toml::string("")).extract().unwrap();
    assert_eq!(p.earliest_months_before, 6);
    let p: EligibilityPolicy = Figment::from(Toml::string("earliest_months_before = 4"))
        .extract()
        .unwrap();
    assert_eq!(p.earliest_months_before, 4);
    assert!(
        Figment::from(Toml::string("earliest_month_before = 4"))
            .extract::<EligibilityPolicy>()
            .is_err()
    );
}

fn any_facts() -> impl Strategy<Value = RequestFacts> {
    (
        prop::collection::vec(prop::sample::select(RequestKind::ALL.to_vec()), 0..4),
        0u64..400,
        any::<bool>(),
        prop::option::of("[0-9]{1,4}"),
    )
        .prop_map(
            |(kinds, days_before_end, retroactive, duplicate_of)| RequestFacts {
                kinds,
                designation: d(2024, 4, 1),
                received: d(2024, 6, 1) - chrono::Days::new(days_before_end),
                retroactive,
                duplicate_of,
            },
        )
}

proptest! {
    #[test]
    fn decision_is_return_exactly_when_there_are_reasons(f in any_facts()) {
        let got = run(&f);
        prop_assert_eq!(got.eligible, got.reasons.is_empty());
        prop_assert_eq!(got.decision == Decision::Accept, got.eligible);
        if f.retroactive || f.received >= f.designation || f.received > d(2024, 2, 1) {
            prop_assert!(!got.eligible);
        }
        prop_assert_eq!(got.warnings.is_empty(), f.duplicate_of.is_none());
    }
}
