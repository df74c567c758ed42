//! Checks the computed national holidays against an independent reference: the list
//! made by the Python `holidays` package (`tests/data/gen_jp_holidays.py`), for every
//! day from 1980-01-01 to 2050-12-31, and spot-checks names against the Cabinet
//! Office's list.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uketsuke_rules::calendar::holiday_name;

const REFERENCE: &str = include_str!("data/jp_holidays_1980_2050.tsv");

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn reference() -> BTreeMap<NaiveDate, &'static str> {
    REFERENCE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (date, name) = line.split_once('\t').unwrap();
            (date.parse().unwrap(), name)
        })
        .collect()
}

#[test]
fn every_day_1980_to_2050_is_a_holiday_exactly_when_the_reference_says_so() {
    let reference = reference();
    assert!(reference.len() > 1000, "reference list looks truncated");
    let mut mismatches = Vec::new();
    for day in d(1980, 1, 1)
        .iter_days()
        .take_while(|&x| x <= d(2050, 12, 31))
    {
        let ours = holiday_name(day);
        let theirs = reference.get(&day);
        if ours.is_some() != theirs.is_some() {
            mismatches.push(format!("{day}: ours {ours:?}, reference {theirs:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn named_days_match_the_cabinet_office_list() {
    let cases = [
        (d(1989, 2, 24), "昭和天皇の大喪の礼"),
        (d(1990, 11, 12), "即位礼正殿の儀"),
        (d(1993, 6, 9), "皇太子徳仁親王の結婚の儀"),
        (d(1988, 4, 29), "天皇誕生日"),
        (d(1989, 4, 29), "みどりの日"),
        (d(2007, 4, 29), "昭和の日"),
        (d(2007, 5, 4), "みどりの日"),
        (d(2018, 12, 23), "天皇誕生日"),
        (d(2019, 4, 30), "国民の休日"),
        (d(2019, 5, 1), "天皇の即位の日"),
        (d(2019, 5, 2), "国民の休日"),
        (d(2019, 10, 22), "即位礼正殿の儀の行われる日"),
        (d(2020, 2, 23), "天皇誕生日"),
        (d(2020, 7, 23), "海の日"),
        (d(2020, 7, 24), "スポーツの日"),
        (d(2020, 8, 10), "山の日"),
        (d(2021, 7, 22), "海の日"),
        (d(2021, 7, 23), "スポーツの日"),
        (d(2021, 8, 8), "山の日"),
        (d(2021, 8, 9), "振替休日"),
        (d(2024, 2, 12), "振替休日"),
        (d(2025, 9, 15), "敬老の日"),
        (d(1999, 1, 15), "成人の日"),
        (d(2000, 1, 10), "成人の日"),
        (d(1999, 10, 11), "振替休日"),
        (d(2000, 10, 9), "体育の日"),
        (d(2002, 9, 16), "振替休日"),
        (d(2003, 9, 15), "敬老の日"),
        (d(1996, 7, 20), "海の日"),
        (d(2003, 7, 21), "海の日"),
        (d(2016, 8, 11), "山の日"),
        (d(2009, 9, 22), "国民の休日"),
        (d(2026, 9, 22), "国民の休日"),
        (d(2024, 3, 20), "春分の日"),
        (d(2024, 9, 22), "秋分の日"),
        (d(2024, 9, 23), "振替休日"),
    ];
    for (day, name) in cases {
        assert_eq!(holiday_name(day), Some(name), "{day}");
    }
}

#[test]
fn days_that_were_not_holidays_in_the_special_years() {
    let not_holidays = [
        d(2019, 12, 23), // no 天皇誕生日 in 2019
        d(2019, 2, 23),
        d(2020, 7, 20),  // 海の日 moved to 7-23
        d(2020, 10, 12), // スポーツの日 moved to 7-24
        d(2020, 8, 11),  // 山の日 moved to 8-10
        d(2021, 7, 19),
        d(2021, 10, 11),
        d(2021, 8, 11),
        d(2015, 8, 11), // 山の日 from 2016
        d(1995, 7, 20), // 海の日 from 1996
    ];
    for day in not_holidays {
        assert_eq!(holiday_name(day), None, "{day}");
    }
}
